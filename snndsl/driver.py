"""The pipeline, stage by stage; the only place the stages are chained.

parse -> check -> lower -> verify -> passes (verify after each) -> view ->
render -> cc -> cffi.
"""
from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import hashlib
import json
import numbers
import os
import re
import stat
import sys
import threading
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snndsl.build import cc
from snndsl.codegen.emit import render
from snndsl.codegen.view import build_view
from snndsl.diagnostics import Code, CompileError, Diagnostic, Error, InternalError, Span, error
from snndsl.ir import nodes as ir
from snndsl.ir import storage
from snndsl.ir.lower import lower
from snndsl.ir.verify import verify
from snndsl.passes import PIPELINE
from snndsl.passes.decide import DECISIONS
from snndsl.passes.distribute import distribute
from snndsl.progress import read as read_progress, reporter
from snndsl.results import Results, from_arrays
from snndsl.semantics.check import check
from snndsl.semantics.model import Model as CheckedModel
from snndsl.syntax import ast  # noqa: F401 - names the type of Frontend.ast
from snndsl.syntax.parse import parse_source, too_deep


class SimulationError(Error):
    """A run failed for a reason the user can fix (bad data, a bad --set, a
    bad argument to the Python API); its text is the command line's."""


@dataclass(frozen=True)
class Frontend:
    """Everything up to C text, for `check` and `compile --emit`."""

    source: str
    ast: ast.Module
    model: CheckedModel
    ir: ir.Module
    c_source: str
    warnings: tuple[Diagnostic, ...]


def read_source(path) -> tuple[str, str]:
    """The text of a model file. Only a regular file is read (a FIFO or a
    device would block or never end); text that is not UTF-8 is an error at
    the line and column of its first bad byte."""
    file = str(path)
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise CompileError([_unreadable(file, "no such file")]) from None
    except OSError as exc:
        raise CompileError([_unreadable(file, exc.strerror or str(exc))]) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise CompileError([_unreadable(file, "a folder" if stat.S_ISDIR(mode) else "not a regular file")])
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read()
    except OSError as exc:
        raise CompileError([_unreadable(file, exc.strerror or str(exc))]) from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8"), file
    except UnicodeDecodeError as exc:
        raise _not_utf8(file, data, exc) from None


def _unreadable(file: str, why: str) -> Diagnostic:
    return error(Code.RUNTIME_INPUT, f"cannot read model file '{file}': {why}", None)


def _not_utf8(file: str, data: bytes, exc: UnicodeDecodeError) -> CompileError:
    before = data[:exc.start]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    col = len(before[line_start:].decode("utf-8", "replace")) + 1
    text = data.decode("utf-8", "replace")
    span = Span(file, line, col, line, col + 1)
    d = error(Code.RUNTIME_INPUT, f"the model file is not UTF-8 text: byte 0x{data[exc.start]:02x} "
              f"cannot start or continue a character here", span,
              "save the file as UTF-8")
    return CompileError([d], {file: text})


def optimize(module: ir.Module, passes=PIPELINE) -> ir.Module:
    verify(module)
    for p in passes:
        module = p(module)
        verify(module)
    return module


def decide(module: ir.Module) -> ir.Module:
    """The decisions every backend needs (passes/decide.py), `--no-opt` or not."""
    for p in DECISIONS:
        module = p(module)
        verify(module)
    return module


# Every stage walks expression trees recursively; a generated model may
# hold a sum of thousands of terms. Past this depth the parser reports the
# expression as too deeply nested instead.
RECURSION_LIMIT = 20000


@contextlib.contextmanager
def _compiling():
    """The deep recursion limit, and no cyclic garbage collection: the front
    end builds millions of small acyclic objects, and the collector, run
    every few hundred allocations, scanned them all again and again (about
    40% of parsing a model of 10,000 groups). The previous state comes back
    after, whatever happens."""
    previous = sys.getrecursionlimit()
    was_enabled = gc.isenabled()
    sys.setrecursionlimit(max(previous, RECURSION_LIMIT))
    gc.disable()
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)
        if was_enabled:
            gc.enable()


def diagnose(source: str, file: str) -> tuple[ast.Module, CheckedModel, tuple[Diagnostic, ...]]:
    """Parse and check: every diagnostic a model can get comes from here (the
    later stages report none), so `snndsl check` stops after it."""
    with _compiling():
        tree = parse_source(source, file)
        try:
            model, warnings = check(tree, source)
        except RecursionError:
            raise CompileError([too_deep(file, source, tree)], {file: source}) from None
    return tree, model, tuple(warnings)


