"""Each pass on a small hand-built IR, compared with ==; verify() after each."""
import pytest

from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir
from snndsl.ir.verify import verify
from snndsl.passes import PIPELINE, fold_constants


def module(*stmts, vars_=(ir.StateVar("w", "f", False, "1"),)):
    g = ir.Group("S", "poisson", 3, vars_, init=tuple(stmts), rate=ir.Const(0.0))
    return ir.Module("m", "hash", 1e-4, 0, (), (), (g,), (), (), ())


W = ir.Var("S", "w")


def test_fold_constants_folds_and_simplifies():
    before = module(ir.Assign(W, ir.Binary("+", ir.Binary("*", W, ir.Binary("/", ir.Const(2.0), ir.Const(2.0))),
                                           ir.Binary("-", ir.Const(1.0), ir.Const(1.0)))))
    after = fold_constants(before)
    verify(after)
    assert after.groups[0].init == (ir.Assign(W, W),)
    assert before.groups[0].init != after.groups[0].init  # the input is not mutated


def test_fold_constants_keeps_what_depends_on_run_time():
    stmt = ir.Assign(W, ir.Binary("*", W, ir.Call("exp", (ir.Binary("*", ir.Const(-50.0), ir.Special("t")),))))
    assert fold_constants(module(stmt)).groups[0].init == (stmt,)


def test_fold_constants_integer_and_boolean_results():
    e = ir.Binary("and", ir.Binary("<", ir.Const(1, "i"), ir.Const(2, "i"), "b"), ir.Const(True, "b"), "b")
    m = fold_constants(module(ir.If(e, (ir.Assign(W, ir.Binary("%", ir.Const(-7, "i"), ir.Const(3, "i"), "i")),))))
    stmt = m.groups[0].init[0]
    assert stmt.cond == ir.Const(True, "b")
    assert stmt.body[0].value == ir.Const(2, "i")  # Python's sign rule for %


def test_fold_constants_leaves_division_by_zero_to_run_time():
    e = ir.Binary("/", ir.Const(1.0), ir.Const(0.0))
    assert fold_constants(module(ir.Assign(W, e))).groups[0].init[0].value == e


def test_pipeline_is_a_tuple_of_pure_functions():
    m = module(ir.Assign(W, ir.Binary("+", W, ir.Const(0.0))))
    for p in PIPELINE:
        out = p(m)
        verify(out)
        assert p(m) == out


def test_verify_rejects_broken_ir():
    with pytest.raises(InternalError, match="unknown variable S.v"):
        verify(module(ir.Assign(ir.Var("S", "v"), ir.Const(1.0))))
    with pytest.raises(InternalError, match="undeclared local"):
        verify(module(ir.Assign(W, ir.Local("k"))))
    with pytest.raises(InternalError, match="sharedness"):
        verify(module(ir.Assign(ir.Var("S", "w", "shared"), ir.Const(1.0))))
