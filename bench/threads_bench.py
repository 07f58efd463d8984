#!/usr/bin/env python
"""Threads and ranks: snndsl on 1 and 2 threads (`--threads`) and on 2 MPI ranks
(`--ranks`), side by side with Brian2's C++ standalone on 1 and 2 OpenMP threads,
on this machine.

  cuba        examples/cuba.snn, 4000 neurons, ~320,000 synapses, 2 s
  forum_1e6   the forum model (bench/forum_bench.py's TEMPLATE), 1000 x 1000, 2 s
  forum_1e7   the same, 1000 x 10000 (1e7 synapses), 1 s
  cuba_8000   CUBA with twice the neurons (6400 + 1600) and half the connection
              probability (the same 80 inputs a neuron): weak scaling, its time on
              2 threads against cuba's on 1

snndsl: one build per model, and one for ranks (mpicc); they run alternately
with --threads 1, --threads 2 and under `mpiexec -n 2`, PAIRS times each (in
turn, in a rotating order, so that the machine's load hits all alike); the
figure per run is the simulation loop (manifest timings.run: rank 0's, which
waits for the other) and the whole process (for ranks, mpiexec's start of
about a second included). Every run's results are compared, file by file,
with the first one-thread run: they must be identical (the script fails
otherwise). --no-ranks leaves the ranks out.

Brian2 (--brian2, CUBA and forum_1e6): cpp_standalone projects built with
`prefs.devices.cpp_standalone.openmp_threads` 1 and 2, each binary re-run
alternately PAIRS times; the figure is its network run time (_last_run_time).

Speed-up = median time on 1 thread / median time on 2; parallel efficiency =
speed-up / 2. Usage:

    /work/venv/bin/python bench/threads_bench.py [--pairs 5] [--brian2] [--no-ranks]
    /work/venv/bin/python bench/threads_bench.py --report-only

Writes bench/threads_bench.json, bench/threads_bench.png and its section of
bench/RESULTS.md (between MARK_BEGIN and MARK_END).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sections import markers, write_section  # noqa: E402  (bench/, beside this script)

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

MARK_BEGIN, MARK_END = markers("threads_bench.py")
THREADS = (1, 2)
RANKS = "r2"  # the configuration of 2 ranks, one thread each, beside the thread counts


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def sources(tmp: Path) -> dict[str, tuple[Path, list[str]]]:
    import forum_bench as fb
    cuba = ROOT / "examples" / "cuba.snn"
    out = {"cuba": (cuba, ["--set", "duration=2 s"])}
    text = cuba.read_text()
    for old, new in (("neurons exc[3200]", "neurons exc[6400]"), ("neurons inh[800]", "neurons inh[1600]"),
                     ("const p_conn = 0.02", "const p_conn = 0.01")):
        assert old in text, old
        text = text.replace(old, new)
    (tmp / "cuba_8000.snn").write_text(text)
    out["cuba_8000"] = (tmp / "cuba_8000.snn", ["--set", "duration=2 s"])
    for name, n_out, duration in (("forum_1e6", 1000, 2.0), ("forum_1e7", 10000, 1.0)):
        cfg = dict(fb.SIZES["large"], n_out=n_out, duration=duration)
        path = tmp / f"{name}.snn"
        path.write_text(fb.snn_source(cfg))
        out[name] = (path, [])
    # what the time step draws: each neuron's noise and each source's uniform number, every step
    (tmp / "noise_4000.snn").write_text(NOISE)
    out["noise_4000"] = (tmp / "noise_4000.snn", [])
    # Brunel (2000): 12,500 neurons, each a binomial draw (its Poisson input) per step, 15.6e6 synapses
    out["brunel"] = (ROOT / "examples" / "brian2" / "Brunel_2000.snn", ["--set", "duration=500 ms"])
    return out


NOISE = """\
dt = 0.1 ms
seed = 1
poisson P[4000]:
    rate = 20 * Hz * (1 + sin(t / (50 ms)))
neurons G[4000]:
    dv/dt = (0.5 - v) / (10 ms) + 0.5 * xi / sqrt(10 ms) : 1
    method: euler
    threshold: v > 1
    reset: v = 0
synapses S: P -> G:
    connect: one_to_one
    on pre: post.v += 0.1
monitor sp: spikes of G
phase go:
    run 1 s
