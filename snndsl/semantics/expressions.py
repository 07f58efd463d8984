"""Checking expressions: names, units and dimensions, functions, reductions,
turned into IR expressions.

A part of `Checker` (semantics/check.py), which holds the symbol table."""
from __future__ import annotations

import math
from fractions import Fraction
import sys

from snndsl.diagnostics import Code, closest
from snndsl.ir import nodes as ir
from snndsl.ir.evaluate import INT64, NotConstant, evaluate
from snndsl.semantics import model as m
from snndsl.semantics.common import (FUNCTIONS, MATH_1, MATH_CONSTANTS, REDUCTIONS, SAME_DIM_1, Fraction_half, Scope, _arith,
    _ast_walk, _Fail, _mantissa, _replace, _retarget, is_noise_name)
from snndsl.syntax import ast
from snndsl.units import (DIMENSIONLESS, MAX_DENOMINATOR, SECOND, UNITS, Dim, describe_dim, format_dim, in_dim,
    parse_suffix, small_fraction)


class ExpressionChecks:
    def _expect_dim(self, got: Dim, want: Dim, span, what: str) -> None:
        if got != want:
            self.fail(Code.DIMENSION, f"{what} must be {in_dim(want)}, but it is {in_dim(got)}",
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
            try:
                parsed = parse_suffix(e.unit)
            except ValueError as problem:
                self.fail(Code.BAD_VALUE, str(problem), e.span)
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
                    names += ["j", "N_pre", "N_post", *ir.SYNAPSE_COUNTS]
        return names

    def _e_Name(self, e: ast.Name, scope: Scope):
        name = e.id
        self.used.add(name)
        if name in scope.lets:  # `let NAME = ...` above in this block (ir.Let, read as its Temp)
            return ir.Temp(f"_let_{name}", "f", e.span), scope.lets[name]
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
                first = group.source_range[0] if scope.synapses and group.source_range else scope.offset
                return _counted_from(ir.Special("i", "i", e.span), first), DIMENSIONLESS
            if name == "j" and scope.synapses:
                first = group.target_range[0] if group.target_range else 0
                return _counted_from(ir.Special("j", "i", e.span), first), DIMENSIONLESS
            if name == "N":
                if scope.size is not None:
                    return ir.Const(scope.size, "i", e.span), DIMENSIONLESS
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
            if name == "dt":  # the group's own time step, if it has one
                return ir.Const(self.dt_of(group), "f", e.span), SECOND
            if name in self.param_decls:
                dim, dtype = self._param(name)
                return ir.Param(name, dtype, e.span), dim
            if name in self.data_decls:
                if group is None or scope.shared_only:
                    self.fail(Code.MISPLACED, f"data array '{name}' needs indices here: {name}[...]", e.span)
                if self.data_decls[name].period is not None:
                    self.fail(Code.MISPLACED, f"'{name}' is a timed array: read it at a time, {name}(t)", e.span)
                self._data_rank(name, 1, e.span)
                return ir.DataAt(name, (ir.Special("elem", "i"),), "f", e.span), self._data_dim(name)
        elif name == "dt":
            return ir.Const(self.dt, "f", e.span), SECOND
        if is_noise_name(name):  # a declared name hides it, as pi and e
            if not scope.noise:
                self.fail(Code.MISPLACED, f"white noise '{name}' can only be a term of a clock-driven differential "
                          f"equation (dv/dt = ... + sigma * {name}), not {scope.what}", e.span)
            return ir.Noise(name, "f", e.span), SECOND ** Fraction(-1, 2)
        if name in ir.SYNAPSE_COUNTS and group is not None and group.kind == "synapses" and not scope.const_only \
                and not scope.shared_only:
            return ir.Special(name, "i", e.span), DIMENSIONLESS  # (a connection cannot read it: _own_vars)
        if name in ("N_pre", "N_post") and group is not None and group.kind == "synapses" and not scope.const_only:
            # Brian2's sizes of the two sides (of a subgroup: its size); a declared name hides them
            side_range, side = (group.source_range, group.source) if name == "N_pre" else \
                (group.target_range, group.target)
            size = side_range[1] - side_range[0] if side_range else self.groups[side].size
            if size is not None:
                return ir.Const(size, "i", e.span), DIMENSIONLESS
            if self.groups[side].kind == "synapses":  # onto synapses: their number, which their connect made
                return ir.Size(side, "i", e.span), DIMENSIONLESS
        if name in MATH_CONSTANTS:  # pi and e, as in Brian2; a declared name hides them
            return ir.Const(MATH_CONSTANTS[name], "f", e.span), DIMENSIONLESS
        if name in UNITS:
            scale, dim = UNITS[name]
            return ir.Const(scale, "f", e.span), dim
        if name in ("i", "j", "N", "t") or (scope.const_only and (name in self.param_decls or name in self.data_decls)):
            self.fail(Code.MISPLACED, f"'{name}' cannot be used {scope.what}", e.span)
        if name in self.groups:
            self.fail(Code.MISPLACED, f"'{name}' is a group; write '{name}.X' for its variable X", e.span)
        near = closest(name, self._visible_names(scope))
        hint = self._brian2_neighbour(name, group) or (f"; did you mean '{near}'?" if near else "")
        self.fail(Code.UNDEFINED_NAME, f"'{name}' is not defined" + hint, e.span)

    def _var_ref(self, group: m.Group, v: m.Variable, at: str, span, scope: Scope):
        if (group.name, v.name) in self.bad_vars:
            raise _Fail  # its declaration's unit is reported
        if v.kind == "subexpr":
            expr = self._subexpr(group.name, v.name, span)
            self._noise_only_in_equations(expr, v.name, span, scope if at == "self" else None)
            return _retarget(expr, at), v.dim
        return ir.Var(group.name, v.name, at, v.dtype, span), v.dim

    def _noise_only_in_equations(self, expr: ir.Expr, name: str, span, scope: Scope | None) -> None:
        """A subexpression with white noise (Brian2's `I = sigma * xi * ... : amp`)
        is substituted into the clock-driven equations of its own group that
        read it, and nowhere else (`scope` None: read from another group)."""
        noise = next((n for n in ir.walk(expr) if isinstance(n, ir.Noise)), None)
        if noise is not None and (scope is None or not scope.noise):
            where = "another group" if scope is None else scope.what
            self.fail(Code.MISPLACED, f"'{name}' holds white noise '{noise.name}': only a clock-driven differential "
                      f"equation of its group can read it (it is substituted there), not {where}", span)

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
            if "linked" in item.flags:
                e, dim = self._linked(g, item)
            else:
                # white noise allowed: it reaches only the equations that read it (_var_ref)
                scope = Scope(group=g, synapses=g.kind == "synapses", what="in a subexpression",
                              noise=g.kind in ("neurons", "synapses"))
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

    def _linked(self, g: m.Group, item: ast.SubexprDecl):
        """`X = H.Y : UNIT (linked)` (Brian2's linked_var): X reads H's Y,
        element for element (H of g's size), or H's one value if Y is shared
        or H has one element."""
        e = item.expr
        if not isinstance(e, ast.Attr) or e.obj in ("pre", "post"):
            self.fail(Code.BAD_VALUE, f"a linked variable names the variable it reads: '{item.name} = GROUP.VAR : "
                      "UNIT (linked)'", e.span)
        if e.obj not in self.groups:
            if e.obj in self.group_decls and e.obj != g.name:
                self.fail(Code.MISPLACED, f"'{e.obj}' is declared below '{g.name}': declare the group a linked "
                          "variable reads above it", e.span)
            if e.obj in self.subgroup_decls:
                self.fail(Code.UNSUPPORTED, f"'{e.obj}' is a subgroup: linking to one is not supported yet; "
                          "link to its group", e.span)
            self._unknown(e.obj, list(self.groups), e.span, "group")
        source = self.groups[e.obj]
        if source.name == g.name:
            self.fail(Code.BAD_VALUE, f"'{item.name}' would be linked to its own group: write a subexpression, "
                      f"'{item.name} = {e.attr} : ...'", e.span)
        if source.kind == "synapses":
            self.fail(Code.UNSUPPORTED, f"'{e.obj}' is a synapse group: a linked variable reads a neuron-like group",
                      e.span)
        v = self._lookup_var(source, e.attr, e.span)
        if v.kind == "subexpr":
            if source.size != 1 or e.index is not None:
                self.fail(Code.UNSUPPORTED, f"'{e.obj}.{e.attr}' is a subexpression: link to a variable (or to a "
                          "subexpression of a one-element group)", e.span)
            # a one-element group's subexpression: its value at element 0, for every element
            expr = self._subexpr(source.name, v.name, e.span)
            self.used.add(e.obj)
            return ir.map_expr(lambda x: _replace(x, at="first") if isinstance(x, ir.Var) and x.at == "self" else
                               ir.Const(0, "i", x.span) if isinstance(x, ir.Special) and x.name in ("i", "elem") else x,
                               expr), v.dim
        if g.kind == "synapses" and not (v.shared or source.size == 1):
            self.fail(Code.UNSUPPORTED, f"'{item.name}' of synapses '{g.name}' can link to a shared variable or to "
                      "a one-element group's (a link element for element, or by an index, reads a neuron-like "
                      "group's: not supported for synapses yet)", e.span)
        if e.index is not None:  # Brian2's linked_var(H, 'Y', index=...): element k reads Y[index of k]
            if v.shared:
                self.fail(Code.BAD_VALUE, f"'{e.obj}.{e.attr}' is shared: it has one value, and no index",
                          e.index.span)
            scope = Scope(group=g, what="in the index of a linked variable")
            x, dim = self.expr(e.index, scope)
            index = self._as_integer(x, dim)
            if index is None and x.dtype == "f" and dim.dimensionless and any(
                    isinstance(n, ir.DataAt) for n in ir.walk(x)):
                index = x  # Brian2's index array, as data: whole numbers, checked at run time
            if index is None:
                self.fail(Code.BAD_TYPE, f"the index into '{e.obj}.{e.attr}' is an integer (of i, N, constants, "
                          f"parameters, data arrays and variables of '{g.name}')", e.index.span)
            self.used.add(e.obj)
            return ir.Var(source.name, v.name, "index", v.dtype, e.span, index=index), v.dim
        if not v.shared and source.size == 1:  # one value for all, as Brian2 links a one-element group
            self.used.add(e.obj)
            return ir.Var(source.name, v.name, "first", v.dtype, e.span), v.dim
        if not v.shared and (source.size is None or g.size is None or source.size != g.size):
            sizes = f"{source.size} and {g.size}" if source.size is not None and g.size is not None else \
                "sizes not known until the run starts"
            self.fail(Code.BAD_VALUE, f"'{item.name}' links element for element, but '{e.obj}' and '{g.name}' have "
                      f"{sizes}: link groups of one size, a group of one element, or a shared variable", e.span)
        self.used.add(e.obj)
        return ir.Var(source.name, v.name, "shared" if v.shared else "self", v.dtype, e.span), v.dim

    def _e_Attr(self, e: ast.Attr, scope: Scope):
        if e.index is not None:
            self.fail(Code.MISPLACED, f"'{e.obj}.{e.attr}[...]' reads one element of another group: declare it "
                      f"as a linked variable, 'X = {e.obj}.{e.attr}[...] : UNIT (linked)', and read X", e.span)
        if e.obj in ("pre", "post"):
            if not scope.synapses or scope.group is None or scope.group.kind != "synapses":
                self.fail(Code.MISPLACED, f"'{e.obj}.{e.attr}' is only meaningful in synapses", e.span)
            other = scope.group.source if e.obj == "pre" else scope.group.target
            g = self.groups.get(other)
            if g is None:
                raise _Fail
            v = self._lookup_var(g, e.attr, e.span)
            if g.kind == "synapses" and v.kind == "subexpr":
                self.fail(Code.UNSUPPORTED, f"'{e.attr}' is a subexpression of the synapses of '{g.name}': "
                          f"it cannot be read from the synapses {'onto' if e.obj == 'post' else 'from'} them yet "
                          "(read its variables)", e.span)
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
        if e.obj in self.subgroup_decls:
            sub = self.subgroups.get(e.obj)
            if sub is None:
                raise _Fail  # its declaration's error is reported
            g = self.groups[sub[0]]
            v = self._lookup_var(g, e.attr, e.span)
            if self._reducing_sub == e.obj or v.shared and not scope.const_only:
                return self._var_ref(g, v, "shared" if v.shared else "self", e.span, scope)
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
        self._data_rank(e.name, len(idx), e.span)
        return ir.DataAt(e.name, tuple(idx), "f", e.span), self._data_dim(e.name)

    def _data_rank(self, name: str, rank: int, span) -> None:
        """Every read of a data array takes one number of indices: the rank the
        array is loaded with (a 1-D timed array read as X(t) has rank 1,
        X(t, i) rank 2)."""
        first, where = self.data_ranks.setdefault(name, (rank, span))
        if first != rank:
            def count(r):
                return f"{r} ind{'ex' if r == 1 else 'ices'}"
            self.fail(Code.ARGUMENTS, f"data array '{name}' is read with {count(rank)} here, but with "
                      f"{count(first)} elsewhere: it has one number of dimensions", span,
                      f"first read at {where}")

    def _timed_read(self, e: ast.Call, scope: Scope):
        """NAME(t) and NAME(t, i) of a timed array (Brian2's TimedArray): the
        row holding time t, and in it, for a 2-D array, column i."""
        name = e.func
        self.used.add(name)
        if self.data_decls[name].period is None:
            self.fail(Code.MISPLACED, f"'{name}' is a data array: index it as {name}[...], or declare it "
                      f"'data {name} = ... every PERIOD' to read it at a time, {name}(t)", e.span)
        if scope.const_only:
            self.fail(Code.NOT_CONSTANT, f"timed array '{name}' changes with time: it cannot be read {scope.what}",
                      e.span)
        if name in self.bad_data:
            raise _Fail  # its period or unit is reported
        if len(e.args) not in (1, 2):
            self.fail(Code.ARGUMENTS, f"timed array '{name}' is read as {name}(t) or {name}(t, i), not with "
                      f"{len(e.args)} argument{'s' if len(e.args) != 1 else ''}", e.span)
        time, dim = self.expr(e.args[0], scope)
        if time.dtype == "b":
            self.fail(Code.BAD_TYPE, f"the time at which '{name}' is read is a time, not a condition", e.args[0].span)
        self._expect_dim(dim, SECOND, e.args[0].span, f"the time at which '{name}' is read")
        period = self.data_periods[name]
        indices: list[ir.Expr] = [ir.TimeStep(name, time, period, ir.timed_upsample(self.dt, period), "i",
                                              e.args[0].span)]
        if len(e.args) == 2:
            x, idim = self.expr(e.args[1], scope)
            index = self._as_integer(x, idim)
            if index is None:
                self.fail(Code.BAD_TYPE, f"the column of '{name}' is an integer (i, j, an integer constant or "
                          "parameter, ...)", e.args[1].span)
            indices.append(index)
        self._data_rank(name, len(indices), e.span)
        return ir.DataAt(name, tuple(indices), "f", e.span), self._data_dim(name)

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
        if op == "//":  # the floor of a ratio of like quantities, as Python's: a whole number
            if da != db:
                self.fail(Code.DIMENSION, f"'//' takes the floor of a ratio of like quantities: left side is "
                          f"{describe_dim(da)}, right side is {describe_dim(db)}"
                          + ("; divide first, then take floor(...)" if db == DIMENSIONLESS else ""), e.span)
            return ir.Binary(op, a, b, _arith(a, b), e.span), DIMENSIONLESS
        if op in ("+", "-", "%", "<", "<=", ">", ">=", "==", "!="):
            if da != db:
                self.fail(Code.DIMENSION, f"the sides of '{op}' have different dimensions: "
                          f"left side is {describe_dim(da)}, right side is {describe_dim(db)}", e.span)
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
                self.fail(Code.NOT_CONSTANT, f"raising a quantity {in_dim(da)} to a power needs "
                          "a constant exponent", e.right.span)
            if not math.isfinite(p) or abs(p) > 1000:
                self.fail(Code.BAD_VALUE, f"a quantity {in_dim(da)} can only be raised to a "
                          f"moderate, finite power, not {p:g}", e.right.span)
            power = small_fraction(p)
            if power is None:
                self.fail(Code.BAD_VALUE, f"a quantity {in_dim(da)} can only be raised to a whole or small "
                          f"fractional power (a denominator up to {MAX_DENOMINATOR}, such as 0.5 or 1/3), "
                          f"not {p:g}", e.right.span)
            return ir.Binary(op, a, b, "f", e.span), da ** power
        raise AssertionError(op)  # pragma: no cover

    def _e_Call(self, e: ast.Call, scope: Scope):
        f = e.func
        n = len(e.args)
        if f in self.data_decls:  # a declared name hides a function of that spelling
            return self._timed_read(e, scope)
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
            if x.dtype == "b" and f not in ("where", "int"):  # int(true) is 1, as in Brian2
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
        if f == "sign":  # Brian2's: -1, 0 or 1 of the argument's type, dimensionless; 0 for nan
            nargs(1)
            return ir.Call("sign", (args[0][0],), args[0][0].dtype, e.span), DIMENSIONLESS
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
            shown = ", ".join(describe_dim(d) for d in dims)
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
        sub = None  # a subgroup's name: the reduction ranges over its elements
        names = {n.obj for n in _ast_walk(arg) if isinstance(n, ast.Attr)
                 and (n.obj in self.groups or n.obj in self.subgroup_decls)}
        if f not in ("sum_pre", "sum_post") and scope.group is not None and not scope.shared_only and not names:
            group = scope.group  # an assignment to each element reduces over its own group
        elif f not in ("sum_pre", "sum_post"):
            if not names and scope.group is not None:
                names = {scope.group.name}  # a shared assignment reduces over its own group
            if len(names) != 1:
                self.fail(Code.MISPLACED, f"{f}() over which group? Name it in the argument, "
                          f"e.g. {f}(exc.count)", e.span)
            name = names.pop()
            if name in self.subgroup_decls:
                if self.subgroups.get(name) is None:
                    raise _Fail  # its declaration's error is reported
                sub = name
                group = self.groups[self.subgroups[name][0]]
            else:
                group = self.groups[name]
        lo, hi = self.subgroups[sub][1:] if sub else (0, None)
        inner = Scope(group=group, synapses=group.kind == "synapses", rand=False, reductions=False,
                      locals=scope.locals, what=f"inside {f}()", offset=lo,
                      size=None if hi is None else hi - lo)
        saved = self._reducing, self._reducing_sub
        self._reducing, self._reducing_sub = group.name, sub
        try:
            x, dim = self.expr(arg, inner)
        finally:
            self._reducing, self._reducing_sub = saved
        if f == "count":
            self._expect_bool(x, arg.span)
            return ir.Reduce(f, group.name, x, "i", e.span, lo, hi), DIMENSIONLESS
        if x.dtype == "b":
            self.fail(Code.BAD_TYPE, f"{f}() takes numbers; count(COND) counts conditions", arg.span)
        return ir.Reduce(f, group.name, x, "f", e.span, lo, hi), dim


def _counted_from(index: ir.Expr, first: int) -> ir.Expr:
    """An index within a subgroup (or the synapses of one): the group's index
    less the subgroup's first element."""
    return ir.Binary("-", index, ir.Const(first, "i"), "i", index.span) if first else index
