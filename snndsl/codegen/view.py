"""IR -> `CModel`: the flat, already-printed view the templates render.

Everything model-specific that becomes C text is made here or in
`c_expr`; the templates (snndsl/templates/) only place these blocks in the
skeleton of the program.
"""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from fractions import Fraction

from snndsl.codegen.c_expr import (Context, CPrinter, c_number, c_string, exact_factors_once, linear_factor_sets,
                                   mangle)
from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir
from snndsl.ir import storage
from snndsl.ir.evaluate import is_constant
from snndsl.passes import distribute, streams

DESCR = {"f": "<f8", "i": "<i4", "b": "|b1"}
# the slots of the time step in the C: a comment, then the kernels of those kinds
# (a slot most models leave empty shows only when used: OPTIONAL_SLOTS)
SLOTS = (
    ("/* 0. every PERIOD: blocks (Brian2's run_regularly) */", (ir.RunEvery,)),
    ("/* 1. state monitors record */", (ir.RecordState,)),
    ("/* 2. state updates: refractoriness, then the equations */", (ir.SumOnto, ir.Update)),
    ("/* 3. thresholds: neurons and sources emit spikes; spike monitors record */",
     (ir.Threshold, ir.PoissonSpikes, ir.GeneratorSpikes, ir.RecordSpikes)),
    ("/* 4a. Poisson inputs: binomial input onto variables (Brian2's PoissonInput) */", (ir.AddPoissonInput,)),
    ("/* 4. synaptic events: on pre (spikes whose delay ends now), then on post */", (ir.SynapseEvents,)),
    ("/* 5. resets of the neurons that spiked; rate monitors record */", (ir.Reset, ir.RecordRate)),
)
DIM_DEN = 27720  # SNN_DIM_DEN: the least common multiple of 1 .. 12 (units.MAX_DENOMINATOR)
OPTIONAL_SLOTS = ((ir.RunEvery,), (ir.AddPoissonInput,))


@dataclass(frozen=True)
class CArray:
    """One entry of the results: a C expression for the data and the shape,
    and what makes the data first where it is made only when asked for (C
    statements that may `return snn_fail(...)`)."""

    file: str
    descr: str
    data: str
    shape: tuple[str, ...]
    make: str = ""


@dataclass(frozen=True)
class CModel:
    name: str
    source_hash: str
    dt: str
    seed: int
    n_rng: int
    n_phases: int
    phase_names: tuple[str, ...]  # C string literals
    params: tuple  # (cname, name, dim C initialiser)
    param_defaults: str
    data: tuple  # (cname, name, default path literal)
    group_structs: tuple  # (type name, member, fields)
    sim_fields: str
    setup: str
    steps: tuple  # (C function name, frozen variables as text, its functions, code): the default step first
    protocol: str
    manifest: str
    arrays: tuple[CArray, ...]
    free: str
    state_fields: tuple  # (name, "array"/"scalar", C lvalue, element size, count): see state.c.j2
    variables: tuple  # CArray per group variable (and synapses' i, j), for snn_sim_var
    caches: tuple  # C lvalues of the fields made only when asked for (storage 'cache'): dropped by a snapshot
    state_checks: tuple  # (sizes, values): C checks of a loaded snapshot, see state_check.c.j2
    prepare: str  # run at the start of every run
    ranks: bool = False  # built for ranks (MPI; passes/distribute.py)
    rank_sync_all: str = ""  # the body of snn_rank_sync_all


def _per_run(e: ir.Expr) -> bool:
    """The same for every element: constants, parameters, shared variables."""
    return not any(isinstance(n, (ir.Special, ir.Rand, ir.DataAt, ir.Temp, ir.Reduce))
                   or isinstance(n, ir.Var) and n.at != "shared" for n in ir.walk(e))


def _site(span) -> str:
    return f"{span.file}:{span.line}:{span.col}" if span is not None else "?"


