"""`every PERIOD:` blocks against Brian2's run_regularly, exactly: a neuron
group and a synapse group each change their variables on their own period;
the state monitors see the changes of the same step (snndsl runs the blocks
first in the start slot; Brian2 orders ties in a slot by the objects' names,
so 'neurongroup_run_regularly' runs before 'statemonitor' but
'synapses_run_regularly' after it: order=-1 makes it always first);
thresholds, resets and synaptic events interleave as Brian2's."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

MODEL = """\
dt = 0.1 ms
neurons G[4]:
    dv/dt = (1.2 - v) / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
    init: v = i * 0.2
    every 5 ms:
        v += 0.05 * (i + 1)
    every 2.5 ms: v *= 0.97
synapses S: G -> G:
    connect: i != j
    w : 1
    init: w = 0.01 * (i + 2 * j)
    every 2 ms: w = w * 1.1 + 0.001
    on pre: post.v += w
monitor mv: G.v
monitor mw: S.w
monitor sp: spikes of G
phase a:
    run 25 ms
phase b:
    run 17.3 ms
"""


def test_every_blocks_match_brian2s_run_regularly(tmp_path):
    import brian2 as b2
    path = tmp_path / "every.snn"
    path.write_text(MODEL)
    ours = snndsl.compile(path).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms
    G = b2.NeuronGroup(4, "dv/dt = (1.2 - v) / (10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
    G.v = "i * 0.2"
    G.run_regularly("v += 0.05 * (i + 1)", dt=5 * ms, order=-1)
    G.run_regularly("v *= 0.97", dt=2.5 * ms, order=-1)  # also on every step of the first: in order
    S = b2.Synapses(G, G, "w : 1", on_pre="v_post += w")
    S.connect("i != j")
    S.w = "0.01 * (i + 2 * j)"
    S.run_regularly("w = w * 1.1 + 0.001", dt=2 * ms, order=-1)
    mv, mw, sp = b2.StateMonitor(G, "v", record=True), b2.StateMonitor(S, "w", record=True), b2.SpikeMonitor(G)
    b2.run(25 * ms)
    b2.run(17.3 * ms)

    assert len(sp.i) > 5
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours["mw"].values, np.asarray(mw.w).T, rtol=1e-12, atol=1e-15)
    # the blocks acted: w grew by 1.1 per period, twenty-one times over 42.3 ms
    assert ours["mw"].values[-1, 0] > 5 * ours["mw"].values[0, 0]


SHARED = """\
dt = 0.1 ms
neurons G[5]:
    dv/dt = (drive - v) / (10 ms) : 1
    drive : 1 (shared)
    count : 1 (shared)
    seen : 1
    threshold: v > 1
    reset: v = 0
    every 3 ms:
        count += 1
        drive = 0.8 + 0.1 * count
        seen = count * (i + 1)
synapses S: G -> G:
    connect: j == (i + 1) % 5
    gain : 1 (shared)
    w : 1
    every 4 ms:
        gain = 0.01 * N_pre + t / ms * 0.001
        w = gain * (i + 1)
    on pre: post.v += w
monitor mv: G.v
monitor ms: G.seen
monitor mw: S.w
monitor sp: spikes of G
phase a:
    run 30 ms
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_every_writes_shared_variables_once_as_brian2s_scalar_code(tmp_path, backend):
    """Writes to shared variables in `every` run once per period, before
    the statements per element (Brian2's scalar and vector code of
    run_regularly): the same traces as Brian2, exactly."""
    import brian2 as b2
    path = tmp_path / "shared.snn"
    path.write_text(SHARED)
    ours = snndsl.compile(path, backend=backend).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms
    G = b2.NeuronGroup(5, "dv/dt = (drive - v) / (10*ms) : 1\ndrive : 1 (shared)\ncount : 1 (shared)\nseen : 1",
                       threshold="v > 1", reset="v = 0", method="exact")
    G.run_regularly("count += 1\ndrive = 0.8 + 0.1 * count\nseen = count * (i + 1)", dt=3 * ms, order=-1)
    S = b2.Synapses(G, G, "gain : 1 (shared)\nw : 1", on_pre="v_post += w")
    S.connect("j == (i + 1) % 5")
    S.run_regularly("gain = 0.01 * 5 + t / ms * 0.001\nw = gain * (i + 1)", dt=4 * ms, order=-1)
    mv, ms_, mw = (b2.StateMonitor(G, "v", record=True), b2.StateMonitor(G, "seen", record=True),
                   b2.StateMonitor(S, "w", record=True))
    sp = b2.SpikeMonitor(G)
    b2.run(30 * ms)
    assert len(sp.i) > 3
    np.testing.assert_allclose(ours["mv"].values, mv.v[:].T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours["ms"].values, ms_.seen[:].T, rtol=1e-15, atol=0)
    np.testing.assert_allclose(ours["mw"].values, mw.w[:].T, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(ours["sp"].i, sp.i[:])


RANDOM_SHARED = """\
seed = 4
neurons L[40]:
    direction : 1 (shared)
    sel : 1
    rate = clip(cos(direction - sel), 0, inf) * 200 Hz : Hz
    threshold: rand() < rate * dt
    every 10 ms:
        direction = rand() * 2 * pi
    init: sel = i / N * 2 * pi
monitor d: L.direction
monitor sp: spikes of L
phase p:
    run 400 ms
"""


def test_a_shared_draw_in_every_is_one_number_for_the_group(tmp_path):
    """`direction = rand() * 2 * pi` in `every` (Kremer et al.'s moving bar)
    draws one number per period, uniform on [0, 2 pi), the same on both
    backends, on threads and ranks; the neurons that prefer it fire."""
    path = tmp_path / "bar.snn"
    path.write_text(RANDOM_SHARED)
    ours = snndsl.compile(path).run()
    d = ours["d"].values[:, 0]
    held = d[::100]
    assert np.all(d.reshape(40, 100) == held[:, None])  # one value per period
    assert len(set(held)) == 40 and held.min() >= 0 and held.max() < 2 * np.pi
    ref = snndsl.compile(path, backend="reference").run()
    np.testing.assert_array_equal(ref["d"].values, ours["d"].values)
    np.testing.assert_array_equal(ref["sp"].i, ours["sp"].i)
    threads = snndsl.compile(path).run(threads=2)
    np.testing.assert_array_equal(threads["d"].values, ours["d"].values)
    np.testing.assert_array_equal(threads["sp"].i, ours["sp"].i)
    # a spike's neuron prefers the direction of its period
    period = (ours["sp"].t / 0.01).astype(int)
    sel = ours["sp"].i / 40 * 2 * np.pi
    assert np.all(np.cos(held[period] - sel) > -1e-9)
