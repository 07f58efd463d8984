"""Checking monitors and the protocol: phases, runs, assignments to groups,
freezes, saves, loops and conditions.

A part of `Checker` (semantics/check.py), which holds the symbol table."""
from __future__ import annotations

import os
from pathlib import Path

from snndsl.diagnostics import Code, closest
from snndsl.ir import nodes as ir
from snndsl.semantics import model as m
from snndsl.semantics.common import MAX_SIZE, PREDEFINED, Scope, _binary, _Fail, _is_int, _replace
from snndsl.syntax import ast
from snndsl.syntax.ast import RESERVED
from snndsl.units import DIMENSIONLESS, SECOND, format_dim


class ProtocolChecks:
    def _period_steps(self, e: ast.Expr, what: str) -> int:
        """A constant period as a whole number of steps, at least one."""
        step = self._constant_value(e, SECOND, what)
        if step is None:
            raise _Fail
        k = step / self.dt
        if step > 0:
            self._check_steps(step, e.span, what)
        if step <= 0 or k < 1 - 1e-9:
            self.fail(Code.BAD_VALUE, f"{what} must be at least dt ({self.dt:g} s)", e.span)
        if abs(k - round(k)) > 1e-6 * max(1.0, k):
            self.fail(Code.BAD_VALUE, f"{what} must be a whole number of time steps "
                      f"(dt = {self.dt:g} s), not {step:g} s", e.span)
        return int(round(k))

    def _monitor(self, d: ast.MonitorDecl, phase_names: set[str]) -> ir.Monitor | None:
        try:
            group, sub = self._group_or_subgroup(d.group, d.group_span)
            for name, span in zip(d.during, d.during_spans):
                if name not in phase_names:
                    self._unknown(name, phase_names, span, "phase")
            if d.kind in ("spikes", "rate"):
                if group.kind == "synapses":
                    self.fail(Code.BAD_VALUE, "synapses do not spike; monitor a neuron group", d.group_span)
                if d.event == "rate":
                    self.fail(Code.BAD_VALUE, "a rate monitor records no variables: 'rate of G' has no 'with'",
                              d.recorded_spans[0] if d.recorded_spans else d.span)
                if d.event != "spike" and all(e.name != d.event for e in group.events):
                    names = [e.name for e in group.events]
                    near = closest(d.event, names + ["spikes", "rate"])
                    self.fail(Code.UNDEFINED_NAME, f"'{d.event} of {d.group}': '{group.name}' has no event "
                              f"'{d.event}'" + (f"; did you mean '{near}'?" if near else "")
                              + " (a monitor is 'G.X', 'spikes of G', 'rate of G', or 'EVENT of G' for an "
                              "'event EVENT:' of G)", d.kind_span or d.span)
                first, last = sub if sub else (0, None)
                recorded = []
                for var_name, span in zip(d.recorded, d.recorded_spans):
                    var = self._lookup_var(group, var_name, span)
                    if var.kind == "subexpr":
                        self.fail(Code.UNSUPPORTED, f"'{var_name}' is a subexpression: recording it at each spike "
                                  "is not supported yet; record the variables it reads", span)
                    if var_name in dict(recorded):
                        self.fail(Code.DUPLICATE, f"'{var_name}' is recorded twice", span)
                    recorded.append((var.name, format_dim(var.dim)))
                return ir.Monitor(d.name, d.kind, group.name, lo=first, hi=last,
                                  unit="1/second" if d.kind == "rate" else "1", during=tuple(d.during),
                                  span=d.span, recorded=tuple(recorded), event=d.event)
            var = self._lookup_var(group, d.var, d.var_span)
            # as Brian2's StateMonitor: on its group's clock unless given its own
            every, step = group.clock, group.dt
            if d.every is not None:
                every = self._period_steps(d.every, "'every'")
                step = self._constant_value(d.every, SECOND, "'every'")
            lo, hi = 0, None
            if d.selector is not None:
                if not isinstance(d.selector, ast.Range):
                    self.fail(Code.BAD_VALUE, "a monitor selects an index range [a:b]", d.selector.span)
                if var.shared:
                    self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared: it has no elements to select",
                              d.selector.span)
                lo, hi = self._range_consts(d.selector, group if sub is None else _replace(
                    group, name=d.group, size=sub[1] - sub[0]))
            if sub is not None:  # the subgroup's range, and the selection within it
                lo, hi = sub[0] + lo, sub[1] if hi is None else sub[0] + hi
            expr = self._subexpr(group.name, var.name, d.var_span) if var.kind == "subexpr" else None
            if expr is not None:
                self._noise_only_in_equations(expr, var.name, d.var_span, Scope(what="a monitor"))
            if expr is not None and var.shared:  # (its 'shared' flag is an error of its own)
                raise _Fail
            return ir.Monitor(d.name, "state", group.name, var.name, lo, hi, every, step, tuple(d.during),
                              format_dim(var.dim), var.dtype, d.span, expr=expr)
        except _Fail:
            return None

    def _group_or_subgroup(self, name: str, span) -> tuple[m.Group, tuple[int, int] | None]:
        """The group a name stands for, and the range of a subgroup's elements
        in it (None for a whole group)."""
        if name in self.subgroup_decls:
            sub = self._subgroup(name)
            if sub is None:
                raise _Fail  # reported with its declaration
            return self.groups[sub[0]], sub[1:]
        if name not in self.groups:
            self._unknown(name, list(self.groups) + list(self.subgroup_decls), span, "group")
        return self.groups[name], None

    def _range_consts(self, sel: ast.Range, group: m.Group) -> tuple[int, int | None]:
        bounds = []
        for e in (sel.lo, sel.hi):
            if e is None:
                bounds.append(None)
                continue
            v = self._constant_value(e, DIMENSIONLESS, "an index bound")
            if v is None or not _is_int(v) or v < 0 or v > MAX_SIZE:
                self.fail(Code.BAD_VALUE, "an index bound is a non-negative integer constant", e.span)
            bounds.append(int(v))
        lo, hi = bounds[0] or 0, bounds[1]
        if group.size is not None and hi is not None and hi > group.size:
            self.fail(Code.BAD_VALUE, f"index {hi} is past the end of '{group.name}' ({group.size} elements)",
                      sel.span)
        if hi is not None and hi <= lo:
            self.fail(Code.BAD_VALUE, f"the range [{lo}:{hi}] is empty", sel.span)
        return lo, hi

    # ---- the protocol -----------------------------------------------------
    def _phase(self, p: ast.PhaseDecl) -> ir.Phase:
        return ir.Phase(p.name, self._pstmts(p.body, {}, loop_depth=0), p.span)

    def _pstmts(self, body, local_vars: dict[str, str], loop_depth: int) -> tuple[ir.Stmt, ...]:
        out = []
        for s in body:
            try:
                r = self._pstmt(s, local_vars, loop_depth)
                if r is not None:
                    out.append(r)
            except _Fail:
                pass
        return tuple(out)

    def _scalar_scope(self, local_vars, what: str, rand: bool = False) -> Scope:
        """A scalar of the protocol; `rand`: it may draw (`let k = int(rand() * n)`),
        one number from the stream of its statement (passes/streams.py)."""
        return Scope(reductions=True, locals=dict(local_vars), what=what, rand=rand)

    def _pstmt(self, s, local_vars: dict[str, str], loop_depth: int):
        if isinstance(s, ast.Run):
            e, dim = self.expr(s.duration, self._scalar_scope(local_vars, "in 'run'"))
            self._expect_dim(dim, SECOND, s.duration.span, "a run's duration")
            v = self._known(e, "a run's duration", s.duration.span)
            if v is not None:
                if not v > 0:
                    self.fail(Code.BAD_VALUE, f"a run's duration is a finite, positive time, not {v:g} s",
                              s.duration.span)
                self._check_steps(v, s.duration.span, "a run")
            return ir.Run(e, span=s.span)
        if isinstance(s, ast.GroupAssign):
            return self._group_assign(s, local_vars)
        if isinstance(s, ast.Let):
            if s.name in RESERVED or s.name in PREDEFINED:
                self.fail(Code.RESERVED_NAME, f"'{s.name}' is reserved and cannot name a local", s.span)
            if s.name in local_vars:
                self.fail(Code.DUPLICATE, f"'{s.name}' is already defined", s.span)
            self._shadow_check(s.name, s.span)
            try:
                e, dim = self.expr(s.value, self._scalar_scope(local_vars, "in 'let'", rand=True))
                if dim != DIMENSIONLESS or e.dtype == "b":
                    self.fail(Code.DIMENSION, "a protocol local ('let') holds a dimensionless number", s.value.span)
            except _Fail:
                local_vars[s.name] = "f"  # declared all the same, so that its uses do not echo the error
                self.bad_locals.add(s.name)
                raise
            self.bad_locals.discard(s.name)
            local_vars[s.name] = "f"
            self.protocol_locals[s.name] = "f"
            return ir.SetLocal(s.name, e, True, s.span)
        if isinstance(s, ast.LocalAssign):
            if s.name not in local_vars:
                if s.name in self.groups or s.name in self.param_decls or s.name in self.const_decls:
                    self.fail(Code.BAD_VALUE, f"'{s.name}' cannot be assigned here; "
                              "a group's variable is set with 'G.X = ...', a local is declared with 'let'", s.span)
                self._unknown(s.name, local_vars, s.span, "local (declare it with 'let')")
            if local_vars[s.name] == "i":
                self.fail(Code.FLAG_VIOLATION, f"the loop variable '{s.name}' cannot be assigned", s.span)
            if s.name in self.bad_locals:
                raise _Fail  # its 'let' is reported
            e, dim = self.expr(s.value, self._scalar_scope(local_vars, "in an assignment", rand=True))
            self._expect_dim(dim, DIMENSIONLESS, s.value.span, f"the value of '{s.name}'")
            cur = ir.Local(s.name, "f")
            value = e if s.op == "=" else _binary(s.op[0], cur, e)
            return ir.SetLocal(s.name, value, False, s.span)
        if isinstance(s, ast.For):
            scope = self._scalar_scope(local_vars, "in a loop bound")
            bounds = []
            for b in (s.start, s.stop):
                e, dim = self.expr(b, scope)
                self._expect_dim(dim, DIMENSIONLESS, b.span, "a loop bound")
                e = self._as_integer(e, dim) or ir.Call("int", (e,), "i")
                bounds.append(e)
            if s.var in RESERVED or s.var in PREDEFINED:
                self.fail(Code.RESERVED_NAME, f"'{s.var}' is reserved and cannot name a loop variable", s.span)
            if s.var in local_vars:
                self.fail(Code.DUPLICATE, f"'{s.var}' is already defined", s.span)
            self._shadow_check(s.var, s.span)
            inner = dict(local_vars)
            inner[s.var] = "i"
            self.protocol_locals[s.var] = "i"
            return ir.For(s.var, bounds[0], bounds[1], self._pstmts(s.body, inner, loop_depth + 1), s.span)
        if isinstance(s, ast.While):
            c, _ = self.expr(s.cond, self._scalar_scope(local_vars, "in 'while'", rand=True))
            self._expect_bool(c, s.cond.span)
            return ir.While(c, self._pstmts(s.body, dict(local_vars), loop_depth + 1), s.span)
        if isinstance(s, ast.If):
            c, _ = self.expr(s.cond, self._scalar_scope(local_vars, "in 'if'", rand=True))
            self._expect_bool(c, s.cond.span)
            return ir.If(c, self._pstmts(s.body, dict(local_vars), loop_depth),
                         self._pstmts(s.orelse, dict(local_vars), loop_depth), s.span)
        if isinstance(s, ast.Save):
            return self._save(s, loop_depth > 0)
        if isinstance(s, ast.Freeze):
            return self._freeze(s, local_vars)
        if isinstance(s, ast.StoreState):
            if s.name in self.states or s.name in self.saves or s.name in self.monitor_names:
                self.fail(Code.DUPLICATE, f"'{s.name}' already names a stored state, a saved array or a "
                          "monitor", s.span)
            if loop_depth > 0:
                self.fail(Code.MISPLACED, "'store state' inside a loop would overwrite itself; store it "
                          "after the loop", s.span)
            self.states.append(s.name)
            return ir.StoreState(s.name, s.span)
        if isinstance(s, ast.RestoreState):
            if s is not self._first_statement:
                self.fail(Code.MISPLACED, "'restore state' must be the first statement of the first phase: "
                          "the run continues from the snapshot", s.span)
            path = s.path
            if not os.path.isabs(path) and not self.file.startswith("<"):
                path = str(Path(self.file).resolve().parent / path)
            return ir.RestoreState(path, s.span)
        raise AssertionError(f"unknown statement {s!r}")  # pragma: no cover

    def _shadow_check(self, name: str, span) -> None:
        if name in self.const_decls or name in self.param_decls or name in self.data_decls or name in self.groups:
            self.fail(Code.DUPLICATE, f"'{name}' is already declared at the top level", span)


    def _target(self, t: ast.Target) -> tuple[m.Group, m.Variable, tuple[int, int] | None]:
        """A phase statement's group and variable, and a subgroup's range."""
        group, sub = self._group_or_subgroup(t.group, t.group_span)
        return group, self._lookup_var(group, t.var, t.var_span), sub

    def _in_subgroup(self, sub, lo, hi) -> tuple[ir.Expr | None, ir.Expr | None]:
        """Bounds [lo:hi] within a subgroup's range, as the group's: clamped to it."""
        if sub is None:
            return lo, hi
        first, last = ir.Const(sub[0], "i"), ir.Const(sub[1], "i")
        lo = first if lo is None else ir.Binary("+", first, ir.Call("max", (lo, ir.Const(0, "i")), "i"), "i")
        hi = last if hi is None else ir.Call("min", (ir.Binary("+", first, hi, "i"), last), "i")
        return lo, hi

    def _group_assign(self, s: ast.GroupAssign, local_vars) -> ir.Stmt:
        group, var, sub = self._target(s.target)
        if var.kind == "subexpr":
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is a subexpression and cannot be assigned",
                      s.target.var_span)
        if group.kind == "spikes":
            self.fail(Code.BAD_VALUE, "a spikes group has no variables", s.target.span)
        at = "shared" if var.shared else "self"
        target = ir.Var(group.name, var.name, at, var.dtype, s.target.var_span)
        synapses = group.kind == "synapses"
        if var.shared:
            scope = Scope(group=group, reductions=True, locals=dict(local_vars), shared_only=True, rand=True,
                          what="in a shared assignment")
        else:
            scope = Scope(group=group, synapses=synapses, rand=True, reductions=True,
                          locals=dict(local_vars), what="in a phase assignment",
                          offset=sub[0] if sub else 0, size=sub[1] - sub[0] if sub else None)
        where = lo = hi = None
        sel = s.target.selector
        if sel is not None and var.shared:
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared (one value for the whole group) and "
                      "cannot be assigned per element", sel.span)
        if isinstance(sel, ast.Where):
            where, _ = self.expr(sel.cond, scope)
            self._expect_bool(where, sel.cond.span)
        elif isinstance(sel, ast.Range):
            lo, hi = self._range_bounds(sel, local_vars)
        value, dim = self.expr(s.value, scope)
        value = self._compound(target, var, s.op, value, dim, s.value.span)
        if sub is not None and var.shared:
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared by all of '{group.name}': a subgroup "
                      "cannot set it", s.target.span)
        lo, hi = self._in_subgroup(sub, lo, hi)
        return ir.GroupAssign(group.name, target, value, where, lo, hi, s.span)

    def _range_bounds(self, sel: ast.Range, local_vars) -> tuple[ir.Expr | None, ir.Expr | None]:
        """`[a:b]` of a phase statement: scalar integer bounds, either may be absent."""
        scope = self._scalar_scope(local_vars, "in an index bound")
        bounds = []
        for b in (sel.lo, sel.hi):
            if b is None:
                bounds.append(None)
                continue
            e, dim = self.expr(b, scope)
            self._expect_dim(dim, DIMENSIONLESS, b.span, "an index bound")
            index = self._as_integer(e, dim)
            if index is None:
                self.fail(Code.BAD_TYPE, "an index bound is an integer", b.span)
            bounds.append(index)
        return bounds[0], bounds[1]

    def _freeze(self, s: ast.Freeze, local_vars) -> ir.Stmt:
        group, var, sub = self._target(s.target)
        word = "freeze" if s.frozen else "unfreeze"
        if var.kind == "subexpr":
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is a subexpression: there is nothing to {word}",
                      s.target.var_span)
        if group.kind == "spikes":
            self.fail(Code.BAD_VALUE, "a spikes group has no variables", s.target.span)
        sel = s.target.selector
        if (sel is not None or sub is not None) and var.shared:
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared (one value for the whole group) and "
                      f"cannot be {word}d per element", (sel or s.target).span)
        where = lo = hi = None
        if isinstance(sel, ast.Where):
            scope = Scope(group=group, synapses=group.kind == "synapses", rand=True, reductions=True,
                          locals=dict(local_vars), what=f"in '{word}'",
                          offset=sub[0] if sub else 0, size=sub[1] - sub[0] if sub else None)
            where, _ = self.expr(sel.cond, scope)
            self._expect_bool(where, sel.cond.span)
        elif isinstance(sel, ast.Range):
            lo, hi = self._range_bounds(sel, local_vars)
        self.frozen_vars.add((group.name, var.name))
        lo, hi = self._in_subgroup(sub, lo, hi)
        return ir.Freeze(group.name, var.name, s.frozen, where, lo, hi, s.span)

    def _save(self, s: ast.Save, in_loop: bool) -> ir.Stmt:
        g = self.groups.get(s.group)
        delay = g is not None and g.kind == "synapses" and s.var == "delay"
        count = g is not None and g.kind == "synapses" and s.var in ir.SYNAPSE_COUNTS and g.var(s.var) is None
        if not (delay or count):
            group, var, sub = self._target(ast.Target(s.group, s.var, None, s.span, s.group_span, s.var_span))
        if s.name in self.saves:
            self.fail(Code.DUPLICATE, f"'{s.name}' is already saved elsewhere", s.name_span,
                      f"first saved at {self.saves[s.name].span}")
        if s.name in self.monitor_names:
            self.fail(Code.DUPLICATE, f"'{s.name}' already names a monitor", s.name_span)
        if delay:  # each synapse's delay as the run uses it, in whole steps (Brian2's S.delay, rounded to dt)
            self.saves[s.name] = ir.SaveDef(s.name, g.name, "delay", in_loop, "second", "f",
                                            ir.Special("delay", "f", s.var_span), span=s.span)
            return ir.SaveVar(s.name, s.span)
        if count:  # each synapse's N_incoming (N_outgoing): its target's (source's) synapses, as Brian2's
            self.saves[s.name] = ir.SaveDef(s.name, g.name, s.var, in_loop, "1", "i",
                                            ir.Special(s.var, "i", s.var_span), span=s.span)
            return ir.SaveVar(s.name, s.span)
        lo, hi = sub if sub is not None and not var.shared else (0, None)
        expr = self._subexpr(group.name, var.name, s.var_span) if var.kind == "subexpr" else None
        if expr is not None:
            self._noise_only_in_equations(expr, var.name, s.var_span, Scope(what="a save"))
        if expr is not None and any(isinstance(n, ir.Rand) for n in ir.walk(expr)):
            self.fail(Code.MISPLACED, f"'{var.name}' draws random numbers: saving it would not show the "
                      "values the model used", s.var_span)
        self.saves[s.name] = ir.SaveDef(s.name, group.name, var.name, in_loop, format_dim(var.dim),
                                        var.dtype, expr, span=s.span, lo=lo, hi=hi)
        return ir.SaveVar(s.name, s.span)

    # ---- expressions -----------------------------------------------------------
