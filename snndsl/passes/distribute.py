"""Decision, for a build with ranks (MPI): which rank computes what, and which
arrays the ranks must exchange so that every rank computes exactly what one
process computes (`snndsl run --ranks N`, `mpiexec -n N BUILD/model`).

Every rank holds every array (setup and the protocol run on every rank, from
the same sequences: they agree). A neuron belongs to one rank: the groups
are cut into contiguous blocks, rank r holding elements [n r / R, n (r + 1) / R);
a synapse belongs to the rank of its postsynaptic neuron. Each kernel of the
time step gets `ranks`:

- 'block' (state updates, thresholds, resets, Poisson groups sampled per
  step and Poisson inputs, where threads may share them by elements): each
  rank runs its block. A threshold's spikes are then exchanged: every rank
  has the whole list, in the order of the indices (the order of one process).
  Thresholds one after another in the step are exchanged together, after the
  last of them (its `exchange`): one exchange for CUBA's two groups, not two.
- 'far' (`on pre`, where threads may share it by far end): every rank goes
  through every spike and runs the code of the synapses it owns; what runs
  once per spike (a trace stored per presynaptic neuron) runs on every rank.
- 'near' (`on post` whose synapses' code writes only the synapse and its
  postsynaptic neuron): each rank runs the spikes of its own neurons -- whose
  synapses are all its own. 'near+advance': the code also brings traces of
  the presynaptic neurons up to the current time, and every rank does that
  part for every spike, so that those traces stay the same on every rank.
- 'all': every rank runs all of it (a Poisson group's calendar, a spike
  generator, monitors, sums, `every` blocks, anything not split).

Each array is then, at each point of the step, whole on every rank or valid
only in each rank's own part (its owner's). A kernel that reads an array at
elements other ranks own -- a split kernel reading the other side's
neurons, a kernel run on all ranks reading anything -- needs it whole: the
pass lists it in the kernel's `gather` (made whole just before it, inside
the kernel's condition for monitors and `every` blocks, which run on some
steps only). What is valid only in parts at the end of a step is listed in
`Module.rank_sync`, made whole when a run ends, so that the protocol, the
monitors' files and snapshots see one state, whatever the number of ranks.
The state at the start of a step is the state at its end; the pass iterates
to that fixed point (from every array whole, as setup leaves them).
"""
from __future__ import annotations

import dataclasses

from snndsl.ir import nodes as ir

MODES = ("block", "far", "near", "near+advance", "all")
CONDITIONAL = (ir.RecordState, ir.RecordSpikes, ir.RunEvery)  # run on some steps: their gathers go inside


def partition(groups: dict[str, ir.Group], group: str, name: str) -> tuple[str, str] | None:
    """How the array (group, name) is cut among ranks: (the neuron group whose
    blocks own it, 'element' (element e belongs to the owner of e) or 'post'
    (synapse s belongs to the owner of its postsynaptic neuron)); None for
    what is never cut (shared values, the synapses' i and j)."""
    g = groups.get(group)
    if g is None:
        return None
    v = g.var(name)
    if v is None or v.shared:
        return None
    if g.kind != "synapses":
        return group, "element"
    return {"element": (g.target, "post"), "pre": (g.source, "element"), "post": (g.target, "element")}[v.index]


def _side(groups: dict[str, ir.Group], S: ir.Group, group: str, name: str, at: str) -> str:
    """Where a synapse's code touches an array: 'synapse', 'pre', 'post' or 'shared'."""
    if group == S.name:
        v = S.var(name)
        if v is None:
            return "shared"  # i, j: made in setup, the same on every rank
        if v.shared:
            return "shared"
        return {"element": "synapse", "pre": "pre", "post": "post"}[v.index]
    g = groups.get(group)
    if g is None or g.var(name) is None or g.var(name).shared or at in ("shared", "first"):
        return "shared"
    return at if at in ("pre", "post") else "shared"


