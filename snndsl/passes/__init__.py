"""Optimization passes: each a pure function `ir.Module -> ir.Module`.

`PIPELINE` is the order the driver applies them in; `ir.verify` runs after
each. An empty pipeline (`--no-opt`) must give the same results up to
rounding (hoisted traces decay in another order; the tests compare to
1e-12). The decisions of passes/decide.py run after them, always.
"""
from snndsl.passes.fold_constants import fold_constants
from snndsl.passes.hoist_traces import hoist_traces
from snndsl.passes.remove_dead_state import remove_dead_state
from snndsl.passes.skip_overwritten import skip_overwritten
from snndsl.passes.uniform_reads import uniform_reads

PIPELINE = (fold_constants, hoist_traces, skip_overwritten, remove_dead_state, uniform_reads)
