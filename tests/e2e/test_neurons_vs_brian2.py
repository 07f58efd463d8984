"""Differential tests of `neurons` groups against Brian2 (numpy target).

* ``lif_delays.snn``: LIF neurons (``unless refractory``, refractory duration) and
  neurons with an if/else reset and a refractory condition, driven by fixed input
  spikes through synapses with a homogeneous and with per-synapse delays
  (``post.v += w``, many synapses hitting one neuron in one step).  Deterministic:
  spikes must be identical (indices, and times to 1e-12 s), traces within 1e-9.
* ``integrate_<method>.snn`` for exact, euler, rk2, rk4, exponential_euler: traces on
  every step compared with Brian2.

Tolerances (relative to the largest |value| of each recorded variable, measured
with tests/brian2_ref/neurons.py's ``__main__``): an independent numpy
implementation of each method's textbook formula agrees with Brian2's
sympy-rearranged code to 2.6e-15 (exact, vs an eigen-decomposition), 1.3e-13 (euler,
Izhikevich, amplified by the v**2 term and resets), 1.3e-15 (rk2), 4.3e-15 (rk4),
6.1e-16 (exponential_euler) over 500 steps.  snndsl computes the same formulas with
another operation order, so INTEGRATE_RTOL = 1e-10 for the explicit methods leaves
three orders of magnitude of margin, and 1e-9 for exact (a matrix exponential
computed differently from Brian2's symbolic solution).  The methods' own
discretisation errors (vs RK4 with dt/50) are 1e-4 .. 1, far above these: a wrong
formula (e.g. t instead of t + dt/2 in a stage) fails.

Brian2 is a required test dependency: imported inside the tests (an error, never a
silent skip).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"
REF_FILE = HERE.parent / "brian2_ref" / "neurons.py"

SEED = 1
TATOL = 1e-12    # spike and sample times (seconds)
V_ATOL = 1e-9    # lif_delays traces (volt; dimensionless z too)
INTEGRATE_RTOL = {"exact": 1e-9, "euler": 1e-10, "rk2": 1e-10, "rk4": 1e-10,
                  "exponential_euler": 1e-10}
#: how far Brian2 may be from the independent numpy implementation (self-check of
#: the references, runs without snndsl)
REF_SELF_RTOL = 1e-11

def _ref():
    """tests/brian2_ref/neurons.py, loaded by path (``tests`` need not be a package)."""
    name = "_snndsl_brian2_ref_neurons"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REF_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _write_inputs(directory: Path) -> tuple[dict, dict]:
    arrays = _ref().make_lif_delays_inputs()
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, arr in arrays.items():
        path = directory / f"{name}.npy"
        np.save(path, arr)
        paths[name] = str(path)
    return arrays, paths


def _spikes_equal(res, mon: str, ref_i, ref_t):
    sp = res[mon]
    i = np.asarray(sp.i).astype(np.int64)
    t = np.asarray(sp.t, dtype=float)
    assert i.shape == ref_i.shape, (mon, i.shape, ref_i.shape)
    # same spikes in the same steps; Brian2's order within a step is by index
    steps = np.rint(t / _ref().DT).astype(np.int64)
    ref_steps = np.rint(ref_t / _ref().DT).astype(np.int64)
    order = np.lexsort((i, steps))
    ref_order = np.lexsort((ref_i, ref_steps))
    np.testing.assert_array_equal(steps[order], ref_steps[ref_order], err_msg=mon)
    np.testing.assert_array_equal(i[order], ref_i[ref_order], err_msg=mon)
    np.testing.assert_allclose(t[order], ref_t[ref_order], atol=TATOL, rtol=0, err_msg=mon)
    # and in the monitor's own order, exactly as Brian2 records them
    np.testing.assert_array_equal(i, ref_i, err_msg=mon)


def _trace(res, mon: str, ref_t, ref_values, atol, rtol=0.0):
    m = res[mon]
    t = np.asarray(m.t, dtype=float)
    v = np.asarray(m.values, dtype=float)
    assert t.shape == ref_t.shape, (mon, t.shape, ref_t.shape)
    assert v.shape == ref_values.shape, (mon, v.shape, ref_values.shape)
    np.testing.assert_allclose(t, ref_t, atol=TATOL, rtol=0, err_msg=mon)
    np.testing.assert_allclose(v, ref_values, atol=atol, rtol=rtol, err_msg=mon)


# --- Brian2 side alone (runs without snndsl's neurons) -----------------------------

@pytest.mark.slow
@pytest.mark.brian2
def test_lif_delays_reference_exercises_the_features():
    """The inputs make lif_delays meaningful in Brian2: tonic neurons hit their
    refractory period, input-driven neurons spike, delays round both ways, H's
    condition refractoriness and if/else reset run."""
    import brian2  # noqa: F401

    ref_mod = _ref()
    inputs = ref_mod.make_lif_delays_inputs()
    ref = ref_mod.run_lif_delays_brian2(**inputs)
    dt = ref_mod.DT
    counts = np.bincount(ref["spkG_i"], minlength=ref_mod.N_G)
    assert np.all(counts[:4] >= 10), counts          # tonic: refractory often
    assert np.all(counts[4:] >= 3), counts           # driven by the delayed input
    # the tonic neurons' inter-spike intervals: never below the 2 ms period
    for k in range(4):
        isi = np.diff(np.rint(ref["spkG_t"][ref["spkG_i"] == k] / dt))
        assert isi.min() >= 20, (k, isi.min())
    frac = ref["het_delay"] / dt - np.floor(ref["het_delay"] / dt)
    assert (frac > 0.5).any() and (frac < 0.5).any()
    assert np.all(np.abs(frac - 0.5) > 0.02)         # no rounding ties
    assert ref["hom_n"] == 100 and ref["het_n"] == 50
    assert np.all(ref["nspk"] >= 3) and np.array_equal(
        ref["nspk"], np.bincount(ref["spkH_i"], minlength=ref_mod.N_H))
    # the input volleys: several input spikes in one step
    steps = np.floor(inputs["in_t"] / dt + 1e-3).astype(np.int64)
    assert np.bincount(steps).max() == ref_mod.N_IN


@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.parametrize("method", ["exact", "euler", "rk2", "rk4", "exponential_euler"])
def test_integrate_reference_matches_independent_numpy(method):
    """Brian2's generated update agrees with an independent implementation of the
    method's formula: the reference is what we think it is, and the tolerance
    INTEGRATE_RTOL is far above the rounding differences between operation orders."""
    import brian2  # noqa: F401

    ref_mod = _ref()
    b = ref_mod.run_integrate_brian2(method)
    mine = ref_mod.integrate_numpy(method)
    for var in ref_mod.integrate_model(method)["variables"]:
        scale = np.max(np.abs(b[var]))
        assert b[var].shape == mine[var].shape
        err = np.max(np.abs(b[var] - mine[var])) / scale
        assert err < REF_SELF_RTOL, (method, var, err)
    if method == "euler":
        np.testing.assert_array_equal(b["spike_i"], mine["spike_i"])
        np.testing.assert_allclose(b["spike_t"], mine["spike_t"], atol=TATOL, rtol=0)
        assert len(b["spike_i"]) >= 4


# --- snndsl vs Brian2 ----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.needs_cc
def test_lif_delays_matches_brian2(tmp_path):
    import brian2  # noqa: F401

    import snndsl

    ref_mod = _ref()
    arrays, data = _write_inputs(tmp_path / "data")
    ref = ref_mod.run_lif_delays_brian2(**arrays)

    res = snndsl.compile(MODELS / "lif_delays.snn").run(seed=SEED, data=data)

    _spikes_equal(res, "spkIn", ref["spkIn_i"], ref["spkIn_t"])
    _spikes_equal(res, "spkG", ref["spkG_i"], ref["spkG_t"])
    _spikes_equal(res, "spkH", ref["spkH_i"], ref["spkH_t"])
    _trace(res, "vG", ref["vG_t"], ref["vG_values"], V_ATOL)
    _trace(res, "vH", ref["vH_t"], ref["vH_values"], V_ATOL)
    _trace(res, "zH", ref["vH_t"], ref["zH_values"], V_ATOL)
    start, stop = res.phases["run_all"]
    assert float(stop) == pytest.approx(ref["t_end"], abs=TATOL, rel=0)


def _integrate_pair(method: str):
    import brian2  # noqa: F401

    import snndsl

    ref_mod = _ref()
    ref = ref_mod.run_integrate_brian2(method)
    res = snndsl.compile(MODELS / f"integrate_{method}.snn").run(seed=SEED)
    return ref_mod, ref, res


@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.needs_cc
@pytest.mark.parametrize("method", ["exact", "euler", "rk2", "rk4", "exponential_euler"])
def test_integrate_matches_brian2(method):
    ref_mod, ref, res = _integrate_pair(method)
    rtol = INTEGRATE_RTOL[method]
    for var in ref_mod.integrate_model(method)["variables"]:
        scale = float(np.max(np.abs(ref[var])))
        _trace(res, f"mon_{var}", ref["t"], ref[var], atol=rtol * scale)
    if "spike_i" in ref:
        _spikes_equal(res, "spk", ref["spike_i"], ref["spike_t"])


@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.needs_cc
def test_exact_is_the_default_for_linear_systems(tmp_path):
    """Without `method:`, a linear constant-coefficient system is integrated exactly:
    the same results as Brian2's `method='exact'`."""
    import brian2  # noqa: F401

    import snndsl

    text = (MODELS / "integrate_exact.snn").read_text()
    assert "    method: exact\n" in text
    path = tmp_path / "integrate_exact_default.snn"
    path.write_text(text.replace("    method: exact\n", ""))
    res = snndsl.compile(path).run(seed=SEED)
    ref_mod = _ref()
    ref = ref_mod.run_integrate_brian2("exact")
    for var in ref_mod.integrate_model("exact")["variables"]:
        scale = float(np.max(np.abs(ref[var])))
        _trace(res, f"mon_{var}", ref["t"], ref[var], atol=INTEGRATE_RTOL["exact"] * scale)


@pytest.mark.parametrize("method", ["euler", "rk2", "rk4", "exponential_euler"])
def test_nonlinear_without_method_is_an_error(method):
    """A nonlinear system with no `method:` is a compile error E0503 (never a silent
    choice), at the neurons group."""
    from snndsl.diagnostics import CompileError
    from snndsl.driver import frontend

    text = (MODELS / f"integrate_{method}.snn").read_text()
    line = f"    method: {method}\n"
    assert line in text
    with pytest.raises(CompileError) as info:
        frontend(text.replace(line, ""), f"integrate_{method}_nomethod.snn")
    codes = [d.code.value for d in info.value.diagnostics if d.is_error]
    assert codes == ["E0503"], codes
