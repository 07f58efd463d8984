"""Diagnostics of the front end, one small model per mistake.

Each `invalid/*.snn` states what the front end must report, inline:

    # expect: E0201 @ 15:7 "learned"

(code, line and column of the reported span; the optional quoted text must
occur in that diagnostic's message). The test compares the exact SET of
(code, line, col) of the error diagnostics with the expectations: a missing
diagnostic, an extra one, or one at another place all fail.

    # xfail: BUG: ...

marks a model whose expectations state the correct behaviour that the
compiler does not have yet (a strict xfail: fixing the bug makes it pass and
then the marker must go).

Models reported as "not supported yet" (E0901) are named `unsupported_*.snn`;
when a feature lands, move its file to `valid/` and drop the expect line.

`valid/*.snn`, the examples and the end-to-end models must check clean.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from snndsl.diagnostics import Code, CompileError, Diagnostic, Severity, Span, render, render_all
from snndsl.driver import frontend

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
INVALID = sorted((HERE / "invalid").glob("*.snn"))
VALID = sorted((HERE / "valid").glob("*.snn")) + sorted((ROOT / "examples").glob("*.snn")) \
    + sorted((ROOT / "tests" / "e2e" / "models").glob("*.snn"))

_EXPECT = re.compile(r'#\s*expect:\s*([EW]\d{4})\s*@\s*(\d+):(\d+)(?:\s+"([^"]*)")?\s*$')
_XFAIL = re.compile(r"#\s*xfail:\s*(.+?)\s*$")

# Codes no model file triggers: E0601 is run-time input (a missing model file, --set,
# --data: tests/test_cli_errors.py and the reliability tests), E0602 a missing C
# compiler (tests/test_cli_errors.py), E0901 ("not supported yet") is kept for
# constructs a later version of the language adds. Warnings (W...) are not errors.
NOT_FRONTEND = {"E0601", "E0602", "E0901"}


def _expectations(text: str) -> list[tuple[str, int, int, str | None]]:
    out = []
    for line in text.splitlines():
        m = _EXPECT.search(line)
        if m:
            out.append((m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)))
    return out


def _xfail_reason(text: str) -> str | None:
    for line in text.splitlines():
        m = _XFAIL.match(line)
        if m:
            return m.group(1)
    return None


def _params(paths):
    out = []
    for p in paths:
        reason = _xfail_reason(p.read_text(encoding="utf-8"))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(p, id=p.relative_to(ROOT).as_posix(), marks=marks))
    return out


def _errors(path: Path) -> list[Diagnostic]:
    source = path.read_text(encoding="utf-8")
    try:
        frontend(source, str(path))
    except CompileError as exc:
        return [d for d in exc.diagnostics if d.is_error]
    return []


@pytest.mark.parametrize("path", _params(INVALID))
def test_invalid_model_reports_expected_diagnostics(path: Path):
    expected = _expectations(path.read_text(encoding="utf-8"))
    assert expected, f"{path.name} states no '# expect:' line"
    errors = _errors(path)
    got = {(d.code.value, d.span.line, d.span.col) if d.span else (d.code.value, None, None)
           for d in errors}
    want = {(c, line, col) for c, line, col, _ in expected}
    shown = "\n".join(f"  {d.code.value} @ {d.span.line if d.span else '?'}:{d.span.col if d.span else '?'}"
                      f"  {d.message}" for d in errors)
    assert got == want, f"diagnostics of {path.name}:\n{shown}"
    for code, line, col, text in expected:
        if text is None:
            continue
        messages = [d.message for d in errors
                    if d.code.value == code and d.span and (d.span.line, d.span.col) == (line, col)]
        assert any(text in m for m in messages), \
            f"{code} @ {line}:{col} should mention {text!r}: {messages}"


@pytest.mark.parametrize("path", _params(VALID))
def test_valid_model_checks_clean(path: Path):
    errors = _errors(path)
    assert not errors, "\n".join(f"{d.code.value} @ {d.span}: {d.message}" for d in errors)


def test_every_triggerable_code_is_covered():
    covered = set()
    for p in INVALID:
        covered |= {c for c, *_ in _expectations(p.read_text(encoding="utf-8"))}
    missing = {c.value for c in Code if c.value.startswith("E") and c.value not in NOT_FRONTEND} - covered
    assert not missing, f"no invalid/*.snn expects {sorted(missing)}"


def test_every_code_is_documented():
    documented = set(re.findall(r"^\| ([EW]0\d{3}) \|", (ROOT / "docs" / "errors.md").read_text(), re.M))
    assert documented == {c.value for c in Code}


def test_the_example_is_in_the_valid_set():
    assert ROOT / "examples" / "freeze_after_learning.snn" in VALID


def test_flagship_learnd_names_learned_at_its_column(tmp_path):
    source = (ROOT / "examples" / "freeze_after_learning.snn").read_text(encoding="utf-8")
    assert "    S.learned[w > 0.3] = 0\n" in source
    bad = source.replace("    S.learned[w > 0.3] = 0\n", "    S.learnd[w > 0.3] = 0\n")
    line = bad.splitlines().index("    S.learnd[w > 0.3] = 0") + 1
    with pytest.raises(CompileError) as info:
        frontend(bad, "model.snn")
    (d,) = info.value.diagnostics
    assert d.code is Code.UNDEFINED_NAME
    assert (d.span.file, d.span.line, d.span.col) == ("model.snn", line, 7)
    assert "learned" in d.message and "learnd" in d.message


# ---- render ------------------------------------------------------------------

def test_render_format_head_source_and_caret():
    source = "const a = 1\nconst b = a + 1 mV\n"
    d = Diagnostic(Code.DIMENSION, "the sides differ", Span("m.snn", 2, 11, 2, 19))
    lines = render(d, {"m.snn": source}).splitlines()
    assert lines[0] == "m.snn:2:11: error[E0301]: the sides differ"
    assert lines[1].endswith("| const b = a + 1 mV")
    assert lines[1].split("|")[0].strip() == "2"
    caret = lines[2]
    bar = lines[1].index("|")
    assert caret.index("|") == bar
    # the caret sits under column 11 of the source text, tildes cover the span
    assert caret.index("^") == bar + 2 + 10
    assert caret[caret.index("^"):] == "^" + "~" * 7
    assert len(lines) == 3


def test_render_caret_at_column_one_and_width_one():
    d = Diagnostic(Code.TAB, "tabs", Span("t.snn", 1, 1, 1, 2))
    lines = render(d, {"t.snn": "\tx : 1\n"}).splitlines()
    assert lines[0] == "t.snn:1:1: error[E0102]: tabs"
    assert lines[2].index("^") == lines[1].index("|") + 2
    assert "~" not in lines[2]


def test_render_notes_and_warning_severity():
    d = Diagnostic(Code.DUPLICATE, "twice", Span("a.snn", 1, 1, 1, 2), Severity.WARNING,
                   ("first declared at a.snn:1:1",))
    text = render(d, {"a.snn": "x\n"})
    assert text.splitlines()[0] == "a.snn:1:1: warning[E0202]: twice"
    assert text.splitlines()[-1].strip() == "= note: first declared at a.snn:1:1"


def test_render_without_span_or_source():
    d = Diagnostic(Code.RUNTIME_INPUT, "cannot read", None)
    assert render(d, {}) == "snndsl: error[E0601]: cannot read"
    d = Diagnostic(Code.SYNTAX, "bad", Span("gone.snn", 3, 4, 3, 5))
    assert render(d, {}) == "gone.snn:3:4: error[E0101]: bad"


def test_render_of_a_real_compile_error():
    path = HERE / "invalid" / "undefined_learnd_flagship.snn"
    source = path.read_text(encoding="utf-8")
    with pytest.raises(CompileError) as info:
        frontend(source, "flag.snn")
    text = render_all(info.value.diagnostics, info.value.sources)
    head, src, caret = text.splitlines()[:3]
    line = source.splitlines().index("    S.learnd[w > 0.3] = 0") + 1
    assert head.startswith(f"flag.snn:{line}:7: error[E0201]: ")
    assert "learned" in head
    assert src.endswith("|     S.learnd[w > 0.3] = 0")
    # '^' under the 'l' of learnd, '~' under the rest of the name
    offset = src.index("|") + 2
    assert caret[offset + 6:] == "^~~~~~"
    assert str(info.value) == text


def test_syntax_errors_name_what_to_type_never_a_token_name():
    """'expected ...' lists text ('/', '**', 'a name'), not Lark's SLASH or __ANON_1."""
    from snndsl.syntax.lalr import _describe_expected, _parser
    for t in _parser().terminals:
        said = _describe_expected({t.name})
        if t.name.startswith("__IGNORE"):  # spaces and comments: never expected
            continue
        assert said and not re.search(r"[A-Z]{2,}_?|__|anon", said.replace("'A'", "").replace("'V'", "")), \
            (t.name, said)
    power = next(t.name for t in _parser().terminals if t.pattern.value == "**")  # an anonymous terminal
    assert power.startswith("__ANON")
    assert _describe_expected({"SLASH"}) == "'/'" and _describe_expected({power}) == "'**'"
