"""Linear analysis of a one-variable ODE right-hand side.

`linear_in(f, x)` writes f as A*x + B with A and B free of any state
variable (constants and parameters only), or returns None. Exact
integration of event-driven traces rests on it.

`conditionally_linear(f, x)` writes f as A*x + B as Brian2's
exponential_euler does (sympy's `collect(expand(f), x)`): A and B may read
other variables, and x inside functions and denominators; it says why not
when f has a term in another power of x, or x only inside functions.
"""
from __future__ import annotations

from fractions import Fraction

from snndsl.ir import nodes as ir
from snndsl.ir.evaluate import NotConstant, evaluate

ZERO = ir.Const(0.0)
ONE = ir.Const(1.0)


def _free(e: ir.Expr) -> bool:
    return not any(isinstance(n, (ir.Var, ir.Rand, ir.Special, ir.DataAt, ir.Local))
                   for n in ir.walk(e))


def linear_in(f: ir.Expr, name: str, group: str) -> tuple[ir.Expr, ir.Expr] | None:
    if isinstance(f, ir.Var) and f.name == name and f.group == group and f.at == "self":
        return ONE, ZERO
    if _free(f):
        return ZERO, f
    if isinstance(f, ir.Unary) and f.op == "-":
        r = linear_in(f.operand, name, group)
        return None if r is None else (ir.Unary("-", r[0]), ir.Unary("-", r[1]))
    if isinstance(f, ir.Binary) and f.op in ("+", "-"):
        a, b = linear_in(f.left, name, group), linear_in(f.right, name, group)
        if a is None or b is None:
            return None
        return ir.Binary(f.op, a[0], b[0]), ir.Binary(f.op, a[1], b[1])
    if isinstance(f, ir.Binary) and f.op == "*":
        if _free(f.left):
            r = linear_in(f.right, name, group)
            return None if r is None else (ir.Binary("*", f.left, r[0]), ir.Binary("*", f.left, r[1]))
        if _free(f.right):
            r = linear_in(f.left, name, group)
            return None if r is None else (ir.Binary("*", r[0], f.right), ir.Binary("*", r[1], f.right))
        return None
    if isinstance(f, ir.Binary) and f.op == "/" and _free(f.right):
        r = linear_in(f.left, name, group)
        return None if r is None else (ir.Binary("/", r[0], f.right), ir.Binary("/", r[1], f.right))
    return None


# ---- conditional linearity, as Brian2's exponential_euler reads it ------------
#
# Brian2 (stateupdaters/exponential_euler.py) expands the right side with sympy
# and collects it in x: `collect(expand(f), x)`. A term whose factors include x
# itself (x**1) goes to A, every other term to B, even where x hides in a
# function (tanh(x)) or a denominator (1/(x + 1)): A and B are read at the
# start of the step, so they may depend on x that way. A term in another power
# of x (x**2, 1/x, x**0.5) makes the equation nonlinear: Brian2 refuses it, or
# silently drops it when A is there too; here it is always refused.
#
# `_Poly` is that expansion: {power of x: coefficient}, each coefficient free
# of x except inside an opaque part (a function of x, a division by a sum
# containing x, a power of one), which sympy would keep as one factor too.

_Poly = dict  # {Fraction (a power of x): ir.Expr (its coefficient)}


