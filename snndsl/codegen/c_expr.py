"""C text for IR expressions and statements: the only place C syntax is made.

`CPrinter` is a visitor with precedence-aware parentheses (as pycparser's
CGenerator). What a name means in C depends on where the code runs (which
element index is `_i`, which random stream to draw from); the caller passes
that as a `Context`. Every user name reaches C only through `mangle`, with a
fixed prefix per kind, so no C keyword or libc name can collide.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Binding strength of C operators; a child binding more loosely than its
# parent gets parentheses. `a - (b - c)` needs them on the right even at equal
# strength, so the right operand of a left-associative operator is printed
# one level tighter.
_PREC = {"or": 1, "and": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
         "+": 5, "-": 5, "*": 6, "/": 6}
_UNARY = 7
_ATOM = 9
_C_OP = {"or": "||", "and": "&&"}

_FUNCS_F = {"exp": "exp", "log": "log", "log10": "log10", "sqrt": "sqrt", "sin": "sin",
            "cos": "cos", "tan": "tan", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh",
            "floor": "floor", "ceil": "ceil", "clip": "snn_clip", "exprel": "snn_exprel"}


def mangle(prefix: str, name: str) -> str:
    """`v_w`, `g_exc`, `p_rate`: the C name of a user identifier."""
    if not _IDENT.match(name):
        raise InternalError(f"not an identifier: {name!r}")
    return f"{prefix}_{name}"


_PLAIN = re.compile(r"[A-Za-z0-9 _\-.,:;/()\[\]=+<>!#%&|~^{}@$']*")


def _span_site(span) -> str | None:
    """"file:line:col" of a span, for run-time errors; None without one."""
    return f"{span.file}:{span.line}:{span.col}" if span is not None else None


def c_string(text: str) -> str:
    """A C string literal for arbitrary text: only safe printable ASCII is
    kept as is; everything else (quotes, backslashes, newlines, '*/', '??'
    trigraphs, non-ASCII bytes) becomes an octal escape."""
    if _PLAIN.fullmatch(text):
        return '"' + text + '"'
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if (ch.isalnum() or ch in " _-.,:;/()[]=+<>!#%&|~^{}@$'") and byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def c_number(value, dtype: str) -> str:
    if dtype == "b":
        return "1" if value else "0"
    if dtype == "i":
        v = int(value)
        return f"INT64_C({v})" if abs(v) >= 2 ** 31 else str(v)
    v = float(value)
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "(-INFINITY)"
    text = repr(v)
    if "e" not in text and "." not in text and "inf" not in text:
        text += ".0"
    return text


@dataclass
class Context:
    """How IR names print in one piece of code.

    `self_index` is the C index of the element being processed (`_i` for
    neurons, `_s` for synapses); `reductions` maps hoisted reductions to the C text of their value.
    """

    self_index: str = "_i"
    reductions: dict = field(default_factory=dict)
    site: str = "?"  # "file:line:col" of the statement, for run-time errors
    # writes to an (unless refractory) variable of a refractory neuron are
    # dropped (Brian2's conditional write): everywhere but reset, init and
    # the integration, which guards its own writes
    guard_refractory: bool = False
    # writes to a frozen element of a `freeze`-able variable are dropped:
    # in event code, resets and integration, never in phase assignments
    guard_frozen: bool = False
    # (group, variable) -> a local `restrict` pointer to its array, declared
    # before a hot loop so the compiler need not reload it after every store
    arrays: dict = field(default_factory=dict)
    # (group, shared variable) -> a local copy, for code that never writes it
    scalars: dict = field(default_factory=dict)
    # (group, variable) -> the C name of an index factor, 0 where the run found every
    # element the same (element 0 is read: passes/uniform_reads.py), else 1 (an affine
    # index, which keeps a loop vectorizable)
    uniform: dict = field(default_factory=dict)
    # advances whose every elapsed time the code's loop checked to be a whole number
    # of steps within the decay tables (snn_decays_tabulated): a table lookup each,
    # without a branch or a call; through locals the loop declares, `_inv_dt` and
    # `_tabK` for sim->decay_K (tabulated_locals)
    tabulated: bool = False
    group: str | None = None  # the group whose code it prints (a synapse group's N_incoming)
    # (group, variable) frozen everywhere in the phases this code runs in:
    # no code writes them (phase specialisation, see view.py)
    drop: frozenset = frozenset()
    # the C of the element's counter-based generator (`&_r`), in the time
    # step's code; None: the stream's sequence (`sim->rng[k]`), in setup and
    # the protocol
    rng: str | None = None
    # (group, row) -> the C names of (E, F) of a row of an uncoupled exact step made
    # in each step (ir.LinearStep.per_step) whose coefficient is the same for every
    # element: computed once before the loop (view.state_update, exact_factors_once)
    step_factors: dict = field(default_factory=dict)


def exact_factors_once(s: ir.LinearStep, expr) -> tuple[list[str], dict]:
    """The lines, before an element loop, that make the factors of each row of
    the uncoupled per-step exact step `s` whose coefficient reads no element
    (`expr(e)` prints it there), as snn_exact_diagonal makes them, and their
    names for Context.step_factors. A row's factors are then the same numbers
    for every element, computed once a step instead of once per element."""
    lines: list[str] = []
    names: dict = {}
    if not (s.per_step and linear_diagonal(s)):
        return lines, names
    for r in range(len(s.vars)):
        a = s.matrix[r][r]
        if any(isinstance(n, (ir.Special, ir.Rand, ir.DataAt, ir.Temp, ir.Reduce))
               or isinstance(n, ir.Var) and n.at != "shared" for n in ir.walk(a)):
            continue
        E, F = f"_sE{r}", f"_sF{r}"
        lines += [f"/* {s.group}.{s.vars[r]}: one rate for all */", *_row_factors(expr(a), f"_sx{r}", E, F),
                  f"(void){E}; (void){F};"]
        names[(s.group, r)] = (E, F)
    return lines, names


def _row_factors(rate: str, x: str, E: str, F: str) -> list[str]:
    """The C that makes an uncoupled row's factors from its rate, E = exp(a dt) and
    F = dt exprel(a dt), exactly as snn_exact_diagonal does (the same numbers)."""
    return [f"const double {x} = ({rate}) * dt;",
            f"const double {E} = exp({x});",
            f"const double {F} = fabs({x}) < 1e-16 ? dt : {x} > 717 ? INFINITY : expm1({x}) / {x} * dt;"]


def _table_local(cname: str) -> str:
    """The local a `Context.tabulated` loop reads the decay table `cname` through."""
    return cname.replace("sim->decay_", "_tab")


class CPrinter:
    def __init__(self, module: ir.Module):
        self.module = module
        self.state = {(g.name, v.name): v for g in module.groups for v in g.vars}
        # (group, rate a) -> the C name of its table of exp(a k dt), filled at run start
        self.decay_tables = {key: f"sim->decay_{k}" for k, key in enumerate(module.decay_tables)}

    # ---- names ----------------------------------------------------------
    def index(self, v: ir.Var, ctx: Context) -> str:
        """The C index of the element `v` names (not for shared variables)."""
        stored = self.state[(v.group, v.name)].index
        if stored == "pre":  # a synaptic trace kept per presynaptic neuron
            return "_i"
        if stored == "post":
            return "_j"
        return {"self": ctx.self_index, "pre": "_i", "post": "_j"}[v.at]

    def var(self, v: ir.Var, ctx: Context) -> str:
        base = f"sim->{mangle('g', v.group)}.{mangle('v', v.name)}"
        if v.at == "shared":
            return ctx.scalars.get((v.group, v.name), base)
        if v.at == "first":  # the one element of a one-element group (a linked variable)
            return f"{base}[0]"
        if v.at == "index":  # a linked variable with an index: the element it computes, checked
            k, check = self.expr(v.index, ctx), "snn_link_at" if v.index.dtype != "f" else "snn_link_at_whole"
            return (f"{base}[{check}(sim, {k}, sim->{mangle('g', v.group)}.n, "
                    f"{c_string(v.group + '.' + v.name)}, {c_string(_span_site(v.span) or ctx.site)})]")
        base = ctx.arrays.get((v.group, v.name), base)
        factor = ctx.uniform.get((v.group, v.name))
        if factor is not None:
            return f"{base}[{self.index(v, ctx)} * {factor}]"
        return f"{base}[{self.index(v, ctx)}]"

    def frozen_mask(self, v: ir.Var, ctx: Context) -> str:
        """The freeze flag of the element `v` names (see ir.Freeze)."""
        base = f"sim->{mangle('g', v.group)}.{mangle('frozen', v.name)}"
        if self.state[(v.group, v.name)].shared:
            return base
        return f"{base}[{self.index(v, ctx)}]"

    def _guarded(self, target: ir.Var, write: str, ctx: Context) -> str:
        state = self.state[(target.group, target.name)]
        if ctx.guard_frozen and state.freezable:
            write = f"if (!{self.frozen_mask(target, ctx)}) {write}"
        if ctx.guard_refractory and state.unless_refractory:
            flag = ir.Var(target.group, "not_refractory", target.at, "b")
            write = f"if ({self.var(flag, ctx)}) {write}"
        return write

    def tabulated_locals(self) -> str:
        """The declarations code printed with `Context.tabulated` reads."""
        tables = "".join(f" const double *const {_table_local(name)} = {name}; (void){_table_local(name)};"
                         for name in self.decay_tables.values())
        return f"const double _inv_dt = sim->inv_dt;{tables}"

    # ---- expressions --------------------------------------------------------
    def expr(self, e: ir.Expr, ctx: Context) -> str:
        return self._expr(e, ctx)[0]

    def _expr(self, e: ir.Expr, ctx: Context) -> tuple[str, int]:
        method = getattr(self, "_" + type(e).__name__)
        return method(e, ctx)

    def _wrap(self, e: ir.Expr, ctx: Context, prec: int) -> str:
        text, p = self._expr(e, ctx)
        return text if p >= prec else f"({text})"

    def _Const(self, e: ir.Const, ctx):
        text = c_number(e.value, e.dtype)
        return text, (_ATOM if not text.startswith("-") and not text.startswith("(") else _UNARY)

    def _Var(self, e: ir.Var, ctx):
        return self.var(e, ctx), _ATOM

    def _Param(self, e: ir.Param, ctx):
        return f"sim->p.{mangle('p', e.name)}", _ATOM

    def _Local(self, e: ir.Local, ctx):
        return f"sim->{mangle('l', e.name)}", _ATOM

    def _Frozen(self, e: ir.Frozen, ctx):
        return self.frozen_mask(ir.Var(e.group, e.name), ctx), _ATOM

    def _Special(self, e: ir.Special, ctx):
        if e.name == "elem":
            return ctx.self_index, _ATOM
        if e.name == "delay":  # a synapse's delay as the run uses it (`save S.delay`), in whole steps
            g = next(x for x in self.module.groups if x.name == ctx.group)
            S = f"sim->{mangle('g', g.name)}"
            steps = {"none": "0", "homogeneous": f"{S}.delay_steps",
                     "heterogeneous": f"{S}.delay_steps[{ctx.self_index}]"}[g.delay_kind]
            return f"((double)({steps}) * sim->dt)", _ATOM
        if e.name in ir.SYNAPSE_COUNTS:  # the synapses of the post- (pre-) synaptic neuron, from its index
            if ctx.group is None:
                raise InternalError(f"{e.name} printed outside its synapse group's code")
            S, (end, at) = f"sim->{mangle('g', ctx.group)}", (("post", "_j") if e.name == "N_incoming" else ("pre", "_i"))
            return f"({S}.{end}_start[{at} + 1] - {S}.{end}_start[{at}])", _ATOM
        return {"i": "_i", "j": "_j", "t": "_t"}[e.name], _ATOM

    def _Size(self, e: ir.Size, ctx):
        return f"sim->{mangle('g', e.group)}.n", _ATOM

    def _DataAt(self, e: ir.DataAt, ctx):
        d = f"&sim->{mangle('d', e.name)}"
        idx = ", ".join(f"(int64_t)({self.expr(i, ctx)})" for i in e.indices)
        site = c_string(ctx.site)
        if len(e.indices) == 1:
            return f"snn_data_at1(sim, {d}, {idx}, {site})", _ATOM
        return f"snn_data_at(sim, {d}, {len(e.indices)}, (const int64_t[]){{{idx}}}, {site})", _ATOM

    def _TimeStep(self, e: ir.TimeStep, ctx):
        rows = f"(int64_t)sim->{mangle('d', e.data)}.shape[0]"
        return (f"snn_time_step({self.expr(e.time, ctx)}, {c_number(e.period, 'f')}, {e.upsample}, {rows})",
                _ATOM)

    def _DataLen(self, e: ir.DataLen, ctx):
        return f"(int64_t)sim->{mangle('d', e.name)}.shape[0]", _ATOM

    def _Temp(self, e: ir.Temp, ctx):
        return e.name, _ATOM

    def _Rand(self, e: ir.Rand, ctx):
        if e.stream is None:
            raise InternalError("a random draw without a stream (passes/streams.py did not run)")
        if ctx.rng is not None:
            return f"snn_ctr_{'uniform' if e.kind == 'uniform' else 'normal'}({ctx.rng})", _ATOM
        fn = "snn_rng_uniform" if e.kind == "uniform" else "snn_rng_normal"
        return f"{fn}(&sim->rng[{e.stream}])", _ATOM

    def _Reduce(self, e: ir.Reduce, ctx):
        try:
            return ctx.reductions[e], _ATOM
        except KeyError:
            raise InternalError(f"reduction {e.kind}() was not hoisted") from None

    def _Unary(self, e: ir.Unary, ctx):
        op = "!" if e.op == "not" else "-"
        text = self._wrap(e.operand, ctx, _UNARY)
        if text.startswith("-"):
            text = f"({text})"  # never `--x`, which C reads as a decrement
        return f"{op}{text}", _UNARY

    def _Binary(self, e: ir.Binary, ctx):
        op = e.op
        if op == "**":
            folded = ir.folded_power(e)
            if folded is not None:
                fn = "snn_square" if folded == 2 else "snn_reciprocal"
                return f"{fn}({self.expr(e.left, ctx)})", _ATOM
            return f"pow({self.expr(e.left, ctx)}, {self.expr(e.right, ctx)})", _ATOM
        if op in ("%", "//"):
            fn = {"%": "mod", "//": "floordiv"}[op]
            fn = f"snn_i{fn}" if e.dtype == "i" else f"snn_f{fn}"
            return f"{fn}({self.expr(e.left, ctx)}, {self.expr(e.right, ctx)})", _ATOM
        prec = _PREC[op]
        left = self._wrap(e.left, ctx, prec)
        right = self._wrap(e.right, ctx, prec + 1)
        if op == "/" and e.left.dtype != "f" and e.right.dtype != "f":
            left = f"(double){self._wrap(e.left, ctx, _ATOM)}"
        return f"{left} {_C_OP.get(op, op)} {right}", prec

    def _Call(self, e: ir.Call, ctx):
        args = [self.expr(a, ctx) for a in e.args]
        f = e.func
        if f == "where":
            c = self._wrap(e.args[0], ctx, _UNARY)
            a = self._wrap(e.args[1], ctx, _UNARY)
            b = self._wrap(e.args[2], ctx, _UNARY)
            return f"({c} ? {a} : {b})", _ATOM
        if f == "int":
            return f"snn_trunc({args[0]})", _ATOM
        if f == "sign":
            return (f"snn_isign({args[0]})" if e.dtype == "i" else f"snn_sign({args[0]})"), _ATOM
        if f == "abs":
            return (f"snn_iabs({args[0]})" if e.dtype == "i" else f"fabs({args[0]})"), _ATOM
        if f in ("min", "max"):
            fn = ("snn_i" if e.dtype == "i" else "f") + f
            return f"{fn}({args[0]}, {args[1]})", _ATOM
        return f"{_FUNCS_F[f]}({', '.join(args)})", _ATOM

    # ---- statements -------------------------------------------------------------
    def stmts(self, body, ctx: Context, indent: str = "") -> str:
        lines: list[str] = []
        for s in body:
            self._stmt(s, ctx, indent, lines)
        return "\n".join(lines)

    def _stmt(self, s: ir.Stmt, ctx: Context, indent: str, lines: list[str]) -> None:
        if isinstance(s, ir.Assign) and (s.target.group, s.target.name) in ctx.drop:
            return
        if isinstance(s, ir.Assign):
            value = self.expr(s.value, ctx)
            if s.target.dtype == "i":
                value = f"snn_to_i32({value})" if s.value.dtype == "f" else f"(int32_t)({value})"
            lines.append(f"{indent}{self._guarded(s.target, f'{self.var(s.target, ctx)} = {value};', ctx)}")
        elif isinstance(s, ir.Let):
            lines.append(f"{indent}const double {s.name} = {self.expr(s.value, ctx)};")
            lines.append(f"{indent}(void){s.name};")
        elif isinstance(s, ir.LinearStep):
            self._linear_step(s, ctx, indent, lines)
        elif isinstance(s, ir.Advance):
            self._advance(s, ctx, indent, lines)
        elif isinstance(s, ir.If):
            lines.append(f"{indent}if ({self.expr(s.cond, ctx)}) {{")
            for x in s.body:
                self._stmt(x, ctx, indent + "    ", lines)
            if s.orelse:
                lines.append(f"{indent}}} else {{")
                for x in s.orelse:
                    self._stmt(x, ctx, indent + "    ", lines)
            lines.append(f"{indent}}}")
        else:
            raise InternalError(f"not an event statement: {s!r}")

    def _advance(self, s: ir.Advance, ctx: Context, indent: str, lines: list[str]) -> None:
        """Exact solution of dx/dt = a x + b over (t - clock), for each variable;
        variables with the same rate `a` share one exponential."""
        elapsed = ir.Binary("-", ir.Special("t"), ir.Var(s.group, s.clock))
        factors: list[ir.Expr] = []
        body: list[str] = []
        kept = [name for name in s.vars if (s.group, name) not in ctx.drop]
        if not kept:
            return
        for name in kept:
            a, b = self.state[(s.group, name)].decay
            x = ir.Var(s.group, name)
            if ir.is_zero(a):
                value = ir.Binary("+", x, ir.Binary("*", b, elapsed))
            else:
                growth = ir.Call("exp", (ir.Binary("*", a, elapsed),))
                if growth not in factors:
                    factors.append(growth)
                f = ir.Temp(f"_f{factors.index(growth)}")
                if ir.is_zero(b):
                    value = ir.Binary("*", x, f)
                else:
                    fixed = ir.Binary("/", b, a)  # -b/a is the fixed point
                    value = ir.Binary("-", ir.Binary("*", ir.Binary("+", x, fixed), f), fixed)
            body.append(f"{indent}    {self._guarded(x, f'{self.var(x, ctx)} = {self.expr(value, ctx)};', ctx)}")
        lines.append(f"{indent}{{ /* advance {', '.join(kept)} of {s.group} to t */")
        for k, growth in enumerate(factors):
            a = growth.args[0].left
            table = self.decay_tables[(s.group, a)]
            # exp(a (t - clock)) from a table of whole steps (the usual case), else computed
            if ctx.tabulated:
                lines.append(f"{indent}    const double _f{k} = snn_decay_tabulated({_table_local(table)}, "
                             f"{self.expr(elapsed, ctx)}, _inv_dt);")
            else:
                lines.append(f"{indent}    const double _f{k} = snn_decay({table}, {self.expr(a, ctx)}, "
                             f"{self.expr(elapsed, ctx)}, sim->inv_dt);")
        lines.extend(body)
        lines.append(f"{indent}}}")


    def _linear_step(self, s: ir.LinearStep, ctx: Context, indent: str, lines: list[str]) -> None:
        """x <- E x + F c with the factors computed at run start (see view.py);
        a refractory neuron uses the factors of the system with its
        (unless refractory) rows frozen. Only the terms that can be nonzero
        are written: E and F vanish where x_r does not depend on x_k through
        M (no path in its graph), and so do zero inputs c_k."""
        n = len(s.vars)
        L = "_lin"  # a local copy of sim->lin_<group>, made before the loop (view.state_update)
        reach = linear_reach(s.matrix)
        used_x = sorted({k for r in range(n) for k in range(n) if reach[r][k]})
        used_c = [k for k in range(n) if not ir.is_zero(s.const[k])]
        lines.append(f"{indent}{{ /* exact step of {', '.join(s.vars)} */")
        freezable = [k for k, name in enumerate(s.vars) if self.state[(s.group, name)].freezable]
        nn = n * n

        def at(row, idx) -> str:
            """Factor `idx` of row `row` (2 set + 0 for E, + 1 for F) of the table."""
            return f"{L}[({row}) * {nn} + {idx}]" if s.per_element else f"{L}[{row}][{idx}]"

        def row_of(row) -> str:
            return f"{L} + ({row}) * {nn}" if s.per_element else f"{L}[{row}]"

        if s.per_step:
            self._linear_step_now(s, ctx, indent, lines, reach, used_x, used_c, freezable)
            return
        if s.per_element:  # the element's own factors (view.prepare), one table per element
            L = "_linel"
            stride = 2 * 2 ** (len(freezable) + any(s.unless_refractory)) * nn
            lines.append(f"{indent}    const double *const _linel = sim->{mangle('g', s.group)}.lin + "
                         f"{ctx.self_index} * {stride};")
        self._linear_loads(s, ctx, indent, lines, used_x, used_c)
        factors = (("_E", 0),) + ((("_F", 1),) if used_c else ())
        bits = self._held_bits(s, ctx, freezable)
        kept = [r for r, name in enumerate(s.vars) if (s.group, name) not in ctx.drop]
        coeff = {name: f"{name}[{{}}]" for name, _ in factors}
        if bits and len(bits) <= 2:
            # few sets: each factor chosen by a select, not through a pointer
            # chosen per element, so that the loop vectorizes (a blend)
            lines.append(f"{indent}    const int _set = {' | '.join(bits)};")
            sets = 1 << len(bits)
            for name, k in factors:
                used = [r * n + c for r in kept for c in (range(n) if name == "_E" else used_c) if reach[r][c]]
                for idx in used:
                    chain = at(2 * (sets - 1) + k, idx)
                    for number in reversed(range(sets - 1)):
                        chain = f"_set == {number} ? {at(2 * number + k, idx)} : {chain}"
                    lines.append(f"{indent}    const double {name}{idx} = ({chain});")
                coeff[name] = f"{name}{{}}"
        elif bits:
            lines.append(f"{indent}    const int _set = {' | '.join(bits)};")
            for name, k in factors:
                lines.append(f"{indent}    const double *{name} = {row_of(f'2 * _set + {k}')};")
        else:
            for name, k in factors:
                lines.append(f"{indent}    const double *{name} = {row_of(k)};")
        E, F = coeff["_E"], coeff.get("_F")
        for r in kept:
            name = s.vars[r]
            terms = [f"{E.format(r * n + k)} * _x{k}" for k in range(n) if reach[r][k]]
            terms += [f"{F.format(r * n + k)} * _c{k}" for k in used_c if reach[r][k]]
            x = ir.Var(s.group, name)
            write = f"{self.var(x, ctx)} = {' + '.join(terms) or '0.0'};"
            lines.append(f"{indent}    {self._guarded(x, write, ctx)}")
        lines.append(f"{indent}}}")


    def _linear_loads(self, s: ir.LinearStep, ctx: Context, indent: str, lines: list[str], used_x, used_c) -> None:
        """The exact step's variables and inputs, read once at the start of the step."""
        for k in used_x:
            lines.append(f"{indent}    const double _x{k} = {self.var(ir.Var(s.group, s.vars[k]), ctx)};")
        for k in used_c:
            lines.append(f"{indent}    const double _c{k} = {self.expr(s.const[k], ctx)};")

    def _held_bits(self, s: ir.LinearStep, ctx: Context, freezable) -> list[str]:
        """The bits of the element's set of held rows (linear_factor_sets): one
        per freezable variable frozen, then one for a refractory neuron."""
        bits = []
        for j, k in enumerate(freezable):
            x = ir.Var(s.group, s.vars[k])
            bits.append(str(1 << j) if (s.group, x.name) in ctx.drop
                        else f"({self.frozen_mask(x, ctx)} ? {1 << j} : 0)")
        if any(s.unless_refractory):
            flag = self.var(ir.Var(s.group, "not_refractory", "self", "b"), ctx)
            bits.append(f"({flag} ? 0 : {1 << len(freezable)})")
        return bits

    def _linear_step_now(self, s: ir.LinearStep, ctx: Context, indent: str, lines: list[str], reach, used_x,
                         used_c, freezable) -> None:
        """An exact step whose coefficients change during a run
        (ir.LinearStep.per_step): the element's factors of its set of held
        rows, from its coefficients now (snn_exact_step), then x <- E x + F c.
        A system without a finite solution fails the run (the element's
        variables keep their values)."""
        n = len(s.vars)
        nn = n * n
        self._linear_loads(s, ctx, indent, lines, used_x, used_c)
        bits = self._held_bits(s, ctx, freezable)
        sets = linear_factor_sets(s, [k in freezable for k in range(n)])
        table = ", ".join("{" + ", ".join("1" if f else "0" for f in held) + "}" for held in sets)
        site = c_string(_span_site(s.span) or ctx.site)
        lines += [f"{indent}    static const int _held[{len(sets)}][{n}] = {{{table}}};",
                  f"{indent}    double _M[{nn}], _E[{nn}], _F[{nn}];"]
        if linear_diagonal(s) and any((s.group, r) in ctx.step_factors for r in range(n)):
            # uncoupled, some rows' factors made once before the loop (exact_factors_once): the
            # other rows' as snn_exact_diagonal makes them, here; a held row keeps its value
            lines[-1:] = [f"{indent}    const int *const _h = _held[{' | '.join(bits) or '0'}];"]
            ok = []
            for r in range(n):
                if (s.group, r) in ctx.step_factors:
                    E, F = ctx.step_factors[(s.group, r)]
                else:
                    E, F = f"_e{r}", f"_f{r}"
                    lines += [f"{indent}    {line}" for line in
                              _row_factors(self.expr(s.matrix[r][r], ctx), f"_ax{r}", E, F)]
                lines += [f"{indent}    const double _E{r} = _h[{r}] ? 1.0 : {E}, _F{r} = _h[{r}] ? 0.0 : {F};"]
                ok.append(f"isfinite(_E{r}) && isfinite(_F{r})")
            self._exact_writes(s, ctx, indent, lines, reach, used_c, f"!({' && '.join(ok)})", site,
                               lambda r, k: f"_E{r}", lambda r, k: f"_F{r}")
            return
        if linear_diagonal(s):  # uncoupled: each row's closed form (snn_exact_diagonal), no matrix exponential
            entries = " ".join(f"_M[{r * n + r}] = {self.expr(s.matrix[r][r], ctx)};" for r in range(n))
            call = f"snn_exact_diagonal({n}, _M, _held[{' | '.join(bits) or '0'}], dt, _E, _F)"
        else:
            entries = " ".join(f"_M[{r * n + k}] = {self.expr(s.matrix[r][k], ctx)};"
                               for r in range(n) for k in range(n))
            call = f"snn_exact_step({n}, _M, _held[{' | '.join(bits) or '0'}], dt, _E, _F)"
        lines.append(f"{indent}    {entries}")
        self._exact_writes(s, ctx, indent, lines, reach, used_c, call, site,
                           lambda r, k: f"_E[{r * n + k}]", lambda r, k: f"_F[{r * n + k}]")

    def _exact_writes(self, s: ir.LinearStep, ctx: Context, indent: str, lines: list[str], reach, used_c,
                      failed: str, site: str, E, F) -> None:
        """The end of a per-step exact step: where the C condition `failed`
        holds, the run fails (the element keeps its values); else x <- E x + F c,
        `E(r, k)` and `F(r, k)` the C of the factors."""
        n = len(s.vars)
        lines += [f"{indent}    if ({failed}) {{",
                  f"{indent}        snn_fail(sim, \"%s: error[E0501]: the equations of '%s' have no finite exact "
                  f"solution over one step\", {site}, {c_string(s.group)});",
                  f"{indent}    }} else {{"]
        for r, name in enumerate(s.vars):
            if (s.group, name) in ctx.drop:
                continue
            terms = [f"{E(r, k)} * _x{k}" for k in range(n) if reach[r][k]]
            terms += [f"{F(r, k)} * _c{k}" for k in used_c if reach[r][k]]
            x = ir.Var(s.group, name)
            write = f"{self.var(x, ctx)} = {' + '.join(terms) or '0.0'};"
            lines.append(f"{indent}        {self._guarded(x, write, ctx)}")
        lines += [f"{indent}    }}", f"{indent}}}"]


