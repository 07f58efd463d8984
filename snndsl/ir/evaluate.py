"""Compile-time evaluation of IR expressions (constants and folding).

`evaluate` computes an expression that depends on nothing known only at run
time, with the semantics the generated C has (Python's `%` sign rule, `/`
always floating point, int() truncating toward zero).
"""
from __future__ import annotations

import math

from snndsl.ir import nodes as ir


class NotConstant(Exception):
    """The expression reads something known only at run time."""


def _mod(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a % b
    r = math.fmod(a, b)
    if r != 0 and (r < 0) != (b < 0):
        r += b
    return r


def _clip(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


_BIN = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "%": _mod, "**": lambda a, b: float(a) ** b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "and": lambda a, b: bool(a) and bool(b), "or": lambda a, b: bool(a) or bool(b),
}

_CALL = {
    "exp": math.exp, "log": math.log, "log10": math.log10, "sqrt": math.sqrt,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "tanh": math.tanh,
    "sinh": math.sinh, "cosh": math.cosh, "abs": abs,
    "floor": lambda x: float(math.floor(x)), "ceil": lambda x: float(math.ceil(x)),
    "int": lambda x: int(x), "clip": _clip,
    "min": min, "max": max, "where": lambda c, a, b: a if c else b,
}


def evaluate(e: ir.Expr):
    if isinstance(e, ir.Const):
        return e.value
    if isinstance(e, ir.Unary):
        x = evaluate(e.operand)
        return (not x) if e.op == "not" else -x
    if isinstance(e, ir.Binary):
        a, b = evaluate(e.left), evaluate(e.right)
        try:
            value = _BIN[e.op](a, b)
        except (ZeroDivisionError, OverflowError, ValueError):
            raise NotConstant from None
        if e.dtype == "i" and e.op in ("+", "-", "*", "%"):
            return int(value)
        return value
    if isinstance(e, ir.Call):
        args = [evaluate(a) for a in e.args]
        try:
            return _CALL[e.func](*args)
        except (ValueError, OverflowError, ZeroDivisionError):
            raise NotConstant from None
    raise NotConstant


def is_constant(e: ir.Expr) -> bool:
    try:
        evaluate(e)
        return True
    except NotConstant:
        return False
