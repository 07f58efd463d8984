"""The fast parser (snndsl/syntax/descent.py) against the grammar's own
parser (Lark's LALR parser for grammar/snn.lark, `reference_parse`).

Whatever text the fast parser accepts, the reference parses to an equal AST
with equal spans (spans are not part of AST equality, so they are compared
field by field here); whatever the reference rejects, the fast parser
rejects too. The fast parser may refuse more (a reserved word where a name
goes): then parse_source asks the reference, so the user sees its answer.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from snn_strategies import declarations, mutated_model, token_stream

from snndsl.diagnostics import CompileError
from snndsl.driver import diagnose
from snndsl.syntax import descent
from snndsl.syntax.parse import _check_layout, parse_source, reference_parse

ROOT = Path(__file__).resolve().parent.parent.parent
MODELS = sorted(p for p in ROOT.glob("**/*.snn") if ".ci-venv" not in p.parts and "build" not in p.parts)

N_FUZZ = int(os.environ.get("SNNDSL_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=N_FUZZ, deadline=None, derandomize="SNNDSL_FUZZ_EXAMPLES" not in os.environ,
                database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def difference(a, b, path="decls") -> str | None:
    """Where two ASTs differ, spans included; None if nowhere."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r} vs {type(b).__name__} {b!r}"
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            d = difference(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
            if d:
                return d
        return None
    if isinstance(a, tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} elements"
        for k, (x, y) in enumerate(zip(a, b)):
            d = difference(x, y, f"{path}[{k}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def fast(text: str):
    try:
        return descent.parse(text if text.endswith("\n") else text + "\n", "m.snn")
    except descent.Unparsed:
        return None


def reference(text: str):
    try:
        return reference_parse(text, "m.snn").decls
    except CompileError:
        return None


def agree(text: str) -> str:
    """'same', 'both reject', 'fast refuses' (the reference decides), or 'layout'
    (tabs or an indented first line: refused before either parser runs)."""
    if _check_layout(text, "m.snn"):
        return "layout"
    mine, ref = fast(text), reference(text)
    if mine is None:
        return "both reject" if ref is None else "fast refuses"
    assert ref is not None, f"the fast parser accepts text the grammar rejects:\n{text}"
    d = difference(mine, ref)
    assert d is None, f"the parsers disagree at {d} on:\n{text}"
    return "same"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_model_in_the_project(path):
    """Valid models parse fast and alike; invalid ones are rejected alike,
    or refused by the fast parser only where the checker rejects them."""
    text = path.read_text(encoding="utf-8", errors="replace")
    outcome = agree(text)
    if outcome == "fast refuses":
        with pytest.raises(CompileError):
            diagnose(text, "m.snn")


def test_the_valid_models_take_the_fast_path():
    valid = [p for p in MODELS if "invalid" not in p.parts]
    assert len(valid) > 30
    slow = [str(p.relative_to(ROOT)) for p in valid if fast(p.read_text(encoding="utf-8")) is None]
    assert not slow


def test_a_model_of_many_groups():
    from test_reliability_state import many_groups
    assert agree(many_groups(30)) == "same"


def test_syntax_errors_are_still_reported_by_the_grammar():
    with pytest.raises(CompileError) as exc:
        parse_source("neurons G[3]:\n    dv/dt = -v / (10 ms : 1\n", "m.snn")
    d = exc.value.diagnostics[0]
    assert (d.code.value, d.span.line) == ("E0101", 2)


def test_a_model_on_one_line_per_block_and_odd_spacing():
    text = ('dt=0.1ms\nconst  k =( 1 +\n   # inside brackets\n  2 )*3\nneurons G[k]: dv/dt=-v/(10ms):1\n'
            'monitor m: G.v[ : 2] every 1ms during a, run\nphase a: run 1*ms\nphase run: G.v[v>0.5]+=2mV/ms*ms\n')
    assert agree(text) == "same"


# ---- fuzzing: mutations and random tokens (mostly invalid text) -------------------

@pytest.mark.slow
@FUZZ
@given(mutated_model())
def test_mutated_models(text):
    agree(text)


@pytest.mark.slow
@FUZZ
@given(token_stream)
def test_random_token_streams(text):
    agree(text)


@pytest.mark.slow
@FUZZ
@given(declarations)
def test_random_declarations(text):
    agree(text)


# ---- random valid models, which both must parse, to the same AST ---------------

NAME = st.sampled_from(["v", "w", "x1", "tau", "g_e", "S", "G", "rate_", "ms_", "dtx", "_k", "Hz2"])
SP = st.sampled_from(["", " ", "  "])
NUMBER = st.sampled_from(["0", "1", "2.5", "3.", ".5", "1e-3", "2E+2", "10"])
SUFFIX = st.sampled_from(["", " ms", "ms", " mV/ms", " Hz", " metre**2", " s**-1", " nS*mV", " kohm", " g",
                         " mV/ms**0.5", " s**-0.5", " metre**(1/3)", "um**(-2/3)*ms**1.5"])


@st.composite
def expression(draw, depth=0):
    sp = draw(SP)
    kind = draw(st.integers(0, 11 if depth < 4 else 4))
    if kind == 0:
        return draw(NUMBER) + draw(SUFFIX)
    if kind == 1:
        return draw(NAME)
    if kind == 2:
        return draw(st.sampled_from(["true", "false"]))
    if kind == 3:
        return f"{draw(st.sampled_from(['pre', 'post', 'G']))}.{draw(NAME)}"
    if kind == 4:
        return f"{draw(NAME)}()"
    if kind in (5, 6, 7):
        op = draw(st.sampled_from(["+", "-", "*", "/", "%", "**", "<", "<=", "==", "!=", ">", ">=",
                                   "and", "or"]))
        gap = " " if op in ("and", "or") else sp
        left, right = draw(expression(depth + 1)), draw(expression(depth + 1))
        if op == "**":  # `2 ms**2` is one quantity, a unit squared
            left = f"({left})"
            if draw(st.booleans()):
                right = "-" + right
        text = f"{left}{gap}{op}{gap}{right}"
        # a comparison does not chain, and 'not' binds looser than comparison
        return f"({text})" if op in ("<", "<=", "==", "!=", ">", ">=", "and", "or") else text
    if kind == 8:
        inner = draw(expression(depth + 1))
        nl = draw(st.sampled_from(["", "\n      ", "  # a comment\n  "]))
        return f"({sp}{inner}{nl})"
    if kind == 9:
        return f"{draw(st.sampled_from(['-', '+']))}{draw(expression(depth + 1))}"
    if kind == 10:
        return f"(not {draw(expression(depth + 1))})"
    args = draw(st.lists(expression(depth + 1), min_size=1, max_size=3))
    form = draw(st.sampled_from(["call", "index", "list"]))
    joined = ("," + sp).join(args)
    if form == "call":
        return f"{draw(NAME)}({joined})"
    if form == "index":
        return f"{draw(NAME)}[{joined}]"
    return f"[{joined}]"


UNIT = st.sampled_from(["1", "volt", "mV", "metre**2", "siemens/metre**2", "1/second", "amp*ohm",
                        "metre**-2*second", "kg**+1", "Hz", "mV/ms**0.5", "second**-0.5",
                        "metre**(1/3)", "metre**(-2/3)*mV", "ms**1.25"])
FLAGS = st.sampled_from(["", " (shared)", " (constant over dt)", " (event-driven)",
                         " (unless refractory, shared)", " (constant,shared)"])


@st.composite
def group_item(draw, indent):
    kind = draw(st.integers(0, 9))
    e = draw(expression())
    if kind == 0:
        return f"d{draw(NAME)}/dt = {e} : {draw(UNIT)}{draw(FLAGS)}"
    if kind == 1:
        return f"{draw(NAME)} : {draw(UNIT)}{draw(FLAGS)}"
    if kind == 2:
        return f"{draw(NAME)} = {e} : {draw(UNIT)}{draw(FLAGS)}"
    if kind == 3:
        return f"{draw(NAME)} = {e}"
    if kind == 4:
        return f"{draw(st.sampled_from(['threshold', 'refractory', 'delay', 'connect']))}: {e}"
    if kind == 5:
        return f"method: {draw(NAME)}"
    if kind == 6:
        return f"connect: from {draw(NAME)}"
    head = draw(st.sampled_from(["reset:", "init:", "on pre:", "on post:"]))
    return head + draw(code_body(indent))


@st.composite
def code_stmt(draw, indent, depth):
    if depth < 2 and draw(st.integers(0, 4)) == 0:
        text = f"if {draw(expression())}:" + draw(code_body(indent, depth + 1))
        if draw(st.booleans()):
            text += "\n" + " " * indent + "else:" + draw(code_body(indent, depth + 1))
        return text
    target = draw(st.one_of(NAME, NAME.map("pre.{}".format), NAME.map("post.{}".format)))
    return f"{target} {draw(st.sampled_from(['=', '+=', '-=', '*=', '/=']))} {draw(expression())}"


@st.composite
def code_body(draw, indent, depth=0):
    if draw(st.booleans()) and depth == 0:
        target = draw(NAME)
        return f" {target} = {draw(expression())}"
    inner = indent + draw(st.sampled_from([2, 4]))
    stmts = draw(st.lists(code_stmt(inner, depth), min_size=1, max_size=3))
    return "".join("\n" + " " * inner + s for s in stmts)


TARGET = st.builds("{}.{}{}".format, NAME, NAME, st.sampled_from(["", "[v > 1]", "[:]", "[1:]", "[:3]", "[0:k]"]))


@st.composite
def phase_stmt(draw, indent, depth):
    kind = draw(st.integers(0, 11 if depth < 2 else 7))
    e = draw(expression())
    if kind == 0:
        return f"run {e}"
    if kind == 1:
        return f"let {draw(NAME)} = {e}"
    if kind == 2:
        return f"{draw(st.sampled_from(['freeze', 'unfreeze']))} {draw(TARGET)}"
    if kind == 3:
        return f"save {draw(NAME)}.{draw(NAME)} as {draw(NAME)}"
    if kind == 4:
        return f"store state as {draw(NAME)}"
    if kind == 5:
        return 'restore state from "snap shot.state"'
    if kind == 6:
        return f"{draw(TARGET)} {draw(st.sampled_from(['=', '+=', '*=']))} {e}"
    if kind == 7:
        return f"{draw(NAME)} -= {e}"
    if kind == 8:
        return f"for {draw(NAME)} in {e} .. {draw(expression())}:" + draw(phase_body(indent, depth + 1))
    if kind == 9:
        return f"while {e}:" + draw(phase_body(indent, depth + 1))
    text = f"if {e}:" + draw(phase_body(indent, depth + 1))
    if draw(st.booleans()):
        text += "\n" + " " * indent + "else:" + draw(phase_body(indent, depth + 1))
    return text


@st.composite
def phase_body(draw, indent, depth=0):
    if draw(st.integers(0, 3)) == 0:
        return " run " + draw(expression())
    inner = indent + draw(st.sampled_from([2, 4, 8]))
    stmts = draw(st.lists(phase_stmt(inner, depth), min_size=1, max_size=4))
    gap = draw(st.sampled_from(["", "\n", "\n" + " " * inner + "# note"]))
    return "".join(gap + "\n" + " " * inner + s for s in stmts)


PHASE = st.sampled_from(["a", "train", "run", "test", "pre", "in"])


@st.composite
def declaration(draw):
    kind = draw(st.integers(0, 8))
    e = draw(expression())
    if kind == 0:
        return f"{draw(NAME)} = {e}"
    if kind == 1:
        return f"{draw(st.sampled_from(['const', 'param']))} {draw(NAME)} = {e}"
    if kind == 2:
        unit = draw(st.sampled_from(["", " : 1", " : mV"]))
        return f'data {draw(NAME)}{unit} = "data\\\\{draw(NAME)}.npy"'
    if kind in (3, 4):
        indent = draw(st.sampled_from([2, 4]))
        items = draw(st.lists(group_item(indent), min_size=1, max_size=5))
        head = (f"{draw(st.sampled_from(['neurons', 'poisson', 'spikes']))} {draw(NAME)}[{e}]:" if kind == 3
                else f"synapses {draw(NAME)}: {draw(NAME)} -> {draw(NAME)}:")
        return head + "".join("\n" + " " * indent + i for i in items)
    if kind == 5:
        return f"monitor {draw(NAME)}: spikes of {draw(NAME)}"
    if kind == 6:
        return f"monitor {draw(NAME)}: rate of {draw(NAME)}"
    if kind == 7:
        selector = draw(st.sampled_from(["", "[v > 0]", "[:10]", "[2:]"]))
        every = draw(st.sampled_from(["", f" every {e}"]))
        during = draw(st.sampled_from(["", " during a", " during run, pre , in"]))
        return f"monitor {draw(NAME)}: {draw(NAME)}.{draw(NAME)}{selector}{every}{during}"
    return f"phase {draw(PHASE)}:" + draw(phase_body(0))


@st.composite
def valid_model(draw):
    decls = draw(st.lists(declaration(), min_size=1, max_size=6))
    seps = draw(st.lists(st.sampled_from(["\n", "\n\n", "  # comment\n", "\n# comment\n\n"]),
                         min_size=len(decls), max_size=len(decls)))
    head = draw(st.sampled_from(["", "\n", "# header\n\n"]))
    return head + "".join(d + s for d, s in zip(decls, seps))


@pytest.mark.slow
@FUZZ
@given(valid_model())
def test_random_valid_models(text):
    assert reference(text) is not None, f"the generator made text the grammar rejects:\n{text}"
    assert agree(text) == "same"