def _touches(code) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(reads, writes) of `code` as (group, name, at)."""
    reads, writes = [], []
    for n in ir.walk(code):
        if isinstance(n, ir.Var):
            reads.append((n.group, n.name, n.at))
        elif isinstance(n, ir.Assign):
            writes.append((n.target.group, n.target.name, n.target.at))
        elif isinstance(n, ir.Advance):
            for name in (*n.vars, n.clock):
                reads.append((n.group, name, "self"))
                writes.append((n.group, name, "self"))
        elif isinstance(n, ir.LinearStep):
            for name in n.vars:
                reads.append((n.group, name, "self"))
                writes.append((n.group, name, "self"))
    return reads, writes


@dataclasses.dataclass
class _Need:
    """What one kernel asks of the arrays: `own` may be valid in the rank's
    part only, `whole` must be whole; `writes` become valid in parts (False)
    or whole (True)."""

    own: set = dataclasses.field(default_factory=set)
    whole: set = dataclasses.field(default_factory=set)
    writes: dict = dataclasses.field(default_factory=dict)

    def run(self, reads, writes, own_test, whole_writes: bool) -> None:
        for group, name, at in reads:
            (self.own if own_test(group, name, at) else self.whole).add((group, name))
        for group, name, at in writes:
            (self.own if own_test(group, name, at) else self.whole).add((group, name))
            self.writes[(group, name)] = self.writes.get((group, name), True) and whole_writes


def _element_code(k: ir.Kernel):
    if isinstance(k, ir.Update):
        return (k.body, k.refractory)
    if isinstance(k, ir.Threshold):
        return (k.cond, k.refractory)
    if isinstance(k, ir.AddPoissonInput):
        return (k.rate, k.body)
    if isinstance(k, ir.Reset):
        return k.body
    if isinstance(k, ir.PoissonSpikes):
        return k.rate
    return ()


def _refractory(k: ir.Kernel, g: ir.Group):
    """The arrays an update or a threshold with refractoriness touches besides its code."""
    if isinstance(k, (ir.Update, ir.Threshold)) and k.refractory is not None:
        return [(g.name, "not_refractory", "self"), (g.name, "lastspike", "self")]
    return []


def _block_need(k: ir.Kernel, g: ir.Group) -> _Need | None:
    """A kernel over `g`'s elements, split in blocks; None where it cannot be."""
    reads, writes = _touches(_element_code(k))
    reads += _refractory(k, g)
    writes += _refractory(k, g)

    def own(group, name, at):
        v = g.var(name) if group == g.name else None
        return v is not None and not v.shared and at == "self" and v.index == "element"

    if not all(own(*w) for w in writes):
        return None
    need = _Need()
    need.run(reads, writes, own, False)
    return need


def _all_need(code, extra=()) -> _Need:
    reads, writes = _touches(code)
    need = _Need()
    need.run(reads + list(extra), writes, lambda *a: False, True)
    return need


def _pathway_need(k: ir.SynapseEvents, groups) -> tuple[str, _Need] | None:
    S = groups[k.target]
    if k.delay == "heterogeneous":
        return None
    side = lambda group, name, at: _side(groups, S, group, name, at)  # noqa: E731
    near = "pre" if k.event == "pre" else "post"
    need = _Need()
    once_r, once_w = _touches(k.once)
    adv_r, adv_w = _touches(k.advance)
    body_r, body_w = _touches(k.body)
    if any(isinstance(n, ir.Reduce) for n in ir.walk((k.once, k.advance, k.body))):
        return None
    local = {"synapse", "post"}  # a synapse and its postsynaptic neuron: the rank that owns the synapse
    mine = lambda group, name, at: side(group, name, at) in local  # noqa: E731
    if k.event == "pre":
        if k.share != "far end":
            return None
        # once per spike, on every rank: the spiking (presynaptic) neuron's values, kept whole
        if any(side(*w) != near for w in once_w):
            return None
        need.run(once_r, once_w, lambda *a: False, True)
        if any(not mine(*w) for w in adv_w + body_w):
            return None
        need.run(adv_r + body_r, adv_w + body_w, mine, False)
        return "far", need
    # on post: each rank the spikes of its own neurons, whose synapses are its own
    if any(not mine(*w) for w in once_w + body_w):
        return None
    need.run(once_r + body_r, once_w + body_w, mine, False)
    if any(side(*w) == "pre" for w in adv_w):
        if any(side(*w) != "pre" for w in adv_w):
            return None
        need.run(adv_r, adv_w, lambda *a: False, True)  # on every rank, for every spike
        return "near+advance", need
    need.run(adv_r, adv_w, mine, False)
    return "near", need


