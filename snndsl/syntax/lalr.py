"""The grammar's parser: .snn text -> `ast.Module` through grammar/snn.lark
(LALR with an indenter), the reference the recursive-descent parser
(syntax/descent.py) is tested against, and the one that explains what
the fast parser does not take (syntax/parse.py calls it then, and only
then imports it, and Lark with it). The Lark tree is turned into frozen
AST dataclasses once, here; no later stage sees Lark.
"""
from __future__ import annotations

import ast as pyast
import dataclasses
import functools
import re
from fractions import Fraction

import lark
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import Indenter

from snndsl import resources
from snndsl.diagnostics import Code, CompileError, Diagnostic, Span, error
from snndsl.syntax import ast
from snndsl.syntax.parse import too_deep
from snndsl.units import format_power


class _SnnIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def handle_NL(self, token: Token):
        """Lark's, but a dedent to no enclosing level is reported at its line."""
        if self.paren_level > 0:
            return
        yield token
        indent = len(token.rsplit("\n", 1)[1])
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, "", token)
            return
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, "", token)
        if indent != self.indent_level[-1]:
            levels = ", ".join(str(n) for n in self.indent_level)
            line = token.end_line
            raise _SyntaxProblem(f"inconsistent indentation: this line is indented by {indent} spaces, which matches no "
                                 f"enclosing block (indented by {levels})", Span("", line, 1, line, indent + 1))


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        resources.grammar_text(),
        parser="lalr",
        lexer="contextual",
        postlex=_SnnIndenter(),
        propagate_positions=True,
        maybe_placeholders=True,
        cache=_cache_file(),  # the LALR tables, kept between runs (keyed by the grammar)
    )


def _cache_file() -> str | bool:
    import hashlib
    import os
    import tempfile
    digest = hashlib.sha256(resources.grammar_text().encode() + lark.__version__.encode()).hexdigest()[:16]
    folder = os.environ.get("SNNDSL_CACHE") or os.path.join(tempfile.gettempdir(), "snndsl-grammar")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    return os.path.join(folder, f"snn-{digest}.lark-cache")


# Names of terminals as a user would say them, for "expected ..." messages.
_TERMINAL_WORDS = {
    "_NL": "end of line", "_INDENT": "an indented block", "_DEDENT": "end of block",
    "NAME": "a name", "NUMBER": "a number", "STRING": 'a string ("...")',
    "COLON": "':'", "EQUAL": "'='", "AUGOP": "'=' or '+=' ...", "LPAR": "'('", "RPAR": "')'",
    "LSQB": "'['", "RSQB": "']'", "COMMA": "','", "DOT": "'.'", "UNIT": "a unit",
    "UNIT_SUFFIX": "a unit", "FLAG": "a flag", "EVENT": "'pre' or 'post'",
    "COMPARE": "a comparison", "ADDOP": "'+' or '-'", "MULOP": "'*', '/' or '%'",
    "MULDIV": "'*' or '/'", "__ANON_0": "'->'", "$END": "end of file",
    "POWER_SIGNED": "a power (2, -0.5)",
}