def frontend(source: str, file: str, passes=PIPELINE, ranks: bool = False) -> Frontend:
    """Check, lower, optimize and render a model. `ranks`: for a build that
    runs on MPI ranks (passes/distribute.py; cc.build(..., mpi=True))."""
    tree, model, warnings = diagnose(source, file)
    with _compiling():
        try:
            module = decide(optimize(lower(model), passes))
            if ranks:
                kinds = {g.name: g.kind for g in module.groups}
                for g in module.groups:
                    for how, end in (("onto", g.target), ("from", g.source)):
                        if g.kind == "synapses" and kinds.get(end) == "synapses":
                            raise CompileError([error(Code.UNSUPPORTED, f"'{g.name}' connects {how} the synapses of "
                                                      f"'{end}': such synapses do not run on ranks yet (run "
                                                      "on threads)", g.span)], {file: source})
                module = distribute(module)
                verify(module)
            c_source = render(build_view(module))
        except RecursionError:
            raise CompileError([too_deep(file, source, tree)], {file: source}) from None
    return Frontend(source, tree, model, module, c_source, warnings)


class _Sim:
    """Owns one C simulation; freed when no array of its results is alive."""

    def __init__(self, lib, ffi):
        self.lib, self.ffi = lib, ffi
        self.ptr = lib.snn_sim_new()
        if self.ptr == ffi.NULL:
            raise MemoryError("snn_sim_new failed")
        weakref.finalize(self, lib.snn_sim_free, self.ptr)

    def error(self) -> str:
        return self.ffi.string(self.lib.snn_sim_error(self.ptr)).decode("utf-8", "replace")


BACKENDS = ("c", "reference")


class BackendWarning(UserWarning):
    """No C compiler: the model runs on the reference backend (numpy), much slower."""


