"""Connectivity at scale (issue 7, item 11).

`connect: rand() < p` with p the same for every pair draws, from one synapse
to the next, the Geometric(p) number of pairs that fail -- the same
independent Bernoulli(p) trial per pair as the pair loop, in Brian2's order
(by i, then j), visiting only the synapses made. These tests check the
distribution against the binomial one, the order, the and-ed forms, and that
a sparse connect over 10^12 pairs takes no time; the compile-time estimates
of `connect: all` / `one_to_one` / `rand() < p` live in tests/checks.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

N_PRE, N_POST, P, SEEDS = 60, 50, 0.1, 100


def model(tmp_path, connect: str, n_pre: int = N_PRE, n_post: int = N_POST, name: str = "c"):
    (tmp_path / f"{name}.snn").write_text(
        f"poisson a[{n_pre}]:\n    rate = 0 Hz\npoisson b[{n_post}]:\n    rate = 0 Hz\n"
        f"synapses S: a -> b:\n    connect: {connect}\n    w : 1\n"
        "phase p:\n    save S.w as w\n")
    return snndsl.compile(tmp_path / f"{name}.snn")


def synapses(m, seed: int) -> tuple[np.ndarray, np.ndarray]:
    res = m.simulation(seed=seed)
    res.run_protocol()
    return res.results().saved_indices["w"]


def chi_square_binomial(counts: np.ndarray, n: int, p: float) -> tuple[float, int]:
    """Pearson's chi-square of the histogram of `counts` against Binomial(n, p),
    tails merged so that every bin expects at least 5; (statistic, degrees of freedom)."""
    pmf = np.array([math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)])
    expected = pmf * len(counts)
    observed = np.bincount(counts, minlength=n + 1).astype(float)
    lo = int(np.argmax(np.cumsum(expected) >= 5))
    hi = n - int(np.argmax(np.cumsum(expected[::-1]) >= 5))
    e = np.concatenate([[expected[: lo + 1].sum()], expected[lo + 1: hi], [expected[hi:].sum()]])
    o = np.concatenate([[observed[: lo + 1].sum()], observed[lo + 1: hi], [observed[hi:].sum()]])
    return float(((o - e) ** 2 / e).sum()), len(e) - 1


def test_sparse_connect_has_the_bernoulli_distribution(tmp_path):
    """Over 100 seeds, 6000 rows of 50 pairs at p = 0.1: the number of synapses
    of a row is Binomial(50, 0.1). Pearson's chi-square of the row counts' histogram
    must stay below df + 6 sqrt(2 df) (its mean plus 6 of its standard deviations;
    the seeds are fixed, so the test is deterministic); the total must be within
    5 standard deviations sqrt(N p (1 - p)) of N p over all N pairs; every pair's
    frequency over the seeds within 5 binomial standard deviations of p, and the
    synapses come in Brian2's order, by i then j, each pair at most once."""
    m = model(tmp_path, f"rand() < {P}")
    rows, per_pair, total = [], np.zeros((N_PRE, N_POST)), 0
    for seed in range(SEEDS):
        i, j = synapses(m, seed)
        key = i.astype(np.int64) * N_POST + j
        assert np.all(np.diff(key) > 0), "synapses are ordered by (i, j), each pair once"
        rows.append(np.bincount(i, minlength=N_PRE))
        np.add.at(per_pair, (i, j), 1)
        total += len(i)
    stat, df = chi_square_binomial(np.concatenate(rows), N_POST, P)
    assert stat < df + 6 * math.sqrt(2 * df), (stat, df)
    pairs = SEEDS * N_PRE * N_POST
    assert abs(total - pairs * P) < 5 * math.sqrt(pairs * P * (1 - P)), total
    sd = math.sqrt(SEEDS * P * (1 - P))
    assert np.abs(per_pair - SEEDS * P).max() < 5.5 * sd  # 3000 pairs: the largest of 3000 deviations


def test_anded_conditions_filter_the_drawn_pairs(tmp_path):
    """`i != j and rand() < p` and `rand() < p and j % 2 == 0`: the condition
    holds for every synapse and the count per allowed pair is p on average."""
    for k, (connect, allowed) in enumerate((("i != j and rand() < 0.2", lambda i, j: i != j),
                                            ("rand() < 0.2 and j % 2 == 0", lambda i, j: j % 2 == 0))):
        m = model(tmp_path, connect, 40, 40, name=f"and{k}")
        n_allowed = sum(allowed(i, j) for i in range(40) for j in range(40))
        total = 0
        for seed in range(20):
            i, j = synapses(m, seed)
            assert all(allowed(a, b) for a, b in zip(i, j))
            total += len(i)
        pairs = 20 * n_allowed
        assert abs(total - 0.2 * pairs) < 5 * math.sqrt(pairs * 0.2 * 0.8), (connect, total)
        assert "snn_geometric" in m.frontend.c_source.split("connect S")[1].split("snn_index_synapses")[0]