class _ToAst(Transformer):
    """Lark tree -> AST. One method per grammar rule (or alias)."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def _span(self, meta) -> Span | None:
        if meta is None or getattr(meta, "empty", True):
            return None
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column,
                    meta.start_pos, meta.end_pos)

    def _tspan(self, tok: Token) -> Span:
        return Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column,
                    tok.start_pos, tok.end_pos)

    # ---- expressions
    @v_args(meta=True)
    def quantity(self, meta, children):
        num, unit = children
        return ast.Number(str(num), re.sub(r"\s+", "", str(unit)) if unit else None, self._span(meta))

    @v_args(meta=True)
    def name(self, meta, children):
        return ast.Name(str(children[0]), self._span(meta))

    @v_args(meta=True)
    def true(self, meta, children):
        return ast.Bool(True, self._span(meta))

    @v_args(meta=True)
    def false(self, meta, children):
        return ast.Bool(False, self._span(meta))

    @v_args(meta=True)
    def attr(self, meta, children):
        return ast.Attr(str(children[0]), str(children[1]), self._span(meta))

    @v_args(meta=True)
    def attr_index(self, meta, children):
        return ast.Attr(str(children[0]), str(children[1]), self._span(meta), index=children[2])

    @v_args(meta=True)
    def call(self, meta, children):
        args = tuple(c for c in children[1:] if c is not None)
        return ast.Call(str(children[0]), args, self._span(meta))

    @v_args(meta=True)
    def index(self, meta, children):
        return ast.Index(str(children[0]), tuple(children[1:]), self._span(meta))

    @v_args(meta=True)
    def list_(self, meta, children):
        return ast.ListLit(tuple(c for c in children if c is not None), self._span(meta))

    @v_args(meta=True)
    def binop(self, meta, children):
        left, op, right = children
        return ast.BinOp(str(op), left, right, self._span(meta))

    compare = binop

    @v_args(meta=True)
    def pow(self, meta, children):
        return ast.BinOp("**", children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def or_(self, meta, children):
        return ast.BinOp("or", children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def and_(self, meta, children):
        return ast.BinOp("and", children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def not_(self, meta, children):
        return ast.UnaryOp("not", children[0], self._span(meta))

    @v_args(meta=True)
    def neg(self, meta, children):
        return ast.UnaryOp(str(children[0]), children[1], self._span(meta))

    # ---- units
    @v_args(meta=True)
    def unit(self, meta, children):
        factors: list[tuple[str, int]] = []
        sign = 1
        texts = []
        for c in children:
            if isinstance(c, Token) and c.type == "MULDIV":
                sign = -1 if str(c) == "/" else 1
                texts.append(str(c))
                continue
            name, power = c
            texts.append(name if power == 1 else f"{name}**{format_power(power)}")
            if name != "1":
                factors.append((name, sign * power))
            sign = 1
        return ast.Unit(tuple(factors), "".join(texts), self._span(meta))

    def unit_factor(self, children):
        tok, power = children[0], (children[1] if len(children) > 1 else None)
        if tok.type == "NUMBER":
            if str(tok) != "1":
                raise _SyntaxProblem(f"a unit is a unit name or 1, not '{tok}'", self._tspan(tok))
            return ("1", 1)
        return (str(tok), 1 if power is None else power)

    def unit_power(self, children):
        return ast.unit_power(Fraction(str(children[0])))

    def unit_power_ratio(self, children):
        num, den = children
        if not re.fullmatch(r"[-+]?[0-9]+", str(num)) or not re.fullmatch(r"[0-9]+", str(den)) \
                or int(str(den)) == 0:
            raise _SyntaxProblem(f"a fractional power is written (P/Q) with whole numbers P and Q > 0, "
                                 f"not ({num}/{den})", self._tspan(num))
        return ast.unit_power(Fraction(int(str(num)), int(str(den))))

    def flags(self, children):
        return tuple(" ".join(str(c).split()) for c in children)

    # ---- group items
    @v_args(meta=True)
    def ode_decl(self, meta, children):
        dname, dt, expr, unit, flags = children
        if not (str(dname).startswith("d") and len(str(dname)) > 1 and str(dt) == "dt"):
            raise _SyntaxProblem(
                f"a differential equation is written dX/dt = ..., not {dname}/{dt}",
                self._span(meta))
        return ast.OdeDecl(str(dname)[1:], expr, unit, flags or (), self._span(meta))

    @v_args(meta=True)
    def var_decl(self, meta, children):
        name, unit, flags = children
        return ast.VarDecl(str(name), unit, flags or (), self._span(meta))

    @v_args(meta=True)
    def subexpr_decl(self, meta, children):
        name, expr, unit, flags = children
        return ast.SubexprDecl(str(name), expr, unit, flags or (), self._span(meta))

    @v_args(meta=True)
    def summed_decl(self, meta, children):
        side, name, expr, unit, flags = children
        return ast.SummedDecl(str(side), str(name), expr, unit, flags or (), self._span(meta))

    @v_args(meta=True)
    def prop(self, meta, children):
        return ast.Prop(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def dt_prop(self, meta, children):
        return ast.Prop("dt", children[0], self._span(meta))

    def _clause(kind):
        @v_args(meta=True)
        def make(self, meta, children):
            return ast.Clause(kind, children[0], self._span(meta))
        return make

    threshold = _clause("threshold")
    refractory = _clause("refractory")
    clock = _clause("dt")
    @v_args(meta=True)
    def delay(self, meta, children):
        name, expr = children
        return ast.Clause("delay", expr, self._span(meta), pathway=None if name is None else str(name),
                          pathway_span=None if name is None else self._tspan(name))
    connect_expr = _clause("connect")

    @v_args(meta=True)
    def event_clause(self, meta, children):
        name, expr = children
        return ast.Clause("event", expr, self._span(meta), pathway=str(name), pathway_span=self._tspan(name))

    @v_args(meta=True)
    def connect_from(self, meta, children):
        return ast.ConnectFrom(str(children[0]), self._span(meta))

    def connect_if(self, children):
        return children[0]

    def connect_choose(self, children):
        return children[0]

    def connect_times(self, children):
        return children[0]

    @v_args(meta=True)
    def connect_many(self, meta, children):
        cond, times = children
        return ast.ConnectGenerator(None, cond=cond, times=times, span=self._span(meta))

    @v_args(meta=True)
    def connect_range(self, meta, children):
        var, lo, hi, choose, cond, times = children
        return ast.ConnectGenerator(str(var), lo=lo, hi=hi, choose=choose, cond=cond, times=times,
                                    var_span=self._tspan(var), span=self._span(meta))

    @v_args(meta=True)
    def connect_target(self, meta, children):
        var, target, loop, cond, times = children
        name, lo, hi = loop if loop is not None else (None, None, None)
        return ast.ConnectGenerator(str(var), target=target, cond=cond, times=times, var_span=self._tspan(var),
                                    span=self._span(meta), lo=lo, hi=hi, loop=None if name is None else str(name),
                                    loop_span=None if name is None else self._tspan(name))

    def connect_for(self, children):
        return tuple(children)

    @v_args(meta=True)
    def method(self, meta, children):
        return ast.Method(str(children[0]), self._span(meta))

    @v_args(meta=True)
    def reset(self, meta, children):
        return ast.CodeBlock("reset", children[0], self._span(meta))

    @v_args(meta=True)
    def init(self, meta, children):
        return ast.CodeBlock("init", children[0], self._span(meta))

    @v_args(meta=True)
    def on_event(self, meta, children):
        event, name, body = children
        return ast.CodeBlock(str(event), body, self._span(meta), pathway=None if name is None else str(name),
                             pathway_span=None if name is None else self._tspan(name))

    @v_args(meta=True)
    def on_custom_event(self, meta, children):
        name, body = children
        return ast.CodeBlock("event", body, self._span(meta), pathway=str(name), pathway_span=self._tspan(name))

    @v_args(meta=True)
    def on_event_of(self, meta, children):
        name, end, body = children
        return ast.CodeBlock(str(end), body, self._span(meta), pathway=str(name), pathway_span=self._tspan(name),
                             of=True)

    @v_args(meta=True)
    def every_block(self, meta, children):
        return ast.EveryBlock(children[0], children[1], self._span(meta))

    def group_body(self, children):
        return tuple(children)

    # ---- event code
    def code_body(self, children):
        return tuple(children)

    @v_args(meta=True)
    def code_simple(self, meta, children):
        (neighbour, target), op, value = children
        return ast.Assign(target, str(op), value, neighbour, self._span(meta))

    @v_args(meta=True)
    def code_let(self, meta, children):
        return ast.Let(str(children[0]), children[1], self._span(meta))

    def local_ref(self, children):
        return (None, str(children[0]))

    def neighbour_ref(self, children):
        return (str(children[0]), str(children[1]))

    @v_args(meta=True)
    def code_if(self, meta, children):
        cond, body, orelse = children
        return ast.If(cond, body, orelse or (), self._span(meta))

    # ---- top level
    @v_args(meta=True)
    def setting(self, meta, children):
        return ast.Setting(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def const_decl(self, meta, children):
        return ast.ConstDecl(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def param_decl(self, meta, children):
        return ast.ParamDecl(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def data_decl(self, meta, children):
        name, unit, path, period = children
        if isinstance(path, ast.Expr):
            return ast.DataDecl(str(name), unit, "", self._span(meta), path.span, period, path)
        return ast.DataDecl(str(name), unit, _string_value(path, self._tspan(path)),
                            self._span(meta), self._tspan(path), period)

    def _group(kind):
        @v_args(meta=True)
        def make(self, meta, children):
            name, size, items = children
            return ast.GroupDecl(kind, str(name), size, items, span=self._span(meta),
                                 name_span=self._tspan(name))
        return make

    @v_args(meta=True)
    def subgroup_decl(self, meta, children):
        name, parent, lo, hi = children
        return ast.SubgroupDecl(str(name), str(parent), lo, hi, self._span(meta), self._tspan(name),
                                self._tspan(parent))

    @v_args(meta=True)
    def poisson_input_decl(self, meta, children):
        name, size, target, var, items = children
        return ast.PoissonInputDecl(str(name), size, str(target), str(var), items, self._span(meta),
                                    self._tspan(name), self._tspan(target), self._tspan(var))

    neurons_decl = _group("neurons")
    poisson_decl = _group("poisson")
    spikes_decl = _group("spikes")

    @v_args(meta=True)
    def synapses_decl(self, meta, children):
        name, source, target, items = children
        return ast.GroupDecl("synapses", str(name), None, items, str(source), str(target),
                             span=self._span(meta), name_span=self._tspan(name),
                             source_span=self._tspan(source), target_span=self._tspan(target))

    @v_args(meta=True)
    def spike_monitor(self, meta, children):
        name, group, recording, during = children
        names, spans = during if during is not None else ((), ())
        recorded = recording if recording is not None else ()
        return ast.MonitorDecl(str(name), "spikes", str(group), during=names, span=self._span(meta),
                               group_span=self._tspan(group), during_spans=spans,
                               recorded=tuple(str(t) for t in recorded),
                               recorded_spans=tuple(self._tspan(t) for t in recorded))

    @v_args(meta=True)
    def rate_monitor(self, meta, children):
        name, kind, group, recording, during = children
        names, spans = during if during is not None else ((), ())
        if str(kind) != "rate" or recording is not None:
            # `EVENT of G`: the custom event EVENT of G (the checker knows G's events)
            recorded = recording if recording is not None else ()
            return ast.MonitorDecl(str(name), "spikes", str(group), during=names, span=self._span(meta),
                                   group_span=self._tspan(group), kind_span=self._tspan(kind), during_spans=spans,
                                   recorded=tuple(str(t) for t in recorded),
                                   recorded_spans=tuple(self._tspan(t) for t in recorded), event=str(kind))
        return ast.MonitorDecl(str(name), "rate", str(group), during=names, span=self._span(meta),
                               group_span=self._tspan(group), kind_span=self._tspan(kind), during_spans=spans)

    @v_args(meta=True)
    def state_monitor(self, meta, children):
        name, group, var, selector, every, during = children
        names, spans = during if during is not None else ((), ())
        return ast.MonitorDecl(str(name), "state", str(group), str(var), selector, every,
                               names, span=self._span(meta), group_span=self._tspan(group),
                               var_span=self._tspan(var), during_spans=spans)

    def every(self, children):
        return children[0]

    def recording(self, children):
        return tuple(children)

    def during(self, children):
        return tuple(n for n, _ in children), tuple(s for _, s in children)

    def phase_name(self, children):
        return (str(children[0]), self._tspan(children[0]))

    # ---- protocol
    @v_args(meta=True)
    def phase_decl(self, meta, children):
        (name, name_span), body = children
        return ast.PhaseDecl(name, body, self._span(meta), name_span)

    def phase_body(self, children):
        return tuple(children)

    @v_args(meta=True)
    def run(self, meta, children):
        return ast.Run(children[0], self._span(meta))

    @v_args(meta=True)
    def group_assign(self, meta, children):
        target, op, value = children
        return ast.GroupAssign(target, str(op), value, self._span(meta))

    @v_args(meta=True)
    def let(self, meta, children):
        return ast.Let(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def local_assign(self, meta, children):
        return ast.LocalAssign(str(children[0]), str(children[1]), children[2], self._span(meta))

    @v_args(meta=True)
    def freeze(self, meta, children):
        return ast.Freeze(children[0], True, self._span(meta))

    @v_args(meta=True)
    def unfreeze(self, meta, children):
        return ast.Freeze(children[0], False, self._span(meta))

    @v_args(meta=True)
    def save(self, meta, children):
        group, var, name = children
        return ast.Save(str(group), str(var), str(name), self._span(meta),
                        self._tspan(group), self._tspan(var), self._tspan(name))

    @v_args(meta=True)
    def store_state(self, meta, children):
        return ast.StoreState(str(children[0]), self._span(meta))

    @v_args(meta=True)
    def restore_state(self, meta, children):
        tok = children[0]
        return ast.RestoreState(_string_value(tok, self._tspan(tok)), self._span(meta))

    @v_args(meta=True)
    def phase_for(self, meta, children):
        var, start, stop, body = children
        return ast.For(str(var), start, stop, body, self._span(meta))

    @v_args(meta=True)
    def phase_if(self, meta, children):
        cond, body, orelse = children
        return ast.If(cond, body, orelse or (), self._span(meta))

    @v_args(meta=True)
    def phase_while(self, meta, children):
        return ast.While(children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def target(self, meta, children):
        group, var, selector = children
        return ast.Target(str(group), str(var), selector, self._span(meta),
                          self._tspan(group), self._tspan(var))

    @v_args(meta=True)
    def select_where(self, meta, children):
        return ast.Where(children[0], self._span(meta))

    @v_args(meta=True)
    def select_range(self, meta, children):
        return ast.Range(children[0], children[1], self._span(meta))

    def start(self, children):
        return tuple(c for c in children if c is not None)


class _SyntaxProblem(Exception):
    def __init__(self, message: str, span: Span | None, code: Code = Code.SYNTAX):
        super().__init__(message)
        self.message = message
        self.span = span
        self.code = code


def _string_value(tok: Token, span: Span) -> str:
    """The text of a "..." literal, with \\" \\\\ \\n escapes as in Python."""
    try:
        value = pyast.literal_eval(str(tok))
    except (ValueError, SyntaxError):
        raise _SyntaxProblem(f"malformed string {tok}", span, Code.BAD_STRING) from None
    if not isinstance(value, str) or "\x00" in value:
        raise _SyntaxProblem("a string may not contain a NUL character", span, Code.BAD_STRING)
    return value


