"""Check: the synapses a model asks for fit in memory (issue 7, item 11).

Takes the checked model, returns diagnostics at each `connect:` line whose
number of synapses is known at compile time: `all` and `one_to_one` exactly,
`rand() < p` (alone or and-ed with a condition, p a constant) as the expected
count p * pairs, an upper bound when and-ed. Each synapse costs its indices (32
bytes: the two neuron numbers, and at each end the CSR entry: synapse number
and neuron at the other end) plus its stored variables.

- error E0504 when the synapse numbers overflow their type (per-synapse delays
  queue synapse numbers as int32: at most 2^31 - 1 synapses), or the bytes
  exceed what a 64-bit process can address (2^47 bytes, 128 TiB: the user
  address space of x86-64 and arm64 Linux) -- the same on every machine;
- warning W0104 when the bytes exceed this machine's physical memory (a
  warning, because a compile must not depend on the machine it runs on).
"""
from __future__ import annotations

import os

from snndsl.diagnostics import Code, Diagnostic, error, warning
from snndsl.ir import nodes as ir
from snndsl.ir.connectivity import sparse_condition
from snndsl.semantics import model as m

ADDRESS_SPACE = 2 ** 47  # bytes
INDEX_BYTES = 32  # pre, post (int32); per end: synapse number (int64), other end (int32)
INT32_MAX = 2 ** 31 - 1


def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def bytes_per_synapse(g: m.Group, model: m.Model) -> int:
    frozen = {v for grp, v in model.frozen if grp == g.name}
    kinds = (g.delay_kind,) + tuple(p.delay_kind for p in g.pathways)
    size = INDEX_BYTES + 4 * kinds.count("heterogeneous")  # each pathway's delay per synapse
    if any(v.event_driven for v in g.variables):
        size += 8  # the last update's time
    for v in g.variables:
        if v.shared or v.kind == "subexpr":
            continue
        size += {"f": 4 if model.precision == "single" else 8, "i": 4, "b": 1}.get(v.dtype, 8)
        size += v.name in frozen  # the freeze mask
    return size


def synapse_count(g: m.Group, sizes: dict[str, int]) -> tuple[float, str] | None:
    """(number of synapses, how it is known) when known at compile time."""
    n_pre, n_post = sizes.get(g.source), sizes.get(g.target)
    if n_pre is None or n_post is None:
        return None
    if g.source_range:  # between subgroups: their neurons only
        n_pre = g.source_range[1] - g.source_range[0]
    if g.target_range:
        n_post = g.target_range[1] - g.target_range[0]
    if g.connect in ("range", "target"):  # generator connect: known for `all times N`, N a constant
        times = g.connect_times
        if g.connect == "range" and isinstance(g.connect_choose, ir.Const) and g.connect_cond is None and (
                times is None or isinstance(times, ir.Const)):  # K a row, made times times
            count = n_pre * int(g.connect_choose.value) * (int(times.value) if times is not None else 1)
            return float(max(count, 0)), f"connect: choose {int(g.connect_choose.value)} makes {count:.3g}"
        if g.connect == "range" and g.connect_choose is None and g.connect_lo is None and g.connect_cond is None and (
                times is None or isinstance(times, ir.Const)):
            count = n_pre * n_post * (int(times.value) if times is not None else 1)
            return float(max(count, 0)), f"connect: all times {int(times.value) if times else 1} makes {count:.3g}"
        return None
    if g.connect == "all":
        return float(n_pre * n_post), f"connect: all makes {n_pre * n_post:.3g}"
    if g.connect == "one_to_one":
        return float(min(n_pre, n_post)), f"connect: one_to_one makes {min(n_pre, n_post):.3g}"
    sparse = sparse_condition(g.connect_cond) if g.connect == "cond" else None
    if sparse is not None and isinstance(sparse[0], ir.Const):
        p = min(max(float(sparse[0].value), 0.0), 1.0)
        bound = "at most " if sparse[1] is not None else ""
        return p * n_pre * n_post, f"connect: rand() < {sparse[0].value:g} makes {bound}about {p * n_pre * n_post:.3g}"
    return None


def _size(n: float) -> str:
    for unit, scale in (("PiB", 2 ** 50), ("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.3g} bytes"


def check_connectivity(model: m.Model, memory: int | None = None) -> list[Diagnostic]:
    memory = physical_memory() if memory is None else memory
    sizes = {g.name: g.size for g in model.groups if g.kind != "synapses" and g.size is not None}
    out = []
    for g in model.groups:
        if g.kind != "synapses":
            continue
        known = synapse_count(g, sizes)
        if known is None:
            continue
        count, how = known
        per = bytes_per_synapse(g, model)
        total = count * per
        what = f"{how} synapses in '{g.name}' ({g.source} -> {g.target}), {_size(total)} at {per} bytes each"
        span = g.connect_span or g.span
        if "heterogeneous" in (g.delay_kind, *(p.delay_kind for p in g.pathways)) and count > INT32_MAX:
            out.append(error(Code.TOO_LARGE, f"{what}: with per-synapse delays at most 2^31 - 1 synapses "
                             "are possible (the spike queue holds 32-bit synapse numbers)", span))
        elif total > ADDRESS_SPACE:
            out.append(error(Code.TOO_LARGE, f"{what}: more than a 64-bit process can address "
                             f"({_size(ADDRESS_SPACE)})", span))
        elif memory and total > memory:
            out.append(warning(Code.WONT_FIT, f"{what}: more than this machine's memory ({_size(memory)}); "
                               "the run will fail when it connects", span))
    return out
