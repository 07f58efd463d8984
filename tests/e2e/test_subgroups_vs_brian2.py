"""Subgroups against Brian2's G[a:b], exactly: synapses between subgroups
(and a subgroup of a subgroup), with i and j counted within them in
conditions, initial values and the synapses' i and j; state, spike and rate
monitors of subgroups (spikes numbered within); phase assignments to a
subgroup, by condition and whole."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

MODEL = """\
dt = 0.1 ms
neurons P[10]:
    dv/dt = (1.5 - v) / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
    init: v = i * 0.05
subgroup Pe = P[0:8]
subgroup Pi = P[8:10]
subgroup Pe_late = Pe[4:8]
synapses S: Pe_late -> Pi:
    connect: all
    w : 1
    init: w = 0.01 * (i + 1) + 0.001 * j
    on pre: post.v += w
synapses T: Pi -> Pe:
    connect: j == 2 * i + 1
    on pre: post.v -= 0.2
monitor mv: Pe.v[1:3]
monitor sp: spikes of Pi
monitor rate_e: rate of Pe
phase a:
    Pe.v[i > 5] = 0.9
    run 20 ms
    Pi.v = 0.1 * i
    run 20 ms
    save S.w as w
"""


def test_subgroups_match_brian2(tmp_path):
    import brian2 as b2
    path = tmp_path / "sub.snn"
    path.write_text(MODEL)
    ours = snndsl.compile(path).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms  # noqa: F841 - the equations' namespace
    P = b2.NeuronGroup(10, "dv/dt = (1.5 - v) / (10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
    P.v = "i * 0.05"
    Pe, Pi = P[0:8], P[8:10]
    Pe_late = Pe[4:8]
    S = b2.Synapses(Pe_late, Pi, "w : 1", on_pre="v_post += w")
    S.connect()
    S.w = "0.01 * (i + 1) + 0.001 * j"
    T = b2.Synapses(Pi, Pe, on_pre="v_post -= 0.2")
    T.connect("j == 2 * i + 1")
    mv = b2.StateMonitor(Pe, "v", record=[1, 2])
    sp = b2.SpikeMonitor(Pi)
    rate = b2.PopulationRateMonitor(Pe)
    Pe.v["i > 5"] = 0.9
    b2.run(20 * ms)
    Pi.v = "0.1 * i"
    b2.run(20 * ms)

    assert len(sp.i) > 2 and np.max(rate.rate) > 0
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["rate_e"].rate, np.asarray(rate.rate), rtol=1e-12)
    i, j = ours.saved_indices["w"]
    np.testing.assert_array_equal(i, np.asarray(S.i))
    np.testing.assert_array_equal(j, np.asarray(S.j))
    np.testing.assert_allclose(ours.saved["w"], np.asarray(S.w), rtol=1e-12)


def test_subgroup_synapses_in_python_count_within_the_subgroups(tmp_path):
    path = tmp_path / "sub.snn"
    path.write_text(MODEL)
    sim = snndsl.compile(path).simulation()
    sim.run_protocol()
    np.testing.assert_array_equal(sim["T"].i, [0, 1])
    np.testing.assert_array_equal(sim["T"].j, [1, 3])
    np.testing.assert_array_equal(sim["S"].i, np.repeat(np.arange(4), 2))


PAIRS = """\
dt = 0.1 ms
data pairs = [[0, 2], [1, 0], [3, 3], [3, 1], [0, 0]]
neurons P[10]:
    dv/dt = (1.1 + 0.1 * i - v) / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
subgroup A = P[2:6]
subgroup B = P[5:9]
synapses S: A -> B:
    connect: from pairs
    w : 1
    init: w = 0.1 * i + 0.01 * j
    on pre: post.v += w
