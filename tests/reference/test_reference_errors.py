"""What the reference backend refuses, and how a run chooses it: every refusal
a diagnostic with the .snn place (E0901, exit 1); without a C compiler a run
falls back to it with a warning, unless `--backend c` asks for C."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl import cli

ROOT = Path(__file__).resolve().parent.parent.parent

DETERMINISTIC = """\
spikes inp[2]:
    indices = [0, 1, 0]
    times = [1 ms, 2 ms, 3 ms]
neurons n[2]:
    dv/dt = -v / (5 ms) : volt
    threshold: v > 1 mV
    reset: v = 0 mV
synapses S: inp -> n:
    connect: all
    on pre: post.v += 0.8 mV
monitor s: spikes of n
monitor v: n.v
phase a:
    run 10 ms
"""


def _model(tmp_path, text: str) -> Path:
    path = tmp_path / "m.snn"
    path.write_text(textwrap.dedent(text))
    return path


def _snndsl(tmp_path, *args, **env):
    return subprocess.run([sys.executable, "-m", "snndsl", *args], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ, SNNDSL_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT), **env),
                          timeout=600)


def _refused(capsys, path, code: str, line: int, col: int, words: str) -> str:
    assert cli.main(["run", str(path), "--backend", "reference", "-o", str(path.parent / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}:{col}: error[{code}]" in err, err
    assert words in err and "^" in err and "Traceback" not in err
    assert not (path.parent / "out").exists()
    return err


@pytest.mark.parametrize("text, line, col, words", [
    # what passes/sequence_draws.py leaves: two draws in one branch of where(), two in a threshold
    ("neurons n[3]:\n    v : 1\n    init: v = where(i > 0, rand() + 2 * randn(), 0)\nmonitor m: n.v\nphase a:\n"
     "    run 1 ms\n", 3, 41, "order of their draws unspecified"),
    (("neurons n[3]:\n    dv/dt = 1 / ms : 1\n    threshold: rand() < 0.5 * rand()\n    reset: v = 0\n"
      "monitor m: n.v\nphase a:\n    run 1 ms\n"), 3, 31, "order of their draws unspecified"),
    ("precision = single\nneurons n[1]:\n    dv/dt = -v / (1 ms) : 1\nphase a:\n    run 1 ms\n", 1, 1,
     "precision = single"),
    ("neurons n[1]:\n    dv/dt = -v / (1 ms) : 1\nphase a:\n    run 1 ms\n    store state as s\n", 5, 5, "snapshots"),
])
def test_an_unsupported_feature_is_a_diagnostic(tmp_path, capsys, text, line, col, words):
    path = _model(tmp_path, text)
    _refused(capsys, path, "E0901", line, col, words)
    with pytest.raises(snndsl.CompileError) as exc:
        snndsl.compile(path, backend="reference")
    assert [d.code.value for d in exc.value.diagnostics][0] == "E0901"


@pytest.mark.parametrize("example", ["cuba", "freeze_after_learning", "song_abbott"])
def test_the_random_examples_are_taken(example):
    assert snndsl.compile(ROOT / "examples" / f"{example}.snn", backend="reference").backend == "reference"


def test_a_backend_that_does_not_exist_is_a_usage_error(tmp_path, capsys):
    """The project's usage errors: usage, one E0601 line, exit 1 (2 is for bugs)."""
    path = _model(tmp_path, DETERMINISTIC)
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", str(path), "--backend", "nonsense"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "usage:" in err and "--backend" in err and "'nonsense'" in err and "reference" in err
    with pytest.raises(snndsl.SimulationError, match="backend is one of"):
        snndsl.compile(path, backend="nonsense")


def test_without_a_compiler_a_run_falls_back_with_a_warning(tmp_path):
    _model(tmp_path, DETERMINISTIC)
    proc = _snndsl(tmp_path, "run", "m.snn", "-o", "results", "--quiet", CC="no-such-cc")
    assert proc.returncode == 0, proc.stderr
    assert "warning" in proc.stderr and "reference backend" in proc.stderr and "'no-such-cc'" in proc.stderr
    res = snndsl.load(tmp_path / "results")
    assert len(res["s"].i) > 0
    # the same results as the reference backend chosen explicitly, with no warning
    proc = _snndsl(tmp_path, "run", "m.snn", "-o", "chosen", "--quiet", "--backend", "reference", CC="no-such-cc")
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    np.testing.assert_array_equal(res["v"].values, snndsl.load(tmp_path / "chosen")["v"].values)


def test_without_a_compiler_an_explicit_c_backend_is_e0602(tmp_path):
    _model(tmp_path, DETERMINISTIC)
    proc = _snndsl(tmp_path, "run", "m.snn", "-o", "results", "--backend", "c", CC="no-such-cc")
    assert proc.returncode == 1 and "error[E0602]" in proc.stderr and "Traceback" not in proc.stderr
    assert "reference backend" not in proc.stderr and not (tmp_path / "results").exists()


def test_without_a_compiler_a_model_neither_backend_runs_says_both(tmp_path):
    _model(tmp_path, "neurons n[3]:\n    v : 1\nmonitor m: n.v\nphase a:\n    run 1 ms\n"
                     "    store state as s\n")
    proc = _snndsl(tmp_path, "run", "m.snn", "-o", "results", CC="no-such-cc")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.index("error[E0602]") < proc.stderr.index("m.snn:6:5: error[E0901]")
    assert not (tmp_path / "results").exists()


def test_without_a_compiler_compile_falls_back_in_python(tmp_path, monkeypatch):
    path = _model(tmp_path, DETERMINISTIC)
    monkeypatch.setenv("CC", "no-such-cc")
    with pytest.warns(snndsl.BackendWarning, match="reference backend"):
        model = snndsl.compile(path)
    assert model.backend == "reference"
    assert len(model.run()["s"].i) > 0
    with pytest.raises(snndsl.SimulationError, match="no binary"):
        model.binary
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert snndsl.compile(path, backend="reference").backend == "reference"


def test_run_time_errors_are_the_cs(tmp_path):
    """A bad --set, a missing data file, an index out of range: the C's words."""
    path = _model(tmp_path, """\
        param rate = 5 Hz
        data d = "missing.npy"
        neurons n[3]:
            x : 1
            init: x = d[i + 1]
        phase a:
            run 1 ms
    """)
    model = snndsl.compile(path, backend="reference")
    with pytest.raises(snndsl.SimulationError, match=r"--set rate=3 mV: the parameter is in 1/second, the value "
                                                     r"in volt"):
        model.run(params={"rate": "3 mV"})
    # whole powers and small fractions, as the language's units
    with pytest.raises(snndsl.SimulationError, match=r"--set rate=3 Hz\*\*0\.5: the parameter is in 1/second, "
                                                     r"the value in 1/second\*\*0\.5"):
        model.run(params={"rate": "3 Hz**0.5"})
    with pytest.raises(snndsl.SimulationError, match=r"expected a whole power or a small fraction \(such as 0\.5 "
                                                     r"or \(1/3\)\) after '\*\*'"):
        model.run(params={"rate": "3 Hz**(1/13)"})
    with pytest.raises(snndsl.SimulationError, match=r"m\.snn:2:1: error\[E0601\]: data 'd'.*no such file"):
        model.run()
    np.save(tmp_path / "short.npy", np.array([1.0, 2.0, 3.0]))
    with pytest.raises(snndsl.SimulationError, match=r"error\[E0601\]: index 3 is out of range for a data array "
                                                     r"of 3 elements"):
        model.run(data={"d": tmp_path / "short.npy"})