"""


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.npy"))}


def label(config) -> str:
    return "2 ranks" if config == RANKS else f"{config} thr"


def bench_snndsl(name: str, path: Path, args: list[str], pairs: int, tmp: Path, ranks: bool) -> dict:
    import snndsl
    from snndsl import cli, driver
    from snndsl.build import cc
    binary = snndsl.compile(path).binary
    configs = [*THREADS, *([RANKS] if ranks else [])]
    commands = {t: ([str(binary), "--threads", str(t)], None) for t in THREADS}
    if ranks:
        source, file = driver.read_source(str(path))
        rank_binary = cc.build(driver.frontend(source, file, ranks=True).c_source, mpi=True).binary
        commands[RANKS] = cli._mpiexec(2, [str(rank_binary)])
    loops: dict = {c: [] for c in configs}
    walls: dict = {c: [] for c in configs}
    first = None
    for k in range(pairs):
        for c in configs[k % len(configs):] + configs[:k % len(configs)]:
            out = tmp / f"{name}-{c}-{k}"
            cmd, env = commands[c]
            t0 = time.perf_counter()
            subprocess.run([*cmd, "-o", str(out), "--quiet", *args], check=True, env=env)
            walls[c].append(time.perf_counter() - t0)
            manifest = json.loads((out / "manifest.json").read_text())
            assert manifest["timings"]["threads"] == (1 if c == RANKS else c)
            assert manifest["timings"].get("ranks", 1) == (2 if c == RANKS else 1)
            loops[c].append(manifest["timings"]["run"])
            got = files_of(out)
            if first is None:
                first = got
            elif got != first:
                raise SystemExit(f"{name}: the results on {label(c)} differ from those on 1 thread")
        log(f"  snndsl {name} round {k + 1}/{pairs}: loop " + ", ".join(f"{label(c)} {loops[c][-1]:.3f} s"
                                                                      for c in configs))
    return dict(loop=loops, wall=walls)


def brian2_worker(name: str, threads: int, project: Path) -> None:
    """In a fresh process: build and run the Brian2 model's standalone project on `threads` OpenMP threads."""
    import brian2 as b2
    import models_bench as mb
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
    b2.prefs.logging.console_log_level = "WARNING"
    if name == "cuba":
        b2.set_device("cpp_standalone", directory=str(project), build_on_run=True, with_output=False)
        mb.reference("cuba.py").run_cuba_brian2(2.0, mb.SEED, target="numpy")
    else:
        import forum_bench as fb
        b2.set_device("cpp_standalone", directory=str(project), build_on_run=False)
        fb.brian2_network(dict(fb.SIZES["large"], n_out=1000, duration=2.0), standalone=True)
        b2.device.build(directory=str(project), compile=True, run=True, with_output=False)


def bench_brian2(name: str, pairs: int, tmp: Path) -> dict:
    """Brian2 standalone on 1 and 2 threads: two projects, their binaries re-run alternately."""
    for t in THREADS:
        log(f"  brian2 {name}: building on {t} thread(s)")
        subprocess.run([sys.executable, __file__, "--worker", name, "--threads", str(t), "--project",
                        str(tmp / f"b2-{name}-{t}")], check=True, stdout=subprocess.DEVNULL)
    nets: dict[int, list[float]] = {t: [] for t in THREADS}
    walls: dict[int, list[float]] = {t: [] for t in THREADS}
    for k in range(pairs):
        for t in THREADS if k % 2 == 0 else THREADS[::-1]:
            proj = tmp / f"b2-{name}-{t}"
            t0 = time.perf_counter()
            subprocess.run(["./main"], cwd=proj, check=True, stdout=subprocess.DEVNULL)
            walls[t].append(time.perf_counter() - t0)
            # the network run time of the binary's last run (CUBA has one run; the forum model two)
            nets[t].append(float((proj / "results" / "last_run_info.txt").read_text().split()[0]))
        log(f"  brian2 {name} pair {k + 1}/{pairs}: " + ", ".join(f"{t} thr {walls[t][-1]:.3f} s" for t in THREADS))
    return dict(net=nets, wall=walls)


def median(xs) -> float:
    return float(np.median(xs))


