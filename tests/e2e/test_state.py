"""A simulation is a value: several live in one process, and a snapshot of one
(variables, random streams, spikes, connectivity) continues exactly."""
import numpy as np
import pytest

import snndsl

from conftest import EXAMPLES

pytestmark = pytest.mark.needs_cc

FORUM = EXAMPLES / "freeze_after_learning.snn"


def test_snapshot_continues_exactly(tmp_path):
    model = snndsl.compile(FORUM)
    a = model.simulation(seed=5).advance(0.5)
    a.save_state(tmp_path / "half.state")
    a.advance(0.5)
    ra = a.results()
    b = model.simulation(seed=999).load_state(tmp_path / "half.state").advance(0.5)
    rb = b.results()
    late = ra["weights"].t >= 0.5
    assert late.sum() == len(rb["weights"].t) == 500
    np.testing.assert_array_equal(rb["weights"].t, ra["weights"].t[late])
    np.testing.assert_array_equal(rb["weights"].values, ra["weights"].values[late])
    sa, sb = ra["out_spikes"], rb["out_spikes"]
    np.testing.assert_array_equal(sb.t, sa.t[sa.t >= 0.5])
    np.testing.assert_array_equal(sb.i, sa.i[sa.t >= 0.5])
    assert len(sb.t) > 50  # the random inputs went on identically: it is not a trivial check


def test_the_protocol_and_advancing_agree(tmp_path):
    """The binary's protocol 'run 1 s' and advance(1.0) are the same steps."""
    model = snndsl.compile(FORUM)
    by_protocol = model.run(seed=2)
    stepped = model.simulation(seed=2).advance(1.0).results()
    train = by_protocol["weights"].t < 1.0
    np.testing.assert_array_equal(stepped["weights"].values, by_protocol["weights"].values[train])


def test_snapshot_errors(tmp_path):
    model = snndsl.compile(FORUM)
    sim = model.simulation()
    with pytest.raises(snndsl.SimulationError, match="cannot read the snapshot"):
        sim.load_state(tmp_path / "missing.state")
    (tmp_path / "junk.state").write_bytes(b"not a snapshot at all")
    with pytest.raises(snndsl.SimulationError, match="not an snndsl snapshot"):
        model.simulation().load_state(tmp_path / "junk.state")
    other = tmp_path / "other.snn"
    other.write_text("poisson p[3]:\n    rate = 5 Hz\nphase a:\n    run 1 ms\n")
    snndsl.compile(other).simulation().save_state(tmp_path / "other.state")
    with pytest.raises(snndsl.SimulationError, match="taken from another model"):
        model.simulation().load_state(tmp_path / "other.state")
    sim = model.simulation().advance(0.01)
    sim.save_state(tmp_path / "good.state")
    data = (tmp_path / "good.state").read_bytes()
    (tmp_path / "cut.state").write_bytes(data[: len(data) // 2])
    with pytest.raises(snndsl.SimulationError, match="damaged"):
        model.simulation().load_state(tmp_path / "cut.state")


def test_several_simulations_in_one_process(tmp_path):
    model = snndsl.compile(FORUM)
    alone = [model.run(seed=s).saved["tested_w"] for s in (1, 2)]
    sims = [model.simulation(seed=s) for s in (1, 2)]
    for _ in range(4):  # interleaved, each keeps its own state
        for sim in sims:
            sim.advance(0.25)
    both = [sim.results()["weights"].values for sim in sims]
    assert not np.array_equal(both[0], both[1])
    together = [model.run(seed=s).saved["tested_w"] for s in (1, 2)]
    for x, y in zip(alone, together):
        np.testing.assert_array_equal(x, y)
    ref = model.run(seed=1)["weights"].values
    np.testing.assert_array_equal(both[0], ref[: len(both[0])])


def test_snapshot_keeps_spikes_in_flight(tmp_path):
    """Delayed spikes queued when the snapshot is taken arrive after loading."""
    import importlib.util
    ref = importlib.util.spec_from_file_location("_ref_neurons", EXAMPLES.parent / "tests" / "brian2_ref" / "neurons.py")
    neurons = importlib.util.module_from_spec(ref)
    ref.loader.exec_module(neurons)
    data = {}
    for name, arr in neurons.make_lif_delays_inputs().items():
        np.save(tmp_path / f"{name}.npy", arr)
        data[name] = tmp_path / f"{name}.npy"
    model = snndsl.compile(EXAMPLES.parent / "tests" / "e2e" / "models" / "lif_delays.snn")
    a = model.simulation(data=data).advance(0.0525)  # a volley at 52 ms is still in flight
    a.save_state(tmp_path / "mid.state")
    a.advance(0.03)
    ra = a.results()
    b = model.simulation(data=data).load_state(tmp_path / "mid.state").advance(0.03)
    rb = b.results()
    for name in ("spkG", "spkH"):
        late = ra[name].t >= 0.0525
        np.testing.assert_array_equal(rb[name].i, ra[name].i[late])
        np.testing.assert_array_equal(rb[name].t, ra[name].t[late])
    late = ra["vG"].t >= 0.0525
    np.testing.assert_array_equal(rb["vG"].values, ra["vG"].values[late])
    # the snapshot really held spikes in flight: inputs fired within the longest
    # delay (2.54 ms) before it, and were delivered only after it
    sent = ra["spkIn"].t
    assert np.sum((sent < 0.0525) & (sent >= 0.0525 - 0.00254)) >= 5
    assert len(rb["spkG"].t) > 5
