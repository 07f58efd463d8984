"""snndsl.sweep: one model over parameter sets and seeds, on a local process
pool, a thread pool and a Dask cluster (issue 11), each run the same numbers
as Model.run in this process; and a model pickles as its source."""
from __future__ import annotations

import concurrent.futures as futures
import pickle
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

import snndsl
from conftest import EXAMPLES
from snndsl.sweeps import describe

pytestmark = pytest.mark.needs_cc

MODEL = """\
seed = 7
param rate = 10 Hz
param n_runs = 1
const tau = 20 ms
poisson inp[20]:
    rate = rate
poisson out[5]:
    rate = 10 Hz
synapses S: inp -> out:
    connect: all
    w : 1
    dx/dt = -x / tau : 1 (event-driven)
    dy/dt = -y / tau : 1 (event-driven)
    on pre:
        x += 1
        w = clip(w + 0.01 * y, 0, 1)
    on post:
        y -= 1
        w = clip(w + 0.01 * x, 0, 1)
    init:
        w = rand()
monitor spikes_in: spikes of inp
phase train:
    for k in 0 .. n_runs:
        run 200 ms
    save S.w as w
"""

RATES = [{"rate": "5 Hz"}, {"rate": "20 Hz"}, {"rate": "40 Hz"}]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "m.snn"
    path.write_text(MODEL)
    return snndsl.compile(path)


def same(a: snndsl.Results, b: snndsl.Results) -> bool:
    return (np.array_equal(a.saved["w"], b.saved["w"]) and np.array_equal(a["spikes_in"].t, b["spikes_in"].t)
            and np.array_equal(a["spikes_in"].i, b["spikes_in"].i))


def check_runs(model, results, params, seeds) -> None:
    runs = [(p, s) for p in params for s in seeds]
    assert len(results) == len(runs)
    for (p, s), res in zip(runs, results):
        assert res.seed == (7 if s is None else s)
        assert same(res, model.run(p, s))


def test_a_process_pool_runs_every_parameter_set_with_every_seed_in_order(model):
    results = snndsl.sweep(model, RATES, seeds=[1, 2], max_workers=2)
    check_runs(model, results, RATES, [1, 2])
    assert [r.params["rate"] for r in results] == [5, 5, 20, 20, 40, 40]
    counts = [len(r["spikes_in"].t) for r in results]
    assert counts[0] < counts[2] < counts[4]  # the rate was set in each run: more spikes at 40 Hz than at 5


def test_defaults_one_seed_and_a_path(model, tmp_path):
    (tmp_path / "m.snn").write_text(MODEL)
    [res] = snndsl.sweep(tmp_path / "m.snn", max_workers=1)
    check_runs(model, [res], [{}], [None])
    check_runs(model, snndsl.sweep(model, [{}, {"rate": "30 Hz"}], seeds=3), [{}, {"rate": "30 Hz"}], [3])


def test_a_thread_pool_gives_the_same_numbers(model):
    with futures.ThreadPoolExecutor(2) as ex:
        threaded = snndsl.sweep(model, RATES, seeds=range(2), executor=ex)
        assert not ex._shutdown  # the caller's executor is left open
    check_runs(model, threaded, RATES, [0, 1])


def test_a_dask_cluster_gives_the_same_numbers(model):
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        results = snndsl.sweep(model, RATES[:2], seeds=[4, 5], executor=client.get_executor())
    check_runs(model, results, RATES[:2], [4, 5])


def test_the_reference_backend_sweeps_too(model):
    ref = snndsl.compile(model.file, backend="reference")
    small = [{"rate": "5 Hz"}, {"rate": "20 Hz"}]
    results = snndsl.sweep(ref, small, seeds=[1], max_workers=2)
    check_runs(model, results, small, [1])  # the C backend's numbers, bit for bit