def report(data: dict) -> str:
    L = [MARK_BEGIN, "", "## Threads: 1 and 2 on this 2-core machine", ""]
    runs: dict[str, list[str]] = {}
    for name, r in data["models"].items():
        runs.setdefault(r.get("measured", f"{data['date']} with `{data['command']}`"), []).append(name)
    where = "; ".join(f"{', '.join(names)}: {when}" for when, names in runs.items()) if len(runs) > 1 else \
        next(iter(runs))
    L.append(f"Measured {where} ({data['pairs']} pairs, alternated; load before the last run: {data['load']})"
             + ". snndsl's loop is the manifest's `timings.run`; Brian2's (CUBA) is its standalone binary's network "
             "run time, and for the forum model, which runs twice, the whole binary. Every snndsl run on 2 threads "
             "gave the same result files, byte for byte, as on 1.")
    L.append("")
    L.append("| model | snndsl 1 thr | snndsl 2 thr | speed-up | efficiency | whole process 1 / 2 | "
             "Brian2 1 thr | Brian2 2 thr | Brian2 speed-up | snndsl 2 thr vs Brian2 2 thr |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in data["models"].items():
        s1, s2 = median(r["snndsl"]["loop"]["1"]), median(r["snndsl"]["loop"]["2"])
        w1, w2 = median(r["snndsl"]["wall"]["1"]), median(r["snndsl"]["wall"]["2"])
        row = f"| {name} | {s1:.3f} s | {s2:.3f} s | {s1 / s2:.2f}x | {50 * s1 / s2:.0f} % | {w1:.3f} / {w2:.3f} s |"
        b = r.get("brian2")
        if b:
            # CUBA: the network run time (one run); the forum model runs twice: whole processes
            key, mine = ("net", s2) if name == "cuba" else ("wall", w2)
            b1, b2 = median(b[key]["1"]), median(b[key]["2"])
            what = "loop" if name == "cuba" else "process"
            row += f" {b1:.3f} s | {b2:.3f} s | {b1 / b2:.2f}x | {b2 / mine:.1f}x ({what}) |"
        else:
            row += " – | – | – | – |"
        L.append(row)
    if "cuba" in data["models"] and "cuba_8000" in data["models"]:
        one = median(data["models"]["cuba"]["snndsl"]["loop"]["1"])
        two = median(data["models"]["cuba_8000"]["snndsl"]["loop"]["2"])
        L += ["", f"Weak scaling of CUBA: 4000 neurons on 1 thread {one:.3f} s, 8000 neurons (the same inputs per "
                  f"neuron) on 2 threads {two:.3f} s: {100 * one / two:.0f} % efficiency."]
    ranked = {name: r for name, r in data["models"].items() if RANKS in r["snndsl"]["loop"]}
    if ranked:
        L += ["", "### Ranks: 2 MPI ranks of one thread each (`snndsl run --ranks 2`), the same runs", "",
              "| model | one process | 2 ranks | speed-up | efficiency | whole process: one / 2 ranks | "
              "2 ranks vs 2 threads |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for name, r in ranked.items():
            s1, r2, t2 = (median(r["snndsl"]["loop"][c]) for c in ("1", RANKS, "2"))
            w1, wr = median(r["snndsl"]["wall"]["1"]), median(r["snndsl"]["wall"][RANKS])
            L.append(f"| {name} | {s1:.3f} s | {r2:.3f} s | {s1 / r2:.2f}x | {50 * s1 / r2:.0f} % | "
                     f"{w1:.3f} / {wr:.3f} s | {t2 / r2:.2f}x |")
        if "cuba" in ranked and "cuba_8000" in ranked:
            one = median(ranked["cuba"]["snndsl"]["loop"]["1"])
            two = median(ranked["cuba_8000"]["snndsl"]["loop"][RANKS])
            L += ["", f"Weak scaling of CUBA on ranks: 4000 neurons in one process {one:.3f} s, 8000 neurons on 2 "
                      f"ranks {two:.3f} s: {100 * one / two:.0f} % efficiency."]
        L += ["", RANK_NOTES]
    L += ["", data.get("notes", NOTES), "", MARK_END, ""]
    return "\n".join(L)


RANK_NOTES = """\
Every rank holds the whole network for now and builds it (setup is not split); each
step, each rank runs its block of neurons and the synapses onto them, the spikes are
exchanged (one `MPI_Allgatherv` a spiking group and step), and what a loop reads at other
ranks' elements is made whole before it (passes/distribute.py). Every 2-rank run gave the
same files, byte for byte, as one process. The whole process on ranks includes mpiexec's
start (about 1.1 s here), which a longer run pays once. Where ranks lose to threads: in
the STDP models, `on post` brings the presynaptic traces to the current time on every
rank for every postsynaptic spike (so that they round alike everywhere), work as large
as all of `on pre`'s and not split; CUBA's steps (about 6 us) carry 2 collectives (the
counts and the lists of both groups' spikes, exchanged together since 2026-12-03; 4
before, one pair a group: 0.73x), and its ranks wait for each other at each. Noise and
Brunel, whose steps are mostly per-neuron work, scale as on threads."""


NOTES = """\
What threads share (passes/share_work.py, `[threads: ...]` in `snndsl compile --emit ir`):
state updates, thresholds, Poisson groups sampled per step and Poisson inputs split by
element (their random numbers too: the time step draws from Philox keyed by element),
synaptic events split by the far end's neurons (each thread runs every spike, for the
synapses whose target is in its part), so that each value is written by one thread in
the order one thread would write it: the results are the same for any number of
threads, bit for bit (tests/e2e/test_threads.py runs every model on 1, 2 and 3). One
OpenMP team runs a whole run; a shared loop ends at a barrier (about 0.45 us here, by a
micro-benchmark of libgomp) unless what follows up to the next one touches nothing it
wrote (CUBA's two updates and four pathways: 8 barriers a step instead of 12), and the
loops between two shared ones run under one `omp single`; a pathway's code once per
spike runs beside its synapses' code where they touch nothing in common. CUBA's steps
(about 6 us of work) are still too short for that: it is slower on 2 threads (0.75x
with 12 barriers, 0.81x with 8; weak scaling, twice the neurons on twice the threads,
55 % then 59 %).

This virtual machine's second core is not always its own: in some minutes every
two-thread run, snndsl's and Brian2's alike, takes about twice as long (CUBA on 2 threads
0.16 s or 0.36 s, Brian2's 0.31 s or 0.72 s, from one minute to the next, the 1-thread
runs unchanged). Two runs of this script at 20:50 and 20:52 UTC fell in that regime
(forum 1e6 1.22x and 1.30x, 1e7 1.66x and 1.68x). So did two runs of CUBA on
2026-12-03 at 07:05 and 07:10 UTC: snndsl 0.32 s on 2 threads, Brian2 0.73 s, while
snndsl's 2 ranks, two processes that wait for each other in MPI's collectives and not at
OpenMP's barriers, ran it in 0.17 s. The table's rows are runs that did not."""


def plot(data: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(data["models"])
    fig, ax = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
    x = np.arange(len(names))
    s = [median(data["models"][n]["snndsl"]["loop"]["1"]) / median(data["models"][n]["snndsl"]["loop"]["2"])
         for n in names]
    ax.bar(x - 0.27, s, 0.27, label="snndsl, 2 threads")
    r = [median(data["models"][n]["snndsl"]["loop"]["1"]) / median(data["models"][n]["snndsl"]["loop"][RANKS])
         if RANKS in data["models"][n]["snndsl"]["loop"] else 0 for n in names]
    ax.bar(x, r, 0.27, label="snndsl, 2 ranks (MPI)")
    def brian2(n: str) -> float:
        b = data["models"][n].get("brian2")
        key = "net" if n == "cuba" else "wall"  # as in the table
        return median(b[key]["1"]) / median(b[key]["2"]) if b else 0

    b = [brian2(n) for n in names]
    ax.bar(x + 0.27, b, 0.27, label="Brian2 standalone, 2 threads (OpenMP)")
    ax.axhline(1, color="k", lw=0.8)
    ax.axhline(1.6, color="C2", lw=0.8, ls="--", label="80 % efficiency")
    ax.set_xticks(x, names)
    ax.set_ylabel("speed-up over one thread")
    ax.set_ylim(0, 2.6)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.set_title("2 threads or ranks over 1, 2-core machine (snndsl: loop; Brian2: CUBA loop,\nforum whole "
                 "process; 0: not measured)", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--models", default="cuba,cuba_8000,forum_1e6,forum_1e7,noise_4000,brunel")
    ap.add_argument("--brian2", action="store_true", help="Brian2 standalone on 1 and 2 OpenMP threads too")
    ap.add_argument("--no-ranks", action="store_true", help="leave out the runs on 2 MPI ranks")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--worker"), ap.add_argument("--threads", type=int), ap.add_argument("--project")
    args = ap.parse_args()
    if args.worker:
        brian2_worker(args.worker, args.threads, Path(args.project))
        return
    json_path = HERE / "threads_bench.json"
    if args.report_only:
        data = json.loads(json_path.read_text())
    else:
        data = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    command="python bench/threads_bench.py " + " ".join(sys.argv[1:]), pairs=args.pairs,
                    load=" ".join(f"{x:.2f}" for x in os.getloadavg()), models={})
        if json_path.exists():  # the models not measured now keep their figures, and say when they were measured
            old = json.loads(json_path.read_text())
            for name, r in old["models"].items():
                data["models"][name] = dict(r, measured=r.get("measured", f"{old['date']} with `{old['command']}`"))
        with tempfile.TemporaryDirectory(prefix="snndsl-threads-") as tmp:
            tmp = Path(tmp)
            srcs = sources(tmp)
            for name in args.models.split(","):
                path, extra = srcs[name]
                log(f"{name}:")
                r = {"snndsl": bench_snndsl(name, path, extra, args.pairs, tmp, not args.no_ranks),
                     "measured": f"{data['date']} with `{data['command']}`"}
                if args.brian2 and name in ("cuba", "forum_1e6"):
                    r["brian2"] = bench_brian2(name, args.pairs, tmp)
                elif "brian2" in data["models"].get(name, {}):  # Brian2's figures not measured now: kept, dated
                    r["brian2"] = data["models"][name]["brian2"]
                data["models"][name] = json.loads(json.dumps(r))  # int keys as strings, as read back
        json_path.write_text(json.dumps(data, indent=1))
    write_section(report(data), HERE / "RESULTS.md", MARK_BEGIN, MARK_END)
    plot(data, HERE / "threads_bench.png")
    log(report(data))


if __name__ == "__main__":
    main()
