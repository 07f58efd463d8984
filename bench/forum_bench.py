#!/usr/bin/env python
"""snndsl vs Brian2 on the forum model (examples/freeze_after_learning.snn), scaled up.

The model: N_in Poisson inputs -> N_out Poisson outputs, all-to-all STDP synapses
(w, learned, W_max shared constant, event-driven traces x and y with tau = 20 ms),
trained for T/2, the synapses with w > 0.3 frozen (learned = 0), tested for T/2.
A StateMonitor of w every 10 ms on the first min(N_syn, 10000) synapses (synapse
order: by i, then j -- the same in both), and a SpikeMonitor of the outputs.

It is written twice with the same semantics: as .snn (generated from TEMPLATE into
a temp dir) and as a Brian2 script (brian2_network()). Measured, one at a time:

  snndsl   cold build  snndsl.compile(path) with SNNDSL_CACHE = a fresh temp dir   best of 3
           binary run  subprocess [model.binary, -o DIR, --quiet]                   best of 3
           in-process  model.run()                                                  best of 3
  Brian2   cpp_standalone (openmp_threads = 0):
           total       network construction + code generation + make + first run    once
           binary run  device.run() again on the built project (no recompilation);
                       Brian2's own timer of the binary subprocess                  best of 3
  Brian2   runtime (Cython target, small and medium only):
           cold        construction + run, with an empty Cython cache               once
           warm        the same again in the same process (Cython cache warm)       once

Each Brian2 measurement runs in a fresh Python subprocess (this file, --worker ...).

Usage:  /work/venv/bin/python bench/forum_bench.py [--sizes small,medium,large,xlarge] [--quick]
Writes bench/RESULTS.md, bench/forum_bench.json and bench/forum_bench.png.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TAU_MS = 20.0
DT_MS = 0.1
SEED = 1234
MON_EVERY_MS = 10.0
MAX_RECORDED = 10000
REPEATS = 3
RUN_DATE = None   # set from forum_bench.json by --report-only

SIZES = {
    "small": dict(n_in=10, n_out=10, rate_in=10.0, rate_out=10.0, duration=2.0),
    "medium": dict(n_in=100, n_out=100, rate_in=10.0, rate_out=10.0, duration=10.0),
    "large": dict(n_in=1000, n_out=1000, rate_in=10.0, rate_out=10.0, duration=10.0),
    "xlarge": dict(n_in=1000, n_out=10000, rate_in=10.0, rate_out=10.0, duration=2.0),
}
RUNTIME_SIZES = ("small", "medium")   # Brian2 runtime mode only for these

TEMPLATE = string.Template("""\
# The forum model (examples/freeze_after_learning.snn), scaled: $n_in x $n_out, $duration s.
dt = $dt ms
seed = $seed

const tau = $tau ms

poisson inp[$n_in]:
    rate = $rate_in Hz

poisson out[$n_out]:
    rate = $rate_out Hz

synapses S: inp -> out:
    connect: all
    w : 1
    learned : 1
    W_max : 1 (shared, constant)
    dx/dt = -x / tau : 1 (event-driven)
    dy/dt = -y / tau : 1 (event-driven)
    on pre:
        x += 1
        w = clip(w + y * learned, 0, W_max)
    on post:
        y -= 1
        w = clip(w + x * learned, 0, W_max)
    init:
        w = rand()
        W_max = 1
        learned = 1

monitor weights: S.w[0:$n_rec] every $every ms
monitor out_spikes: spikes of out

phase train:
    run $half s
phase freeze:
    S.learned[w > 0.3] = 0
    save S.w as trained_w
phase test:
    run $half s
    save S.w as tested_w
