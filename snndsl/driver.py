"""The pipeline, stage by stage; the only place the stages are chained.

parse -> check -> lower -> verify -> passes (verify after each) -> view ->
render -> cc -> cffi.
"""
from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snndsl.build import cc
from snndsl.codegen.emit import render
from snndsl.codegen.view import build_view
from snndsl.diagnostics import Code, CompileError, Diagnostic, InternalError, error
from snndsl.ir import nodes as ir
from snndsl.ir.lower import lower
from snndsl.ir.verify import verify
from snndsl.passes import PIPELINE
from snndsl.results import Results, from_arrays
from snndsl.semantics.check import check
from snndsl.semantics.model import Model as CheckedModel
from snndsl.syntax import ast  # noqa: F401 - names the type of Frontend.ast
from snndsl.syntax.parse import parse_source


class SimulationError(Exception):
    """A run failed for a reason the user can fix (bad data, a bad --set)."""


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
    file = str(path)
    try:
        with open(file, encoding="utf-8") as f:
            return f.read(), file
    except FileNotFoundError:
        raise CompileError([_unreadable(file, "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CompileError([_unreadable(file, str(exc))]) from None


def _unreadable(file: str, why: str) -> Diagnostic:
    return error(Code.RUNTIME_INPUT, f"cannot read model file '{file}': {why}", None)


def optimize(module: ir.Module, passes=PIPELINE) -> ir.Module:
    verify(module)
    for p in passes:
        module = p(module)
        verify(module)
    return module


# Every stage walks expression trees recursively; a generated model may
# hold a sum of thousands of terms. Past this depth the parser reports the
# expression as too deeply nested instead.
RECURSION_LIMIT = 20000


def frontend(source: str, file: str, passes=PIPELINE) -> Frontend:
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, RECURSION_LIMIT))
    try:
        tree = parse_source(source, file)
        model, warnings = check(tree, source)
        module = optimize(lower(model), passes)
        c_source = render(build_view(module))
    finally:
        sys.setrecursionlimit(previous)
    return Frontend(source, tree, model, module, c_source, tuple(warnings))


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


class Model:
    """A compiled model: `run()` it in-process, or use `.binary`."""

    def __init__(self, fe: Frontend, artifact: cc.Artifact, file: str):
        self.frontend = fe
        self.artifact = artifact
        self.file = file

    @property
    def binary(self) -> Path:
        return self.artifact.binary

    @property
    def library(self) -> Path:
        return self.artifact.library

    @property
    def name(self) -> str:
        return self.frontend.ir.name

    def simulation(self, params: dict | None = None, seed: int | None = None, data: dict | None = None,
                   quiet: bool = True) -> "Simulation":
        """A new simulation of this model in this process, not yet run."""
        return Simulation(self, params, seed, data, quiet)

    def run(self, params: dict | None = None, seed: int | None = None, data: dict | None = None,
            quiet: bool = True) -> Results:
        """Run the whole protocol in this process; the same seed gives the
        same numbers as the binary."""
        sim = self.simulation(params, seed, data, quiet)
        sim.run_protocol()
        return sim.results()


class Simulation:
    """One simulation in this process: a value, several may coexist.

    `params` values are numbers in SI units or strings with a unit
    ("20 Hz"); `data` maps data names to paths. Either run the protocol
    (`run_protocol`) or drive the clock yourself (`advance`), and take
    snapshots (`save_state` / `load_state`) to continue exactly later.
    """

    def __init__(self, model: Model, params=None, seed=None, data=None, quiet=True):
        from snndsl.build.ffi import ffi, load_library
        self.model = model
        self._ffi = ffi()
        self._lib = load_library(model.artifact)
        self._sim = _Sim(self._lib, self._ffi)
        lib, ptr = self._lib, self._sim.ptr
        for name, value in (params or {}).items():
            text = value if isinstance(value, str) else repr(float(value))
            self._check(lib.snn_sim_set_param(ptr, str(name).encode(), text.encode()))
        for name, path in (data or {}).items():
            self._check(lib.snn_sim_set_data(ptr, str(name).encode(), os.fsencode(os.path.abspath(path))))
        if seed is not None:
            lib.snn_sim_set_seed(ptr, int(seed))
        lib.snn_sim_set_quiet(ptr, 1 if quiet else 0)

    def _check(self, rc: int) -> None:
        if rc:
            raise SimulationError(self._sim.error())

    def run_protocol(self) -> "Simulation":
        """Run the model's phases (once), from wherever the clock stands."""
        self._check(_run_interruptibly(lambda: self._lib.snn_sim_run(self._sim.ptr), self._lib, self._sim.ptr))
        return self

    def advance(self, duration: float) -> "Simulation":
        """Advance the clock by `duration` seconds, outside the protocol."""
        self._check(_run_interruptibly(lambda: self._lib.snn_sim_advance(self._sim.ptr, float(duration)),
                                       self._lib, self._sim.ptr))
        return self

    def save_state(self, path) -> None:
        self._check(self._lib.snn_sim_setup(self._sim.ptr))
        self._check(self._lib.snn_sim_save_state(self._sim.ptr, os.fsencode(path)))

    def load_state(self, path) -> "Simulation":
        self._check(self._lib.snn_sim_load_state(self._sim.ptr, os.fsencode(path)))
        return self

    def results(self) -> Results:
        """What the monitors and saves hold now, as numpy views of the C
        buffers (no copy; they stay valid while any of them is alive)."""
        f, lib, ptr = self._ffi, self._lib, self._sim.ptr
        text = lib.snn_sim_manifest(ptr)
        if text == f.NULL:
            raise MemoryError("could not build the results manifest")
        manifest = json.loads(f.string(text).decode())
        arrays = {}
        out = f.new("snn_result_array *")
        for k in range(lib.snn_sim_n_arrays(ptr)):
            lib.snn_sim_array(ptr, k, out)
            arrays[f.string(out.file).decode()] = _view(f, out, self._sim)
        return from_arrays(manifest, arrays)


def _run_interruptibly(call, lib, ptr) -> int:
    """`call()` (a C function running the simulation) in a worker thread
    (cffi releases the GIL), so that Ctrl-C in this thread can ask the
    simulation to stop at the end of a step.

    The wait uses an Event, not Thread.join: a KeyboardInterrupt during
    join() can mark a running thread as stopped (CPython's bpo-45274 fix), and
    the simulation would then be freed under the worker's feet."""
    result: list[int] = []
    done = threading.Event()

    def work() -> None:
        try:
            result.append(call())
        finally:
            done.set()

    threading.Thread(target=work, name="snndsl-run", daemon=True).start()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        lib.snn_sim_request_stop(ptr)
        while True:  # the simulation stops at the end of its step
            try:
                done.wait()
                break
            except KeyboardInterrupt:
                continue
        raise
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


def compile(path, build_dir=None, passes=PIPELINE) -> Model:
    """Parse, check, optimize, emit and build a .snn file (cached by content)."""
    source, file = read_source(path)
    fe = frontend(source, file, passes)
    artifact = cc.build(fe.c_source, Path(build_dir) if build_dir is not None else None)
    return Model(fe, artifact, file)


__all__ = ["compile", "frontend", "Model", "Simulation", "SimulationError", "InternalError"]
