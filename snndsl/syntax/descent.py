"""A recursive-descent parser for the .snn language: the fast path of parsing.

grammar/snn.lark defines the language, and the LALR parser Lark builds from
it (snndsl/syntax/lalr.py) is the reference. That parser costs about 1.5 ms
per line of text, so a model of 10,000 groups took 17 s to parse. This one
reads the same grammar by hand, about ten times faster, and builds the same
AST with the same spans: a node spans from its first token to its last, a
parenthesised operand counts its parentheses, and a rule that ends with a
newline, an indented block or its end takes that token's place (Lark's
propagate_positions), so a caret points where it always did.

It does not explain mistakes. On anything it does not accept it raises
`Unparsed`, and parse_source hands the text to the reference parser, which
either reports the syntax error as it always has or (if the two disagree)
parses it. tests/syntax/test_descent.py checks, on every model in the tests and
on fuzzed text, that whatever this parser accepts the reference parses to
the equal AST, spans included, and that what it rejects the reference
rejects too.

To stay a subset of the reference, it treats a word as a keyword only where
the grammar has that keyword, and refuses every reserved word where a name
goes (the contextual lexer's choice there depends on LALR lookahead sets; the
checker rejects such names anyway): those texts go to the reference parser.
The token patterns (numbers, names, unit suffixes, strings, flags) are read
from the grammar file, so the two lexers cannot drift apart.
"""
from __future__ import annotations

import ast as pyast
import re
from fractions import Fraction

from snndsl import resources
from snndsl.diagnostics import Span
from snndsl.syntax import ast
from snndsl.syntax.ast import RESERVED
from snndsl.units import format_power


class Unparsed(Exception):
    """This parser does not take the text; the reference parser decides."""


def _terminal(grammar: str, name: str) -> str:
    m = re.search(rf"^{re.escape(name)}(?:\.-?\d+)?: /(.*)/$", grammar, re.M)
    if m is None:
        raise RuntimeError(f"grammar/snn.lark has no terminal {name} (the fast parser reads it there)")
    return m.group(1)


_G = resources.grammar_text()
_NUMBER = _terminal(_G, "NUMBER")
_NAME = _terminal(_G, "NAME")
_STRING = _terminal(_G, "STRING")
_UNIT_SUFFIX = re.compile(r"[ ]*(" + _terminal(_G, "UNIT_SUFFIX") + ")")
_FLAG = re.compile(_terminal(_G, "FLAG"))
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)  # a unit's power (POWER_SIGNED without its sign)
_WHOLE = re.compile(r"[0-9]+", re.ASCII)
del _G

# Spaces are skipped; a newline starts a run of newlines, indentation and
# comments, one token (the grammar's _NL); operators longest first.
_TOKEN = re.compile(rf"""
    (?P<sp>[ ]+)
  | (?P<nl>(?:\r?\n[ \t]*|\#[^\n]*)+)
  | (?P<num>{_NUMBER})
  | (?P<name>{_NAME})
  | (?P<str>{_STRING})
  | (?P<op>\*\*|//|->|\.\.|<=|>=|==|!=|\+=|-=|\*=|/=|[-+*/%<>=:.,;()\[\]])
""", re.X)

_AUGOPS = frozenset(("=", "+=", "-=", "*=", "/="))
_COMPARE = frozenset(("<=", ">=", "==", "!=", "<", ">"))
_MULOPS = frozenset(("*", "/", "//", "%"))
_ADDOPS = frozenset(("+", "-"))
_CLAUSES = frozenset(("threshold", "refractory", "delay", "dt"))

# A token: (kind, text, start, end, line, col, end_line, end_col). The kind is
# "name", "num", "unit", "str", "nl", "indent", "dedent", "end", or an
# operator's own text.
KIND, TEXT, START, END, LINE, COL, END_LINE, END_COL = range(8)


