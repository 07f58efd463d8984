"""Differential tests against Brian2 (numpy target) for three thin spots of the
suite: the STDP window, `freeze` of reset-written and state variables, and the
boundary of a refractory period.  Each model is small and deterministic (fixed
spike times, constant drives, no random numbers), so snndsl and Brian2 must agree
up to floating point rounding, and each test also checks the behaviour against an
independent statement of what it should be (the analytic STDP curve, frozen values
held bit for bit, the analytic inter-spike interval).

Each test was checked to fail on the bug it targets (a mutant of snndsl's source,
see each docstring).

Brian2 is a required test dependency: imported inside the tests (an error, never a
silent skip).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.slow, pytest.mark.brian2, pytest.mark.needs_cc]

DT = 0.1e-3
SEED = 1
TATOL = 1e-12  # times (seconds)


def _brian2():
    """Brian2, numpy target, a fresh scope and the default clock at DT."""
    import brian2

    brian2.prefs.codegen.target = "numpy"
    brian2.start_scope()
    brian2.defaultclock.dt = DT * brian2.second
    return brian2


def _write(tmp_path: Path, text: str, arrays: dict | None = None) -> tuple[Path, dict]:
    path = tmp_path / "model.snn"
    path.write_text(text)
    data = {}
    for name, arr in (arrays or {}).items():
        np.save(tmp_path / f"{name}.npy", arr)
        data[name] = str(tmp_path / f"{name}.npy")
    return path, data


def _steps(t) -> np.ndarray:
    return np.rint(np.asarray(t, dtype=float) / DT).astype(np.int64)


# =====================================================================================
# 1. The STDP window
# =====================================================================================

TAU_PRE = 16.8e-3    # s, const taupre
TAU_POST = 33.7e-3   # s, const taupost
A_PLUS = 0.01        # potentiation per pair at dt -> 0+
A_MINUS = 0.0105     # depression per pair at dt -> 0-
W0 = 0.5
#: post - pre, in time steps, one pair of neurons each; 0: both in the same step
STDP_LAGS = np.array([-400, -100, -50, -10, -1, 0, 1, 10, 50, 100, 400])
N_PAIRS = len(STDP_LAGS)
N_PAIRINGS = 3
PAIRING_START = 100      # step of the first pairing
PAIRING_PERIOD = 1000    # steps between pairings (100 ms: traces are not gone)
STDP_STEPS = 3200

STDP_MODEL = f"""\
dt = 0.1 ms
const taupre = 16.8 ms
const taupost = 33.7 ms
const Aplus = {A_PLUS!r}
const Aminus = {A_MINUS!r}
const wmax = 1
data pre_i = "pre_i.npy"
data pre_t : second = "pre_t.npy"
data post_i = "post_i.npy"
data post_t : second = "post_t.npy"
spikes src[{N_PAIRS}]:
    indices = pre_i
    times = pre_t
spikes dst[{N_PAIRS}]:
    indices = post_i
    times = post_t
synapses S: src -> dst:
    connect: all
    w : 1
    dapre/dt = -apre / taupre : 1 (event-driven)
    dapost/dt = -apost / taupost : 1 (event-driven)
    on pre:
        apre += Aplus
        w = clip(w + apost, 0, wmax)
    on post:
        apost -= Aminus
        w = clip(w + apre, 0, wmax)
    init: w = {W0!r}
monitor weights: S.w
monitor pre_spikes: spikes of src
monitor post_spikes: spikes of dst
phase pairing:
    run {STDP_STEPS / 10!r} ms
