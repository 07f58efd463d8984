"""Synapses whose target is another synapse group (`synapses R: P -> S`,
Brian2's Synapses(P, S) with `X_post` the target synapse's variable), as
Izhikevich (2007) rewards a synapse with dopamine: exactly against Brian2 on
a deterministic model (a connection condition on the target synapse's
number j and their count N_post, per-synapse code writing a clock-driven and a plain variable of
the target synapses, a delay), then a random model on both backends and on
threads, and the errors a user can meet; and synapses whose source is a
synapse group (`synapses R: S -> Q`, Brian2's Synapses(S, Q)), exactly."""
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl.diagnostics import CompileError

pytestmark = pytest.mark.needs_cc

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reference"))
import test_against_c as REF  # noqa: E402  (its comparison)

MODEL = """\
dt = 0.1 ms
spikes inp[3]:
    indices = [0, 1, 2, 0, 1]
    times = [2 ms, 4 ms, 6 ms, 12 ms, 14 ms]
neurons G[2]:
    dv/dt = -v / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
    method: exact
synapses S: inp -> G:
    connect: all
    w : 1
    dd/dt = -d / (5 ms) : 1 (clock-driven)
    method: exact
    init: w = 0.5 + 0.1 * i + 0.2 * j
    on pre: post.v += w * (1 + d)
spikes rew[2]:
    indices = [0, 1, 0]
    times = [3 ms, 5 ms, 11 ms]
synapses R: rew -> S:
    connect: j % 2 == i and j < N_post - 1
    x : 1
    init: x = 1 + j
    on pre:
        post.d += 0.1 * x
        post.w += 0.01
    delay: 1 ms
monitor mv: G.v
monitor mw: S.w
monitor md: S.d
monitor sp: spikes of G
phase one:
    run 20 ms
"""


