"""Checking stage: `ast.Module` -> `model.Model`, or diagnostics.

Resolves every name (with "did you mean"), checks physical dimensions and
flags, folds constants and units to SI numbers, and turns expressions into
IR expressions. Independent errors are collected and reported together; an
expression with an error becomes a placeholder so checking can go on.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
from pathlib import Path

from snndsl.diagnostics import Code, CompileError, Diagnostic, Span, closest, error, warning
from snndsl.ir import nodes as ir
from snndsl.ir.evaluate import NotConstant, NotFinite, finite_value
from snndsl.semantics import model as m
from snndsl.semantics.common import (MAX_STEPS, PREDEFINED, SETTINGS, Scope, _ast_walk_stmts, _Fail, _is_int,
    _is_windows_drive, _replace)
from snndsl.semantics.connectivity import check_connectivity
from snndsl.semantics.expressions import ExpressionChecks
from snndsl.semantics.groups import GroupChecks
from snndsl.semantics.protocol import ProtocolChecks
from snndsl.syntax import ast
from snndsl.syntax.ast import RESERVED
from snndsl.units import (DIMENSIONLESS, MAX_DENOMINATOR, SECOND, UNITS, Dim, format_dim, format_power,
    small_fraction, suggest_unit)


class Checker(GroupChecks, ProtocolChecks, ExpressionChecks):
    """The symbol table (names, constants, parameters, data, groups) and the
    run of every check: groups (semantics/groups.py), monitors and the
    protocol (semantics/protocol.py), expressions (semantics/expressions.py)."""

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
        self.data_periods: dict[str, float] = {}  # timed arrays (`every PERIOD`), in seconds
        self.data_ranks: dict[str, tuple[int, Span | None]] = {}  # indices per read, and the first read's place
        self._inline_shapes: dict[str, tuple[int, Span | None]] = {}  # `data X = [...]`: dimensions, place
        self.bad_data: set[str] = set()
        self.bad_locals: set[str] = set()  # protocol locals whose 'let' failed: uses fail quietly
        self.group_decls: dict[str, ast.GroupDecl] = {}
        self.subgroup_decls: dict[str, ast.SubgroupDecl] = {}
        self.input_decls: dict[str, ast.PoissonInputDecl] = {}
        self.subgroups: dict[str, tuple[str, int, int] | None] = {}  # name -> (parent, lo, hi), see _subgroup
        self.groups: dict[str, m.Group] = {}
        self.dt = 1e-4
        self._reducing: str | None = None  # the group a reduction's argument ranges over
        self._reducing_sub: str | None = None  # ... and the subgroup, if it ranges over one
        self._subexprs: dict[tuple[str, str], ast.SubexprDecl] = {}
        self._subexpr_busy: set[tuple[str, str]] = set()
        self._current_group: str | None = None
        self.used: set[str] = set()  # constants, parameters and data read somewhere
        self.frozen_vars: set[tuple[str, str]] = set()  # (group, var) named by freeze/unfreeze
        self.bad_vars: set[tuple[str, str]] = set()  # (group, var) whose unit failed: uses fail quietly
        self._noise_owners: dict[str, dict[str, str]] = {}  # group -> noise name -> the equation that has it

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
        for d in decls:
            if isinstance(d, ast.DataDecl) and d.period is not None:
                self._data_period(d)
        seed = self._setting_seed(settings.get("seed"))
        precision = self._setting_precision(settings.get("precision"))
        params = self._params(decls)
        data = self._data(decls)
        # neuron-like groups first: synapses read their sizes and variables
        for d in decls:
            if isinstance(d, ast.GroupDecl) and d.kind != "synapses":
                self._group(d)
        for name in self.subgroup_decls:  # parts of neuron-like groups, whose sizes are known now
            self._subgroup(name)
        for d in decls:
            if isinstance(d, ast.GroupDecl) and d.kind == "synapses":
                self._group(d)
        for d in self.input_decls.values():
            self._poisson_input(d)
        phases = [d for d in decls if isinstance(d, ast.PhaseDecl)]
        phase_names = {p.name for p in phases}
        monitors = tuple(self._monitor(d, phase_names) for d in decls if isinstance(d, ast.MonitorDecl))
        self.saves: dict[str, ir.SaveDef] = {}
        self.monitor_names = {mon.name for mon in monitors if mon is not None}
        self.protocol_locals: dict[str, str] = {}
        self.states: list[str] = []
        self._first_statement = phases[0].body[0] if phases and phases[0].body else None
        ir_phases = tuple(self._phase(p) for p in phases)
        self._check_inline_ranks()
        self._warn_unused(decls)
        if not self.groups and not any(isinstance(d, ast.GroupDecl) for d in decls):  # (not: all refused)
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
        self.refused_names: set[str] = set()
        self.group_order: list[str] = []
        for d in decls:
            if isinstance(d, (ast.Setting, ast.PhaseDecl, ast.MonitorDecl)):
                continue
            name = d.name
            span = getattr(d, "name_span", None) or d.span
            if name in RESERVED or name in PREDEFINED:
                self.err(Code.RESERVED_NAME, f"'{name}' is reserved and cannot be declared", span)
                self.refused_names.add(name)  # its uses are not reported again as unknown
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
            elif isinstance(d, ast.SubgroupDecl):
                self.subgroup_decls[name] = d
            elif isinstance(d, ast.PoissonInputDecl):
                self.input_decls[name] = d
        names: dict[str, Span | None] = {}
        for d in decls:
            if isinstance(d, ast.PhaseDecl):
                if d.name in names:
                    self.err(Code.DUPLICATE, f"phase '{d.name}' is declared twice", d.name_span,
                             f"first declared at {names[d.name]}")
                names[d.name] = d.span
        for d in decls:
            if isinstance(d, ast.Setting) and d.name in RESERVED:
                self.err(Code.RESERVED_NAME, f"'{d.name}' is a reserved word and cannot name a setting or a value"
                         + (f"; a synapse group's {d.name} is its clause `{d.name}: ...`"
                            if d.name in ("delay", "threshold", "reset", "refractory", "connect") else ""), d.span)
            elif isinstance(d, ast.Setting) and d.name not in SETTINGS:
                near = closest(d.name, SETTINGS)
                self.err(Code.UNKNOWN_SETTING,
                         f"unknown setting '{d.name}'" + (f"; did you mean '{near}'?" if near else "")
                         + " (settings are dt, seed and precision; use 'const' or 'param' for values)",
                         d.span)

    # ---- subgroups ---------------------------------------------------------------
    def _subgroup(self, name: str) -> tuple[str, int, int] | None:
        """(parent, lo, hi) of `subgroup NAME = G[lo:hi]`, a subgroup of a
        subgroup flattened to its neuron-like group; None when it failed to
        check (reported once, here)."""
        if name in self.subgroups:
            return self.subgroups[name]
        d = self.subgroup_decls[name]
        self.subgroups[name] = None  # a cycle of subgroups fails here
        parent, offset = d.parent, 0
        if parent in self.subgroup_decls:
            inner = self._subgroup(parent)
            if inner is None:
                return None
            parent, offset, limit = inner[0], inner[1], inner[2]
        elif parent in self.group_decls and self.group_decls[parent].kind != "synapses":
            limit = self.groups[parent].size if parent in self.groups else None
        else:
            known = [g for g, gd in self.group_decls.items() if gd.kind != "synapses"] + list(self.subgroup_decls)
            near = closest(parent, known)
            what = "is synapses: a subgroup is part of a neuron, Poisson or spikes group" \
                if parent in self.group_decls else "is not a neuron group"
            self.err(Code.UNKNOWN_GROUP, f"'{parent}' {what}" + (f"; did you mean '{near}'?" if near else ""),
                     d.parent_span)
            return None
        bounds = []
        for e in (d.lo, d.hi):
            v = self._constant_value(e, DIMENSIONLESS, "a subgroup's bound")
            if v is None:
                return None
            if v != int(v):
                self.err(Code.BAD_VALUE, f"a subgroup's bound is a whole number, not {v:g}", e.span)
                return None
            bounds.append(int(v))
        lo, hi = bounds
        size = None if limit is None else limit - offset
        if not 0 <= lo < hi or (size is not None and hi > size):
            within = f" of the {size} elements of '{d.parent}'" if size is not None else ""
            self.err(Code.BAD_VALUE, f"subgroup '{name}' = {d.parent}[{lo}:{hi}] must be a non-empty range"
                     f"{within} (0 <= lo < hi{' <= ' + str(size) if size is not None else ''})", d.span)
            return None
        self.subgroups[name] = (parent, offset + lo, offset + hi)
        return self.subgroups[name]

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
            x, dim = self.expr(e, Scope(const_only=True, what=f"in {what}"))
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
            return d is not None and tuple(d.dim) == tuple(DIMENSIONLESS.exps) and self._integral(d.default)
        if isinstance(e, ir.Binary):
            if e.op == "**":  # (-1) ** k: whole for a whole exponent of at least 0, constant or a generator's k from 0 up
                exponent = e.right.value if isinstance(e.right, ir.Const) else None
                natural = getattr(self, "natural_local", None)
                return self._integral(e.left) and (isinstance(e.right, ir.Local) and e.right.name == natural
                                                   or exponent is not None and exponent >= 0 and exponent == int(exponent))
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
        self.param_defs[name] = ir.ParamDef(name, e, tuple(dim.exps), format_dim(dim), d.span)
        self.params[name] = (dim, "f")
        return self.params[name]

    def _data_period(self, d: ast.DataDecl) -> None:
        """`every PERIOD`: a positive constant time. A name whose period fails
        is still a timed array; its reads fail quietly."""
        v = self._constant_value(d.period, SECOND, f"the period of timed array '{d.name}'")
        if v is not None and not v > 0:
            self.err(Code.BAD_VALUE, f"the period of timed array '{d.name}' must be positive, not {v:g} s",
                     d.period.span)
            v = None
        if v is None:
            self.bad_data.add(d.name)
            v = self.dt
        self.data_periods[d.name] = float(v)

    def _data_values(self, d: ast.DataDecl, scale: float) -> tuple[tuple[float, ...], tuple[int, ...]] | None:
        """`data NAME : UNIT = [...]`: numbers in the declared unit, as a
        file holds them; a list (1-D) or a list of equal lists (2-D)."""
        e = d.values
        if not isinstance(e, ast.ListLit):
            self.err(Code.BAD_VALUE, f"data array '{d.name}' is a \"PATH\" or a list of values [...]", e.span)
            return None
        rows = e.items
        nested = [isinstance(r, ast.ListLit) for r in rows]
        if any(nested) and not all(nested):
            self.err(Code.BAD_VALUE, f"data array '{d.name}' mixes values and lists: write a list of values "
                     "(1-D) or a list of lists of one length (2-D)", e.span)
            return None
        if not rows or (all(nested) and any(not r.items for r in rows)):
            self.err(Code.BAD_VALUE, f"data array '{d.name}' holds no values", e.span)
            return None
        if all(nested):
            width = len(rows[0].items)
            for r in rows:
                if len(r.items) != width:
                    self.err(Code.BAD_VALUE, f"the rows of data array '{d.name}' have {width} values each, but "
                             f"this one has {len(r.items)}", r.span)
                    return None
                if any(isinstance(x, ast.ListLit) for x in r.items):
                    self.err(Code.BAD_VALUE, f"data array '{d.name}' has at most two dimensions", r.span)
                    return None
            items, shape = [x for r in rows for x in r.items], (len(rows), width)
        else:
            items, shape = list(rows), (len(rows),)
        unit = f", in {d.unit.text} as declared" if d.unit is not None else ""
        values = []
        for x in items:
            v = self._constant_value(x, DIMENSIONLESS, f"a value of data array '{d.name}' (a number{unit})")
            if v is None:
                return None
            if not math.isfinite(float(v) * scale):
                self.err(Code.BAD_VALUE, f"a value of data array '{d.name}' is not finite in SI units", x.span)
                return None
            values.append(float(v))
        self._inline_shapes[d.name] = (len(shape), d.values.span)
        return tuple(values), shape

    def _check_inline_ranks(self) -> None:
        """A list of values has its number of dimensions; the reads take that many indices."""
        for name, (ndim, span) in self._inline_shapes.items():
            read = self.data_ranks.get(name)
            if read is not None and read[0] != ndim:
                self.err(Code.ARGUMENTS, f"data array '{name}' holds {ndim} dimension{'s' if ndim > 1 else ''} of "
                         f"values, but is read with {read[0]} ind{'ex' if read[0] == 1 else 'ices'}", read[1],
                         f"its values are at {span}")

    def _data(self, decls) -> tuple[ir.DataDef, ...]:
        base = Path(self.file).resolve().parent if self.file and not self.file.startswith("<") else Path.cwd()
        out = []
        for d in decls:
            if not isinstance(d, ast.DataDecl):
                continue
            scale = self.data_scales[d.name]
            if d.values is not None:
                inline = self._data_values(d, scale)
                if inline is not None:
                    out.append(ir.DataDef(d.name, "", format_dim(self.data_dims[d.name]), scale, d.span,
                                          self.data_periods.get(d.name), *inline))
                continue
            path, _, key = d.path.partition(":") if d.path.count(":") == 1 and not _is_windows_drive(d.path) else (d.path, "", "")
            if not path:
                self.err(Code.BAD_VALUE, "the data path is empty", d.path_span)
                continue
            full = path if os.path.isabs(path) else str(base / path)
            if key:
                full += ":" + key
            out.append(ir.DataDef(d.name, full, format_dim(self.data_dims[d.name]), scale, d.span,
                                  self.data_periods.get(d.name)))
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
                near = suggest_unit(name)
                self.err(Code.UNKNOWN_UNIT, f"unknown unit '{name}'"
                         + (f"; did you mean '{near}'?" if near else ""), u.span)
                continue
            if small_fraction(power) is None:
                self.err(Code.BAD_VALUE, f"the power of '{name}' must be a whole number or a small fraction "
                         f"(a denominator up to {MAX_DENOMINATOR}, such as 0.5 or (1/3)), "
                         f"not {format_power(abs(power))}", self._factor_span(u, name))
                continue
            s, d = UNITS[name]
            scale *= s ** (power if isinstance(power, int) else float(power))
            dim = dim * d ** power
        return scale, dim

    def _factor_span(self, u: ast.Unit, name: str) -> Span | None:
        """The span of `name**POWER` inside the unit `u` (the unit's own span
        where it cannot be found: a unit over several lines)."""
        span = u.span
        if span is None or span.line != span.end_line or not span.end_pos:
            return span
        text = self.source[span.start_pos:span.end_pos]
        m = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}\s*\*\*\s*(\([^)]*\)|[-+]?[0-9.]+)", text)
        if m is None:
            return span
        return dataclasses.replace(span, col=span.col + m.start(), end_col=span.col + m.end(),
                                   start_pos=span.start_pos + m.start(), end_pos=span.start_pos + m.end())

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

    def _data_dim(self, name: str) -> Dim:
        if name in self.bad_data:
            raise _Fail  # its declaration's unit is reported
        return self.data_dims[name]

    def _lookup_var(self, group: m.Group, name: str, span) -> m.Variable:
        v = group.var(name)
        if v is None:
            self._unknown(name, [x.name for x in group.variables], span, f"variable of '{group.name}'",
                          self._brian2_neighbour(name, group))
        return v

    def _unknown(self, name: str, candidates, span, what: str, hint: str = ""):
        if name in getattr(self, "refused_names", ()):
            raise _Fail  # a declaration refused for its name, reported there
        near = closest(name, candidates)
        code = Code.UNKNOWN_GROUP if what == "group" else Code.UNDEFINED_NAME
        self.fail(code, f"'{name}' is not a {what}" + (hint or (f"; did you mean '{near}'?" if near else "")), span)

    def _brian2_neighbour(self, name: str, group: m.Group | None) -> str:
        """Brian2's v_post / v_pre in a synapse group: here post.v / pre.v."""
        if group is None or group.kind != "synapses":
            return ""
        for suffix, side, neighbour in (("_post", "post", group.target), ("_pre", "pre", group.source)):
            other = self.groups.get(neighbour)
            if name.endswith(suffix) and other is not None and other.var(name[:-len(suffix)]) is not None:
                return f"; Brian2's {name} is written {side}.{name[:-len(suffix)]} here"
        return ""

    # ---- monitors ------------------------------------------------------------


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
