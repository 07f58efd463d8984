"""Checking groups: sizes, declarations, equations and their integration,
clauses (threshold, reset, refractory, connect, delay) and event code.

A part of `Checker` (semantics/check.py), which holds the symbol table."""
from __future__ import annotations

import dataclasses
import math

from snndsl.diagnostics import GROUP_DT, Code, Span, closest, warning
from snndsl.ir import nodes as ir
from snndsl.ir.integrate import (METHODS, exact_problem, exponential_euler_problem, noise_problem, split_noise,
                                    stochastic_kind)
from snndsl.semantics import model as m
from snndsl.semantics.common import (MAX_DELAY_STEPS, MAX_SIZE, PREDEFINED, Scope, _ast_walk, _binary, _Fail, _is_int,
                                     _replace)
from snndsl.syntax import ast
from snndsl.syntax.ast import RESERVED
from snndsl.units import DIMENSIONLESS, HERTZ, SECOND, UNITS, Dim, describe_dim, in_dim


def _head(block: ast.CodeBlock) -> str:
    """A code block's head as written: `on pre`, `on pre NAME`, `on EVENT of pre`, `on EVENT`."""
    if block.kind == "event":
        return f"on {block.pathway}"
    if block.of:
        return f"on {block.pathway} of {block.kind}"
    return f"on {block.kind}" if block.pathway is None else f"on {block.kind} {block.pathway}"


def _generator_k(e: ir.Expr) -> ir.Expr:
    """A generator's k (a Local while checking) as its connect kernel's Temp."""
    return ir.map_expr(lambda x: ir.Temp(ir.GENERATOR_K, "i", x.span) if isinstance(x, ir.Local) else x, e)


