"""Linked variables (`X = H.Y : UNIT (linked)`) against Brian2's linked_var,
exactly: a neuron group reads another group's variable element for element
(in its equations, its threshold, and through pre. in a synapse's code) and
another group's shared variable, which a phase then changes. A linked
variable reads the other group's value of that moment: updated already in
this step if the other group is declared first."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

MODEL = """\
dt = 0.1 ms
neurons src[4]:
    dx/dt = (1 + i - x) / (5 ms) : 1
    level : 1 (shared)
    init: level = 0.5
neurons G[4]:
    dv/dt = (I + L - v) / (10 ms) : 1
    I = src.x : 1 (linked)
    L = src.level : 1 (linked)
    threshold: v > 1.2 + 0.1 * I
    reset: v = 0
neurons H[2]:
    u : 1
synapses S: G -> H:
    connect: all
    on pre: post.u += pre.I * (j + 1)
monitor mv: G.v
monitor mI: G.I
monitor mu: H.u
monitor sp: spikes of G
phase one:
    run 20 ms
phase two:
    src.level = 2
    run 10 ms
"""


def test_linked_variables_match_brian2(tmp_path):
    import brian2 as b2
    path = tmp_path / "linked.snn"
    path.write_text(MODEL)
    ours = snndsl.compile(path).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    # snndsl updates the groups in the order of the file; Brian2 orders a slot by name
    src = b2.NeuronGroup(4, "dx/dt = (1 + i - x) / (5*ms) : 1\nlevel : 1 (shared)", method="exact", name="n1_src")
    src.level = 0.5
    G = b2.NeuronGroup(4, "dv/dt = (I + L - v) / (10*ms) : 1\nI : 1 (linked)\nL : 1 (linked)",
                       threshold="v > 1.2 + 0.1 * I", reset="v = 0", method="exact", name="n2_G")
    G.I = b2.linked_var(src, "x")
    G.L = b2.linked_var(src, "level")
    H = b2.NeuronGroup(2, "u : 1")
    S = b2.Synapses(G, H, on_pre="u_post += I_pre * (j + 1)")
    S.connect()
    mv, mI, mu = (b2.StateMonitor(g, v, record=True) for g, v in ((G, "v"), (G, "I"), (H, "u")))
    sp = b2.SpikeMonitor(G)
    b2.run(20 * b2.ms)
    src.level = 2
    b2.run(10 * b2.ms)

    assert len(sp.i) > 5
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    for name, mon, var in (("mv", mv, "v"), ("mI", mI, "I"), ("mu", mu, "u")):
        np.testing.assert_allclose(ours[name].values, getattr(mon, var).T, rtol=1e-12, atol=1e-15, err_msg=name)


INDEXED = """\
dt = 0.1 ms
data order : 1 = [3, 2, 1, 0, 0, 1, 2, 3]
neurons src[4]:
    dx/dt = (1 + i - x) / (5 ms) : 1
