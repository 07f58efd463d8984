"""White noise (`xi`) against Brian2, exactly: both integrate the same
equations with the same random numbers.

snndsl draws dW = sqrt(dt) N(0, 1) once per element and step, in element
order, from the stream of the group's update (passes/streams.py). A second
model with the same stream layout, `dw/dt = xi / sqrt(second)` integrated by
euler, records those very numbers: its w moves by dW each step. Brian2's
numpy target draws its noise with `np.random.randn(N)` once per step for the
whole group, in element order too, so replaying the recorded numbers there
gives Brian2's trajectory for snndsl's draws, which must match snndsl's to
rounding: euler (additive noise, with refractoriness), heun and milstein
with multiplicative noise in a coupled system.
"""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

N, STEPS, DT = 40, 2000, 1e-4


def _recorded_normals(tmp_path, seed: int) -> np.ndarray:
    """The numbers N(0, 1) snndsl's stream 0 gives, per step and element."""
    path = tmp_path / "draws.snn"
    path.write_text(f"dt = 0.1 ms\nseed = {seed}\nneurons n[{N}]:\n"
                    "    dw/dt = xi / sqrt(second) : 1\n    method: euler\n"
                    f"monitor m: n.w\nphase a:\n    run {(STEPS + 1) * 0.1} ms\n")
    w = snndsl.compile(path).run()["m"].values
    assert w.shape == (STEPS + 1, N)
    return np.diff(w, axis=0) / np.sqrt(DT)  # dW / sqrt(dt)


def _brian2_with(normals: np.ndarray, monkeypatch, build):
    """Run `build()`'s Brian2 network with `normals` as its randn draws."""
    import brian2 as b2
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = DT * b2.second
    rows = iter(normals)

    def randn(*shape):
        assert shape == (N,), shape  # one draw per element and step
        return next(rows).copy()

    monkeypatch.setattr(np.random, "randn", randn)
    net, mon, spikes = build(b2)
    net.run(STEPS * DT * b2.second)
    return mon, spikes


def _ours(tmp_path, text: str, seed: int):
    path = tmp_path / "model.snn"
    path.write_text(f"dt = 0.1 ms\nseed = {seed}\n" + text + f"\nphase a:\n    run {STEPS * 0.1} ms\n")
    return snndsl.compile(path).run()


LIF = f"""\
const tau = 10 ms
const sigma = 4 mV
neurons n[{N}]:
    dv/dt = (-52 mV - v) / tau + sigma * sqrt(2 / tau) * xi : volt (unless refractory)
    threshold: v > -50 mV
    reset: v = -60 mV
    refractory: 2 ms
    method: euler
    init: v = -60 mV + i * 0.2 mV
monitor m: n.v
monitor sp: spikes of n
"""