class Model:
    """A compiled model: `run()` it in-process, or use `.binary`.

    `backend`: "c" (the generated program, `artifact` its build) or
    "reference" (the IR interpreted with numpy, snndsl/reference/; no build)."""

    def __init__(self, fe: Frontend, artifact: cc.Artifact | None, file: str, backend: str = "c",
                 build_dir: str | None = None, passes=PIPELINE):
        self.frontend = fe
        self.artifact = artifact
        self.file = file
        self.backend = backend
        self.build_dir = build_dir  # absolute, or None for the cache
        self.passes = passes

    def __reduce__(self):
        """A model pickles as its source, compiled again where it is unpickled
        (once per process; a build already in the cache or the build folder
        is reused), so that it can be sent to other processes and machines:
        `snndsl.sweep`, or any executor. A machine of another kind builds its
        own binary (the build key names the processor)."""
        return _unpickle_model, (self.frontend.source, self.file, self.backend, self.build_dir, self.passes)

    @property
    def binary(self) -> Path:
        return self._built().binary

    @property
    def library(self) -> Path:
        return self._built().library

    def _built(self) -> cc.Artifact:
        if self.artifact is None:
            raise _fail("this model runs on the reference backend: it has no binary or library "
                        "(compile it with backend=\"c\")")
        return self.artifact

    @property
    def name(self) -> str:
        return self.frontend.ir.name

    def simulation(self, params: dict | None = None, seed: int | None = None, data: dict | None = None,
                   quiet: bool = True, progress=None, threads: int = 1) -> "Simulation":
        """A new simulation of this model in this process, not yet run."""
        kind = ReferenceSimulation if self.backend == "reference" else Simulation
        return kind(self, params, seed, data, quiet, progress, threads)

    def run(self, params: dict | None = None, seed: int | None = None, data: dict | None = None,
            quiet: bool = True, progress=None, threads: int = 1, ranks: int | None = None) -> Results:
        """Run the whole protocol in this process; the same seed gives the
        same numbers as the binary. `progress`: a function called with a
        `snndsl.Progress` a few times a second once a run lasts more than a
        second; without one, `quiet=False` shows a tqdm bar (if tqdm is
        installed) or a line on sys.stderr. `threads`: how many threads the
        time step runs on (0: every core); the numbers do not depend on it.
        `ranks`: run it on that many MPI ranks instead (a build for ranks,
        under mpiexec, in processes of their own), with the same numbers."""
        if ranks is not None:
            return self._run_on_ranks(_ranks(ranks), params, seed, data, quiet, threads)
        sim = self.simulation(params, seed, data, quiet, progress, threads)
        sim.run_protocol()
        return sim._results(copy=False)  # nothing can advance `sim` any more: views are safe

    def _run_on_ranks(self, ranks: int, params, seed, data, quiet: bool, threads) -> Results:
        """The protocol on `ranks` MPI ranks: the model built for ranks
        (passes/distribute.py, mpicc), run under mpiexec into a temporary
        results folder, read back into memory."""
        import shutil
        import signal
        import subprocess
        import tempfile

        from snndsl import cli
        from snndsl.results import load
        if self.backend != "c":
            raise _fail("ranks run the C backend: compile the model with backend=\"c\"")
        if _threads(threads) != 1:
            raise _fail("ranks run one thread a rank for now: leave out threads, or run on threads without ranks")
        try:
            binary = cc.build(frontend(self.frontend.source, self.file, self.passes, ranks=True).c_source,
                              mpi=True).binary
        except cc.NoMPIError as exc:
            raise _fail(str(exc)) from None
        args = [str(binary)]
        for name, value in (params or {}).items():
            args += ["--set", f"{name}={_param_text(name, value)}"]
        for name, path in (data or {}).items():
            args += ["--data", f"{name}={os.fsdecode(_path(path, f'data {name!r}'))}"]
        if seed is not None:
            args += ["--seed", str(_seed(seed))]
        folder = tempfile.mkdtemp(prefix="snndsl-ranks-")
        try:
            cmd, env = cli._mpiexec(ranks, [*args, "-o", folder, *(["-q"] if quiet else [])])
            proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                _, err = proc.communicate()
            except KeyboardInterrupt:  # every rank stops at the same step (SIGUSR1), then this stops too
                proc.send_signal(signal.SIGUSR1)
                proc.communicate()
                raise
            if proc.returncode != 0:
                lines = _model_lines(err)
                raise SimulationError("\n".join(lines) or f"error[E0601]: mpiexec failed with exit status "
                                      f"{proc.returncode}")
            if not quiet:  # what the ranks reported, but where the results went: nowhere a user will look
                print("".join(line + "\n" for line in _model_lines(err) if folder not in line), end="",
                      file=sys.stderr)
            return dataclasses.replace(load(folder), path=None)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class Simulation:
    """One simulation in this process: a value, several may coexist.

    `params` values are strings with a unit ("20 Hz"), checked against each
    parameter's dimension, or plain numbers for dimensionless parameters (a
    number is not taken as SI: a unit is never assumed); `data` maps data
    names to paths. Either run the protocol
    (`run_protocol`) or drive the clock yourself (`advance`), and take
    snapshots (`save_state` / `load_state`) to continue exactly later.
    """

    def __init__(self, model: Model, params=None, seed=None, data=None, quiet=True, progress=None, threads=1):
        from snndsl.build.ffi import ffi, load_library
        self.model = model
        threads = _threads(threads)
        self._progress = reporter(progress, quiet)
        self._ffi = ffi()
        self._lib = load_library(model.artifact)
        self._sim = _Sim(self._lib, self._ffi)
        lib, ptr = self._lib, self._sim.ptr
        for name, value in _mapping(params, "params").items():
            self._check(lib.snn_sim_set_param(ptr, _name(name, "params").encode(), _param_text(name, value).encode()))
        for name, path in _mapping(data, "data").items():
            self._check(lib.snn_sim_set_data(ptr, _name(name, "data").encode(), _path(path, f"--data {name}")))
        if seed is not None:
            lib.snn_sim_set_seed(ptr, _seed(seed))
        self._check(lib.snn_sim_set_threads(ptr, threads))
        lib.snn_sim_set_quiet(ptr, 1)  # progress is reported through Python (snndsl/progress.py)

    def _check(self, rc: int) -> None:
        if rc:
            raise SimulationError(self._sim.error())

    def run_protocol(self) -> "Simulation":
        """Run the model's phases (once), from wherever the clock stands."""
        self._check(self._run(lambda: self._lib.snn_sim_run(self._sim.ptr)))
        return self

    def advance(self, duration: float) -> "Simulation":
        """Advance the clock by `duration` seconds, outside the protocol."""
        seconds = _duration(duration)
        self._check(self._run(lambda: self._lib.snn_sim_advance(self._sim.ptr, seconds)))
        return self

    @property
    def phases(self) -> tuple[str, ...]:
        """The protocol's phases, in order."""
        return tuple(p.name for p in self.model.frontend.ir.phases)

    def run_phase(self, name: str) -> "Simulation":
        """Run one phase of the protocol: the next one not run yet (each phase
        runs once, in the protocol's order; `run_protocol` runs the rest)."""
        if name not in self.phases:
            raise _fail(f"the model has no phase {name!r}" + _did_you_mean(name, self.phases, "phases"))
        k = self.phases.index(name)
        self._check(self._run(lambda: self._lib.snn_sim_run_phase(self._sim.ptr, k)))
        return self

    def __getitem__(self, group: str) -> "GroupState":
        """A group's variables, to read and write between runs: `sim["exc"].v`."""
        groups = [g.name for g in self.model.frontend.ir.groups]
        if not isinstance(group, str) or group not in groups:
            raise _fail(f"the model has no group {group!r}" + _did_you_mean(group, groups, "groups"))
        return GroupState(self, group)

    def _variable(self, group: str, name: str) -> np.ndarray:
        """A writable view of the variable's storage (between runs only)."""
        f, lib, ptr = self._ffi, self._lib, self._sim.ptr
        out = f.new("snn_result_array *")
        for k in range(lib.snn_sim_n_vars(ptr)):
            self._check(lib.snn_sim_var(ptr, k, out))
            if f.string(out.file).decode() == f"{group}.{name}":
                view = _view(f, out, self._sim)
                view.flags.writeable = True  # the simulation's own memory, written between runs
                return view
        raise InternalError(f"no storage for {group}.{name}")

    def set(self, target: str, value, where: str | None = None) -> "Simulation":
        """Between runs, `sim.set("S.learned", 0, where="w > 0.3")`: as the
        protocol's `S.learned[w > 0.3] = 0`. `value` as for `sim["S"].learned
        = value`; `where`, a condition in the language, checked by its checker
        against the group (a misspelt name is the compiler's error, with "did
        you mean"), then evaluated for every element."""
        if not isinstance(target, str) or target.count(".") != 1:
            raise _fail(f"set takes a target 'GROUP.VARIABLE', not {target!r}")
        group, name = target.split(".")
        state = self[group]
        v = state._var(name)
        values = _values_for(target, v, value)
        storage = self._variable(group, name)
        if v.shared or storage.ndim == 0:
            if where is not None:
                raise _fail(f"{target} is shared: one value for the whole group, with no condition")
            if np.ndim(values) != 0:
                raise _fail(f"{target} is shared: it takes one value, not an array of shape {np.shape(values)}")
            storage[...] = values
            return self
        n = len(storage)
        if np.ndim(values) not in (0, 1) or (np.ndim(values) == 1 and len(values) != n):
            raise _fail(f"{target} has {n} values; assign one value or {n}, not an array of shape {np.shape(values)}")
        mask = np.ones(n, dtype=bool)
        if where is not None:
            mask = np.broadcast_to(np.asarray(self._condition(group, name, where), dtype=bool), (n,))
        storage[mask] = values[mask] if np.ndim(values) == 1 else values
        return self

    def _condition(self, group: str, name: str, where) -> np.ndarray:
        """`where` for each element of `group`: checked by appending
        `phase: GROUP.NAME[where] = NAME` to the model's text."""
        from snndsl.diagnostics import render_all
        from snndsl.ir.numpy_eval import Unsupported, evaluate
        if not isinstance(where, str) or "\n" in where or "\r" in where or "#" in where:
            raise _fail(f"where takes a condition on one line, such as 'w > 0.3', not {where!r}")
        fe = self.model.frontend
        phase = "snndsl_python_set"
        prefix = f"    {group}.{name}["
        text = fe.source + ("" if fe.source.endswith("\n") else "\n") + f"phase {phase}:\n{prefix}{where}] = {name}\n"
        line = text.count("\n")
        try:
            _, model, _ = diagnose(text, self.model.file)
        except CompileError as exc:
            moved = [dataclasses.replace(d, span=Span("where", 1, max(1, d.span.col - len(prefix)), 1,
                                                      max(2, d.span.end_col - len(prefix))))
                     if d.span is not None and d.span.line == line else d for d in exc.diagnostics]
            raise SimulationError(render_all(moved, {"where": where, self.model.file: fe.source})) from None
        body = next(p for p in model.phases if p.name == phase).body
        stmt = body[0] if len(body) == 1 else None
        if not (isinstance(stmt, ir.GroupAssign) and stmt.group == group and stmt.target.name == name
                and isinstance(stmt.value, ir.Var) and stmt.value.name == name and stmt.where is not None
                and stmt.lo is None and stmt.hi is None and len(model.phases) == len(fe.ir.phases) + 1):
            raise _fail(f"where takes a condition such as 'w > 0.3', not {where!r}")
        g = next(x for x in fe.ir.groups if x.name == group)
        ends = self._synapse_ends(group) if g.kind == "synapses" else None

        def var(x: ir.Var) -> np.ndarray:
            values = np.array(self._variable(x.group, x.name))
            if x.at in ("pre", "post") and ends is not None and x.group != group:
                return values[ends[0] if x.at == "pre" else ends[1]]
            return values

        def special(what: str) -> np.ndarray:
            n = len(self._variable(group, name))
            if what == "N":
                return np.asarray(n)
            if what == "dt":
                return np.asarray(fe.ir.dt)
            if ends is not None and what in ("i", "j"):
                return ends[0] if what == "i" else ends[1]
            return np.arange(n)

        params = self._param_values()
        try:
            return evaluate(stmt.where, var, lambda p: params[p], special)
        except Unsupported as exc:
            raise _fail(f"where {where!r}: {exc} cannot be evaluated between runs") from None

    def _param_values(self) -> dict[str, float]:
        """Every parameter's value in this simulation (SI)."""
        manifest = json.loads(self._ffi.string(self._lib.snn_sim_manifest(self._sim.ptr)).decode())
        return {name: p["value"] for name, p in manifest["params"].items()}

    def _synapse_ends(self, group: str) -> tuple[np.ndarray, np.ndarray]:
        """Copies of each synapse's presynaptic and postsynaptic neuron."""
        return np.array(self._variable(group, "i")), np.array(self._variable(group, "j"))

    def _delay_steps(self, group: str, pathway: str) -> np.ndarray:
        """A pathway's delays in steps, as the spike queue uses them."""
        return np.array(self._variable(group, storage.pathway_field(pathway, "delay_steps")))

    def _run(self, call) -> int:
        """`call` in a worker thread, reporting its progress from this one."""
        report = self._progress
        if report is None:
            return _run_interruptibly(call, self._lib, self._sim.ptr)
        try:
            return _run_interruptibly(call, self._lib, self._sim.ptr,
                                      lambda: report(read_progress(self._lib, self._ffi, self._sim.ptr)))
        finally:
            report.close()

    def save_state(self, path) -> None:
        self._check(self._lib.snn_sim_setup(self._sim.ptr))
        self._check(self._lib.snn_sim_save_state(self._sim.ptr, _path(path, "save_state")))

    def load_state(self, path) -> "Simulation":
        self._check(self._lib.snn_sim_load_state(self._sim.ptr, _path(path, "load_state")))
        return self

    def results(self) -> Results:
        """What the monitors and saves hold now, copied: a later `advance`,
        `run_protocol` or `load_state` grows or replaces the buffers, and
        leaves these arrays as they are. (`Model.run` returns views of the
        buffers, without a copy, since nothing can advance its simulation.)"""
        return self._results(copy=True)

    def _results(self, copy: bool) -> Results:
        f, lib, ptr = self._ffi, self._lib, self._sim.ptr
        text = lib.snn_sim_manifest(ptr)
        if text == f.NULL:
            raise MemoryError("could not build the results manifest")
        manifest = json.loads(f.string(text).decode())
        arrays = {}
        out = f.new("snn_result_array *")
        for k in range(lib.snn_sim_n_arrays(ptr)):
            self._check(lib.snn_sim_array(ptr, k, out))
            view = _view(f, out, self._sim)
            if copy:
                view = view.copy()
                view.flags.writeable = False
            arrays[f.string(out.file).decode()] = view
        return from_arrays(manifest, arrays)