"""


def _stdp_inputs() -> dict:
    """Neuron k of `src` and neuron k of `dst` fire once per pairing, `dst` lagging
    STDP_LAGS[k] steps behind `src` (ahead when negative); every spike lies in the
    middle of its step."""
    pre_i, pre_t, post_i, post_t = [], [], [], []
    for p in range(N_PAIRINGS):
        base = PAIRING_START + p * PAIRING_PERIOD
        for k, lag in enumerate(STDP_LAGS):
            pre_i.append(k)
            pre_t.append((base + max(-lag, 0) + 0.5) * DT)
            post_i.append(k)
            post_t.append((base + max(lag, 0) + 0.5) * DT)
    return {"pre_i": np.array(pre_i, dtype=np.int64), "pre_t": np.array(pre_t),
            "post_i": np.array(post_i, dtype=np.int64), "post_t": np.array(post_t)}


def _stdp_brian2(pre_i, pre_t, post_i, post_t) -> dict:
    b2 = _brian2()
    ns = {"taupre": TAU_PRE * b2.second, "taupost": TAU_POST * b2.second,
          "Aplus": A_PLUS, "Aminus": A_MINUS, "wmax": 1.0}
    src = b2.SpikeGeneratorGroup(N_PAIRS, pre_i, pre_t * b2.second, name="src")
    dst = b2.SpikeGeneratorGroup(N_PAIRS, post_i, post_t * b2.second, name="dst")
    S = b2.Synapses(src, dst, """
        w : 1
        dapre/dt = -apre / taupre : 1 (event-driven)
        dapost/dt = -apost / taupost : 1 (event-driven)
        """,
        on_pre="apre += Aplus\nw = clip(w + apost, 0, wmax)",
        on_post="apost -= Aminus\nw = clip(w + apre, 0, wmax)",
        namespace=ns, name="S")
    S.connect()
    S.w = W0
    mon = b2.StateMonitor(S, "w", record=True, name="weights")
    net = b2.Network(src, dst, S, mon)
    net.run(STDP_STEPS * DT * b2.second, namespace=ns)
    return {"t": np.array(mon.t_[:]), "w": np.array(mon.w[:], dtype=float).T.copy(),
            "i": np.array(S.i[:]), "j": np.array(S.j[:])}


def stdp_window(lag_steps) -> np.ndarray:
    """The pair-based STDP curve: the change of w caused by one pre spike and one
    post spike `lag_steps` steps later (post - pre).  Potentiation
    A+ exp(-dt/tau+) when pre comes first, depression -A- exp(dt/tau-) when post
    comes first; in the same step `on pre` runs before `on post` (Brian2's
    order), so the pair counts as pre-before-post: +A+."""
    lag = np.asarray(lag_steps, dtype=float) * DT
    return np.where(lag >= 0, A_PLUS * np.exp(-np.abs(lag) / TAU_PRE),
                    -A_MINUS * np.exp(-np.abs(lag) / TAU_POST))


def test_stdp_window_matches_brian2_and_the_analytic_curve(tmp_path):
    """Pair-based STDP (`apre`/`apost` event-driven traces, `on pre` and `on post`)
    on fixed pre/post pairs at lags of -40 ms .. +40 ms, including 0 (pre and post
    in the same step) and +-1 step.

    Checks: (1) the weight of all 121 synapses on every step equals Brian2's to
    1e-12 relative; (2) on the 11 pairs' own synapses, the first pairing changes w
    by exactly the STDP curve (sign and size: +A+ exp(-dt/tau+) for pre first,
    -A- exp(dt/tau-) for post first, +A+ for the same step); (3) after each of the
    three pairings every synapse's w is w0 plus the sum of the curve over all its
    pre/post spike pairs so far (the trace rule is exactly all-to-all pairing,
    also across pairings 100 ms apart and across neurons).

    Catches: `-=` compiled as `+=` in event code (depression turns into
    potentiation); `on post` run before `on pre` in a step (the lag-0 pair
    depresses by A- instead of potentiating by A+); a trace decayed with the other
    time constant or not decayed to the event's time.
    """
    inputs = _stdp_inputs()
    path, data = _write(tmp_path, STDP_MODEL, inputs)
    ref = _stdp_brian2(**inputs)
    res = snndsl.compile(path).run(seed=SEED, data=data)

    mon = res["weights"]
    w = np.asarray(mon.values, dtype=float)
    assert w.shape == (STDP_STEPS, N_PAIRS * N_PAIRS) == ref["w"].shape
    np.testing.assert_allclose(np.asarray(mon.t, dtype=float), ref["t"], atol=TATOL, rtol=0)
    # the input spikes are what the test means them to be
    for name, key in (("pre_spikes", "pre"), ("post_spikes", "post")):
        sp = res[name]
        order = np.lexsort((np.asarray(sp.i), _steps(sp.t)))
        exp_order = np.lexsort((inputs[f"{key}_i"], _steps(inputs[f"{key}_t"] - 0.5 * DT)))
        np.testing.assert_array_equal(np.asarray(sp.i)[order], inputs[f"{key}_i"][exp_order])
        np.testing.assert_array_equal(_steps(sp.t)[order],
                                      _steps(inputs[f"{key}_t"] - 0.5 * DT)[exp_order])

    # (1) Brian2, every synapse on every step (synapses in Brian2's order: i, then j)
    syn_i = np.repeat(np.arange(N_PAIRS), N_PAIRS)
    syn_j = np.tile(np.arange(N_PAIRS), N_PAIRS)
    np.testing.assert_array_equal(ref["i"], syn_i)
    np.testing.assert_array_equal(ref["j"], syn_j)
    np.testing.assert_allclose(w, ref["w"], rtol=1e-12, atol=0,
                               err_msg="S.w differs from Brian2's")
    assert np.all((w > 0) & (w < 1)), "clip(…, 0, wmax) must never bind here"

    # (2) the first pairing of each pair, on its own synapse k -> k: the STDP curve
    diag = np.arange(N_PAIRS) * N_PAIRS + np.arange(N_PAIRS)
    after = [PAIRING_START + p * PAIRING_PERIOD + 500 for p in range(N_PAIRINGS)]
    dw_first = w[after[0], diag] - W0
    expected = stdp_window(STDP_LAGS)
    for lag, got, want in zip(STDP_LAGS, dw_first, expected):
        sign = "potentiation" if lag >= 0 else "depression"
        assert np.sign(got) == np.sign(want), (
            f"lag {lag} steps (post - pre): expected {sign} {want:+.6g}, got {got:+.6g}")
        assert got == pytest.approx(want, rel=1e-12, abs=0), (
            f"lag {lag} steps: dw = {got!r}, the STDP curve gives {want!r}")
    # the curve's shape, stated directly: same step and +1 step potentiate most,
    # -1 step depresses most, and |dw| falls with |lag| on both sides
    assert dw_first[STDP_LAGS == 0][0] == pytest.approx(A_PLUS, rel=1e-12)
    pos, neg = dw_first[STDP_LAGS >= 0], dw_first[STDP_LAGS < 0]
    assert np.all(np.diff(pos) < 0) and np.all(np.diff(neg) < 0)
    assert np.all(pos > 0) and np.all(neg < 0)

    # (3) after each pairing: w0 + the curve summed over all pre/post pairs so far,
    # for every synapse i -> j (pre spikes of i, post spikes of j)
    pre_steps = _steps(inputs["pre_t"] - 0.5 * DT)
    post_steps = _steps(inputs["post_t"] - 0.5 * DT)
    for n in after:
        want = np.empty(N_PAIRS * N_PAIRS)
        for s, (i, j) in enumerate(zip(syn_i, syn_j)):
            tp = pre_steps[(inputs["pre_i"] == i) & (pre_steps < n)]
            tq = post_steps[(inputs["post_i"] == j) & (post_steps < n)]
            want[s] = W0 + stdp_window((tq[None, :] - tp[:, None]).ravel()).sum()
        np.testing.assert_allclose(w[n], want, rtol=1e-12, atol=0,
                                   err_msg=f"w at step {n} is not w0 + the sum over all pairs")


# =====================================================================================
# 2. freeze of reset-written and state variables
# =====================================================================================

N_FREEZE = 6
#: phase name -> run durations (steps); the freeze statements are in FREEZE_MODEL
FREEZE_RUNS = (("warm", 400), ("held", 300), ("held", 200), ("whole", 200), ("thawed", 200))
FREEZE_STEPS = sum(n for _, n in FREEZE_RUNS)

#: A frozen variable is, for the others, a constant over each step: Brian2 with a
#: flag zeroing its derivative, for every integration method.  (With `method:
#: exact`, rk2 or rk4 and coupled equations snndsl once advanced the whole system
#: and then kept the frozen variable's old value, so the other variables saw it
#: change within each step.)  The tolerance is each method's against Brian2
#: (tests/e2e/test_neurons_vs_brian2.py): Brian2's exact solution is a closed form,
#: snndsl's a matrix exponential.  (exponential_euler is not compared: the flag
#: makes the rate of a frozen v zero, and Brian2's formula divides by it, giving nan;
#: that method reads only the start of the step anyway, as euler does.)
FREEZE_METHODS = {"euler": 1e-12, "rk2": 1e-10, "rk4": 1e-10, "exact": 1e-9}
FREEZE_MODEL = f"""\
dt = 0.1 ms
const tau = 10 ms
const tau_a = 30 ms
const tau_th = 50 ms
const v_th = 10 mV
const v_r = 0 mV
const d_a = 2 mV
const d_th = 1 mV
neurons G[{N_FREEZE}]:
    dv/dt = (I - v - a) / tau : volt
    da/dt = -a / tau_a : volt
    dtheta/dt = -theta / tau_th : volt
    I : volt (constant)
    c : integer
    threshold: v > v_th + theta
    reset:
        v = v_r
        a += d_a
        theta += d_th
        c += 1
    method: METHOD
    init:
        I = 20 mV + i * 1.5 mV
