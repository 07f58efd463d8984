"""Event code run for a list of elements, with numpy: the reference backend's loops.

The C backend runs a kernel's statements element by element, in the order
of its loop (neurons by index; synapses spike by spike, each neuron's
synapses by number). `Kernel` runs the same statements on many elements at
once where that cannot change a result, and one element at a time where it
could:

- Elements that touch the same location of an array the code writes (the
  postsynaptic neuron's `v` that several synapses add to, a trace stored
  per neuron, a shared variable) are run in rounds: an element's round is
  one more than that of the last earlier element it shares a location with,
  so that every location sees its writes in the C's order, and the elements
  of one round touch disjoint locations (any order among them gives the
  same numbers).
- Random numbers come from the kernel's stream in the C's order: element
  by element, and within an element in the order C evaluates the draws
  (statement order, operands left to right). Where every element draws
  the same sequence (no draw under an `if`, a guarded write, the side of a
  `where` / `and` / `or` C may skip), the numbers are drawn first, element
  by element, and handed to the draws by position (`_plan`), so the code
  still runs on many elements at once (and in rounds). A single draw that
  some elements skip is drawn on the way, in element order. Any other code
  that draws, and code that reads a data array lazily (an index out of
  range on the side C does not evaluate is no error there), runs one
  element at a time, so that the draws and the errors are the C's.

Expressions are `ir.numpy_eval.evaluate`, with the C's semantics; this
module resolves what it leaves to its caller: variables by their stored
index, temporaries, t, random numbers, data, reductions, freeze flags.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from snndsl.codegen.c_expr import linear_reach
from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir
from snndsl.ir.numpy_eval import Unsupported, evaluate, math_function
from snndsl.reference.rng import Keyed


def memo(fn):
    """`fn` of an IR node (or tuple of nodes), remembered by the node's
    identity: the interpreter asks the same questions of the same kernel code
    in every step, and a walk of the tree each time was most of its time.
    The cache holds the node itself, so that its identity cannot pass to
    another object while it is cached; temporary tuples miss and, past a
    bound, the cache is emptied."""
    cache: dict[int, tuple] = {}

    def remembered(node):
        hit = cache.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        value = fn(node)
        if len(cache) >= 4096:
            cache.clear()
        cache[id(node)] = (node, value)
        return value
    remembered.__doc__ = fn.__doc__
    return remembered


@memo
def rand_streams(node) -> frozenset:
    """The streams of the draws in `node`; of a tuple, its members' (each
    remembered: a tuple made for the call, `(k.body, k.refractory)`, costs a
    lookup per member, not a walk)."""
    if isinstance(node, tuple):
        return frozenset().union(*(rand_streams(n) for n in node))
    return frozenset(n.stream for n in ir.walk(node) if isinstance(n, ir.Rand))


@memo
def _accesses(body) -> tuple[tuple, tuple]:
    """(the (group, variable) pairs `body` writes, by assignments and
    advances; every variable it touches, as Var nodes) -- what _keys filters."""
    written = []
    touched = []
    for s in ir.walk(body):
        if isinstance(s, ir.Assign):
            written.append((s.target.group, s.target.name))
        elif isinstance(s, ir.Advance):
            written += [(s.group, v) for v in s.vars]
        if isinstance(s, ir.Var):
            touched.append(s)
        elif isinstance(s, ir.Advance):
            touched += [ir.Var(s.group, v) for v in s.vars] + [ir.Var(s.group, s.clock)]
    return tuple(written), tuple(touched)

DECAY_STEPS = 4096  # SNN_DECAY_STEPS of runtime_c/snn_support.h


class RunFailure(Exception):
    """A run-time error the generated C reports with snn_fail: its text."""


@dataclass
class Elements:
    """The elements a kernel runs for, in the C's order: `self` the element
    index (neuron or synapse), `i` and `j` the presynaptic and postsynaptic
    neuron (for a neuron group, `i` is the neuron)."""

    self: np.ndarray
    i: np.ndarray
    j: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.self)


@dataclass
class Kernel:
    """One piece of code of `group` over `elements`.

    `guard_refractory` / `guard_frozen`: writes to an `(unless refractory)`
    variable of a refractory neuron, and to a frozen element of a freezable
    variable, are dropped (the C's `_guarded`); `drop`: variables the run
    holds frozen everywhere (`Run.frozen`), never written; `t`: the time the
    code sees; `rng`: the random stream it draws from (None: it may not);
    `reductions`: values of the protocol's hoisted reductions; `site`: the
    "file:line:col" run-time errors name."""

    sim: "object"  # interpreter.Machine
    group: ir.Group
    elements: Elements
    t: float
    site: str = "?"
    guard_refractory: bool = False
    guard_frozen: bool = False
    drop: frozenset = frozenset()
    rng: object | None = None
    reductions: dict = field(default_factory=dict)
    temps: dict = field(default_factory=dict)
    _plan: tuple | None = None  # (kinds, draws per element and column) while drawn first
    _col: int = 0  # the next column of the plan

    # ---- running ----------------------------------------------------------
    def run(self, body) -> None:
        n = len(self.elements)
        if not body or n == 0:
            return
        lazy_data = _reads_data_lazily(body)
        if self.rng is not None and _draws(body):
            kinds = _draw_plan(body, self._dropped, self._guarded)
            if kinds is not None:  # every element draws the same sequence: drawn first
                with self._drawn(kinds):
                    for sel in (_each(n) if lazy_data else self.rounds(body)):
                        self._col = 0
                        self.stmts(body, sel)
                return
            if lazy_data or _draw_count(body) > 1 \
                    or _draws_lazily(body) or self._has_conflicts(body):
                for sel in _each(n):
                    self.stmts(body, sel)
                return
            self.stmts(body, np.arange(n))  # one draw, skipped by some: drawn on the way, in order
            return
        for sel in (_each(n) if lazy_data else self.rounds(body)):
            self.stmts(body, sel)

    def values(self, e: ir.Expr) -> np.ndarray:
        """`e` for every element, its draws (and lazy data reads) as the C's
        loop makes them: one element after the other."""
        n = len(self.elements)
        everyone = np.arange(n)
        if self.rng is None or not _draws(e):
            if not _reads_data_lazily(e):
                return self.eval(e, everyone)
            parts = [np.asarray(self.eval(e, sel)).reshape(-1) for sel in _each(n)]
            return np.concatenate(parts) if parts else np.zeros(0)
        kinds = _draw_plan((ir.Let("_value", e),), self._dropped, self._guarded)
        if kinds is not None and not _reads_data_lazily(e):
            with self._drawn(kinds):
                self._col = 0
                return self.eval(e, everyone)
        parts = [np.asarray(self.eval(e, sel)).reshape(-1) for sel in _each(n)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _dropped(self, target: ir.Var) -> bool:
        return (target.group, target.name) in self.drop

    def _guarded(self, target: ir.Var) -> bool:
        """Whether the C tests a flag before computing the write to `target` (_guarded)."""
        state = self.sim.state_var(target.group, target.name)
        return (self.guard_frozen and state.freezable) or (self.guard_refractory and state.unless_refractory)

    @contextmanager
    def _drawn(self, kinds: list[str]):
        """The draws of every element drawn first: element by element, each
        element's in `kinds`' order (the C's); a draw reads its column."""
        n = len(self.elements)
        draws = np.empty((n, len(kinds)))
        if isinstance(self.rng, Keyed):  # each element's generator: column by column
            everyone = np.arange(n)
            for c, kind in enumerate(kinds):
                draws[:, c] = self.rng.uniform(everyone) if kind == "uniform" else self.rng.normal(everyone)
            self._plan = (kinds, draws)
            try:
                yield
            finally:
                self._plan = None
            return
        fns = [self.rng.uniform if kind == "uniform" else self.rng.normal for kind in kinds]
        for e in range(n):
            row = draws[e]
            for c, fn in enumerate(fns):
                row[c] = fn()
        self._plan = (kinds, draws)
        try:
            yield
        finally:
            self._plan = None

    def _has_conflicts(self, body) -> bool:
        return bool(self._keys(body))

    def _keys(self, body) -> list[tuple[str, str, str]]:
        """(group, variable, 'i'/'j'/'shared') of the accesses to written arrays
        that other elements may share (an element's own 'self' entry is its own)."""
        all_written, touched = _accesses(body)
        written = {w for w in all_written if w not in self.drop}
        keys = set()
        for v in touched:
            if (v.group, v.name) in written:
                kind = self.kind(v)
                if kind != "self":
                    keys.add((v.group, v.name, kind))
        return sorted(keys)

    def rounds(self, body) -> list[np.ndarray]:
        """The elements in rounds (see the module's docstring)."""
        n = len(self.elements)
        keys = self._keys(body)
        if not keys:
            return [np.arange(n)]
        kinds = {k for _, _, k in keys}
        arrays = {(g, v) for g, v, _ in keys}
        if len(kinds) == 1:  # one location per element: its rank among the elements sharing it
            loc = self.locations_of_kind(kinds.pop(), np.arange(n))
            order = np.argsort(loc, kind="stable")
            sorted_loc = loc[order]
            starts = np.flatnonzero(np.r_[True, sorted_loc[1:] != sorted_loc[:-1]])
            first = np.repeat(starts, np.diff(np.r_[starts, n]))
            rank = np.empty(n, dtype=np.int64)
            rank[order] = np.arange(n) - first
        else:
            per = [(a, self.locations_of_kind(k, np.arange(n))) for a in sorted(arrays)
                   for g, v, k in keys if (g, v) == a]
            last: dict = {}
            rank = np.empty(n, dtype=np.int64)
            for e in range(n):
                touched = [(a, int(loc[e])) for a, loc in per]
                r = max((last.get(x, -1) for x in touched), default=-1) + 1
                for x in touched:
                    last[x] = r
                rank[e] = r
        return [np.flatnonzero(rank == r) for r in range(int(rank.max()) + 1)]

    # ---- statements ----------------------------------------------------------
    def stmts(self, body, sel: np.ndarray) -> None:
        for s in body:
            if len(sel) == 0:
                return
            if isinstance(s, ir.Assign):
                self.assign(s, sel)
            elif isinstance(s, ir.Let):
                value = np.asarray(self.eval(s.value, sel), dtype=np.float64)  # `const double`
                store = self.temps.setdefault(s.name, np.zeros(len(self.elements)))
                store[sel] = value
            elif isinstance(s, ir.If):
                c = np.broadcast_to(np.asarray(self.eval(s.cond, sel), dtype=bool), sel.shape)
                self.stmts(s.body, sel[c])
                self.stmts(s.orelse, sel[~c])
            elif isinstance(s, ir.LinearStep):
                self.linear_step(s, sel)
            elif isinstance(s, ir.Advance):
                self.advance(s, sel)
            else:
                raise Unsupported(type(s).__name__)

    def writable(self, target: ir.Var, sel: np.ndarray) -> np.ndarray:
        """The elements of `sel` whose write to `target` is not dropped."""
        state = self.sim.state_var(target.group, target.name)
        if self.guard_frozen and state.freezable:
            mask = self.sim.frozen[(target.group, target.name)]
            sel = sel[~mask[self.locations(target, sel)]]
        if self.guard_refractory and state.unless_refractory:
            flag = ir.Var(target.group, "not_refractory", target.at, "b")
            sel = sel[self.sim.vars[(target.group, "not_refractory")][self.locations(flag, sel)]]
        return sel

    def assign(self, s: ir.Assign, sel: np.ndarray) -> None:
        if (s.target.group, s.target.name) in self.drop:
            return
        sel = self.writable(s.target, sel)
        if len(sel) == 0:
            return
        self.write(s.target, sel, self.eval(s.value, sel))

    def write(self, target: ir.Var, sel: np.ndarray, value) -> None:
        array = self.sim.vars[(target.group, target.name)]
        array[self.locations(target, sel)] = to_storage(value, array.dtype)

    def linear_step(self, s: ir.LinearStep, sel: np.ndarray) -> None:
        """x <- E x + F c with the factors of the element's set of held rows,
        the terms in the C's order (c_expr.CPrinter._linear_step)."""
        n = len(s.vars)
        reach = linear_reach(s.matrix)
        used_c = [k for k in range(n) if not ir.is_zero(s.const[k])]
        xs = {k: np.asarray(self.read(ir.Var(s.group, s.vars[k]), sel), dtype=np.float64) for k in range(n)}
        cs = {k: np.asarray(self.eval(s.const[k], sel), dtype=np.float64) for k in used_c}
        bits = np.zeros(len(sel), dtype=np.int64)
        freezable = [k for k, name in enumerate(s.vars) if self.sim.state_var(s.group, name).freezable]
        for j, k in enumerate(freezable):
            x = ir.Var(s.group, s.vars[k])
            if (s.group, x.name) in self.drop:
                bits |= 1 << j
            else:
                bits |= np.where(self.sim.frozen[(s.group, x.name)][self.locations(x, sel)], 1 << j, 0)
        if any(s.unless_refractory):
            nr = self.sim.vars[(s.group, "not_refractory")][self.locations(ir.Var(s.group, "not_refractory"), sel)]
            bits |= np.where(nr, 0, 1 << len(freezable))
        if s.per_step:  # the element's factors from its coefficients now
            Ms = [np.broadcast_to(np.asarray(self.eval(s.matrix[r][k], sel), dtype=np.float64), (len(sel),))
                  for r in range(n) for k in range(n)]
            E, F = self.sim.exact_factors_now(s, Ms, bits)
        elif s.per_element:
            at = self.elements.self[sel]
            factors = self.sim.linear_factors[s.group]  # (elements, 2 * sets, n * n)
            E, F = factors[at, 2 * bits], factors[at, 2 * bits + 1]
        else:
            factors = self.sim.linear_factors[s.group]  # (2 * sets, n * n)
            E, F = factors[2 * bits], factors[2 * bits + 1]
        for r, name in enumerate(s.vars):
            x = ir.Var(s.group, name)
            if (s.group, name) in self.drop:
                continue
            terms = [E[:, r * n + k] * xs[k] for k in range(n) if reach[r][k]]
            terms += [F[:, r * n + k] * cs[k] for k in used_c if reach[r][k]]
            value = terms[0] if terms else np.zeros(len(sel))
            for term in terms[1:]:
                value = value + term
            keep = np.isin(sel, self.writable(x, sel))
            self.write(x, sel[keep], value[keep])

    def advance(self, s: ir.Advance, sel: np.ndarray) -> None:
        """dx/dt = a x + b solved over t - clock, as c_expr.CPrinter._advance: a
        factor exp(a (t - clock)) per rate, from the run's table of whole steps."""
        kept = tuple(name for name in s.vars if (s.group, name) not in self.drop)
        if not kept:
            return
        # the expressions, made once per advance and set of variables (the decays are the module's)
        cache = self.sim.advance_exprs
        made = cache.get((id(s), kept))
        if made is None or made[0] is not s:
            made = cache[(id(s), kept)] = (s, *self._advance_exprs(s, kept))
        _, elapsed, factors, values = made
        dt = self.sim.dt
        inv_dt = 1.0 / dt
        for k, growth in enumerate(factors):
            a = growth.args[0].left
            rate = np.asarray(self.eval(a, sel), dtype=np.float64)
            table_rate = self.sim.decay_rate(s.group, a)
            gap = np.asarray(self.eval(elapsed, sel), dtype=np.float64)
            steps = gap * inv_dt
            whole = np.trunc(np.where((steps >= 0) & (steps < DECAY_STEPS - 1), steps + 0.5, 0.0))
            in_table = (steps >= 0) & (steps < DECAY_STEPS - 1) & (np.abs(steps - whole) < 1e-6)
            exp = math_function("exp")
            factor = np.where(in_table, exp(table_rate * (whole * dt)), exp(rate * gap))
            store = self.temps.setdefault(f"_f{k}", np.zeros(len(self.elements)))
            store[sel] = factor
        for x, value in values:
            writable = self.writable(x, sel)
            if len(writable):
                self.write(x, writable, self.eval(value, writable))

    def _advance_exprs(self, s: ir.Advance, kept: tuple[str, ...]):
        """(t - clock, the distinct growth factors exp(a (t - clock)), each
        variable with the expression of its value at t) of an advance."""
        elapsed = ir.Binary("-", ir.Special("t"), ir.Var(s.group, s.clock))
        factors: list[ir.Expr] = []
        values = []
        for name in kept:
            a, b = self.sim.state_var(s.group, name).decay
            x = ir.Var(s.group, name)
            if ir.is_zero(a):
                value = ir.Binary("+", x, ir.Binary("*", b, elapsed))
            else:
                growth = ir.Call("exp", (ir.Binary("*", a, elapsed),))
                if growth not in factors:
                    factors.append(growth)
                f = ir.Temp(f"_f{factors.index(growth)}")
                if ir.is_zero(b):
                    value = ir.Binary("*", x, f)
                else:
                    fixed = ir.Binary("/", b, a)
                    value = ir.Binary("-", ir.Binary("*", ir.Binary("+", x, fixed), f), fixed)
            values.append((x, value))
        return elapsed, tuple(factors), tuple(values)

    # ---- names -----------------------------------------------------------------
    def kind(self, v: ir.Var) -> str:
        """Which index names `v`'s element: 'self', 'i', 'j' or 'shared'."""
        state = self.sim.state_var(v.group, v.name)
        if state.shared:
            return "shared"
        if state.index == "pre":
            return "i"
        if state.index == "post":
            return "j"
        # 'first': the one element of a one-element group (a linked variable), stored as a shared one is
        # 'index' (a linked variable with an index) is read through its index (read), never written
        return {"self": "self", "pre": "i", "post": "j", "shared": "shared", "first": "shared", "index": "self"}[v.at]

    def locations_of_kind(self, kind: str, sel: np.ndarray) -> np.ndarray:
        if kind == "shared":
            return np.zeros(len(sel), dtype=np.int64)
        e = self.elements
        return {"self": e.self, "i": e.i, "j": e.j}[kind][sel]

    def locations(self, v: ir.Var, sel: np.ndarray) -> np.ndarray:
        return self.locations_of_kind(self.kind(v), sel)

    def read(self, v: ir.Var, sel: np.ndarray):
        array = self.sim.vars[(v.group, v.name)]
        if v.at == "index":  # a linked variable with an index (view: snn_link_at, snn_link_at_whole)
            where = f"{v.span.file}:{v.span.line}:{v.span.col}" if v.span is not None else self.site
            k = np.broadcast_to(np.asarray(self.eval(v.index, sel)), (len(sel),))
            if v.index.dtype == "f":
                odd = ~(k == np.floor(k))
                if odd.any():
                    raise RunFailure(f"{where}: error[E0601]: index {'%g' % float(k[np.argmax(odd)])} for "
                                     f"{v.group}.{v.name} is not a whole number")
            k = k.astype(np.int64)
            bad = (k < 0) | (k >= len(array))
            if bad.any():
                raise RunFailure(f"{where}: error[E0601]: index {int(k[np.argmax(bad)])} is out of range for "
                                 f"{v.group}.{v.name}, of {len(array)} elements")
            return from_storage(array[k])
        if self.kind(v) == "shared":
            return from_storage(array[0])
        return from_storage(array[self.locations(v, sel)])

    def eval(self, e: ir.Expr, sel: np.ndarray):
        els = self.elements

        def special(name: str):
            if name == "i":
                return els.i[sel]
            if name == "j":
                return els.j[sel]
            if name == "elem":
                return els.self[sel]
            if name == "dt":  # the time step of the group's code (its own, `dt:`)
                return np.asarray(self.sim.dt if self.group is None else self.sim.m.dt_of(self.group.name))
            if name == "delay":  # view: delay_steps * dt
                steps = self.sim.syn[self.group.name].delay_steps
                steps = 0 if steps is None else steps
                return np.broadcast_to(np.asarray(steps), (len(self.sim.syn[self.group.name].pre),))[
                    els.self[sel]] * self.sim.dt
            if name in ir.SYNAPSE_COUNTS:  # the synapses of the post- (pre-) synaptic neuron
                g, s = self.group, self.sim.syn[self.group.name]
                incoming = name == "N_incoming"
                ends = s.post if incoming else s.pre
                counts = np.bincount(ends, minlength=self.sim.n[g.target if incoming else g.source])
                return counts[(els.j if incoming else els.i)[sel]]
            raise Unsupported(name)

        def resolve(x):
            if isinstance(x, ir.Temp):
                return self.temps[x.name][sel]
            if isinstance(x, ir.Special) and x.name == "t":
                return np.asarray(self.t)
            if isinstance(x, ir.Rand):
                if self.rng is None:
                    raise Unsupported("random numbers here")
                if self._plan is not None:
                    kinds, draws = self._plan
                    c, self._col = self._col, self._col + 1
                    if c >= len(kinds) or kinds[c] != x.kind:
                        raise InternalError(f"draw {c} of the plan {kinds} is a {x.kind} number")
                    return draws[sel, c]
                if isinstance(self.rng, Keyed):  # the generators of the elements `sel`
                    return self.rng.uniform(sel) if x.kind == "uniform" else self.rng.normal(sel)
                draw = self.rng.uniform if x.kind == "uniform" else self.rng.normal
                return np.array([draw() for _ in range(len(sel))])
            if isinstance(x, ir.Reduce):
                value = self.reductions[x]
                if x.kind in ("sum_pre", "sum_post"):
                    return value[(els.i if x.kind == "sum_pre" else els.j)[sel]]
                return np.asarray(value)
            if isinstance(x, ir.Frozen):
                v = ir.Var(x.group, x.name)
                mask = self.sim.frozen[(x.group, x.name)]
                return mask[0] if self.kind(v) == "shared" else mask[self.locations(v, sel)]
            if isinstance(x, ir.DataAt):
                return self.sim.data_at(x, [self.eval(i, sel) for i in x.indices], self.site)
            return self.sim.resolve(x)

        return evaluate(e, lambda v: self.read(v, sel), self.sim.param, special, resolve)


def from_storage(values):
    """A stored value as the C reads it in an expression: integers and flags
    widened to int64 (C promotes them), numbers as double."""
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        return values.astype(np.int64)
    return values


def to_storage(value, dtype: np.dtype):
    """A value converted as the C assigns it: snn_to_i32 for a double into an
    integer variable (toward zero, saturating, nan as 0), a cast otherwise."""
    value = np.asarray(value)
    if dtype == np.int32:
        if value.dtype.kind == "f":
            clipped = np.where(np.isnan(value), 0.0, np.clip(value, -2147483648.0, 2147483647.0))
            return np.trunc(clipped).astype(np.int32)
        return value.astype(np.int64).astype(np.int32)  # (int32_t): wraps
    if dtype == np.bool_:
        return np.trunc(value) != 0 if value.dtype.kind == "f" else value != 0
    return value.astype(dtype)



@memo
def _draws(body) -> bool:
    return any(isinstance(n, ir.Rand) for n in ir.walk(body))


@memo
def _draw_count(body) -> int:
    return sum(isinstance(x, ir.Rand) for x in ir.walk(body))


def _lazy_parts(e):
    """The subexpressions C evaluates only sometimes: the sides of `where`, the
    right operand of `and` / `or`."""
    for n in ir.walk(e):
        if isinstance(n, ir.Call) and n.func == "where":
            yield from n.args[1:]
        elif isinstance(n, ir.Binary) and n.op in ("and", "or"):
            yield n.right


@memo
def _reads_data_lazily(body) -> bool:
    return any(isinstance(n, ir.DataAt) for part in _lazy_parts(body) for n in ir.walk(part))


@memo
def _draws_lazily(body) -> bool:
    return any(isinstance(n, ir.Rand) for part in _lazy_parts(body) for n in ir.walk(part))


def _one_at_a_time(body) -> bool:
    """Whether code reads data, or draws, where C may not evaluate it."""
    return _reads_data_lazily(body) or _draws_lazily(body)


def _each(n: int):
    return (np.array([e]) for e in range(n))


def _kinds(e) -> list[str]:
    """The kinds of the draws in `e`, in the order numpy_eval (and the C) evaluates them."""
    return [n.kind for n in ir.walk(e) if isinstance(n, ir.Rand)]


def _draw_plan(body, dropped, guarded) -> list[str] | None:
    """The draws each element makes running `body`, in order, if every
    element makes the same ones: no draw under an `if`, in a guarded write
    (C tests the flag first), or where C may skip it; None otherwise.
    A dropped write (`Run.frozen`) draws nothing: C has no code for it."""
    kinds: list[str] = []
    for s in body:
        if isinstance(s, ir.Assign):
            if dropped(s.target) or not _draws(s.value):
                continue
            if guarded(s.target) or _draws_lazily(s.value):
                return None
            kinds += _kinds(s.value)
        elif isinstance(s, ir.Let):
            if _draws_lazily(s.value):
                return None
            kinds += _kinds(s.value)
        elif isinstance(s, ir.If):
            if _draws((s.body, s.orelse)) or _draws_lazily(s.cond):
                return None
            kinds += _kinds(s.cond)
        elif _draws(s):  # an exact step or an advance that draws: one element at a time
            return None
    return kinds