class _Builder:
    def __init__(self, module: ir.Module):
        self.m = module
        self.p = CPrinter(module)
        self.groups = {g.name: g for g in module.groups}
        self.tmp = 0
        self.drop: frozenset = frozenset()  # variables the step being generated never writes
        # a step function per set of variables some run holds frozen everywhere (passes/decide.py)
        variants = sorted({frozenset(s.frozen) for s in ir.walk(module.phases) if isinstance(s, ir.Run) and s.frozen},
                          key=sorted)
        self.step_names = {frozenset(): "snn_step"} | {f: f"snn_step_{k + 1}" for k, f in enumerate(variants)}

    def ctype(self, v: ir.StateVar) -> str:
        """A stored variable's C type (ir/storage.py)."""
        return storage.variable_type(v, self.m.precision)

    def fields(self, g: ir.Group) -> tuple[storage.Field, ...]:
        """The storage of `g` (ir/storage.py): its struct, freeing and snapshots follow."""
        return storage.fields(g, self.m.precision, g.kind == "poisson" and self.poisson_skips(g))

    @staticmethod
    def member(f: storage.Field) -> str:
        """A field's member of the group's C struct."""
        return {"variable": mangle("v", f.name), "frozen": mangle("frozen", f.name),
                "uniform": mangle("uniform", f.name)}.get(f.role, f.name)

    def count(self, c: storage.Count) -> str:
        """A field's length as a C expression."""
        text = " * ".join(f"{self.g(s.group)}.{s.what}" for s in c.sizes) + (f" * {c.scale}" if c.scale != 1 else "")
        return f"{text} + {c.extra}" if c.extra else text

    def saved_var(self, d: ir.SaveDef) -> ir.StateVar:
        """What a save stores: a variable, or a subexpression's values."""
        if d.expr is not None:
            return ir.StateVar(d.var, d.dtype, False, d.unit)
        return self.groups[d.group].var(d.var)

    def monitored_var(self, mon: ir.Monitor) -> ir.StateVar:
        """What a state monitor records: a variable, or a subexpression's values."""
        if mon.expr is not None:
            return ir.StateVar(mon.var, mon.dtype, False, mon.unit)
        return self.groups[mon.group].var(mon.var)

    def descr(self, v: ir.StateVar) -> str:
        return "<f4" if self.ctype(v) == "float" else DESCR[v.dtype]

    def g(self, name: str) -> str:
        return f"sim->{mangle('g', name)}"

    def dt(self, group: str) -> str:
        """The time step of a group's code in C: its own (`dt:`), else the model's."""
        g = self.groups[group]
        return "sim->dt" if g.dt is None else c_number(g.dt, "f")

    def ctx(self, group: ir.Group | None, span=None, reductions=None) -> Context:
        index = "_s" if group is not None and group.kind == "synapses" else "_i"
        return Context(index, dict(reductions or {}), _site(span), drop=self.drop,
                       group=group.name if group is not None else None)

    # ---- ranks (passes/distribute.py) ----------------------------------------
    @staticmethod
    def rank_block(n: str) -> tuple[str, str]:
        """The first and the end of this rank's block of [0, n)."""
        return (f"snn_part_start({n}, sim->rank, sim->ranks)", f"snn_part_start({n}, sim->rank + 1, sim->ranks)")

    def rank_array(self, group: str, name: str) -> tuple[str, str, str, str]:
        """(data, count, index, owner count) of an array cut among ranks, for snn_rank_sync."""
        g = self.groups[group]
        v = g.var(name)
        owner, how = distribute.partition(self.groups, group, name)
        G = self.g(group)
        size = {"element": f"{G}.n", "pre": f"{self.g(g.source or group)}.n",
                "post": f"{self.g(g.target or group)}.n"}[v.index]
        return (f"{G}.{mangle('v', name)}", size, f"{G}.post" if how == "post" else "NULL",
                f"{self.g(owner)}.n")

    def rank_sync(self, arrays, fail: str = "{ sim->failed = 1; return; }", ranges=None) -> str:
        """Make `arrays` whole on every rank (snn_rank_sync); `ranges`: for
        some, only the elements (first, count) of C expressions."""
        out = []
        for group, name in arrays:
            data, n, index, owner_n = self.rank_array(group, name)
            first, count = (ranges or {}).get((group, name), ("0", n))
            out.append(f"if (snn_rank_sync({data}, sizeof *{data}, {first}, {count}, {index}, {owner_n}, sim->rank, "
                       f"sim->ranks, sim->err, sizeof sim->err)) {fail}  /* {group}.{name} */")
        return "\n".join(out)

    def rank_sync_all(self) -> str:
        """The body of snn_rank_sync_all: what each rank holds in parts at the
        end of a step, made whole when a run ends."""
        return self.rank_sync(self.m.rank_sync, "return snn_failed(sim);")

    @staticmethod
    def keyed(code, ctx: Context, element: str, part: int = streams.MAIN, step: str = "_step",
              indent: str = "") -> str:
        """The counter-based generator of `element` for the time step's `code`
        (snn_ctr_at, keyed by its site and the step), declared where the code
        draws, with `ctx` set to draw from it; "" where it draws nothing."""
        found = {n.stream for n in ir.walk(code) if isinstance(n, ir.Rand)}
        if not found:
            return ""
        if len(found) > 1 or None in found:
            raise InternalError(f"code of one site draws from the streams {sorted(found, key=str)}")
        ctx.rng = "&_r"
        return (f"{indent}snn_ctr _r;\n"
                f"{indent}snn_ctr_at(&_r, sim->key, {streams.site(found.pop(), part)}u, {step}, {element});\n")

    @staticmethod
    def keyed_at(stream: int, element: str, part: int = streams.MAIN, step: str = "_step") -> str:
        """snn_ctr_at for a kernel's own draws (a Poisson group's)."""
        return f"snn_ctr _r;\nsnn_ctr_at(&_r, sim->key, {streams.site(stream, part)}u, {step}, {element});"

    # ---- storage ------------------------------------------------------------
    def group_struct(self, g: ir.Group):
        lines = []
        for f in self.fields(g):
            line = f"{f.ctype} {'*' if f.count is not None else ''}{self.member(f)};"
            lines.append(f"{line}  /* {f.comment} */" if f.comment else line)
        return (f"snn_{mangle('g', g.name)}_t", mangle("g", g.name), tuple(lines))

    def each(self, g: ir.Group, body: str, first: str = "0", stop: str | None = None,
             indent: str = "        ") -> str:
        """The head of a loop over `g`'s elements `first` to `stop` (its n):
        `_i` for neurons; `_s` for synapses, with `indent`ed lines that bind
        its pre- and postsynaptic neurons `_i` and `_j` for the loop's `body`.
        Synapses that store no `pre` (ir.Group.stores_pre: in presynaptic
        order) find `_i` as the loop goes, the row of pre_start it has
        reached, where the body reads it."""
        G = self.g(g.name)
        stop = stop or f"{G}.n"
        if g.kind != "synapses":
            return f"for (int64_t _i = {first}; _i < {stop}; _i++) {{\n"
        if g.stores_pre:
            return (f"for (int64_t _s = {first}; _s < {stop}; _s++) {{\n"
                    f"{indent}const int64_t _i = {G}.pre[_s], _j = {G}.post[_s];\n{indent}(void)_i; (void)_j;\n")
        if not re.search(r"\b_i\b", body):
            return (f"for (int64_t _s = {first}; _s < {stop}; _s++) {{\n"
                    f"{indent}const int64_t _j = {G}.post[_s];\n{indent}(void)_j;\n")
        return (f"for (int64_t _s = {first}, _i = snn_row_of({G}.pre_start, {self.g(g.source)}.n, _s); "
                f"_s < {stop}; _s++) {{\n"
                f"{indent}while ({G}.pre_start[_i + 1] <= _s) _i++;\n"
                f"{indent}const int64_t _j = {G}.post[_s];\n{indent}(void)_j;\n")

    @staticmethod
    def element_index(g: ir.Group) -> str:
        """The C name of an element's index in loops over `g` (each)."""
        return "_s" if g.kind == "synapses" else "_i"

    def linear_step(self, g: ir.Group) -> ir.LinearStep | None:
        return next((s for s in g.update if isinstance(s, ir.LinearStep)), None)

    def linear_factor_sets(self, g: ir.Group) -> list[tuple[bool, ...]]:
        lin = self.linear_step(g)
        return linear_factor_sets(lin, [g.var(name).freezable for name in lin.vars])

    def sim_fields(self) -> str:
        out = ["double inv_dt;  /* 1 / dt */"]
        if self.m.ranks:
            out.append("int rank, ranks;  /* this process among the ranks (MPI; passes/distribute.py) */")
        for (group, a), cname in self.p.decay_tables.items():
            name = cname.split('->')[1]
            out.append(f"double {name}[SNN_DECAY_STEPS];  /* exp(a k dt) of traces of {group} */")
            out.append(f"double {name}_a;  /* the a it holds, once {name}_filled */")
            out.append(f"int {name}_filled;")
        for g in self.m.groups:
            lin = self.linear_step(g)
            if lin is not None:
                n, sets = len(lin.vars), len(self.linear_factor_sets(g))
                out.append(f"double {mangle('lin', g.name)}[{2 * sets}][{n * n}];  "
                           f"/* exact step: E, F for each of {sets} sets of held rows (frozen, refractory) */")
        for d in self.m.data:
            out.append(f"snn_array {mangle('d', d.name)};  /* [{d.unit}] */")
            out.append(f"char *{mangle('dpath', d.name)};")
        for mon in self.m.monitors:
            for part in self.monitor_parts(mon):
                out.append(f"snn_buf {mangle('m', mon.name)}_{part};")
        for s in self.m.saves:
            out.append(f"snn_buf {mangle('s', s.name)};")
            out.append(f"int64_t {mangle('s', s.name)}_rows;")
        for name, dtype in self.m.locals:
            out.append(f"{'int64_t' if dtype == 'i' else 'double'} {mangle('l', name)};")
        for name in self.m.states:
            out.append(f"snn_buf {mangle('st', name)};  /* store state as {name} */")
        return "\n".join(out)

    @staticmethod
    def monitor_parts(mon: ir.Monitor) -> tuple[str, ...]:
        """A monitor's buffers: a spike monitor's `rec_X` hold X at each spike."""
        parts = {"state": ("t", "v"), "spikes": ("i", "t"), "rate": ("t", "r")}[mon.kind]
        return parts + tuple(f"rec_{name}" for name, _ in mon.recorded)

    # ---- setup ---------------------------------------------------------------
    def param_defaults(self) -> str:
        lines = []
        for k, prm in enumerate(self.m.params):
            value = self.p.expr(prm.default, Context(site=_site(prm.span)))
            P = f"sim->p.{mangle('p', prm.name)}"
            lines.append(f"if (!sim->param_set[{k}]) {P} = {value};")
            if not is_constant(prm.default):  # computed from parameters a --set may have changed
                lines.append(f"if (!isfinite({P})) return snn_fail(sim, \"%s: error[E0501]: parameter '%s' is %g: "
                             f"its default, computed from other parameters, is not a finite number\", "
                             f"{c_string(_site(prm.span))}, {c_string(prm.name)}, {P});")
        for prm in self.m.params:
            if prm.integer:  # used as an integer: a fraction would be truncated silently
                P = f"sim->p.{mangle('p', prm.name)}"
                lines.append(f"if ({P} != floor({P}) || !(fabs({P}) < 0x1p53))\n"
                             f"    return snn_fail(sim, \"%s: error[E0601]: parameter '%s' is used as an integer "
                             f"(an index or a loop bound), so its value must be a whole number, not %.17g\", "
                             f"{c_string(_site(prm.span))}, {c_string(prm.name)}, {P});")
        return "\n".join(lines)

    def setup(self) -> str:
        out = []
        uses = storage.data_uses(self.m)
        for d in self.m.data:
            ranks = sorted(uses[d.name])
            if len(ranks) > 1:
                raise InternalError(f"data {d.name} used with ranks {ranks}")  # checker's job
            rank = ranks[0] if ranks else 0
            load = (f"snn_load_data(sim, &sim->{mangle('d', d.name)}, sim->{mangle('dpath', d.name)}, "
                    f"{c_string(d.name)}, {c_number(d.scale, 'f')}, {rank}, {c_string(_site(d.span))})")
            if d.values is None:
                out.append(f"if ({load}) return -1;")
            else:  # the values written in the model, unless --data names a file
                values = ", ".join(c_number(v, "f") for v in d.values)
                rows, cols = d.shape[0], d.shape[1] if len(d.shape) > 1 else 0
                out.append(f"{{ static const double values[] = {{{values}}};\n"
                           f"  if (sim->{mangle('dpath', d.name)}[0] == '\\0' ? snn_inline_data(sim, "
                           f"&sim->{mangle('d', d.name)}, values, {len(d.shape)}, {rows}, {cols}, "
                           f"{c_number(d.scale, 'f')}) : {load}) return -1; }}")
            if d.period is not None:
                out.append(f"if (sim->{mangle('d', d.name)}.size == 0) return snn_fail(sim, \"%s: error[E0601]: "
                           f"timed array '%s' (%s) has no rows\", {c_string(_site(d.span))}, {c_string(d.name)}, "
                           f"sim->{mangle('dpath', d.name)});")
        for g in self.m.groups:
            if g.kind != "synapses":
                out.append(self.alloc_neuronlike(g))
        for k in self.m.setup:  # passes/kernels.py
            g = self.groups[k.target]
            if isinstance(k, ir.Init):
                out.append(self.element_loop(g, k.body, k.span, "init"))
            elif isinstance(k, ir.Connect):
                out.append(self.connect(k))
                out.append(self.alloc_vars(g))
            elif isinstance(k, ir.Delays):
                out.append(self.setup_delays(k))
            else:
                raise InternalError(f"no C for the setup kernel {k!r}")
        for g in self.m.groups:
            step_code = (g.rate, g.on_pre, g.on_post, g.update, g.threshold, g.reset, g.refractory, g.every,
                         g.inputs, tuple(p.body for p in g.pathways), g.events)
            checks = self.data_checks(step_code, g, c_string(_site(g.span)))
            if checks:
                out.append(checks.rstrip("\n"))
        for mon in self.m.monitors:
            if mon.expr is not None:
                checks = self.data_checks(mon.expr, self.groups[mon.group], c_string(_site(mon.span)))
                if checks:
                    out.append(checks.rstrip("\n"))
        for mon in self.m.monitors:
            for part in self.monitor_parts(mon):
                var = self.monitored_var(mon) if mon.var else None
                if part.startswith("rec_"):  # a variable recorded at each spike
                    elsize = self.ctype(self.groups[mon.group].var(part[4:]))
                else:
                    elsize = {"v": self.ctype(var) if var else "double", "i": "int32_t"}.get(part, "double")
                out.append(f"snn_buf_init(&sim->{mangle('m', mon.name)}_{part}, sizeof({elsize}));")
        for s in self.m.saves:
            out.append(f"snn_buf_init(&sim->{mangle('s', s.name)}, sizeof({self.ctype(self.saved_var(s))}));")
        for name in self.m.states:
            out.append(f"snn_buf_init(&sim->{mangle('st', name)}, 1);")
        return "\n".join(out)

    def setup_delays(self, k: ir.Delays) -> str:
        """Delays in steps as Brian2's spike queue: (int)(delay / dt + 0.5);
        a ring of the next steps, sized to a power of two above the longest."""
        g = self.groups[k.target]
        S, src = self.g(g.name), self.g(g.source)
        steps, size, ring, ring_n = (storage.pathway_field(k.pathway, x)
                                     for x in ("delay_steps", "ring_size", "ring", "ring_n"))
        what = f"{g.name} (pathway {k.pathway})" if k.pathway else g.name
        site = c_string(_site(k.span))
        # in steps of the clock of the group whose spikes they delay (Brian2's spike queue)
        end = self.groups[g.source]
        dt, clock = self.dt(end.name), f" * {end.clock}" if end.clock > 1 else ""
        if not k.per_synapse:
            d = self.p.expr(k.delay, Context(site=_site(k.span)))
            return f"""{{ /* delay of {what} */
    const double d = {d};
    if (!(d >= 0) || !isfinite(d) || d / sim->dt > 1e9)
        return snn_fail(sim, "%s: error[E0501]: the delay of %s is %g s, not a valid duration", {site}, {c_string(self._quoted(g.name, k.pathway))}, d);
    {S}.{steps} = (int64_t)(d / {dt} + 0.5){clock};
    {S}.{size} = 1;
    while ({S}.{size} <= {S}.{steps}) {S}.{size} *= 2;
    {S}.{ring} = snn_alloc(sim, {S}.{size} * {src}.n, sizeof(int32_t));
    {S}.{ring_n} = snn_alloc(sim, {S}.{size}, sizeof(int64_t));
    if (sim->failed) return -1;
}}"""
        ctx = self.ctx(g, k.span)
        d = self.p.expr(k.delay, ctx)
        return f"""{{ /* per-synapse delays of {what} */
    {S}.{steps} = snn_alloc(sim, {S}.n, sizeof(int32_t));
    if (sim->failed) return -1;
    int64_t longest = 0;
    const double _t = sim->step * sim->dt;
    (void)_t;
    {self.each(g, d)}        const double d = {d};
        if (!(d >= 0) || !isfinite(d) || d / sim->dt > 1e9)
            return snn_fail(sim, "%s: error[E0501]: synapse %lld of %s has the delay %g s, not a valid duration",
                            {site}, (long long)_s, {c_string(self._quoted(g.name, k.pathway))}, d);
        {S}.{steps}[_s] = (int32_t)(d / {dt} + 0.5){clock};
        if ({S}.{steps}[_s] > longest) longest = {S}.{steps}[_s];
    }}
    {S}.{size} = 1;
    while ({S}.{size} <= longest) {S}.{size} *= 2;
    {S}.{ring} = snn_alloc(sim, {S}.{size}, sizeof(snn_buf));
    if (sim->failed) return -1;
    for (int64_t k = 0; k < {S}.{size}; k++) snn_buf_init(&{S}.{ring}[k], sizeof(int32_t));
}}"""

    @staticmethod
    def _quoted(group: str, pathway: str) -> str:
        """A pathway in run-time messages: 'S', or pathway 'up' of 'S'."""
        return f"pathway '{pathway}' of '{group}'" if pathway else f"'{group}'"

    def prepare(self) -> str:
        """At the start of each run: the exact-integration factors and the
        decay tables, from parameters and shared variables that may have
        changed since."""
        out = ["sim->inv_dt = 1.0 / sim->dt;"]
        for g in self.m.groups:
            out += self.check_refractory(g)
        for g in self.m.groups:
            G = self.g(g.name)
            out += [f"{G}.{mangle('uniform', v.name)} = snn_all_same({G}.{mangle('v', v.name)}, {G}.n, "
                    f"sizeof({self.ctype(v)})) ? 0 : 1;  /* {g.name}.{v.name}: read at 0 if one value */"
                    for v in g.vars if v.uniform_check]
        for g in self.m.groups:
            if g.kind == "poisson" and self.poisson_skips(g):
                G = self.g(g.name)
                rate = self.p.expr(g.rate, Context("_i", site=_site(g.span)))
                out.append(f"""{{ /* {g.name}: a source whose rate changed draws its next spike anew, from now
     (the process is memoryless); the others keep theirs, so that splitting a run changes nothing */
    const int64_t now = snn_timestep(sim->t_net, sim->dt);
    const double _t = now * sim->dt;
    (void)_t;
    for (int64_t _i = 0; _i < {G}.n; _i++) {{
        const double p = ({rate}) * sim->dt;
        if (p != {G}.p_spike[_i] || {G}.next_spike[_i] < now) {{
{self._indent(self.keyed_at(g.stream, "_i", streams.START, "now"), 12)}
            {G}.p_spike[_i] = p;
            {G}.next_spike[_i] = now + snn_ctr_geometric(&_r, p);
        }}
    }}
    if (snn_calendar_build(&{G}.calendar, {G}.n, {G}.next_spike, now, sim->err, sizeof sim->err))
        return snn_failed(sim);
}}""")
        for (group, a), cname in self.p.decay_tables.items():
            rate = self.p.expr(a, Context())
            # filled again only when its rate changed (a parameter, a shared variable): runs of
            # a few hundred steps (Diehl & Cook's digits) spent a noticeable share on the exp()s
            out.append(f"""{{
    const double _a = {rate};
    if (!{cname}_filled || !({cname}_a == _a)) {{
        for (int k = 0; k < SNN_DECAY_STEPS; k++) {cname}[k] = exp(_a * (k * sim->dt));
        {cname}_a = _a;
        {cname}_filled = 1;
    }}
}}""")
        for g in self.m.groups:
            lin = self.linear_step(g)
            if lin is None or lin.per_step:  # per_step: factors made in each step (c_expr._linear_step_now)
                continue
            n = len(lin.vars)
            L = f"sim->{mangle('lin', g.name)}"
            ctx = Context(site=_site(g.span))
            entries = [f"M[{r * n + k}] = {self.p.expr(lin.matrix[r][k], ctx)};" for r in range(n) for k in range(n)]
            fail = (f"""return snn_fail(sim, "%s: error[E0501]: the equations of '%s' have no finite exact """
                    f"""solution over one step",
                        {c_string(_site(g.span))}, """
                    f"{c_string(g.name)});")
            sets = self.linear_factor_sets(g)
            table = ", ".join("{" + ", ".join("1" if f else "0" for f in held) + "}" for held in sets)
            if lin.per_element:  # each element's factors, from its own coefficients (ir.LinearStep.per_element)
                ectx = self.ctx(g, g.span)
                entries = [f"M[{r * n + k}] = {self.p.expr(lin.matrix[r][k], ectx)};"
                           for r in range(n) for k in range(n)]
                body = f"""        double M[{n * n}];
        {" ".join(entries)}
        double *const _f = {self.g(g.name)}.lin + {self.element_index(g)} * {2 * len(sets) * n * n};
        for (int k = 0; k < {len(sets)}; k++)
            if (snn_exact_factors({n}, M, frozen[k], {self.dt(g.name)}, _f, _f + {n * n}, _f + 2 * k * {n * n},
                                  _f + (2 * k + 1) * {n * n}))
                {fail}"""
                out.append(f"""{{ /* exact integration factors of each element of {g.name}: one set per combination of held rows */
    static const int frozen[{len(sets)}][{n}] = {{{table}}};
    const double _t = sim->step * sim->dt;
    (void)_t;
    {self.each(g, body)}{body}
    }}
}}""")
                continue
            out.append(f"""{{ /* exact integration factors of {g.name}: one set per combination of held rows */
    double M[{n * n}];
    static const int frozen[{len(sets)}][{n}] = {{{table}}};
    {" ".join(entries)}
    for (int k = 0; k < {len(sets)}; k++)  /* set 0 (nothing held) is the free system */
        if (snn_exact_factors({n}, M, frozen[k], {self.dt(g.name)}, {L}[0], {L}[1], {L}[2 * k], {L}[2 * k + 1]))
            {fail}
}}""")
        return "\n".join(out)

    def check_refractory(self, g: ir.Group) -> list[str]:
        """A refractory period the same for every neuron but known only at run
        time (a parameter, a shared variable) must fit the step counter: checked
        once per run, before the first step. A constant one the checker
        checked; one per neuron saturates in snn_elapsed_steps."""
        e = g.refractory
        if e is None or g.refractory_kind != "duration" or not _per_run(e) or is_constant(e):
            return []
        site = c_string(_site(e.span or g.span))
        return [f"""{{ /* refractory period of {g.name} */
    const double r = {self.p.expr(e, Context(site=_site(e.span or g.span)))};
    if (!(r >= 0) || !snn_steps_fit(r / sim->dt))
        return snn_fail(sim, "%s: error[E0501]: the refractory period of '%s' is %g s; it must be 0 to 2**53 "
                        "steps of dt = %g s", {site}, {c_string(g.name)}, r, sim->dt);
}}"""]

    def alloc_vars(self, g: ir.Group) -> str:
        G = self.g(g.name)
        lines = [f"{G}.{self.member(f)} = snn_alloc(sim, {self.count(f.count)}, sizeof({f.ctype}));"
                 for f in self.fields(g) if (f.role != "internal" or f.name == "lin") and f.count is not None]
        lines.append("if (sim->failed) return -1;")
        return "\n".join(lines)

    def alloc_neuronlike(self, g: ir.Group) -> str:
        G = self.g(g.name)
        lines = [f"{G}.n = {g.size};",
                 f"{G}.spikes = snn_alloc(sim, {g.size}, sizeof(int32_t));"]
        lines += [f"{G}.{ir.event_list(e.name)[0]} = snn_alloc(sim, {g.size}, sizeof(int32_t));" for e in g.events]
        if g.kind == "poisson" and self.poisson_skips(g):
            lines += [f"{G}.next_spike = snn_alloc(sim, {g.size}, sizeof(int64_t));",
                      f"{G}.p_spike = snn_alloc(sim, {g.size}, sizeof(double));",
                      f"if (!sim->failed) for (int64_t k = 0; k < {g.size}; k++) {G}.p_spike[k] = NAN;  /* none drawn */"]
        lines.append(self.alloc_vars(g))
        if g.kind == "spikes":
            args = []
            for src in (g.indices, g.times):
                if src.data:
                    args.append(f"sim->{mangle('d', src.data)}.data, (int64_t)sim->{mangle('d', src.data)}.size")
                else:
                    values = ", ".join(c_number(v, "f") for v in src.values) or "0"
                    args.append(f"(const double[]){{{values}}}, {len(src.values)}")
            # in steps of the group's clock (Brian2's SpikeGeneratorGroup(..., dt=...) bins its times so)
            lines.append(f"if (snn_spikegen_sort({g.size}, {args[0]}, {args[1]}, {self.dt(g.name)}, {c_string(g.name)}, "
                         f"{c_string(_site(g.span))},\n                      &{G}.nsrc, &{G}.src_i, &{G}.src_step, "
                         "sim->err, sizeof sim->err)) return snn_failed(sim);")
        return "\n".join(lines)

    def within_subgroups(self, k: ir.Connect, g: ir.Group) -> str:
        """Each synapse's i and j within the subgroups it joins: the copies users see."""
        S = self.g(g.name)
        a, c = (k.pre_range or (0,))[0], (k.post_range or (0,))[0]
        return f"""    {S}.i = snn_alloc(sim, {S}.n ? {S}.n : 1, sizeof(int32_t));
    {S}.j = snn_alloc(sim, {S}.n ? {S}.n : 1, sizeof(int32_t));
    if (sim->failed) return -1;
    for (int64_t _s = 0; _s < {S}.n; _s++) {{
        {S}.i[_s] = {S}.pre[_s] - {a};
        {S}.j[_s] = {S}.post[_s] - {c};
    }}
"""

    def connect(self, k: ir.Connect) -> str:
        """Synapses in Brian2's order (by i, then j), by the rule of the kernel
        (ir.Connect): 'bernoulli' skips ahead a Geometric(p) number of pairs to
        the next synapse, visiting only the synapses made; 'one to one' visits
        the diagonal; 'each pair' and 'all' every pair. Progress shows on
        stderr when connecting takes more than a second."""
        g = self.groups[k.target]
        S, pre, post = self.g(g.name), self.g(g.source), self.g(g.target)
        head = f"/* connect {g.name}: {g.source} -> {g.target} ({g.connect}) */"
        if k.rule == "pairs":  # between subgroups: pairs within them, stored as the groups' indices
            d = f"sim->{mangle('d', k.data)}"
            (a, b), (c, e) = k.pre_range or (0, None), k.post_range or (0, None)
            n_i = str(b - a) if b is not None else f"{pre}.n"
            n_j = str(e - c) if e is not None else f"{post}.n"
            shift = ""
            if k.pre_range or k.post_range:
                shift = (f"for (int64_t _s = 0; _s < {S}.n; _s++) {{ {S}.pre[_s] += {a}; {S}.post[_s] += {c}; }}\n"
                         f"{{\n{self.within_subgroups(k, g)}}}\n")
            return (f"{head}\nif (snn_connect_pairs(&{d}, {n_i}, {n_j}, {c_string(k.data)}, "
                    f"{c_string(_site(g.span))}, &{S}.n, &{S}.pre, &{S}.post,\n"
                    "                      sim->err, sizeof sim->err)) return snn_failed(sim);\n"
                    + shift + self.index_synapses(g))
        what = c_string(f"connecting {g.name}")
        too_many = (f'"%s: error[E0601]: connect makes more than %lld synapses in \'{g.name}\': snndsl numbers a '
                    f'group\'s synapses with 32-bit integers", {c_string(_site(g.span))}, (long long)SNN_MAX_SYNAPSES')
        push = f"""if (ii.len == (size_t)SNN_MAX_SYNAPSES) {{
    snn_buf_free(&ii);
    snn_buf_free(&jj);
    snn_progress_finish(&sim->progress);
    return snn_fail(sim, {too_many});
}}
if (snn_buf_reserve(&ii, 1) || snn_buf_reserve(&jj, 1)) {{
    const size_t made = ii.len;
    snn_buf_free(&ii);
    snn_buf_free(&jj);
    snn_progress_finish(&sim->progress);
    return snn_fail(sim, "out of memory while connecting {g.name} (%zu synapses made)", made);
}}
((int32_t *)ii.data)[ii.len++] = (int32_t)_i;
((int32_t *)jj.data)[jj.len++] = (int32_t)_j;"""
        # between subgroups (ranges): their pairs only, i and j from their first neurons
        (a, b), (c, d) = k.pre_range or (0, None), k.post_range or (0, None)
        n_i = str(b - a) if b is not None else f"{pre}.n"
        n_j = str(d - c) if d is not None else f"{post}.n"
        if k.rule == "several":  # Brian2's successive connect calls: each part's synapses after the last's
            loop = "\n".join(f"{{ /* {part.rule} */\n{self._indent(self.connect_loop(part, g, push, what), 4)}\n}}"
                              for part in k.parts)
        else:
            loop = self.connect_loop(k, g, push, what)
        reserve = ""
        if k.rule == "all":  # the exact count: one allocation, and a clear error if it cannot be had
            reserve = f"""if ((double){n_i} * (double){n_j} > (double)SNN_MAX_SYNAPSES) return snn_fail(sim, {too_many});
if (snn_buf_reserve(&ii, (size_t)({n_i} * {n_j})) || snn_buf_reserve(&jj, (size_t)({n_i} * {n_j}))) {{
    snn_buf_free(&ii);
    snn_buf_free(&jj);
    return snn_fail(sim, "out of memory while connecting {g.name} (%lld synapses)", (long long)({n_i} * {n_j}));
}}
"""
        within = self.within_subgroups(k, g) if k.pre_range or k.post_range else ""
        return f"""{head}
{{
    snn_buf ii, jj;
    snn_buf_init(&ii, sizeof(int32_t));
    snn_buf_init(&jj, sizeof(int32_t));
{self._indent(reserve + loop, 4)}
    snn_progress_finish(&sim->progress);
    {S}.n = (int64_t)ii.len;
    {S}.pre = ii.data;
    {S}.post = jj.data;
    if (!{S}.pre) {S}.pre = snn_alloc(sim, 1, sizeof(int32_t));
    if (!{S}.post) {S}.post = snn_alloc(sim, 1, sizeof(int32_t));
    if (sim->failed) return -1;
{within}}}
""" + self.index_synapses(g) + self.drop_pre(g)

    def drop_pre(self, g: ir.Group) -> str:
        """Synapses in presynaptic order keep no `pre` once indexed: the row
        of pre_start a synapse falls in is its neuron (ir.Group.stores_pre);
        results and Python make it again when they ask (snn_rows_expand)."""
        if g.stores_pre:
            return ""
        S = self.g(g.name)
        return f"\nfree({S}.pre);  /* made again only where asked for (ir.Group.stores_pre) */\n{S}.pre = NULL;"

    def connect_loop(self, k: ir.Connect, g: ir.Group, push: str, what: str) -> str:
        """The loop of one connection rule, each synapse made by `push`."""
        pre, post = self.g(g.source), self.g(g.target)
        # between subgroups (ranges): their pairs only, i and j from their first neurons
        (a, b), (c, d) = k.pre_range or (0, None), k.post_range or (0, None)
        n_i = str(b - a) if b is not None else f"{pre}.n"
        n_j = str(d - c) if d is not None else f"{post}.n"
        i_at = (lambda x: f"{a} + {x}") if a else (lambda x: x)
        j_at = (lambda x: f"{c} + {x}") if c else (lambda x: x)
        if k.rule == "one to one" and (a or c):
            loop = f"""for (int64_t _k = 0; _k < snn_imin({n_i}, {n_j}); _k++) {{
    const int64_t _i = {i_at("_k")}, _j = {j_at("_k")};
{self._indent(push, 4)}
}}"""
        elif k.rule == "one to one":
            loop = f"""for (int64_t _i = 0; _i < snn_imin({n_i}, {n_j}); _i++) {{
    const int64_t _j = _i;
{self._indent(push, 4)}
}}"""
        elif k.rule in ("range", "sample", "target", "choose"):
            loop = self.connect_generator(k, g, push, (a, b, c, d), n_i, n_j, what)
        elif k.rule == "pairs":  # one of several connects: the data's rows, checked as alone (snn_check_pairs)
            loop = f"""const snn_array *_pairs = &sim->{mangle('d', k.data)};
if (snn_check_pairs(_pairs, {n_i}, {n_j}, {c_string(k.data)}, {c_string(_site(g.span))}, sim->err, sizeof sim->err)) {{
    snn_buf_free(&ii);
    snn_buf_free(&jj);
    snn_progress_finish(&sim->progress);
    return snn_failed(sim);
}}
for (int64_t _k = 0; _k < (int64_t)_pairs->shape[0]; _k++) {{
    const int64_t _i = {i_at("(int64_t)_pairs->data[2 * _k]")}, _j = {j_at("(int64_t)_pairs->data[2 * _k + 1]")};
{self._indent(push, 4)}
}}"""
        elif k.rule == "bernoulli":
            ctx = self.ctx(g, k.span)
            p = self.p.expr(k.p, ctx)
            test = f"    if (!({self.p.expr(k.cond, ctx)})) continue;\n" if k.cond is not None else ""
            rng = f"&sim->rng[{k.stream}]"
            pairs = f"{n_i} * {n_j}" if b is None else f"(int64_t){n_i} * _n_post"
            loop = f"""const double _p = {p};
const int64_t _n_post = {n_j}, _pairs = {pairs};
/* pair k = i n_post + j; from one synapse to the next, Geometric(p) pairs fail */
for (int64_t _k = snn_geometric({rng}, _p); _k < _pairs; _k += 1 + snn_geometric({rng}, _p)) {{
    const int64_t _i = {i_at("_k / _n_post")}, _j = {j_at("_k % _n_post")};
{test}{self._indent(push, 4)}
    if ((ii.len & 0xFFFF) == 0) snn_progress_fraction(&sim->progress, {what}, (double)_k / (double)_pairs);
}}"""
        else:
            cond = "1" if k.rule == "all" else self.p.expr(k.cond, self.ctx(g, k.span))
            i_end = f"{a} + {n_i}" if a else n_i
            j_end = f"{c} + {n_j}" if c else n_j
            done = f"_i - {a} + 1" if a else "_i + 1"
            loop = f"""for (int64_t _i = {a}; _i < {i_end}; _i++) {{
    for (int64_t _j = {c}; _j < {j_end}; _j++) {{
        if (!({cond})) continue;
{self._indent(push, 8)}
    }}
    snn_progress_fraction(&sim->progress, {what}, (double)({done}) / (double){n_i});
}}"""
        return loop

    def connect_generator(self, k: ir.Connect, g: ir.Group, push: str, ranges, n_i: str, n_j: str,
                          what: str) -> str:
        """Brian2's generator syntax (ir.Connect 'range', 'sample', 'target'):
        for each i, the j's of its row -- a range clipped to the target, the
        same range sampled by skipping ahead Geometric(p) j's (p computed once
        per row), or the one j of `j = EXPR`, checked to be in the target --
        each passing `cond`, each made `times` times. The work is the rows
        plus the pairs tried ('range') or made ('sample', 'target')."""
        a, _, c, _ = ranges
        ctx = self.ctx(g, k.span)
        i_start = f"{a}" if a else "0"
        i_end = f"{a} + {n_i}" if a else n_i
        j_first = f"{c}" if c else "0"
        j_end = f"{c} + {n_j}" if c else n_j
        shift = (lambda x: f"{c} + ({x})") if c else (lambda x: f"({x})")

        def fail(span, message: str, *args: str) -> str:
            return (f"snn_buf_free(&ii);\nsnn_buf_free(&jj);\nsnn_progress_finish(&sim->progress);\n"
                    f"return snn_fail(sim, \"%s: error[E0601]: {message}\", {c_string(_site(span))}, "
                    + ", ".join(args) + ");")

        i_user = f"(long long)(_i - {a})" if a else "(long long)_i"
        j_user = f"(long long)(_j - {c})" if c else "(long long)_j"
        made = push
        if k.times is not None:
            made = f"""const int64_t _times = {self.p.expr(k.times, ctx)};
if (_times < 0) {{
{self._indent(fail(k.times.span, "connect: times %lld for the pair (i, j) = (%lld, %lld) is negative", "(long long)_times", i_user, j_user), 4)}
}}
for (int64_t _r = 0; _r < _times; _r++) {{
{self._indent(push, 4)}
}}"""
        test = f"if (!({self.p.expr(k.cond, ctx)})) continue;\n" if k.cond is not None else ""
        if k.rule == "target":
            reads_post = k.cond is not None and any(isinstance(n, ir.Var) and n.at == "post" for n in ir.walk(k.cond))
            check = f"""if (_j < {j_first} || _j >= {j_end}) {{
{self._indent(fail(k.j.span, "connect: j = %lld for i = %lld is outside the target's indices 0 to %lld", j_user, i_user, f"(long long)({n_j}) - 1"), 4)}
}}
"""
            body = (check + test) if reads_post else (test + check)
            one = f"""const int64_t _j = {shift(self.p.expr(k.j, ctx))};
{body + made}"""
            if k.lo is not None:  # j = EXPR for k in LO .. HI: the j of each k, in order
                one = f"""const int64_t _klo = {self.p.expr(k.lo, ctx)}, _khi = {self.p.expr(k.hi, ctx)};
for (int64_t {ir.GENERATOR_K} = _klo; {ir.GENERATOR_K} < _khi; {ir.GENERATOR_K}++) {{
{self._indent(one, 4)}
}}"""
            return f"""for (int64_t _i = {i_start}; _i < {i_end}; _i++) {{
{self._indent(one, 4)}
    if ((_i & 0xFFF) == 0) snn_progress_fraction(&sim->progress, {what}, (double)(_i - {i_start}) / (double){n_i});
}}"""
        lo = shift(self.p.expr(k.lo, ctx)) if k.lo is not None else j_first
        hi = shift(self.p.expr(k.hi, ctx)) if k.hi is not None else j_end
        bounds = f"""int64_t _lo = {lo}, _hi = {hi};
if (_lo < {j_first}) _lo = {j_first};
if (_hi > {j_end}) _hi = {j_end};
"""
        if k.lo is None:
            bounds = f"const int64_t _lo = {j_first}, _hi = {j_end};\n"
        if k.rule == "choose":
            rng = f"&sim->rng[{k.stream}]"

            def fail_row(message: str, *args: str) -> str:
                return "snn_buf_free(&_chosen);\nsnn_buf_free(&_table);\n" + fail(k.size.span, message, *args)

            inner = f"""const int64_t _K = {self.p.expr(k.size, ctx)}, _n_row = _hi > _lo ? _hi - _lo : 0;
if (_K < 0) {{
{self._indent(fail_row("connect: choose %lld for i = %lld is negative", "(long long)_K", i_user), 4)}
}}
if (_K > _n_row) {{
{self._indent(fail_row("connect: choose %lld for i = %lld, but its range holds %lld j's of the target", "(long long)_K", i_user, "(long long)_n_row"), 4)}
}}
if (snn_choose({rng}, _n_row, _K, &_chosen, &_table)) {{
{self._indent(fail_row("connect: out of memory choosing %lld j's for i = %lld", "(long long)_K", i_user), 4)}
}}
for (size_t _c = 0; _c < _chosen.len; _c++) {{
    const int64_t _j = _lo + ((const int64_t *)_chosen.data)[_c];
{self._indent(test + made, 4)}
}}"""
            return f"""{{ /* {k.target}: K of each row's j's at random (Floyd's algorithm), in increasing order */
snn_buf _chosen, _table;
snn_buf_init(&_chosen, sizeof(int64_t));
snn_buf_init(&_table, sizeof(int64_t));
for (int64_t _i = {i_start}; _i < {i_end}; _i++) {{
{self._indent(bounds + inner, 4)}
    snn_progress_fraction(&sim->progress, {what}, (double)(_i - {i_start} + 1) / (double){n_i});
}}
snn_buf_free(&_chosen);
snn_buf_free(&_table);
}}"""
        if k.rule == "sample":
            rng = f"&sim->rng[{k.stream}]"
            inner = f"""if (_lo < _hi) {{
    const double _p = {self.p.expr(k.p, ctx)};
    /* from one j made to the next, Geometric(p) j's fail */
    for (int64_t _j = _lo + snn_geometric({rng}, _p); _j < _hi; _j += 1 + snn_geometric({rng}, _p)) {{
{self._indent(test + made, 8)}
    }}
}}"""
        else:
            inner = f"""for (int64_t _j = _lo; _j < _hi; _j++) {{
{self._indent(test + made, 4)}
}}"""
        return f"""for (int64_t _i = {i_start}; _i < {i_end}; _i++) {{
{self._indent(bounds + inner, 4)}
    snn_progress_fraction(&sim->progress, {what}, (double)(_i - {i_start} + 1) / (double){n_i});
}}"""

    def index_synapses(self, g: ir.Group) -> str:
        S, pre, post = self.g(g.name), self.g(g.source), self.g(g.target)
        pre_lists = "NULL, NULL" if g.in_pre_order else f"&{S}.pre_syn, &{S}.pre_other"
        post_lists = "NULL, NULL" if g.all_pairs else f"&{S}.post_syn, &{S}.post_other"
        # all pairs: a postsynaptic neuron's synapses, computed, come in the order of i
        post_sorted = "1" if g.all_pairs else f"snn_rows_ascending({S}.post_start, {S}.post_other, {post}.n)"
        return (f"if (snn_index_synapses({S}.n, {S}.pre, {S}.post, {pre}.n, {post}.n,\n"
                f"                       &{S}.pre_start, {pre_lists},\n"
                f"                       &{S}.post_start, {post_lists},\n"
                "                       sim->err, sizeof sim->err)) return snn_failed(sim);\n"
                f"{S}.pre_sorted = snn_rows_ascending({S}.pre_start, {self.other_end(g, 'pre')}, {pre}.n);\n"
                f"{S}.post_sorted = {post_sorted};")

    def pair_ranges(self, g: ir.Group) -> tuple[tuple[str, str], tuple[str, str]]:
        """The first and the end of the pre- and the postsynaptic neurons a synapse
        group connects (a subgroup's, else the whole group's), as C expressions."""
        return tuple((str(r[0]), str(r[1])) if r is not None else ("0", f"{self.g(name)}.n")
                     for r, name in ((g.source_range, g.source), (g.target_range, g.target)))

    def other_end(self, g: ir.Group, end: str) -> str:
        """The array of the far end's neurons beside `end`'s synapse lists: in
        presynaptic order, the presynaptic lists are the synapses themselves,
        and their postsynaptic neurons `post`."""
        S = self.g(g.name)
        return f"{S}.post" if end == "pre" and g.in_pre_order else f"{S}.{end}_other"

    def synapse_at(self, g: ir.Group, end: str, p: str) -> str:
        """The synapse at position `p` of `end`'s synapse lists."""
        return p if end == "pre" and g.in_pre_order else f"{self.g(g.name)}.{end}_syn[{p}]"

    def element_loop(self, g: ir.Group, body, span, what: str, where: ir.Expr | None = None,
                     lo: str | None = None, hi: str | None = None, reductions=None, guard: bool = False) -> str:
        """Run `body` for every element of `g` (optionally a range and a condition)."""
        ctx = self.ctx(g, span, reductions)
        ctx.guard_refractory = guard
        G = self.g(g.name)
        checks = self.data_checks((body, where), g, c_string(_site(span)))
        code = self.p.stmts(body, ctx, "        ")
        if where is not None:
            code = f"        if (!({self.p.expr(where, ctx)})) continue;\n" + code
        stop = f"{G}.n" if hi is None else f"snn_imin({hi}, {G}.n)"
        return (f"{checks}{{ /* {what} of {g.name} */\n"
                f"    const double _t = sim->step * sim->dt;\n    (void)_t;\n"
                f"    {self.each(g, code, lo or '0', stop)}{code}\n    }}\n}}\n"
                "if (sim->failed) return -1;")

    # ---- the time step ---------------------------------------------------------
    def step(self, name: str) -> tuple[str, str]:
        """The time step `name`: the module's kernels (passes/kernels.py), in
        order, under the comment of their slot; one template per kind of loop.
        Returns (the functions it calls, its body).

        Every thread of a run runs the step (snn_run_for opens one parallel
        region for the whole run). A loop threads share (passes/share_work.py)
        splits its work among them and ends at a barrier; the loops between
        two such, run by one thread, go into a function of their own, called
        under `omp single` (whose end is a barrier too): one thread for each
        stretch of them, and a `return` in one leaves only that stretch."""
        render = {ir.RunEvery: self.run_every, ir.SumOnto: self.sum_onto, ir.RecordState: self.record_state, ir.Update: self.state_update, ir.Threshold: self.threshold,
                  ir.PoissonSpikes: self.poisson, ir.GeneratorSpikes: self.spike_generator,
                  ir.RecordSpikes: self.record_spikes, ir.SynapseEvents: self.pathway, ir.Reset: self.reset,
                  ir.RecordRate: self.record_rate, ir.AddPoissonInput: self.poisson_input}
        parts: list[str] = []
        body: list[str] = []
        alone: list[str] = []  # the loops since the last shared one

        def one_thread() -> None:
            if not alone:
                return
            part = f"{name}_part{len(parts) + 1}"
            parts.append(f"static void {part}(snn_sim *sim, const int64_t _step, const double _t)\n{{\n"
                         f"    (void)_step; (void)_t;\n{self._indent(chr(10).join(alone), 4)}\n}}\n")
            body.append(f"SNN_OMP(omp single)\n{part}(sim, _step, _t);\nif (sim->failed) return;")
            alone.clear()

        for title, kinds in SLOTS:
            kernels = [k for k in self.m.step if type(k) in kinds]
            if kernels or kinds not in OPTIONAL_SLOTS:
                (alone or body).append(title)
            for k in kernels:
                code = render[type(k)](k)
                if k.gather and not isinstance(k, distribute.CONDITIONAL):
                    code = f"/* whole on every rank for {type(k).__name__} {k.target} */\n" \
                           f"{self.rank_sync(k.gather)}\n{code}"
                if k.clock > 1:  # on its group's clock (every thread and rank takes the same branch)
                    code = f"if (_step % {k.clock} == 0) {{ /* on the clock of {k.clock} steps */\n" \
                           f"{self._indent(code, 4)}\n}}"
                if getattr(k, "share", "none") == "none":
                    alone.append(code)
                else:
                    one_thread()
                    body.append(code)
        alone.append("sim->step++;")
        one_thread()
        return "\n".join(parts), "\n".join(body)

    def sum_onto(self, k: ir.SumOnto) -> str:
        """The variable set to 0, then each synapse adds its term to its
        neuron's entry, synapse group by synapse group, in synapse order
        (Brian2's summed variable updater). Frozen entries keep their value."""
        g = self.groups[k.target]
        G = self.g(g.name)
        v = g.var(k.var)
        skip = f"if ({G}.{mangle('frozen', v.name)}[_k]) continue; " if v.freezable else ""
        lines = [f"{{ /* {g.name}.{v.name}: summed over "
                 + ", ".join(syn for syn, _, _ in k.terms) + " */",
                 f"    {self.ctype(v)} *const restrict _sum = {G}.{mangle('v', v.name)};",
                 f"    for (int64_t _k = 0; _k < {G}.n; _k++) {{ {skip}_sum[_k] = 0; }}"]
        for syn, side, e in k.terms:
            S = self.groups[syn]
            ctx = self.ctx(S, k.span)
            at = "_j" if side == "post" else "_i"
            skip = f"if ({G}.{mangle('frozen', v.name)}[{at}]) continue;\n        " if v.freezable else ""
            add = f"{skip}_sum[{at}] += {self.p.expr(e, ctx)};"
            lines.append(f"""    {self.each(S, add)}        {add}
    }}""")
        return "\n".join(lines) + "\n}"

    def run_every(self, k: ir.RunEvery) -> str:
        """On the steps that are multiples of its period, the writes to
        shared variables once (their draws keyed by element 0 of the block's
        part ONCE), then the block for each element; writes to frozen
        elements are dropped, as in resets. (Its data's lengths are checked
        in setup, as all step code's.)"""
        g = self.groups[k.target]
        sync = self._indent(self.rank_sync(k.gather), 4) + "\n" if k.gather else ""
        once = ""
        if k.once:
            octx = self.ctx(g, k.span)
            once = ("    { /* once: the shared variables */\n" + self.keyed(k.once, octx, "0", streams.ONCE, indent="    ")
                    + self.p.stmts(k.once, octx, "    ") + "\n    }\n")
        loop = ""
        if k.body:
            ctx = self.ctx(g, k.span)
            ctx.guard_frozen = True
            code = self.keyed(k.body, ctx, ctx.self_index, indent="        ") + self.p.stmts(k.body, ctx, "        ")
            loop = f"    {self.each(g, code)}{code}\n    }}\n"
        return f"if (_step % {k.steps} == 0) {{ /* every {k.steps} steps: {g.name} */\n{sync}{once}{loop}}}"

    def poisson_input(self, k: ir.AddPoissonInput) -> str:
        """Each element of [lo, hi) draws how many of its sources spiked, a
        Binomial(sources, rate * dt) number (snn_binomial_draw), and adds that
        many weights; writes to frozen elements, and to `(unless refractory)`
        variables of refractory neurons, are dropped, as in event code."""
        g = self.groups[k.target]
        ctx = self.ctx(g, k.span)
        ctx.guard_refractory = ctx.guard_frozen = True
        rate = self.p.expr(k.rate, ctx)
        site = c_string(_site(k.span))

        def loop(lo: str, hi: str) -> str:
            return f"""for (int64_t _i = {lo}; _i < {hi}; _i++) {{
{self._indent(self.keyed_at(k.stream, "_i"), 4)}
    const int64_t {ir.POISSON_INPUT_DRAW} = snn_binomial_draw_ctr(&_binomial, &_r);
{self.p.stmts(k.body, ctx, '    ')}
}}"""
        return f"""{{ /* Poisson input {k.name} onto {g.name}[{k.lo}:{k.hi}] */
    const double _p = ({rate}) * {self.dt(g.name)};
    if (!(_p >= 0 && _p <= 1)) {{{"" if k.share != "elements" else chr(10) + "        SNN_OMP(omp single)  /* every thread finds it: one reports it */"}
        snn_fail(sim, "%s: error[E0501]: Poisson input '{k.name}': rate * dt is %g, not a probability "
                 "between 0 and 1", {site}, _p);
        return;
    }}
    snn_binomial_t _binomial;
    snn_binomial_prepare(&_binomial, INT64_C({k.sources}), _p);
{self._indent(self.element_parts(loop, k, str(k.hi - k.lo), str(k.lo)) if k.ranks != "block" else self.rank_range(loop, g, k.lo, k.hi), 4)}
}}"""

    def rank_range(self, loop, g: ir.Group, lo: int, hi: int) -> str:
        """`loop(lo, hi)` over this rank's elements of [lo, hi) of `g`."""
        first, end = self.rank_block(f"{self.g(g.name)}.n")
        return loop(f"snn_imax({lo}, {first})", f"snn_imin({hi}, {end})")

    def monitor(self, k: ir.Kernel) -> ir.Monitor:
        return next(mon for mon in self.m.monitors if mon.name == k.target)

    def spike_generator(self, k: ir.Kernel) -> str:
        G = self.g(k.target)
        clock = self.groups[k.target].clock
        now = "_step" if clock == 1 else f"_step / {clock}"  # its spikes are listed in steps of its clock
        return f"""{G}.nspikes = 0;
while ({G}.cursor < {G}.nsrc && {G}.src_step[{G}.cursor] < {now}) {G}.cursor++;
while ({G}.cursor < {G}.nsrc && {G}.src_step[{G}.cursor] == {now})
    {G}.spikes[{G}.nspikes++] = {G}.src_i[{G}.cursor++];"""

    def reset(self, k: ir.Kernel) -> str:
        g = self.groups[k.target]
        ctx = self.ctx(g, k.span)
        ctx.guard_frozen = True
        G = self.g(g.name)
        rng = self.keyed(k.body, ctx, "_i", indent="    ")
        code = self.p.stmts(k.body, ctx, "    ")
        mine = ""
        if k.ranks == "block":
            first, end = self.rank_block(f"{G}.n")
            mine = f"    if (_i < {first} || _i >= {end}) continue;  /* another rank's */\n"
        listed, counted = ir.event_list(k.event)
        what = "reset" if k.event == "spike" else f"on {k.event}"
        return f"""for (int64_t k = 0; k < {G}.{counted}; k++) {{ /* {what} of {g.name} */
    const int64_t _i = {G}.{listed}[k];
{mine}{rng}{code}
}}"""

    def state_update(self, k: ir.Kernel) -> str:
        """Refractoriness as Brian2 (computed before integrating), then one
        integration step of the group's equations, for every element."""
        g = self.groups[k.target]
        G = self.g(g.name)
        ctx = self.ctx(g, k.span)
        ctx.guard_frozen = True
        head = [f"const double dt = {self.dt(g.name)};", "const int64_t _n = " + f"{G}.n;", "(void)dt;"]
        # the group's own arrays through local restrict pointers: a store to one
        # (a uint8 flag above all) cannot then force reloads of the others
        own = {n.name for n in ir.walk((k.body, k.refractory))
               if isinstance(n, ir.Var) and n.group == g.name and n.at == "self"}
        own |= {n for st in ir.walk(k.body) if isinstance(st, ir.LinearStep) for n in st.vars}
        if k.refractory is not None:
            own |= {"not_refractory", "lastspike"}
        for name in sorted(own):
            v = g.var(name)
            if v is None or v.shared or v.index != "element":
                continue
            ctx.arrays[(g.name, name)] = f"_a_{name}"
            head.append(f"{self.ctype(v)} *const restrict _a_{name} = {G}.{mangle('v', name)};")
            head.append(f"(void)_a_{name};")
        for st in k.body:  # the rows of a per-step exact step with one rate for all: their factors once
            if isinstance(st, ir.LinearStep):
                once, ctx.step_factors = exact_factors_once(st, lambda e: self.p.expr(e, ctx))
                head += once
        var = "_s" if g.kind == "synapses" else "_i"
        lines = [self.keyed((k.refractory, k.body), ctx, var).rstrip()]
        if not lines[0]:
            lines.clear()
        if k.refractory is not None:
            nr = self.p.var(ir.Var(g.name, "not_refractory", dtype="b"), ctx)
            last = self.p.var(ir.Var(g.name, "lastspike"), ctx)
            ref = self.p.expr(k.refractory, ctx)
            if k.refractory_kind == "duration":
                steps = f"snn_elapsed_steps({ref}, dt)"
                if _per_run(k.refractory):
                    # the same for every neuron: the least elapsed time that ends it, once per
                    # step, then a comparison per neuron (the same truth as the division)
                    head.append(f"const double _ref_from = snn_elapsed_from(dt, {steps});")
                    lines.append(f"{nr} = (_t - {last}) + 1e-3 * dt >= _ref_from;")
                else:
                    lines.append(f"{nr} = snn_elapsed_reaches(_t - {last}, dt, {steps});")
            else:
                lines.append(f"{nr} = {nr} || !({ref});")
        if k.body:
            lines.append(self.p.stmts(k.body, ctx, ""))
        if self.linear_step(g) is not None and not self.linear_step(g).per_element:
            # a local copy: the compiler may then keep the factors in registers
            L = f"sim->{mangle('lin', g.name)}"
            head += [f"double _lin[sizeof {L} / sizeof {L}[0]][sizeof {L}[0] / sizeof(double)];",
                     f"memcpy(_lin, {L}, sizeof _lin);"]
        body = self._indent("\n".join(lines), 4)
        loop = f"{self.each(g, body, '0', '_n', '    ')}{body}\n}}"
        if k.ranks == "block":
            first, end = self.rank_block("_n")
            loop = f"{self.each(g, body, first, end, '    ')}{body}\n}}"
        elif k.share == "elements":
            # each thread its part of the elements; or one thread all of them
            part = f"{self.each(g, body, '_lo', '_hi', '    ')}{body}\n}}"
            loop = f"""if (snn_team_size() > 1 && _n >= SNN_UPDATE_WORK * sim->parallel_min) {{
    const int _k = snn_team_member(), _size = snn_team_size();
    const int64_t _lo = snn_part_start(_n, _k, _size), _hi = snn_part_start(_n, _k + 1, _size);
{self._indent(part, 4)}
{self._indent(self.wait_barrier(k), 4)}
}} else {{
    {self.wait_single(k)}
{self._indent(loop, 4)}
}}"""
        return (f"{{ /* update {g.name} */\n{self._indent(chr(10).join(head), 4)}\n"
                f"{self._indent(loop, 4)}\n}}")

    def threshold(self, k: ir.Kernel) -> str:
        g = self.groups[k.target]
        G = self.g(g.name)
        if k.cond is None:
            return f"{G}.nspikes = 0;" + self.rank_exchange(k.exchange)
        ctx = self.ctx(g, k.span)
        rng = self.keyed(k.cond, ctx, "_i", indent="    ")
        # the group's arrays through local restrict pointers, as in state_update
        own = {n.name for n in ir.walk(k.cond) if isinstance(n, ir.Var) and n.group == g.name
               and n.at == "self"}
        if k.refractory is not None:
            own |= {"not_refractory", "lastspike"}
        head = []
        for name in sorted(own):
            v = g.var(name)
            if v is None or v.shared or v.index != "element":
                continue
            ctx.arrays[(g.name, name)] = f"_a_{name}"
            head.append(f"{self.ctype(v)} *const restrict _a_{name} = {G}.{mangle('v', name)};")
        cond = quick = self.p.expr(k.cond, ctx)
        if k.refractory is not None:
            nr = self.p.var(ir.Var(g.name, "not_refractory", dtype="b"), ctx)
            last = self.p.var(ir.Var(g.name, "lastspike"), ctx)
            quick = f"(({cond}) != 0) & ({nr} != 0)"
            cond = f"({cond}) && {nr}"
            fire = ["spikes[n++] = (int32_t)_i;", f"{nr} = 0;", f"{last} = _t;"]
        else:
            quick = f"({cond}) != 0"
            fire = ["spikes[n++] = (int32_t)_i;"]
        def scan(lo: str, hi: str) -> str:
            return f"""for (int64_t _i = {lo}; _i < {hi}; _i++) {{
{rng}    if ({cond}) {{
{self._indent(chr(10).join(fire), 8)}
    }}
}}"""

        def test(lo: str, hi: str) -> str:
            if any(isinstance(n, (ir.Rand, ir.DataAt)) for n in ir.walk(k.cond)):
                return scan(lo, hi)
            # a condition that neither draws nor reads data is evaluated twice: for
            # a block of 16 elements at once (a loop that vectorizes, without
            # branches: `&`; 16 a constant, so that the compiler unrolls it whole),
            # and element by element only in the rare block where some element passes
            return f"""for (int64_t _b = {lo}; _b < {hi}; _b += 16) {{
    const int64_t _e = {hi} - _b < 16 ? {hi} : _b + 16;
    int _any = 0;
    if (_e - _b == 16) {{
        for (int64_t _q = 0; _q < 16; _q++) {{
            const int64_t _i = _b + _q;
            _any |= {quick};
        }}
    }} else {{
        for (int64_t _i = _b; _i < _e; _i++)
            _any |= {quick};
    }}
    if (!_any) continue;
{self._indent(scan("_b", "_e"), 4)}
}}"""

        listed, counted = ir.event_list(k.event)
        found = self.spike_list(G, test, k.share, "SNN_THRESHOLD_WORK", k.ranks, counted)
        what = "threshold" if k.event == "spike" else f"event {k.event}"
        return f"""{{ /* {what} of {g.name} */
{self._indent(chr(10).join(head), 4)}
    int32_t *const restrict spikes = {G}.{listed};
    const int64_t _n = {G}.n;
{self._indent(found, 4)}
}}""" + self.rank_exchange(k.exchange)

    @staticmethod
    def wait_barrier(k) -> str:
        """The end of a shared loop: a barrier, unless the threads need not wait
        there (passes/share_work.waits)."""
        return "SNN_OMP(omp barrier)" if k.wait else "/* no barrier: what follows touches nothing it wrote */"

    @staticmethod
    def wait_single(k) -> str:
        return "SNN_OMP(omp single)" if k.wait else "SNN_OMP(omp single nowait)"

    def element_parts(self, loop, k, n: str, first: str = "0") -> str:
        """`loop(lo, hi)` over the elements [first, first + n): shared by
        elements (kernel `k`'s share), each thread runs its part, then waits for
        the others (where `k.wait`)."""
        at = "" if first == "0" else f"{first} + "
        whole = loop(first, f"{at}{n}")
        if k.share != "elements":
            return whole
        return f"""if (snn_team_size() > 1 && {n} >= SNN_UPDATE_WORK * sim->parallel_min) {{
    const int _me = snn_team_member(), _size = snn_team_size();
    const int64_t _lo = {at}snn_part_start({n}, _me, _size), _hi = {at}snn_part_start({n}, _me + 1, _size);
{self._indent(loop("_lo", "_hi"), 4)}
    {self.wait_barrier(k)}
}} else {{
    {self.wait_single(k)}
{self._indent(whole, 4)}
}}"""

    def rank_exchange(self, groups: tuple[str, ...]) -> str:
        """After the groups' spikes were listed by each rank for its block: one
        exchange makes every list whole (passes/distribute.py: `exchange`)."""
        if not groups:
            return ""
        # an entry is a group (its spikes) or GROUP.EVENT (a custom event's list)
        ends = [(name.partition(".")[0], ir.event_list(name.partition(".")[2] or "spike")) for name in groups]
        lists = ", ".join(f"{self.g(name)}.{listed}" for name, (listed, _) in ends)
        counts = ", ".join(f"&{self.g(name)}.{counted}" for name, (_, counted) in ends)
        return f"""\n{{ /* every rank the whole spike lists of {", ".join(groups)} */
    int32_t *const _lists[] = {{{lists}}};
    int64_t *const _counts[] = {{{counts}}};
    if (snn_rank_spikes({len(groups)}, _lists, _counts, sim->ranks, sim->err, sizeof sim->err)) {{ sim->failed = 1; return; }}
}}"""

    def spike_list(self, G: str, test, share: str, work: str, ranks: str = "", counted: str = "nspikes") -> str:
        """The spikes of the elements [0, _n) of group `G` into `spikes`:
        `test(lo, hi)` is the loop that appends the spiking elements of [lo, hi)
        at `spikes[n++]`. Shared by elements, each thread lists the spikes of
        its part where that part starts in `spikes` (it has room: a part has no
        more spikes than elements), then one thread joins the lists in the
        order of the parts: the order of one thread's list."""
        found = f"""{{
    int64_t n = 0;
{self._indent(test("0", "_n"), 4)}
    {G}.{counted} = n;
}}"""
        if ranks == "block":
            # each rank its block; the kernel's `exchange` then makes the lists whole
            first, end = self.rank_block("_n")
            return f"""{{
    int64_t n = 0;
{self._indent(test(first, end), 4)}
    {G}.{counted} = n;
}}"""
        if share != "elements":
            return found
        return f"""if (snn_team_size() > 1 && _n >= {work} * sim->parallel_min) {{
    const int _k = snn_team_member(), _size = snn_team_size();
    const int64_t _lo = snn_part_start(_n, _k, _size), _hi = snn_part_start(_n, _k + 1, _size);
    int64_t n = _lo;
{self._indent(test("_lo", "_hi"), 4)}
    sim->part_count[_k] = n - _lo;
    SNN_OMP(omp barrier)
    SNN_OMP(omp single)
    {{
        n = 0;
        for (int _p = 0; _p < _size; _p++) {{
            memmove(spikes + n, spikes + snn_part_start(_n, _p, _size), (size_t)sim->part_count[_p] * sizeof *spikes);
            n += sim->part_count[_p];
        }}
        {G}.{counted} = n;
    }}
}} else {{
    SNN_OMP(omp single)
{self._indent(found, 4)}
}}"""

    def _active(self, mon: ir.Monitor) -> str:
        if not mon.during:
            return "1"
        names = [p.name for p in self.m.phases]
        return " || ".join(f"sim->phase == {names.index(n)}" for n in mon.during)

    def record_state(self, k: ir.Kernel) -> str:
        mon = self.monitor(k)
        g = self.groups[mon.group]
        var = self.monitored_var(mon)
        M = f"sim->{mangle('m', mon.name)}"
        ctype = self.ctype(var)
        src = f"{self.g(g.name)}.{mangle('v', var.name)}"
        lo = mon.lo
        count = self.range_count(g.name, lo, mon.hi)
        if mon.expr is not None:  # a subexpression: evaluated for each element of the range
            ctx = self.ctx(g, mon.span)
            var_i, value = ctx.self_index, self.p.expr(mon.expr, ctx)
            copy = (f"{ctype} *out = ({ctype} *){M}_v.data + {M}_v.len;\n"
                    f"    {self.each(g, value, str(lo), f'{lo} + n')}"
                    f"        out[{var_i} - {lo}] = ({ctype})({value});\n"
                    f"    }}\n"
                    f"    {M}_v.len += (size_t)n;")
        elif var.shared:
            copy = f"((({ctype} *){M}_v.data)[{M}_v.len++]) = {src};"
            count = "1"
        else:
            copy = (f"memcpy(({ctype} *){M}_v.data + {M}_v.len, {src} + {lo}, (size_t)n * sizeof({ctype}));\n"
                    f"    {M}_v.len += (size_t)n;")
        every_dt = c_number(mon.every * self.m.dt if mon.every_dt is None else mon.every_dt, "f")
        # a variable recorded as it is: only its range need be whole
        ranges = {} if mon.expr is not None or var.shared else {(g.name, var.name): (str(lo), count)}
        sync = self._indent(self.rank_sync(k.gather, ranges=ranges), 4) + "\n" if k.gather else ""
        return f"""if (_step % {mon.every} == 0 && ({self._active(mon)})) {{
{sync}    const int64_t n = {count};
    if (snn_buf_reserve(&{M}_t, 1) || snn_buf_reserve(&{M}_v, (size_t)n)) {{ snn_fail(sim, "out of memory in monitor {mon.name}"); return; }}
    ((double *){M}_t.data)[{M}_t.len++] = (double)(_step / {mon.every}) * {every_dt};
    {copy}
}}"""

    def record_spikes(self, k: ir.Kernel) -> str:
        mon = self.monitor(k)
        G = self.g(mon.group)
        M = f"sim->{mangle('m', mon.name)}"
        listed, counted = ir.event_list(mon.event)  # the spikes, or a custom event's list
        store = f"""((int32_t *){M}_i.data)[{M}_i.len++] = {G}.{listed}[k];
        ((double *){M}_t.data)[{M}_t.len++] = _t;"""
        if mon.hi is not None:  # a subgroup's spikes, numbered within it
            store = f"""if ({G}.{listed}[k] < {mon.lo} || {G}.{listed}[k] >= {mon.hi}) continue;
        ((int32_t *){M}_i.data)[{M}_i.len++] = {G}.{listed}[k] - {mon.lo};
        ((double *){M}_t.data)[{M}_t.len++] = _t;"""
        reserve = f"snn_buf_reserve(&{M}_i, (size_t){G}.{counted}) || snn_buf_reserve(&{M}_t, (size_t){G}.{counted})"
        g = self.groups[mon.group]
        for name, _ in mon.recorded:  # the values at the spike: after the threshold, before the reset
            v = g.var(name)
            value = f"{G}.{mangle('v', name)}" + ("" if v.shared else f"[{G}.{listed}[k]]")
            store += f"\n        (({self.ctype(v)} *){M}_rec_{name}.data)[{M}_rec_{name}.len++] = {value};"
            reserve += f" || snn_buf_reserve(&{M}_rec_{name}, (size_t){G}.{counted})"
        sync = self._indent(self.rank_sync(k.gather), 4) + "\n" if k.gather else ""
        return f"""if ({G}.{counted} > 0 && ({self._active(mon)})) {{
{sync}    if ({reserve}) {{ snn_fail(sim, "out of memory in monitor {mon.name}"); return; }}
    for (int64_t k = 0; k < {G}.{counted}; k++) {{
        {store}
    }}
}}"""

    def record_rate(self, k: ir.Kernel) -> str:
        mon = self.monitor(k)
        G = self.g(mon.group)
        M = f"sim->{mangle('m', mon.name)}"
        count, prelude = f"(double){G}.nspikes / (double){G}.n", ""
        if mon.hi is not None:  # a subgroup's: the spikes of its neurons over its size
            prelude = (f"    int64_t _in = 0;\n    for (int64_t k = 0; k < {G}.nspikes; k++) "
                       f"_in += {G}.spikes[k] >= {mon.lo} && {G}.spikes[k] < {mon.hi};\n")
            count = f"(double)_in / (double){mon.hi - mon.lo}"
        return f"""if ({self._active(mon)}) {{
    if (snn_buf_reserve(&{M}_t, 1) || snn_buf_reserve(&{M}_r, 1)) {{ snn_fail(sim, "out of memory in monitor {mon.name}"); return; }}
{prelude}    ((double *){M}_t.data)[{M}_t.len++] = _t;
    ((double *){M}_r.data)[{M}_r.len++] = {count} / {self.dt(mon.group)};
}}"""

    def poisson_skips(self, g: ir.Group) -> bool:
        """passes/decide.py chose: each source draws the step of its next spike."""
        return g.sampling == "skip ahead"

    def poisson(self, k: ir.Kernel) -> str:
        g = self.groups[k.target]
        G = self.g(g.name)
        ctx = self.ctx(g, k.span)
        if k.sampling == "skip ahead":
            # in ascending order, each drawing its next spike: the order of
            # a scan of all sources, at the cost of those due
            return f"""{{ /* {g.name}: the sources whose next spike is now, from its calendar */
    int64_t *const restrict next = {G}.next_spike;
    const double *const restrict p = {G}.p_spike;
    int32_t *const restrict spikes = {G}.spikes;
    const int64_t n = snn_calendar_due(&{G}.calendar, _step, next, spikes);
    for (int64_t k = 0; k < n; k++) {{
        const int32_t _i = spikes[k];
{self._indent(self.keyed_at(k.stream, "_i"), 8)}
        next[_i] = _step + 1 + snn_ctr_geometric(&_r, p[_i]);
        if (snn_calendar_add(&{G}.calendar, _i, next[_i], sim->err, sizeof sim->err)) {{ sim->failed = 1; return; }}
    }}
    {G}.nspikes = n;
}}"""
        rate = self.p.expr(k.rate, ctx)

        def test(lo: str, hi: str) -> str:
            return f"""for (int64_t _i = {lo}; _i < {hi}; _i++) {{
{self._indent(self.keyed_at(k.stream, "_i"), 4)}
    if (snn_ctr_uniform(&_r) < ({rate}) * {self.dt(g.name)})
        spikes[n++] = (int32_t)_i;
}}"""
        return f"""{{ /* {g.name}: a uniform number per source */
    int32_t *const restrict spikes = {G}.spikes;
    const int64_t _n = {G}.n;
{self._indent(self.spike_list(G, test, k.share, "SNN_THRESHOLD_WORK", k.ranks), 4)}
}}""" + self.rank_exchange(k.exchange)

    def pathway(self, k: ir.Kernel) -> str:
        """For each spike of the pre (post) neurons: the per-neuron trace
        updates once, then the event code for each of its synapses. `on pre`
        sees the spikes whose delay ends in this step."""
        g, event = self.groups[k.target], k.event
        S = self.g(g.name)
        steps, size, ring, ring_n = (storage.pathway_field(k.pathway, x)
                                     for x in ("delay_steps", "ring_size", "ring", "ring_n"))
        name = f"{g.name} (pathway {k.pathway})" if k.pathway else g.name
        src = self.g(g.source if event == "pre" else g.target)
        listed, counted = (f"{src}.{f}" for f in ir.event_list(k.on))  # the spikes, or a custom event's list
        body, once = k.body, k.once
        ctx = self.ctx(g, k.span)
        ctx.guard_refractory = ctx.guard_frozen = True
        locals_ = self.local_storage((body, once, k.advance), ctx)
        for v in g.vars:  # each synapse reads element 0 where all hold one value (passes/uniform_reads.py)
            if v.uniform_check and (g.name, v.name) in ctx.arrays:
                factor = ctx.uniform[(g.name, v.name)] = f"_u{len(ctx.uniform)}"
                locals_ += (f"    const int64_t {factor} = {S}.{mangle('uniform', v.name)}; (void){factor};"
                            f"  /* {g.name}.{v.name} */\n")
        me, other = ("_i", "_j") if event == "pre" else ("_j", "_i")
        # each synapse's draws, and each spike's, from generators of their own
        body_rng = self.keyed(body, ctx, "_s", indent="        ")
        once_rng = self.keyed(once, ctx, me, streams.ONCE, indent="    ")
        code = body_rng + self.p.stmts(body, ctx, "        ")
        if k.delay == "heterogeneous":
            return f"""for (int64_t k = 0; k < {counted}; k++) {{ /* {name}: queue each synapse's spike */
    const int64_t _i = {listed}[k];
    for (int64_t _p = {S}.pre_start[_i]; _p < {S}.pre_start[_i + 1]; _p++) {{
        const int64_t _s = {self.synapse_at(g, "pre", "_p")};
        snn_buf *slot = &{S}.{ring}[(_step + {S}.{steps}[_s]) & ({S}.{size} - 1)];
        if (slot->len == slot->cap && snn_buf_reserve(slot, 1)) {{
            snn_fail(sim, "out of memory in the spike queue of {g.name}");
            return;
        }}
        ((int32_t *)slot->data)[slot->len++] = (int32_t)_s;
    }}
}}
{{ /* on pre of {name}: the spikes arriving now */
{locals_}    snn_buf *slot = &{S}.{ring}[_step & ({S}.{size} - 1)];
    for (size_t k = 0; k < slot->len; k++) {{
        const int64_t _s = ((const int32_t *)slot->data)[k];
        const int64_t _i = {S}.pre[_s], _j = {S}.post[_s];
        (void)_i; (void)_j;
{code}
    }}
    slot->len = 0;
}}"""
        spikes, count, prelude = listed, counted, ""
        if k.delay == "homogeneous":
            prelude = f"""{{ /* {name}: remember this step's spikes for the delay */
    const int64_t slot = _step & ({S}.{size} - 1);
    memcpy({S}.{ring} + slot * {src}.n, {listed}, (size_t){counted} * sizeof(int32_t));
    {S}.{ring_n}[slot] = {counted};
}}
"""
            arrival = f"((_step - {S}.{steps}) & ({S}.{size} - 1))"
            spikes = f"({S}.{ring} + {arrival} * {src}.n)"
            count = f"(_step >= {S}.{steps} ? {S}.{ring_n}[{arrival}] : 0)"
        head = ""
        if once:
            head = once_rng + self.p.stmts(once, ctx, "    ") + "\n"
        # in presynaptic order, the presynaptic index list is the identity and is skipped
        syn = self.synapse_at(g, event, "_p")
        far_ends = self.other_end(g, event)
        # (whether it advances traces, its code): the loops over each spike's synapses
        parts = [(advances, text) for advances, part, text in (
            (True, () if k.advance_all else k.advance, self.p.stmts(k.advance, ctx, "        ")),
            (False, body, code)) if part]
        if k.dense:  # connect: all -- each spike's synapses computed, its far end's neurons in order
            (pre0, pre1), (post0, post1) = self.pair_ranges(g)
            locals_ += (f"    const int64_t _pre0 = {pre0}, _pre1 = {pre1}, _post0 = {post0}, _post1 = {post1};"
                        f"  /* connect: all -- synapse (i, j) is (i - _pre0) * (_post1 - _post0) + j - _post0 */\n"
                        f"    const int64_t _row = _post1 - _post0;\n"
                        f"    (void)_pre0; (void)_pre1;\n")
        far0, far1 = ("_post0", "_post1") if event == "pre" else ("_pre0", "_pre1")
        near0, near1 = ("_pre0", "_pre1") if event == "pre" else ("_post0", "_post1")
        whole = (far0, far1) if k.dense else (f"{S}.{event}_start[{me}]", f"{S}.{event}_start[{me} + 1]")
        # between subgroups, a spike of the near group outside its subgroup has no synapses
        near_range = g.source_range if event == "pre" else g.target_range
        outside = f"    if ({me} < {near0} || {me} >= {near1}) continue;  /* outside the subgroup */\n" \
            if k.dense and near_range is not None else ""

        def advance_all(lo: str | None = None, hi: str | None = None) -> str:
            """With spikes this step, the advances for each far-end neuron in [lo, hi)
            and in the far end's range: every spike reaches them all."""
            if not k.advance_all:
                return ""
            first = far0 if lo is None else f"snn_imax({lo}, {far0})"
            end = far1 if hi is None else f"snn_imin({hi}, {far1})"
            any_ = "nspikes > 0"
            if near_range is not None:
                any_ = f"snn_any_within(spikes, nspikes, {near0}, {near1})"
            loop = f"""for (int64_t {other} = {first}; {other} < {end}; {other}++) {{
{self.p.stmts(k.advance, ctx, "    ")}
}}"""
            clocks = {s.clock for s in k.advance if isinstance(s, ir.Advance)}
            if len(clocks) == 1:  # all since one clock: a lookup each, where all are whole steps in the tables
                fast = dataclasses.replace(ctx, tabulated=True)
                clock = ctx.arrays[(g.name, clocks.pop())]
                loop = f"""if (snn_decays_tabulated({clock}, {first}, {end}, _t, sim->inv_dt)) {{
    {self.p.tabulated_locals()}
    for (int64_t {other} = {first}; {other} < {end}; {other}++) {{
{self.p.stmts(k.advance, fast, "        ")}
    }}
}} else {{
{self._indent(loop, 4)}
}}"""
            return f"""if ({any_}) {{ /* every spike reaches every far-end neuron: their traces to t, once */
{self._indent(loop, 4)}
}}
"""

        def synapse_loop(text: str, lo: str, hi: str, skip: str = "") -> str:
            """One loop of `text` over the synapses of spike `me`: those at _p in [lo,
            hi) of its list; dense (connect: all), those to its far end's neurons in
            [lo, hi), in order, each synapse's number computed."""
            if k.dense:
                return f"""    for (int64_t {other} = {lo}; {other} < {hi}; {other}++) {{
        const int64_t _s = (_i - _pre0) * _row + (_j - _post0);
        (void)_i; (void)_j; (void)_s;
{text}
    }}
"""
            return f"""    for (int64_t _p = {lo}; _p < {hi}; _p++) {{
        const int64_t _s = {syn};
        const int64_t {other} = {far_ends}[_p];
{skip}        (void)_i; (void)_j; (void)_s;
{text}
    }}
"""

        def synapse_loops(lo: str, hi: str, skip: str = "") -> str:
            """The advance and event loops over the synapses _p in [lo, hi) of spike `me`."""
            return "".join(synapse_loop(text, lo, hi, skip) for _, text in parts)

        def far_end_loop(lo: str, hi: str) -> str:
            """Every spike, for its synapses whose far end is in [lo, hi): found by
            binary search where each neuron's synapses list their far ends in
            order, else by a test per synapse; dense, all of them in [lo, hi)."""
            if k.dense:
                return f"""const int64_t _lo = snn_imax({lo}, {far0}), _hi = snn_imin({hi}, {far1});
for (int64_t k = 0; k < nspikes; k++) {{
    const int64_t {me} = spikes[k];
{outside}{synapse_loops("_lo", "_hi").rstrip()}
}}"""
            within = synapse_loops("_p0", "_p1", f"        if (!_sorted && ({other} < _lo || {other} >= _hi)) continue;\n")
            return f"""const int64_t _lo = {lo}, _hi = {hi};
const int _sorted = {S}.{event}_sorted != 0;
for (int64_t k = 0; k < nspikes; k++) {{
    const int64_t {me} = spikes[k];
    int64_t _p0 = {S}.{event}_start[{me}], _p1 = {S}.{event}_start[{me} + 1];
    if (_sorted) {{
        _p0 = snn_lower_bound({far_ends}, _p0, _p1, _lo);
        _p1 = snn_lower_bound({far_ends}, _p0, _p1, _hi);
    }}
{within.rstrip()}
}}"""

        loop = synapse_loops(*whole)
        events = f"""for (int64_t k = 0; k < nspikes; k++) {{
    const int64_t {me} = spikes[k];
{head}{outside}{loop}}}"""
        if k.advance_all:  # one statement, which an `omp single` may take whole
            events = f"{{\n{self._indent(advance_all() + events, 4)}\n}}"
        if k.ranks == "far":
            # every rank goes through every spike, for the synapses it owns: those whose
            # postsynaptic neuron is in its block; what runs once per spike runs on every rank
            once_all = f"""for (int64_t k = 0; k < nspikes; k++) {{
    const int64_t {me} = spikes[k];
{head}}}
""" if once else ""
            block = self.rank_block(f"{self.g(g.target)}.n")
            events = advance_all(*block) + once_all + far_end_loop(*block)
        elif k.ranks in ("near", "near+advance"):
            # each rank the spikes of its own neurons, whose synapses are its own; with
            # 'near+advance', every rank brings the presynaptic traces of every spike's
            # synapses to now, so that they stay the same on every rank
            first, end = self.rank_block(f"{src}.n")
            every = k.ranks == "near+advance"
            pieces = []
            for advances, text in parts:
                loop_text = synapse_loop(text, *whole)
                mine_only = every and not advances
                pieces.append(f"    if (_mine) {{\n{self._indent(loop_text, 4)}\n    }}\n" if mine_only else loop_text)
            if head and every:
                head = f"    if (_mine) {{\n{self._indent(head, 4)}\n    }}\n"
            skip = "" if every else "    if (!_mine) continue;  /* another rank's neuron */\n"
            events = f"""{advance_all()}for (int64_t k = 0; k < nspikes; k++) {{
    const int64_t {me} = spikes[k];
    const int _mine = {me} >= {first} && {me} < {end};
    (void)_mine;
{skip}{head}{outside}{"".join(pieces)}}}"""
        elif k.share == "far end" and not self.m.ranks:
            far = self.g(g.target if event == "pre" else g.source)
            # every thread goes through every spike, for the synapses whose far end
            # is in its part; what runs once per spike runs first
            single = "omp single nowait" if k.once_aside else "omp single"
            first = self._indent(f"""SNN_OMP({single})
for (int64_t k = 0; k < nspikes; k++) {{
    const int64_t {me} = spikes[k];
{head}}}""", 4) + "\n" if once else ""
            mine = (f"snn_part_start({far}.n, _k, _size)", f"snn_part_start({far}.n, _k + 1, _size)")
            part = advance_all(*mine) + far_end_loop(*mine)
            events = f"""if (snn_team_size() > 1 && (double)nspikes * (double){S}.n >= (double)sim->parallel_min * (double){src}.n) {{
{first}    const int _k = snn_team_member(), _size = snn_team_size();
{self._indent(part, 4)}
    {self.wait_barrier(k)}
}} else {{
    {self.wait_single(k)}
{self._indent(events, 4)}
}}"""
            if prelude:
                prelude = "SNN_OMP(omp single)\n" + prelude
        return f"""{prelude}{{ /* on {event} of {g.name} */
{locals_}    const int32_t *spikes = {spikes};
    const int64_t nspikes = {count};
{self._indent(events, 4)}
}}"""

    def local_storage(self, code, ctx: Context) -> str:
        """Declarations that let the compiler keep a hot loop in registers:
        a local `restrict` pointer to each array `code` touches (a store to
        one then cannot force reloads of the others), and a local copy of
        each shared variable it reads but never writes (W_max, say, which a
        store to w could otherwise have changed). They go into `ctx`, so
        that every access in the block goes through them."""
        arrays, written = set(), set()
        for n in ir.walk(code):
            if isinstance(n, ir.Var):
                arrays.add((n.group, n.name))
            elif isinstance(n, ir.Advance):
                arrays |= {(n.group, name) for name in (*n.vars, n.clock)}
                written |= {(n.group, name) for name in (*n.vars, n.clock)}
            if isinstance(n, ir.Assign):
                written.add((n.target.group, n.target.name))
        lines = []
        for group, name in sorted(arrays):
            v = self.groups[group].var(name)
            member = f"{self.g(group)}.{mangle('v', name)}"
            local = f"_a{len(ctx.arrays) + len(ctx.scalars)}"
            if v is None:
                continue
            if not v.shared:
                ctx.arrays[(group, name)] = local
                decl = f"{self.ctype(v)} *const restrict {local} = {member};"
            elif (group, name) not in written:
                ctx.scalars[(group, name)] = local
                decl = f"const {self.ctype(v)} {local} = {member};"
            else:
                continue
            # (void): unused where a phase's step drops the code that reads it
            lines.append(f"{decl} (void){local};  /* {group}.{name} */")
        return "".join(f"    {line}\n" for line in lines)

    # ---- the protocol --------------------------------------------------------------
    def protocol(self) -> tuple[str, ...]:
        """The body of each phase's function (model.c.j2: snn_phase_K)."""
        return tuple(f"snn_phase_begin(sim, {k});\n{self.pstmts(phase.body, '')}\nsnn_phase_end(sim, {k});"
                     for k, phase in enumerate(self.m.phases))

    def pstmts(self, body, indent: str) -> str:
        return "\n".join(self.pstmt(s, indent) for s in body)

    def scalar(self, e: ir.Expr, span) -> tuple[str, str]:
        """(setup code, C expression) for a scalar protocol expression."""
        pre, reductions = self.hoist(e, span)
        return pre, self.p.expr(e, Context(site=_site(span), reductions=reductions))

    def pstmt(self, s: ir.Stmt, indent: str) -> str:
        text = self._pstmt(s)
        return "\n".join(indent + line if line else line for line in text.split("\n"))

    def _pstmt(self, s: ir.Stmt) -> str:
        if isinstance(s, ir.Run):
            pre, d = self.scalar(s.duration, s.span)
            step = self.step_names[frozenset(s.frozen)]
            return f"{pre}if (snn_run_for(sim, {d}, {c_string(_site(s.span))}, {step})) return -1;"
        if isinstance(s, ir.SetLocal):
            pre, v = self.scalar(s.value, s.span)
            return f"{pre}sim->{mangle('l', s.name)} = {v};"
        if isinstance(s, ir.For):
            pre1, a = self.scalar(s.start, s.span)
            pre2, b = self.scalar(s.stop, s.span)
            L = f"sim->{mangle('l', s.var)}"
            body = self.pstmts(s.body, "    ")
            return (f"{pre1}{pre2}{{\n    const int64_t _stop = {b};\n"
                    f"    for ({L} = {a}; {L} < _stop; {L}++) {{\n{self._indent(body, 4)}\n    }}\n}}")
        if isinstance(s, ir.While):
            pre, c = self.scalar(s.cond, s.span)
            body = self.pstmts(s.body, "    ")
            return (f"for (;;) {{\n{self._indent(pre, 4)}    if (!({c})) break;\n{self._indent(body, 4)}\n"
                    f"    if (snn_interrupted(sim)) return -1;\n}}")
        if isinstance(s, ir.If):
            pre, c = self.scalar(s.cond, s.span)
            then = self.pstmts(s.body, "    ")
            text = f"{pre}if ({c}) {{\n{self._indent(then, 4)}\n}}"
            if s.orelse:
                text += f" else {{\n{self._indent(self.pstmts(s.orelse, '    '), 4)}\n}}"
            return text
        if isinstance(s, ir.GroupAssign):
            return self.group_assign(s)
        if isinstance(s, ir.SaveVar):
            return self.save(s)
        if isinstance(s, ir.Freeze):
            return self.freeze(s)
        if isinstance(s, ir.StoreState):
            return f"if (snn_store_state(sim, &sim->{mangle('st', s.name)})) return -1;"
        if isinstance(s, ir.RestoreState):
            return (f"if (snn_sim_load_state(sim, {c_string(s.path)})) return -1;\n"
                    "sim->phase_start[sim->phase] = sim->t_net;  /* the phase begins where the snapshot ends */")
        raise InternalError(f"unknown protocol statement {s!r}")

    @staticmethod
    def _indent(text: str, n: int) -> str:
        pad = " " * n
        return "\n".join(pad + line if line.strip() else line for line in text.split("\n")).rstrip("\n") \
            if text else ""

    def group_assign(self, s: ir.GroupAssign) -> str:
        g = self.groups[s.group]
        pre, reductions = self.hoist((s.value, s.where, s.lo, s.hi), s.span)
        if s.target.at == "shared":
            value = self.p.expr(s.value, Context(site=_site(s.span), reductions=reductions))
            if s.target.dtype == "i":
                value = f"snn_to_i32({value})" if s.value.dtype == "f" else f"(int32_t)({value})"
            return (f"{{ /* {g.name}.{s.target.name} */\n{self._indent(pre, 4)}"
                    f"    {self.p.var(s.target, Context())} = {value};\n{self._free_reductions(reductions)}}}")
        lo = self.p.expr(s.lo, Context()) if s.lo is not None else None
        hi = self.p.expr(s.hi, Context()) if s.hi is not None else None
        if lo is not None:
            lo = f"snn_imax(0, {lo})"
        loop = self.element_loop(g, (ir.Assign(s.target, s.value, s.span),), s.span,
                                 f"{g.name}.{s.target.name} = ...", s.where, lo, hi, reductions, guard=True)
        return f"{{\n{self._indent(pre, 4)}\n{self._indent(loop, 4)}\n{self._free_reductions(reductions)}}}"

    def data_checks(self, exprs, g: ir.Group, site: str) -> str:
        """A bare data name is read element by element: its length must match."""
        names = sorted({n.name for n in ir.walk(exprs) if isinstance(n, ir.DataAt)
                        and len(n.indices) == 1 and isinstance(n.indices[0], ir.Special)
                        and n.indices[0].name == "elem"})
        return "".join(f"if (snn_check_length(sim, &sim->{mangle('d', d)}, {c_string(d)}, {self.g(g.name)}.n, "
                       f"{c_string(g.name)}, {site})) return -1;\n" for d in names)

    def hoist(self, exprs, span) -> tuple[str, dict]:
        """Compute every reduction in `exprs` first; returns (code, map to C names)."""
        found: list[ir.Reduce] = []
        for n in ir.walk(exprs):
            if isinstance(n, ir.Reduce) and n not in found:
                found.append(n)
        code, names = [], {}
        for r in found:
            self.tmp += 1
            name = f"_r{self.tmp}"
            g = self.groups[r.group]
            ctx = self.ctx(g, span)
            value = self.p.expr(r.expr, ctx)
            G = self.g(g.name)
            stop = f"{G}.n" if r.hi is None else f"snn_imin({r.hi}, {G}.n)"
            key = {"sum_pre": "_i", "sum_post": "_j"}.get(r.kind, "")
            loop_head = (f"    const double _t = sim->step * sim->dt;\n    (void)_t;\n"
                         f"    {self.each(g, f'{value} {key}', str(r.lo), stop)}")
            checks = self.data_checks(r.expr, g, c_string(_site(span)))
            if r.kind in ("sum_pre", "sum_post"):
                end = self.g(g.source if r.kind == "sum_pre" else g.target)
                key = "_i" if r.kind == "sum_pre" else "_j"
                code.append(f"{checks}double *{name} = snn_alloc(sim, {end}.n, sizeof(double));\n"
                            f"if (sim->failed) return -1;\n{{\n{loop_head}"
                            f"        {name}[{key}] += {value};\n    }}\n}}\n")
                names[r] = f"{name}[{key}]"
                continue
            init = {"sum": "0.0", "mean": "0.0", "count": "0", "min": "INFINITY", "max": "-INFINITY"}[r.kind]
            ctype = "int64_t" if r.kind == "count" else "double"
            update = {"sum": f"{name} += {value};", "mean": f"{name} += {value};",
                      "count": f"if ({value}) {name}++;",
                      "min": f"{name} = fmin({name}, {value});",
                      "max": f"{name} = fmax({name}, {value});"}[r.kind]
            tail = f"{name} /= (double){self.range_count(g.name, r.lo, r.hi)};\n" if r.kind == "mean" else ""
            code.append(f"{checks}{ctype} {name} = {init};\n{{\n{loop_head}        {update}\n    }}\n}}\n{tail}")
            names[r] = name
        return "".join(code), names

    @staticmethod
    def _free_reductions(reductions: dict) -> str:
        return "".join(f"    free({c.split('[')[0]});\n" for c in reductions.values() if "[" in c)

    def freeze(self, s: ir.Freeze) -> str:
        g = self.groups[s.group]
        var = g.var(s.var)
        G = self.g(g.name)
        flag = "1" if s.frozen else "0"
        word = "freeze" if s.frozen else "unfreeze"
        if var.shared:
            return f"{G}.{mangle('frozen', var.name)} = {flag}; /* {word} {g.name}.{var.name} */"
        pre, reductions = self.hoist((s.where, s.lo, s.hi), s.span)
        ctx = self.ctx(g, s.span, reductions)
        mask = self.p.frozen_mask(ir.Var(g.name, var.name), ctx)
        cond = f"        if (!({self.p.expr(s.where, ctx)})) continue;\n" if s.where is not None else ""
        lo = f"snn_imax(0, {self.p.expr(s.lo, Context())})" if s.lo is not None else "0"
        hi = f"snn_imin({self.p.expr(s.hi, Context())}, {G}.n)" if s.hi is not None else f"{G}.n"
        checks = self.data_checks(s.where, g, c_string(_site(s.span)))
        return (f"{{ /* {word} {g.name}.{var.name} */\n{self._indent(checks + pre, 4)}\n"
                f"    const double _t = sim->step * sim->dt;\n    (void)_t;\n"
                f"    {self.each(g, cond + mask, lo, hi)}{cond}"
                f"        {mask} = {flag};\n    }}\n{self._free_reductions(reductions)}}}\n"
                "if (sim->failed) return -1;")

    def save(self, s: ir.SaveVar) -> str:
        d = next(x for x in self.m.saves if x.name == s.save)
        g = self.groups[d.group]
        var = self.saved_var(d)
        S = f"sim->{mangle('s', d.name)}"
        if d.expr is not None:
            return self.save_expression(d, g)
        src = f"{self.g(g.name)}.{mangle('v', var.name)}"
        ctype = self.ctype(var)
        n = "1" if var.shared else self.range_count(d.group, d.lo, d.hi)
        data = f"&{src}" if var.shared else (f"{src} + {d.lo}" if d.lo else src)
        reset = "" if d.rows else f"{S}.len = 0;\n    {S}_rows = 0;\n    "
        return f"""{{ /* save {g.name}.{var.name} as {d.name} */
    const size_t n = (size_t){n};
    {reset}if (snn_buf_reserve(&{S}, n)) return snn_fail(sim, "out of memory saving {d.name}");
    memcpy(({ctype} *){S}.data + {S}.len, {data}, n * sizeof({ctype}));
    {S}.len += n;
    {S}_rows++;
}}"""

    def range_count(self, group: str, lo: int, hi: int | None) -> str:
        """How many of a group's elements lo to hi (None: to its end) there
        are: a subgroup's, a monitor's selection, or the whole group's n."""
        n = f"{self.g(group)}.n"
        if hi is None:
            return f"({n} - {lo})" if lo else n
        return f"(snn_imin({hi}, {n}) - {lo})"

    def save_expression(self, d: ir.SaveDef, g: ir.Group) -> str:
        """A subexpression saved: evaluated for every element into the buffer."""
        S = f"sim->{mangle('s', d.name)}"
        ctype = self.ctype(self.saved_var(d))
        ctx = self.ctx(g, d.span)
        value, var_i = self.p.expr(d.expr, ctx), ctx.self_index
        reset = "" if d.rows else f"{S}.len = 0;\n    {S}_rows = 0;\n    "
        checks = self.data_checks(d.expr, g, c_string(_site(d.span)))
        return f"""{checks}{{ /* save {g.name}.{d.var} (a subexpression) as {d.name} */
    const size_t n = (size_t){self.range_count(d.group, d.lo, d.hi)};
    {reset}if (snn_buf_reserve(&{S}, n)) return snn_fail(sim, "out of memory saving {d.name}");
    {ctype} *out = ({ctype} *){S}.data + {S}.len;
    const double _t = sim->step * sim->dt;
    (void)_t;
    {self.each(g, value, str(d.lo), f"{d.lo} + (int64_t)n")}        out[{var_i} - {d.lo}] = ({ctype})({value});
    }}
    {S}.len += n;
    {S}_rows++;
}}
if (sim->failed) return -1;"""

    # ---- results ----------------------------------------------------------------------
    def arrays(self) -> tuple[CArray, ...]:
        out = []
        for mon in self.m.monitors:
            M = f"sim->{mangle('m', mon.name)}"
            if mon.kind == "state":
                g = self.groups[mon.group]
                var = self.monitored_var(mon)
                width = "1" if var.shared else f"(size_t){self.range_count(g.name, mon.lo, mon.hi)}"
                out.append(CArray(f"{mon.name}.t.npy", "<f8", f"{M}_t.data", (f"{M}_t.len",)))
                out.append(CArray(f"{mon.name}.values.npy", self.descr(var), f"{M}_v.data",
                                  (f"{M}_t.len", width)))
            elif mon.kind == "spikes":
                out.append(CArray(f"{mon.name}.i.npy", "<i4", f"{M}_i.data", (f"{M}_i.len",)))
                out.append(CArray(f"{mon.name}.t.npy", "<f8", f"{M}_t.data", (f"{M}_t.len",)))
                for name, _ in mon.recorded:
                    var = self.groups[mon.group].var(name)
                    out.append(CArray(f"{mon.name}.{name}.npy", self.descr(var), f"{M}_rec_{name}.data",
                                      (f"{M}_rec_{name}.len",)))
            else:
                out.append(CArray(f"{mon.name}.t.npy", "<f8", f"{M}_t.data", (f"{M}_t.len",)))
                out.append(CArray(f"{mon.name}.rate.npy", "<f8", f"{M}_r.data", (f"{M}_r.len",)))
        for name in self.m.states:
            B = f"sim->{mangle('st', name)}"
            out.append(CArray(f"{name}.state", "raw", f"{B}.data", (f"{B}.len",)))
        for s in self.m.saves:
            S = f"sim->{mangle('s', s.name)}"
            g = self.groups[s.group]
            var = self.saved_var(s)
            width = "1" if var.shared else f"(size_t){self.range_count(s.group, s.lo, s.hi)}"
            shape = (f"(size_t){S}_rows", width) if s.rows else (f"{S}.len",)
            out.append(CArray(f"{s.name}.npy", self.descr(var), f"{S}.data", shape))
            if g.kind == "synapses" and not var.shared:
                n = f"(size_t){self.g(g.name)}.n"
                (i, make), j = self.synapse_ends(g)
                out.append(CArray(f"{s.name}.i.npy", "<i4", i, (n,), make))
                out.append(CArray(f"{s.name}.j.npy", "<i4", j, (n,)))
        return tuple(out)

    def synapse_ends(self, g: ir.Group) -> tuple[tuple[str, str], str]:
        """The arrays of each synapse's i and j as users see them: within the
        subgroups it joins (their own copies, made at connect), else the
        groups' indices the synapses store; `pre`, where it is not stored,
        made when first asked for (with the C that makes it)."""
        G = self.g(g.name)
        if g.source_range or g.target_range:
            return (f"{G}.i", ""), f"{G}.j"
        make = "" if g.stores_pre else (
            f"if (!{G}.pre && !({G}.pre = snn_rows_expand({G}.pre_start, {self.g(g.source)}.n)))\n"
            f"    return snn_fail(sim, \"out of memory listing the presynaptic neurons of {g.name}\");")
        return (f"{G}.pre", make), f"{G}.post"

    def variables(self) -> tuple[CArray, ...]:
        """Every group variable, for reading and writing between runs
        (snn_sim_var): "G.v", its storage, one value for a shared variable."""
        descr = {"double": "<f8", "float": "<f4", "int32_t": "<i4", "uint8_t": "|b1"}
        out = []
        for g in self.m.groups:
            G = self.g(g.name)
            for f in self.fields(g):
                if f.role != "variable":
                    continue
                data = f"{G}.{self.member(f)}" if f.count is not None else f"&{G}.{self.member(f)}"
                shape = (self.count(f.count),) if f.count is not None else ()
                out.append(CArray(f"{g.name}.{f.name}", descr[f.ctype], data, shape))
            if g.kind == "synapses":  # read only, from Python: each synapse's neurons
                (i, make), j = self.synapse_ends(g)
                out += [CArray(f"{g.name}.i", "<i4", i, (f"{G}.n",), make),
                        CArray(f"{g.name}.j", "<i4", j, (f"{G}.n",))]
                # read only, from Python: each pathway's delays in steps, one or one per synapse
                for pathway, kind in (("", g.delay_kind), *((p.name, p.delay_kind) for p in g.pathways)):
                    steps = storage.pathway_field(pathway, "delay_steps")
                    if kind == "homogeneous":
                        out.append(CArray(f"{g.name}.{steps}", "<i8", f"&{G}.{steps}", ()))
                    elif kind == "heterogeneous":
                        out.append(CArray(f"{g.name}.{steps}", "<i4", f"{G}.{steps}", (f"{G}.n",)))
        return tuple(out)

    def manifest(self) -> str:
        """C statements appending the manifest JSON to `sb`."""
        m = self.m
        lines: list[str] = []

        def lit(text: str) -> None:
            lines.append(f"snn_sb_printf(sb, \"%s\", {c_string(text)});")

        lit('{\n  "format": "snndsl-results/1",\n  "model": ' + json.dumps(m.name)
            + ',\n  "source_hash": ' + json.dumps(m.source_hash) + ',\n  "dt": ')
        lines.append("snn_sb_json_double(sb, sim->dt);")
        lit(',\n  "seed": ')
        lines.append("snn_sb_printf(sb, \"%llu\", (unsigned long long)sim->seed);")
        lit(',\n  "interrupted": ')
        lines.append("snn_sb_printf(sb, \"%s\", sim->interrupted ? \"true\" : \"false\");")
        lit(',\n  "params": {')
        for k, prm in enumerate(m.params):
            lit(("," if k else "") + "\n    " + json.dumps(prm.name) + ': {"value": ')
            lines.append(f"snn_sb_json_double(sb, sim->p.{mangle('p', prm.name)});")
            lit(', "unit": ' + json.dumps(prm.unit) + "}")
        lit("\n  },\n  \"phases\": [")
        for k, ph in enumerate(m.phases):
            lit(("," if k else "") + '\n    {"name": ' + json.dumps(ph.name) + ', "ran": ')
            lines.append(f"snn_sb_printf(sb, \"%s\", sim->phase_ran[{k}] ? \"true\" : \"false\");")
            lit(', "start": ')
            lines.append(f"snn_sb_json_double(sb, sim->phase_start[{k}]);")
            lit(', "stop": ')
            lines.append(f"snn_sb_json_double(sb, sim->phase_stop[{k}]);")
            lit(', "wall": ')
            lines.append(f"snn_sb_json_double(sb, sim->phase_wall[{k}]);")
            lit("}")
        lit("\n  ],\n  \"groups\": {")
        for k, g in enumerate(m.groups):
            extra = (', "source": ' + json.dumps(g.source) + ', "target": ' + json.dumps(g.target)) \
                if g.kind == "synapses" else ""
            lit(("," if k else "") + "\n    " + json.dumps(g.name) + ': {"kind": ' + json.dumps(g.kind)
                + extra + ', "size": ')
            lines.append(f"snn_sb_printf(sb, \"%lld\", (long long){self.g(g.name)}.n);")
            lit("}")
        lit("\n  },\n  \"monitors\": {")
        for k, mon in enumerate(m.monitors):
            info = {"kind": mon.kind, "group": mon.group}
            if mon.event != "spike":  # a monitor of a custom event: `NAME of G`
                info["event"] = mon.event
            if mon.kind == "state":
                info.update(variable=mon.var, unit=mon.unit,
                            every=(mon.every_dt if mon.every_dt is not None else mon.every * m.dt),
                            during=list(mon.during),
                            files={"t": f"{mon.name}.t.npy", "values": f"{mon.name}.values.npy"})
            elif mon.kind == "spikes":
                info.update(during=list(mon.during),
                            files={"i": f"{mon.name}.i.npy", "t": f"{mon.name}.t.npy"})
                if mon.recorded:  # each variable's value at each spike
                    info["recorded"] = {name: {"file": f"{mon.name}.{name}.npy", "unit": unit}
                                        for name, unit in mon.recorded}
            else:
                info.update(unit="1/second", every=m.dt_of(mon.group), during=list(mon.during),  # its group's clock
                            files={"t": f"{mon.name}.t.npy", "rate": f"{mon.name}.rate.npy"})
            if mon.kind != "state" and mon.hi is not None:  # of a subgroup: its part (i counts within it)
                info["indices"] = [mon.lo, mon.hi]
            text = json.dumps(info)
            lit(("," if k else "") + "\n    " + json.dumps(mon.name) + ": " + text[:-1])
            if mon.kind == "state":
                lit(', "indices": [' + str(mon.lo) + ", ")
                g = self.groups[mon.group]
                hi = f"snn_imin({mon.hi}, {self.g(g.name)}.n)" if mon.hi is not None else f"{self.g(g.name)}.n"
                if self.monitored_var(mon).shared:
                    hi = "1"
                lines.append(f"snn_sb_printf(sb, \"%lld\", (long long)({hi}));")
                lit("]")
            lit("}")
        lit("\n  },\n  \"saved\": {")
        for k, s in enumerate(m.saves):
            g = self.groups[s.group]
            info = {"group": s.group, "variable": s.var, "unit": s.unit, "rows": s.rows,
                    "file": f"{s.name}.npy"}
            if g.kind == "synapses" and not self.saved_var(s).shared:
                info.update(i=f"{s.name}.i.npy", j=f"{s.name}.j.npy")
            text = json.dumps(info)
            lit(("," if k else "") + "\n    " + json.dumps(s.name) + ": " + text[:-1] + ', "count": ')
            lines.append(f"snn_sb_printf(sb, \"%lld\", (long long)sim->{mangle('s', s.name)}_rows);")
            lit("}")
        lit("\n  },\n  \"states\": {")
        for k, name in enumerate(m.states):
            lit(("," if k else "") + "\n    " + json.dumps(name) + ': {"file": ' + json.dumps(f"{name}.state")
                + ', "stored": ')
            lines.append(f"snn_sb_printf(sb, \"%s\", sim->{mangle('st', name)}.len ? \"true\" : \"false\");")
            lit("}")
        lit("\n  },\n  \"timings\": {\"setup\": ")
        lines.append("snn_sb_json_double(sb, sim->wall_setup);")
        lit(', "run": ')
        lines.append("snn_sb_json_double(sb, sim->wall_run);")
        lit(', "threads": ')
        lines.append("snn_sb_printf(sb, \"%d\", sim->threads);")
        if m.ranks:
            lit(', "ranks": ')
            lines.append("snn_sb_printf(sb, \"%d\", sim->ranks);")
        lit("}\n}\n")
        return "\n".join(lines)

    def state_fields(self) -> tuple:
        """Every piece of simulation state, for snapshots (state.c.j2)."""
        out = [("clock.step", "scalar", "sim->step", "sizeof(int64_t)", "1"),
               ("clock.t_net", "scalar", "sim->t_net", "sizeof(double)", "1"),
               ("rng", "scalar", "sim->rng", "sizeof(snn_rng)", "SNN_N_RNG"),
               ("rng.key", "scalar", "sim->key", "sizeof(uint64_t)", "1"),
               ("params", "scalar", "sim->p", "sizeof(snn_params)", "1")]
        for name, dtype in self.m.locals:
            ctype = "int64_t" if dtype == "i" else "double"
            out.append((f"local.{name}", "scalar", f"sim->{mangle('l', name)}", f"sizeof({ctype})", "1"))
        for g in self.m.groups:
            G = self.g(g.name)
            for f in self.fields(g):
                if f.snapshot in ("derived", "cache"):
                    continue
                # a queue is saved as its lists of int32 values
                elsize = "sizeof(int32_t)" if f.snapshot == "queue" else f"sizeof({f.ctype})"
                count = self.count(f.count) if f.count is not None else "1"
                out.append((f"{g.name}.{f.state_name}", f.snapshot, f"{G}.{self.member(f)}", elsize, count))
        return tuple(out)

    def state_checks(self) -> tuple[str, str]:
        """What a loaded snapshot must satisfy where a bad value would index
        out of bounds (state_check.c.j2): first the sizes its array lengths
        follow from, then the neuron and synapse numbers in its arrays."""
        sizes = ['if (!(sim->step >= 0 && isfinite(sim->t_net))) return "clock.step";']
        values = []

        def size(ok: str, name: str) -> None:
            sizes.append(f"if (!({ok})) return {c_string(name)};")

        def within(kind: str, array: str, n: str, lo: str, hi: str, name: str) -> None:
            values.append(f"if ((*at = snn_check_range_{kind}({array}, {n}, {lo}, {hi})) >= 0) "
                          f"return {c_string(name)};")

        def check(call: str, name: str) -> None:
            values.append(f"if ((*at = {call}) >= 0) return {c_string(name)};")

        ring = "{0}.{1} >= 1 && {0}.{1} <= (INT64_C(1) << 30) && !({0}.{1} & ({0}.{1} - 1))"
        for g in self.m.groups:
            G, name = self.g(g.name), g.name
            if g.kind != "synapses":
                for listed, counted in [ir.event_list("spike")] + [ir.event_list(e.name) for e in g.events]:
                    size(f"{G}.{counted} >= 0 && {G}.{counted} <= {G}.n", f"{name}.{counted}")
                    within("i32", f"{G}.{listed}", f"{G}.{counted}", "0", f"{G}.n", f"{name}.{listed}")
            if g.kind == "spikes":
                size(f"{G}.nsrc >= 0 && {G}.cursor >= 0 && {G}.cursor <= {G}.nsrc", f"{name}.cursor")
                within("i32", f"{G}.src_i", f"{G}.nsrc", "0", f"{G}.n", f"{name}.src_i")
                check(f"snn_check_steps({G}.src_step, {G}.nsrc, {G}.n)", f"{name}.src_step")
            if g.kind != "synapses":
                continue
            pre, post = self.g(g.source), self.g(g.target)
            size(f"{G}.n >= 0 && {G}.n <= SNN_MAX_SYNAPSES", f"{name}.n")
            if g.all_pairs:
                # the pathways compute each synapse of every pair: exactly that many
                (a0, a1), (b0, b1) = self.pair_ranges(g)
                size(f"{G}.n == ({a1} - {a0}) * ({b1} - {b0})", f"{name}.n")
            if g.stores_pre:
                within("i32", f"{G}.pre", f"{G}.n", "0", f"{pre}.n", f"{name}.pre")
            within("i32", f"{G}.post", f"{G}.n", "0", f"{post}.n", f"{name}.post")
            for end, near, far in (("pre", pre, post), ("post", post, pre)):
                check(f"snn_check_offsets({G}.{end}_start, {near}.n, {G}.n)", f"{name}.{end}_start")
                if (end == "post" and not g.all_pairs) or (end == "pre" and not g.in_pre_order):
                    within("i32", f"{G}.{end}_syn", f"{G}.n", "0", f"{G}.n", f"{name}.{end}_syn")
                    within("i32", f"{G}.{end}_other", f"{G}.n", "0", f"{far}.n", f"{name}.{end}_other")
            for pathway, kind in (("", g.delay_kind), *((p.name, p.delay_kind) for p in g.pathways)):
                steps, ring_size, ring_, ring_n = (storage.pathway_field(pathway, x)
                                                   for x in ("delay_steps", "ring_size", "ring", "ring_n"))
                if kind == "homogeneous":
                    size(ring.format(G, ring_size), f"{name}.{ring_size}")
                    size(f"{G}.{steps} >= 0 && {G}.{steps} < {G}.{ring_size}", f"{name}.{steps}")
                    check(f"snn_check_ring({G}.{ring_}, {G}.{ring_n}, {G}.{ring_size}, {pre}.n)", f"{name}.{ring_}")
                if kind == "heterogeneous":
                    size(ring.format(G, ring_size), f"{name}.{ring_size}")
                    within("i32", f"{G}.{steps}", f"{G}.n", "0", f"{G}.{ring_size}", f"{name}.{steps}")
                    check(f"snn_check_slots({G}.{ring_}, {G}.{ring_size}, {G}.n)", f"{name}.{ring_}")
        return "\n".join(sizes), "\n".join(values)

    def caches(self) -> tuple[str, ...]:
        return tuple(f"{self.g(g.name)}.{self.member(f)}" for g in self.m.groups
                     for f in self.fields(g) if f.snapshot == "cache")

    def free(self) -> str:
        out = []
        for g in self.m.groups:
            G = self.g(g.name)
            for f in self.fields(g):
                if f.ctype == "snn_calendar":
                    out.append(f"snn_calendar_free(&{G}.{self.member(f)});")
                if f.count is None:
                    continue
                if f.snapshot == "queue":
                    out.append(f"if ({G}.{self.member(f)}) for (int64_t k = 0; k < {self.count(f.count)}; k++) "
                               f"snn_buf_free(&{G}.{self.member(f)}[k]);")
                out.append(f"free({G}.{self.member(f)});")
        for d in self.m.data:
            out.append(f"snn_array_free(&sim->{mangle('d', d.name)});")
            out.append(f"free(sim->{mangle('dpath', d.name)});")
        for mon in self.m.monitors:
            for part in self.monitor_parts(mon):
                out.append(f"snn_buf_free(&sim->{mangle('m', mon.name)}_{part});")
        for s in self.m.saves:
            out.append(f"snn_buf_free(&sim->{mangle('s', s.name)});")
        for name in self.m.states:
            out.append(f"snn_buf_free(&sim->{mangle('st', name)});")
        return "\n".join(out)


