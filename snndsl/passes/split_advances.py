"""Decision: the other side's traces are brought up to the current time in a
loop of their own, before the loop that runs a spike's event code.

A pathway's code for each synapse often starts by advancing an event-driven
trace of the far end (`on pre` of an STDP synapse: `y` of the postsynaptic
neuron, then `lastupdate_post = t`), and only then does the work it is there
for (`w = clip(w + y, ...)`). Interleaved, every synapse pays for a table
lookup with branches and two stores before its update; split, the update
loop is a few loads, a multiply-add and a store, and the advances run back
to back (`SynapseEvents.advance`, rendered as a loop before `body`).

The split changes no result, bit for bit, when:
- the code starts with the advances and the clock writes `CLOCK = t` of the
  variables they advance, and nothing after them writes those variables or
  their clocks;
- each advanced variable is a pure decay (dx/dt = a x: b = 0) or stored per
  synapse. A second advance of one neuron's trace in the same step then
  multiplies it by exp(0) = 1 exactly, so it does not matter that the
  synapses of a spike all advance before any of them updates; a trace stored
  per synapse is advanced once;
- the spikes arrive together (no per-synapse delays), so that a spike's
  synapses are one loop.

Where every spike reaches every neuron of the far end (`connect: all`:
each pair once) and the advances touch only those neurons' traces and
clocks (stored per far-end neuron, none of them in the code run once per
spike), the advance loop runs once per step in which the side spiked, over
the far end's neurons, before the spikes (`SynapseEvents.advance_all`): a
spike after the first would multiply each trace by exp(0) = 1 again. At
1000 x 1000 with one or two spikes a step, that is a loop of 1000 neurons
in place of one or two of 1000 synapses each, read through no index.
"""
from __future__ import annotations

import dataclasses

from snndsl.ir import nodes as ir


def _advance_prefix(body: tuple[ir.Stmt, ...], g: ir.Group) -> int:
    """How many statements at the start of `body` advance traces (or set
    their clocks to t) and may run ahead of the rest; 0 when the split
    would change a result."""
    clocks: set[str] = set()
    advanced: set[str] = set()
    n = 0
    for s in body:
        if isinstance(s, ir.Advance) and s.group == g.name:
            for name in s.vars:
                v = g.var(name)
                if v is None or v.decay is None or not (ir.is_zero(v.decay[1]) or v.index == "element"):
                    return 0
            advanced.update(s.vars)
            clocks.add(s.clock)
        elif (isinstance(s, ir.Assign) and s.target.group == g.name and s.target.name in clocks
              and isinstance(s.value, ir.Special) and s.value.name == "t"):
            pass
        else:
            break
        n += 1
    if not advanced:
        return 0
    mine = advanced | clocks
    for s in ir.walk(body[n:]):
        if isinstance(s, ir.Assign) and s.target.group == g.name and s.target.name in mine:
            return 0
        if isinstance(s, ir.Advance) and s.group == g.name and mine & {*s.vars, s.clock}:
            return 0
    return n


def reaches_all(k: ir.SynapseEvents, g: ir.Group) -> bool:
    """Whether `k.advance` may run once per step for every far-end neuron."""
    far = "post" if k.event == "pre" else "pre"
    touched = {name for s in k.advance for name in ((*s.vars, s.clock) if isinstance(s, ir.Advance)
                                                   else (s.target.name,))}
    once = {(n.group, n.name) for n in ir.walk(k.once) if isinstance(n, ir.Var)}
    return (g.all_pairs and all(g.var(name).index == far for name in touched)
            and not once & {(g.name, name) for name in touched})


def split_advances(m: ir.Module) -> ir.Module:
    groups = {g.name: g for g in m.groups}
    step = []
    for k in m.step:
        if isinstance(k, ir.SynapseEvents) and k.delay != "heterogeneous" and not k.advance:
            n = _advance_prefix(k.body, groups[k.target])
            if n and n < len(k.body):
                k = dataclasses.replace(k, advance=k.body[:n], body=k.body[n:])
                k = dataclasses.replace(k, advance_all=reaches_all(k, groups[k.target]))
        step.append(k)
    return dataclasses.replace(m, step=tuple(step))
