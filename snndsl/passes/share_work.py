"""Decision: which loops of the time step threads share, and how.

A loop is shared only where each thread computes exactly what the one
thread computes, in the same order for every value it touches, so that a
model gives the same numbers, bit for bit, on any number of threads
(`--threads N`). Each kernel gets `share`:

- "elements" (state updates, thresholds, Poisson groups sampled per step,
  Poisson inputs): the elements are cut into
  contiguous parts, one per thread. An element's code reads and writes only
  that element's variables (and reads others that the loop does not
  write). A threshold's spikes are listed by each thread for its part, then
  joined in the order of the parts: the order one thread finds them in.
- "far end" (synaptic events, `on pre` or `on post`): the neurons at the
  far end of the synapses (the postsynaptic ones for `on pre`) are cut into
  contiguous parts; every thread goes through all the spikes, in order, but
  runs the code of only the synapses whose far end is in its part. Each
  value written then belongs to one thread: a synapse's own variables, or a
  far-end neuron's (`post.v += w`, traces stored per postsynaptic neuron),
  and it is written in the order of the spikes, as with one thread. The
  code run once per spike (the traces stored per spiking neuron) runs first,
  for every spike, on one thread: it touches only the spiking neuron's
  values, which no synapse's code writes. Where the synapses' code does not
  read them either (`on pre` of STDP: `x` of the spiking neuron is read only
  by `on post`), that thread runs it while the others start on the
  synapses (`once_aside`): no barrier between the two.
- "none": one thread, as the loop is written.

Random draws do not keep a loop on one thread: the time step draws from a
counter-based generator keyed by element (passes/streams.py), so an
element's numbers are the same on whichever thread computes it.

What keeps a loop on one thread: a reduction over a group, a write to a shared variable, a synapse's write to the
spiking neuron's side, or an array written at one index and read at
another (`pre.v` and `post.v` of synapses within one group), and spikes
queued with per-synapse delays.
"""
from __future__ import annotations

import dataclasses

from snndsl.ir import nodes as ir

SHARES = ("none", "elements", "far end")


def _reduces(code) -> bool:
    return any(isinstance(n, ir.Reduce) for n in ir.walk(code))


def _writes(code) -> set[tuple[str, str]]:
    out = set()
    for n in ir.walk(code):
        if isinstance(n, ir.Assign):
            out.add((n.target.group, n.target.name))
        elif isinstance(n, ir.Advance):
            out |= {(n.group, name) for name in (*n.vars, n.clock)}
        elif isinstance(n, ir.LinearStep):
            out |= {(n.group, name) for name in n.vars}
    return out


def _accesses(code, kind_of) -> dict[tuple[str, str], set[str]]:
    """Each array the code touches, with the kinds of index it is touched at."""
    out: dict[tuple[str, str], set[str]] = {}
    for n in ir.walk(code):
        if isinstance(n, ir.Var):
            out.setdefault((n.group, n.name), set()).add(kind_of(n.group, n.name, n.at))
        elif isinstance(n, ir.Advance):
            for name in (*n.vars, n.clock):
                out.setdefault((n.group, name), set()).add(kind_of(n.group, name, "self"))
        elif isinstance(n, ir.LinearStep):
            for name in n.vars:
                out.setdefault((n.group, name), set()).add(kind_of(n.group, name, "self"))
    return out


def elements_share(k: ir.Update | ir.Threshold | ir.AddPoissonInput, g: ir.Group) -> str:
    if isinstance(k, ir.AddPoissonInput):
        code = (k.rate, k.body)
    else:
        code = (k.body, k.refractory) if isinstance(k, ir.Update) else (k.cond, k.refractory)
    if _reduces(code):
        return "none"

    def kind_of(group: str, name: str, at: str) -> str:
        v = g.var(name) if group == g.name else None
        if v is not None and v.shared:
            return "shared"
        return "element" if group == g.name and at == "self" and (v is None or v.index == "element") else at

    touched = _accesses(code, kind_of)
    return "elements" if all(touched.get(w, {"element"}) == {"element"} for w in _writes(code)) else "none"


def far_end_share(k: ir.SynapseEvents, g: ir.Group) -> str:
    if k.delay == "heterogeneous" or _reduces((k.once, k.advance, k.body)):
        return "none"
    near, far = ("pre", "post") if k.event == "pre" else ("post", "pre")

    def kind_of(group: str, name: str, at: str) -> str:
        if group == g.name:
            v = g.var(name)
            if v is None:
                return "element"  # i, j, lastupdate clocks made by lowering: per synapse
            if v.shared:
                return "shared"
            index = v.index
        else:
            index = at
        return {"element": "synapse", "self": "synapse", near: "near", far: "far"}.get(index, index)

    touched = _accesses((k.once, k.advance, k.body), kind_of)
    for w in _writes((k.advance, k.body)):
        if touched.get(w) not in ({"far"}, {"synapse"}):
            return "none"
    for w in _writes(k.once):
        if touched.get(w) != {"near"}:
            return "none"
    return "far end"


def once_aside(k: ir.SynapseEvents) -> bool:
    """Whether a shared pathway's `once` may run beside its synapses' code."""
    if k.share != "far end" or not k.once:
        return False
    synapses = (k.advance, k.body)
    touched = set(_accesses(synapses, lambda group, name, at: at))
    read_once = set(_accesses(k.once, lambda group, name, at: at))
    return not (_writes(k.once) & touched) and not (_writes(synapses) & read_once)


