"""End-to-end semantics of what the forum-model issue compiles: sources,
connectivity and its numbering, phase statements, data, parameters, monitors.
Each model is small and runs in-process."""
import textwrap

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc


def run(tmp_path, text, **kw):
    path = tmp_path / "m.snn"
    path.write_text(textwrap.dedent(text))
    return snndsl.compile(path).run(**kw)


def test_spike_generator_bins_like_brian2(tmp_path):
    res = run(tmp_path, """
        dt = 0.1 ms
        spikes gen[3]:
            indices = [2, 0, 1, 0]
            times = [0.25 ms, 0.0999 ms, 0.1 ms, 1 ms]
        monitor s: spikes of gen
        phase p:
            run 2 ms
    """)
    s = res["s"]
    # 0.0999 ms + 1e-3 dt lands in step 1; sorted by time, then index
    assert list(s.i) == [0, 1, 2, 0]
    np.testing.assert_allclose(s.t, np.array([1, 1, 2, 10]) * 1e-4, rtol=0, atol=1e-15)


def test_spike_generator_refuses_two_spikes_in_one_step(tmp_path):
    with pytest.raises(snndsl.SimulationError, match=r"m\.snn:\d+:\d+: error\[E0601\].*neuron 1 spikes twice"):
        run(tmp_path, """
            spikes gen[3]:
                indices = [1, 0, 1]
                times = [1 ms, 1.01 ms, 1.02 ms]
            phase p:
                run 2 ms
        """)


def test_connect_numbering_matches_brian2(tmp_path):
    np.save(tmp_path / "pairs.npy", np.array([[2, 0], [0, 1], [2, 1], [1, 1]]))
    res = run(tmp_path, """
        poisson a[4]:
            rate = 0 Hz
        poisson b[3]:
            rate = 0 Hz
        data pairs = "pairs.npy"
        synapses C: a -> b:
            connect: i != j and (i + j) % 2 == 1
            w : 1
        synapses O: b -> b:
            connect: one_to_one
            w : 1
        synapses D: a -> b:
            connect: from pairs
            w : 1
        phase p:
            C.w = 10 * i + j
            O.w = 10 * i + j
            D.w = 10 * i + j
            save C.w as c
            save O.w as o
            save D.w as d
    """)
    expected = [(i, j) for i in range(4) for j in range(3) if i != j and (i + j) % 2 == 1]
    i, j = res.saved_indices["c"]
    assert list(zip(i, j)) == expected
    np.testing.assert_array_equal(res.saved["c"], [10 * a + b for a, b in expected])
    assert list(zip(*res.saved_indices["o"])) == [(0, 0), (1, 1), (2, 2)]
    assert list(zip(*res.saved_indices["d"])) == [(2, 0), (0, 1), (2, 1), (1, 1)]
    np.testing.assert_array_equal(res.saved["d"], [20, 1, 21, 11])
    assert res.manifest["groups"]["C"]["size"] == len(expected)


def test_connect_with_rand_has_the_right_density(tmp_path):
    res = run(tmp_path, """
        poisson a[200]:
            rate = 0 Hz
        synapses S: a -> a:
            connect: rand() < 0.1
            w : 1
    """, seed=5)
    n = res.manifest["groups"]["S"]["size"]
    assert abs(n - 4000) < 4 * np.sqrt(4000 * 0.9)


def test_phase_assignments_ranges_conditions_compound_and_reductions(tmp_path):
    res = run(tmp_path, """
        poisson a[3]:
            rate = 0 Hz
        poisson b[4]:
            rate = 0 Hz
        synapses S: a -> b:
            connect: all
            w : 1
            k : integer
            flag : boolean
        phase p:
            S.w = 1 + i + 2 * j
            save S.w as w0
            S.w[2:5] *= 10
            save S.w as w1
            S.w[w > 20] = -1
            save S.w as w2
            S.w = w / sum_post(w)
            save S.w as w3
            S.k = count(w > 0)
            S.flag = i == j
            save S.k as k
            save S.flag as flag
    """)
    i, j = res.saved_indices["w0"]
    w0 = 1 + i + 2 * j
    np.testing.assert_array_equal(res.saved["w0"], w0)
    w1 = w0.astype(float).copy()
    w1[2:5] *= 10
    np.testing.assert_array_equal(res.saved["w1"], w1)
    w2 = np.where(w1 > 20, -1.0, w1)
    np.testing.assert_array_equal(res.saved["w2"], w2)
    col = np.array([w2[j == jj].sum() for jj in range(4)])
    np.testing.assert_allclose(res.saved["w3"], w2 / col[j], rtol=1e-15)
    assert res.saved["k"].dtype == np.int32
    np.testing.assert_array_equal(res.saved["k"], np.full(12, (res.saved["w3"] > 0).sum()))
    assert res.saved["flag"].dtype == np.bool_
    np.testing.assert_array_equal(res.saved["flag"], i == j)


