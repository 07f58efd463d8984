"""Generator connect against Brian2 (issue 12): `connect: j in LO .. HI [if
COND]` is `S.connect(j='k for k in range(LO, HI) if COND', skip_if_invalid=True)`,
`connect: j = EXPR [for k in LO .. HI] [if COND]` is `S.connect(j='EXPR [for k in
range(LO, HI)] [if COND]')` and `times N` is `n=N`. Deterministic rules give the same (i, j) pairs in the same order,
and then the same spikes and traces; random ones (`if rand() < p`, drawn by
skipping ahead within a row when p does not depend on j: Brian2's `sample`)
the same distribution."""
from __future__ import annotations

import math

import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

N_PRE, N_POST = 12, 10

# (snndsl's connect, Brian2's connect arguments)
DETERMINISTIC = [
    ("j in i - 2 .. i + 3 if j != i", dict(j="k for k in range(i - 2, i + 3) if k != i", skip_if_invalid=True)),
    ("j in 0 .. i + 1", dict(j="k for k in range(i + 1)", skip_if_invalid=True)),
    ("j in pre.k .. pre.k + 3 if post.x > pre.x", dict(j="k for k in range(k_pre, k_pre + 3) if x_post > x_pre",
                                                       skip_if_invalid=True)),
    ("j = i // 2", dict(j="i // 2")),
    ("j = i - 2 if i >= 2 and i < 12", dict(j="i - 2 if i >= 2 and i < 12")),
    ("one_to_one times 2", dict(j="i", n=2, skip_if_invalid=True)),
    ("all times 2", dict(n=2)),
    # (Brian2 2.9 fails on an n that reads j with a condition: `_n[_j]` indexes past the row)
    ("i != j and (i + j) % 3 == 0 times 1 + i % 2", dict(condition="i != j and (i + j) % 3 == 0", n="1 + i % 2")),
    ("j in i .. i + 4 if j % 2 == 0 times 1 + i % 3", dict(j="k for k in range(i, i + 4) if k % 2 == 0",
                                                          n="1 + i % 3", skip_if_invalid=True)),
    # a generator's own variable: j = EXPR for k in LO .. HI, each k's j in k's order, not sorted
    ("j = i + (-1) ** k for k in 0 .. 2 if j >= 0 and j < N_post",
     dict(j="i + (-1)**k for k in range(2) if j >= 0 and j < N_post")),
    ("j = (i + 2 * k) % N_post for k in 1 .. i + 1 if k != 2 times 2",
     dict(j="(i + 2 * k) % N_post for k in range(1, i + 1) if k != 2", n=2)),
    ("j = 2 * k + 1 for k in pre.k .. pre.k + 2", dict(j="2 * k + 1 for k in range(k_pre, k_pre + 2)")),
]

MODEL = """\
dt = 0.1 ms
neurons inp[{n_pre}]:
    dv/dt = (1.5 + 0.05 * i - v) / (5 ms) : 1
    k : integer
    x : 1
    threshold: v > 1
    reset: v = 0
    init:
        k = i % 4
        x = 0.1 * i
neurons out[{n_post}]:
    dv/dt = -v / (10 ms) : 1
    x : 1
    threshold: v > 1
    reset: v = 0
    init: x = 0.15 * i
synapses S: inp -> out:
    connect: {connect}
    w : 1
    init: w = 0.3 + 0.05 * i + 0.01 * j
    on pre: post.v += w
monitor sp: spikes of out
monitor mv: out.v
phase run:
    run 30 ms
    save S.w as w
"""


def ours(tmp_path, connect: str, seed: int = 1):
    path = tmp_path / "gen.snn"
    path.write_text(MODEL.format(n_pre=N_PRE, n_post=N_POST, connect=connect))
    return snndsl.compile(path).run(seed=seed)


