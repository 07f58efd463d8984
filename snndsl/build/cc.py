"""Building stage: model.c + runtime_c/ -> BUILD/model and BUILD/libmodel.so.

Builds are cached by content: the key hashes the C source, the runtime, the
flags and the compiler, and a build folder whose stamp matches is reused.
The C that snndsl emits always compiles; a compiler error here is a bug in
snndsl and surfaces as `InternalError`, never as the user's problem.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from snndsl import resources
from snndsl.diagnostics import InternalError

RUNTIME_FILES = ("snn_runtime.h", "snn_runtime.c", "snn_main.c", "snn_support.h", "snn_api.h")
CFLAGS = ("-O2", "-std=c11", "-fno-math-errno", "-fPIC")
STAMP = ".snndsl-build"


@dataclass(frozen=True)
class Artifact:
    dir: Path
    key: str

    @property
    def binary(self) -> Path:
        return self.dir / "model"

    @property
    def library(self) -> Path:
        return self.dir / "libmodel.so"

    @property
    def source(self) -> Path:
        return self.dir / "model.c"


def compiler() -> str:
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise InternalError(f"no C compiler found ('{cc}'); install one (e.g. gcc) or set CC")
    return cc


def cache_root() -> Path:
    base = os.environ.get("SNNDSL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "snndsl")
    return Path(base)


def runtime_key(extra_flags: tuple[str, ...] = ()) -> str:
    """What the runtime objects depend on: the runtime's sources, the flags, the compiler."""
    h = hashlib.sha256()
    rt = resources.runtime_dir()
    for name in RUNTIME_FILES:
        h.update(name.encode() + b"\0" + (rt / name).read_bytes())
    h.update(" ".join(CFLAGS + extra_flags).encode() + b"\0" + compiler().encode())
    return h.hexdigest()


def build_key(c_source: str, extra_flags: tuple[str, ...] = ()) -> str:
    return hashlib.sha256(c_source.encode() + b"\0" + runtime_key(extra_flags).encode()).hexdigest()


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _run(jobs: list[list[str]], cwd: Path) -> None:
    """Run compiler commands in parallel; any failure is a bug in snndsl."""
    procs = [subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for cmd in jobs]
    failures = []
    for cmd, p in zip(jobs, procs):
        output, _ = p.communicate()
        if p.returncode != 0:
            failures.append(" ".join(cmd) + "\n" + output)
    if failures:
        raise InternalError("the C compiler rejected the generated code (a bug in snndsl):\n"
                            + "\n".join(failures))


def runtime_objects(extra_flags: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """snn_runtime.o and snn_main.o, compiled once per runtime version,
    flags and compiler, and shared by every model built afterwards."""
    folder = cache_root() / f"runtime-{runtime_key(extra_flags)[:20]}"
    objs = (folder / "snn_runtime.o", folder / "snn_main.o")
    if all(o.exists() for o in objs):
        return objs
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildDirError(f"cannot create the build cache {folder}: {exc.strerror}") from None
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for name in RUNTIME_FILES:
            shutil.copy(resources.runtime_dir() / name, tmp)
        flags = [*CFLAGS, *extra_flags]
        _run([[compiler(), *flags, "-c", "snn_runtime.c", "-o", "snn_runtime.o"],
              [compiler(), *flags, "-c", "snn_main.c", "-o", "snn_main.o"]], Path(tmp))
        for o in objs:
            os.replace(os.path.join(tmp, o.name), o)
    return objs


def build(c_source: str, build_dir: Path | None = None, extra_flags: tuple[str, ...] = ()) -> Artifact:
    """Write the sources into `build_dir` (default: the cache) and compile:
    model.c once, linked with the cached runtime into the binary and the
    shared library."""
    key = build_key(c_source, extra_flags)
    out = Path(build_dir) if build_dir is not None else cache_root() / key[:20]
    art = Artifact(out, key)
    stamp = out / STAMP
    if stamp.exists() and stamp.read_text() == key and art.binary.exists() and art.library.exists():
        return art
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildDirError(f"cannot create the build folder {out}: {exc.strerror}") from None
    rt = resources.runtime_dir()
    for name in RUNTIME_FILES:
        _write_if_changed(out / name, (rt / name).read_bytes())
    _write_if_changed(art.source, c_source.encode())
    if stamp.exists():
        stamp.unlink()
    runtime_o, main_o = runtime_objects(extra_flags)
    cc = compiler()
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        model_o = os.path.join(tmp, "model.o")
        _run([[cc, *CFLAGS, *extra_flags, "-c", "model.c", "-o", model_o]], out)
        _run([[cc, *extra_flags, "-o", os.path.join(tmp, "model"), model_o, str(main_o), str(runtime_o), "-lm"],
              [cc, *extra_flags, "-shared", "-o", os.path.join(tmp, "libmodel.so"), model_o, str(runtime_o),
               "-lm"]], out)
        os.replace(os.path.join(tmp, "model"), art.binary)
        os.replace(os.path.join(tmp, "libmodel.so"), art.library)
    stamp.write_text(key)
    return art


class BuildDirError(Exception):
    """The build folder cannot be written (a user-facing problem)."""
