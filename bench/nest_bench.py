"""CUBA on NEST 3.10 and on snndsl, 1 and 2 threads, side by side.

NEST runs in an interpreter of its own (`pip install nest-simulator` in a
virtual environment: `--nest-python PATH`); each run is a fresh process,
pairs alternated. NEST's network: `iaf_psc_exp` with Brian2's CUBA
parameters (examples/cuba.snn) — the voltage jumps `we`, `wi` become
currents `w C_m / tau_m` — connected `pairwise_bernoulli` with p = 0.02 and
the smallest delay (one step), from random potentials. Its time is
`nest.Simulate`'s; snndsl's is the manifest's `timings.run`. The firing
rates are printed as a check that both run the same regime.

    python bench/nest_bench.py --nest-python /tmp/nestvenv/bin/python [--pairs 5]

Writes its section of bench/RESULTS.md and bench/nest_bench.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sections import markers, write_section  # noqa: E402  (bench/, beside this script)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
THREADS = (1, 2)
DURATION = 2.0  # seconds simulated
MARK_BEGIN, MARK_END = markers("nest_bench.py")

NEST_CUBA = r"""
import json, sys, time
import nest
threads, duration = int(sys.argv[1]), float(sys.argv[2])
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": threads, "rng_seed": 1})
taum, C = 20.0, 250.0
params = {"C_m": C, "tau_m": taum, "t_ref": 5.0, "E_L": -49.0, "V_th": -50.0, "V_reset": -60.0,
          "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 0.0}
cells = nest.Create("iaf_psc_exp", 4000, params=params)
cells.V_m = nest.random.uniform(-60.0, -50.0)
exc, inh = cells[:3200], cells[3200:]
we, wi = 60 * 0.27 / 10 * C / taum, -20 * 4.5 / 10 * C / taum  # mV -> pA: w C_m / tau_m
rule = {"rule": "pairwise_bernoulli", "p": 0.02, "allow_autapses": True}
nest.Connect(exc, cells, rule, {"weight": we, "delay": 0.1})
nest.Connect(inh, cells, rule, {"weight": wi, "delay": 0.1})
rec = nest.Create("spike_recorder")
nest.Connect(cells, rec)
t0 = time.perf_counter()
nest.Simulate(duration * 1000.0)
loop = time.perf_counter() - t0
print(json.dumps({"loop": loop, "rate": rec.n_events / 4000 / duration}))
"""


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def median(xs) -> float:
    return statistics.median(xs)


def run_nest(python: str, threads: int, script: Path) -> dict:
    out = subprocess.run([python, str(script), str(threads), str(DURATION)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_snndsl(binary: Path, threads: int, out: Path) -> dict:
    subprocess.run([str(binary), "-o", str(out), "--quiet", "--threads", str(threads),
                    "--set", f"duration={DURATION} s"], check=True)
    import numpy as np
    manifest = json.loads((out / "manifest.json").read_text())
    spikes = len(np.load(out / "exc_spikes.i.npy")) + len(np.load(out / "inh_spikes.i.npy"))
    return {"loop": manifest["timings"]["run"], "rate": spikes / 4000 / DURATION}


def report(data: dict) -> str:
    L = [MARK_BEGIN, "", "## CUBA on NEST 3.10 and snndsl, 1 and 2 threads", "",
         f"Measured {data['date']} with `{data['command']}` ({data['pairs']} pairs, alternated; load before: "
         f"{data['load']}). Times of the simulation loop (NEST: `nest.Simulate`; snndsl: `timings.run`), "
         f"{DURATION:g} s of CUBA, medians.", "",
         "| simulator | 1 thread | 2 threads | speed-up | mean rate |", "| --- | --- | --- | --- | --- |"]
    for name in ("snndsl", "nest"):
        r = data[name]
        one, two = median(r["1"]), median(r["2"])
        L.append(f"| {'NEST 3.10' if name == 'nest' else name} | {one:.3f} s | {two:.3f} s | {one / two:.2f}x | "
                 f"{median(r['rate']):.1f} Hz |")
    s, n = data["snndsl"], data["nest"]
    L += ["", f"snndsl is {median(n['1']) / median(s['1']):.1f}x faster than NEST on 1 thread and "
              f"{median(n['2']) / median(s['2']):.1f}x on 2. NEST's network is the same model written with "
              "its own neuron (`iaf_psc_exp`, exact integration), its own random connectivity and a delay of one "
              "step, so the spikes differ; the rates say both run the same asynchronous regime.", "", MARK_END, ""]
    return "\n".join(L)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nest-python", required=True, help="a Python interpreter that has nest-simulator")
    ap.add_argument("--pairs", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    import snndsl
    binary = snndsl.compile(ROOT / "examples" / "cuba.snn").binary
    data = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                command="python bench/nest_bench.py --nest-python PATH " + " ".join(sys.argv[3:]),
                pairs=args.pairs, load=" ".join(f"{x:.2f}" for x in os.getloadavg()),
                snndsl={"1": [], "2": [], "rate": []}, nest={"1": [], "2": [], "rate": []})
    with tempfile.TemporaryDirectory(prefix="snndsl-nest-") as tmp:
        tmp = Path(tmp)
        script = tmp / "cuba_nest.py"
        script.write_text(NEST_CUBA)
        for k in range(args.pairs):
            for t in THREADS if k % 2 == 0 else THREADS[::-1]:
                for name in ("nest", "snndsl") if k % 2 == 0 else ("snndsl", "nest"):
                    t0 = time.perf_counter()
                    r = run_nest(args.nest_python, t, script) if name == "nest" else \
                        run_snndsl(binary, t, tmp / f"out-{k}-{t}")
                    data[name][str(t)].append(r["loop"])
                    data[name]["rate"].append(r["rate"])
                    log(f"  pair {k + 1}/{args.pairs}: {name} {t} thr: loop {r['loop']:.3f} s, "
                        f"rate {r['rate']:.1f} Hz ({time.perf_counter() - t0:.1f} s in all)")
    (HERE / "nest_bench.json").write_text(json.dumps(data, indent=1))
    write_section(report(data), HERE / "RESULTS.md", MARK_BEGIN, MARK_END)
    log(report(data))


if __name__ == "__main__":
    main()
