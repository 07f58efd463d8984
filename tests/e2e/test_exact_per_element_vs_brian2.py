"""`method: exact` with coefficients of each element (dv/dt = (I - v) / tau,
tau one per neuron; Tsodyks' resources with tau_rec one per synapse), as
Brian2 integrates them exactly: each element's factors computed when a run
starts (a phase may change the coefficients between runs), the same spikes
and traces as Brian2 to rounding (its closed form against our matrix
exponential); the same on the reference backend and on threads; where step
code changes a coefficient, the factors made in each step, as Brian2's closed
form is evaluated in each step."""
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


CHANGED = NEURONS.replace("dI/dt = -I / tau_I", "dI/dt = (2 - I) / tau_I").replace(
    "    reset: v = 0", "    reset:\n        v = 0\n        I = 0\n        tau_I += 0.7 ms")


@pytest.mark.brian2
def test_a_coefficient_changed_by_step_code_as_in_brian2(tmp_path):
    """A reset lengthens the neuron's tau_I at each spike: the factors are
    made afresh in each step from the coefficients then, as Brian2 evaluates
    its closed form in each step (and not once when the run starts)."""
    import brian2 as b2
    path = write(tmp_path, CHANGED, "changed.snn")
    from snndsl.driver import frontend
    from snndsl.ir import nodes as ir
    steps = [s for g in frontend(path.read_text(), str(path)).ir.groups for s in g.update
             if isinstance(s, ir.LinearStep)]
    assert [s.per_step for s in steps] == [True]
    ours = snndsl.compile(path).run()
    REF.assert_same(ours, snndsl.compile(path, backend="reference").run())
    REF.assert_same(snndsl.compile(path).run(threads=2), ours)

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    G = b2.NeuronGroup(4, "dv/dt = (I - v) / tau : 1 (unless refractory)\ndI/dt = (2 - I) / tau_I : 1\n"
                          "tau : second (constant)\ntau_I : second",
                       threshold="v > 0.8", reset="v = 0\nI = 0\ntau_I += 0.7*ms", refractory=1 * b2.ms, method="exact")
    G.tau = "5*ms + i * 3*ms"
    G.tau_I = "2*ms + i * 1*ms"
    G.I = 3
    mv, sp = b2.StateMonitor(G, "v", record=True), b2.SpikeMonitor(G)
    b2.run(10 * b2.ms)
    G.tau_I = 9.5 * b2.ms
    G.I = 2
    b2.run(10 * b2.ms)
    counts = np.bincount(np.asarray(sp.i), minlength=4)
    assert counts.max() >= 3  # tau_I changed several times within a run
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-10, atol=1e-13)
    # the factors of the run's start would give another trace
    frozen_tau = CHANGED.replace("tau_I += 0.7 ms", "tau_I += 0 ms")
    other = snndsl.compile(write(tmp_path, frozen_tau, "same.snn")).run()
    assert np.abs(other["mv"].values - ours["mv"].values).max() > 1e-3


UNIFORM_AT_START = """\
dt = 0.1 ms
spikes src[1]:
    indices = [0]
    times = [4 ms]
neurons G[3]:
    v : 1
synapses S: src -> G:
    connect: all
    dg/dt = -g / tau_g : 1 (clock-driven)
    tau_g : second (constant)
    method: exact
    init:
        g = 1
        tau_g = 2 ms + 3 ms * j
    on pre: post.v += g
monitor mv: G.v
phase a:
    run 5 ms
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_a_synapse_variable_equal_at_the_start_parts_by_its_own_time_constant(tmp_path, backend):
    """g starts the same in every synapse, and only the exact step writes it:
    with a tau_g per synapse the synapses part, so on pre reads each
    synapse's own g (not one value for all, as for a variable no step code
    writes)."""
    path = write(tmp_path, UNIFORM_AT_START, "uniform.snn")
    v = snndsl.compile(path, backend=backend).run()["mv"].values[-1]
    # the spike at 4 ms (step 40) arrives after that step's update, the 41st: g = exp(-4.1 ms / tau_g)
    np.testing.assert_allclose(v, np.exp(-4.1e-3 / (2e-3 + 3e-3 * np.arange(3))), rtol=1e-12)


UNCOUPLED = """\
dt = 0.1 ms
neurons G[4]:
    dv/dt = (2 - v) / tau : 1 (unless refractory)
    dI/dt = -I / tau : 1
    tau : second
    threshold: v > 0.8
    reset:
        v = 0
        I += 1
        tau += 0.3 ms
    refractory: 1 ms
    init:
        tau = 5 ms + i * 3 ms
monitor mv: G.v
monitor mI: G.I
monitor sp: spikes of G
phase a:
    run 20 ms
"""


@pytest.mark.brian2
def test_uncoupled_variables_whose_coefficient_changes_as_in_brian2(tmp_path):
    """Uncoupled variables (M diagonal) whose tau a reset lengthens: each
    row's closed form in each step, as Brian2's (v held while refractory)."""
    import brian2 as b2
    path = write(tmp_path, UNCOUPLED, "uncoupled.snn")
    ours = snndsl.compile(path).run()
    REF.assert_same(ours, snndsl.compile(path, backend="reference").run())
    REF.assert_same(snndsl.compile(path).run(threads=2), ours)

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    G = b2.NeuronGroup(4, "dv/dt = (2 - v) / tau : 1 (unless refractory)\ndI/dt = -I / tau : 1\ntau : second",
                       threshold="v > 0.8", reset="v = 0\nI += 1\ntau += 0.3*ms", refractory=1 * b2.ms, method="exact")
    G.tau = "5*ms + i * 3*ms"
    mv, mI, sp = b2.StateMonitor(G, "v", record=True), b2.StateMonitor(G, "I", record=True), b2.SpikeMonitor(G)
    b2.run(20 * b2.ms)
    assert np.bincount(np.asarray(sp.i), minlength=4).min() >= 2
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ours["mI"].values, np.asarray(mI.I).T, rtol=1e-13, atol=1e-15)
