"""The reference backend's simulation: setup and the time step, read from the IR.

`Machine` holds one simulation's state as numpy arrays (every group's
variables and freeze flags, a spike generator's sorted spikes, a synapse
group's pre/post indices, its index by neuron and its delay queues, the
monitors' recordings) and does what the generated C does, task for task,
in the same order and with the same arithmetic:

- `setup`: parameters' defaults, data arrays, groups' storage, then the
  kernels of `Module.setup` (passes/kernels.py), one method per class:
  `Init`, `Connect` (by its rule: all, one to one, pairs from data, each
  pair passing a condition, bernoulli skipping ahead), `Delays`;
- `prepare_run`: at the start of each run, the exact-integration factors
  (the C's Taylor-series expm, ported operation for operation), the decay
  tables (`Module.decay_tables`), the checks of per-run refractory
  periods, the next spikes of Poisson sources that skip ahead;
- `step`: the kernels of `Module.step`, one method per class (`STEP`),
  each reading only its kernel's fields, as codegen/view.py renders them:
  record state, update, threshold, Poisson and generator spikes, record
  spikes, synapse events through the delay queues, reset, record rate;
- `results`: the manifest and arrays the C's `snn_sim_manifest` and
  `snn_sim_array` give, for `results.from_arrays`.

The protocol is in protocol.py; event code runs in kernels.py.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from snndsl import units
from snndsl.codegen.c_expr import linear_diagonal, linear_factor_sets
from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir
from snndsl.ir import storage
from snndsl.ir.evaluate import is_constant
from snndsl.reference.kernels import Elements, Kernel, RunFailure, rand_streams, to_storage
from snndsl.passes import streams as sites
from snndsl.reference.rng import STEPS_NEVER, Binomial, Keyed, Streams, steps

MAX_STEPS = 1 << 53  # SNN_MAX_STEPS
DTYPES = {"f": np.float64, "i": np.int32, "b": np.bool_}


def site(span) -> str:
    return f"{span.file}:{span.line}:{span.col}" if span is not None else "?"


def timestep(t: float, dt: float) -> int:
    """snn_timestep: Brian2's Clock._calc_timestep (round within 1e-4 dt, else up)."""
    x = t / dt
    n = math.floor(x)
    if x - n >= 0.5:  # C's round(): half away from zero (x >= 0 here)
        n += 1
    n = float(n)
    if n * dt == t or abs(n * dt - t) / dt <= 1e-4:
        return steps(n)
    return steps(math.ceil(x) if math.isfinite(x) else x)


def elapsed_steps(t, dt):
    """snn_elapsed_steps, for arrays: whole steps in a duration, shifted by 1e-3 dt."""
    n = (np.asarray(t, dtype=np.float64) + 1e-3 * dt) / dt
    n = np.where(np.isnan(n), STEPS_NEVER, np.clip(n, -STEPS_NEVER, STEPS_NEVER))
    return np.trunc(n).astype(np.int64)


def steps_fit(n: float) -> bool:
    return n >= 0 and n <= float(MAX_STEPS)


def _g(x: float) -> str:
    return "%g" % x


# ---- the C's exact integration factors (runtime_c/snn_runtime.c) ------------------

def expm(m: int, A: list[float]) -> list[float] | None:
    """snn_expm, operation for operation: scale by 2^-s below norm 1/2, Taylor
    series to 1e-18, square s times; None where the result is not finite."""
    norm = 0.0
    for r in range(m):
        row = 0.0
        for c in range(m):
            row += abs(A[r * m + c])
        if row > norm:
            norm = row
    ok = math.isfinite(norm)
    squarings, scale = 0, 1.0
    while ok and norm * scale > 0.5 and squarings < 1000:
        scale *= 0.5
        squarings += 1
    X = [a * scale for a in A]
    out = [0.0] * (m * m)
    term = [0.0] * (m * m)
    for r in range(m):
        out[r * m + r] = term[r * m + r] = 1.0
    order = 1
    while ok and order < 40:
        biggest = 0.0
        tmp = [0.0] * (m * m)
        for r in range(m):
            for c in range(m):
                total = 0.0
                for k in range(m):
                    total += term[r * m + k] * X[k * m + c]
                tmp[r * m + c] = total / order
        for k in range(m * m):
            term[k] = tmp[k]
            out[k] += term[k]
            if abs(term[k]) > biggest:
                biggest = abs(term[k])
        if biggest < 1e-18:
            break
        order += 1
    for _ in range(squarings if ok else 0):
        tmp = [0.0] * (m * m)
        for r in range(m):
            for c in range(m):
                total = 0.0
                for k in range(m):
                    total += out[r * m + k] * out[k * m + c]
                tmp[r * m + c] = total
        out = tmp
    if not ok or not all(math.isfinite(x) for x in out):
        return None
    return out


def exact_one(n: int, M: list[float], frozen, dt: float):
    """snn_exact_one: (E, F) of dx/dt = M x + c over dt, rows in `frozen` held."""
    m = 2 * n
    A = [0.0] * (m * m)
    for r in range(n):
        if frozen is not None and frozen[r]:
            continue
        for c in range(n):
            A[r * m + c] = M[r * n + c] * dt
        A[r * m + n + r] = dt
    X = expm(m, A)
    if X is None:
        return None
    E = [X[r * m + c] for r in range(n) for c in range(n)]
    F = [X[r * m + n + c] for r in range(n) for c in range(n)]
    return E, F


def exact_diagonal(n: int, M: list[float], frozen, dt: float):
    """snn_exact_diagonal: (E, F) of uncoupled rows, each's closed form."""
    E, F = [0.0] * (n * n), [0.0] * (n * n)
    for r in range(n):
        rr = r * n + r
        if frozen is not None and frozen[r]:
            E[rr] = 1.0
            continue
        x = M[rr] * dt
        try:
            E[rr] = math.exp(x)
        except OverflowError:  # C's exp: inf
            E[rr] = math.inf
        F[rr] = dt if abs(x) < 1e-16 else math.inf if x > 717 else math.expm1(x) / x * dt
        if not (math.isfinite(E[rr]) and math.isfinite(F[rr])):
            return None
    return E, F


# ---- groups ---------------------------------------------------------------------------

@dataclass
class Queue:
    """A named pathway's delay and spike queue (as Synapses' own, which are
    the unnamed pathway's)."""

    delay_steps: object = None
    ring: dict = field(default_factory=dict)
    queue: dict = field(default_factory=dict)


@dataclass
class Synapses:
    """A synapse group's connectivity and spike queues."""

    pre: np.ndarray  # int64 per synapse
    post: np.ndarray
    pre_start: np.ndarray = None
    pre_syn: np.ndarray = None
    post_start: np.ndarray = None
    post_syn: np.ndarray = None
    delay_steps: object = None  # int (homogeneous) or an int64 array (heterogeneous)
    ring: dict = field(default_factory=dict)  # homogeneous: step -> that step's presynaptic spikes
    queue: dict = field(default_factory=dict)  # heterogeneous: arrival step -> arrays of synapses
    first: tuple = (0, 0)  # between subgroups: their first neurons, from which i and j count
    named: dict = field(default_factory=dict)  # each named pathway's Queue

    def queue_of(self, pathway: str):
        """The delay and queue of a pathway ("": the unnamed one)."""
        return self.named.setdefault(pathway, Queue()) if pathway else self


