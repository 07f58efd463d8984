"""Issue 7, numbers: a value the step counter cannot hold, or that is not a
finite number, is an error with the `.snn` place -- never a quiet wrong answer.

Compile-time cases are invalid models in tests/checks/invalid/ (the
diagnostics test asserts them); here are the run-time ones: values that come
from parameters (`--set`), through the command a user types and through the
Python API. The bound is 2**53 steps (SNN_MAX_STEPS, runtime_c/snn_support.h).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl.driver import SimulationError

pytestmark = pytest.mark.needs_cc

RUN_PARAM = """\
param T = 10 ms
poisson inp[3]:
    rate = 1000 Hz
monitor s: spikes of inp

phase a:
    run T
"""

REFRACTORY_PARAM = """\
param ref = 2 ms
neurons g[2]:
    dv/dt = (1.1 - v) / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
    refractory: ref
monitor s: spikes of g

phase a:
    run 100 ms
"""

VOLTAGE_PARAM = """\
param v0 = 1 mV
neurons g[2]:
    dv/dt = -v / (10 ms) : volt
    init:
        v = v0

phase a:
    run 1 ms
"""

DEFAULT_FROM_PARAM = """\
param a = 1
param b = 1 / a
poisson inp[2]:
    rate = b * Hz

phase a:
    run 1 ms
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.snn"
    path.write_text(text)
    return path


def _run(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snndsl", "run", str(path), "-o", str(path.parent / "out"),
                           "--quiet", *args], capture_output=True, text=True, timeout=600)


