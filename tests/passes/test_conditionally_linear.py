"""ir/linear.py's conditionally_linear against sympy's collect(expand(f), x),
which Brian2's exponential_euler uses: the same A and B (to rounding, at
random points) where sympy finds a split, and a refusal where sympy's
collection has a term in another power of x or no term in x at all."""
from __future__ import annotations

import ast as pyast
import random

import pytest

from snndsl.ir import nodes as ir
from snndsl.ir.evaluate import evaluate
from snndsl.ir.linear import conditionally_linear

GROUP = "G"
ACCEPTED = [
    "-x / 2 + 3",
    "x * tanh(x) + x + 3",
    "-x + y * x - y ** 2",
    "x / (x + 1) + 2",
    "(a - x) * (y + tanh(x))",
    "x * x / x",
    "x * exp(x)",
    "x ** 2 * y / x",
    "(x + 1) ** 2 - x ** 2",
    "x * (1 + y) ** 2",
    "(x + 1) / (x + 2)",
    "-(0.5 * (1 + tanh((x - 1) / 3))) * (x - 2) - y * (x + 4)",
    "cosh(y / 2) * (0.5 * (1 + tanh(y)) - x)",
    "x / (2 * x * y + y)",
    "sqrt(y + 2) * x + sqrt(x + 3)",
    "(x ** 2) ** 0.5 - x",          # |x|: one opaque factor, in B
    "(x * y) ** 0.5 + x",
    "(x ** 2) ** -1 * x ** 3 + x",
]
REFUSED = {  # sympy: another power of x beside x**1, or only x inside functions
    "x ** 2 + x + 1": "x**2",
    "x ** 2 - x": "x**2",           # Brian2 keeps A = -1 and drops x**2
    "sqrt(x) - x": "x**(1/2)",
    "(2 * x) ** 0.5 + x": "x**(1/2)",
    "a * x + exp(x) * x + 1 / x": "x**-1",
    "tanh(x)": "inside",
    "exp(x) + 1 / (x + 1)": "inside",
    "(x + 1) ** 13": "x**13",
    "cosh(x / 2) * (0.5 * (1 + tanh(x)) - y)": "inside",
    "(x + y) * (x - y) / x": "x**-1",
}


def to_ir(text: str) -> ir.Expr:
    def go(n):
        if isinstance(n, pyast.Expression):
            return go(n.body)
        if isinstance(n, pyast.Constant):
            return ir.Const(float(n.value))
        if isinstance(n, pyast.Name):
            return ir.Var(GROUP, n.id)
        if isinstance(n, pyast.UnaryOp):
            return ir.Unary("-", go(n.operand))
        if isinstance(n, pyast.BinOp):
            op = {pyast.Add: "+", pyast.Sub: "-", pyast.Mult: "*", pyast.Div: "/", pyast.Pow: "**"}[type(n.op)]
            return ir.Binary(op, go(n.left), go(n.right))
        if isinstance(n, pyast.Call):
            return ir.Call(n.func.id, tuple(go(a) for a in n.args))
        raise TypeError(n)
    return go(pyast.parse(text, mode="eval"))


def value(e: ir.Expr, point: dict[str, float]) -> float:
    return evaluate(ir.map_expr(lambda n: ir.Const(point[n.name]) if isinstance(n, ir.Var) else n, e))


def sympy_split(text: str):
    sp = pytest.importorskip("sympy")
    x, y, a = sp.symbols("x y a", real=True)
    s = sp.sympify(text, locals={"x": x, "y": y, "a": a}).expand()
    c = sp.collect(s, x, evaluate=False)
    return (x, y, a), c


@pytest.mark.parametrize("text", ACCEPTED)
def test_the_split_is_sympys(text):
    (x, y, a), c = sympy_split(text)
    assert set(c) <= {x, 1} and x in c, c  # sympy splits it as A x + B
    r = conditionally_linear(to_ir(text), "x", GROUP)
    assert not isinstance(r, str), r
    A, B = r
    rng = random.Random(1)
    for _ in range(5):
        point = {"x": rng.uniform(0.5, 2), "y": rng.uniform(0.5, 2), "a": rng.uniform(-1, 1)}
        subs = {x: point["x"], y: point["y"], a: point["a"]}
        assert value(A, point) == pytest.approx(float(c[x].subs(subs)), rel=1e-12, abs=1e-12)
        assert value(B, point) == pytest.approx(float(c.get(1, 0) if c.get(1, 0) == 0 else c[1].subs(subs)),
                                                rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("text", sorted(REFUSED))
def test_what_sympy_does_not_split_is_refused(text):
    (x, _, _), c = sympy_split(text)
    assert set(c) != {x, 1} and set(c) != {x}, c
    assert conditionally_linear(to_ir(text), "x", GROUP) == REFUSED[text]


def test_terms_in_x_that_cancel_leave_b():
    """x * x - x * x + 2: sympy's expansion has no x (Brian2: A = 0, x + dt B)."""
    A, B = conditionally_linear(to_ir("x * x - x * x + 2 * y"), "x", GROUP)
    assert evaluate(A) == 0 and value(B, {"y": 3.0}) == 6.0
