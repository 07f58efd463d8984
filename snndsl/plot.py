"""Plots of results (`snndsl plot`): state traces, spike rasters, rates."""
from __future__ import annotations

from snndsl.results import Results

MAX_TRACES = 20  # more lines than this make an unreadable (and slow) plot


def plot_results(res: Results, monitor: str | None, out: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [monitor] if monitor else list(res.monitors)
    fig, axes = plt.subplots(max(1, len(names)), 1, figsize=(8, 2.6 * max(1, len(names))), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        mon = res[name]
        if mon.kind == "state":
            shown = mon.values[:, :MAX_TRACES]
            ax.plot(mon.t, shown, lw=0.6)
            ax.set_ylabel(f"{mon.group}.{mon.variable} [{mon.unit}]")
            if mon.values.shape[1] > MAX_TRACES:
                name = f"{name} (first {MAX_TRACES} of {mon.values.shape[1]} traces)"
        elif mon.kind == "spikes":
            ax.plot(mon.t, mon.i, "|", ms=3, color="k")
            ax.set_ylabel(f"{mon.group} index")
        else:
            ax.plot(mon.t, mon.rate, lw=0.6)
            ax.set_ylabel(f"rate of {mon.group} [Hz]")
        for phase, (a, b) in res.phases.items():
            ax.axvline(a, color="0.8", lw=0.8, zorder=0)
        ax.set_title(name, fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("time [s]")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
