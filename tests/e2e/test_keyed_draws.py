"""The time step's random numbers are keyed by (seed, site, step, element)
(runtime_c/snn_runtime.h, Philox4x32-10): an element's numbers do not
depend on the other elements. A noisy group with random thresholds and
resets, Poisson sources sampled both ways and synapses that draw in `on
pre`: the first five elements of a network of 5 and of one of 12 give the
same spikes and the same trajectory, bit for bit, in the C and in the
reference backend; another seed gives others. (Threads rest on the same
property: tests/e2e/test_threads.py.)"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

MODEL = (Path(__file__).resolve().parent / "models" / "keyed_draws.snn").read_text()


def _run(tmp_path, n: int, backend: str, seed: int = 7) -> dict:
    path = tmp_path / f"n{n}_{backend}.snn"
    path.write_text(MODEL.replace("const n_el = 5", f"const n_el = {n}"))
    res = snndsl.compile(path, backend=backend).run(seed=seed)
    out = {"v": res.monitors["vm"].values[:, :5]}
    for mon in ("sp", "qs"):
        m = res.monitors[mon]
        first = m.i < 5
        out[f"{mon}.i"], out[f"{mon}.t"] = m.i[first], m.t[first]
    return out


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_an_element_draws_the_same_numbers_whatever_the_other_elements(tmp_path, backend):
    small, large = _run(tmp_path, 5, backend), _run(tmp_path, 12, backend)
    assert len(small["sp.i"]) > 20 and len(small["qs.i"]) > 20  # the draws matter: spikes of both kinds
    for name in small:
        np.testing.assert_array_equal(small[name], large[name], err_msg=name)
    other = _run(tmp_path, 5, backend, seed=8)
    assert not np.array_equal(other["v"], small["v"])
    assert not np.array_equal(other["qs.t"], small["qs.t"])


def test_the_c_and_the_reference_draw_the_same_numbers(tmp_path):
    c, ref = _run(tmp_path, 5, "c"), _run(tmp_path, 5, "reference")
    for name in c:
        np.testing.assert_array_equal(c[name], ref[name], err_msg=name)
