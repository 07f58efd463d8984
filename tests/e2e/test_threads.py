"""Threads (issue 11): every example, e2e model and Brian2 port gives the
same results, bit for bit, on 1, 2 and 3 threads, with every loop that
passes/share_work.py lets threads share run on them however small it is
(`snn_sim_set_parallel_min(sim, 1)`); `--threads` on the command line and
the binary; and a build without OpenMP that says so."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl.build import cc
from snndsl.ir import nodes as ir

pytestmark = pytest.mark.needs_cc

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES, MODELS = ROOT / "examples", ROOT / "tests" / "e2e" / "models"


sys.path.insert(0, str(ROOT / "tests" / "reference"))
import test_against_c as REF  # noqa: E402  (its comparison and its shortened ports)


def run(model: snndsl.Model, threads: int, **kwargs) -> snndsl.Results:
    sim = model.simulation(threads=threads, **kwargs)
    if threads > 1:  # share every loop that may be shared, not only the large ones
        sim._lib.snn_sim_set_parallel_min(sim._sim.ptr, 1)
    sim.run_protocol()
    return sim.results()


def assert_threads_agree(path, **kwargs) -> snndsl.Results:
    model = snndsl.compile(path)
    one = run(model, 1, **kwargs)
    for threads in (2, 3):
        many = run(model, threads, **kwargs)
        assert many.manifest["timings"]["threads"] == threads
        REF.assert_same(many, one)
    return one


def shares(path) -> set[str]:
    return {getattr(k, "share", "none") for k in snndsl.compile(path).frontend.ir.step}


@pytest.mark.parametrize("name, params", [
    ("freeze_after_learning.snn", None), ("cuba.snn", {"duration": "100 ms"}),
    ("song_abbott.snn", {"duration": "2 s"})])
def test_examples(name, params):
    one = assert_threads_agree(EXAMPLES / name, params=params)
    assert sum(len(m.t) for m in one.monitors.values()) > 100
    assert {"elements", "far end"} & shares(EXAMPLES / name)


def test_mnist_tiny(tmp_path):
    path = REF._shortened(tmp_path, EXAMPLES / "mnist" / "diehl_cook.snn",
                          {"const n_e = 100\n": "const n_e = 20\n", "const t_show = 350 ms": "const t_show = 60 ms",
                           "const t_rest = 150 ms": "const t_rest = 10 ms"})
    one = assert_threads_agree(path, params={"n_train": 3, "n_label": 2, "n_test": 2}, seed=3,
                               data=REF.mnist_data(tmp_path))
    assert one.saved["test_counts"].sum() > 0


@pytest.mark.parametrize("name", sorted(p.stem for p in MODELS.glob("*.snn")
                                        if p.stem not in ("lif_delays", "forum_fixed")))
def test_e2e_models(name):
    assert_threads_agree(MODELS / f"{name}.snn")


def test_lif_delays(lif_delays_data):
    assert_threads_agree(MODELS / "lif_delays.snn", data=lif_delays_data)


def test_forum_fixed(tmp_path):
    data, _ = REF.forum_inputs(tmp_path)
    assert_threads_agree(MODELS / "forum_fixed.snn", data=data)


@pytest.mark.parametrize("path", sorted(REF.BRIAN2_PORTS.glob("*.snn")), ids=lambda p: p.stem)
def test_brian2_ports(path, tmp_path):
    path, params = REF.port(path, tmp_path)
    assert_threads_agree(path, params=params)


def test_a_snapshot_continues_the_same_on_another_number_of_threads(tmp_path):
    model = snndsl.compile(EXAMPLES / "freeze_after_learning.snn")
    sim = model.simulation(threads=1)
    sim.advance(0.4)
    sim.save_state(tmp_path / "s.state")
    sim.advance(0.4)
    other = model.simulation(threads=3).load_state(tmp_path / "s.state")
    other._lib.snn_sim_set_parallel_min(other._sim.ptr, 1)
    other.advance(0.4)
    np.testing.assert_array_equal(other["S"].w, sim["S"].w)
    a, b = other.results()["weights"], sim.results()["weights"]  # a snapshot holds no recordings
    assert len(a.t) == 400
    np.testing.assert_array_equal(a.values, b.values[400:])


def test_the_command_line_and_the_binary(tmp_path):
    path = EXAMPLES / "freeze_after_learning.snn"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "snndsl", "run", str(path), "-q", *args], cwd=tmp_path,
                              capture_output=True, text=True)

    assert cli("-o", "one").returncode == 0
    assert cli("-o", "all", "--threads", "0").returncode == 0
    for name in ("weights.values.npy", "trained_w.npy", "out_spikes.t.npy"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "all" / name).read_bytes()
    assert json.loads((tmp_path / "all" / "manifest.json").read_text())["timings"]["threads"] >= 1
    for bad in ("-1", "2.5", "many", "257"):
        proc = cli("-o", "bad", "--threads", bad)
        assert proc.returncode == 1 and "--threads expects a number of threads from 1 to 256" in proc.stderr, bad
        assert not (tmp_path / "bad").exists()
    binary = snndsl.compile(path).binary
    proc = subprocess.run([str(binary), "-o", str(tmp_path / "b"), "--threads", "300"], capture_output=True, text=True)
    assert proc.returncode == 1 and "--threads expects a number of threads from 1 to 256" in proc.stderr
    proc = subprocess.run([str(binary), "-o", str(tmp_path / "b"), "-q", "--threads=2"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "b" / "trained_w.npy").read_bytes() == (tmp_path / "one" / "trained_w.npy").read_bytes()


@pytest.mark.parametrize("bad", [-1, 257, 1.5, True, "2", None])
def test_python_refuses_a_bad_number_of_threads(bad):
    model = snndsl.compile(EXAMPLES / "freeze_after_learning.snn")
    with pytest.raises(snndsl.SimulationError, match="threads takes a number of threads from 1 to 256"):
        model.run(threads=bad)


def test_a_build_without_openmp_runs_on_one_thread_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(cc, "openmp_flags", lambda compiler: ())
    model = snndsl.compile(EXAMPLES / "freeze_after_learning.snn", build_dir=tmp_path / "build")
    assert b"GOMP_parallel" not in model.library.read_bytes()
    assert b"GOMP_parallel" in snndsl.compile(EXAMPLES / "freeze_after_learning.snn").library.read_bytes()
    assert model.run(threads=1).saved["trained_w"].shape == (100,)
    with pytest.raises(snndsl.SimulationError, match="built without OpenMP .* leave out threads"):
        model.run(threads=2)
    proc = subprocess.run([str(model.binary), "-o", str(tmp_path / "r"), "--threads", "2"], capture_output=True,
                          text=True)
    assert proc.returncode == 1 and "built without OpenMP" in proc.stderr


def test_a_signal_stops_every_thread_and_the_results_are_written(tmp_path):
    import signal
    import time
    path = tmp_path / "long.snn"
    # 5000 neurons to integrate, 10 that spike: what is written stays small however far the loop got
    path.write_text("neurons G[5000]:\n    dv/dt = (where(i < 10, 1.5, 0.5) + 0.0001 * i - v) / (10 ms) : 1\n"
                    "    threshold: v > 1\n"
                    "    reset: v = 0\nmonitor s: spikes of G\nmonitor mv: G.v[0:3] every 1 ms\n"
                    "phase long:\n    run 10000 s\n")
    model = snndsl.compile(path)
    assert shares(path) >= {"elements"}
    proc = subprocess.Popen([str(model.binary), "-o", str(tmp_path / "res"), "--quiet", "--threads", "2"],
                            stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    res = snndsl.load(tmp_path / "res")
    assert res.interrupted and res.manifest["timings"]["threads"] == 2
    n = len(res["mv"].t)
    assert 0 < n and len(res["s"].t) > 0 and res["s"].t.max() < n * 1e-3 + 1e-3
    # what it recorded is what one thread computes over the same time
    short = tmp_path / "short.snn"
    short.write_text(path.read_text().replace("run 10000 s", f"run {n} ms"))
    one = snndsl.compile(short).run()
    np.testing.assert_array_equal(res["mv"].values, one["mv"].values[:n])


NO_THRESHOLD_BETWEEN = """\
neurons src[4]:
    dx/dt = (1 + i - x) / (5 ms) : 1