""")


def log(*args):
    print(*args, flush=True)


def n_recorded(cfg):
    return min(cfg["n_in"] * cfg["n_out"], MAX_RECORDED)


def snn_source(cfg):
    return TEMPLATE.substitute(n_in=cfg["n_in"], n_out=cfg["n_out"], rate_in=cfg["rate_in"],
                               rate_out=cfg["rate_out"], duration=cfg["duration"], half=cfg["duration"] / 2,
                               dt=DT_MS, seed=SEED, tau=TAU_MS, n_rec=n_recorded(cfg), every=MON_EVERY_MS)


# --------------------------------------------------------------------------- statistics

def stats(trained_w, learned, final_w, spike_count, cfg, w_mon_t, w_mon_v):
    """The numbers both simulators must agree on (statistically)."""
    trained_w = np.asarray(trained_w, dtype=float)
    return dict(
        n_syn=int(trained_w.size),
        mean_trained_w=float(trained_w.mean()),
        sd_trained_w=float(trained_w.std()),
        frac_frozen=float((np.asarray(learned) == 0).mean()),
        mean_final_w=float(np.mean(final_w)),
        sd_final_w=float(np.std(final_w)),
        out_rate_hz=float(spike_count / (cfg["n_out"] * cfg["duration"])),
        mon_samples=int(len(w_mon_t)),
        mon_shape=list(np.shape(w_mon_v)),
        mon_mean_last=float(np.mean(w_mon_v[-1])) if len(w_mon_t) else float("nan"),
    )


# --------------------------------------------------------------------------- snndsl

def bench_snndsl(cfg, workdir: Path):
    import snndsl
    path = workdir / "forum.snn"
    path.write_text(snn_source(cfg))

    builds = []
    model = None
    for k in range(REPEATS):
        cache = Path(tempfile.mkdtemp(prefix=f"cache{k}-", dir=workdir))
        os.environ["SNNDSL_CACHE"] = str(cache)
        t0 = time.perf_counter()
        model = snndsl.compile(path)
        builds.append(time.perf_counter() - t0)
        log(f"    snndsl cold build {k + 1}/{REPEATS}: {builds[-1]:.3f} s")

    bin_runs = []
    for k in range(REPEATS):
        out = workdir / f"results{k}"
        t0 = time.perf_counter()
        subprocess.run([str(model.binary), "-o", str(out), "--quiet"], check=True)
        bin_runs.append(time.perf_counter() - t0)
        log(f"    snndsl binary run {k + 1}/{REPEATS}: {bin_runs[-1]:.3f} s")
        if k:
            shutil.rmtree(out)

    inproc, inner = [], []
    st = None
    for k in range(REPEATS):
        t0 = time.perf_counter()
        res = model.run()
        inproc.append(time.perf_counter() - t0)
        inner.append(float(res.manifest.get("timings", {}).get("run", float("nan"))))
        log(f"    snndsl in-process run {k + 1}/{REPEATS}: {inproc[-1]:.3f} s "
            f"(its own timer of the steps: {inner[-1]:.3f} s)")
        if st is None:
            tw = np.array(res.saved["trained_w"])
            m = res["weights"]
            st = stats(tw, np.where(tw > 0.3, 0, 1), np.array(res.saved["tested_w"]),
                       len(res["out_spikes"].i), cfg, np.array(m.t), np.array(m.values))
        del res

    # the binary's results must say the same as the in-process ones (same seed)
    disk = snndsl.load(workdir / "results0")
    same = bool(np.array_equal(np.asarray(disk.saved["tested_w"]), np.asarray(model.run().saved["tested_w"])))
    shutil.rmtree(workdir / "results0")
    return dict(build=min(builds), builds=builds, bin_run=min(bin_runs), bin_runs=bin_runs,
                inproc=min(inproc), inprocs=inproc, inner_run=min(inner),
                binary_equals_inprocess=same, stats=st)


# --------------------------------------------------------------------------- Brian2

def brian2_network(cfg, standalone: bool):
    """The forum model in Brian2; returns the objects needed afterwards."""
    import brian2 as b2
    from brian2 import Hz, ms, second
    b2.start_scope()
    b2.defaultclock.dt = DT_MS * ms
    b2.seed(SEED)
    inp = b2.PoissonGroup(cfg["n_in"], rates=cfg["rate_in"] * Hz, name="inp")
    out = b2.PoissonGroup(cfg["n_out"], rates=cfg["rate_out"] * Hz, name="out")
    S = b2.Synapses(inp, out, model="""
        w : 1
        learned : 1
        w_trained : 1
        W_max : 1 (shared, constant)
        dx/dt = -x / tau : 1 (event-driven)
        dy/dt = -y / tau : 1 (event-driven)
        """, on_pre="""
        x += 1
        w = clip(w + y * learned, 0, W_max)
        """, on_post="""
        y -= 1
        w = clip(w + x * learned, 0, W_max)
        """, namespace={"tau": TAU_MS * ms}, name="S")
    S.connect()
    S.w = "rand()"
    S.W_max = 1
    S.learned = 1
    mon = b2.StateMonitor(S, "w", record=np.arange(n_recorded(cfg)), dt=MON_EVERY_MS * ms, name="weights")
    spk = b2.SpikeMonitor(out, name="out_spikes")
    net = b2.Network(inp, out, S, mon, spk)
    half = cfg["duration"] / 2 * second
    net.run(half)
    S.learned["w > 0.3"] = 0
    S.w_trained = "w"           # the equivalent of `save S.w as trained_w`
    net.run(half)
    return S, mon, spk


def brian2_stats(S, mon, spk, cfg):
    return stats(np.array(S.w_trained[:]), np.array(S.learned[:]), np.array(S.w[:]),
                 int(spk.num_spikes), cfg, np.array(mon.t[:]), np.array(mon.w[:]).T)


def worker_standalone(cfg, workdir: Path):
    import brian2 as b2
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    b2.prefs.logging.console_log_level = "WARNING"
    project = workdir / "brian2_standalone"
    t0 = time.perf_counter()
    b2.set_device("cpp_standalone", directory=str(project), build_on_run=False)
    S, mon, spk = brian2_network(cfg, standalone=True)
    t_gen = time.perf_counter()
    b2.device.build(directory=str(project), compile=True, run=True, with_output=False)
    total = time.perf_counter() - t0
    dev = b2.device
    first = dict(python_codegen=t_gen - t0, make=dev.timers["compile"]["make"],
                 run_binary=dev.timers["run_binary"], last_net_run=dev._last_run_time)
    st = brian2_stats(S, mon, spk, cfg)
    print(f"    brian2 standalone total (build+run): {total:.3f} s  {first}", file=sys.stderr, flush=True)
    reruns, wall, last_net = [], [], []
    for k in range(REPEATS):
        t0 = time.perf_counter()
        dev.run(directory=str(project), with_output=False)
        wall.append(time.perf_counter() - t0)
        reruns.append(dev.timers["run_binary"])
        last_net.append(dev._last_run_time)
        print(f"    brian2 standalone binary re-run {k + 1}/{REPEATS}: {reruns[-1]:.3f} s "
              f"(device.run() wall {wall[-1]:.3f} s; network time of the test run alone {last_net[-1]:.3f} s)",
              file=sys.stderr, flush=True)
    return dict(total=total, first=first, bin_run=min(reruns), bin_runs=reruns, run_wall=wall,
                last_net_run=min(last_net), stats=st)


def worker_runtime(cfg, workdir: Path):
    import brian2 as b2
    b2.prefs.codegen.target = "cython"
    b2.prefs.codegen.runtime.cython.cache_dir = str(workdir / "cython_cache")   # empty: a cold cache
    b2.prefs.logging.console_log_level = "WARNING"
    times, st = [], None
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        S, mon, spk = brian2_network(cfg, standalone=False)
        times.append(time.perf_counter() - t0)
        print(f"    brian2 runtime (cython, {label} cache): {times[-1]:.3f} s", file=sys.stderr, flush=True)
        if st is None:
            st = brian2_stats(S, mon, spk, cfg)
        del S, mon, spk
    return dict(target="cython", cold=times[0], warm=times[1], stats=st)


def run_worker(kind, size, cfg, workdir: Path):
    out = workdir / f"{kind}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--size", size,
           "--cfg", json.dumps(cfg), "--workdir", str(workdir), "--out", str(out)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True)
    if p.returncode != 0:
        log(f"    brian2 {kind} FAILED (exit {p.returncode}):\n{p.stdout}")
        return None
    log(f"    (worker took {time.perf_counter() - t0:.1f} s including the import of brian2)")
    return json.loads(out.read_text())


# --------------------------------------------------------------------------- agreement

def agreement(a, b):
    """Compare snndsl's stats (a) with Brian2's (b)."""
    rows = []
    n = a["n_syn"]
    for key, sd_key, what in (("mean_trained_w", "sd_trained_w", "mean w after training"),
                              ("frac_frozen", None, "fraction frozen (w > 0.3)"),
                              ("mean_final_w", "sd_final_w", "mean w after test"),
                              ("out_rate_hz", None, "output rate (Hz)")):
        x, y = a[key], b[key]
        rel = abs(x - y) / max(abs(y), 1e-12)
        if sd_key:
            se = np.hypot(a[sd_key], b[sd_key]) / np.sqrt(n)
        elif key == "frac_frozen":
            p = (x + y) / 2
            se = np.sqrt(2 * p * (1 - p) / n)
        else:
            se = np.nan
        z = abs(x - y) / se if se and np.isfinite(se) and se > 0 else float("nan")
        # synapses are not independent (they share pre/post spike trains), so z is only indicative
        ok = rel < 0.05 or (np.isfinite(z) and z < 3)
        rows.append(dict(what=what, snndsl=x, brian2=y, rel=rel, z=z, ok=bool(ok)))
    return rows


# --------------------------------------------------------------------------- report

def versions():
    import brian2
    import snndsl
    cc = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    gxx = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    try:
        import Cython
        cy = Cython.__version__
    except ImportError:
        cy = "not installed"
    return dict(snndsl=snndsl.__version__, brian2=brian2.__version__, numpy=np.__version__, cython=cy,
                python=platform.python_version(), cc=cc, gxx=gxx)


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def fmt(x, nd=3):
    return "–" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{nd}f}"


def ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


def compute_ratios(r):
    s, sa, rt = r["snndsl"], r.get("standalone"), r.get("runtime")
    snn_total = s["build"] + s["bin_run"]
    out = dict(snn_total=snn_total)
    if sa:
        out["standalone_total"] = ratio(sa["total"], snn_total)
        out["standalone_sim"] = ratio(sa["bin_run"], s["bin_run"])
    if rt:
        out["runtime_total"] = ratio(rt["cold"], snn_total)
        out["runtime_sim"] = ratio(rt["warm"], s["inproc"])
    return out


def write_report(results, command, elapsed, path_md: Path, path_png: Path):
    v = versions()
    now = RUN_DATE or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    L = []
    L.append("# Forum-model benchmark: snndsl vs Brian2\n")
    L.append("Generated by `bench/forum_bench.py` (see README.md). Do not edit by hand; rerun instead.\n")
    L.append(f"- command: `{command}`")
    L.append(f"- date: {now}; whole benchmark took {elapsed / 60:.1f} min")
    L.append(f"- machine: {os.cpu_count()} cores ({cpu_name()}), {platform.system()} {platform.release()}; "
             "one timing at a time")
    L.append(f"- versions: snndsl {v['snndsl']}, Brian2 {v['brian2']}, numpy {v['numpy']}, Cython {v['cython']}, "
             f"Python {v['python']}; C: {v['cc']}; C++: {v['gxx']}")
    from snndsl.build import cc as _cc
    L.append(f"- flags: snndsl builds with `{' '.join(_cc.CFLAGS)}`; Brian2 standalone with its defaults "
             "(`-O3 -ffast-math -fno-finite-math-only -march=native`), `openmp_threads = 0`, `make -j`")
    L.append(f"- model: examples/freeze_after_learning.snn scaled; dt = {DT_MS} ms, tau = {TAU_MS} ms, "
             f"train T/2, freeze `w > 0.3`, test T/2; StateMonitor of w every {MON_EVERY_MS:g} ms on the first "
             f"min(N_syn, {MAX_RECORDED}) synapses (all of them for small and medium), SpikeMonitor of the outputs")
    L.append("- caveat: the machine is shared; other jobs may have run at the same time, and repeated timings "
             "of one binary varied by up to ~50 % between repeats (see forum_bench.json for every repeat)")
    L.append("")
    L.append("## Times (seconds)\n")
    L.append("snndsl: best of 3. Brian2 standalone: total once (construction + codegen + make + run), "
             "binary re-run best of 3. Brian2 runtime (Cython): once with an empty cache (cold), once warm.\n")
    L.append("| size | synapses | T (s) | snndsl build | snndsl binary run | snndsl in-process | snndsl total "
             "| B2 standalone total | B2 standalone make | B2 standalone binary run | B2 runtime cold | B2 runtime warm |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size, r in results.items():
        cfg, s, sa, rt = r["cfg"], r["snndsl"], r.get("standalone"), r.get("runtime")
        L.append(f"| {size} ({cfg['n_in']}x{cfg['n_out']}, {cfg['rate_in']:g} Hz) | {cfg['n_in'] * cfg['n_out']:,} "
                 f"| {cfg['duration']:g} | {fmt(s['build'])} | {fmt(s['bin_run'])} | {fmt(s['inproc'])} "
                 f"| {fmt(s['build'] + s['bin_run'])} | {fmt(sa and sa['total'])} "
                 f"| {fmt(sa and sa['first']['make'])} | {fmt(sa and sa['bin_run'])} "
                 f"| {fmt(rt and rt['cold'])} | {fmt(rt and rt['warm'])} |")
    L.append("")
    L.append("## Ratios (Brian2 time / snndsl time; > 1 means snndsl is faster)\n")
    L.append("- total: Brian2 standalone total / (snndsl cold build + snndsl binary run)")
    L.append("- simulation only: Brian2 standalone binary re-run / snndsl binary run (both: the whole process, "
             "including setup and writing results)")
    L.append("- runtime total: Brian2 Cython, cold cache / snndsl total; runtime sim: Brian2 Cython, warm cache / "
             "snndsl in-process run\n")
    L.append("| size | total (standalone) | simulation only (standalone) | total (runtime) | sim (runtime) |")
    L.append("|---|---|---|---|---|")
    for size, r in results.items():
        q = r["ratios"]
        L.append(f"| {size} | {fmt(q.get('standalone_total'), 1)} | {fmt(q.get('standalone_sim'), 1)} "
                 f"| {fmt(q.get('runtime_total'), 1)} | {fmt(q.get('runtime_sim'), 1)} |")
    L.append("")
    L.append("## Statistical agreement (sanity check)\n")
    L.append("Different RNGs, so only statistics can agree. `z` = difference / combined standard error over "
             "synapses (synapses share spike trains, so it is indicative only). OK = relative difference < 5 % "
             "or z < 3. Brian2 values from the standalone run (the `w_trained` copy stands for `save S.w as "
             "trained_w`; the frozen fraction is counted from `learned == 0`).\n")
    L.append("| size | quantity | snndsl | Brian2 | rel. diff | z | OK |")
    L.append("|---|---|---|---|---|---|---|")
    for size, r in results.items():
        for row in r.get("agreement", []):
            L.append(f"| {size} | {row['what']} | {row['snndsl']:.4f} | {row['brian2']:.4f} | "
                     f"{100 * row['rel']:.2f} % | {fmt(row['z'], 2)} | {'yes' if row['ok'] else '**NO**'} |")
    L.append("")
    notes = [r["notes"] for r in results.values() if r.get("notes")]
    if notes:
        L.append("## Problems seen\n")
        L.extend(f"- {n}" for n in notes)
        L.append("")
    L.append("## Observations on the generated C (at the time of this run)\n")
    L.append(OBSERVATIONS)
    text = "\n".join(L) + "\n"
    # keep the sections other scripts (bench/models_bench.py) generated between their markers
    old = path_md.read_text() if path_md.exists() else ""
    if KEEP_FROM in old:
        text += "\n" + old[old.index(KEEP_FROM):]
    path_md.write_text(text)

    # bar plot of the ratios
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = [("standalone_total", "B2 standalone, total"), ("standalone_sim", "B2 standalone, sim only"),
            ("runtime_total", "B2 runtime (Cython), total"), ("runtime_sim", "B2 runtime (Cython), sim only")]
    sizes = list(results)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / len(keys)
    for k, (key, label) in enumerate(keys):
        vals = [results[s]["ratios"].get(key) or 0.0 for s in sizes]
        xs = np.arange(len(sizes)) + (k - (len(keys) - 1) / 2) * width
        bars = ax.bar(xs, vals, width, label=label)
        for b, val in zip(bars, vals):
            if val:
                ax.text(b.get_x() + b.get_width() / 2, val, f"{val:.1f}", ha="center", va="bottom", fontsize=7)
    ax.axhline(1, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(sizes)))
    ax.set_xticklabels([f"{s}\n{results[s]['cfg']['n_in']}x{results[s]['cfg']['n_out']}, "
                        f"{results[s]['cfg']['duration']:g} s" for s in sizes])
    ax.set_ylabel("Brian2 time / snndsl time (log)")
    ax.set_title("Forum model: speed-up of snndsl over Brian2 (> 1: snndsl faster)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path_png, dpi=120)


# RESULTS.md from this marker on belongs to other scripts and is kept on rewrite
KEEP_FROM = "<!-- BEGIN "

OBSERVATIONS = """\
The optimizer stores the traces x and y per neuron (`hoist_traces`: `x` per presynaptic,
`y` per postsynaptic neuron, each updated once per spike) and drops the per-synapse
`lastupdate`; see `snndsl compile MODEL --emit ir`. `connect: all` makes every spike reach
every neuron of the far end, so a pathway brings the far end's traces to `t` once per step
with spikes, in a loop over those neurons (`SynapseEvents.advance_all`; a table lookup
each, without branches, where every elapsed time is a whole number of steps in the table),
and computes each spike's synapses, (i - i0) n_j + (j - j0), instead of reading index
lists (`SynapseEvents.dense`): the weight loops have affine indices only and vectorize,
`on post`'s as a strided gather over the presynaptic-ordered weights (Brian2's layout
too). `learned`, read by both pathways and written only by `init` and the freeze, is
checked at each run's start and read from element 0 while it is the same in every synapse
(`uniform_reads`: the whole train phase). Poisson sources are kept in a calendar by the
step of their next spike, so a step visits only the sources due. All of this gives the
same numbers bit for bit as the plain code (`tests/passes/test_advances.py`,
`tests/passes/test_uniform_reads.py`, `tests/reference/`); the build uses `-O3
-march=native` without fast-math. At 1e6 synapses the loop is 4.4x the bare-loop limit
of these synapses, at 1e7 1.6x (`bench/bare_bench.py`, below); what remains at 1e6 is the
test phase's strided reads of `learned` (one cache line per synapse) and the traces'
advances; at 1e7 the weights no longer fit in the last-level cache and every `on post`
synapse is a cache line from memory, for Brian2 as for snndsl. The whole process also
writes 108 MB of results at 1e6 (the weight monitor, two saves with their `i` and `j`),
about a third of its time here.

