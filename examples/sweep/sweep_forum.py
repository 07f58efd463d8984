"""Sweep the input rate of the forum model over seeds, in parallel, and plot it.

    python examples/sweep/sweep_forum.py                      # -> sweep_forum.png
    python examples/sweep/sweep_forum.py --dask               # the same runs on a local Dask cluster
    python examples/sweep/sweep_forum.py --scheduler tcp://host:8786   # on a running Dask cluster

One compiled model (forum_rates.snn: 200 x 200 STDP synapses, input rate
`rate_in`) runs for every rate and seed through `snndsl.sweep`: a local
process pool by default, or any `concurrent.futures.Executor`, such as a
Dask client's. The figure shows, against the input rate, the fraction of
synapses frozen after training (w > 0.3) and the mean weight after training
and after the test phase (where only the unfrozen synapses still learn), as
median and spread over the seeds.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import snndsl

HERE = Path(__file__).resolve().parent
MODEL = HERE / "forum_rates.snn"


def measures(res: snndsl.Results) -> dict[str, float]:
    return {"frozen": float(np.mean(res.saved["learned"] == 0)),
            "trained": float(np.mean(res.saved["trained_w"])),
            "tested": float(np.mean(res.saved["tested_w"]))}


def plot(rates, table: np.ndarray, out: Path, title: str) -> None:
    """`table[rate, seed, measure]`, measures as in `measures`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, k, label, color in ((ax1, 0, "frozen after training (w > 0.3)", "C0"),
                                (ax2, 1, "after training", "C1"), (ax2, 2, "after the test phase", "C2")):
        med = np.median(table[:, :, k], axis=1)
        lo, hi = table[:, :, k].min(axis=1), table[:, :, k].max(axis=1)
        ax.fill_between(rates, lo, hi, color=color, alpha=0.25, linewidth=0)
        ax.plot(rates, med, "o-", color=color, label=label)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
    ax1.set(xlabel="input rate (Hz)", ylabel="fraction of synapses", ylim=(0, 1),
            title="synapses frozen")
    ax2.set(xlabel="input rate (Hz)", ylabel="mean weight", ylim=(0, 1), title="mean weight")
    ax1.legend(loc="lower right")
    ax2.legend(loc="lower right")
    fig.suptitle(title)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", type=float, nargs="+", default=[1, 2, 5, 10, 20, 40, 80],
                    help="input rates in Hz (default: %(default)s)")
    ap.add_argument("--seeds", type=int, default=4, help="seeds per rate (default: %(default)s)")
    ap.add_argument("--dask", action="store_true", help="run on a local Dask cluster (pip install 'snndsl[dask]')")
    ap.add_argument("--scheduler", help="the address of a running Dask scheduler to run on")
    ap.add_argument("-o", "--out", type=Path, default=Path("sweep_forum.png"), help="the figure (default: %(default)s)")
    args = ap.parse_args(argv)

    model = snndsl.compile(MODEL)
    params = [{"rate_in": f"{r} Hz"} for r in args.rates]
    seeds = list(range(1, args.seeds + 1))
    began = time.monotonic()
    if args.dask or args.scheduler:
        from dask.distributed import Client, LocalCluster
        with (Client(args.scheduler) if args.scheduler else
              Client(LocalCluster(threads_per_worker=1, dashboard_address=None))) as client:
            runs = snndsl.sweep(model, params, seeds=seeds, executor=client.get_executor(), quiet=False)
        where = "a Dask cluster"
    else:
        runs = snndsl.sweep(model, params, seeds=seeds, quiet=False)
        where = "a local process pool"
    wall = time.monotonic() - began
    table = np.array([[list(measures(runs[k * len(seeds) + s]).values()) for s in range(len(seeds))]
                      for k in range(len(params))])
    for r, row in zip(args.rates, np.median(table, axis=1)):
        print(f"rate_in {r:6g} Hz: {row[0]:.1%} frozen, mean w {row[1]:.3f} after training, {row[2]:.3f} after test")
    plot(args.rates, table, args.out,
         f"forum model, 200 x 200 synapses: {len(runs)} runs on {where} in {wall:.1f} s (median and range "
         f"over {len(seeds)} seeds)")
    print(f"{len(runs)} runs in {wall:.1f} s; figure in {args.out}")


if __name__ == "__main__":
    main()
