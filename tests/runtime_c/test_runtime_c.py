"""Tests of the C runtime (runtime_c/): builds test_runtime.c, runs it, checks its files.

numpy writes the .npy/.npz fixtures the C side must read; the C side writes
.npy files and a results directory that numpy and json must read back. The C
program is built twice: with the flags generated models use (plus -Wpedantic
-Werror), and with -fsanitize=address,undefined where the compiler has them.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import skip_outside_ci

CC = shutil.which("cc")
pytestmark = [
    pytest.mark.needs_cc,
    pytest.mark.skipif(CC is None, reason="no C compiler (cc) on PATH"),
]

HERE = Path(__file__).resolve().parent
RUNTIME = HERE.parents[1] / "runtime_c"
WARN = ["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
CFLAGS = ["-O2", *WARN, "-fPIC"]
SANFLAGS = ["-O1", "-g", *WARN, "-fsanitize=address,undefined,float-cast-overflow", "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer"]
SANENV = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0", "UBSAN_OPTIONS": "print_stacktrace=1"}


def cc(*args: str | Path) -> None:
    """Runs the C compiler; any diagnostic at all fails the test."""
    proc = subprocess.run([CC, *map(str, args)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stderr, f"cc {' '.join(map(str, args))}\n{proc.stderr}"


def build_test(exe: Path, flags: list[str]) -> Path:
    cc(*flags, f"-I{RUNTIME}", HERE / "test_runtime.c", RUNTIME / "snn_runtime.c", "-lm", "-o", exe)
    return exe


def run_test(exe: Path, fixtures: Path, out: Path, env: dict[str, str] | None = None):
    out.mkdir()
    proc = subprocess.run([str(exe), str(fixtures), str(out)], capture_output=True, timeout=300,
                          env={**os.environ, **(env or {})})
    # decoded by hand: text=True would turn the progress line's '\r' into '\n'
    proc.stdout, proc.stderr = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    report = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    assert proc.returncode == 0, report
    assert re.search(r"^\d+ passed, 0 failed$", proc.stdout.splitlines()[-1]), report
    return proc


# --------------------------------------------------------------- fixtures


def raw_npy(path: Path, header: str, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> None:
    """A .npy file with a hand-written header (padded as numpy pads it)."""
    total = 10 + len(header) + 1
    header += " " * (-total % 64) + "\n"
    path.write_bytes(b"\x93NUMPY" + bytes(version) + len(header).to_bytes(2, "little")
                     + header.encode() + data)


def make_fixtures(d: Path) -> None:
    signed = np.array([[-3, -1, 0], [1, 2, 100]])
    unsigned = np.array([[0, 1, 2], [3, 100, 255]])
    for code in ["f8", "f4", "f2", "i2", "i4", "i8", "u2", "u4", "u8"]:
        for order, tag in (("<", "le"), (">", "be")):
            np.save(d / f"dt_{tag}_{code}.npy", (unsigned if code[0] == "u" else signed).astype(order + code))
    np.save(d / "dt_i1.npy", signed.astype("i1"))
    np.save(d / "dt_u1.npy", unsigned.astype("u1"))
    np.save(d / "dt_b1.npy", np.array([[1, 0, 1], [0, 0, 1]], dtype=bool))
    np.save(d / "i8_big.npy", np.array([-(2**53), 2**53, -(2**63)], dtype="<i8"))
    np.save(d / "u8_big.npy", np.array([2**64 - 1, 2**63], dtype=">u8"))
    np.save(d / "f2_special.npy", np.array([65504, 2.0**-24, -0.0, np.inf], dtype="<f2"))

    np.save(d / "fortran3d.npy", np.asfortranarray(np.arange(24.0).reshape(2, 3, 4)))
    np.save(d / "fortran2d_be_i4.npy", np.asfortranarray(np.arange(6).reshape(3, 2).astype(">i4")))
    raw_npy(d / "fortran1d.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (4,), }",
            np.arange(4.0).tobytes())
    for name in ("fortran3d.npy", "fortran2d_be_i4.npy"):
        with open(d / name, "rb") as f:
            np.lib.format.read_magic(f)
            assert np.lib.format.read_array_header_1_0(f)[1], "numpy wrote it in C order"

    np.save(d / "scalar.npy", np.float64(3.5))
    np.save(d / "empty.npy", np.zeros((0, 3)))
    for major in (2, 3):
        with open(d / f"v{major}.npy", "wb") as f:
            np.lib.format.write_array(f, np.arange(5.0), version=(major, 0))
    np.save(d / "dims8.npy", np.arange(2.0).reshape((1,) * 7 + (2,)))

    np.savez(d / "arrays.npz", **{"a": np.arange(3.0), "b": np.array([[1, 2], [3, 4]]), "w.x": np.arange(2.0)})
    np.savez(d / "single.npz", only=np.arange(3.0))
    np.savez(d / "odd.name.npz", k=np.arange(2.0))
    np.savez_compressed(d / "compressed.npz", x=np.arange(100.0))
    # zip64 in the central directory and end record, as numpy writes archives over 4 GiB
    limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 1
    try:
        np.savez(d / "zip64.npz", first=np.arange(10.0), second=np.arange(24.0).reshape(4, 6))
    finally:
        zipfile.ZIP64_LIMIT = limit
    assert b"PK\x06\x06" in (d / "zip64.npz").read_bytes()

    (d / "bad_magic.npy").write_bytes(b"this is not a numpy file at all" * 4)
    (d / "short.npy").write_bytes(b"\x93NUM")
    full = (d / "dt_le_f8.npy").read_bytes()
    (d / "truncated.npy").write_bytes(full[:-9])
    (d / "truncated_header.npy").write_bytes(b"\x93NUMPY\x01\x00" + (1000).to_bytes(2, "little") + b"{'descr'")
    np.save(d / "complex.npy", np.zeros(3, dtype=complex))
    np.save(d / "object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    np.save(d / "string.npy", np.array(["ab", "cde"]))
    np.save(d / "datetime.npy", np.array(["2020-01-01"], dtype="datetime64[D]"))
    np.save(d / "structured.npy", np.zeros(3, dtype=[("a", "<f8"), ("b", "<i4")]))
    raw_npy(d / "bad_header.npy", "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (3,), }", bytes(24))
    raw_npy(d / "no_shape.npy", "{'descr': '<f8', 'fortran_order': False, }", bytes(24))
    raw_npy(d / "version9.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", bytes(24), (9, 0))
    np.save(d / "dims9.npy", np.zeros((1,) * 9))
    shutil.copy(d / "arrays.npz", d / "npz_named_npy.npy")
    (d / "not_a_zip.npz").write_bytes(b"plain text, not a zip archive\n" * 3)
    (d / "subdir").mkdir()


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("npy_fixtures")
    make_fixtures(d)
    return d


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory, fixtures: Path):
    """The C tests built like a generated model, run once; gives (process, OUT)."""
    d = tmp_path_factory.mktemp("plain")
    proc = run_test(build_test(d / "test_runtime", CFLAGS), fixtures, d / "out")
    return proc, d / "out"


def sanitizers_work(d: Path) -> bool:
    (d / "probe.c").write_text("int main(void) { return 0; }\n")
    exe = d / "probe"
    made = subprocess.run([CC, *SANFLAGS, str(d / "probe.c"), "-o", str(exe)], capture_output=True)
    return made.returncode == 0 and subprocess.run([str(exe)], capture_output=True,
                                                   env={**os.environ, **SANENV}).returncode == 0


# ------------------------------------------------------------------- tests


def test_c_tests_pass(plain_run) -> None:
    proc, _ = plain_run
    assert "file tests skipped" not in proc.stdout


def test_c_tests_pass_under_sanitizers(tmp_path: Path, fixtures: Path) -> None:
    if not sanitizers_work(tmp_path):
        skip_outside_ci("cc cannot build or run -fsanitize=address,undefined programs here")
    exe = build_test(tmp_path / "test_runtime_san", SANFLAGS)
    run_test(exe, fixtures, tmp_path / "out", SANENV)


def test_builds_like_generated_code(tmp_path: Path) -> None:
    """The exact command line snndsl uses, for a binary and for libmodel.so."""
    model = tmp_path / "model.c"
    model.write_text(
        '#include "snn_runtime.h"\n'
        "int snn_demo(void) { snn_rng r; snn_rng_seed(&r, 1, 2); return snn_rng_uniform(&r) < 1.0; }\n"
        "int main(int argc, char **argv) {\n"
        "    snn_cli c; char err[256];\n"
        "    if (snn_cli_parse(argc, argv, &c, err, sizeof err)) { fprintf(stderr, \"%s\\n\", err); return 2; }\n"
        '    printf("%s %d\\n", c.out_dir, snn_demo());\n'
        "    return 0;\n"
        "}\n")
    base = ["-O2", "-std=c11", "-Wall", "-Wextra", "-fPIC", f"-I{RUNTIME}", model, RUNTIME / "snn_runtime.c"]
    cc(*base, "-lm", "-o", tmp_path / "model")
    cc(*base, "-shared", "-lm", "-o", tmp_path / "libmodel.so")
    proc = subprocess.run([str(tmp_path / "model"), "-o", "somewhere"], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "somewhere 1\n")
    proc = subprocess.run([str(tmp_path / "model"), "--nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown option '--nope'" in proc.stderr


def test_header_alone_needs_no_posix(tmp_path: Path) -> None:
    src = tmp_path / "h.c"
    src.write_text('#include "snn_runtime.h"\nint main(void) { return 0; }\n')
    cc(*WARN, "-D_ISOC11_SOURCE", f"-I{RUNTIME}", "-c", src, "-o", tmp_path / "h.o")


def test_symbols_prefixed_and_no_mutable_statics(tmp_path: Path) -> None:
    obj = tmp_path / "snn_runtime.o"
    cc(*CFLAGS, "-c", RUNTIME / "snn_runtime.c", "-o", obj)
    if not shutil.which("objdump"):
        skip_outside_ci("no objdump")
    table = subprocess.run(["objdump", "-t", str(obj)], capture_output=True, text=True, check=True).stdout
    exported, writable = [], []
    for line in table.splitlines():
        m = re.match(r"^[0-9a-f]+ (.{7}) (\S+)\s+[0-9a-f]+\s+(\S+)$", line)
        if not m:
            continue
        flags, section, name = m.groups()
        if flags[0] == "g" and section != "*UND*":
            exported.append(name)
        if section in (".data", ".bss") or section.startswith((".data.", ".bss.")) and ".rel.ro" not in section:
            if flags[6] == "O":  # an object, not a section symbol
                writable.append(f"{name} in {section}")
    assert exported and all(n.startswith("snn_") for n in exported), exported
    assert writable == [], writable


ROUNDTRIP = {
    "rt_f8.npy": np.array([[-3, -1, 0.5], [1, 2, 100]], dtype="<f8"),
    "rt_f4.npy": np.array([[-3, -1, 0.5], [1, 2, 100]], dtype="<f4"),
    "rt_i4.npy": np.array([[-3, -1, 0], [1, 2, 2**31 - 1]], dtype="<i4"),
    "rt_i8.npy": np.array([[-3, -1, 0], [1, 2, 2**53]], dtype="<i8"),
    "rt_b1.npy": np.array([[1, 0, 1], [0, 0, 1]], dtype=bool),
    "rt_u1.npy": np.array([[0, 1, 2], [3, 100, 255]], dtype="u1"),
    "rt_scalar.npy": np.array(3.25),
    "rt_1d.npy": np.array([-3, -1, 0.5, 1, 2]),
    "rt_empty.npy": np.zeros((0, 3)),
}


@pytest.mark.parametrize("name", sorted(ROUNDTRIP))
def test_npy_written_by_c_loads_in_numpy(plain_run, tmp_path: Path, name: str) -> None:
    _, out = plain_run
    want = ROUNDTRIP[name]
    got = np.load(out / name)
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)
    np.save(tmp_path / name, want)  # byte for byte what numpy writes, padding included
    data = (out / name).read_bytes()
    assert data == (tmp_path / name).read_bytes()
    assert data[6:8] == b"\x01\x00" and (10 + int.from_bytes(data[8:10], "little")) % 64 == 0


def test_results_directory(plain_run) -> None:
    _, out = plain_run
    run = out / "results" / "nested" / "run"
    manifest = run / "manifest.json"
    assert json.loads(manifest.read_text()) == {"format": "snndsl-results/1", "name": 'test "model"', "dt": 1e-4}
    assert sorted(p.name for p in run.iterdir()) == [".snndsl-results", "count.npy", "manifest.json", "v.t.npy",
                                                     "v.values.npy"]
    assert (run / ".snndsl-results").read_text() == "snndsl-results/1\nv.values.npy\nv.t.npy\ncount.npy\n"
    np.testing.assert_array_equal(np.load(run / "v.values.npy"), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(np.load(run / "v.t.npy"), [0, 0.1])
    count = np.load(run / "count.npy")
    assert (count.dtype, count.shape, int(count)) == (np.dtype("<i4"), (), 7)
    # the manifest is written after every array (the mark is rewritten after it)
    assert all(manifest.stat().st_mtime_ns >= p.stat().st_mtime_ns for p in run.glob("*.npy"))


def test_failed_rewrite_leaves_no_manifest(plain_run) -> None:
    """The C side wrote a good result, then failed rewrites: no manifest may remain."""
    _, out = plain_run
    failed = out / "results_failed"
    assert not (failed / "manifest.json").exists()
    assert (failed / "t.npy").exists()
    assert not (out / "escape.npy").exists()
    blocked = out / "results_blocked"
    assert not (blocked / "manifest.json").exists() and (blocked / "v.t.npy").is_dir()
    assert sorted(p.name for p in (out / "results_foreign").iterdir()) == ["manifest.json", "notes.txt"]


def test_progress_line_on_stderr(plain_run) -> None:
    proc, _ = plain_run
    # in place in a terminal: the fraction of the run and an estimate of what is left
    assert "\r[snndsl] phase train  t = 0.734 s  (73% of this run, about 0.7 s left)  2.0 s wall" in proc.stderr
    assert "\r[snndsl] phase test  t = 1.500 s  (50% of this run, about 0.0 s left)  2.0 s wall" in proc.stderr
    assert "\r[snndsl] connecting S  42%  (2.0 s wall)" in proc.stderr
    # in a log: plain lines, no carriage returns
    assert "\n[snndsl] phase log  t = 0.250 s  (25% of this run, about 6.0 s left)  2.0 s wall\n" in proc.stderr
    assert "\r[snndsl] phase log" not in proc.stderr
    assert "quiet" not in proc.stderr
