"""Linear analysis of a one-variable ODE right-hand side.

`linear_in(f, x)` writes f as A*x + B with A and B free of any state
variable (constants and parameters only), or returns None. Exact
integration of event-driven traces rests on it.
"""
from __future__ import annotations

from snndsl.ir import nodes as ir

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
