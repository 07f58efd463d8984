"""parse -> unparse -> parse gives an equal AST (spans aside)."""
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from snndsl.syntax import ast
from snndsl.syntax.parse import parse_source
from snndsl.syntax.unparse import expr as unparse_expr, unparse

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
FILES = [HERE / "full_language.snn", *sorted((ROOT / "examples").glob("*.snn")),
         *sorted((ROOT / "tests" / "e2e" / "models").glob("*.snn"))]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_roundtrip(path):
    first = parse_source(path.read_text(), str(path))
    text = unparse(first)
    second = parse_source(text, "unparsed.snn")
    assert first.decls == second.decls
    assert unparse(second) == text


def test_full_language_has_every_construct():
    """The fixture really covers the language: every AST node type appears."""
    module = parse_source((HERE / "full_language.snn").read_text(), "full.snn")
    seen = set()

    def visit(node):
        seen.add(type(node).__name__)
        for name in getattr(node, "__dataclass_fields__", {}):
            value = getattr(node, name)
            for v in value if isinstance(value, tuple) else (value,):
                if isinstance(v, ast.Node):
                    visit(v)

    for d in module.decls:
        visit(d)
    expected = {c.__name__ for c in vars(ast).values()
                if isinstance(c, type) and issubclass(c, ast.Node) and c.__subclasses__() == []
                and c is not ast.Module}
    assert expected - seen == set()


names = st.sampled_from(["v", "w", "tau", "x_1", "_y"])
atoms = st.one_of(
    st.builds(ast.Name, names),
    st.builds(ast.Number, st.sampled_from(["0", "1", "2.5", "1e-3", ".5"]),
              st.sampled_from([None, "ms", "mV", "mV/ms", "siemens/metre**2", "Hz"])),
    st.builds(ast.Bool, st.booleans()),
    st.builds(ast.Attr, st.sampled_from(["pre", "post", "exc"]), names),
)
ops = st.sampled_from(["+", "-", "*", "/", "%", "**", "<", "<=", "==", "!=", "and", "or"])


def _exprs():
    return st.recursive(atoms, lambda inner: st.one_of(
        st.builds(ast.BinOp, ops, inner, inner),
        st.builds(ast.UnaryOp, st.sampled_from(["-", "not"]), inner),
        st.builds(ast.Call, st.sampled_from(["exp", "clip", "rand"]), st.lists(inner, max_size=3).map(tuple)),
        st.builds(ast.Index, st.sampled_from(["images", "d"]), st.lists(inner, min_size=1, max_size=2).map(tuple)),
    ), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_exprs())
def test_expression_roundtrip(e):
    """Precedence and associativity: the printed text parses to the same tree."""
    text = unparse_expr(e)
    parsed = parse_source(f"const c = {text}\n", "e.snn").decls[0].value
    assert parsed == e, text
