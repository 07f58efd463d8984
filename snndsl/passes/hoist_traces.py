"""Pass: store synaptic traces per neuron instead of per synapse.

An event-driven variable of a synapse group whose updates do not depend on
the synapse -- `apre += dApre` in `on pre`, decaying on its own -- has the
same value in every synapse of one presynaptic neuron. It is then stored once
per presynaptic neuron, with its own clock, and updated once per spike
before the loop over that neuron's synapses (`on_pre_spike`); `on post`
reads it through the synapse's presynaptic index. The mirror case (written
only in `on post`) is stored per postsynaptic neuron. The values are the
same up to rounding (a decay may be split into two exponentials); memory and
work per spike shrink by the fan-out.

A trace qualifies when:
- it is written only in one pathway, at the top level of that pathway's
  code (not under an `if`), by statements reading only the trace itself,
  constants, parameters, `t`, `dt`, `i` (`j` for post traces) and shared or
  neighbour variables that event code never writes;
- no statement of that pathway before its last write reads it, so moving
  the writes ahead of the synapse loop changes nothing;
- nothing else sees the per-synapse value: it is not written in `init` or
  phases, not read by phases, not monitored and not saved;
- for a presynaptic trace, the synapses receive a spike all at once (no
  per-synapse delays);
- the group has no named pathways (`on pre NAME:`).
"""
from __future__ import annotations

from dataclasses import replace

from snndsl.ir import nodes as ir


def _reads(node, group: str) -> set[str]:
    return {n.name for n in ir.walk(node) if isinstance(n, ir.Var) and n.group == group}


def _written(body, group: str) -> set[str]:
    out = set()
    for s in ir.walk(body):
        if isinstance(s, ir.Assign) and s.target.group == group:
            out.add(s.target.name)
    return out


def _written_anywhere(m: ir.Module) -> set[tuple[str, str]]:
    """(group, var) pairs written by any event code: these cannot be read by a
    hoisted update, whose position in the step moves."""
    out = set()
    for g in m.groups:
        for s in ir.walk((g.on_pre, g.on_post, g.on_pre_spike, g.on_post_spike, g.every, g.inputs, g.pathways,
                          g.events)):
            if isinstance(s, ir.Assign):
                out.add((s.target.group, s.target.name))
            if isinstance(s, ir.Advance):
                out.update((s.group, v) for v in s.vars)
    return out


def _observed(m: ir.Module) -> dict[str, set[str]]:
    """For each group, the variables whose per-synapse values someone looks at."""
    out: dict[str, set[str]] = {}
    for mon in m.monitors:
        if mon.var:
            out.setdefault(mon.group, set()).add(mon.var)
    for s in m.saves:
        out.setdefault(s.group, set()).add(s.var)
    # phases, recorded and saved subexpressions, and the code that reads synapse variables outside the pathways
    for n in ir.walk((m.phases, tuple(mon.expr for mon in m.monitors), tuple(s.expr for s in m.saves),
                      tuple((g.every, g.summed, g.update) for g in m.groups))):
        if isinstance(n, ir.Var):
            out.setdefault(n.group, set()).add(n.name)
        if isinstance(n, ir.GroupAssign):
            out.setdefault(n.group, set()).add(n.target.name)
    return out


def _qualifies(g: ir.Group, var: str, side: str, observed: set[str], busy: set) -> list[int] | None:
    """Indices (in the pathway body) of the statements writing `var`, if it
    can be hoisted to `side`; None otherwise."""
    body = g.on_pre if side == "pre" else g.on_post
    other = g.on_post if side == "pre" else g.on_pre
    if var in _written(other, g.name) or var in _written(g.init, g.name) or var in observed:
        return None
    writes = [k for k, s in enumerate(body) if isinstance(s, ir.Assign) and s.target.group == g.name
              and s.target.name == var]
    nested = [s for s in body if isinstance(s, ir.If) and var in _written(s, g.name)]
    if not writes or nested:
        return None
    index = "i" if side == "pre" else "j"
    neighbour = side
    for k in writes:
        for n in ir.walk(body[k].value):
            if isinstance(n, (ir.Rand, ir.DataAt, ir.Reduce, ir.Local, ir.Temp)):
                return None
            if isinstance(n, ir.Special) and n.name not in ("t", "dt", index):
                return None
            if isinstance(n, ir.Var):
                if n.group == g.name and n.at == "self" and n.name != var:
                    return None
                if n.at not in ("shared", neighbour, "self"):
                    return None
                if n.name != var and (n.group, n.name) in busy:
                    return None
    for k, s in enumerate(body[:writes[-1]]):
        if k in writes or isinstance(s, ir.Advance):
            continue
        if var in _reads(s, g.name):
            return None
    return writes