def tokenize(text: str) -> list[tuple]:
    """Tokens as the grammar's lexer and indenter give them to its parser:
    newlines inside brackets dropped, INDENT and DEDENT (at the newline's
    place) around blocks, a unit suffix only right after a number."""
    toks: list[tuple] = []
    append = toks.append
    match = _TOKEN.match
    unit_match = _UNIT_SUFFIX.match
    pos, n = 0, len(text)
    line, line_start = 1, 0
    levels = [0]
    parens = 0
    after_number = False
    while pos < n:
        m = match(text, pos)
        if m is None:
            raise Unparsed
        kind = m.lastgroup
        end = m.end()
        if kind == "sp":
            pos = end
            continue
        if kind == "nl":
            value = m.group()
            breaks = value.count("\n")
            last = value.rfind("\n")
            end_line = line + breaks
            end_col = (end - (pos + last + 1) + 1) if breaks else end - line_start + 1
            if parens <= 0:
                tok = ("nl", value, pos, end, line, pos - line_start + 1, end_line, end_col)
                append(tok)
                indent = len(value) - last - 1 if breaks else 0
                if not breaks:
                    raise Unparsed  # a comment without its newline: only at the end, which has one
                if indent > levels[-1]:
                    levels.append(indent)
                    append(("indent",) + tok[1:])
                else:
                    while indent < levels[-1]:
                        levels.pop()
                        append(("dedent",) + tok[1:])
                    if indent != levels[-1]:
                        raise Unparsed  # inconsistent indentation: the reference parser says so
                after_number = False
            if breaks:
                line, line_start = end_line, pos + last + 1
            pos = end
            continue
        if after_number:
            after_number = False
            u = unit_match(text, pos)
            if u is not None and kind == "name":
                s = u.start(1)
                append(("unit", u.group(1), s, u.end(), line, s - line_start + 1, line, u.end() - line_start + 1))
                pos = u.end()
                continue
        value = m.group()
        col = pos - line_start + 1
        if kind == "op":
            if value == "(" or value == "[":
                parens += 1
            elif value == ")" or value == "]":
                parens -= 1
            append((value, value, pos, end, line, col, line, end - line_start + 1))
        else:
            append((kind, value, pos, end, line, col, line, end - line_start + 1))
            after_number = kind == "num"
        pos = end
    last = toks[-1] if toks else ("end", "", 0, 0, 1, 1, 1, 1)
    while len(levels) > 1:
        levels.pop()
        append(("dedent",) + last[1:])
    append(("end",) + last[1:])
    append(("end",) + last[1:])
    return toks


def parse(text: str, file: str) -> tuple[ast.Decl, ...]:
    """The declarations of `text` (which ends with a newline), or `Unparsed`."""
    return _Parser(text, file).module()