def build_view(module: ir.Module) -> CModel:
    b = _Builder(module)
    structs = tuple(b.group_struct(g) for g in module.groups)
    fields = b.sim_fields()
    setup = b.setup()
    steps = [("snn_step", "", *b.step("snn_step"))]
    for frozen, name in b.step_names.items():
        if not frozen:
            continue
        b.drop = frozen  # the same kernels, drawing from the same streams (passes/streams.py)
        steps.append((name, ", ".join(f"{g}.{v}" for g, v in sorted(frozen)), *b.step(name)))
    b.drop = frozenset()
    protocol = b.protocol()
    # dimensions in units of 1 / SNN_DIM_DEN (runtime_c/snn_runtime.h), for powers such as 0.5
    # (and the unit as the model writes it where a power is fractional, for messages)
    params = tuple((mangle("p", p.name), p.name, ", ".join(str(int(Fraction(x) * DIM_DEN)) for x in p.dim),
                    "" if all(Fraction(x).denominator == 1 for x in p.dim) else p.unit) for p in module.params)
    data = tuple((mangle("d", d.name), mangle("dpath", d.name), d.name, c_string(d.path)) for d in module.data)
    return CModel(
        name=module.name, source_hash=module.source_hash, dt=c_number(module.dt, "f"), seed=module.seed,
        n_rng=max(1, len(module.streams)), n_phases=max(1, len(module.phases)),
        phase_names=tuple(c_string(p.name) for p in module.phases), params=params,
        param_defaults=b.param_defaults(), data=data, group_structs=structs, sim_fields=fields,
        setup=setup, steps=tuple(steps), protocol=protocol, manifest=b.manifest(), arrays=b.arrays(),
        variables=b.variables(), free=b.free(), caches=b.caches(),
        state_fields=b.state_fields(), state_checks=b.state_checks(), prepare=b.prepare(),
        ranks=module.ranks, rank_sync_all=b.rank_sync_all() if module.ranks else "")
