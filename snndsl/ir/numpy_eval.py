"""IR expressions evaluated with numpy, over every element of a group at once.

Used between runs (`Simulation.set`, whose condition the checker has turned
into IR) and by the reference backend (snndsl/reference/), with the
semantics of the generated C, operation for operation, so that the two
agree to the last bit: Python's sign rule for `%`, `int()` truncating toward
zero (saturating, nan as 0), `min`/`max` as C's fmin/fmax (a nan loses),
`clip` as snn_clip (nan passes through), `**` as C's pow, and `and`, `or`
and `where` evaluating only the side that counts when their condition is
one value (C's short-circuit: a random number on the other side is not
drawn). The math functions are the C library's: numpy's own where they
agree with it on a probe of values, else the C library's through ctypes.

What the caller does not resolve (`resolve`: random numbers, data arrays,
reductions, protocol locals, freeze flags, temporaries, t) is refused with
`Unsupported`, naming it.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from typing import Callable

import numpy as np

from snndsl.ir import nodes as ir


class Unsupported(Exception):
    pass


_BINARY = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide,
    "%": np.mod,  # the sign of the divisor, as Python and the generated C (snn_fmod, snn_imod)
    "//": np.floor_divide,  # as Python and the generated C (snn_ffloordiv, snn_ifloordiv)
    "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal,
}
_LIBM = ("exp", "log", "log10", "sin", "cos", "tan", "tanh", "sinh", "cosh", "expm1")
# a probe of arguments on which numpy's functions must give the C library's results
_PROBE = np.concatenate([np.linspace(-30, 30, 2001), np.geomspace(1e-12, 700, 500),
                         -np.geomspace(1e-12, 700, 500), np.random.default_rng(12).normal(0, 5, 2000)])


@cache
def _libm():
    name = ctypes.util.find_library("m")
    return ctypes.CDLL(name) if name else ctypes.CDLL(None)


@cache
def _c_function(name: str, arity: int = 1):
    """The C library's `name`, for float64 arrays (a Python call per element)."""
    fn = getattr(_libm(), name)
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_double] * arity
    scalar = np.frompyfunc(fn, arity, 1)
    return lambda *args: np.asarray(scalar(*(np.asarray(a, dtype=np.float64) for a in args)), dtype=np.float64)


@cache
def math_function(name: str):
    """`name` of the C library as a function of float64 arrays: numpy's ufunc
    when it gives the C library's result on every probe value, else the C
    library's own function. `pow` is always the C library's: numpy's power
    takes SIMD loops chosen by the CPU (AVX-512 machines differ from AVX2
    ones in the last bit of `x ** 3`), which no probe can vouch for."""
    numpy_fn = np.power if name == "pow" else getattr(np, name)
    try:
        c_fn = _c_function(name, 2 if name == "pow" else 1)
        if name == "pow":
            return c_fn
        with np.errstate(all="ignore"):
            same = np.array_equal(numpy_fn(_PROBE), c_fn(_PROBE), equal_nan=True)
    except (OSError, AttributeError):  # no C library to compare with: numpy's is all there is
        return numpy_fn
    if same:
        return lambda *args: numpy_fn(*(np.asarray(a, dtype=np.float64) for a in args))
    return c_fn


def _trunc(x):
    """snn_trunc: toward zero, as int64; nan is 0, saturating at +-9.2e18."""
    x = np.asarray(x, dtype=np.float64)
    out = np.where(np.isnan(x), 0.0, np.clip(x, -9.2e18, 9.2e18))
    r = np.trunc(out).astype(np.int64)
    r = np.where(x >= 9.2e18, np.iinfo(np.int64).max, r)
    return np.where(x <= -9.2e18, np.iinfo(np.int64).min, r)


def _clip(x, lo, hi):
    """snn_clip: lo below lo, hi above hi, else x (nan passes through)."""
    return np.where(x < lo, lo, np.where(x > hi, hi, x))


def _exprel(x):
    x = np.asarray(x, dtype=np.float64)
    expm1 = math_function("expm1")
    return np.where(np.abs(x) < 1e-16, 1.0, np.where(x > 717, np.inf, expm1(x) / np.where(x == 0, 1, x)))


def _minmax(fmin: bool):
    def f(a, b):
        if np.asarray(a).dtype.kind in "iub" and np.asarray(b).dtype.kind in "iub":
            return np.minimum(a, b) if fmin else np.maximum(a, b)  # snn_imin / snn_imax
        return np.fmin(a, b) if fmin else np.fmax(a, b)
    return f


def _abs(x):
    return np.abs(x)


