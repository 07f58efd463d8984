"""Parsing stage: .snn text -> `ast.Module`, or syntax diagnostics.

The recursive-descent parser (syntax/descent.py) parses what it takes; the
grammar's LALR parser (syntax/lalr.py, grammar/snn.lark) explains the rest,
and is imported, with Lark, only then.
"""
from __future__ import annotations

import dataclasses

from snndsl.diagnostics import Code, CompileError, Diagnostic, Span, error
from snndsl.syntax import ast, descent


def _check_layout(text: str, file: str) -> list[Diagnostic]:
    """Tabs in indentation are an error: the language indents with spaces.
    The first line of code may not be indented (the indenter cannot see it)."""
    out = []
    first = True
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            col = len(line) - len(stripped) + 1
            out.append(error(Code.TAB, "tabs are not allowed in indentation; indent with spaces",
                             Span(file, n, col, n, col + 1)))
        if first and stripped.strip() and not stripped.startswith("#"):
            first = False
            if stripped is not line and not stripped.startswith("\t"):
                col = len(line) - len(stripped) + 1
                out.append(error(Code.SYNTAX, "unexpected indent: the first declaration starts at column 1",
                                 Span(file, n, col, n, col + 1)))
    return out


def parse_source(text: str, file: str = "<string>") -> ast.Module:
    """Parse .snn text; raises `CompileError` with syntax diagnostics."""
    problems = _check_layout(text, file)
    if problems:
        raise CompileError(problems, {file: text})
    try:
        return ast.Module(file, descent.parse(text if text.endswith("\n") else text + "\n", file))
    except (descent.Unparsed, RecursionError):
        pass  # not taken by the fast parser: the grammar's parser explains (or, if they disagree, parses) it
    return reference_parse(text, file)


def reference_parse(text: str, file: str = "<string>") -> ast.Module:
    """Parse with the LALR parser built from the grammar (syntax/lalr.py)."""
    from snndsl.syntax import lalr
    return lalr.reference_parse(text, file)


def too_deep(file: str, text: str, tree: ast.Module | None = None) -> Diagnostic:
    """An expression past the recursion limit of some stage: said at the
    declaration whose expression nests deepest when the text has parsed, else
    at its longest line (a long or deep expression is a long line)."""
    line, col = 1, 1
    span = _deepest_declaration(tree) if tree is not None else None
    if span is not None:
        line, col = span.line, span.col
    else:
        lines = text.splitlines() or [""]
        line = max(range(len(lines)), key=lambda k: len(lines[k])) + 1
    return error(Code.SYNTAX, "an expression is too long or too deeply nested; split it with "
                 "subexpressions or constants", Span(file, line, col, line, col + 1))


def _deepest_declaration(tree: ast.Module) -> Span | None:
    """The span of the declaration holding the most deeply nested node,
    measured without recursion."""
    best, where = -1, None
    for decl in tree.decls:
        stack = [(decl, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > best:
                best, where = depth, decl.span
            if isinstance(node, tuple):
                stack.extend((n, depth) for n in node)
            elif dataclasses.is_dataclass(node) and not isinstance(node, Span):
                stack.extend((getattr(node, f.name), depth + 1) for f in dataclasses.fields(node)
                             if f.name != "span")
    return where
