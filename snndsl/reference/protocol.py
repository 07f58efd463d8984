"""The protocol, run by the reference backend: phases and their statements.

As the generated C's phase functions (codegen/view.py, templates/run.c.j2):
`run` advances the clock as Brian2's Network.run (the end step from the
end of the previous run), with the step function of its `frozen` set;
`for`, `while`, `if`, `let` and locals; `G.X[...] = ...` over the selected
elements, reductions computed first (in the C's order: sums element by
element); `freeze` / `unfreeze`; `save`. Each phase records its start and
stop time.
"""
from __future__ import annotations

import math
import time

import numpy as np

from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir
from snndsl.reference.interpreter import Machine, _g, site, steps_fit, timestep
from snndsl.reference.kernels import Elements, RunFailure, to_storage


class Protocol:
    def __init__(self, machine: Machine):
        self.sim = machine
        self.next_phase = 0
        self.ran = False

    # ---- phases -----------------------------------------------------------------
    def run_phases(self, start: int, stop: int) -> None:
        """Phases start..stop-1, each once, in order (snn_run_phases)."""
        sim = self.sim
        sim.setup()
        t0 = time.perf_counter()
        try:
            for k in range(start, stop):
                self.next_phase = k + 1
                self.phase(k)
        finally:
            sim.wall_run += time.perf_counter() - t0
            if sim.phase >= 0:
                self._phase_end(sim.phase)
            if self.next_phase >= len(sim.m.phases):
                self.ran = True

    def phase(self, k: int) -> None:
        sim = self.sim
        sim.phase = k
        sim.phase_ran[k] = True
        sim.phase_start[k] = sim.t_net
        self._wall_start = time.perf_counter()
        self.stmts(sim.m.phases[k].body)
        self._phase_end(k)

    def _phase_end(self, k: int) -> None:
        sim = self.sim
        sim.phase_stop[k] = sim.t_net
        sim.phase_wall[k] += time.perf_counter() - self._wall_start
        sim.phase = -1

    def run_for(self, duration: float, where: str, drop: frozenset = frozenset()) -> None:
        """snn_run_for: advance by `duration` seconds."""
        sim = self.sim
        if not (duration >= 0) or not math.isfinite(duration):
            raise RunFailure(f"{where}: error[E0501]: a run's duration must be a non-negative number of seconds, "
                             f"not {_g(duration)}")
        t_end = sim.t_net + duration
        if not steps_fit(t_end / sim.dt):
            raise RunFailure(f"{where}: error[E0501]: a run of {_g(duration)} s from t = {_g(sim.t_net)} s would "
                             f"end at step {'%.3g' % (t_end / sim.dt)}; the step counter holds at most 2**53 "
                             f"(about 9.0e15) steps of dt = {_g(sim.dt)} s")
        sim.prepare_run()
        end = timestep(t_end, sim.dt)
        sim.step_count = timestep(sim.t_net, sim.dt)
        while sim.step_count < end:
            sim.step(drop)
        sim.t_net = t_end

    # ---- statements ------------------------------------------------------------------
    def stmts(self, body) -> None:
        for s in body:
            self.stmt(s)

    def scalar(self, e: ir.Expr, span):
        reductions = self.reductions(e, span)
        return self.sim.scalar(e, span, reductions, rng=self.sim.stream_for(e))

    def stmt(self, s: ir.Stmt) -> None:
        sim = self.sim
        if isinstance(s, ir.Run):
            self.run_for(float(self.scalar(s.duration, s.span)), site(s.span), frozenset(s.frozen))
        elif isinstance(s, ir.SetLocal):
            self._set_local(s.name, self.scalar(s.value, s.span))
        elif isinstance(s, ir.For):
            # as the C: the reductions of start, then of stop; then stop, then start
            r_start, r_stop = self.reductions(s.start, s.span), self.reductions(s.stop, s.span)
            stop = _to_int64(sim.scalar(s.stop, s.span, r_stop, rng=sim.stream_for(s.stop)))
            start = sim.scalar(s.start, s.span, r_start, rng=sim.stream_for(s.start))
            self._set_local(s.var, start)
            while sim.locals[s.var] < stop:
                self.stmts(s.body)
                sim.locals[s.var] += 1
        elif isinstance(s, ir.While):
            while self.scalar(s.cond, s.span):
                self.stmts(s.body)
        elif isinstance(s, ir.If):
            self.stmts(s.body if self.scalar(s.cond, s.span) else s.orelse)
        elif isinstance(s, ir.GroupAssign):
            self.group_assign(s)
        elif isinstance(s, ir.Freeze):
            self.freeze(s)
        elif isinstance(s, ir.SaveVar):
            self.save(s)
        else:
            raise InternalError(f"the reference backend cannot run {type(s).__name__}")

    def _set_local(self, name: str, value) -> None:
        dtype = dict(self.sim.m.locals).get(name, "f")
        self.sim.locals[name] = _to_int64(value) if dtype == "i" else float(value)

    def _range(self, g: ir.Group, lo, hi) -> np.ndarray:
        n = self.sim.n[g.name]
        start = max(0, _to_int64(self.sim.scalar(lo, None))) if lo is not None else 0
        stop = n if hi is None else min(_to_int64(self.sim.scalar(hi, None)), n)
        return np.arange(start, max(start, stop))

    def _kernel(self, g: ir.Group, span, reductions, sel: np.ndarray, **kw):
        els = self.sim.all_elements(g)
        return self.sim.kernel(g, Elements(els.self[sel], els.i[sel], None if els.j is None else els.j[sel]), span,
                               reductions=reductions, **kw)

    def group_assign(self, s: ir.GroupAssign) -> None:
        """`G.X[sel] = value` (view.group_assign): an element loop whose writes to an
        (unless refractory) variable skip refractory neurons."""
        sim = self.sim
        g = sim.groups[s.group]
        reductions = self.reductions((s.value, s.where, s.lo, s.hi), s.span)
        if s.target.at == "shared":
            value = sim.scalar(s.value, s.span, reductions, rng=sim.stream_for(s.value))
            array = sim.vars[(g.name, s.target.name)]
            array[0] = to_storage(np.asarray(value), array.dtype)
            return
        sim.check_lengths((s.value, s.where), g, s.span)
        sel = self._range(g, s.lo, s.hi)
        k = self._kernel(g, s.span, reductions, sel, guard_refractory=True,
                         rng=sim.stream_for((s.value, s.where)))
        body = (ir.Assign(s.target, s.value, s.span),)
        if s.where is not None:
            body = (ir.If(s.where, body),)
        k.run(body)

    def freeze(self, s: ir.Freeze) -> None:
        sim = self.sim
        g = sim.groups[s.group]
        mask = sim.frozen[(g.name, s.var)]
        if g.var(s.var).shared:
            mask[0] = s.frozen
            return
        reductions = self.reductions((s.where, s.lo, s.hi), s.span)
        sim.check_lengths(s.where, g, s.span)
        sel = self._range(g, s.lo, s.hi)
        if s.where is not None:
            k = self._kernel(g, s.span, reductions, sel, rng=sim.stream_for(s.where))
            chosen = np.zeros(len(sel), dtype=bool)
            if len(sel):
                chosen = np.broadcast_to(np.asarray(k.values(s.where), dtype=bool), sel.shape)
            sel = sel[chosen]
        # the flag is per element of the variable's storage: per neuron for a hoisted trace
        mask[_storage_index(sim, g, s.var, sel)] = s.frozen

    def save(self, s: ir.SaveVar) -> None:
        sim = self.sim
        d = next(x for x in sim.m.saves if x.name == s.save)
        g = sim.groups[d.group]
        hi = sim.n[g.name] if d.hi is None else min(d.hi, sim.n[g.name])  # (a subgroup's elements)
        if d.expr is not None:
            sim.check_lengths(d.expr, g, d.span)
            els = sim.elements_in(g, d.lo, d.hi)
            k = sim.kernel(g, els, d.span, rng=sim.stream_for(d.expr))
            dtype = {"f": np.float64, "i": np.int32, "b": np.bool_}[d.dtype]
            row = np.broadcast_to(to_storage(k.values(d.expr), np.dtype(dtype)), (len(els),)).copy()
        elif g.var(d.var).shared:
            row = sim.vars[(g.name, d.var)].copy()
        else:
            row = sim.vars[(g.name, d.var)][d.lo:hi].copy()
        if not d.rows:
            sim.saved[d.name] = []
            sim.saved_rows[d.name] = 0
        sim.saved[d.name].append(row)
        sim.saved_rows[d.name] += 1

    # ---- reductions --------------------------------------------------------------------
    def reductions(self, exprs, span) -> dict:
        """Every reduction in `exprs`, computed first (view.hoist): sums in element order."""
        sim = self.sim
        out: dict = {}
        for r in ir.walk(exprs):
            if not isinstance(r, ir.Reduce) or r in out:
                continue
            g = sim.groups[r.group]
            sim.check_lengths(r.expr, g, span)
            els = sim.elements_in(g, r.lo, r.hi)  # (a subgroup's, or all)
            n = len(els)
            k = sim.kernel(g, els, span, rng=sim.stream_for(r.expr))
            values = np.broadcast_to(np.asarray(k.values(r.expr)), (n,))
            if r.kind in ("sum_pre", "sum_post"):
                s = sim.syn[g.name]
                ends, size = (s.pre, sim.n[g.source]) if r.kind == "sum_pre" else (s.post, sim.n[g.target])
                total = np.zeros(size)
                np.add.at(total, ends, values.astype(np.float64))  # one synapse after the other, as the C
                out[r] = total
            elif r.kind in ("sum", "mean"):
                total = float(np.add.accumulate(np.r_[0.0, values.astype(np.float64)])[-1])
                out[r] = total / float(n) if r.kind == "mean" else total
            elif r.kind == "count":
                out[r] = int(np.count_nonzero(values))
            elif r.kind == "min":
                out[r] = float(np.fmin.reduce(np.r_[np.inf, values.astype(np.float64)]))
            elif r.kind == "max":
                out[r] = float(np.fmax.reduce(np.r_[-np.inf, values.astype(np.float64)]))
            else:
                raise InternalError(f"unknown reduction {r.kind}")
        return out


def _to_int64(value) -> int:
    """A double assigned to an int64_t (truncation toward zero)."""
    v = float(value)
    if not math.isfinite(v):
        raise RunFailure(f"error[E0501]: {_g(v)} is not an integer")
    return int(v)


def _storage_index(sim: Machine, g: ir.Group, var: str, sel: np.ndarray) -> np.ndarray:
    v = g.var(var)
    if v.index == "pre":
        return sim.syn[g.name].pre[sel]
    if v.index == "post":
        return sim.syn[g.name].post[sel]
    return sel
