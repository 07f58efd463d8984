"""Connection conditions: which ones can be drawn by skipping ahead.

Shared by the checker (the expected number of synapses, known at compile
time) and the C view (the connect code): a condition `rand() < p` -- alone,
or and-ed with a condition that draws no random number -- with p the same
for every pair is one Bernoulli(p) trial per pair, so the pairs that pass it
can be drawn directly, skipping a Geometric(p) number of pairs between two.
"""
from __future__ import annotations

from snndsl.ir import nodes as ir


def pair_free(e: ir.Expr) -> bool:
    """Whether `e` has one value for every pair of a connection (constants and
    parameters only): no i, j, neuron variables, data or random numbers."""
    return not any(isinstance(n, (ir.Special, ir.Var, ir.Rand, ir.DataAt, ir.Reduce, ir.Local, ir.Temp))
                   for n in ir.walk(e))


def row_free(e: ir.Expr) -> bool:
    """Whether `e` has one value for every pair of a row (one presynaptic
    neuron): it reads i, pre.X, constants and parameters only, no j, post.X,
    synapse variables, data or random numbers."""
    for n in ir.walk(e):
        if isinstance(n, ir.Special) and n.name != "i" or isinstance(n, ir.Var) and n.at != "pre":
            return False
        if isinstance(n, (ir.Rand, ir.DataAt, ir.Reduce, ir.Local, ir.Temp)):
            return False
    return True


def _bernoulli(e: ir.Expr, free=pair_free) -> ir.Expr | None:
    """p, for `rand() < p` or `p > rand()` with p the same for every pair
    (for `free`=row_free: for every pair of a row)."""
    if isinstance(e, ir.Binary):
        if e.op == "<" and isinstance(e.left, ir.Rand) and e.left.kind == "uniform" and free(e.right):
            return e.right
        if e.op == ">" and isinstance(e.right, ir.Rand) and e.right.kind == "uniform" and free(e.left):
            return e.left
    return None


def sparse_condition(cond: ir.Expr | None, free=pair_free) -> tuple[ir.Expr, ir.Expr | None] | None:
    """(p, rest) for `rand() < p`, `rand() < p and REST` or `REST and rand() < p`
    with no rand() in REST (rest None for the first): the trial and the filter
    are independent, so the pairs may be drawn first and tested after. None
    for any other condition. With `free`=row_free, p may differ from row to
    row (Brian2's `sample(LO, HI, p=P)`): the pairs of a row are drawn by
    skipping ahead within the row."""
    if cond is None:
        return None
    p = _bernoulli(cond, free)
    if p is not None:
        return p, None
    if isinstance(cond, ir.Binary) and cond.op == "and":
        # within a row, `rand() < p and REST` may draw in REST too (the
        # efficient_gaussian_connectivity trick): REST is tested, and draws,
        # for the j's drawn, in their order; the trial and REST stay independent
        firsts = ((cond.left, cond.right),) if free is row_free else ()
        for a, b in ((cond.left, cond.right), (cond.right, cond.left)):
            p = _bernoulli(a, free)
            if p is not None and (not any(isinstance(n, ir.Rand) for n in ir.walk(b)) or (a, b) in firsts):
                return p, b
    return None
