"""Lowering stage: `semantics.model.Model` -> `ir.nodes.Module`.

Makes the schedule explicit: the event-driven variables are advanced to the
current time at the head of `on pre` / `on post` and of each named
pathway's code (Brian2's order: decay,
the user's statements, then `lastupdate = t`), and the groups' storage is
listed as `StateVar`s, event-driven ones with their linear equation.
"""
from __future__ import annotations

import dataclasses

from snndsl.ir import integrate
from snndsl.ir import nodes as ir
from snndsl.ir.linear import linear_in
from snndsl.semantics import model as m
from snndsl.units import format_dim

LASTUPDATE = "lastupdate"


def lower(model: m.Model) -> ir.Module:
    groups = tuple(_group(g, model.dt, {v for grp, v in model.frozen if grp == g.name}) for g in model.groups)
    return ir.Module(
        name=model.name, source_hash=model.source_hash, dt=model.dt, seed=model.seed,
        params=model.params, data=model.data, groups=groups,
        monitors=model.monitors, saves=model.saves, phases=model.phases, locals=model.locals,
        states=model.states, precision=model.precision, schedule=schedule(groups, model.monitors))


def schedule(groups: tuple[ir.Group, ...], monitors: tuple[ir.Monitor, ...]) -> tuple[ir.Task, ...]:
    """One time step in Brian2's order (its scheduling slots start, groups,
    thresholds, synapses, resets, end): `every` blocks run (Brian2's
    run_regularly, in the start slot, before the monitors that its default
    names sort after); state monitors record the values at the start of the
    step; the variables synapses sum onto are summed (Brian2's summed
    variable updaters: in the groups slot, before every state update);
    groups integrate (refractoriness first); thresholds emit spikes, which
    spike monitors record; custom events are found (Brian2's after_thresholds
    slot), which their monitors record; Poisson inputs add to their variables (Brian2's
    PoissonInput, whose default name sorts before the synapses'); spikes travel
    through the synapses, presynaptic then postsynaptic; the neurons that spiked reset; the custom events' code runs (Brian2's
    after_resets slot); rate monitors record. Within a slot, groups and monitors keep the order of
    the model file. Only tasks with work to do are listed; a pass may still
    leave one with nothing left (remove_dead_state), which a backend skips."""
    def doing(task, has_work):
        return [ir.Task(task, g.name) for g in groups if has_work(g)]

    def watching(kind, task):
        return [ir.Task(task, mon.name) for mon in monitors if mon.kind == kind]

    summed_onto = {s.group for g in groups for s in g.summed}

    return tuple(doing("every", lambda g: g.every)
                 + watching("state", "record state")
                 + doing("sum", lambda g: g.name in summed_onto)
                 + doing("update", lambda g: g.update or g.refractory is not None)
                 + doing("threshold", lambda g: g.kind in ("poisson", "spikes", "neurons"))
                 + [ir.Task("record spikes", mon.name) for mon in monitors if mon.kind == "spikes" and mon.event == "spike"]
                 + [ir.Task("event", g.name, event=e.name) for g in groups for e in g.events]
                 + [ir.Task("record events", mon.name) for mon in monitors if mon.kind == "spikes" and mon.event != "spike"]
                 + doing("poisson input", lambda g: g.inputs)
                 + [task for g in groups if g.kind == "synapses" for task in _pathway_tasks(g, "pre")]
                 + [task for g in groups if g.kind == "synapses" for task in _pathway_tasks(g, "post")]
                 + doing("reset", lambda g: g.kind == "neurons" and g.reset)
                 + [ir.Task("on event", g.name, event=e.name) for g in groups for e in g.events if e.body]
                 + watching("rate", "record rate"))


def _pathway_tasks(g: ir.Group, event: str) -> list[ir.Task]:
    """A synapse group's 'on pre' ('on post') tasks, one per pathway with
    code, in the order of their names, the unnamed one's being 'pre'
    ('post') (Brian2 sorts its SynapticPathway objects, named `S_NAME`, by
    name within their order, -1 for pre and 1 for post)."""
    named = {p.name: ir.Task(f"on {event}", g.name, p.name) for p in g.pathways if p.body and p.event == event}
    if g.on_pre if event == "pre" else g.on_post:
        named[event] = ir.Task(f"on {event}", g.name)
    return [named[name] for name in sorted(named)]


def _group(g: m.Group, dt: float, frozen: set[str]) -> ir.Group:
    state = []
    for v in g.variables:
        if v.kind == "subexpr":
            continue
        decay = None
        if v.event_driven:
            decay = linear_in(v.expr, v.name, g.name)  # the checker guaranteed linearity
        role = "event-driven" if v.event_driven else "state"
        held = v.unless_refractory and g.refractory is not None
        state.append(ir.StateVar(v.name, v.dtype, v.shared, format_dim(v.dim), role, decay,
                                 unless_refractory=held, freezable=v.name in frozen, span=v.span))
    traces = tuple(v.name for v in g.variables if v.kind == "ode" and v.event_driven)
    on_pre, on_post, pathways = g.on_pre, g.on_post, g.pathways
    if traces:
        state.append(ir.StateVar(LASTUPDATE, "f", False, "second", "lastupdate"))
        advance = (ir.Advance(g.name, traces, LASTUPDATE),)
        stamp = (ir.Assign(ir.Var(g.name, LASTUPDATE), ir.Special("t")),)
        on_pre = advance + on_pre + stamp if on_pre else on_pre
        on_post = advance + on_post + stamp if on_post else on_post
        pathways = tuple(dataclasses.replace(p, body=advance + p.body + stamp) if p.body else p for p in pathways)
    rate = g.rate
    if g.kind == "poisson" and rate is None:
        rate = ir.Var(g.name, "rate")  # `rate : Hz`, set by init and phases
    init = g.init
    if g.refractory is not None:
        # as Brian2: never spiked (long ago), free to integrate and spike
        init = (ir.Assign(ir.Var(g.name, "lastspike"), ir.Const(-1e4)),
                ir.Assign(ir.Var(g.name, "not_refractory", dtype="b"), ir.Const(True, "b"))) + init
    eqs = g.integration_system()
    update = ()
    dt = dt if g.dt is None else g.dt  # the group's own time step
    if eqs:
        update = integrate.step(eqs, g.name, g.method or integrate.default_method(eqs, g.name, dt), dt, frozenset(frozen))
    return ir.Group(
        name=g.name, kind=g.kind, size=g.size, vars=tuple(state), init=init, rate=rate,
        indices=g.indices, times=g.times, source=g.source, target=g.target, connect=g.connect,
        connect_cond=g.connect_cond, connect_data=g.connect_data,
        connect_lo=g.connect_lo, connect_hi=g.connect_hi, connect_j=g.connect_j, connect_times=g.connect_times,
        connect_choose=g.connect_choose,
        connect_parts=g.connect_parts, on_pre=on_pre, on_post=on_post,
        update=update, threshold=g.threshold, reset=g.reset, refractory=g.refractory,
        refractory_kind=g.refractory_kind, delay=g.delay, delay_kind=g.delay_kind,
        pathways=pathways, every=g.every, events=g.events,
        summed=g.summed, inputs=g.inputs, source_range=g.source_range, target_range=g.target_range,
        dt=g.dt, clock=g.clock, span=g.span)