def _index(end: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """snn_index_one: the synapses of each neuron, by synapse number."""
    start = np.zeros(n + 1, dtype=np.int64)
    np.add.at(start, end + 1, 1)
    start = np.cumsum(start)
    syn = np.argsort(end, kind="stable").astype(np.int64)
    return start, syn



def _listed(group: str, event: str) -> str:
    """The key of a group's list of the neurons with `event` this step: the
    group's name for its spikes, GROUP.EVENT for a custom event."""
    return group if event == "spike" else f"{group}.{event}"

def _gather(start: np.ndarray, syn: np.ndarray, neurons: np.ndarray) -> np.ndarray:
    """The synapses of `neurons`, neuron by neuron, each neuron's by number."""
    if len(neurons) == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = start[neurons], start[neurons + 1]
    counts = hi - lo
    total = int(counts.sum())
    offsets = np.repeat(lo - np.cumsum(np.r_[0, counts[:-1]]), counts)
    return syn[np.arange(total) + offsets]


class Machine:
    """One simulation of an IR module (see the module's docstring)."""

    def __init__(self, module: ir.Module):
        self.m = module
        self.dt = module.dt
        self.seed = module.seed
        self.groups = {g.name: g for g in module.groups}
        self._state = {(g.name, v.name): v for g in module.groups for v in g.vars}
        self.advance_exprs: dict = {}  # each advance's expressions, made once (reference/kernels.py)
        self.param_values: dict[str, float] = {}
        self.param_set: dict[str, float] = {}
        self.data_paths = {d.name: d.path for d in module.data}
        self.data: dict[str, np.ndarray] = {}
        self.vars: dict[tuple[str, str], np.ndarray] = {}
        self.frozen: dict[tuple[str, str], np.ndarray] = {}
        self.n: dict[str, int] = {}
        self.spikes: dict[str, np.ndarray] = {}
        self.gen: dict[str, list] = {}  # spikes group -> [src_i, src_step, cursor]
        self.syn: dict[str, Synapses] = {}
        self.locals: dict[str, float | int] = {name: 0 for name, _ in module.locals}
        self.linear_factors: dict[str, np.ndarray] = {}
        self._decay_rates: dict[tuple[str, ir.Expr], float] = {}
        self.streams = Streams(self.seed)
        self.step_count = 0
        self.t_net = 0.0
        self.is_setup = False
        self.phase = -1
        self.interrupted = False
        n_phases = len(module.phases)
        self.phase_ran = [False] * n_phases
        self.phase_start = [0.0] * n_phases
        self.phase_stop = [0.0] * n_phases
        self.phase_wall = [0.0] * n_phases
        self.wall_setup = self.wall_run = 0.0
        self.recorded: dict[str, dict[str, list]] = {}
        self.saved: dict[str, list] = {}
        self.saved_rows: dict[str, int] = {}

    # ---- inputs -------------------------------------------------------------------
    def set_param(self, name: str, text: str) -> None:
        """`--set NAME=TEXT`, with the C's checks and words (snn_sim_set_param)."""
        prm = next((p for p in self.m.params if p.name == name), None)
        if not self.m.params:
            raise RunFailure(f"error[E0601]: --set {name}: the model declares no parameters")
        if prm is None:
            raise RunFailure(f"error[E0601]: --set {name}: the model has no parameter '{name}'")
        value, dim = _quantity(text, name)
        want_dim = _dim_of(prm.dim)
        if dim != want_dim:
            def what(d):
                return "dimensionless" if d.dimensionless else f"in {units.format_dim(d)}"
            raise RunFailure(f"error[E0601]: --set {name}={text}: the parameter is {what(want_dim)}, "
                             f"the value {what(dim)}")
        self.param_set[name] = value

    def set_data(self, name: str, path: str) -> None:
        if name not in self.data_paths:
            raise RunFailure(f"error[E0601]: --data {name}: the model has no data array '{name}'")
        self.data_paths[name] = path

    def param(self, name: str) -> float:
        return self.param_values[name]

    def state_var(self, group: str, name: str) -> ir.StateVar:
        return self._state[(group, name)]

    def monitored_var(self, mon: ir.Monitor) -> ir.StateVar:
        """What a state monitor records: a variable, or a subexpression's values."""
        if mon.expr is not None:
            return ir.StateVar(mon.var, mon.dtype, False, mon.unit)
        return self.state_var(mon.group, mon.var)

    # ---- expressions outside kernels --------------------------------------------------
    def resolve(self, x: ir.Expr):
        """What kernels leave to the simulation: locals, sizes, data lengths."""
        if isinstance(x, ir.Local):
            return np.asarray(self.locals[x.name])
        if isinstance(x, ir.Size):
            return np.asarray(self.n[x.group], dtype=np.int64)
        if isinstance(x, ir.DataLen):
            return np.asarray(self.data[x.name].shape[0], dtype=np.int64)
        raise InternalError(f"the reference backend cannot evaluate {x!r} here")

    def data_at(self, x: ir.DataAt, indices: list, where: str):
        """snn_data_at1 / snn_data_at: an out-of-range index is a run-time error."""
        a = self.data[x.name]
        idx = [np.asarray(_c_int(i)) for i in indices]
        if len(idx) == 1:
            flat = a.reshape(-1)
            bad = (idx[0] < 0) | (idx[0] >= flat.size)
            if np.any(bad):
                k = int(np.broadcast_to(idx[0], bad.shape)[bad][0]) if np.ndim(bad) else int(idx[0])
                raise RunFailure(f"{where}: error[E0601]: index {k} is out of range for a data array of "
                                 f"{flat.size} elements")
            return flat[idx[0]]
        for d, i in enumerate(idx):
            bad = (i < 0) | (i >= a.shape[d])
            if np.any(bad):
                k = int(np.broadcast_to(i, bad.shape)[bad][0]) if np.ndim(bad) else int(i)
                second = a.shape[1] if a.ndim > 1 else 0
                raise RunFailure(f"{where}: error[E0601]: index {k} is out of range for dimension {d} of a data "
                                 f"array of shape ({a.shape[0]}, {second}...)")
        return a[tuple(idx)]

    def kernel(self, g: ir.Group | None, elements: Elements, span, **kw) -> Kernel:
        return Kernel(self, g, elements, self.step_count * self.dt, site(span), **kw)

    def elements_in(self, g: ir.Group, lo: int, hi: int | None) -> Elements:
        """The group's elements lo to hi (None: to its end): a subgroup's, or a monitor's selection."""
        els = self.all_elements(g)
        stop = self.n[g.name] if hi is None else min(hi, self.n[g.name])
        return Elements(els.self[lo:stop], els.i[lo:stop], None if els.j is None else els.j[lo:stop])

    def all_elements(self, g: ir.Group) -> Elements:
        n = self.n[g.name]
        if g.kind == "synapses":
            s = self.syn[g.name]
            return Elements(np.arange(n), s.pre, s.post)
        return Elements(np.arange(n), np.arange(n))

    def scalar(self, e: ir.Expr, span, reductions=None, rng=None):
        """A value the same for every element (protocol expressions, delays,
        matrix entries): one value, as a Python number; `rng` the stream of
        its site, if it draws."""
        k = self.kernel(None, Elements(np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64)), span,
                        reductions=reductions or {}, rng=rng)
        return np.asarray(k.eval(e, np.array([0]))).reshape(-1)[0].item()

    # ---- setup ------------------------------------------------------------------------
    def setup(self) -> None:
        if self.is_setup:
            return
        self.is_setup = True
        t0 = time.perf_counter()
        self.streams = Streams(self.seed)
        self._param_defaults()
        for d in self.m.data:
            self._load_data(d)
        neuronlike = [g for g in self.m.groups if g.kind != "synapses"]
        for g in neuronlike:
            self.n[g.name] = g.size
            self.spikes[g.name] = np.zeros(0, dtype=np.int64)
            for e in g.events:  # a custom event's list, as GROUP.EVENT
                self.spikes[_listed(g.name, e.name)] = np.zeros(0, dtype=np.int64)
            self._alloc(g)
            if g.kind == "spikes":
                self._sort_spikes(g)
        for k in self.m.setup:  # passes/kernels.py: inits, then each synapse group's connect, init, delays
            self.SETUP[type(k)](self, k)
        for k in self.m.step:
            if k.target in self.groups:
                code = tuple(getattr(k, f) for f in ("body", "once", "advance", "cond", "refractory", "rate")
                             if hasattr(k, f))
                self.check_lengths(code, self.groups[k.target], k.span)
        for mon in self.m.monitors:
            self.recorded[mon.name] = {"t": [], "v": [], "i": [], "r": []}
        for s in self.m.saves:
            self.saved[s.name] = []
            self.saved_rows[s.name] = 0
        self.wall_setup = time.perf_counter() - t0

    def _param_defaults(self) -> None:
        for prm in self.m.params:
            if prm.name in self.param_set:
                self.param_values[prm.name] = self.param_set[prm.name]
                continue
            value = float(self.scalar(prm.default, prm.span))
            self.param_values[prm.name] = value
            if not is_constant(prm.default) and not math.isfinite(value):
                raise RunFailure(f"{site(prm.span)}: error[E0501]: parameter '{prm.name}' is {_g(value)}: its "
                                 "default, computed from other parameters, is not a finite number")
        for prm in self.m.params:
            v = self.param_values[prm.name]
            if prm.integer and not (math.isfinite(v) and v == math.floor(v) and abs(v) < 2.0 ** 53):
                raise RunFailure(f"{site(prm.span)}: error[E0601]: parameter '{prm.name}' is used as an integer "
                                 f"(an index or a loop bound), so its value must be a whole number, not {'%.17g' % v}")

    def _load_data(self, d: ir.DataDef) -> None:
        path = self.data_paths[d.name]
        where = site(d.span)
        rank = self._ranks().get(d.name, 0)
        if d.values is not None and not path:  # snn_inline_data
            self.data[d.name] = np.array(d.values, dtype=np.float64).reshape(d.shape) * d.scale
            return
        try:
            a = _read_array(path)
        except (OSError, ValueError, KeyError) as exc:
            raise RunFailure(f"{where}: error[E0601]: data '{d.name}': data file '{path}': {exc}") from None
        if rank > 0 and a.ndim != rank:
            raise RunFailure(f"{where}: error[E0601]: data '{d.name}' ({path}) has {a.ndim} dimension"
                             f"{'' if a.ndim == 1 else 's'}, but the model reads it with {rank} "
                             f"ind{'ex' if rank == 1 else 'ices'}")
        if d.period is not None and a.size == 0:
            raise RunFailure(f"{where}: error[E0601]: timed array '{d.name}' ({path}) has no rows")
        a = a * d.scale
        if not np.all(np.isfinite(a)):
            k = int(np.flatnonzero(~np.isfinite(a.reshape(-1)))[0])
            raise RunFailure(f"{where}: error[E0601]: data '{d.name}' ({path}) holds a non-finite value at flat "
                             f"index {k}")
        self.data[d.name] = a

    def _ranks(self) -> dict[str, int]:
        return {name: (min(r) if r else 0) for name, r in storage.data_uses(self.m).items()}

    def check_lengths(self, exprs, g: ir.Group, span) -> None:
        """snn_check_length: a bare data name is read one entry per element."""
        names = sorted({n.name for n in ir.walk(exprs) if isinstance(n, ir.DataAt)
                        and len(n.indices) == 1 and isinstance(n.indices[0], ir.Special)
                        and n.indices[0].name == "elem"})
        for name in names:
            a = self.data[name]
            n = self.n[g.name]
            if a.ndim != 1 or a.size != n:
                raise RunFailure(f"{site(span)}: error[E0601]: data '{name}' has {a.size} element"
                                 f"{'' if a.size == 1 else 's'}, but '{g.name}' has {n}: a bare data name is "
                                 "read one entry per element")

    def _alloc(self, g: ir.Group) -> None:
        for v in g.vars:
            owner = {"element": g.name, "pre": g.source, "post": g.target}[v.index]
            count = 1 if v.shared else self.n[owner]
            self.vars[(g.name, v.name)] = np.zeros(count, dtype=DTYPES[v.dtype])
            if v.freezable:
                self.frozen[(g.name, v.name)] = np.zeros(count, dtype=bool)
        if g.kind == "poisson":
            self.next_spike = getattr(self, "next_spike", {})
            self.p_spike = getattr(self, "p_spike", {})
            self.next_spike[g.name] = np.zeros(g.size, dtype=np.int64)
            self.p_spike[g.name] = np.full(g.size, np.nan)

    def _sort_spikes(self, g: ir.Group) -> None:
        """snn_spikegen_sort: by time, then index; binned as Brian2."""
        where = site(g.span)
        idx, times = (self._values(src) for src in (g.indices, g.times))
        if len(idx) != len(times):
            raise RunFailure(f"{where}: error[E0601]: spikes group '{g.name}' has {len(idx)} indices but "
                             f"{len(times)} times")
        for k in range(len(idx)):
            if idx[k] != math.floor(idx[k]) or idx[k] < 0 or idx[k] >= g.size:
                raise RunFailure(f"{where}: error[E0601]: spikes group '{g.name}': index {_g(idx[k])} (entry {k}) "
                                 f"is not an integer in [0, {g.size})")
            if not times[k] >= 0:
                raise RunFailure(f"{where}: error[E0601]: spikes group '{g.name}': time {_g(times[k])} s (entry "
                                 f"{k}) is negative")
        order = np.lexsort((idx, times))  # by time, then index (qsort's ties are equal pairs)
        src_i = idx[order].astype(np.int64)
        dt = self.m.dt_of(g.name)  # in steps of its clock
        src_step = elapsed_steps(times[order], dt)
        last: dict[int, int] = {}
        for k in range(len(src_i)):
            i, s = int(src_i[k]), int(src_step[k])
            if last.get(i) == s and s <= MAX_STEPS:
                raise RunFailure(f"{where}: error[E0601]: spikes group '{g.name}': neuron {i} spikes twice in the "
                                 f"time step at {_g(s * dt)} s; use a smaller dt")
            last[i] = s
        self.gen[g.name] = [src_i, src_step, 0]

    def _values(self, src: ir.ListOrData) -> np.ndarray:
        if src.data:
            return np.asarray(self.data[src.data], dtype=np.float64).reshape(-1)
        return np.asarray(src.values, dtype=np.float64)

    # ---- setup kernels (ir.Init, ir.Connect, ir.Delays) --------------------------------
    def _init(self, k: ir.Init) -> None:
        """Every element runs `body` once (view.element_loop)."""
        g = self.groups[k.target]
        self.check_lengths(k.body, g, k.span)
        self.kernel(g, self.all_elements(g), k.span, rng=self.stream_for(k.body)).run(k.body)

    def _connect(self, k: ir.Connect) -> None:
        """Synapses in Brian2's order, by the kernel's rule (view.connect): by
        i, then by j; from data, the rows' order. Then the group's storage."""
        g = self.groups[k.target]
        n_pre, n_post = self.n[g.source], self.n[g.target]
        # between subgroups: their pairs only (the synapses store the groups' indices)
        first_i, first_j = (k.pre_range or (0,))[0], (k.post_range or (0,))[0]
        if k.pre_range:
            n_pre = k.pre_range[1] - k.pre_range[0]
        if k.post_range:
            n_post = k.post_range[1] - k.post_range[0]
        if k.rule == "several":  # Brian2's successive connect calls: each part's synapses after the last's
            made = [self._pairs(g, part, n_pre, n_post, first_i, first_j) for part in k.parts]
            pre = np.concatenate([m[0] for m in made]) if made else np.zeros(0, np.int64)
            post = np.concatenate([m[1] for m in made]) if made else np.zeros(0, np.int64)
        else:
            pre, post = self._pairs(g, k, n_pre, n_post, first_i, first_j)
        s = Synapses(pre, post)
        s.first = (k.pre_range or (0,))[0], (k.post_range or (0,))[0]  # i and j count from these
        s.pre_start, s.pre_syn = _index(pre, self.n[g.source])
        s.post_start, s.post_syn = _index(post, self.n[g.target])
        self.syn[g.name] = s
        self.n[g.name] = len(pre)
        self._alloc(g)

    def _pairs(self, g: ir.Group, k: ir.Connect, n_pre: int, n_post: int, first_i: int, first_j: int):
        """The synapses of one connection rule: the groups' indices of their
        neurons, in Brian2's order."""
        where = site(k.span)
        if k.rule == "pairs":
            a = self.data[k.data]
            if a.ndim != 2 or a.shape[1] != 2:
                raise RunFailure(f"{where}: error[E0601]: data '{k.data}' must have shape (n, 2) to "
                                 "connect from it")
            for r in range(a.shape[0]):
                i, j = a[r]
                if i != math.floor(i) or j != math.floor(j) or i < 0 or j < 0 or i >= n_pre or j >= n_post:
                    raise RunFailure(f"{where}: error[E0601]: data '{k.data}' row {r}: ({_g(i)}, {_g(j)}) "
                                     f"is not a pair of indices in [0, {n_pre}) x [0, {n_post})")
            pre, post = a[:, 0].astype(np.int64), a[:, 1].astype(np.int64)
        elif k.rule == "one to one":
            pre = post = np.arange(min(n_pre, n_post), dtype=np.int64)
        elif k.rule == "all":
            pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
            post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
        elif k.rule == "bernoulli":
            pre, post = self._connect_bernoulli(g, k, n_pre, n_post, first_i, first_j)
            first_i = first_j = 0  # already the groups' indices
        elif k.rule in ("range", "sample", "target", "choose"):
            pre, post = self._connect_generator(g, k, n_pre, n_post, first_i, first_j)
            first_i = first_j = 0  # already the groups' indices
        elif k.rule == "each pair":
            pres, posts = [], []
            js = np.arange(first_j, first_j + n_post, dtype=np.int64)
            test = self.kernel(g, Elements(js, js, js), k.span, rng=self.stream_for(k.cond))
            for i in range(first_i, first_i + n_pre):  # row by row: the C's order, in bounded memory
                test.elements = Elements(js, np.full(n_post, i, dtype=np.int64), js)
                test.temps = {}
                ok = np.broadcast_to(np.asarray(test.values(k.cond), dtype=bool), (n_post,))
                chosen = js[ok]
                pres.append(np.full(len(chosen), i, dtype=np.int64))
                posts.append(chosen)
            pre = np.concatenate(pres) if pres else np.zeros(0, np.int64)
            post = np.concatenate(posts) if posts else np.zeros(0, np.int64)
            first_i = first_j = 0  # already the groups' indices
        else:
            raise InternalError(f"unknown connection rule {k.rule!r}")
        return pre + first_i, post + first_j

    def _connect_bernoulli(self, g: ir.Group, c: ir.Connect, n_pre: int, n_post: int, first_i: int, first_j: int):
        """'bernoulli': pair k = i n_post + j; from one synapse to the next,
        Geometric(p) pairs fail, drawn from the kernel's stream; the pairs
        drawn are then tested by `cond` (which draws nothing). The groups'
        indices of the pairs made."""
        rng, cond = self.streams[c.stream], c.cond
        p = float(self.scalar(c.p, c.span))
        pairs = n_pre * n_post
        made = []
        k = rng.geometric(p)
        while k < pairs:
            made.append(k)
            k += 1 + rng.geometric(p)
        ks = np.array(made, dtype=np.int64)
        pre, post = first_i + ks // n_post, first_j + ks % n_post
        if cond is not None and len(ks):
            test = self.kernel(g, Elements(ks, pre, post), c.span)
            ok = np.broadcast_to(np.asarray(test.values(cond), dtype=bool), ks.shape)
            pre, post = pre[ok], post[ok]
        return pre, post

    def _connect_generator(self, g: ir.Group, c: ir.Connect, n_pre: int, n_post: int, first_i: int,
                           first_j: int):
        """Brian2's generator syntax (view.connect_generator): row by row, the
        j's of a range clipped to the target ('range'), of the same range drawn
        by skipping ahead within the row ('sample', one p per non-empty row),
        or the one j of 'target', checked to be in the target (before `cond`
        when `cond` reads post.X, else for the pairs passing it); then each
        pair `times` times. The groups' indices of the synapses made."""
        where = lambda span: site(span or c.span)  # noqa: E731
        rows = np.arange(first_i, first_i + n_pre, dtype=np.int64)
        per_row = self.kernel(g, Elements(rows, rows, rows), c.span)

        def row_values(e):
            return np.broadcast_to(np.asarray(per_row.values(e)), rows.shape).astype(np.int64)

        cond_rng = self.stream_for(c.cond)
        if c.rule == "target":
            ks, tried = None, rows
            if c.lo is not None:  # j = EXPR for k in LO .. HI: each row's k's, in order
                k_lo, k_hi = row_values(c.lo), row_values(c.hi)
                counts = np.maximum(k_hi - k_lo, 0)
                tried = np.repeat(rows, counts)
                ks = (np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in zip(k_lo, k_hi) if b > a])
                      if counts.sum() else np.zeros(0, np.int64))
                each = self.kernel(g, Elements(tried, tried, tried), c.span)
                each.temps[ir.GENERATOR_K] = ks
                js = first_j + np.broadcast_to(np.asarray(each.values(c.j)), tried.shape).astype(np.int64)
            else:
                js = first_j + row_values(c.j)
            bad = (js < first_j) | (js >= first_j + n_post)
            reads_post = c.cond is not None and any(isinstance(n, ir.Var) and n.at == "post" for n in ir.walk(c.cond))
            if reads_post and bad.any():  # checked before the condition, which reads the target's neurons
                ok = bad
            elif c.cond is not None:
                test = self.kernel(g, Elements(js, tried, js), c.span, rng=cond_rng)
                if ks is not None:
                    test.temps[ir.GENERATOR_K] = ks
                ok = np.broadcast_to(np.asarray(test.values(c.cond), dtype=bool), tried.shape).copy()
            else:
                ok = np.ones(len(tried), dtype=bool)
            failed = ok & bad
            if failed.any():
                r = int(np.argmax(failed))
                raise RunFailure(f"{where(c.j.span)}: error[E0601]: connect: j = {int(js[r]) - first_j} for i = "
                                 f"{int(tried[r]) - first_i} is outside the target's indices 0 to {n_post - 1}")
            pre, post = tried[ok], js[ok]
        else:
            lo = first_j + row_values(c.lo) if c.lo is not None else np.full(len(rows), first_j, np.int64)
            hi = first_j + row_values(c.hi) if c.hi is not None else np.full(len(rows), first_j + n_post, np.int64)
            lo, hi = np.maximum(lo, first_j), np.minimum(hi, first_j + n_post)
            rng = self.streams[c.stream] if c.rule in ("sample", "choose") else None
            size = row_values(c.size) if c.rule == "choose" else None
            test = self.kernel(g, Elements(rows[:1], rows[:1], rows[:1]), c.span, rng=cond_rng)
            pres, posts = [], []
            for r, i in enumerate(rows):  # row by row: the C's order, in bounded memory
                a, b = int(lo[r]), int(hi[r])
                if size is not None:  # 'choose': K of the row's j's, drawn before its condition's draws
                    k, n_row = int(size[r]), max(b - a, 0)
                    if k < 0:
                        raise RunFailure(f"{where(c.size.span)}: error[E0601]: connect: choose {k} for i = "
                                         f"{int(i) - first_i} is negative")
                    if k > n_row:
                        raise RunFailure(f"{where(c.size.span)}: error[E0601]: connect: choose {k} for i = "
                                         f"{int(i) - first_i}, but its range holds {n_row} j's of the target")
                    js = a + np.array(rng.choose(n_row, k), dtype=np.int64)
                elif a >= b:
                    continue
                elif rng is not None:
                    one = self.kernel(g, Elements(rows[r:r + 1], rows[r:r + 1], rows[r:r + 1]), c.span)
                    p = float(np.asarray(one.values(c.p)).reshape(-1)[0])
                    made, j = [], a + rng.geometric(p)
                    while j < b:
                        if cond_rng is None:
                            made.append(j)
                        else:  # the condition draws: tested at each j drawn, between the geometric draws (as the C)
                            test.elements = Elements(np.array([j]), np.array([i]), np.array([j]))
                            test.temps = {}
                            if bool(np.asarray(test.values(c.cond)).reshape(-1)[0]):
                                made.append(j)
                        j += 1 + rng.geometric(p)
                    js = np.array(made, dtype=np.int64)
                    if cond_rng is not None:
                        pres.append(np.full(len(js), i, dtype=np.int64))
                        posts.append(js)
                        continue
                else:
                    js = np.arange(a, b, dtype=np.int64)
                if c.cond is not None and len(js):
                    test.elements = Elements(js, np.full(len(js), i, dtype=np.int64), js)
                    test.temps = {}
                    js = js[np.broadcast_to(np.asarray(test.values(c.cond), dtype=bool), js.shape)]
                pres.append(np.full(len(js), i, dtype=np.int64))
                posts.append(js)
            pre = np.concatenate(pres) if pres else np.zeros(0, np.int64)
            post = np.concatenate(posts) if posts else np.zeros(0, np.int64)
        if c.times is not None and len(pre):
            n = np.broadcast_to(np.asarray(self.kernel(g, Elements(post, pre, post), c.span).values(c.times)),
                                pre.shape).astype(np.int64)
            if (n < 0).any():
                r = int(np.argmax(n < 0))
                raise RunFailure(f"{where(c.times.span)}: error[E0601]: connect: times {int(n[r])} for the pair "
                                 f"(i, j) = ({int(pre[r]) - first_i}, {int(post[r]) - first_j}) is negative")
            pre, post = np.repeat(pre, n), np.repeat(post, n)
        return pre, post

    def stream_for(self, node) -> object | None:
        """The random stream code draws from (passes/streams.py numbered it:
        one per site, written into every draw); None where it draws nothing."""
        streams = set(rand_streams(node)) if node is not None else set()
        if not streams:
            return None
        if len(streams) > 1 or None in streams:
            raise InternalError(f"code of one site draws from the streams {sorted(streams, key=str)}")
        return self.streams[streams.pop()]

    def keyed_for(self, node, elements, part: int = sites.MAIN, step: int | None = None) -> Keyed | None:
        """The counter-based generators of `elements` (their indices) for the
        time step's code `node` (snn_ctr_at: its site, this step); None where
        it draws nothing."""
        found = set(rand_streams(node)) if node is not None else set()
        if not found:
            return None
        if len(found) > 1 or None in found:
            raise InternalError(f"code of one site draws from the streams {sorted(found, key=str)}")
        return self.keyed_at(found.pop(), elements, part, step)

    def keyed_at(self, stream: int, elements, part: int = sites.MAIN, step: int | None = None) -> Keyed:
        return Keyed(self.seed, sites.site(stream, part), self.step_count if step is None else step, elements)

    def _delays(self, k: ir.Delays) -> None:
        """Delays in steps as Brian2's spike queue: (int)(delay / dt + 0.5), in
        steps of the clock of the group whose spikes they delay."""
        g = self.groups[k.target]
        dt, clock = self.m.dt_of(g.source), self.groups[g.source].clock
        s = self.syn[g.name].queue_of(k.pathway)
        where = site(k.span)
        what = f"pathway '{k.pathway}' of '{g.name}'" if k.pathway else f"'{g.name}'"
        if not k.per_synapse:
            d = float(self.scalar(k.delay, k.span, rng=self.stream_for(k.delay)))
            if not (d >= 0) or not math.isfinite(d) or d / self.dt > 1e9:
                raise RunFailure(f"{where}: error[E0501]: the delay of {what} is {_g(d)} s, not a valid duration")
            s.delay_steps = int(d / dt + 0.5) * clock
            return
        n = self.n[g.name]
        each = self.kernel(g, self.all_elements(g), k.span, rng=self.stream_for(k.delay))
        d = np.broadcast_to(np.asarray(each.values(k.delay), dtype=np.float64), (n,))
        bad = ~((d >= 0) & np.isfinite(d) & ~(d / self.dt > 1e9))
        if np.any(bad):
            e = int(np.flatnonzero(bad)[0])
            raise RunFailure(f"{where}: error[E0501]: synapse {e} of {what} has the delay {_g(d[e])} s, not a "
                             "valid duration")
        s.delay_steps = np.trunc(d / dt + 0.5).astype(np.int64) * clock

    # ---- runs -----------------------------------------------------------------------------
    def prepare_run(self) -> None:
        """At the start of each run (the C's snn_prepare_run)."""
        updates = [k for k in self.m.step if isinstance(k, ir.Update)]
        for k in updates:
            self._check_refractory(k)
        for k in self.m.step:
            if isinstance(k, ir.PoissonSpikes) and k.sampling == "skip ahead":
                self._poisson_redraw(k)
        self._decay_rates = {}
        for group, a in self.m.decay_tables:  # passes/decide.py: tabulate_decays
            self._decay_rates[(group, a)] = float(self.scalar(a, self.groups[group].span))
        for k in updates:
            g = self.groups[k.target]
            lin = next((s for s in k.body if isinstance(s, ir.LinearStep)), None)
            if lin is None or lin.per_step:  # per_step: factors made in each step (exact_factors_now)
                continue
            n = len(lin.vars)
            sets = linear_factor_sets(lin, [g.var(name).freezable for name in lin.vars])
            if lin.per_element:  # each element's factors, from its own coefficients
                each = self.kernel(g, self.all_elements(g), g.span)
                count = self.n[g.name]
                Ms = [np.broadcast_to(np.asarray(each.values(lin.matrix[r][k]), dtype=np.float64), (count,))
                      for r in range(n) for k in range(n)]
                self.linear_factors[g.name] = np.array(
                    [self._exact_factors(g, n, [float(m[e]) for m in Ms], sets) for e in range(count)]).reshape(
                    count, 2 * len(sets), n * n)
                continue
            M = [float(self.scalar(lin.matrix[r][k], g.span)) for r in range(n) for k in range(n)]
            self.linear_factors[g.name] = self._exact_factors(g, n, M, sets)

    def exact_factors_now(self, lin: ir.LinearStep, Ms: list[np.ndarray], bits: np.ndarray):
        """E and F of each element's set of held rows, from its coefficients
        now (c_expr._linear_step_now, snn_exact_step): arrays (elements, n * n)."""
        g = self.groups[lin.group]
        n = len(lin.vars)
        sets = linear_factor_sets(lin, [g.var(name).freezable for name in lin.vars])
        E, F = np.zeros((len(bits), n * n)), np.zeros((len(bits), n * n))
        one = exact_diagonal if linear_diagonal(lin) else exact_one
        for e in range(len(bits)):
            pair = one(n, [float(m[e]) for m in Ms], sets[int(bits[e])], self.m.dt_of(g.name))
            if pair is None:
                raise RunFailure(f"{site(g.span)}: error[E0501]: the equations of '{g.name}' have no finite exact "
                                 "solution over one step")
            E[e], F[e] = pair
        return E, F

    def _exact_factors(self, g: ir.Group, n: int, M: list[float], sets) -> np.ndarray:
        """E and F of each set of held rows (snn_exact_factors), set 0 the free system."""
        table = np.zeros((2 * len(sets), n * n))
        dt = self.m.dt_of(g.name)
        free = exact_one(n, M, None, dt)
        for k, held in enumerate(sets):
            pair = exact_one(n, M, held, dt)
            if free is None or pair is None:
                raise RunFailure(f"{site(g.span)}: error[E0501]: the equations of '{g.name}' have no finite exact "
                                 "solution over one step")
            table[0], table[1] = free
            table[2 * k], table[2 * k + 1] = pair
        return table

    def _poisson_redraw(self, k: ir.PoissonSpikes) -> None:
        """view.prepare: a source whose rate changed (or whose next spike is
        in the past) draws its next spike anew, from now, source by source."""
        g = self.groups[k.target]
        now = timestep(self.t_net, self.dt)
        rates = Kernel(self, g, self.all_elements(g), now * self.dt, site(k.span))
        n = self.n[g.name]
        p = np.broadcast_to(np.asarray(rates.values(ir.Binary("*", k.rate, ir.Special("dt"))), dtype=np.float64),
                            (n,))
        nxt, old = self.next_spike[g.name], self.p_spike[g.name]
        redraw = np.flatnonzero((p != old) | (nxt < now))  # nan (none drawn yet) differs from every p
        rng = self.keyed_at(k.stream, redraw, sites.START, now)
        for x, i in enumerate(redraw):
            old[i] = p[i]
            nxt[i] = now + rng.one(x).geometric(float(p[i]))

    def decay_rate(self, group: str, a: ir.Expr) -> float:
        return self._decay_rates[(group, a)]

    def _check_refractory(self, k: ir.Update) -> None:
        e, g = k.refractory, self.groups[k.target]
        if e is None or k.refractory_kind != "duration" or not _per_run(e) or is_constant(e):
            return
        r = float(self.scalar(e, e.span or g.span))
        if not (r >= 0) or not steps_fit(r / self.dt):
            raise RunFailure(f"{site(e.span or g.span)}: error[E0501]: the refractory period of '{g.name}' is "
                             f"{_g(r)} s; it must be 0 to 2**53 steps of dt = {_g(self.dt)} s")

    def step(self, drop: frozenset) -> None:
        """One time step: the module's step kernels, in order (passes/kernels.py)."""
        for k in self.m.step:
            if k.clock == 1 or self.step_count % k.clock == 0:  # on its group's clock (`dt:`)
                self.STEP[type(k)](self, k, drop)
        self.step_count += 1

    def _active(self, mon: ir.Monitor) -> bool:
        if not mon.during:
            return True
        names = [p.name for p in self.m.phases]
        return any(self.phase == names.index(n) for n in mon.during)

    def _monitor(self, name: str) -> ir.Monitor:
        return next(mon for mon in self.m.monitors if mon.name == name)

    def _record_state(self, k: ir.RecordState, drop) -> None:
        name = k.target
        mon = self._monitor(name)
        if self.step_count % mon.every != 0 or not self._active(mon):
            return
        var = self.monitored_var(mon)
        if mon.expr is not None:  # a subexpression: evaluated for each element of the range
            g = self.groups[mon.group]
            sel = self.elements_in(g, mon.lo, mon.hi)
            values = self.kernel(g, sel, mon.span).values(mon.expr)
            row = np.broadcast_to(to_storage(values, np.dtype(DTYPES[var.dtype])), (len(sel),)).copy()
        elif var.shared:
            values = self.vars[(mon.group, mon.var)]
            row = values[:1].copy()
        else:
            values = self.vars[(mon.group, mon.var)]
            hi = self.n[mon.group] if mon.hi is None else min(mon.hi, self.n[mon.group])
            row = values[mon.lo:hi].copy()
        every_dt = mon.every * self.dt if mon.every_dt is None else mon.every_dt
        rec = self.recorded[name]
        rec["t"].append(float(self.step_count // mon.every) * every_dt)
        rec["v"].append(row)

    def _record_spikes(self, k: ir.RecordSpikes, drop) -> None:
        name = k.target
        mon = self._monitor(name)
        spikes = self.spikes[_listed(mon.group, mon.event)]
        if len(spikes) and self._active(mon):
            rec = self.recorded[name]
            first = mon.lo
            if mon.hi is not None:  # a subgroup's spikes, numbered within it
                spikes = spikes[(spikes >= mon.lo) & (spikes < mon.hi)]
            rec["i"].append((spikes - first).astype(np.int32))
            rec["t"].append(np.full(len(spikes), self.step_count * self.dt))
            for var, _ in mon.recorded:  # the values at the spike: after the threshold, before the reset
                values = self.vars[(mon.group, var)]
                shared = self.state_var(mon.group, var).shared
                rec.setdefault(var, []).append(np.repeat(values[:1], len(spikes)) if shared else values[spikes].copy())

    def _record_rate(self, k: ir.RecordRate, drop) -> None:
        name = k.target
        mon = self._monitor(name)
        if self._active(mon):
            rec = self.recorded[name]
            rec["t"].append(self.step_count * self.dt)
            spikes, dt = self.spikes[mon.group], self.m.dt_of(mon.group)
            if mon.hi is None:
                rec["r"].append(float(len(spikes)) / float(self.n[mon.group]) / dt)
            else:  # a subgroup's: the spikes of its neurons over its size
                inside = int(((spikes >= mon.lo) & (spikes < mon.hi)).sum())
                rec["r"].append(float(inside) / float(mon.hi - mon.lo) / dt)

    def _update(self, k: ir.Update, drop) -> None:
        """Refractoriness as Brian2 (before integrating), then `body`, one
        integration step, for every element (view.state_update)."""
        g = self.groups[k.target]
        name = g.name
        els = self.all_elements(g)
        run = self.kernel(g, els, k.span, guard_frozen=True, drop=drop,
                          rng=self.keyed_for((k.body, k.refractory), els.self))
        if k.refractory is not None:
            nr = self.vars[(name, "not_refractory")]
            last = self.vars[(name, "lastspike")]
            everyone = np.arange(self.n[name])
            t, dt = self.step_count * self.dt, self.m.dt_of(name)
            if k.refractory_kind == "duration":
                r = elapsed_steps(run.eval(k.refractory, everyone), dt)
                y = ((t - last) + 1e-3 * dt) / dt
                rf = r.astype(np.float64)
                nr[:] = np.where(r >= 1, y >= rf, y > rf - 1)
            else:
                waiting = np.flatnonzero(~nr)
                if len(waiting):
                    cond = np.broadcast_to(np.asarray(run.eval(k.refractory, waiting), dtype=bool), waiting.shape)
                    nr[waiting[~cond]] = True
        if k.body:
            run.run(k.body)

    def _threshold(self, k: ir.Threshold, drop) -> None:
        """Every neuron for which `cond` holds and that is not refractory spikes
        (view.threshold); or has the custom event `k.event`."""
        g = self.groups[k.target]
        name = g.name
        if k.event != "spike":
            els = self.all_elements(g)
            test = self.kernel(g, els, k.span, rng=self.keyed_for(k.cond, els.self))
            cond = np.broadcast_to(np.asarray(test.values(k.cond), dtype=bool), (self.n[name],))
            self.spikes[_listed(name, k.event)] = np.flatnonzero(cond)
            return
        if k.cond is None:
            self.spikes[name] = np.zeros(0, dtype=np.int64)
            return
        els = self.all_elements(g)
        test = self.kernel(g, els, k.span, rng=self.keyed_for(k.cond, els.self))
        n = self.n[name]
        cond = np.broadcast_to(np.asarray(test.values(k.cond), dtype=bool), (n,)).copy()
        if k.refractory is not None:
            cond &= self.vars[(name, "not_refractory")]
        spikes = np.flatnonzero(cond)
        if k.refractory is not None:
            self.vars[(name, "not_refractory")][spikes] = False
            self.vars[(name, "lastspike")][spikes] = self.step_count * self.dt
        self.spikes[name] = spikes

    def _generator_spikes(self, k: ir.GeneratorSpikes, drop) -> None:
        """A spike generator's listed spikes of this step (view.spike_generator)."""
        name = k.target
        src_i, src_step, cursor = self.gen[name]
        step = self.step_count // self.groups[name].clock  # its spikes are listed in steps of its clock
        lo = max(cursor, int(np.searchsorted(src_step, step, "left")))
        hi = max(lo, int(np.searchsorted(src_step, step, "right")))
        self.spikes[name] = src_i[lo:hi]
        self.gen[name][2] = hi

    def _poisson(self, k: ir.PoissonSpikes, drop) -> None:
        """view.poisson: 'per step', one uniform number per source, in order,
        below rate dt; 'skip ahead', the sources whose next spike is now,
        each drawing the step of its next one."""
        g = self.groups[k.target]
        step = self.step_count
        if k.sampling == "skip ahead":
            nxt, p = self.next_spike[g.name], self.p_spike[g.name]
            spikes = np.flatnonzero(nxt == step)
            rng = self.keyed_at(k.stream, spikes)
            for x, i in enumerate(spikes):
                nxt[i] = step + 1 + rng.one(x).geometric(float(p[i]))
            self.spikes[g.name] = spikes
            return
        if k.sampling != "per step":
            raise InternalError(f"unknown Poisson sampling {k.sampling!r}")
        n = self.n[g.name]
        rates = self.kernel(g, self.all_elements(g), k.span)
        chance = np.broadcast_to(np.asarray(rates.values(ir.Binary("*", k.rate, ir.Special("dt"))),
                                            dtype=np.float64), (n,))
        u = self.keyed_at(k.stream, np.arange(n)).uniform(np.arange(n))
        self.spikes[g.name] = np.flatnonzero(u < chance)

    def _synapse_events(self, k: ir.SynapseEvents, drop) -> None:
        """For each spike of the `event` side: `once`, then `advance` and
        `body` for each of its synapses (view.pathway); `on pre` sees the
        spikes whose delay ends now."""
        g, event, body, once = self.groups[k.target], k.event, k.body, k.once
        s = self.syn[g.name]
        spikes = self.spikes[_listed(g.source if event == "pre" else g.target, k.on)]
        step = self.step_count
        kw = dict(guard_refractory=True, guard_frozen=True, drop=drop)
        q = s.queue_of(k.pathway)
        if k.delay == "heterogeneous":
            syn = _gather(s.pre_start, s.pre_syn, spikes)
            arrival = step + q.delay_steps[syn]
            for a in np.unique(arrival):
                q.queue.setdefault(int(a), []).append(syn[arrival == a])
            arrived = q.queue.pop(step, [])
            syn = np.concatenate(arrived) if arrived else np.zeros(0, dtype=np.int64)
            self.kernel(g, Elements(syn, s.pre[syn], s.post[syn]), k.span, rng=self.keyed_for(body, syn),
                        **kw).run(body)
            return
        if k.delay == "homogeneous":
            q.ring[step] = spikes.copy()
            q.ring.pop(step - q.delay_steps - 1, None)
            spikes = q.ring.get(step - q.delay_steps, np.zeros(0, dtype=np.int64)) \
                if step >= q.delay_steps else np.zeros(0, dtype=np.int64)
        elif k.delay != "none":
            raise InternalError(f"unknown delay {k.delay!r}")
        start, order = (s.pre_start, s.pre_syn) if event == "pre" else (s.post_start, s.post_syn)
        if k.in_pre_order:  # synapses numbered in presynaptic order: a spike's are the range itself
            order = np.arange(len(s.pre), dtype=np.int64)
        # each spike's draws in `once` and each synapse's in `body` come from
        # generators of their own (keyed by element), so the order in which the C
        # interleaves them changes nothing
        if once:
            ends = (spikes, None) if event == "pre" else (None, spikes)
            self.kernel(g, Elements(spikes, *ends), k.span, rng=self.keyed_for(once, spikes, sites.ONCE),
                        **kw).run(once)
        if body:
            syn = _gather(start, order, spikes)
            if k.advance:  # the far end's traces, for every synapse first
                self.kernel(g, Elements(syn, s.pre[syn], s.post[syn]), k.span, **kw).run(k.advance)
            self.kernel(g, Elements(syn, s.pre[syn], s.post[syn]), k.span, rng=self.keyed_for(body, syn),
                        **kw).run(body)

    def _run_every(self, k: ir.RunEvery, drop) -> None:
        """On the steps its period divides, every element runs `body` (view.run_every)."""
        if self.step_count % k.steps:
            return
        g = self.groups[k.target]
        if k.once:  # the shared variables, once (draws keyed by element 0 of part ONCE)
            zero = np.zeros(1, np.int64)
            one = Elements(zero, zero, zero if g.kind == "synapses" else None)
            self.kernel(g, one, k.span, drop=drop, rng=self.keyed_for(k.once, zero, sites.ONCE)).run(k.once)
        els = self.all_elements(g)
        self.kernel(g, els, k.span, guard_frozen=True, drop=drop, rng=self.keyed_for(k.body, els.self)).run(k.body)

    def _sum_onto(self, k: ir.SumOnto, drop) -> None:
        """The variable set to 0, then each synapse adds its term to its
        neuron's entry, group by group, in synapse order (view.sum_onto);
        frozen entries keep their value."""
        g = self.groups[k.target]
        values = self.vars[(g.name, k.var)]
        frozen = self.frozen.get((g.name, k.var))
        total = np.zeros(len(values))
        for syn, side, e in k.terms:
            S = self.groups[syn]
            terms = np.broadcast_to(np.asarray(self.kernel(S, self.all_elements(S), k.span).values(e), dtype=float),
                                    (self.n[syn],))
            ends = self.syn[syn].post if side == "post" else self.syn[syn].pre
            np.add.at(total, ends, terms)
        if frozen is not None:
            total = np.where(frozen, values, total)
        values[:] = total

    def _reset(self, k: ir.Reset, drop) -> None:
        """Every neuron that spiked runs `body` (view.reset); for a custom
        event, every neuron that had it."""
        g = self.groups[k.target]
        spikes = self.spikes[_listed(g.name, k.event)]
        self.kernel(g, Elements(spikes, spikes), k.span, guard_frozen=True, drop=drop,
                    rng=self.keyed_for(k.body, spikes)).run(k.body)

    def _poisson_input(self, k: ir.AddPoissonInput, drop) -> None:
        """Each element of [lo, hi) draws a Binomial(sources, rate * dt)
        number, then runs `body`, guarded as event code (view.poisson_input)."""
        g = self.groups[k.target]
        p = float(self.scalar(k.rate, k.span)) * self.m.dt_of(g.name)
        if not (p >= 0 and p <= 1):
            raise RunFailure(f"{site(k.span)}: error[E0501]: Poisson input '{k.name}': rate * dt is {p:g}, "
                             "not a probability between 0 and 1")
        elements = np.arange(k.lo, k.hi)
        binomial, rng = Binomial(k.sources, p), self.keyed_at(k.stream, elements)
        run = self.kernel(g, Elements(elements, elements), k.span, guard_refractory=True, guard_frozen=True,
                          drop=drop)
        run.temps[ir.POISSON_INPUT_DRAW] = binomial.draw_each(rng)
        run.run(k.body)

    # one method per kernel class: setup, and the time step
    SETUP = {ir.Init: _init, ir.Connect: _connect, ir.Delays: _delays}
    STEP = {ir.RunEvery: _run_every, ir.SumOnto: _sum_onto, ir.RecordState: _record_state, ir.Update: _update, ir.Threshold: _threshold,
            ir.PoissonSpikes: _poisson, ir.GeneratorSpikes: _generator_spikes, ir.RecordSpikes: _record_spikes,
            ir.SynapseEvents: _synapse_events, ir.Reset: _reset, ir.RecordRate: _record_rate,
            ir.AddPoissonInput: _poisson_input}

    # ---- results ------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """The results' arrays by file name, as the C's snn_sim_array gives them."""
        out = {}
        for mon in self.m.monitors:
            rec = self.recorded.get(mon.name, {"t": [], "v": [], "i": [], "r": []})
            if mon.kind == "state":
                var = self.monitored_var(mon)
                n = self.n.get(mon.group, 0)
                width = 1 if var.shared else max(0, (n if mon.hi is None else min(mon.hi, n)) - mon.lo)
                out[f"{mon.name}.t.npy"] = np.array(rec["t"], dtype=np.float64)
                values = np.array(rec["v"], dtype=DTYPES[var.dtype]).reshape(len(rec["t"]), width)
                out[f"{mon.name}.values.npy"] = values
            elif mon.kind == "spikes":
                out[f"{mon.name}.i.npy"] = np.concatenate(rec["i"]) if rec["i"] else np.zeros(0, np.int32)
                out[f"{mon.name}.t.npy"] = np.concatenate(rec["t"]) if rec["t"] else np.zeros(0)
                for var, _ in mon.recorded:
                    dtype = DTYPES[self.state_var(mon.group, var).dtype]
                    parts = rec.get(var, [])
                    out[f"{mon.name}.{var}.npy"] = np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)
            else:
                out[f"{mon.name}.t.npy"] = np.array(rec["t"], dtype=np.float64)
                out[f"{mon.name}.rate.npy"] = np.array(rec["r"], dtype=np.float64)
        for s in self.m.saves:
            g = self.groups[s.group]
            shared = s.expr is None and g.var(s.var).shared
            dtype = DTYPES[s.dtype if s.expr is not None else g.var(s.var).dtype]
            rows = self.saved.get(s.name, [])
            if s.rows:
                n = self.n.get(g.name, 0)
                width = 1 if shared else (n if s.hi is None else min(s.hi, n)) - s.lo
                out[f"{s.name}.npy"] = np.array(rows, dtype=dtype).reshape(len(rows), width)
            else:
                out[f"{s.name}.npy"] = np.array(rows[-1] if rows else [], dtype=dtype)
            if g.kind == "synapses" and not shared:
                i, j = self.synapse_ends(g.name)
                out[f"{s.name}.i.npy"], out[f"{s.name}.j.npy"] = i, j
        return out

    def synapse_ends(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Each synapse's i and j as users see them: within the subgroups it joins."""
        syn = self.syn.get(name)
        if syn is None:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        first_i, first_j = getattr(syn, "first", (0, 0))
        return (syn.pre - first_i).astype(np.int32), (syn.post - first_j).astype(np.int32)

    def manifest(self) -> dict:
        """The manifest the C writes (view.manifest), key for key."""
        m = self.m
        phases = [{"name": p.name, "ran": self.phase_ran[k], "start": self.phase_start[k],
                   "stop": self.phase_stop[k], "wall": self.phase_wall[k]} for k, p in enumerate(m.phases)]
        groups = {}
        for g in m.groups:
            info = {"kind": g.kind}
            if g.kind == "synapses":
                info.update(source=g.source, target=g.target)
            info["size"] = self.n.get(g.name, 0)
            groups[g.name] = info
        monitors = {}
        for mon in m.monitors:
            info = {"kind": mon.kind, "group": mon.group}
            if mon.event != "spike":  # a monitor of a custom event: `NAME of G`
                info["event"] = mon.event
            if mon.kind == "state":
                info.update(variable=mon.var, unit=mon.unit,
                            every=(mon.every_dt if mon.every_dt is not None else mon.every * m.dt),
                            during=list(mon.during),
                            files={"t": f"{mon.name}.t.npy", "values": f"{mon.name}.values.npy"})
                n = self.n.get(mon.group, 0)
                hi = 1 if self.monitored_var(mon).shared else (n if mon.hi is None else min(mon.hi, n))
                info["indices"] = [mon.lo, hi]
            elif mon.kind == "spikes":
                info.update(during=list(mon.during), files={"i": f"{mon.name}.i.npy", "t": f"{mon.name}.t.npy"})
                if mon.recorded:
                    info["recorded"] = {var: {"file": f"{mon.name}.{var}.npy", "unit": unit}
                                        for var, unit in mon.recorded}
            else:
                info.update(unit="1/second", every=m.dt_of(mon.group), during=list(mon.during),  # its group's clock
                            files={"t": f"{mon.name}.t.npy", "rate": f"{mon.name}.rate.npy"})
            if mon.kind != "state" and mon.hi is not None:  # of a subgroup: its part (view.manifest)
                info["indices"] = [mon.lo, mon.hi]
            monitors[mon.name] = info
        saved = {}
        for s in m.saves:
            g = self.groups[s.group]
            info = {"group": s.group, "variable": s.var, "unit": s.unit, "rows": s.rows, "file": f"{s.name}.npy"}
            if g.kind == "synapses" and not (s.expr is None and g.var(s.var).shared):
                info.update(i=f"{s.name}.i.npy", j=f"{s.name}.j.npy")
            info["count"] = self.saved_rows.get(s.name, 0)
            saved[s.name] = info
        params = {p.name: {"value": self.param_values.get(p.name, self.param_set.get(p.name, math.nan)),
                           "unit": p.unit} for p in m.params}
        return {"format": "snndsl-results/1", "model": m.name, "source_hash": m.source_hash, "dt": m.dt,
                "seed": self.seed, "interrupted": self.interrupted, "params": params, "phases": phases,
                "groups": groups, "monitors": monitors, "saved": saved,
                "states": {name: {"file": f"{name}.state", "stored": False} for name in m.states},
                "timings": {"setup": self.wall_setup, "run": self.wall_run}}


def _per_run(e: ir.Expr) -> bool:
    return not any(isinstance(n, (ir.Special, ir.Rand, ir.DataAt, ir.Temp, ir.Reduce))
                   or isinstance(n, ir.Var) and n.at != "shared" for n in ir.walk(e))



def _c_int(x):
    """(int64_t)(x) of the C for an index: toward zero (nan: out of range)."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        return np.where(np.isfinite(x), np.trunc(np.where(np.isfinite(x), x, 0)), -1).astype(np.int64)
    return x.astype(np.int64)


def _dim_of(exps) -> units.Dim:
    from fractions import Fraction
    return units.Dim(tuple(Fraction(x) for x in exps))


_NUMBER_TEXT = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _unit_as_the_c_reads_it(text: str) -> tuple[float, units.Dim] | str:
    """units.parse_suffix with the C's arithmetic (snn_parse_quantity_frac):
    each factor's scale to its power, pow(s, p), then multiplied or divided
    in (where parse_suffix multiplies by s to the signed power), so that the
    last bit of a --set value is the C's."""
    factors = units.suffix_factors(text)
    if isinstance(factors, str):
        return factors
    scale, dim = 1.0, units.DIMENSIONLESS
    for k, (op, name, power) in enumerate(factors):
        s, d = units.UNITS[name]
        f = s if power == 1 else math.pow(s, float(power.numerator) if power.denominator == 1
                                          else power.numerator / power.denominator)
        scale = f if k == 0 and op != "/" else (scale / f if op == "/" else scale * f)
        dim = dim * d ** (-power if op == "/" else power)
    return scale, dim


def _quantity(text: str, name: str) -> tuple[float, units.Dim]:
    """snn_parse_quantity: '20 Hz', '10*ms', '5/ms', '0.3'."""
    import re
    m = re.fullmatch(rf"\s*({_NUMBER_TEXT})\s*(.*?)\s*", text)
    word = text.strip().lstrip("+-").lower()
    if m is None:
        why = ("nan is not a number" if word.startswith("nan") else "infinity is not a finite number"
               if word.startswith("inf") else "expected a number")
        raise RunFailure(f"error[E0601]: --set {name}: '{text}' is not a number with a unit: {why}")
    x, rest = float(m.group(1)), m.group(2)
    scale, dim = 1.0, units.DIMENSIONLESS
    if rest:
        if rest.startswith("*"):
            rest = rest[1:].strip()
        # snn_parse_quantity_frac: whole powers, and small fractions (0.5, (1/3))
        try:
            parsed = _unit_as_the_c_reads_it(rest.replace(" ", ""))
        except ValueError:
            parsed = None
        if parsed is None or re.search(r"\*\*(?![-(0-9])", rest.replace(" ", "")):
            raise RunFailure(f"error[E0601]: --set {name}: '{text}' is not a number with a unit: expected a whole "
                             "power or a small fraction (such as 0.5 or (1/3)) after '**'")
        if isinstance(parsed, str):
            raise RunFailure(f"error[E0601]: --set {name}: '{text}' is not a number with a unit: unknown unit "
                             f"'{parsed}'")
        scale, dim = parsed
    si = x * scale
    if not math.isfinite(si):
        raise RunFailure(f"error[E0601]: --set {name}: '{text}' overflows to infinity")
    return si, dim


def _read_array(spec: str) -> np.ndarray:
    """A data file as doubles: 'a.npy', 'a.npz' (its one array) or 'a.npz:key'."""
    colon = spec.rfind(".npz:")
    path, key = (spec[:colon + 4], spec[colon + 5:]) if colon >= 0 else (spec, None)
    if not os.path.isfile(path):
        raise OSError("no such file" if not os.path.exists(path) else "not a regular file")
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            if key is None:
                if len(z.files) != 1:
                    raise ValueError(f"the archive holds {len(z.files)} arrays; name one as 'file.npz:key'")
                key = z.files[0]
            return np.asarray(z[key], dtype=np.float64)
    return np.asarray(np.load(path, allow_pickle=False), dtype=np.float64)
