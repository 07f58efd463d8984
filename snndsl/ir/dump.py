"""A readable text form of the IR (`snndsl compile --emit ir`)."""
from __future__ import annotations

from snndsl.ir import nodes as ir
from snndsl.ir import storage

_PREC = {"or": 1, "and": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
         "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6, "**": 8}


def expr(e: ir.Expr, prec: int = 0) -> str:
    if isinstance(e, ir.Const):
        return repr(e.value) if e.dtype != "b" else ("true" if e.value else "false")
    if isinstance(e, ir.Var):
        if e.at in ("pre", "post"):
            return f"{e.at}.{e.group}.{e.name}"
        if e.at == "index":  # a linked variable with an index
            return f"{e.group}.{e.name}[{expr(e.index)}]"
        return f"{e.group}.{e.name}" + ("[0]" if e.at == "first" else "")
    if isinstance(e, ir.Param):
        return f"param {e.name}"
    if isinstance(e, ir.Local):
        return e.name
    if isinstance(e, ir.Special):
        return e.name
    if isinstance(e, ir.Frozen):
        return f"frozen({e.group}.{e.name})"
    if isinstance(e, ir.Size):
        return f"N({e.group})"
    if isinstance(e, ir.DataAt):
        return f"{e.name}[{', '.join(expr(i) for i in e.indices)}]"
    if isinstance(e, ir.TimeStep):
        return f"row({expr(e.time)}; every {e.period!r} s, upsample {e.upsample})"
    if isinstance(e, ir.DataLen):
        return f"len({e.name})"
    if isinstance(e, ir.Temp):
        return e.name
    if isinstance(e, ir.Noise):
        return e.name
    if isinstance(e, ir.Rand):
        text = "rand()" if e.kind == "uniform" else "randn()"
        return text if e.stream is None else f"{text}@{e.stream}"
    if isinstance(e, ir.Reduce):
        return f"{e.kind}[{e.group}]({expr(e.expr)})"
    if isinstance(e, ir.Unary):
        text = f"not {expr(e.operand, 7)}" if e.op == "not" else f"-{expr(e.operand, 7)}"
        return f"({text})" if prec > 7 else text
    if isinstance(e, ir.Binary):
        p = _PREC[e.op]
        text = f"{expr(e.left, p)} {e.op} {expr(e.right, p + 1)}"
        return f"({text})" if prec > p else text
    if isinstance(e, ir.Call):
        return f"{e.func}({', '.join(expr(a) for a in e.args)})"
    return repr(e)


def stmts(body, indent: str) -> list[str]:
    out = []
    for s in body:
        if isinstance(s, ir.Assign):
            out.append(f"{indent}{expr(s.target)} = {expr(s.value)}")
        elif isinstance(s, ir.Advance):
            out.append(f"{indent}advance {', '.join(s.vars)} from {s.clock}")
        elif isinstance(s, ir.Let):
            out.append(f"{indent}let {s.name} = {expr(s.value)}")
        elif isinstance(s, ir.LinearStep):
            when = ("  (E, F of each element, made in each step)" if s.per_step
                    else "  (E, F of each element, when a run starts)" if s.per_element else "")
            out.append(f"{indent}exact step of ({', '.join(s.vars)}): d/dt = M x + c{when}")
            for name, row, c, frozen in zip(s.vars, s.matrix, s.const, s.unless_refractory):
                out.append(f"{indent}    d{name}/dt = " + " + ".join(f"{expr(a, 6)}*{n}" for a, n in zip(row, s.vars))
                           + f" + {expr(c, 5)}" + ("  (unless refractory)" if frozen else ""))
        elif isinstance(s, ir.If):
            out.append(f"{indent}if {expr(s.cond)}:")
            out += stmts(s.body, indent + "    ")
            if s.orelse:
                out.append(f"{indent}else:")
                out += stmts(s.orelse, indent + "    ")
        elif isinstance(s, ir.Run):
            held = f"  (frozen everywhere: {', '.join(f'{g}.{v}' for g, v in s.frozen)})" if s.frozen else ""
            out.append(f"{indent}run {expr(s.duration)}{held}")
        elif isinstance(s, ir.GroupAssign):
            sel = ""
            if s.where is not None:
                sel = f"[{expr(s.where)}]"
            elif s.lo is not None or s.hi is not None:
                sel = f"[{expr(s.lo) if s.lo is not None else ''}:{expr(s.hi) if s.hi is not None else ''}]"
            out.append(f"{indent}{expr(s.target)}{sel} = {expr(s.value)}")
        elif isinstance(s, ir.SetLocal):
            out.append(f"{indent}{'let ' if s.declare else ''}{s.name} = {expr(s.value)}")
        elif isinstance(s, ir.For):
            out.append(f"{indent}for {s.var} in {expr(s.start)} .. {expr(s.stop)}:")
            out += stmts(s.body, indent + "    ")
        elif isinstance(s, ir.While):
            out.append(f"{indent}while {expr(s.cond)}:")
            out += stmts(s.body, indent + "    ")
        elif isinstance(s, ir.Freeze):
            sel = f"[{expr(s.where)}]" if s.where is not None else ""
            out.append(f"{indent}{'freeze' if s.frozen else 'unfreeze'} {s.group}.{s.var}{sel}")
        elif isinstance(s, ir.StoreState):
            out.append(f"{indent}store state as {s.name}")
        elif isinstance(s, ir.RestoreState):
            out.append(f"{indent}restore state from {s.path!r}")
        elif isinstance(s, ir.SaveVar):
            out.append(f"{indent}save {s.save}")
        else:
            out.append(f"{indent}{s!r}")
    return out


def _group_code(g: ir.Group) -> list[str]:
    out = []
    if g.connect_cond is not None:
        out.append(f"    connect if {expr(g.connect_cond)}")
    if g.rate is not None:
        out.append(f"    rate = {expr(g.rate)}" + (f"  (sampled {g.sampling})" if g.sampling else ""))
    if g.delay is not None:
        out.append(f"    delay ({g.delay_kind}) = {expr(g.delay)}")
    if g.refractory is not None:
        out.append(f"    refractory ({g.refractory_kind}): {expr(g.refractory)}")
    if g.threshold is not None:
        out.append(f"    threshold: {expr(g.threshold)}")
    for e in g.events:
        out.append(f"    event {e.name}: {expr(e.cond)}")
        if e.body:
            out.append(f"    on {e.name}:")
            out += stmts(e.body, "        ")
    for e in g.every:
        out.append(f"    every {e.steps} steps:")
        if e.once:
            out.append("        once (the shared variables):")
            out += stmts(e.once, "            ")
        out += stmts(e.body, "        ")
    for s in g.summed:
        out.append(f"    {s.side}.{s.var} = {expr(s.expr)} (summed)")
    for p in g.inputs:
        out.append(f"    poisson input {p.name}: {p.sources} sources at {expr(p.rate)}"
                   + (f", elements [{p.lo}:{p.hi}]" if p.hi is not None else "") + ":")
        out += stmts(p.body, "        ")
    for title, body in (("init", g.init), ("update", g.update), ("reset", g.reset),
                        ("on pre spike", g.on_pre_spike), ("on pre", g.on_pre),
                        ("on post spike", g.on_post_spike), ("on post", g.on_post)):
        if body:
            out.append(f"    {title}:")
            out += stmts(body, "        ")
    for p in g.pathways:
        if p.delay is not None:
            out.append(f"    delay {p.name} ({p.delay_kind}) = {expr(p.delay)}")
        out.append(f"    on {p.event} {p.name}:" + (f"  (at the {p.on} events of the {p.event}synaptic group)"
                                                       if p.on != "spike" else ""))
        out += stmts(p.body, "        ")
    return out


def _count(c) -> str:
    text = " * ".join(f"{s.what}({s.group})" for s in c.sizes) + (f" * {c.scale}" if c.scale != 1 else "")
    return f"{text} + {c.extra}" if c.extra else text


def kernel(k: ir.Kernel) -> list[str]:
    """A kernel: its loop and target, its decisions, then its code."""
    if isinstance(k, ir.SynapseEvents):
        head = (f"synapse events {k.target}" + (f" (pathway {k.pathway})" if k.pathway else "")
                + (f": each {k.event}synaptic spike" if k.on == "spike" else f": each {k.event}synaptic {k.on} event")
                + (f", delay {k.delay}" if k.delay != "none" else "")
                + (", synapses in presynaptic order" if k.in_pre_order else "")
                + (", synapses computed (all pairs)" if k.dense else ""))
    elif isinstance(k, ir.PoissonSpikes):
        head = f"poisson spikes {k.target}: rate {expr(k.rate)}, sampled {k.sampling}, stream {k.stream}"
    elif isinstance(k, ir.Connect):
        head = f"connect {k.target}: {k.rule}" + (f" from {k.data}" if k.data else "")
        head += f", pre [{k.pre_range[0]}:{k.pre_range[1]}]" if k.pre_range else ""
        head += f", post [{k.post_range[0]}:{k.post_range[1]}]" if k.post_range else ""
        head += f", p = {expr(k.p)}, stream {k.stream}" if k.p is not None else ""
        if k.rule in ("range", "sample", "choose"):
            head += (f", j in {expr(k.lo)} .. {expr(k.hi)}" if k.lo is not None else ", j in the target")
        head += f", choose {expr(k.size)}, stream {k.stream}" if k.size is not None else ""
        head += f", j = {expr(k.j)}" if k.j is not None else ""
        head += f", times {expr(k.times)}" if k.times is not None else ""
    elif isinstance(k, ir.RunEvery):
        head = f"every {k.steps} steps {k.target}"
    elif isinstance(k, ir.SumOnto):
        head = f"sum onto {k.target}.{k.var}: " + " + ".join(
            f"sum over {syn} of {expr(e)} (by {side})" for syn, side, e in k.terms)
    elif isinstance(k, ir.AddPoissonInput):
        head = (f"poisson input {k.name} onto {k.target}[{k.lo}:{k.hi}]: {ir.POISSON_INPUT_DRAW} ~ "
                f"Binomial({k.sources}, {expr(k.rate)} * dt), stream {k.stream}")
    elif isinstance(k, ir.Delays):
        head = (f"delays {k.target}" + (f" (pathway {k.pathway})" if k.pathway else "")
                + f": {'per synapse' if k.per_synapse else 'one'} = {expr(k.delay)}")
    elif isinstance(k, (ir.Threshold, ir.Reset)) and k.event != "spike":
        head = f"{'event' if isinstance(k, ir.Threshold) else 'on'} {k.event} {k.target}"
    else:
        words = "".join(f" {c.lower()}" if c.isupper() else c for c in type(k).__name__).strip()
        head = f"{words} {k.target}"
    if k.clock > 1:
        head += f"  [on the steps that are multiples of {k.clock}]"
    if getattr(k, "share", "none") != "none":
        head += f"  [threads: {k.share}{'' if getattr(k, 'wait', True) else ', no barrier after'}]"
    if k.ranks:
        head += (f"  [ranks: {k.ranks}" + (", whole first: " + ", ".join(f"{g}.{v}" for g, v in k.gather)
                                           if k.gather else "")
                 + (", then the spikes of " + ", ".join(k.exchange) + " exchanged" if k.exchange else "") + "]")
    out = [f"    {head}"]
    if getattr(k, "refractory", None) is not None:
        kind = f" ({k.refractory_kind})" if isinstance(k, ir.Update) else ""
        out.append(f"        refractory{kind}: {expr(k.refractory)}")
    if isinstance(k, (ir.Threshold, ir.Connect)) and k.cond is not None:
        out.append(f"        if {expr(k.cond)}")
    if isinstance(k, ir.Connect):
        for part in k.parts:
            out += ["    " + line for line in kernel(part)]
    if isinstance(k, ir.SynapseEvents):
        if k.once:
            out.append("        once per spike" + (" (beside the synapses' code):" if k.once_aside else ":"))
            out += stmts(k.once, "            ")
        if k.advance and k.advance_all:
            out.append("        once per step with spikes, first, each far-end neuron (their traces to t):")
            out += stmts(k.advance, "            ")
        elif k.advance:
            out.append("        each synapse, first (the far end's traces to t):")
            out += stmts(k.advance, "            ")
        if k.body:
            out.append("        each synapse:")
            out += stmts(k.body, "            ")
    elif isinstance(k, ir.RunEvery) and k.once:
        out.append("        once (the shared variables):")
        out += stmts(k.once, "            ")
        if k.body:
            out.append("        each element:")
            out += stmts(k.body, "            ")
    elif getattr(k, "body", ()):
        out += stmts(k.body, "        ")
    return out


def dump(m: ir.Module) -> str:
    made = bool(m.setup or m.step)
    out = [f"module {m.name}  dt={m.dt!r} s  seed={m.seed}"]
    for p in m.params:
        out.append(f"param {p.name} = {expr(p.default)}  [{p.unit}]")
    for d in m.data:
        every = f"  every {d.period!r} s" if d.period is not None else ""
        source = (f"= {len(d.values)} values, shape {d.shape}" if d.values is not None and not d.path
                  else f"from {d.path!r}")
        out.append(f"data {d.name} {source}  [{d.unit}] x{d.scale!r}{every}")
    for g in m.groups:
        head = f"{g.kind} {g.name}"
        head += f"[{g.size}]" if g.size is not None else f": {g.source} -> {g.target} connect={g.connect}"
        if g.dt is not None:
            head += f"  dt={g.dt!r} s ({g.clock} steps)"
        out.append(head)
        for v in g.vars:
            flags = ", ".join(x for x in ("shared" if v.shared else "", v.role if v.role != "state" else "",
                                          f"per {v.index} neuron" if v.index != "element" else "",
                                          "read at 0 in runs where uniform" if v.uniform_check else "") if x)
            eq = f"  d{v.name}/dt = {expr(v.decay[0])} * {v.name} + {expr(v.decay[1])}" if v.decay else ""
            out.append(f"    var {v.name} : {v.unit} {v.dtype}" + (f" ({flags})" if flags else "") + eq)
        if not made:  # before passes/kernels.py: the group's code (after it, under its kernels)
            out += _group_code(g)
        else:  # the decisions are made: the storage follows (ir/storage.py)
            out.append("    storage:")
            for f in storage.fields(g, m.precision, g.sampling == "skip ahead"):
                length = "" if f.count is None else "[" + _count(f.count) + "]"
                out.append(f"        {f.state_name}: {f.ctype}{length} ({f.snapshot})")
    for mon in m.monitors:
        what = f"{mon.group}.{mon.var}[{mon.lo}:{'' if mon.hi is None else mon.hi}] every {mon.every} steps" \
            if mon.kind == "state" else f"{mon.kind if mon.event == 'spike' else mon.event + ' events'} of {mon.group}" + (
                f"[{mon.lo}:{mon.hi}] (numbered within)" if mon.hi is not None else "") + (
                f" with {', '.join(name for name, _ in mon.recorded)}" if mon.recorded else "")
        if mon.expr is not None:
            what += f" = {expr(mon.expr)}"
        during = f" during {', '.join(mon.during)}" if mon.during else ""
        out.append(f"monitor {mon.name}: {what}{during}")
    for s in m.saves:
        out.append(f"save {s.name}: {s.group}.{s.var}{' (rows)' if s.rows else ''}")
    if m.streams:
        out.append("random streams:")
        out += [f"    {k}: {name}" for k, name in enumerate(m.streams)]
    if m.decay_tables:
        out.append("decay tables (exp(a k dt), k whole steps):")
        out += [f"    {k}: {group}, a = {expr(a)}" for k, (group, a) in enumerate(m.decay_tables)]
    if m.setup:
        out.append("setup:")
        for k in m.setup:
            out += kernel(k)
    if m.step:
        out.append("each step:")
        for k in m.step:
            out += kernel(k)
    elif m.schedule:
        out.append("each step:")
        out += [f"    {task.kind} {task.target}" + (f" (pathway {task.pathway})" if task.pathway else "")
                + (f" ({task.event})" if task.event else "") for task in m.schedule]
    if m.ranks:
        out.append("ranks: each holds its own part of "
                   + (", ".join(f"{g}.{v}" for g, v in m.rank_sync) if m.rank_sync else "nothing")
                   + " at the end of a step; made whole on every rank when a run ends")
    for ph in m.phases:
        out.append(f"phase {ph.name}:")
        out += stmts(ph.body, "    ")
    return "\n".join(out) + "\n"
