"""Decisions every backend needs, made once on the final IR and written into
it as typed fields (`snndsl compile --emit ir` shows them, `ir.verify`
checks them). Unlike the optimizer's passes these always run, `--no-opt`
or not: they change how the program draws its random numbers and which step
function a run uses, not what the model computes.

- `choose_poisson_sampling`: a Poisson group whose rates stay fixed during a
  run (constants, parameters, `i`, data, variables only phases and `init`
  write) draws, per source, the step of its next spike a geometric number of
  steps ahead ("skip ahead": the same Bernoulli process with p = rate dt,
  memoryless, so it is redrawn whenever a run starts); otherwise, or on a
  clock of its own (`dt:`), one uniform number per source and step of its
  clock ("per step").
- `specialise_runs`: each `run` lists the variables frozen in every element
  while it runs (after a `freeze G.X` without selection, until an `unfreeze
  G.X[...]`), known only for straight-line protocol code: a freeze inside a
  loop or an `if` does not count, an unfreeze anywhere in it does. A backend
  gives such runs a step function without any write to them.
- `exact_factors_each_step`: an exact step whose coefficients change
  during a run (a variable the step's code writes or sums onto, another
  group's variable) makes each element's factors in each step, from the
  values then, as Brian2 evaluates its closed form in each step; others make
  them when a run starts.
- `tabulate_decays`: each distinct rate a of a group's event-driven
  variables (dx/dt = a x + b) gets a table of exp(a k dt) over whole steps
  k, which advancing them to the current time reads instead of calling exp.
- `sequence_draws` (passes/sequence_draws.py): two draws among the
  operands of one operation are taken in a defined order, left to right
  (C leaves it open).
- `assign_streams` (passes/streams.py): the random stream of every draw,
  one per site that draws, numbered and named in the order of the model.
- `make_kernels` (passes/kernels.py): the schedule as loops with their
  code and all the above, which a backend renders.
- `split_advances` (passes/split_advances.py), on the kernels: a pathway
  brings the other side's traces up to the current time in a loop of its
  own, ahead of the event code (the same values, bit for bit).
- `share_work` (passes/share_work.py), on the kernels: which loops threads
  share, and how, so that any number of threads gives the same numbers.
"""
from __future__ import annotations

import dataclasses

from snndsl.ir import nodes as ir
from snndsl.ir.integrate import changes_in_runs
from snndsl.passes.kernels import make_kernels
from snndsl.passes.sequence_draws import sequence_draws
from snndsl.passes.share_work import share_work
from snndsl.passes.split_advances import split_advances
from snndsl.passes.streams import assign_streams

SAMPLINGS = ("per step", "skip ahead")


def written_in_steps(m: ir.Module) -> set[tuple[str, str]]:
    """(group, variable) pairs some step code (event code, updates, resets,
    custom events' code, every blocks, sums, Poisson inputs) writes: by assignments, and by the
    exact steps and trace advances, which write their variables."""
    out = {(s.group, s.var) for g in m.groups for s in g.summed}
    for g in m.groups:
        for s in ir.walk((g.on_pre, g.on_post, g.on_pre_spike, g.on_post_spike, g.update, g.reset, g.every,
                          g.inputs, g.pathways, g.events)):
            if isinstance(s, ir.Assign):
                out.add((s.target.group, s.target.name))
            elif isinstance(s, ir.LinearStep):
                out |= {(s.group, name) for name in s.vars}
            elif isinstance(s, ir.Advance):
                out |= {(s.group, name) for name in (*s.vars, s.clock)}
    return out


def rate_fixed_during_runs(g: ir.Group, written: set[tuple[str, str]]) -> bool:
    for n in ir.walk(g.rate):
        if isinstance(n, (ir.Rand, ir.Reduce, ir.Local, ir.Temp)):
            return False
        if isinstance(n, ir.Special) and n.name not in ("i", "elem"):
            return False
        if isinstance(n, ir.Var) and (n.group != g.name or (n.group, n.name) in written):
            return False
    return True


def choose_poisson_sampling(m: ir.Module) -> ir.Module:
    written = written_in_steps(m)  # once per model: per Poisson group, it made compiling quadratic
    groups = tuple(dataclasses.replace(g, sampling="skip ahead" if g.clock == 1 and rate_fixed_during_runs(g, written)
                                       else "per step")
                   if g.kind == "poisson" else g for g in m.groups)
    return dataclasses.replace(m, groups=groups)


def specialise_runs(m: ir.Module) -> ir.Module:
    def unfrozen_in(body) -> set:
        return {(n.group, n.var) for n in ir.walk(body) if isinstance(n, ir.Freeze) and not n.frozen}

    def visit(body, frozen: frozenset) -> tuple[tuple[ir.Stmt, ...], frozenset]:
        out = []
        for s in body:
            if isinstance(s, ir.Freeze):
                whole = s.where is None and s.lo is None and s.hi is None
                if s.frozen and whole:
                    frozen = frozen | {(s.group, s.var)}
                elif not s.frozen:
                    frozen = frozen - {(s.group, s.var)}
            elif isinstance(s, ir.Run):
                s = dataclasses.replace(s, frozen=tuple(sorted(frozen)))
            elif isinstance(s, (ir.For, ir.While)):
                frozen = frozen - unfrozen_in(s.body)
                s = dataclasses.replace(s, body=visit(s.body, frozen)[0])
            elif isinstance(s, ir.If):
                frozen = frozen - unfrozen_in((s.body, s.orelse))
                s = dataclasses.replace(s, body=visit(s.body, frozen)[0], orelse=visit(s.orelse, frozen)[0])
            out.append(s)
        return tuple(out), frozen

    frozen: frozenset = frozenset()
    phases = []
    for phase in m.phases:
        body, frozen = visit(phase.body, frozen)
        phases.append(dataclasses.replace(phase, body=body))
    return dataclasses.replace(m, phases=tuple(phases))


def exact_factors_each_step(m: ir.Module) -> ir.Module:
    written = written_in_steps(m)

    def decide(s):
        if isinstance(s, ir.LinearStep) and s.per_element:
            return dataclasses.replace(s, per_step=changes_in_runs(s, written))
        return s
    groups = tuple(dataclasses.replace(g, update=tuple(decide(s) for s in g.update)) for g in m.groups)
    return dataclasses.replace(m, groups=groups)


def tabulate_decays(m: ir.Module) -> ir.Module:
    tables: list[tuple[str, ir.Expr]] = []
    for g in m.groups:
        for v in g.vars:
            a = v.decay[0] if v.decay is not None else None
            if a is not None and not ir.is_zero(a) and (g.name, a) not in tables:
                tables.append((g.name, a))
    return dataclasses.replace(m, decay_tables=tuple(tables))


DECISIONS = (choose_poisson_sampling, exact_factors_each_step, specialise_runs, tabulate_decays, sequence_draws, assign_streams, make_kernels,
             split_advances, share_work)