Statistics: an earlier run suggested snndsl's mean trained weight sat ~1 % below Brian2's.
Over 16 seeds (medium size, 4 s; snndsl `model.run(seed=s)`, Brian2 runtime/Cython with
`seed(s)`), the mean trained weight was 0.5006 +- 0.0014 (snndsl) and 0.5009 +- 0.0022
(Brian2): no difference. The exact differential test with identical input spikes
(tests/e2e/test_forum_vs_brian2.py) agrees to 1e-9."""


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="small,medium,large,xlarge", help="comma-separated, from: " + ", ".join(SIZES))
    ap.add_argument("--no-runtime", action="store_true", help="skip Brian2 runtime mode")
    ap.add_argument("--out", default=str(HERE), help="folder for RESULTS.md, forum_bench.json/.png")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite RESULTS.md and the plot from forum_bench.json, without measuring")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--size", help=argparse.SUPPRESS)
    ap.add_argument("--cfg", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        cfg, workdir = json.loads(args.cfg), Path(args.workdir)
        fn = {"standalone": worker_standalone, "runtime": worker_runtime}[args.worker]
        Path(args.out).write_text(json.dumps(fn(cfg, workdir)))
        return

    command = ("/work/venv/bin/python bench/forum_bench.py " + " ".join(sys.argv[1:])).strip()
    if args.report_only:
        saved = json.loads((Path(args.out) / "forum_bench.json").read_text())
        meta = saved.pop("_meta")
        global RUN_DATE
        RUN_DATE = meta.get("date")
        write_report(saved, meta["command"], meta["elapsed"], Path(args.out) / "RESULTS.md",
                     Path(args.out) / "forum_bench.png")
        log("rewrote RESULTS.md and forum_bench.png")
        return
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for s in sizes:
        if s not in SIZES:
            ap.error(f"unknown size {s!r}")
    out = Path(args.out)
    t_start = time.perf_counter()
    results = {}
    for size in sizes:
        cfg = SIZES[size]
        log(f"== {size}: {cfg['n_in']}x{cfg['n_out']} = {cfg['n_in'] * cfg['n_out']:,} synapses, "
            f"{cfg['rate_in']:g}/{cfg['rate_out']:g} Hz, {cfg['duration']:g} s "
            f"[{time.perf_counter() - t_start:.0f} s elapsed]")
        with tempfile.TemporaryDirectory(prefix=f"forum_bench_{size}_") as tmp:
            tmp = Path(tmp)
            r = dict(cfg=cfg)
            log("  snndsl")
            r["snndsl"] = bench_snndsl(cfg, tmp)
            if not r["snndsl"]["binary_equals_inprocess"]:
                r["notes"] = f"{size}: the binary and model.run() gave different tested_w for the same seed"
                log("    WARNING: " + r["notes"])
            log("  Brian2 cpp_standalone")
            r["standalone"] = run_worker("standalone", size, cfg, tmp)
            if size in RUNTIME_SIZES and not args.no_runtime:
                log("  Brian2 runtime (cython)")
                r["runtime"] = run_worker("runtime", size, cfg, tmp)
            r["ratios"] = compute_ratios(r)
            if r.get("standalone"):
                r["agreement"] = agreement(r["snndsl"]["stats"], r["standalone"]["stats"])
            if r.get("runtime"):
                r["agreement_runtime"] = agreement(r["snndsl"]["stats"], r["runtime"]["stats"])
        q = r["ratios"]
        log("  ratios (Brian2 / snndsl): " + ", ".join(f"{k} {v:.2f}" for k, v in q.items() if v is not None))
        for row in r.get("agreement", []):
            log(f"  agree: {row['what']:28s} snndsl {row['snndsl']:.4f}  brian2 {row['brian2']:.4f}  "
                f"rel {100 * row['rel']:.2f} %  z {row['z']:.2f}  {'OK' if row['ok'] else 'MISMATCH'}")
        results[size] = r
    elapsed = time.perf_counter() - t_start
    (out / "forum_bench.json").write_text(json.dumps(dict(results, _meta=dict(
        command=command, elapsed=elapsed,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))),
                                                     indent=1, default=float))
    write_report(results, command, elapsed, out / "RESULTS.md", out / "forum_bench.png")
    log(f"done in {elapsed / 60:.1f} min; wrote {out / 'RESULTS.md'}, forum_bench.json, forum_bench.png")


if __name__ == "__main__":
    main()
