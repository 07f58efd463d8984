"""Integration of a group's differential equations over one time step.

`analyse` tells which methods a system admits (used by the checker to report
a missing or impossible `method:`), `step` builds the IR statements of one
step with Brian2's update formulas, so that differential tests can match:

- exact: the system is linear with constant coefficients, dx/dt = M x + c;
  x <- E x + F c with E = expm(M dt) (`ir.LinearStep`, factors at run start);
- euler: x <- x + dt f(x, t);
- rk2 (midpoint): k = dt f(x, t); x <- x + dt f(x + k/2, t + dt/2);
- rk4: the classical four stages;
- exponential_euler: each equation linear in its own variable,
  f = A x + B with A, B read at the start of the step;
  x <- -B/A + (x + B/A) exp(A dt) (x + dt B where A is identically 0).

An equation flagged `(unless refractory)` has its derivative multiplied by
int(not_refractory) and is only written while the neuron is not refractory,
as Brian2 does.
"""
from __future__ import annotations

from dataclasses import dataclass

from snndsl.ir import nodes as ir
from snndsl.ir.evaluate import NotConstant, evaluate

METHODS = ("exact", "euler", "rk2", "rk4", "exponential_euler")
NOT_REFRACTORY = "not_refractory"


@dataclass(frozen=True)
class Equation:
    name: str
    rhs: ir.Expr
    unless_refractory: bool = False


def _uses(e: ir.Expr, names: set[str], group: str) -> bool:
    return any(isinstance(n, ir.Var) and n.group == group and n.at == "self" and n.name in names
               for n in ir.walk(e))


def linear_coefficients(f: ir.Expr, names: list[str], group: str):
    """f as sum_k a_k x_k + b with the a_k and b free of the x_k, or None."""
    target = set(names)
    if isinstance(f, ir.Var) and f.group == group and f.at == "self" and f.name in target:
        return {f.name: ir.Const(1.0)}, ir.Const(0.0)
    if not _uses(f, target, group):
        return {}, f
    if isinstance(f, ir.Unary) and f.op == "-":
        r = linear_coefficients(f.operand, names, group)
        if r is None:
            return None
        return {k: ir.Unary("-", v) for k, v in r[0].items()}, ir.Unary("-", r[1])
    if isinstance(f, ir.Binary) and f.op in ("+", "-"):
        a, b = linear_coefficients(f.left, names, group), linear_coefficients(f.right, names, group)
        if a is None or b is None:
            return None
        coeffs = dict(a[0])
        for k, v in b[0].items():
            term = v if f.op == "+" else ir.Unary("-", v)
            coeffs[k] = ir.Binary("+", coeffs[k], term) if k in coeffs else term
        return coeffs, ir.Binary(f.op, a[1], b[1])
    if isinstance(f, ir.Binary) and f.op == "*":
        for free, other, left in ((f.left, f.right, True), (f.right, f.left, False)):
            if not _uses(free, target, group):
                r = linear_coefficients(other, names, group)
                if r is None:
                    return None
                mul = (lambda e: ir.Binary("*", free, e)) if left else (lambda e: ir.Binary("*", e, free))
                return {k: mul(v) for k, v in r[0].items()}, mul(r[1])
        return None
    if isinstance(f, ir.Binary) and f.op == "/" and not _uses(f.right, target, group):
        r = linear_coefficients(f.left, names, group)
        if r is None:
            return None
        return ({k: ir.Binary("/", v, f.right) for k, v in r[0].items()}, ir.Binary("/", r[1], f.right))
    return None


def _run_constant(e: ir.Expr) -> bool:
    """Constant during a run: constants, parameters, shared variables."""
    for n in ir.walk(e):
        if isinstance(n, ir.Var) and n.at != "shared":
            return False
        if isinstance(n, (ir.Special, ir.Rand, ir.DataAt, ir.Local, ir.Reduce, ir.Temp)):
            return False
    return True


def _is_zero(e: ir.Expr) -> bool:
    try:
        return evaluate(e) == 0
    except NotConstant:
        return False


def exact_problem(eqs: list[Equation], group: str) -> str | None:
    """Why `exact` cannot integrate this system, or None if it can."""
    names = [e.name for e in eqs]
    for eq in eqs:
        r = linear_coefficients(eq.rhs, names, group)
        if r is None:
            return f"d{eq.name}/dt is not linear in the group's variables ({', '.join(names)})"
        coeffs, const = r
        for k, v in coeffs.items():
            if not _run_constant(v):
                return (f"the coefficient of {k} in d{eq.name}/dt is not constant "
                        "(it reads a per-element variable, t, or random numbers)")
        for n in ir.walk(const):
            if isinstance(n, (ir.Rand,)) or (isinstance(n, ir.Special) and n.name == "t"):
                return f"d{eq.name}/dt depends on t or on random numbers"
    return None


def exponential_euler_problem(eqs: list[Equation], group: str) -> str | None:
    for eq in eqs:
        r = linear_coefficients(eq.rhs, [eq.name], group)
        if r is None:
            return f"d{eq.name}/dt is not linear in {eq.name}"
    return None


def default_method(eqs: list[Equation], group: str) -> str | None:
    return "exact" if exact_problem(eqs, group) is None else None


def _factor(eq: Equation, f: ir.Expr, group: str) -> ir.Expr:
    if not eq.unless_refractory:
        return f
    return ir.Binary("*", ir.Call("int", (ir.Var(group, NOT_REFRACTORY, dtype="b"),), "i"), f)