def share(k: ir.Kernel, groups: dict[str, ir.Group]) -> str | None:
    """The share a kernel takes, or None for a kind of kernel that has none."""
    if isinstance(k, ir.Threshold) and k.cond is None:
        # a group that cannot spike: one thread clears its list, in a stretch whose end all
        # wait for (shared, it ran with no join, and a kernel before it left without a barrier
        # raced with the next: waits() takes every shared threshold for a join)
        return "none"
    if isinstance(k, (ir.Update, ir.Threshold, ir.AddPoissonInput)):
        return elements_share(k, groups[k.target])
    if isinstance(k, ir.PoissonSpikes):  # a list of spikes, as a threshold's; its calendar stays on one thread
        return "elements" if k.sampling == "per step" and not _reduces(k.rate) else "none"
    if isinstance(k, ir.SynapseEvents):
        return far_end_share(k, groups[k.target])
    return None


# ---- barriers: where the threads must wait for each other --------------------------------


def footprint(k: ir.Kernel, groups: dict[str, ir.Group]) -> tuple[frozenset, frozenset] | None:
    """(every array the kernel touches, the arrays it writes), by (group,
    name); None for a kind of kernel not analysed (it may touch anything)."""
    reads: set = set()
    writes: set = set()
    if isinstance(k, ir.Update):
        code = (k.body, k.refractory)
        if k.refractory is not None:
            writes |= {(k.target, "not_refractory"), (k.target, "lastspike")}
    elif isinstance(k, ir.Threshold):
        code = (k.cond, k.refractory)
        writes |= {(k.target, ir.event_list(k.event)[0]), ("", "part_count")}
        if k.refractory is not None:
            writes |= {(k.target, "not_refractory"), (k.target, "lastspike")}
    elif isinstance(k, ir.PoissonSpikes) and k.sampling == "per step":
        code = k.rate
        writes |= {(k.target, "spikes"), ("", "part_count")}
    elif isinstance(k, ir.AddPoissonInput):
        code = (k.rate, k.body)
    elif isinstance(k, ir.SynapseEvents) and k.delay != "heterogeneous":
        g = groups[k.target]
        code = (k.once, k.advance, k.body)
        reads.add((g.source if k.event == "pre" else g.target, ir.event_list(k.on)[0]))
        if k.delay == "homogeneous":
            writes.add((k.target, f"{k.pathway}_ring" if k.pathway else "ring"))
    else:
        return None
    writes |= _writes(code)
    reads |= set(_accesses(code, lambda group, name, at: at))
    return frozenset(reads | writes), frozenset(writes)


def _conflict(a, b) -> bool:
    return a is None or b is None or bool(a[1] & b[0]) or bool(b[1] & a[0])


def waits(step: tuple[ir.Kernel, ...], groups: dict[str, ir.Group]) -> list[bool]:
    """For each kernel of the step, whether the threads must wait for each
    other after it (its shared loop's barrier; its one-thread branch's end).

    Threads run the step's kernels in order; a barrier makes every thread
    finish all that came before it. A shared kernel may leave its barrier
    out where every kernel up to the next barrier touches none of the arrays
    it writes and writes none it touches: the four pathways of CUBA write
    four different arrays; the update of `inh` runs beside the threshold of
    `exc`. Thresholds (and Poisson groups sampled per step) always end with
    their list joined by one thread, which all wait for; so does a stretch of
    one-thread kernels (`omp single`), which does not start with a barrier.
    A kernel on a clock of its own runs (and waits) only in some steps: it
    never leaves its barrier out, and its barrier waits only for kernels that
    run no more often than it."""
    out = [True] * len(step)
    open_: list[int] = []  # shared kernels since the last barrier whose barrier is left out
    prints = [footprint(k, groups) for k in step]
    previous_shared = True  # the last step ended at a barrier
    for x, k in enumerate(step):
        shared = getattr(k, "share", "none") != "none"
        if shared and not previous_shared:
            open_ = []  # the stretch of one-thread kernels before it ended at a barrier
        if open_ and any(_conflict(prints[x], prints[o]) for o in open_):
            out[open_[-1]] = True  # waiting after the last of them waits for all
            open_ = []
        if shared:
            if isinstance(k, (ir.Threshold, ir.PoissonSpikes)) or prints[x] is None or k.clock > 1:
                # its barrier; on a clock of its own (`dt:`) it is there only in the steps it runs, so
                # it keeps it and waits for the kernels left open that run no more often than it
                open_ = [o for o in open_ if step[o].clock % k.clock]
            else:
                out[x] = False
                open_.append(x)
        previous_shared = shared
    if open_:
        out[open_[-1]] = True  # the next step may touch anything
    return out


def share_work(m: ir.Module) -> ir.Module:
    groups = {g.name: g for g in m.groups}
    step = []
    for k in m.step:
        s = share(k, groups)
        if s is not None:
            k = dataclasses.replace(k, share=s)
        if isinstance(k, ir.SynapseEvents):
            k = dataclasses.replace(k, once_aside=once_aside(k))
        step.append(k)
    step = [dataclasses.replace(k, wait=w) if hasattr(k, "wait") and k.wait != w else k
            for k, w in zip(step, waits(tuple(step), groups))]
    return dataclasses.replace(m, step=tuple(step))
