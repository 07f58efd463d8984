"""`let NAME = EXPR` in event code, resets and `every` blocks (Brian2's temporary variables,
`w_minus = ...` in its code strings): a value named for the statements
after it in its block, exactly as Brian2 computes it; the same on the
reference backend and on threads."""
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))
import test_against_c as REF  # noqa: E402  (its comparison)

MODEL = """\
dt = 0.1 ms
neurons G[3]:
    dv/dt = -v / (10 ms) : volt
    threshold: v > 10 mV
    reset:
        let drop = 0.5 * v
        v = v - drop
    init: v = 11 mV + i * 1 mV
synapses S: G -> G:
    connect: i != j
    w : 1
    on pre:
        let gain = 2 * w + 0.1
        if gain > 0.2:
            let extra = gain * 1 mV
            post.v += extra
        w += gain * 0.01
    init: w = 0.05 * i
monitor mv: G.v
monitor mw: S.w
monitor sp: spikes of G
phase p:
    run 5 ms
"""


@pytest.mark.brian2
def test_lets_match_brian2s_temporaries(tmp_path):
    import brian2 as b2
    path = tmp_path / "let.snn"
    path.write_text(MODEL)
    ours = snndsl.compile(path).run()
    REF.assert_same(ours, snndsl.compile(path, backend="reference").run())
    REF.assert_same(snndsl.compile(path).run(threads=2), ours)

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    G = b2.NeuronGroup(3, "dv/dt = -v / (10*ms) : volt", threshold="v > 10*mV",
                       reset="drop = 0.5 * v\nv = v - drop", method="exact")
    G.v = "11*mV + i * 1*mV"
    S = b2.Synapses(G, G, "w : 1", on_pre="gain = 2 * w + 0.1\nv_post += int(gain > 0.2) * gain * mV\n"
                                           "w += gain * 0.01")
    S.connect("i != j")
    S.w = "0.05 * i"
    mv, mw, sp = b2.StateMonitor(G, "v", record=True), b2.StateMonitor(S, "w", record=True), b2.SpikeMonitor(G)
    b2.run(5 * b2.ms)
    assert len(sp.i) >= 3
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(ours["mw"].values, np.asarray(mw.w).T, rtol=1e-12, atol=1e-15)


EVERY = """\
dt = 0.1 ms
neurons G[4]:
    dv/dt = (1 - v) / (10 ms) : 1
    c : 1
    method: euler
    every 1 ms:
        let k = 0.5 * v + i
        c = k * k
        if k > 1:
            let m = k - 1
            v -= 0.1 * m
monitor mv: G.v
monitor mc: G.c
phase a:
    run 10 ms
"""


@pytest.mark.brian2
def test_lets_in_every_match_brian2s_run_regularly(tmp_path):
    """`let` in an `every` block (Brian2's temporaries in run_regularly code),
    also in its `if`; on both backends and threads, and on ranks."""
    import brian2 as b2
    path = tmp_path / "every.snn"
    path.write_text(EVERY)
    ours = snndsl.compile(path).run()
    REF.assert_same(ours, snndsl.compile(path, backend="reference").run())
    REF.assert_same(snndsl.compile(path).run(threads=2), ours)
    REF.assert_same(snndsl.compile(path).run(ranks=2), ours)

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    G = b2.NeuronGroup(4, "dv/dt = (1 - v) / (10*ms) : 1\nc : 1", method="euler")
    G.run_regularly("k = 0.5 * v + i\nc = k * k\nv -= int(k > 1) * 0.1 * (k - 1)", dt=1 * b2.ms)
    mv, mc = b2.StateMonitor(G, "v", record=True), b2.StateMonitor(G, "c", record=True)
    b2.run(10 * b2.ms)
    assert np.asarray(mc.c)[:, -1].max() > 1  # k > 1 for some neurons: their v was lowered
    np.testing.assert_allclose(ours["mv"].values, np.asarray(mv.v).T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours["mc"].values, np.asarray(mc.c).T, rtol=1e-12, atol=1e-15)
