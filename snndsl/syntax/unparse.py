"""AST -> .snn text. parse(unparse(parse(x))) == parse(x): the round-trip
tests hold the grammar and the AST builder to each other."""
from __future__ import annotations

from snndsl.syntax import ast
from snndsl.units import format_power

# loosest first, as in grammar/snn.lark
_PREC = {"or": 1, "and": 2, "not": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
         "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6, "neg": 7, "**": 8}


def expr(e: ast.Expr, prec: int = 0) -> str:
    if isinstance(e, ast.Number):
        text = e.text + (f" {e.unit}" if e.unit else "")
        return text
    if isinstance(e, ast.Bool):
        return "true" if e.value else "false"
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attr):
        return f"{e.obj}.{e.attr}" + (f"[{expr(e.index)}]" if e.index is not None else "")
    if isinstance(e, ast.Call):
        return f"{e.func}({', '.join(expr(a) for a in e.args)})"
    if isinstance(e, ast.Index):
        return f"{e.name}[{', '.join(expr(a) for a in e.args)}]"
    if isinstance(e, ast.ListLit):
        return f"[{', '.join(expr(a) for a in e.items)}]"
    if isinstance(e, ast.UnaryOp):
        if e.op == "not":
            text, p = f"not {expr(e.operand, _PREC['not'])}", _PREC["not"]
        else:
            text, p = f"{e.op}{expr(e.operand, _PREC['neg'])}", _PREC["neg"]
        return f"({text})" if prec > p else text
    if isinstance(e, ast.BinOp):
        p = _PREC[e.op]
        if e.op == "**":  # right-associative; the base binds tighter than unary minus
            text = f"{expr(e.left, p + 1)} ** {expr(e.right, _PREC['neg'])}"
        elif p == 4:  # comparisons do not chain
            text = f"{expr(e.left, p + 1)} {e.op} {expr(e.right, p + 1)}"
        else:
            text = f"{expr(e.left, p)} {e.op} {expr(e.right, p + 1)}"
        return f"({text})" if prec > p else text
    raise TypeError(e)


def _unit(u: ast.Unit) -> str:
    if not u.factors:
        return "1"
    text = ""
    for k, (name, power) in enumerate(u.factors):
        factor = name if abs(power) == 1 else f"{name}**{format_power(abs(power))}"
        if power < 0:
            text += ("1" if k == 0 else "") + "/" + factor
        else:
            text += ("*" if k else "") + factor
    return text


def _flags(flags) -> str:
    return f" ({', '.join(flags)})" if flags else ""


def _selector(s) -> str:
    if s is None:
        return ""
    if isinstance(s, ast.Where):
        return f"[{expr(s.cond)}]"
    return f"[{expr(s.lo) if s.lo is not None else ''}:{expr(s.hi) if s.hi is not None else ''}]"


def _code(body, indent: str) -> list[str]:
    out = []
    for s in body:
        if isinstance(s, ast.Assign):
            target = f"{s.neighbour}.{s.target}" if s.neighbour else s.target
            out.append(f"{indent}{target} {s.op} {expr(s.value)}")
        elif isinstance(s, ast.If):
            out.append(f"{indent}if {expr(s.cond)}:")
            out += _code(s.body, indent + "    ")
            if s.orelse:
                out.append(f"{indent}else:")
                out += _code(s.orelse, indent + "    ")
        else:
            out += _phase_stmt(s, indent)
    return out


def _target(t: ast.Target) -> str:
    return f"{t.group}.{t.var}{_selector(t.selector)}"


