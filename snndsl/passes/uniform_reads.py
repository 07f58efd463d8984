"""Pass: a synapse variable the same in every synapse is read from one place.

`learned` in the forum model is read by both pathways, written by no code
of the time step, and 1 in every synapse from `init` until a phase freezes
the strong ones: for the whole first phase, `on post` fetches, at a stride
of N_post elements, a cache line of a 1e6-element array for a value it
could have read once. Phases, `init` and Python (`sim.set`) change such a
variable only between runs, so the start of each run can look: all its
elements the same, bit for bit, or not.

This pass marks the variables to look at (`StateVar.uniform_check`): those
of a synapse group, stored per synapse, that its `on pre` or `on post`
reads and no step code writes (`written_in_steps`). A backend checks them
at each run's start and, where one is uniform, reads element 0 in the
pathways in place of the synapse's own: the same value, so the same
results bit for bit (the C backend: an index factor, 0 or 1, in
`base[_s * u]`, which leaves the index affine, so that a loop over a
spike's synapses still vectorizes). Without the pass (`--no-opt`) every read is the
synapse's own.
"""
from __future__ import annotations

from dataclasses import replace

from snndsl.ir import nodes as ir
from snndsl.passes.decide import written_in_steps


def uniform_candidates(g: ir.Group, written: set[tuple[str, str]]) -> set[str]:
    """The variables of synapse group `g` this pass marks."""
    if g.kind != "synapses":
        return set()
    read = {n.name for n in ir.walk((g.on_pre, g.on_post, tuple(p.body for p in g.pathways)))
            if isinstance(n, ir.Var) and n.group == g.name and n.at == "self"}
    return {v.name for v in g.vars
            if v.name in read and not v.shared and v.index == "element" and v.role == "state"
            and (g.name, v.name) not in written}


def uniform_reads(m: ir.Module) -> ir.Module:
    written = written_in_steps(m)
    groups = []
    for g in m.groups:
        marked = uniform_candidates(g, written)
        if marked:
            g = replace(g, vars=tuple(replace(v, uniform_check=True) if v.name in marked else v for v in g.vars))
        groups.append(g)
    return replace(m, groups=tuple(groups))
