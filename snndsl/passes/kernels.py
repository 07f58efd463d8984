"""The program as loops: `Module.setup` and `Module.step`.

The schedule (ir/lower.py) says which task runs on which group or monitor,
in Brian2's order. Once the optimizer and the other decisions are done,
each task with work left becomes a kernel (ir/nodes.py: one class per kind
of loop) holding all its code and every decision a backend needs to render
it: the refractoriness, the delay, how a Poisson group samples, the random
stream. Setup is kernels too: the `init` of each neuron-like group, then for
each synapse group its connection, its `init` and its delays, in the order
of the model file. A backend renders kernels; it does not look into the
groups for their code.

A task a pass left with nothing to do (remove_dead_state) makes no kernel.
"""
from __future__ import annotations

import dataclasses

from snndsl.ir import nodes as ir
from snndsl.ir.connectivity import row_free, sparse_condition

RECORDS = {"record state": ir.RecordState, "record spikes": ir.RecordSpikes, "record events": ir.RecordSpikes,
           "record rate": ir.RecordRate}


def connect(g: ir.Group) -> ir.Connect:
    k = _connect(g)
    parts = tuple(dataclasses.replace(p, pre_range=g.source_range, post_range=g.target_range) for p in k.parts)
    return dataclasses.replace(k, parts=parts, pre_range=g.source_range, post_range=g.target_range)


def _connect(g: ir.Group) -> ir.Connect:
    if g.connect == "several":  # each part as if it were the group's only connect
        parts = tuple(_connect(dataclasses.replace(
            g, connect=p.kind, connect_cond=p.cond, connect_lo=p.lo, connect_hi=p.hi, connect_j=p.j,
            connect_times=p.times, connect_choose=p.choose, connect_data=p.data, connect_parts=()))
            for p in g.connect_parts)
        return ir.Connect(target=g.name, rule="several", parts=parts, span=g.span)
    if g.connect == "data":
        return ir.Connect(target=g.name, rule="pairs", data=g.connect_data, span=g.span)
    if g.connect == "range" and g.connect_choose is not None:
        return ir.Connect(target=g.name, rule="choose", lo=g.connect_lo, hi=g.connect_hi, size=g.connect_choose,
                          cond=g.connect_cond, times=g.connect_times, stream=g.connect_stream, span=g.span)
    if g.connect in ("range", "target"):
        rule, cond, p, stream = g.connect, g.connect_cond, None, None
        sparse = sparse_condition(cond, row_free) if g.connect == "range" else None
        if sparse is not None:
            rule, (p, cond) = "sample", sparse
            stream = next(n.stream for n in ir.walk(g.connect_cond) if isinstance(n, ir.Rand))
        return ir.Connect(target=g.name, rule=rule, lo=g.connect_lo, hi=g.connect_hi, j=g.connect_j, cond=cond,
                          times=g.connect_times, p=p, stream=stream, span=g.span)
    if g.connect in ("all", "one_to_one"):
        return ir.Connect(target=g.name, rule=g.connect.replace("_", " "), span=g.span)
    sparse = sparse_condition(g.connect_cond)
    if sparse is None:
        return ir.Connect(target=g.name, rule="each pair", cond=g.connect_cond, span=g.span)
    stream = next(n.stream for n in ir.walk(g.connect_cond) if isinstance(n, ir.Rand))
    return ir.Connect(target=g.name, rule="bernoulli", p=sparse[0], cond=sparse[1], stream=stream, span=g.span)


def setup(groups: tuple[ir.Group, ...]) -> tuple[ir.Kernel, ...]:
    out: list[ir.Kernel] = [ir.Init(target=g.name, body=g.init, span=g.span)
                            for g in groups if g.kind != "synapses" and g.init]
    for g in groups:
        if g.kind != "synapses":
            continue
        out.append(connect(g))
        if g.init:
            out.append(ir.Init(target=g.name, body=g.init, span=g.span))
        if g.delay_kind != "none":
            out.append(ir.Delays(target=g.name, delay=g.delay, per_synapse=g.delay_kind == "heterogeneous",
                                 span=g.span))
        out += [ir.Delays(target=g.name, delay=p.delay, per_synapse=p.delay_kind == "heterogeneous",
                          pathway=p.name, span=p.delay_span or p.span) for p in g.pathways if p.delay_kind != "none"]
    return tuple(out)


def sums_onto(g: ir.Group, groups) -> tuple[ir.SumOnto, ...]:
    """One kernel per variable of `g` that synapses sum onto, in the order
    of the model, with the terms of every synapse group that does."""
    out: dict[str, list] = {}
    for syn in groups:
        for s in syn.summed:
            if s.group == g.name:
                out.setdefault(s.var, []).append((syn.name, s.side, s.expr))
    return tuple(ir.SumOnto(target=g.name, var=var, terms=tuple(terms), span=g.span) for var, terms in out.items())