def _phase_stmt(s, indent: str) -> list[str]:
    if isinstance(s, ast.Run):
        return [f"{indent}run {expr(s.duration)}"]
    if isinstance(s, ast.GroupAssign):
        return [f"{indent}{_target(s.target)} {s.op} {expr(s.value)}"]
    if isinstance(s, ast.Let):
        return [f"{indent}let {s.name} = {expr(s.value)}"]
    if isinstance(s, ast.LocalAssign):
        return [f"{indent}{s.name} {s.op} {expr(s.value)}"]
    if isinstance(s, ast.Freeze):
        return [f"{indent}{'freeze' if s.frozen else 'unfreeze'} {_target(s.target)}"]
    if isinstance(s, ast.Save):
        return [f"{indent}save {s.group}.{s.var} as {s.name}"]
    if isinstance(s, ast.StoreState):
        return [f"{indent}store state as {s.name}"]
    if isinstance(s, ast.RestoreState):
        return [f"{indent}restore state from {_string(s.path)}"]
    if isinstance(s, ast.For):
        return [f"{indent}for {s.var} in {expr(s.start)} .. {expr(s.stop)}:"] + _code(s.body, indent + "    ")
    if isinstance(s, ast.While):
        return [f"{indent}while {expr(s.cond)}:"] + _code(s.body, indent + "    ")
    raise TypeError(s)


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _item(item, indent: str) -> list[str]:
    if isinstance(item, ast.OdeDecl):
        return [f"{indent}d{item.name}/dt = {expr(item.expr)} : {_unit(item.unit)}{_flags(item.flags)}"]
    if isinstance(item, ast.VarDecl):
        return [f"{indent}{item.name} : {_unit(item.unit)}{_flags(item.flags)}"]
    if isinstance(item, ast.SubexprDecl):
        return [f"{indent}{item.name} = {expr(item.expr)} : {_unit(item.unit)}{_flags(item.flags)}"]
    if isinstance(item, ast.SummedDecl):
        return [f"{indent}{item.side}.{item.name} = {expr(item.expr)} : {_unit(item.unit)}{_flags(item.flags)}"]
    if isinstance(item, ast.Prop):
        return [f"{indent}{item.name} = {expr(item.expr)}"]
    if isinstance(item, ast.Clause):
        head = item.kind if item.pathway is None else f"{item.kind} {item.pathway}"
        return [f"{indent}{head}: {expr(item.expr)}"]
    if isinstance(item, ast.ConnectFrom):
        return [f"{indent}connect: from {item.data}"]
    if isinstance(item, ast.ConnectGenerator):
        if item.var is None:
            head = expr(item.cond)
        elif item.target is not None:
            head = f"{item.var} = {expr(item.target)}"
            if item.loop is not None:
                head += f" for {item.loop} in {expr(item.lo)} .. {expr(item.hi)}"
        else:
            head = f"{item.var} in {expr(item.lo)} .. {expr(item.hi)}"
            if item.choose is not None:
                head += f" choose {expr(item.choose)}"
        if item.var is not None and item.cond is not None:
            head += f" if {expr(item.cond)}"
        return [f"{indent}connect: {head} times {expr(item.times)}" if item.times is not None
                else f"{indent}connect: {head}"]
    if isinstance(item, ast.Method):
        return [f"{indent}method: {item.name}"]
    if isinstance(item, ast.CodeBlock):
        head = f"on {item.kind}" if item.kind in ("pre", "post", "event") else item.kind
        if item.kind == "event":
            head = f"on {item.pathway}"
        elif item.of:
            head = f"on {item.pathway} of {item.kind}"
        elif item.pathway is not None:
            head += f" {item.pathway}"
        return [f"{indent}{head}:"] + _code(item.body, indent + "    ")
    if isinstance(item, ast.EveryBlock):
        return [f"{indent}every {expr(item.period)}:"] + _code(item.body, indent + "    ")
    raise TypeError(item)


def unparse(module: ast.Module) -> str:
    out: list[str] = []
    for d in module.decls:
        if isinstance(d, ast.Setting):
            out.append(f"{d.name} = {expr(d.value)}")
        elif isinstance(d, ast.ConstDecl):
            out.append(f"const {d.name} = {expr(d.value)}")
        elif isinstance(d, ast.ParamDecl):
            out.append(f"param {d.name} = {expr(d.value)}")
        elif isinstance(d, ast.PoissonInputDecl):
            out.append(f"poisson {d.name}[{expr(d.size)}] -> {d.target}.{d.var}:")
            for item in d.items:
                out += _item(item, "    ")
        elif isinstance(d, ast.SubgroupDecl):
            out.append(f"subgroup {d.name} = {d.parent}[{expr(d.lo)}:{expr(d.hi)}]")
        elif isinstance(d, ast.DataDecl):
            unit = f" : {_unit(d.unit)}" if d.unit is not None else ""
            every = f" every {expr(d.period)}" if d.period is not None else ""
            source = expr(d.values) if d.values is not None else _string(d.path)
            out.append(f"data {d.name}{unit} = {source}{every}")
        elif isinstance(d, ast.GroupDecl):
            head = (f"synapses {d.name}: {d.source} -> {d.target}:" if d.kind == "synapses"
                    else f"{d.kind} {d.name}[{expr(d.size)}]:")
            out.append(head)
            for item in d.items:
                out += _item(item, "    ")
        elif isinstance(d, ast.MonitorDecl):
            if d.kind == "state":
                text = f"{d.group}.{d.var}{_selector(d.selector)}"
                if d.every is not None:
                    text += f" every {expr(d.every)}"
                if d.during:
                    text += f" during {', '.join(d.during)}"
            else:
                text = f"{d.kind if d.event == 'spike' else d.event} of {d.group}"
                if d.recorded:
                    text += f" with {', '.join(d.recorded)}"
                if d.during:
                    text += f" during {', '.join(d.during)}"
            out.append(f"monitor {d.name}: {text}")
        elif isinstance(d, ast.PhaseDecl):
            out.append(f"phase {d.name}:")
            out += _code(d.body, "    ")
    return "\n".join(out) + "\n"