class GroupState:
    """The variables of one group of a simulation, between runs.

    Reading `state.v` gives a copy of the values in SI units (one per element;
    a single value for a shared variable; for synapses also `i` and `j`, the
    pre- and postsynaptic neuron of each). Assigning writes them: a string
    with a unit ("-65 mV"), given to every element; a number or an array for
    a dimensionless variable; `(values, "mV")` for values in a unit. The
    dimension is checked, as for parameters; integer and boolean variables
    take whole numbers and truth values.
    """

    def __init__(self, sim: Simulation, group: str):
        object.__setattr__(self, "_sim", sim)
        object.__setattr__(self, "_group", next(g for g in sim.model.frontend.ir.groups if g.name == group))

    def _var(self, name: str):
        g = self._group
        v = g.var(name) if isinstance(name, str) else None
        if v is None or v.role != "state" and v.role != "event-driven":
            declared = next(x for x in self._sim.model.frontend.model.groups if x.name == g.name).var(name) \
                if isinstance(name, str) else None
            if declared is not None and declared.kind != "subexpr":
                raise _fail(f"{g.name}.{name} is never read, so the compiled model does not keep it "
                            "(compile with passes=() to keep every variable)")
            raise _fail(f"'{g.name}' has no variable {name!r}" + _did_you_mean(name, self._names(), "variables"))
        return v

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        g = self._group
        if g.kind == "synapses" and name in ("i", "j"):
            return self._sim._synapse_ends(g.name)[0 if name == "i" else 1]
        if g.kind == "synapses" and name == "delay":
            return self._delays("", g.delay_kind)
        if g.kind == "synapses" and name in {p.name for p in g.pathways} and g.var(name) is None:
            return PathwayState(self, g.pathway(name))
        self._var(name)
        return np.array(self._sim._variable(g.name, name))

    def _delays(self, pathway: str, kind: str) -> np.ndarray:
        """Each synapse's delay as the run uses it, in seconds: whole steps
        times dt (Brian2's S.delay, rounded as its spike queue rounds it); 0
        for a pathway without a delay."""
        n = len(self._sim._synapse_ends(self._group.name)[0])
        if kind == "none":
            return np.zeros(n)
        steps = self._sim._delay_steps(self._group.name, pathway)
        return np.broadcast_to(steps * self._sim.model.frontend.ir.dt, (n,)).astype(float)

    def __setattr__(self, name: str, value) -> None:
        if self._group.kind == "synapses" and name == "delay":
            raise _fail(f"{self._group.name}.delay is read only: the model's 'delay:' sets the delays, from "
                        "which the spike queues are sized (a parameter in it changes them for a new simulation)")
        self._sim.set(f"{self._group.name}.{name}", value)

    def _names(self) -> list[str]:
        return [x.name for x in self._group.vars if x.role in ("state", "event-driven")]

    def __dir__(self):
        return self._names()


