"""Fuzzing the front end: whatever the text, `frontend()` either succeeds or
raises `CompileError`. Any other exception (KeyError, RecursionError, an
InternalError from the IR verifier, ...) is a bug in snndsl.

Inputs are valid models mutated line- and token-wise (delete, duplicate,
swap, re-indent, insert characters and keywords) and random token streams.
Bounded and derandomized, so it runs in a few seconds and the same way in CI.
"""
from __future__ import annotations

import os
import sys
import pytest
from hypothesis import HealthCheck, given, settings
from snn_strategies import SEEDS, declarations, mutated_model, token_stream

from snndsl.diagnostics import CompileError
from snndsl.driver import frontend

# CI runs a bounded, fixed sample; SNNDSL_FUZZ_EXAMPLES=20000 runs more, with new random
# inputs each time (then derandomize is off).
_N_FUZZ = int(os.environ.get("SNNDSL_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=_N_FUZZ, deadline=None, derandomize="SNNDSL_FUZZ_EXAMPLES" not in os.environ,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def frontend_or_compile_error(source: str) -> None:
    try:
        frontend(source, "fuzz.snn")
    except CompileError as exc:
        assert exc.diagnostics, "a CompileError carries at least one diagnostic"
        assert any(d.is_error for d in exc.diagnostics)


@pytest.mark.slow
@FUZZ
@given(mutated_model())
def test_mutated_models_give_diagnostics_or_succeed(source):
    frontend_or_compile_error(source)


@pytest.mark.slow
@FUZZ
@given(token_stream)
def test_random_token_streams_give_diagnostics(source):
    frontend_or_compile_error(source)


@pytest.mark.slow
@FUZZ
@given(declarations)
def test_random_declarations_give_diagnostics_or_succeed(source):
    frontend_or_compile_error(source)


def test_seed_corpus_is_valid():
    assert len(SEEDS) >= 5
    for s in SEEDS:
        frontend(s, "seed.snn")


# ---- crashes found by fuzzing and by hand, kept as regressions ---------------------

def test_reserved_name_as_constant():
    frontend_or_compile_error("const t = 2\n")


def test_keyword_as_constant():
    frontend_or_compile_error("const in = 2\n")


def test_long_flat_expression():
    frontend_or_compile_error("const a = " + " + ".join(["1"] * 1000) + "\n")


def test_deeply_nested_expression():
    frontend_or_compile_error("const a = " + "-" * 3000 + "1\n")


def test_event_code_writes_shared_neighbour_variable():
    frontend_or_compile_error("poisson inp[3]:\n    rate : Hz\n    gain : 1 (shared)\n"
                              "synapses S: inp -> inp:\n    connect: all\n    on pre:\n        pre.gain = 1\n")


def test_infinite_group_size():
    frontend_or_compile_error("poisson inp[1e400]:\n    rate = 1 Hz\n")


def test_quantity_to_an_infinite_power():
    frontend_or_compile_error("const a = (1 mV) ** 1e400\n")


def test_quantity_to_a_nan_power():
    frontend_or_compile_error("const a = (1 mV) ** (1e400 - 1e400)\n")


def test_recursion_limit_is_not_lowered():
    # the regressions above are meaningful only at the default limit
    assert sys.getrecursionlimit() >= 1000
