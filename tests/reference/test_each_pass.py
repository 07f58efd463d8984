"""Each optimizer pass against the reference backend: the module with the
passes before it, and with that pass too, gives the same results.

For pass k of `PIPELINE` the two modules are `PIPELINE[:k]` and
`PIPELINE[:k + 1]`, so a test sees that pass alone, on the IR it really
receives, with every decision (passes/decide.py) made after it as the
driver makes them. Models: the examples (shortened), e2e models and the
inline models of test_against_c.py, random ones included (the same draws
from the same streams, since the passes keep the sites that draw).

fold_constants, skip_overwritten and remove_dead_state keep every result bit for bit;
uniform_reads only marks variables for a backend (the reference reads every
element as it is; tests/passes/test_uniform_reads.py runs the C backend);
hoist_traces decays a trace stored per neuron through its own exponential,
so its values agree to 1e-12 (relative) and its spikes exactly.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl.passes import PIPELINE

from test_against_c import HOISTED_TRACES, NOISE_COUPLED, RANDOM, assert_same

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
MODELS = ROOT / "tests" / "e2e" / "models"
EXACT = {"fold_constants", "skip_overwritten", "remove_dead_state", "uniform_reads"}


def _file(tmp_path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.snn"
    path.write_text(textwrap.dedent(text))
    return path


def _shortened(tmp_path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    return _file(tmp_path, source.stem, text.replace(old, new))


# traces reset to 1 by each spike (Diehl & Cook's), as skip_overwritten finds them:
# stored per neuron (hoisted) in the first, per synapse (monitored) in the second
RESET_TRACES = """
    dt = 0.1 ms
    poisson inp[8]:
        rate = 300 Hz
    neurons out[3]:
        dv/dt = -v / (5 ms) : 1
        threshold: v > 1
        reset: v = 0
    synapses S: inp -> out:
        connect: all
        w : 1
        da_pre/dt = -a_pre / (20 ms) : 1 (event-driven)
        da_post/dt = -a_post / (40 ms) : 1 (event-driven)
        on pre:
            post.v += w
            a_pre = 1
            w = clip(w - 0.01 * a_post, 0, 1)
        on post:
            w = clip(w + 0.02 * a_pre * a_post, 0, 1)
            a_post = 1
        init:
            w = 0.2 + 0.05 * ((i + j) % 4)
    monitor spk: spikes of out
    phase learn:
        run 40 ms
        save S.w as w_end
"""


def _models(tmp_path) -> list[tuple[Path, dict]]:
    """(model file, run arguments) of every model the passes are tried on."""
    return [
        (_file(tmp_path, "hoisted", HOISTED_TRACES), {}),
        (_file(tmp_path, "reset", RESET_TRACES), {}),
        (_file(tmp_path, "reset_per_synapse", RESET_TRACES.replace("    monitor spk:",
                                                                    "    monitor ap: S.a_pre\n    monitor spk:")), {}),
        (_file(tmp_path, "random", RANDOM), {}),
        (_file(tmp_path, "heun", NOISE_COUPLED.replace("METHOD", "heun")), {}),
        (EXAMPLES / "song_abbott.snn", {"params": {"duration": "40 ms"}}),
        (_shortened(tmp_path, EXAMPLES / "freeze_after_learning.snn", "run 1 s", "run 60 ms"), {}),
        (_shortened(tmp_path, MODELS / "freeze_whole.snn", "run 1 s", "run 60 ms"), {}),
        (MODELS / "integrate_exact.snn", {}),
        (MODELS / "clock_driven_synapses.snn", {}),
        (MODELS / "pathways.snn", {}),
        (_file(tmp_path, "random_pathways", (MODELS / "pathways.snn").read_text().replace(
            "post.v = post.v * 0.9", "post.v = post.v * (0.8 + 0.2 * rand())")), {}),
    ]


def _close(a: snndsl.Results, b: snndsl.Results) -> None:
    """The same spikes and arrays' shapes; values to 1e-12."""
    assert sorted(a.monitors) == sorted(b.monitors)
    for name, mon in a.monitors.items():
        other = b.monitors[name]
        for attr in ("t", "i"):
            x, y = getattr(mon, attr), getattr(other, attr)
            if x is not None:
                np.testing.assert_array_equal(x, y, err_msg=f"{name}.{attr}")
        for attr in ("values", "rate"):
            x, y = getattr(mon, attr), getattr(other, attr)
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=1e-12, atol=0, err_msg=f"{name}.{attr}")
    for name, x in a.saved.items():
        np.testing.assert_allclose(x, b.saved[name], rtol=1e-12, atol=0, err_msg=name)


@pytest.mark.parametrize("k", range(len(PIPELINE)), ids=[p.__name__ for p in PIPELINE])
def test_pass_keeps_the_results(tmp_path, k):
    name = PIPELINE[k].__name__
    changed = 0
    for path, run in _models(tmp_path):
        before = snndsl.compile(path, backend="reference", passes=PIPELINE[:k])
        after = snndsl.compile(path, backend="reference", passes=PIPELINE[:k + 1])
        if before.frontend.ir == after.frontend.ir:
            continue  # nothing for this pass to do here: nothing to compare
        changed += 1
        a, b = before.run(**run), after.run(**run)
        assert any(len(m.t) for m in a.monitors.values()) or a.saved, path
        if name in EXACT:
            assert_same(a, b)
        else:
            _close(a, b)
    assert changed >= 2, f"{name} changed {changed} of the models: the test compares too little"


@pytest.mark.slow
def test_each_pass_keeps_cuba():
    """4000 neurons connected by chance: each pass that changes the example as
    written (shorter) keeps its results."""
    path, run = EXAMPLES / "cuba.snn", {"params": {"duration": "5 ms"}}
    changed = []
    for k in range(len(PIPELINE)):
        before = snndsl.compile(path, backend="reference", passes=PIPELINE[:k])
        after = snndsl.compile(path, backend="reference", passes=PIPELINE[:k + 1])
        if before.frontend.ir == after.frontend.ir:
            continue  # nothing for this pass to do in cuba (it has no traces to hoist)
        changed.append(PIPELINE[k].__name__)
        a, b = before.run(**run), after.run(**run)
        assert len(a["exc_spikes"].i) > 0
        if PIPELINE[k].__name__ in EXACT:
            assert_same(a, b)
        else:
            _close(a, b)
    assert changed, "no pass changes cuba: the test compares nothing"
