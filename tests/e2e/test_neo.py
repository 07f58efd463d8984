"""Results as a Neo Block, analysed with Elephant (the field's tools)."""
import numpy as np
import pytest

import snndsl

from conftest import EXAMPLES

pytestmark = pytest.mark.needs_cc


@pytest.fixture(scope="module")
def forum():
    return snndsl.compile(EXAMPLES / "freeze_after_learning.snn").run(seed=7)


def test_one_segment_per_phase_with_spike_trains_and_signals_in_their_units(forum):
    import quantities as pq
    block = forum.to_neo()
    assert block.name == forum.manifest["model"] == "freeze_after_learning"
    assert block.annotations["seed"] == 7 and block.annotations["dt"] == pytest.approx(1e-4)
    assert [s.name for s in block.segments] == ["train", "freeze", "test"]
    train, freeze, test = block.segments
    spikes = forum["out_spikes"]
    for seg, (lo, hi) in ((train, (0, 1)), (test, (1, 2))):
        assert len(seg.spiketrains) == 10  # one per neuron of `out`
        for n, st in enumerate(seg.spiketrains):
            assert st.annotations["index"] == n and st.annotations["group"] == "out"
            assert st.t_start == lo * pq.s and st.t_stop == hi * pq.s
            mine = spikes.t[(spikes.i == n) & (spikes.t >= lo) & (spikes.t < hi + (hi == 2))]
            np.testing.assert_array_equal(st.rescale(pq.s).magnitude, mine)
    assert sum(len(st) for seg in block.segments for st in seg.spiketrains) == len(spikes.t)
    (sig,) = train.analogsignals
    assert sig.name == "weights" and sig.units == pq.dimensionless and sig.shape == (1000, 100)
    assert sig.sampling_period == 1e-3 * pq.s and sig.t_start == 0 * pq.s
    np.testing.assert_array_equal(sig.magnitude, forum["weights"].values[:1000])
    assert len(freeze.analogsignals) == 0 and len(test.analogsignals[0]) == 1000


def test_units_of_a_neuron_model_and_rates(tmp_path):
    import quantities as pq
    path = tmp_path / "lif.snn"
    path.write_text("neurons G[4]:\n    dv/dt = (20 mV - v) / (10 ms) : volt\n    g : siemens/metre**2\n"
                    "    threshold: v > 10 mV\n    reset: v = 0 mV\n"
                    "monitor mv: G.v\nmonitor mg: G.g\nmonitor r: rate of G\nmonitor s: spikes of G\n"
                    "phase a:\n    run 20 ms\n")
    block = snndsl.compile(path).run().to_neo()
    (seg,) = block.segments
    by_name = {s.name: s for s in seg.analogsignals}
    assert by_name["mv"].units == pq.V and by_name["mv"].annotations["indices"] == [0, 1, 2, 3]
    assert by_name["mg"].units == pq.S / pq.m ** 2
    assert by_name["r"].units == pq.Hz and by_name["r"].shape == (200, 1)
    assert by_name["mv"].max() <= 10e-3 * pq.V + 1e-12 * pq.V
    assert len(seg.spiketrains) == 4 and all(len(st) >= 2 for st in seg.spiketrains)


@pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated")  # inside Elephant
def test_elephant_analyses_the_block(forum):
    """Mean rate, CV of the inter-spike intervals and a cross-correlogram,
    by Elephant, agree with the same numbers computed from the arrays."""
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import cross_correlation_histogram
    from elephant.statistics import cv, isi, mean_firing_rate
    train = forum.to_neo().segments[0]
    st = train.spiketrains[3]
    spikes = forum["out_spikes"]
    mine = spikes.t[(spikes.i == 3) & (spikes.t < 1)]
    assert mean_firing_rate(st).rescale(pq.Hz).magnitude == pytest.approx(len(mine) / 1.0)
    assert cv(isi(st)) == pytest.approx(np.std(np.diff(mine)) / np.mean(np.diff(mine)))
    a = BinnedSpikeTrain(train.spiketrains[3], bin_size=5 * pq.ms)
    b = BinnedSpikeTrain(train.spiketrains[4], bin_size=5 * pq.ms)
    cch, lags = cross_correlation_histogram(a, b, window=[-10, 10])
    counts = np.histogram(mine, bins=200, range=(0, 1))[0]
    other = np.histogram(spikes.t[(spikes.i == 4) & (spikes.t < 1)], bins=200, range=(0, 1))[0]
    assert cch.magnitude[10, 0] == pytest.approx(float(np.dot(counts, other)))  # lag 0
    assert list(lags) == list(range(-10, 11))


@pytest.mark.brian2
def test_monitors_as_brian2_quantities(tmp_path):
    import brian2
    path = tmp_path / "lif.snn"
    path.write_text("neurons G[2]:\n    dv/dt = (20 mV - v) / (10 ms) : volt\n    g : siemens/metre**2\n"
                    "    threshold: v > 10 mV\n    reset: v = 0 mV\n"
                    "monitor mv: G.v\nmonitor mg: G.g\nmonitor r: rate of G\nmonitor s: spikes of G\n"
                    "phase a:\n    run 20 ms\n")
    res = snndsl.compile(path).run()
    v = res["mv"].quantity
    assert v.dim == brian2.volt.dim and np.allclose(np.asarray(v / brian2.mV), res["mv"].values * 1e3)
    assert res["mg"].quantity.dim == (brian2.siemens / brian2.metre ** 2).dim
    assert res["r"].quantity.dim == brian2.Hz.dim and res["s"].quantity.dim == brian2.second.dim
    assert float(res["s"].quantity[0] / brian2.ms) == pytest.approx(res["s"].t[0] * 1e3)