def _sign(x):
    """snn_sign / snn_isign: -1, 0 or 1, 0 for nan (np.sign gives nan)."""
    x = np.asarray(x)
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


_CALLS = {
    "sqrt": np.sqrt, "abs": _abs, "sign": _sign, "floor": np.floor, "ceil": np.ceil, "int": _trunc,
    "min": _minmax(True), "max": _minmax(False), "exprel": _exprel, "clip": _clip,
}


def _call(name: str):
    if name in _CALLS:
        return _CALLS[name]
    if name in _LIBM:
        return math_function(name)
    return None


def _is_one(x) -> bool:
    """One value (of one element, or the same for all): C's short-circuit applies."""
    return np.size(x) == 1


def evaluate(e: ir.Expr, var: Callable[[ir.Var], np.ndarray], param: Callable[[str], float],
             special: Callable[[str], np.ndarray], resolve: Callable[[ir.Expr], np.ndarray] | None = None
             ) -> np.ndarray:
    """`e` for every element: `var(v)` gives a variable's values per element
    (or one for a shared one), `param(name)` a parameter's, `special(name)`
    i, j, elem, N and dt; `resolve(node)`, where given, what else the caller
    knows: t, Temp, Local, Frozen, Rand, DataAt, DataLen, Reduce."""
    def other(x):
        if resolve is None:
            raise Unsupported(_what(x))
        return resolve(x)

    def go(x):
        if isinstance(x, ir.Const):
            return np.asarray(x.value)
        if isinstance(x, ir.Var):
            return var(x)
        if isinstance(x, ir.Param):
            return np.asarray(param(x.name))
        if isinstance(x, ir.Special):
            if x.name == "t":
                return other(x)
            return special(x.name)
        if isinstance(x, ir.Size):
            return special("N") if resolve is None else other(x)
        if isinstance(x, ir.TimeStep):  # snn_time_step
            time = np.asarray(go(x.time), dtype=np.float64)
            rows = np.asarray(other(ir.DataLen(x.data)), dtype=np.int64)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                k = _trunc((time / (x.period / x.upsample) + 0.5) / float(x.upsample))
            k = np.where(k >= rows, rows - 1, k)
            return np.where(k < 0, 0, k)
        if isinstance(x, ir.Unary):
            a = go(x.operand)
            return np.logical_not(a) if x.op == "not" else (-a if x.op == "-" else +a)
        if isinstance(x, ir.Binary):
            return binary(x)
        if isinstance(x, ir.Call):
            if x.func == "where":
                c = go(x.args[0])
                if _is_one(c):  # C's ?: evaluates only the side it chooses
                    return go(x.args[1] if c else x.args[2])
                return np.where(c, go(x.args[1]), go(x.args[2]))
            fn = _call(x.func)
            if fn is None:
                raise Unsupported(f"the function {x.func}()")
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                return fn(*(go(a) for a in x.args))
        return other(x)

    def binary(x: ir.Binary):
        if x.op in ("and", "or"):
            a = np.asarray(go(x.left), dtype=bool)
            if _is_one(a) and bool(a) == (x.op == "or"):  # C's short-circuit
                return a
            b = np.asarray(go(x.right), dtype=bool)
            return np.logical_and(a, b) if x.op == "and" else np.logical_or(a, b)
        a, b = go(x.left), go(x.right)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if x.op == "**":  # C's pow, in double precision whatever the operands
                folded = ir.folded_power(x)
                a = np.asarray(a, dtype=np.float64)
                if folded is not None:  # snn_square, snn_reciprocal
                    return a * a if folded == 2 else 1.0 / a
                return math_function("pow")(a, b)
            if x.op == "%" and x.dtype == "i":  # snn_imod: 0 for a zero divisor
                a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
                return np.where(b == 0, 0, np.mod(a, np.where(b == 0, 1, b)))
            if x.op == "/":
                return np.true_divide(np.asarray(a, dtype=np.float64), b)
            return _BINARY[x.op](a, b)

    return go(e)


def _what(x: ir.Expr) -> str:
    if isinstance(x, ir.Rand):
        return f"{x.kind} random numbers ({'rand' if x.kind == 'uniform' else 'randn'}())"
    if isinstance(x, ir.Reduce):
        return f"a reduction ({x.kind})"
    if isinstance(x, (ir.DataAt, ir.DataLen)):
        return f"the data array '{x.name}'"
    if isinstance(x, ir.TimeStep):
        return f"the timed array '{x.data}'"
    if isinstance(x, ir.Special):
        return x.name
    return type(x).__name__
