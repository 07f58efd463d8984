"""Results as a Neo `Block`, for Elephant and the rest of the field's tools.

One `Segment` per phase that ran (over its simulated time), or one over
everything recorded when no phase ran (`advance`); in each, per spike
monitor one `SpikeTrain` per neuron of the group, per state monitor one
`AnalogSignal` (a channel per recorded element), per rate monitor one
`AnalogSignal` in Hz. Units come with the values (quantities), the model,
seed and parameters as annotations. Neo is an optional extra:
`pip install "snndsl[neo]"`.
"""
from __future__ import annotations

from snndsl.results import Results, ResultsError
from snndsl.units import unit_factors


def quantity_unit(text: str | None):
    """The quantities unit of a manifest's unit text: 'volt', '1',
    'siemens/metre**2', 'kilogram*metre**2/(amp*second**3)'."""
    import quantities as pq
    named = {"volt": pq.V, "amp": pq.A, "siemens": pq.S, "ohm": pq.ohm, "farad": pq.F, "second": pq.s,
             "metre": pq.m, "kilogram": pq.kg, "kelvin": pq.K, "mole": pq.mol, "candela": pq.cd,
             "molar": pq.mol / pq.L, "hertz": pq.Hz}
    unit = pq.dimensionless
    for name, power in unit_factors(text or "1"):
        if name not in named:
            raise ResultsError(f"unit '{text}' has a part snndsl does not know: '{name}'")
        unit = unit * named[name] ** power
    return unit


def to_neo(res: Results):
    try:
        import neo
        import quantities as pq
    except ImportError:
        raise ResultsError("to_neo needs Neo: pip install neo (or snndsl[neo])") from None
    m = res.manifest
    annotations = {"model": m.get("model"), "seed": m.get("seed"), "source_hash": m.get("source_hash"),
                   "dt": m.get("dt"), "params": {k: v["value"] for k, v in m.get("params", {}).items()}}
    block = neo.Block(name=str(m.get("model")), **annotations)
    spans = [(p["name"], float(p["start"]), float(p["stop"])) for p in m.get("phases", []) if p.get("ran", True)]
    if not spans:
        end = max([float(mon.t.max()) + float(m["dt"]) for mon in res.monitors.values() if len(mon.t)], default=0.0)
        spans = [("all", 0.0, end)]
    groups = m.get("groups", {})
    last = len(spans) - 1
    for k, (name, start, stop) in enumerate(spans):
        seg = neo.Segment(name=name, phase=name)
        block.segments.append(seg)
        for mon in res.monitors.values():
            inside = (mon.t >= start) & ((mon.t < stop) | (k == last) & (mon.t <= stop))
            if mon.kind == "spikes":
                size = int(groups.get(mon.group, {}).get("size") or (int(mon.i.max()) + 1 if len(mon.i) else 0))
                t, i = mon.t[inside], mon.i[inside]
                for n in range(size):
                    seg.spiketrains.append(neo.SpikeTrain(t[i == n] * pq.s, t_start=start * pq.s,
                                                          t_stop=max(stop, start) * pq.s,
                                                          name=f"{mon.group}[{n}]", monitor=mon.name,
                                                          group=mon.group, index=n))
            elif inside.any():
                info = m["monitors"][mon.name]
                period = float(info.get("every") or m["dt"])
                if mon.kind == "state":
                    values, unit = mon.values[inside], quantity_unit(mon.unit)
                    lo = (mon.indices or (0, values.shape[1]))[0]
                    extra = {"variable": mon.variable, "indices": list(range(lo, lo + values.shape[1]))}
                else:
                    values, unit, extra = mon.rate[inside][:, None], pq.Hz, {}
                seg.analogsignals.append(neo.AnalogSignal(values, units=unit, sampling_period=period * pq.s,
                                                          t_start=float(mon.t[inside][0]) * pq.s, name=mon.name,
                                                          monitor=mon.name, group=mon.group, **extra))
    return block
