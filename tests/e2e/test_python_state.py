"""Between runs, from Python: one phase at a time (`run_phase`), and the
groups' variables read and written (`sim["S"].w`), with units checked."""
import numpy as np
import pytest

import snndsl

from conftest import EXAMPLES

pytestmark = pytest.mark.needs_cc

FORUM = EXAMPLES / "freeze_after_learning.snn"


@pytest.fixture(scope="module")
def forum():
    return snndsl.compile(FORUM)


def test_phase_by_phase_is_the_protocol(forum):
    whole = forum.run(seed=4)
    sim = forum.simulation(seed=4)
    assert sim.phases == ("train", "freeze", "test")
    sim.run_phase("train").run_phase("freeze")
    assert sim.results().phases == {"train": (0.0, 1.0), "freeze": (1.0, 1.0)}
    sim.run_protocol()  # the rest: test
    res = sim.results()
    assert res.phases == whole.phases
    np.testing.assert_array_equal(res["weights"].values, whole["weights"].values)
    np.testing.assert_array_equal(res.saved["tested_w"], whole.saved["tested_w"])


def test_phases_run_once_and_in_order(forum):
    sim = forum.simulation(seed=4)
    with pytest.raises(snndsl.SimulationError, match="phase 'test' comes after phase 'train', which has not run"):
        sim.run_phase("test")
    sim.run_phase("train")
    with pytest.raises(snndsl.SimulationError, match="phase 'train' has run"):
        sim.run_phase("train")
    with pytest.raises(snndsl.SimulationError, match="no phase 'tset'.*did you mean 'test'"):
        sim.run_phase("tset")
    sim.run_protocol()
    with pytest.raises(snndsl.SimulationError, match="has run"):
        sim.run_phase("test")


def test_variables_read_between_phases_are_the_models(forum):
    sim = forum.simulation(seed=6).run_phase("train").run_phase("freeze")
    S = sim["S"]
    res = sim.results()
    np.testing.assert_array_equal(S.w, res.saved["trained_w"])  # the freeze phase saved S.w
    i, j = res.saved_indices["trained_w"]
    np.testing.assert_array_equal(S.i, i)
    np.testing.assert_array_equal(S.j, j)
    np.testing.assert_array_equal(S.learned, np.where(S.w > 0.3, 0.0, 1.0))  # S.learned[w > 0.3] = 0
    assert S.W_max == 1.0 and np.ndim(S.W_max) == 0  # shared: one value
    w = S.w
    w[:] = -1  # a copy: the simulation is untouched
    assert np.all(sim["S"].w >= 0)


def test_writing_from_python_is_writing_in_the_protocol(forum, tmp_path):
    """The forum model's freeze done from Python: the protocol's
    `S.learned[w > 0.3] = 0` removed from the file, the same assignment made
    between the phases, and the test phase gives the same weights."""
    text = FORUM.read_text()
    assert "    S.learned[w > 0.3] = 0\n" in text
    path = tmp_path / "no_freeze.snn"
    path.write_text(text.replace("    S.learned[w > 0.3] = 0\n", ""))
    sim = snndsl.compile(path).simulation(seed=9).run_phase("train")
    S = sim["S"]
    S.learned = np.where(S.w > 0.3, 0, 1)
    sim.run_protocol()
    ours = sim.results()
    theirs = forum.run(seed=9)
    np.testing.assert_array_equal(ours.saved["tested_w"], theirs.saved["tested_w"])
    assert np.any(ours.saved["tested_w"] != ours.saved["trained_w"])  # unfrozen ones still learned


