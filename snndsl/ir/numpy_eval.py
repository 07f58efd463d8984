"""IR expressions evaluated with numpy, over every element of a group at once.

Used between runs (`Simulation.set`, whose condition the checker has turned
into IR), with the semantics of the generated C: Python's sign rule for `%`,
`int()` truncating, Brian2's `clip`. What a condition between runs cannot
mean (random numbers, data arrays, reductions, time) is refused with
`Unsupported`, naming it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from snndsl.ir import nodes as ir


class Unsupported(Exception):
    pass


_BINARY = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "**": np.power,
    "%": np.mod,  # the sign of the divisor, as Python and the generated C (snn_fmod)
    "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal, "and": np.logical_and, "or": np.logical_or,
}
_CALLS = {
    "exp": np.exp, "log": np.log, "log10": np.log10, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "sqrt": np.sqrt, "abs": np.abs,
    "floor": np.floor, "ceil": np.ceil, "int": np.trunc, "min": np.minimum, "max": np.maximum,
    "exprel": lambda x: np.where(np.abs(x) < 1e-16, 1.0, np.where(x > 717, np.inf, np.expm1(x) / np.where(x == 0, 1, x))),
    "clip": lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
    "where": lambda c, a, b: np.where(c, a, b),
}


def evaluate(e: ir.Expr, var: Callable[[ir.Var], np.ndarray], param: Callable[[str], float],
             special: Callable[[str], np.ndarray]) -> np.ndarray:
    """`e` for every element: `var(v)` gives a variable's values per element
    (or one for a shared one), `param(name)` a parameter's, `special(name)`
    i, j, N and dt."""
    def go(x):
        if isinstance(x, ir.Const):
            return np.asarray(x.value)
        if isinstance(x, ir.Var):
            return var(x)
        if isinstance(x, ir.Param):
            return np.asarray(param(x.name))
        if isinstance(x, ir.Special):
            if x.name == "t":
                raise Unsupported("t")
            return special(x.name)
        if isinstance(x, ir.Size):
            return special("N")
        if isinstance(x, ir.Unary):
            a = go(x.operand)
            return np.logical_not(a) if x.op == "not" else (-a if x.op == "-" else +a)
        if isinstance(x, ir.Binary):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                return _BINARY[x.op](go(x.left), go(x.right))
        if isinstance(x, ir.Call) and x.func in _CALLS:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                return _CALLS[x.func](*(go(a) for a in x.args))
        if isinstance(x, ir.Rand):
            raise Unsupported(f"{x.kind} random numbers ({'rand' if x.kind == 'uniform' else 'randn'}())")
        if isinstance(x, ir.Reduce):
            raise Unsupported(f"a reduction ({x.kind})")
        if isinstance(x, (ir.DataAt, ir.DataLen)):
            raise Unsupported(f"the data array '{x.name}'")
        raise Unsupported(type(x).__name__)

    return go(e)
