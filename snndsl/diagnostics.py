"""Diagnostics shared by every stage: source spans, error codes, rendering.

A stage that finds a user's mistake yields `Diagnostic` values; the driver
collects them and raises `CompileError` when any is an error. `render()`
prints the `FILE:LINE:COL: error[CODE]: message` form with the source line
and a caret underline. A compiler bug is an `InternalError`, never a
diagnostic.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns count from 1."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    start_pos: int = 0
    end_pos: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Code(enum.Enum):
    """Stable diagnostic codes; tests assert these, never the wording.

    The numbering groups the stage: E01xx syntax, E02xx names, E03xx units and
    types, E04xx flags and placement, E05xx structure, E06xx run-time input,
    E09xx not supported yet. docs/errors.md describes each.
    """

    SYNTAX = "E0101"
    TAB = "E0102"
    BAD_STRING = "E0103"
    UNDEFINED_NAME = "E0201"
    DUPLICATE = "E0202"
    RESERVED_NAME = "E0203"
    UNKNOWN_UNIT = "E0204"
    UNKNOWN_FUNCTION = "E0205"
    UNKNOWN_SETTING = "E0206"
    UNKNOWN_GROUP = "E0207"
    CYCLE = "E0208"
    DIMENSION = "E0301"
    ARGUMENTS = "E0302"
    NOT_CONSTANT = "E0303"
    BAD_TYPE = "E0304"
    BAD_FLAG = "E0401"
    FLAG_VIOLATION = "E0402"
    MISPLACED = "E0403"
    BAD_VALUE = "E0501"
    MISSING = "E0502"
    NOT_LINEAR = "E0503"
    TOO_LARGE = "E0504"
    RUNTIME_INPUT = "E0601"
    NO_COMPILER = "E0602"
    UNSUPPORTED = "E0901"
    UNUSED = "W0101"
    NO_EFFECT = "W0102"
    LOOKS_LIKE_DECLARATION = "W0103"
    WONT_FIT = "W0104"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: Code
    message: str
    span: Span | None
    severity: Severity = Severity.ERROR
    notes: tuple[str, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(code: Code, message: str, span: Span | None, *notes: str) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.ERROR, tuple(notes))


def warning(code: Code, message: str, span: Span | None, *notes: str) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.WARNING, tuple(notes))


class Error(Exception):
    """The base of every snndsl exception a user's mistake can raise
    (CompileError, SimulationError, ResultsError): `except snndsl.Error`
    catches them all, and the text is the command line's."""


class CompileError(Error):
    """Raised by the driver when a stage reported at least one error."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources or {})
        super().__init__(render_all(self.diagnostics, self.sources))

    def __reduce__(self):
        """Pickled as its diagnostics (raised in a worker process, raised again
        in the caller's: snndsl.sweep), whatever a subclass's __init__ takes."""
        return _compile_error, (type(self), self.diagnostics, self.sources)


def _compile_error(kind: type, diagnostics: list[Diagnostic], sources: dict[str, str]) -> CompileError:
    exc = kind.__new__(kind)
    CompileError.__init__(exc, diagnostics, sources)
    return exc


class InternalError(Exception):
    """A bug in snndsl itself (an IR invariant broken), never a user mistake."""


def render(d: Diagnostic, sources: dict[str, str]) -> str:
    """`FILE:LINE:COL: error[CODE]: message`, the source line and a caret."""
    head = f"{d.severity.value}[{d.code.value}]: {d.message}"
    if d.span is None:
        lines = [f"snndsl: {head}"]
    else:
        s = d.span
        lines = [f"{s.file}:{s.line}:{s.col}: {head}"]
        text = sources.get(s.file)
        if text is not None:
            src_lines = text.splitlines()
            if 1 <= s.line <= len(src_lines):
                src = src_lines[s.line - 1].replace("\t", " ")
                width = (s.end_col - s.col) if s.end_line == s.line else len(src) - s.col + 1
                width = max(1, width)
                lines.append(f"{s.line:5d} | {src}")
                lines.append("      | " + " " * (s.col - 1) + "^" + "~" * (width - 1))
    lines.extend(f"      = note: {n}" for n in d.notes)
    return "\n".join(lines)


def render_all(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    return "\n".join(render(d, sources) for d in diagnostics)


# Brian2's NeuronGroup(..., dt=...) written in a group, as `dt: ...` or `dt = ...`
GROUP_DT = ("a group's own time step is a clause, `dt: 10 ms` (Brian2's NeuronGroup(..., dt=10*ms)); "
            "`dt = ...` is the model's, at the top level")


def closest(name: str, candidates) -> str | None:
    """The candidate a misspelling most likely meant, or None."""
    import difflib

    names = sorted(set(candidates))
    found = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if found:
        return found[0]
    lower: dict[str, str] = {}  # then ignoring case: V for v, WEIGHT for weight
    for c in names:
        lower.setdefault(c.lower(), c)
    found = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    return lower[found[0]] if found and lower[found[0]] != name else None
