"""Pass: fold constant subexpressions and trivial identities.

Units were already folded to SI factors by the checker; this folds what
they leave (`-x / (20 ms)` -> `x * -50.0` is NOT done: division is kept so
rounding matches Brian2's `x / tau` exactly), and removes `x * 1`, `x + 0`.
"""
from __future__ import annotations

from snndsl.ir import nodes as ir
from snndsl.ir.evaluate import NotConstant, evaluate


def _const(e: ir.Expr) -> bool:
    return isinstance(e, ir.Const)


def _fold(e: ir.Expr) -> ir.Expr:
    if isinstance(e, (ir.Unary, ir.Binary, ir.Call)) and all(
            _const(c) for c in _children(e)):
        try:
            value = evaluate(e)
        except NotConstant:
            return e
        if e.dtype == "i":
            value = int(value)
        elif e.dtype == "b":
            value = bool(value)
        else:
            value = float(value)
        return ir.Const(value, e.dtype, e.span)
    if isinstance(e, ir.Binary):
        left, right = e.left, e.right
        if e.op == "*" and _const(right) and right.value == 1 and e.dtype == left.dtype:
            return left
        if e.op == "*" and _const(left) and left.value == 1 and e.dtype == right.dtype:
            return right
        if e.op in ("+", "-") and _const(right) and right.value == 0 and e.dtype == left.dtype:
            return left
        if e.op == "+" and _const(left) and left.value == 0 and e.dtype == right.dtype:
            return right
    return e


def _children(e: ir.Expr):
    if isinstance(e, ir.Unary):
        return (e.operand,)
    if isinstance(e, ir.Binary):
        return (e.left, e.right)
    return e.args


def fold_constants(module: ir.Module) -> ir.Module:
    return ir.map_expr(_fold, module)
