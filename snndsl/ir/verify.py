"""IR invariants, checked between passes. A failure is a compiler bug.

Every variable read or written exists in its group, with the dtype it
declares; locals are declared; phase statements are protocol statements and
event code contains only event statements.
"""
from __future__ import annotations

from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir


def verify(m: ir.Module) -> None:
    groups = {g.name: g for g in m.groups}
    locals_ = dict(m.locals)
    params = {p.name for p in m.params}
    data = {d.name: d for d in m.data}
    for node in ir.walk((m.groups, m.phases, m.params)):
        if isinstance(node, ir.Var):
            g = groups.get(node.group)
            v = g.var(node.name) if g else None
            if v is None:
                raise InternalError(f"IR verification failed: unknown variable {node.group}.{node.name}")
            if v.dtype != node.dtype:
                raise InternalError(f"IR verification failed: {node.group}.{node.name} is {v.dtype}, "
                                    f"read as {node.dtype}")
            if (node.at == "shared") != v.shared:
                raise InternalError(f"IR verification failed: {node.group}.{node.name} sharedness")
        elif isinstance(node, ir.Frozen):
            g = groups.get(node.group)
            v = g.var(node.name) if g else None
            if v is None or not v.freezable:
                raise InternalError(f"IR verification failed: {node.group}.{node.name} has no freeze flag")
        elif isinstance(node, ir.Local) and node.name not in locals_:
            raise InternalError(f"IR verification failed: undeclared local {node.name}")
        elif isinstance(node, ir.Param) and node.name not in params:
            raise InternalError(f"IR verification failed: unknown parameter {node.name}")
        elif isinstance(node, (ir.DataAt, ir.DataLen)) and node.name not in data:
            raise InternalError(f"IR verification failed: unknown data {node.name}")
        elif isinstance(node, ir.TimeStep) and (node.data not in data or data[node.data].period != node.period):
            raise InternalError(f"IR verification failed: a time step of {node.data}, not a timed array "
                                f"of period {node.period}")
    for g in m.groups:
        for body in (g.init, g.on_pre, g.on_post, g.on_pre_spike, g.on_post_spike, g.update, g.reset,
                     *(p.body for p in g.pathways), *(e.body for e in g.events)):
            for s in ir.walk(body):
                if isinstance(s, ir.Stmt) and not isinstance(s, (ir.Assign, ir.If, ir.Advance, ir.Let,
                                                                 ir.LinearStep)):
                    raise InternalError(f"IR verification failed: {type(s).__name__} in event code")
                if isinstance(s, ir.Advance):
                    clock = g.var(s.clock)
                    for name in s.vars:
                        v = g.var(name)
                        if v is None or v.decay is None or clock is None or v.index != clock.index:
                            raise InternalError(f"IR verification failed: cannot advance {g.name}.{name} "
                                                f"with clock {s.clock}")
        for body, index in ((g.on_pre_spike, "pre"), (g.on_post_spike, "post")):
            for n in ir.walk(body):
                if isinstance(n, ir.Var) and n.group == g.name and n.at == "self" and g.var(n.name).index != index:
                    raise InternalError(f"IR verification failed: {g.name}.{n.name} read per {index} spike")
    checked = [(g, v) for g in m.groups for v in g.vars if v.uniform_check]
    if checked:
        from snndsl.passes.decide import written_in_steps  # the rule passes/uniform_reads.py applies
        written = written_in_steps(m)
        for g, v in checked:
            if g.kind != "synapses" or v.shared or v.index != "element" or (g.name, v.name) in written:
                raise InternalError(f"IR verification failed: {g.name}.{v.name} is read at 0 where uniform, "
                                    "but it is not a synapse variable that only changes between runs")
    for g in m.groups:
        if g.sampling is not None and (g.kind != "poisson" or g.sampling not in ("per step", "skip ahead")):
            raise InternalError(f"IR verification failed: {g.kind} {g.name} samples '{g.sampling}'")
    for s in ir.walk(m.phases):
        if isinstance(s, ir.Run):
            for group, name in s.frozen:
                v = groups[group].var(name) if group in groups else None
                if v is None or not v.freezable:
                    raise InternalError(f"IR verification failed: a run holds {group}.{name}, which has no freeze flag")
    monitors = {mon.name: mon for mon in m.monitors}
    order = list(ir.TASKS)
    for k, task in enumerate(m.schedule):
        if task.kind not in ir.TASKS:
            raise InternalError(f"IR verification failed: no task kind {task.kind!r}")
        if k and order.index(task.kind) < order.index(m.schedule[k - 1].kind):
            raise InternalError(f"IR verification failed: the task {task.kind} {task.target} comes after "
                                f"{m.schedule[k - 1].kind}, against Brian2's order")
        if task.kind.startswith("record"):
            mon = monitors.get(task.target)
            kind = {"record events": "spikes"}.get(task.kind, task.kind.split()[1])
            if mon is None or mon.kind != kind or (task.kind == "record events") != (mon.event != "spike"):
                raise InternalError(f"IR verification failed: {task.kind} of {task.target}, not such a monitor")
        else:
            g = groups.get(task.target)
            kinds = {"on pre": ("synapses",), "on post": ("synapses",), "reset": ("neurons",),
                     "poisson input": ("neurons",), "event": ("neurons",), "on event": ("neurons",),
                     "threshold": ("neurons", "poisson", "spikes")}.get(task.kind)
            if g is None or (kinds is not None and g.kind not in kinds):
                raise InternalError(f"IR verification failed: the task {task.kind} of {task.target}")
            if (task.kind in ("event", "on event")) != bool(task.event) or (
                    task.event and task.event not in {e.name for e in g.events}):
                raise InternalError(f"IR verification failed: the task {task.kind} {task.event} of {task.target}")
            if task.pathway and task.pathway not in {p.name for p in g.pathways if f"on {p.event}" == task.kind}:
                raise InternalError(f"IR verification failed: the task {task.kind} {task.pathway} of {task.target}, "
                                    "not a named pathway")
    if m.streams:  # numbered (passes/streams.py): every draw names a stream, and each stream is drawn from
        used = {n.stream for n in ir.walk((m.groups, m.saves, m.phases, m.params)) if isinstance(n, ir.Rand)}
        used |= {g.stream for g in m.groups if g.kind == "poisson"}
        used |= {p.stream for g in m.groups for p in g.inputs}
        used |= {g.connect_stream for g in m.groups if g.connect_stream is not None}
        if any(g.connect_stream is None for g in m.groups
               if g.connect_choose is not None or any(p.choose is not None for p in g.connect_parts)):
            raise InternalError("IR verification failed: a connect that chooses has no random stream")
        if None in used or used != set(range(len(m.streams))):
            raise InternalError(f"IR verification failed: random streams {sorted(used, key=str)} "
                                f"for {len(m.streams)} named streams")
    if m.step or m.setup:
        _verify_kernels(m, groups)
    saves = {s.name for s in m.saves}
    for s in ir.walk(m.phases):
        if isinstance(s, ir.SaveVar) and s.save not in saves:
            raise InternalError(f"IR verification failed: unknown save {s.save}")