def test_p_zero_one_and_parameters(tmp_path):
    """p = 0 makes nothing, p = 1 everything (the pair count is exact), p from a parameter."""
    assert len(synapses(model(tmp_path, "rand() < 0", name="p0"), 1)[0]) == 0
    i, j = synapses(model(tmp_path, "rand() < 1", 7, 5, name="p1"), 1)
    assert len(i) == 35 and list(zip(i, j)) == [(a, b) for a in range(7) for b in range(5)]
    (tmp_path / "par.snn").write_text(
        "param p_conn = 0.5\npoisson a[30]:\n    rate = 0 Hz\npoisson b[30]:\n    rate = 0 Hz\n"
        "synapses S: a -> b:\n    connect: rand() < p_conn\n    w : 1\nphase p:\n    save S.w as w\n")
    m = snndsl.compile(tmp_path / "par.snn")
    for value, lo, hi in ((0.0, 0, 0), (1.0, 900, 900), (0.5, 350, 550)):
        sim = m.simulation(params={"p_conn": value}, seed=3)
        sim.run_protocol()
        assert lo <= len(sim.results().saved_indices["w"][0]) <= hi


def test_one_to_one_visits_the_diagonal(tmp_path):
    i, j = synapses(model(tmp_path, "one_to_one", 5, 3, name="o"), 0)
    assert list(i) == [0, 1, 2] and list(j) == [0, 1, 2]


def test_a_huge_sparse_connect_takes_no_time(tmp_path):
    """10^6 x 10^6 pairs at p = 1e-9 (about 1000 synapses): skipping visits the
    synapses, not the 10^12 pairs (the pair loop ran for many minutes)."""
    m = model(tmp_path, "rand() < 1e-9", 10**6, 10**6, name="huge")
    t0 = time.perf_counter()
    i, j = synapses(m, 4)
    elapsed = time.perf_counter() - t0
    assert 800 < len(i) < 1200
    assert np.all(np.diff(i.astype(np.int64) * 10**6 + j) > 0)
    assert elapsed < 60, elapsed  # well under a second here; generous for a loaded machine


def test_brian2_sizes_of_the_two_sides(tmp_path):
    """N_pre and N_post (Brian2's names) are the sizes of a synapse group's two
    sides, a subgroup's own size between subgroups, in connect and in code;
    a declared N_pre hides it."""
    m = model(tmp_path, "j == N_post - 1 - i and i < N_pre - 10")
    i, j = synapses(m, 0)
    assert list(i) == list(range(50)) and list(j) == list(range(49, -1, -1))
    (tmp_path / "sub.snn").write_text(
        "neurons a[60]:\n    v : 1\nneurons b[50]:\n    v : 1\n"
        "subgroup a2 = a[10:30]\nsubgroup b2 = b[5:10]\n"
        "synapses S: a2 -> b2:\n    connect: j == i % N_post\n    w : 1\n    init: w = N_pre * 100 + N_post\n"
        "phase p:\n    save S.w as w\n")
    res = snndsl.compile(tmp_path / "sub.snn").run()
    i, j = res.saved_indices["w"]
    assert list(i) == list(range(20)) and list(j) == [k % 5 for k in range(20)]
    assert set(res.saved["w"]) == {2005}
    (tmp_path / "hidden.snn").write_text(
        "const N_pre = 3\npoisson a[60]:\n    rate = 0 Hz\npoisson b[50]:\n    rate = 0 Hz\n"
        "synapses S: a -> b:\n    connect: i < N_pre and j == 0\n    w : 1\nphase p:\n    save S.w as w\n")
    i, j = synapses(snndsl.compile(tmp_path / "hidden.snn"), 0)
    assert list(i) == [0, 1, 2]


def test_brian2_sizes_are_names_of_synapse_groups_only(tmp_path):
    (tmp_path / "bad.snn").write_text("neurons a[10]:\n    v : 1\n    init: v = N_pre\n")
    with pytest.raises(snndsl.CompileError) as err:
        snndsl.compile(tmp_path / "bad.snn")
    assert "'N_pre' is not defined" in str(err.value) and ":3:15" in str(err.value)



