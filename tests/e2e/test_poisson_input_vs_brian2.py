"""`poisson_input` against Brian2's PoissonInput.

Exactly, where the input is deterministic (rate * dt = 1: every source
spikes in every step, so each step adds `sources * weight`): the input
comes in the synapses slot, after the thresholds and before the resets, its
writes to an `(unless refractory)` variable of a refractory neuron are
dropped (Brian2's conditional write), a subgroup receives it on its range
only, and a weight may read the group's variables. Statistically, where it
is random: the mean and variance of a shot-noise membrane potential over
many neurons, by inversion (n p < 10) and by rejection (n p >= 10, where
Brian2 approximates the binomial by a normal distribution).
"""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

DETERMINISTIC = """\
dt = 0.1 ms
const tau = 10 ms
neurons G[6]:
    dv/dt = (v_rest - v) / tau : volt (unless refractory)
    w_in : volt
    threshold: v > -50 mV
    reset: v = -65 mV
    refractory: 2 ms
    init:
        v = -65 mV + i * 2 mV
        w_in = (i + 1) * 0.01 mV
subgroup G_last = G[3:6]
const v_rest = -65 mV
poisson drive[4] -> G.v:
    rate = 10 kHz
    weight = w_in * 2 + 0.03 mV
poisson extra[2] -> G_last.v:
    rate = 10 kHz
    weight = 0.05 mV * (i + 1)
monitor mv: G.v
monitor sp: spikes of G
phase run:
    run 30 ms
"""


def test_deterministic_poisson_input_matches_brian2(tmp_path):
    import brian2 as b2
    path = tmp_path / "pi.snn"
    path.write_text(DETERMINISTIC)
    ours = snndsl.compile(path).run()
    assert ours.manifest["phases"]  # it ran

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    mV, ms, kHz = b2.mV, b2.ms, b2.kHz
    tau, v_rest = 10 * ms, -65 * mV  # noqa: F841 (read by Brian2's namespace)
    G = b2.NeuronGroup(6, "dv/dt = (v_rest - v) / tau : volt (unless refractory)\nw_in : volt",
                       threshold="v > -50*mV", reset="v = -65*mV", refractory=2 * ms, method="exact")
    G.v = "-65*mV + i * 2*mV"
    G.w_in = "(i + 1) * 0.01*mV"
    drive = b2.PoissonInput(G, "v", 4, 10 * kHz, weight="w_in * 2 + 0.03*mV")
    extra = b2.PoissonInput(G[3:6], "v", 2, 10 * kHz, weight="0.05*mV * (i + 1)")
    mv, sp = b2.StateMonitor(G, "v", record=True), b2.SpikeMonitor(G)
    net = b2.Network(G, drive, extra, mv, sp)
    net.run(30 * ms)

    assert len(sp.i) > 20  # the input drives the neurons through threshold, reset and refractoriness
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=0, atol=1e-15)


SHOT_NOISE = """\
dt = 0.1 ms
const tau = 10 ms
neurons G[2000]:
    dv/dt = -v / tau : volt
poisson ext[{sources}] -> G.v:
    rate = {rate}
    weight = 0.1 mV
monitor mv: G.v[0:2000] every 10 ms
phase run:
    run 200 ms
"""


@pytest.mark.slow
@pytest.mark.parametrize("sources, rate", [(1000, "5 Hz"), (400, "400 Hz")], ids=["inversion", "rejection"])
def test_shot_noise_statistics_match_brian2(tmp_path, sources, rate):
    """After 10 time constants, v over 2000 neurons and 11 samples: the mean
    is n r w tau and the variance n r w**2 tau / 2 (Campbell's theorem, to
    O(dt / tau)); snndsl's and Brian2's samples agree to within 5 standard
    errors of the mean and 8 % of the variance (a 2 % change of the rate moves
    the mean by about 7 standard errors here)."""
    import brian2 as b2
    path = tmp_path / "shot.snn"
    path.write_text(SHOT_NOISE.format(sources=sources, rate=rate))
    ours = snndsl.compile(path).run(seed=3)["mv"].values[10:].ravel()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(4)
    tau = 10 * b2.ms  # noqa: F841
    G = b2.NeuronGroup(2000, "dv/dt = -v / tau : volt", method="exact")
    r = float(rate.split()[0]) * b2.Hz
    pi = b2.PoissonInput(G, "v", sources, r, weight=0.1 * b2.mV)
    mv = b2.StateMonitor(G, "v", record=True, dt=10 * b2.ms)
    b2.Network(G, pi, mv).run(200 * b2.ms)
    theirs = np.asarray(mv.v)[:, 10:].ravel()

    mean = sources * float(r) * 1e-4 * 0.01
    var = sources * float(r) * 1e-8 * 0.01 / 2
    for sample in (ours, theirs):
        assert abs(sample.mean() - mean) < 0.05 * mean
        assert abs(sample.var() - var) < 0.1 * var
    se = np.sqrt(ours.var() / 2000 + theirs.var() / 2000)  # samples of one neuron 10 ms apart are correlated
    assert abs(ours.mean() - theirs.mean()) < 5 * se
    assert abs(ours.var() / theirs.var() - 1) < 0.08


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_a_rate_set_past_one_spike_per_step_is_an_error_naming_the_input(tmp_path, backend):
    """A parameter makes the rate known only at run time: the program refuses
    a probability per step outside [0, 1] at the first step, naming the
    input's place, on both backends alike (never a silent clamp)."""
    path = tmp_path / "rate.snn"
    path.write_text("param r = 5 Hz\nneurons G[3]:\n    dv/dt = -v / (10 ms) : volt\n"
                    "poisson ext[10] -> G.v:\n    rate = r\n    weight = 0.1 mV\nphase a:\n    run 1 ms\n")
    model = snndsl.compile(path, backend=backend)
    assert model.run(params={"r": "10 kHz"}) is not None  # one spike per source and step is the limit
    with pytest.raises(snndsl.SimulationError) as err:
        model.run(params={"r": "20 kHz"})
    assert f"{path}:4:1: error[E0501]: Poisson input 'ext': rate * dt is 2, not a probability between 0 and 1" \
        in str(err.value)
