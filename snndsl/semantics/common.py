"""What the parts of the checker share: the names the language predefines,
the functions it knows, the scope of an expression, and small helpers."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from snndsl.ir import nodes as ir
from snndsl.semantics import model as m
from snndsl.syntax import ast

PREDEFINED = {"i", "j", "t", "dt", "N"}
SETTINGS = {"dt", "seed", "precision"}

MATH_1 = {"exp", "log", "log10", "sin", "cos", "tan", "tanh", "sinh", "cosh", "exprel"}
SAME_DIM_1 = {"abs", "floor", "ceil"}
REDUCTIONS = {"sum", "mean", "min", "max", "count", "sum_pre", "sum_post"}
FUNCTIONS = MATH_1 | SAME_DIM_1 | {"sqrt", "int", "sign", "clip", "min", "max", "where", "rand", "randn",
                                   "len"} | REDUCTIONS

Fraction_half = Fraction(1, 2)
MAX_SIZE = 2 ** 31 - 1
# The longest simulation, in time steps: SNN_MAX_STEPS of runtime_c/snn_support.h. Up to
# 2**53 every step count is an exact double, so t = step * dt is exact, and the sum of two
# step counts (t_end = t + duration, a spike's arrival step) cannot overflow int64_t.
MAX_STEPS = 2 ** 53
# The longest synaptic delay, in steps: the generated C's limit for the spike ring (setup_delays).
MAX_DELAY_STEPS = 1e9

MATH_CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf}


def is_noise_name(name: str) -> bool:
    """Brian2's names of white noise: xi, and xi_ followed by a name."""
    return name == "xi" or (name.startswith("xi_") and len(name) > 3)

_ERR = ir.Const(0.0)  # placeholder for an expression that failed to check


class _Fail(Exception):
    """Abandons the current expression; its diagnostic is already recorded."""


@dataclass
class Scope:
    """Where an expression is evaluated, and what it may use."""

    group: m.Group | None = None  # element-wise context of this group
    synapses: bool = False  # pre./post., j visible
    rand: bool = False
    noise: bool = False  # white noise xi, xi_NAME: the right side of a clock-driven equation
    reductions: bool = False
    locals: dict[str, str] = field(default_factory=dict)
    lets: dict = field(default_factory=dict)  # event code's `let NAME = ...` so far: name -> dimension
    const_only: bool = False
    shared_only: bool = False  # a shared assignment: no per-element reads
    offset: int = 0  # a subgroup's first element: `i` counts from it
    size: int | None = None  # a subgroup's size: `N`
    what: str = "here"  # for messages: "in a constant", "in a phase statement"


def _mantissa(text: str) -> str:
    return text.lower().partition("e")[0]


def _is_int(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v) and v == int(v)


def _arith(a: ir.Expr, b: ir.Expr) -> str:
    return "i" if a.dtype == "i" and b.dtype == "i" else "f"


def _binary(op: str, a: ir.Expr, b: ir.Expr) -> ir.Expr:
    dtype = "f" if op == "/" else _arith(a, b)
    return ir.Binary(op, a, b, dtype)


def _replace(obj, **kw):
    from dataclasses import replace
    return replace(obj, **kw)


def _retarget(e: ir.Expr, at: str) -> ir.Expr:
    """A subexpression of a neighbour group, read through pre./post.: its
    variables at that neuron, and its `i` that neuron's index (in synapse
    code, `i` is the presynaptic neuron's, `j` the postsynaptic one's)."""
    if at in ("self", "shared"):
        return e

    def moved(x):
        if isinstance(x, ir.Var) and x.at == "self":
            return _replace(x, at=at)
        if isinstance(x, ir.Special) and x.name == "i" and at == "post":
            return _replace(x, name="j")
        if isinstance(x, ir.Special) and x.name == "elem":  # a bare data array's entry of that neuron
            return _replace(x, name="i" if at == "pre" else "j")
        return x
    return ir.map_expr(moved, e)


def _ast_walk(e):
    yield e
    for name in getattr(e, "__dataclass_fields__", {}):
        v = getattr(e, name)
        if isinstance(v, ast.Expr):
            yield from _ast_walk(v)
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, ast.Expr):
                    yield from _ast_walk(x)


def _ast_walk_stmts(body):
    for s in body:
        yield s
        for name in ("body", "orelse"):
            yield from _ast_walk_stmts(getattr(s, name, ()) or ())


def _is_windows_drive(path: str) -> bool:
    return len(path) > 2 and path[1] == ":" and path[0].isalpha() and path[2] in "\\/"
