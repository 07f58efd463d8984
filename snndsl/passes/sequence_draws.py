"""Random draws in a defined order: `v = rand() - 2 * rand()`.

C does not fix the order in which the operands of one operator, or the
arguments of one call, are evaluated: with two draws among them, gcc and
clang may take the numbers from the stream in opposite orders, and the
reference backend could not know which. So in group code (init, updates,
resets, event code, `every` blocks), each drawing operand of such an
operation but the last is computed first, into a `Let`, left to right; the
statement then reads the temporaries. Draws that only happen on one side of
`where`, `and` or `or` stay where they are (moving them would draw numbers
the model does not), and so does an operation among them.
"""
from __future__ import annotations

import dataclasses
import itertools

from snndsl.ir import nodes as ir

BODIES = ("init", "update", "reset", "on_pre", "on_post", "on_pre_spike", "on_post_spike")


def _draws(e) -> bool:
    return any(isinstance(n, ir.Rand) for n in ir.walk(e))


def _operands(e: ir.Expr) -> tuple[str, ...] | None:
    """The fields of `e` whose evaluation order C leaves open, or None."""
    if isinstance(e, ir.Binary) and e.op not in ("and", "or"):
        return ("left", "right")
    if isinstance(e, ir.Call) and e.func != "where":
        return ("args",)
    if isinstance(e, ir.DataAt):
        return ("indices",)
    return None


def _sequence(e: ir.Expr, lets: list[ir.Let], names) -> ir.Expr:
    """`e` with the drawing operands of its unsequenced operations moved
    into `lets` (all but the last of each), innermost first."""
    if not _draws(e):
        return e
    if isinstance(e, ir.Call) and e.func == "where":  # only the condition is sure to run
        return dataclasses.replace(e, args=(_sequence(e.args[0], lets, names),) + e.args[1:])
    if isinstance(e, ir.Binary) and e.op in ("and", "or"):
        return dataclasses.replace(e, left=_sequence(e.left, lets, names))
    fields = _operands(e)
    if fields is None:
        return e
    parts: list[ir.Expr] = []
    for f in fields:
        value = getattr(e, f)
        parts += list(value) if isinstance(value, tuple) else [value]
    parts = [_sequence(p, lets, names) for p in parts]
    drawing = [k for k, p in enumerate(parts) if _draws(p)]
    for k in drawing[:-1]:
        name = next(names)
        lets.append(ir.Let(name, parts[k], getattr(parts[k], "span", None)))
        parts[k] = ir.Temp(name, parts[k].dtype)
    if isinstance(e, ir.Binary):
        return dataclasses.replace(e, left=parts[0], right=parts[1])
    return dataclasses.replace(e, **{fields[0]: tuple(parts)})


def _body(body: tuple[ir.Stmt, ...], names) -> tuple[ir.Stmt, ...]:
    out: list[ir.Stmt] = []
    for s in body:
        lets: list[ir.Let] = []
        if isinstance(s, ir.Assign):
            s = dataclasses.replace(s, value=_sequence(s.value, lets, names))
        elif isinstance(s, ir.Let):
            s = dataclasses.replace(s, value=_sequence(s.value, lets, names))
        elif isinstance(s, ir.If):
            s = dataclasses.replace(s, cond=_sequence(s.cond, lets, names), body=_body(s.body, names),
                                    orelse=_body(s.orelse, names))
        out += lets
        out.append(s)
    return tuple(out)


def sequence_draws(m: ir.Module) -> ir.Module:
    groups = []
    for g in m.groups:
        names = (f"_draw{k}" for k in itertools.count())
        changes = {f: _body(getattr(g, f), names) for f in BODIES if _draws(getattr(g, f))}
        if any(_draws((e.once, e.body)) for e in g.every):
            changes["every"] = tuple(dataclasses.replace(e, once=_body(e.once, names), body=_body(e.body, names))
                                     for e in g.every)
        if any(_draws(e.body) for e in g.events):
            changes["events"] = tuple(dataclasses.replace(e, body=_body(e.body, names)) for e in g.events)
        if any(_draws(p.body) for p in g.pathways):
            changes["pathways"] = tuple(dataclasses.replace(p, body=_body(p.body, names)) for p in g.pathways)
        groups.append(dataclasses.replace(g, **changes) if changes else g)
    return dataclasses.replace(m, groups=tuple(groups))
