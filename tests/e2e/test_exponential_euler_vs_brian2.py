"""exponential_euler on conditionally linear equations, against Brian2 (numpy
target): Brian2 expands each right side and collects it in its variable
(sympy's `collect(expand(f), x)`), so f = A x + B where A and B may read x
inside functions and denominators, and other variables anyhow; snndsl's
ir/linear.py does the same expansion. The models are deterministic (constant
drives, fixed initial values), so both must agree to rounding.

Brian2 is a required test dependency: imported inside the tests (an error, never a
silent skip).
"""
from __future__ import annotations

import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.brian2, pytest.mark.needs_cc]

N = 5
DURATION_MS = 60


def _brian2():
    import brian2

    brian2.prefs.codegen.target = "numpy"
    brian2.start_scope()
    brian2.defaultclock.dt = 0.05 * brian2.ms
    return brian2


# Each: the equations as Brian2 reads them (with their units) and as snndsl does,
# the initial value of each variable, and what the split needs that the plain
# linear one (A and B free of x) cannot do.
CASES = {
    # A reads v through a subexpression: Morris-Lecar's m_inf(v) * (v - E)
    "subexpression_of_v": (
        """dv/dt = (-(v - E_L) - g * m_inf * (v - E_Ca) + I) / tau : volt
           m_inf = 0.5 * (1 + tanh((v - V_1) / V_2)) : 1
           I : volt""",
        {"v": "E_L", "I": "(i * 15 + 10) * mV"}),
    # x times a function of x: A = exp(-v / V_2) / tau
    "product_with_function_of_x": (
        """dv/dt = (-(v - E_L) * exp(-v / V_2) + I) / tau : volt
           I : volt""",
        {"v": "E_L", "I": "(i * 5 + 5) * mV"}),
    # a denominator that contains x: A = -1 / (tau * (1 + (v / V_2)**2))
    "denominator_with_x": (
        """dv/dt = (I - v) / (tau * (1 + (v / V_2)**2)) : volt
           I : volt""",
        {"v": "E_L", "I": "(i * 10 - 20) * mV"}),
    # only the expansion is linear: (v + E)**2 - v**2 is 2 E v + E**2
    "expanded_square": (
        """dv/dt = ((v + V_1)**2 - v**2 - (v - E_L) * V_2) / (tau * V_2) + I / tau : volt
           I : volt""",
        {"v": "E_L", "I": "(i * 3) * mV"}),
    # two equations, each conditionally linear in its own variable, coupled
    "coupled_pair": (
        """dv/dt = (-(v - E_L) - g * w * (v - E_Ca) + I) / tau : volt
           dw/dt = (0.5 * (1 + tanh(v / V_2)) - w) * cosh(v / (2 * V_2)) / tau_w : 1
           I : volt""",
        {"v": "E_L", "w": "0.1", "I": "(i * 8 + 20) * mV"}),
}

CONSTS = {"tau": "10 ms", "tau_w": "15 ms", "E_L": "-50 mV", "E_Ca": "100 mV", "V_1": "10 mV",
          "V_2": "15 mV", "g": "0.5"}


def _snn(equations: str, init: dict) -> str:
    lines = ["dt = 0.05 ms"] + [f"const {k} = {v}" for k, v in CONSTS.items()]
    lines.append(f"neurons G[{N}]:")
    lines += ["    " + line.strip() for line in equations.splitlines()]
    lines.append("    method: exponential_euler")
    lines.append("    init:")
    lines += [f"        {k} = {v}" for k, v in init.items()]
    variables = [k for k in init if k != "I"]
    lines += [f"monitor mon_{k}: G.{k}" for k in variables]
    lines += ["phase simulate:", f"    run {DURATION_MS} ms"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_exponential_euler_as_in_brian2(case, tmp_path):
    equations, init = CASES[case]
    b2 = _brian2()
    from brian2 import mV, ms
    namespace = {"tau": 10 * ms, "tau_w": 15 * ms, "E_L": -50 * mV, "E_Ca": 100 * mV, "V_1": 10 * mV,
                 "V_2": 15 * mV, "g": 0.5, "mV": mV}
    G = b2.NeuronGroup(N, equations, method="exponential_euler", namespace=namespace)
    for k, v in init.items():
        setattr(G, k, v)
    variables = [k for k in init if k != "I"]
    mon = b2.StateMonitor(G, variables, record=True)
    b2.run(DURATION_MS * ms, namespace=namespace)

    path = tmp_path / f"{case}.snn"
    path.write_text(_snn(equations, init))
    ours = snndsl.compile(path).run()
    for k in variables:
        theirs = getattr(mon, k + "_")[:].T
        assert np.ptp(theirs) > 0  # the model moves
        np.testing.assert_allclose(ours[f"mon_{k}"].values, theirs, rtol=1e-9, atol=1e-15)


def test_the_plain_linear_split_is_unchanged():
    """Equations linear with coefficients free of x keep the plain split (so
    their C is what it was): A x + B read off the tree, not re-expanded."""
    from snndsl.ir import nodes as ir
    from snndsl.ir.integrate import Equation, exponential_euler_split

    v = ir.Var("G", "v")
    rhs = ir.Binary("/", ir.Binary("-", ir.Const(1.0), v), ir.Const(0.01))
    a, b = exponential_euler_split(Equation("v", rhs), "G")
    assert not any(isinstance(n, ir.Var) for n in ir.walk(a))
    assert not any(isinstance(n, ir.Var) for n in ir.walk(b))
    assert isinstance(a, ir.Binary) and a.op == "/"  # (0 - 1) / 0.01, as the tree reads
