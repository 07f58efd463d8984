"""The storage of a simulation, as one schema: every field of every group.

A group holds its element count, its variables (and the freeze flag of each
variable some phase freezes), the spikes of the step, and what its kind
needs: a spike generator's sorted sources, a Poisson group's next spikes, a
synapse group's pre/postsynaptic indices, delay rings and its index by pre-
and postsynaptic neuron. `fields(group, ...)` lists them once, in order, with
their type and length; the C struct, the freeing, and snapshots (their
fields and lengths) all follow from the list (codegen/view.py), so a new
field is one entry here.

A length is symbolic, `Count`: a product of sizes known at run time (a
group's element count, a spike generator's number of sources, a ring's
number of slots) plus a constant, so that a backend other than C can read
it too.
"""
from __future__ import annotations

from dataclasses import dataclass

from snndsl.ir import nodes as ir

# Element types, by the name C gives them. A variable's is its dtype's (see
# `variable_type`); with precision = single, numbers are float but times
# (lastspike, lastupdate) keep double precision.
VARIABLE_TYPES = {"f": "double", "i": "int32_t", "b": "uint8_t"}
TIMES = ("lastupdate", "lastspike")  # stay double with precision = single, as Brian2's clock-typed variables


@dataclass(frozen=True, slots=True)
class Size:
    """A length known at run time: `what` of `group` ('n': its element count,
    'nsrc': a spike generator's number of sources, 'ring_size': the slots of a
    synapse group's delay ring, 'up_ring_size' those of its pathway up's)."""

    what: str
    group: str


@dataclass(frozen=True, slots=True)
class Count:
    """The product of `sizes` (times `scale`), plus `extra`."""

    sizes: tuple[Size, ...]
    extra: int = 0
    scale: int = 1


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a group.

    `name`: a variable's name for role 'variable', 'frozen' (its freeze
    flag) and 'uniform' (its index factor, passes/uniform_reads.py), else the
    field's own name ('spikes', 'pre_start', ...).
    `ctype`: the element type ('snn_buf' for a queue of spike lists).
    `count`: the number of elements of an array; None for a single value.
    `snapshot`: how snapshots treat it: 'scalar' (one value), 'fixed' (a
    value the model fixes, which a snapshot must agree with), 'array',
    'queue' (`count` lists of int32 values), 'derived' (not saved: built
    again from the other fields at the start of every run), or 'cache' (not
    saved: NULL until asked for, made then from the other fields, dropped
    when a snapshot replaces them).
    """

    name: str
    role: str  # 'variable' / 'frozen' / 'uniform' / 'internal'
    ctype: str
    count: Count | None
    snapshot: str
    comment: str = ""

    @property
    def state_name(self) -> str:
        """Its name in snapshots and messages, after the group's name."""
        return f"{self.name}.{self.role}" if self.role in ("frozen", "uniform") else self.name


def variable_type(v: ir.StateVar, precision: str) -> str:
    if v.dtype == "f" and precision == "single" and v.role not in TIMES and v.name not in TIMES:
        return "float"
    return VARIABLE_TYPES[v.dtype]


def _n(group: str, extra: int = 0) -> Count:
    return Count((Size("n", group),), extra)


