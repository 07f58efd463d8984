"""Clock-driven synaptic equations against Brian2 (numpy target): an exact one and
a nonlinear euler one reading the postsynaptic neuron; identical inputs, so the
traces agree to floating point."""
from pathlib import Path

import numpy as np
import pytest

import snndsl

MODEL = Path(__file__).resolve().parent / "models" / "clock_driven_synapses.snn"


def _brian2():
    import brian2 as b2
    from brian2 import mV, ms

    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    b2.defaultclock.dt = 0.1 * ms
    inp = b2.SpikeGeneratorGroup(3, [0, 1, 2, 0, 2, 1, 0],
                                 [1.05, 2.25, 2.25, 4.45, 7.15, 9.95, 12.55] * ms)
    out = b2.NeuronGroup(2, "dv/dt = (-70*mV - v) / tau_m : volt", method="exact",
                         namespace={"tau_m": 10 * ms})
    out.v = "-70*mV + i * 10*mV"
    S = b2.Synapses(inp, out, "dg/dt = -g / tau : 1 (clock-driven)",
                    on_pre="g += 1\nv_post += 2*mV * g", method="exact", namespace={"tau": 5 * ms})
    S.connect()
    E = b2.Synapses(inp, out, "dh/dt = (-h + h * h * 0.1 + (v_post + 70*mV) / (100*mV)) / tau : 1 (clock-driven)",
                    on_pre="h += 0.5", method="euler", namespace={"tau": 5 * ms})
    E.connect("i != j")
    mg, mh, mv = b2.StateMonitor(S, "g", record=True), b2.StateMonitor(E, "h", record=True), \
        b2.StateMonitor(out, "v", record=True)
    b2.run(20 * ms)
    return mg.g.T, mh.h.T, mv.v.T / b2.volt


@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.needs_cc
def test_clock_driven_synapses_match_brian2():
    g, h, v = _brian2()
    res = snndsl.compile(MODEL).run()
    np.testing.assert_allclose(res["gS"].values, g, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res["hE"].values, h, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res["vO"].values, v, rtol=0, atol=1e-12)
    assert g.max() > 1 and h.max() > 0.5  # the inputs did reach the synapses