class PathwayState:
    """A named pathway of a synapse group (`sim["S"].up`, Brian2's S.up):
    `delay`, each synapse's delay in seconds as the run uses it, read only."""

    def __init__(self, group: GroupState, pathway):
        object.__setattr__(self, "_group", group)
        object.__setattr__(self, "_pathway", pathway)

    @property
    def delay(self) -> np.ndarray:
        return self._group._delays(self._pathway.name, self._pathway.delay_kind)

    def __setattr__(self, name: str, value) -> None:
        raise _fail(f"{self._group._group.name}.{self._pathway.name}.{name} is read only: the model's "
                    f"'delay {self._pathway.name}:' sets the delays")


def _values_for(what: str, v, value) -> np.ndarray:
    """The SI values to store in variable `v`, from a user's value."""
    from snndsl import units
    unit, scale = "1", 1.0
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        value, unit = value
    elif isinstance(value, str):
        m = _QUANTITY.fullmatch(value)
        if _NUMBER.fullmatch(value):
            value = float(value)
        elif m is not None:
            value, unit = float(m.group(1)), m.group(2)
        else:
            raise _fail(f"{what}: {value!r} is not a number with a unit (e.g. '-65 mV')")
    if unit != "1":
        parsed = units.parse_suffix(unit.replace(" ", ""))
        if isinstance(parsed, str):
            raise _fail(f"{what}: unknown unit '{parsed}'")
        scale, dim = parsed
        unit = units.format_dim(dim)
    if unit != v.unit:
        def what_it_is(u: str) -> str:
            return "dimensionless" if u == "1" else f"in {u}"
        raise _fail(f"{what} is {what_it_is(v.unit)}, the value {what_it_is(unit)}"
                    + (" (give the unit: a string such as '10 mV', or (values, 'mV'))" if unit == "1" else ""))
    try:
        array = np.asarray(value, dtype=float) * scale
    except (TypeError, ValueError):
        raise _fail(f"{what} takes numbers, not {value!r}") from None
    if not np.all(np.isfinite(array)):
        raise _fail(f"{what}: the values must be finite numbers")
    if v.dtype == "i":
        if not np.all(array == np.round(array)) or np.any(np.abs(array) > 2**31 - 1):
            raise _fail(f"{what} is an integer variable: it takes whole numbers that fit 32 bits")
    elif v.dtype == "b":
        if not np.all((array == 0) | (array == 1)):
            raise _fail(f"{what} is a boolean variable: it takes true or false (1 or 0)")
    return array


