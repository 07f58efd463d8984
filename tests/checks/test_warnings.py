"""Warnings: same form as errors, never fatal (exit status 0)."""
import subprocess
import sys

from snndsl.driver import frontend

MODEL = """\
const unused_c = 3
param unused_p = 2 Hz
data unused_d = "nothing.npy"
const used = 5 Hz
poisson p[2]:
    rate = used
neurons n[1]:
    dv/dt = -v / (10 ms) : volt (unless refractory)
"""


def test_warnings_are_reported_with_code_and_place():
    fe = frontend(MODEL, "w.snn")
    got = sorted((d.code.value, d.span.line, d.span.col) for d in fe.warnings)
    assert got == [("W0101", 1, 1), ("W0101", 2, 1), ("W0101", 3, 1), ("W0102", 8, 5)]
    assert all(not d.is_error for d in fe.warnings)


def test_check_prints_warnings_and_exits_0(tmp_path):
    path = tmp_path / "w.snn"
    path.write_text(MODEL)
    proc = subprocess.run([sys.executable, "-m", "snndsl", "check", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0
    assert f"{path}:1:1: warning[W0101]: constant 'unused_c' is never used" in proc.stderr
    assert "^" in proc.stderr and "Traceback" not in proc.stderr


def test_a_clause_that_reads_like_a_declaration_warns():
    fe = frontend("poisson p[2]:\n    rate = 1 Hz\nsynapses S: p -> p:\n    connect: all\n    delay : second\n"
                  "    on pre: w += 1\n    w : 1\n", "w.snn")
    assert [(d.code.value, d.span.line) for d in fe.warnings] == [("W0103", 5)]