def write(tmp_path, text: str, name: str = "onto.snn") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.brian2
def test_synapses_onto_synapses_match_brian2(tmp_path):
    import brian2 as b2
    ours = snndsl.compile(write(tmp_path, MODEL)).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    inp = b2.SpikeGeneratorGroup(3, [0, 1, 2, 0, 1], [2, 4, 6, 12, 14] * b2.ms)
    G = b2.NeuronGroup(2, "dv/dt = -v / (10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
    # Brian2 orders the synapses slot by name: s1 before s2, as snndsl the file's order
    S = b2.Synapses(inp, G, "w : 1\ndd/dt = -d / (5*ms) : 1 (clock-driven)", on_pre="v_post += w * (1 + d)",
                    method="exact", name="s1")
    S.connect()
    S.w = "0.5 + 0.1 * i + 0.2 * j"
    rew = b2.SpikeGeneratorGroup(2, [0, 1, 0], [3, 5, 11] * b2.ms)
    R = b2.Synapses(rew, S, "x : 1", on_pre="d_post += 0.1 * x\nw_post += 0.01", delay=1 * b2.ms, name="s2")
    R.connect("j % 2 == i and j < N_post - 1")  # N_post: the synapses of S
    R.x = "1 + j"
    mv, mw, md = (b2.StateMonitor(g, v, record=True) for g, v in ((G, "v"), (S, "w"), (S, "d")))
    sp = b2.SpikeMonitor(G)
    b2.run(20 * b2.ms)

    assert len(sp.i) >= 2 and np.ptp(md.d) > 0.1
    assert list(np.asarray(R.j)) == [0, 2, 4, 1, 3]  # not S's last synapse, 5 = N_post - 1
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    for name, mon, var in (("mv", mv, "v"), ("mw", mw, "w"), ("md", md, "d")):
        np.testing.assert_allclose(ours[name].values, getattr(mon, var).T, rtol=1e-12, atol=1e-14, err_msg=name)


RANDOM = """\
dt = 0.1 ms
poisson P[20]:
    rate = 200 Hz
neurons G[6]:
    dv/dt = -v / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
    method: exact
synapses S: P -> G:
    connect: rand() < 0.4
    w : 1
    dd/dt = -d / (20 ms) : 1 (clock-driven)
    init: w = 0.2 + 0.1 * rand()
    on pre: post.v += w * (1 + d)
synapses R: P -> S:
    connect: rand() < 0.3
    dtr/dt = -tr / (5 ms) : 1 (event-driven)
    on pre:
        tr += 1
        post.d += 0.05 * tr
        post.w = clip(post.w + 0.001 * rand(), 0, 1)
    delay: rand() * 2 ms
synapses Q: G -> S:
    connect: j % 3 == i % 3
    on pre: post.d -= 0.01
monitor mv: G.v
monitor md: S.d[0:5]
monitor mw: S.w[0:5]
monitor sp: spikes of G
phase p:
    run 50 ms
"""


def test_the_reference_backend_and_threads_agree(tmp_path):
    """Random connections onto random synapses, per-synapse delays, a trace
    of R per synapse, two groups writing the target synapses' variables."""
    path = write(tmp_path, RANDOM)
    c = snndsl.compile(path).run(seed=2)
    REF.assert_same(c, snndsl.compile(path, backend="reference").run(seed=2))
    REF.assert_same(snndsl.compile(path).run(seed=2, threads=2), c)
    assert len(c["sp"].i) > 20 and c["md"].values.max() > 0.5


def test_ranks_say_they_cannot(tmp_path):
    with pytest.raises(CompileError) as err:
        snndsl.compile(write(tmp_path, RANDOM)).run(ranks=2)
    assert "'R' connects onto the synapses of 'S': such synapses do not run on ranks yet" in str(err.value)


FROM_SYNAPSES = """\
dt = 0.1 ms
spikes inp[3]:
    indices = [0, 1, 2, 0, 2]
    times = [1 ms, 2 ms, 3 ms, 6 ms, 8 ms]
neurons G[2]:
    dv/dt = -v / (10 ms) : 1
synapses S: inp -> G:
    connect: all
    dc/dt = -c / (4 ms) : 1 (clock-driven)
    k : integer (constant)
    method: exact
    init: k = (i + j) % 3
    on pre: c += 1 + 0.5 * j
neurons Q[3]:
    dy/dt = (total - y) / (2 ms) : 1
    total : 1
    method: euler
synapses R: S -> Q:
    connect: pre.k == j and i < N_pre - 1
    w : 1
    init: w = 0.1 * (i + 1)
    post.total = w * pre.c : 1 (summed)
monitor my: Q.y
monitor mt: Q.total
phase a:
    run 12 ms
"""


@pytest.mark.brian2
def test_synapses_from_synapses_match_brian2(tmp_path):
    """`synapses R: S -> Q` (Brian2's Synapses(S, Q)): S's synapses are R's
    presynaptic elements, numbered i, N_pre of them, `pre.X` their variables
    (in a connection condition and a summed variable); exactly Brian2's, on
    both backends and threads."""
    import brian2 as b2
    path = tmp_path / "from.snn"
    path.write_text(FROM_SYNAPSES)
    ours = snndsl.compile(path).run()
    REF.assert_same(ours, snndsl.compile(path, backend="reference").run())
    REF.assert_same(snndsl.compile(path).run(threads=2), ours)

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms  # noqa: F841 - the equations' namespace
    inp = b2.SpikeGeneratorGroup(3, [0, 1, 2, 0, 2], [1, 2, 3, 6, 8] * b2.ms)
    G = b2.NeuronGroup(2, "dv/dt = -v / (10*ms) : 1")
    S = b2.Synapses(inp, G, "dc/dt = -c / (4*ms) : 1 (clock-driven)\nk : integer (constant)",
                    on_pre="c += 1 + 0.5 * j", method="exact")
    S.connect()
    S.k = "(i + j) % 3"
    Q = b2.NeuronGroup(3, "dy/dt = (total - y) / (2*ms) : 1\ntotal : 1", method="euler")
    R = b2.Synapses(S, Q, "w : 1\ntotal_post = w * c_pre : 1 (summed)")
    R.connect("k_pre == j and i < N_pre - 1")
    R.w = "0.1 * (i + 1)"
    my, mt = b2.StateMonitor(Q, "y", record=True), b2.StateMonitor(Q, "total", record=True)
    b2.run(12 * b2.ms)
    assert len(R) == 5 and np.asarray(mt.total).max() > 0.1
    np.testing.assert_allclose(ours["mt"].values, np.asarray(mt.total).T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours["my"].values, np.asarray(my.y).T, rtol=1e-12, atol=1e-15)


def test_ranks_say_they_cannot_run_synapses_from_synapses(tmp_path):
    path = tmp_path / "from.snn"
    path.write_text(FROM_SYNAPSES)
    with pytest.raises(CompileError) as err:
        snndsl.compile(path).run(ranks=2)
    assert "'R' connects from the synapses of 'S': such synapses do not run on ranks yet" in str(err.value)
