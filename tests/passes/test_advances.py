"""The passes that change how traces are advanced, keeping every value bit
for bit: passes/split_advances.py (a pathway advances the far end's traces
in a loop of its own, before the event code: which kernels it splits, and
that the split changes no result on either backend) and
passes/skip_overwritten.py (no advance of a trace about to be replaced;
tests/reference/test_each_pass.py runs it against the reference backend)."""
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
from snndsl.passes.decide import DECISIONS
from snndsl.passes.split_advances import split_advances

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "reference"))
from test_against_c import HOISTED_TRACES, assert_same  # noqa: E402

# the HOISTED_TRACES model with every pair connected twice: a spike's synapses
# reach each neuron of the far end twice, so its trace is advanced twice in a
# step (the second time by exp(0) = 1)
TWICE = HOISTED_TRACES.replace("connect: all", "connect: all times 2")
# the same with a trace that does not decay to zero (dx/dt = a x + b): a
# second advance in one step would not keep it bit for bit, so no split
DRIFTING = HOISTED_TRACES.replace("dApost/dt = -Apost / taupost : 1", "dApost/dt = (1 - Apost) / taupost : 1")


def _decided(text: str) -> ir.Module:
    from snndsl.ir.lower import lower
    _, model, diags = driver.diagnose(textwrap.dedent(text), "m.snn")
    assert not [d for d in diags if d.severity == "error"], diags
    return driver.decide(driver.optimize(lower(model)))


def _pathways(m: ir.Module) -> dict[str, ir.SynapseEvents]:
    return {k.event: k for k in m.step if isinstance(k, ir.SynapseEvents)}


def test_the_far_ends_traces_are_advanced_ahead_of_the_event_code():
    m = _decided(HOISTED_TRACES)
    pre, post = _pathways(m)["pre"], _pathways(m)["post"]
    S = m.group("S")
    for k, trace, clock, group_code in ((pre, "Apost", "lastupdate_post", S.on_pre),
                                        (post, "Apre", "lastupdate_pre", S.on_post)):
        assert [type(s) for s in k.advance] == [ir.Advance, ir.Assign]
        assert k.advance[0].vars == (trace,) and k.advance[1].target.name == clock
        assert k.advance + k.body == group_code  # the group's code, in two loops
        assert not any(isinstance(s, ir.Advance) for s in ir.walk(k.body))
        assert k.advance_all  # connect: all -- every spike reaches every far-end neuron
    # as --emit ir shows it
    assert dump(m).count("once per step with spikes, first, each far-end neuron (their traces to t):") == 2
    twice = _pathways(_decided(TWICE))  # `all times 2` is a generator rule: the advance stays per synapse
    assert twice["pre"].advance and not twice["pre"].advance_all
    assert "each synapse, first (the far end's traces to t):" in dump(_decided(TWICE))


def test_no_split_where_it_could_change_a_value():
    # a trace with a constant term, advanced twice in one step, would round differently
    drifting = _pathways(_decided(DRIFTING))
    assert not drifting["pre"].advance and drifting["post"].advance  # Apost drifts, Apre decays
    # --no-opt: the traces are per synapse, and the event code writes them after advancing
    from snndsl.ir.lower import lower
    _, model, _ = driver.diagnose(textwrap.dedent(HOISTED_TRACES), "m.snn")
    unopt = driver.decide(driver.optimize(lower(model), ()))
    assert all(not k.advance for k in _pathways(unopt).values())
    # per-synapse delays queue each synapse's event on its own: nothing to split
    hetero = _decided(HOISTED_TRACES.replace("delay: 0.5 ms", "delay: (0.5 + 0.1 * j) * ms"))
    assert not _pathways(hetero)["pre"].advance


def test_verify_holds_the_split_to_its_group():
    m = _decided(HOISTED_TRACES)
    verify(m)
    k = _pathways(m)["pre"]
    lost = dataclasses.replace(k, advance=(), advance_all=False)  # the advances dropped: not the group's code
    with pytest.raises(InternalError, match="other code than its group"):
        verify(dataclasses.replace(m, step=tuple(lost if s is k else s for s in m.step)))
    moved = dataclasses.replace(k, advance=k.advance + k.body, body=())  # event code in the advance loop
    with pytest.raises(InternalError, match="advances more than traces"):
        verify(dataclasses.replace(m, step=tuple(moved if s is k else s for s in m.step)))
    assert split_advances(m) == m  # once split, nothing more to do
    twice = _decided(TWICE)  # spikes that do not reach every far-end neuron advance per synapse
    k = _pathways(twice)["pre"]
    claimed = dataclasses.replace(k, advance_all=True)
    with pytest.raises(InternalError, match="advances its far end once per step"):
        verify(dataclasses.replace(twice, step=tuple(claimed if s is k else s for s in twice.step)))


def _models(tmp_path) -> list[tuple[Path, dict]]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.snn"
        path.write_text(textwrap.dedent(text))
        return path

    forum = (ROOT / "examples" / "freeze_after_learning.snn").read_text().replace("run 1 s", "run 150 ms")
    return [(write("hoisted", HOISTED_TRACES), {}), (write("twice", TWICE), {}),
            (write("forum", forum), {}),
            (ROOT / "examples" / "song_abbott.snn", {"params": {"duration": "300 ms"}})]


