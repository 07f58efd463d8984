"""Many runs of one compiled model: parameter sets times seeds, on any executor.

`sweep` checks every run in the calling process first (a misspelt
parameter, a wrong unit or a bad seed fails before any work starts), then
submits one task per run to a `concurrent.futures.Executor` and returns the
results in the order of the runs, whatever order they finish in.

A task is `(model, params, seed, data)`: the model pickles as its source
(`Model.__reduce__`) and is compiled again once per worker process, from the
build cache or the build folder where one is shared (a local pool), else
afresh (another machine). So snndsl needs no scheduler of its own: the
default is a local process pool, and a cluster is any executor that runs
pickled calls there, such as Dask's `Client(...).get_executor()`.

The local pool starts its processes with "forkserver" (or "spawn"), never
by forking the caller: a process that holds threads (a Dask client, a
progress bar, a loaded simulation) is not safe to fork. As with any
multiprocessing pool, a script that sweeps keeps its top level under
`if __name__ == "__main__":`.
"""
from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import os
import sys
import time
from typing import Callable, Iterable

from snndsl.driver import Model, SimulationError, _fail, _mapping, _name, _path, _seed, compile
from snndsl.results import Results


def sweep(model, params: Iterable[dict] | None = None, seeds=None, data: dict | None = None,
          executor: futures.Executor | None = None, max_workers: int | None = None,
          quiet: bool = True, progress: Callable[[int, int], None] | None = None) -> list[Results]:
    """Run `model` once for every parameter set and seed, in parallel.

    - `model`: a `Model` (from `snndsl.compile`) or the path of a `.snn` file.
    - `params`: a list of parameter sets, each a mapping as `Model.run(params=)`
      takes (`{"rate": "20 Hz"}`); None is one run with the defaults.
    - `seeds`: None (the model's `seed`), one seed, or a list of seeds: every
      parameter set runs with every seed.
    - `data`: as `Model.run(data=)`, the same for every run.
    - `executor`: a `concurrent.futures.Executor` to run on (a
      `ThreadPoolExecutor`, Dask's `client.get_executor()`, ...); it is
      left open. None: a pool of `max_workers` processes (default: the
      number of cores, at most one per run), closed when the sweep ends.
    - `progress`: a function called with (runs done, runs in all) as each run
      ends; without one, `quiet=False` shows a tqdm bar (or a line on
      sys.stderr).

    Returns one `Results` per run, in the order (params[0], seeds[0]),
    (params[0], seeds[1]), ..., (params[1], seeds[0]), ...; each run gives the
    numbers `model.run(params, seed, data)` gives in this process. The first
    run that fails raises its error (naming the run) and cancels the runs not
    started yet.
    """
    if not isinstance(model, Model):
        model = compile(model)
    runs = [(p, s) for p in _param_sets(params) for s in _seeds(seeds)]
    workers = _workers(max_workers, len(runs))
    if executor is not None:
        if not isinstance(executor, futures.Executor):
            raise _fail(f"executor takes a concurrent.futures.Executor (or None), not {executor!r}")
        if max_workers is not None:
            raise _fail("max_workers sizes the local process pool: an executor given has workers of its own")
    _reporter(progress, quiet=True)  # checked before any run
    data = {_name(name, "data"): os.fsdecode(_path(path, f"data {name}")) for name, path in _mapping(data, "data").items()}
    for k, (p, s) in enumerate(runs):  # every mistake before any work
        try:
            model.simulation(p, s, data)
        except SimulationError as exc:
            raise SimulationError(f"sweep run {k} ({describe(p, s)}): {exc}") from None
    report = _reporter(progress, quiet)
    owned = executor is None
    if owned:
        executor = futures.ProcessPoolExecutor(workers, mp_context=_context())
    pending: dict[futures.Future, int] = {}
    try:
        pending = {executor.submit(_run, model, p, s, data): k for k, (p, s) in enumerate(runs)}
        results: list[Results | None] = [None] * len(runs)
        for done, future in enumerate(futures.as_completed(pending), 1):
            k = pending[future]
            try:
                results[k] = future.result()
            except SimulationError as exc:
                raise SimulationError(f"sweep run {k} ({describe(*runs[k])}): {exc}") from None
            except futures.BrokenExecutor as exc:  # a worker killed (out of memory, a signal) or lost
                raise SimulationError(f"sweep run {k} ({describe(*runs[k])}): its worker died before it ended "
                                      f"({type(exc).__name__}: {exc})") from None
            if report is not None:
                report(done, len(runs))
        return results
    finally:
        for future in pending:
            future.cancel()
        if owned:
            executor.shutdown(wait=True, cancel_futures=True)
        if isinstance(report, (_Line, _Bar)):
            report.close()


def _run(model: Model, params: dict, seed, data: dict) -> Results:
    """One run, in a worker."""
    return model.run(params, seed, data)


def describe(params: dict, seed) -> str:
    """A run as its parameters and seed: "rate=20 Hz, seed 3"."""
    what = [f"{name}={value}" for name, value in params.items()]
    what.append("the model's seed" if seed is None else f"seed {seed}")
    return ", ".join(what)


def _param_sets(params) -> list[dict]:
    if params is None:
        return [{}]
    if hasattr(params, "items") or isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise _fail(f"params takes a list of parameter sets (mappings of names to values), not {params!r}")
    sets = [_mapping(p, f"params[{k}]") for k, p in enumerate(params)]
    if not sets:
        raise _fail("params is an empty list: a sweep needs at least one parameter set (None: the defaults)")
    return sets


def _seeds(seeds) -> list:
    if seeds is None:
        return [None]
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        _seed(seeds)  # one seed: checked as Model.run checks it
        return [seeds]
    seeds = list(seeds)
    if not seeds:
        raise _fail("seeds is an empty list: give at least one seed (None: the model's)")
    for s in seeds:
        _seed(s)
    return seeds


def _workers(max_workers, runs: int) -> int:
    if max_workers is None:
        return max(1, min(runs, os.cpu_count() or 1))
    if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
        raise _fail(f"max_workers takes a whole number of processes, at least 1, not {max_workers!r}")
    return min(max_workers, runs)


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class _Line:
    """Runs done, on sys.stderr: rewritten in place in a terminal, one line per run otherwise."""

    def __init__(self, stream):
        self.stream, self.began = stream, time.monotonic()
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int) -> None:
        text = f"[snndsl] sweep: {done} of {total} runs done ({time.monotonic() - self.began:.1f} s wall)"
        self.stream.write(("\r" + text) if self.tty else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class _Bar:
    def __init__(self, tqdm):
        self.tqdm, self.bar = tqdm, None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = self.tqdm(total=total, desc="sweep", unit="run")
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _reporter(progress, quiet: bool):
    if progress is not None:
        if not callable(progress):
            raise _fail(f"progress takes a function of (runs done, runs in all), not {progress!r}")
        return progress
    if quiet:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Line(sys.stderr)
    return _Bar(tqdm)
