"""Fuzzing the front end: whatever the text, `frontend()` either succeeds or
raises `CompileError`. Any other exception (KeyError, RecursionError, an
InternalError from the IR verifier, ...) is a bug in snndsl.

Inputs are valid models mutated line- and token-wise (delete, duplicate,
swap, re-indent, insert characters and keywords) and random token streams.
Bounded and derandomized, so it runs in a few seconds and the same way in CI.
"""
from __future__ import annotations

import gc
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from snn_strategies import SEEDS, declarations, mutated_model, token_stream

from snndsl import driver
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
# Each states the outcome the front end must give today (docs/errors.md,
# docs/language.md): the code and place of the first error, or success and the values
# it computed. "No crash" alone would pass if the model were silently accepted.

def first_error(source: str) -> tuple[str, int, int, str]:
    """(code, line, col, message) of the first diagnostic of a source that must not check."""
    with pytest.raises(CompileError) as info:
        frontend(source, "fuzz.snn")
    diags = info.value.diagnostics
    assert diags and all(d.is_error for d in diags), diags
    d = diags[0]
    assert d.span is not None and d.span.file == "fuzz.snn", d
    return d.code.value, d.span.line, d.span.col, d.message


def test_reserved_name_as_constant():
    code, line, col, message = first_error("const t = 2\n")
    assert (code, line, col) == ("E0203", 1, 1)
    assert "'t'" in message and "reserved" in message


def test_keyword_as_constant():
    code, line, col, message = first_error("const in = 2\n")
    assert (code, line, col) == ("E0203", 1, 1)
    assert "'in'" in message and "reserved" in message


def _group_size(source: str) -> int:
    fe = frontend(source, "fuzz.snn")
    assert fe.warnings == (), fe.warnings
    (group,) = fe.model.groups
    return group.size


def test_long_flat_expression():
    # a sum of 1000 terms checks, and its value is right
    assert _group_size("const a = " + " + ".join(["1"] * 1000) + "\npoisson p[a]:\n    rate = 1 Hz\n") == 1000
    # and is left-associative: (((2000 - 1) - 1) ...), not 2000 - (1 - (1 - ...))
    assert _group_size("const a = 2000" + " - 1" * 1000 + "\npoisson p[a]:\n    rate = 1 Hz\n") == 1000


def test_deeply_nested_expression():
    # 3000 and 3001 unary minuses (past Python's default recursion limit): 2 - (-3)
    assert _group_size("const b = " + "-" * 3000 + "2\nconst c = " + "-" * 3001 + "3\n"
                       "poisson p[b - c]:\n    rate = 1 Hz\n") == 5
    assert _group_size("const a = " + "(" * 3000 + "7" + ")" * 3000 + "\npoisson p[a]:\n    rate = 1 Hz\n") == 7


def test_too_deeply_nested_expression_is_a_syntax_error():
    """Past the parser's limit: E0101 at the line of the expression (it was 1:1)."""
    code, line, col, message = first_error("dt = 0.1 ms\n\nconst a = " + "-" * 30000 + "1\n")
    assert (code, line, col) == ("E0101", 3, 1) and "too deeply nested" in message


@pytest.mark.parametrize("expr", ["-" * 12000 + "1", " + ".join(["1"] * 10000)], ids=["deep", "flat"])
def test_nesting_between_the_parser_and_the_checker_limits(expr):
    """Nesting the parser takes and a later stage does not (it overflowed the
    checker's stack: RecursionError, `snndsl check` exited 2): E0101 'too long
    or too deeply nested' at the declaration that holds it, never a RecursionError."""
    code, line, col, message = first_error(f"const b = 2\nconst a = {expr}\npoisson p[a + b]:\n    rate = 1 Hz\n")
    assert (code, line, col) == ("E0101", 2, 1) and "too long or too deeply nested" in message


