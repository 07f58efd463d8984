"""`every PERIOD:` blocks against Brian2's run_regularly, exactly: a neuron
group and a synapse group each change their variables on their own period;
the state monitors see the changes of the same step (snndsl runs the blocks
first in the start slot; Brian2 orders ties in a slot by the objects' names,
so 'neurongroup_run_regularly' runs before 'statemonitor' but
'synapses_run_regularly' after it: order=-1 makes it always first);
thresholds, resets and synaptic events interleave as Brian2's."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

MODEL = """\
dt = 0.1 ms
neurons G[4]:
    dv/dt = (1.2 - v) / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
    init: v = i * 0.2
    every 5 ms:
        v += 0.05 * (i + 1)
    every 2.5 ms: v *= 0.97
synapses S: G -> G:
    connect: i != j
    w : 1
    init: w = 0.01 * (i + 2 * j)
    every 2 ms: w = w * 1.1 + 0.001
    on pre: post.v += w
monitor mv: G.v
monitor mw: S.w
monitor sp: spikes of G
phase a:
    run 25 ms
phase b:
    run 17.3 ms
"""


def test_every_blocks_match_brian2s_run_regularly(tmp_path):
    import brian2 as b2
    path = tmp_path / "every.snn"
    path.write_text(MODEL)
    ours = snndsl.compile(path).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms
    G = b2.NeuronGroup(4, "dv/dt = (1.2 - v) / (10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
    G.v = "i * 0.2"
    G.run_regularly("v += 0.05 * (i + 1)", dt=5 * ms, order=-1)
    G.run_regularly("v *= 0.97", dt=2.5 * ms, order=-1)  # also on every step of the first: in order
    S = b2.Synapses(G, G, "w : 1", on_pre="v_post += w")
    S.connect("i != j")
    S.w = "0.01 * (i + 2 * j)"
    S.run_regularly("w = w * 1.1 + 0.001", dt=2 * ms, order=-1)
    mv, mw, sp = b2.StateMonitor(G, "v", record=True), b2.StateMonitor(S, "w", record=True), b2.SpikeMonitor(G)
    b2.run(25 * ms)
    b2.run(17.3 * ms)

    assert len(sp.i) > 5
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours["mw"].values, np.asarray(mw.w).T, rtol=1e-12, atol=1e-15)
    # the blocks acted: w grew by 1.1 per period, twenty-one times over 42.3 ms
    assert ours["mw"].values[-1, 0] > 5 * ours["mw"].values[0, 0]