class _Parser:
    def __init__(self, text: str, file: str):
        self.text = text
        self.file = file
        self.toks = tokenize(text)
        self.i = 0

    # ---- tokens
    def span(self, a: int, b: int) -> Span:
        """From the start of token a to the end of token b."""
        t, u = self.toks[a], self.toks[b]
        return Span(self.file, t[LINE], t[COL], u[END_LINE], u[END_COL], t[START], u[END])

    def tspan(self, a: int) -> Span:
        return self.span(a, a)

    def kind(self, k: int = 0) -> str:
        return self.toks[self.i + k][KIND]

    def expect(self, kind: str) -> int:
        i = self.i
        if self.toks[i][KIND] != kind:
            raise Unparsed
        self.i = i + 1
        return i

    def _poisson_input_ahead(self) -> bool:
        """`poisson NAME[...] ->`: a poisson input, not a Poisson group."""
        k, depth = self.i + 2, 0
        while k < len(self.toks) and self.toks[k][KIND] not in ("nl", "end"):
            kind = self.toks[k][KIND]
            depth += (kind == "[") - (kind == "]")
            if depth == 0:
                return k + 1 < len(self.toks) and self.toks[k + 1][KIND] == "->"
            k += 1
        return False

    def word(self, value: str) -> bool:
        """The next token is the keyword `value` (a name token with that text)."""
        t = self.toks[self.i]
        return t[KIND] == "name" and t[TEXT] == value

    def keyword(self, value: str) -> int:
        if not self.word(value):
            raise Unparsed
        self.i += 1
        return self.i - 1

    def any_name(self) -> int:
        """A name, reserved words too (where the grammar's contextual lexer
        takes only a NAME: `save S.delay as delay`)."""
        if self.toks[self.i][KIND] != "name":
            raise Unparsed
        self.i += 1
        return self.i - 1

    def name(self) -> int:
        """A name that is not a reserved word."""
        i = self.i
        t = self.toks[i]
        if t[KIND] != "name" or t[TEXT] in RESERVED:
            raise Unparsed
        self.i = i + 1
        return i

    def any_word(self) -> int:
        """A phase name: any word, reserved or not (the grammar's phase_name)."""
        return self.expect("name")

    def text_of(self, i: int) -> str:
        return self.toks[i][TEXT]

    # ---- top level
    def module(self) -> tuple[ast.Decl, ...]:
        if self.kind() == "nl":
            self.i += 1
        decls = []
        while self.kind() != "end":
            decls.append(self.item())
        return tuple(decls)

    def item(self) -> ast.Decl:
        t = self.toks[self.i]
        if t[KIND] != "name":
            raise Unparsed
        word = t[TEXT]
        start = self.i
        if word in ("const", "param"):
            self.i += 1
            name = self.name()
            self.expect("=")
            value, _, _ = self.expr()
            end = self.expect("nl")
            cls = ast.ConstDecl if word == "const" else ast.ParamDecl
            return cls(self.text_of(name), value, self.span(start, end))
        if word == "data":
            self.i += 1
            name = self.name()
            unit = None
            if self.kind() == ":":
                self.i += 1
                unit = self.unit()
            self.expect("=")
            values = None
            if self.kind() == "str":
                path = self.expect("str")
            else:
                values, _, _ = self.expr()
            period = None
            if self.word("every"):
                self.i += 1
                period, _, _ = self.expr()
            end = self.expect("nl")
            if values is not None:
                return ast.DataDecl(self.text_of(name), unit, "", self.span(start, end), values.span, period, values)
            return ast.DataDecl(self.text_of(name), unit, self.string(path), self.span(start, end), self.tspan(path),
                                period)
        if word == "poisson" and self._poisson_input_ahead():
            self.i += 1
            name = self.name()
            self.expect("[")
            size, _, _ = self.expr()
            self.expect("]")
            self.expect("->")
            target = self.name()
            self.expect(".")
            var = self.name()
            self.expect(":")
            items, end = self.group_body()
            return ast.PoissonInputDecl(self.text_of(name), size, self.text_of(target), self.text_of(var), items,
                                        self.span(start, end), self.tspan(name), self.tspan(target),
                                        self.tspan(var))
        if word in ("neurons", "poisson", "spikes"):
            self.i += 1
            name = self.name()
            self.expect("[")
            size, _, _ = self.expr()
            self.expect("]")
            self.expect(":")
            items, end = self.group_body()
            return ast.GroupDecl(word, self.text_of(name), size, items, span=self.span(start, end),
                                 name_span=self.tspan(name))
        if word == "synapses":
            self.i += 1
            name = self.name()
            self.expect(":")
            source = self.name()
            self.expect("->")
            target = self.name()
            self.expect(":")
            items, end = self.group_body()
            return ast.GroupDecl("synapses", self.text_of(name), None, items, self.text_of(source),
                                 self.text_of(target), span=self.span(start, end), name_span=self.tspan(name),
                                 source_span=self.tspan(source), target_span=self.tspan(target))
        if word == "subgroup":
            self.i += 1
            name = self.name()
            self.expect("=")
            parent = self.name()
            self.expect("[")
            lo, _, _ = self.expr()
            self.expect(":")
            hi, _, _ = self.expr()
            self.expect("]")
            end = self.expect("nl")
            return ast.SubgroupDecl(self.text_of(name), self.text_of(parent), lo, hi, self.span(start, end),
                                    self.tspan(name), self.tspan(parent))
        if word == "monitor":
            return self.monitor()
        if word == "phase":
            self.i += 1
            name = self.any_word()
            self.expect(":")
            body, end = self.phase_body()
            return ast.PhaseDecl(self.text_of(name), body, self.span(start, end), self.tspan(name))
        name = self.name()
        self.expect("=")
        value, _, _ = self.expr()
        end = self.expect("nl")
        return ast.Setting(self.text_of(name), value, self.span(start, end))

    def recorded(self) -> list[int]:
        """A spike or event monitor's `with X, Y`: the names' tokens (none without it)."""
        if not self.word("with"):
            return []
        self.i += 1
        names = [self.name()]
        while self.kind() == ",":
            self.i += 1
            names.append(self.name())
        return names

    def monitor(self) -> ast.MonitorDecl:
        start = self.keyword("monitor")
        name = self.any_word()  # as the grammar: a monitor may be called `spikes`
        self.expect(":")
        if self.word("spikes"):
            self.i += 1
            self.keyword("of")
            group = self.name()
            recorded = self.recorded()
            names, spans = self.during()
            end = self.expect("nl")
            return ast.MonitorDecl(self.text_of(name), "spikes", self.text_of(group), during=names,
                                   span=self.span(start, end), group_span=self.tspan(group), during_spans=spans,
                                   recorded=tuple(self.text_of(k) for k in recorded),
                                   recorded_spans=tuple(self.tspan(k) for k in recorded))
        first = self.name()
        if self.word("of"):
            self.i += 1
            group = self.name()
            recorded = self.recorded()
            names, spans = self.during()
            end = self.expect("nl")
            if self.text_of(first) != "rate" or recorded:
                # `EVENT of G`: the custom event EVENT of G (the checker knows G's events)
                return ast.MonitorDecl(self.text_of(name), "spikes", self.text_of(group), during=names,
                                       span=self.span(start, end), group_span=self.tspan(group),
                                       kind_span=self.tspan(first), during_spans=spans,
                                       recorded=tuple(self.text_of(k) for k in recorded),
                                       recorded_spans=tuple(self.tspan(k) for k in recorded),
                                       event=self.text_of(first))
            return ast.MonitorDecl(self.text_of(name), "rate", self.text_of(group), during=names,
                                   span=self.span(start, end), group_span=self.tspan(group),
                                   kind_span=self.tspan(first), during_spans=spans)
        self.expect(".")
        var = self.name()
        selector = self.selector() if self.kind() == "[" else None
        every = None
        if self.word("every"):
            self.i += 1
            every, _, _ = self.expr()
        names, spans = self.during()
        end = self.expect("nl")
        return ast.MonitorDecl(self.text_of(name), "state", self.text_of(first), self.text_of(var), selector, every,
                               names, span=self.span(start, end), group_span=self.tspan(first),
                               var_span=self.tspan(var), during_spans=spans)

    def during(self) -> tuple[tuple[str, ...], tuple]:
        """`during PHASE, ...` of a monitor, if there: the names and their spans."""
        if not self.word("during"):
            return (), ()
        self.i += 1
        found = [self.any_word()]
        while self.kind() == ",":
            self.i += 1
            found.append(self.any_word())
        return tuple(self.text_of(k) for k in found), tuple(self.tspan(k) for k in found)

    def string(self, i: int) -> str:
        try:
            value = pyast.literal_eval(self.text_of(i))
        except (ValueError, SyntaxError):
            raise Unparsed from None
        if not isinstance(value, str) or "\x00" in value:
            raise Unparsed
        return value

    # ---- groups
    def group_body(self) -> tuple[tuple[ast.GroupItem, ...], int]:
        if self.kind() != "nl":
            item = self.group_line(single=True)
            return (item,), self.expect("nl")
        self.i += 1
        self.expect("indent")
        items = []
        while self.kind() != "dedent":
            items.append(self.group_item())
        end = self.i
        self.i += 1
        return tuple(items), end

    def group_item(self) -> ast.GroupItem:
        t = self.toks[self.i]
        word = t[TEXT] if t[KIND] == "name" else None
        if word in ("reset", "init"):
            start = self.i
            self.i += 1
            self.expect(":")
            body, end = self.code_body()
            return ast.CodeBlock(word, body, self.span(start, end))
        if word == "on":
            start = self.i
            self.i += 1
            event = self.expect("name")
            if self.text_of(event) not in ("pre", "post"):
                if self.text_of(event) in RESERVED:
                    raise Unparsed
                if self.word("of"):  # `on EVENT of pre:`, a pathway at the custom event of an end
                    self.i += 1
                    end_ = self.expect("name")
                    if self.text_of(end_) not in ("pre", "post"):
                        raise Unparsed
                    self.expect(":")
                    body, end = self.code_body()
                    return ast.CodeBlock(self.text_of(end_), body, self.span(start, end),
                                         pathway=self.text_of(event), pathway_span=self.tspan(event), of=True)
                self.expect(":")  # `on EVENT:`, a custom event's code
                body, end = self.code_body()
                return ast.CodeBlock("event", body, self.span(start, end), pathway=self.text_of(event),
                                     pathway_span=self.tspan(event))
            pathway = self.name() if self.kind() == "name" else None
            self.expect(":")
            body, end = self.code_body()
            return ast.CodeBlock(self.text_of(event), body, self.span(start, end),
                                 pathway=None if pathway is None else self.text_of(pathway),
                                 pathway_span=None if pathway is None else self.tspan(pathway))
        if word == "every":
            start = self.i
            self.i += 1
            period, _, _ = self.expr()
            self.expect(":")
            body, end = self.code_body()
            return ast.EveryBlock(period, body, self.span(start, end))
        item = self.group_line(single=False)
        self.expect("nl")
        return item

    def connect_generator(self, start: int) -> ast.ConnectGenerator:
        """`j in LO .. HI [choose K]` or `j = EXPR`, then `if COND` and `times N`, each optional."""
        var = self.name()
        lo = hi = target = choose = cond = times = None
        loop = None
        if self.kind() == "=":
            self.i += 1
            target, _, end = self.expr()
            if self.word("for"):
                self.i += 1
                loop = self.name()
                self.keyword("in")
                lo, _, _ = self.expr()
                self.expect("..")
                hi, _, end = self.expr()
        else:
            self.keyword("in")
            lo, _, _ = self.expr()
            self.expect("..")
            hi, _, end = self.expr()
            if self.word("choose"):
                self.i += 1
                choose, _, end = self.expr()
        if self.word("if"):
            self.i += 1
            cond, _, end = self.expr()
        if self.word("times"):
            self.i += 1
            times, _, end = self.expr()
        return ast.ConnectGenerator(self.text_of(var), lo=lo, hi=hi, target=target, choose=choose, cond=cond,
                                    times=times, var_span=self.tspan(var), span=self.span(start, end),
                                    loop=None if loop is None else self.text_of(loop),
                                    loop_span=None if loop is None else self.tspan(loop))

    def group_line(self, single: bool) -> ast.GroupItem:
        """One line of a group, without its newline."""
        start = self.i
        t = self.toks[start]
        word = t[TEXT] if t[KIND] == "name" else None
        if word == "event":
            self.i += 1
            name = self.name()
            self.expect(":")
            expr, _, end = self.expr()
            return ast.Clause("event", expr, self.span(start, end), pathway=self.text_of(name),
                              pathway_span=self.tspan(name))
        if word in _CLAUSES and not (word == "dt" and self.toks[start + 1][KIND] == "="):  # `dt =`: a Prop
            self.i += 1
            pathway = self.name() if word == "delay" and self.kind() == "name" else None
            self.expect(":")
            expr, _, end = self.expr()
            return ast.Clause(word, expr, self.span(start, end),
                              pathway=None if pathway is None else self.text_of(pathway),
                              pathway_span=None if pathway is None else self.tspan(pathway))
        if word == "method":
            self.i += 1
            self.expect(":")
            name = self.name()
            return ast.Method(self.text_of(name), self.span(start, name))
        if word == "connect":
            self.i += 1
            self.expect(":")
            if self.word("from"):
                self.i += 1
                name = self.name()
                return ast.ConnectFrom(self.text_of(name), self.span(start, name))
            if self.kind() == "name" and self.text_of(self.i) not in RESERVED and (
                    self.kind(1) == "=" or (self.kind(1) == "name" and self.text_of(self.i + 1) == "in")):
                return self.connect_generator(start)
            expr, _, end = self.expr()
            if self.word("times"):
                self.i += 1
                times, _, end = self.expr()
                return ast.ConnectGenerator(None, cond=expr, times=times, span=self.span(start, end))
            return ast.Clause("connect", expr, self.span(start, end))
        if word in ("pre", "post") and self.toks[start + 1][KIND] == ".":
            self.i += 2
            name = self.name()
            self.expect("=")
            expr, _, _ = self.expr()
            self.expect(":")
            unit, flags, end = self.unit_and_flags()
            return ast.SummedDecl(word, self.text_of(name), expr, unit, flags, self.span(start, end))
        name = self.name()
        k = self.kind()
        if k == "/":
            self.i += 1
            dt = self.expect("name")
            dname = self.text_of(name)
            if not (dname.startswith("d") and len(dname) > 1 and self.text_of(dt) == "dt"):
                raise Unparsed  # the reference parser explains dX/dt
            self.expect("=")
            expr, _, _ = self.expr()
            self.expect(":")
            unit, flags, end = self.unit_and_flags()
            return ast.OdeDecl(dname[1:], expr, unit, flags, self.span(start, end))
        if k == ":":
            self.i += 1
            unit, flags, end = self.unit_and_flags()
            return ast.VarDecl(self.text_of(name), unit, flags, self.span(start, end))
        self.expect("=")
        expr, _, end = self.expr()
        if self.kind() == ":":
            self.i += 1
            unit, flags, end = self.unit_and_flags()
            return ast.SubexprDecl(self.text_of(name), expr, unit, flags, self.span(start, end))
        return ast.Prop(self.text_of(name), expr, self.span(start, end))

    def unit_and_flags(self) -> tuple[ast.Unit, tuple[str, ...], int]:
        unit = self.unit()
        end = self.i - 1
        flags: tuple[str, ...] = ()
        if self.kind() == "(":
            flags, end = self.flags()
        return unit, flags, end

    def unit(self) -> ast.Unit:
        start = self.i
        factors: list[tuple[str, int]] = []
        texts: list[str] = []
        sign = 1
        while True:
            t = self.toks[self.i]
            if t[KIND] == "num":
                if t[TEXT] != "1":
                    raise Unparsed
                self.i += 1
                texts.append("1")
            else:
                name = self.text_of(self.name())
                power = 1
                if self.kind() == "**":
                    self.i += 1
                    power = self.unit_power()
                texts.append(name if power == 1 else f"{name}**{format_power(power)}")
                factors.append((name, sign * power))
            sign = 1
            op = self.kind()
            if op not in ("*", "/"):
                break
            texts.append(op)
            sign = -1 if op == "/" else 1
            self.i += 1
        return ast.Unit(tuple(factors), "".join(texts), self.span(start, self.i - 1))

    def unit_power(self) -> int | Fraction:
        """After `**` in a unit: a signed integer or decimal, or `(P/Q)` with
        whole P and Q > 0 (the grammar's unit_power; anything else is left to
        the grammar's parser, which reports it)."""
        if self.kind() != "(":
            return ast.unit_power(Fraction(self.signed_number(_DECIMAL)))
        self.i += 1
        num = self.signed_number(_WHOLE)
        self.expect("/")
        den = self.signed_number(_WHOLE, signed=False)
        self.expect(")")
        if int(den) == 0:
            raise Unparsed
        return ast.unit_power(Fraction(int(num), int(den)))

    def signed_number(self, pattern: re.Pattern, signed: bool = True) -> str:
        """[-+]?DIGITS written as one word (the grammar's POWER_SIGNED), its
        digits matching `pattern`."""
        t = self.toks[self.i]
        sign = ""
        if signed and t[KIND] in ("+", "-"):
            digits = self.toks[self.i + 1]
            if digits[START] != t[END]:
                raise Unparsed
            sign = t[KIND]
            self.i += 1
            t = digits
        if t[KIND] != "num" or not pattern.fullmatch(t[TEXT]):
            raise Unparsed
        self.i += 1
        return sign + t[TEXT]

    def flags(self) -> tuple[tuple[str, ...], int]:
        """`(flag, flag)`: each flag is one or more words joined by spaces or hyphens."""
        self.expect("(")
        found = []
        while True:
            t = self.toks[self.i]
            if t[KIND] != "name":
                raise Unparsed
            m = _FLAG.match(self.text, t[START])
            found.append(" ".join(m.group().split()))
            while self.toks[self.i][START] < m.end():
                self.i += 1
            k = self.kind()
            if k == ")":
                return tuple(found), self.expect(")")
            self.expect(",")

    # ---- event code
    def code_body(self) -> tuple[tuple[ast.Stmt, ...], int]:
        if self.kind() != "nl":
            return self.code_line()
        self.i += 1
        self.expect("indent")
        body = []
        while self.kind() != "dedent":
            if self.word("if"):
                body.append(self.code_if())
            else:
                body += self.code_line()[0]
        end = self.i
        self.i += 1
        return tuple(body), end

    def code_line(self) -> tuple[tuple[ast.Stmt, ...], int]:
        """Statements separated by ';' (one may end the line), and the newline."""
        stmts = [self.code_simple()]
        while self.kind() == ";":
            self.i += 1
            if self.kind() == "nl":
                break
            stmts.append(self.code_simple())
        return tuple(stmts), self.expect("nl")

    def code_simple(self) -> ast.Assign | ast.Let:
        start = self.i
        t = self.toks[start]
        if t[KIND] == "name" and t[TEXT] == "let":
            self.i += 1
            name = self.name()
            self.expect("=")
            value, _, end = self.expr()
            return ast.Let(self.text_of(name), value, self.span(start, end))
        if t[KIND] == "name" and t[TEXT] in ("pre", "post"):
            self.i += 1
            self.expect(".")
            neighbour, target = t[TEXT], self.text_of(self.name())
        else:
            neighbour, target = None, self.text_of(self.name())
        op = self.kind()
        if op not in _AUGOPS:
            raise Unparsed
        self.i += 1
        value, _, end = self.expr()
        return ast.Assign(target, op, value, neighbour, self.span(start, end))

    def code_if(self) -> ast.If:
        start = self.keyword("if")
        cond, _, _ = self.expr()
        self.expect(":")
        body, end = self.code_body()
        orelse: tuple = ()
        if self.word("else"):
            self.i += 1
            self.expect(":")
            orelse, end = self.code_body()
        return ast.If(cond, body, orelse, self.span(start, end))

    # ---- the protocol
    def phase_body(self) -> tuple[tuple[ast.Stmt, ...], int]:
        if self.kind() != "nl":
            stmt = self.phase_simple()
            return (stmt,), self.expect("nl")
        self.i += 1
        self.expect("indent")
        body = []
        while self.kind() != "dedent":
            body.append(self.phase_stmt())
        end = self.i
        self.i += 1
        return tuple(body), end

    def phase_stmt(self) -> ast.Stmt:
        start = self.i
        t = self.toks[start]
        word = t[TEXT] if t[KIND] == "name" else None
        if word == "for":
            self.i += 1
            var = self.name()
            self.keyword("in")
            lo, _, _ = self.expr()
            self.expect("..")
            hi, _, _ = self.expr()
            self.expect(":")
            body, end = self.phase_body()
            return ast.For(self.text_of(var), lo, hi, body, self.span(start, end))
        if word == "if":
            self.i += 1
            cond, _, _ = self.expr()
            self.expect(":")
            body, end = self.phase_body()
            orelse: tuple = ()
            if self.word("else"):
                self.i += 1
                self.expect(":")
                orelse, end = self.phase_body()
            return ast.If(cond, body, orelse, self.span(start, end))
        if word == "while":
            self.i += 1
            cond, _, _ = self.expr()
            self.expect(":")
            body, end = self.phase_body()
            return ast.While(cond, body, self.span(start, end))
        stmt = self.phase_simple()
        self.expect("nl")
        return stmt

    def phase_simple(self) -> ast.Stmt:
        start = self.i
        t = self.toks[start]
        word = t[TEXT] if t[KIND] == "name" else None
        if word == "run":
            self.i += 1
            duration, _, end = self.expr()
            return ast.Run(duration, self.span(start, end))
        if word == "let":
            self.i += 1
            name = self.name()
            self.expect("=")
            value, _, end = self.expr()
            return ast.Let(self.text_of(name), value, self.span(start, end))
        if word in ("freeze", "unfreeze"):
            self.i += 1
            target, end = self.target()
            return ast.Freeze(target, word == "freeze", self.span(start, end))
        if word == "save":
            self.i += 1
            group = self.name()
            self.expect(".")
            var = self.any_name()
            self.keyword("as")
            name = self.any_name()
            return ast.Save(self.text_of(group), self.text_of(var), self.text_of(name), self.span(start, name),
                            self.tspan(group), self.tspan(var), self.tspan(name))
        if word == "store":
            self.i += 1
            self.keyword("state")
            self.keyword("as")
            name = self.name()
            return ast.StoreState(self.text_of(name), self.span(start, name))
        if word == "restore":
            self.i += 1
            self.keyword("state")
            self.keyword("from")
            path = self.expect("str")
            return ast.RestoreState(self.string(path), self.span(start, path))
        if self.kind(1) == ".":
            target, _ = self.target()
            op = self.kind()
            if op not in _AUGOPS:
                raise Unparsed
            self.i += 1
            value, _, end = self.expr()
            return ast.GroupAssign(target, op, value, self.span(start, end))
        name = self.name()
        op = self.kind()
        if op not in _AUGOPS:
            raise Unparsed
        self.i += 1
        value, _, end = self.expr()
        return ast.LocalAssign(self.text_of(name), op, value, self.span(start, end))

    def target(self) -> tuple[ast.Target, int]:
        group = self.name()
        self.expect(".")
        var = self.name()
        end = var
        selector = None
        if self.kind() == "[":
            selector = self.selector()
            end = self.i - 1
        return ast.Target(self.text_of(group), self.text_of(var), selector, self.span(group, end),
                          self.tspan(group), self.tspan(var)), end

    def selector(self) -> ast.Where | ast.Range:
        start = self.expect("[")
        lo = hi = None
        if self.kind() != ":":
            lo, _, _ = self.expr()
            if self.kind() == "]":
                end = self.expect("]")
                return ast.Where(lo, self.span(start, end))
        self.expect(":")
        if self.kind() != "]":
            hi, _, _ = self.expr()
        end = self.expect("]")
        return ast.Range(lo, hi, self.span(start, end))

    # ---- expressions, loosest binding first. Each returns (node, first, last):
    # the tokens its text runs over, parentheses included, which a parent's
    # span takes (Lark's container positions).
    def binop(self, op: str, left, right):
        """`left op right` over the tokens of both (their parentheses included)."""
        return ast.BinOp(op, left[0], right[0], self.span(left[1], right[2])), left[1], right[2]

    def expr(self):
        left = self.and_expr()
        while self.word("or"):
            self.i += 1
            right = self.and_expr()
            left = self.binop("or", left, right)
        return left

    def and_expr(self):
        left = self.not_expr()
        while self.word("and"):
            self.i += 1
            right = self.not_expr()
            left = self.binop("and", left, right)
        return left

    def not_expr(self):
        if self.word("not"):
            start = self.i
            self.i += 1
            operand = self.not_expr()
            return ast.UnaryOp("not", operand[0], self.span(start, operand[2])), start, operand[2]
        left = self.sum()
        op = self.toks[self.i][KIND]
        if op in _COMPARE:
            self.i += 1
            right = self.sum()
            return self.binop(op, left, right)
        return left

    def sum(self):
        left = self.product()
        toks = self.toks
        while toks[self.i][KIND] in _ADDOPS:
            op = toks[self.i][KIND]
            self.i += 1
            right = self.product()
            left = self.binop(op, left, right)
        return left

    def product(self):
        left = self.unary()
        toks = self.toks
        while toks[self.i][KIND] in _MULOPS:
            op = toks[self.i][KIND]
            self.i += 1
            right = self.unary()
            left = self.binop(op, left, right)
        return left

    def unary(self):
        op = self.toks[self.i][KIND]
        if op in _ADDOPS:
            start = self.i
            self.i += 1
            operand = self.unary()
            return ast.UnaryOp(op, operand[0], self.span(start, operand[2])), start, operand[2]
        base = self.postfix()
        if self.toks[self.i][KIND] == "**":
            self.i += 1
            exponent = self.unary()
            return self.binop("**", base, exponent)
        return base

    def postfix(self):
        i = self.i
        toks = self.toks
        t = toks[i]
        kind = t[KIND]
        if kind == "num":
            self.i = i + 1
            if toks[i + 1][KIND] == "unit":
                self.i = i + 2
                return ast.Number(t[TEXT], toks[i + 1][TEXT], self.span(i, i + 1)), i, i + 1
            return ast.Number(t[TEXT], None, self.span(i, i)), i, i
        if kind == "name":
            word = t[TEXT]
            nxt = toks[i + 1][KIND]
            if word in RESERVED:
                if word == "true" or word == "false":
                    self.i = i + 1
                    return ast.Bool(word == "true", self.span(i, i)), i, i
                if (word == "pre" or word == "post") and nxt == ".":
                    pass
                else:
                    raise Unparsed
            if nxt == "(":
                self.i = i + 2
                args = []
                if toks[self.i][KIND] != ")":
                    args.append(self.expr()[0])
                    while toks[self.i][KIND] == ",":
                        self.i += 1
                        args.append(self.expr()[0])
                end = self.expect(")")
                return ast.Call(word, tuple(args), self.span(i, end)), i, end
            if nxt == "[":
                self.i = i + 2
                args = [self.expr()[0]]
                while toks[self.i][KIND] == ",":
                    self.i += 1
                    args.append(self.expr()[0])
                end = self.expect("]")
                return ast.Index(word, tuple(args), self.span(i, end)), i, end
            if nxt == ".":
                self.i = i + 2
                attr = self.name()
                if toks[self.i][KIND] == "[":  # GROUP.X[EXPR]: a linked variable's index
                    self.i += 1
                    index = self.expr()[0]
                    end = self.expect("]")
                    return ast.Attr(word, toks[attr][TEXT], self.span(i, end), index=index), i, end
                return ast.Attr(word, toks[attr][TEXT], self.span(i, attr)), i, attr
            self.i = i + 1
            return ast.Name(word, self.span(i, i)), i, i
        if kind == "(":
            self.i = i + 1
            inner = self.expr()
            end = self.expect(")")
            return inner[0], i, end
        if kind == "[":
            self.i = i + 1
            items = []
            if toks[self.i][KIND] != "]":
                items.append(self.expr()[0])
                while toks[self.i][KIND] == ",":
                    self.i += 1
                    items.append(self.expr()[0])
            end = self.expect("]")
            return ast.ListLit(tuple(items), self.span(i, end)), i, end
        raise Unparsed
