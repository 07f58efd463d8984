"""Checking stage: `ast.Module` -> `model.Model`, or diagnostics.

Resolves every name (with "did you mean"), checks physical dimensions and
flags, folds constants and units to SI numbers, and turns expressions into
IR expressions. Independent errors are collected and reported together; an
expression with an error becomes a placeholder so checking can go on.
"""
from __future__ import annotations

import hashlib
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from snndsl.diagnostics import Code, CompileError, Diagnostic, Span, closest, error, warning
from snndsl.ir import nodes as ir
from snndsl.ir.evaluate import INT64, NotConstant, NotFinite, evaluate, finite_value
from snndsl.ir.integrate import METHODS, exact_problem, exponential_euler_problem
from snndsl.semantics import model as m
from snndsl.semantics.connectivity import check_connectivity
from snndsl.syntax import ast
from snndsl.syntax.ast import RESERVED
from snndsl.units import DIMENSIONLESS, SECOND, HERTZ, UNITS, Dim, format_dim, parse_suffix

PREDEFINED = {"i", "j", "t", "dt", "N"}
SETTINGS = {"dt", "seed", "precision"}

MATH_1 = {"exp", "log", "log10", "sin", "cos", "tan", "tanh", "sinh", "cosh"}
SAME_DIM_1 = {"abs", "floor", "ceil"}
REDUCTIONS = {"sum", "mean", "min", "max", "count", "sum_pre", "sum_post"}
FUNCTIONS = MATH_1 | SAME_DIM_1 | {"sqrt", "int", "clip", "min", "max", "where", "rand", "randn",
                                   "len"} | REDUCTIONS

_ERR = ir.Const(0.0)  # placeholder for an expression that failed to check


class _Fail(Exception):
    """Abandons the current expression; its diagnostic is already recorded."""


@dataclass
class Scope:
    """Where an expression is evaluated, and what it may use."""

    group: m.Group | None = None  # element-wise context of this group
    synapses: bool = False  # pre./post., j visible
    rand: bool = False
    reductions: bool = False
    locals: dict[str, str] = field(default_factory=dict)
    const_only: bool = False
    shared_only: bool = False  # a shared assignment: no per-element reads
    what: str = "here"  # for messages: "in a constant", "in a phase statement"


