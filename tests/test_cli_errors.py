"""User mistakes through the real `snndsl` command: exit status 1, a located
`FILE:LINE:COL: error[CODE]: message` with a caret, and never a traceback.

`check` needs no C compiler; `run` builds the model (marked needs_cc). The
build cache is private to the test session (tests/conftest.py), and the
child processes inherit it.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
INVALID = ROOT / "tests" / "checks" / "invalid"
EXAMPLE = ROOT / "examples" / "freeze_after_learning.snn"
CARET = re.compile(r"^ +\| *\^~*$", re.M)
EXPECT = re.compile(r'#\s*expect:\s*([EW]\d{4})\s*@\s*(\d+):(\d+)')


def snndsl(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snndsl", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def assert_clean_failure(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 1, no traceback, and every fragment in stderr."""
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text, text
    assert "internal error" not in text, text
    assert proc.returncode == 1, f"exit {proc.returncode}:\n{text}"
    for f in fragments:
        assert f in proc.stderr, f"{f!r} not in:\n{proc.stderr}"


# ---- snndsl check ------------------------------------------------------------

def _one_per_code() -> list[Path]:
    """The first (by name) non-xfail invalid model for each code, plus the flagship."""
    chosen: dict[str, Path] = {}
    for p in sorted(INVALID.glob("*.snn")):
        text = p.read_text(encoding="utf-8")
        if re.search(r"^#\s*xfail:", text, re.M):
            continue
        for m in EXPECT.finditer(text):
            chosen.setdefault(m.group(1), p)
    chosen["flagship"] = INVALID / "undefined_learnd_flagship.snn"
    return sorted(set(chosen.values()))


@pytest.mark.parametrize("path", _one_per_code(), ids=lambda p: p.stem)
def test_check_invalid_model_exits_1_with_located_diagnostic(path: Path):
    first = min((int(line), int(col), code) for code, line, col in
                EXPECT.findall(path.read_text(encoding="utf-8")))
    line, col, code = first
    proc = snndsl("check", path)
    assert_clean_failure(proc)
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"{path}:{line}:{col}: error[{code}]: "), proc.stderr
    assert CARET.search(proc.stderr), proc.stderr
    # the caret sits under the reported column of the echoed source line
    lines = proc.stderr.splitlines()
    src, caret = lines[1], lines[2]
    assert src.index("|") == caret.index("|")
    assert caret.index("^") == src.index("|") + 1 + col


def test_check_learnd_names_learned(tmp_path):
    model = tmp_path / "freeze.snn"
    model.write_text(EXAMPLE.read_text(encoding="utf-8").replace("S.learned[w > 0.3]", "S.learnd[w > 0.3]"),
                     encoding="utf-8")
    line = model.read_text(encoding="utf-8").splitlines().index("    S.learnd[w > 0.3] = 0") + 1
    proc = snndsl("check", model)
    assert_clean_failure(proc, "learned")
    assert proc.stderr.startswith(f"{model}:{line}:7: error[E0201]: ")
    assert "S.learnd[w > 0.3] = 0" in proc.stderr
    assert CARET.search(proc.stderr)


