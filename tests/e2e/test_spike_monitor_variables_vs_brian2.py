"""A spike monitor `with` variables against Brian2's SpikeMonitor(variables=...),
exactly: each variable's value at each spike, after the threshold and before
the reset (an adaptive threshold, as Brian2's adaptive_threshold example),
for a group and for a subgroup. `during` on spike and rate monitors keeps
the recordings of the phases named."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

MODEL = """\
dt = 0.1 ms
neurons G[4]:
    dv/dt = (2 - v) / (10 ms) : 1
    th : 1
    method: euler
    threshold: v > th
    reset: v = 0; th += 0.1
    init: th = 1 + 0.1 * i
subgroup G_last = G[2:4]
monitor sp: spikes of G with v, th
monitor sp_last: spikes of G_last with th
phase a:
    run 50 ms
"""


def test_variables_at_each_spike_match_brian2(tmp_path):
    import brian2 as b2
    path = tmp_path / "adaptive.snn"
    path.write_text(MODEL)
    ours = snndsl.compile(path).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms  # noqa: F841 - the equations' namespace
    G = b2.NeuronGroup(4, "dv/dt = (2 - v) / (10*ms) : 1\nth : 1", threshold="v > th",
                       reset="v = 0; th += 0.1", method="euler")
    G.th = "1 + 0.1 * i"
    sp, sp_last = b2.SpikeMonitor(G, variables=["v", "th"]), b2.SpikeMonitor(G[2:4], variables=["th"])
    b2.run(50 * ms)
    assert len(sp.i) > 8
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].v, np.asarray(sp.v), rtol=1e-12)
    np.testing.assert_allclose(ours["sp"].th, np.asarray(sp.th), rtol=1e-12)
    assert np.all(ours["sp"].v > ours["sp"].th)  # recorded before the reset
    np.testing.assert_array_equal(ours["sp_last"].i, np.asarray(sp_last.i))
    np.testing.assert_allclose(ours["sp_last"].th, np.asarray(sp_last.th), rtol=1e-12)
    assert ours["sp"].recorded_units == {"v": "1", "th": "1"}
    with pytest.raises(AttributeError, match="records v, th"):
        ours["sp"].w


def test_during_on_spike_and_rate_monitors(tmp_path):
    path = tmp_path / "during.snn"
    path.write_text(MODEL.replace("monitor sp_last: spikes of G_last with th\n",
                                  "monitor sp_b: spikes of G with th during b\nmonitor r_a: rate of G during a\n")
                    + "phase b:\n    run 30 ms\n")
    r = snndsl.compile(path).run()
    everything = r["sp"]
    in_b = everything.t >= 0.05 - 1e-12
    np.testing.assert_array_equal(r["sp_b"].i, everything.i[in_b])
    np.testing.assert_array_equal(r["sp_b"].th, everything.th[in_b])
    assert r["r_a"].t[-1] < 0.05 and len(r["r_a"].t) == 500