def _hoist_group(g: ir.Group, busy: set, observed: set[str]) -> ir.Group:
    if g.kind != "synapses" or g.pathways:
        return g  # named pathways: a trace's per-synapse value is read and written by several
    clock = next((v for v in g.vars if v.role == "lastupdate"), None)
    if clock is None:
        return g
    moved: dict[str, tuple[str, list[int]]] = {}
    for v in g.vars:
        if v.role != "event-driven" or v.index != "element" or v.shared or v.freezable:
            continue  # a freeze mask is per synapse
        for side in ("pre", "post"):
            if side == "pre" and g.delay_kind == "heterogeneous":
                continue  # each synapse receives the spike at its own time
            writes = _qualifies(g, v.name, side, observed, busy)
            if writes is not None:
                moved[v.name] = (side, writes)
                break
    if not moved:
        return g
    vars_ = list(g.vars)
    bodies = {"pre": g.on_pre, "post": g.on_post}
    once: dict[str, tuple[ir.Stmt, ...]] = {"pre": (), "post": ()}
    rest = dict(bodies)
    names = {side: [n for n, (s, _) in moved.items() if s == side] for side in ("pre", "post")}
    stamps: dict[str, str] = {}
    for side in ("pre", "post"):
        if not names[side]:
            continue
        stamp = f"lastupdate_{side}"
        while g.var(stamp) is not None:
            stamp += "_"
        stamps[side] = stamp
        vars_ = [replace(v, index=side) if v.name in names[side] else v for v in vars_]
        vars_.append(ir.StateVar(stamp, "f", False, "second", "lastupdate", index=side))
        writes = sorted(k for n in names[side] for k in moved[n][1])
        body = bodies[side]
        once[side] = ((ir.Advance(g.name, tuple(names[side]), stamp),) + tuple(body[k] for k in writes)
                      + (ir.Assign(ir.Var(g.name, stamp), ir.Special("t")),))
        rest[side] = tuple(x for k, x in enumerate(body) if k not in writes)
    # a pathway reading the other side's traces brings them to t through its neuron first
    for side, other in (("pre", "post"), ("post", "pre")):
        read = tuple(n for n in names[other] if n in _reads(rest[side], g.name))
        if read and rest[side]:
            rest[side] = (ir.Advance(g.name, read, stamps[other]),
                          ir.Assign(ir.Var(g.name, stamps[other]), ir.Special("t"))) + rest[side]

    # the per-synapse advance keeps only what stayed per synapse
    def trim(body):
        out = []
        for x in body:
            if isinstance(x, ir.Advance) and x.clock == clock.name:
                kept = tuple(v for v in x.vars if v not in moved)
                if not kept:
                    continue
                x = replace(x, vars=kept)
            out.append(x)
        return tuple(out)

    return replace(g, vars=tuple(vars_), on_pre=trim(rest["pre"]), on_post=trim(rest["post"]),
                   on_pre_spike=once["pre"], on_post_spike=once["post"])


def hoist_traces(m: ir.Module) -> ir.Module:
    # what event code writes and what the protocol and monitors observe, once for
    # the whole module: per group, it made the pass quadratic in the groups
    busy, observed = _written_anywhere(m), _observed(m)
    return replace(m, groups=tuple(_hoist_group(g, busy, observed.get(g.name, set())) for g in m.groups))
