"""The ports of Brian2's examples in examples/brian2/ compile, run (with short
durations) and do what their comments say; the deterministic ones give Brian2's
spikes and traces (numpy target) to rounding.

Every `examples/brian2/*.snn` must have a check here (test_every_port_is_checked),
so a new port cannot go untested. The checks against Brian2 done when the ports
were written (longer runs, several seeds for the random models) are in the report
of docs/from_brian2.md's examples section; these are the cheap ones.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import snndsl

from conftest import EXAMPLES

pytestmark = pytest.mark.needs_cc

PORTS = EXAMPLES / "brian2"
ms, mV, nA = 1e-3, 1e-3, 1e-9


def run(name: str, seed: int | None = None, **params):
    model = snndsl.compile(PORTS / f"{name}.snn")
    return model.run(seed=seed, params=params or None)


def counts(res, monitor: str, n: int) -> np.ndarray:
    return np.bincount(res[monitor].i, minlength=n)


# --- the deterministic ports -------------------------------------------------

def check_IF_curve_LIF():
    res = run("IF_curve_LIF", duration="300 ms")
    c = counts(res, "spikes", 1000)
    v0 = 20 * mV * np.arange(1000) / 999
    assert c[v0 <= 10 * mV].sum() == 0           # below threshold: silent
    assert c[-1] > 0 and np.all(np.diff(c) >= 0)  # the curve rises with v0
    # the rate of an LIF with refractoriness: 1 / (t_ref + tau log(v0 / (v0 - v_th)))
    above = v0 > 10.05 * mV
    period = 5 * ms + 10 * ms * np.log(v0[above] / (v0[above] - 10 * mV))
    assert np.all(np.abs(c[above] - 0.3 / period) <= 1.5)


def check_IF_curve_Hodgkin_Huxley():
    res = run("IF_curve_Hodgkin_Huxley", duration="300 ms")
    c = counts(res, "spikes", 100)
    assert c[:3].sum() == 0 and c[-1] > 20       # no spike without input, many with 0.7 nA
    assert np.all(np.diff(c) >= 0)                # the curve rises with the current


def check_gapjunctions():
    res = run("gapjunctions")
    t, i = res["spikes"].t, res["spikes"].i
    assert set(i) == set(range(10))
    # uncoupled, each would fire every tau * log(v0 / (v0 - 1)) = 30.4 ms; the
    # coupling locks all ten to one common, slower period
    last_isi = [np.diff(t[i == k])[-1] for k in range(10)]
    assert np.ptp(last_isi) < 0.3 * ms and np.mean(last_isi) > 35 * ms


def check_nonlinear():
    res = run("nonlinear", duration="100 ms")
    g_syn, g = res["syn_g"].values, res["neuron_g"].values[:, 0]
    # g is the summed g_syn, summed before the step's update (monitors record before it)
    np.testing.assert_allclose(g[1:], g_syn[:-1].sum(axis=1), rtol=1e-12)
    assert g_syn[:, 1].max() > g_syn[:, 0].max() > 0.1  # w = 10 saturates more than w = 1
    assert g_syn.max() < 1


def check_Brette_Gerstner_2005():
    res = run("Brette_Gerstner_2005")
    t = res["spikes"].t
    assert len(t) >= 4
    assert np.all((t > 20 * ms) & (t < 120 * ms))  # only while the current is on
    assert np.all(np.diff(np.diff(t)) > 0)         # adaptation: intervals grow


def check_Touboul_Brette_2008():
    res = run("Touboul_Brette_2008", settle="20 ms", duration="20 ms")
    w = res["states"]
    assert np.isclose(w.t[0], 20 * ms) and w.values.shape == (2000, 200)  # recorded after settle only
    spikes = res["spikes"]
    assert len(set(spikes.i)) == 200                # every neuron fires under 0.8 nA
    assert np.all(spikes.t >= 20 * ms - 1e-12)      # during record only
    assert np.all(w.values > 0) and np.all(spikes.w > 0)


def check_Hindmarsh_Rose_1984():
    res = run("Hindmarsh_Rose_1984", duration="400 ms")
    x = res["mon"].values
    upcrossings = ((x[1:] > 1) & (x[:-1] <= 1)).sum(axis=0)
    # I = 0.4: one burst of few spikes; I = 2 bursts; I = 4 spikes fast and regularly
    assert 0 < upcrossings[0] < upcrossings[1] < upcrossings[2]


def check_Morris_Lecar_1981():
    res = run("Morris_Lecar_1981", duration="150 ms")
    V = res["mon_V"].values[5000:]  # after 50 ms
    upcrossings = ((V[1:] > 0) & (V[:-1] <= 0)).sum(axis=0)
    # 100 uA: rest (no oscillation); from about 200 uA on, oscillations, faster with the current
    assert upcrossings[0] == 0 and np.ptp(V[:, 0]) < 1 * mV
    assert upcrossings[8] > 0 and upcrossings[12] >= upcrossings[8]


# --- the random ports: qualitative properties ----------------------------------

def check_phase_locking():
    res = run("phase_locking", duration="1000 ms")
    i, t = res["S"].i, res["S"].t
    late = t > 200 * ms

    def vector_strength(sel):
        phase = 2 * np.pi * 10 * t[sel]
        return np.abs(np.mean(np.exp(1j * phase)))
    weak, strong = late & (i < 10), late & (i >= 90)
    assert weak.sum() > 100 and strong.sum() > 100
    assert vector_strength(strong) > 0.6 > 0.2 > vector_strength(weak)
    # the strongly modulated neurons are locked: the same number of spikes per cycle
    assert len(set(np.bincount(i[late & (i >= 60)], minlength=100)[60:])) == 1


def check_CUBA():
    res = run("CUBA", duration="300 ms")
    i = res["s_mon"].i
    rate = len(i) / 4000 / 0.3
    assert 2 < rate < 15
    assert (i < 3200).any() and (i >= 3200).any()


def check_COBAHH():
    res = run("COBAHH", duration="50 ms")
    v = res["trace"].values
    assert np.all(np.isfinite(v)) and np.all((v > -100 * mV) & (v < 60 * mV))
    i = res["spikes"].i
    assert len(i) > 1000 and len(set(i)) > 1000      # self-sustained activity, widely spread
    assert res["rate"].rate.shape == (500,)


def check_STDP():
    res = run("STDP", duration="10 s")
    w = res.saved["w_final"]
    assert len(w) == 1000 and w.min() >= 0 and w.max() <= 0.01
    assert len(res["out_spikes"].t) > 20
    # depression outweighs potentiation: the weights drift towards both bounds,
    # more of them to 0
    assert (w < 0.001).sum() > (w > 0.009).sum() > 0


def _synchrony(res, n: int, duration: float) -> float:
    """Variance over mean of the population's spike counts in 2 ms bins: about 1
    for independent spikes, larger when the neurons fire together."""
    h = np.histogram(res["spikes"].t, bins=int(duration / (2 * ms)), range=(0, duration))[0]
    return h.var() / h.mean()


def check_reliability():
    res = run("reliability")
    assert len(res["spikes"].i) > 100 and set(res["spikes"].i) == set(range(25))
    assert np.std(res["input"].values) > 0.3          # the common input fluctuates
    assert _synchrony(res, 25, 0.5) > 2 * _synchrony(run("non_reliability"), 25, 0.5)


def check_non_reliability():
    res = run("non_reliability")
    assert len(res["spikes"].i) > 100 and set(res["spikes"].i) == set(range(25))
    # constant drive: spikes about evenly spread (synchrony is compared in check_reliability)
    assert _synchrony(res, 25, 0.5) < 3


def check_Brunel_Hakim_1999():
    res = run("Brunel_Hakim_1999")
    assert 0 < len(res["M"].i) / 5000 / 0.1 < 20   # neurons fire at low rates
    rate = res["LFP"].rate[300:]                  # the oscillation has set in after 30 ms
    x = rate - rate.mean()
    f = np.fft.rfftfreq(len(x), 0.1 * ms)
    peak = f[1:][np.argmax(np.abs(np.fft.rfft(x))[1:])]
    assert 100 < peak < 300                       # the fast global oscillation


def check_Vogels_et_al_2011():
    res = run("Vogels_et_al_2011", t_static="100 ms", t_plastic="100 ms")
    i = res["sm"].i
    assert len(i) > 0 and i.max() < 8000          # spikes of Pe, numbered within it
    w = res.saved["w_ie"]
    assert 1e-10 < w.mean() and w.min() >= 0 and w.max() <= 100  # plasticity ran
    assert len(w) > 0.015 * 2000 * 8000


def check_coupled_oscillators():
    def coherence(res):
        theta = res["mon"].values[-1]
        return np.abs(np.mean(np.exp(1j * theta)))
    model = snndsl.compile(PORTS / "coupled_oscillators.snn")
    free = model.run(params={"duration": "5 s"})
    coupled = model.run(params={"duration": "5 s", "K": "4 Hz"})
    np.testing.assert_array_equal(free["mon"].values[0], coupled["mon"].values[0])  # same start
    assert coherence(coupled) > 0.8 > 0.5 > coherence(free)


def check_Ornstein_Uhlenbeck():
    res = run("Ornstein_Uhlenbeck")
    y, t = res["M"].values, res["M"].t
    assert np.all(y[0] == 1)
    late = t > 1.0
    # the stationary variance is sigma**2: 0.1 for the fast process
    assert 0.05 < y[late, 1].var() < 0.2
    assert np.abs(y[late, 1].mean()) < 0.1


def check_adaptive_threshold():
    res = run("adaptive_threshold", duration="1 s")
    t = res["crossings"].t
    assert len(t) > 20
    steps = np.round(t / (0.1 * ms)).astype(int)
    v_at_spike = res["crossings"].v                     # recorded at each spike, before the reset
    vt_before = res["Mvt"].values[steps, 0]
    assert np.all(v_at_spike >= 10 * mV)
    assert np.all(v_at_spike >= vt_before - 3.5 * mV)   # about the threshold, not below it
    assert np.ptp(v_at_spike) > 2 * mV                   # the threshold adapts


def check_Brunel_2000():
    """Panel A (g = 3, twice the threshold rate) is synchronous and regular:
    every neuron fires at the network's period, and the population rate is
    high and far from constant; panel D (g = 4.5, 0.9 times the threshold
    rate) fires sparsely, in slow population bursts."""
    model = snndsl.compile(PORTS / "Brunel_2000.snn")
    a = model.run(params={"g": 3, "nu_ratio": 2, "duration": "300 ms"})
    d = model.run(params={"g": 4.5, "nu_ratio": 0.9, "duration": "300 ms"})
    late = a["rate"].t > 0.1
    rate_a, rate_d = a["rate"].rate[late], d["rate"].rate[late]
    assert rate_a.mean() > 150 and rate_a.std() > 2 * rate_a.mean()
    assert 1 < rate_d.mean() < 20 and rate_d.std() > rate_d.mean()
    per_neuron = counts(a, "spikes", 50) / 0.3
    assert per_neuron.min() > 100  # all fire, regularly


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}
SLOW = {"STDP", "Vogels_et_al_2011", "COBAHH", "coupled_oscillators", "Brunel_2000"}


def test_every_port_is_checked():
    ports = {p.stem for p in PORTS.glob("*.snn")}
    assert ports == set(CHECKS), ports ^ set(CHECKS)


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(CHECKS)])
def test_port(name):
    CHECKS[name]()


def test_a_port_runs_with_one_command(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(PORTS / "gapjunctions.snn"),
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(snndsl.load(out)["spikes"].i) > 50


# --- agreement with Brian2 (numpy target), for the deterministic ports ---------

def _brian2():
    b2 = pytest.importorskip("brian2")
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    return b2


@pytest.mark.brian2
def test_nonlinear_as_in_brian2():
    b2 = _brian2()
    ms_ = b2.ms
    a = b = c = 1 / (10 * ms_)  # noqa: F841 - the equations' namespace
    inp = b2.NeuronGroup(2, "dv/dt = 1/(10*ms) : 1", threshold="v>1", reset="v = 0", method="euler")
    target = b2.NeuronGroup(1, "dv/dt = (g-v)/(10*ms) : 1\ng : 1", method="exact")
    S = b2.Synapses(inp, target, """dg_syn/dt = -a*g_syn+b*x*(1-g_syn) : 1 (clock-driven)
                                    g_post = g_syn : 1 (summed)
                                    dx/dt=-c*x : 1 (clock-driven)
                                    w : 1""", on_pre="x += w", method="euler")
    S.connect()
    S.w = [1., 10.]
    inp.v = [0., 0.5]
    M, Mn = b2.StateMonitor(S, "g_syn", record=True), b2.StateMonitor(target, ["g", "v"], record=0)
    b2.run(200 * ms_)
    ours = run("nonlinear", duration="200 ms")
    np.testing.assert_allclose(ours["syn_g"].values, M.g_syn[:].T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours["neuron_g"].values, Mn.g[:].T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours["neuron_v"].values, Mn.v[:].T, rtol=1e-10, atol=1e-15)
    assert ours["neuron_v"].values.max() > 0.5


@pytest.mark.brian2
def test_Brette_Gerstner_2005_as_in_brian2():
    b2 = _brian2()
    from brian2 import mV as mV_, ms as ms_, nA as nA_, nS, pF
    C, gL, EL, VT, DeltaT = 281 * pF, 30 * nS, -70.6 * mV_, -50.4 * mV_, 2 * mV_
    Vcut = VT + 5 * DeltaT  # noqa: F841
    tauw, a, b, Vr = 144 * ms_, 4 * nS, 0.0805 * nA_, -70.6 * mV_  # noqa: F841
    neuron = b2.NeuronGroup(1, """
        dvm/dt = (gL*(EL - vm) + gL*DeltaT*exp((vm - VT)/DeltaT) + I - w)/C : volt
        dw/dt = (a*(vm - EL) - w)/tauw : amp
        I : amp""", threshold="vm>Vcut", reset="vm=Vr; w+=b", method="euler")
    neuron.vm = EL
    trace, spikes = b2.StateMonitor(neuron, "vm", record=0), b2.SpikeMonitor(neuron)
    b2.run(20 * ms_)
    neuron.I = 1 * nA_
    b2.run(100 * ms_)
    neuron.I = 0 * nA_
    b2.run(20 * ms_)
    ours = run("Brette_Gerstner_2005")
    assert len(spikes.t) >= 4
    np.testing.assert_allclose(ours["spikes"].t, spikes.t_[:], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["trace"].values, trace.vm_[:].T, rtol=1e-10, atol=1e-15)


@pytest.mark.brian2
@pytest.mark.slow
def test_gapjunctions_as_in_brian2():
    b2 = _brian2()
    n, v0, tau = 10, 1.05, 10 * b2.ms  # noqa: F841
    G = b2.NeuronGroup(n, "dv/dt = (v0 - v + Igap) / tau : 1\nIgap : 1", threshold="v > 1",
                       reset="v = 0", method="exact")
    G.v = "i * 1.0 / (n-1)"
    trace, sp = b2.StateMonitor(G, "v", record=range(6)), b2.SpikeMonitor(G)
    S = b2.Synapses(G, G, "w : 1\nIgap_post = w * (v_pre - v_post) : 1 (summed)")
    S.connect()
    S.w = .02
    b2.run(500 * b2.ms)
    ours = run("gapjunctions")
    assert len(sp.i) > 100
    np.testing.assert_array_equal(ours["spikes"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["spikes"].t, sp.t_[:], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["trace"].values, trace.v[:].T, rtol=1e-10, atol=1e-13)


@pytest.mark.brian2
@pytest.mark.slow
def test_Hindmarsh_Rose_1984_as_in_brian2():
    b2 = _brian2()
    time_unit = 1 * b2.ms  # noqa: F841
    x_1, a, b, c, d, r, s = -1.6, 1, 3, 1, 5, 0.001, 4  # noqa: F841
    G = b2.NeuronGroup(3, """dx/dt = (y - a*x**3 + b*x**2 + I - z)/time_unit : 1
                             dy/dt = (c - d*x**2 - y)/time_unit : 1
                             dz/dt = r*(s*(x - x_1) - z)/time_unit : 1
                             I : 1 (constant)""", method="rk4")
    G.x = x_1
    G.y = "c - d*x**2"
    G.z = "r*(s*(x - x_1))"
    G.I = [0.4, 2, 4]
    mon = b2.StateMonitor(G, "x", record=True)
    b2.run(400 * b2.ms)
    ours = run("Hindmarsh_Rose_1984", duration="400 ms")
    np.testing.assert_allclose(ours["mon"].values, mon.x[:].T, rtol=0, atol=1e-9)


@pytest.mark.brian2
@pytest.mark.slow
def test_Morris_Lecar_1981_as_in_brian2():
    b2 = _brian2()
    from brian2 import mS, mV as mV_, ms as ms_, uA, uF
    b2.defaultclock.dt = 0.01 * ms_
    g_L, g_Ca, g_K = 2 * mS, 4 * mS, 8 * mS  # noqa: F841 - the equations' namespace
    V_L, V_Ca, V_K = -50 * mV_, 100 * mV_, -70 * mV_  # noqa: F841
    lambda_n__max = 1.0 / (15 * ms_)  # noqa: F841
    V_1, V_2, V_3, V_4, C = 10 * mV_, 15 * mV_, -1 * mV_, 14.5 * mV_, 20 * uF  # noqa: F841
    neuron = b2.NeuronGroup(17, """
        dV/dt = (-g_L*(V - V_L) - g_Ca*m_inf*(V - V_Ca) - g_K*n*(V - V_K) + I)/C : volt
        dn/dt = lambda_n*(n_inf - n) : 1
        m_inf = 0.5*(1 + tanh((V - V_1)/V_2)) : 1
        n_inf = 0.5*(1 + tanh((V - V_3)/V_4)) : 1
        lambda_n = lambda_n__max*cosh((V - V_3)/(2*V_4)) : Hz
        I : amp""", method="exponential_euler")
    neuron.I = (np.arange(17) * 25 + 100) * uA
    neuron.V = V_L
    neuron.n = "n_inf"
    mon = b2.StateMonitor(neuron, ["V", "n"], record=True)
    b2.run(100 * ms_)
    ours = run("Morris_Lecar_1981", duration="100 ms")
    assert np.ptp(mon.V_[:]) > 50 * mV
    np.testing.assert_allclose(ours["mon_V"].values, mon.V_[:].T, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(ours["mon_n"].values, mon.n[:].T, rtol=1e-9, atol=1e-15)
