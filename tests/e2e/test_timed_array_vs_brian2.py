"""Timed arrays (`data X = "..." every PERIOD`, read as X(t) and X(t, i))
against Brian2's TimedArray, exactly: the row that holds a time (Brian2's
upsampled rounding, the first and last rows held before and after), exact
integration where the period is a whole multiple of dt (Brian2's "locally
constant"), rk4 reading the array at its intermediate times, a 2-D array by
column, a period that is not a multiple of dt, reads at shifted times, in a
threshold, and as the rate of a Poisson input."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

ROWS_1D = np.array([0.0, 2.0, -1.0, 3.5, 0.25, 1.0])
ROWS_2D = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5], [1.5, 1.5, -2.0], [0.0, 4.0, 1.0]])

MODEL = """\
dt = 0.1 ms
data drive : mV = "drive.npy" every 1 ms
data table : mV = "table.npy" every 0.25 ms
data odd = "drive.npy" every 0.15 ms
neurons A[3]:
    dv/dt = (drive(t) - v) / (5 ms) : volt
neurons B[3]:
    dv/dt = (table(t, i) - v) / (2 ms) + odd(t) * mV / ms : volt
    method: rk4
neurons C[3]:
    dv/dt = (drive(t - 2 ms) + drive(t + 3.3 ms) - v) / (3 ms) : volt
    threshold: v > 0.4 * drive(t) + 0.5 mV
    reset: v = 0 mV
    method: euler
monitor ma: A.v
monitor mb: B.v
monitor mc: C.v
monitor sc: spikes of C
phase p:
    run 8 ms
"""


def _brian2():
    import brian2 as b2
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    ms, mV = b2.ms, b2.mV
    drive = b2.TimedArray(ROWS_1D * mV, dt=1 * ms)  # noqa: F841 (Brian2 reads the namespace)
    table = b2.TimedArray(ROWS_2D * mV, dt=0.25 * ms)  # noqa: F841
    odd = b2.TimedArray(ROWS_1D, dt=0.15 * ms)  # noqa: F841
    A = b2.NeuronGroup(3, "dv/dt = (drive(t) - v) / (5*ms) : volt", method="exact")
    B = b2.NeuronGroup(3, "dv/dt = (table(t, i) - v) / (2*ms) + odd(t) * mV / ms : volt", method="rk4")
    C = b2.NeuronGroup(3, "dv/dt = (drive(t - 2*ms) + drive(t + 3.3*ms) - v) / (3*ms) : volt",
                       threshold="v > 0.4 * drive(t) + 0.5*mV", reset="v = 0*mV", method="euler")
    ma, mb, mc = (b2.StateMonitor(g, "v", record=True) for g in (A, B, C))
    sc = b2.SpikeMonitor(C)
    b2.run(8 * ms)
    return ma, mb, mc, sc


def test_timed_arrays_match_brian2(tmp_path):
    np.save(tmp_path / "drive.npy", ROWS_1D)
    np.save(tmp_path / "table.npy", ROWS_2D)
    path = tmp_path / "timed.snn"
    path.write_text(MODEL)
    ours = snndsl.compile(path).run()
    ma, mb, mc, sc = _brian2()
    for name, mon in (("ma", ma), ("mb", mb), ("mc", mc)):
        np.testing.assert_allclose(ours[name].values, np.asarray(mon.v).T, rtol=1e-12, atol=1e-18, err_msg=name)
    assert len(sc.i) > 3
    np.testing.assert_array_equal(ours["sc"].i, np.asarray(sc.i))
    np.testing.assert_allclose(ours["sc"].t, np.asarray(sc.t), rtol=0, atol=1e-12)
    # the rows were read: A follows the drive's steps, holding the last row after 6 ms
    a = ours["ma"].values[:, 0]
    assert a[15] > 0 and a[25] < a[20] and abs(a[-1] - 1e-3) < abs(a[60] - 1e-3)


POISSON = """\
dt = 0.1 ms
data rates : Hz = "rates.npy" every 5 ms
neurons G[20]:
    dv/dt = -v / (10 ms) : 1