def _did_you_mean(name, choices, what: str) -> str:
    from snndsl.diagnostics import closest
    close = closest(str(name), choices)
    return f" ({what}: {', '.join(choices) or 'none'})" + (f"; did you mean '{close}'?" if close else "")


_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")


# The Python API checks its arguments itself, with the command line's words,
# so that a mistake is a SimulationError and never a TypeError or an
# OverflowError from cffi.

def _fail(message: str) -> SimulationError:
    return SimulationError(f"error[E0601]: {message}")


def _mapping(value, what: str) -> dict:
    if value is None:
        return {}
    if not hasattr(value, "items"):
        raise _fail(f"{what} takes a mapping of names to values, not {type(value).__name__}")
    return dict(value)


def _name(name, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise _fail(f"{what}: a name is a non-empty string, not {name!r}")
    return name


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _param_text(name: str, value) -> str:
    """--set's NAME=VALUE text: a string with a unit, or a number (dimensionless)."""
    if isinstance(value, str):
        return value
    if _is_number(value):
        return repr(float(value))
    raise _fail(f"--set {name}: the value is a string with a unit (e.g. '20 Hz') or, for a dimensionless "
                f"parameter, a number; not {value!r}")


def _path(path, what: str) -> bytes:
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise _fail(f"{what} takes a path, not {path!r}")
    return os.fsencode(os.path.abspath(path))


SEED_LIMIT = 2 ** 64
MAX_THREADS = 256  # SNN_MAX_THREADS of runtime_c/snn_runtime.h


def _threads(threads) -> int:
    if not isinstance(threads, numbers.Integral) or isinstance(threads, bool) or not 0 <= int(threads) <= MAX_THREADS:
        raise _fail(f"threads takes a number of threads from 1 to {MAX_THREADS}, or 0 for every core, "
                    f"not {threads!r}")
    return int(threads)


def _model_lines(err: str) -> list[str]:
    """What the ranks wrote to stderr, without Open MPI's notices: the blocks
    between its lines of dashes, and its daemons' `[host:pid] ...` lines."""
    lines, inside = [], False
    for line in err.splitlines():
        if line.startswith("-----"):
            inside = not inside
        elif not inside and line.strip() and not re.match(r"\[[^\]\s]+:\d+\] ", line):
            lines.append(line)
    return lines


def _ranks(ranks) -> int:
    if not isinstance(ranks, numbers.Integral) or isinstance(ranks, bool) or not 1 <= int(ranks) <= 4096:
        raise _fail(f"ranks takes a number of ranks from 1 to 4096, not {ranks!r}")
    return int(ranks)


def _seed(seed) -> int:
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= int(seed) < SEED_LIMIT:
        raise _fail(f"--seed expects an integer from 0 to 2**64-1, got {seed!r}")
    return int(seed)


_QUANTITY = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*?)\s*")