def _held_when_frozen(f: ir.Expr, group: str, name: str) -> ir.Expr:
    return ir.Binary("*", ir.Call("int", (ir.Unary("not", ir.Frozen(group, name), "b"),), "i"), f)


def _substitute(e: ir.Expr, values: dict[str, ir.Expr], group: str, t: ir.Expr | None) -> ir.Expr:
    def fn(x):
        if isinstance(x, ir.Var) and x.group == group and x.at == "self" and x.name in values:
            return values[x.name]
        if t is not None and isinstance(x, ir.Special) and x.name == "t":
            return t
        return x
    return ir.map_expr(fn, e)


def _write(eq: Equation, group: str, value: ir.Expr) -> ir.Stmt:
    assign = ir.Assign(ir.Var(group, eq.name), value)
    if eq.unless_refractory:
        return ir.If(ir.Var(group, NOT_REFRACTORY, dtype="b"), (assign,))
    return assign


def step(eqs: list[Equation], group: str, method: str, dt: float,
         frozen: frozenset[str] = frozenset()) -> tuple[ir.Stmt, ...]:
    """The statements advancing the system one step, for one element.
    `frozen`: the variables some phase freezes. A frozen element is held
    constant over the step, so the others see it constant: its derivative is
    zero in the intermediate stages of rk2 and rk4 (euler and
    exponential_euler read only the start of the step, and exact steps pick
    factors with its row held; its own write is skipped in all)."""
    DT = ir.Const(dt)
    names = [e.name for e in eqs]
    f = {e.name: _factor(e, e.rhs, group) for e in eqs}
    if method in ("rk2", "rk4"):
        f = {n: _held_when_frozen(f[n], group, n) if n in frozen else f[n] for n in names}
    if method == "exact":
        matrix, const = [], []
        for eq in eqs:
            coeffs, b = linear_coefficients(eq.rhs, names, group)
            matrix.append(tuple(coeffs.get(n, ir.Const(0.0)) for n in names))
            const.append(b)
        return (ir.LinearStep(group, tuple(names), tuple(matrix), tuple(const),
                              tuple(e.unless_refractory for e in eqs)),)
    if method == "euler":
        lets = [ir.Let(f"_k_{n}", f[n]) for n in names]
        writes = [_write(e, group, ir.Binary("+", ir.Var(group, e.name), ir.Binary("*", DT, ir.Temp(f"_k_{e.name}"))))
                  for e in eqs]
        return tuple(lets + writes)
    if method in ("rk2", "rk4"):
        out: list[ir.Stmt] = []
        x = {n: ir.Var(group, n) for n in names}
        T = ir.Special("t")

        def stage(tag: str, values: dict[str, ir.Expr], t: ir.Expr | None) -> dict[str, ir.Expr]:
            for n in names:
                out.append(ir.Let(f"_{tag}_{n}", ir.Binary("*", DT, _substitute(f[n], values, group, t))))
            return {n: ir.Temp(f"_{tag}_{n}") for n in names}

        def shifted(k: dict[str, ir.Expr], frac: float) -> dict[str, ir.Expr]:
            return {n: ir.Binary("+", x[n], ir.Binary("*", ir.Const(frac), k[n])) for n in names}

        half_t = ir.Binary("+", T, ir.Binary("*", ir.Const(0.5), DT))
        k1 = stage("k1", {}, None)
        if method == "rk2":
            k2 = stage("k2", shifted(k1, 0.5), half_t)
            return tuple(out + [_write(e, group, ir.Binary("+", x[e.name], k2[e.name])) for e in eqs])
        k2 = stage("k2", shifted(k1, 0.5), half_t)
        k3 = stage("k3", shifted(k2, 0.5), half_t)
        k4 = stage("k4", shifted(k3, 1.0), ir.Binary("+", T, DT))
        writes = []
        for e in eqs:
            n = e.name
            total = ir.Binary("+", ir.Binary("+", k1[n], ir.Binary("*", ir.Const(2.0), k2[n])),
                              ir.Binary("+", ir.Binary("*", ir.Const(2.0), k3[n]), k4[n]))
            writes.append(_write(e, group, ir.Binary("+", x[n], ir.Binary("/", total, ir.Const(6.0)))))
        return tuple(out + writes)
    if method == "exponential_euler":
        lets, writes = [], []
        for e in eqs:
            coeffs, b = linear_coefficients(e.rhs, [e.name], group)
            a = coeffs.get(e.name, ir.Const(0.0))
            a, b = _factor(e, a, group), _factor(e, b, group)
            x = ir.Var(group, e.name)
            if _is_zero(a):
                writes.append(_write(e, group, ir.Binary("+", x, ir.Binary("*", DT, ir.Temp(f"_B_{e.name}")))))
                lets.append(ir.Let(f"_B_{e.name}", b))
                continue
            lets.append(ir.Let(f"_A_{e.name}", a))
            lets.append(ir.Let(f"_BA_{e.name}", ir.Binary("/", b, ir.Temp(f"_A_{e.name}"))))
            A, BA = ir.Temp(f"_A_{e.name}"), ir.Temp(f"_BA_{e.name}")
            value = ir.Binary("+", ir.Unary("-", BA),
                              ir.Binary("*", ir.Binary("+", x, BA), ir.Call("exp", (ir.Binary("*", DT, A),))))
            writes.append(_write(e, group, value))
        return tuple(lets + writes)
    raise ValueError(method)
