"""Several pathways per synapse group (`on pre NAME:` with `delay NAME:`)
against Brian2's on_pre={NAME: ...}, delay={NAME: ...}, exactly: three
pathways of one group, each with its own code and its own delay (one per
synapse for one of them), two of them arriving in the same step, where
their order (Brian2's: by name, the unnamed one as 'pre') changes the
result; an event-driven trace brought to the time of each pathway's spike.
Then the same model on the reference backend, on threads, on ranks and
across a snapshot taken with spikes in flight in every queue."""
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
MODEL = (MODELS / "pathways.snn").read_text()


def write(tmp_path, text=MODEL, name="pathways.snn") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.brian2
def test_pathways_match_brian2(tmp_path):
    import brian2 as b2
    ours = snndsl.compile(write(tmp_path)).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    src = b2.SpikeGeneratorGroup(3, [0, 1, 2, 0, 2, 1], [1, 2, 2, 4, 6, 6.5] * b2.ms)
    G = b2.NeuronGroup(4, "dv/dt = (1.5 - v) / (10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
    S = b2.Synapses(src, G, "w : 1\ndx/dt = -x / (5*ms) : 1 (event-driven)",
                    on_pre={"pre": "x += 1\nv_post += w * x", "a": "v_post = v_post * 0.9\nw += 0.01",
                            "z": "v_post -= 0.5 * w * (1 + x)"},
                    delay={"pre": 1 * b2.ms, "a": 1 * b2.ms})
    S.connect()
    S.w = "0.1 + 0.05 * i + 0.02 * j"
    S.z.delay = "0.5*ms + j*0.3*ms"
    mv, mw, mx = (b2.StateMonitor(g, v, record=True) for g, v in ((G, "v"), (S, "w"), (S, "x")))
    sp = b2.SpikeMonitor(G)
    b2.run(20 * b2.ms)

    assert len(sp.i) >= 8
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    for name, mon, var in (("mv", mv, "v"), ("mw", mw, "w"), ("mx", mx, "x")):
        np.testing.assert_allclose(ours[name].values, getattr(mon, var).T, rtol=1e-12, atol=1e-14, err_msg=name)


def test_the_order_of_pathways_is_by_name(tmp_path):
    """Pathway a and the unnamed one arrive in the same step: renamed q, it
    runs after the unnamed one ('pre' < 'q') and v comes out otherwise."""
    a = snndsl.compile(write(tmp_path)).run()
    renamed = MODEL.replace("on pre a:", "on pre q:").replace("delay a:", "delay q:")
    q = snndsl.compile(write(tmp_path, renamed, "renamed.snn")).run()
    assert np.abs(a["mv"].values - q["mv"].values).max() > 0.1


RANDOM = MODEL.replace("post.v = post.v * 0.9", "post.v = post.v * (0.8 + 0.2 * rand())").replace(
    "delay z: 0.5 ms + j * 0.3 ms", "delay z: 0.5 ms + 2 ms * rand()").replace("run 20 ms", "run 12 ms")


@pytest.mark.parametrize("text", [MODEL, RANDOM], ids=["deterministic", "random"])
def test_the_reference_backend_and_threads_agree(tmp_path, text):
    path = write(tmp_path, text)
    c = snndsl.compile(path).run(seed=3)
    REF.assert_same(c, snndsl.compile(path, backend="reference").run(seed=3))
    REF.assert_same(snndsl.compile(path).run(seed=3, threads=2), c)
    assert len(c["sp"].i) > 3


@pytest.mark.slow
def test_ranks_agree(tmp_path):
    from test_ranks import assert_ranks_agree
    one = assert_ranks_agree(write(tmp_path, RANDOM), tmp_path, seed=5)
    assert len(one["sp"].i) > 3


def test_a_snapshot_keeps_every_pathways_spikes_in_flight(tmp_path):
    """Stored at 6.2 ms, spikes are queued in all three pathways; the run
    restored from the snapshot continues as the uninterrupted one."""
    model = snndsl.compile(write(tmp_path))
    whole = model.simulation()
    whole.advance(0.0062)
    whole.save_state(tmp_path / "s.state")
    whole.advance(0.0138)
    other = model.simulation().load_state(tmp_path / "s.state")
    other.advance(0.0138)
    np.testing.assert_array_equal(other["S"].w, whole["S"].w)
    np.testing.assert_array_equal(other["G"].v, whole["G"].v)
    a, b = other.results()["mv"], whole.results()["mv"]
    np.testing.assert_array_equal(a.values, b.values[62:])


def test_emit_ir_shows_each_pathway(tmp_path):
    import subprocess
    proc = subprocess.run([sys.executable, "-m", "snndsl", "compile", str(write(tmp_path)), "--emit", "ir"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "delays S (pathway z): per synapse = " in out
    assert "synapse events S (pathway a): each presynaptic spike, delay homogeneous" in out
    events = [line.split(":")[0].strip() for line in out.splitlines() if line.strip().startswith("synapse events")]
    assert events == ["synapse events S (pathway a)", "synapse events S", "synapse events S (pathway z)"]


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_delays_from_python(tmp_path, backend):
    """sim["S"].delay and sim["S"].z.delay (Brian2's S.delay, S.z.delay): each
    synapse's delay as the spike queue uses it, whole steps of dt; the
    delays are the model's, so writing them is an error."""
    sim = snndsl.compile(write(tmp_path), backend=backend).simulation()
    S = sim["S"]
    np.testing.assert_array_equal(S.delay, np.full(12, 10) * 1e-4)
    np.testing.assert_array_equal(S.a.delay, np.full(12, 10) * 1e-4)
    steps = np.trunc((0.5e-3 + S.j * 0.3e-3) / 1e-4 + 0.5)  # Brian2's rounding
    np.testing.assert_array_equal(S.z.delay, steps * 1e-4)
    with pytest.raises(snndsl.SimulationError, match="S.delay is read only"):
        S.delay = "2 ms"
    with pytest.raises(snndsl.SimulationError, match="S.z.delay is read only"):
        S.z.delay = "2 ms"
    none = MODEL.replace("    delay: 1 ms\n", "")
    assert not snndsl.compile(write(tmp_path, none, "none.snn"), backend=backend).simulation()["S"].delay.any()


@pytest.mark.brian2
def test_delays_from_python_as_in_brian2(tmp_path):
    import brian2 as b2
    b2.start_scope()
    b2.defaultclock.dt = 0.1 * b2.ms
    src = b2.SpikeGeneratorGroup(3, [0], [1] * b2.ms)
    G = b2.NeuronGroup(4, "v : 1")
    S = b2.Synapses(src, G, on_pre={"pre": "v_post += 1", "z": "v_post -= 1"}, delay={"pre": 1 * b2.ms})
    S.connect()
    S.z.delay = "0.5*ms + j*0.3*ms"
    b2.run(0 * b2.ms)
    ours = snndsl.compile(write(tmp_path)).simulation()["S"]
    # Brian2 holds the values as given; its spike queue rounds them to steps, as ours
    queued = np.round(np.asarray(S.z.delay) / 1e-4) * 1e-4
    np.testing.assert_allclose(ours.z.delay, queued, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ours.delay, np.asarray(S.delay), rtol=0, atol=1e-15)


POST = """\
dt = 0.1 ms
spikes src[2]:
    indices = [0, 1, 0]
    times = [1 ms, 3 ms, 6 ms]
spikes tgt[3]:
    indices = [0, 1, 2, 1]
    times = [2 ms, 2 ms, 4 ms, 6 ms]
synapses S: src -> tgt:
    connect: all
    w : 1
    dx/dt = -x / (5 ms) : 1 (event-driven)
    init: w = 1 + i + 0.1 * j
    on pre:
        x += 1
        w += 0.1 * x
    on post: w = w * 0.5 + x
    on post b: w -= 0.2 * x
    on post a: w = w * 2
monitor mw: S.w
monitor mx: S.x
phase p:
    run 10 ms
"""


@pytest.mark.brian2
def test_postsynaptic_pathways_match_brian2(tmp_path):
    """Three postsynaptic pathways in one step, whose order (Brian2's: a, b,
    then the unnamed 'post') changes w; the same on the reference backend and
    on threads."""
    import brian2 as b2
    path = write(tmp_path, POST, "post.snn")
    ours = snndsl.compile(path).run()
    REF.assert_same(ours, snndsl.compile(path, backend="reference").run())
    REF.assert_same(snndsl.compile(path).run(threads=2), ours)

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    src = b2.SpikeGeneratorGroup(2, [0, 1, 0], [1, 3, 6] * b2.ms)
    tgt = b2.SpikeGeneratorGroup(3, [0, 1, 2, 1], [2, 2, 4, 6] * b2.ms)
    S = b2.Synapses(src, tgt, "w : 1\ndx/dt = -x / (5*ms) : 1 (event-driven)", on_pre="x += 1\nw += 0.1 * x",
                    on_post={"post": "w = w * 0.5 + x", "b": "w -= 0.2 * x", "a": "w = w * 2"})
    S.connect()
    S.w = "1 + i + 0.1 * j"
    mw, mx = b2.StateMonitor(S, "w", record=True), b2.StateMonitor(S, "x", record=True)
    b2.run(10 * b2.ms)
    np.testing.assert_allclose(ours["mw"].values, mw.w.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours["mx"].values, mx.x.T, rtol=1e-12, atol=1e-14)
    swapped = snndsl.compile(write(tmp_path, POST.replace("on post a:", "on post q:"), "q.snn")).run()
    assert np.abs(swapped["mw"].values - ours["mw"].values).max() > 0.5  # the order matters
