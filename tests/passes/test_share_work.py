"""passes/share_work.py: which loops threads share. Each rule that keeps a
loop on one thread, on the smallest model that needs it, beside the model
that may be shared; and `verify` refusing a share the rules do not allow.
(tests/e2e/test_threads.py runs every model on 1, 2 and 3 threads.)"""
from __future__ import annotations

import dataclasses
import textwrap

import pytest

from snndsl import driver
from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir
from snndsl.ir.dump import dump
from snndsl.ir.verify import verify

NEURONS = """
dt = 0.1 ms
neurons G[20]:
    dv/dt = (1.5 - v) / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
"""


def decided(text: str) -> ir.Module:
    from snndsl.ir.lower import lower
    _, model, diags = driver.diagnose(textwrap.dedent(text), "m.snn")
    assert not [d for d in diags if d.severity == "error"], diags
    return driver.decide(driver.optimize(lower(model)))


def shares(text: str) -> dict[str, str]:
    """'update G' / 'threshold G' / 'on pre S' -> its share."""
    out = {}
    for k in decided(text + "phase p:\n    run 1 ms\n").step:
        if isinstance(k, ir.Update):
            out[f"update {k.target}"] = k.share
        elif isinstance(k, ir.Threshold):
            out[f"threshold {k.target}"] = k.share
        elif isinstance(k, ir.SynapseEvents):
            out[f"on {k.event} {k.target}"] = k.share
    return out


def test_element_loops_are_shared_even_where_they_draw():
    """The time step's draws are keyed by element (counter-based), so noise and
    rand() keep nothing on one thread."""
    assert shares(NEURONS) == {"update G": "elements", "threshold G": "elements"}
    noisy = NEURONS.replace("dv/dt = (1.5 - v) / (10 ms) : 1",
                            "dv/dt = (1.5 - v) / (10 ms) + 0.1 * xi / sqrt(10 ms) : 1\n    method: euler")
    assert shares(noisy)["update G"] == "elements"
    assert shares(NEURONS.replace("threshold: v > 1", "threshold: v > rand()"))["threshold G"] == "elements"


SYNAPSES = NEURONS + """
neurons H[30]:
    dv/dt = -v / (10 ms) : 1
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


def test_synaptic_events_are_shared_by_their_far_end():
    got = shares(SYNAPSES)
    assert got["on pre S"] == got["on post S"] == "far end"
    drawing = shares(SYNAPSES.replace("post.v += w", "post.v += w * rand()").replace("x += 1", "x += rand()"))
    assert drawing["on pre S"] == "far end"  # each synapse's and each spike's numbers: their own
    assert "[threads: far end]" in dump(decided(SYNAPSES + "phase p:\n    run 1 ms\n"))


SHARED = SYNAPSES.replace("    w : 1\n", "    w : 1\n    count : 1 (shared)\n")


@pytest.mark.parametrize("text, why", [
    (SYNAPSES.replace("post.v += w", "pre.v += w"), "a synapse's write to the spiking neuron"),
    (SYNAPSES.replace("    connect: all\n", "    connect: all\n    delay: rand() * 2 ms\n"), "per-synapse delays"),
])
def test_what_keeps_on_pre_on_one_thread(text, why):
    got = shares(text)
    assert got["on pre S"] == "none", why
    assert got["on post S"] == "far end"


def test_on_post_writes_its_far_end_the_presynaptic_neurons():
    got = shares(SYNAPSES.replace("    on post:\n        y -= 1", "    on post:\n        pre.v += 1\n        y -= 1"))
    # (H cannot spike: one thread clears its list, in a stretch all wait for)
    assert got == {"update G": "elements", "update H": "elements", "threshold G": "elements",
                   "threshold H": "none", "on pre S": "far end", "on post S": "far end"}
    assert shares(SHARED)["on pre S"] == "far end"  # a shared variable no code writes


def test_synapses_within_one_group_reading_the_spiking_side_stay_on_one_thread():
    recurrent = NEURONS + """
synapses S: G -> G:
    connect: i != j
    w : 1
    on pre: post.v += w