_TASK = {ir.RunEvery: "every", ir.SumOnto: "sum", ir.RecordState: "record state", ir.Update: "update", ir.Threshold: "threshold",
         ir.PoissonSpikes: "threshold", ir.GeneratorSpikes: "threshold", ir.RecordSpikes: "record spikes",
         ir.Reset: "reset", ir.RecordRate: "record rate", ir.AddPoissonInput: "poisson input"}


def _verify_ranks(m: ir.Module) -> None:
    """A build for ranks holds the marks passes/distribute.py gives its kernels
    now (a pass after it changes what they touch: it must decide again); any
    other build holds none."""
    from snndsl.passes.distribute import MODES, distribute
    if not m.ranks:
        if m.rank_sync or any(k.ranks or k.gather or k.exchange for k in m.step):
            raise InternalError("IR verification failed: a build without ranks splits kernels among ranks")
        return
    again = distribute(m)
    for k, d in zip(m.step, again.step):
        if k.ranks not in MODES or (k.ranks, k.gather) != (d.ranks, d.gather):
            raise InternalError(f"IR verification failed: ranks run the kernel {type(k).__name__} of {k.target} "
                                f"as {k.ranks!r} after gathering {k.gather}, not as {d.ranks!r} after {d.gather}")
        if k.exchange != d.exchange:
            raise InternalError(f"IR verification failed: after the kernel {type(k).__name__} of {k.target} "
                                f"ranks exchange the spikes of {k.exchange}, not of {d.exchange}")
    if m.rank_sync != again.rank_sync:
        raise InternalError(f"IR verification failed: a run's end makes {m.rank_sync} whole, not {again.rank_sync}")


