"""`method: exact` with coefficients of each element (dv/dt = (I - v) / tau,
tau one per neuron; Tsodyks' resources with tau_rec one per synapse), as
Brian2 integrates them exactly: each element's factors computed when a run
starts (a phase may change the coefficients between runs), the same spikes
and traces as Brian2 to rounding (its closed form against our matrix
exponential); the same on the reference backend and on threads; an error
where step code changes a coefficient."""
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))
import test_against_c as REF  # noqa: E402  (its comparison)

NEURONS = """\
dt = 0.1 ms
neurons G[4]:
    dv/dt = (I - v) / tau : 1 (unless refractory)
    dI/dt = -I / tau_I : 1
    tau : second (constant)
    tau_I : second
    threshold: v > 0.8
    reset: v = 0
    refractory: 1 ms
    init:
        tau = 5 ms + i * 3 ms
        tau_I = 2 ms + i * 1 ms
        I = 3
monitor mv: G.v
monitor sp: spikes of G
phase a:
    run 10 ms
phase b:
    G.tau_I = 9.5 ms
    G.I = 2
    run 10 ms
"""

SYNAPSES = """\
dt = 0.1 ms
spikes src[3]:
    indices = [0, 1, 2, 0, 1, 2, 0]
    times = [1 ms, 2 ms, 3 ms, 6 ms, 7 ms, 9 ms, 12 ms]
neurons G[2]:
    dv/dt = -v / (10 ms) : 1
    method: exact
synapses S: src -> G:
    connect: all
    dx/dt = z / tau_rec : 1 (clock-driven)
    dy/dt = -y / (3 ms) : 1 (clock-driven)
    z = 1 - x - y : 1
    tau_rec : second (constant)
    method: exact
    init:
        x = 1
        tau_rec = 5 ms + 2 ms * i + 1 ms * j
    on pre:
        post.v += 0.5 * x
        y += 0.5 * x
        x -= 0.5 * x
monitor mx: S.x
monitor mv: G.v
phase a:
    run 15 ms
"""


def write(tmp_path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.brian2
def test_per_neuron_coefficients_match_brian2(tmp_path):
    import brian2 as b2
    path = write(tmp_path, NEURONS, "neurons.snn")
    ours = snndsl.compile(path).run()
    REF.assert_same(ours, snndsl.compile(path, backend="reference").run())
    REF.assert_same(snndsl.compile(path).run(threads=2), ours)

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    G = b2.NeuronGroup(4, "dv/dt = (I - v) / tau : 1 (unless refractory)\ndI/dt = -I / tau_I : 1\n"
                          "tau : second (constant)\ntau_I : second",
                       threshold="v > 0.8", reset="v = 0", refractory=1 * b2.ms, method="exact")
    G.tau = "5*ms + i * 3*ms"
    G.tau_I = "2*ms + i * 1*ms"
    G.I = 3
    mv, sp = b2.StateMonitor(G, "v", record=True), b2.SpikeMonitor(G)
    b2.run(10 * b2.ms)
    G.tau_I = 9.5 * b2.ms
    G.I = 2
    b2.run(10 * b2.ms)
    assert len(sp.i) >= 4
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-10, atol=1e-13)


@pytest.mark.brian2
def test_per_synapse_recovery_matches_brian2(tmp_path):
    """Tsodyks, Uziel & Markram (2000)'s resources, tau_rec one per synapse."""
    import brian2 as b2
    path = write(tmp_path, SYNAPSES, "synapses.snn")
    ours = snndsl.compile(path).run()
    REF.assert_same(ours, snndsl.compile(path, backend="reference").run())
    REF.assert_same(snndsl.compile(path).run(threads=2), ours)

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    src = b2.SpikeGeneratorGroup(3, [0, 1, 2, 0, 1, 2, 0], [1, 2, 3, 6, 7, 9, 12] * b2.ms)
    G = b2.NeuronGroup(2, "dv/dt = -v / (10*ms) : 1", method="exact")
    S = b2.Synapses(src, G, "dx/dt = z / tau_rec : 1 (clock-driven)\ndy/dt = -y / (3*ms) : 1 (clock-driven)\n"
                            "z = 1 - x - y : 1\ntau_rec : second (constant)",
                    on_pre="v_post += 0.5 * x\ny += 0.5 * x\nx -= 0.5 * x", method="exact")
    S.connect()
    S.x = 1
    S.tau_rec = "5*ms + 2*ms * i + 1*ms * j"
    mx, mv = b2.StateMonitor(S, "x", record=True), b2.StateMonitor(G, "v", record=True)
    b2.run(15 * b2.ms)
    assert np.ptp(mx.x) > 0.3
    np.testing.assert_allclose(ours["mx"].values, np.asarray(mx.x).T, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-10, atol=1e-13)


def test_a_coefficient_changed_by_step_code_is_an_error(tmp_path):
    path = write(tmp_path, NEURONS.replace("    reset: v = 0", "    reset:\n        v = 0\n        tau_I += 1 ms"),
                 "changed.snn")
    with pytest.raises(snndsl.CompileError, match="factors of each element's 'tau_I', computed when a run "
                                                  "starts, but the step's code changes 'tau_I'"):
        snndsl.compile(path)