class Checker:
    def __init__(self, module: ast.Module, source: str):
        self.module = module
        self.file = module.file
        self.source = source
        self.diags: list[Diagnostic] = []
        self.consts: dict[str, tuple[float | int, Dim, str] | None] = {}
        self.const_decls: dict[str, ast.ConstDecl] = {}
        self.const_busy: set[str] = set()
        self.param_decls: dict[str, ast.ParamDecl] = {}
        self.params: dict[str, tuple[Dim, str] | None] = {}
        self.param_defs: dict[str, ir.ParamDef] = {}  # in dependency order
        self._param_busy: set[str] = set()
        self.integer_params: set[str] = set()  # used as integers: whole values checked at run time
        self.data_decls: dict[str, ast.DataDecl] = {}
        self.data_dims: dict[str, Dim] = {}
        self.data_scales: dict[str, float] = {}
        self.bad_data: set[str] = set()
        self.bad_locals: set[str] = set()  # protocol locals whose 'let' failed: uses fail quietly
        self.group_decls: dict[str, ast.GroupDecl] = {}
        self.groups: dict[str, m.Group] = {}
        self.dt = 1e-4
        self._reducing: str | None = None  # the group a reduction's argument ranges over
        self._subexprs: dict[tuple[str, str], ast.SubexprDecl] = {}
        self._subexpr_busy: set[tuple[str, str]] = set()
        self._current_group: str | None = None
        self.used: set[str] = set()  # constants, parameters and data read somewhere
        self.frozen_vars: set[tuple[str, str]] = set()  # (group, var) named by freeze/unfreeze
        self.bad_vars: set[tuple[str, str]] = set()  # (group, var) whose unit failed: uses fail quietly

    # ---- diagnostics ----------------------------------------------------
    def err(self, code: Code, msg: str, span: Span | None, *notes: str) -> None:
        self.diags.append(error(code, msg, span, *notes))

    def fail(self, code: Code, msg: str, span: Span | None, *notes: str):
        self.err(code, msg, span, *notes)
        raise _Fail

    # ---- entry -------------------------------------------------------------
    def run(self) -> m.Model:
        decls = self.module.decls
        self._collect_names(decls)
        for name in list(self.const_decls):
            self._const(name)
        for d in decls:
            if isinstance(d, ast.DataDecl):
                before = len(self.diags)
                self.data_scales[d.name], self.data_dims[d.name] = \
                    self._unit_both(d.unit) if d.unit else (1.0, DIMENSIONLESS)
                if len(self.diags) > before:  # an unknown unit, reported once: uses fail quietly
                    self.bad_data.add(d.name)
        settings = {d.name: d for d in decls if isinstance(d, ast.Setting)}
        self.dt = self._setting_dt(settings.get("dt"))
        seed = self._setting_seed(settings.get("seed"))
        precision = self._setting_precision(settings.get("precision"))
        params = self._params(decls)
        data = self._data(decls)
        # neuron-like groups first: synapses read their sizes and variables
        for d in decls:
            if isinstance(d, ast.GroupDecl) and d.kind != "synapses":
                self._group(d)
        for d in decls:
            if isinstance(d, ast.GroupDecl) and d.kind == "synapses":
                self._group(d)
        phases = [d for d in decls if isinstance(d, ast.PhaseDecl)]
        phase_names = {p.name for p in phases}
        monitors = tuple(self._monitor(d, phase_names) for d in decls if isinstance(d, ast.MonitorDecl))
        self.saves: dict[str, ir.SaveDef] = {}
        self.monitor_names = {mon.name for mon in monitors if mon is not None}
        self.protocol_locals: dict[str, str] = {}
        self.states: list[str] = []
        self._first_statement = phases[0].body[0] if phases and phases[0].body else None
        ir_phases = tuple(self._phase(p) for p in phases)
        self._warn_unused(decls)
        if not self.groups:
            for n in _ast_walk_stmts(phases):
                if isinstance(n, ast.Run):
                    self.err(Code.MISSING, "nothing to run: the model declares no group", n.span)
        digest = hashlib.sha256(self.source.encode()).hexdigest()
        return m.Model(
            name=Path(self.file).stem, file=self.file, source_hash=digest, dt=self.dt, seed=seed,
            params=tuple(_replace(p, integer=p.name in self.integer_params) for p in params),
            data=data, groups=tuple(self.groups[n] for n in self.group_order),
            monitors=tuple(mon for mon in monitors if mon is not None),
            saves=tuple(self.saves.values()), phases=ir_phases, frozen=tuple(sorted(self.frozen_vars)),
            states=tuple(self.states), precision=precision,
            locals=tuple(sorted(self.protocol_locals.items())))

    def _warn_unused(self, decls) -> None:
        for d in decls:
            if isinstance(d, (ast.ConstDecl, ast.ParamDecl, ast.DataDecl)) and d.name not in self.used \
                    and d.name not in RESERVED and d.name not in PREDEFINED:
                kind = {ast.ConstDecl: "constant", ast.ParamDecl: "parameter", ast.DataDecl: "data array"}[type(d)]
                self.diags.append(warning(Code.UNUSED, f"{kind} '{d.name}' is never used", d.span))
        for g in self.group_decls.values():
            has_refractory = any(isinstance(i, ast.Clause) and i.kind == "refractory" for i in g.items)
            for item in g.items:
                if isinstance(item, ast.OdeDecl) and "unless refractory" in item.flags and not has_refractory:
                    self.diags.append(warning(Code.NO_EFFECT, f"'(unless refractory)' has no effect: '{g.name}' "
                                              "has no refractory period", item.span))

    def _collect_names(self, decls) -> None:
        seen: dict[str, Span | None] = {}
        self.group_order: list[str] = []
        for d in decls:
            if isinstance(d, (ast.Setting, ast.PhaseDecl, ast.MonitorDecl)):
                continue
            name = d.name
            span = getattr(d, "name_span", None) or d.span
            if name in RESERVED or name in PREDEFINED:
                self.err(Code.RESERVED_NAME, f"'{name}' is reserved and cannot be declared", span)
                continue
            if name in seen:
                self.err(Code.DUPLICATE, f"'{name}' is declared twice", span,
                         f"first declared at {seen[name]}")
                continue
            seen[name] = d.span
            if isinstance(d, ast.ConstDecl):
                self.const_decls[name] = d
            elif isinstance(d, ast.ParamDecl):
                self.param_decls[name] = d
            elif isinstance(d, ast.DataDecl):
                self.data_decls[name] = d
            elif isinstance(d, ast.GroupDecl):
                self.group_decls[name] = d
        names: dict[str, Span | None] = {}
        for d in decls:
            if isinstance(d, ast.PhaseDecl):
                if d.name in names:
                    self.err(Code.DUPLICATE, f"phase '{d.name}' is declared twice", d.name_span,
                             f"first declared at {names[d.name]}")
                names[d.name] = d.span
        for d in decls:
            if isinstance(d, ast.Setting) and d.name not in SETTINGS:
                near = closest(d.name, SETTINGS)
                self.err(Code.UNKNOWN_SETTING,
                         f"unknown setting '{d.name}'" + (f"; did you mean '{near}'?" if near else "")
                         + " (settings are dt, seed and precision; use 'const' or 'param' for values)",
                         d.span)

    # ---- constants, settings, parameters, data -------------------------------
    def _const(self, name: str):
        """A constant's (value, dimension, dtype); None when it failed to check
        (reported once: its uses fail quietly rather than echo the error)."""
        if name in self.consts:
            return self.consts[name]
        d = self.const_decls[name]
        if name in self.const_busy:
            self.err(Code.CYCLE, f"constant '{name}' is defined in terms of itself", d.span)
            self.consts[name] = None
            return self.consts[name]
        self.const_busy.add(name)
        try:
            e, dim = self.expr(d.value, Scope(const_only=True, what="in a constant"))
            value = finite_value(e)
            self.consts[name] = (value, dim, e.dtype)
        except _Fail:
            self.consts[name] = None
        except NotFinite as exc:
            self.err(Code.BAD_VALUE, f"{exc.why} in constant '{name}'", exc.span or d.value.span)
            self.consts[name] = None
        except NotConstant:
            self.err(Code.NOT_CONSTANT, f"constant '{name}' must be computable at compile time",
                     d.value.span)
            self.consts[name] = None
        finally:
            self.const_busy.discard(name)
        return self.consts[name]

    def _constant_value(self, e: ast.Expr, want: Dim, what: str):
        try:
            x, dim = self.expr(e, Scope(const_only=True, what=what))
            self._expect_dim(dim, want, e.span, what)
            return finite_value(x)
        except _Fail:
            return None
        except NotFinite as exc:
            self.err(Code.BAD_VALUE, f"{exc.why} in {what}", exc.span or e.span)
            return None
        except NotConstant:
            self.err(Code.NOT_CONSTANT, f"{what} must be a constant", e.span)
            return None

    def _known(self, e: ir.Expr, what: str, span):
        """The value of a checked expression when it is known at compile time,
        None when it reads something known only at run time. A value that is
        not finite is reported where it stops being finite, and fails."""
        try:
            return finite_value(e)
        except NotFinite as exc:
            self.fail(Code.BAD_VALUE, f"{exc.why} in {what}", exc.span or span)
        except NotConstant:
            return None

    def _check_steps(self, seconds: float, span, what: str) -> None:
        """A duration known at compile time must fit the step counter: at most
        MAX_STEPS steps of dt (the bound the generated C checks at run time,
        SNN_MAX_STEPS of runtime_c/snn_support.h)."""
        steps = seconds / self.dt
        if not steps <= MAX_STEPS:
            self.fail(Code.BAD_VALUE, f"{what} of {seconds:g} s is {steps:.3g} time steps of dt = {self.dt:g} s; "
                      "the step counter holds at most 2**53 (about 9.0e15) steps", span)

    def _setting_dt(self, d: ast.Setting | None) -> float:
        if d is None:
            return 1e-4
        v = self._constant_value(d.value, SECOND, "the time step dt")
        if v is None:
            return 1e-4
        if not v > 0 or not math.isfinite(v):
            self.err(Code.BAD_VALUE, f"dt must be positive, not {v:g} s", d.value.span)
            return 1e-4
        if not math.isfinite(1 / v):
            self.err(Code.BAD_VALUE, f"dt = {v:g} s is too small: 1/dt is not a finite number", d.value.span)
            return 1e-4
        return float(v)

    def _setting_seed(self, d: ast.Setting | None) -> int:
        if d is None:
            return 0
        v = self._constant_value(d.value, DIMENSIONLESS, "the seed")
        if v is None:
            return 0
        if not _is_int(v) or v < 0 or v >= 2 ** 63:
            self.err(Code.BAD_VALUE, "seed must be a non-negative integer below 2**63", d.value.span)
            return 0
        return int(v)

    def _setting_precision(self, d: ast.Setting | None) -> str:
        if d is None:
            return "double"
        if isinstance(d.value, ast.Name) and d.value.id in ("double", "single"):
            return d.value.id
        self.err(Code.BAD_VALUE, "precision is 'double' or 'single'", d.value.span)
        return "double"

    def _integral(self, e: ir.Expr) -> bool:
        """Whether `e` has a whole value once its parameters do: integers, loop
        variables, and +, -, *, % of them, where a parameter counts if its
        default is itself integral."""
        if e.dtype == "i":
            return True
        if isinstance(e, ir.Param):
            d = self.param_defs.get(e.name)
            return d is not None and tuple(d.dim) == DIMENSIONLESS.ints() and self._integral(d.default)
        if isinstance(e, ir.Binary):
            return e.op in ("+", "-", "*", "%") and self._integral(e.left) and self._integral(e.right)
        if isinstance(e, ir.Unary):
            return e.op == "-" and self._integral(e.operand)
        return False

    def _as_integer(self, e: ir.Expr, dim: Dim) -> ir.Expr | None:
        """`e` where an integer is needed (an index, an index or loop bound):
        as it is if integer-typed; converted if it is integral through
        parameters, which are then checked at run time to hold whole values
        (`--set n=2.5` is an error, not a truncation); None otherwise."""
        if dim != DIMENSIONLESS:
            return None
        if e.dtype == "i":
            return e
        if not self._integral(e):
            return None
        for node in ir.walk(e):
            if isinstance(node, ir.Param):
                self.integer_params.add(node.name)
        return ir.Call("int", (e,), "i", e.span)

    def _params(self, decls) -> tuple[ir.ParamDef, ...]:
        """Every parameter, in dependency order: a default may read others."""
        for name in self.param_decls:
            try:
                self._param(name)
            except _Fail:
                pass
        return tuple(self.param_defs.values())

    def _param(self, name: str) -> tuple[Dim, str]:
        """A parameter's dimension and dtype, checking its default on first use."""
        if name in self.params:
            if self.params[name] is None:
                raise _Fail  # its declaration's error is reported; no echo at each use
            return self.params[name]
        d = self.param_decls[name]
        if name in self._param_busy:
            self.fail(Code.CYCLE, f"parameter '{name}' is defined in terms of itself", d.span)
        self._param_busy.add(name)
        try:
            e, dim = self.expr(d.value, Scope(what="in a parameter"))
            if e.dtype == "b":
                self.fail(Code.BAD_TYPE, "a parameter is a number, not a condition", d.value.span)
            self._known(e, f"the default of parameter '{name}'", d.value.span)
        except _Fail:
            self.params[name] = None  # reported once; uses fail quietly
            raise
        finally:
            self._param_busy.discard(name)
        self.param_defs[name] = ir.ParamDef(name, e, dim.ints(), format_dim(dim), d.span)
        self.params[name] = (dim, "f")
        return self.params[name]

    def _data(self, decls) -> tuple[ir.DataDef, ...]:
        base = Path(self.file).resolve().parent if self.file and not self.file.startswith("<") else Path.cwd()
        out = []
        for d in decls:
            if not isinstance(d, ast.DataDecl):
                continue
            scale = self.data_scales[d.name]
            path, _, key = d.path.partition(":") if d.path.count(":") == 1 and not _is_windows_drive(d.path) else (d.path, "", "")
            if not path:
                self.err(Code.BAD_VALUE, "the data path is empty", d.path_span)
                continue
            full = path if os.path.isabs(path) else str(base / path)
            if key:
                full += ":" + key
            out.append(ir.DataDef(d.name, full, format_dim(self.data_dims[d.name]), scale, d.span))
        return tuple(out)

    # ---- units ------------------------------------------------------------
    def _unit(self, u: ast.Unit) -> Dim:
        return self._unit_both(u)[1]

    def _unit_scale(self, u: ast.Unit) -> float:
        return self._unit_both(u)[0]

    def _unit_both(self, u: ast.Unit) -> tuple[float, Dim]:
        scale, dim = 1.0, DIMENSIONLESS
        for name, power in u.factors:
            if name in ("boolean", "integer"):
                continue
            if name not in UNITS:
                near = closest(name, UNITS)
                self.err(Code.UNKNOWN_UNIT, f"unknown unit '{name}'"
                         + (f"; did you mean '{near}'?" if near else ""), u.span)
                continue
            s, d = UNITS[name]
            scale *= s ** power
            dim = dim * d ** power
        return scale, dim

    def _var_type(self, u: ast.Unit) -> tuple[Dim, str]:
        names = [n for n, _ in u.factors]
        if names == ["boolean"]:
            return DIMENSIONLESS, "b"
        if names == ["integer"]:
            return DIMENSIONLESS, "i"
        if "boolean" in names or "integer" in names:
            self.err(Code.BAD_TYPE, "'boolean' and 'integer' stand alone in a declaration", u.span)
        return self._unit(u), "f"

    # ---- groups --------------------------------------------------------------
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
                if end not in self.group_decls or self.group_decls[end].kind == "synapses":
                    near = closest(end, [g for g, gd in self.group_decls.items() if gd.kind != "synapses"])
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
        group = m.Group(d.kind, d.name, size, tuple(variables), source=d.source, target=d.target,
                        span=d.span)
        self.groups[d.name] = group  # visible to its own expressions from here on
        group = self._group_items(d, group)
        self.groups[d.name] = group

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
            allowed = set()
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
        self._current_group = d.name
        for item in d.items:
            group = self.groups[d.name]
            elem = Scope(group=group, synapses=synapses, rand=True)
            try:
                key = getattr(item, "kind", None) if isinstance(item, (ast.Clause, ast.CodeBlock)) else type(item).__name__
                if isinstance(item, (ast.Clause, ast.CodeBlock, ast.Method, ast.ConnectFrom)):
                    tag = "connect" if isinstance(item, ast.ConnectFrom) else (key or "method")
                    if tag in clauses_seen:
                        self.err(Code.DUPLICATE, f"'{tag}' is given twice in '{d.name}'", item.span,
                                 f"first given at {clauses_seen[tag]}")
                        continue
                    clauses_seen[tag] = item.span
                if isinstance(item, ast.SubexprDecl):
                    if (d.name, item.name) in self._subexprs:
                        self._subexpr(d.name, item.name, item.span)
                    continue
                if isinstance(item, ast.OdeDecl):
                    var = group.var(item.name)
                    if var is None or var.kind != "ode" or (d.name, item.name) in self.bad_vars:
                        failed.add("ode")  # its declaration was refused
                        continue
                    scope = Scope(group=group, synapses=synapses, what="in an equation")
                    e, dim = self.expr(item.expr, scope)
                    self._expect_dim(dim, var.dim / SECOND, item.expr.span, f"the right side of d{item.name}/dt")
                    g = self.groups[d.name]
                    self.groups[d.name] = _replace(g, variables=tuple(
                        _replace(x, expr=e) if x.name == item.name else x for x in g.variables))
                elif isinstance(item, ast.Prop):
                    attempted.add(item.name)
                    changes.update(self._prop(d, group, item))
                elif isinstance(item, ast.Clause):
                    changes.update(self._clause(d, group, item, elem))
                elif isinstance(item, ast.ConnectFrom):
                    if not synapses:
                        self.fail(Code.MISPLACED, "'connect:' belongs in a synapses group", item.span)
                    self.used.add(item.data)
                    if item.data not in self.data_decls:
                        self._unknown(item.data, self.data_decls, item.span, "data array")
                    changes.update(connect="data", connect_data=item.data)
                elif isinstance(item, ast.Method):
                    if d.kind not in ("neurons", "synapses"):
                        self.fail(Code.MISPLACED, "'method:' belongs in a neuron or synapses group", item.span)
                    if item.name not in METHODS:
                        near = closest(item.name, METHODS)
                        self.fail(Code.BAD_VALUE, f"unknown integration method '{item.name}'"
                                  + (f"; did you mean '{near}'?" if near else "")
                                  + f" (methods: {', '.join(METHODS)})", item.span)
                    changes.update(method=item.name, method_span=item.span)
                elif isinstance(item, ast.CodeBlock):
                    changes.update(self._code_block(d, group, item))
            except _Fail:
                failed.add("ode" if isinstance(item, ast.OdeDecl) else getattr(item, "kind", None)
                           or type(item).__name__)
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
                self.err(Code.DIMENSION, f"a Poisson rate is in hertz (1/second), not {format_dim(v.dim)}",
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

    def _check_integration(self, d: ast.GroupDecl, group: m.Group) -> None:
        """The method must be able to integrate the system; with none given,
        the system must be linear with constant coefficients (exact)."""
        eqs = group.integration_system()
        if not eqs:
            if group.method is not None:
                self.err(Code.BAD_VALUE, f"'{d.name}' has no differential equation to integrate", group.method_span)
            return
        if group.method is None:
            why = exact_problem(eqs, group.name)
            if why is not None:
                self.err(Code.NOT_LINEAR, f"the equations of '{d.name}' cannot be integrated exactly ({why}); "
                         "name a method: 'method: euler', 'rk2', 'rk4' or 'exponential_euler'", d.name_span)
            return
        why = {"exact": exact_problem, "exponential_euler": exponential_euler_problem}.get(
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
            for n in ir.walk(e):
                if isinstance(n, ir.Var) and n.at == "self":
                    self.fail(Code.MISPLACED, "a connection condition cannot read the synapse's own "
                              "variables (they do not exist yet)", n.span)
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
        scope = Scope(group=group, what=f"in '{item.kind}:'")
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

    def _code_block(self, d: ast.GroupDecl, group: m.Group, item: ast.CodeBlock) -> dict:
        if item.kind in ("pre", "post"):
            if d.kind != "synapses":
                self.fail(Code.MISPLACED, f"'on {item.kind}:' belongs in a synapses group", item.span)
            scope = Scope(group=group, synapses=True, rand=True, what=f"in 'on {item.kind}'")
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

    def _stmts(self, body, scope: Scope, context: str) -> tuple[ir.Stmt, ...]:
        out = []
        for s in body:
            try:
                if isinstance(s, ast.If):
                    c, _ = self.expr(s.cond, scope)
                    self._expect_bool(c, s.cond.span)
                    out.append(ir.If(c, self._stmts(s.body, scope, context),
                                     self._stmts(s.orelse, scope, context), s.span))
                else:
                    out.append(self._assign(s, scope, context))
            except _Fail:
                pass
        return tuple(out)

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
                self._unknown(s.target, [v.name for v in group.variables], s.span,
                              f"variable of '{group.name}'")
            target = ir.Var(group.name, var.name, "shared" if var.shared else "self", var.dtype, s.span)
        if var.kind == "subexpr":
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is a subexpression and cannot be assigned", s.span)
        if var.constant and context != "init":
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is constant: only 'init' and phases may set it",
                      s.span)
        if var.shared and context in ("event", "reset") and s.neighbour is None:
            what = "event code runs per synapse" if context == "event" else "reset runs per neuron"
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

    def _data_dim(self, name: str) -> Dim:
        if name in self.bad_data:
            raise _Fail  # its declaration's unit is reported
        return self.data_dims[name]

    def _lookup_var(self, group: m.Group, name: str, span) -> m.Variable:
        v = group.var(name)
        if v is None:
            self._unknown(name, [x.name for x in group.variables], span, f"variable of '{group.name}'")
        return v

    def _unknown(self, name: str, candidates, span, what: str):
        near = closest(name, candidates)
        code = Code.UNKNOWN_GROUP if what == "group" else Code.UNDEFINED_NAME
        self.fail(code, f"'{name}' is not a {what}" + (f"; did you mean '{near}'?" if near else ""), span)

    # ---- monitors ------------------------------------------------------------
    def _monitor(self, d: ast.MonitorDecl, phase_names: set[str]) -> ir.Monitor | None:
        try:
            if d.group not in self.groups:
                self._unknown(d.group, self.groups, d.group_span, "group")
            group = self.groups[d.group]
            for name, span in zip(d.during, d.during_spans):
                if name not in phase_names:
                    self._unknown(name, phase_names, span, "phase")
            if d.kind in ("spikes", "rate"):
                if group.kind == "synapses":
                    self.fail(Code.BAD_VALUE, "synapses do not spike; monitor a neuron group", d.group_span)
                return ir.Monitor(d.name, d.kind, d.group, unit="1/second" if d.kind == "rate" else "1",
                                  span=d.span)
            var = self._lookup_var(group, d.var, d.var_span)
            every, step = 1, None
            if d.every is not None:
                step = self._constant_value(d.every, SECOND, "'every'")
                if step is None:
                    raise _Fail
                k = step / self.dt
                if step > 0:
                    self._check_steps(step, d.every.span, "'every'")
                if step <= 0 or k < 1 - 1e-9:
                    self.fail(Code.BAD_VALUE, f"'every' must be at least dt ({self.dt:g} s)", d.every.span)
                if abs(k - round(k)) > 1e-6 * max(1.0, k):
                    self.fail(Code.BAD_VALUE, f"'every' must be a whole number of time steps "
                              f"(dt = {self.dt:g} s, every = {step:g} s)", d.every.span)
                every = int(round(k))
            lo, hi = 0, None
            if d.selector is not None:
                if not isinstance(d.selector, ast.Range):
                    self.fail(Code.BAD_VALUE, "a monitor selects an index range [a:b]", d.selector.span)
                if var.shared:
                    self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared: it has no elements to select",
                              d.selector.span)
                lo, hi = self._range_consts(d.selector, group)
            return ir.Monitor(d.name, "state", d.group, var.name, lo, hi, every,
                              step if d.every is not None else None, tuple(d.during),
                              format_dim(var.dim), var.dtype, d.span)
        except _Fail:
            return None

    def _range_consts(self, sel: ast.Range, group: m.Group) -> tuple[int, int | None]:
        bounds = []
        for e in (sel.lo, sel.hi):
            if e is None:
                bounds.append(None)
                continue
            v = self._constant_value(e, DIMENSIONLESS, "an index bound")
            if v is None or not _is_int(v) or v < 0 or v > MAX_SIZE:
                self.fail(Code.BAD_VALUE, "an index bound is a non-negative integer constant", e.span)
            bounds.append(int(v))
        lo, hi = bounds[0] or 0, bounds[1]
        if group.size is not None and hi is not None and hi > group.size:
            self.fail(Code.BAD_VALUE, f"index {hi} is past the end of '{group.name}' ({group.size} elements)",
                      sel.span)
        if hi is not None and hi <= lo:
            self.fail(Code.BAD_VALUE, f"the range [{lo}:{hi}] is empty", sel.span)
        return lo, hi

    # ---- the protocol -----------------------------------------------------
    def _phase(self, p: ast.PhaseDecl) -> ir.Phase:
        return ir.Phase(p.name, self._pstmts(p.body, {}, loop_depth=0), p.span)

    def _pstmts(self, body, local_vars: dict[str, str], loop_depth: int) -> tuple[ir.Stmt, ...]:
        out = []
        for s in body:
            try:
                r = self._pstmt(s, local_vars, loop_depth)
                if r is not None:
                    out.append(r)
            except _Fail:
                pass
        return tuple(out)

    def _scalar_scope(self, local_vars, what: str) -> Scope:
        return Scope(reductions=True, locals=dict(local_vars), what=what)

    def _pstmt(self, s, local_vars: dict[str, str], loop_depth: int):
        if isinstance(s, ast.Run):
            e, dim = self.expr(s.duration, self._scalar_scope(local_vars, "in 'run'"))
            self._expect_dim(dim, SECOND, s.duration.span, "a run's duration")
            v = self._known(e, "a run's duration", s.duration.span)
            if v is not None:
                if not v > 0:
                    self.fail(Code.BAD_VALUE, f"a run's duration is a finite, positive time, not {v:g} s",
                              s.duration.span)
                self._check_steps(v, s.duration.span, "a run")
            return ir.Run(e, span=s.span)
        if isinstance(s, ast.GroupAssign):
            return self._group_assign(s, local_vars)
        if isinstance(s, ast.Let):
            if s.name in RESERVED or s.name in PREDEFINED:
                self.fail(Code.RESERVED_NAME, f"'{s.name}' is reserved and cannot name a local", s.span)
            if s.name in local_vars:
                self.fail(Code.DUPLICATE, f"'{s.name}' is already defined", s.span)
            self._shadow_check(s.name, s.span)
            try:
                e, dim = self.expr(s.value, self._scalar_scope(local_vars, "in 'let'"))
                if dim != DIMENSIONLESS or e.dtype == "b":
                    self.fail(Code.DIMENSION, "a protocol local ('let') holds a dimensionless number", s.value.span)
            except _Fail:
                local_vars[s.name] = "f"  # declared all the same, so that its uses do not echo the error
                self.bad_locals.add(s.name)
                raise
            self.bad_locals.discard(s.name)
            local_vars[s.name] = "f"
            self.protocol_locals[s.name] = "f"
            return ir.SetLocal(s.name, e, True, s.span)
        if isinstance(s, ast.LocalAssign):
            if s.name not in local_vars:
                if s.name in self.groups or s.name in self.param_decls or s.name in self.const_decls:
                    self.fail(Code.BAD_VALUE, f"'{s.name}' cannot be assigned here; "
                              "a group's variable is set with 'G.X = ...', a local is declared with 'let'", s.span)
                self._unknown(s.name, local_vars, s.span, "local (declare it with 'let')")
            if local_vars[s.name] == "i":
                self.fail(Code.FLAG_VIOLATION, f"the loop variable '{s.name}' cannot be assigned", s.span)
            if s.name in self.bad_locals:
                raise _Fail  # its 'let' is reported
            e, dim = self.expr(s.value, self._scalar_scope(local_vars, "in an assignment"))
            self._expect_dim(dim, DIMENSIONLESS, s.value.span, f"the value of '{s.name}'")
            cur = ir.Local(s.name, "f")
            value = e if s.op == "=" else _binary(s.op[0], cur, e)
            return ir.SetLocal(s.name, value, False, s.span)
        if isinstance(s, ast.For):
            scope = self._scalar_scope(local_vars, "in a loop bound")
            bounds = []
            for b in (s.start, s.stop):
                e, dim = self.expr(b, scope)
                self._expect_dim(dim, DIMENSIONLESS, b.span, "a loop bound")
                e = self._as_integer(e, dim) or ir.Call("int", (e,), "i")
                bounds.append(e)
            if s.var in RESERVED or s.var in PREDEFINED:
                self.fail(Code.RESERVED_NAME, f"'{s.var}' is reserved and cannot name a loop variable", s.span)
            if s.var in local_vars:
                self.fail(Code.DUPLICATE, f"'{s.var}' is already defined", s.span)
            self._shadow_check(s.var, s.span)
            inner = dict(local_vars)
            inner[s.var] = "i"
            self.protocol_locals[s.var] = "i"
            return ir.For(s.var, bounds[0], bounds[1], self._pstmts(s.body, inner, loop_depth + 1), s.span)
        if isinstance(s, ast.While):
            c, _ = self.expr(s.cond, self._scalar_scope(local_vars, "in 'while'"))
            self._expect_bool(c, s.cond.span)
            return ir.While(c, self._pstmts(s.body, dict(local_vars), loop_depth + 1), s.span)
        if isinstance(s, ast.If):
            c, _ = self.expr(s.cond, self._scalar_scope(local_vars, "in 'if'"))
            self._expect_bool(c, s.cond.span)
            return ir.If(c, self._pstmts(s.body, dict(local_vars), loop_depth),
                         self._pstmts(s.orelse, dict(local_vars), loop_depth), s.span)
        if isinstance(s, ast.Save):
            return self._save(s, loop_depth > 0)
        if isinstance(s, ast.Freeze):
            return self._freeze(s, local_vars)
        if isinstance(s, ast.StoreState):
            if s.name in self.states or s.name in self.saves or s.name in self.monitor_names:
                self.fail(Code.DUPLICATE, f"'{s.name}' already names a stored state, a saved array or a "
                          "monitor", s.span)
            if loop_depth > 0:
                self.fail(Code.MISPLACED, "'store state' inside a loop would overwrite itself; store it "
                          "after the loop", s.span)
            self.states.append(s.name)
            return ir.StoreState(s.name, s.span)
        if isinstance(s, ast.RestoreState):
            if s is not self._first_statement:
                self.fail(Code.MISPLACED, "'restore state' must be the first statement of the first phase: "
                          "the run continues from the snapshot", s.span)
            path = s.path
            if not os.path.isabs(path) and not self.file.startswith("<"):
                path = str(Path(self.file).resolve().parent / path)
            return ir.RestoreState(path, s.span)
        raise AssertionError(f"unknown statement {s!r}")  # pragma: no cover

    def _shadow_check(self, name: str, span) -> None:
        if name in self.const_decls or name in self.param_decls or name in self.data_decls or name in self.groups:
            self.fail(Code.DUPLICATE, f"'{name}' is already declared at the top level", span)

    def _target_var(self, t: ast.Target) -> tuple[m.Group, m.Variable]:
        if t.group not in self.groups:
            self._unknown(t.group, self.groups, t.group_span, "group")
        group = self.groups[t.group]
        var = self._lookup_var(group, t.var, t.var_span)
        return group, var

    def _group_assign(self, s: ast.GroupAssign, local_vars) -> ir.Stmt:
        group, var = self._target_var(s.target)
        if var.kind == "subexpr":
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is a subexpression and cannot be assigned",
                      s.target.var_span)
        if group.kind == "spikes":
            self.fail(Code.BAD_VALUE, "a spikes group has no variables", s.target.span)
        at = "shared" if var.shared else "self"
        target = ir.Var(group.name, var.name, at, var.dtype, s.target.var_span)
        synapses = group.kind == "synapses"
        if var.shared:
            scope = Scope(group=group, reductions=True, locals=dict(local_vars), shared_only=True,
                          what="in a shared assignment")
        else:
            scope = Scope(group=group, synapses=synapses, rand=True, reductions=True,
                          locals=dict(local_vars), what="in a phase assignment")
        where = lo = hi = None
        sel = s.target.selector
        if sel is not None and var.shared:
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared (one value for the whole group) and "
                      "cannot be assigned per element", sel.span)
        if isinstance(sel, ast.Where):
            where, _ = self.expr(sel.cond, scope)
            self._expect_bool(where, sel.cond.span)
        elif isinstance(sel, ast.Range):
            lo, hi = self._range_bounds(sel, local_vars)
        value, dim = self.expr(s.value, scope)
        value = self._compound(target, var, s.op, value, dim, s.value.span)
        return ir.GroupAssign(group.name, target, value, where, lo, hi, s.span)

    def _range_bounds(self, sel: ast.Range, local_vars) -> tuple[ir.Expr | None, ir.Expr | None]:
        """`[a:b]` of a phase statement: scalar integer bounds, either may be absent."""
        scope = self._scalar_scope(local_vars, "in an index bound")
        bounds = []
        for b in (sel.lo, sel.hi):
            if b is None:
                bounds.append(None)
                continue
            e, dim = self.expr(b, scope)
            self._expect_dim(dim, DIMENSIONLESS, b.span, "an index bound")
            index = self._as_integer(e, dim)
            if index is None:
                self.fail(Code.BAD_TYPE, "an index bound is an integer", b.span)
            bounds.append(index)
        return bounds[0], bounds[1]

    def _freeze(self, s: ast.Freeze, local_vars) -> ir.Stmt:
        group, var = self._target_var(s.target)
        word = "freeze" if s.frozen else "unfreeze"
        if var.kind == "subexpr":
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is a subexpression: there is nothing to {word}",
                      s.target.var_span)
        if group.kind == "spikes":
            self.fail(Code.BAD_VALUE, "a spikes group has no variables", s.target.span)
        sel = s.target.selector
        if sel is not None and var.shared:
            self.fail(Code.FLAG_VIOLATION, f"'{var.name}' is shared (one value for the whole group) and "
                      f"cannot be {word}d per element", sel.span)
        where = lo = hi = None
        if isinstance(sel, ast.Where):
            scope = Scope(group=group, synapses=group.kind == "synapses", rand=True, reductions=True,
                          locals=dict(local_vars), what=f"in '{word}'")
            where, _ = self.expr(sel.cond, scope)
            self._expect_bool(where, sel.cond.span)
        elif isinstance(sel, ast.Range):
            lo, hi = self._range_bounds(sel, local_vars)
        self.frozen_vars.add((group.name, var.name))
        return ir.Freeze(group.name, var.name, s.frozen, where, lo, hi, s.span)

    def _save(self, s: ast.Save, in_loop: bool) -> ir.Stmt:
        group, var = self._target_var(ast.Target(s.group, s.var, None, s.span, s.group_span, s.var_span))
        if s.name in self.saves:
            self.fail(Code.DUPLICATE, f"'{s.name}' is already saved elsewhere", s.name_span,
                      f"first saved at {self.saves[s.name].span}")
        if s.name in self.monitor_names:
            self.fail(Code.DUPLICATE, f"'{s.name}' already names a monitor", s.name_span)
        expr = self._subexpr(group.name, var.name, s.var_span) if var.kind == "subexpr" else None
        if expr is not None and any(isinstance(n, ir.Rand) for n in ir.walk(expr)):
            self.fail(Code.MISPLACED, f"'{var.name}' draws random numbers: saving it would not show the "
                      "values the model used", s.var_span)
        self.saves[s.name] = ir.SaveDef(s.name, group.name, var.name, in_loop, format_dim(var.dim),
                                        var.dtype, expr, span=s.span)
        return ir.SaveVar(s.name, s.span)

    # ---- expressions -----------------------------------------------------------
    def _expect_dim(self, got: Dim, want: Dim, span, what: str) -> None:
        if got != want:
            self.fail(Code.DIMENSION, f"{what} must be in {format_dim(want)}, but it is in {format_dim(got)}",
                      span)

    def _expect_bool(self, e: ir.Expr, span) -> None:
        if e.dtype != "b":
            self.fail(Code.BAD_TYPE, "a condition is expected here (a comparison, and/or/not, true/false)",
                      span)

    def expr(self, e: ast.Expr, scope: Scope) -> tuple[ir.Expr, Dim]:
        method = getattr(self, "_e_" + type(e).__name__)
        return method(e, scope)

    def _e_Number(self, e: ast.Number, scope: Scope):
        text = e.text
        is_int = all(c.isdigit() for c in text)
        value = int(text) if is_int else float(text)
        if is_int and value >= INT64:
            self.fail(Code.BAD_VALUE, f"the integer {text} overflows 64 bits", e.span)
        scale, dim = 1.0, DIMENSIONLESS
        if e.unit is not None:
            parsed = parse_suffix(e.unit)
            if isinstance(parsed, str):
                self.fail(Code.UNKNOWN_UNIT, f"unknown unit '{parsed}'", e.span)
            scale, dim = parsed
        si = float(value) * scale
        written = f"{text} {e.unit}" if e.unit else text
        if not math.isfinite(si):
            self.fail(Code.BAD_VALUE, f"{written} overflows to infinity (the largest number is about 1.8e308"
                      + (" in SI units)" if e.unit else ")"), e.span)
        if si != 0 and abs(si) < sys.float_info.min or si == 0 and any(c in "123456789" for c in _mantissa(text)):
            self.fail(Code.BAD_VALUE, f"{written} underflows to zero (the smallest normal number is about 2.2e-308"
                      + (" in SI units)" if e.unit else ")"), e.span)
        if e.unit is None:
            return ir.Const(value, "i" if is_int else "f", e.span), DIMENSIONLESS
        return ir.Const(si, "f", e.span), dim

    def _e_Bool(self, e: ast.Bool, scope: Scope):
        return ir.Const(e.value, "b", e.span), DIMENSIONLESS

    def _visible_names(self, scope: Scope) -> list[str]:
        names = list(self.consts) + list(self.const_decls) + list(UNITS)
        if not scope.const_only:
            names += list(self.param_decls) + list(scope.locals) + ["t", "dt"]
            if scope.group is not None:
                names += [v.name for v in scope.group.variables] + ["i", "N"]
                if scope.synapses:
                    names += ["j"]
        return names

    def _e_Name(self, e: ast.Name, scope: Scope):
        name = e.id
        self.used.add(name)
        if name in scope.locals:
            if name in self.bad_locals:
                raise _Fail  # its 'let' is reported
            return ir.Local(name, scope.locals[name], e.span), DIMENSIONLESS
        group = scope.group
        if group is not None and not scope.const_only:
            v = group.var(name)
            if v is not None:
                if scope.shared_only and not v.shared:
                    self.fail(Code.FLAG_VIOLATION, f"'{name}' has one value per element; a shared variable "
                              f"is set from shared values or reductions such as mean({name})", e.span)
                return self._var_ref(group, v, "shared" if v.shared else "self", e.span, scope)
            if name == "i" and not scope.shared_only:
                return ir.Special("i", "i", e.span), DIMENSIONLESS
            if name == "j" and scope.synapses:
                return ir.Special("j", "i", e.span), DIMENSIONLESS
            if name == "N":
                return ir.Size(group.name, "i", e.span), DIMENSIONLESS
        if name in self.const_decls:
            known = self._const(name)
            if known is None:
                raise _Fail  # its declaration's error is reported
            value, dim, dtype = known
            return ir.Const(value, dtype, e.span), dim
        if not scope.const_only:
            if name == "t":
                return ir.Special("t", "f", e.span), SECOND
            if name == "dt":
                return ir.Const(self.dt, "f", e.span), SECOND
            if name in self.param_decls:
                dim, dtype = self._param(name)
                return ir.Param(name, dtype, e.span), dim
            if name in self.data_decls:
                if group is None or scope.shared_only:
                    self.fail(Code.MISPLACED, f"data array '{name}' needs indices here: {name}[...]", e.span)
                return ir.DataAt(name, (ir.Special("elem", "i"),), "f", e.span), self._data_dim(name)
        elif name == "dt":
            return ir.Const(self.dt, "f", e.span), SECOND
        if name in UNITS:
            scale, dim = UNITS[name]
            return ir.Const(scale, "f", e.span), dim
        if name in ("i", "j", "N", "t") or (scope.const_only and (name in self.param_decls or name in self.data_decls)):
            self.fail(Code.MISPLACED, f"'{name}' cannot be used {scope.what}", e.span)
        if name in self.groups:
            self.fail(Code.MISPLACED, f"'{name}' is a group; write '{name}.X' for its variable X", e.span)
        near = closest(name, self._visible_names(scope))
        self.fail(Code.UNDEFINED_NAME, f"'{name}' is not defined" + (f"; did you mean '{near}'?" if near else ""),
                  e.span)

    def _var_ref(self, group: m.Group, v: m.Variable, at: str, span, scope: Scope):
        if (group.name, v.name) in self.bad_vars:
            raise _Fail  # its declaration's unit is reported
        if v.kind == "subexpr":
            expr = self._subexpr(group.name, v.name, span)
            return _retarget(expr, at), v.dim
        return ir.Var(group.name, v.name, at, v.dtype, span), v.dim

    def _subexpr(self, group: str, name: str, span) -> ir.Expr:
        """A subexpression's checked expression, checked on first use (so
        declaration order does not matter); a cycle is an error."""
        var = self.groups[group].var(name)
        if var.expr is not None:
            return var.expr
        key = (group, name)
        item = self._subexprs.get(key)
        if item is None:
            raise _Fail  # its declaration already failed and was reported
        if key in self._subexpr_busy:
            self.fail(Code.CYCLE, f"subexpression '{name}' is defined in terms of itself", item.span)
        self._subexpr_busy.add(key)
        try:
            g = self.groups[group]
            scope = Scope(group=g, synapses=g.kind == "synapses", what="in a subexpression")
            e, dim = self.expr(item.expr, scope)
            self._expect_dim(dim, var.dim, item.expr.span, f"'{name}'")
        except _Fail:
            self._subexprs.pop(key, None)
            raise
        finally:
            self._subexpr_busy.discard(key)
        g = self.groups[group]
        self.groups[group] = _replace(g, variables=tuple(_replace(x, expr=e) if x.name == name else x
                                                         for x in g.variables))
        return e

    def _e_Attr(self, e: ast.Attr, scope: Scope):
        if e.obj in ("pre", "post"):
            if not scope.synapses or scope.group is None or scope.group.kind != "synapses":
                self.fail(Code.MISPLACED, f"'{e.obj}.{e.attr}' is only meaningful in synapses", e.span)
            other = scope.group.source if e.obj == "pre" else scope.group.target
            g = self.groups.get(other)
            if g is None:
                raise _Fail
            v = self._lookup_var(g, e.attr, e.span)
            return self._var_ref(g, v, "shared" if v.shared else e.obj, e.span, scope)
        if e.obj in self.groups:
            g = self.groups[e.obj]
            v = self._lookup_var(g, e.attr, e.span)
            if self._reducing == g.name:
                return self._var_ref(g, v, "shared" if v.shared else "self", e.span, scope)
            if v.shared and not scope.const_only:
                return self._var_ref(g, v, "shared", e.span, scope)
            self.fail(Code.MISPLACED, f"'{e.obj}.{e.attr}' has one value per element; reduce it "
                      f"(sum({e.obj}.{e.attr}), mean(...), ...) to use it {scope.what}", e.span)
        self._unknown(e.obj, list(self.groups) + (["pre", "post"] if scope.synapses else []), e.span, "group")

    def _e_Index(self, e: ast.Index, scope: Scope):
        self.used.add(e.name)
        if e.name not in self.data_decls:
            if e.name in self.groups:
                self.fail(Code.MISPLACED, f"'{e.name}[...]': index a group's variable as {e.name}.X", e.span)
            self._unknown(e.name, self.data_decls, e.span, "data array")
        idx = []
        for a in e.args:
            x, dim = self.expr(a, scope)
            index = self._as_integer(x, dim)
            if index is None:
                self.fail(Code.BAD_TYPE, f"an index into '{e.name}' is an integer (i, j, a loop variable, "
                          "an integer constant or parameter, ...)", a.span)
            idx.append(index)
        return ir.DataAt(e.name, tuple(idx), "f", e.span), self._data_dim(e.name)

    def _e_ListLit(self, e: ast.ListLit, scope: Scope):
        self.fail(Code.MISPLACED, "a list literal is only allowed as the indices or times of a spikes group",
                  e.span)

    def _e_UnaryOp(self, e: ast.UnaryOp, scope: Scope):
        x, dim = self.expr(e.operand, scope)
        if e.op == "not":
            self._expect_bool(x, e.operand.span)
            return ir.Unary("not", x, "b", e.span), DIMENSIONLESS
        if x.dtype == "b":
            self.fail(Code.BAD_TYPE, f"'{e.op}' applies to numbers, not conditions", e.span)
        if e.op == "+":
            return x, dim
        return ir.Unary("-", x, x.dtype, e.span), dim

    def _e_BinOp(self, e: ast.BinOp, scope: Scope):
        op = e.op
        a, da = self.expr(e.left, scope)
        b, db = self.expr(e.right, scope)
        if op in ("and", "or"):
            self._expect_bool(a, e.left.span)
            self._expect_bool(b, e.right.span)
            return ir.Binary(op, a, b, "b", e.span), DIMENSIONLESS
        for x, sub in ((a, e.left), (b, e.right)):
            if x.dtype == "b" and op not in ("==", "!="):
                self.fail(Code.BAD_TYPE, f"'{op}' applies to numbers, not conditions", sub.span)
        if op in ("+", "-", "%", "<", "<=", ">", ">=", "==", "!="):
            if da != db:
                self.fail(Code.DIMENSION, f"the sides of '{op}' have different dimensions: "
                          f"left side is {format_dim(da)}, right side is {format_dim(db)}", e.span)
            if op in ("+", "-", "%"):
                return ir.Binary(op, a, b, _arith(a, b), e.span), da
            return ir.Binary(op, a, b, "b", e.span), DIMENSIONLESS
        if op == "*":
            return ir.Binary(op, a, b, _arith(a, b), e.span), da * db
        if op == "/":
            return ir.Binary(op, a, b, "f", e.span), da / db
        if op == "**":
            if db != DIMENSIONLESS:
                self.fail(Code.DIMENSION, f"an exponent is dimensionless, not {format_dim(db)}", e.right.span)
            if da == DIMENSIONLESS:
                return ir.Binary(op, a, b, "f", e.span), DIMENSIONLESS
            try:
                p = evaluate(b)
            except NotConstant:
                self.fail(Code.NOT_CONSTANT, f"raising a quantity in {format_dim(da)} to a power needs "
                          "a constant exponent", e.right.span)
            if not math.isfinite(p) or abs(p) > 1000:
                self.fail(Code.BAD_VALUE, f"a quantity in {format_dim(da)} can only be raised to a "
                          f"moderate, finite power, not {p:g}", e.right.span)
            return ir.Binary(op, a, b, "f", e.span), da ** _fraction(p)
        raise AssertionError(op)  # pragma: no cover

    def _e_Call(self, e: ast.Call, scope: Scope):
        f = e.func
        n = len(e.args)
        if f not in FUNCTIONS:
            near = closest(f, FUNCTIONS)
            self.fail(Code.UNKNOWN_FUNCTION, f"unknown function '{f}'" + (f"; did you mean '{near}'?" if near else ""),
                      e.span)

        def nargs(*allowed):
            if n not in allowed:
                want = " or ".join(str(k) for k in allowed)
                self.fail(Code.ARGUMENTS, f"{f}() takes {want} argument{'s' if allowed != (1,) else ''}, "
                          f"not {n}", e.span)

        if f in REDUCTIONS and (f not in ("min", "max") or n == 1):
            return self._reduction(e, scope)
        if f in ("rand", "randn"):
            nargs(0)
            if not scope.rand:
                self.fail(Code.MISPLACED, f"{f}() cannot be used {scope.what}", e.span)
            return ir.Rand("uniform" if f == "rand" else "normal", "f", e.span), DIMENSIONLESS
        if f == "len":
            nargs(1)
            a = e.args[0]
            if not (isinstance(a, ast.Name) and a.id in self.data_decls):
                self.fail(Code.ARGUMENTS, "len() takes the name of a data array", a.span)
            self.used.add(a.id)
            return ir.DataLen(a.id, "i", e.span), DIMENSIONLESS
        args = [self.expr(a, scope) for a in e.args]
        for (x, _), a in zip(args, e.args):
            if x.dtype == "b" and f != "where":
                self.fail(Code.BAD_TYPE, f"{f}() takes numbers, not conditions", a.span)
        if f in MATH_1:
            nargs(1)
            self._expect_dim(args[0][1], DIMENSIONLESS, e.args[0].span, f"the argument of {f}()")
            return ir.Call(f, (args[0][0],), "f", e.span), DIMENSIONLESS
        if f in SAME_DIM_1:
            nargs(1)
            return ir.Call(f, (args[0][0],), "f" if f != "abs" else args[0][0].dtype, e.span), args[0][1]
        if f == "sqrt":
            nargs(1)
            return ir.Call(f, (args[0][0],), "f", e.span), args[0][1] ** Fraction_half
        if f == "int":
            nargs(1)
            self._expect_dim(args[0][1], DIMENSIONLESS, e.args[0].span, "the argument of int()")
            return ir.Call("int", (args[0][0],), "i", e.span), DIMENSIONLESS
        if f in ("min", "max"):
            nargs(1, 2)
            self._same_dims(f, args, e)
            return ir.Call(f, tuple(x for x, _ in args), _arith(args[0][0], args[1][0]), e.span), args[0][1]
        if f == "clip":
            nargs(3)
            self._same_dims(f, args, e)
            return ir.Call(f, tuple(x for x, _ in args), "f", e.span), args[0][1]
        if f == "where":
            nargs(3)
            self._expect_bool(args[0][0], e.args[0].span)
            self._same_dims(f, args[1:], e)
            dtype = "b" if args[1][0].dtype == args[2][0].dtype == "b" else _arith(args[1][0], args[2][0])
            return ir.Call(f, tuple(x for x, _ in args), dtype, e.span), args[1][1]
        raise AssertionError(f)  # pragma: no cover

    def _same_dims(self, f, args, e) -> None:
        dims = [d for _, d in args]
        if any(d != dims[0] for d in dims):
            shown = ", ".join(format_dim(d) for d in dims)
            self.fail(Code.DIMENSION, f"the arguments of {f}() must have the same dimensions, not ({shown})",
                      e.span)

    def _reduction(self, e: ast.Call, scope: Scope):
        f = e.func
        if not scope.reductions:
            self.fail(Code.MISPLACED, f"{f}() reduces over a group: it is only allowed in phase statements",
                      e.span)
        if len(e.args) != 1:
            self.fail(Code.ARGUMENTS, f"{f}() takes 1 argument, not {len(e.args)}", e.span)
        arg = e.args[0]
        if f in ("sum_pre", "sum_post"):
            if scope.group is None or scope.group.kind != "synapses" or scope.shared_only:
                self.fail(Code.MISPLACED, f"{f}() is only meaningful in an assignment to a synapses group",
                          e.span)
            group = scope.group
        elif scope.group is not None and not scope.shared_only:
            group = scope.group
        else:
            names = {n.obj for n in _ast_walk(arg) if isinstance(n, ast.Attr) and n.obj in self.groups}
            if not names and scope.group is not None:
                names = {scope.group.name}  # a shared assignment reduces over its own group
            if len(names) != 1:
                self.fail(Code.MISPLACED, f"{f}() over which group? Name it in the argument, "
                          f"e.g. {f}(exc.count)", e.span)
            group = self.groups[names.pop()]
        inner = Scope(group=group, synapses=group.kind == "synapses", rand=False, reductions=False,
                      locals=scope.locals, what=f"inside {f}()")
        saved, self._reducing = self._reducing, group.name
        try:
            x, dim = self.expr(arg, inner)
        finally:
            self._reducing = saved
        if f == "count":
            self._expect_bool(x, arg.span)
            return ir.Reduce(f, group.name, x, "i", e.span), DIMENSIONLESS
        if x.dtype == "b":
            self.fail(Code.BAD_TYPE, f"{f}() takes numbers; count(COND) counts conditions", arg.span)
        return ir.Reduce(f, group.name, x, "f", e.span), dim