neurons G[8]:
    dv/dt = (2 + 0.1 * i - v) / (10 ms) : 1
    threshold: v > 1.5
    reset: v = 0
monitor mv: G.v
monitor sp: spikes of G
phase a:
    run 50 ms
"""


@pytest.mark.parametrize("parallel_min", [None, 1])
def test_a_group_without_threshold_does_not_let_a_threshold_run_early(tmp_path, parallel_min):
    """A group that cannot spike (src) clears its spike list on one thread, in
    a stretch all threads wait for: shared, it ran with no join, so G's
    threshold could start on one thread while another still updated G (found
    under load: a spike missed, 31 runs in 40). 12 runs, each the 1-thread
    result, with small loops on one thread (the default) and shared."""
    path = tmp_path / "between.snn"
    path.write_text(NO_THRESHOLD_BETWEEN)
    model = snndsl.compile(path)
    step = model.frontend.ir.step
    assert next(k for k in step if isinstance(k, ir.Threshold) and k.target == "src").share == "none"
    one = run(model, 1)
    assert len(one["sp"].i) > 10
    for _ in range(12):
        if parallel_min is None:
            many = model.run(threads=2)
        else:
            many = run(model, 2)
        np.testing.assert_array_equal(many["mv"].values, one["mv"].values)
        np.testing.assert_array_equal(many["sp"].i, one["sp"].i)