def _mul(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    if a == ONE:
        return b
    if b == ONE:
        return a
    return ir.Binary("*", a, b)


def _add(a: ir.Expr | None, b: ir.Expr) -> ir.Expr:
    return b if a is None else ir.Binary("+", a, b)


def _poly_mul(p: _Poly, q: _Poly) -> _Poly:
    out: _Poly = {}
    for i, a in p.items():
        for j, b in q.items():
            out[i + j] = _add(out.get(i + j), _mul(a, b))
    return out


def _monomial(p: _Poly) -> tuple | None:
    """(k, c) when p is c x**k, one power only."""
    return next(iter(p.items())) if len(p) == 1 else None


def _expand(f: ir.Expr, uses, is_x, limit: int = 12) -> _Poly:
    """f as a _Poly; a whole power of a sum up to `limit` is multiplied out
    (a higher one is reported as its top power, which makes f nonlinear)."""
    def go(f: ir.Expr) -> _Poly:
        if is_x(f):
            return {Fraction(1): ONE}
        if not uses(f):
            return {Fraction(0): f}
        if isinstance(f, ir.Unary) and f.op == "-":
            return {k: ir.Unary("-", v) for k, v in go(f.operand).items()}
        if isinstance(f, ir.Binary) and f.op in ("+", "-"):
            out = dict(go(f.left))
            for k, v in go(f.right).items():
                term = v if f.op == "+" else ir.Unary("-", v)
                out[k] = _add(out.get(k), term)
            return out
        if isinstance(f, ir.Binary) and f.op == "*":
            return _poly_mul(go(f.left), go(f.right))
        if isinstance(f, ir.Binary) and f.op == "/":
            left = go(f.left)
            if not uses(f.right):
                return {k: ir.Binary("/", v, f.right) for k, v in left.items()}
            mono = _monomial(go(f.right))
            if mono is not None:  # c x**k: x**-k times 1/c
                k, c = mono
                return {i - k: ir.Binary("/", v, c) for i, v in left.items()}
            return {i: ir.Binary("/", v, f.right) for i, v in left.items()}  # 1/(x + ...) stays whole
        if isinstance(f, ir.Binary) and f.op == "**" and not uses(f.right):
            try:
                p = evaluate(f.right)
            except NotConstant:
                return {Fraction(0): f}
            if isinstance(p, bool) or not isinstance(p, (int, float)):
                return {Fraction(0): f}
            return power(f.left, p, f)
        if isinstance(f, ir.Call) and f.func == "sqrt" and len(f.args) == 1:
            return power(f.args[0], 0.5, f)
        return {Fraction(0): f}  # a function of x, a condition: one opaque factor

    def power(base: ir.Expr, p: float, whole: ir.Expr) -> _Poly:
        b = go(base)
        if float(p).is_integer() and p > limit and len(b) > 1:
            return {Fraction(int(p)): whole}  # its expansion has a term in x**p
        if float(p).is_integer() and 0 <= p <= limit:
            out = {Fraction(0): ONE}
            for _ in range(int(p)):
                out = _poly_mul(out, b)
            return out
        mono = _monomial(b)
        if mono is not None and mono[0] != 0:
            k, c = mono
            if float(p).is_integer() or (k == 1 and _positive(c)):
                # (c x**k)**p is c**p x**(k p), as sympy splits it: for a fractional p only
                # where that holds for negative x too ((x**2)**0.5 is |x|, one opaque factor)
                return {k * Fraction(p).limit_denominator(1000): ir.Binary("**", c, ir.Const(float(p)))}
        return {Fraction(0): whole}

    def _positive(c: ir.Expr) -> bool:
        try:
            return evaluate(c) > 0
        except NotConstant:
            return False

    return go(f)


def conditionally_linear(f: ir.Expr, name: str, group: str) -> tuple[ir.Expr, ir.Expr] | str:
    """f as A*x + B in Brian2's sense (see above), or why it is not: the
    power of x it has a term in, or 'inside' when x appears only inside a
    function or a denominator."""
    def is_x(e):
        return isinstance(e, ir.Var) and e.name == name and e.group == group and e.at == "self"

    def uses(e):
        return any(is_x(n) for n in ir.walk(e))

    if not uses(f):
        return ZERO, f
    poly = _expand(f, uses, is_x)

    def vanishes(e):
        try:
            return evaluate(e) == 0
        except NotConstant:
            return False

    poly = {k: v for k, v in poly.items() if not (k != 0 and vanishes(v))}
    others = sorted(k for k in poly if k not in (0, 1))
    if others:
        k = others[0]
        return f"{name}**{k}" if k.denominator == 1 else f"{name}**({k})"
    if 1 not in poly:  # the terms in x cancelled (then B is free of x, as sympy finds), or x is inside only
        b = poly.get(Fraction(0), ZERO)
        return "inside" if uses(b) else (ZERO, b)
    return poly[1], poly.get(0, ZERO)