def brian2(connect: dict):
    import brian2 as b2
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms  # noqa: F841 - the equations' namespace
    inp = b2.NeuronGroup(N_PRE, "dv/dt = (1.5 + 0.05 * i - v) / (5*ms) : 1\nk : integer\nx : 1",
                         threshold="v > 1", reset="v = 0", method="exact")
    inp.k = "i % 4"
    inp.x = "0.1 * i"
    out = b2.NeuronGroup(N_POST, "dv/dt = -v / (10*ms) : 1\nx : 1", threshold="v > 1", reset="v = 0",
                         method="exact")
    out.x = "0.15 * i"
    S = b2.Synapses(inp, out, "w : 1", on_pre="v_post += w")
    S.connect(**connect)
    S.w = "0.3 + 0.05 * i + 0.01 * j"
    sp = b2.SpikeMonitor(out)
    mv = b2.StateMonitor(out, "v", record=True)
    b2.run(30 * ms)
    return np.asarray(S.i), np.asarray(S.j), np.asarray(S.w), sp, mv


@pytest.mark.parametrize("connect, b2_connect", DETERMINISTIC, ids=[c for c, _ in DETERMINISTIC])
def test_deterministic_generators_match_brian2(tmp_path, connect, b2_connect):
    """The same pairs in the same order (Brian2's numbering of synapses),
    the same weights, then the same spikes and membrane traces."""
    res = ours(tmp_path, connect)
    bi, bj, bw, sp, mv = brian2(b2_connect)
    i, j = res.saved_indices["w"]
    assert len(bi) > 0
    np.testing.assert_array_equal(i, bi)
    np.testing.assert_array_equal(j, bj)
    np.testing.assert_allclose(res.saved["w"], bw, rtol=1e-12)
    np.testing.assert_array_equal(res["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(res["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(res["mv"].values, np.asarray(mv.v).T, rtol=1e-9, atol=1e-12)


def _pairs(res):
    i, j = res.saved_indices["w"]
    return i.astype(np.int64), j.astype(np.int64)


RANDOM = [
    # sampled by skipping ahead within a row (Brian2's sample(LO, HI, p=P)), p depending on i
    ("j in i - 3 .. i + 4 if rand() < 0.2 + 0.05 * i",
     dict(j="k for k in sample(i - 3, i + 4, p=0.2 + 0.05 * i)", skip_if_invalid=True),
     lambda i, j: (abs(i - j) <= 3) * (0.2 + 0.05 * i)),
    # a trial per pair of the range
    ("j in 0 .. 10 if rand() < exp(-(i - j) ** 2 / 8.0)",
     dict(j="k for k in range(0, 10) if rand() < exp(-(i - k) ** 2 / 8.0)"),
     lambda i, j: np.exp(-(i - j) ** 2 / 8.0)),
    # one target, kept with probability 1/2, twice
    ("j = i % 10 if rand() < 0.5 times 2", dict(j="i % 10 if rand() < 0.5", n=2),
     lambda i, j: 2 * 0.5 * (j == i % 10)),
]


@pytest.mark.parametrize("connect, b2_connect, expected", RANDOM, ids=[c for c, _, _ in RANDOM])
def test_random_generators_match_brian2_statistically(tmp_path, connect, b2_connect, expected):
    """Over 40 seeds each, the number of synapses of every pair (i, j) has
    the expected mean (the probability times the multiplicity) within 5
    standard deviations, in snndsl and in Brian2; and synapses are ordered
    by i, then j."""
    import brian2 as b2
    seeds = 40
    grid_i, grid_j = np.meshgrid(np.arange(N_PRE), np.arange(N_POST), indexing="ij")
    mean = expected(grid_i, grid_j).astype(float)
    for source in ("snndsl", "brian2"):
        counts = np.zeros((N_PRE, N_POST))
        for seed in range(seeds):
            if source == "snndsl":
                i, j = _pairs(ours(tmp_path, connect, seed=seed))
                key = i * N_POST + j
                assert np.all(np.diff(key) >= 0), "synapses are ordered by (i, j)"
            else:
                b2.start_scope()
                b2.prefs.codegen.target = "numpy"
                b2.seed(seed)
                G = b2.NeuronGroup(N_PRE, "v : 1")
                H = b2.NeuronGroup(N_POST, "v : 1")
                S = b2.Synapses(G, H)
                S.connect(**b2_connect)
                i, j = np.asarray(S.i), np.asarray(S.j)
            np.add.at(counts, (i, j), 1)
        mult = 2 if "times 2" in connect else 1
        p = np.clip(mean / mult, 0, 1)
        sd = np.sqrt(seeds * mult ** 2 * p * (1 - p))
        dev = np.abs(counts - seeds * mean)
        assert np.all(dev <= 5 * sd + 1e-9), (source, float(np.max(dev - 5 * sd)))
        total_sd = math.sqrt(float((sd ** 2).sum()))
        assert abs(counts.sum() - seeds * mean.sum()) < 5 * total_sd + 1e-9, source


def test_sampling_visits_only_the_synapses_made(tmp_path):
    """`j in i - 5 .. i + 6 if rand() < p` over 10^6 x 10^6 neurons skips
    ahead within each row: a second's work at most, about 11 p synapses per
    neuron, each within its row's range."""
    import time
    path = tmp_path / "big.snn"
    path.write_text("poisson a[1000000]:\n    rate = 0 Hz\npoisson b[1000000]:\n    rate = 0 Hz\n"
                    "synapses S: a -> b:\n    connect: j in i - 5 .. i + 6 if rand() < 0.01\n    w : 1\n"
                    "phase p:\n    save S.w as w\n")
    m = snndsl.compile(path)
    t0 = time.perf_counter()
    res = m.run(seed=3)
    elapsed = time.perf_counter() - t0
    i, j = _pairs(res)
    assert np.all(np.abs(i - j) <= 5)
    expected = (1000000 * 11 - 30) * 0.01
    assert abs(len(i) - expected) < 5 * math.sqrt(expected)
    assert elapsed < 5, elapsed


def test_target_outside_the_group_is_an_error(tmp_path):
    """`j = i + 1` for the last neuron: a run-time error at the expression,
    as Brian2's IndexError (the pairs an `if` rules out are not checked)."""
    path = tmp_path / "bad.snn"
    path.write_text("neurons G[5]:\n    v : 1\nsynapses S: G -> G:\n    connect: j = i + 1\n"
                    "phase p:\n    run 1 ms\n")
    with pytest.raises(snndsl.Error, match=r"bad.snn:4:18: error\[E0601\]: connect: j = 5 for i = 4 is outside"):
        snndsl.compile(path).run()
    path.write_text("neurons G[5]:\n    v : 1\nsynapses S: G -> G:\n    connect: j = i + 1 if i < 4\n"
                    "phase p:\n    run 1 ms\n")
    snndsl.compile(path).run()


def test_negative_multiplicity_is_an_error(tmp_path):
    path = tmp_path / "neg.snn"
    path.write_text("neurons G[5]:\n    v : 1\nsynapses S: G -> G:\n    connect: one_to_one times 2 - i\n"
                    "phase p:\n    run 1 ms\n")
    with pytest.raises(snndsl.Error, match=r"error\[E0601\]: connect: times -1 for the pair \(i, j\) = \(3, 3\)"):
        snndsl.compile(path).run()


def test_generators_between_subgroups_match_brian2(tmp_path):
    """Between subgroups, i and j (in bounds, targets, conditions and the
    synapses' indices) count within them, as in Brian2."""
    import brian2 as b2
    path = tmp_path / "sub.snn"
    path.write_text("neurons G[20]:\n    v : 1\n    k : integer\n    init: k = i % 3\n"
                    "subgroup A = G[5:12]\nsubgroup B = G[3:9]\n"
                    "synapses S: A -> B:\n    connect: j in i - 1 .. i + pre.k if j != 2 times 1 + i % 2\n    w : 1\n"
                    "synapses T: A -> B:\n    connect: j = 5 - i if i < 6\n    w : 1\n"
                    "phase p:\n    save S.w as s\n    save T.w as t\n")
    res = snndsl.compile(path).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    G = b2.NeuronGroup(20, "v : 1\nk : integer")
    G.k = "i % 3"
    A, B = G[5:12], G[3:9]
    S = b2.Synapses(A, B)
    S.connect(j="k for k in range(i - 1, i + k_pre) if k != 2", n="1 + i % 2", skip_if_invalid=True)
    T = b2.Synapses(A, B)
    T.connect(j="5 - i if i < 6")
    for name, syn in (("s", S), ("t", T)):
        i, j = res.saved_indices[name]
        assert len(i) > 0
        np.testing.assert_array_equal(i, np.asarray(syn.i))
        np.testing.assert_array_equal(j, np.asarray(syn.j))


def test_several_connects_add_up_as_in_brian2(tmp_path):
    """Several `connect:` lines are Brian2's successive S.connect calls: the
    synapses of each after the last's, the same pairs in the same order."""
    import brian2 as b2
    path = tmp_path / "several.snn"
    path.write_text("neurons G[15]:\n    v : 1\nneurons H[10]:\n    v : 1\n"
                    "synapses S: G -> H:\n    connect: j in i - 1 .. i + 2\n    connect: j = i // 2 times 2\n"
                    "    connect: (i + j) % 7 == 0\n    connect: one_to_one\n    w : 1\n"
                    "phase p:\n    save S.w as s\n")
    res = snndsl.compile(path).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    G, H = b2.NeuronGroup(15, "v : 1"), b2.NeuronGroup(10, "v : 1")
    S = b2.Synapses(G, H)
    S.connect(j="k for k in range(i - 1, i + 2)", skip_if_invalid=True)
    S.connect(j="i // 2", n=2)
    S.connect("(i + j) % 7 == 0")
    S.connect(j="i", skip_if_invalid=True)
    i, j = res.saved_indices["s"]
    np.testing.assert_array_equal(i, np.asarray(S.i))
    np.testing.assert_array_equal(j, np.asarray(S.j))


def test_several_connects_out_of_presynaptic_order_deliver_each_spike_to_its_own_synapses(tmp_path):
    """`connect: i == 2` then `connect: i == 0`: synapses 0-2 leave neuron 2,
    3-5 neuron 0, so their numbers are not in presynaptic order; each spike
    still reaches its own neuron's synapses (the C and the reference once took
    synapse numbers for presynaptic order here), as in Brian2, exactly."""
    import brian2 as b2
    path = tmp_path / "unordered.snn"
    path.write_text("dt = 0.1 ms\nneurons G[3]:\n    dv/dt = (1.5 - v) / (10 ms) + 0.1 * i / (10 ms) : 1\n"
                    "    threshold: v > 1\n    reset: v = 0\nneurons H[3]:\n    v : 1\n"
                    "synapses S: G -> H:\n    connect: i == 2\n    connect: i == 0\n    w : 1\n"
                    "    on pre: w += 1 + i\nphase p:\n    run 30 ms\n    save S.w as w\n")
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    G = b2.NeuronGroup(3, "dv/dt = (1.5 - v) / (10*ms) + 0.1 * i / (10*ms) : 1", threshold="v > 1",
                       reset="v = 0", method="exact")
    H = b2.NeuronGroup(3, "v : 1")
    S = b2.Synapses(G, H, "w : 1", on_pre="w += 1 + i")
    S.connect("i == 2")
    S.connect("i == 0")
    b2.Network(G, H, S).run(30 * b2.ms)
    assert list(S.w) == [9, 9, 9, 2, 2, 2]  # neuron 2 spiked 3 times, neuron 0 twice
    for backend in ("c", "reference"):
        np.testing.assert_array_equal(snndsl.compile(path, backend=backend).run().saved["w"], np.asarray(S.w))


CHOOSE = """\
neurons a[{n_pre}]:
    v : 1
neurons b[{n_post}]:
    v : 1
synapses S: a -> b:
    connect: {connect}
    w : 1
    on pre: post.v += w
phase p:
    save S.w as w
"""


def _choose(tmp_path, connect: str, n_pre: int = 30, n_post: int = 40, backend: str = "c"):
    path = tmp_path / "choose.snn"
    path.write_text(CHOOSE.format(n_pre=n_pre, n_post=n_post, connect=connect))
    return snndsl.compile(path, backend=backend)


@pytest.mark.parametrize("connect, b2_connect, size", [
    ("j in 0 .. N_post choose 10", dict(j="k for k in sample(N_post, size=10)"), lambda i: np.full_like(i, 10)),
    ("j in 0 .. N_post choose i // 2", dict(j="k for k in sample(N_post, size=i//2)"), lambda i: i // 2),
    ("j in 5 .. 35 choose 28", dict(j="k for k in sample(5, 35, size=28)"), lambda i: np.full_like(i, 28)),
], ids=["fixed", "per row", "dense"])
def test_choose_matches_brian2s_sample_size(tmp_path, connect, b2_connect, size):
    """`choose K` is Brian2's sample(..., size=K): each row has exactly K
    distinct j's of its range, in increasing order, each j equally likely
    (over 60 seeds each, every pair's count within 5 standard deviations of
    K / n, in snndsl and in Brian2)."""
    import brian2 as b2
    seeds, n_pre, n_post = 60, 30, 40
    lo, hi = (5, 35) if "5 .. 35" in connect else (0, n_post)
    k = size(np.arange(n_pre))
    model = _choose(tmp_path, connect)
    for source in ("snndsl", "brian2"):
        counts = np.zeros((n_pre, n_post))
        for seed in range(seeds):
            if source == "snndsl":
                i, j = _pairs(model.run(seed=seed))
            else:
                b2.start_scope()
                b2.prefs.codegen.target = "numpy"
                b2.seed(seed)
                S = b2.Synapses(b2.NeuronGroup(n_pre, "v : 1"), b2.NeuronGroup(n_post, "v : 1"))
                S.connect(**b2_connect)
                i, j = np.asarray(S.i, dtype=np.int64), np.asarray(S.j, dtype=np.int64)
            np.testing.assert_array_equal(np.bincount(i, minlength=n_pre), k)
            assert np.all(np.diff(i * n_post + j) > 0)  # by i, then increasing distinct j
            assert np.all((j >= lo) & (j < hi))
            np.add.at(counts, (i, j), 1)
        p = (k / (hi - lo))[:, None] * np.ones((1, n_post))
        p[:, :lo] = p[:, hi:] = 0
        sd = np.sqrt(seeds * p * (1 - p))
        assert np.all(np.abs(counts - seeds * p) <= 5 * sd + 1e-9), source


def test_choose_on_both_backends_with_a_drawing_condition(tmp_path):
    """The K of a row are drawn before its condition's draws, from one stream:
    the same synapses on both backends, bit for bit."""
    connect = "j in i - 10 .. i + 10 choose 3 + i % 4 if rand() < 0.5 times 2"
    c = _choose(tmp_path, connect).run(seed=5)
    ref = _choose(tmp_path, connect, backend="reference").run(seed=5)
    for x, y in zip(c.saved_indices["w"], ref.saved_indices["w"]):
        np.testing.assert_array_equal(x, y)
    i, j = _pairs(c)
    assert len(i) > 50 and np.all(np.abs(i - j) < 10) and np.all(np.bincount(i) % 2 == 0)


def test_choose_takes_time_proportional_to_the_synapses(tmp_path):
    """10 of 10^7 targets for each of 10^5 neurons: Floyd's algorithm draws
    10 numbers a row, not one per target."""
    import time
    m = _choose(tmp_path, "j in 0 .. N_post choose 10", n_pre=100000, n_post=10000000)
    t0 = time.perf_counter()
    i, j = _pairs(m.run(seed=1))
    assert time.perf_counter() - t0 < 10
    assert len(i) == 1000000 and j.max() > 9900000


@pytest.mark.parametrize("connect, message", [
    ("j in 0 .. 10 choose 11", r"choose.snn:6:34: error\[E0601\]: connect: choose 11 for i = 0, but its "
                               r"range holds 10 j's of the target"),
    ("j in i + 30 .. i + 35 choose 3", r"connect: choose 3 for i = 8, but its range holds 2 j's of the target"),
    ("j in 0 .. 10 choose 2 - i", r"connect: choose -1 for i = 3 is negative"),
])
@pytest.mark.parametrize("backend", ["c", "reference"])
def test_choosing_more_than_the_row_holds_is_an_error(tmp_path, connect, message, backend):
    """As Brian2's 'Requested sample size is bigger than the population
    size': at the expression, naming i (the range is clipped to the target)."""
    with pytest.raises(snndsl.Error, match=message):
        _choose(tmp_path, connect, backend=backend).run()


@pytest.mark.parametrize("connect, message", [
    ("j in 0 .. 10 choose j", "the number of j's chosen is computed once for each presynaptic neuron i"),
    ("j in 0 .. 10 choose 1 + rand()", "rand"),
    ("j in 0 .. 10 choose 2.5", r"the number of j's chosen is an integer \(a number of synapses\)"),
])
def test_a_bad_choose_is_a_compile_error(tmp_path, connect, message):
    with pytest.raises(snndsl.CompileError, match=message):
        _choose(tmp_path, connect)


FROM_DATA_AND_MORE = """\
data pairs : 1 = [[0, 1], [2, 2], [1, 0], [0, 1]]
neurons A[3]:
    dv/dt = (1.5 + 0.1 * i - v) / (5 ms) : 1
    threshold: v > 1
    reset: v = 0
neurons B[5]:
    u : 1
subgroup B2 = B[1:4]
synapses S: A -> B2:
    connect: one_to_one
    connect: from pairs
    connect: j in i .. 3
    w : 1
    init: w = i + 10 * j
    on pre: post.u += w
monitor mu: B.u
phase p:
    run 20 ms
    save S.w as w
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_connect_from_data_among_other_connects_as_in_brian2(tmp_path, backend):
    """`connect: from DATA` among other connect lines is Brian2's
    S.connect(i=..., j=...) between other S.connect calls: its rows after the
    synapses before it (between subgroups, within them), then the same
    spikes' effects."""
    import brian2 as b2
    path = tmp_path / "mixed.snn"
    path.write_text(FROM_DATA_AND_MORE)
    res = snndsl.compile(path, backend=backend).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms  # noqa: F841 - the equations' namespace
    A = b2.NeuronGroup(3, "dv/dt = (1.5 + 0.1 * i - v) / (5*ms) : 1", threshold="v > 1", reset="v = 0",
                       method="exact")
    B = b2.NeuronGroup(5, "u : 1")
    S = b2.Synapses(A, B[1:4], "w : 1", on_pre="u_post += w")
    S.connect(j="i", skip_if_invalid=True)
    S.connect(i=[0, 2, 1, 0], j=[1, 2, 0, 1])
    S.connect(j="k for k in range(i, 3)", skip_if_invalid=True)
    S.w = "i + 10 * j"
    mon = b2.StateMonitor(B, "u", record=True)
    b2.run(20 * ms)
    i, j = res.saved_indices["w"]
    np.testing.assert_array_equal(i, np.asarray(S.i))
    np.testing.assert_array_equal(j, np.asarray(S.j))
    np.testing.assert_allclose(res["mu"].values, mon.u[:].T, rtol=1e-15)
    assert res["mu"].values[-1].max() > 50


@pytest.mark.parametrize("backend", ["c", "reference"])
@pytest.mark.parametrize("rows, message", [
    ("[[0, 1], [2, 3]]", r"mixed\.snn:9:1: error\[E0601\]: data 'pairs' row 1: \(2, 3\) is not a pair of indices "
                         r"in \[0, 3\) x \[0, 3\)"),
    ("[[0, 1.5]]", r"data 'pairs' row 0: \(0, 1\.5\) is not a pair of indices"),
    ("[[0, 1, 2]]", r"data 'pairs' must have shape \(n, 2\) to connect from it"),
])
def test_bad_pairs_among_other_connects(tmp_path, backend, rows, message):
    path = tmp_path / "mixed.snn"
    path.write_text(FROM_DATA_AND_MORE.replace("[[0, 1], [2, 2], [1, 0], [0, 1]]", rows))
    with pytest.raises(snndsl.Error, match=message):
        snndsl.compile(path, backend=backend).run()


def test_a_generators_variable_on_both_backends(tmp_path):
    """j = EXPR for k in LO .. HI with a condition that draws: the C and the
    reference make the same synapses, in the same order."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))
    import test_against_c as REF
    path = tmp_path / "gen.snn"
    path.write_text(MODEL.format(n_pre=N_PRE, n_post=N_POST,
                                 connect="j = (i + 3 * k) % N_post for k in 0 .. 1 + i % 4 if rand() < 0.6"))
    c = snndsl.compile(path).run(seed=9)
    REF.assert_same(c, snndsl.compile(path, backend="reference").run(seed=9))
    i, j = c.saved_indices["w"]
    assert len(i) > N_PRE and len(c["sp"].i) > 0
    assert np.any(np.diff(j)[np.diff(i) == 0] < 0)  # in k's order, not sorted by j


def test_a_generators_target_outside_the_group_is_an_error(tmp_path):
    path = tmp_path / "gen.snn"
    path.write_text(MODEL.format(n_pre=N_PRE, n_post=N_POST, connect="j = i + k for k in 0 .. 3"))
    for backend in ("c", "reference"):
        with pytest.raises(snndsl.SimulationError, match="connect: j = 10 for i = 8 is outside the target's "
                                                         "indices 0 to 9"):
            snndsl.compile(path, backend=backend).run()