def test_loops_locals_and_saves_in_loops(tmp_path):
    np.savez(tmp_path / "imgs.npz", x=np.arange(12.0).reshape(3, 4), other=np.zeros(2))
    res = run(tmp_path, """
        data images = "imgs.npz:x"
        poisson inp[4]:
            rate : Hz
            total : 1
        phase train:
            let scale = 2
            for k in 0 .. len(images):
                inp.rate = images[k, i] * scale * Hz
                inp.total += rate / Hz
                save inp.rate as rates
                run 1 ms
            scale = scale + 1
            while scale < 10:
                scale *= 2
            if scale == 12:
                inp.total[0:1] = -1
            else:
                inp.total = 0
            save inp.total as total
        monitor r: inp.rate every 1 ms
    """)
    imgs = np.arange(12.0).reshape(3, 4)
    assert res.saved["rates"].shape == (3, 4)
    np.testing.assert_array_equal(res.saved["rates"], imgs * 2)
    total = (imgs * 2).sum(axis=0)
    total[0] = -1
    np.testing.assert_array_equal(res.saved["total"], total)
    np.testing.assert_array_equal(res["r"].values, imgs * 2)
    np.testing.assert_allclose(res["r"].t, [0, 1e-3, 2e-3])


def test_poisson_rates_statistics_and_rate_monitor(tmp_path):
    res = run(tmp_path, """
        param base = 20 Hz
        param top = 2 * base
        poisson p[100]:
            rate = where(i < 50, base, top)
        monitor s: spikes of p
        monitor r: rate of p
        phase run_it:
            run 5 s
    """, seed=11)
    counts = np.bincount(res["s"].i, minlength=100)
    assert abs(counts[:50].mean() - 100) < 5
    assert abs(counts[50:].mean() - 200) < 7
    assert len(res["r"].t) == 50000
    np.testing.assert_allclose(res["r"].rate.mean(), 30, rtol=0.05)
    res2 = snndsl.compile(tmp_path / "m.snn").run(seed=11, params={"base": "10 Hz"})
    assert res2.params == {"base": 10.0, "top": 20.0}
    counts2 = np.bincount(res2["s"].i, minlength=100)
    assert abs(counts2[:50].mean() - 50) < 4


def test_param_set_errors(tmp_path):
    path = tmp_path / "m.snn"
    path.write_text("param rate = 5 Hz\npoisson p[2]:\n    rate = rate\nphase x:\n    run 1 ms\n")
    model = snndsl.compile(path)
    with pytest.raises(snndsl.SimulationError, match="hertz|1/second"):
        model.run(params={"rate": "5 mV"})
    with pytest.raises(snndsl.SimulationError, match="no parameter 'rat'"):
        model.run(params={"rat": 3})
    with pytest.raises(snndsl.SimulationError, match="Hzz"):
        model.run(params={"rate": "5 Hzz"})
    assert model.run(params={"rate": "7 Hz"}).params["rate"] == 7.0


def test_monitor_ranges_every_and_during(tmp_path):
    res = run(tmp_path, """
        poisson a[6]:
            rate : Hz
        monitor all_: a.rate
        monitor part: a.rate[2:4] every 0.5 ms during second
        phase first:
            a.rate = i * Hz
            run 1 ms
        phase second:
            a.rate = 10 * i * Hz
            run 1 ms
    """)
    assert res["all_"].values.shape == (20, 6)
    assert res["part"].values.shape == (2, 2)
    np.testing.assert_allclose(res["part"].t, [1e-3, 1.5e-3])
    np.testing.assert_array_equal(res["part"].values, [[20, 30], [20, 30]])
    assert res["part"].indices == (2, 4)


def test_bare_data_of_the_wrong_length_is_a_clear_error(tmp_path):
    np.save(tmp_path / "w0.npy", np.zeros(5))
    with pytest.raises(snndsl.SimulationError, match=r"m\.snn:\d+:\d+: error\[E0601\]: data 'w0' has 5 elements, but 'S' has 4"):
        run(tmp_path, """
            data w0 = "w0.npy"
            poisson a[2]:
                rate = 0 Hz
            synapses S: a -> a:
                connect: all
                w : 1
            phase p:
                S.w = w0
        """)


