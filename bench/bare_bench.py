"""snndsl's simulation loop against the bare-loop limit of its synapses.

bench/bare_loop.c is the least work the forum model's all-to-all STDP synapses
can be simulated with: for each spike, one load, add, clip and store per
synapse, over the weights in presynaptic order (a presynaptic spike walks its
row, a postsynaptic spike its column at a stride of N_post doubles), with the
spike trains drawn before its clock starts. snndsl runs the forum model of
bench/forum_bench.py (the same sizes, rates and monitors) and reports its own
loop's time (the manifest's `timings.run`: the steps, from the first to the
last, monitors included). The ratio says how far the generated code is from
what the memory system allows (the issue's target: within 4x).

Both compiled with snndsl's flags; median of --repeats alternated pairs.
Writes its section of bench/RESULTS.md and bench/bare_bench.json.

    /work/venv/bin/python bench/bare_bench.py --repeats 3
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from forum_bench import DT_MS, SIZES, snn_source  # noqa: E402  (bench/, beside this script)
from sections import markers, write_section  # noqa: E402

MARK_BEGIN, MARK_END = markers("bare_bench.py")
CASES = {
    "forum 1000 x 1000": dict(SIZES["large"]),
    "forum 1000 x 10000": dict(SIZES["large"], n_out=10000, duration=2.0),
}


def log(msg: str) -> None:
    print(f"[bare_bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr}")
    return proc


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated, from: " + ", ".join(CASES))
    args = ap.parse_args()
    import snndsl
    from snndsl.build import cc

    started, results = time.time(), {}
    flags = [*cc.CFLAGS, *cc.machine_flags(cc.compiler())]
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="bare_bench-") as tmp_name:
        tmp = Path(tmp_name)
        bare = tmp / "bare_loop"
        run([cc.compiler(), *flags, str(HERE / "bare_loop.c"), "-o", str(bare)])
        for name in args.cases.split(","):
            cfg = CASES[name]
            path = tmp / f"{name.replace(' ', '_')}.snn"
            path.write_text(snn_source(cfg))
            log(f"{name}: compiling")
            model = snndsl.compile(path)
            steps = int(round(cfg["duration"] / (DT_MS * 1e-3)))
            argv = [str(bare), str(cfg["n_in"]), str(cfg["n_out"]), str(cfg["rate_in"]), str(cfg["rate_out"]),
                    str(steps), str(DT_MS * 1e-3)]
            pairs = []
            for r in range(args.repeats):
                out = run(argv).stdout.split()
                run([str(model.binary), "-o", str(tmp / "out"), "--quiet"])
                loop = json.loads((tmp / "out" / "manifest.json").read_text())["timings"]["run"]
                pairs.append(dict(bare=float(out[0]), events=int(out[1]), snndsl=loop))
                log(f"{name}: bare {float(out[0]):.3f} s, snndsl loop {loop:.3f} s ({r + 1}/{args.repeats})")
            results[name] = dict(cfg=cfg, steps=steps, pairs=pairs)
    meta = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                minutes=(time.time() - started) / 60, load_before=load_before, load_after=load(),
                machine=f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
                cc=run([cc.compiler(), "--version"]).stdout.splitlines()[0], flags=" ".join(flags),
                command=f"{Path(sys.executable)} bench/bare_bench.py --repeats {args.repeats}")
    (HERE / "bare_bench.json").write_text(json.dumps(dict(meta=meta, results=results), indent=1) + "\n")
    write_section(section(results, meta), HERE / "RESULTS.md", MARK_BEGIN, MARK_END)
    log("wrote bench/RESULTS.md and bench/bare_bench.json")


def section(results: dict, meta: dict) -> str:
    rows = []
    for name, r in results.items():
        bare = statistics.median(p["bare"] for p in r["pairs"])
        loop = statistics.median(p["snndsl"] for p in r["pairs"])
        events = statistics.median(p["events"] for p in r["pairs"])
        rows.append(f"| {name} | {r['cfg']['duration']:g} | {events:.3g} | {bare:.3f} | {1e9 * bare / events:.2f} | "
                    f"{loop:.3f} | {1e9 * loop / events:.2f} | {loop / bare:.2f}x |")
    return f"""{MARK_BEGIN}

## The bare-loop limit of the forum model's synapses

Generated by `bench/bare_bench.py`; do not edit by hand.

- command: `{meta['command']}`
- date: {meta['date']}; took {meta['minutes']:.1f} min; load average before {meta['load_before']}, after {meta['load_after']}
- machine: {meta['machine']}; {meta['cc']}; flags `{meta['flags']}` (both programs)
- bare loop: `bench/bare_loop.c` -- per spike, one load, add, clip and store per synapse of its row (presynaptic)
  or column (postsynaptic, a stride of N_post doubles), the spike trains drawn before the clock starts; no trace
  decays, no `learned`, no monitors. snndsl: the model of `bench/forum_bench.py` at that size (all of it: traces,
  `learned`, Poisson draws, the weight monitor), its loop's own timer (`timings.run`). Median of
  {len(next(iter(results.values()))['pairs'])} alternated pairs.

| model | T (s) | synaptic events | bare loop (s) | bare (ns/event) | snndsl loop (s) | snndsl (ns/event) | snndsl / bare |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

{MARK_END}
"""


if __name__ == "__main__":
    main()
