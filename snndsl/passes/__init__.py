"""Optimization passes: each a pure function `ir.Module -> ir.Module`.

`PIPELINE` is the order the driver applies them in; `ir.verify` runs after
each. An empty pipeline must give the same results (the tests compare).
"""
from snndsl.passes.fold_constants import fold_constants
from snndsl.passes.hoist_traces import hoist_traces
from snndsl.passes.remove_dead_state import remove_dead_state

PIPELINE = (fold_constants, hoist_traces, remove_dead_state)