monitor mv: G.v
monitor ma: G.a
monitor mth: G.theta
monitor mc: G.c
monitor spk: spikes of G
phase warm:
    run 40 ms
phase held:
    freeze G.v[i == 1]
    freeze G.a[i == 2 or i == 4]
    freeze G.c[3:5]
    freeze G.theta[i == 5]
    run 30 ms
    G.theta[i == 1] = -9 mV
    G.c[i == 3] = 100
    G.a[i == 2] = 4 mV
    run 20 ms
phase whole:
    unfreeze G.v
    unfreeze G.a
    unfreeze G.c
    freeze G.theta
    run 20 ms
phase thawed:
    unfreeze G.theta
    run 20 ms
"""


def _freeze_brian2(method: str) -> dict:
    """FREEZE_MODEL in Brian2, where a `freeze` is a per-neuron flag (0 or 1)
    multiplying every change the equations and the reset make to the variable:
    f_X = 1 holds X exactly (x + 0 and 1 * x are exact), f_X = 0 is the plain
    model; phase assignments write the variable directly."""
    b2 = _brian2()
    mV, ms = b2.mV, b2.ms
    ns = {"tau": 10 * ms, "tau_a": 30 * ms, "tau_th": 50 * ms, "v_th": 10 * mV,
          "v_r": 0 * mV, "d_a": 2 * mV, "d_th": 1 * mV}
    G = b2.NeuronGroup(N_FREEZE, """
        dv/dt = (1 - fv) * (I - v - a) / tau : volt
        da/dt = -(1 - fa) * a / tau_a : volt
        dtheta/dt = -(1 - fth) * theta / tau_th : volt
        I : volt (constant)
        c : integer
        fv : 1
        fa : 1
        fth : 1
        fc : integer
        """,
        threshold="v > v_th + theta",
        reset="""
        v = fv * v + (1 - fv) * v_r
        a += (1 - fa) * d_a
        theta += (1 - fth) * d_th
        c += 1 - fc
        """,
        method=method, namespace=ns, name="G")
    G.I = "20*mV + i * 1.5*mV"
    mon = b2.StateMonitor(G, ["v", "a", "theta", "c"], record=True, name="mon")
    spk = b2.SpikeMonitor(G, name="spk")
    net = b2.Network(G, mon, spk)
    run = lambda n: net.run(n * DT * b2.second, namespace=ns)  # noqa: E731
    run(400)                                 # phase warm
    G.fv[1] = 1                              # phase held: freeze G.v[i == 1]
    G.fa[[2, 4]] = 1                         # freeze G.a[i == 2 or i == 4]
    G.fc[3:5] = 1                            # freeze G.c[3:5]
    G.fth[5] = 1                             # freeze G.theta[i == 5]
    run(300)
    G.theta[1] = -9 * mV                     # phase assignments write frozen and
    G.c[3] = 100                             # free variables alike
    G.a[2] = 4 * mV
    run(200)
    G.fv[:] = 0                              # phase whole: unfreeze v, a, c
    G.fa[:] = 0
    G.fc[:] = 0
    G.fth[:] = 1                             # freeze G.theta (every neuron)
    run(200)
    G.fth[:] = 0                             # phase thawed
    run(200)
    out = {"t": np.array(mon.t_[:]), "spike_i": np.array(spk.i[:], dtype=np.int64),
           "spike_t": np.array(spk.t_[:])}
    for var in ("v", "a", "theta", "c"):
        out[var] = np.array(getattr(mon, var)[:]).T.copy()
    return out


@pytest.mark.parametrize("method", FREEZE_METHODS)
def test_freeze_of_reset_written_and_state_variables_matches_brian2(tmp_path, method):
    """A LIF group with spike-triggered adaptation: the reset writes v (an ODE
    variable), a (adaptation current, an ODE variable), theta (threshold
    adaptation, an ODE variable) and c (an integer counter, no ODE).  The `held`
    phase freezes one variable of each kind on selected neurons (by condition and
    by index range), then phase assignments write neuron 1's theta (not frozen:
    neuron 1, whose v is frozen, is then above its threshold and fires on
    consecutive steps), a frozen c and a frozen a; `whole` unfreezes them and
    freezes theta in every neuron (the step function specialised without any
    write to theta); `thawed` lifts that.

    Checks: spikes (neuron and step) and c identical to Brian2 (frozen = a 0/1
    flag multiplying each update), v, a, theta within 1e-12 of Brian2's scale on
    every step; and, on snndsl's own traces, every frozen element is constant bit
    for bit while frozen although its neuron spikes (its reset runs), except for
    the value a phase assignment gives it.

    Catches: a reset that ignores the freeze mask (a, c, theta incremented, v
    reset); an ODE update that ignores it; a phase assignment blocked by it; the
    step function specialised for a whole-group freeze still used after its
    `unfreeze`.
    """
    path, _ = _write(tmp_path, FREEZE_MODEL.replace("method: METHOD", f"method: {method}"))
    model = snndsl.compile(path)
    assert "snn_step_1" in model.frontend.c_source   # `freeze G.theta` is specialised
    res = model.run(seed=SEED)
    ref = _freeze_brian2(method)

    # the spikes: same neurons, same steps, same order
    sp = res["spk"]
    np.testing.assert_array_equal(np.asarray(sp.i, dtype=np.int64), ref["spike_i"])
    np.testing.assert_array_equal(_steps(sp.t), _steps(ref["spike_t"]))
    np.testing.assert_allclose(np.asarray(sp.t, dtype=float), ref["spike_t"], atol=TATOL, rtol=0)

    traces = {}
    for var, mon in (("v", "mv"), ("a", "ma"), ("theta", "mth"), ("c", "mc")):
        m = res[mon]
        values = np.asarray(m.values)
        assert values.shape == (FREEZE_STEPS, N_FREEZE) == ref[var].shape, var
        np.testing.assert_allclose(np.asarray(m.t, dtype=float), ref["t"], atol=TATOL, rtol=0)
        if var == "c":
            np.testing.assert_array_equal(values, ref[var], err_msg="G.c differs from Brian2's")
        else:
            scale = float(np.max(np.abs(ref[var])))
            np.testing.assert_allclose(values, ref[var], atol=FREEZE_METHODS[method] * scale, rtol=0,
                                       err_msg=f"G.{var} differs from Brian2's")
        traces[var] = values

    # snndsl's own traces: what freeze means.  Sample n is the value at the start
    # of step n; `held` covers steps 400..899 (assignments before step 700),
    # `whole` 900..1099.
    spike_steps = _steps(sp.t)
    sp_i = np.asarray(sp.i)

    def spikes_of(k, lo, hi):
        return np.count_nonzero((sp_i == k) & (spike_steps >= lo) & (spike_steps < hi))

    def held(var, k, lo, hi):
        x = traces[var][lo:hi + 1, k]
        assert np.all(x == x[0]), f"frozen G.{var}[{k}] changed during steps {lo}..{hi}"
        return x[0]

    held("v", 1, 400, 900)
    # v frozen above its threshold: neuron 1 fires on consecutive steps, its reset runs
    assert spikes_of(1, 700, 900) >= 3, "neuron 1 should fire on consecutive steps"
    assert np.all(np.diff(spike_steps[(sp_i == 1) & (spike_steps >= 700)][:3]) == 1)
    held("a", 2, 400, 699)
    assert held("a", 2, 700, 900) == pytest.approx(4e-3, rel=1e-15), \
        "the phase assignment G.a[i == 2] = 4 mV did not write the frozen a"
    held("a", 4, 400, 900)
    held("c", 3, 400, 699)
    assert held("c", 3, 700, 900) == 100, "the phase assignment G.c[i == 3] = 100 did not write"
    held("c", 4, 400, 900)
    held("theta", 5, 400, 900)
    for k in (2, 3, 4, 5):
        assert spikes_of(k, 400, 900) >= 3, k               # their resets ran while frozen
    for k in range(N_FREEZE):                               # whole: theta frozen everywhere
        held("theta", k, 900, 1100)
        assert spikes_of(k, 900, 1100) >= 1, k
    # the free elements did change meanwhile
    assert traces["c"][900, 0] > traces["c"][400, 0]
    assert traces["a"][900, 0] != traces["a"][400, 0]
    # unfrozen again, the counters and thresholds move
    assert traces["c"][-1, 4] > traces["c"][900, 4]
    assert np.all(traces["theta"][-1] != traces["theta"][1100]), "theta still frozen after unfreeze"


# =====================================================================================
# 3. The boundary of a refractory period
# =====================================================================================

#: refractory periods in units of dt, and the number of steps Brian2's
#: timestep(ref, dt) = int((ref + 1e-3 dt) / dt) makes of them: exactly k dt,
#: k dt +- 1e-4 dt (the same k), k dt - 2e-3 dt (k - 1), half a step.  None: a tie
#: of Brian2's rounding (k dt - 1e-3 dt), where only the floating point sum decides:
#: compared with Brian2 only.
REFRACTORY = ((0.0, 0), (1e-4, 0), (1 - 1e-4, 1), (1.0, 1), (1 + 1e-4, 1),
              (2 - 2e-3, 1), (2.0, 2), (3 - 1e-4, 3), (3.0, 3), (3 + 1e-4, 3),
              (3 - 2e-3, 2), (3 - 1e-3, None), (3.5, 3), (4 - 1e-4, 4), (7 - 1e-3, None),
              (7.0, 7), (7 + 1e-3, 7), (10 - 1e-4, 10), (10.0, 10), (10 + 1e-4, 10),
              (25.0, 25))
N_REF = len(REFRACTORY)
TAU_R = 10e-3
V_TH_R = 10e-3
#: constant drives (volt): STRONG crosses the threshold in the first step after
#: refractoriness ends, MODERATE in the fourth
STRONG, MODERATE = 2.0, 0.3
REF_STEPS = 300
#: refractory periods written as literals (one group each), and Brian2's
#: refractory= in ms
LITERALS = (("0.3 ms", 0.3), ("0.29999 ms", 0.29999), ("0.30001 ms", 0.30001),
            ("0.6999 ms", 0.6999))

REFRACTORY_MODEL = f"""\
dt = 0.1 ms
const tau = 10 ms
data ref_values : second = "ref_values.npy"
data drive : volt = "drive.npy"
neurons R[{2 * N_REF}]:
    dv/dt = (I - v) / tau : volt (unless refractory)
    I : volt (constant)
    ref : second (constant)
    threshold: v > 10 mV
    reset: v = 0 mV
    refractory: ref
    method: exact
    init:
        I = drive
        ref = ref_values