def test_data_index_out_of_range_names_the_place(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 3)))
    with pytest.raises(snndsl.SimulationError, match=r"m\.snn:6:5: error\[E0601\]: index 3 is out of range"):
        run(tmp_path, """
            data x = "x.npy"
            poisson a[4]:
                rate : Hz
            phase p:
                a.rate = x[0, i] * Hz
        """)


def test_data_override_and_missing_file(tmp_path):
    np.save(tmp_path / "a.npy", np.array([1.0, 2.0]))
    np.save(tmp_path / "b.npy", np.array([5.0, 6.0]))
    path = tmp_path / "m.snn"
    path.write_text('data r : Hz = "a.npy"\npoisson p[2]:\n    rate : Hz\nphase x:\n    p.rate = r\n'
                    '    save p.rate as out\n')
    model = snndsl.compile(path)
    np.testing.assert_array_equal(model.run().saved["out"], [1, 2])
    np.testing.assert_array_equal(model.run(data={"r": tmp_path / "b.npy"}).saved["out"], [5, 6])
    with pytest.raises(snndsl.SimulationError, match="data 'r'.*no such file"):
        model.run(data={"r": tmp_path / "missing.npy"})
    with pytest.raises(snndsl.SimulationError, match="no data array 'q'"):
        model.run(data={"q": tmp_path / "b.npy"})


def test_save_a_subexpression(tmp_path):
    res = run(tmp_path, """
        poisson a[3]:
            rate = 0 Hz
        synapses S: a -> a:
            connect: all
            w : 1
            double_w = 2 * w + i : 1
        phase p:
            S.w = j
            save S.double_w as dw
            for k in 0 .. 2:
                S.w += 1
                save S.double_w as rows
    """)
    i, j = res.saved_indices["dw"]
    np.testing.assert_array_equal(res.saved["dw"], 2 * j + i)
    np.testing.assert_array_equal(res.saved["rows"], [2 * (j + 1) + i, 2 * (j + 2) + i])


def test_poisson_sources_are_bernoulli_per_step_and_split_runs_agree(tmp_path):
    """Fixed rates: each source draws its next spike a geometric number of steps
    ahead (the same Bernoulli process as one draw per step). Counts and gaps
    follow it, and ten runs of 100 ms give exactly the spikes of one run of 1 s."""
    one = run(tmp_path, """
        poisson p[200]:
            rate = 80 Hz
        monitor s: spikes of p
        phase a:
            run 1 s
    """, seed=9)
    (tmp_path / "split").mkdir()
    split = run(tmp_path / "split", """
        poisson p[200]:
            rate = 80 Hz
        monitor s: spikes of p
        phase a:
            for k in 0 .. 10:
                run 100 ms
    """, seed=9)
    np.testing.assert_array_equal(one["s"].t, split["s"].t)
    np.testing.assert_array_equal(one["s"].i, split["s"].i)
    counts = np.bincount(one["s"].i, minlength=200)
    p = 80 * 1e-4
    assert abs(counts.mean() - 80) < 4 * np.sqrt(80 / 200)
    assert abs(counts.var() - 10000 * p * (1 - p)) < 0.25 * 10000 * p  # binomial variance
    gaps = np.concatenate([np.diff(np.round(one["s"].t[one["s"].i == k] / 1e-4)) for k in range(200)])
    assert gaps.min() >= 1
    assert abs(gaps.mean() - 1 / p) < 0.05 / p  # geometric gaps, mean 1/p steps
    assert abs(np.mean(gaps == 1) - p) < 0.01  # two spikes in consecutive steps: probability p


def test_poisson_rate_changes_between_runs(tmp_path):
    res = run(tmp_path, """
        poisson p[500]:
            rate : Hz
        monitor s: spikes of p
        phase a:
            p.rate = 10 Hz
            run 1 s
            p.rate = 100 Hz
            run 1 s
            p.rate = 0 Hz
            run 1 s
    """, seed=4)
    t = res["s"].t
    assert abs(np.sum(t < 1) / 500 - 10) < 1
    assert abs(np.sum((t >= 1) & (t < 2)) / 500 - 100) < 3
    assert np.sum(t >= 2) == 0
