"""Differential test of the "forum model" (models/forum_fixed.snn) against Brian2.

STDP synapses are trained for 1 s on fixed input spikes, the synapses whose weight
passed 0.3 are frozen with ``S.learned[w > 0.3] = 0``, then the network runs 1 s more.
Inputs (spike times, initial weights) are fixed, so snndsl and Brian2 (numpy target,
tests/brian2_ref/forum.py) must agree up to floating point rounding.

Brian2 is a required test dependency: it is imported inside the test, so a missing
Brian2 is an error, never a silent skip.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
MODEL = HERE / "models" / "forum_fixed.snn"
REF_FILE = HERE.parent / "brian2_ref" / "forum.py"

SEED = 1
DATA_NAMES = ("pre_i", "pre_t", "post_i", "post_t", "w0")
PHASES = {"train": (0.0, 1.0), "freeze": (1.0, 1.0), "test": (1.0, 2.0)}
THRESHOLD = 0.3
ATOL = 1e-9  # values (weights)
TATOL = 1e-12  # times


def _forum_ref():
    """tests/brian2_ref/forum.py, loaded by path (``tests`` need not be a package)."""
    name = "_snndsl_brian2_ref_forum"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REF_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _write_inputs(directory: Path) -> tuple[dict, dict]:
    """Write the fixed inputs as .npy files; return (arrays, data overrides)."""
    arrays = _forum_ref().make_forum_inputs()
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in DATA_NAMES:
        path = directory / f"{name}.npy"
        np.save(path, arrays[name])
        paths[name] = str(path)
    return arrays, paths


def _phase(res, name):
    start, stop = res.phases[name]
    return float(start), float(stop)


@pytest.mark.slow
@pytest.mark.brian2
def test_forum_model_matches_brian2(tmp_path):
    import brian2  # noqa: F401  (required test dependency: fail, never skip)

    import snndsl

    arrays, data = _write_inputs(tmp_path / "data")

    # --- Brian2 reference (numpy target) -------------------------------------
    ref = _forum_ref().run_forum_brian2(**arrays)
    ref_frozen = ref["w_trained"] > THRESHOLD
    # the inputs must make the test meaningful: a mix of frozen and plastic
    # synapses, frozen ones untouched by the test phase, plastic ones moving
    assert 20 <= ref_frozen.sum() <= 80, ref_frozen.sum()
    np.testing.assert_array_equal(ref["w_tested"][ref_frozen], ref["w_trained"][ref_frozen])
    assert (np.abs(ref["w_tested"] - ref["w_trained"])[~ref_frozen] > 0.01).sum() >= 10

    # --- snndsl, in process -----------------------------------------------------
    model = snndsl.compile(MODEL)
    res = model.run(seed=SEED, data=data)

    # spike monitor of the input generator: same spikes, same order
    sp = res["in_spikes"]
    sp_i = np.asarray(sp.i)
    sp_t = np.asarray(sp.t, dtype=float)
    assert sp_i.shape == ref["spike_i"].shape, (sp_i.shape, ref["spike_i"].shape)
    np.testing.assert_array_equal(sp_i.astype(np.int64), ref["spike_i"])
    np.testing.assert_allclose(sp_t, ref["spike_t"], atol=TATOL, rtol=0)

    # saved weights (synapse order = Brian2 order, i major)
    w_trained = np.asarray(res.saved["w_trained"], dtype=float)
    w_tested = np.asarray(res.saved["w_tested"], dtype=float)
    assert w_trained.shape == ref["w_trained"].shape
    assert w_tested.shape == ref["w_tested"].shape
    np.testing.assert_allclose(w_trained, ref["w_trained"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(w_tested, ref["w_tested"], atol=ATOL, rtol=0)

    # weight monitor: S.w every 1 ms, (n_times, n_synapses)
    mon = res["weights"]
    mon_t = np.asarray(mon.t, dtype=float)
    mon_v = np.asarray(mon.values, dtype=float)
    assert mon_t.shape == ref["weights_t"].shape, (mon_t.shape, ref["weights_t"].shape)
    assert mon_v.shape == ref["weights_values"].shape, (
        mon_v.shape, ref["weights_values"].shape)
    np.testing.assert_allclose(mon_t, ref["weights_t"], atol=TATOL, rtol=0)
    np.testing.assert_allclose(mon_v, ref["weights_values"], atol=ATOL, rtol=0)

    # phases
    assert set(res.phases) == set(PHASES)
    for name, (start, stop) in PHASES.items():
        assert _phase(res, name) == pytest.approx((start, stop), abs=TATOL, rel=0), name
        assert ref["phases"][name] == pytest.approx((start, stop), abs=TATOL, rel=0)

    # the model's point: frozen synapses keep their weight exactly, the others learn
    frozen = w_trained > THRESHOLD
    np.testing.assert_array_equal(frozen, ref_frozen)
    assert frozen.any() and (~frozen).any()
    np.testing.assert_array_equal(w_tested[frozen], w_trained[frozen])
    in_test = mon_t >= PHASES["test"][0] - TATOL
    assert np.all(mon_v[in_test][:, frozen] == w_trained[frozen])
    assert np.any(w_tested[~frozen] != w_trained[~frozen])


@pytest.mark.slow
def test_forum_model_binary_matches_in_process(tmp_path):
    import snndsl

    _, data = _write_inputs(tmp_path / "data")
    model = snndsl.compile(MODEL, build_dir=tmp_path / "build")
    binary = Path(model.binary)
    assert binary.is_file(), binary

    res_mem = model.run(seed=SEED, data=data)

    out_dir = tmp_path / "results"
    cmd = [str(binary), "-o", str(out_dir), "--seed", str(SEED)]
    for name in DATA_NAMES:
        cmd += ["--data", f"{name}={data[name]}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        f"{cmd} exited with {proc.returncode}\nstdout:\n{proc.stdout}\n"
        f"stderr:\n{proc.stderr}")
    res_bin = snndsl.load(out_dir)

    def same(a, b, what):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, (what, a.shape, b.shape)
        assert np.array_equal(a, b), what

    same(res_bin["weights"].t, res_mem["weights"].t, "weights.t")
    same(res_bin["weights"].values, res_mem["weights"].values, "weights.values")
    same(res_bin["in_spikes"].i, res_mem["in_spikes"].i, "in_spikes.i")
    same(res_bin["in_spikes"].t, res_mem["in_spikes"].t, "in_spikes.t")
    assert set(res_bin.saved) == set(res_mem.saved)
    assert {"w_trained", "w_tested"} <= set(res_mem.saved)
    for name in ("w_trained", "w_tested"):
        same(res_bin.saved[name], res_mem.saved[name], f"saved {name}")
    assert set(res_bin.phases) == set(res_mem.phases) == set(PHASES)
    for name in PHASES:
        assert _phase(res_bin, name) == _phase(res_mem, name), name
