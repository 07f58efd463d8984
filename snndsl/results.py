"""Results of a run as numpy arrays: from a results folder or from memory.

The manifest (format snndsl-results/1) is written by the generated C code
for both paths, so `load("results/")` and `Model.run()` give the same
object with the same numbers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from snndsl.diagnostics import Error

FORMAT = "snndsl-results/1"


class ResultsError(Error):
    """A results folder that is missing, incomplete or of another format."""


@dataclass(frozen=True)
class Monitor:
    """One monitor's recording. Times in seconds, values in SI units.

    State monitors: `t` (n_samples,) and `values` (n_samples, n_elements).
    Spike monitors: `i` and `t`, one entry per spike.
    Rate monitors: `t` and `rate` (1/second).
    """

    name: str
    kind: str
    group: str
    variable: str | None
    unit: str | None
    t: np.ndarray
    values: np.ndarray | None = None
    i: np.ndarray | None = None
    rate: np.ndarray | None = None
    indices: tuple[int, int] | None = None
    # spike monitors `with v, ...`: each variable's value at each spike, and its unit
    recorded: dict[str, np.ndarray] = field(default_factory=dict)
    recorded_units: dict[str, str] = field(default_factory=dict)
    event: str = "spike"  # spike monitors: the group's custom event they record (`NAME of G`), or its spikes

    def __getattr__(self, name: str):
        """A recorded variable by name, as Brian2's SpikeMonitor(variables=...): `spikes.v`."""
        recorded = object.__getattribute__(self, "recorded")
        if name in recorded:
            return recorded[name]
        raise AttributeError(f"monitor {object.__getattribute__(self, 'name')!r} has no {name!r}"
                             + (f" (it records {', '.join(recorded)})" if recorded else ""))

    @property
    def part(self) -> str:
        """'[lo:hi]' for a spike or rate monitor of a subgroup (its neurons in
        `group`; `i` counts from 0 within it), else ''."""
        return f"[{self.indices[0]}:{self.indices[1]}]" if self.kind != "state" and self.indices else ""

    @property
    def what(self) -> str:
        """What a spike or rate monitor counts: 'spikes', 'rate', or a custom event's name."""
        return self.event if self.event != "spike" else self.kind

    @property
    def quantity(self):
        """The values with their unit, as a Brian2 Quantity (needs Brian2):
        a state monitor's values, a rate monitor's rate, a spike monitor's
        times."""
        try:
            from brian2.units.fundamentalunits import Quantity, get_or_create_dimension
        except ImportError:
            raise ResultsError("Monitor.quantity needs Brian2 (pip install brian2); .values and .unit "
                               "hold the same") from None
        from snndsl.units import HERTZ, SECOND, dim_of
        if self.kind == "state":
            data, dim = self.values, dim_of(self.unit or "1")
        elif self.kind == "rate":
            data, dim = self.rate, HERTZ
        else:
            data, dim = self.t, SECOND
        return Quantity(np.asarray(data, dtype=float), dim=get_or_create_dimension([float(e) for e in dim.exps]))

    def __repr__(self) -> str:
        what = f"{self.group}.{self.variable}" if self.kind == "state" else f"{self.what} of {self.group}"
        return f"<Monitor {self.name}: {what}, {len(self.t)} entries>"


@dataclass
class Results:
    manifest: dict
    monitors: dict[str, Monitor]
    saved: dict[str, np.ndarray]
    saved_indices: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    path: Path | None = None
    states: dict[str, bytes] = field(default_factory=dict)  # `store state as NAME`: snapshots

    def to_neo(self):
        """A Neo `Block`: one Segment per phase, spike trains and analog signals
        with their units (snndsl/neo_export.py; needs `pip install neo`)."""
        from snndsl.neo_export import to_neo
        return to_neo(self)

    def __getitem__(self, name: str) -> Monitor:
        try:
            return self.monitors[name]
        except KeyError:
            known = ", ".join(sorted(self.monitors)) or "none"
            raise KeyError(f"no monitor '{name}' (monitors: {known}; saved arrays are in .saved)") from None

    def __contains__(self, name: str) -> bool:
        return name in self.monitors

    @property
    def phases(self) -> dict[str, tuple[float, float]]:
        """(start, stop) in seconds of every phase that ran."""
        return {p["name"]: (p["start"], p["stop"]) for p in self.manifest["phases"] if p.get("ran", True)}

    @property
    def params(self) -> dict[str, float]:
        return {k: v["value"] for k, v in self.manifest["params"].items()}

    @property
    def seed(self) -> int:
        """The seed the run drew its random numbers from."""
        return self.manifest["seed"]

    @property
    def interrupted(self) -> bool:
        return bool(self.manifest.get("interrupted"))

    def __repr__(self) -> str:
        return (f"<Results of {self.manifest.get('model')}: monitors {sorted(self.monitors)}, "
                f"saved {sorted(self.saved)}>")


def from_arrays(manifest: dict, arrays: dict[str, np.ndarray], path: Path | None = None) -> Results:
    if manifest.get("format") != FORMAT:
        raise ResultsError(f"not an snndsl results manifest (format {manifest.get('format')!r})")
    monitors = {}
    for name, info in manifest["monitors"].items():
        files = info["files"]
        get = lambda key: arrays[files[key]] if key in files else None  # noqa: E731
        indices = tuple(info["indices"]) if "indices" in info else None
        recorded = info.get("recorded", {})
        monitors[name] = Monitor(name, info["kind"], info["group"], info.get("variable"), info.get("unit"),
                                 get("t"), get("values"), get("i"), get("rate"), indices,
                                 {k: arrays[r["file"]] for k, r in recorded.items()},
                                 {k: r["unit"] for k, r in recorded.items()}, info.get("event", "spike"))
    saved, saved_ij = {}, {}
    for name, info in manifest["saved"].items():
        saved[name] = arrays[info["file"]]
        if "i" in info:
            saved_ij[name] = (arrays[info["i"]], arrays[info["j"]])
    states = {name: bytes(np.asarray(arrays[info["file"]], dtype=np.uint8))
              for name, info in manifest.get("states", {}).items()
              if info.get("stored") and info["file"] in arrays}
    return Results(manifest, monitors, saved, saved_ij, path, states)


def load(path) -> Results:
    """Read a results folder written by `snndsl run` or a model binary."""
    folder = Path(path)
    manifest_file = folder / "manifest.json"
    if not manifest_file.is_file():
        raise ResultsError(f"{folder}: no manifest.json (not a results folder, or the run did not finish)")
    try:
        manifest = json.loads(manifest_file.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{manifest_file}: unreadable manifest: {exc}") from None
    files = set()
    for info in manifest.get("monitors", {}).values():
        files.update(info["files"].values())
        files.update(r["file"] for r in info.get("recorded", {}).values())
    for info in manifest.get("saved", {}).values():
        files.update(v for k, v in info.items() if k in ("file", "i", "j"))
    arrays = {}
    for f in sorted(files):
        try:
            arrays[f] = np.load(folder / f, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ResultsError(f"{folder / f}: {exc}") from None
    for info in manifest.get("states", {}).values():
        if info.get("stored"):
            try:
                arrays[info["file"]] = np.frombuffer((folder / info["file"]).read_bytes(), dtype=np.uint8)
            except OSError as exc:
                raise ResultsError(f"{folder / info['file']}: {exc}") from None
    return from_arrays(manifest, arrays, folder)