"""
    assert shares(recurrent)["on pre S"] == "far end"  # v written at the far end only
    reads_near = recurrent.replace("on pre: post.v += w", "on pre: post.v += w * pre.v")
    assert shares(reads_near)["on pre S"] == "none"  # v written at j, read at i: a race


def test_verify_refuses_a_share_the_rules_do_not_allow():
    m = decided(SYNAPSES.replace("post.v += w", "pre.v += w") + "phase p:\n    run 1 ms\n")
    step = tuple(dataclasses.replace(k, share="far end") if isinstance(k, ir.SynapseEvents) else k for k in m.step)
    with pytest.raises(InternalError, match="threads share the kernel SynapseEvents of S"):
        verify(dataclasses.replace(m, step=step))
    verify(m)


def test_the_code_once_per_spike_runs_beside_the_synapses_code_when_they_touch_nothing_in_common():
    m = decided(SYNAPSES + "phase p:\n    run 1 ms\n")
    pre, post = (k for k in m.step if isinstance(k, ir.SynapseEvents))
    assert pre.once and pre.once_aside and post.once_aside  # x is read only on post, y only on pre
    assert "once per spike (beside the synapses' code):" in dump(m)
    reads_x = SYNAPSES.replace("        w = clip(w + y, 0, 1)\n    on post", "        w = clip(w + y + x, 0, 1)\n    on post")
    m = decided(reads_x + "phase p:\n    run 1 ms\n")
    pre = next(k for k in m.step if isinstance(k, ir.SynapseEvents) and k.event == "pre")
    assert pre.share == "far end" and not pre.once_aside  # x, written once per spike, read per synapse
    step = tuple(dataclasses.replace(k, once_aside=True) if k is pre else k for k in m.step)
    with pytest.raises(InternalError, match="runs its code once per spike beside"):
        verify(dataclasses.replace(m, step=step))


def test_poisson_sources_sampled_per_step_and_poisson_inputs_are_shared_by_elements():
    text = NEURONS + """
poisson P[40]:
    rate = 10 * Hz * (1 + sin(t / (5 ms)))
poisson Q[40]:
    rate = 10 Hz
poisson external[100] -> G.v:
    rate = 5 Hz
    weight = 0.01
"""
    m = decided(text + "phase p:\n    run 1 ms\n")
    got = {(type(k).__name__, k.target): k.share for k in m.step
           if isinstance(k, (ir.PoissonSpikes, ir.AddPoissonInput))}
    # a uniform number per source and step, keyed by source; Q's calendar stays on one thread
    assert got == {("PoissonSpikes", "P"): "elements", ("PoissonSpikes", "Q"): "none",
                   ("AddPoissonInput", "G"): "elements"}
    verify(m)


def waits_of(text: str) -> dict[str, bool]:
    return {f"{type(k).__name__} {k.target}" + (f" {k.event}" if isinstance(k, ir.SynapseEvents) else ""): k.wait
            for k in decided(text + "phase p:\n    run 1 ms\n").step if hasattr(k, "wait")}


TWO = NEURONS + NEURONS.replace("G[20]", "H[30]").replace("dt = 0.1 ms\n", "") + """
synapses GH: G -> H:
    connect: all
    on pre: post.v += 0.1
synapses HG: H -> G:
    connect: all
    on pre: post.v += 0.1
"""


def test_threads_skip_the_barrier_only_before_code_that_touches_nothing_it_wrote():
    got = waits_of(TWO)
    # H's update runs beside G's threshold; G's update is waited for after H's
    assert got["Update G"] is False and got["Update H"] is True
    # the two pathways write H.v and G.v: the first needs no barrier; the last one waits (the resets follow)
    assert got["SynapseEvents GH pre"] is False and got["SynapseEvents HG pre"] is True
    same_target = TWO.replace("synapses HG: H -> G:", "synapses HG: H -> H:")
    got = waits_of(same_target)  # both write H.v: the first waits
    assert got["SynapseEvents GH pre"] is True
    assert "[threads: far end, no barrier after]" in dump(decided(TWO + "phase p:\n    run 1 ms\n"))


def test_verify_refuses_a_barrier_left_out_before_code_that_needs_it():
    m = decided(TWO.replace("synapses HG: H -> G:", "synapses HG: H -> H:") + "phase p:\n    run 1 ms\n")
    step = tuple(dataclasses.replace(k, wait=False) if isinstance(k, ir.SynapseEvents) and k.target == "GH" else k
                 for k in m.step)
    with pytest.raises(InternalError, match="threads do not wait after the kernel SynapseEvents of GH"):
        verify(dataclasses.replace(m, step=step))
    verify(m)