@functools.lru_cache(maxsize=1)
def _literals() -> dict[str, str]:
    """Terminal name -> its text, for the grammar's fixed strings (SLASH -> '/',
    __ANON_1 -> '**'): a message names what to type, never a token's name."""
    return {t.name: f"'{t.pattern.value}'" for t in _parser().terminals if t.pattern.type == "str"}


def _describe_expected(expected: set[str]) -> str:
    literals = _literals()
    words = sorted({_TERMINAL_WORDS.get(e) or literals.get(e) or f"'{e.lower()}'"
                    for e in expected if e in _TERMINAL_WORDS or e in literals or not e.startswith("_")})
    if len(words) > 6:
        return ", ".join(words[:6]) + ", ..."
    return ", ".join(words)


# reserved words that never begin a line followed by ':' or '=' (unlike `init:`,
# `else:`, `reset: ...`, which begin blocks and clauses)
_NEVER_DECLARED = set("in and or not on pre post every during from of true false as state".split())
_DECLARATION = re.compile(r"^(\s*)(d?)([A-Za-z_][A-Za-z0-9_]*)(/dt)?\s*(:|=)")


def _reserved_word_declared(text: str, line: int, file: str) -> Diagnostic | None:
    """`on : boolean`, `in = 3`: a reserved word where a declaration's name goes
    fails to parse somewhere odd; say what happened instead."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    m = _DECLARATION.match(lines[line - 1])
    if not m:
        return None
    word = m.group(3)
    if word not in _NEVER_DECLARED:
        return None
    col = len(m.group(1)) + 1 + len(m.group(2))
    return error(Code.RESERVED_NAME, f"'{word}' is a reserved word and cannot name a variable; "
                 "choose another name", Span(file, line, col, line, col + len(word)))


_CLAUSE_WORDS = ("threshold", "reset", "refractory", "method", "connect", "delay", "init")
_NUMBER_BEFORE = re.compile(r"[0-9.]\s*$")


def _brian2_habit(exc: UnexpectedInput, text: str, file: str) -> Diagnostic | None:
    """What a Brian2 user writes by habit, and what to write instead: quoted
    code, `S.connect(p=0.1)`, `delay = 2 ms`, an unknown unit after a number."""
    lines = text.splitlines()
    line_no = exc.line or 0
    line = lines[line_no - 1] if 1 <= line_no <= len(lines) else ""
    tok = getattr(exc, "token", None)
    col = exc.column or 1
    # code in quotes: 'v > vt' or "v > vt" where an expression goes
    quoted = None
    if isinstance(exc, UnexpectedCharacters) and text[exc.pos_in_stream:exc.pos_in_stream + 1] == "'":
        end = line.find("'", col)
        quoted = line[col:end] if end >= 0 else line[col:]
    elif isinstance(exc, UnexpectedToken) and tok is not None and tok.type == "STRING" and "STRING" not in exc.expected:
        quoted = str(tok)[1:-1]
    if quoted is not None:
        width = len(quoted) + 2
        return error(Code.SYNTAX, f"code is written without quotes in snndsl: {quoted.strip()}, not "
                     f"'{quoted.strip()}' (Brian2's strings)", Span(file, line_no, col, line_no, col + width))
    m = re.match(r"\s*([A-Za-z_]\w*)\.connect\s*\(", line)
    if m and isinstance(exc, UnexpectedToken) and tok is not None and str(tok) == "(":
        start = len(line) - len(line.lstrip()) + 1
        return error(Code.SYNTAX, f"synapses are connected where they are declared: write `connect: rand() < 0.1` "
                     f"(or any condition on i and j) in `synapses {m.group(1)}: ...`, not {m.group(1)}.connect(...)",
                     Span(file, line_no, start, line_no, start + len(line.strip())))
    m = re.match(r"(\s*)event\s*(:|=(?!=))", line)
    if m:
        start = len(m.group(1)) + 1
        return error(Code.RESERVED_NAME, "'event' is a reserved word: a custom event is written `event NAME: "
                     "CONDITION` (and no variable may be called 'event')", Span(file, line_no, start, line_no, start + 5))
    m = re.match(r"(\s*)(" + "|".join(_CLAUSE_WORDS) + r")\s*=(?!=)", line)
    if m:
        start = len(m.group(1)) + 1
        return error(Code.RESERVED_NAME, f"'{m.group(2)}' is a reserved word and cannot name a variable; its "
                     f"clause is written `{m.group(2)}: ...`", Span(file, line_no, start, line_no, start + len(m.group(2))))
    if isinstance(exc, UnexpectedToken) and tok is not None and tok.type in ("NAME", "FLAG") \
            and re.fullmatch(r"[A-Za-z_]\w*", str(tok)) and tok.start_pos is not None \
            and _NUMBER_BEFORE.search(text[:tok.start_pos]):
        from snndsl.units import suggest_unit
        near = suggest_unit(str(tok))
        return error(Code.UNKNOWN_UNIT, f"unknown unit '{tok}'" + (f"; did you mean '{near}'?" if near else ""),
                     Span(file, tok.line, tok.column, tok.line, tok.column + len(str(tok))))
    return None


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    reserved = _reserved_word_declared(text, exc.line or 0, file)
    if reserved is not None:
        return reserved
    habit = _brian2_habit(exc, text, file)
    if habit is not None:
        return habit
    line, col = exc.line, exc.column
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            lines = text.splitlines() or [""]
            line, col = len(lines), len(lines[-1]) + 1
            what = "end of file"
        elif tok.type == "_NL":
            what = "end of line"
        elif tok.type == "_INDENT":
            what = "indent"
        elif tok.type == "_DEDENT":
            what = "end of block"
        else:
            what = f"'{tok}'"
        if tok.type in ("_INDENT", "_DEDENT") and tok.end_line is not None:
            # borrowed from the newline token: its end is where the line's text starts
            line, col = tok.end_line, tok.end_column
        elif tok.line is not None and tok.type != "$END":
            line, col = tok.line, tok.column
        message = f"unexpected {what}; expected {_describe_expected(set(exc.expected))}"
        width = max(1, len(str(tok))) if tok.type not in ("_NL", "_INDENT", "_DEDENT", "$END") else 1
    elif isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if ch == '"':
            return error(Code.BAD_STRING, "unterminated string (a string ends with \" on the same line)",
                         Span(file, line, col, line, col + 1))
        message = f"unexpected character {ch!r}"
        if exc.allowed:
            message += f"; expected {_describe_expected(set(exc.allowed))}"
        width = 1
    else:
        message = "syntax error"
        width = 1
    if line is None or line < 1:
        line, col = 1, 1
    return error(Code.SYNTAX, message, Span(file, line, col or 1, line, (col or 1) + width))


def reference_parse(text: str, file: str = "<string>") -> ast.Module:
    """Parse with the LALR parser built from the grammar (layout already checked)."""
    sources = {file: text}
    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise CompileError([_syntax_diagnostic(exc, text, file)], sources) from None
    except _SyntaxProblem as exc:  # from the indenter, which does not know the file
        span = dataclasses.replace(exc.span, file=file) if exc.span else None
        raise CompileError([error(exc.code, exc.message, span)], sources) from None
    except RecursionError:
        raise CompileError([too_deep(file, text)], sources) from None
    try:
        decls = _ToAst(file).transform(tree)
    except RecursionError:
        raise CompileError([too_deep(file, text)], sources) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, RecursionError):
            raise CompileError([too_deep(file, text)], sources) from None
        if isinstance(exc.orig_exc, _SyntaxProblem):
            raise CompileError([error(exc.orig_exc.code, exc.orig_exc.message, exc.orig_exc.span)],
                               sources) from None
        raise
    return ast.Module(file, decls)
