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
    assert len(sb.t) > 20  # the random inputs went on identically: it is not a trivial check


def test_the_protocol_and_advancing_agree(tmp_path):
    """The binary's protocol 'run 1 s' and advance(1.0) are the same steps."""
    model = snndsl.compile(FORUM)
    by_protocol = model.run(seed=2)
    stepped = model.simulation(seed=2).advance(1.0).results()
    train = by_protocol["weights"].t < 1.0
    np.testing.assert_array_equal(stepped["weights"].values, by_protocol["weights"].values[train])


def test_results_taken_mid_run_stay_as_they_were(tmp_path):
    """`sim.results()` then more `advance`: the arrays taken before keep their
    values (they were views of monitor buffers that growing reallocated: the
    times read freed memory, 6.9e-310 and 0 instead of 0, 0.001, ...)."""
    model = snndsl.compile(FORUM)
    sim = model.simulation(seed=3).advance(0.01)
    early = sim.results()
    t, w, spikes = early["weights"].t, early["weights"].values, early["out_spikes"].t
    expected = (t.copy(), w.copy(), spikes.copy())
    sim.advance(1.0)
    for _ in range(3):  # churn the allocator
        model.run(seed=4)
    np.testing.assert_array_equal(t, expected[0])
    np.testing.assert_array_equal(t, np.arange(10) * 1e-3)
    np.testing.assert_array_equal(w, expected[1])
    np.testing.assert_array_equal(spikes, expected[2])
    assert len(sim.results()["weights"].t) == 1010  # the later results have grown
    assert not t.flags.writeable


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


def test_snapshot_keeps_spikes_in_flight(tmp_path, lif_delays_data):
    """Delayed spikes queued when the snapshot is taken arrive after loading."""
    data = lif_delays_data
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


TRAIN = """\
seed = 5
poisson inp[10]:
    rate = 20 Hz
poisson out[10]:
    rate = 20 Hz
synapses S: inp -> out:
    connect: all
    w : 1
    dx/dt = -x / (20 ms) : 1 (event-driven)
    on pre:
        x += 1
    on post:
        w = clip(w + 0.01 * x, 0, 1)
    init: w = rand()
monitor spk: spikes of out
"""


def test_store_and_restore_state_between_models(tmp_path):
    """`store state as NAME` in one run; another model (the same network, another
    protocol) begins with `restore state from` and continues exactly."""
    import subprocess
    import sys
    whole = tmp_path / "whole.snn"
    whole.write_text(TRAIN + "phase train:\n    run 500 ms\n    store state as trained\n"
                     "phase test:\n    run 500 ms\n    save S.w as final_w\n")
    later = tmp_path / "later.snn"
    later.write_text(TRAIN.replace("seed = 5", "seed = 99")
                     + 'phase test:\n    restore state from "r1/trained.state"\n    run 500 ms\n    save S.w as final_w\n')
    for model, out in ((whole, "r1"), (later, "r2")):
        proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(model), "-o", str(tmp_path / out), "-q"],
                              capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    a, b = snndsl.load(tmp_path / "r1"), snndsl.load(tmp_path / "r2")
    assert a.manifest["states"]["trained"]["stored"] and len(a.states["trained"]) > 1000
    np.testing.assert_array_equal(a.saved["final_w"], b.saved["final_w"])
    late = a["spk"].t >= 0.5
    np.testing.assert_array_equal(b["spk"].t, a["spk"].t[late])
    np.testing.assert_array_equal(b["spk"].i, a["spk"].i[late])
    assert b.phases["test"] == (0.5, 1.0)
    # the in-process results carry the same snapshot bytes
    mem = snndsl.compile(whole).run()
    assert mem.states["trained"] == a.states["trained"]


def test_restore_into_a_different_network_is_refused(tmp_path):
    whole = tmp_path / "whole.snn"
    whole.write_text(TRAIN + "phase train:\n    run 10 ms\n    store state as trained\n")
    snndsl.compile(whole).run()  # in-process; write it through the binary for a file
    import subprocess
    subprocess.run([str(snndsl.compile(whole).binary), "-o", str(tmp_path / "r1"), "-q"], check=True)
    other = tmp_path / "other.snn"
    other.write_text(TRAIN.replace("inp[10]", "inp[11]")
                     + f'phase test:\n    restore state from "{tmp_path / "r1" / "trained.state"}"\n    run 1 ms\n')
    with pytest.raises(snndsl.SimulationError, match="taken from another model"):
        snndsl.compile(other).run()