def test_assignments_are_checked_like_parameters(tmp_path):
    path = tmp_path / "lif.snn"
    path.write_text("neurons G[3]:\n    dv/dt = -v / (10 ms) : volt\n    k : integer\n    on_ : boolean\n"
                    "    g : siemens (shared)\n    unread : 1\n"
                    "monitor mk: G.k\nmonitor mo: G.on_\nmonitor mg: G.g\nphase a:\n    run 1 ms\n")
    sim = snndsl.compile(path).simulation()
    G = sim["G"]
    G.v = "-65 mV"
    np.testing.assert_allclose(G.v, [-0.065] * 3, rtol=1e-15)
    G.v = ([1, 2, 3], "mV")
    np.testing.assert_allclose(G.v, [1e-3, 2e-3, 3e-3], rtol=1e-15)
    G.g = "2 nS"
    assert G.g == pytest.approx(2e-9, rel=1e-15)
    G.k = [1, 2, 3]
    assert G.k.tolist() == [1, 2, 3] and G.k.dtype == np.int32
    G.on_ = [True, False, True]
    assert G.on_.tolist() == [True, False, True]
    bad = [("v", 0.01, "G.v is in volt, the value dimensionless (give the unit"),
           ("v", "3 ms", "G.v is in volt, the value in second"),
           ("v", "3 furlongs", "unknown unit 'furlongs'"),
           ("v", ([1, 2], "mV"), "G.v has 3 values; assign one value or 3"),
           ("v", "nan mV", "not a number with a unit"),
           ("v", ([np.inf, 0, 0], "mV"), "the values must be finite"),
           ("g", (np.ones(3), "nS"), "G.g is shared: it takes one value"),
           ("k", 1.5, "integer variable: it takes whole numbers"),
           ("on_", 2, "boolean variable"),
           ("vv", 1, "'G' has no variable 'vv'"),
           ("unread", 1, "G.unread is never read, so the compiled model does not keep it")]
    for name, value, message in bad:
        with pytest.raises(snndsl.SimulationError, match=message.replace("(", r"\(")):
            setattr(G, name, value)
    np.testing.assert_allclose(G.v, [1e-3, 2e-3, 3e-3], rtol=1e-15)  # refused values changed nothing
    sim.run_protocol()
    v = sim.results()  # the simulation ran from the values written
    assert v.phases == {"a": (0.0, 0.001)}
    np.testing.assert_allclose(G.v, np.array([1e-3, 2e-3, 3e-3]) * np.exp(-0.1), rtol=1e-9)


def test_set_where_is_the_protocols_assignment(forum):
    """`sim.set("S.learned", 0, where="w > 0.3")` between the phases, in a
    simulation whose protocol then does the same: nothing left to change; and
    against the whole protocol run: the same weights."""
    sim = forum.simulation(seed=5).run_phase("train")
    w = sim["S"].w
    sim.set("S.learned", 0, where="w > 0.3")
    np.testing.assert_array_equal(sim["S"].learned, np.where(w > 0.3, 0.0, 1.0))
    sim.run_protocol()
    np.testing.assert_array_equal(sim.results().saved["tested_w"], forum.run(seed=5).saved["tested_w"])
    # the language's expressions, units and the synapse's i and j
    sim = forum.simulation(seed=5)
    S = sim["S"]
    w0, i, j = S.w, S.i, S.j
    sim.set("S.w", "0.25", where="i == 2 and j >= 5 or w > W_max - 0.01")
    expect = np.where(((i == 2) & (j >= 5)) | (w0 > 1 - 0.01), 0.25, w0)
    assert np.count_nonzero(expect != w0) >= 5
    sim.set("S.learned", 0.5, where="clip(w * 2, 0, 1) < 0.5")
    assert np.array_equal(S.w, expect) and np.array_equal(S.learned, np.where(expect * 2 < 0.5, 0.5, 1.0))


def test_set_where_reports_mistakes_as_the_compiler_does(forum):
    sim = forum.simulation(seed=5)
    before = sim["S"].learned
    cases = [("wx > 0.3", "where:1:1: error[E0201]: 'wx' is not defined; did you mean 'x'?"),
             ("w > 1 mV", "where:1:1: error[E0301]: the sides of '>' have different dimensions"),
             ("w >", "where:1:4: error[E0101]"),
             ("rand() < 0.5", "uniform random numbers (rand()) cannot be evaluated between runs"),
             ("w > 0.3] = 1 + [1", "error[E0101]"),
             ("w > 0.3\nphase x:", "a condition on one line")]
    for where, message in cases:
        with pytest.raises(snndsl.SimulationError) as exc:
            sim.set("S.learned", 0, where=where)
        assert message in str(exc.value), (where, str(exc.value))
    with pytest.raises(snndsl.SimulationError, match="is shared: one value for the whole group, with no condition"):
        sim.set("S.W_max", 2, where="i > 0")
    with pytest.raises(snndsl.SimulationError, match="set takes a target 'GROUP.VARIABLE'"):
        sim.set("learned", 0)
    np.testing.assert_array_equal(sim["S"].learned, before)  # nothing refused was written


def test_results_before_any_run_are_empty_at_their_widths(tmp_path):
    """`results()` of a simulation that has not run sets it up first: monitors
    of a range have no rows but their width (a width computed before setup
    was a negative count, and numpy's error); a save's synapses are known."""
    path = tmp_path / "m.snn"
    path.write_text(FORUM.read_text().replace("monitor weights: S.w every 1 ms",
                                              "monitor weights: S.w[3:9] every 1 ms"))
    sim = snndsl.compile(path).simulation()
    before = sim.results()
    assert before["weights"].values.shape == (0, 6) and len(before["out_spikes"].t) == 0
    assert before.saved["trained_w"].shape == (0,)
    assert before.saved_indices["trained_w"][0].tolist() == [i for i in range(10) for _ in range(10)]
    sim.run_protocol()
    assert sim.results()["weights"].values.shape[1] == 6
