"""rand() and randn() in the protocol's scalars: `let`, an assignment to a
local, a shared variable's assignment, `while` and `if` conditions (Brian2:
`G.s = 'rand()'` for a shared variable, and Python's own draws between runs).
Each statement draws from a stream of its own (passes/streams.py): the C and
the reference backend give the same numbers, and they follow their
distributions over seeds."""
from pathlib import Path

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

MODEL = Path(__file__).resolve().parent / "models" / "protocol_draws.snn"


def _parts(x: np.ndarray):
    """(k, s, went to 100, n) of each trial's saved x = k + s + i + 100 * [randn() > 0] + 1000 n."""
    first = x[:, 0]
    n = np.floor(first / 1000)
    rest = first - 1000 * n
    high = rest >= 100
    rest = rest - 100 * high
    k = np.floor(rest)
    return k, rest - k, high, n


def test_the_backends_draw_the_same_numbers():
    c = snndsl.compile(MODEL).run(seed=11)
    ref = snndsl.compile(MODEL, backend="reference").run(seed=11)
    np.testing.assert_array_equal(c.saved["x"], ref.saved["x"])
    np.testing.assert_array_equal(c["sp"].t, ref["sp"].t)
    x = c.saved["x"]
    assert x.shape == (3, 3) and np.all(np.diff(x, axis=1) == 1)  # + i: one draw for the whole group
    assert len(set(x[:, 0])) == 3  # each trial draws anew


def test_the_draws_follow_their_distributions():
    model = snndsl.compile(MODEL)
    parts = [_parts(model.run(seed=seed, params={"n_trials": 20}).saved["x"]) for seed in range(40)]
    k, s, high, n = (np.concatenate(p) for p in zip(*parts))  # 800 trials
    assert set(k) <= set(range(10)) and len(set(k)) == 10
    assert abs(k.mean() - 4.5) < 5 * 2.87 / np.sqrt(800)
    assert np.all((s >= 0) & (s < 1)) and abs(s.mean() - 0.5) < 5 * 0.289 / np.sqrt(800)
    assert abs(high.mean() - 0.5) < 5 * 0.5 / np.sqrt(800)
    # while rand() < 0.8: the number of passes is geometric, mean 4, sd 4.47
    assert abs(n.mean() - 4) < 5 * 4.47 / np.sqrt(800) and n.min() == 0
    # different seeds, different numbers; one seed, the same
    model2 = snndsl.compile(MODEL)
    np.testing.assert_array_equal(model2.run(seed=3).saved["x"], model.run(seed=3).saved["x"])
    assert not np.array_equal(model.run(seed=3).saved["x"], model.run(seed=4).saved["x"])