def test_event_code_writes_shared_neighbour_variable():
    code, line, col, message = first_error(
        "poisson inp[3]:\n    rate : Hz\n    gain : 1 (shared)\n"
        "synapses S: inp -> inp:\n    connect: all\n    on pre:\n        pre.gain = 1\n")
    assert (code, line, col) == ("E0402", 7, 9)  # at `pre.gain`
    assert "'gain'" in message and "shared" in message


def test_infinite_group_size():
    code, line, col, message = first_error("poisson inp[1e400]:\n    rate = 1 Hz\n")
    assert (code, line, col) == ("E0501", 1, 13)  # the literal
    assert "overflows to infinity" in message
    # a size that overflows only when computed: said at the expression, as a group size
    code, line, col, message = first_error("poisson inp[1e308 * 10]:\n    rate = 1 Hz\n")
    assert (code, line, col) == ("E0501", 1, 13)
    assert "overflows to infinity" in message and "group size" in message


def test_quantity_to_an_infinite_power():
    code, line, col, message = first_error("const a = (1 mV) ** 1e400\n")
    assert (code, line, col) == ("E0501", 1, 21)  # the literal
    assert "overflows to infinity" in message
    # an exponent that is finite as written and infinite once computed
    code, line, col, message = first_error("const a = (1 mV) ** (1e308 * 10)\n")
    assert (code, line, col) == ("E0501", 1, 22)
    assert "finite power" in message


def test_quantity_to_a_nan_power():
    # as first written, the literal 1e400 is refused before the exponent is computed
    code, line, col, message = first_error("const a = (1 mV) ** (1e400 - 1e400)\n")
    assert (code, line, col) == ("E0501", 1, 22)
    assert "overflows to infinity" in message
    # a NaN exponent that no literal gives away: inf - inf from a constant
    code, line, col, message = first_error("const big = 1e308\nconst a = (1 mV) ** (big * 10 - big * 10)\n")
    assert (code, line, col) == ("E0501", 2, 22)
    assert "finite power" in message


# ---- the front end leaves the interpreter as it found it ------------------------------

VALID = "const a = " + "-" * 3000 + "1\npoisson p[a]:\n    rate = 1 Hz\n"  # needs the raised limit


@pytest.mark.parametrize("stage", ["frontend", "diagnose"])
@pytest.mark.parametrize("outcome", ["returns", "raises CompileError", "crashes"])
def test_frontend_restores_recursion_limit_and_gc(stage, outcome, monkeypatch):
    """frontend() and diagnose() raise the recursion limit (never lower it) and turn the
    cyclic garbage collector off while they work; both come back as they were, whatever
    happens. (This replaces a test that only asserted the interpreter's default limit.)"""
    run = getattr(driver, stage)
    source = "const t = 2\n" if outcome == "raises CompileError" else VALID
    expected = {"returns": None, "raises CompileError": CompileError, "crashes": ValueError}[outcome]
    seen = []
    real_check = driver.check

    def spy_check(*args, **kwargs):  # what the checker runs under
        seen.append((sys.getrecursionlimit(), gc.isenabled()))
        if outcome == "crashes":
            raise ValueError("a crash inside the checker")
        return real_check(*args, **kwargs)

    monkeypatch.setattr(driver, "check", spy_check)
    original_limit, gc_was_on = sys.getrecursionlimit(), gc.isenabled()
    try:
        # below the front end's limit, a custom one, and above it (kept, never lowered)
        for limit, gc_on in ((1000, True), (1500, False), (driver.RECURSION_LIMIT * 2, True)):
            sys.setrecursionlimit(limit)
            (gc.enable if gc_on else gc.disable)()
            seen.clear()
            if expected is None:
                run(source, "fuzz.snn")
            else:
                with pytest.raises(expected):
                    run(source, "fuzz.snn")
            assert seen == [(max(limit, driver.RECURSION_LIMIT), False)]
            assert sys.getrecursionlimit() == limit
            assert gc.isenabled() == gc_on
    finally:
        sys.setrecursionlimit(original_limit)
        (gc.enable if gc_was_on else gc.disable)()
