"""The reference backend: the optimized IR module interpreted with numpy.

Slow, simple and exact: the oracle the C backend and every optimizer pass
are tested against (tests/reference/), and what runs when no C compiler is
installed. It takes the `ir.Module` the C backend receives (after
`driver.optimize` and `driver.decide`) and gives the same results: the same
manifest and arrays, for `results.from_arrays`.

    interpreter.py  the simulation's state, setup and the time step
    kernels.py      event code over many elements at once, in the C's order
    protocol.py     phases and their statements
    rng.py          the C runtime's random numbers, bit for bit
    output.py       a results folder, as the C writes it

`unsupported(module)` lists what this backend refuses (as diagnostics with
the `.snn` place, E0901), before anything runs: snapshots, `precision =
single`, random numbers in the few places whose order of draws within the
C's loop it does not follow (a refractory period, a Poisson rate, the
bounds of a range), and two draws in the operands of one operation, whose
order C leaves unspecified.
"""
from __future__ import annotations

import numpy as np

from snndsl.diagnostics import Code, Diagnostic, error
from snndsl.ir import nodes as ir
from snndsl.reference.interpreter import Machine
from snndsl.reference.kernels import RunFailure
from snndsl.reference.protocol import Protocol

__all__ = ["Engine", "RunFailure", "unsupported"]


def unsupported(module: ir.Module, precision_span=None) -> list[Diagnostic]:
    """What the reference backend cannot run in `module`, each at its place."""
    out = []
    if module.precision != "double":
        out.append(error(Code.UNSUPPORTED, "the reference backend computes in double precision only; "
                         "'precision = single' needs the C backend", precision_span,
                         "run with --backend c (backend=\"c\" in Python), or remove 'precision = single'"))
    for g in module.groups:
        # the C draws these in an order within the element loop the reference does not follow
        for what, e in (("refractory period", g.refractory), ("Poisson rate", g.rate)):
            if e is not None and any(isinstance(n, ir.Rand) for n in ir.walk(e)):
                out.append(error(Code.UNSUPPORTED, f"the reference backend does not draw random numbers in a "
                                 f"{what} ('{g.name}')", e.span or g.span,
                                 "run with --backend c (backend=\"c\" in Python)"))
    for node in ir.walk((module.groups, module.phases, module.params)):
        if isinstance(node, (ir.StoreState, ir.RestoreState)):
            what = "store state" if isinstance(node, ir.StoreState) else "restore state"
            out.append(error(Code.UNSUPPORTED, f"the reference backend does not take snapshots ('{what}')",
                             node.span, "run with --backend c (backend=\"c\" in Python)"))
        elif isinstance(node, ir.Expr) and (rand := _unsequenced(node)) is not None:
            out.append(error(Code.UNSUPPORTED, "two random numbers drawn in the operands of one operation: C leaves "
                             "the order of their draws unspecified, so the reference backend cannot know it",
                             rand.span or node.span, "draw them in separate statements, or run with --backend c"))
        elif isinstance(node, (ir.GroupAssign, ir.Freeze)) and any(
                isinstance(n, ir.Rand) for n in ir.walk((node.lo, node.hi))):
            out.append(error(Code.UNSUPPORTED, "the reference backend does not draw random numbers in the bounds "
                             "of a range", node.span, "run with --backend c (backend=\"c\" in Python)"))
    return out


def _draws(e) -> bool:
    return any(isinstance(n, ir.Rand) for n in ir.walk(e))


def _unsequenced(e: ir.Expr) -> ir.Rand | None:
    """A draw in `e` unsequenced with another, directly at `e`: two operands
    of one operator, or two arguments of one call, both drawing (C may
    evaluate them in either order). `and` / `or` evaluate left, then right;
    `where` its condition, then one side: those are sequenced."""
    if isinstance(e, ir.Binary) and e.op not in ("and", "or"):
        parts = (e.left, e.right)
    elif isinstance(e, ir.Call) and e.func != "where":
        parts = e.args
    elif isinstance(e, ir.DataAt):
        parts = e.indices
    else:
        return None
    drawing = [p for p in parts if _draws(p)]
    if len(drawing) < 2:
        return None
    return next(n for n in ir.walk(drawing[1]) if isinstance(n, ir.Rand))


class Engine:
    """One simulation: the machine and its protocol, driven as the C's snn_sim_* API."""

    def __init__(self, module: ir.Module):
        self.module = module
        self.machine = Machine(module)
        self.protocol = Protocol(self.machine)

    def set_param(self, name: str, text: str) -> None:
        self.machine.set_param(name, text)

    def set_data(self, name: str, path: str) -> None:
        self.machine.set_data(name, path)

    def set_seed(self, seed: int) -> None:
        self.machine.seed = seed

    def setup(self) -> None:
        self.machine.setup()

    def run(self) -> None:
        """The rest of the protocol, once (snn_sim_run)."""
        if self.protocol.ran:
            raise RunFailure("the protocol of a simulation runs once; create a new one")
        self.protocol.ran = True
        self.protocol.run_phases(self.protocol.next_phase, len(self.module.phases))

    def run_phase(self, k: int) -> None:
        """Phase k, the next one not run yet (snn_sim_run_phase)."""
        names = [p.name for p in self.module.phases]
        if self.protocol.ran or k < self.protocol.next_phase:
            raise RunFailure(f"phase '{names[k]}' has run: each phase of a simulation runs once, in order; create "
                             "a new one")
        if k > self.protocol.next_phase:
            raise RunFailure(f"phase '{names[k]}' comes after phase '{names[self.protocol.next_phase]}', which has "
                             "not run: the phases run in the protocol's order")
        self.protocol.run_phases(k, k + 1)

    def advance(self, duration: float) -> None:
        """The clock advanced outside the protocol (snn_sim_advance)."""
        self.machine.setup()
        import time
        t0 = time.perf_counter()
        try:
            self.protocol.run_for(duration, "advance")
        finally:
            self.machine.wall_run += time.perf_counter() - t0

    def manifest(self) -> dict:
        return self.machine.manifest()

    def arrays(self) -> dict[str, np.ndarray]:
        return self.machine.arrays()

    def variable(self, group: str, name: str) -> np.ndarray:
        """The storage of a variable, to read and write between runs (shared: shape ())."""
        self.machine.setup()
        array = self.machine.vars[(group, name)]
        return array.reshape(()) if self.machine.state_var(group, name).shared else array

    def delay_steps(self, group: str, pathway: str) -> np.ndarray:
        """A pathway's delays in steps: one (shape ()) or one per synapse."""
        self.machine.setup()
        return np.asarray(self.machine.syn[group].queue_of(pathway).delay_steps)

    def synapse_ends(self, group: str) -> tuple[np.ndarray, np.ndarray]:
        self.machine.setup()
        return self.machine.synapse_ends(group)
