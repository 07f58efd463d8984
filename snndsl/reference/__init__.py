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
the `.snn` place, E0901), before anything runs: random numbers (their
streams are numbered by the C backend in code-generation order, not yet in
the IR), snapshots, and `precision = single`.
"""
from __future__ import annotations

import numpy as np

from snndsl.diagnostics import Code, Diagnostic, error
from snndsl.ir import nodes as ir
from snndsl.reference.interpreter import Machine
from snndsl.reference.kernels import RunFailure
from snndsl.reference.protocol import Protocol

__all__ = ["Engine", "RunFailure", "unsupported"]

WHY_RANDOM = ("the random streams of a model are numbered by the C backend as it generates code; the reference "
              "backend draws random numbers once the IR numbers them")


def unsupported(module: ir.Module, precision_span=None) -> list[Diagnostic]:
    """What the reference backend cannot run in `module`, each at its place."""
    out = []
    if module.precision != "double":
        out.append(error(Code.UNSUPPORTED, "the reference backend computes in double precision only; "
                         "'precision = single' needs the C backend", precision_span,
                         "run with --backend c (backend=\"c\" in Python), or remove 'precision = single'"))
    seen = set()
    for mon in module.monitors:
        if mon.recorded:
            out.append(error(Code.UNSUPPORTED, "the reference backend does not record variables at spikes yet",
                             mon.span, "run with --backend c (backend=\"c\" in Python)"))
        if mon.kind != "state" and mon.hi is not None:
            out.append(error(Code.UNSUPPORTED, "the reference backend does not monitor subgroups' spikes yet",
                             mon.span, "run with --backend c (backend=\"c\" in Python)"))
    for g in module.groups:
        if g.source_range or g.target_range:
            out.append(error(Code.UNSUPPORTED, "the reference backend does not connect subgroups yet", g.span,
                             "run with --backend c (backend=\"c\" in Python)"))
        for s in g.summed:
            out.append(error(Code.UNSUPPORTED, "the reference backend does not run summed variables yet", s.span,
                             "run with --backend c (backend=\"c\" in Python)"))
        for block in g.every:
            out.append(error(Code.UNSUPPORTED, "the reference backend does not run 'every' blocks yet", block.span,
                             "run with --backend c (backend=\"c\" in Python)"))
        if g.kind == "poisson":
            out.append(error(Code.UNSUPPORTED, f"the reference backend does not run Poisson groups yet ('{g.name}' "
                             "draws random numbers)", g.span, WHY_RANDOM))
    for node in ir.walk((module.groups, module.phases, module.params)):
        if isinstance(node, ir.Rand) and node.span not in seen:
            seen.add(node.span)
            name = "rand()" if node.kind == "uniform" else "randn()"
            out.append(error(Code.UNSUPPORTED, f"the reference backend does not draw random numbers yet ({name})",
                             node.span, WHY_RANDOM))
        elif isinstance(node, (ir.StoreState, ir.RestoreState)):
            what = "store state" if isinstance(node, ir.StoreState) else "restore state"
            out.append(error(Code.UNSUPPORTED, f"the reference backend does not take snapshots ('{what}')",
                             node.span, "run with --backend c (backend=\"c\" in Python)"))
    return out


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

    def synapse_ends(self, group: str) -> tuple[np.ndarray, np.ndarray]:
        self.machine.setup()
        s = self.machine.syn[group]
        return s.pre.astype(np.int32), s.post.astype(np.int32)
