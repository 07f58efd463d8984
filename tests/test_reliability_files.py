"""Issue 7, files: snndsl never touches a file it did not write, and never
runs or loads a build artifact that fails its check.

- A results folder is absent, empty, or one snndsl wrote; anything else is
  refused and left as it is, by `snndsl run` and by the binary alone. The
  root and the home folder are refused outright. The same holds for build
  folders (`snndsl compile -o`).
- Every result file is created fresh inside the folder and renamed into
  place, so a symlink in the folder is replaced, never followed.
- A cache entry is checked against the content hash written after it; a
  truncated or replaced binary, library or runtime object is rebuilt, never
  run or loaded. Temporary folders of a killed compile are cleaned up.
- Every path a user gives may be relative.

The commands run as a user types them: `python -m snndsl ...` in a
subprocess, each test with a private build cache where it tampers with one.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl.diagnostics import CompileError

pytestmark = pytest.mark.needs_cc

MODEL = "poisson p[3]:\n    rate = 200 Hz\nmonitor s: spikes of p\nphase a:\n    run 20 ms\n"
# Another model whose arrays have other names than MODEL's.
OTHER = "poisson q[2]:\n    rate = 100 Hz\nmonitor r: spikes of q\nphase a:\n    run 10 ms\n"


def snndsl_cmd(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snndsl", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


def assert_refused(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, f"exit {proc.returncode}:\n{text}"
    assert "Traceback" not in text and "internal error" not in text and "a bug in snndsl" not in text, text
    assert "error[E0601]" in proc.stderr, proc.stderr
    for f in fragments:
        assert f in proc.stderr, f"{f!r} not in:\n{proc.stderr}"


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry of a folder: a file's bytes, a link's target."""
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.iterdir()):
        out[p.name] = ("-> " + os.readlink(p)) if p.is_symlink() else p.read_bytes() if p.is_file() else "dir"
    return out


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "m.snn"
    path.write_text(MODEL)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """MODEL compiled to BUILD/model once for the tests of the binary alone."""
    d = tmp_path_factory.mktemp("built")
    (d / "m.snn").write_text(MODEL)
    proc = snndsl_cmd("compile", d / "m.snn", "-o", d / "build")
    assert proc.returncode == 0, proc.stderr
    return d / "build"


def cache_entry(cache: Path) -> Path:
    """The one model build folder of a private cache."""
    # (beside it: the runtime's objects, runtime-*, and the compiled templates, templates/)
    entries = [p for p in cache.iterdir() if p.is_dir() and re.fullmatch(r"[0-9a-f]{20}", p.name)]
    assert len(entries) == 1, entries
    return entries[0]


# ---- item 1: a results folder holds only what snndsl wrote ---------------------

def test_run_refuses_a_folder_of_someone_elses_files(model: Path, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "manifest.json").write_text('{"mine": true}\n')
    (work / "sv.npy").write_bytes(b"my own data")
    before = snapshot(work)
    proc = snndsl_cmd("run", model, "-o", ".", cwd=work)
    assert_refused(proc, "cannot write results to '.'", "snndsl did not write", "manifest.json", "sv.npy")
    assert snapshot(work) == before