def linear_diagonal(s: ir.LinearStep) -> bool:
    """Whether the exact step's variables are uncoupled: every entry of M
    off its diagonal is the constant 0."""
    n = len(s.vars)
    return all(ir.is_zero(s.matrix[r][k]) for r in range(n) for k in range(n) if r != k)


def linear_factor_sets(s: ir.LinearStep, freezable: list[bool]) -> list[tuple[bool, ...]]:
    """The frozen rows of each set of exact factors of `s`, by set number:
    bit j of the number is the j-th freezable variable frozen (for that
    element), the next bit the neuron refractory (its `unless refractory`
    rows held). Set 0 is the free system. A frozen row is held constant over
    the step, so the other variables see it constant, as Brian2 does when a
    derivative is multiplied by zero."""
    rows = [k for k, f in enumerate(freezable) if f]
    refractory = any(s.unless_refractory)
    out = []
    for number in range(1 << (len(rows) + refractory)):
        held = [bool(refractory and number >> len(rows) & 1 and s.unless_refractory[r]) for r in range(len(s.vars))]
        for j, r in enumerate(rows):
            held[r] = held[r] or bool(number >> j & 1)
        out.append(tuple(held))
    return out


def linear_reach(matrix) -> list[list[bool]]:
    """reach[r][k]: x_r's derivative depends on x_k, directly or through other
    variables (or r == k). Outside it, expm(M dt) and its integral are zero."""
    n = len(matrix)
    reach = [[r == k or not ir.is_zero(matrix[r][k]) for k in range(n)] for r in range(n)]
    for via in range(n):  # transitive closure (Warshall)
        for r in range(n):
            if reach[r][via]:
                for k in range(n):
                    reach[r][k] = reach[r][k] or reach[via][k]
    return reach