poisson ext[50] -> G.v:
    rate = rates(t)
    weight = 1
monitor mv: G.v
phase p:
    run 20 ms
"""


def test_a_timed_rate_of_a_poisson_input(tmp_path):
    """rate = rates(t): silent in the rows at 0 Hz, every source each step at 10 kHz (p = 1)."""
    np.save(tmp_path / "rates.npy", np.array([0.0, 10000.0, 0.0, 10000.0]))
    path = tmp_path / "poisson.snn"
    path.write_text(POISSON)
    v = snndsl.compile(path).run()["mv"].values
    assert (v[:51] == 0).all()  # recorded at the start of a step: the first 5 ms, and the step at 5 ms
    assert (np.diff(v[51:100], axis=0) > 0).all() and (np.diff(v[101:150], axis=0) < 0).all()

    # Brian2 2.9's PoissonInput takes no rate expression; with p = 0 or 1 there is nothing random:
    # each step decays v, then adds 50 while the row holds 10 kHz
    expected = np.zeros(200)
    for k in range(199):
        expected[k + 1] = expected[k] * np.exp(-0.01) + (50 if (k // 50) % 2 == 1 else 0)
    np.testing.assert_allclose(v[:, 0], expected, rtol=1e-12, atol=0)
    assert (v == v[:, :1]).all()


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_a_timed_array_without_rows_or_of_the_wrong_rank_is_an_error(tmp_path, backend):
    """An empty array has no row to hold: refused when loaded, naming the
    array's declaration; a 2-D array read as X(t) by its rank (both backends)."""
    np.save(tmp_path / "empty.npy", np.zeros(0))
    np.save(tmp_path / "table.npy", np.zeros((3, 2)))
    path = tmp_path / "e.snn"
    path.write_text('data stim = "empty.npy" every 1 ms\nneurons G[2]:\n    dv/dt = (stim(t) - v) / (10 ms) : 1\n'
                    "phase p:\n    run 1 ms\n")
    model = snndsl.compile(path, backend=backend)
    with pytest.raises(snndsl.SimulationError) as err:
        model.run()
    assert f"{path}:1:1: error[E0601]: timed array 'stim' ({tmp_path / 'empty.npy'}) has no rows" in str(err.value)
    with pytest.raises(snndsl.SimulationError) as err:
        model.run(data={"stim": tmp_path / "table.npy"})
    assert "has 2 dimensions, but the model reads it with 1 index" in str(err.value)


def test_values_written_in_the_model_are_the_file_s(tmp_path):
    """`data X = [...]` (1-D and 2-D) reads as the same numbers from a file, and
    --data still puts a file in their place."""
    np.save(tmp_path / "drive.npy", ROWS_1D)
    np.save(tmp_path / "table.npy", ROWS_2D)
    np.save(tmp_path / "odd.npy", ROWS_1D)
    files = tmp_path / "files.snn"
    files.write_text(MODEL.replace('"drive.npy" every 0.15 ms', '"odd.npy" every 0.15 ms'))
    inline = tmp_path / "inline.snn"
    lists = MODEL.replace('"drive.npy"', "[" + ", ".join(map(repr, ROWS_1D.tolist())) + "]")
    lists = lists.replace('"table.npy"', repr(ROWS_2D.tolist()))
    inline.write_text(lists)
    assert '"' not in lists.split("neurons")[0]
    a, b = snndsl.compile(files).run(), snndsl.compile(inline).run()
    for name in ("ma", "mb", "mc"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    np.save(tmp_path / "flat.npy", np.zeros(3))
    flat = snndsl.compile(inline).run(data={"drive": tmp_path / "flat.npy"})
    assert (flat["ma"].values == 0).all() and not (b["ma"].values == 0).all()
