"""Plots of results (`snndsl plot`, `snndsl.plot`): state traces, spike
rasters, population rates, and saved arrays (a histogram; two of them as
before and after, with the elements that did not change marked).

Values are shown in a unit that suits them (mV, nS, ms rather than volts,
siemens, seconds), the phases are drawn and named, and a population rate is
smoothed over a stated window (as Brian2's PopulationRateMonitor.smooth_rate
with a flat window): the raw per-step rate of a small group swings between
0 and thousands of hertz and reads as noise.
"""
from __future__ import annotations

import numpy as np

from snndsl.results import Results

MAX_TRACES = 20  # more lines than this make an unreadable (and slow) plot
LEGEND_TRACES = 5  # up to this many traces get a legend entry each
WINDOW = 0.01  # seconds: the default smoothing window of a population rate

# unit name -> symbol, for the units that take a metric prefix
_SYMBOLS = {"volt": "V", "amp": "A", "siemens": "S", "ohm": "ohm", "farad": "F", "second": "s", "metre": "m",
            "kelvin": "K", "mole": "mol", "molar": "M", "siemens/metre**2": "S/m^2", "amp/metre**2": "A/m^2",
            "farad/metre**2": "F/m^2", "volt/second": "V/s"}
_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"))


def display_unit(unit: str | None, values) -> tuple[float, str]:
    """(scale, label): values / scale read naturally in `label` ('mV' for a
    membrane potential, 'nS' for a conductance); the SI unit name when no
    prefix applies."""
    symbol = _SYMBOLS.get(unit or "")
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if symbol is None or finite.size == 0:
        return 1.0, unit if unit and unit != "1" else ""
    top = float(np.max(finite))
    for scale, prefix in _PREFIXES:
        if top >= scale * 0.999:
            return scale, prefix + symbol
    return _PREFIXES[-1][0], _PREFIXES[-1][1] + symbol


def smooth(rate: np.ndarray, dt: float, window: float) -> np.ndarray:
    """A flat (moving average) window of `window` seconds, centred."""
    k = max(1, int(round(window / dt)))
    if k == 1 or len(rate) == 0:
        return rate
    return np.convolve(rate, np.ones(k) / k, mode="same")


