"""Pass: drop stored variables nothing reads, and every write to them.

A variable is live when an expression reads it, an `advance` uses it (as a
trace or as its clock), or a monitor or save records it. What is left after
trace hoisting -- a per-synapse `lastupdate` no trace uses any more -- goes,
and so does a user variable that is written but never read or recorded.
Repeated until nothing changes: removing a write can kill what it read.
"""
from __future__ import annotations

from dataclasses import fields, is_dataclass, replace

from snndsl.ir import nodes as ir


def _reads(node, out: set[tuple[str, str]]) -> None:
    """Every variable `node` reads; an assignment's target is not a read."""
    if isinstance(node, tuple):
        for n in node:
            _reads(n, out)
        return
    if isinstance(node, ir.Var):
        out.add((node.group, node.name))
        _reads(node.index, out)  # a linked variable's index reads variables too (`H.y[sel * 3 + i]`)
        return
    if isinstance(node, ir.LinearStep):
        out.update((node.group, v) for v in node.vars)
        _reads((node.matrix, node.const), out)
        return
    if isinstance(node, ir.Advance):
        out.update((node.group, v) for v in node.vars)
        out.add((node.group, node.clock))
        return
    if isinstance(node, (ir.Assign, ir.GroupAssign)):
        parts = (node.value,) if isinstance(node, ir.Assign) else (node.value, node.where, node.lo, node.hi)
        _reads(parts, out)
        _reads(node.target.index, out)
        if any(isinstance(n, ir.DataAt) for n in ir.walk(parts)):
            # reading data can fail at run time (a bad file must not go unnoticed)
            out.add((node.target.group, node.target.name))
        return
    if not is_dataclass(node) or isinstance(node, type):
        return
    for f in fields(node):
        if f.name != "span":
            _reads(getattr(node, f.name), out)


def _live(m: ir.Module) -> set[tuple[str, str]]:
    live = {(mon.group, mon.var) for mon in m.monitors if mon.var and mon.expr is None}
    live |= {(mon.group, name) for mon in m.monitors for name, _ in mon.recorded}
    for g in m.groups:
        if g.refractory is not None:  # read by the generated threshold and state update
            live |= {(g.name, "lastspike"), (g.name, "not_refractory")}
        for v in g.vars:
            if v.unless_refractory:
                live.add((g.name, "not_refractory"))
            if v.freezable:  # named by freeze statements
                live.add((g.name, v.name))
    live |= {(s.group, s.var) for s in m.saves}
    _reads((m.groups, m.phases, tuple(s.expr for s in m.saves if s.expr is not None),
            tuple(mon.expr for mon in m.monitors if mon.expr is not None)), live)
    return live


def _drop_writes(body, dead: set[tuple[str, str]]):
    out = []
    for s in body:
        if isinstance(s, ir.Assign) and (s.target.group, s.target.name) in dead:
            continue
        if isinstance(s, ir.GroupAssign) and (s.group, s.target.name) in dead:
            continue
        if isinstance(s, ir.If):
            s = replace(s, body=_drop_writes(s.body, dead), orelse=_drop_writes(s.orelse, dead))
        elif isinstance(s, (ir.For, ir.While)):
            s = replace(s, body=_drop_writes(s.body, dead))
        out.append(s)
    return tuple(out)


def remove_dead_state(m: ir.Module) -> ir.Module:
    while True:
        live = _live(m)
        dead = {(g.name, v.name) for g in m.groups for v in g.vars} - live
        if not dead:
            return m
        groups = tuple(replace(
            g, vars=tuple(v for v in g.vars if (g.name, v.name) not in dead),
            init=_drop_writes(g.init, dead), on_pre=_drop_writes(g.on_pre, dead),
            on_post=_drop_writes(g.on_post, dead), on_pre_spike=_drop_writes(g.on_pre_spike, dead),
            on_post_spike=_drop_writes(g.on_post_spike, dead), update=_drop_writes(g.update, dead),
            reset=_drop_writes(g.reset, dead),
            events=tuple(replace(e, body=_drop_writes(e.body, dead)) for e in g.events),
            pathways=tuple(replace(p, body=_drop_writes(p.body, dead)) for p in g.pathways),
            summed=tuple(s for s in g.summed if (s.group, s.var) not in dead),
            every=tuple(replace(e, body=_drop_writes(e.body, dead), once=_drop_writes(e.once, dead))
                        for e in g.every)) for g in m.groups)
        phases = tuple(replace(p, body=_drop_writes(p.body, dead)) for p in m.phases)
        m = replace(m, groups=groups, phases=phases)
