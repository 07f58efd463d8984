"""Lowering stage: `semantics.model.Model` -> `ir.nodes.Module`.

Makes the schedule explicit: every event-driven variable gets its exact lazy
decay at the head of `on pre` / `on post` (Brian2's order: decay, the
user's statements, then `lastupdate = t`), and the groups' storage is listed
as `StateVar`s.
"""
from __future__ import annotations

from snndsl.ir import nodes as ir
from snndsl.ir.evaluate import NotConstant, evaluate
from snndsl.ir.linear import linear_in
from snndsl.semantics import model as m
from snndsl.units import format_dim

LASTUPDATE = "lastupdate"


def lower(model: m.Model) -> ir.Module:
    return ir.Module(
        name=model.name, source_hash=model.source_hash, dt=model.dt, seed=model.seed,
        params=model.params, data=model.data,
        groups=tuple(_group(g) for g in model.groups),
        monitors=model.monitors, saves=model.saves, phases=model.phases, locals=model.locals)


def _group(g: m.Group) -> ir.Group:
    state = []
    for v in g.variables:
        if v.kind == "subexpr":
            continue
        role = "event-driven" if v.event_driven else "state"
        state.append(ir.StateVar(v.name, v.dtype, v.shared, format_dim(v.dim), role, v.span))
    traces = [v for v in g.variables if v.kind == "ode" and v.event_driven]
    on_pre, on_post = g.on_pre, g.on_post
    if traces:
        state.append(ir.StateVar(LASTUPDATE, "f", False, "second", "lastupdate"))
        decay = tuple(_decay(g.name, v) for v in traces)
        stamp = (ir.Assign(ir.Var(g.name, LASTUPDATE), ir.Special("t")),)
        on_pre = decay + on_pre + stamp if on_pre else on_pre
        on_post = decay + on_post + stamp if on_post else on_post
    return ir.Group(
        name=g.name, kind=g.kind, size=g.size, vars=tuple(state), init=g.init, rate=g.rate,
        indices=g.indices, times=g.times, source=g.source, target=g.target, connect=g.connect,
        connect_cond=g.connect_cond, connect_data=g.connect_data, on_pre=on_pre, on_post=on_post,
        span=g.span)


def _decay(group: str, v: m.Variable) -> ir.Stmt:
    """x <- the exact solution of dx/dt = A x + B over (t - lastupdate)."""
    x = ir.Var(group, v.name)
    a, b = linear_in(v.expr, v.name, group)  # the checker guaranteed linearity
    delta = ir.Binary("-", ir.Special("t"), ir.Var(group, LASTUPDATE))
    growth = ir.Call("exp", (ir.Binary("*", a, delta),))
    if _is_zero(b):
        value = ir.Binary("*", x, growth)
    elif _is_zero(a):
        value = ir.Binary("+", x, ir.Binary("*", b, delta))
    else:
        fixed = ir.Binary("/", b, a)  # x* = -B/A is the fixed point
        value = ir.Binary("-", ir.Binary("*", ir.Binary("+", x, fixed), growth), fixed)
    return ir.Assign(x, value, v.span)


def _is_zero(e: ir.Expr) -> bool:
    try:
        return evaluate(e) == 0
    except NotConstant:
        return False
