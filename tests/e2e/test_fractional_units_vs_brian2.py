"""Fractional powers of units (`mV/ms**0.5`, `second**-0.5`, `metre**(1/3)`),
against Brian2 (numpy target): declared on variables, written after numbers,
reached through sqrt() and `**`. Each model is deterministic, so snndsl and
Brian2 must agree to rounding; the results carry the fractional unit.

Brian2 is a required test dependency: imported inside the tests (an error, never a
silent skip).
"""
from __future__ import annotations

import numpy as np
import pytest

import snndsl
from snndsl.units import dim_of

pytestmark = [pytest.mark.brian2, pytest.mark.needs_cc]

N = 4
DURATION_MS = 50

SNN = f"""\
dt = 0.1 ms
const tau = 10 ms
const tau_w = 30 ms
const k = 0.5 mV/ms**0.5
neurons G[{N}]:
    # sqrt(u) is in volt**0.5, sqrt(tau) in second**0.5; second**0.5 * second**-0.5 is 1
    dv/dt = (-v + g * r**3 + c * sqrt(u)) / tau + w / sqrt(tau) * second**0.5 * second**-0.5 : volt
    dw/dt = -w / tau_w : mV/ms**0.5
    du/dt = -u / tau_w : volt
    r : metre**(1/3) (constant)
    g : volt/metre (constant)
    c : volt**0.5 (constant)
    init:
        w = k * (i + 1)
        r = (i + 1) * 0.2 metre**(1/3)
        g = 20 mV/metre
        c = 0.1 volt**0.5
        u = (i + 1) * 10 mV
monitor mon_v: G.v
monitor mon_w: G.w
phase simulate:
    run {DURATION_MS} ms
"""


def test_fractional_units_as_in_brian2(tmp_path):
    import brian2 as b2
    from brian2 import metre, ms, mV, volt

    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    b2.defaultclock.dt = 0.1 * ms
    namespace = {"tau": 10 * ms, "tau_w": 30 * ms, "k": 0.5 * mV / ms ** 0.5}
    G = b2.NeuronGroup(N, """
        dv/dt = (-v + g * r**3 + c * sqrt(u)) / tau + w / sqrt(tau) : volt
        dw/dt = -w / tau_w : volt/second**0.5
        du/dt = -u / tau_w : volt
        r : metre**0.3333333333333333 (constant)
        g : volt/metre (constant)
        c : volt**0.5 (constant)""", method="euler", namespace=namespace)
    G.w = "k * (i + 1)"
    G.r = (np.arange(N) + 1) * 0.2 * metre ** (1.0 / 3)
    G.g = 20 * mV / metre
    G.c = 0.1 * volt ** 0.5
    G.u = (np.arange(N) + 1) * 10 * mV
    mon = b2.StateMonitor(G, ["v", "w"], record=True)
    b2.run(DURATION_MS * ms, namespace=namespace)  # Brian2's equations take no (1/3): a float power
    assert np.ptp(mon.v_[:]) > 1e-3

    path = tmp_path / "fractional.snn"
    path.write_text(SNN.replace("    dv/dt", "    method: euler\n    dv/dt"))
    ours = snndsl.compile(path).run()
    np.testing.assert_allclose(ours["mon_v"].values, mon.v_[:].T, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(ours["mon_w"].values, mon.w_[:].T, rtol=1e-9, atol=1e-15)
    assert ours["mon_w"].unit == "volt/second**0.5"
    assert dim_of(ours["mon_w"].unit) == dim_of("volt") / dim_of("second") ** 0.5


def test_a_quantity_with_a_fractional_unit_is_brian2s():
    """`2 mV/ms**0.5` and `3 um**(-2/3)` after a number: the same SI values as
    Brian2's 2*mV/ms**0.5 and 3*um**(-2.0/3)."""
    import brian2 as b2
    from brian2 import ms, mV, um

    from snndsl.units import parse_suffix
    for text, theirs in (("mV/ms**0.5", 1 * mV / ms ** 0.5), ("um**(-2/3)", 1 * um ** (-2.0 / 3)),
                         ("second**-0.5", 1 * b2.second ** -0.5)):
        scale, dim = parse_suffix(text)
        assert scale == pytest.approx(float(theirs), rel=1e-15)
        assert [float(e) for e in dim.exps] == pytest.approx(list(b2.get_dimensions(theirs)._dims))


PARAM = """\
param k = 0.5 mV/ms**0.5
const tau = 10 ms
neurons G[3]:
    dv/dt = (-v + (i + 1) * k * sqrt(tau)) / tau : volt
    method: exact
monitor mon: G.v
phase p:
    run 20 ms
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_a_parameter_with_a_fractional_unit(tmp_path, backend):
    """A `param` in mV/ms**0.5, set at run time (`--set 'k=2 mV/ms**0.5'`,
    `**(1/2)` the same): Brian2's traces with that k; a value of another
    dimension is refused, naming both."""
    import brian2 as b2
    from brian2 import ms, mV

    path = tmp_path / "param.snn"
    path.write_text(PARAM)
    model = snndsl.compile(path, backend=backend)
    ours = model.run(params={"k": "2 mV/ms**0.5"})
    halves = model.run(params={"k": "2 mV/ms**(1/2)"})
    np.testing.assert_array_equal(ours["mon"].values, halves["mon"].values)
    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    b2.defaultclock.dt = 0.1 * ms
    namespace = {"tau": 10 * ms, "k": 2 * mV / ms ** 0.5}
    G = b2.NeuronGroup(3, "dv/dt = (-v + (i + 1) * k * sqrt(tau)) / tau : volt", method="exact", namespace=namespace)
    mon = b2.StateMonitor(G, "v", record=True)
    b2.run(20 * ms, namespace=namespace)
    np.testing.assert_allclose(ours["mon"].values, mon.v_[:].T, rtol=1e-12, atol=1e-18)
    default = model.run()["mon"].values
    np.testing.assert_allclose(default * 4, ours["mon"].values, rtol=1e-12)
    with pytest.raises(snndsl.SimulationError, match=r"--set k=2 mV/ms: the parameter is in volt/second\*\*0\.5"):
        model.run(params={"k": "2 mV/ms"})