monitor mv: P.v
monitor sp: spikes of P
phase a:
    run 30 ms
    save S.w as w
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_connect_from_data_between_subgroups_as_brian2s_connect_i_j(tmp_path, backend):
    """`connect: from DATA` between subgroups: the rows are (i, j) within
    them, as Brian2's Synapses(P[2:6], P[5:9]).connect(i=..., j=...)."""
    import brian2 as b2
    path = tmp_path / "pairs.snn"
    path.write_text(PAIRS)
    ours = snndsl.compile(path, backend=backend).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    P = b2.NeuronGroup(10, "dv/dt = (1.1 + 0.1 * i - v) / (10*ms) : 1", threshold="v > 1", reset="v = 0",
                       method="exact")
    S = b2.Synapses(P[2:6], P[5:9], "w : 1", on_pre="v_post += w")
    S.connect(i=[0, 1, 3, 3, 0], j=[2, 0, 3, 1, 0])
    S.w = "0.1 * i + 0.01 * j"
    mv, sp = b2.StateMonitor(P, "v", record=True), b2.SpikeMonitor(P)
    b2.run(30 * b2.ms)

    np.testing.assert_array_equal(ours.saved_indices["w"][0], np.asarray(S.i))
    np.testing.assert_array_equal(ours.saved_indices["w"][1], np.asarray(S.j))
    np.testing.assert_allclose(ours.saved["w"], np.asarray(S.w), rtol=1e-15)
    assert len(sp.i) > 10
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_monitors_of_a_subgroup_say_which_part(tmp_path, backend):
    """A spike or rate monitor of a subgroup names the group and carries the
    part (`indices`, shown as P[8:10] by `snndsl run` and its plots); one of
    the whole group carries none."""
    path = tmp_path / "sub.snn"
    path.write_text(MODEL + "monitor whole: spikes of P\n")
    res = snndsl.compile(path, backend=backend).run()
    assert (res["sp"].group, res["sp"].indices, res["sp"].part) == ("P", (8, 10), "[8:10]")
    assert (res["rate_e"].group, res["rate_e"].indices, res["rate_e"].part) == ("P", (0, 8), "[0:8]")
    assert res["whole"].indices is None and res["whole"].part == ""
    assert res["mv"].part == ""  # a state monitor's indices are its elements, as before
    np.testing.assert_array_equal(res["whole"].i[res["whole"].i >= 8] - 8, res["sp"].i)


NEIGHBOUR_I = """\
data gain : 1 = [0.5, 0.25, 2, 4, 8, 16]
neurons A[3]:
    v : 1
    s = 100 * i : 1
    threshold: v > 0.5
    init: v = 1
neurons B[6]:
    s = 10 * i + 0.5 * N + gain : 1
    x : 1
subgroup B2 = B[2:6]
synapses S: A -> B2:
    connect: j != i
    on pre: post.x += post.s + 0.001 * pre.s + 1000 * j
phase p:
    run 0.3 ms
    save B.x as x
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_a_neighbours_subexpression_reads_its_own_i(tmp_path, backend):
    """`post.s` where s reads `i` and a bare data array: the postsynaptic
    neuron's index in its group and its entry (not the presynaptic neuron's,
    nor the synapse's), as Brian2's s_post; `pre.s` the presynaptic one's;
    `j` within the subgroup; the same on 2 threads."""
    import brian2 as b2
    path = tmp_path / "neighbour.snn"
    path.write_text(NEIGHBOUR_I)
    ours = snndsl.compile(path, backend=backend).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    A = b2.NeuronGroup(3, "v : 1\ns = 100 * i : 1", threshold="v > 0.5")
    A.v = 1
    B = b2.NeuronGroup(6, "s = 10 * i + 0.5 * N + gain : 1\nx : 1\ngain : 1")
    B.gain = [0.5, 0.25, 2, 4, 8, 16]
    S = b2.Synapses(A, B[2:6], on_pre="x_post += s_post + 0.001 * s_pre + 1000 * j")
    S.connect("j != i")
    b2.run(0.3 * b2.ms)
    assert np.ptp(B.x[:]) > 0
    np.testing.assert_allclose(ours.saved["x"], B.x[:], rtol=1e-14)
    if backend == "c":
        np.testing.assert_array_equal(snndsl.compile(path).run(threads=2).saved["x"], ours.saved["x"])
