"""Issue 7, the process side: a model binary that dies or is orphaned, files
that are not regular files, interrupted runs, and the Python API's and the
command line's answers to a user's mistakes. Each test failed before its fix.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import snndsl

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "freeze_after_learning.snn"

LONG = ("poisson p[2000]:\n    rate = 50 Hz\nmonitor s: spikes of p\n"
        "phase long:\n    run 10000 s\n")


def snndsl_cmd(*args, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snndsl", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def assert_user_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text and "internal error" not in text, text
    assert proc.returncode == 1, f"exit {proc.returncode}:\n{text}"
    for f in fragments:
        assert f in proc.stderr, f"{f!r} not in:\n{proc.stderr}"


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# ---- a binary that dies, a binary left behind ---------------------------------

@pytest.mark.needs_cc
def test_binary_killed_by_a_signal_is_reported(tmp_path):
    """`ulimit -f` too small for the results: the binary dies of SIGXFSZ while
    writing. Before: `snndsl run` printed nothing and exited 1."""
    model = tmp_path / "m.snn"
    model.write_text("poisson p[100]:\n    rate = 200 Hz\nmonitor s: spikes of p\nphase a:\n    run 10 s\n")
    snndsl.compile(model)  # build outside the limit

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(model), "-o", str(tmp_path / "res"),
                           "--quiet"], capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert_user_error(proc, "SIGXFSZ", "killed", "no results were written")


@pytest.mark.needs_cc
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_snndsl_run_kills_the_binary(tmp_path):
    """Before: the model binary went on running as an orphan."""
    model = tmp_path / "long.snn"
    model.write_text(LONG)
    snndsl.compile(model)
    proc = subprocess.Popen([sys.executable, "-m", "snndsl", "run", str(model), "-o", str(tmp_path / "res"),
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _children(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        (child,) = _children(proc.pid)
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        survived = _alive(child)
        if survived:
            os.kill(child, signal.SIGKILL)
        assert not survived, "the model binary outlived snndsl run"
    finally:
        proc.kill()


# ---- files that are not regular files -----------------------------------------

def test_fifo_as_the_model_file_is_refused(tmp_path):
    fifo = tmp_path / "m.snn"
    os.mkfifo(fifo)
    proc = snndsl_cmd("check", fifo, timeout=30)  # before: blocked for ever
    assert_user_error(proc, "not a regular file")


def test_folder_as_the_model_file_is_refused(tmp_path):
    assert_user_error(snndsl_cmd("check", tmp_path), "a folder")


@pytest.mark.needs_cc
def test_fifo_as_data_is_refused(tmp_path):
    model = tmp_path / "m.snn"
    model.write_text("data x = \"x.npy\"\nneurons G[2]:\n    v : 1\n    init: v = x[i]\nphase a:\n    run 1 ms\n"
                     "    save G.v as v\n")
    fifo = tmp_path / "x.npy"
    os.mkfifo(fifo)
    snndsl.compile(model)
    proc = snndsl_cmd("run", model, "-o", tmp_path / "res", "--data", f"x={fifo}", timeout=60)
    assert_user_error(proc, "not a regular file")


@pytest.mark.needs_cc
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_snapshot_that_is_not_a_regular_file_is_refused(forum_model, tmp_path, special):
    """Before: a FIFO blocked for ever, /dev/zero was read until memory ran out."""
    path = special
    if special == "fifo":
        path = tmp_path / "s.state"
        os.mkfifo(path)
    with pytest.raises(snndsl.SimulationError, match="not a regular file"):
        forum_model.simulation().load_state(path)


def test_model_file_that_is_not_utf8_is_located(tmp_path):
    bad = tmp_path / "m.snn"
    bad.write_bytes(b"dt = 0.1 ms\n# caf\xe9 au lait\nconst x = 1\n")
    proc = snndsl_cmd("check", bad)
    assert_user_error(proc, f"{bad}:2:6: error[E0601]", "not UTF-8", "0xe9", "^")


# ---- interrupted runs ------------------------------------------------------------

@pytest.mark.needs_cc
def test_interrupted_run_records_where_it_stopped(tmp_path):
    """Before: the manifest said the phase ran 0 .. 0 s."""
    model = tmp_path / "long.snn"
    model.write_text(LONG)
    binary = snndsl.compile(model).binary
    out = tmp_path / "res"
    proc = subprocess.Popen([str(binary), "-o", str(out), "--quiet"], stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    res = snndsl.load(out)
    assert res.interrupted
    start, stop = res.phases["long"]
    assert start == 0.0
    t = res["s"].t
    assert 0 < t.max() <= stop + 1e-12 < 10000  # every recorded spike lies inside the recorded phase
    assert stop - t.max() < 0.01


# ---- progress through the Python API ---------------------------------------------

@pytest.mark.needs_cc
@pytest.mark.parametrize("quiet", [True, False])
def test_advance_prints_nothing_when_quiet_or_short(tmp_path, quiet):
    """Before: advance() printed a progress line at once, with the machine's
    uptime as the wall time and an empty phase name, even when quiet."""
    model = tmp_path / "m.snn"
    model.write_text("neurons G[10]:\n    dv/dt = -v / (10 ms) : 1\nphase a:\n    run 1 ms\n")
    script = (f"import snndsl\nm = snndsl.compile({str(model)!r})\n"
              f"m.simulation(quiet={quiet}).advance(0.5)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


# ---- the Python API's answers to mistakes ------------------------------------------

@pytest.fixture(scope="module")
def forum_model():
    return snndsl.compile(EXAMPLE)


@pytest.mark.needs_cc
@pytest.mark.parametrize("kwargs, fragment", [
    (dict(seed=-1), "--seed expects an integer from 0 to 2**64-1"),
    (dict(seed=2 ** 70), "--seed expects an integer from 0 to 2**64-1"),
    (dict(seed=1.5), "--seed expects an integer"),
    (dict(seed=True), "--seed expects an integer"),
    (dict(params={"p": None}), "--set p: the value is a string with a unit"),
    (dict(params=[("p", 1)]), "params takes a mapping"),
    (dict(params={3: 1.0}), "a name is a non-empty string"),
    (dict(data={"x": 3}), "--data x takes a path"),
], ids=["seed-negative", "seed-huge", "seed-float", "seed-bool", "param-none", "params-list", "param-name",
        "data-not-path"])
def test_python_api_mistakes_raise_simulation_error(forum_model, kwargs, fragment):
    with pytest.raises(snndsl.SimulationError, match="error\\[E0601\\]") as info:
        forum_model.simulation(**kwargs)
    assert fragment in str(info.value)
    assert isinstance(info.value, snndsl.Error)


@pytest.mark.needs_cc
@pytest.mark.parametrize("duration", ["1 mV", "abc", None, [1.0]])
def test_advance_with_a_bad_duration_raises_simulation_error(forum_model, duration, capfd):
    with pytest.raises(snndsl.SimulationError, match="advance takes a duration"):
        forum_model.simulation().advance(duration)
    assert "Traceback" not in capfd.readouterr().err  # no worker-thread traceback either


@pytest.mark.needs_cc
def test_advance_takes_a_duration_with_a_unit(forum_model):
    a = forum_model.simulation(seed=5).advance("200 ms").advance("0.3 s").results()
    b = forum_model.simulation(seed=5).advance(0.2).advance(0.3).results()
    np.testing.assert_array_equal(a["weights"].values, b["weights"].values)
    assert len(a["weights"].t) > 0


def test_every_user_facing_exception_is_an_snndsl_error():
    for exc in (snndsl.CompileError, snndsl.SimulationError, snndsl.ResultsError):
        assert issubclass(exc, snndsl.Error)
    assert not issubclass(snndsl.InternalError, snndsl.Error)


# ---- the command line's answers ------------------------------------------------------

def test_a_bad_seed_on_the_command_line_exits_1(tmp_path):
    """Before: argparse's exit status 2, which snndsl keeps for its own bugs."""
    assert_user_error(snndsl_cmd("run", EXAMPLE, "-o", tmp_path / "r", "--seed", "abc"),
                      "--seed expects an integer from 0 to 2**64-1, got 'abc'")
    assert_user_error(snndsl_cmd("run", EXAMPLE, "-o", tmp_path / "r", "--seed", "-3"), "--seed expects")
    assert_user_error(snndsl_cmd("run", EXAMPLE, "-o", tmp_path / "r", "--seed", "\u00b2"), "--seed expects")


