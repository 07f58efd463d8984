"""Plot the outcome of examples/song_abbott.snn (STDP, Song, Miller & Abbott 2000).

    snndsl run examples/song_abbott.snn -o results/
    python examples/plot_song_abbott.py results/              # -> results/song_abbott.png

or, without a results folder, compile and run the example in this process:

    python examples/plot_song_abbott.py --duration "20 s" -o song_abbott.png

The figure shows what Brian2's examples/synapses/STDP.py shows: the final
weights (w / gmax) per synapse and as a histogram -- bimodal after the full
100 s, piled up at 0 and at gmax -- the two recorded weight traces, and the
output neuron's firing rate over time.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODEL = HERE / "song_abbott.snn"
GMAX = 0.01  # `const gmax` in song_abbott.snn


def summary(w: np.ndarray, gmax: float = GMAX) -> str:
    x = np.asarray(w, dtype=float) / gmax
    return (f"{len(x)} synapses: {np.mean(x < 0.05):.1%} below 0.05 gmax, "
            f"{np.mean(x > 0.95):.1%} above 0.95 gmax, {np.mean((x >= 0.25) & (x < 0.75)):.1%} "
            f"in [0.25, 0.75) gmax (uniform: 5%, 5%, 50%); mean {x.mean():.3f} gmax")


def plot(res, out: Path, rate_bin: float = 1.0) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = np.asarray(res.saved["w_final"], dtype=float) / GMAX
    spikes = np.asarray(res["out_spikes"].t, dtype=float)
    start, stop = res.phases["learn"]
    edges = np.arange(start, stop + 1e-9, rate_bin)
    if len(edges) < 2:
        edges = np.array([start, stop])
    counts, _ = np.histogram(spikes, bins=edges)
    rate = counts / np.diff(edges)

    fig, axes = plt.subplots(4, 1, figsize=(7, 10))
    axes[0].plot(w, ".k", ms=2)
    axes[0].set(xlabel="synapse index", ylabel="weight / gmax")
    axes[1].hist(w, 20, range=(0, 1), color="0.3")
    axes[1].set(xlabel="weight / gmax", ylabel="synapses")
    if "w_first" in res:
        mon = res["w_first"]
        axes[2].plot(mon.t, np.asarray(mon.values) / GMAX)
    axes[2].set(xlabel="time [s]", ylabel="weight / gmax", title="synapses 0 and 1")
    axes[3].stairs(rate, edges, color="k")
    axes[3].set(xlabel="time [s]", ylabel="output rate [Hz]", ylim=(0, None))
    for ax in axes:
        ax.title.set_fontsize(9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="?", help="a results folder of `snndsl run examples/song_abbott.snn` "
                                               "(default: run the example now)")
    ap.add_argument("-o", "--output", help="PNG to write (default: RESULTS/song_abbott.png, "
                                           "or song_abbott.png when running the example)")
    ap.add_argument("--duration", help='simulated time when running the example, e.g. "20 s" '
                                       "(default: the model's 100 s)")
    ap.add_argument("--seed", type=int, help="random seed when running the example")
    args = ap.parse_args(argv)

    import snndsl

    if args.results:
        res = snndsl.load(args.results)
        out = Path(args.output) if args.output else Path(args.results) / "song_abbott.png"
    else:
        params = {"duration": args.duration} if args.duration else None
        res = snndsl.compile(MODEL).run(seed=args.seed, params=params)
        out = Path(args.output or "song_abbott.png")
    spikes = np.asarray(res["out_spikes"].t)
    start, stop = res.phases["learn"]
    print(f"output: {len(spikes)} spikes in {stop - start:g} s ({len(spikes) / (stop - start):.2f} Hz)")
    print(summary(res.saved["w_final"]))
    plot(res, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
