"""passes/distribute.py: which rank computes what, and what the ranks make
whole before a loop reads it. Each mode on the smallest model that gets it,
the arrays gathered and made whole at a run's end, and `verify` refusing
marks the rules do not give. (tests/e2e/test_ranks.py runs every model on
2 and 3 ranks and compares bit for bit.)"""
from __future__ import annotations

import dataclasses
import textwrap

import pytest

from snndsl import driver
from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir
from snndsl.ir.dump import dump
from snndsl.ir.verify import verify
from snndsl.passes.distribute import distribute, exchanges

NEURONS = """
dt = 0.1 ms
neurons G[20]:
    dv/dt = (1.5 - v) / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
neurons H[30]:
    dv/dt = -v / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
"""

STDP = NEURONS + """
synapses S: G -> H:
    connect: all
    w : 1
    dx/dt = -x / (20 ms) : 1 (event-driven)
    dy/dt = -y / (20 ms) : 1 (event-driven)
    on pre:
        x += 1
        post.v += w
        w = clip(w + y, 0, 1)
    on post:
        y -= 1
        w = clip(w + x, 0, 1)
    init:
        w = 0.5
"""


def distributed(text: str) -> ir.Module:
    from snndsl.ir.lower import lower
    _, model, diags = driver.diagnose(textwrap.dedent(text) + "phase p:\n    run 1 ms\n", "m.snn")
    assert not [d for d in diags if d.severity == "error"], diags
    m = distribute(driver.decide(driver.optimize(lower(model))))
    verify(m)
    return m


def name(k: ir.Kernel) -> str:
    if isinstance(k, ir.SynapseEvents):
        return f"on {k.event} {k.target}"
    return f"{type(k).__name__} {k.target}"


def marks(m: ir.Module) -> dict[str, tuple[str, tuple]]:
    return {name(k): (k.ranks, k.gather) for k in m.step}


def test_neurons_run_in_blocks_and_keep_their_state_in_parts():
    m = distributed(NEURONS)
    assert {mode for mode, _ in marks(m).values()} == {"block"}
    assert not any(gather for _, gather in marks(m).values())  # each reads its own elements only
    assert m.ranks and set(m.rank_sync) == {("G", "v"), ("H", "v")}  # made whole at a run's end


def test_stdp_on_pre_by_far_end_and_on_post_near_with_the_presynaptic_traces_on_every_rank():
    got = marks(distributed(STDP))
    assert got["on pre S"] == ("far", ())
    # x is stored per presynaptic neuron (a lumped trace): on post brings it to the
    # current time on every rank for every spike, so no rank holds it in parts
    assert got["on post S"] == ("near+advance", ())
    assert got["Threshold H"] == ("block", ())


def test_what_ranks_make_whole_at_the_end_of_a_run():
    m = distributed(STDP)
    # the synapses' weights and per-postsynaptic trace (its clock too), the neurons' v:
    # written by their owners; x, advanced on every rank, stays whole
    assert m.rank_sync == (("G", "v"), ("H", "v"), ("S", "lastupdate_post"), ("S", "w"), ("S", "y"))
    assert ("ranks: each holds its own part of G.v, H.v, S.lastupdate_post, S.w, S.y at the end of a step; "
            "made whole on every rank when a run ends") in dump(m)


def test_a_monitor_gathers_what_it_records_on_the_steps_it_records():
    """The monitors run first in a step: what they read was cut at the end of the
    last one (the state at a step's start is the state at its end, the pass's
    fixed point); they gather it inside their condition, so it stays cut for
    the step's other readers."""
    m = distributed(STDP + "monitor ws: S.w every 1 ms\nmonitor vs: H.v[0:3]\n")
    assert isinstance(m.step[0], ir.RecordState) and isinstance(m.step[1], ir.RecordState)
    record = {k.target: k for k in m.step if isinstance(k, ir.RecordState)}
    assert (record["ws"].ranks, record["ws"].gather) == ("all", (("S", "w"),))
    assert (record["vs"].ranks, record["vs"].gather) == ("all", (("H", "v"),))
    assert ("S", "w") in m.rank_sync and ("H", "v") in m.rank_sync
    assert "record state ws  [ranks: all, whole first: S.w]" in dump(m)


@pytest.mark.parametrize("change, why", [
    (("post.v += w", "pre.v += w"), "a synapse's write to the spiking neuron"),
    (("    connect: all\n", "    connect: all\n    delay: rand() * 2 ms\n"), "per-synapse delays"),
])
def test_what_runs_on_pre_on_every_rank(change, why):
    m = distributed(STDP.replace(*change))
    k = next(k for k in m.step if name(k) == "on pre S")
    assert k.ranks == "all", why
    # run on every rank over every synapse: what the blocks and on post wrote, made whole first
    assert {("S", "w"), ("S", "y")} <= set(k.gather), k.gather
    assert ("G", "v") in k.gather or ("H", "v") in k.gather


def test_verify_refuses_marks_the_rules_do_not_give():
    m = distributed(STDP)
    pre = next(k for k in m.step if name(k) == "on pre S")
    tampered = tuple(dataclasses.replace(k, ranks="near") if k is pre else k for k in m.step)
    with pytest.raises(InternalError, match="ranks run the kernel SynapseEvents of S as 'near'"):
        verify(dataclasses.replace(m, step=tampered))
    with_monitor = distributed(STDP + "monitor ws: S.w every 1 ms\n")
    ungathered = tuple(dataclasses.replace(k, gather=()) if isinstance(k, ir.RecordState) else k
                       for k in with_monitor.step)
    with pytest.raises(InternalError, match="after gathering"):
        verify(dataclasses.replace(with_monitor, step=ungathered))
    with pytest.raises(InternalError, match="a run's end makes"):
        verify(dataclasses.replace(m, rank_sync=()))
    with pytest.raises(InternalError, match="a build without ranks splits"):
        verify(dataclasses.replace(m, ranks=False))


def test_thresholds_one_after_another_exchange_their_spikes_together():
    """G's and H's thresholds are next to each other in the step: each rank lists
    its blocks' spikes, and one exchange after H's makes both lists whole."""
    m = distributed(NEURONS)
    got = {name(k): k.exchange for k in m.step if isinstance(k, ir.Threshold)}
    assert got == {"Threshold G": (), "Threshold H": ("G", "H")}
    assert "threshold H  [threads: elements]  [ranks: block, then the spikes of G, H exchanged]" in dump(m)
    # a spike monitor between them (it reads G's list whole) ends the run before it
    plans = [(k.ranks, None) for k in m.step]
    monitor = ir.RecordSpikes(target="sp")
    step = list(m.step)
    at = next(n for n, k in enumerate(step) if name(k) == "Threshold G") + 1
    step.insert(at, monitor)
    plans.insert(at, ("all", None))
    marks_ = dict(zip((name(k) for k in step), exchanges(step, plans)))
    assert marks_["Threshold G"] == ("G",) and marks_["Threshold H"] == ("H",)


def test_verify_refuses_an_exchange_the_rules_do_not_give():
    m = distributed(NEURONS)
    wrong = tuple(dataclasses.replace(k, exchange=()) if isinstance(k, ir.Threshold) else k for k in m.step)
    with pytest.raises(InternalError, match=r"ranks exchange the spikes of \(\), not of \('G', 'H'\)"):
        verify(dataclasses.replace(m, step=wrong))
