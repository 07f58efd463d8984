"""Ranks (issue 11, MPI): every example, e2e model and Brian2 port built for
ranks (passes/distribute.py) and run under `mpiexec -n 2` and `-n 3` (the ports
under one of them, in turn) gives
the results of one process without MPI, bit for bit; `snndsl run --ranks`,
`snndsl compile --ranks` with `mpiexec` directly, an interrupt, and the
mistakes a user can make with them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl import cli, driver
from snndsl.build import cc

pytestmark = [pytest.mark.needs_cc, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES, MODELS = ROOT / "examples", ROOT / "tests" / "e2e" / "models"


sys.path.insert(0, str(ROOT / "tests" / "reference"))
import test_against_c as REF  # noqa: E402  (its comparison and its shortened ports)


def rank_binary(path: Path) -> Path:
    source, file = driver.read_source(str(path))
    fe = driver.frontend(source, file, ranks=True)
    return cc.build(fe.c_source, mpi=True).binary


def mpiexec(ranks: int, args: list[str], timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    cmd, env = cli._mpiexec(ranks, [str(a) for a in args])
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)


def run_ranks(binary: Path, ranks: int, out: Path, params=None, data=None, seed=None) -> snndsl.Results:
    args = [binary, "-o", out, "-q"]
    for name, value in (params or {}).items():
        args += ["--set", f"{name}={value}"]
    for name, value in (data or {}).items():
        args += ["--data", f"{name}={value}"]
    if seed is not None:
        args += ["--seed", seed]
    proc = mpiexec(ranks, args)
    assert proc.returncode == 0, proc.stderr
    return snndsl.load(out)


def assert_ranks_agree(path: Path, tmp_path: Path, params=None, data=None, seed=None,
                       counts=(2, 3)) -> snndsl.Results:
    one = snndsl.compile(path).run(params=params, data=data, seed=seed)
    binary = rank_binary(path)
    for ranks in counts:
        REF.assert_same(run_ranks(binary, ranks, tmp_path / f"r{ranks}", params, data, seed), one)
    return one


def modes(path: Path) -> set[str]:
    source, file = driver.read_source(str(path))
    return {k.ranks for k in driver.frontend(source, file, ranks=True).ir.step}


@pytest.mark.parametrize("name, params", [
    ("freeze_after_learning.snn", None), ("cuba.snn", {"duration": "100 ms"}),
    ("song_abbott.snn", {"duration": "2 s"})])
def test_examples(name, params, tmp_path):
    one = assert_ranks_agree(EXAMPLES / name, tmp_path, params)
    assert sum(len(m.t) for m in one.monitors.values()) > 100
    assert {"block", "far"} & modes(EXAMPLES / name)  # the work is split, not repeated


def test_the_forum_model_splits_both_pathways():
    got = {(type(k).__name__, getattr(k, "event", "")): k.ranks
           for k in driver.frontend(*driver.read_source(str(EXAMPLES / "freeze_after_learning.snn")),
                                    ranks=True).ir.step}
    assert got[("SynapseEvents", "pre")] == "far" and got[("SynapseEvents", "post")] == "near+advance"


def test_mnist_tiny(tmp_path):
    path = REF._shortened(tmp_path, EXAMPLES / "mnist" / "diehl_cook.snn",
                          {"const n_e = 100\n": "const n_e = 20\n", "const t_show = 350 ms": "const t_show = 60 ms",
                           "const t_rest = 150 ms": "const t_rest = 10 ms"})
    one = assert_ranks_agree(path, tmp_path, params={"n_train": 3, "n_label": 2, "n_test": 2}, seed=3,
                             data=REF.mnist_data(tmp_path))
    assert one.saved["test_counts"].sum() > 0


@pytest.mark.parametrize("name", sorted(p.stem for p in MODELS.glob("*.snn")
                                        if p.stem not in ("lif_delays", "forum_fixed")))
def test_e2e_models(name, tmp_path):
    assert_ranks_agree(MODELS / f"{name}.snn", tmp_path)


def test_lif_delays(lif_delays_data, tmp_path):
    assert_ranks_agree(MODELS / "lif_delays.snn", tmp_path, data=lif_delays_data)


def test_forum_fixed(tmp_path):
    data, _ = REF.forum_inputs(tmp_path)
    assert_ranks_agree(MODELS / "forum_fixed.snn", tmp_path, data=data)


# synapses onto or from synapses do not run on ranks yet (test_synapses_onto_synapses_vs_brian2.py: the error)
NOT_ON_RANKS = {"Izhikevich_2007", "Stimberg_et_al_2018_io_synapse", "Stimberg_et_al_2018_gchi_astrocyte",
                "Stimberg_et_al_2018_synrel", "Stimberg_et_al_2018_rsmean", "Stimberg_et_al_2018_COBA_with_astro"}


PORTS_ON_RANKS = sorted(p for p in REF.BRIAN2_PORTS.glob("*.snn") if p.stem not in NOT_ON_RANKS)


@pytest.mark.parametrize("path, ranks", [(p, 2 + k % 2) for k, p in enumerate(PORTS_ON_RANKS)],
                         ids=lambda x: x.stem if isinstance(x, Path) else str(x))
def test_brian2_ports(path, ranks, tmp_path):
    """Each port on 2 or 3 ranks, in turn (the examples and the e2e models run
    on both): more ranks than this machine's 2 cores wait for each other at
    every exchange when the other test workers are busy, tens of seconds a
    port."""
    path, params = REF.port(path, tmp_path)
    assert_ranks_agree(path, tmp_path, params=params, counts=(ranks,))


def test_snndsl_run_and_compile_with_ranks(tmp_path):
    """`snndsl run --ranks 2` as a user types it, with a relative results
    folder; `snndsl compile --ranks -o build/`, then `mpiexec -n 2 build/model`."""
    path = EXAMPLES / "freeze_after_learning.snn"

    def snndsl_(*args):
        return subprocess.run([sys.executable, "-m", "snndsl", *args], cwd=tmp_path, capture_output=True, text=True)

    assert snndsl_("run", str(path), "-q", "-o", "one").returncode == 0
    proc = snndsl_("run", str(path), "-o", "two", "--ranks", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("freeze_after_learning: 3 phases") == 1  # rank 0 alone reports
    proc = snndsl_("compile", str(path), "--ranks", "-o", "build/")
    assert proc.returncode == 0 and "for MPI ranks" in proc.stdout, proc.stderr
    proc = mpiexec(2, ["build/model", "-o", "direct", "-q"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("weights.values.npy", "trained_w.npy", "tested_w.npy", "out_spikes.t.npy", "out_spikes.i.npy"):
        one = (tmp_path / "one" / name).read_bytes()
        assert (tmp_path / "two" / name).read_bytes() == one and (tmp_path / "direct" / name).read_bytes() == one
    manifest = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert manifest["phases"][0]["name"] == "train"


@pytest.mark.parametrize("args, message", [
    (["--ranks", "0"], "--ranks expects a number of ranks from 1 to 4096, got '0'"),
    (["--ranks", "two"], "--ranks expects a number of ranks from 1 to 4096, got 'two'"),
    (["--ranks", "2", "--threads", "2"], "--ranks runs one thread a rank for now"),
    (["--ranks", "2", "--backend", "reference"], "--ranks runs the C backend"),
])
def test_bad_ranks_are_refused(args, message, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(EXAMPLES / "cuba.snn"), "-o", "out", *args],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_no_mpi_is_a_clear_error(tmp_path):
    env = dict(os.environ, MPICC="/nonexistent/mpicc")
    proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(EXAMPLES / "cuba.snn"), "-o", "out",
                           "--ranks", "2"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "$MPICC names '/nonexistent/mpicc'" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_the_binary_for_ranks_refuses_threads(tmp_path):
    proc = mpiexec(2, [rank_binary(EXAMPLES / "cuba.snn"), "-o", tmp_path / "r", "--threads", "2"])
    assert proc.returncode == 1 and proc.stderr.count("built for ranks (MPI)") == 1, proc.stderr


def test_a_parameter_error_is_reported_once(tmp_path):
    proc = mpiexec(2, [rank_binary(EXAMPLES / "cuba.snn"), "-o", tmp_path / "r", "--set", "duration=-1 ms"])
    assert proc.returncode == 1 and proc.stderr.count("error") == 1, proc.stderr
    assert not (tmp_path / "r").exists()


def mpmd(*commands: list, timeout: float = 60) -> subprocess.CompletedProcess:
    """One rank per command (mpiexec's `-n 1 A : -n 1 B`): ranks given
    different arguments, as on a cluster whose nodes differ. A hang fails
    the test at `timeout` instead of blocking the suite."""
    cmd, env = cli._mpiexec(1, [str(a) for a in commands[0]])
    for other in commands[1:]:
        cmd += [":", "-n", "1", *[str(a) for a in other]]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


DRIVEN = """data drive = "drive.npy"
param nu = 10 Hz
neurons G[100]:
    dv/dt = (drive[i] - v) / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
poisson ext[100] -> G.v:
    rate = nu
    weight = 0.01
monitor s: spikes of G
phase a:
    run 20 ms
phase b:
    run 20 ms
"""


@pytest.fixture
def driven(tmp_path):
    (tmp_path / "m.snn").write_text(DRIVEN)
    np.save(tmp_path / "drive.npy", np.full(100, 1.5))
    return rank_binary(tmp_path / "m.snn")


def test_a_rank_that_fails_before_a_run_stops_the_others(driven, tmp_path):
    """One rank cannot read its data file (a node without it): the others
    stop before the first run instead of waiting for it in the spike
    exchange, and that rank alone says why."""
    missing = tmp_path / "elsewhere" / "drive.npy"
    proc = mpmd([driven, "-o", tmp_path / "r", "-q"], [driven, "-o", tmp_path / "r", "-q", "--data", f"drive={missing}"])
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("error") == 1 and f"rank 1: {tmp_path / 'm.snn'}:1:1: error[E0601]" in proc.stderr
    assert "no such file" in proc.stderr and not (tmp_path / "r").exists()


def test_a_rank_that_fails_inside_a_run_ends_every_rank(driven, tmp_path):
    """Only rank 1's Poisson rate is not a probability (its own --set): it
    fails in the first step while rank 0 waits for its spikes; it says why
    and ends both."""
    proc = mpmd([driven, "-o", tmp_path / "r", "-q"], [driven, "-o", tmp_path / "r", "-q", "--set", "nu=1e9 Hz"])
    assert proc.returncode == 1, proc.stderr
    assert "rank 1: " in proc.stderr and "Poisson input 'ext': rate * dt is 100000" in proc.stderr
    assert proc.stderr.count("rate * dt") == 1 and not (tmp_path / "r").exists()


def test_a_failure_every_rank_meets_in_a_run_is_reported_once(driven, tmp_path):
    proc = mpiexec(2, [driven, "-o", tmp_path / "r", "-q", "--set", "nu=1e9 Hz"], timeout=60)
    assert proc.returncode == 1 and proc.stderr.count("error") == 1, proc.stderr
    assert "rank " not in proc.stderr and "MPI_ABORT" not in proc.stderr and not (tmp_path / "r").exists()


def test_ranks_that_run_different_protocols_are_stopped(driven, tmp_path):
    proc = mpmd([driven, "-o", tmp_path / "r", "-q"], [driven, "--help"])
    assert proc.returncode == 1 and "the ranks ran different protocols" in proc.stderr, proc.stderr


def test_help_is_printed_once_however_many_ranks(driven):
    proc = mpiexec(2, [driven, "--help"], timeout=60)
    assert proc.returncode == 0 and proc.stdout.count("usage: model") == 1, proc.stdout


def test_ranks_that_agree_run_on(driven, tmp_path):
    proc = mpmd([driven, "-o", tmp_path / "r", "-q"], [driven, "-o", tmp_path / "r", "-q"])
    assert proc.returncode == 0, proc.stderr
    assert len(snndsl.load(tmp_path / "r")["s"].t) > 0


@pytest.mark.parametrize("how", ["snndsl run", "mpiexec"])
def test_an_interrupt_stops_every_rank_at_the_same_step(how, tmp_path):
    """Ctrl-C on `snndsl run --ranks 2` (SIGINT to snndsl), or SIGUSR1 to
    mpiexec run directly (Ctrl-C there makes mpiexec kill the ranks): every
    rank stops at the same step, and rank 0 writes what they recorded."""
    import signal
    import time
    path = tmp_path / "long.snn"
    path.write_text("neurons G[5000]:\n    dv/dt = (1.5 + 0.0001 * i - v) / (10 ms) : 1\n    threshold: v > 1\n"
                    "    reset: v = 0\nmonitor s: spikes of G\nmonitor mv: G.v[0:3] every 1 ms\n"
                    "phase long:\n    run 10000 s\n")
    binary = rank_binary(path)
    if how == "mpiexec":
        cmd, env = cli._mpiexec(2, [str(binary), "-o", str(tmp_path / "res"), "--quiet"])
        sig = signal.SIGUSR1
    else:
        cmd, env = [sys.executable, "-m", "snndsl", "run", str(path), "-o", str(tmp_path / "res"), "-q",
                    "--ranks", "2"], None
        sig = signal.SIGINT
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    res = snndsl.load(tmp_path / "res")
    assert res.interrupted
    n = len(res["mv"].t)
    assert 0 < n and len(res["s"].t) > 0
    short = tmp_path / "short.snn"
    short.write_text(path.read_text().replace("run 10000 s", f"run {n} ms"))
    one = snndsl.compile(short).run()
    np.testing.assert_array_equal(res["mv"].values, one["mv"].values[:n])
    k = len(res["s"].i)  # it stopped within the last millisecond: the spikes up to there
    assert k <= len(one["s"].i)
    np.testing.assert_array_equal(res["s"].i, one["s"].i[:k])


def test_the_python_api_runs_on_ranks(lif_delays_data):
    """Model.run(ranks=2): a build for ranks under mpiexec, its results read
    back into memory: the same, bit for bit, as the run in this process, with
    parameters, data and a seed passed on."""
    model = snndsl.compile(EXAMPLES / "cuba.snn")
    one = model.run(params={"duration": "100 ms"}, seed=7)
    two = model.run(params={"duration": "100 ms"}, seed=7, ranks=2)
    REF.assert_same(two, one)
    assert two.path is None and two.manifest["timings"]["ranks"] == 2
    delays = snndsl.compile(MODELS / "lif_delays.snn")
    REF.assert_same(delays.run(data=lif_delays_data, ranks=3), delays.run(data=lif_delays_data))


@pytest.mark.parametrize("kwargs, message", [
    ({"ranks": 0}, "ranks takes a number of ranks from 1 to 4096, not 0"),
    ({"ranks": True}, "ranks takes a number of ranks from 1 to 4096, not True"),
    ({"ranks": 2, "threads": 2}, "ranks run one thread a rank for now"),
    ({"ranks": 2, "params": {"duration": "-1 ms"}},
     "cuba.snn:76:5: error[E0501]: a run's duration must be a non-negative number of seconds"),
    ({"ranks": 2, "params": {"nope": "1"}}, "the model has no parameter 'nope'"),
])
def test_the_python_api_on_ranks_says_what_is_wrong(kwargs, message):
    with pytest.raises(snndsl.SimulationError) as err:
        snndsl.compile(EXAMPLES / "cuba.snn").run(**kwargs)
    assert message in str(err.value)
    assert "prterun" not in str(err.value) and "-----" not in str(err.value)  # Open MPI's notices left out


def test_the_python_api_on_ranks_needs_the_c_backend():
    with pytest.raises(snndsl.SimulationError, match="ranks run the C backend"):
        snndsl.compile(EXAMPLES / "cuba.snn", backend="reference").run(ranks=2)


def test_the_python_api_on_ranks_does_not_name_its_temporary_folder(capsys):
    res = snndsl.compile(EXAMPLES / "cuba.snn").run(params={"duration": "20 ms"}, ranks=2, quiet=False)
    assert len(res["exc_spikes"].t) > 0
    assert "snndsl-ranks-" not in capsys.readouterr().err  # deleted once read back: not "results in ..."


SHARED_EVERY = """\
seed = 4
neurons L[40]:
    direction : 1 (shared)
    sel : 1
    rate = clip(cos(direction - sel), 0, inf) * 200 Hz : Hz
    threshold: rand() < rate * dt
    every 10 ms:
        direction = rand() * 2 * pi
        sel = sel + 0.01 * rand()
    init: sel = i / N * 2 * pi
synapses S: L -> L:
    connect: j == (i + 3) % N_post
    gain : 1 (shared)
    w : 1
    every 5 ms:
        gain = rand()
        w = gain * (i + 1)
monitor d: L.direction
monitor mw: S.w
monitor sp: spikes of L
phase p:
    run 100 ms
"""


def test_shared_writes_in_every(tmp_path):
    """A shared variable drawn once per period in `every` is the same number
    on every rank count."""
    path = tmp_path / "shared.snn"
    path.write_text(SHARED_EVERY)
    one = assert_ranks_agree(path, tmp_path)
    assert len(set(one["d"].values[:, 0])) == 10 and len(one["sp"].i) > 20


def test_synapse_counts(tmp_path):
    """N_incoming and N_outgoing read the same counts on every rank."""
    from test_connect import N_COUNTS
    path = tmp_path / "counts.snn"
    path.write_text(N_COUNTS)
    one = assert_ranks_agree(path, tmp_path)
    assert one["mv"].values.max() > 0.2


def test_linked_variables_with_an_index(tmp_path):
    """A linked variable read through an index (another rank's element): the
    same on every rank count, and on 2 threads."""
    from test_linked_vs_brian2 import INDEXED
    path = tmp_path / "indexed.snn"
    path.write_text(INDEXED)
    one = assert_ranks_agree(path, tmp_path)
    REF.assert_same(snndsl.compile(path).run(threads=2), one)
    assert len(one["sp"].i) > 5


def test_saved_delays(tmp_path):
    from test_connect import DELAYS
    path = tmp_path / "delays.snn"
    path.write_text(DELAYS)
    one = assert_ranks_agree(path, tmp_path)
    assert len(set(one.saved["per_synapse"])) > 6
