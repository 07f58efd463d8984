"""Pass: do not advance a trace whose value is about to be replaced.

Event code that resets a trace (`a_pre = 1` in Diehl & Cook's `on pre`)
starts, as lowered, by bringing the trace up to the current time -- a decay
factor and a multiplication per synapse event whose result nothing reads.
Such a variable is taken out of the `advance`: the results stay the same bit
for bit, since the value it would have computed is overwritten before
anything reads it.

A variable of an `advance` is skipped when, after it at the top level of the
same code, some statement assigns it a value that does not read it, and no
statement between reads it (a read anywhere inside, under an `if` too,
counts; a write under an `if` neither kills nor reads it). Not for a
variable some phase freezes: its write may be skipped for a frozen element,
which then keeps the advanced value. An `advance` left with no variables
goes; its clock is still set where the code sets it.
"""
from __future__ import annotations

from dataclasses import replace

from snndsl.ir import nodes as ir
from snndsl.passes.remove_dead_state import _reads

EVENT_CODE = ("on_pre", "on_post", "on_pre_spike", "on_post_spike")


def _overwritten(name: str, group: str, rest: tuple[ir.Stmt, ...]) -> bool:
    """`group.name` is assigned at the top level of `rest` before anything in it reads it."""
    for s in rest:
        read: set[tuple[str, str]] = set()
        _reads(s, read)
        if (group, name) in read:
            return False
        if isinstance(s, ir.Assign) and (s.target.group, s.target.name) == (group, name):
            return True
    return False


def _skip(body: tuple[ir.Stmt, ...], g: ir.Group) -> tuple[ir.Stmt, ...]:
    out: list[ir.Stmt] = []
    for k, s in enumerate(body):
        if isinstance(s, ir.Advance):
            kept = tuple(v for v in s.vars
                         if g.var(v) is None or g.var(v).freezable or not _overwritten(v, s.group, body[k + 1:]))
            if not kept:
                continue
            s = replace(s, vars=kept)
        out.append(s)
    return tuple(out)


def skip_overwritten(m: ir.Module) -> ir.Module:
    groups = []
    for g in m.groups:
        changes = {name: _skip(getattr(g, name), g) for name in EVENT_CODE}
        changes["pathways"] = tuple(replace(p, body=_skip(p.body, g)) for p in g.pathways)
        groups.append(replace(g, **changes) if any(changes[n] != getattr(g, n) for n in changes) else g)
    return replace(m, groups=tuple(groups))