from fractions import Fraction  # noqa: E402

Fraction_half = Fraction(1, 2)
MAX_SIZE = 2 ** 31 - 1
# The longest simulation, in time steps: SNN_MAX_STEPS of runtime_c/snn_support.h. Up to
# 2**53 every step count is an exact double, so t = step * dt is exact, and the sum of two
# step counts (t_end = t + duration, a spike's arrival step) cannot overflow int64_t.
MAX_STEPS = 2 ** 53
# The longest synaptic delay, in steps: the generated C's limit for the spike ring (setup_delays).
MAX_DELAY_STEPS = 1e9


def _mantissa(text: str) -> str:
    return text.lower().partition("e")[0]


def _is_int(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v) and v == int(v)


def _fraction(p) -> Fraction:
    return Fraction(p).limit_denominator(1000)


def _arith(a: ir.Expr, b: ir.Expr) -> str:
    return "i" if a.dtype == "i" and b.dtype == "i" else "f"


def _binary(op: str, a: ir.Expr, b: ir.Expr) -> ir.Expr:
    dtype = "f" if op == "/" else _arith(a, b)
    return ir.Binary(op, a, b, dtype)


def _replace(obj, **kw):
    from dataclasses import replace
    return replace(obj, **kw)


def _retarget(e: ir.Expr, at: str) -> ir.Expr:
    """A subexpression of a neighbour group, read through pre./post."""
    if at in ("self", "shared"):
        return e
    return ir.map_expr(lambda x: _replace(x, at=at) if isinstance(x, ir.Var) and x.at == "self" else x, e)