def test_progress_is_called_once_per_run(model):
    seen = []
    snndsl.sweep(model, RATES, progress=lambda done, total: seen.append((done, total)), max_workers=2)
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_quiet_false_shows_the_runs_done(model, capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    snndsl.sweep(model, RATES[:2], quiet=False, max_workers=1)
    err = capsys.readouterr().err
    assert "[snndsl] sweep: 1 of 2 runs done" in err and "[snndsl] sweep: 2 of 2 runs done" in err


class Recording(futures.ThreadPoolExecutor):
    def __init__(self):
        super().__init__(1)
        self.submitted = 0

    def submit(self, *args, **kwargs):
        self.submitted += 1
        return super().submit(*args, **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(params=[{"rate": "5 Hz"}, {"rat": "5 Hz"}]), r"sweep run 1 \(rat=5 Hz, the model's seed\): .*'rat'"),
    (dict(params=[{"rate": "5 mV"}]), r"sweep run 0 \(rate=5 mV, the model's seed\): "),
    (dict(seeds=[1, -1]), "seed"),
    (dict(seeds=[]), "seeds is an empty list"),
    (dict(seeds="12"), "seed"),
    (dict(params=[]), "params is an empty list"),
    (dict(params={"rate": "5 Hz"}), "params takes a list of parameter sets"),
    (dict(params=[["rate", "5 Hz"]]), r"params\[0\] takes a mapping"),
    (dict(data={"nope": "x.npy"}), "nope"),
    (dict(max_workers=0, executor=None), "max_workers takes a whole number"),
    (dict(max_workers=2), "max_workers sizes the local process pool"),
    (dict(executor="dask"), "executor takes a concurrent.futures.Executor"),
    (dict(progress=3), "progress takes a function"),
])
def test_a_mistake_fails_before_any_run_starts(model, kwargs, message):
    ex = Recording()
    kwargs.setdefault("executor", ex)
    with pytest.raises(snndsl.SimulationError, match=message):
        snndsl.sweep(model, **kwargs)
    assert ex.submitted == 0
    ex.shutdown()


def test_a_run_that_fails_in_a_worker_raises_its_error_naming_the_run(model):
    # checked when the run starts, in the worker: n_runs is used as an integer
    with pytest.raises(snndsl.SimulationError, match=r"sweep run 1 \(n_runs=2.5, seed 3\): .*'n_runs' is used as an "
                                                     "integer"):
        snndsl.sweep(model, [{"n_runs": 2}, {"n_runs": 2.5}], seeds=3, max_workers=2)


class Dying(futures.Executor):
    """Every task's worker dies, as a process killed for memory would."""

    def submit(self, fn, *args, **kwargs):
        future = futures.Future()
        future.set_exception(BrokenProcessPool("A process in the process pool was terminated"))
        return future


def test_a_worker_that_dies_is_an_error_naming_the_run(model):
    with pytest.raises(snndsl.SimulationError, match=r"sweep run 0 \(rate=5 Hz, seed 1\): its worker died"):
        snndsl.sweep(model, RATES[:1], seeds=[1], executor=Dying())


def test_a_model_pickles_as_its_source(model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    built = snndsl.compile(model.file, build_dir="here")
    assert built.build_dir == str(tmp_path / "here")  # absolute: a worker's working folder may differ
    copy = pickle.loads(pickle.dumps(built))
    assert copy.frontend.source == built.frontend.source and copy.artifact.dir == built.artifact.dir
    assert same(copy.run({"rate": "20 Hz"}, 9), model.run({"rate": "20 Hz"}, 9))
    assert pickle.loads(pickle.dumps(built)) is copy  # compiled once per process


def test_describe():
    assert describe({"rate": "5 Hz", "n": 2}, None) == "rate=5 Hz, n=2, the model's seed"
    assert describe({}, 4) == "seed 4"


def test_the_sweep_example_runs_as_its_docstring_says(tmp_path):
    script = EXAMPLES / "sweep" / "sweep_forum.py"
    proc = subprocess.run([sys.executable, str(script), "--rates", "2", "40", "--seeds", "2", "-o", "fig.png"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "fig.png").stat().st_size > 10_000
    lines = [line for line in proc.stdout.splitlines() if line.startswith("rate_in")]
    frozen = [float(line.split(":")[1].split("%")[0]) for line in lines]
    assert len(frozen) == 2 and frozen[0] > frozen[1]  # more input, fewer synapses left above 0.3
    one = snndsl.compile(script.parent / "forum_rates.snn").run(params={"rate_in": "40 Hz"}, seed=1)
    two = snndsl.compile(script.parent / "forum_rates.snn").run(params={"rate_in": "40 Hz"}, seed=2)
    expected = np.median([np.mean(one.saved["learned"] == 0), np.mean(two.saved["learned"] == 0)])
    assert f"{expected:.1%}" in lines[1]