neurons G[8]:
    dv/dt = (I + J - v) / (10 ms) : 1
    I = src.x[i // 2] : 1 (linked)
    J = src.x[order] : 1 (linked)
    threshold: v > 1.5
    reset: v = 0
neurons H[8]:
    u : 1
subgroup H2 = H[2:8]
synapses S: G -> H2:
    connect: j == i % 6
    on pre: post.u += pre.I + 10 * pre.J
monitor mv: G.v
monitor mu: H.u
monitor sp: spikes of G
phase a:
    run 30 ms
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_linked_variables_with_an_index_match_brian2(tmp_path, backend):
    """`X = H.Y[EXPR] : UNIT (linked)`, Brian2's linked_var(H, 'Y',
    index=...): the index an expression of i, or a data array (Brian2's
    index array); read in equations and, through pre., in a synapse's code:
    Brian2's traces and spikes."""
    import brian2 as b2
    path = tmp_path / "indexed.snn"
    path.write_text(INDEXED)
    ours = snndsl.compile(path, backend=backend).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms  # noqa: F841 - the equations' namespace
    # (named so that Brian2, which orders a slot by names, updates src first, as the file's order does)
    src = b2.NeuronGroup(4, "dx/dt = (1 + i - x) / (5*ms) : 1", method="exact", name="a_src")
    G = b2.NeuronGroup(8, "dv/dt = (I + J - v) / (10*ms) : 1\nI : 1 (linked)\nJ : 1 (linked)",
                       threshold="v > 1.5", reset="v = 0", method="exact", name="b_G")
    G.I = b2.linked_var(src, "x", index=np.arange(8) // 2)
    G.J = b2.linked_var(src, "x", index=np.array([3, 2, 1, 0, 0, 1, 2, 3]))
    # (Brian2 2.9 cannot read an indexed linked variable through pre: 'I_pre could not be resolved')
    mv, sp = b2.StateMonitor(G, "v", record=True), b2.SpikeMonitor(G)
    b2.run(30 * ms)
    assert len(sp.i) > 5
    np.testing.assert_allclose(ours["mv"].values, mv.v[:].T, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ours["sp"].i, sp.i[:])
    np.testing.assert_allclose(ours["sp"].t, sp.t_[:], rtol=0, atol=1e-12)
    # through pre.: each spike of G neuron k adds x[k // 2] + 10 x[order[k]] of that moment (src updated,
    # x_m = (1 + m)(1 - exp(-t / 5 ms)) after the step) to H neuron 2 + k % 6
    order, u = np.array([3, 2, 1, 0, 0, 1, 2, 3]), np.zeros(8)
    last = ours["mu"].t[-1]  # recorded at the start of a step: the spikes before it
    for k, t in zip(ours["sp"].i, ours["sp"].t):
        if t > last - 1e-12:
            continue
        x = (1 + np.arange(4)) * (1 - np.exp(-(t + 1e-4) / 5e-3))
        u[2 + k % 6] += x[k // 2] + 10 * x[order[k]]
    np.testing.assert_allclose(ours["mu"].values[-1], u, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", ["c", "reference"])
@pytest.mark.parametrize("index, message", [
    ("i", r"indexed\.snn:7:9: error\[E0601\]: index 4 is out of range for src\.x, of 4 elements"),
    ("order * 1.5", r"index 4\.5 for src\.x is not a whole number"),
])
def test_an_index_outside_the_group_is_an_error(tmp_path, backend, index, message):
    path = tmp_path / "indexed.snn"
    path.write_text(INDEXED.replace("src.x[i // 2]", f"src.x[{index}]"))
    with pytest.raises(snndsl.Error, match=message):
        snndsl.compile(path, backend=backend).run()


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_a_variable_read_only_by_an_index_is_kept(tmp_path, backend):
    """`sel` is read nowhere but in the linked variable's index: it stays
    (remove_dead_state once dropped it, and verify stopped the compiler)."""
    path = tmp_path / "sel.snn"
    path.write_text("neurons b[6]:\n    y : 1\nneurons c[3]:\n    sel : integer (shared)\n"
                    "    m = b.y[sel * 3 + i] : 1 (linked)\n    r : 1\n"
                    "phase p:\n    b.y = 10 * i\n    c.sel = 1\n    c.r = m\n    save c.r as r\n")
    np.testing.assert_array_equal(snndsl.compile(path, backend=backend).run().saved["r"], [30, 40, 50])


@pytest.mark.parametrize("text, message", [
    ("    I = src.x[i * 0.5] : 1 (linked)", r"the index into 'src\.x' is an integer"),
    ("    I = src.x[rand()] : 1 (linked)", "rand"),
    ("    I = src.x[i // 2] : 1", r"'src\.x\[\.\.\.\]' reads one element of another group: declare it as a linked"),
])
def test_a_bad_index_is_a_compile_error(tmp_path, text, message):
    path = tmp_path / "indexed.snn"
    path.write_text(INDEXED.replace("    I = src.x[i // 2] : 1 (linked)", text))
    with pytest.raises(snndsl.CompileError, match=message):
        snndsl.compile(path)


def test_emit_ir_shows_linked_reads(tmp_path):
    """`snndsl compile --emit ir` prints a linked read through an index and
    one of a one-element group (both crashed the printer before)."""
    import subprocess
    import sys
    path = tmp_path / "indexed.snn"
    path.write_text(INDEXED.replace("neurons H[8]:", "neurons one[1]:\n    y : 1\nneurons H[8]:\n    y1 = one.y : 1 (linked)")
                    .replace("post.u += pre.I + 10 * pre.J", "post.u += pre.I + 10 * pre.J + post.y1"))
    proc = subprocess.run([sys.executable, "-m", "snndsl", "compile", str(path), "--emit", "ir"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "src.x[i // 2]" in proc.stdout and "src.x[order[elem]]" in proc.stdout and "one.y[0]" in proc.stdout


SYNAPSES = """\
dt = 0.1 ms
neurons drive[1]:
    dx/dt = (1 - x) / (4 ms) : 1
    gain = 2 * x + level : 1
    level : 1 (shared)
    init: level = 0.5
spikes src[3]:
    indices = [0, 1, 2, 0, 2]
    times = [1 ms, 2 ms, 2 ms, 6 ms, 8 ms]
neurons G[2]:
    dv/dt = -v / (10 ms) : 1
synapses S: src -> G:
    connect: all
    g = drive.gain : 1 (linked)
    L = drive.level : 1 (linked)
    w : 1
    init: w = 0.1 * (i + 1) + 0.01 * j
    on pre:
        post.v += w * g
        w += 0.01 * L
monitor mv: G.v
monitor mw: S.w
phase one:
    run 5 ms
phase two:
    drive.level = 2
    run 5 ms
"""


def test_linked_variables_in_synapses_match_brian2(tmp_path):
    """A synapse group links to a one-element group's subexpression (which
    reads its state and a shared variable) and to a shared variable (Brian2's
    homeostatic STDP example links G this way), exactly as Brian2; the same on
    the reference backend."""
    import sys
    from pathlib import Path
    import brian2 as b2
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))
    import test_against_c as REF
    path = tmp_path / "linked_synapses.snn"
    path.write_text(SYNAPSES)
    ours = snndsl.compile(path).run()
    REF.assert_same(ours, snndsl.compile(path, backend="reference").run())

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    drive = b2.NeuronGroup(1, "dx/dt = (1 - x) / (4*ms) : 1\ngain = 2 * x + level : 1\nlevel : 1 (shared)",
                           method="exact")
    drive.level = 0.5
    src = b2.SpikeGeneratorGroup(3, [0, 1, 2, 0, 2], [1, 2, 2, 6, 8] * b2.ms)
    G = b2.NeuronGroup(2, "dv/dt = -v / (10*ms) : 1", method="exact")
    S = b2.Synapses(src, G, "g : 1 (linked)\nL : 1 (linked)\nw : 1", on_pre="v_post += w * g\nw += 0.01 * L")
    S.connect()
    S.g = b2.linked_var(drive, "gain")
    S.L = b2.linked_var(drive, "level")
    S.w = "0.1 * (i + 1) + 0.01 * j"
    mv, mw = b2.StateMonitor(G, "v", record=True), b2.StateMonitor(S, "w", record=True)
    b2.run(5 * b2.ms)
    drive.level = 2
    b2.run(5 * b2.ms)
    np.testing.assert_allclose(ours["mv"].values, mv.v.T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours["mw"].values, mw.w.T, rtol=1e-12, atol=1e-15)
    assert ours["mw"].values[-1].max() > ours["mw"].values[0].max() + 0.02  # L = 2 in phase two