def _duration(duration) -> float:
    """advance()'s duration: seconds, or a string with a unit of time ('0.5 s', '200 ms')."""
    if _is_number(duration):
        return float(duration)
    if isinstance(duration, str):
        from snndsl import units
        m = _QUANTITY.fullmatch(duration)
        parsed = units.parse_suffix(m.group(2)) if m else None
        if m and isinstance(parsed, tuple) and parsed[1] == units.SECOND:
            return float(m.group(1)) * parsed[0]
    raise _fail(f"advance takes a duration in seconds or a string with a unit of time ('0.5 s', "
                f"'200 ms'), not {duration!r}")


def _run_interruptibly(call, lib, ptr, poll=None) -> int:
    """`call()` (a C function running the simulation) in a worker thread
    (cffi releases the GIL), so that Ctrl-C in this thread can ask the
    simulation to stop at the end of a step, and `poll()` (progress) runs
    here every 50 ms meanwhile.

    The wait uses an Event, not Thread.join: a KeyboardInterrupt during
    join() can mark a running thread as stopped (CPython's bpo-45274 fix), and
    the simulation would then be freed under the worker's feet."""
    result: list[int] = []
    done = threading.Event()

    def work() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # raised again in the caller's thread
            result.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, name="snndsl-run", daemon=True).start()
    try:
        while not done.wait(0.05):
            if poll is not None:
                try:
                    poll()
                except Exception:  # the user's progress callback failed: stop the run, then raise
                    lib.snn_sim_request_stop(ptr)
                    done.wait()
                    raise
    except KeyboardInterrupt:
        lib.snn_sim_request_stop(ptr)
        while True:  # the simulation stops at the end of its step
            try:
                done.wait()
                break
            except KeyboardInterrupt:
                continue
        raise
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def _view(f, a, owner) -> np.ndarray:
    """A read-only numpy view of a C result array, without a copy. The view's
    base is a ctypes buffer that references `owner`, so the simulation's
    memory lives exactly as long as some array still uses it."""
    descr = f.string(a.descr).decode()
    dtype = np.dtype(np.uint8) if descr == "raw" else np.dtype(descr)
    shape = tuple(int(a.shape[d]) for d in range(a.ndim))
    count = int(np.prod(shape)) if shape else 1
    if count == 0 or a.data == f.NULL:
        return np.zeros(shape, dtype)
    raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(int(f.cast("uintptr_t", a.data)))
    raw._owner = owner
    arr = np.frombuffer(raw, dtype=dtype, count=count).reshape(shape)
    arr.flags.writeable = False
    return arr


def compile(path, build_dir=None, passes=PIPELINE, backend: str | None = None) -> Model:
    """Parse, check, optimize, emit and build a .snn file (cached by content).

    `backend`: "c" builds the generated C program (E0602 without a C
    compiler); "reference" interprets the IR with numpy (snndsl/reference/:
    slow, exact, no compiler needed); None (the default) is "c" where a C
    compiler is installed, else "reference", with a `BackendWarning`, as
    Brian2 falls back to numpy."""
    if backend is not None and backend not in BACKENDS:
        raise _fail(f"backend is one of {', '.join(map(repr, BACKENDS))} (or None), not {backend!r}")
    source, file = read_source(path)
    return compile_source(source, file, os.path.abspath(build_dir) if build_dir is not None else None, passes,
                          backend, stacklevel=3)


def compile_source(source: str, file: str, build_dir: str | None, passes=PIPELINE, backend: str | None = None,
                   stacklevel: int = 2) -> Model:
    """`compile` of a source already read, `build_dir` absolute."""
    fe = frontend(source, file, passes)
    if backend == "reference":
        check_reference(fe)
        return Model(fe, None, file, "reference", build_dir, passes)
    try:
        artifact = cc.build(fe.c_source, Path(build_dir) if build_dir is not None else None)
    except cc.NoCompilerError as exc:
        if backend == "c":
            raise
        check_reference(fe, exc)
        warnings.warn(BackendWarning(fallback_message(exc)), stacklevel=stacklevel)
        return Model(fe, None, file, "reference", build_dir, passes)
    return Model(fe, artifact, file, "c", build_dir, passes)