def kernels(task: ir.Task, g: ir.Group, groups=()) -> tuple[ir.Kernel, ...]:
    """The kernels of a group's task: one per `every` block, summed
    variable or Poisson input, else one, or none when it has nothing to do."""
    if task.kind == "every":
        return tuple(ir.RunEvery(target=g.name, steps=e.steps, body=e.body, once=e.once, span=e.span) for e in g.every)
    if task.kind == "sum":
        return sums_onto(g, groups)
    if task.kind == "poisson input":
        return tuple(ir.AddPoissonInput(target=g.name, name=p.name, sources=p.sources, rate=p.rate, body=p.body,
                                        lo=p.lo, hi=g.size if p.hi is None else p.hi, stream=p.stream, span=p.span)
                     for p in g.inputs)
    k = kernel(task, g)
    return () if k is None else (k,)


def kernel(task: ir.Task, g: ir.Group) -> ir.Kernel | None:
    """The kernel of a group's task; None when it has nothing to do."""
    if task.kind == "update":
        if not g.update and g.refractory is None:
            return None
        return ir.Update(target=g.name, body=g.update, refractory=g.refractory,
                         refractory_kind=g.refractory_kind, span=g.span)
    if task.kind == "threshold":
        if g.kind == "poisson":
            return ir.PoissonSpikes(target=g.name, rate=g.rate, sampling=g.sampling, stream=g.stream, span=g.span)
        if g.kind == "spikes":
            return ir.GeneratorSpikes(target=g.name, span=g.span)
        return ir.Threshold(target=g.name, cond=g.threshold, refractory=g.refractory, span=g.span)
    if task.kind == "event":
        e = next(e for e in g.events if e.name == task.event)
        return ir.Threshold(target=g.name, cond=e.cond, event=e.name, span=e.span)
    if task.kind == "on event":
        e = next(e for e in g.events if e.name == task.event)
        return ir.Reset(target=g.name, body=e.body, event=e.name, span=e.span) if e.body else None
    if task.kind in ("on pre", "on post") and task.pathway:
        p = g.pathway(task.pathway)
        if not p.body:
            return None
        return ir.SynapseEvents(target=g.name, event=p.event, body=p.body, delay=p.delay_kind,
                                in_pre_order=p.event == "pre" and g.in_pre_order,
                                dense=g.all_pairs and p.delay_kind != "heterogeneous", pathway=p.name, span=p.span,
                                on=p.on)
    if task.kind in ("on pre", "on post"):
        event = task.kind[3:]
        body, once = (g.on_pre, g.on_pre_spike) if event == "pre" else (g.on_post, g.on_post_spike)
        if not (body or once):
            return None
        delay = g.delay_kind if event == "pre" else "none"
        return ir.SynapseEvents(target=g.name, event=event, body=body, once=once, delay=delay,
                                in_pre_order=event == "pre" and g.in_pre_order,
                                dense=g.all_pairs and delay != "heterogeneous", span=g.span)
    if task.kind == "reset":
        return ir.Reset(target=g.name, body=g.reset, span=g.span) if g.reset else None
    raise AssertionError(task.kind)


def clock(k: ir.Kernel, groups: dict[str, ir.Group], monitors: dict[str, ir.Monitor]) -> int:
    """The steps a kernel runs on, multiples of its clock: as Brian2's
    objects, each on the clock of its group (`dt:`); a pathway on that of the
    group whose spikes (events) it carries, a summed variable on its target's,
    spike and rate monitors on their group's. `every` blocks have their own
    period, and a state monitor its `every` (by default its group's clock)."""
    if isinstance(k, (ir.RunEvery, ir.RecordState)):
        return 1
    if isinstance(k, (ir.RecordSpikes, ir.RecordRate)):
        return groups[monitors[k.target].group].clock
    g = groups[k.target]
    if isinstance(k, ir.SynapseEvents):
        return groups[g.source if k.event == "pre" else g.target].clock
    return g.clock


def make_kernels(m: ir.Module) -> ir.Module:
    groups = {g.name: g for g in m.groups}
    monitors = {mon.name: mon for mon in m.monitors}
    step = []
    for task in m.schedule:
        if task.kind in RECORDS:
            step.append(RECORDS[task.kind](target=task.target))
        else:
            step += kernels(task, groups[task.target], m.groups)
    step = [dataclasses.replace(k, clock=c) if (c := clock(k, groups, monitors)) > 1 else k for k in step]
    return dataclasses.replace(m, setup=setup(m.groups), step=tuple(step))
