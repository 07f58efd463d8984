"""`rate of G` against Brian2's PopulationRateMonitor: the same spikes give the
same rate in every step (deterministic inputs)."""
from pathlib import Path

import numpy as np
import pytest

import snndsl

MODEL = Path(__file__).resolve().parent / "models" / "rate_monitor.snn"


def _brian2():
    import brian2 as b2
    from brian2 import mV, ms

    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    b2.defaultclock.dt = 0.1 * ms
    inp = b2.SpikeGeneratorGroup(4, [0, 1, 2, 3, 0, 1, 2, 0, 3, 1],
                                 [1.05, 1.05, 2.55, 3.05, 4.25, 4.25, 4.25, 6.45, 7.05, 9.95] * ms)
    n = b2.NeuronGroup(3, "dv/dt = -v / (5*ms) : volt", threshold="v > 1*mV", reset="v = 0*mV",
                       method="exact")
    S = b2.Synapses(inp, n, on_pre="v_post += 0.7*mV")
    S.connect()
    r_in, r_n = b2.PopulationRateMonitor(inp), b2.PopulationRateMonitor(n)
    b2.run(12 * ms)
    return (np.asarray(r_in.t), np.asarray(r_in.rate), np.asarray(r_n.rate))


@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.needs_cc
def test_rate_monitors_match_brian2():
    t, rate_in, rate_n = _brian2()
    res = snndsl.compile(MODEL).run()
    np.testing.assert_allclose(res["r_in"].t, t, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res["r_in"].rate, rate_in, rtol=1e-12)
    np.testing.assert_allclose(res["r_n"].rate, rate_n, rtol=1e-12)
    assert rate_n.max() > 0 and rate_in.max() > 0  # both populations did spike