def _code(k: ir.Kernel, g: ir.Group) -> tuple:
    """(what the kernel holds, what its group holds now) of a kernel's code."""
    if isinstance(k, ir.Update):
        return (k.body, k.refractory, k.refractory_kind), (g.update, g.refractory, g.refractory_kind)
    if isinstance(k, (ir.Threshold, ir.Reset)) and k.event != "spike":
        e = next((e for e in g.events if e.name == k.event), None)
        if e is None:
            return k.event, None
        return (k.cond, k.refractory) if isinstance(k, ir.Threshold) else k.body, \
            (e.cond, None) if isinstance(k, ir.Threshold) else e.body
    if isinstance(k, ir.Threshold):
        return (k.cond, k.refractory), (g.threshold, g.refractory)
    if isinstance(k, ir.PoissonSpikes):
        return (k.rate, k.sampling, k.stream), (g.rate, g.sampling, g.stream)
    if isinstance(k, ir.SynapseEvents) and k.pathway:
        p = g.pathway(k.pathway)
        return (k.advance + k.body, k.once, k.delay), (p.body, (), p.delay_kind)
    if isinstance(k, ir.Delays) and k.pathway:
        p = g.pathway(k.pathway)
        return (k.delay, k.per_synapse), (p.delay, p.delay_kind == "heterogeneous")
    if isinstance(k, ir.SynapseEvents):
        return (k.advance + k.body, k.once), ((g.on_pre, g.on_pre_spike) if k.event == "pre"
                                              else (g.on_post, g.on_post_spike))
    if isinstance(k, (ir.Reset, ir.Init)):
        return k.body, (g.reset if isinstance(k, ir.Reset) else g.init)
    if isinstance(k, ir.Delays):
        return (k.delay, k.per_synapse), (g.delay, g.delay_kind == "heterogeneous")
    return (), ()


def _only_advances(k: ir.SynapseEvents) -> bool:
    """A pathway's `advance` holds only advances of its traces and `CLOCK = t` of their clocks."""
    clocks = {s.clock for s in k.advance if isinstance(s, ir.Advance) and s.group == k.target}
    return all(isinstance(s, ir.Advance) and s.group == k.target
               or isinstance(s, ir.Assign) and s.target.group == k.target and s.target.name in clocks
               and isinstance(s.value, ir.Special) and s.value.name == "t" for s in k.advance)


