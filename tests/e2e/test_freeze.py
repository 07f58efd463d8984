"""`freeze G.X[COND]`: event code, resets and equations leave the selected
elements unchanged from then on; phase assignments still write them."""
import numpy as np
import pytest

import snndsl

from conftest import EXAMPLES

pytestmark = pytest.mark.needs_cc


def test_freeze_is_the_learned_factor_of_the_forum_model(tmp_path):
    """In the forum model, freezing w is exactly setting learned to 0."""
    text = (EXAMPLES / "freeze_after_learning.snn").read_text()
    frozen = text.replace("    S.learned[w > 0.3] = 0\n", "    freeze S.w[w > 0.3]\n")
    assert frozen != text
    path = tmp_path / "frozen.snn"
    path.write_text(frozen)
    a = snndsl.compile(EXAMPLES / "freeze_after_learning.snn").run(seed=11)
    b = snndsl.compile(path).run(seed=11)
    np.testing.assert_array_equal(a.saved["tested_w"], b.saved["tested_w"])
    np.testing.assert_array_equal(a["weights"].values, b["weights"].values)


MODEL = """\
dt = 0.1 ms
poisson inp[20]:
    rate = 50 Hz
neurons n[20]:
    dv/dt = -v / (10 ms) : volt
    c : integer
    threshold: v > 1 mV
    reset:
        v = 0 mV
        c += 1
synapses S: inp -> n:
    connect: i == j
    w : volt
    on pre:
        post.v += w
        w += 0.1 mV
    init: w = 2 mV
monitor spk: spikes of n
phase free:
    run 200 ms
    save S.w as w1
    save n.c as c1
phase held:
    freeze S.w[i < 10]
    freeze n.c[10:]
    freeze n.v[5:10]
    run 200 ms
    save S.w as w2
    save n.c as c2
    S.w = 1 mV
    save S.w as w3
phase thawed:
    unfreeze S.w
    unfreeze n.c
    run 200 ms
    save S.w as w4
    save n.c as c4
"""


def test_freeze_and_unfreeze_select_elements_and_phases_still_write(tmp_path):
    path = tmp_path / "m.snn"
    path.write_text(MODEL)
    r = snndsl.compile(path).run(seed=3)
    w1, w2, w3, w4 = (r.saved[k] for k in ("w1", "w2", "w3", "w4"))
    c1, c2, c4 = (r.saved[k] for k in ("c1", "c2", "c4"))
    np.testing.assert_array_equal(w2[:10], w1[:10])          # frozen: unchanged by on pre
    assert np.all(w2[10:] > w1[10:])                          # the others kept learning
    np.testing.assert_array_equal(w3, 1e-3)                   # a phase assignment writes through
    assert np.all(w4[:10] > 1e-3)                             # unfrozen: learning again
    np.testing.assert_array_equal(c2[10:], c1[10:])           # the reset leaves frozen counters
    assert np.all(c4[10:] >= c2[10:]) and np.any(c4[10:] > c2[10:])
    spikes = r["spk"]
    held = (spikes.t >= 0.2) & (spikes.t < 0.4)
    # v of neurons 5..9 is frozen at its value: they cannot reach the threshold again
    late = np.isin(spikes.i[held], np.arange(5, 10)) & (spikes.t[held] > 0.21)
    assert not late.any()


def test_frozen_traces_stay_per_synapse(tmp_path):
    """A trace that may be frozen per synapse is not hoisted to its neuron."""
    text = (EXAMPLES / "freeze_after_learning.snn").read_text().replace(
        "    S.learned[w > 0.3] = 0\n", "    freeze S.x[w > 0.3]\n")
    path = tmp_path / "m.snn"
    path.write_text(text)
    ir_text = snndsl.compile(path).frontend.ir
    assert ir_text.group("S").var("x").index == "element"
    assert ir_text.group("S").var("y").index == "post"


def test_a_variable_frozen_everywhere_has_no_update_code_in_that_phase(tmp_path):
    """`freeze S.w` (no selection): the test phase runs a step function without
    any write to w; the results equal the masked form, which selects every
    synapse through a condition the compiler cannot see through."""
    whole = EXAMPLES.parent / "tests" / "e2e" / "models" / "freeze_whole.snn"
    model = snndsl.compile(whole)
    c_source = model.frontend.c_source
    assert "snn_step_1" in c_source
    special = c_source[c_source.index("static void snn_step_1"):]
    special = special[:special.index("\n}\n")]
    assert "v_w[_s] =" not in special and "v_w[_s] = " in c_source
    masked_text = whole.read_text().replace("    freeze S.w\n", "    freeze S.w[w > -1]\n")
    masked_path = tmp_path / "masked.snn"
    masked_path.write_text(masked_text)
    masked = snndsl.compile(masked_path)
    assert "snn_step_1" not in masked.frontend.c_source
    a, b = model.run(seed=5), masked.run(seed=5)
    np.testing.assert_array_equal(a.saved["tested_w"], a.saved["trained_w"])
    np.testing.assert_array_equal(a.saved["tested_w"], b.saved["tested_w"])
    np.testing.assert_array_equal(a["weights"].values, b["weights"].values)


def test_specialise_runs_is_conservative_in_loops_and_branches():
    """passes/decide.py: a run holds S.w frozen everywhere after a whole-group
    freeze, not when an unfreeze may happen in the loop around it, nor after a
    freeze under an `if` (which may not happen)."""
    from snndsl.ir import nodes as ir
    from snndsl.passes.decide import specialise_runs
    run = lambda k: ir.Run(ir.Const(float(k)))  # noqa: E731 - the duration names the run
    phases = (ir.Phase("a", (ir.Freeze("S", "w", True), run(1),
                             ir.For("k", ir.Const(0, "i"), ir.Const(2, "i"),
                                    (run(2), ir.Freeze("S", "w", False, where=ir.Const(True, "b")))),
                             run(3))),
              ir.Phase("b", (ir.If(ir.Const(True, "b"), (ir.Freeze("S", "w", True),)), run(4))))
    out = specialise_runs(ir.Module("m", "hash", 1e-4, 0, (), (), (), (), (), phases))
    frozen = {s.duration.value: s.frozen for s in ir.walk(out.phases) if isinstance(s, ir.Run)}
    assert frozen == {1.0: (("S", "w"),), 2.0: (), 3.0: (), 4.0: ()}