def test_check_valid_model_exits_0_silently():
    proc = snndsl("check", EXAMPLE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_check_reports_several_errors_at_once():
    path = INVALID / "many_errors_collected.snn"
    proc = snndsl("check", path)
    assert_clean_failure(proc)
    heads = [ln for ln in proc.stderr.splitlines() if ln.startswith(f"{path}:")]
    assert len(heads) == len(EXPECT.findall(path.read_text(encoding="utf-8")))
    assert len(CARET.findall(proc.stderr)) == len(heads)


def test_check_missing_model_file(tmp_path):
    missing = tmp_path / "nope.snn"
    proc = snndsl("check", missing)
    assert_clean_failure(proc, "error[E0601]", "nope.snn", "no such file")


def test_check_model_path_is_a_directory(tmp_path):
    proc = snndsl("check", tmp_path)
    assert_clean_failure(proc, "error[E0601]", "cannot read model file")


def test_check_model_not_utf8(tmp_path):
    model = tmp_path / "latin1.snn"
    model.write_bytes("# caf\xe9\nconst a = 1\n".encode("latin-1"))
    proc = snndsl("check", model)
    assert_clean_failure(proc, "error[E0601]", "latin1.snn")


def test_check_reserved_const_name_is_a_diagnostic(tmp_path):
    model = tmp_path / "t.snn"
    model.write_text("const t = 2\n", encoding="utf-8")
    proc = snndsl("check", model)
    assert_clean_failure(proc, f"{model}:1:1: error[E0203]")


def test_internal_error_never_shows_a_traceback(tmp_path):
    # Whatever the checker does with this model, no traceback reaches the user.
    model = tmp_path / "t.snn"
    model.write_text("const t = 2\n", encoding="utf-8")
    proc = snndsl("check", model)
    assert proc.returncode in (1, 2)
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("emit", ["ast", "ir", "c"])
def test_compile_emit_of_invalid_model(emit):
    path = INVALID / ("syntax_missing_colon_group.snn" if emit == "ast" else "undefined_learnd_flagship.snn")
    proc = snndsl("compile", path, "--emit", emit)
    assert_clean_failure(proc, "error[E0")
    assert proc.stderr.startswith(f"{path}:")
    assert CARET.search(proc.stderr)


def test_run_invalid_model_fails_before_building():
    path = INVALID / "undefined_learnd_flagship.snn"
    proc = snndsl("run", path, "-o", "never")
    assert_clean_failure(proc, "error[E0201]", "learned")


def test_info_of_a_missing_results_folder(tmp_path):
    proc = snndsl("info", tmp_path / "no_results")
    assert_clean_failure(proc, "error")


# ---- snndsl run: bad --set, bad --data ------------------------------------------

MODEL = """\
param rate_in = 10 Hz
param gain = 2
data w0 = "w0.npy"

poisson inp[4]:
    rate = rate_in * gain

synapses S: inp -> inp:
    connect: one_to_one
    w : 1
    init:
        w = w0

monitor weights: S.w

phase a:
    run 1 ms
"""

# The same, reading w0 in a phase assignment instead of init.
MODEL_PHASE = MODEL.replace("        w = w0\n", "        w = 0\n").replace(
    "phase a:\n", "phase a:\n    S.w = w0\n")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cli_model")
    (d / "model.snn").write_text(MODEL, encoding="utf-8")
    (d / "phase.snn").write_text(MODEL_PHASE, encoding="utf-8")
    np.save(d / "w0.npy", np.arange(4.0) / 10)
    np.save(d / "grid.npy", np.zeros((2, 2)))
    np.save(d / "five.npy", np.zeros(5))
    np.save(d / "three.npy", np.zeros(3))
    (d / "not_npy.npy").write_text("this is not a numpy file\n", encoding="utf-8")
    return d


def run(folder: Path, *args, model="model.snn") -> subprocess.CompletedProcess:
    return snndsl("run", model, "-q", "-o", "results", *args, cwd=folder)


@pytest.mark.needs_cc
def test_run_good_model_succeeds(folder):
    proc = run(folder, "--set", "rate_in=20 Hz", "--set", "gain=3", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    assert (folder / "results").is_dir()


@pytest.mark.needs_cc
def test_run_set_unknown_name(folder):
    proc = run(folder, "--set", "rate_inn=20 Hz")
    assert_clean_failure(proc, "error[E0601]", "rate_inn")


@pytest.mark.needs_cc
def test_run_set_not_a_number(folder):
    proc = run(folder, "--set", "rate_in=fast")
    assert_clean_failure(proc, "error[E0601]", "rate_in", "fast")


@pytest.mark.needs_cc
def test_run_set_wrong_unit(folder):
    proc = run(folder, "--set", "rate_in=3 mV")
    assert_clean_failure(proc, "error[E0601]", "rate_in", "hertz", "volt")


@pytest.mark.needs_cc
def test_run_set_missing_unit(folder):
    proc = run(folder, "--set", "rate_in=3")
    assert_clean_failure(proc, "error[E0601]", "rate_in", "hertz")


@pytest.mark.needs_cc
def test_run_set_unit_on_dimensionless(folder):
    proc = run(folder, "--set", "gain=2 Hz")
    assert_clean_failure(proc, "error[E0601]", "gain", "hertz")


@pytest.mark.needs_cc
def test_run_set_unknown_unit(folder):
    proc = run(folder, "--set", "rate_in=3 parsec")
    assert_clean_failure(proc, "error[E0601]", "rate_in")


def test_run_set_without_equals(folder):
    proc = run(folder, "--set", "rate_in")
    assert_clean_failure(proc, "error[E0601]", "--set", "NAME=VALUE")


def test_run_data_without_equals(folder):
    proc = run(folder, "--data", "w0")
    assert_clean_failure(proc, "error[E0601]", "--data", "NAME=VALUE")


@pytest.mark.needs_cc
def test_run_negative_seed(folder):
    proc = run(folder, "--seed", "-1")
    assert_clean_failure(proc, "error[E0601]", "--seed")


@pytest.mark.needs_cc
def test_run_data_unknown_name(folder):
    proc = run(folder, "--data", "w1=w0.npy")
    assert_clean_failure(proc, "error[E0601]", "w1")


@pytest.mark.needs_cc
def test_run_data_missing_file(folder):
    proc = run(folder, "--data", "w0=missing.npy")
    assert_clean_failure(proc, "error[E0601]", "missing.npy")
    # located at the data declaration
    assert "model.snn:3:1: error[E0601]" in proc.stderr


@pytest.mark.needs_cc
def test_run_default_data_file_missing(folder, tmp_path):
    (tmp_path / "model.snn").write_text(MODEL, encoding="utf-8")
    proc = snndsl("run", "model.snn", "-q", "-o", "results", cwd=tmp_path)
    assert_clean_failure(proc, "error[E0601]", "w0")


@pytest.mark.needs_cc
def test_run_data_not_a_npy_file(folder):
    proc = run(folder, "--data", "w0=not_npy.npy")
    assert_clean_failure(proc, "error[E0601]", "w0")


@pytest.mark.needs_cc
def test_run_data_wrong_number_of_dimensions(folder):
    proc = run(folder, "--data", "w0=grid.npy")
    assert_clean_failure(proc, "error[E0601]", "w0", "dimension")


@pytest.mark.needs_cc
@pytest.mark.parametrize("file", ["five.npy", "three.npy"])
def test_run_data_wrong_length_in_phase(folder, file):
    proc = run(folder, "--data", f"w0={file}", model="phase.snn")
    assert_clean_failure(proc, "error[E0601]", "w0")


@pytest.mark.needs_cc
def test_run_data_too_short_in_init(folder):
    proc = run(folder, "--data", "w0=three.npy")
    assert_clean_failure(proc, "error[E0601]")


@pytest.mark.needs_cc
def test_run_data_too_long_in_init(folder):
    proc = run(folder, "--data", "w0=five.npy")
    assert_clean_failure(proc, "error[E0601]", "w0")


@pytest.mark.needs_cc
def test_unwritable_results_folder_is_a_clean_error(tmp_path):
    """An unwritable output folder: a clear error, exit 1, nothing half-written."""
    model = tmp_path / "m.snn"
    model.write_text("poisson p[2]:\n    rate = 5 Hz\nmonitor s: spikes of p\nphase a:\n    run 1 ms\n")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = snndsl("run", model, "-o", blocker / "results")
    assert_clean_failure(proc, "error[E0601]", "cannot write results")
    assert blocker.read_text() == "not a folder"


@pytest.mark.needs_cc
def test_failed_run_leaves_no_results(tmp_path):
    model = tmp_path / "m.snn"
    model.write_text('data d = "missing.npy"\npoisson p[2]:\n    rate : Hz\nphase a:\n    p.rate = d * Hz\n')
    out = tmp_path / "results"
    proc = snndsl("run", model, "-o", out)
    assert_clean_failure(proc, "error[E0601]", "missing.npy")
    assert not (out / "manifest.json").exists()


def test_internal_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys, tmp_path):
    """A bug in snndsl: one line asking to report it, exit 2; --debug re-raises."""
    from snndsl import cli, driver

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug\nwith a second line")

    monkeypatch.setattr(driver, "diagnose", broken)
    model = tmp_path / "m.snn"
    model.write_text("poisson p[1]:\n    rate = 1 Hz\n")
    assert cli.main(["check", str(model)]) == 2
    err = capsys.readouterr().err
    assert "internal error (RuntimeError): simulated bug" in err and "report" in err
    assert "Traceback" not in err and "second line" not in err
    with pytest.raises(RuntimeError, match="simulated bug"):
        cli.main(["--debug", "check", str(model)])


# ---- no C compiler -------------------------------------------------------------

MODEL_TO_BUILD = "poisson p[2]:\n    rate = 5 Hz\nmonitor s: spikes of p\nphase a:\n    run 10 ms\n"


def _without_compiler(tmp_path, cc: str):
    """`snndsl run --backend c` (no fallback to the reference backend: see
    tests/reference/test_reference_errors.py for that)."""
    model = tmp_path / "m.snn"
    model.write_text(MODEL_TO_BUILD)
    env = dict(os.environ, CC=cc, SNNDSL_CACHE=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "snndsl", "run", "m.snn", "-o", "results", "--backend", "c"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_a_missing_compiler_is_the_users_to_install(tmp_path):
    """Not 'a bug in snndsl' (it was an internal error, exit 2): E0602, exit 1,
    how to install one; nothing written; check still works without one."""
    proc = _without_compiler(tmp_path, "no-such-cc")
    assert_clean_failure(proc, "error[E0602]", "'no-such-cc'", "sudo apt install gcc", "xcode-select")
    assert not (tmp_path / "results").exists()
    env = dict(os.environ, CC="no-such-cc")
    check = subprocess.run([sys.executable, "-m", "snndsl", "check", "m.snn"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600)
    assert check.returncode == 0, check.stderr


@pytest.mark.needs_cc
def test_a_compiler_that_cannot_compile_anything_is_the_users_too(tmp_path):
    """`CC=false`: the build fails, the compiler fails a two-line program
    too, so the compiler is at fault (E0602), not snndsl's C."""
    proc = _without_compiler(tmp_path, "false")
    assert_clean_failure(proc, "error[E0602]", "'false' cannot compile a two-line C program")
    assert not (tmp_path / "results").exists()


def test_a_missing_compiler_raises_a_compile_error_in_python(tmp_path, monkeypatch):
    import snndsl
    model = tmp_path / "m.snn"
    model.write_text(MODEL_TO_BUILD)
    monkeypatch.setenv("CC", "no-such-cc")
    monkeypatch.setenv("SNNDSL_CACHE", str(tmp_path / "cache"))
    with pytest.raises(snndsl.CompileError) as exc:
        snndsl.compile(model, backend="c")
    assert exc.value.diagnostics[0].code.value == "E0602"