def test_euler_with_additive_noise_and_refractoriness_matches_brian2(tmp_path, monkeypatch):
    normals = _recorded_normals(tmp_path, seed=7)
    ours = _ours(tmp_path, LIF, seed=7)

    def build(b2):
        mV, ms = b2.mV, b2.ms  # noqa: F841 - the equations' namespace
        G = b2.NeuronGroup(N, "dv/dt = (-52*mV - v) / (10*ms) + 4*mV * sqrt(2 / (10*ms)) * xi : volt "
                              "(unless refractory)", threshold="v > -50*mV", reset="v = -60*mV",
                           refractory=2 * ms, method="euler")
        G.v = "-60*mV + i * 0.2*mV"
        mon, spikes = b2.StateMonitor(G, "v", record=True), b2.SpikeMonitor(G)
        return b2.Network(G, mon, spikes), mon, spikes

    mon, spikes = _brian2_with(normals, monkeypatch, build)
    assert len(spikes.i) > 50  # the noise makes them fire: the threshold, reset and refractoriness all act
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(spikes.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(spikes.t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["m"].values, np.asarray(mon.v).T, rtol=1e-9, atol=1e-15)


COUPLED = f"""\
neurons n[{N}]:
    dv/dt = (1 - v) / (10 ms) + 2 * u * v * xi / sqrt(second) : 1
    du/dt = (v - u) / (5 ms) : 1
    method: METHOD
    init:
        v = 1 + i * 0.01
        u = 0.5
monitor m: n.v
monitor mu: n.u
"""


@pytest.mark.parametrize("method", ["heun", "milstein"])
def test_multiplicative_noise_in_a_coupled_system_matches_brian2(tmp_path, monkeypatch, method):
    normals = _recorded_normals(tmp_path, seed=11)
    ours = _ours(tmp_path, COUPLED.replace("METHOD", method), seed=11)

    def build(b2):
        G = b2.NeuronGroup(N, "dv/dt = (1 - v) / (10*ms) + 2 * u * v * xi / sqrt(second) : 1\n"
                              "du/dt = (v - u) / (5*ms) : 1", method=method,
                           namespace={"ms": b2.ms, "second": b2.second})
        G.v = "1 + i * 0.01"
        G.u = 0.5
        mon = b2.StateMonitor(G, ["v", "u"], record=True)
        return b2.Network(G, mon), mon, None

    mon, _ = _brian2_with(normals, monkeypatch, build)
    v, u = ours["m"].values, ours["mu"].values
    assert np.std(v[-1]) > 0.05  # the noise spreads the elements apart
    np.testing.assert_allclose(v, np.asarray(mon.v).T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(u, np.asarray(mon.u).T, rtol=1e-9, atol=1e-12)


CLIPPED = f"""\
neurons n[{N}]:
    dh/dt = (0.6 - hc) / tau * (1 + xi * tau ** 0.5) : 1
    hc = clip(h, 0, 1) : 1
    tau : second (constant)
    method: milstein
    init:
        h = 0.9 + i * 0.005
        tau = 20 ms
monitor m: n.h
"""


def test_milstein_with_a_clipped_variable_in_the_noise_matches_brian2(tmp_path, monkeypatch):
    """Stimberg et al. (2018)'s noisy IP3 receptor gating (example_2_gchi_astrocyte):
    the noise term reads clip(h, 0, 1), and h starts above 1 in some elements,
    where the clip holds the coefficient; with the same normals, Brian2's
    milstein trajectories."""
    normals = _recorded_normals(tmp_path, seed=5)
    ours = _ours(tmp_path, CLIPPED, seed=5)

    def build(b2):
        G = b2.NeuronGroup(N, "dh/dt = (0.6 - hc) / tau * (1 + xi * tau ** 0.5) : 1\nhc = clip(h, 0, 1) : 1\n"
                              "tau : second (constant)", method="milstein")
        G.h = "0.9 + i * 0.005"
        G.tau = 20 * b2.ms
        mon = b2.StateMonitor(G, "h", record=True)
        return b2.Network(G, mon), mon, None

    mon, _ = _brian2_with(normals, monkeypatch, build)
    h = ours["m"].values
    assert (h[1:] > 1).any() and np.ptp(np.diff(h, axis=0)) > 0.01  # the clip acts; the noise moves h
    np.testing.assert_allclose(h, np.asarray(mon.h).T, rtol=1e-9, atol=1e-12)


def test_heun_and_milstein_read_noise_as_stratonovich_as_brian2_does(tmp_path):
    """Brian2 reads multiplicative noise in Stratonovich's sense (its example
    advanced/stochastic_odes.py subtracts the Ito correction from the drift
    to get Ito's solution): geometric Brownian motion dx = s x o dW has the
    mean exp(s**2 t / 2), 1.28 for s**2 t = 1/2, where Ito's would stay 1.
    4000 elements put the mean within 0.05 (3 standard errors)."""
    for method in ("heun", "milstein"):
        path = tmp_path / f"{method}.snn"
        path.write_text("dt = 0.1 ms\nneurons n[4000]:\n    dx/dt = sqrt(0.5) * x * xi / sqrt(second) : 1\n"
                        f"    method: {method}\n    init: x = 1\nphase a:\n    run 1 s\n    save n.x as x\n")
        mean = snndsl.compile(path).run().saved["x"].mean()
        assert abs(mean - np.exp(0.25)) < 0.05, (method, mean)


def test_independent_noise_names_draw_independent_numbers(tmp_path):
    path = tmp_path / "two.snn"
    path.write_text(f"dt = 0.1 ms\nneurons n[{N}]:\n    da/dt = xi_a / sqrt(second) : 1\n"
                    "    db/dt = xi_b / sqrt(second) : 1\n    method: euler\n"
                    "monitor ma: n.a\nmonitor mb: n.b\nphase x:\n    run 200 ms\n")
    r = snndsl.compile(path).run()
    da, db = np.diff(r["ma"].values, axis=0).ravel(), np.diff(r["mb"].values, axis=0).ravel()
    n = da.size
    assert abs(np.std(da) / np.sqrt(DT) - 1) < 4 / np.sqrt(2 * n) and abs(np.std(db) / np.sqrt(DT) - 1) < 4 / np.sqrt(2 * n)
    assert abs(np.corrcoef(da, db)[0, 1]) < 4 / np.sqrt(n)


SHARED = f"""\
neurons n[{N}]:
    dX/dt = 2 * X / second + X * xi_w / sqrt(second) : 1
    dW/dt = xi_w / sqrt(second) : 1
    method: heun
    init: X = 1 + i * 0.01
monitor mx: n.X
monitor mw: n.W
"""


def test_a_named_noise_in_two_equations_is_one_realisation_as_in_brian2(tmp_path, monkeypatch):
    """`xi_w` in dX/dt and dW/dt (Brian2's example stochastic_odes.py integrates
    the Wiener process beside X this way): one draw per element and step,
    shared by both; W is the Wiener path of X's noise, and X follows the exact
    Stratonovich solution X0 exp(2 t + W) to the method's accuracy; exactly
    Brian2's heun for the same numbers."""
    normals = _recorded_normals(tmp_path, seed=5)
    ours = _ours(tmp_path, SHARED, seed=5)
    X, W = ours["mx"].values, ours["mw"].values
    np.testing.assert_allclose(W[1:], np.cumsum(normals[:STEPS - 1], axis=0) * np.sqrt(DT), rtol=1e-9, atol=1e-12)
    t = np.arange(STEPS)[:, None] * DT
    exact = (1 + np.arange(N) * 0.01) * np.exp(2 * t + W)
    assert np.abs(X / exact - 1).max() < 0.02

    def build(b2):
        G = b2.NeuronGroup(N, "dX/dt = 2 * X / second + X * xi_w / sqrt(second) : 1\n"
                              "dW/dt = xi_w / sqrt(second) : 1", method="heun",
                           namespace={"second": b2.second})
        G.X = "1 + i * 0.01"
        mon = b2.StateMonitor(G, ["X", "W"], record=True)
        return b2.Network(G, mon), mon, None

    mon, _ = _brian2_with(normals, monkeypatch, build)
    np.testing.assert_allclose(X, np.asarray(mon.X).T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(W, np.asarray(mon.W).T, rtol=1e-9, atol=1e-12)


def test_a_shared_noise_on_both_backends_and_threads(tmp_path):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))
    import test_against_c as REF
    path = tmp_path / "shared.snn"
    path.write_text("dt = 0.1 ms\nneurons n[5]:\n"
                    "    dX/dt = 2 * X / second + X * xi_w / sqrt(second) + 0.1 * xi_u / sqrt(second) : 1\n"
                    "    dW/dt = xi_w / sqrt(second) : 1\n    method: heun\n    init: X = 1 + i * 0.01\n"
                    "monitor mx: n.X\nmonitor mw: n.W\nphase a:\n    run 20 ms\n")
    c = snndsl.compile(path).run(seed=3)
    REF.assert_same(c, snndsl.compile(path, backend="reference").run(seed=3))
    REF.assert_same(snndsl.compile(path).run(seed=3, threads=2), c)
    assert np.ptp(c["mw"].values[-1]) > 0


def test_noise_in_a_subexpression_is_substituted_into_the_equation_as_in_brian2(tmp_path, monkeypatch):
    """Brian2's `noise = sigma * sqrt(2 / tau) * xi : volt/second` read by
    dv/dt (as Spreizer et al. 2019's example writes it; Brian2 2.11 takes it,
    2.9 refuses noise outside a differential equation): the same equation as
    the noise written into it, so the same trajectory as the LIF above, and
    as Brian2's for the same draws (2.9 given the substituted equation)."""
    normals = _recorded_normals(tmp_path, seed=7)
    text = LIF.replace("+ sigma * sqrt(2 / tau) * xi : volt (unless refractory)",
                       "+ noise : volt (unless refractory)\n    noise = sigma * sqrt(2 / tau) * xi : volt / second")
    assert text != LIF
    ours = _ours(tmp_path, text, seed=7)
    direct = _ours(tmp_path, LIF, seed=7)
    np.testing.assert_array_equal(ours["m"].values, direct["m"].values)
    np.testing.assert_array_equal(ours["sp"].t, direct["sp"].t)

    def build(b2):
        mV, ms = b2.mV, b2.ms  # noqa: F841 - the equations' namespace
        kw = dict(threshold="v > -50*mV", reset="v = -60*mV", refractory=2 * ms, method="euler")
        try:
            G = b2.NeuronGroup(N, """dv/dt = (-52*mV - v) / (10*ms) + noise : volt (unless refractory)
                                     noise = 4*mV * sqrt(2 / (10*ms)) * xi : volt/second""", **kw)
        except b2.equations.equations.EquationError:  # Brian2 < 2.11: the equation it substitutes
            G = b2.NeuronGroup(N, "dv/dt = (-52*mV - v) / (10*ms) + 4*mV * sqrt(2 / (10*ms)) * xi : volt "
                                  "(unless refractory)", **kw)
        G.v = "-60*mV + i * 0.2*mV"
        mon, spikes = b2.StateMonitor(G, "v", record=True), b2.SpikeMonitor(G)
        return b2.Network(G, mon, spikes), mon, spikes

    mon, spikes = _brian2_with(normals, monkeypatch, build)
    assert len(spikes.i) > 50
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(spikes.i))
    np.testing.assert_allclose(ours["m"].values, np.asarray(mon.v).T, rtol=1e-9, atol=1e-15)