def test_an_unknown_option_exits_1():
    assert_user_error(snndsl_cmd("check", EXAMPLE, "--nope"), "error[E0601]", "--nope")


@pytest.mark.needs_cc
def test_the_binarys_own_argument_errors_have_a_code(forum_model):
    proc = subprocess.run([str(forum_model.binary), "--set", "novalue"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "error[E0601]: --set expects NAME=VALUE" in proc.stderr


@pytest.mark.needs_cc
def test_a_key_into_an_npy_file_is_explained(tmp_path):
    """Before: 'no such file', though d.npy exists."""
    model = tmp_path / "m.snn"
    model.write_text("data x = \"x.npy\"\nneurons G[2]:\n    v : 1\n    init: v = x[i]\nphase a:\n    run 1 ms\n"
                     "    save G.v as v\n")
    np.save(tmp_path / "d.npy", np.array([1.0, 2.0]))
    proc = snndsl_cmd("run", model, "-o", tmp_path / "res", "--data", f"x={tmp_path / 'd.npy'}:arr")
    assert_user_error(proc, "is a .npy file", "has no keys")
    proc = snndsl_cmd("run", model, "-o", tmp_path / "res", "--data", f"x={tmp_path / 'd.npy'}", "--quiet")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(snndsl.load(tmp_path / "res").saved["v"], [1.0, 2.0])


@pytest.fixture
def fast_progress(monkeypatch):
    """Report from the first poll on, at every poll (50 ms), so a run of a
    fraction of a second is reported several times."""
    from snndsl import progress
    monkeypatch.setattr(progress, "AFTER", 0.0)
    monkeypatch.setattr(progress, "EVERY", 0.0)
    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)
    return progress


CUBA = ROOT / "examples" / "cuba.snn"


@pytest.mark.needs_cc
def test_a_progress_callback_hears_what_the_simulation_does(fast_progress):
    model = snndsl.compile(CUBA)
    got = []
    res = model.run(params={"duration": "4 s"}, progress=got.append)
    assert res.phases["simulate"] == (0.0, 4.0)
    # making the synapses may report first ("connecting exc_exc", its own fraction), if a poll comes then
    assert all(p.t == 0 and 0 <= p.fraction <= 1 for p in got if p.what.startswith("connecting "))
    got = [p for p in got if not p.what.startswith("connecting ")]
    assert len(got) >= 3, got
    assert all(isinstance(p, snndsl.Progress) for p in got)
    assert {p.what for p in got} == {"simulate"} and {p.run for p in got} == {(0.0, 4.0)}
    ts = [p.t for p in got]
    assert ts == sorted(ts) and 0 <= ts[0] and ts[-1] < 4.0  # a first poll may come before the first step
    for p in got:
        assert p.fraction == pytest.approx(p.t / 4.0, abs=1e-9)
        assert p.wall > 0 and (p.remaining is None or p.remaining >= 0)
    assert any(p.remaining is not None for p in got)
    # advance() reports too, as "advance"
    seen = []
    model.simulation(progress=seen.append).advance(2.0)
    seen = [p for p in seen if not p.what.startswith("connecting ")]
    assert seen and {p.what for p in seen} == {"advance"} and seen[-1].run == (0.0, 2.0)


@pytest.mark.needs_cc
def test_quiet_false_reports_through_python_not_the_stderr_descriptor(fast_progress, monkeypatch, capfd):
    """No tqdm installed: a plain line per report on sys.stderr (not a
    terminal: no carriage returns), nothing written by C to descriptor 2."""
    import io
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` fails
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    snndsl.compile(CUBA).run(params={"duration": "2 s"}, quiet=False)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2 and "\r" not in stream.getvalue()
    assert all(line.startswith("[snndsl] phase simulate  t = ") and "% of this run" in line for line in lines)
    out, err = capfd.readouterr()
    assert err == "" and out == ""
    # quiet: nothing at all
    stream.truncate(0)
    snndsl.compile(CUBA).run(params={"duration": "1 s"}, quiet=True)
    assert stream.getvalue() == ""


@pytest.mark.needs_cc
def test_quiet_false_shows_a_tqdm_bar_per_run_when_tqdm_is_installed(fast_progress, monkeypatch):
    import types
    bars = []

    class FakeTqdm:
        def __init__(self, total, desc, **kwargs):
            self.total, self.desc, self.n, self.postfix, self.closed = total, desc, 0, "", False
            bars.append(self)

        def set_postfix_str(self, text, refresh=True):
            self.postfix = text

        def refresh(self):
            pass

        def close(self):
            self.closed = True

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeTqdm
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    snndsl.compile(CUBA).run(params={"duration": "2 s"}, quiet=False)
    assert len(bars) == 1 and bars[0].desc == "simulate" and bars[0].total == 100
    assert 0 < bars[0].n <= 100 and bars[0].postfix.startswith("t = ") and bars[0].closed


@pytest.mark.needs_cc
def test_a_failing_progress_callback_stops_the_run_and_raises(fast_progress):
    def fail(p):
        raise ValueError("from the callback")

    sim = snndsl.compile(CUBA).simulation(params={"duration": "10 s"}, progress=fail)
    with pytest.raises(ValueError, match="from the callback"):
        sim.run_protocol()
    assert sim.results().interrupted
    with pytest.raises(snndsl.SimulationError, match="progress takes a function"):
        snndsl.compile(CUBA).run(progress="yes")
