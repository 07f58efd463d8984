"""The intermediate representation: typed expressions, kernels, the protocol.

The checker builds IR expressions (every name resolved, units folded to SI
factors, a dtype on every node); `ir.lower` assembles the `Module`; passes
rewrite it; `codegen` prints it. All nodes are frozen: a pass returns a new
tree built with `dataclasses.replace` or `map_expr`.

dtypes: 'f' (double), 'i' (int32 / int64 indices), 'b' (boolean).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import cache
from typing import Callable

from snndsl.diagnostics import Span


def _span():
    return field(default=None, compare=False, repr=False)


# ---- expressions ----------------------------------------------------------

# Brian2's per-synapse counts: the synapses of its postsynaptic (N_incoming) and
# of its presynaptic (N_outgoing) neuron, in its group
SYNAPSE_COUNTS = ("N_incoming", "N_outgoing")


@dataclass(frozen=True, slots=True)
class Expr:
    pass


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: float | int | bool
    dtype: str = "f"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Var(Expr):
    """A group variable. `at` says which element: 'self' (the element being
    processed), 'pre' / 'post' (the synapse's pre/postsynaptic neuron),
    'shared' (the group's single value), 'first' (the one element of a
    one-element group, which a linked variable of another group reads),
    'index' (the element `index` computes, in the code's own group: a linked
    variable with an index; out of range, an error at run time)."""

    group: str
    name: str
    at: str = "self"
    dtype: str = "f"
    span: Span | None = _span()
    index: Expr | None = None


@dataclass(frozen=True, slots=True)
class Param(Expr):
    name: str
    dtype: str = "f"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Local(Expr):
    """A protocol local (`let`) or loop variable."""

    name: str
    dtype: str = "f"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Frozen(Expr):
    """Whether `freeze` holds this element's `name` (its per-element flag,
    or the group's one for a shared variable): true or false."""

    group: str
    name: str
    dtype: str = "b"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Special(Expr):
    """i, j, t, dt, N (of a group), the element index, lastupdate delta."""

    name: str  # 'i' 'j' 't' 'dt' 'elem'
    dtype: str = "f"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Size(Expr):
    """N of a group (number of neurons or synapses)."""

    group: str
    dtype: str = "i"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class DataAt(Expr):
    """An element of a data array; `indices` has one entry per dimension."""

    name: str
    indices: tuple[Expr, ...]
    dtype: str = "f"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class TimeStep(Expr):
    """The row of timed data array `data` (`data X = ... every PERIOD`) that
    holds time `time`, as Brian2's TimedArray finds it: with epsilon =
    period / upsample, int((time / epsilon + 0.5) / upsample), held at the
    first and last rows (so never out of range but for an empty array)."""

    data: str
    time: Expr
    period: float
    upsample: int  # Brian2's K (input/timedarray.py, _find_K)
    dtype: str = "i"
    span: Span | None = _span()


def timed_upsample(group_dt: float, period: float) -> int:
    """Brian2's _find_K: a power of two that keeps the rounding of t / epsilon
    away from a row's edges even at the intermediate times of rk4."""
    return max(int(2 ** math.ceil(math.log2(8 / group_dt * period))), 1)


def timed_locally_constant(group_dt: float, period: float) -> bool:
    """Brian2's TimedArray.is_locally_constant: a read at t holds over a step
    of the group when the period is a whole multiple of dt."""
    if group_dt > period:
        return False
    ratio = period / float(group_dt)
    return float(int(ratio)) == ratio


@dataclass(frozen=True, slots=True)
class DataLen(Expr):
    name: str
    dtype: str = "i"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str  # '-' 'not'
    operand: Expr
    dtype: str = "f"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    op: str  # + - * / % ** < <= > >= == != and or
    left: Expr
    right: Expr
    dtype: str = "f"
    span: Span | None = _span()


def folded_power(e: Binary) -> int | None:
    """2 for `x ** 2` and -1 for `x ** -1` (a constant exponent): powers both
    backends compute as `x * x` and `1 / x`, as gcc and clang fold C's pow
    at -O1 and above, so that no result depends on the optimisation level,
    the C library's pow (which need not round these correctly) or the CPU
    numpy's SIMD loops were chosen for. Every other power is the C library's
    pow. None when `e` is not such a power."""
    if e.op == "**" and isinstance(e.right, Const) and e.right.value in (2, -1) \
            and not isinstance(e.right.value, bool):
        return int(e.right.value)
    return None


def is_zero(e: Expr | None) -> bool:
    """`e` is the constant 0 (as written or folded; not an expression that evaluates to it)."""
    return isinstance(e, Const) and e.value == 0


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A pure math function: exp log ... clip min max where int."""

    func: str
    args: tuple[Expr, ...]
    dtype: str = "f"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Temp(Expr):
    """A value computed once in generated code (e.g. a shared decay factor)."""

    name: str
    dtype: str = "f"
    span: Span | None = _span()


# the loop variable of `connect: j = EXPR for k in LO .. HI` (a Temp of its connect kernel)
GENERATOR_K = "_gk"


@dataclass(frozen=True, slots=True)
class Rand(Expr):
    kind: str  # 'uniform' / 'normal'
    dtype: str = "f"
    span: Span | None = _span()
    stream: int | None = None  # which random stream it draws from: set by passes/streams.py


@dataclass(frozen=True, slots=True)
class Noise(Expr):
    """White noise `xi` (or `xi_NAME`) in a differential equation, in
    1/sqrt(second), as Brian2's: integration (ir/integrate.py) replaces it
    by sqrt(dt) times one standard normal number per element and step."""

    name: str
    dtype: str = "f"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Reduce(Expr):
    """sum mean min max count over a group (its elements lo to hi: a
    subgroup's), or sum_pre / sum_post per synapse."""

    kind: str
    group: str
    expr: Expr
    dtype: str = "f"
    span: Span | None = _span()
    lo: int = 0
    hi: int | None = None  # None: to the end of the group


# ---- statements of event code ---------------------------------------------

@dataclass(frozen=True, slots=True)
class Stmt:
    pass


@dataclass(frozen=True, slots=True)
class Assign(Stmt):
    target: Var
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Advance(Stmt):
    """Bring event-driven variables of `group` exactly up to the current time
    from the time in `clock` (Brian2's lazy update of event-driven equations).
    Each variable's StateVar holds its equation as `dx/dt = a*x + b`."""

    group: str
    vars: tuple[str, ...]
    clock: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Let(Stmt):
    """A local value in generated code, read back as `Temp(name)`."""

    name: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class LinearStep(Stmt):
    """Exact integration over one time step of the linear system
    dx/dt = M x + c (`exact` method): x <- E x + F c, with E = expm(M dt)
    and F = integral of expm(M s) ds over [0, dt], computed when a run starts
    (M may read parameters and shared variables, and with `per_element` the
    element's own variables: one E and F per element). `c` may read anything but
    the system's variables and is held constant over the step. Variables
    flagged `unless_refractory` are frozen while the neuron is refractory."""

    group: str
    vars: tuple[str, ...]
    matrix: tuple[tuple[Expr, ...], ...]
    const: tuple[Expr, ...]
    unless_refractory: tuple[bool, ...]
    span: Span | None = _span()
    # M reads variables of each element (tau_rec per synapse): E and F are
    # computed for each element when a run starts
    per_element: bool = False
    # ... and some of them change during a run (written by the step's code, a
    # sum onto them, another group's variables): each element's E and F are
    # computed in each step, before its update, from the values then (Brian2
    # evaluates its closed form every step), without a table (passes/decide.py:
    # exact_factors_each_step)
    per_step: bool = False


@dataclass(frozen=True, slots=True)
class If(Stmt):
    cond: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()
    span: Span | None = _span()


# ---- protocol statements -----------------------------------------------------

@dataclass(frozen=True, slots=True)
class Run(Stmt):
    duration: Expr
    # (group, variable) frozen in every element while this run runs, set by
    # passes/decide.py: its step function then never writes them
    frozen: tuple[tuple[str, str], ...] = ()
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class GroupAssign(Stmt):
    """`G.X[sel] = value`: value (and where) evaluated for all selected
    elements before any is written. `lo`/`hi` bound the element range."""

    group: str
    target: Var
    value: Expr
    where: Expr | None = None
    lo: Expr | None = None
    hi: Expr | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SetLocal(Stmt):
    name: str
    value: Expr
    declare: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class For(Stmt):
    var: str
    start: Expr
    stop: Expr
    body: tuple[Stmt, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class While(Stmt):
    cond: Expr
    body: tuple[Stmt, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Freeze(Stmt):
    """`freeze G.X[sel]` / `unfreeze G.X[sel]`: from now on event code,
    resets and equations leave X of the selected elements unchanged (phase
    assignments still write it)."""

    group: str
    var: str
    frozen: bool
    where: Expr | None = None
    lo: Expr | None = None
    hi: Expr | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class StoreState(Stmt):
    """`store state as NAME`: a snapshot of the whole simulation, in the results."""

    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class RestoreState(Stmt):
    """`restore state from PATH`: continue from a snapshot (first statement only)."""

    path: str  # absolute, or relative to the working directory at run time
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SaveVar(Stmt):
    save: str  # index into Module.saves by name
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    body: tuple[Stmt, ...]
    span: Span | None = _span()


# ---- declarations ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ParamDef:
    name: str
    default: Expr  # may read earlier parameters
    dim: tuple  # the exponents of the base units (Fractions: volt/second**0.5 has fractional ones)
    unit: str
    span: Span | None = _span()
    integer: bool = False  # used where an integer is needed: its value must be whole (checked at run time)


@dataclass(frozen=True, slots=True)
class DataDef:
    name: str
    path: str  # absolute default path (or "file.npz:key")
    unit: str
    scale: float  # SI factor of the declared unit
    span: Span | None = _span()
    period: float | None = None  # a timed array's (`every PERIOD`), in seconds
    values: tuple[float, ...] | None = None  # `= [...]`: the values (flat, C order) in the file's place
    shape: tuple[int, ...] = ()  # of `values`


@dataclass(frozen=True, slots=True)
class StateVar:
    """One stored variable of a group. `index` says what it is stored per:
    'element' (each neuron, or each synapse), or, for a synaptic trace that
    does not depend on the synapse, 'pre' / 'post' (each pre/postsynaptic
    neuron; see passes/hoist_traces.py)."""

    name: str
    dtype: str
    shared: bool
    unit: str
    role: str = "state"  # state / event-driven / lastupdate
    decay: tuple[Expr, Expr] | None = None  # event-driven: dx/dt = a*x + b
    index: str = "element"
    # (unless refractory): as Brian2, no code but the reset writes it while
    # the neuron is refractory (synaptic input to it is dropped)
    unless_refractory: bool = False
    freezable: bool = False  # some phase freezes it: writes check a per-element mask
    # a synapse variable the pathways read and no step code writes: each run's start
    # checks whether every synapse holds one value, and the pathways then read that one
    # (passes/uniform_reads.py)
    uniform_check: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Every:
    """`every PERIOD:` of a group: in the steps that are multiples of
    `steps`, `once` (its writes to shared variables, which come first) once,
    then `body` for each element (Brian2's run_regularly, on its own clock,
    with its scalar and vector code)."""

    steps: int
    body: tuple[Stmt, ...]
    span: Span | None = _span()
    once: tuple[Stmt, ...] = ()


@dataclass(frozen=True, slots=True)
class Pathway:
    """A named pathway of a synapse group, `on pre NAME:` with its `delay
    NAME:` (Brian2's on_pre={NAME: ...}, delay={NAME: ...}): event code of
    its own, run for the spikes that its own delay brings, from a spike queue
    of its own; or `on post NAME:` (on_post={NAME: ...}), for the
    postsynaptic spikes, at once. The unnamed `on pre:` / `on post:` are the
    group's `on_pre` and `delay` / `on_post` (Brian2's pathways 'pre' and
    'post'); a step runs a group's presynaptic pathways, then its
    postsynaptic ones, each in the order of their names, the unnamed one as
    'pre' ('post') (Brian2's SynapticPathway objects, sorted by order, then
    name)."""

    name: str
    body: tuple[Stmt, ...]
    delay: Expr | None = None
    delay_kind: str = "none"  # as Group.delay_kind
    span: Span | None = _span()
    delay_span: Span | None = _span()  # its `delay NAME:` line
    event: str = "pre"  # 'post': `on post NAME:`, the postsynaptic spikes (no delay)
    # the source's (target's) custom event that triggers it, where NAME is one
    # (ir.Event; Brian2's on_event={NAME: NAME}); "spike" for its spikes
    on: str = "spike"


@dataclass(frozen=True, slots=True)
class Event:
    """`event NAME: COND` of a neuron group with its `on NAME:` code (Brian2's
    events={NAME: COND} and run_on_event(NAME, CODE)): each step, after every
    group's threshold, the neurons for which `cond` holds, refractory or not,
    have the event; the pathways `on pre NAME:` of synapses from the group
    (`on post NAME:` onto it) and the monitors `NAME of G` see them, and
    `body` runs for each of them after the resets."""

    name: str
    cond: Expr
    body: tuple[Stmt, ...] = ()
    span: Span | None = _span()


def event_list(event: str) -> tuple[str, str]:
    """The fields of a neuron-like group that list its neurons with `event`
    in this step, and count them: `spikes` and `nspikes` for its spikes,
    `ev_NAME` and `nev_NAME` for its custom event NAME."""
    return ("spikes", "nspikes") if event == "spike" else (f"ev_{event}", f"nev_{event}")


@dataclass(frozen=True, slots=True)
class Summed:
    """`post.X = EXPR : UNIT (summed)` of a synapse group: each step, the
    variable X of `group` (its `side` end) is the sum of `expr` over its
    synapses, 0 where it has none (Brian2's summed variables)."""

    side: str  # pre / post
    group: str
    var: str
    expr: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class PoissonInput:
    """`poisson NAME[SOURCES] -> GROUP.VAR` (Brian2's PoissonInput):
    each step, each element of `group` in [lo, hi) draws k, the number of its
    `sources` independent Poisson sources that spiked at `rate`, a
    Binomial(sources, rate * dt) number from `stream`, and `body` adds k
    times the weight to VAR: `VAR = VAR + k * weight`, k the `Temp` named
    POISSON_INPUT_DRAW."""

    name: str
    sources: int
    rate: Expr  # the same for every element
    body: tuple[Stmt, ...]
    lo: int = 0
    hi: int | None = None  # None: to the end of the group
    stream: int | None = None  # set by passes/streams.py
    span: Span | None = _span()


POISSON_INPUT_DRAW = "_k"


@dataclass(frozen=True, slots=True)
class ListOrData:
    """indices/times of a spike generator: literal values or a data array."""

    values: tuple[float, ...] | None = None
    data: str | None = None
    scale: float = 1.0


@dataclass(frozen=True, slots=True)
class ConnectPart:
    """One `connect:` line of a synapse group that has several (Brian2's
    successive S.connect calls): `kind` and the expressions as the group's
    connect fields would hold them (all / one_to_one / cond / range / target)."""

    kind: str
    cond: Expr | None = None
    lo: Expr | None = None
    hi: Expr | None = None
    j: Expr | None = None
    times: Expr | None = None
    span: Span | None = _span()
    choose: Expr | None = None
    data: str | None = None  # 'data': the (i, j) rows of this data array


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    kind: str  # neurons / poisson / spikes / synapses
    size: int | None  # None for synapses (known after connect)
    vars: tuple[StateVar, ...] = ()
    init: tuple[Stmt, ...] = ()
    rate: Expr | None = None  # poisson
    # poisson: "per step" (a uniform number per source and step) or "skip ahead"
    # (each source draws the step of its next spike); set by passes/decide.py
    sampling: str | None = None
    stream: int | None = None  # poisson: the random stream of its draws (passes/streams.py)
    indices: ListOrData | None = None  # spikes
    times: ListOrData | None = None
    source: str | None = None  # synapses
    target: str | None = None
    connect: str = "all"  # all / one_to_one / cond / data / range / target / several
    connect_cond: Expr | None = None
    # range: j from connect_lo to connect_hi - 1 (None: the whole target); target: j = connect_j
    connect_lo: Expr | None = None
    connect_hi: Expr | None = None
    connect_j: Expr | None = None
    connect_times: Expr | None = None  # synapses made per pair (None: one)
    connect_choose: Expr | None = None  # range: K of its j's at random (Brian2's sample(size=K))
    connect_stream: int | None = None  # the stream of the connection's draws, where it draws (passes/streams.py)
    connect_parts: tuple[ConnectPart, ...] = ()  # several: each connect, in the order of the model
    connect_data: str | None = None
    on_pre: tuple[Stmt, ...] = ()
    on_post: tuple[Stmt, ...] = ()
    # run once per pre/postsynaptic spike, before that neuron's synapses:
    # the updates of traces stored per neuron (passes/hoist_traces.py)
    on_pre_spike: tuple[Stmt, ...] = ()
    on_post_spike: tuple[Stmt, ...] = ()
    # neurons (and clock-driven synaptic equations): integration each step
    update: tuple[Stmt, ...] = ()
    every: tuple[Every, ...] = ()  # `every PERIOD:` blocks, in the order of the model
    summed: tuple[Summed, ...] = ()  # synapses: the neuron variables they sum onto
    inputs: tuple[PoissonInput, ...] = ()  # neurons: Poisson input onto their variables
    # synapses between subgroups: the (lo, hi) of the source's (target's) neurons; the
    # synapses store the groups' indices, `i` and `j` in their code count from lo
    source_range: tuple[int, int] | None = None
    target_range: tuple[int, int] | None = None
    threshold: Expr | None = None
    reset: tuple[Stmt, ...] = ()
    refractory: Expr | None = None  # a duration, or a condition that keeps a neuron refractory
    refractory_kind: str | None = None  # 'duration' / 'condition'
    # synapses: the delay of `on pre`; 'homogeneous' (one value) or 'heterogeneous' (per synapse)
    delay: Expr | None = None
    delay_kind: str = "none"
    # synapses: the named pathways (`on pre NAME:`), by name (ir.Pathway)
    pathways: tuple[Pathway, ...] = ()
    # neurons: custom events (`event NAME: COND`), by name (ir.Event)
    events: tuple[Event, ...] = ()
    # `dt: PERIOD` (Brian2's dt= of a group): its own time step as written, None
    # for the model's; its kernels run on the steps that are multiples of `clock`
    dt: float | None = None
    clock: int = 1
    span: Span | None = _span()

    def var(self, name: str) -> StateVar | None:
        return next((v for v in self.vars if v.name == name), None)

    @property
    def in_pre_order(self) -> bool:
        """Synapses numbered in presynaptic order (synapse s is the s-th of the
        presynaptic index): those a connect rule makes in one loop over i.
        Not those loaded from data, nor several connects' (each line's after
        the last's: `connect: i == 2` then `connect: i == 0`)."""
        return self.kind == "synapses" and self.connect not in ("data", "several")

    @property
    def all_pairs(self) -> bool:
        """`connect: all`: each pair of the (sub)groups once, by i then j, so that
        synapse (i, j) is (i - i0) * n_j + (j - j0): the pathways compute a spike's
        synapses (SynapseEvents.dense), and no lists by postsynaptic neuron are kept."""
        return self.kind == "synapses" and self.connect == "all"

    @property
    def stores_pre(self) -> bool:
        """Each synapse's presynaptic neuron kept in an array (`pre`). Not for
        synapses in presynaptic order: the row of `pre_start` a synapse falls
        in is its neuron, which loops over synapses follow as they go; unless
        spikes are queued per synapse (heterogeneous delays), where a queued
        synapse's neuron is looked up."""
        return self.kind == "synapses" and (not self.in_pre_order or "heterogeneous" in self.delay_kinds)

    @property
    def delay_kinds(self) -> tuple[str, ...]:
        """The delay kind of each pathway that has a delay: the unnamed one's first."""
        kinds = (self.delay_kind,) + tuple(p.delay_kind for p in self.pathways)
        return tuple(k for k in kinds if k != "none")

    def pathway(self, name: str) -> Pathway:
        return next(p for p in self.pathways if p.name == name)


@dataclass(frozen=True, slots=True)
class Monitor:
    name: str
    kind: str  # state / spikes / rate
    group: str
    var: str | None = None
    lo: int = 0
    hi: int | None = None  # None: to the end of the group
    every: int = 1  # in steps
    every_dt: float | None = None  # the sampling interval as written (Brian2's monitor clock dt)
    during: tuple[str, ...] = ()  # phase names; () = always
    unit: str = "1"
    dtype: str = "f"
    span: Span | None = _span()
    # spike monitors: the variables recorded at each spike, as (name, unit)
    recorded: tuple[tuple[str, str], ...] = ()
    expr: Expr | None = None  # a state monitor of a subexpression: its value for each element
    event: str = "spike"  # spike monitors: the group's custom event recorded (`NAME of G`), or its spikes


@dataclass(frozen=True, slots=True)
class SaveDef:
    name: str
    group: str
    var: str
    rows: bool  # inside a loop: one row per execution
    unit: str
    dtype: str
    expr: Expr | None = None  # a subexpression: its value for each element
    span: Span | None = _span()
    lo: int = 0  # a subgroup's elements lo to hi; hi None: to the end of the group
    hi: int | None = None


# The work of one time step, in Brian2's order (`Module.schedule`): what each
# kind of task does, and what its target names.
TASKS = {
    "every": "the group's `every PERIOD:` blocks whose period divides the step (group)",
    "record state": "a state monitor records (monitor)",
    "sum": "the variables synapses sum onto, each the sum over its synapses (group)",
    "update": "refractoriness, then one integration step of the equations (group)",
    "threshold": "a neuron group's threshold, a Poisson group's draws, a spike generator's spikes (group)",
    "record spikes": "a spike monitor records (monitor)",
    "event": "the neurons of the group that have a custom event (group, its event)",
    "record events": "a monitor of a custom event records (monitor)",
    "poisson input": "each Poisson input onto the group adds its binomial draws times its weight (group)",
    "on pre": "the presynaptic spikes whose delay ends now, through the synapses (synapses)",
    "on post": "the postsynaptic spikes, through the synapses (synapses)",
    "reset": "the resets of the neurons that spiked (group)",
    "on event": "the code of a custom event, for the neurons that had it (group, its event)",
    "record rate": "a rate monitor records (monitor)",
}


@dataclass(frozen=True, slots=True)
class Task:
    """One task of the time step: `kind` (a key of TASKS) on `target`;
    `pathway`, for 'on pre' and 'on post', a named pathway's name ("": the
    unnamed one); `event`, for 'event' and 'on event', the custom event."""

    kind: str
    target: str
    pathway: str = ""
    event: str = ""  # 'event', 'on event': the group's custom event


# ---- kernels: the loops of the program, one class per kind of loop ------------
#
# passes/kernels.py makes them once the optimizer is done: `Module.setup`
# (run once, before the protocol) and `Module.step` (the time step, in the
# schedule's order). Each holds all its code and every decision a backend
# needs to render it; a backend has one template per class and does not look
# into the groups for code. `target` is a group, or a monitor for the records.

@dataclass(frozen=True, slots=True, kw_only=True)
class Kernel:
    target: str
    span: Span | None = _span()
    # built for ranks (MPI; passes/distribute.py): how the ranks split it --
    # 'block' (each its block of elements), 'far' / 'near' (a pathway's
    # synapses by the rank of their postsynaptic neuron), 'all' (every rank
    # all of it) -- and the arrays made whole on every rank before it; a
    # kernel that lists spikes by blocks ends with `exchange`: the groups whose
    # lists every rank then gets whole (its own, and those of the block
    # kernels just before it, in one exchange)
    ranks: str = ""
    gather: tuple[tuple[str, str], ...] = ()
    exchange: tuple[str, ...] = ()
    # it runs on the steps that are multiples of `clock` (passes/kernels.py:
    # the clock of the group whose time it follows, Brian2's clock of the object)
    clock: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Connect(Kernel):
    """Make the synapses of `target`, in Brian2's order (by i, then j).
    `rule`: 'all'; 'one to one' (the diagonal); 'pairs' (the (i, j) rows of
    the data array `data`); 'each pair' (every pair that passes `cond`);
    'bernoulli' (each pair with probability `p`, the same for all pairs,
    then `cond` if given: the pairs made are drawn directly, skipping a
    Geometric(p) number of pairs between two, from `stream`).
    Brian2's generator syntax: 'range' (for each i, j from `lo` to `hi` - 1,
    clipped to the target -- None: the whole target -- passing `cond`);
    'sample' (the same range, each j with probability `p`, which may depend
    on i, skipping a Geometric(p) number of j's between two, from `stream`,
    then `cond` if given, which may draw too: tested at each j drawn, between
    the geometric draws); 'target' (for each i, the one j = `j`, if it
    passes `cond`: a j outside the target is an error at run time; with `lo`
    and `hi`, Brian2's j='EXPR for k in range(LO, HI)': for each i, for each
    k from lo to hi - 1, in order, the j = `j` and `cond` of that k, the
    Temp GENERATOR_K). In
    these three, each pair made is `times` synapses (None: one), an error
    if negative. 'choose' (Brian2's sample(LO, HI, size=K)): for each i, `size`
    distinct j's of the range clipped to the target, at random (Floyd's
    algorithm, from `stream`), in increasing order, each passing `cond`; a row
    with fewer j's than `size`, or a negative `size`, is an error at run time.
    'several': the synapses of each of `parts` (each a Connect of one of the
    rules above, but 'pairs'), one after the other."""

    rule: str
    cond: Expr | None = None
    p: Expr | None = None
    lo: Expr | None = None
    hi: Expr | None = None
    j: Expr | None = None
    times: Expr | None = None
    parts: tuple[Connect, ...] = ()
    data: str | None = None
    stream: int | None = None
    size: Expr | None = None  # 'choose': the number of j's of each row
    # the presynaptic (postsynaptic) neurons it joins, lo to hi - 1 (None: all):
    # the ranges of subgroups, whose pairs alone are tried
    pre_range: tuple[int, int] | None = None
    post_range: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Init(Kernel):
    """Every element of `target` runs `body` once, before the protocol."""

    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Delays(Kernel):
    """The delay of `on pre` (of the named pathway `pathway`), in steps: one
    value, or one per synapse."""

    delay: Expr
    per_synapse: bool
    pathway: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEvery(Kernel):
    """In the steps that are multiples of `steps` (at the start of the step,
    as Brian2's run_regularly), `once` runs once (writes to shared
    variables), then every element runs `body`."""

    steps: int
    body: tuple[Stmt, ...]
    once: tuple[Stmt, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordState(Kernel):
    """A state monitor copies the values of its range (at the start of the step)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SumOnto(Kernel):
    """The variable `var` of `target` becomes, for each element, the sum of
    each term's expression over the synapses of that element: `terms` are
    (synapse group, side, expression); 0 where there are none."""

    var: str
    terms: tuple[tuple[str, str, Expr], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Update(Kernel):
    """Every element: refractoriness (a duration, or a condition that holds
    neurons), then `body`, one integration step of the equations."""

    body: tuple[Stmt, ...] = ()
    refractory: Expr | None = None
    refractory_kind: str | None = None
    share: str = "none"  # how threads share it (passes/share_work.py): 'none' / 'elements'
    wait: bool = True  # shared: the threads wait for each other after it (passes/share_work.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold(Kernel):
    """Every neuron for which `cond` holds (and that is not refractory) spikes;
    or, for a custom `event` (ir.Event), has that event (refractory or not)."""

    cond: Expr | None
    refractory: Expr | None = None
    share: str = "none"  # 'none' / 'elements' (passes/share_work.py)
    event: str = "spike"


@dataclass(frozen=True, slots=True, kw_only=True)
class PoissonSpikes(Kernel):
    """Every source spikes at `rate`: a uniform number per source and step
    ('per step'), or the step of its next spike drawn ahead ('skip ahead'),
    from `stream`."""

    rate: Expr
    sampling: str
    stream: int
    share: str = "none"  # 'none' / 'elements' ('per step' only; passes/share_work.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddPoissonInput(Kernel):
    """One Poisson input onto the group `target` (see PoissonInput): a
    binomial draw per element of [lo, hi), then `body`, whose writes are
    dropped for frozen elements and, for `(unless refractory)` variables,
    for refractory neurons (Brian2's conditional write)."""

    name: str
    sources: int
    rate: Expr
    body: tuple[Stmt, ...]
    lo: int
    hi: int
    stream: int
    share: str = "none"  # 'none' / 'elements' (passes/share_work.py)
    wait: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratorSpikes(Kernel):
    """A spike generator's listed spikes of this step."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordSpikes(Kernel):
    """A spike monitor appends this step's spikes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SynapseEvents(Kernel):
    """Every spike of the `event` side ('pre' / 'post'): `once`, then
    `advance` for each of its synapses, then `body` for each of them (the
    group's event code is `advance + body`; passes/split_advances.py moves
    the advances of traces ahead). `delay` ('pre' only): 'none';
    'homogeneous' (the spikes of one earlier step); 'heterogeneous' (each
    synapse's event queued at its own delay; no `advance`). `in_pre_order`:
    the synapses are numbered in presynaptic order, so a spike's synapses
    are a contiguous range."""

    event: str
    body: tuple[Stmt, ...] = ()
    advance: tuple[Stmt, ...] = ()
    once: tuple[Stmt, ...] = ()
    delay: str = "none"
    in_pre_order: bool = False
    # `connect: all` (each pair once, by i then j) and no per-synapse delays: the synapses
    # of a spike are its far end's neurons in order, synapse (i, j) the number
    # (i - i0) * n_j + (j - j0) of the subgroups' first neurons and the far one's size,
    # computed rather than read from the index lists (which a loop can vectorize)
    dense: bool = False
    # every spike reaches every far-end neuron (`connect: all`) and `advance` touches
    # only their traces: it runs once per step with spikes, for each far-end neuron,
    # ahead of the spikes, not for each synapse of each spike (passes/split_advances.py)
    advance_all: bool = False
    share: str = "none"  # 'none' / 'far end' (passes/share_work.py)
    # 'far end': `once` touches nothing the synapses' code does, so one thread may
    # run it while the others start on the synapses (passes/share_work.py)
    once_aside: bool = False
    wait: bool = True
    pathway: str = ""  # a named pathway's ("": the unnamed one)
    on: str = "spike"  # the `event` side's custom event that triggers it (ir.Pathway.on), or its spikes


@dataclass(frozen=True, slots=True, kw_only=True)
class Reset(Kernel):
    """Every neuron that spiked runs `body`; for a custom `event`, every
    neuron that had it runs its code."""

    body: tuple[Stmt, ...]
    event: str = "spike"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordRate(Kernel):
    """A rate monitor records this step's spike count over size and dt."""


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    source_hash: str
    dt: float
    seed: int
    params: tuple[ParamDef, ...]
    data: tuple[DataDef, ...]
    groups: tuple[Group, ...]
    monitors: tuple[Monitor, ...]
    saves: tuple[SaveDef, ...]
    phases: tuple[Phase, ...]
    locals: tuple[tuple[str, str], ...] = ()  # (name, dtype) of protocol locals
    states: tuple[str, ...] = ()  # names of `store state as NAME`
    precision: str = "double"  # or "single": float32 state variables (times stay double)
    # the time step, task by task, in Brian2's order (built by lowering, see ir/lower.py)
    schedule: tuple[Task, ...] = ()
    # the name of each random stream, by number (passes/streams.py)
    streams: tuple[str, ...] = ()
    # (group, rate a) of each table of decay factors exp(a k dt) that event-driven
    # variables advance by, filled when a run starts (passes/decide.py)
    decay_tables: tuple[tuple[str, Expr], ...] = ()
    # the loops with their code (passes/kernels.py): setup, then each step
    setup: tuple[Kernel, ...] = ()
    step: tuple[Kernel, ...] = ()
    # built for ranks (passes/distribute.py): the arrays each rank holds only
    # in its own part at the end of a step, made whole when a run ends
    ranks: bool = False
    rank_sync: tuple[tuple[str, str], ...] = ()

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)

    def monitor(self, name: str) -> Monitor:
        return next(mon for mon in self.monitors if mon.name == name)

    def dt_of(self, group: str) -> float:
        """The time step of a group's code: its own (`dt:`), else the model's."""
        g = self.group(group)
        return self.dt if g.dt is None else g.dt


# ---- generic rewriting ---------------------------------------------------------

@cache
def _children(cls: type) -> tuple[str, ...] | None:
    """The fields of an IR node class that may hold nodes (all but `span`);
    None for anything else (a source span is not a node). Cached: walks
    visit millions of nodes."""
    if not is_dataclass(cls) or cls is Span:
        return None
    return tuple(f.name for f in fields(cls) if f.name != "span")


def map_expr(fn: Callable[[Expr], Expr], node):
    """Rebuild `node` bottom-up, applying `fn` to every expression in it.

    Works on any IR node (expression, statement, group, monitor, module):
    every field that holds a node or a tuple is visited, whatever its class,
    so a node type added later is rewritten too. Children are rewritten
    first, then `fn` sees the rebuilt expression.
    """
    if isinstance(node, tuple):
        return tuple(map_expr(fn, n) for n in node)
    names = _children(type(node))
    if names is None:
        return node
    changes = {}
    for name in names:
        old = getattr(node, name)
        if isinstance(old, tuple) or _children(type(old)) is not None:
            new = map_expr(fn, old)
            if new is not old:
                changes[name] = new
    out = replace(node, **changes) if changes else node
    return fn(out) if isinstance(out, Expr) else out


def walk(node):
    """Every IR node under `node`, depth first (expressions and statements).
    An explicit stack, not nested generators: the cost per node stays flat
    however deep the tree."""
    stack = [node]
    pop, push = stack.pop, stack.extend
    while stack:
        n = pop()
        if isinstance(n, tuple):
            push(reversed(n))
            continue
        names = _children(type(n))
        if names is None:
            continue
        yield n
        push([getattr(n, name) for name in reversed(names)])