_UNPICKLED: dict[tuple, Model] = {}


def _unpickle_model(source: str, file: str, backend: str, build_dir: str | None, passes) -> Model:
    """A pickled Model, compiled again (once per process and source)."""
    key = (hashlib.sha256(source.encode()).hexdigest(), file, backend, build_dir, tuple(passes))
    model = _UNPICKLED.get(key)
    if model is None:
        model = _UNPICKLED[key] = compile_source(source, file, build_dir, passes, backend)
    return model


def fallback_message(exc: cc.NoCompilerError) -> str:
    """The warning of a run that falls back to the reference backend."""
    why = exc.diagnostics[0].message if exc.diagnostics else "no C compiler"
    return (f"{why}: running on the reference backend (numpy), which is much slower; install a C compiler "
            "for the C backend, or choose one explicitly (--backend reference or --backend c; backend= in Python)")


def check_reference(fe: Frontend, no_compiler: cc.NoCompilerError | None = None) -> None:
    """Refuse, with the `.snn` place of each, what the reference backend cannot
    run (E0901); after a missing compiler, its E0602 comes first."""
    from snndsl.reference import unsupported
    from snndsl.syntax import ast as syntax
    precision = next((d.span for d in fe.ast.decls if isinstance(d, syntax.Setting) and d.name == "precision"), None)
    found = unsupported(fe.ir, precision)
    if found:
        first = list(no_compiler.diagnostics) if no_compiler is not None else []
        raise CompileError(first + found, {fe.ast.file: fe.source})


class ReferenceSimulation(Simulation):
    """A simulation on the reference backend (snndsl/reference/): the same
    methods and results as the C backend's, computed by interpreting the IR
    with numpy in this thread. Snapshots (`save_state`, `load_state`) need the
    C backend; progress is not reported."""

    def __init__(self, model: Model, params=None, seed=None, data=None, quiet=True, progress=None, threads=1):
        from snndsl.reference import Engine
        self.model = model
        _threads(threads)  # checked; the reference backend runs on one (the numbers are the same)
        self._engine = Engine(model.frontend.ir)
        for name, value in _mapping(params, "params").items():
            self._call(self._engine.set_param, _name(name, "params"), _param_text(name, value))
        for name, path in _mapping(data, "data").items():
            self._call(self._engine.set_data, _name(name, "data"), os.fsdecode(_path(path, f"--data {name}")))
        if seed is not None:
            self._engine.set_seed(_seed(seed))

    @staticmethod
    def _call(fn, *args):
        from snndsl.reference import RunFailure
        try:
            return fn(*args)
        except RunFailure as exc:
            raise SimulationError(str(exc)) from None

    def run_protocol(self) -> "ReferenceSimulation":
        self._call(self._engine.run)
        return self

    def advance(self, duration: float) -> "ReferenceSimulation":
        self._call(self._engine.advance, _duration(duration))
        return self

    def run_phase(self, name: str) -> "ReferenceSimulation":
        if name not in self.phases:
            raise _fail(f"the model has no phase {name!r}" + _did_you_mean(name, self.phases, "phases"))
        self._call(self._engine.run_phase, self.phases.index(name))
        return self

    def _variable(self, group: str, name: str) -> np.ndarray:
        return self._call(self._engine.variable, group, name)

    def _synapse_ends(self, group: str) -> tuple[np.ndarray, np.ndarray]:
        return tuple(a.copy() for a in self._call(self._engine.synapse_ends, group))

    def _delay_steps(self, group: str, pathway: str) -> np.ndarray:
        return self._call(self._engine.delay_steps, group, pathway).copy()

    def _param_values(self) -> dict[str, float]:
        self._call(self._engine.setup)
        return dict(self._engine.machine.param_values)

    def save_state(self, path) -> None:
        raise _fail("save_state needs the C backend: the reference backend takes no snapshots")

    def load_state(self, path) -> "ReferenceSimulation":
        raise _fail("load_state needs the C backend: the reference backend takes no snapshots")

    def _results(self, copy: bool) -> Results:
        arrays = {}
        for name, a in self._engine.arrays().items():
            a = np.array(a)  # the engine's lists of rows, made into arrays afresh each time
            a.flags.writeable = False
            arrays[name] = a
        return from_arrays(self._engine.manifest(), arrays)


__all__ = ["compile", "frontend", "Model", "Simulation", "ReferenceSimulation", "SimulationError", "InternalError",
           "BackendWarning"]
