"""Custom events (`event NAME: COND`, `on NAME:`, `on NAME of pre:`, `NAME
of G` monitors) against Brian2's events={...}, run_on_event, on_event and
EventMonitor, exactly: tests/e2e/models/custom_events_deterministic.snn has a
refractory neuron group with two events (refractoriness does not hold them
back), code that gates the next event, a pathway at an event with a delay
and an event-driven trace, one at an event of the target, spikes and events
in one step. Then tests/e2e/models/custom_events.snn, which draws in its
conditions and code, on the reference backend, on threads and across a
snapshot taken with event spikes in flight; the same model runs on threads
and ranks in test_threads.py and test_ranks.py (every model there)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reference"))
import test_against_c as REF  # noqa: E402  (its comparison)

MODELS = ROOT / "tests" / "e2e" / "models"
DETERMINISTIC = MODELS / "custom_events_deterministic.snn"
RANDOM = MODELS / "custom_events.snn"


def _steps(t) -> np.ndarray:
    return np.round(np.asarray(t, dtype=float) / 1e-4).astype(np.int64)


@pytest.mark.brian2
def test_custom_events_match_brian2():
    import brian2 as b2
    from brian2 import ms
    ours = snndsl.compile(DETERMINISTIC).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * ms
    src = b2.SpikeGeneratorGroup(3, [0, 1, 2, 0, 1, 2, 0, 0, 1, 2, 2, 1, 0],
                                 np.array([1, 2, 3, 8, 9, 10, 15, 16, 20, 21, 30, 31, 40]) * ms)
    G = b2.NeuronGroup(4, """dv/dt = (g - v) / (20*ms) : 1
                             dg/dt = -g / (5*ms) : 1
                             n_ev : 1
                             allow : boolean""",
                       threshold="v > 0.3", reset="v = 0; allow = True", refractory=2 * ms,
                       events={"high": "g > 0.5 and allow", "low": "v < 0.02 and g > 0.05"}, method="exact")
    G.run_on_event("high", "n_ev += 1; allow = False")
    H = b2.NeuronGroup(3, "dx/dt = -x/(10*ms) : 1\ndz/dt = -z/(10*ms) : 1", threshold="x > 1.2", reset="x = 0",
                       events={"busy": "z > 0.5"}, method="exact")
    H.run_on_event("busy", "z = 0")
    Sin = b2.Synapses(src, G, "w : 1", on_pre="g_post += w")
    Sin.connect()
    Sin.w = "0.25 + 0.1 * i + 0.05 * j"
    S = b2.Synapses(G, H, "dA/dt = -A/(5*ms) : 1 (event-driven)\nc : 1",
                    on_pre={"pre": "x_post += 0.3", "high": "A += 1; z_post += 0.2 * A", "low": "x_post += 0.01"},
                    on_post={"busy": "c += 1"},
                    on_event={"pre": "spike", "high": "high", "low": "low", "busy": "busy"},
                    delay={"high": 1.5 * ms})
    S.connect()
    monitors = {"hi": b2.EventMonitor(G, "high", ["g", "n_ev"]), "lo": b2.EventMonitor(G, "low"),
                "bz": b2.EventMonitor(H, "busy", "z"), "sp": b2.SpikeMonitor(G), "hsp": b2.SpikeMonitor(H)}
    st = b2.StateMonitor(H, ["x", "z"], record=True)
    b2.Network(src, G, H, Sin, S, st, *monitors.values()).run(60 * ms)

    for name, mon in monitors.items():
        np.testing.assert_array_equal(ours[name].i, np.asarray(mon.i), err_msg=name)
        np.testing.assert_array_equal(_steps(ours[name].t), _steps(mon.t), err_msg=name)
    # each kind of event happened, and the gate held `high` back: fewer than the steps above 0.5
    assert min(len(ours[name].t) for name in monitors) >= 3
    np.testing.assert_allclose(ours["hi"].g, np.asarray(monitors["hi"].g), rtol=1e-13)
    np.testing.assert_array_equal(ours["hi"].n_ev, np.asarray(monitors["hi"].n_ev))
    np.testing.assert_allclose(ours["bz"].z, np.asarray(monitors["bz"].z), rtol=1e-13)
    np.testing.assert_allclose(ours["hx"].values, st.x.T, rtol=0, atol=1e-14)
    np.testing.assert_allclose(ours["hz"].values, st.z.T, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(ours.saved["c"], S.c[:])  # on busy of post: whole counts
    assert ours.saved["c"].sum() > 0
    np.testing.assert_allclose(ours.saved["A"], S.A[:], rtol=1e-13, atol=1e-15)


def test_refractoriness_does_not_hold_events_back():
    """G's events happen in its refractory steps too (Brian2's custom events
    have no refractoriness); its spikes do not."""
    res = snndsl.compile(DETERMINISTIC).run()
    spikes = {(i, s) for i, t in zip(res["sp"].i, res["sp"].t) for s in range(_steps(t), _steps(t) + 20)}
    low = list(zip(res["lo"].i, _steps(res["lo"].t)))
    assert any(event in spikes for event in low)


@pytest.mark.parametrize("path", [DETERMINISTIC, RANDOM], ids=["deterministic", "random"])
def test_the_reference_backend_and_threads_agree(path):
    c = snndsl.compile(path).run()
    REF.assert_same(c, snndsl.compile(path, backend="reference").run())
    REF.assert_same(snndsl.compile(path).run(threads=3), c)
    assert min(len(c[name].t) for name in ("hi", "lo", "bz")) > 3


def test_a_snapshot_keeps_the_events_in_flight(tmp_path):
    """Stored at 6.2 ms of the random model, whose pathway at `high` has a
    delay of 1.5 ms: the run restored from the snapshot continues as the
    uninterrupted one."""
    model = snndsl.compile(RANDOM)
    whole = model.simulation()
    whole.advance(0.0062)
    whole.save_state(tmp_path / "s.state")
    whole.advance(0.0338)
    other = model.simulation().load_state(tmp_path / "s.state")
    other.advance(0.0338)
    for group, var in (("H", "z"), ("H", "x"), ("G", "n_ev"), ("S", "A"), ("S", "c")):
        np.testing.assert_array_equal(getattr(other[group], var), getattr(whole[group], var), err_msg=f"{group}.{var}")
    a, b = other.results()["hi"], whole.results()["hi"]
    late = b.t >= 0.0062 - 1e-12
    np.testing.assert_array_equal(a.i, b.i[late])
    np.testing.assert_array_equal(a.t, b.t[late])
    assert late.sum() > 10


def test_emit_ir_shows_the_events():
    proc = subprocess.run([sys.executable, "-m", "snndsl", "compile", str(DETERMINISTIC), "--emit", "ir"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for line in ("ev_high: int32_t[n(G)] (array)", "event high G", "event low G", "on high G", "on busy H",
                 "synapse events S (pathway high): each presynaptic high event, delay homogeneous",
                 "synapse events S (pathway busy): each postsynaptic busy event",
                 "monitor hi: high events of G with g, n_ev"):
        assert line in out, line
    steps = [line.strip() for line in out.split("each step:")[1].splitlines() if line.startswith("    ")
             and not line.startswith("     ")]
    # Brian2's slots: thresholds (and spike monitors), after_thresholds (events, their monitors),
    # synapses, resets, after_resets (the events' code)
    order = [s.split(":")[0].split("  [")[0] for s in steps]
    assert order.index("threshold H") < order.index("record spikes hsp") < order.index("event high G") \
        < order.index("record spikes hi") < order.index("synapse events S (pathway high)") \
        < order.index("reset H") < order.index("on high G") < order.index("on busy H"), order


def test_the_summary_names_the_events(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(DETERMINISTIC), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    res = snndsl.load(tmp_path / "out")
    assert f"  hi: {len(res['hi'].t)} high events of G" in proc.stdout
    assert res["hi"].event == "high" and res["sp"].event == "spike"
    assert "high of G" in repr(res["hi"])