def fields(g: ir.Group, precision: str, poisson_skips: bool) -> tuple[Field, ...]:
    """Every field of `g`, in the order of its C struct and of snapshots.
    `poisson_skips`: a Poisson group draws the step of each source's next
    spike instead of a number per source and step (codegen/view.py decides)."""
    out = [Field("n", "internal", "int64_t", None, "scalar" if g.kind == "synapses" else "fixed", "elements")]
    for v in g.vars:
        owner = {"element": g.name, "pre": g.source, "post": g.target}[v.index]
        count = None if v.shared else _n(owner)
        kind = "scalar" if v.shared else "array"
        out.append(Field(v.name, "variable", variable_type(v, precision), count, kind, f"[{v.unit}]"))
        if v.freezable:
            out.append(Field(v.name, "frozen", "uint8_t", count, kind, f"freeze {v.name}: 1 = frozen"))
        if v.uniform_check:
            out.append(Field(v.name, "uniform", "int64_t", None, "derived",
                             f"{v.name}: 0 in a run where all hold one value (read at 0), else 1"))
    lin = next((s for s in g.update if isinstance(s, ir.LinearStep) and s.per_element and not s.per_step), None)
    if lin is not None:  # exact integration with coefficients of each element: its E and F per set of held rows
        n = len(lin.vars)
        sets = 2 ** (sum(1 for name in lin.vars if g.var(name).freezable) + any(lin.unless_refractory))
        out.append(Field("lin", "internal", "double", Count((Size("n", g.name),), scale=2 * sets * n * n), "derived",
                         f"exact step: each element's E, F for each of {sets} sets of held rows"))
    if g.kind != "synapses":
        out += [Field("spikes", "internal", "int32_t", _n(g.name), "array", "indices that spiked this step"),
                Field("nspikes", "internal", "int64_t", None, "scalar")]
        for e in g.events:
            listed, count = ir.event_list(e.name)
            out += [Field(listed, "internal", "int32_t", _n(g.name), "array", f"indices that had {e.name} this step"),
                    Field(count, "internal", "int64_t", None, "scalar")]
    if g.kind == "poisson" and poisson_skips:
        out += [Field("next_spike", "internal", "int64_t", _n(g.name), "array", "the step of each source's next spike"),
                Field("p_spike", "internal", "double", _n(g.name), "array", "rate * dt, fixed during a run"),
                Field("calendar", "internal", "snn_calendar", None, "derived", "the sources by next_spike")]
    if g.kind == "spikes":
        sources = Count((Size("nsrc", g.name),))
        out += [Field("nsrc", "internal", "int64_t", None, "scalar", "spikes of the generator"),
                Field("cursor", "internal", "int64_t", None, "scalar", "the next one to emit"),
                Field("src_i", "internal", "int32_t", sources, "array", "their neurons"),
                Field("src_step", "internal", "int64_t", sources, "array", "their steps")]
    if g.kind == "synapses":
        out += [Field("pre", "internal", "int32_t", _n(g.name), "array" if g.stores_pre else "cache",
                      "presynaptic neuron of each synapse" + ("" if g.stores_pre else
                                                               ": made from pre_start when results or Python ask")),
                Field("post", "internal", "int32_t", _n(g.name), "array", "postsynaptic neuron of each synapse")]
        if g.source_range or g.target_range:  # between subgroups: i and j count from their first neurons
            out += [Field("i", "internal", "int32_t", _n(g.name), "array", "pre, within the source subgroup"),
                    Field("j", "internal", "int32_t", _n(g.name), "array", "post, within the target subgroup")]
        out += delay_fields(g, "", g.delay_kind)
        for p in g.pathways:
            out += delay_fields(g, p.name, p.delay_kind)
        for end, group, other in (("pre", g.source, "post"), ("post", g.target, "pre")):
            out.append(Field(f"{end}_start", "internal", "int64_t", _n(group, 1), "array",
                             f"synapses of each {end}synaptic neuron"))
            # numbered in presynaptic order, a neuron's synapses are the range itself, and
            # their postsynaptic neurons `post` there: no list, no copy (ir.Group.in_pre_order);
            # all pairs, a postsynaptic neuron's synapses are computed (ir.Group.all_pairs)
            if (end == "post" and not g.all_pairs) or (end == "pre" and not g.in_pre_order):
                out += [Field(f"{end}_syn", "internal", "int32_t", _n(g.name), "array"),
                        Field(f"{end}_other", "internal", "int32_t", _n(g.name), "array",
                              f"... and their {other}synaptic neurons, in that order")]
            out.append(Field(f"{end}_sorted", "internal", "int64_t", None, "scalar",
                             f"1 if those are ascending for each {end}synaptic neuron (threads then split them "
                             "by binary search)"))
    return tuple(out)


def pathway_field(pathway: str, name: str) -> str:
    """The name of a pathway's delay field `name` ('ring', 'delay_steps',
    ...): the unnamed pathway's own, a named one's after its name
    (`up_ring`), which no other field's name can be."""
    return f"{pathway}_{name}" if pathway else name


def delay_fields(g: ir.Group, pathway: str, kind: str) -> list[Field]:
    """The delay and spike queue of one pathway of `g` ("": the unnamed one)."""
    def name(x: str) -> str:
        return pathway_field(pathway, x)

    slots = Count((Size(name("ring_size"), g.name),))
    if kind == "homogeneous":
        return [Field(name("delay_steps"), "internal", "int64_t", None, "scalar"),
                Field(name("ring_size"), "internal", "int64_t", None, "scalar",
                      f"spikes of the last {name('ring_size')} steps"),
                Field(name("ring"), "internal", "int32_t", Count((Size(name("ring_size"), g.name), Size("n", g.source))),
                      "array", f"{name('ring_size')} x N_pre spike lists"),
                Field(name("ring_n"), "internal", "int64_t", slots, "array")]
    if kind == "heterogeneous":
        return [Field(name("delay_steps"), "internal", "int32_t", _n(g.name), "array", "per synapse"),
                Field(name("ring_size"), "internal", "int64_t", None, "scalar"),
                Field(name("ring"), "internal", "snn_buf", slots, "queue",
                      "synapses whose spike arrives in each of the next steps")]
    return []


def data_uses(m: ir.Module) -> dict[str, set[int]]:
    """How many indices each data array is read with: its required rank (the
    checker allows one; a backend loads the array with it)."""
    uses: dict[str, set[int]] = {d.name: set() for d in m.data}
    for node in ir.walk((m.groups, m.phases, m.params, tuple(s.expr for s in m.saves),
                         tuple(mon.expr for mon in m.monitors))):
        if isinstance(node, ir.DataAt):
            uses[node.name].add(len(node.indices))
    for g in m.groups:
        for src in (g.indices, g.times):
            if src is not None and src.data:
                uses[src.data].add(1)
        for data in (g.connect_data, *(p.data for p in g.connect_parts)):
            if data:
                uses[data].add(2)
    return uses