def test_binary_alone_refuses_a_folder_of_someone_elses_files(built: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me\n")
    proc = subprocess.run([str(built / "model"), "-o", str(out), "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "error[E0601]" in proc.stderr and "notes.txt" in proc.stderr, proc.stderr
    assert snapshot(out) == {"notes.txt": b"keep me\n"}


def test_a_manifest_of_another_format_is_not_snndsls(built: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"format": "someone-else/1"}\n')
    proc = subprocess.run([str(built / "model"), "-o", str(out), "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 1 and "manifest.json" in proc.stderr, proc.stderr
    assert (out / "manifest.json").read_text() == '{"format": "someone-else/1"}\n'


def test_rewriting_own_folder_removes_only_the_old_arrays(model: Path, tmp_path: Path):
    res = tmp_path / "res"
    assert snndsl_cmd("run", model, "-q", "-o", res).returncode == 0
    old = {p.name for p in res.glob("*.npy")}
    assert old
    (res / "plot.png").write_bytes(b"a plot the user made")
    other = tmp_path / "other.snn"
    other.write_text(OTHER)
    proc = snndsl_cmd("run", other, "-q", "-o", res)
    assert proc.returncode == 0, proc.stderr
    now = {p.name for p in res.iterdir()}
    assert not (old & now), f"stale arrays left: {old & now}"
    assert (res / "plot.png").read_bytes() == b"a plot the user made"
    assert snndsl.load(res).manifest["model"] != "m"
    assert set(snndsl.load(res).monitors) == {"r"}


def test_an_empty_or_new_folder_is_fine(built: Path, tmp_path: Path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "deeper"):
        proc = subprocess.run([str(built / "model"), "-o", str(out), "--quiet"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert set(snndsl.load(out).monitors) == {"s"}


@pytest.mark.parametrize("where", ["root", "home"])
def test_run_refuses_root_and_home(model: Path, tmp_path: Path, where: str):
    home = tmp_path / "home"
    home.mkdir()  # empty: only the rule about the home folder can refuse it
    out = "/" if where == "root" else str(home)
    proc = snndsl_cmd("run", model, "-q", "-o", out, env={"HOME": str(home)})
    assert_refused(proc, f"cannot write results to '{out}'")
    assert list(home.iterdir()) == []


def test_binary_refuses_home_spelled_another_way(built: Path, tmp_path: Path):
    home = tmp_path / "home"
    (home / "sub").mkdir(parents=True)
    proc = subprocess.run([str(built / "model"), "-o", str(home / "sub" / ".."), "--quiet"], capture_output=True,
                          text=True, env={**os.environ, "HOME": str(home)})
    assert proc.returncode == 1 and "home folder" in proc.stderr, proc.stderr
    assert [p.name for p in home.iterdir()] == ["sub"]


def test_compile_refuses_a_folder_of_someone_elses_files(model: Path, tmp_path: Path):
    build = tmp_path / "build"
    build.mkdir()
    (build / "model.c").write_text("int main(void) { return 0; } /* my own */\n")
    before = snapshot(build)
    proc = snndsl_cmd("compile", model, "-o", build)
    assert_refused(proc, "model.c", "snndsl did not write")
    assert snapshot(build) == before


def test_compile_refuses_a_file_as_build_folder(model: Path, tmp_path: Path):
    (tmp_path / "afile").write_text("mine\n")
    proc = snndsl_cmd("compile", model, "-o", tmp_path / "afile")
    assert_refused(proc, "afile")
    assert (tmp_path / "afile").read_text() == "mine\n"


@pytest.mark.parametrize("where", ["root", "home"])
def test_compile_refuses_root_and_home(model: Path, tmp_path: Path, where: str):
    home = tmp_path / "home"
    home.mkdir()
    out = "/" if where == "root" else str(home)
    proc = snndsl_cmd("compile", model, "-o", out, env={"HOME": str(home)})
    assert_refused(proc, out)
    assert list(home.iterdir()) == []


def test_python_compile_into_a_foreign_folder_is_a_compile_error(model: Path, tmp_path: Path):
    build = tmp_path / "build"
    build.mkdir()
    (build / "model.c").write_text("mine\n")
    with pytest.raises(CompileError) as info:
        snndsl.compile(model, build_dir=build)
    (d,) = info.value.diagnostics
    assert d.code.value == "E0601" and d.span is None and "model.c" in d.message
    assert (build / "model.c").read_text() == "mine\n"


def test_compile_twice_into_own_folder(model: Path, tmp_path: Path):
    for _ in range(2):
        proc = snndsl_cmd("compile", model, "-o", tmp_path / "build")
        assert proc.returncode == 0, proc.stderr
    other = tmp_path / "other.snn"
    other.write_text(OTHER)
    proc = snndsl_cmd("compile", other, "-o", tmp_path / "build")  # another model into the same folder
    assert proc.returncode == 0, proc.stderr
    run = subprocess.run([str(tmp_path / "build" / "model"), "-q", "-o", str(tmp_path / "res")],
                         capture_output=True, text=True)
    assert run.returncode == 0 and set(snndsl.load(tmp_path / "res").monitors) == {"r"}


# ---- item 2: symlinks in the results folder are replaced, never followed -----

def test_symlinks_in_the_results_folder_are_not_followed(model: Path, tmp_path: Path):
    res = tmp_path / "res"
    assert snndsl_cmd("run", model, "-q", "-o", res).returncode == 0
    arrays = sorted(p.name for p in res.glob("*.npy"))
    victims = {}
    for name in arrays + ["manifest.json.tmp", "manifest.json"]:
        victim = tmp_path / f"victim-{name}"
        victim.write_text("precious\n")
        victims[name] = victim
        (res / name).unlink(missing_ok=True)
        (res / name).symlink_to(os.path.relpath(victim, res))
    proc = snndsl_cmd("run", model, "-q", "-o", res)
    assert proc.returncode == 0, proc.stderr
    for name, victim in victims.items():
        assert victim.read_text() == "precious\n", f"{name} was followed to {victim}"
    for name in arrays + ["manifest.json"]:
        assert not (res / name).is_symlink() and (res / name).is_file(), name
    assert set(snndsl.load(res).monitors) == {"s"}


def test_a_results_path_that_is_a_symlink_is_its_target_under_the_same_rule(built: Path, tmp_path: Path):
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    proc = subprocess.run([str(built / "model"), "-o", str(tmp_path / "link"), "--quiet"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "link").is_symlink() and (target / "manifest.json").is_file()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "data.csv").write_text("1,2\n")
    (tmp_path / "link2").symlink_to(foreign)
    proc = subprocess.run([str(built / "model"), "-o", str(tmp_path / "link2"), "--quiet"], capture_output=True,
                          text=True)
    assert proc.returncode == 1 and "data.csv" in proc.stderr, proc.stderr
    assert snapshot(foreign) == {"data.csv": b"1,2\n"}


def test_a_symlink_in_the_build_folder_is_not_followed(model: Path, tmp_path: Path):
    build = tmp_path / "build"
    assert snndsl_cmd("compile", model, "-o", build).returncode == 0
    victim = tmp_path / "victim.c"
    victim.write_text("precious\n")
    (build / "model.c").unlink()
    (build / "model.c").symlink_to(victim)
    other = tmp_path / "other.snn"
    other.write_text(OTHER)
    proc = snndsl_cmd("compile", other, "-o", build)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "precious\n"


# ---- item 12: a cache entry is verified before use ---------------------------

def _private_run(model: Path, tmp_path: Path, cache: Path, *args) -> subprocess.CompletedProcess:
    return snndsl_cmd("run", model, "-q", "-o", tmp_path / "res", *args, env={"SNNDSL_CACHE": str(cache)})


def test_truncated_cached_binary_is_rebuilt(model: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    assert _private_run(model, tmp_path, cache).returncode == 0
    binary = cache_entry(cache) / "model"
    binary.write_bytes(binary.read_bytes()[:100])
    proc = _private_run(model, tmp_path, cache)
    assert proc.returncode == 0, proc.stderr
    assert set(snndsl.load(tmp_path / "res").monitors) == {"s"}


def test_cached_binary_replaced_by_a_script_is_not_run(model: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    assert _private_run(model, tmp_path, cache).returncode == 0
    binary = cache_entry(cache) / "model"
    marker = tmp_path / "the-script-ran"
    binary.unlink()
    binary.write_text(f"#!/bin/sh\necho ran > '{marker}'\n")
    binary.chmod(0o755)
    proc = _private_run(model, tmp_path, cache)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    assert set(snndsl.load(tmp_path / "res").monitors) == {"s"}


def test_truncated_runtime_object_is_rebuilt(model: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    assert _private_run(model, tmp_path, cache).returncode == 0
    (obj,) = cache.glob("runtime-*/snn_runtime.o")
    obj.write_bytes(obj.read_bytes()[:200])
    other = tmp_path / "other.snn"  # a new model: links the runtime objects again
    other.write_text(OTHER)
    proc = snndsl_cmd("run", other, "-q", "-o", tmp_path / "res2", env={"SNNDSL_CACHE": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert set(snndsl.load(tmp_path / "res2").monitors) == {"r"}


SCRIPT = """
import sys, snndsl
from pathlib import Path
m = snndsl.compile(sys.argv[1])
if sys.argv[2] == "library":
    m.library.write_bytes(b"garbage, not an ELF file" * 10)
    for p in m.library.parent.glob(".libmodel-*.so"):
        p.unlink()
elif sys.argv[2] == "copy":
    for p in m.library.parent.glob(".libmodel-*.so"):
        p.write_bytes(b"garbage" * 10)
res = snndsl.compile(sys.argv[1]).run(seed=1)
print(len(res["s"].t))
"""


@pytest.mark.parametrize("what", ["library", "copy"])
def test_garbage_library_is_rebuilt_not_loaded(model: Path, tmp_path: Path, what: str):
    cache = tmp_path / "cache"
    env = {**os.environ, "SNNDSL_CACHE": str(cache)}
    first = subprocess.run([sys.executable, "-c", SCRIPT, str(model), "none"], capture_output=True, text=True,
                           env=env)
    assert first.returncode == 0, first.stderr
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(model), what], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == first.stdout


def test_killed_compile_leaves_no_temporary_folders(model: Path, tmp_path: Path):
    """A compiler that hangs is killed with its snndsl; the next compile cleans up."""
    cache = tmp_path / "cache"
    flag = tmp_path / "hang"
    flag.write_text("")
    slowcc = tmp_path / "slowcc"
    slowcc.write_text(f"#!/bin/sh\nif [ -e '{flag}' ]; then sleep 60; fi\nexec cc \"$@\"\n")
    slowcc.chmod(0o755)
    env = {**os.environ, "SNNDSL_CACHE": str(cache), "CC": str(slowcc)}
    proc = subprocess.Popen([sys.executable, "-m", "snndsl", "compile", str(model)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not any(p.is_dir() for p in cache.glob("*/*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(p.is_dir() for p in cache.glob("*/*")), "no temporary folder appeared"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    flag.unlink()
    done = snndsl_cmd("compile", model, env={"SNNDSL_CACHE": str(cache), "CC": str(slowcc)})
    assert done.returncode == 0, done.stderr
    left = [str(p.relative_to(cache)) for p in cache.glob("*/*") if p.is_dir()]
    assert left == [], left


def test_four_processes_on_one_cache(tmp_path: Path):
    cache = tmp_path / "cache"
    (tmp_path / "m.snn").write_text(MODEL)
    env = {**os.environ, "SNNDSL_CACHE": str(cache)}
    procs = [subprocess.Popen([sys.executable, "-m", "snndsl", "run", "m.snn", "-q", "-o", f"res{k}"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(4)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err
    first = snndsl.load(tmp_path / "res0")["s"]
    for k in range(1, 4):
        np.testing.assert_array_equal(snndsl.load(tmp_path / f"res{k}")["s"].t, first.t)


# ---- item 13: relative paths --------------------------------------------------

def test_compile_to_a_relative_build_folder(tmp_path: Path):
    (tmp_path / "m.snn").write_text(MODEL)
    proc = snndsl_cmd("compile", "m.snn", "-o", "build/", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = subprocess.run(["./build/model", "-q", "-o", "res"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert set(snndsl.load(tmp_path / "res").monitors) == {"s"}


def test_relative_cache(tmp_path: Path):
    (tmp_path / "m.snn").write_text(MODEL)
    proc = snndsl_cmd("run", "m.snn", "-q", "-o", "res", cwd=tmp_path, env={"SNNDSL_CACHE": "rel/cache"})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "rel" / "cache").is_dir()
    assert set(snndsl.load(tmp_path / "res").monitors) == {"s"}


# ---- build problems reach the user as errors with a code ---------------------

def test_unwritable_cache_is_an_error_with_a_code(model: Path, tmp_path: Path):
    (tmp_path / "afile").write_text("")
    proc = snndsl_cmd("run", model, "-q", "-o", tmp_path / "res", env={"SNNDSL_CACHE": str(tmp_path / "afile" / "c")})
    assert_refused(proc, "afile")


def test_unwritable_cache_through_python_is_a_compile_error(model: Path, tmp_path: Path, monkeypatch):
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("SNNDSL_CACHE", str(tmp_path / "afile" / "c"))
    with pytest.raises(CompileError) as info:
        snndsl.compile(model)
    (d,) = info.value.diagnostics
    assert d.code.value == "E0601" and d.span is None


def test_a_model_whose_build_folder_was_rebuilt_for_another_never_loads_the_other(model: Path, tmp_path: Path):
    other = tmp_path / "other.snn"
    other.write_text(OTHER)
    first = snndsl.compile(model, build_dir=tmp_path / "build")
    snndsl.compile(other, build_dir=tmp_path / "build")  # libmodel.so is now OTHER's
    with pytest.raises(CompileError) as info:
        first.run()
    (d,) = info.value.diagnostics
    assert d.code.value == "E0601" and "compile it again" in d.message
    assert set(snndsl.compile(model, build_dir=tmp_path / "build").run().monitors) == {"s"}


def test_temporaries_of_a_killed_run_are_removed(built: Path, tmp_path: Path):
    import socket
    out = tmp_path / "out"
    assert subprocess.run([str(built / "model"), "-o", str(out), "--quiet"]).returncode == 0
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = out / f".snndsl-tmp-{dead.pid}-0-{socket.gethostname()}"
    left.write_bytes(b"half an array")
    live = out / f".snndsl-tmp-{os.getpid()}-0-{socket.gethostname()}"
    live.write_bytes(b"being written")
    assert subprocess.run([str(built / "model"), "-o", str(out), "--quiet"]).returncode == 0
    assert not left.exists() and live.exists()