class GroupChecks:
    def _size(self, d: ast.GroupDecl) -> int | None:
        v = self._constant_value(d.size, DIMENSIONLESS, "a group size")
        if v is None:
            return None  # reported; checks that need the size skip it
        if not _is_int(v) or v < 1:
            self.err(Code.BAD_VALUE, f"a group size is a positive integer, not {v:g}", d.size.span)
            return None
        if v > MAX_SIZE:
            self.err(Code.BAD_VALUE, f"a group size is at most {MAX_SIZE} (indices are 32-bit), not {v:g}",
                     d.size.span)
            return None
        return int(v)

    def _group(self, d: ast.GroupDecl) -> None:
        if d.name not in self.group_decls or self.group_decls[d.name] is not d:
            return
        self.group_order.append(d.name)
        size = None
        if d.kind != "synapses":
            size = self._size(d)
        else:
            for end, span in ((d.source, d.source_span), (d.target, d.target_span)):
                if end in self.subgroup_decls:
                    continue  # checked with its declaration
                if end in self.group_decls and self.group_decls[end].kind == "synapses":
                    # synapses onto synapses (Brian2's Synapses(P, S)), or from synapses (Synapses(S, Q)):
                    # each synapse of that group is one of its elements; it connects first, so it is
                    # declared first
                    if end == d.name or end not in self.groups:
                        how = "onto" if end == d.target else "from"
                        self.err(Code.MISPLACED, f"'{d.name}' connects {how} the synapses of '{end}', which "
                                 f"must be declared before it", span)
                    continue
                if end not in self.group_decls or self.group_decls[end].kind == "synapses":
                    near = closest(end, [g for g, gd in self.group_decls.items() if gd.kind != "synapses"]
                                   + list(self.subgroup_decls))
                    self.err(Code.UNKNOWN_GROUP, f"'{end}' is not a neuron group"
                             + (f"; did you mean '{near}'?" if near else ""), span)
        variables: list[m.Variable] = []
        seen: dict[str, Span | None] = {}
        for item in d.items:
            if isinstance(item, (ast.OdeDecl, ast.VarDecl, ast.SubexprDecl)):
                if item.name == "lastupdate" and d.kind == "synapses":
                    self.err(Code.RESERVED_NAME, "'lastupdate' is kept by synapses for their event-driven "
                             "variables (the time of the last event), as in Brian2", item.span)
                    continue
                if item.name in RESERVED or item.name in PREDEFINED:
                    self.err(Code.RESERVED_NAME, f"'{item.name}' is reserved and cannot be declared", item.span)
                    continue
                if item.name in seen:
                    self.err(Code.DUPLICATE, f"'{item.name}' is declared twice in '{d.name}'",
                             item.span, f"first declared at {seen[item.name]}")
                    continue
                seen[item.name] = item.span
                variables.append(self._declare(d, item))
                if isinstance(item, ast.SubexprDecl):
                    self._subexprs[(d.name, item.name)] = item
        if d.kind == "neurons" and any(isinstance(i, ast.Clause) and i.kind == "refractory" for i in d.items):
            # as Brian2: when the neuron last spiked, and whether it may integrate and spike
            for name, dim, dtype in (("lastspike", SECOND, "f"), ("not_refractory", DIMENSIONLESS, "b")):
                if name in seen:
                    self.err(Code.RESERVED_NAME, f"'{name}' is kept by neurons with a refractory period, "
                             "as in Brian2", seen[name])
                    variables = [v for v in variables if v.name != name]
                variables.append(m.Variable(name, dim, dtype, "state", implicit=True))
        ends = {}
        if d.kind == "synapses":  # a subgroup end: its group, and the range of its neurons
            for end, key in ((d.source, "source"), (d.target, "target")):
                sub = self._subgroup(end) if end in self.subgroup_decls else None
                ends[key] = sub[0] if sub else end
                ends[f"{key}_range"] = sub[1:] if sub else None
        own_dt, clock = self._clock(d)
        group = m.Group(d.kind, d.name, size, tuple(variables), source=ends.get("source", d.source),
                        target=ends.get("target", d.target), source_range=ends.get("source_range"),
                        target_range=ends.get("target_range"), dt=own_dt, clock=clock, span=d.span)
        self.groups[d.name] = group  # visible to its own expressions from here on
        group = self._group_items(d, group)
        self.groups[d.name] = group

    def _clock(self, d: ast.GroupDecl) -> tuple[float | None, int]:
        """A group's `dt: PERIOD` (Brian2's dt= of a NeuronGroup, PoissonGroup,
        SpikeGeneratorGroup or Synapses): its time step as written, and that
        in steps of the model's dt, which must divide it (the model's dt is the
        finest clock). Checked before the group's expressions, in which `dt` is
        the group's."""
        item = next((i for i in d.items if isinstance(i, ast.Clause) and i.kind == "dt"), None)
        if item is None:
            return None, 1
        try:
            steps = self._period_steps(item.expr, "a group's time step 'dt:'")
            return self._constant_value(item.expr, SECOND, "a group's time step 'dt:'"), steps
        except _Fail:
            return None, 1

    def dt_of(self, group) -> float:
        """The time step of `group`'s code: its own (`dt:`), else the model's."""
        return group.dt if group is not None and group.dt is not None else self.dt

    def _declare(self, d: ast.GroupDecl, item) -> m.Variable:
        before = len(self.diags)
        dim, dtype = self._var_type(item.unit)
        if len(self.diags) > before:  # an unknown unit: its dimension is a guess, so no echo at each use
            self.bad_vars.add((d.name, item.name))
        flags = set()
        allowed = {"shared", "constant"}
        if isinstance(item, ast.OdeDecl):
            allowed = {"event-driven", "clock-driven", "unless refractory"}
            if d.kind != "synapses":
                allowed.discard("event-driven")
                allowed.discard("clock-driven")
        if isinstance(item, ast.SubexprDecl):
            allowed = {"linked"}
        for f in item.flags:
            if f not in allowed:
                near = closest(f, allowed) if allowed else None
                self.err(Code.BAD_FLAG, f"flag '{f}' does not apply here"
                         + (f"; did you mean '{near}'?" if near else "")
                         + (f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""), item.span)
            flags.add(f)
        kind = {ast.OdeDecl: "ode", ast.VarDecl: "state", ast.SubexprDecl: "subexpr"}[type(item)]
        if kind == "ode" and dtype != "f":
            self.err(Code.BAD_TYPE, "a differential equation's variable is a number with a unit", item.unit.span)
        return m.Variable(item.name, dim, dtype, kind, shared="shared" in flags,
                          constant="constant" in flags, event_driven="event-driven" in flags,
                          unless_refractory="unless refractory" in flags, span=item.span)

    def _group_items(self, d: ast.GroupDecl, group: m.Group) -> m.Group:
        """Check a group's equations, clauses and code. The group's current
        state is self.groups[d.name]: checking a subexpression updates it."""
        changes: dict = {}
        attempted: set[str] = set()  # properties written, even if they failed to check
        failed: set[str] = set()  # parts with an error ("ode", "threshold", ...): no follow-on errors
        synapses = d.kind == "synapses"
        clauses_seen: dict[str, Span | None] = {}
        connects: list[dict] = []  # each connect's fields, in the order of the model
        named_code: dict[str, tuple] = {}  # `on pre NAME:`: (its statements, the block)
        named_delays: dict[str, tuple] = {}  # `delay NAME:`: ({delay, delay_kind}, the clause)
        event_conds: dict[str, tuple] = {}  # `event NAME:`: (its condition, the clause)
        event_code: dict[str, tuple] = {}  # `on NAME:` of a custom event: (its statements, the block)
        self._current_group = d.name
        for item in d.items:
            group = self.groups[d.name]
            elem = Scope(group=group, synapses=synapses, rand=True)
            try:
                key = getattr(item, "kind", None) if isinstance(item, (ast.Clause, ast.CodeBlock)) else type(item).__name__
                if isinstance(item, (ast.Clause, ast.CodeBlock, ast.Method, ast.ConnectFrom, ast.ConnectGenerator)):
                    tag = "connect" if isinstance(item, (ast.ConnectFrom, ast.ConnectGenerator)) else (key or "method")
                    if getattr(item, "pathway", None) is not None:
                        tag = f"{'on ' if isinstance(item, ast.CodeBlock) else ''}{tag} {item.pathway}"
                        if isinstance(item, ast.CodeBlock) and (item.kind == "event" or item.of):
                            tag = _head(item)
                    # several connects add up, as Brian2's successive S.connect calls (from DATA too)
                    if tag in clauses_seen and tag != "connect":
                        self.err(Code.DUPLICATE, f"'{tag}' is given twice in '{d.name}'", item.span,
                                 f"first given at {clauses_seen[tag]}")
                        continue
                    clauses_seen.setdefault(tag, item.span)
                if isinstance(item, ast.Clause) and item.kind == "dt":
                    continue  # the group's clock (_clock), checked first
                if isinstance(item, ast.SubexprDecl):
                    if (d.name, item.name) in self._subexprs:
                        self._subexpr(d.name, item.name, item.span)
                    continue
                if isinstance(item, ast.OdeDecl):
                    var = group.var(item.name)
                    if var is None or var.kind != "ode" or (d.name, item.name) in self.bad_vars:
                        failed.add("ode")  # its declaration was refused
                        continue
                    scope = Scope(group=group, synapses=synapses, noise=not var.event_driven,
                                  what="in an event-driven equation" if var.event_driven else "in an equation")
                    e, dim = self.expr(item.expr, scope)
                    self._expect_dim(dim, var.dim / SECOND, item.expr.span, f"the right side of d{item.name}/dt")
                    self._check_noise(d, item, e)
                    g = self.groups[d.name]
                    self.groups[d.name] = _replace(g, variables=tuple(
                        _replace(x, expr=e) if x.name == item.name else x for x in g.variables))
                elif isinstance(item, ast.Prop):
                    attempted.add(item.name)
                    changes.update(self._prop(d, group, item))
                elif isinstance(item, ast.Clause) and item.kind == "event":
                    event_conds[item.pathway] = (self._event_cond(d, group, item), item)
                elif isinstance(item, ast.CodeBlock) and item.kind == "event":
                    event_code[item.pathway] = (self._event_code(d, group, item), item)
                elif isinstance(item, ast.Clause) and item.kind == "connect":
                    connects.append(self._clause(d, group, item, elem))
                elif isinstance(item, ast.Clause) and item.pathway is not None:
                    named_delays[item.pathway] = (self._clause(d, group, item, elem), item)
                elif isinstance(item, ast.Clause):
                    changes.update(self._clause(d, group, item, elem))
                elif isinstance(item, ast.ConnectGenerator):
                    connects.append(self._connect_generator(d, group, item))
                elif isinstance(item, ast.ConnectFrom):
                    if not synapses:
                        self.fail(Code.MISPLACED, "'connect:' belongs in a synapses group", item.span)
                    self.used.add(item.data)
                    if item.data not in self.data_decls:
                        self._unknown(item.data, self.data_decls, item.span, "data array")
                    self._data_rank(item.data, 2, item.span)
                    connects.append(dict(connect="data", connect_data=item.data, connect_span=item.span))
                elif isinstance(item, ast.Method):
                    if d.kind not in ("neurons", "synapses"):
                        self.fail(Code.MISPLACED, "'method:' belongs in a neuron or synapses group", item.span)
                    if item.name not in METHODS:
                        near = closest(item.name, METHODS)
                        self.fail(Code.BAD_VALUE, f"unknown integration method '{item.name}'"
                                  + (f"; did you mean '{near}'?" if near else "")
                                  + f" (methods: {', '.join(METHODS)})", item.span)
                    changes.update(method=item.name, method_span=item.span)
                elif isinstance(item, ast.CodeBlock) and item.pathway is not None:
                    body = self._code_block(d, group, item)[f"on_{item.kind}"]
                    if item.pathway in named_code:  # one name, one pathway (Brian2's S.NAME)
                        other = named_code[item.pathway][1]
                        self.err(Code.DUPLICATE, f"pathway '{item.pathway}' is both '{_head(other)}' and "
                                 f"'{_head(item)}'", item.pathway_span, f"first given at {other.span}")
                        continue
                    named_code[item.pathway] = (body, item)
                elif isinstance(item, ast.CodeBlock):
                    changes.update(self._code_block(d, group, item))
                elif isinstance(item, ast.SummedDecl):
                    changes["summed"] = changes.get("summed", ()) + (self._summed(d, group, item, changes),)
                elif isinstance(item, ast.EveryBlock):
                    changes["every"] = changes.get("every", ()) + (self._every_block(d, group, item),)
            except _Fail:
                failed.add("ode" if isinstance(item, ast.OdeDecl) else getattr(item, "kind", None)
                           or type(item).__name__)
                if isinstance(item, ast.CodeBlock) and item.pathway is not None:
                    failed.add(f"on {item.kind} {item.pathway}")
                if isinstance(item, ast.Clause) and item.kind == "event":
                    failed.add(f"event {item.pathway}")
        if event_conds or event_code:
            changes["events"] = self._events(d, event_conds, event_code, failed)
        if named_code or named_delays:
            changes["pathways"] = self._pathways(d, named_code, named_delays, failed)
        if len(connects) == 1:
            changes.update(connects[0])
        elif connects:  # Brian2's successive connect calls: the synapses of each, one after the other
            parts = tuple(ir.ConnectPart(kind=c["connect"], cond=c.get("connect_cond"), lo=c.get("connect_lo"),
                                         hi=c.get("connect_hi"), j=c.get("connect_j"), times=c.get("connect_times"),
                                         span=c.get("connect_span"), choose=c.get("connect_choose"),
                                         data=c.get("connect_data"))
                          for c in connects)
            changes.update(connect="several", connect_parts=parts, connect_span=connects[0]["connect_span"])
        group = _replace(self.groups[d.name], **changes)
        if d.kind == "poisson" and group.rate is None and group.var("rate") is None and "rate" not in attempted:
            self.err(Code.MISSING, f"poisson group '{d.name}' needs 'rate = ...' or 'rate : Hz'",
                     d.name_span)
        if d.kind == "spikes":
            for prop in ("indices", "times"):
                if getattr(group, prop) is None and prop not in attempted:
                    self.err(Code.MISSING, f"spikes group '{d.name}' needs '{prop} = ...'", d.name_span)
        if d.kind == "poisson" and group.var("rate") is not None:
            v = group.var("rate")
            if v.dim != HERTZ:
                self.err(Code.DIMENSION, f"a Poisson rate is in hertz (1/second), not {describe_dim(v.dim)}",
                         v.span)
        if synapses:
            self._check_event_driven(group)
        # structural checks only where their parts checked clean: an error in an
        # equation or a threshold is reported once, never echoed as "no threshold"
        if d.kind == "neurons" and "threshold" not in failed:
            if group.reset and group.threshold is None:
                self.err(Code.MISSING, f"'{d.name}' has a reset but no threshold", d.name_span)
            if group.refractory is not None and group.threshold is None:
                self.err(Code.MISSING, f"'{d.name}' has a refractory period but no threshold", d.name_span)
        if "ode" not in failed and "SubexprDecl" not in failed:
            self._check_integration(d, group)
        return group

    def _check_noise(self, d: ast.GroupDecl, item: ast.OdeDecl, e: ir.Expr) -> None:
        """White noise enters an equation as terms g * xi. Brian2's rules: the
        plain `xi` belongs to one equation (write xi_1, xi_2 for independent
        noises); a named one, `xi_NAME`, in several equations is one
        realisation shared by them (correlated noise, as Brian2's)."""
        noise = [n for n in ir.walk(e) if isinstance(n, ir.Noise)]
        if not noise:
            return
        if split_noise(e) is None:
            self.fail(Code.NOT_LINEAR, f"white noise must enter d{item.name}/dt as a term g * {noise[0].name}, "
                      "with g free of noise (not inside a function, a power or a divisor)", noise[0].span)
        owners = self._noise_owners.setdefault(d.name, {})
        for n in noise:
            first = owners.setdefault(n.name, item.name)
            if first != item.name and n.name == "xi":
                self.fail(Code.DUPLICATE, f"the noise 'xi' is already in the equation of '{first}'; name each "
                          f"equation's noise apart ('xi_{item.name}') for independent noises, or name one "
                          "('xi_shared') for a realisation shared by both", n.span)

    def _check_integration(self, d: ast.GroupDecl, group: m.Group) -> None:
        """The method must be able to integrate the system; with none given,
        the system must be linear with constant coefficients (exact)."""
        eqs = group.integration_system()
        if not eqs:
            if group.method is not None:
                self.err(Code.BAD_VALUE, f"'{d.name}' has no differential equation to integrate", group.method_span)
            return
        if group.method is None:
            if stochastic_kind(eqs, group.name) is not None:
                suggest = "'method: euler'" if stochastic_kind(eqs, group.name) == "additive" else "'method: heun'"
                self.err(Code.NOT_LINEAR, f"the equations of '{d.name}' have white noise; name a method: {suggest} "
                         "(euler integrates additive noise, heun and milstein any)", d.name_span)
                return
            why = exact_problem(eqs, group.name, self.dt_of(group))
            if why is not None:
                self.err(Code.NOT_LINEAR, f"the equations of '{d.name}' cannot be integrated exactly ({why}); "
                         "name a method: 'method: euler', 'rk2', 'rk4' or 'exponential_euler'", d.name_span)
            return
        dt = self.dt_of(group)
        why = noise_problem(eqs, group.name, group.method) or {
            "exact": lambda e, g: exact_problem(e, g, dt), "exponential_euler": exponential_euler_problem}.get(
            group.method, lambda *_: None)(eqs, group.name)
        if why is not None:
            self.err(Code.NOT_LINEAR, f"method {group.method} cannot integrate '{d.name}': {why}",
                     group.method_span)

    def _check_event_driven(self, group: m.Group) -> None:
        from snndsl.ir.linear import linear_in
        for v in group.variables:
            if v.kind == "ode" and v.event_driven and v.expr is not None:
                if linear_in(v.expr, v.name, group.name) is None:
                    self.err(Code.NOT_LINEAR,
                             f"the event-driven equation of '{v.name}' must be linear in '{v.name}' "
                             "with constant coefficients", v.span)

    def _prop(self, d: ast.GroupDecl, group: m.Group, item: ast.Prop) -> dict:
        if d.kind == "poisson" and item.name == "rate":
            if group.var("rate") is not None:
                self.fail(Code.DUPLICATE, "'rate' is both declared and given", item.span)
            e, dim = self.expr(item.expr, Scope(group=group, what="in a Poisson rate"))
            self._expect_dim(dim, HERTZ, item.expr.span, "a Poisson rate")
            self._known(e, "a Poisson rate", item.expr.span)
            return {"rate": e}
        if d.kind == "spikes" and item.name in ("indices", "times"):
            return {item.name: self._list_or_data(item, SECOND if item.name == "times" else DIMENSIONLESS)}
        if item.name == "dt":
            self.fail(Code.MISPLACED, GROUP_DT, item.span)
        allowed = {"poisson": "rate", "spikes": "indices, times"}.get(d.kind)
        hint = f" ({d.kind} groups take {allowed})" if allowed else ""
        self.fail(Code.MISPLACED, f"'{item.name} = ...' has no meaning in a {d.kind} group{hint}; "
                  f"a subexpression needs a unit: '{item.name} = ... : UNIT'", item.span)

    def _list_or_data(self, item: ast.Prop, want: Dim) -> ir.ListOrData:
        e = item.expr
        what = f"'{item.name}'"
        if isinstance(e, ast.Name):
            self.used.add(e.id)
        if isinstance(e, ast.Name) and e.id in self.data_decls:
            self._expect_dim(self._data_dim(e.id), want, e.span, what)
            self._data_rank(e.id, 1, e.span)
            return ir.ListOrData(data=e.id)
        if isinstance(e, ast.ListLit):
            values = []
            for x in e.items:
                v = self._constant_value(x, want, f"an element of {what}")
                if v is not None:
                    values.append(float(v))
            if not all(math.isfinite(v) for v in values):
                self.fail(Code.BAD_VALUE, f"{what} holds a value that is not finite", e.span)
            if item.name == "indices":
                if any(not _is_int(v) or v < 0 for v in values):
                    self.fail(Code.BAD_VALUE, "spike indices are non-negative integers", e.span)
                size = self.groups[self._current_group].size if self._current_group in self.groups else None
                if size is not None and any(v >= size for v in values):
                    self.fail(Code.BAD_VALUE, f"a spike index is past the end of the group ({size} neurons)",
                              e.span)
            elif any(v < 0 for v in values):
                self.fail(Code.BAD_VALUE, "spike times are not negative", e.span)
            return ir.ListOrData(values=tuple(values))
        if isinstance(e, ast.Name):
            self._unknown(e.id, self.data_decls, e.span, "data array")
        self.fail(Code.BAD_VALUE, f"{what} is a data array or a list literal [...]", e.span)

    def _connect_generator(self, d: ast.GroupDecl, group: m.Group, item: ast.ConnectGenerator) -> dict:
        """`connect: j in LO .. HI`, `connect: j = EXPR` (each with `if COND`
        and `times N`) and `connect: all|one_to_one|COND times N`, as the
        group's connect fields: rule 'range' (LO and HI None for the whole
        target) or 'target'. LO, HI and EXPR are integers computed for each i:
        they read i, pre.X, constants and parameters, not j, post.X nor rand();
        COND is a connection condition; N an integer of i, j, pre.X, post.X,
        constants and parameters."""
        if d.kind != "synapses":
            self.fail(Code.MISPLACED, "'connect:' belongs in a synapses group", item.span)
        out: dict = {"connect_span": item.span}
        if item.var is None:  # all / one_to_one / a condition, each pair N times
            base = self._clause(d, group, ast.Clause("connect", item.cond, item.span), Scope())
            if base["connect"] == "all":
                out.update(connect="range")
            elif base["connect"] == "one_to_one":  # j from i to i: the diagonal, clipped to the target
                i = self._index_of_i(group, item.cond.span)
                out.update(connect="range", connect_lo=i,
                           connect_hi=ir.Binary("+", i, ir.Const(1, "i"), "i", item.cond.span))
            else:
                out.update(connect="range", connect_cond=base["connect_cond"])
        else:
            if item.var != "j":
                self.fail(Code.BAD_VALUE, f"connect: the postsynaptic index is j: write 'j in ...' or 'j = ...', "
                          f"not '{item.var}'", item.var_span)
            loop: dict[str, str] = {}
            if item.target is not None and item.loop is not None:  # j = EXPR for k in LO .. HI
                k = item.loop
                if k in RESERVED or k in PREDEFINED or k in ("i", "j", "N_pre", "N_post") or group.var(k) is not None:
                    self.fail(Code.RESERVED_NAME, f"'{k}' names something already: the generator's variable "
                              "needs a name of its own (k, say)", item.loop_span)
                out.update(connect_lo=self._connect_index(group, item.lo, f"a bound of {k}", "an integer"),
                           connect_hi=self._connect_index(group, item.hi, f"a bound of {k}", "an integer"))
                loop = {k: "i"}
                first = self._known(out["connect_lo"], f"a bound of {k}", item.lo.span)
                # from a known bound of at least 0, k is a whole power: (-1) ** k is an integer
                self.natural_local = k if first is not None and first >= 0 else None
            if item.target is not None:
                try:
                    j = self._connect_index(group, item.target, "a target j = ...", locals=loop)
                finally:
                    self.natural_local = None
                out.update(connect="target", connect_j=_generator_k(j))
            else:
                out.update(connect="range", connect_lo=self._connect_index(group, item.lo, "a bound of j"),
                           connect_hi=self._connect_index(group, item.hi, "a bound of j"))
                if item.choose is not None:
                    out["connect_choose"] = self._connect_index(group, item.choose, "the number of j's chosen",
                                                                "a number of synapses")
            if item.cond is not None:
                out["connect_cond"] = _generator_k(self._connect_cond(group, item.cond, locals=loop))
        if item.times is not None:
            scope = Scope(group=group, synapses=True, what="in the number of synapses per pair (times)")
            e, dim = self.expr(item.times, scope)
            self._own_vars(e)
            self._expect_dim(dim, DIMENSIONLESS, item.times.span, "the number of synapses per pair (times N)")
            n = self._as_integer(e, dim)
            if n is None:
                self.fail(Code.BAD_TYPE, "the number of synapses per pair (times N) is an integer",
                          item.times.span)
            out["connect_times"] = n
        return out

    def _index_of_i(self, group: m.Group, span) -> ir.Expr:
        e, _ = self.expr(ast.Name("i", span), Scope(group=group, synapses=True))
        return e

    def _own_vars(self, e: ir.Expr) -> None:
        for n in ir.walk(e):
            if isinstance(n, ir.Var) and n.at == "self":
                self.fail(Code.MISPLACED, "a connection cannot read the synapse's own variables "
                          "(they do not exist yet)", n.span)
            if isinstance(n, ir.Special) and n.name in ir.SYNAPSE_COUNTS:
                self.fail(Code.MISPLACED, f"'{n.name}' counts the synapses made: a connection cannot read it "
                          "(they do not exist yet)", n.span)

    def _connect_index(self, group: m.Group, x: ast.Expr, what: str,
                       kind: str = "an index of the target", locals: dict | None = None) -> ir.Expr:
        """A bound of j, a target j = EXPR, or the number K of `choose K`: an
        integer computed once per i (per i and k, with a generator's k in `locals`)."""
        e, dim = self.expr(x, Scope(group=group, synapses=True, what=f"in {what}", locals=locals or {}))
        self._own_vars(e)
        for n in ir.walk(e):
            if isinstance(n, ir.Special) and n.name == "j" or isinstance(n, ir.Var) and n.at == "post":
                self.fail(Code.MISPLACED, f"{what} is computed once for each presynaptic neuron i: it reads i, "
                          "pre.X, constants and parameters, not j or post.X (a condition on j goes after 'if')",
                          n.span or x.span)
        self._expect_dim(dim, DIMENSIONLESS, x.span, what)
        index = self._as_integer(e, dim)
        if index is None:
            self.fail(Code.BAD_TYPE, f"{what} is an integer ({kind})", x.span)
        return index

    def _connect_cond(self, group: m.Group, x: ast.Expr, locals: dict | None = None) -> ir.Expr:
        e, _ = self.expr(x, Scope(group=group, synapses=True, rand=True, what="in a connection condition",
                                  locals=locals or {}))
        if e.dtype != "b":
            self.fail(Code.BAD_TYPE, "the condition after 'if' is a condition (true or false)", x.span)
        self._own_vars(e)
        return e

    def _clause(self, d: ast.GroupDecl, group: m.Group, item: ast.Clause, elem: Scope) -> dict:
        if item.kind == "connect":
            if d.kind != "synapses":
                self.fail(Code.MISPLACED, "'connect:' belongs in a synapses group", item.span)
            if isinstance(item.expr, ast.Name) and item.expr.id in ("all", "one_to_one"):
                return {"connect": item.expr.id, "connect_span": item.span}
            scope = Scope(group=group, synapses=True, rand=True, what="in a connection condition")
            e, _ = self.expr(item.expr, scope)
            if e.dtype != "b":
                self.fail(Code.BAD_TYPE, "'connect:' takes all, one_to_one, a condition, or 'from DATA'",
                          item.expr.span)
            self._own_vars(e)
            return {"connect": "cond", "connect_cond": e, "connect_span": item.span}
        if item.kind in ("delay", "refractory") and isinstance(item.expr, ast.Name) and item.expr.id in UNITS \
                and group.var(item.expr.id) is None and item.expr.id not in self.const_decls \
                and item.expr.id not in self.param_decls:
            self.diags.append(warning(Code.LOOKS_LIKE_DECLARATION,
                                      f"'{item.kind}: {item.expr.id}' sets a {item.kind} of 1 {item.expr.id}; "
                                      f"'{item.kind}' is reserved, so it cannot declare a variable", item.span))
        if item.kind == "delay":
            if d.kind != "synapses":
                self.fail(Code.MISPLACED, "'delay:' belongs in a synapses group", item.span)
            if item.pathway == "pre":
                self.fail(Code.DUPLICATE, "'pre' is the name of the unnamed pathway: write 'delay:'",
                          item.pathway_span or item.span)
            self._pathway_name(item)
            scope = Scope(group=group, synapses=True, rand=True, what="in a delay")
            e, dim = self.expr(item.expr, scope)
            self._expect_dim(dim, SECOND, item.expr.span, "a delay")
            per_synapse = any(isinstance(n, (ir.Var, ir.Rand, ir.DataAt)) and not (isinstance(n, ir.Var) and n.at == "shared")
                              or isinstance(n, ir.Special) and n.name in ("i", "j") for n in ir.walk(e))
            v = self._known(e, "a delay", item.expr.span)
            if v is not None:
                if v < 0:
                    self.fail(Code.BAD_VALUE, "a delay cannot be negative", item.expr.span)
                if v / self.dt > MAX_DELAY_STEPS:
                    self.fail(Code.BAD_VALUE, f"a delay of {v:g} s is {v / self.dt:.3g} time steps of dt = "
                              f"{self.dt:g} s; spikes in flight are kept for at most {MAX_DELAY_STEPS:.0e} "
                              "steps", item.expr.span)
            return {"delay": e, "delay_kind": "heterogeneous" if per_synapse else "homogeneous"}
        if d.kind != "neurons":
            self.fail(Code.MISPLACED, f"'{item.kind}:' belongs in a neuron group", item.span)
        # rand() in a threshold (a neuron spiking with a probability) draws, as Brian2's, for every
        # neuron in every step, refractory or not
        scope = Scope(group=group, rand=item.kind == "threshold", what=f"in '{item.kind}:'")
        e, dim = self.expr(item.expr, scope)
        if item.kind == "threshold":
            self._expect_bool(e, item.expr.span)
            return {"threshold": e}
        if e.dtype == "b":
            return {"refractory": e, "refractory_kind": "condition"}
        self._expect_dim(dim, SECOND, item.expr.span, "a refractory period (or a condition)")
        v = self._known(e, "a refractory period", item.expr.span)
        if v is not None:
            if not v >= 0:
                self.fail(Code.BAD_VALUE, "a refractory period cannot be negative", item.expr.span)
            self._check_steps(v, item.expr.span, "a refractory period")
        return {"refractory": e, "refractory_kind": "duration"}

    def _event_cond(self, d: ast.GroupDecl, group: m.Group, item: ast.Clause) -> ir.Expr:
        """`event NAME: COND` (Brian2's events={NAME: COND}): a boolean of the
        neuron's variables, which may draw (as a threshold may)."""
        if d.kind != "neurons":
            self.fail(Code.MISPLACED, "'event NAME:' belongs in a neuron group (Brian2's events=)", item.span)
        self._event_name(d, group, item)
        scope = Scope(group=group, rand=True, what=f"in 'event {item.pathway}:'")
        e, _ = self.expr(item.expr, scope)
        self._expect_bool(e, item.expr.span)
        return e

    def _event_code(self, d: ast.GroupDecl, group: m.Group, item: ast.CodeBlock) -> tuple[ir.Stmt, ...]:
        """`on NAME:`, the code of the neuron group's custom event NAME
        (Brian2's run_on_event(NAME, CODE)), run per neuron as a reset is."""
        if d.kind != "neurons":
            where = ("a synapse group's pathways are 'on pre NAME:', 'on post NAME:', and at a custom event of "
                     f"an end, 'on {item.pathway} of pre:' or 'on {item.pathway} of post:'" if d.kind == "synapses"
                     else "it belongs in a neuron group")
            self.fail(Code.MISPLACED, f"'on {item.pathway}:' is the code of a custom event: {where}", item.span)
        self._event_name(d, group, item)
        scope = Scope(group=group, rand=True, what=f"in 'on {item.pathway}'")
        return self._stmts(item.body, scope, "reset")

    def _event_name(self, d: ast.GroupDecl, group: m.Group, item) -> None:
        name, span = item.pathway, item.pathway_span or item.span
        if name in RESERVED or name in ("spike", "rate"):
            self.fail(Code.RESERVED_NAME, f"'{name}' cannot name an event"
                      + (": a neuron's spikes are its threshold's" if name in ("spike", "spikes") else ""), span)
        if group.var(name) is not None:
            self.fail(Code.DUPLICATE, f"'{name}' names both a variable of '{d.name}' and an event", span)

    def _events(self, d: ast.GroupDecl, conds: dict, code: dict, failed: set) -> tuple[ir.Event, ...]:
        """The custom events, by name (the order in which Brian2 runs their
        code, its resetters `G_NAME_resetter` sorted by name): each `event
        NAME:` with its `on NAME:`, if any. An `on NAME:` needs its event."""
        for name, (_, block) in code.items():
            if name not in conds and f"event {name}" not in failed:
                near = closest(name, list(conds))
                self.err(Code.UNDEFINED_NAME, f"'on {name}:' is the code of event '{name}', but '{d.name}' has no "
                         f"'event {name}: CONDITION'" + (f"; did you mean '{near}'?" if near else ""),
                         block.pathway_span or block.span)
        return tuple(ir.Event(name, cond, code.get(name, ((), None))[0], clause.span)
                     for name, (cond, clause) in sorted(conds.items()))

    def _pathways(self, d: ast.GroupDecl, code: dict, delays: dict, failed: set) -> tuple[ir.Pathway, ...]:
        """The named pathways, by name: each `on pre NAME:` with its `delay
        NAME:` (none: no delay), each `on post NAME:` (no delay). A `delay
        NAME:` needs its `on pre NAME:`."""
        for name, (_, clause) in delays.items():
            if name in code and code[name][1].kind == "post":
                self.err(Code.UNSUPPORTED, f"'delay {name}:' would delay the postsynaptic pathway '{name}': "
                         "postsynaptic spikes arrive at once (no delay yet)", clause.pathway_span or clause.span)
            elif name not in code and f"on pre {name}" not in failed and f"on post {name}" not in failed:
                near = closest(name, list(code))
                self.err(Code.UNDEFINED_NAME, f"'delay {name}:' is the delay of pathway '{name}', but '{d.name}' "
                         f"has no 'on pre {name}:'" + (f"; did you mean '{near}'?" if near else ""),
                         clause.pathway_span or clause.span)
        out = []
        for name in sorted(code):
            body, block = code[name]
            if self.groups[d.name].var(name) is not None:  # sim["S"].up is the pathway, as Brian2's S.up
                self.err(Code.DUPLICATE, f"'{name}' names both a variable of '{d.name}' and a pathway",
                         block.pathway_span or block.span)
                continue
            delay, clause = delays.get(name, ({}, None))
            if block.kind == "post":
                delay, clause = {}, None
            on = "spike"
            if block.of:  # `on NAME of pre:` (`of post:`): the source's (target's) custom event NAME triggers it
                end_name = self.groups[d.name].source if block.kind == "pre" else self.groups[d.name].target
                end = self.groups.get(end_name)
                if end is None:
                    continue  # an unknown end: reported with the group's head
                events = [e.name for e in end.events]
                if name not in events:
                    near = closest(name, events)
                    self.err(Code.UNDEFINED_NAME, f"'on {name} of {block.kind}': '{end_name}' has no event '{name}'"
                             + (f"; did you mean '{near}'?" if near else
                                f" (declare it there: 'event {name}: CONDITION')"), block.pathway_span or block.span)
                    continue
                on = name
            out.append(ir.Pathway(name, body, delay.get("delay"), delay.get("delay_kind", "none"), block.span,
                                  delay_span=clause.span if clause is not None else None, event=block.kind, on=on))
        return tuple(out)

    def _pathway_name(self, item: ast.CodeBlock | ast.Clause) -> None:
        if item.pathway in RESERVED:
            self.fail(Code.RESERVED_NAME, f"'{item.pathway}' is a reserved word and cannot name a pathway",
                      item.pathway_span or item.span)

    def _code_block(self, d: ast.GroupDecl, group: m.Group, item: ast.CodeBlock) -> dict:
        if item.kind in ("pre", "post"):
            if d.kind != "synapses":
                self.fail(Code.MISPLACED, f"'on {item.kind}:' belongs in a synapses group", item.span)
            if item.kind == "post" and self.groups.get(group.target) is not None \
                    and self.groups[group.target].kind == "synapses":
                self.fail(Code.MISPLACED, f"'{d.name}' connects onto the synapses of '{group.target}', which do "
                          "not spike: it has no 'on post:'", item.span)
            if item.kind == "pre" and self.groups.get(group.source) is not None \
                    and self.groups[group.source].kind == "synapses":
                self.fail(Code.MISPLACED, f"'{d.name}' connects from the synapses of '{group.source}', which do "
                          "not spike: it has no 'on pre:' (read their variables in summed variables or "
                          "equations, `pre.X`)", item.pathway_span or item.span)
            if item.pathway in ("pre", "post"):
                self.fail(Code.DUPLICATE, f"'{item.pathway}' is the name of the unnamed pathway 'on "
                          f"{item.pathway}:': write that, or give this one another name", item.pathway_span or item.span)
            self._pathway_name(item)
            head = _head(item)
            scope = Scope(group=group, synapses=True, rand=True, what=f"in '{head}'")
            return {f"on_{item.kind}": self._stmts(item.body, scope, "event")}
        if item.kind == "init":
            if d.kind == "spikes":
                self.fail(Code.MISPLACED, "a spikes group has no variables to initialise", item.span)
            scope = Scope(group=group, synapses=d.kind == "synapses", rand=True, what="in 'init'")
            return {"init": self._stmts(item.body, scope, "init")}
        if d.kind != "neurons":
            self.fail(Code.MISPLACED, "'reset:' belongs in a neuron group", item.span)
        scope = Scope(group=group, rand=True, what="in 'reset'")
        return {"reset": self._stmts(item.body, scope, "reset")}

    def _summed(self, d: ast.GroupDecl, group: m.Group, item: ast.SummedDecl, changes: dict) -> ir.Summed:
        """`post.X = EXPR : UNIT (summed)`: X a plain variable of the neuron
        group at that end, of that unit; EXPR per synapse, without rand()."""
        what = f"'{item.side}.{item.name} = ...'"
        if d.kind != "synapses":
            self.fail(Code.MISPLACED, f"{what} sums over synapses: it belongs in a synapses group", item.span)
        if tuple(item.flags) != ("summed",):
            other = [f for f in item.flags if f != "summed"]
            self.fail(Code.BAD_FLAG, f"flag '{other[0]}' does not apply to {what} (it takes '(summed)')"
                      if other else f"{what} in synapses sets a neuron variable to a sum over the synapses: "
                      f"mark it '(summed)'", item.span)
        end = group.target if item.side == "post" else group.source
        target = self.groups.get(end)
        if target is None:
            raise _Fail  # the unknown group is reported
        var = self._lookup_var(target, item.name, item.span)
        element = "synapse" if target.kind == "synapses" else "neuron"
        if var.kind != "state" or var.shared or var.constant or var.dtype != "f" or var.implicit:
            self.fail(Code.FLAG_VIOLATION, f"'{item.name}' of '{end}' cannot be a summed variable: it must be a "
                      f"plain number per {element} ('{item.name} : UNIT' in '{end}'), which the sum replaces each "
                      "step", item.span)
        for s in changes.get("summed", ()):
            if (s.group, s.var) == (end, var.name):
                self.fail(Code.DUPLICATE, f"'{end}.{var.name}' is summed twice in '{d.name}'", item.span,
                          f"first at {s.span}")
        dim, _ = self._var_type(item.unit)
        if dim != var.dim:
            self.fail(Code.DIMENSION, f"'{item.name}' of '{end}' is {in_dim(var.dim)}, "
                      f"not {describe_dim(dim)}", item.unit.span)
        scope = Scope(group=group, synapses=True, what="in a summed variable")
        e, edim = self.expr(item.expr, scope)
        self._expect_dim(edim, var.dim, item.expr.span, f"the sum onto '{end}.{var.name}'")
        if any(isinstance(n, ir.Var) and (n.group, n.name) == (end, var.name) for n in ir.walk(e)):
            self.fail(Code.CYCLE, f"the sum onto '{end}.{var.name}' reads '{var.name}' itself, which the sum "
                      "replaces", item.expr.span)
        return ir.Summed(item.side, end, var.name, e, item.span)

    def _poisson_input(self, d: ast.PoissonInputDecl) -> None:
        """`poisson NAME[SOURCES] -> G.X:` with `rate = ...` and
        `weight = ...` (Brian2's PoissonInput(G, 'X', N, rate, weight)): SOURCES
        a positive whole constant; `rate` the same for every element, in Hz;
        `weight` in G's namespace, of X's dimension, without rand(). X is a
        number per neuron that code may write. Attached to G as an
        `ir.PoissonInput` (over a subgroup's range)."""
        try:
            group, sub = self._group_or_subgroup(d.target, d.target_span)
        except _Fail:
            return
        if group.kind != "neurons":
            self.err(Code.MISPLACED, f"a Poisson input adds to a variable of a neuron group, and "
                     f"'{d.target}' is a {group.kind} group", d.target_span)
            return
        props: dict[str, ast.Prop] = {}
        for item in d.items:
            if isinstance(item, ast.Prop) and item.name in ("rate", "weight"):
                if item.name in props:
                    self.err(Code.DUPLICATE, f"'{item.name}' is given twice in Poisson input '{d.name}'", item.span,
                             f"first at {props[item.name].span}")
                props[item.name] = item
            else:
                self.err(Code.MISPLACED, "a Poisson input takes 'rate = ...' and 'weight = ...' only "
                         "(its sources have no variables or code)", item.span)
        for key in ("rate", "weight"):
            if key not in props:
                self.err(Code.MISSING, f"Poisson input '{d.name}' needs '{key} = ...'"
                         + (" (the rate of each source, e.g. 'rate = 10 Hz')" if key == "rate"
                            else f" (what each spike adds to '{d.var}', e.g. 'weight = 0.1 mV')"), d.name_span)
        sources = self._constant_value(d.size, DIMENSIONLESS, "the number of sources of a Poisson input")
        if sources is not None and (not _is_int(sources) or not 1 <= sources <= 2 ** 62):
            self.err(Code.BAD_VALUE, f"the number of sources of a Poisson input is a positive whole number, "
                     f"not {sources:g}", d.size.span)
            sources = None
        try:
            var = self._lookup_var(group, d.var, d.var_span)
        except _Fail:
            return
        if var.kind == "subexpr" or var.shared or var.constant or var.dtype != "f" or var.implicit:
            why = ("a subexpression" if var.kind == "subexpr" else "shared" if var.shared
                   else "constant" if var.constant else "kept by the refractory period" if var.implicit
                   else "not a floating-point number")
            self.err(Code.FLAG_VIOLATION, f"a Poisson input adds to a number per neuron that code may write, "
                     f"and '{var.name}' of '{group.name}' is {why}", d.var_span)
            return
        if any(s.group == group.name and s.var == var.name for g in self.groups.values() for s in g.summed):
            self.err(Code.FLAG_VIOLATION, f"'{var.name}' of '{group.name}' is a summed variable: the sum replaces "
                     "it each step, and would drop the input", d.var_span)
            return
        rate = weight = None
        if "rate" in props:
            e = props["rate"].expr
            try:
                for n in _ast_walk(e):
                    if isinstance(n, ast.Name) and group.var(n.id) is not None:
                        self.fail(Code.MISPLACED, f"the rate of a Poisson input is one rate for all the neurons it "
                                  f"drives: it cannot read '{n.id}' of '{group.name}'", n.span)
                rate, dim = self.expr(e, Scope(what="in the rate of a Poisson input"))
                self._expect_dim(dim, HERTZ, e.span, "the rate of a Poisson input")
                value = self._known(rate, "the rate of a Poisson input", e.span)
                dt = self.dt_of(group)
                if value is not None and not 0 <= value * dt <= 1:
                    self.err(Code.BAD_VALUE, f"the rate of a Poisson input is a probability per step: rate * dt "
                             f"must be between 0 and 1, and {value:g} Hz * {dt:g} s is {value * dt:g}",
                             e.span)
                    rate = None
            except _Fail:
                rate = None
        lo, hi = sub if sub is not None else (0, None)
        if "weight" in props:
            e = props["weight"].expr
            size = None if sub is None else hi - lo
            scope = Scope(group=group, offset=lo, size=size, what="in the weight of a Poisson input")
            try:
                weight, dim = self.expr(e, scope)
                if weight.dtype == "b":
                    self.fail(Code.BAD_TYPE, "the weight of a Poisson input is a number, not a condition", e.span)
                self._expect_dim(dim, var.dim, e.span, f"the weight of a Poisson input onto '{var.name}'")
                self._known(weight, "the weight of a Poisson input", e.span)
            except _Fail:
                weight = None
        if rate is None or weight is None or sources is None:
            return
        target = ir.Var(group.name, var.name, "self", "f", d.var_span)
        draw = ir.Temp(ir.POISSON_INPUT_DRAW, "i", d.span)
        body = (ir.Assign(target, _binary("+", target, _binary("*", draw, weight)), d.span),)
        made = ir.PoissonInput(d.name, int(sources), rate, body, lo, hi, span=d.span)
        self.groups[group.name] = _replace(group, inputs=group.inputs + (made,))

    def _every_block(self, d: ast.GroupDecl, group: m.Group, item: ast.EveryBlock) -> ir.Every:
        if d.kind == "spikes":
            self.fail(Code.MISPLACED, "a spikes group has no variables for 'every' to change", item.span)
        steps = self._period_steps(item.period, "the period of 'every'")
        scope = Scope(group=group, synapses=d.kind == "synapses", rand=True, what="in 'every'")
        # its writes to shared variables run once, before the block runs for each element
        # (Brian2's scalar code): they come first and read only shared values
        shared = Scope(group=group, synapses=d.kind == "synapses", rand=True, shared_only=True,
                       what="in a write to a shared variable")
        lead = 0
        while lead < len(item.body) and self._writes_shared(item.body[lead], group):
            lead += 1
        once = self._stmts(item.body[:lead], shared, "every once")  # (a later one: an error of _assign)
        return ir.Every(steps, self._stmts(item.body[lead:], scope, "every"), item.span, once=once)

    @staticmethod
    def _writes_shared(s, group: m.Group) -> bool:
        if not isinstance(s, ast.Assign) or s.neighbour is not None:
            return False
        var = group.var(s.target)
        return var is not None and var.shared

    def _stmts(self, body, scope: Scope, context: str) -> tuple[ir.Stmt, ...]:
        out = []
        scope = dataclasses.replace(scope, lets=dict(scope.lets))  # a block's lets end with it
        for s in body:
            try:
                if isinstance(s, ast.If):
                    c, _ = self.expr(s.cond, scope)
                    self._expect_bool(c, s.cond.span)
                    out.append(ir.If(c, self._stmts(s.body, scope, context),
                                     self._stmts(s.orelse, scope, context), s.span))
                elif isinstance(s, ast.Let):
                    out.append(self._let(s, scope, context))
                else:
                    out.append(self._assign(s, scope, context))
            except _Fail:
                pass
        return tuple(out)

    def _let(self, s: ast.Let, scope: Scope, context: str) -> ir.Let:
        """`let NAME = EXPR` (Brian2's temporary variable, `w_minus = ...` in its
        code strings): EXPR's value, a number, named for the statements after
        it in its block; NAME is no variable of the group, nor another let's."""
        group = scope.group
        if s.name in RESERVED or s.name in PREDEFINED or group.var(s.name) is not None or s.name in scope.lets:
            what = "a variable of '" + group.name + "'" if group.var(s.name) is not None else \
                "another let's" if s.name in scope.lets else "reserved"
            self.fail(Code.DUPLICATE if group.var(s.name) is not None or s.name in scope.lets else Code.RESERVED_NAME,
                      f"'let {s.name}' would hide a name that is {what}: a let takes a name of its own", s.span)
        value, dim = self.expr(s.value, scope)
        if value.dtype == "b":
            self.fail(Code.BAD_TYPE, f"'let {s.name}' names a number; a condition goes in 'if'", s.value.span)
        self._known(value, f"'let {s.name}'", s.value.span)
        scope.lets[s.name] = dim
        return ir.Let(f"_let_{s.name}", value, s.span)

    def _assign(self, s: ast.Assign, scope: Scope, context: str) -> ir.Stmt:
        group = scope.group
        if s.neighbour is not None:
            other = group.source if s.neighbour == "pre" else group.target
            if not scope.synapses:
                self.fail(Code.MISPLACED, f"'{s.neighbour}.{s.target}' is only meaningful in synapses", s.span)
            tgt_group = self.groups.get(other)
            if tgt_group is None:
                raise _Fail
            var = self._lookup_var(tgt_group, s.target, s.span)
            if var.shared:
                self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared in '{other}': event code runs per "
                          "synapse and cannot write it", s.span)
            target = ir.Var(other, var.name, s.neighbour, var.dtype, s.span)
        else:
            var = group.var(s.target)
            if var is None:
                names = [v.name for v in group.variables]
                hint = self._brian2_neighbour(s.target, group)
                if not hint and s.op == "=" and closest(s.target, names) is None and context != "every":
                    # Brian2's temporary variable (`w_minus = ...` in its code strings)
                    hint = f"; to name a value for the statements after it, write 'let {s.target} = ...'"
                self._unknown(s.target, names, s.span, f"variable of '{group.name}'", hint)
            target = ir.Var(group.name, var.name, "shared" if var.shared else "self", var.dtype, s.span)
        if var.kind == "subexpr":
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is a subexpression and cannot be assigned", s.span)
        if var.constant and context != "init":
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is constant: only 'init' and phases may set it",
                      s.span)
        if var.shared and context == "every" and s.neighbour is None:
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared: 'every' writes it once, before the statements "
                      "per element, so its writes come first in the block, outside 'if' (as in Brian2's "
                      "run_regularly)", s.span)
        if var.shared and context in ("event", "reset") and s.neighbour is None:
            what = {"event": "event code runs per synapse", "reset": "reset runs per neuron"}[context]
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared: {what} and cannot write it", s.span)
        value, dim = self.expr(s.value, scope)
        return ir.Assign(target, self._compound(target, var, s.op, value, dim, s.value.span), s.span)

    def _compound(self, target: ir.Expr, var: m.Variable, op: str, value: ir.Expr, dim: Dim, span) -> ir.Expr:
        if (target.group, var.name) in self.bad_vars:
            raise _Fail  # its declaration's unit is reported
        if value.dtype != "b":
            self._known(value, f"an assignment to '{var.name}'", span)
        if op in ("=", "+=", "-="):
            if var.dtype == "b":
                if op != "=" or value.dtype != "b":
                    self.fail(Code.BAD_TYPE, f"'{var.name}' is boolean; assign it a condition", span)
                return value
            if value.dtype == "b":
                self.fail(Code.BAD_TYPE, f"'{var.name}' is a number, not a condition", span)
            self._expect_dim(dim, var.dim, span, f"the value assigned to '{var.name}'")
        else:
            self._expect_dim(dim, DIMENSIONLESS, span, f"a factor in '{op}'")
        if op == "=":
            return value
        return _binary(op[0], target, value)
