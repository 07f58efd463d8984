#!/usr/bin/env python
"""Memory per synapse: the forum model (bench/forum_bench.py's TEMPLATE) at
1000 x 1000 and 1000 x 10000 synapses, snndsl beside Brian2's C++ standalone.

The figure is the growth of the binary's peak resident memory (the kernel's
ru_maxrss of the process, from os.wait4) from 1e6 to 1e7 synapses, divided by
the 9e6 synapses added: what one more synapse costs, with everything that does
not grow with the synapses (the program, the neurons, the monitors of 10,000
weights) cancelled out. Each simulator runs the whole model, 0.2 s of it, with
what it keeps per synapse for the model's `save S.w` twice (snndsl: two saved
copies of w; Brian2: a synapse variable `w_trained`, and its final `w` read
back) -- and, for snndsl, also without the saves: the model's own state.

    /work/venv/bin/python bench/memory_bench.py [--brian2]

Writes bench/memory_bench.json and its section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sections import markers, write_section  # noqa: E402  (bench/, beside this script)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MARK_BEGIN, MARK_END = markers("memory_bench.py")
SIZES = (1000, 10000)  # postsynaptic neurons: 1e6 and 1e7 synapses from 1000 inputs
DURATION = 0.2


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def peak_rss(cmd: list[str], cwd: Path | None = None) -> int:
    """The peak resident memory of `cmd`'s process, in bytes (Linux: ru_maxrss in KiB)."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed with status {proc.returncode}")
    return usage.ru_maxrss * 1024


def snndsl_peaks(tmp: Path, saves: bool) -> dict[int, int]:
    import forum_bench as fb
    import snndsl
    out = {}
    for n_out in SIZES:
        text = fb.snn_source(dict(fb.SIZES["large"], n_out=n_out, duration=DURATION))
        if not saves:
            text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("save "))
        path = tmp / f"forum_{n_out}_{'saves' if saves else 'state'}.snn"
        path.write_text(text)
        out[n_out] = peak_rss([str(snndsl.compile(path).binary), "-o", str(tmp / f"out_{path.stem}"), "-q"])
        log(f"  snndsl {path.stem}: {out[n_out] / 2**20:.1f} MiB")
    return out


def brian2_worker(n_out: int, project: Path) -> None:
    """In a fresh process: generate and build the Brian2 standalone project (not run)."""
    import brian2 as b2
    import forum_bench as fb
    b2.prefs.logging.console_log_level = "ERROR"
    b2.set_device("cpp_standalone", directory=str(project), build_on_run=False)
    fb.brian2_network(dict(fb.SIZES["large"], n_out=n_out, duration=DURATION), standalone=True)
    b2.device.build(directory=str(project), compile=True, run=False, with_output=False)


def brian2_peaks(tmp: Path) -> dict[int, int]:
    out = {}
    for n_out in SIZES:
        project = tmp / f"b2_{n_out}"
        log(f"  brian2 {n_out}: building")
        subprocess.run([sys.executable, __file__, "--worker", str(n_out), "--project", str(project)], check=True,
                       stdout=subprocess.DEVNULL)
        out[n_out] = peak_rss(["./main"], cwd=project)
        log(f"  brian2 {n_out}: {out[n_out] / 2**20:.1f} MiB")
    return out


def per_synapse(peaks: dict) -> float:
    lo, hi = (peaks[str(n)] if str(n) in peaks else peaks[n] for n in SIZES)
    return (hi - lo) / (1000 * (SIZES[1] - SIZES[0]))


def report(data: dict) -> str:
    L = [MARK_BEGIN, "", "## Memory per synapse: the forum model", "",
         f"Measured {data['date']} with `{data['command']}`: the growth of the binary's peak resident memory "
         "from 1e6 to 1e7 synapses (1000 inputs onto 1000 and 10,000 neurons, 0.2 s run), per synapse added.", "",
         "| | 1e6 synapses | 1e7 synapses | bytes per synapse |", "| --- | --- | --- | --- |"]
    rows = [("snndsl, the model's state (no `save`)", "snndsl_state"),
            ("snndsl, with the model's two `save S.w` (two copies of w)", "snndsl"),
            ("Brian2 standalone, the same model (`w_trained` a synapse variable)", "brian2")]
    for label, key in rows:
        if key in data:
            p = data[key]
            L.append(f"| {label} | {p[str(SIZES[0])] / 2**20:.1f} MiB | {p[str(SIZES[1])] / 2**20:.1f} MiB | "
                     f"{per_synapse(p):.1f} |")
    L += ["", NOTES, "", MARK_END, ""]
    return "\n".join(L)


NOTES = """\
What snndsl keeps per synapse of this model: `w` and `learned` (8 bytes each; the traces
x and y are stored per neuron, passes/hoist_traces.py) and the postsynaptic neuron
(int32): 20 bytes. The synapses a single connect rule makes are numbered in presynaptic
order, so the presynaptic lists are the synapses themselves, their postsynaptic neurons
the `post` array, and a synapse's presynaptic neuron the row of `pre_start` it falls in,
which loops over synapses follow as they go (ir/storage.py, `ir.Group.stores_pre`: no
`pre`, no `pre_syn`, no `pre_other`; `i` is made from `pre_start` when results or Python
ask for it). `connect: all` makes every pair once, by i then j, so `on post` computes a
postsynaptic neuron's synapses, (i - i0) n_j + (j - j0), and no list by postsynaptic
neuron is kept (`ir.Group.all_pairs`: no `post_syn`, no `post_other`). Before: 28 bytes
with those lists; 32 with `pre`; 48 with `pre_syn`, `pre_other` and int64 synapse numbers.
A group holds at most 2**31 - 1 synapses, as in Brian2 (a clear error past it)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--brian2", action="store_true", help="Brian2 standalone too (two builds, a few minutes)")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--worker", type=int), ap.add_argument("--project")
    args = ap.parse_args()
    if args.worker:
        brian2_worker(args.worker, Path(args.project))
        return
    json_path = HERE / "memory_bench.json"
    if args.report_only:
        data = json.loads(json_path.read_text())
    else:
        data = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    command="python bench/memory_bench.py " + " ".join(sys.argv[1:]))
        with tempfile.TemporaryDirectory(prefix="snndsl-memory-") as tmp:
            tmp = Path(tmp)
            data["snndsl_state"] = snndsl_peaks(tmp, saves=False)
            data["snndsl"] = snndsl_peaks(tmp, saves=True)
            if args.brian2:
                data["brian2"] = brian2_peaks(tmp)
        data = json.loads(json.dumps(data))  # int keys as strings, as read back
        json_path.write_text(json.dumps(data, indent=1))
    text = report(data)
    write_section(text, HERE / "RESULTS.md", MARK_BEGIN, MARK_END)
    log(text)


if __name__ == "__main__":
    main()
