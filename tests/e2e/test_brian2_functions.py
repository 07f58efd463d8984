"""Brian2's `pi`, `e`, `exprel` and `int()` of a condition, against Brian2
itself: a deterministic model using each, integrated with euler, gives
Brian2's trace to rounding."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

MODEL = """\
dt = 0.1 ms
neurons G[4]:
    dv/dt = (exprel((v - 20 * mV) / (5 * mV)) * pi * mV - v / e) / (10 ms) + int(v > 3 mV) * mV / (50 ms) : volt
    method: euler
    init: v = i * 2 mV - 1 mV
monitor m: G.v
phase a:
    run 20 ms
"""


def test_pi_e_exprel_and_int_of_a_condition_as_in_brian2(tmp_path):
    import brian2 as b2
    path = tmp_path / "f.snn"
    path.write_text(MODEL)
    ours = snndsl.compile(path).run()["m"].values
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    mV, ms = b2.mV, b2.ms  # noqa: F841 - the equations' namespace
    G = b2.NeuronGroup(4, "dv/dt = (exprel((v - 20*mV) / (5*mV)) * pi * mV - v / e) / (10*ms)"
                          " + int(v > 3*mV) * mV / (50*ms) : volt", method="euler")
    G.v = "i * 2*mV - 1*mV"
    mon = b2.StateMonitor(G, "v", record=True)
    b2.run(20 * ms)
    theirs = np.asarray(mon.v[:]).T
    assert ours.shape == theirs.shape == (200, 4)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert np.ptp(ours[:, 0]) > 1e-3  # the trace moves
    crossed = (ours > 3e-3).any(axis=0)
    assert crossed.any() and not crossed.all()  # int(v > 3 mV) is 1 for some neurons, 0 for others


INF_MODEL = """\
dt = 0.1 ms
neurons G[3]:
    dv/dt = (2 - v) / (10 ms) : 1
    method: euler
    threshold: v > 1 or v < -inf
    reset: v = clip(v - 1, -inf, 0.25 * i)
    init: v = i * 0.3
monitor m: G.v
monitor sp: spikes of G
phase a:
    run 30 ms
"""


def test_inf_as_in_brian2(tmp_path):
    """Brian2's `inf`: a bound that never binds, a comparison always false."""
    import brian2 as b2
    path = tmp_path / "inf.snn"
    path.write_text(INF_MODEL)
    ours = snndsl.compile(path).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms  # noqa: F841 - the equations' namespace
    G = b2.NeuronGroup(3, "dv/dt = (2 - v) / (10*ms) : 1", threshold="v > 1 or v < -inf",
                       reset="v = clip(v - 1, -inf, 0.25 * i)", method="euler")
    G.v = "i * 0.3"
    mon, sp = b2.StateMonitor(G, "v", record=True), b2.SpikeMonitor(G)
    b2.run(30 * ms)
    assert len(sp.i) > 3
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["m"].values, np.asarray(mon.v).T, rtol=1e-12, atol=1e-15)


FLOORDIV_MODEL = """\
dt = 0.1 ms
neurons G[6]:
    dv/dt = (2 - v) / (10 ms) : 1
    k : integer
    method: euler
    threshold: v > 1.5
    reset: v = (v // 0.7) * 0.1 - k // 3; k += 1
    init: v = -0.35 * i + (i // 2) - (-7) // 2
monitor m: G.v
monitor mk: G.k
phase a:
    run 40 ms
"""


def test_floor_division_as_in_brian2(tmp_path):
    """Brian2's `//` (Python's: toward minus infinity, for ints and floats),
    in reset code and init, on negative and positive values."""
    import brian2 as b2
    path = tmp_path / "floordiv.snn"
    path.write_text(FLOORDIV_MODEL)
    ours = snndsl.compile(path).run()
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms = b2.ms  # noqa: F841 - the equations' namespace
    G = b2.NeuronGroup(6, "dv/dt = (2 - v) / (10*ms) : 1\nk : integer", threshold="v > 1.5",
                       reset="v = (v // 0.7) * 0.1 - k // 3; k += 1", method="euler")
    G.v = "-0.35 * i + (i // 2) - (-7) // 2"
    mon = b2.StateMonitor(G, ["v", "k"], record=True)
    b2.run(40 * ms)
    assert np.asarray(mon.k)[:, -1].max() >= 3  # k // 3 became 1 for some
    np.testing.assert_allclose(ours["m"].values, np.asarray(mon.v).T, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ours["mk"].values, np.asarray(mon.k).T)


SIGN_MODEL = """\
dt = 0.1 ms
neurons G[5]:
    dv/dt = -sign(v - 1 mV) * mV / (5 ms) + sign(k - 2) * mV / (20 ms) : volt
    k : integer
    method: euler
    init:
        v = (i - 2) * 1.5 mV * sign(-3)
        k = i
monitor m: G.v
phase a:
    run 20 ms
"""


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_sign_as_in_brian2(tmp_path, backend):
    """Brian2's `sign()`: of a voltage (dimensionless, -1, 0 or 1), of an
    integer, and folded in a constant; the trace settles around 1 mV, where
    sign flips each step."""
    import brian2 as b2
    path = tmp_path / "sign.snn"
    path.write_text(SIGN_MODEL)
    ours = snndsl.compile(path, backend=backend).run()["m"].values
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    mV, ms = b2.mV, b2.ms  # noqa: F841 - the equations' namespace
    G = b2.NeuronGroup(5, "dv/dt = -sign(v - 1*mV) * mV / (5*ms) + sign(k - 2) * mV / (20*ms) : volt\n"
                          "k : integer", method="euler")
    G.v = "(i - 2) * 1.5*mV * sign(-3)"
    G.k = "i"
    mon = b2.StateMonitor(G, "v", record=True)
    b2.run(20 * ms)
    theirs = np.asarray(mon.v[:]).T
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert ours[0, 0] > 0 > ours[0, 4]           # sign(-3) folded to -1
    assert np.ptp(np.diff(ours[-50:, 0])) > 0    # v crossed 1 mV: sign flips
