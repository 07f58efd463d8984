#!/usr/bin/env python
"""snndsl vs Brian2 on two more models: CUBA and Song-Abbott STDP.

  cuba         examples/cuba.snn (Vogels & Abbott 2005, Brian2's examples/CUBA.py):
               4000 LIF neurons, ~320,000 synapses (p = 0.02), simulated for 5 s
               (--set 'duration=5 s'); Brian2: tests/brian2_ref/cuba.py
  song_abbott  examples/song_abbott.snn (Song, Miller & Abbott 2000, Brian2's
               examples/synapses/STDP.py): 1000 Poisson inputs -> 1 neuron, STDP,
               simulated for 20 s; Brian2: tests/brian2_ref/song_abbott.py

The Brian2 models are the references the e2e tests use (run_cuba_brian2,
run_song_abbott_brian2), imported by path and called unchanged; for the
standalone device, set_device() is called first, with build_on_run=True, so the
references' net.run() builds and runs the project.

Measured, one at a time, as bench/forum_bench.py does:

  snndsl   cold build  snndsl.compile(path) with SNNDSL_CACHE = a fresh temp dir   best of 3
           binary run  subprocess [model.binary, -o DIR, --quiet, --set duration=]  best of 3
           in-process  model.run(params={"duration": ...})                          best of 3
  Brian2   cpp_standalone (openmp_threads = 0):
           total       network construction + code generation + make + first run
                       (+ reading the monitors back)                                once
           binary run  device.run() again on the built project (no recompilation);
                       Brian2's own timer of the binary subprocess                  best of 3
  Brian2   runtime (Cython target):
           cold        construction + run, with an empty Cython cache               once
           warm        the same again in the same process (Cython cache warm)       once

Both models have a single run(), so the simulation loop alone is also compared:
snndsl's manifest timings["run"] against Brian2 standalone's device._last_run_time.

Each Brian2 measurement runs in a fresh Python subprocess (this file, --worker ...).

Usage:  /work/venv/bin/python bench/models_bench.py [--models cuba,song_abbott] [--no-runtime]
        /work/venv/bin/python bench/models_bench.py --report-only
Writes bench/models_bench.json, bench/models_bench.png and its own section of
bench/RESULTS.md (between the markers MARK_BEGIN / MARK_END below; forum_bench.py
keeps that section when it rewrites RESULTS.md).
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sections import markers, write_section  # noqa: E402  (bench/, beside this script)

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REF_DIR = ROOT / "tests" / "brian2_ref"
REPEATS = 3
SEED = 1
RUN_DATE = None   # set from models_bench.json by --report-only

MARK_BEGIN, MARK_END = markers("models_bench.py")

# sd = Brian2's own seed-to-seed standard deviation of each statistic, measured in
# tests/e2e/test_cuba_vs_brian2.py (32 seeds, 1 s) and test_song_abbott_vs_brian2.py
# (34 seeds, 20 s). For CUBA at 5 s the 1 s values are used (an upper bound: a longer
# run averages more of the within-run fluctuation away).
MODELS = {
    "cuba": dict(
        snn="examples/cuba.snn", ref="cuba.py", duration=5.0, runtime=True,
        desc="4000 LIF (3200 exc + 800 inh), p = 0.02, exact integration, 5 ms refractory",
        sd={"rate": 0.23, "rate_exc": 0.28, "rate_inh": 0.058, "cv": 0.0098, "frac_cv": 0.017},
        labels={"rate": "mean rate, all 4000 (Hz)", "rate_exc": "mean rate, exc (Hz)",
                "rate_inh": "mean rate, inh (Hz)", "cv": "mean ISI CV (>= 3 spikes)",
                "frac_cv": "fraction with >= 3 spikes"},
    ),
    "song_abbott": dict(
        snn="examples/song_abbott.snn", ref="song_abbott.py", duration=20.0, runtime=True,
        desc="1000 Poisson inputs at 15 Hz -> 1 LIF neuron (Euler), all-to-all additive STDP",
        sd={"rate": 4.0, "rate_late": 3.2, "frac_low": 0.0084, "frac_high": 0.0061, "mean_w": 0.0032},
        labels={"rate": "output rate, whole run (Hz)", "rate_late": "output rate, last fifth (Hz)",
                "frac_low": "fraction w < 0.1 gmax", "frac_high": "fraction w > 0.9 gmax",
                "mean_w": "mean w / gmax"},
    ),
}


def log(*args):
    print(*args, flush=True)


def reference(name: str):
    """tests/brian2_ref/<name>, loaded by path (``tests`` need not be a package)."""
    mod_name = "_bench_brian2_ref_" + name.replace(".py", "")
    if mod_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(mod_name, REF_DIR / name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    return sys.modules[mod_name]


# --------------------------------------------------------------------------- statistics

def cuba_stats(exc_i, exc_t, inh_i, inh_t, duration):
    ref = reference("cuba.py")
    st = ref.network_statistics(exc_i, exc_t, inh_i, inh_t, duration)
    return dict(rate=st["rate"], rate_exc=st["rate_exc"], rate_inh=st["rate_inh"], cv=st["cv"],
                frac_cv=st["n_cv"] / (ref.N_EXC + ref.N_INH),
                n_spikes=int(len(exc_t) + len(inh_t)))


def song_abbott_stats(out_t, w, duration):
    ref = reference("song_abbott.py")
    out_t = np.asarray(out_t, dtype=float)
    late = 0.8 * duration
    ws = ref.weight_statistics(w)
    return dict(rate=len(out_t) / duration,
                rate_late=np.count_nonzero(out_t >= late - 1e-9) / (duration - late),
                frac_low=ws["frac_low"], frac_high=ws["frac_high"], mean_w=ws["mean_w"],
                n_spikes=int(len(out_t)), n_syn=int(np.size(w)))


def snndsl_stats(name, res, duration):
    if name == "cuba":
        e, h = res["exc_spikes"], res["inh_spikes"]
        return cuba_stats(np.asarray(e.i), np.asarray(e.t), np.asarray(h.i), np.asarray(h.t), duration)
    return song_abbott_stats(np.asarray(res["out_spikes"].t), np.asarray(res.saved["w_final"]), duration)


def spikes_of(name, res):
    """Everything the run produced that the binary/in-process comparison checks."""
    if name == "cuba":
        return [np.asarray(res[m].i) for m in ("exc_spikes", "inh_spikes")] + \
               [np.asarray(res[m].t) for m in ("exc_spikes", "inh_spikes")]
    return [np.asarray(res["out_spikes"].t), np.asarray(res.saved["w_final"])]


# --------------------------------------------------------------------------- snndsl

def bench_snndsl(name, cfg, workdir: Path):
    import snndsl
    path = ROOT / cfg["snn"]
    dur = f"{cfg['duration']:g} s"

    builds = []
    model = None
    for k in range(REPEATS):
        cache = Path(tempfile.mkdtemp(prefix=f"cache{k}-", dir=workdir))
        os.environ["SNNDSL_CACHE"] = str(cache)
        t0 = time.perf_counter()
        model = snndsl.compile(path)
        builds.append(time.perf_counter() - t0)
        log(f"    snndsl cold build {k + 1}/{REPEATS}: {builds[-1]:.3f} s")

    bin_runs, bin_inner, bin_setup = [], [], []
    for k in range(REPEATS):
        out = workdir / f"results{k}"
        t0 = time.perf_counter()
        subprocess.run([str(model.binary), "-o", str(out), "--quiet", "--set", f"duration={dur}"], check=True)
        bin_runs.append(time.perf_counter() - t0)
        tm = json.loads((out / "manifest.json").read_text()).get("timings", {})
        bin_inner.append(float(tm.get("run", float("nan"))))
        bin_setup.append(float(tm.get("setup", float("nan"))))
        log(f"    snndsl binary run {k + 1}/{REPEATS}: {bin_runs[-1]:.3f} s "
            f"(its own timers: setup {bin_setup[-1]:.3f} s, steps {bin_inner[-1]:.3f} s)")
        if k:
            shutil.rmtree(out)

    inproc, inner = [], []
    st = first = None
    for k in range(REPEATS):
        t0 = time.perf_counter()
        res = model.run(params={"duration": dur})
        inproc.append(time.perf_counter() - t0)
        inner.append(float(res.manifest.get("timings", {}).get("run", float("nan"))))
        log(f"    snndsl in-process run {k + 1}/{REPEATS}: {inproc[-1]:.3f} s "
            f"(its own timer of the steps: {inner[-1]:.3f} s)")
        if st is None:
            st = snndsl_stats(name, res, cfg["duration"])
            first = spikes_of(name, res)
        del res

    # the binary's results must be the in-process ones (same seed, same duration)
    disk = snndsl.load(workdir / "results0")
    same = all(np.array_equal(a, b) for a, b in zip(spikes_of(name, disk), first))
    shutil.rmtree(workdir / "results0")
    groups = {g: v.get("size") for g, v in disk.manifest.get("groups", {}).items()}
    return dict(build=min(builds), builds=builds, bin_run=min(bin_runs), bin_runs=bin_runs,
                bin_inner=min(bin_inner), bin_inners=bin_inner, bin_setup=min(bin_setup),
                inproc=min(inproc), inprocs=inproc, inner_run=min(inner),
                binary_equals_inprocess=bool(same), groups=groups, stats=st)


# --------------------------------------------------------------------------- Brian2

def brian2_model(name, cfg):
    """Run the reference (whatever device is set); return its statistics and synapse count."""
    if name == "cuba":
        r = reference("cuba.py").run_cuba_brian2(cfg["duration"], SEED, target=cfg["target"])
        return cuba_stats(r["exc_i"], r["exc_t"], r["inh_i"], r["inh_t"], cfg["duration"]), \
            r["n_syn_e"] + r["n_syn_i"]
    r = reference("song_abbott.py").run_song_abbott_brian2(cfg["duration"], SEED, target=cfg["target"])
    return song_abbott_stats(r["out_t"], r["w_final"], cfg["duration"]), int(len(r["w_final"]))


def worker_standalone(name, cfg, workdir: Path):
    import brian2 as b2
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    b2.prefs.logging.console_log_level = "WARNING"
    project = workdir / "brian2_standalone"
    t0 = time.perf_counter()
    # build_on_run: the reference's net.run() generates, compiles and runs the project
    b2.set_device("cpp_standalone", directory=str(project), build_on_run=True, with_output=False)
    st, n_syn = brian2_model(name, dict(cfg, target="numpy"))   # target is ignored by the device
    total = time.perf_counter() - t0
    dev = b2.device
    first = dict(make=dev.timers["compile"]["make"], run_binary=dev.timers["run_binary"],
                 net_run=dev._last_run_time)
    first["python_codegen"] = total - first["make"] - first["run_binary"]
    print(f"    brian2 standalone total (build+run): {total:.3f} s  "
          + ", ".join(f"{k} {v:.3f}" for k, v in first.items()), file=sys.stderr, flush=True)
    reruns, wall, net = [], [], []
    for k in range(REPEATS):
        t0 = time.perf_counter()
        dev.run(directory=str(project), with_output=False)
        wall.append(time.perf_counter() - t0)
        reruns.append(dev.timers["run_binary"])
        net.append(dev._last_run_time)
        print(f"    brian2 standalone binary re-run {k + 1}/{REPEATS}: {reruns[-1]:.3f} s "
              f"(device.run() wall {wall[-1]:.3f} s; network run time {net[-1]:.3f} s)",
              file=sys.stderr, flush=True)
    return dict(total=total, first=first, bin_run=min(reruns), bin_runs=reruns, run_wall=wall,
                net_run=min(net), net_runs=net, n_syn=n_syn, stats=st)


def worker_runtime(name, cfg, workdir: Path):
    import brian2 as b2
    b2.prefs.codegen.runtime.cython.cache_dir = str(workdir / "cython_cache")   # empty: a cold cache
    b2.prefs.logging.console_log_level = "WARNING"
    times, st = [], None
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        s, n_syn = brian2_model(name, dict(cfg, target="cython"))
        times.append(time.perf_counter() - t0)
        print(f"    brian2 runtime (cython, {label} cache): {times[-1]:.3f} s", file=sys.stderr, flush=True)
        if st is None:
            st = s
    return dict(target="cython", cold=times[0], warm=times[1], n_syn=n_syn, stats=st)


def run_worker(kind, name, cfg, workdir: Path):
    out = workdir / f"{kind}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--model", name,
           "--workdir", str(workdir), "--out", str(out)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True, cwd=str(ROOT))
    if p.returncode != 0:
        log(f"    brian2 {kind} FAILED (exit {p.returncode}):\n{p.stdout}")
        return None
    log(f"    (worker took {time.perf_counter() - t0:.1f} s including the import of brian2)")
    return json.loads(out.read_text())


# --------------------------------------------------------------------------- agreement

def agreement(name, a, b):
    """Compare snndsl's stats (a) with one Brian2 run's (b). Single seeds on both sides,
    so z = |difference| / (sqrt(2) * Brian2's seed-to-seed sd). OK: rel. diff < 5 % or z < 3."""
    cfg = MODELS[name]
    rows = []
    for key, what in cfg["labels"].items():
        x, y = a[key], b[key]
        rel = abs(x - y) / max(abs(y), 1e-12)
        z = abs(x - y) / (np.sqrt(2) * cfg["sd"][key])
        rows.append(dict(key=key, what=what, snndsl=x, brian2=y, rel=rel, z=z, sd=cfg["sd"][key],
                         ok=bool(rel < 0.05 or z < 3)))
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
        out["standalone_loop"] = ratio(sa["net_run"], s["bin_inner"])
    if rt:
        out["runtime_total"] = ratio(rt["cold"], snn_total)
        out["runtime_sim"] = ratio(rt["warm"], s["inproc"])
    return out


def section(results, meta):
    """The markdown of this benchmark's section of RESULTS.md."""
    v = versions()
    from snndsl.build import cc as _cc
    L = [MARK_BEGIN, ""]
    L.append("# More models: CUBA and Song-Abbott STDP, snndsl vs Brian2\n")
    L.append("Generated by `bench/models_bench.py` (see README.md); `forum_bench.py` keeps this section "
             "when it rewrites the file. Do not edit by hand; rerun instead.\n")
    L.append(f"- command: `{meta['command']}` (redo this section and the plot from models_bench.json: "
             "`/work/venv/bin/python bench/models_bench.py --report-only`)")
    L.append(f"- date: {meta['date']}; whole benchmark took {meta['elapsed'] / 60:.1f} min")
    L.append(f"- machine: {os.cpu_count()} cores ({cpu_name()}), {platform.system()} {platform.release()}; "
             "one timing at a time")
    L.append(f"- versions: snndsl {v['snndsl']}, Brian2 {v['brian2']}, numpy {v['numpy']}, Cython {v['cython']}, "
             f"Python {v['python']}; C: {v['cc']}; C++: {v['gxx']}")
    L.append(f"- flags: snndsl builds with `{' '.join(_cc.CFLAGS)}`; Brian2 standalone with its defaults "
             "(`-O3 -ffast-math -fno-finite-math-only -march=native`), `openmp_threads = 0`, `make -j`")
    L.append("- models (dt = 0.1 ms, seed 1 on both sides):")
    for name, r in results.items():
        cfg = MODELS[name]
        L.append(f"  - {name}: `{cfg['snn']}` run with `--set 'duration={cfg['duration']:g} s'` "
                 f"(in-process: `params={{\"duration\": \"{cfg['duration']:g} s\"}}`); {cfg['desc']}; "
                 f"Brian2: `tests/brian2_ref/{cfg['ref']}` called unchanged "
                 f"(synapses: snndsl {sum(n for g, n in r['snndsl']['groups'].items() if g not in ('exc', 'inh', 'inp', 'out')):,}, "
                 f"Brian2 {fmt_int(r.get('standalone') and r['standalone']['n_syn'])})")
    L.append("- caveat: the machine is shared (2 cores; a CI job of another session was running at times), "
             "so single timings can be off by tens of %; see models_bench.json for every repeat")
    L.append("")
    L.append("## Times (seconds)\n")
    L.append("snndsl: best of 3; build = cold (fresh `SNNDSL_CACHE`), binary run = the whole process "
             "(`model -o DIR --quiet --set ...`), in-process = `model.run()`, steps = the binary's own timer "
             "of the simulation loop (manifest `timings.run`). Brian2 standalone: total once (construction + "
             "codegen + make + first run + reading the monitors back), binary re-run best of 3 "
             "(`device.run()`, Brian2's `timers['run_binary']`), loop = `device._last_run_time` (the network "
             "run alone; these models have a single `run`). Brian2 runtime (Cython): once with an empty "
             "cache (cold), once warm.\n")
    L.append("| model | T (s) | snndsl build | snndsl binary run | snndsl steps | snndsl in-process | snndsl total "
             "| B2 sa total | B2 sa make | B2 sa binary run | B2 sa loop | B2 runtime cold | B2 runtime warm |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        s, sa, rt = r["snndsl"], r.get("standalone"), r.get("runtime")
        L.append(f"| {name} | {MODELS[name]['duration']:g} | {fmt(s['build'])} | {fmt(s['bin_run'])} "
                 f"| {fmt(s['bin_inner'])} | {fmt(s['inproc'])} | {fmt(s['build'] + s['bin_run'])} "
                 f"| {fmt(sa and sa['total'])} | {fmt(sa and sa['first']['make'])} | {fmt(sa and sa['bin_run'])} "
                 f"| {fmt(sa and sa['net_run'])} | {fmt(rt and rt['cold'])} | {fmt(rt and rt['warm'])} |")
    L.append("")
    L.append("## Ratios (Brian2 time / snndsl time; > 1 means snndsl is faster)\n")
    L.append("- total (standalone): B2 standalone total / (snndsl cold build + snndsl binary run)")
    L.append("- sim (standalone): B2 standalone binary re-run / snndsl binary run (whole processes)")
    L.append("- loop (standalone): B2 `_last_run_time` / snndsl steps (simulation loops alone)")
    L.append("- total (runtime): B2 Cython, cold cache / snndsl total; sim (runtime): B2 Cython, warm cache "
             "/ snndsl in-process run\n")
    L.append("| model | total (standalone) | sim (standalone) | loop (standalone) | total (runtime) | sim (runtime) |")
    L.append("|---|---|---|---|---|---|")
    for name, r in results.items():
        q = r["ratios"]
        L.append(f"| {name} | {fmt(q.get('standalone_total'), 1)} | {fmt(q.get('standalone_sim'), 2)} "
                 f"| {fmt(q.get('standalone_loop'), 2)} | {fmt(q.get('runtime_total'), 1)} "
                 f"| {fmt(q.get('runtime_sim'), 1)} |")
    L.append("")
    L.append("## Statistical agreement (sanity check)\n")
    L.append("Different RNGs (connectivity, initial potentials, Poisson inputs), one seed per run, so only "
             "statistics can agree. `sd` = Brian2's seed-to-seed standard deviation of the statistic "
             "(measured in tests/e2e/test_cuba_vs_brian2.py over 32 seeds at 1 s -- used for 5 s too, where it "
             "is an upper bound -- and test_song_abbott_vs_brian2.py over 34 seeds at 20 s); "
             "z = |difference| / (sqrt(2) sd). OK = relative difference < 5 % or z < 3. "
             + same_rng_note(results) + " The e2e tests make the real check over 8+8 (CUBA) and 5+10 "
             "(Song-Abbott) seeds.\n")
    L.append("| model | quantity | snndsl | B2 standalone | rel. diff | z | OK | B2 runtime | rel. diff | z | OK |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        ag_sa = {row["key"]: row for row in r.get("agreement", [])}
        ag_rt = {row["key"]: row for row in r.get("agreement_runtime", [])}
        for key, what in MODELS[name]["labels"].items():
            a, b = ag_sa.get(key), ag_rt.get(key)
            x = (a or b)["snndsl"] if (a or b) else r["snndsl"]["stats"][key]
            cells = []
            for row in (a, b):
                cells += ([fmt(row["brian2"], 4), f"{100 * row['rel']:.2f} %", fmt(row["z"], 2),
                           "yes" if row["ok"] else "**NO**"] if row else ["–"] * 4)
            L.append(f"| {name} | {what} | {x:.4f} | " + " | ".join(cells) + " |")
    L.append("")
    notes = [n for r in results.values() for n in r.get("notes", [])]
    for name, r in results.items():
        q = r["ratios"].get("standalone_loop")
        if q is not None and q < 1:
            notes.append(f"{name}: snndsl's simulation loop is {1 / q:.1f}x slower than Brian2 standalone's "
                         f"({r['snndsl']['bin_inner']:.3f} s vs {r['standalone']['net_run']:.3f} s); "
                         "see the observations below")
    L.append("## Problems seen\n")
    L.extend(f"- {n}" for n in notes) if notes else L.append("- none in this run")
    L.append("")
    L.append("## Observations on the generated C (at the time of this run)\n")
    L.append(OBSERVATIONS)
    L.append("")
    L.append(MARK_END)
    return "\n".join(L) + "\n"


def same_rng_note(results):
    same = [n for n, r in results.items() if r.get("standalone") and r.get("runtime")
            and all(r["standalone"]["stats"][k] == r["runtime"]["stats"][k] for k in MODELS[n]["labels"])]
    if same:
        return (f"Brian2 standalone and runtime gave identical statistics ({', '.join(same)}): with the same "
                "seed they draw the same random numbers, so they are one Brian2 sample, not two.")
    return "Brian2 standalone and runtime gave different statistics (different random numbers)."


OBSERVATIONS = """\
**CUBA**: the first measurement had snndsl's loop ~3x slower than Brian2 standalone's, all
of it in the neuron update (a dense 3x3 exact step, arrays reloaded through `sim->`; see
`bench/cuba_exact_step_experiment.py`); the generator then wrote only the nonzero terms of
E and F, through local `restrict` pointers (0.44 s for 5 s against Brian2's 0.34 s). Then,
in order (5 s, paired runs of the two binaries, spikes byte-identical each time): the
build at `-O3 -march=native -fno-trapping-math -ffp-contract=off` (no fast-math) and the
factors of the free and the refractory system chosen by a select instead of a pointer, so
the update vectorizes (0.79 -> 0.45 s); a threshold that tests 16 neurons at once without
branches and looks at each only where one passes (0.45 -> 0.38 s); a refractory period
fixed for the run ending at a precomputed elapsed time (`snn_elapsed_from`: a comparison
per neuron with the same truth as Brian2's division, 0.38 -> 0.33 s): ~2.3x Brian2's loop
on the machine of 2026-12-02. The machine of 2026-12-04 has AVX-512: there Brian2's
`-ffast-math -march=native` build of CUBA runs twice as fast as it did (0.39 s), snndsl's
a little slower (0.37 s), and the ratio fell to ~1x. The threshold's blocks of 16 then got a constant trip
count, so that the compiler unrolls and vectorizes them whole (0.366 -> 0.307 s in paired
runs, byte-identical); the same binaries ran 30-40 % slower an hour later on this shared
machine, which is why the table's figures, taken in turn rather than paired, are noisy.

**Song-Abbott**: at first ~95 % of the loop was the Poisson inputs (one random number
per input and step). Sources with rates fixed during a run draw the step of their next
spike (a geometric number of steps ahead, the same Bernoulli process), and since this
session they are kept in a calendar by that step (`snn_calendar`, runtime_c), so a step
visits only the sources due instead of scanning all 1000 (0.46 -> 0.13 s for 100 s, the
same spikes and weights byte for byte).

**Builds**: the snndsl cold build (1-2 s on this loaded machine, including the runtime
objects, now at -O3) is 5-10x shorter than Brian2's standalone build, whose `make` alone
took 8-13 s here."""


def fmt_int(x):
    return "–" if x is None else f"{x:,}"


def plot(results, path_png: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = [("standalone_total", "B2 standalone, total"), ("standalone_sim", "B2 standalone, binary run"),
            ("standalone_loop", "B2 standalone, sim loop"),
            ("runtime_total", "B2 runtime (Cython), total"), ("runtime_sim", "B2 runtime (Cython), warm run")]
    names = list(results)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / len(keys)
    for k, (key, label) in enumerate(keys):
        vals = [results[n]["ratios"].get(key) or 0.0 for n in names]
        xs = np.arange(len(names)) + (k - (len(keys) - 1) / 2) * width
        bars = ax.bar(xs, vals, width, label=label)
        for b, val in zip(bars, vals):
            if val:
                ax.text(b.get_x() + b.get_width() / 2, val, f"{val:.2g}" if val < 10 else f"{val:.0f}",
                        ha="center", va="bottom", fontsize=7)
    ax.axhline(1, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(names)))
    ax.set_xticklabels([f"{n}\n{MODELS[n]['duration']:g} s simulated" for n in names])
    ax.set_ylabel("Brian2 time / snndsl time (log)")
    ax.set_title("CUBA and Song-Abbott: speed-up of snndsl over Brian2 (> 1: snndsl faster)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path_png, dpi=120)


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated, from: " + ", ".join(MODELS))
    ap.add_argument("--no-runtime", action="store_true", help="skip Brian2 runtime mode")
    ap.add_argument("--out", default=str(HERE), help="folder for RESULTS.md, models_bench.json/.png")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the RESULTS.md section and the plot from models_bench.json, without measuring")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        fn = {"standalone": worker_standalone, "runtime": worker_runtime}[args.worker]
        Path(args.out).write_text(json.dumps(fn(args.model, MODELS[args.model], Path(args.workdir)),
                                             default=float))
        return

    out = Path(args.out)
    if args.report_only:
        saved = json.loads((out / "models_bench.json").read_text())
        meta = saved.pop("_meta")
        write_section(section(saved, meta), out / "RESULTS.md", MARK_BEGIN, MARK_END)
        plot(saved, out / "models_bench.png")
        log("rewrote the models section of RESULTS.md and models_bench.png")
        return

    command = ("/work/venv/bin/python bench/models_bench.py " + " ".join(sys.argv[1:])).strip()
    names = [s.strip() for s in args.models.split(",") if s.strip()]
    for n in names:
        if n not in MODELS:
            ap.error(f"unknown model {n!r}")
    t_start = time.perf_counter()
    results = {}
    for name in names:
        cfg = MODELS[name]
        log(f"== {name}: {cfg['snn']}, {cfg['duration']:g} s  [{time.perf_counter() - t_start:.0f} s elapsed]")
        with tempfile.TemporaryDirectory(prefix=f"models_bench_{name}_") as tmp:
            tmp = Path(tmp)
            r = dict(notes=[])
            log("  snndsl")
            r["snndsl"] = bench_snndsl(name, cfg, tmp)
            if not r["snndsl"]["binary_equals_inprocess"]:
                r["notes"].append(f"{name}: the binary and model.run() gave different results for the same seed")
                log("    WARNING: " + r["notes"][-1])
            log("  Brian2 cpp_standalone")
            r["standalone"] = run_worker("standalone", name, cfg, tmp)
            if r["standalone"] is None:
                r["notes"].append(f"{name}: Brian2 standalone failed")
            if cfg["runtime"] and not args.no_runtime:
                log("  Brian2 runtime (cython)")
                r["runtime"] = run_worker("runtime", name, cfg, tmp)
                if r["runtime"] is None:
                    r["notes"].append(f"{name}: Brian2 runtime failed")
            r["ratios"] = compute_ratios(r)
            if r.get("standalone"):
                r["agreement"] = agreement(name, r["snndsl"]["stats"], r["standalone"]["stats"])
            if r.get("runtime"):
                r["agreement_runtime"] = agreement(name, r["snndsl"]["stats"], r["runtime"]["stats"])
        q = r["ratios"]
        log("  ratios (Brian2 / snndsl): " + ", ".join(f"{k} {v:.2f}" for k, v in q.items() if v is not None))
        for label, key in (("B2 standalone", "agreement"), ("B2 runtime", "agreement_runtime")):
            for row in r.get(key, []):
                log(f"  agree ({label}): {row['what']:30s} snndsl {row['snndsl']:.4f}  brian2 {row['brian2']:.4f}"
                    f"  rel {100 * row['rel']:.2f} %  z {row['z']:.2f}  {'OK' if row['ok'] else 'MISMATCH'}")
                if not row["ok"]:
                    r["notes"].append(f"{name}: {row['what']} differs from {label} (snndsl {row['snndsl']:.4f}, "
                                      f"Brian2 {row['brian2']:.4f}, z {row['z']:.1f})")
        results[name] = r
    elapsed = time.perf_counter() - t_start
    meta = dict(command=command, elapsed=elapsed,
                date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    (out / "models_bench.json").write_text(json.dumps(dict(results, _meta=meta), indent=1, default=float))
    write_section(section(results, meta), out / "RESULTS.md", MARK_BEGIN, MARK_END)
    plot(results, out / "models_bench.png")
    log(f"done in {elapsed / 60:.1f} min; wrote {out / 'RESULTS.md'} (models section), "
        "models_bench.json, models_bench.png")


if __name__ == "__main__":
    main()