N_COUNTS = """\
neurons a[30]:
    dv/dt = (1.5 + 0.02 * i - v) / (5 ms) : 1
    threshold: v > 1
    reset: v = 0
neurons b[20]:
    dv/dt = -v / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
subgroup b2 = b[5:20]
synapses S: a -> b2:
    connect: (i * 7 + j * 3) % 5 < 2
    w : 1
    nout : 1
    on pre: post.v += w * N_incoming / N_outgoing
    init:
        w = 0.2 / N_incoming
        nout = N_outgoing
monitor mv: b.v
phase p:
    run 5 ms
    S.w = 0.5 / N_incoming
    run 5 ms
    save S.w as w
    save S.nout as nout
    save S.N_incoming as n_in
    save S.N_outgoing as n_out
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_brian2_synapse_counts(tmp_path, backend):
    """N_incoming and N_outgoing, Brian2's numbers of synapses of a synapse's
    postsynaptic and presynaptic neuron (between subgroups, within them), in
    init, event code and phase statements, and saved (Brian2's
    S.N_incoming[:]): Brian2's values and traces."""
    b2 = pytest.importorskip("brian2")
    path = tmp_path / "counts.snn"
    path.write_text(N_COUNTS)
    res = snndsl.compile(path, backend=backend).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms  # noqa: F841 - the equations' namespace
    a = b2.NeuronGroup(30, "dv/dt = (1.5 + 0.02 * i - v) / (5*ms) : 1", threshold="v > 1", reset="v = 0",
                       method="exact")
    b = b2.NeuronGroup(20, "dv/dt = -v / (10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
    S = b2.Synapses(a, b[5:20], "w : 1\nnout : 1", on_pre="v_post += w * N_incoming / N_outgoing")
    S.connect("(i * 7 + j * 3) % 5 < 2")
    S.w = "0.2 / N_incoming"
    S.nout = "N_outgoing"
    mon = b2.StateMonitor(b, "v", record=True)
    b2.run(5 * ms)
    S.w = "0.5 / N_incoming"
    b2.run(5 * ms)
    i, j = res.saved_indices["w"]
    np.testing.assert_array_equal(i, S.i[:])
    np.testing.assert_array_equal(j, S.j[:])
    np.testing.assert_array_equal(res.saved["nout"], S.nout[:])
    np.testing.assert_array_equal(res.saved["nout"], np.bincount(i, minlength=30)[i])
    np.testing.assert_array_equal(res.saved["n_out"], S.N_outgoing[:])
    np.testing.assert_array_equal(res.saved["n_in"], S.N_incoming[:])
    assert res.saved["n_in"].dtype.kind == "i"
    np.testing.assert_array_equal(res.saved["n_in"], np.bincount(j, minlength=15)[j])
    np.testing.assert_array_equal(res.saved_indices["n_in"][1], j)
    np.testing.assert_allclose(res.saved["w"], 0.5 / np.bincount(j, minlength=15)[j], rtol=1e-15)
    np.testing.assert_allclose(res["mv"].values, mon.v[:].T, rtol=1e-12, atol=1e-15)
    assert res["mv"].values.max() > 0.2


def test_a_connection_cannot_read_the_synapse_counts(tmp_path):
    path = tmp_path / "counts.snn"
    path.write_text(N_COUNTS.replace("connect: (i * 7 + j * 3) % 5 < 2", "connect: rand() < 0.3 / N_outgoing"))
    with pytest.raises(snndsl.CompileError, match="'N_outgoing' counts the synapses made: a connection cannot"):
        snndsl.compile(path)


DELAYS = """\
neurons A[3]:
    v : 1
neurons B[4]:
    v : 1
synapses S: A -> B:
    connect: all
    delay: 1 ms + i * 0.33 ms + j * 0.27 ms
synapses T: A -> B:
    connect: one_to_one
    delay: 2 ms
synapses U: A -> B:
    connect: one_to_one
phase p:
    save S.delay as per_synapse
    save T.delay as one
    save U.delay as none
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_save_a_synapse_groups_delays(tmp_path, backend):
    """`save S.delay` gives each synapse's delay as the run uses it: Brian2's
    S.delay rounded to the time step as its spike queue rounds it
    (int(d / dt + 0.5)); one value for all, or 0 without a delay."""
    b2 = pytest.importorskip("brian2")
    path = tmp_path / "delays.snn"
    path.write_text(DELAYS)
    res = snndsl.compile(path, backend=backend).run()
    assert res.manifest["saved"]["per_synapse"]["unit"] == "second"
    b2.start_scope()
    A, B = b2.NeuronGroup(3, "v : 1", threshold="v > 1"), b2.NeuronGroup(4, "v : 1")
    S = b2.Synapses(A, B, on_pre="v += 1")
    S.connect()
    S.delay = "1*ms + i * 0.33*ms + j * 0.27*ms"  # (no delay half a step from a whole one: rounding ties)
    dt = 1e-4
    theirs = np.trunc(np.asarray(S.delay_) / dt + 0.5) * dt
    np.testing.assert_allclose(res.saved["per_synapse"], theirs, rtol=1e-12)
    np.testing.assert_allclose(res.saved["one"], [2e-3] * 3, rtol=1e-12)
    np.testing.assert_array_equal(res.saved["none"], [0, 0, 0])
    assert len(set(res.saved["per_synapse"])) > 6


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_save_the_synapse_counts_of_random_connections(tmp_path, backend):
    """Counts that differ from neuron to neuron: each synapse's N_incoming is
    how many synapses its postsynaptic neuron has, N_outgoing its presynaptic."""
    path = tmp_path / "counts.snn"
    path.write_text("seed = 4\nneurons G[12]:\n    v : 1\nsynapses S: G -> G:\n    connect: i != j and rand() < 0.4\n"
                    "phase p:\n    save S.N_incoming as n_in\n    save S.N_outgoing as n_out\n")
    res = snndsl.compile(path, backend=backend).run()
    i, j = res.saved_indices["n_in"]
    assert len(set(res.saved["n_in"])) > 2 and len(set(res.saved["n_out"])) > 2
    np.testing.assert_array_equal(res.saved["n_in"], np.bincount(j, minlength=12)[j])
    np.testing.assert_array_equal(res.saved["n_out"], np.bincount(i, minlength=12)[i])
