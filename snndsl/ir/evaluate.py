"""Compile-time evaluation of IR expressions (constants and folding).

`evaluate` computes an expression that depends on nothing known only at run
time, with the semantics the generated C has (Python's `%` sign rule, `/`
always floating point, int() truncating toward zero, `where` choosing one
side). `finite_value` is what the checker uses for a value it must know: it
also refuses a result that is not a finite number, and says why at the
innermost place that made it so ("division by zero", ...).
"""
from __future__ import annotations

import math

from snndsl.ir import nodes as ir

INT64 = 2 ** 63


class NotConstant(Exception):
    """The expression reads something known only at run time."""


class NotFinite(NotConstant):
    """A constant expression whose value is not a finite number (or an
    integer beyond 64 bits). `why` is the reason, `span` the innermost
    expression that made it so. A subclass of NotConstant: a pass that only
    folds what it can leaves such an expression alone."""

    def __init__(self, why: str, span):
        super().__init__(why)
        self.why = why
        self.span = span


def _mod(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a % b
    r = math.fmod(a, b)
    if r != 0 and (r < 0) != (b < 0):
        r += b
    return r


def _pow(a, b):
    """C's pow; x ** 2 and x ** -1 as x * x and 1 / x (ir.folded_power)."""
    if b == 2 and not isinstance(b, bool):
        return float(a) * float(a)
    if b == -1 and not isinstance(b, bool):
        return 1.0 / float(a)
    return float(a) ** b


def _floordiv(a, b):
    """Python's a // b (snn_ifloordiv / snn_ffloordiv in C)."""
    if isinstance(a, int) and isinstance(b, int):
        return a // b
    return float(a) // float(b)


def _clip(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


_BIN = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "//": _floordiv, "%": _mod, "**": _pow,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "and": lambda a, b: bool(a) and bool(b), "or": lambda a, b: bool(a) or bool(b),
}

def _exprel(x: float) -> float:
    """As snn_exprel (runtime_c/snn_support.h): Brian2's exprel."""
    if abs(x) < 1e-16:
        return 1.0
    if x > 717:
        return math.inf
    return math.expm1(x) / x


_CALL = {
    "exp": math.exp, "log": math.log, "log10": math.log10, "sqrt": math.sqrt,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "tanh": math.tanh,
    "sinh": math.sinh, "cosh": math.cosh, "abs": abs, "exprel": lambda x: _exprel(x),
    "floor": lambda x: float(math.floor(x)), "ceil": lambda x: float(math.ceil(x)),
    "int": lambda x: int(x), "clip": _clip,
    "sign": lambda x: type(x)((x > 0) - (x < 0)),
    "min": min, "max": max,
}


def _g(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _arith_error(e: ir.Expr, exc: Exception, args) -> NotFinite:
    """Why Python refused to compute `e` (C would give inf or nan)."""
    if isinstance(exc, ZeroDivisionError):
        return NotFinite("division by zero", e.span)
    if isinstance(exc, OverflowError):
        return NotFinite("the value overflows to infinity", e.span)
    if isinstance(e, ir.Call):  # a math domain error: log(-1), sqrt(-1), floor(inf), ...
        return NotFinite(f"{e.func}({', '.join(_g(a) for a in args)}) is not a number", e.span)
    return NotFinite("the value is not a number", e.span)


def _checked(e: ir.Expr, value, args):
    """A computed value, or NotFinite where it is complex or an integer past 64 bits."""
    if isinstance(value, complex):  # (-8.0) ** 0.5: C's pow gives nan
        raise NotFinite(f"({_g(args[0])}) ** {_g(args[1])} is not a number (a negative number to a "
                        "fractional power)", e.span)
    if isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
        raise NotFinite("the integer overflows 64 bits", e.span)
    return value


def evaluate(e: ir.Expr):
    if isinstance(e, ir.Const):
        return _checked(e, e.value, ())
    if isinstance(e, ir.Unary):
        x = evaluate(e.operand)
        return (not x) if e.op == "not" else _checked(e, -x, ())
    if isinstance(e, ir.Binary):
        a, b = evaluate(e.left), evaluate(e.right)
        try:
            value = _BIN[e.op](a, b)
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            raise _arith_error(e, exc, (a, b)) from None
        if e.dtype == "i" and e.op in ("+", "-", "*", "%", "//"):
            value = int(value)
        return _checked(e, value, (a, b))
    if isinstance(e, ir.Call):
        if e.func == "where":  # as C's ?:, only the chosen side counts
            return evaluate(e.args[1] if evaluate(e.args[0]) else e.args[2])
        args = [evaluate(a) for a in e.args]
        try:
            value = _CALL[e.func](*args)
        except (ValueError, OverflowError, ZeroDivisionError) as exc:
            raise _arith_error(e, exc, args) from None
        except KeyError:
            raise NotConstant from None
        return _checked(e, value, args)
    raise NotConstant


def _children(e: ir.Expr) -> tuple[ir.Expr, ...]:
    if isinstance(e, ir.Unary):
        return (e.operand,)
    if isinstance(e, ir.Binary):
        return (e.left, e.right)
    if isinstance(e, ir.Call):
        if e.func == "where":
            return (e.args[0], e.args[1] if evaluate(e.args[0]) else e.args[2])
        return e.args
    return ()


def _is_finite(v) -> bool:
    return not isinstance(v, float) or math.isfinite(v)


def _origin(e: ir.Expr) -> NotFinite:
    """The innermost place where a constant expression whose value is inf or
    nan stopped being finite: IEEE arithmetic (1e308 * 10, inf - inf) gives
    no exception, so look for the node whose operands are all finite."""
    for child in _children(e):
        if not _is_finite(evaluate(child)):
            return _origin(child)
    value = evaluate(e)
    if isinstance(e, ir.Const):  # `inf` as written
        return NotFinite("the value is infinite (inf)", e.span)
    if isinstance(e, ir.Binary) and e.op == "/" and evaluate(e.right) == 0:
        return NotFinite("division by zero", e.span)
    if math.isnan(value):
        return NotFinite("the value is not a number", e.span)
    return NotFinite("the value overflows to infinity", e.span)


def finite_value(e: ir.Expr):
    """The value of a constant expression, which must be a finite number.

    Raises NotFinite (the reason and the innermost place) when it is inf,
    nan or an integer past 64 bits, NotConstant when it reads something known
    only at run time."""
    value = evaluate(e)
    if not _is_finite(value):
        raise _origin(e)
    return value


def is_constant(e: ir.Expr) -> bool:
    try:
        evaluate(e)
        return True
    except NotConstant:
        return False