def _ast_walk(e):
    yield e
    for name in getattr(e, "__dataclass_fields__", {}):
        v = getattr(e, name)
        if isinstance(v, ast.Expr):
            yield from _ast_walk(v)
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, ast.Expr):
                    yield from _ast_walk(x)


def _ast_walk_stmts(body):
    for s in body:
        yield s
        for name in ("body", "orelse"):
            yield from _ast_walk_stmts(getattr(s, name, ()) or ())


def _is_windows_drive(path: str) -> bool:
    return len(path) > 2 and path[1] == ":" and path[0].isalpha() and path[2] in "\\/"


def check(module: ast.Module, source: str) -> tuple[m.Model, list[Diagnostic]]:
    """Check a parsed module; returns the model and all diagnostics.

    Raises `CompileError` when any diagnostic is an error.
    """
    checker = Checker(module, source)
    model = checker.run()
    if not any(d.is_error for d in checker.diags):
        checker.diags.extend(check_connectivity(model))
    errors = [d for d in checker.diags if d.is_error]
    if errors:
        # warnings wait until the errors are fixed: they are often their echo
        raise CompileError(sorted(errors, key=_order), {module.file: source})
    return model, checker.diags


def _order(d: Diagnostic):
    s = d.span
    return (s.line, s.col) if s else (0, 0)