def _fails(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, f"exit {proc.returncode}:\n{text}"
    assert "Traceback" not in text and "internal error" not in text, text
    for f in fragments:
        assert f in proc.stderr, f"{f!r} not in:\n{proc.stderr}"


# ---- item 3: the step counter -------------------------------------------------

def test_run_duration_from_a_parameter_past_the_step_counter(tmp_path):
    path = _write(tmp_path, RUN_PARAM)
    _fails(_run(path, "--set", "T=1e18 s"), "model.snn:7:5: error[E0501]", "steps")
    assert not (tmp_path / "out" / "manifest.json").exists() or \
        snndsl.load(tmp_path / "out").manifest["phases"][0]["stop"] != 1e18


def test_a_long_legal_run_is_accepted(tmp_path):
    path = _write(tmp_path, RUN_PARAM.replace("rate = 1000 Hz", "rate = 0 Hz"))
    proc = _run(path, "--set", "T=100 s")  # 1e6 steps of 0.1 ms
    assert proc.returncode == 0, proc.stderr


def test_advance_past_the_step_counter_is_an_error(tmp_path):
    sim = snndsl.compile(_write(tmp_path, RUN_PARAM)).simulation()
    with pytest.raises(SimulationError, match="E0501.*steps"):
        sim.advance(1e18)
    sim = snndsl.compile(_write(tmp_path, RUN_PARAM)).simulation()
    for bad in (float("inf"), float("nan"), -1.0):
        with pytest.raises(SimulationError, match="E0501"):
            snndsl.compile(tmp_path / "model.snn").simulation().advance(bad)
    sim.advance(0.01)  # a legal advance still works, and counts
    spikes = sim.results().monitors["s"]
    assert len(spikes.t) > 0


def test_advances_that_add_up_past_the_step_counter(tmp_path):
    """Each advance fits, but the clock would run past 2**53 steps: refused
    at the start of the run that would cross it, before any step."""
    sim = snndsl.compile(_write(tmp_path, RUN_PARAM.replace("rate = 1000 Hz", "rate = 0 Hz"))).simulation()
    sim.advance(0.001)
    with pytest.raises(SimulationError, match="E0501"):
        sim.advance(2.0 ** 53 * 1e-4)


def test_refractory_period_from_a_parameter_past_the_step_counter(tmp_path):
    path = _write(tmp_path, REFRACTORY_PARAM)
    _fails(_run(path, "--set", "ref=1e300 s"), "model.snn:6:17: error[E0501]", "refractory")
    _fails(_run(path, "--set", "ref=-1 ms"), "model.snn:6:17: error[E0501]", "refractory")
    # refractory for the rest of the run: one spike each (as in Brian2, lastspike starts at
    # -1e4 s, so a period longer than that would hold the neurons from the start)
    ok = _run(path, "--set", "ref=1000 s")
    assert ok.returncode == 0, ok.stderr
    assert len(snndsl.load(tmp_path / "out").monitors["s"].t) == 2


def test_refractory_period_from_a_shared_variable_is_checked_at_each_run(tmp_path):
    path = _write(tmp_path, """\
neurons G[2]:
    dv/dt = (1.1 - v) / (10 ms) : 1
    ref : second (shared, constant)
    threshold: v > 1
    reset: v = 0
    refractory: ref
monitor s: spikes of G

phase a:
    G.ref = 2 ms
    run 50 ms
    G.ref = 1e300 s
    run 10 ms
""")
    _fails(_run(path), "model.snn:6:17: error[E0501]", "refractory period of 'G' is 1e+300 s")


# ---- item 5: values that are not finite ---------------------------------------

@pytest.mark.parametrize("value, why", [("1e-400 mV", "underflows to zero"),
                                        ("1e-307 mV", "underflows to zero"),
                                        ("1e400 mV", "overflows to infinity"),
                                        ("1e306 mA*Gohm", "overflows to infinity"),
                                        ("nan mV", "not a number")])
def test_set_refuses_values_that_are_not_finite_numbers(tmp_path, value, why):
    path = _write(tmp_path, VOLTAGE_PARAM)
    _fails(_run(path, "--set", f"v0={value}"), "E0601", why)


def test_set_accepts_zero_and_small_normal_values(tmp_path):
    path = _write(tmp_path, VOLTAGE_PARAM)
    for value in ("0 mV", "0e-400 mV", "-0.0 mV", "1e-300 mV"):
        proc = _run(path, "--set", f"v0={value}")
        assert proc.returncode == 0, (value, proc.stderr)


def test_a_default_computed_from_a_set_parameter_must_be_finite(tmp_path):
    path = _write(tmp_path, DEFAULT_FROM_PARAM)
    _fails(_run(path, "--set", "a=0"), "model.snn:2:1: error[E0501]", "'b'", "inf")
    with pytest.raises(SimulationError, match="E0501.*'b'"):
        snndsl.compile(path).run(params={"a": "0"})
    ok = snndsl.compile(path).run(params={"a": "2"})
    assert np.isclose(ok.manifest["params"]["b"]["value"], 0.5)


# ---- synapse numbers: int32, as in Brian2 --------------------------------------

MANY_SYNAPSES = """\
neurons G[50000]:
    v : 1
synapses S: G -> G:
    connect: all
    w : 1
phase a:
    run 1 ms
"""


def test_more_synapses_than_int32_numbers_is_an_error_before_any_is_made(tmp_path):
    """50,000 x 50,000 = 2.5e9 synapses: past 2**31 - 1, refused at the connect
    at once (the count is known before the pairs are made). Before, the int32
    synapse numbers of a queue of per-synapse delays could wrap silently."""
    path = _write(tmp_path, MANY_SYNAPSES)
    _fails(_run(path), "model.snn:3:1: error[E0601]: connect makes more than 2147483647 synapses in 'S'",
           "32-bit integers")


def test_a_rule_far_below_the_synapse_bound_is_accepted(tmp_path):
    """The bound costs nothing below it: one-to-one onto 1e6 neurons runs."""
    path = _write(tmp_path, MANY_SYNAPSES.replace("G[50000]", "G[1000000]").replace("connect: all",
                                                                                   "connect: one_to_one"))
    proc = _run(path)
    assert proc.returncode == 0, proc.stderr