""" + "".join(f"""neurons L{k}[2]:
    dv/dt = (I - v) / tau : volt (unless refractory)
    I : volt (constant)
    threshold: v > 10 mV
    reset: v = 0 mV
    refractory: {text}
    method: exact
    init:
        I = {STRONG!r} volt - i * {STRONG - MODERATE!r} volt
""" for k, (text, _) in enumerate(LITERALS)) + "monitor spkR: spikes of R\n" + "".join(
    f"monitor spkL{k}: spikes of L{k}\n" for k in range(len(LITERALS))) + f"""phase drive:
    run {REF_STEPS / 10!r} ms
"""


def _refractory_inputs() -> dict:
    """Neuron n of R: refractory REFRACTORY[n % N_REF], the STRONG drive for the
    first N_REF neurons, MODERATE for the others."""
    x = np.array([r for r, _ in REFRACTORY] * 2)
    return {"ref_values": x * DT,
            "drive": np.repeat([STRONG, MODERATE], N_REF).astype(float)}


def _refractory_brian2(ref_values, drive) -> dict:
    b2 = _brian2()
    ns = {"tau": TAU_R * b2.second}
    eqs = """
        dv/dt = (I - v) / tau : volt (unless refractory)
        I : volt (constant)
        ref : second (constant)
        """
    R = b2.NeuronGroup(2 * N_REF, eqs, threshold="v > 10*mV", reset="v = 0*mV",
                       refractory="ref", method="exact", namespace=ns, name="R")
    R.I = drive * b2.volt
    R.ref = ref_values * b2.second
    groups, monitors = [R], {"spkR": b2.SpikeMonitor(R, name="spkR")}
    for k, (_, ms_value) in enumerate(LITERALS):
        L = b2.NeuronGroup(2, eqs, threshold="v > 10*mV", reset="v = 0*mV",
                           refractory=ms_value * b2.ms, method="exact", namespace=ns,
                           name=f"L{k}")
        L.I = f"{STRONG!r}*volt - i * {STRONG - MODERATE!r}*volt"
        groups.append(L)
        monitors[f"spkL{k}"] = b2.SpikeMonitor(L, name=f"spkL{k}")
    net = b2.Network(*groups, *monitors.values())
    net.run(REF_STEPS * DT * b2.second, namespace=ns)
    return {name: (np.array(m.i[:], dtype=np.int64), np.array(m.t_[:]))
            for name, m in monitors.items()}


def _first_crossing(drive: float) -> int:
    """Steps of integration from v = 0 until v > V_TH_R (the exact solution)."""
    m = np.arange(1, 100)
    v = drive * (1 - np.exp(-m * DT / TAU_R))
    n = int(m[np.argmax(v > V_TH_R)])
    # far from the threshold on both sides: rounding cannot move the crossing
    assert v[n - 1] > 1.1 * V_TH_R and (n == 1 or v[n - 2] < 0.95 * V_TH_R)
    return n


def test_refractory_boundary_matches_brian2_and_bounds_the_isi(tmp_path):
    """Constantly driven LIF neurons (`unless refractory`, reset to 0) whose
    refractory periods sit on and around whole numbers of steps: k dt exactly,
    k dt +- 1e-4 dt, k dt - 2e-3 dt, k dt - 1e-3 dt (the tie of Brian2's
    timestep()), for k = 0 .. 25; per neuron (a variable read from data) and as
    literals (`refractory: 0.3 ms`, a period whose ratio to dt is not exact in
    floating point).

    Checks: every spike (neuron and step) identical to Brian2's, whose rule is
    not_refractory = timestep(t - lastspike) >= timestep(refractory) with
    timestep(x) = int((x + 1e-3 dt) / dt); and the inter-spike interval, from
    both sides: exactly max(R, 1) + n - 1 steps, R = timestep(refractory) and n
    the steps the drive needs to cross the threshold from the reset (1 or 4), and
    the first spike in step n - 1.

    Catches: `>` for `>=` between the step counts (one step too long); the
    legacy comparison of times (t - lastspike) > refractory (k dt + 1e-4 dt one
    step too long); the step count of the period truncated without Brian2's
    1e-3 dt shift (0.3 ms, k dt - 1e-4 dt one step too short).
    """
    from brian2.core.functions import timestep

    inputs = _refractory_inputs()
    path, data = _write(tmp_path, REFRACTORY_MODEL, inputs)
    res = snndsl.compile(path).run(seed=SEED, data=data)
    ref = _refractory_brian2(**inputs)

    for name, (ref_i, ref_t) in ref.items():
        sp = res[name]
        i = np.asarray(sp.i, dtype=np.int64)
        assert i.shape == ref_i.shape, (name, i.shape, ref_i.shape)
        np.testing.assert_array_equal(i, ref_i, err_msg=name)
        np.testing.assert_array_equal(_steps(sp.t), _steps(ref_t), err_msg=name)
        np.testing.assert_allclose(np.asarray(sp.t, dtype=float), ref_t, atol=TATOL, rtol=0)

    # the analytic intervals
    cases = []   # (monitor, neuron, refractory in seconds, its steps, drive)
    for n, (x, steps) in enumerate(REFRACTORY * 2):
        r = inputs["ref_values"][n]
        tie = int(timestep(r, DT))
        if steps is None:
            steps = tie
        else:
            assert tie == steps, (x, tie, steps)   # the table is Brian2's rule
        cases.append(("spkR", n, r, steps, inputs["drive"][n]))
    for k, (_, ms_value) in enumerate(LITERALS):
        steps = int(timestep(ms_value * 1e-3, DT))
        cases += [(f"spkL{k}", 0, ms_value * 1e-3, steps, STRONG),
                  (f"spkL{k}", 1, ms_value * 1e-3, steps, MODERATE)]
    # the ties: k dt - 1e-3 dt from data (2.999 * 1e-4 = 0.0002999 s) is 3.0 steps
    # after the shift, so k; the literal 0.6999 ms is 0.6999 * 1e-3 =
    # 0.0006998999999999999 s, 6.999999999999998 steps after the shift, so 6
    assert [c[3] for x, c in zip(REFRACTORY, cases) if x[1] is None] == [3, 7]
    assert [c[3] for c in cases[-8::2]] == [3, 3, 3, 6]
    for name, n, r, steps, drive in cases:
        sp = res[name]
        spike_steps = _steps(np.asarray(sp.t)[np.asarray(sp.i) == n])
        cross = _first_crossing(drive)
        isi = max(steps, 1) + cross - 1
        what = f"{name}[{n}]: refractory {float(r / DT)!r} dt = {steps} steps, drive {drive} V"
        assert len(spike_steps) >= 2, what
        assert spike_steps[0] == cross - 1, f"{what}: first spike in step {spike_steps[0]}, not {cross - 1}"
        intervals = np.diff(spike_steps)
        assert intervals.min() >= isi, f"{what}: an interval of {intervals.min()} steps, below {isi}"
        assert intervals.max() <= isi, f"{what}: an interval of {intervals.max()} steps, above {isi}"
        assert len(spike_steps) == 1 + (REF_STEPS - cross) // isi, what