def _verify_kernels(m: ir.Module, groups: dict) -> None:
    """The step's kernels are the schedule's tasks, in order, and every
    kernel holds the code its group holds now (a pass after passes/kernels.py
    must rewrite both)."""
    for g in groups.values():
        for v in g.vars:
            a = v.decay[0] if v.decay is not None else None
            if a is not None and not ir.is_zero(a) and (g.name, a) not in m.decay_tables:
                raise InternalError(f"IR verification failed: no decay table for {g.name}.{v.name}")
    tasks = iter(m.schedule)
    task = None
    for k in m.step:
        kind = f"on {k.event}" if isinstance(k, ir.SynapseEvents) else _TASK.get(type(k))
        event = ""
        if isinstance(k, (ir.Threshold, ir.Reset)) and k.event != "spike":
            kind, event = {ir.Threshold: "event", ir.Reset: "on event"}[type(k)], k.event
        if isinstance(k, ir.RecordSpikes) and m.monitor(k.target).event != "spike":
            kind = "record events"
        if kind in ("every", "sum", "poisson input") and task == (kind, k.target):
            continue  # a group's second `every` block, summed variable or input: the same task
        pathway = getattr(k, "pathway", "")
        found = next((t for t in tasks if t.kind == kind and t.target == k.target and t.pathway == pathway
                      and t.event == event), None)
        task = (found.kind, found.target) if found else None
        if found is None:
            raise InternalError(f"IR verification failed: the kernel {type(k).__name__} of {k.target} is not in "
                                "the schedule, or out of its order")
    for g in groups.values():
        held = [(k.steps, k.once, k.body) for k in m.step if isinstance(k, ir.RunEvery) and k.target == g.name]
        if held != [(e.steps, e.once, e.body) for e in g.every]:
            raise InternalError(f"IR verification failed: the every kernels of {g.name} are not its blocks")
        sums = {(k.var, term) for k in m.step if isinstance(k, ir.SumOnto) and k.target == g.name for term in k.terms}
        if sums != {(s.var, (syn.name, s.side, s.expr)) for syn in groups.values() for s in syn.summed
                    if s.group == g.name}:
            raise InternalError(f"IR verification failed: the sums onto {g.name} are not its synapses'")
        inputs = [(k.name, k.sources, k.rate, k.body, k.lo, k.hi, k.stream) for k in m.step
                  if isinstance(k, ir.AddPoissonInput) and k.target == g.name]
        if inputs != [(p.name, p.sources, p.rate, p.body, p.lo, g.size if p.hi is None else p.hi, p.stream)
                      for p in g.inputs]:
            raise InternalError(f"IR verification failed: the poisson inputs of {g.name} are not its inputs")
    from snndsl.passes.kernels import clock  # the rule the decision applies
    monitors = {mon.name: mon for mon in m.monitors}
    for g in groups.values():
        if g.clock < 1 or (g.dt is None and g.clock != 1):
            raise InternalError(f"IR verification failed: {g.name} has dt {g.dt} on a clock of {g.clock} steps")
    for k in m.step:
        if k.clock != clock(k, groups, monitors):
            raise InternalError(f"IR verification failed: the kernel {type(k).__name__} of {k.target} runs every "
                                f"{k.clock} steps, not on the clock of its group ({clock(k, groups, monitors)})")
    _verify_ranks(m)
    from snndsl.passes.share_work import once_aside, share, waits  # the rules the decision applies
    for k, wait in zip(m.step, waits(m.step, groups)):
        if not getattr(k, "wait", True) and wait:
            raise InternalError(f"IR verification failed: threads do not wait after the kernel {type(k).__name__} "
                                f"of {k.target}, though what follows touches what it writes")
    for k in m.setup + m.step:
        g = groups.get(k.target)
        if g is None:
            if not isinstance(k, (ir.RecordState, ir.RecordSpikes, ir.RecordRate)):
                raise InternalError(f"IR verification failed: the kernel {type(k).__name__} of {k.target}")
            continue
        if isinstance(k, ir.SynapseEvents) and k.advance and (k.delay == "heterogeneous" or not _only_advances(k)):
            raise InternalError(f"IR verification failed: the on {k.event} kernel of {k.target} advances "
                                "more than traces, or with per-synapse delays")
        if isinstance(k, ir.SynapseEvents) and k.dense and (not g.all_pairs or k.delay == "heterogeneous"):
            raise InternalError(f"IR verification failed: the on {k.event} kernel of {k.target} computes its "
                                "synapses, but they are not all pairs")
        if isinstance(k, ir.SynapseEvents) and k.event == "post" and g.all_pairs and not k.dense:
            raise InternalError(f"IR verification failed: the on post kernel of {k.target} would read lists by "
                                "postsynaptic neuron, which all-pairs synapses do not keep")
        if isinstance(k, ir.SynapseEvents) and k.advance_all and not k.dense:
            raise InternalError(f"IR verification failed: the on {k.event} kernel of {k.target} advances its "
                                "far end once per step but does not compute its synapses")
        if isinstance(k, ir.SynapseEvents) and k.advance_all:
            from snndsl.passes.split_advances import reaches_all  # the rule the decision applies
            if not (k.advance and reaches_all(k, g)):
                raise InternalError(f"IR verification failed: the on {k.event} kernel of {k.target} advances its "
                                    "far end once per step, but its spikes do not all reach all of it")
        if getattr(k, "share", "none") not in ("none", share(k, groups) or "none"):
            raise InternalError(f"IR verification failed: threads share the kernel {type(k).__name__} of "
                                f"{k.target} as {k.share!r}, which would change its results")
        if isinstance(k, ir.SynapseEvents) and k.in_pre_order and not g.in_pre_order:
            raise InternalError(f"IR verification failed: the on {k.event} kernel of {k.target} takes its "
                                "synapses as numbered in presynaptic order, which they are not")
        if isinstance(k, ir.SynapseEvents) and k.once_aside and not once_aside(k):
            raise InternalError(f"IR verification failed: the on {k.event} kernel of {k.target} runs its code "
                                "once per spike beside code that touches the same values")
        held, now = _code(k, g)
        if held != now:
            raise InternalError(f"IR verification failed: the kernel {type(k).__name__} of {k.target} "
                                "holds other code than its group")
