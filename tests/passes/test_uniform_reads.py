"""passes/uniform_reads.py: a synapse variable that only changes between runs
is read from element 0 by the pathways in a run that finds it the same in
every synapse -- the same values, so the same results bit for bit, whether
it is uniform (the forum model's `learned` while it trains), not (after the
freeze), or made so again from Python between runs."""
from __future__ import annotations

import dataclasses
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl import driver
from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir
from snndsl.ir.dump import dump
from snndsl.ir.verify import verify
from snndsl.passes import PIPELINE
from snndsl.passes.uniform_reads import uniform_reads

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "reference"))
from test_against_c import assert_same  # noqa: E402

FORUM = (ROOT / "examples" / "freeze_after_learning.snn").read_text().replace("run 1 s", "run 150 ms")


def _module(text: str) -> ir.Module:
    from snndsl.ir.lower import lower
    _, model, diags = driver.diagnose(textwrap.dedent(text), "m.snn")
    assert not [d for d in diags if d.severity == "error"], diags
    return driver.decide(driver.optimize(lower(model)))


def _marked(m: ir.Module) -> set[str]:
    return {f"{g.name}.{v.name}" for g in m.groups for v in g.vars if v.uniform_check}


def test_marks_what_pathways_read_and_no_step_writes():
    m = _module(FORUM)
    # learned: read by both pathways, written only by init and a phase; w is written by
    # them, W_max is shared, x and y are per-neuron traces
    assert _marked(m) == {"S.learned"}
    assert "var learned : 1 f (read at 0 in runs where uniform)" in dump(m)
    assert "learned.uniform: int64_t (derived)" in dump(m)  # not in snapshots: each run looks again
    written = FORUM.replace("        y -= 1\n", "        y -= 1\n        learned = learned * 0.5\n")
    assert _marked(_module(written)) == set()
    summed = FORUM.replace("poisson out[10]:\n    rate = 10 Hz", "neurons out[10]:\n    s : 1\n"
                           "    dv/dt = -v / tau : 1\n    threshold: v > 1\n    reset: v = 0").replace(
        "    on pre:", "    post.s = learned : 1 (summed)\n    on pre:")
    assert _marked(_module(summed)) == {"S.learned"}  # a sum reads it; only writes count
    from snndsl.ir.lower import lower
    unopt = driver.decide(driver.optimize(lower(driver.diagnose(textwrap.dedent(FORUM), "m.snn")[1]), ()))
    assert _marked(unopt) == set()  # --no-opt: every read is the synapse's own


def test_verify_refuses_a_mark_on_what_steps_write():
    m = _module(FORUM)
    verify(m)
    S = m.group("S")
    w_marked = dataclasses.replace(S, vars=tuple(dataclasses.replace(v, uniform_check=v.name == "w") for v in S.vars))
    with pytest.raises(InternalError, match="S.w is read at 0 where uniform"):
        verify(dataclasses.replace(m, groups=tuple(w_marked if g is S else g for g in m.groups)))
    assert uniform_reads(m) == m  # marked once, nothing more to do


@pytest.mark.needs_cc
def test_the_c_reads_element_0_only_where_a_run_found_one_value(tmp_path):
    path = tmp_path / "forum.snn"
    path.write_text(FORUM)
    model = snndsl.compile(path)
    c = model.library.parent.joinpath("model.c").read_text()
    assert c.count("_a3[_s * _u0]") == 4  # learned in each pathway, on one thread and on several
    assert "snn_all_same(sim->g_S.v_learned, sim->g_S.n, sizeof(double))" in c
    plain = snndsl.compile(path, passes=tuple(p for p in PIPELINE if p is not uniform_reads))
    assert not _marked(plain.frontend.ir)
    assert "* _u0]" not in plain.library.parent.joinpath("model.c").read_text()
    # the protocol: learned uniform while training, not after the freeze
    assert_same(model.run(), plain.run())
    # from Python, between runs: uniform, then not (one synapse changed), then uniform at
    # another value; each run as the reference backend computes it
    reference = snndsl.compile(path, backend="reference")
    sims = [m.simulation() for m in (model, plain, reference)]
    for change in (None, ("S.learned", 0.5, "i == 3 and j == 7"), ("S.learned", 0.25, None),
                   ("S.learned", np.linspace(0, 1, 100), None)):
        for sim in sims:
            if change is not None:
                sim.set(change[0], change[1], where=change[2])
            sim.advance(0.05)
        w = [sim["S"].w for sim in sims]
        assert len(np.unique(w[0])) > 50, change  # the weights learn
        np.testing.assert_array_equal(w[0], w[1])
        np.testing.assert_array_equal(w[0], w[2])
