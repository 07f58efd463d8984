"""Random streams: which stream each random draw takes, decided once, by name.

A *site* is one piece of code that runs as a unit: the connection of a
synapse group, its per-synapse delays, a group's `init`, its integration
step, its threshold (or a Poisson group's draws), its `on pre` / `on post`
event code (and each named pathway's, with its delays), its reset, each Poisson input onto it, a subexpression save, and each protocol statement.
Every site that draws gets a stream of its own, numbered in the order of the
model file (groups, then saves, then the protocol) and named for its site
(`Module.streams`, shown by `--emit ir`). Its `rand()` / `randn()` nodes
carry that number (`ir.Rand.stream`); a Poisson group's implicit draws use
`Group.stream`.

The number depends only on which sites of the model draw, not on the order
a backend generates code in, nor on anything that draws nothing: editing a
deterministic part of a model leaves every random number as it was. Run
variants (`specialise_runs`) and every backend reuse the same nodes, so they
draw the same numbers. 
Setup (connect, delays, init) and the protocol draw from sequences, one per
stream, in the element order their kernel defines. The time step's kernels
(updates, thresholds, resets, event code, Poisson sources and inputs,
`every` blocks) draw from a counter-based generator keyed by (seed, site,
step, element) (`snn_ctr_at`): an element's numbers do not depend on which
thread or rank computes it, nor on the other elements. Their site is
`site(stream, part)`: one part for a kernel's code per element, one for the
code a pathway runs once per spike, one for a Poisson group's draws at the
start of a run.
"""
from __future__ import annotations

import dataclasses

from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir

# the parts of a site (runtime_c/snn_runtime.h: site = stream * PARTS + part)
PARTS = 4
MAIN, ONCE, START = 0, 1, 2
MAX_STREAMS = (1 << 16) // PARTS  # a site is 16 bits of Philox's counter


def site(stream: int, part: int = MAIN) -> int:
    return stream * PARTS + part


GROUP_SITES = (  # (site name, the fields of a group it runs)
    ("every", ("every",)),
    ("connect", ("connect_cond", "connect_parts")),
    ("delays", ("delay",)),
    ("init", ("init",)),
    ("update", ("update", "refractory")),
    ("threshold", ("threshold", "rate")),
    ("on pre", ("on_pre_spike", "on_pre")),
    ("on post", ("on_post_spike", "on_post")),
    ("reset", ("reset",)),
)


def _draws(node) -> bool:
    return any(isinstance(n, ir.Rand) for n in ir.walk(node))


def _numbered(node, stream: int):
    return ir.map_expr(lambda e: dataclasses.replace(e, stream=stream) if isinstance(e, ir.Rand) else e, node)


def assign_streams(m: ir.Module) -> ir.Module:
    names: list[str] = []

    def site(name: str, node, needed: bool = False):
        """`node` with its draws numbered, if it draws (or `needed`)."""
        if not (needed or _draws(node)):
            return node, None
        names.append(name)
        return _numbered(node, len(names) - 1), len(names) - 1

    groups = []
    for g in m.groups:
        changes = {}
        for what, attrs in GROUP_SITES:
            poisson = what == "threshold" and g.kind == "poisson"
            # `choose K` draws its j's without a rand() of the model's
            chooses = what == "connect" and (g.connect_choose is not None
                                             or any(p.choose is not None for p in g.connect_parts))
            values, stream = site(f"{g.name}: {what}", tuple(getattr(g, a) for a in attrs),
                                  needed=poisson or chooses)
            changes.update((a, v) for a, v in zip(attrs, values) if v is not getattr(g, a))
            if poisson:
                changes["stream"] = stream
            if chooses:
                changes["connect_stream"] = stream
        if g.pathways:  # each named pathway's code and delays are sites of their own
            pathways = []
            for p in g.pathways:
                body, _ = site(f"{g.name}: on {p.event} {p.name}", p.body)
                delay, _ = site(f"{g.name}: delays {p.name}", p.delay)
                pathways.append(dataclasses.replace(p, body=body, delay=delay))
            changes["pathways"] = tuple(pathways)
        if g.events:  # each custom event's condition and code are sites of their own
            events = []
            for e in g.events:
                cond, _ = site(f"{g.name}: event {e.name}", e.cond)
                body, _ = site(f"{g.name}: on {e.name}", e.body)
                events.append(dataclasses.replace(e, cond=cond, body=body))
            changes["events"] = tuple(events)
        if g.inputs:  # each Poisson input draws its binomial numbers from a stream of its own
            changes["inputs"] = tuple(dataclasses.replace(inp, stream=site(f"{g.name}: poisson input {inp.name}",
                                                                           inp, needed=True)[1])
                                      for inp in g.inputs)
        groups.append(dataclasses.replace(g, **changes) if changes else g)
    saves = tuple(site(f"save {d.name}", d)[0] for d in m.saves)

    def protocol(body, phase: str):
        out = []
        for s in body:
            if isinstance(s, (ir.For, ir.While, ir.If)):
                # the loop's or branch's own expressions form a site; its statements, one each
                own = {f.name: getattr(s, f.name) for f in dataclasses.fields(s)
                       if f.name not in ("body", "orelse", "span")}
                numbered, _ = site(f"{phase}: line {s.span.line if s.span else '?'}", tuple(own.values()))
                s = dataclasses.replace(s, **dict(zip(own, numbered)))
                s = dataclasses.replace(s, body=protocol(s.body, phase))
                if isinstance(s, ir.If):
                    s = dataclasses.replace(s, orelse=protocol(s.orelse, phase))
            else:
                s = site(f"{phase}: line {s.span.line if getattr(s, 'span', None) else '?'}", s)[0]
            out.append(s)
        return tuple(out)

    phases = tuple(dataclasses.replace(ph, body=protocol(ph.body, ph.name)) for ph in m.phases)
    if len(names) > MAX_STREAMS:
        raise InternalError(f"{len(names)} pieces of code draw random numbers; the generator's sites "
                            f"number {MAX_STREAMS} at most")
    return dataclasses.replace(m, groups=tuple(groups), saves=saves, phases=phases, streams=tuple(names))