def _monitor_need(k: ir.Kernel, m: ir.Module) -> _Need:
    mon = next(x for x in m.monitors if x.name == k.target)
    need = _Need()
    if isinstance(k, ir.RecordState):
        if mon.expr is not None:
            reads, _ = _touches(mon.expr)
            need.whole |= {(group, name) for group, name, _at in reads}
        else:
            need.whole.add((mon.group, mon.var))
    elif isinstance(k, ir.RecordSpikes):
        need.whole |= {(mon.group, name) for name, _ in mon.recorded}
    return need


def plan(k: ir.Kernel, m: ir.Module, groups) -> tuple[str, _Need]:
    """The kernel's mode and what it asks of the arrays."""
    if isinstance(k, (ir.Update, ir.Threshold, ir.AddPoissonInput, ir.Reset)) or (
            isinstance(k, ir.PoissonSpikes) and k.sampling == "per step"):
        g = groups[k.target]
        split = g.kind != "synapses" and (isinstance(k, ir.Reset) or getattr(k, "share", "none") == "elements")
        need = _block_need(k, g) if split else None
        if need is not None:
            return "block", need
        return "all", _all_need(_element_code(k), _refractory(k, g))
    if isinstance(k, ir.SynapseEvents):
        got = _pathway_need(k, groups)
        if got is not None:
            return got
        return "all", _all_need((k.once, k.advance, k.body))
    if isinstance(k, (ir.RecordState, ir.RecordSpikes, ir.RecordRate)):
        return "all", _monitor_need(k, m)
    if isinstance(k, ir.SumOnto):
        return "all", _all_need(tuple(e for _, _, e in k.terms))
    if isinstance(k, ir.RunEvery):
        return "all", _all_need((k.once, k.body))
    return "all", _Need()  # a calendar's Poisson spikes, a generator's: their own arrays, whole everywhere


def distribute(m: ir.Module) -> ir.Module:
    """The module with every kernel's `ranks` and `gather`, and `rank_sync`."""
    groups = {g.name: g for g in m.groups}
    plans = [plan(k, m, groups) for k in m.step]
    start: set = set()  # arrays valid only in parts at the start of a step
    for _ in range(len(m.step) + 2):
        parted = set(start)
        gathers = []
        for k, (mode, need) in zip(m.step, plans):
            gather = tuple(sorted(a for a in need.whole if a in parted and partition(groups, *a) is not None))
            gathers.append(gather)
            conditional = isinstance(k, CONDITIONAL)
            if not conditional:
                parted -= set(gather)
            for a, whole in need.writes.items():
                if partition(groups, *a) is None:
                    continue
                if not whole:
                    parted.add(a)
                elif not conditional:
                    parted.discard(a)
        if parted <= start:
            break
        start |= parted  # growing only: an array taken as cut where it is whole costs a gather, never a value
    step = tuple(dataclasses.replace(k, ranks=mode, gather=gather, exchange=exchange)
                 for k, (mode, _), gather, exchange in zip(m.step, plans, gathers, exchanges(m.step, plans)))
    return dataclasses.replace(m, step=step, ranks=True, rank_sync=tuple(sorted(start)))


def lists_spikes(k: ir.Kernel, mode: str) -> bool:
    """A kernel whose ranks list the spikes of their blocks only."""
    return mode == "block" and isinstance(k, (ir.Threshold, ir.PoissonSpikes))


def exchanges(step, plans) -> list[tuple[str, ...]]:
    """Each kernel's `exchange`: after the last of consecutive kernels that
    list spikes by blocks on one clock, all their groups; nothing between
    them reads a spike list."""
    out: list[tuple[str, ...]] = [() for _ in step]
    run: list[str] = []
    for n, (k, (mode, _)) in enumerate(zip(step, plans)):
        if not lists_spikes(k, mode):
            continue
        event = getattr(k, "event", "spike")
        run.append(k.target if event == "spike" else f"{k.target}.{event}")  # a custom event's list: GROUP.EVENT
        later = step[n + 1] if n + 1 < len(step) else None
        if later is None or not lists_spikes(later, plans[n + 1][0]) or later.clock != k.clock:
            out[n] = tuple(run)
            run = []
    return out