def figure(res: Results, names=None, window: float = WINDOW, matrix: bool = False, fields=None):
    """The figure `snndsl plot` draws: `names` are monitors (one panel each;
    all of them when None) or saved arrays (one: its histogram; two: before
    and after). For one saved array of a synapse group, `matrix` draws it as
    a presynaptic x postsynaptic matrix, `fields=(h, w)` as one h x w image
    per postsynaptic neuron (receptive fields of image inputs)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(names) if names else list(res.monitors)
    if matrix or fields:
        if len(names) != 1 or names[0] not in res.saved_indices:
            raise ValueError("a weight matrix or receptive fields are drawn from one saved array of a synapse group")
        return _synapse_figure(plt, res, names[0], fields)
    if names and all(n in res.saved for n in names):
        return _saved_figure(plt, res, names)
    fig, axes = plt.subplots(max(1, len(names)), 1, figsize=(8, 2.6 * max(1, len(names))), squeeze=False)
    end = max([res.phases[p][1] for p in res.phases] + [float(res[n].t.max()) for n in names if len(res[n].t)] + [0])
    tscale, tlabel = (1e-3, "ms") if 0 < end < 1 else (1.0, "s")
    for k, (ax, name) in enumerate(zip(axes[:, 0], names)):
        mon = res[name]
        t = mon.t / tscale
        title = name
        if mon.kind == "state":
            shown = mon.values[:, :MAX_TRACES]
            scale, label = display_unit(mon.unit, shown)
            lo = (mon.indices or (0, 0))[0]
            lines = ax.plot(t, shown / scale, lw=0.7)
            ax.set_ylabel(f"{mon.group}.{mon.variable}" + (f" [{label}]" if label else ""))
            if shown.shape[1] <= LEGEND_TRACES:
                ax.legend(lines, [f"{mon.group}[{lo + j}]" for j in range(shown.shape[1])], fontsize=7,
                          loc="upper right", frameon=False)
            if mon.values.shape[1] > MAX_TRACES:
                title = f"{name} (first {MAX_TRACES} of {mon.values.shape[1]} traces)"
        elif mon.kind == "spikes":
            ax.plot(t, mon.i, "|", ms=3, color="k")
            ax.set_ylabel(f"{mon.group}{mon.part} index")
            title = f"{name}: {len(mon.t)} spikes of {mon.group}{mon.part}"
        else:
            dt = float(res.manifest["dt"])
            ax.plot(t, smooth(mon.rate, dt, window), lw=1.2, color="C0")
            ax.set_ylabel(f"rate of {mon.group}{mon.part} [Hz]")
            ax.set_ylim(bottom=0)
            title = f"{name}: population rate, smoothed over {window * 1e3:g} ms (flat window)"
        _phases(ax, res, tscale, named=k == 0)
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_xlim(0, end / tscale if end > 0 else None)
    axes[-1, 0].set_xlabel(f"time [{tlabel}]")
    fig.tight_layout()
    return fig


def _phases(ax, res: Results, tscale: float, named: bool) -> None:
    """A line where each phase begins, and (in the first panel) the names of
    the phases beginning there, inside the top of the axes."""
    starts: dict[float, list[str]] = {}
    for phase, (a, b) in res.phases.items():
        starts.setdefault(a, []).append(phase)
    for a, phases in starts.items():
        if a > 0:
            ax.axvline(a / tscale, color="0.6", lw=0.8, ls="--", zorder=0)
        if named:
            ax.annotate(" | ".join(phases), (a / tscale, 1), xycoords=ax.get_xaxis_transform(),
                        xytext=(3, -3), textcoords="offset points", fontsize=8, color="0.25", ha="left", va="top",
                        bbox=dict(fc="white", ec="none", alpha=0.8, pad=1))


def _saved_figure(plt, res: Results, names):
    if len(names) == 1:
        (name,) = names
        values = np.asarray(res.saved[name], dtype=float).ravel()
        fig, ax = plt.subplots(figsize=(8, 2.6))
        ax.hist(values, bins=40, color="C0")
        ax.set_xlabel(f"saved {name}")
        ax.set_ylabel("count")
        ax.set_title(f"{name}: {values.size} values", fontsize=9, loc="left")
        fig.tight_layout()
        return fig
    if len(names) != 2:
        raise ValueError("saved arrays are plotted one (a histogram) or two (before and after) at a time")
    before, after = (np.asarray(res.saved[n], dtype=float).ravel() for n in names)
    if before.shape != after.shape:
        raise ValueError(f"'{names[0]}' has {before.size} values and '{names[1]}' {after.size}: "
                         "before and after need one value per element each")
    held = before == after
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    bins = np.histogram_bin_edges(np.concatenate([before, after]), bins=30)
    left.hist(before, bins=bins, alpha=0.6, label=names[0], color="C0")
    left.hist(after, bins=bins, alpha=0.6, label=names[1], color="C1")
    left.set_xlabel("value")
    left.set_ylabel("count")
    left.legend(fontsize=7, frameon=False)
    left.set_title("before and after", fontsize=9, loc="left")
    right.scatter(before[~held], after[~held], s=8, color="C1", label=f"changed ({int((~held).sum())})")
    right.scatter(before[held], after[held], s=8, color="C2", label=f"unchanged ({int(held.sum())})")
    lo, hi = float(min(before.min(), after.min())), float(max(before.max(), after.max()))
    right.plot([lo, hi], [lo, hi], color="0.7", lw=0.8, zorder=0)
    right.set_xlabel(names[0])
    right.set_ylabel(names[1])
    right.legend(fontsize=7, frameon=False, loc="upper left")
    right.set_title("each element", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def synapse_matrix(res: Results, name: str) -> np.ndarray:
    """A saved synaptic array as (presynaptic x postsynaptic), NaN where no
    synapse connects the pair (the last one where several do)."""
    i, j = res.saved_indices[name]
    values = np.asarray(res.saved[name], dtype=float)
    if values.ndim != 1:
        values = values[-1]  # saved in a loop: its last row
    groups = res.manifest["groups"]
    synapses = groups[res.manifest["saved"][name]["group"]]
    n_pre, n_post = groups[synapses["source"]]["size"], groups[synapses["target"]]["size"]
    out = np.full((n_pre, n_post), np.nan)
    out[np.asarray(i), np.asarray(j)] = values
    return out


def _synapse_figure(plt, res: Results, name: str, fields):
    m = synapse_matrix(res, name)
    if not fields:
        fig, ax = plt.subplots(figsize=(8, 6))
        cmap = plt.get_cmap("viridis").with_extremes(bad="white")
        im = ax.imshow(m, cmap=cmap, aspect="auto", interpolation="nearest")
        ax.set_xlabel("postsynaptic neuron")
        ax.set_ylabel("presynaptic neuron")
        ax.set_title(f"{name}: {np.count_nonzero(~np.isnan(m))} synapses (white: none)", fontsize=9, loc="left")
        fig.colorbar(im, ax=ax, label=name)
        fig.tight_layout()
        return fig
    h, w = fields
    if h * w != m.shape[0]:
        raise ValueError(f"receptive fields of {h} x {w} need {h * w} presynaptic neurons; {name} has {m.shape[0]}")
    n = m.shape[1]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    tiles = np.full((rows * (h + 1), cols * (w + 1)), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        tiles[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = m[:, k].reshape(h, w)
    fig, ax = plt.subplots(figsize=(8, max(2.0, 7 * tiles.shape[0] / tiles.shape[1] + 0.8)))
    cmap = plt.get_cmap("hot_r").with_extremes(bad="0.8")  # the gaps between fields, pixels without a synapse
    im = ax.imshow(tiles, cmap=cmap, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{name}: the {h} x {w} field of each of {n} postsynaptic neurons", fontsize=9, loc="left")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=name)
    fig.tight_layout()
    return fig


def plot_results(res: Results, names, out: str, window: float = WINDOW, matrix: bool = False, fields=None) -> None:
    import matplotlib.pyplot as plt
    if isinstance(names, str):
        names = [names]
    fig = figure(res, names, window, matrix, fields)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot(res: Results, *names: str, out: str, window: float = WINDOW, matrix: bool = False, fields=None) -> str:
    """`snndsl.plot(res, "weights", out="w.png")`: what `snndsl plot` draws,
    into `out`; returns `out`."""
    plot_results(res, list(names) or None, out, window, matrix, fields)
    return out
