"""Groups on clocks of their own (`dt: PERIOD`, Brian2's dt= of a NeuronGroup,
PoissonGroup or Synapses) against Brian2, exactly: tests/e2e/models/
group_clocks_deterministic.snn has a refractory group on a 1 ms clock beside
the model's 0.1 ms, a pathway from the model's clock onto it, a spike
generator on a 0.5 ms clock (its times binned by it) and one from it
through a delay that its clock rounds, a group on a 0.5 ms clock, synapses on
a 0.2 ms clock with a clock-driven variable summed onto the slow group, an
exact step whose factors are made in each step of its clock,
`dt` in code, runs that end between two of its steps, and state, spike and
rate monitors on their groups' clocks. Then the model that draws
(group_clocks.snn): its sources' spikes on their clock, at the rate per step
of their dt, as in Brian2 over seeds; the same models run on the reference
backend (tests/reference), threads and ranks (test_threads.py, test_ranks.py)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

ROOT = Path(__file__).resolve().parent.parent.parent
MODELS = ROOT / "tests" / "e2e" / "models"
DETERMINISTIC = MODELS / "group_clocks_deterministic.snn"
RANDOM = MODELS / "group_clocks.snn"


def _steps(t, dt=1e-4) -> np.ndarray:
    return np.round(np.asarray(t, dtype=float) / dt).astype(np.int64)


@pytest.mark.brian2
def test_group_clocks_match_brian2():
    import brian2 as b2
    from brian2 import ms
    ours = snndsl.compile(DETERMINISTIC).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * ms
    src = b2.SpikeGeneratorGroup(2, [0, 1, 0, 1, 0], np.array([0.3, 1.25, 4.4, 4.45, 9.95]) * ms)
    A = b2.NeuronGroup(3, """dv/dt = (I + g - v) / (10*ms) : 1 (unless refractory)
                             dg/dt = -g / (4*ms) : 1
                             I : 1 (constant)
                             s_in : 1
                             steps : 1
                             ticks : 1""",
                       threshold="v > 1", reset="v = 0\nsteps += t / dt", refractory=2 * ms, method="exact",
                       dt=1 * ms)
    A.I = "1.05 + 0.3 * i"
    A.run_regularly("ticks += 1 + v", dt=0.5 * ms)
    B = b2.NeuronGroup(2, "dx/dt = -x * k / (3*ms) : 1\nk : 1", threshold="x > 0.8", reset="x = 0; k += 0.25",
                       method="exact", dt=0.5 * ms)
    B.k = "1 + 0.5 * i"
    gen2 = b2.SpikeGeneratorGroup(2, [0, 1, 1, 0], np.array([0.7, 3.2, 6.9, 12.25]) * ms, dt=0.5 * ms)
    G2 = b2.Synapses(gen2, B, on_pre="x_post += 0.6")
    G2.connect("i == j")
    C = b2.NeuronGroup(2, "du/dt = (s - u) / (2*ms) : 1\ns : 1", method="exact")
    In = b2.Synapses(src, A, on_pre="g_post += 0.2 + 0.1 * i + 0.05 * j")
    In.connect()
    S = b2.Synapses(A, B, "w : 1", on_pre="x_post += w", delay=1.6 * ms)
    S.connect()
    S.w = "0.5 + 0.2 * i - 0.1 * j"
    Q = b2.Synapses(B, A, """dq/dt = -q / (1*ms) + 1 / (5*ms) : 1 (clock-driven)
                             s_in_post = q * dt / (1*ms) : 1 (summed)""", dt=0.2 * ms, method="exact")
    Q.connect("i == j")
    R = b2.Synapses(A, C, "s_post = 0.2 * u_post + v_pre : 1 (summed)")
    R.connect()
    states = {"av": (b2.StateMonitor(A, "v", record=True), "v"),
              "ag": (b2.StateMonitor(A, "g", record=True, dt=0.3 * ms), "g"),
              "bx": (b2.StateMonitor(B, "x", record=True), "x"), "qq": (b2.StateMonitor(Q, "q", record=True), "q"),
              "cu": (b2.StateMonitor(C, "u", record=True), "u")}
    spikes = {"asp": b2.SpikeMonitor(A), "bsp": b2.SpikeMonitor(B), "gsp": b2.SpikeMonitor(gen2)}
    rate = b2.PopulationRateMonitor(A)
    net = b2.Network(src, gen2, A, B, C, In, G2, S, Q, R, rate, *spikes.values(), *(mon for mon, _ in states.values()))
    net.run(20.05 * ms)
    net.run(9.95 * ms)

    for name, (mon, var) in states.items():
        np.testing.assert_allclose(ours[name].t, np.asarray(mon.t_), rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(ours[name].values, getattr(mon, var).T, rtol=1e-13, atol=1e-14, err_msg=name)
    # each monitor on its group's clock: 30 ms in steps of 1 ms, 0.5 ms, 0.2 ms; `every 0.3 ms` its own
    assert [len(ours[n].t) for n in ("av", "bx", "qq", "ag", "cu")] == [30, 60, 150, 100, 300]
    for name, mon in spikes.items():
        np.testing.assert_array_equal(ours[name].i, np.asarray(mon.i), err_msg=name)
        np.testing.assert_array_equal(_steps(ours[name].t), _steps(mon.t_), err_msg=name)
    assert len(ours["asp"].t) >= 5 and len(ours["bsp"].t) >= 2  # spikes crossed the delayed pathway
    assert np.all(_steps(ours["asp"].t) % 10 == 0) and np.all(_steps(ours["bsp"].t) % 5 == 0)
    np.testing.assert_array_equal(_steps(ours["gsp"].t), [5, 30, 65, 120])  # binned by its 0.5 ms clock
    np.testing.assert_allclose(ours["ar"].rate, np.asarray(rate.rate_), rtol=1e-12)  # count / N / A's dt
    np.testing.assert_allclose(ours["ar"].t, np.asarray(rate.t_), rtol=1e-12)
    for var in ("steps", "s_in", "ticks"):
        np.testing.assert_allclose(ours.saved[var], getattr(A, var)[:], rtol=1e-13, err_msg=var)
    # `dt` in A's reset is A's own: t / dt counts its 1 ms steps (the model's would be ten times as many)
    by_neuron = [np.round(ours["asp"].t[ours["asp"].i == k] / 1e-3).sum() for k in range(3)]
    np.testing.assert_allclose(ours.saved["steps"], by_neuron, rtol=1e-12)


@pytest.mark.brian2
def test_poisson_group_on_its_clock_matches_brian2_over_seeds():
    """Sources on a 1 ms clock spike only at its steps, each with probability
    rate * 1 ms: snndsl's count over seeds and Brian2's agree (and both agree
    with the expectation); the noisy neurons spike only in the steps of
    their 0.5 ms clock."""
    import brian2 as b2
    from brian2 import ms
    model = snndsl.compile(RANDOM)
    ours = [model.run(seed=s) for s in range(6)]
    counts = np.array([len(r["psp"].t) for r in ours])
    for r in ours:
        assert np.all(_steps(r["psp"].t) % 10 == 0) and np.all(_steps(r["nsp"].t) % 5 == 0)
    b2.prefs.codegen.target = "numpy"
    theirs = []
    for s in range(6):
        b2.start_scope()
        b2.seed(100 + s)
        b2.defaultclock.dt = 0.1 * ms
        P = b2.PoissonGroup(40, rates="150*Hz + 5*Hz*i", dt=1 * ms)
        mon = b2.SpikeMonitor(P)
        b2.run(40 * ms)
        theirs.append(len(mon.t))
        assert np.all(_steps(mon.t_) % 10 == 0)
    expected = 40 * sum(150e-3 + 5e-3 * i for i in range(40))  # 40 steps of 1 ms
    sd = np.sqrt(40 * sum((150e-3 + 5e-3 * i) * (1 - 150e-3 - 5e-3 * i) for i in range(40)))
    # a mean of 6 runs within 4 standard errors of the expectation, in both
    assert abs(counts.mean() - expected) < 4 * sd / np.sqrt(6), (counts, expected)
    assert abs(np.mean(theirs) - expected) < 4 * sd / np.sqrt(6), (theirs, expected)
    # on the model's clock the count would be ten times as high
    assert counts.max() < 2 * expected


def test_emit_ir_shows_the_clocks(tmp_path):
    out = subprocess.run([sys.executable, "-m", "snndsl", "compile", str(DETERMINISTIC), "--emit", "ir",
                          "-o", str(tmp_path / "b")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "neurons A[3]  dt=0.001 s (10 steps)" in text
    assert "synapses Q: B -> A connect=cond  dt=0.0002 s (2 steps)" in text
    # A's update and threshold on its clock, the pathway S from A too, In from src on every step
    lines = [line.strip() for line in text.splitlines()]
    assert any(line.startswith("update A") and "multiples of 10" in line for line in lines)
    assert any(line.startswith("synapse events S") and "multiples of 10" in line for line in lines)
    assert any(line.startswith("synapse events In") and "multiples" not in line for line in lines)
    assert any(line.startswith("update Q") and "multiples of 2" in line for line in lines)


def test_a_snapshot_between_two_steps_of_a_clock_continues_exactly(tmp_path):
    """The model that draws, stored at 20.35 ms (between two steps of both
    clocks, spikes in flight on their delays) and restored by another model
    file: the same spikes and potentials as the run that never stopped."""
    body = RANDOM.read_text().split("phase main:")[0]
    whole = tmp_path / "whole.snn"
    whole.write_text(body + "phase a:\n    run 20.35 ms\n    store state as mid\nphase b:\n    run 19.65 ms\n")
    later = tmp_path / "later.snn"
    later.write_text(body.replace("seed = 11", "seed = 12")
                     + 'phase b:\n    restore state from "r1/mid.state"\n    run 19.65 ms\n')
    for model, out in ((whole, "r1"), (later, "r2")):
        proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(model), "-o", str(tmp_path / out), "-q"],
                              capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    a, b = snndsl.load(tmp_path / "r1"), snndsl.load(tmp_path / "r2")
    for name in ("psp", "nsp"):
        late = a[name].t >= 0.02035
        assert late.sum() > 10
        np.testing.assert_array_equal(b[name].t, a[name].t[late], err_msg=name)
        np.testing.assert_array_equal(b[name].i, a[name].i[late], err_msg=name)
    late = a["nv"].t >= 0.02035
    np.testing.assert_array_equal(b["nv"].values, a["nv"].values[late])
    np.testing.assert_array_equal(b["nv"].t, a["nv"].t[late])


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_a_spike_generator_refuses_two_spikes_in_one_step_of_its_clock(tmp_path, backend):
    """1.2 ms and 1.7 ms are two steps of the model's 0.1 ms, one of the
    group's 1 ms: refused with the group's site, as Brian2 refuses them."""
    path = tmp_path / "twice.snn"
    path.write_text("spikes S[2]:\n    dt: 1 ms\n    indices = [0, 0]\n    times = [1.2 ms, 1.7 ms]\n"
                    "phase p:\n    run 3 ms\n")
    out = subprocess.run([sys.executable, "-m", "snndsl", "run", str(path), "-o", str(tmp_path / "out"),
                          "--backend", backend], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "twice.snn:1:1: error[E0601]: spikes group 'S': neuron 0 spikes twice in the time step at 0.001 s" \
        in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    path.write_text(path.read_text().replace("1.7 ms", "2.1 ms"))  # its steps 1 and 2: fine
    out = subprocess.run([sys.executable, "-m", "snndsl", "run", str(path), "-o", str(tmp_path / "out"),
                          "--backend", backend], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
