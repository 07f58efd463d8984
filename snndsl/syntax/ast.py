"""The syntax tree of a .snn file: frozen dataclasses with source spans.

Produced by `syntax.parse.parse_source`, consumed by `semantics.check`.
Spans never take part in equality, so two parses of equivalent text compare
equal (the round-trip tests rely on it).
"""
from __future__ import annotations

from fractions import Fraction

from dataclasses import dataclass, field

from snndsl.diagnostics import Span


# The language's reserved words: its keywords, which no declaration may take as its name.
RESERVED = frozenset("""neurons poisson spikes synapses monitor phase run for in if else while let
freeze unfreeze save store restore state as and or not const param data init on pre post
connect threshold reset refractory method delay every during from of true false subgroup with
event""".split())


def _span():
    return field(default=None, compare=False, repr=False)


# ---- expressions ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Node:
    pass


@dataclass(frozen=True, slots=True)
class Expr(Node):
    pass


@dataclass(frozen=True, slots=True)
class Number(Expr):
    """A literal, with its unit suffix as written (`2 mV/ms` -> unit 'mV/ms')."""

    text: str
    unit: str | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Bool(Expr):
    value: bool
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Name(Expr):
    id: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Attr(Expr):
    """`pre.X`, `post.X` or `GROUP.X`; `GROUP.X[EXPR]` with `index` (a linked
    variable's, Brian2's linked_var(..., index=...))."""

    obj: str
    attr: str
    span: Span | None = _span()
    index: Expr | None = None


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Index(Expr):
    """`data[e1, e2]`."""

    name: str
    args: tuple[Expr, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    op: str  # + - * / % ** < <= > >= == != and or
    left: Expr
    right: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class UnaryOp(Expr):
    op: str  # - + not
    operand: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ListLit(Expr):
    items: tuple[Expr, ...]
    span: Span | None = _span()


# ---- units in declarations ------------------------------------------------

@dataclass(frozen=True, slots=True)
class Unit(Node):
    """`mV/ms` as ((mV, 1), (ms, -1)); `1` is (); `boolean`/`integer` are kinds.
    A power is an int, or a Fraction where it is not whole (`ms**-0.5` is
    (ms, Fraction(-1, 2)), `metre**(1/3)` is (metre, Fraction(1, 3)))."""

    factors: tuple[tuple[str, int | Fraction], ...]
    text: str = field(default="", compare=False)
    span: Span | None = _span()


def unit_power(p: Fraction) -> int | Fraction:
    """A unit's power as the AST holds it: an int where it is whole."""
    return int(p) if p.denominator == 1 else p


# ---- event code -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Stmt(Node):
    pass


@dataclass(frozen=True, slots=True)
class Assign(Stmt):
    """`X op= e`, `pre.X op= e` or `post.X op= e` in reset/init/on-event code."""

    target: str
    op: str  # = += -= *= /=
    value: Expr
    neighbour: str | None = None  # 'pre' / 'post'
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class If(Stmt):
    cond: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    span: Span | None = _span()


# ---- group items ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GroupItem(Node):
    pass


@dataclass(frozen=True, slots=True)
class OdeDecl(GroupItem):
    name: str
    expr: Expr
    unit: Unit
    flags: tuple[str, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class VarDecl(GroupItem):
    name: str
    unit: Unit
    flags: tuple[str, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SubexprDecl(GroupItem):
    name: str
    expr: Expr
    unit: Unit
    flags: tuple[str, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SummedDecl(GroupItem):
    """`post.X = EXPR : UNIT (summed)` in synapses: the neuron variable X set,
    each step, to the sum of EXPR over its synapses (Brian2's X_post)."""

    side: str  # pre / post
    name: str
    expr: Expr
    unit: Unit
    flags: tuple[str, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Prop(GroupItem):
    """`rate = 10 Hz`, `indices = ...`, `times = ...`."""

    name: str
    expr: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Clause(GroupItem):
    """`threshold:`, `refractory:`, `delay:`, `connect:`, `event NAME:` with an
    expression; `pathway` names the pathway of a `delay NAME:` (None for
    `delay:`), or the event of an `event NAME:`."""

    kind: str
    expr: Expr
    span: Span | None = _span()
    pathway: str | None = None
    pathway_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Method(GroupItem):
    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ConnectFrom(GroupItem):
    data: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ConnectGenerator(GroupItem):
    """Brian2's generator connect: `connect: j in LO .. HI [choose K] [if COND]
    [times N]` (`var`, `lo`, `hi`, `choose`: K of the range's j's at random,
    Brian2's sample(LO, HI, size=K)), `connect: j = EXPR [for k in LO .. HI] [if COND]
    [times N]` (`var`, `target`, `loop` with `lo` and `hi`), and `connect: EXPR times N` (`all`, `one_to_one` or a condition
    in `cond`, each pair made N times; `var` None). `var` is the name written
    before `in` or `=`, which the checker requires to be j."""

    var: str | None
    lo: Expr | None = None
    hi: Expr | None = None
    target: Expr | None = None
    cond: Expr | None = None
    times: Expr | None = None
    var_span: Span | None = _span()
    choose: Expr | None = None
    span: Span | None = _span()
    # `j = EXPR for k in LO .. HI` (Brian2's j='EXPR for k in range(LO, HI)'): k's name; lo and hi its bounds
    loop: str | None = None
    loop_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class CodeBlock(GroupItem):
    """`reset:`, `init:`, `on pre:`, `on post:`, `on EVENT:`, `on EVENT of
    pre:`; `pathway` names the pathway of an `on pre NAME:` (None for `on
    pre:`), Brian2's on_pre={NAME: ...}, or of an `on EVENT of pre:`, or the
    event of `on EVENT:` (a neuron group's custom event, Brian2's
    run_on_event(EVENT, ...))."""

    kind: str  # reset / init / pre / post / event
    body: tuple[Stmt, ...]
    span: Span | None = _span()
    pathway: str | None = None
    pathway_span: Span | None = _span()
    # `on EVENT of pre:` (`of post:`): the pathway EVENT, run at the source's
    # (target's) custom event EVENT (Brian2's on_event={EVENT: EVENT})
    of: bool = False


@dataclass(frozen=True, slots=True)
class EveryBlock(GroupItem):
    """`every PERIOD:` statements run for each element every PERIOD (Brian2's
    run_regularly)."""

    period: Expr
    body: tuple[Stmt, ...]
    span: Span | None = _span()


# ---- top level -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Decl(Node):
    pass


@dataclass(frozen=True, slots=True)
class Setting(Decl):
    name: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ConstDecl(Decl):
    name: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ParamDecl(Decl):
    name: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class DataDecl(Decl):
    """`data NAME : UNIT = "PATH"` or `= [...]` (the values in the file's
    place); with `every PERIOD`, a timed array (Brian2's TimedArray): row k
    holds the value from k * PERIOD, read as NAME(t)."""
    name: str
    unit: Unit | None
    path: str
    span: Span | None = _span()
    path_span: Span | None = _span()
    period: Expr | None = None
    values: Expr | None = None  # `= [...]` in place of "PATH" (path is then "")


@dataclass(frozen=True, slots=True)
class GroupDecl(Decl):
    kind: str  # neurons / poisson / spikes / synapses
    name: str
    size: Expr | None
    items: tuple[GroupItem, ...]
    source: str | None = None
    target: str | None = None
    span: Span | None = _span()
    name_span: Span | None = _span()
    source_span: Span | None = _span()
    target_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class PoissonInputDecl(Decl):
    """`poisson NAME[SIZE] -> GROUP.VAR:` with `rate = ...` and
    `weight = ...` (Brian2's PoissonInput): SIZE independent Poisson sources
    for each element of GROUP, each spike adding `weight` to VAR."""

    name: str
    size: Expr
    target: str
    var: str
    items: tuple[GroupItem, ...]
    span: Span | None = _span()
    name_span: Span | None = _span()
    target_span: Span | None = _span()
    var_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SubgroupDecl(Decl):
    """`subgroup NAME = GROUP[LO:HI]`: the elements LO to HI - 1 of GROUP."""

    name: str
    parent: str
    lo: Expr
    hi: Expr
    span: Span | None = _span()
    name_span: Span | None = _span()
    parent_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Where(Node):
    """`[COND]`"""

    cond: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Range(Node):
    """`[lo:hi]`, either end optional."""

    lo: Expr | None
    hi: Expr | None
    span: Span | None = _span()


Selector = Where | Range


@dataclass(frozen=True, slots=True)
class MonitorDecl(Decl):
    name: str
    kind: str  # state / spikes / rate
    group: str
    var: str | None = None
    selector: Selector | None = None
    every: Expr | None = None
    during: tuple[str, ...] = ()
    span: Span | None = _span()
    group_span: Span | None = _span()
    var_span: Span | None = _span()
    kind_span: Span | None = _span()
    during_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)
    recorded: tuple[str, ...] = ()  # spike monitors: `with v, w`, each one's value at each spike
    recorded_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)
    # spike monitors: `EVENT of G`, a neuron group's custom event (Brian2's
    # EventMonitor); "spike" for `spikes of G`
    event: str = "spike"


# ---- the protocol -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Target(Node):
    group: str
    var: str
    selector: Selector | None = None
    span: Span | None = _span()
    group_span: Span | None = _span()
    var_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Run(Stmt):
    duration: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class GroupAssign(Stmt):
    target: Target
    op: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Let(Stmt):
    name: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class LocalAssign(Stmt):
    name: str
    op: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Freeze(Stmt):
    target: Target
    frozen: bool  # False for `unfreeze`
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Save(Stmt):
    group: str
    var: str
    name: str
    span: Span | None = _span()
    group_span: Span | None = _span()
    var_span: Span | None = _span()
    name_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class StoreState(Stmt):
    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class RestoreState(Stmt):
    path: str
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
class PhaseDecl(Decl):
    name: str
    body: tuple[Stmt, ...]
    span: Span | None = _span()
    name_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Module(Node):
    file: str
    decls: tuple[Decl, ...]