@pytest.mark.needs_cc
@pytest.mark.parametrize("backend", ["c", "reference"])
def test_the_split_keeps_every_result_bit_for_bit(tmp_path, monkeypatch, backend):
    without = tuple(p for p in DECISIONS if p is not split_advances)
    for path, run in _models(tmp_path):
        split = snndsl.compile(path, backend=backend)
        assert any(k.advance for k in split.frontend.ir.step if isinstance(k, ir.SynapseEvents)), path
        with monkeypatch.context() as patch:
            patch.setattr(driver, "DECISIONS", without)
            whole = snndsl.compile(path, backend=backend)
        assert not any(k.advance for k in whole.frontend.ir.step if isinstance(k, ir.SynapseEvents))
        a, b = split.run(**run), whole.run(**run)
        assert sum(len(m.t) for m in a.monitors.values() if m.kind == "spikes") > 0, path
        assert_same(a, b)


# all-to-all between subgroups, with several spikes in one step on both sides: the
# advance once per step covers the far end's range, not its whole group; neurons
# outside the subgroups spike alone (inp 0 at 15 ms, 5 at 16 ms, out 0 at the start),
# which reaches no synapse and advances nothing (inp 2 and 3 then read the traces,
# `seen` keeps them to the last bit)
SUBGROUPS = HOISTED_TRACES.replace("synapses S: inp -> out:", """subgroup a = inp[1:5]
    subgroup b = out[1:3]
    synapses S: a -> b:""").replace("threshold: v > 1 mV", "threshold: v > 0.5 mV").replace(
    "0, 1]\n", "0, 1, 0, 5, 2, 3]\n").replace("12 ms, 12 ms]", "12 ms, 12 ms, 15 ms, 16 ms, 18 ms, 19 ms]").replace(
    "        reset: v = 0 mV\n", "        reset: v = 0 mV\n        init:\n            v = 2 mV * (1 - min(i, 1))\n").replace(
    "        w : volt\n", "        w : volt\n        seen : 1\n").replace(
    "            Apre += 0.01\n", "            Apre += 0.01\n            seen = Apost\n").replace(
    "        save S.w as w_end", "        save S.w as w_end\n        save S.seen as seen_end")

# spikes 450 ms apart, beyond the decay tables' 4096 steps: the advance once per step
# takes its other path there (snn_decays_tabulated fails; exp is called)
LATE = SUBGROUPS.replace("15 ms, 16 ms, 18 ms, 19 ms]", "15 ms, 16 ms, 470 ms, 471 ms]").replace(
    "run 20 ms", "run 480 ms")


@pytest.mark.needs_cc
def test_the_advance_once_per_step_keeps_every_result_bit_for_bit(tmp_path, monkeypatch):
    """`advance_all` (every far-end neuron's traces once per step with spikes)
    and the per-synapse advance of each spike, both with the synapses computed
    (`dense`), on the C backend on 1 and 3 threads sharing every loop, against
    the reference backend."""
    from snndsl.passes import split_advances as split

    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from test_threads import run  # noqa: E402

    forum = (ROOT / "examples" / "freeze_after_learning.snn").read_text().replace("run 1 s", "run 150 ms")
    for name, text in (("hoisted", HOISTED_TRACES), ("subgroups", SUBGROUPS), ("late", LATE), ("forum", forum)):
        path = tmp_path / f"{name}.snn"
        path.write_text(textwrap.dedent(text))
        once = snndsl.compile(path)
        assert {k.event for k in once.frontend.ir.step if isinstance(k, ir.SynapseEvents) and k.advance_all} == \
            {"pre", "post"}, name
        with monkeypatch.context() as patch:
            patch.setattr(split, "reaches_all", lambda k, g: False)
            each = snndsl.compile(path)
        assert not any(getattr(k, "advance_all", False) for k in each.frontend.ir.step)
        reference = snndsl.compile(path, backend="reference").run()
        spikes = reference["spk" if name != "forum" else "out_spikes"].t
        assert len(spikes) > 0 and len(np.unique(spikes)) < len(spikes), name  # several spikes in a step
        for threads in (1, 3):
            assert_same(run(once, threads), reference)
            assert_same(run(each, threads), reference)

RESET = """
    dt = 0.1 ms
    poisson inp[4]:
        rate = 50 Hz
    neurons out[2]:
        dv/dt = -v / (5 ms) : 1
        threshold: v > 1
        reset: v = 0
    synapses S: inp -> out:
        connect: all
        w : 1
        dapre/dt = -apre / (20 ms) : 1 (event-driven)
        dq/dt = -q / (10 ms) : 1 (event-driven)
        on pre:
            post.v += w
            q = q + 1
            apre = 1
        on post:
            w = clip(w + apre, 0, 1)
    monitor a: S.apre
    monitor qq: S.q
    PHASES
"""


def _advanced(text: str) -> set[str]:
    """The variables the `on pre` code of S advances."""
    m = _decided(text)
    return {v for s in ir.walk(m.group("S").on_pre) if isinstance(s, ir.Advance) for v in s.vars}


def test_skip_overwritten_drops_only_what_is_replaced_unread():
    # apre is set to 1 before anything reads it; q is read by its own update
    assert _advanced(RESET.replace("PHASES", "phase p:\n        run 1 ms")) == {"q"}
    # read before it is replaced (under an if, too): advanced
    read = RESET.replace("    apre = 1", "    if apre > 0.5:\n                w = 0\n            apre = 1")
    assert _advanced(read.replace("PHASES", "phase p:\n        run 1 ms")) == {"q", "apre"}
    # replaced only under an if: the advanced value may survive
    cond = RESET.replace("    apre = 1", "    if w > 0.5:\n                apre = 1")
    assert _advanced(cond.replace("PHASES", "phase p:\n        run 1 ms")) == {"q", "apre"}
    # frozen by a phase: its write is skipped for frozen synapses, which keep the advanced value
    frozen = RESET.replace("PHASES", "phase p:\n        freeze S.apre[i == 0]\n        run 1 ms")
    assert _advanced(frozen) == {"q", "apre"}
