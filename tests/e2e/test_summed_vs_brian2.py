"""Summed variables against Brian2, exactly: Brian2's own examples
synapses/gapjunctions.py (a sum of pre.v - post.v through gap junctions,
every pair coupled) and synapses/nonlinear.py (a clock-driven synaptic
conductance summed onto the postsynaptic neuron), and two synapse groups
summing onto one variable (which Brian2 refuses: its reference is one
group holding both sets of synapses)."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

GAP = """\
dt = 0.1 ms
const n_cells = 10
neurons n[n_cells]:
    dv/dt = (v0 - v + Igap) / (10 ms) : 1
    Igap : 1
    v0 : 1
    threshold: v > 1
    reset: v = 0
    init: v0 = 1.05 + 0.25 * i / n_cells
synapses S: n -> n:
    connect: all
    w : 1
    post.Igap = w * (pre.v - post.v) : 1 (summed)
    init: w = 0.02
monitor m: n.v
monitor sp: spikes of n
phase a:
    run 200 ms
"""


def test_gap_junctions_match_brian2(tmp_path):
    import brian2 as b2
    path = tmp_path / "gap.snn"
    path.write_text(GAP)
    ours = snndsl.compile(path).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    N, ms = 10, b2.ms
    G = b2.NeuronGroup(N, "dv/dt = (v0 - v + Igap) / (10*ms) : 1\nIgap : 1\nv0 : 1", threshold="v > 1",
                       reset="v = 0", method="exact")
    G.v0 = "1.05 + 0.25 * i / N"
    S = b2.Synapses(G, G, "w : 1\nIgap_post = w * (v_pre - v_post) : 1 (summed)")
    S.connect()
    S.w = 0.02
    m, sp = b2.StateMonitor(G, "v", record=True), b2.SpikeMonitor(G)
    b2.run(200 * ms)
    assert len(sp.i) > 20
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["m"].values, np.asarray(m.v).T, rtol=1e-10, atol=1e-13)


NONLINEAR = """\
dt = 0.1 ms
const a = 1 / (10 ms)
const b = 1 / (10 ms)
const c = 1 / (10 ms)
neurons inp[2]:
    dv/dt = 1 / (10 ms) : 1
    method: euler
    threshold: v > 1
    reset: v = 0
    init: v = i * 0.5
neurons out[2]:
    dv/dt = (-v + s) / (10 ms) : 1
    s : 1
synapses S: inp -> out:
    connect: one_to_one
    dg/dt = -a * g + b * x * (1 - g) : 1 (clock-driven)
    dx/dt = -c * x : 1 (clock-driven)
    method: euler
    post.s = g : 1 (summed)
    on pre: x += 1
monitor ms_: out.s
monitor mv: out.v
phase a:
    run 100 ms
"""


def test_nonlinear_synapses_match_brian2(tmp_path):
    import brian2 as b2
    path = tmp_path / "nonlinear.snn"
    path.write_text(NONLINEAR)
    ours = snndsl.compile(path).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms
    a = b = c = 1 / (10 * ms)  # noqa: F841 - the equations' namespace
    inp = b2.NeuronGroup(2, "dv/dt = 1 / (10*ms) : 1", threshold="v > 1", reset="v = 0", method="euler")
    inp.v = "i * 0.5"
    out = b2.NeuronGroup(2, "dv/dt = (-v + s) / (10*ms) : 1\ns : 1", method="exact")
    S = b2.Synapses(inp, out, "dg/dt = -a * g + b * x * (1 - g) : 1 (clock-driven)\n"
                              "dx/dt = -c * x : 1 (clock-driven)\ns_post = g : 1 (summed)",
                    on_pre="x += 1", method="euler")
    S.connect(j="i")
    m = b2.StateMonitor(out, ["s", "v"], record=True)
    b2.run(100 * ms)
    assert np.max(m.s) > 0.1  # the synapses conduct
    np.testing.assert_allclose(ours["ms_"].values, np.asarray(m.s).T, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours["mv"].values, np.asarray(m.v).T, rtol=1e-10, atol=1e-13)


def test_two_synapse_groups_sum_onto_one_variable(tmp_path):
    """Beyond Brian2, which allows one summed variable per target: the sum of
    both groups, equal to one group holding both sets of synapses."""
    two = GAP.replace("""    init: w = 0.02
""", """    init: w = 0.02
synapses T: n -> n:
    connect: i == (j + 1) % n_cells
    u : 1
    post.Igap = u * (pre.v - post.v) : 1 (summed)
    init: u = 0.05
""")
    one = GAP.replace("""    connect: all
    w : 1
    post.Igap = w * (pre.v - post.v) : 1 (summed)
    init: w = 0.02
""", """    connect: all
    w : 1
    post.Igap = w * (pre.v - post.v) : 1 (summed)
    init: w = 0.02 + 0.05 * int(i == (j + 1) % n_cells)
""")
    results = []
    for name, text in (("two.snn", two), ("one.snn", one), ("only_s.snn", GAP)):
        path = tmp_path / name
        path.write_text(text)
        results.append(snndsl.compile(path).run())
    both, merged, only_s = results
    np.testing.assert_array_equal(both["sp"].i, merged["sp"].i)
    np.testing.assert_allclose(both["m"].values, merged["m"].values, rtol=1e-9, atol=1e-12)
    assert not np.allclose(both["m"].values, only_s["m"].values)  # T's term counts
