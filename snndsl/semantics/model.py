"""The checked model: what `semantics.check` hands to `ir.lower`.

Every name is resolved, every expression is an IR expression with its
dimension checked and units folded to SI, compound assignments are
desugared. What remains for lowering is the schedule: event-driven decays,
monitor grids in steps, the protocol as IR statements.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from snndsl.diagnostics import Span
from snndsl.ir import nodes as ir
from snndsl.ir.integrate import Equation
from snndsl.units import Dim


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    dim: Dim
    dtype: str  # f / i / b
    kind: str  # state / ode / subexpr
    shared: bool = False
    constant: bool = False
    event_driven: bool = False
    unless_refractory: bool = False
    implicit: bool = False  # lastspike / not_refractory, made by a refractory clause
    expr: ir.Expr | None = None  # ODE right-hand side or subexpression
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Group:
    kind: str
    name: str
    size: int | None
    variables: tuple[Variable, ...]
    init: tuple[ir.Stmt, ...] = ()
    rate: ir.Expr | None = None
    indices: ir.ListOrData | None = None
    times: ir.ListOrData | None = None
    source: str | None = None
    target: str | None = None
    connect: str = "all"  # all / one_to_one / cond / data / range / target / several
    connect_cond: ir.Expr | None = None
    # range: j from connect_lo to connect_hi - 1 (None: the whole target); target: j = connect_j
    connect_lo: ir.Expr | None = None
    connect_hi: ir.Expr | None = None
    connect_j: ir.Expr | None = None
    connect_times: ir.Expr | None = None  # synapses made per pair (None: one)
    connect_choose: ir.Expr | None = None  # range: K of its j's at random (Brian2's sample(size=K))
    connect_parts: tuple[ir.ConnectPart, ...] = ()  # several: each connect, in the order of the model
    connect_data: str | None = None
    connect_span: Span | None = field(default=None, compare=False)  # the `connect:` line
    on_pre: tuple[ir.Stmt, ...] = ()
    on_post: tuple[ir.Stmt, ...] = ()
    threshold: ir.Expr | None = None
    reset: tuple[ir.Stmt, ...] = ()
    refractory: ir.Expr | None = None
    refractory_kind: str | None = None
    method: str | None = None
    method_span: Span | None = field(default=None, compare=False)
    delay: ir.Expr | None = None
    delay_kind: str = "none"
    pathways: tuple[ir.Pathway, ...] = ()  # `on pre NAME:` with `delay NAME:`, by name
    events: tuple[ir.Event, ...] = ()  # neurons: `event NAME: COND` with `on NAME:`, by name
    every: tuple[ir.Every, ...] = ()
    summed: tuple[ir.Summed, ...] = ()
    inputs: tuple[ir.PoissonInput, ...] = ()
    # synapses between subgroups: the (lo, hi) of the source's (target's) neurons they join
    source_range: tuple[int, int] | None = None
    target_range: tuple[int, int] | None = None
    # `dt: PERIOD` (Brian2's NeuronGroup(..., dt=PERIOD)): the group's own time step
    # as written, `clock` steps of the model's dt; None: the model's dt, one step
    dt: float | None = None
    clock: int = 1
    span: Span | None = field(default=None, compare=False)

    def var(self, name: str) -> Variable | None:
        return next((v for v in self.variables if v.name == name), None)

    def integration_system(self) -> list[Equation]:
        """The equations integrated every step: a neuron group's ODEs, or a
        synapse group's clock-driven ones."""
        return [Equation.of(v.name, v.expr, v.unless_refractory and self.refractory is not None)
                for v in self.variables
                if v.kind == "ode" and not v.event_driven and v.expr is not None]


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    file: str
    source_hash: str
    dt: float
    seed: int
    params: tuple[ir.ParamDef, ...]
    data: tuple[ir.DataDef, ...]
    groups: tuple[Group, ...]
    monitors: tuple[ir.Monitor, ...]
    saves: tuple[ir.SaveDef, ...]
    phases: tuple[ir.Phase, ...]
    locals: tuple[tuple[str, str], ...]
    frozen: tuple[tuple[str, str], ...] = ()  # (group, var) some phase freezes
    states: tuple[str, ...] = ()  # `store state as NAME`
    precision: str = "double"

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)
