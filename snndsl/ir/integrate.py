"""Integration of a group's differential equations over one time step.

`analyse` tells which methods a system admits (used by the checker to report
a missing or impossible `method:`), `step` builds the IR statements of one
step with Brian2's update formulas, so that differential tests can match:

- exact: the system is linear with coefficients constant over a run (M may
  read each element's own variables: one E and F per element),
  dx/dt = M x + c; x <- E x + F c with E = expm(M dt) (`ir.LinearStep`,
  factors at run start);
- euler: x <- x + dt f(x, t);
- rk2 (midpoint): k = dt f(x, t); x <- x + dt f(x + k/2, t + dt/2);
- rk4: the classical four stages;
- exponential_euler: each equation conditionally linear in its own variable
  as Brian2 reads it (expanded and collected in x, see ir/linear.py),
  f = A x + B with A, B read at the start of the step;
  x <- -B/A + (x + B/A) exp(A dt) (x + dt B where A is identically 0).

With white noise (`dx/dt = f + sum_k g_k xi_k`, `Equation.noise`), dW_k =
sqrt(dt) N(0, 1) is drawn once per element and step for each noise name,
and the stochastic methods are Brian2's:

- euler (additive noise: no g_k reads the system's variables or t):
  x <- x + dt f(x) + sum_k g_k dW_k;
- heun (any noise): per noise k, x_s = x + g_k(x) dW_k and
  x <- x + dt f(x) + sum_k 1/2 dW_k (g_k(x) + g_k(x_s, t + dt));
- milstein (derivative-free; diagonal noise: one noise per equation, each
  in one equation, or one noise for the whole system, whose support point
  x_s is then that of every equation): x_s = x + dt f(x) + sqrt(dt) g(x) and
  x <- x + dt f(x) + g(x) dW + (g(x_s) - g(x)) dW**2 / (2 sqrt(dt)).

Like Brian2, both read multiplicative noise in Stratonovich's sense (for
dx = s x dW the mean grows as exp(s**2 t / 2)); for Ito's, subtract the
correction from the drift, as Brian2's example stochastic_odes.py does.

An equation flagged `(unless refractory)` has its derivative (noise
included) multiplied by int(not_refractory) and is only written while the
neuron is not refractory, as Brian2 does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from snndsl.ir import nodes as ir
from snndsl.ir.evaluate import NotConstant, evaluate
from snndsl.ir.linear import conditionally_linear

METHODS = ("exact", "euler", "rk2", "rk4", "exponential_euler", "heun", "milstein")
STOCHASTIC = ("euler", "heun", "milstein")  # the methods that integrate noise
NOT_REFRACTORY = "not_refractory"


@dataclass(frozen=True)
class Equation:
    """dx/dt = rhs + sum of g * xi over `noise`, the (noise name, g) pairs."""

    name: str
    rhs: ir.Expr
    unless_refractory: bool = False
    noise: tuple[tuple[str, ir.Expr], ...] = ()

    @staticmethod
    def of(name: str, expr: ir.Expr, unless_refractory: bool = False) -> "Equation":
        """The equation dx/dt = expr, its noise terms split off (the checker
        made sure they split: see `split_noise`)."""
        split = split_noise(expr)
        if split is None:
            raise ValueError(f"the noise of d{name}/dt does not split")
        rhs, noise = split
        return Equation(name, rhs, unless_refractory, tuple(noise.items()))


def has_noise(e: ir.Expr) -> bool:
    return any(isinstance(n, ir.Noise) for n in ir.walk(e))


def split_noise(e: ir.Expr) -> tuple[ir.Expr, dict[str, ir.Expr]] | None:
    """e as f + sum_k g_k xi_k with f and the g_k free of noise; None if
    the noise enters otherwise (inside a function, squared, divided by)."""
    r = _linear(e, lambda x: x.name if isinstance(x, ir.Noise) else None, drop_zero=True)
    return None if r is None else (r[1], r[0])


def stochastic_kind(eqs: list[Equation], group: str) -> str | None:
    """None (no noise), 'additive' (no g reads the system's variables or t)
    or 'multiplicative', as Brian2 tells them apart."""
    if not any(eq.noise for eq in eqs):
        return None
    names = {eq.name for eq in eqs}
    for eq in eqs:
        for _, g in eq.noise:
            if _uses(g, names, group) or any(isinstance(n, ir.Special) and n.name == "t" for n in ir.walk(g)):
                return "multiplicative"
    return "additive"


def noise_problem(eqs: list[Equation], group: str, method: str) -> str | None:
    """Why `method` cannot integrate the noise of this system, or None."""
    kind = stochastic_kind(eqs, group)
    if kind is None:
        return None
    if method not in STOCHASTIC:
        return "its equations have white noise; use euler (additive noise), heun or milstein"
    if method == "euler" and kind == "multiplicative":
        return ("the noise depends on the group's variables or on t (multiplicative); euler integrates additive "
                "noise only: use heun or milstein")
    if method == "milstein":
        # diagonal noise (one noise per equation, each in one equation), as Brian2's; and,
        # beyond Brian2, one noise shared by several equations (scalar noise, for which the
        # derivative-free scheme over the whole system keeps its order: X beside its Wiener W)
        seen = [k for eq in eqs for k, _ in eq.noise]
        if any(len(eq.noise) > 1 for eq in eqs) or (len(seen) != len(set(seen)) and len(set(seen)) > 1):
            return ("milstein integrates diagonal noise (one noise per equation, each in one equation) or one "
                    "noise shared by the equations, not several noises of which one is shared")
    return None


def _uses(e: ir.Expr, names: set[str], group: str) -> bool:
    return any(isinstance(n, ir.Var) and n.group == group and n.at == "self" and n.name in names
               for n in ir.walk(e))


def linear_coefficients(f: ir.Expr, names: list[str], group: str):
    """f as sum_k a_k x_k + b with the a_k and b free of the x_k, or None."""
    target = set(names)
    return _linear(f, lambda x: x.name if isinstance(x, ir.Var) and x.group == group and x.at == "self"
                   and x.name in target else None)


def _linear(f: ir.Expr, unknown: Callable[[ir.Expr], str | None], drop_zero: bool = False):
    """f as ({name: a_k}, b), sum_k a_k u_k + b, for the nodes u_k that
    `unknown` names, with the a_k and b free of them; None if f is not linear
    in them. `drop_zero`: a product or quotient of a zero b is 0 (a bare noise
    term leaves 0 behind, which should not become `sigma * 0`)."""
    def uses(e):
        return any(unknown(n) is not None for n in ir.walk(e))

    def go(f):
        name = unknown(f)
        if name is not None:
            return {name: ir.Const(1.0)}, ir.Const(0.0)
        if not uses(f):
            return {}, f
        if isinstance(f, ir.Unary) and f.op == "-":
            r = go(f.operand)
            if r is None:
                return None
            return {k: ir.Unary("-", v) for k, v in r[0].items()}, ir.Unary("-", r[1])
        if isinstance(f, ir.Binary) and f.op in ("+", "-"):
            a, b = go(f.left), go(f.right)
            if a is None or b is None:
                return None
            coeffs = dict(a[0])
            for k, v in b[0].items():
                term = v if f.op == "+" else ir.Unary("-", v)
                coeffs[k] = ir.Binary("+", coeffs[k], term) if k in coeffs else term
            return coeffs, ir.Binary(f.op, a[1], b[1])
        if isinstance(f, ir.Binary) and f.op == "*":
            for free, other, left in ((f.left, f.right, True), (f.right, f.left, False)):
                if not uses(free):
                    r = go(other)
                    if r is None:
                        return None
                    mul = (lambda e: ir.Binary("*", free, e)) if left else (lambda e: ir.Binary("*", e, free))
                    return {k: mul(v) for k, v in r[0].items()}, zero(mul(r[1]), r[1])
            return None
        if isinstance(f, ir.Binary) and f.op == "/" and not uses(f.right):
            r = go(f.left)
            if r is None:
                return None
            return ({k: ir.Binary("/", v, f.right) for k, v in r[0].items()},
                    zero(ir.Binary("/", r[1], f.right), r[1]))
        return None

    def zero(e, inner):
        return ir.Const(0.0) if drop_zero and isinstance(inner, ir.Const) and inner.value == 0 else e

    return go(f)


def _element_constant(e: ir.Expr, names, group: str) -> bool:
    """Constant for each element during a run, if no step code writes the
    group's variables it reads (the checker makes sure): constants,
    parameters, shared variables, the element's index and its variables
    outside the system."""
    for n in ir.walk(e):
        if isinstance(n, ir.Var) and n.at != "shared" and not (n.group == group and n.at == "self"
                                                              and n.name not in names):
            return False
        if isinstance(n, ir.Special) and n.name not in ("i", "j"):
            return False
        if isinstance(n, (ir.Rand, ir.DataAt, ir.Local, ir.Reduce, ir.Temp, ir.Noise)):
            return False
    return True


def _step_coefficient(e: ir.Expr, names, group: str) -> bool:
    """A coefficient evaluated afresh in each step, for each element: it may
    read any variable (the element's own, its pre- and postsynaptic neurons',
    shared ones) but the system's own, and no t or random numbers (held over
    the step as Brian2's exact integration holds them)."""
    for n in ir.walk(e):
        if isinstance(n, ir.Var) and n.group == group and n.at == "self" and n.name in names:
            return False
        if isinstance(n, ir.Special) and n.name not in ("i", "j"):
            return False
        if isinstance(n, (ir.Rand, ir.DataAt, ir.Local, ir.Reduce, ir.Temp, ir.Noise)):
            return False
    return True


def changes_in_runs(s: ir.LinearStep, written: set[tuple[str, str]]) -> bool:
    """Whether some coefficient of exact step `s` changes during a run: it
    reads another group's variables, or one of its group's that the step's
    code writes (`written`)."""
    names = set(s.vars)
    for a in (a for row in s.matrix for a in row if not _run_constant(a)):
        if not _element_constant(a, names, s.group):
            return True
        if any(isinstance(n, ir.Var) and (n.group, n.name) in written for n in ir.walk(a)):
            return True
    return False


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


def _varies_in_step(e: ir.Expr, dt: float | None) -> bool:
    """Whether `e` reads t or random numbers. As Brian2's is_constant_over_dt,
    a timed array read at t itself (X(t)) whose period is a whole multiple of
    dt holds over the step."""
    def steady(x):
        if isinstance(x, ir.TimeStep) and dt is not None and x.time == ir.Special("t") \
                and ir.timed_locally_constant(dt, x.period):
            return ir.Const(0, "i")
        return x
    return any(isinstance(n, ir.Rand) or (isinstance(n, ir.Special) and n.name == "t")
               for n in ir.walk(ir.map_expr(steady, e)))


def exact_problem(eqs: list[Equation], group: str, dt: float | None = None) -> str | None:
    """Why `exact` cannot integrate this system, or None if it can. `dt`: the
    group's step, for timed arrays (see _varies_in_step)."""
    if any(eq.noise for eq in eqs):
        return "its equations have white noise"
    names = [e.name for e in eqs]
    for eq in eqs:
        r = linear_coefficients(eq.rhs, names, group)
        if r is None:
            return f"d{eq.name}/dt is not linear in the group's variables ({', '.join(names)})"
        coeffs, const = r
        for k, v in coeffs.items():
            if not _run_constant(v) and not _step_coefficient(v, names, group):
                return (f"the coefficient of {k} in d{eq.name}/dt is not constant over a step "
                        "(it reads t, random numbers or the system's own variables)")
        if _varies_in_step(const, dt):
            if any(isinstance(n, ir.TimeStep) for n in ir.walk(const)):
                return (f"d{eq.name}/dt depends on t: a timed array holds over a step only when read at t itself, "
                        "with a period that is a whole multiple of dt")
            return f"d{eq.name}/dt depends on t or on random numbers"
    return None


def exponential_euler_problem(eqs: list[Equation], group: str) -> str | None:
    if any(eq.noise for eq in eqs):
        return "its equations have white noise"
    for eq in eqs:
        r = exponential_euler_split(eq, group)
        if r == "inside":
            return (f"d{eq.name}/dt is not conditionally linear in {eq.name}: {eq.name} appears only inside "
                    f"functions or denominators, never as a factor A * {eq.name}")
        if isinstance(r, str):
            return (f"d{eq.name}/dt is not conditionally linear in {eq.name}: expanded, it has a term in {r} "
                    f"(exponential_euler needs A * {eq.name} + B)")
    return None


def exponential_euler_split(eq: Equation, group: str) -> tuple[ir.Expr, ir.Expr] | str:
    """dx/dt = A x + B with A and B read at the start of the step, as
    Brian2's exponential_euler splits it: first the exact linear split (A and
    B free of x); failing that, expanded and collected in x (A and B may read
    x inside functions, see ir/linear.py); or why it does not split."""
    r = linear_coefficients(eq.rhs, [eq.name], group)
    if r is not None:
        coeffs, b = r
        return coeffs.get(eq.name, ir.Const(0.0)), b
    return conditionally_linear(eq.rhs, eq.name, group)


def default_method(eqs: list[Equation], group: str, dt: float | None = None) -> str | None:
    """The method when none is named: exact for a linear system without
    noise; None if one must be named (never a silent choice)."""
    return "exact" if exact_problem(eqs, group, dt) is None else None


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
        per_element = not all(_run_constant(a) for row in matrix for a in row)
        return (ir.LinearStep(group, tuple(names), tuple(matrix), tuple(const),
                              tuple(e.unless_refractory for e in eqs), per_element=per_element),)
    if any(e.noise for e in eqs):
        return _stochastic(eqs, group, method, dt, frozen)
    if method in ("euler", "heun", "milstein"):  # without noise, all three are Euler's step
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
            a, b = exponential_euler_split(e, group)
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


def _stochastic(eqs: list[Equation], group: str, method: str, dt: float, frozen: frozenset[str]) -> tuple[ir.Stmt, ...]:
    """One step of a system with white noise (see the module's docstring).
    Every value is computed from the start of the step before any is written."""
    DT, SQRT_DT = ir.Const(dt), ir.Const(dt ** 0.5)
    names = [e.name for e in eqs]
    x = {n: ir.Var(group, n) for n in names}

    def prepared(e: Equation, value: ir.Expr) -> ir.Expr:
        value = _factor(e, value, group)
        return _held_when_frozen(value, group, e.name) if e.name in frozen and method != "euler" else value

    f = {e.name: prepared(e, e.rhs) for e in eqs}
    g = {(e.name, k): prepared(e, gk) for e in eqs for k, gk in e.noise}
    noises = sorted({k for _, k in g})
    out: list[ir.Stmt] = [ir.Let(f"_dW_{k}", ir.Binary("*", SQRT_DT, ir.Rand("normal"))) for k in noises]
    dW = {k: ir.Temp(f"_dW_{k}") for k in noises}
    out += [ir.Let(f"_k_{n}", f[n]) for n in names]
    k_ = {n: ir.Temp(f"_k_{n}") for n in names}
    out += [ir.Let(f"_g_{n}_{k}", value) for (n, k), value in g.items()]
    g_ = {key: ir.Temp(f"_g_{key[0]}_{key[1]}") for key in g}
    support: dict[tuple[str, str], ir.Expr] = {}  # (variable, noise) -> g at the support point
    if method in ("heun", "milstein"):
        t_support = ir.Binary("+", ir.Special("t"), DT) if method == "heun" else None
        for k in noises:
            values = {}
            for n in names:
                if method == "heun":
                    values[n] = ir.Binary("+", x[n], ir.Binary("*", g_[(n, k)], dW[k])) if (n, k) in g else x[n]
                else:
                    drift = ir.Binary("+", x[n], ir.Binary("*", DT, k_[n]))
                    values[n] = ir.Binary("+", drift, ir.Binary("*", SQRT_DT, g_[(n, k)])) if (n, k) in g else drift
                out.append(ir.Let(f"_x_{n}_{k}", values[n]))
            at = {n: ir.Temp(f"_x_{n}_{k}") for n in names}
            for n in names:
                if (n, k) in g:
                    out.append(ir.Let(f"_gs_{n}_{k}", _substitute(g[(n, k)], at, group, t_support)))
                    support[(n, k)] = ir.Temp(f"_gs_{n}_{k}")
    writes = []
    for e in eqs:
        n = e.name
        value = ir.Binary("+", x[n], ir.Binary("*", DT, k_[n]))
        for k in noises:
            if (n, k) not in g:
                continue
            if method == "heun":
                term = ir.Binary("*", ir.Binary("*", ir.Const(0.5), dW[k]), ir.Binary("+", g_[(n, k)], support[(n, k)]))
            else:
                term = ir.Binary("*", g_[(n, k)], dW[k])
            value = ir.Binary("+", value, term)
            if method == "milstein":
                square = ir.Binary("*", dW[k], dW[k])
                correction = ir.Binary("/", ir.Binary("*", ir.Binary("-", support[(n, k)], g_[(n, k)]), square),
                                       ir.Binary("*", ir.Const(2.0), SQRT_DT))
                value = ir.Binary("+", value, correction)
        writes.append(_write(e, group, value))
    return tuple(out + writes)
