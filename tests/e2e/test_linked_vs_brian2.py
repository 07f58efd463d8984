"""Linked variables (`X = H.Y : UNIT (linked)`) against Brian2's linked_var,
exactly: a neuron group reads another group's variable element for element
(in its equations, its threshold, and through pre. in a synapse's code) and
another group's shared variable, which a phase then changes. A linked
variable reads the other group's value of that moment: updated already in
this step if the other group is declared first."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

MODEL = """\
dt = 0.1 ms
neurons src[4]:
    dx/dt = (1 + i - x) / (5 ms) : 1
    level : 1 (shared)
    init: level = 0.5
neurons G[4]:
    dv/dt = (I + L - v) / (10 ms) : 1
    I = src.x : 1 (linked)
    L = src.level : 1 (linked)
    threshold: v > 1.2 + 0.1 * I
    reset: v = 0
neurons H[2]:
    u : 1
synapses S: G -> H:
    connect: all
    on pre: post.u += pre.I * (j + 1)
monitor mv: G.v
monitor mI: G.I
monitor mu: H.u
monitor sp: spikes of G
phase one:
    run 20 ms
phase two:
    src.level = 2
    run 10 ms
"""


def test_linked_variables_match_brian2(tmp_path):
    import brian2 as b2
    path = tmp_path / "linked.snn"
    path.write_text(MODEL)
    ours = snndsl.compile(path).run()

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms
    # snndsl updates the groups in the order of the file; Brian2 orders a slot by name
    src = b2.NeuronGroup(4, "dx/dt = (1 + i - x) / (5*ms) : 1\nlevel : 1 (shared)", method="exact", name="n1_src")
    src.level = 0.5
    G = b2.NeuronGroup(4, "dv/dt = (I + L - v) / (10*ms) : 1\nI : 1 (linked)\nL : 1 (linked)",
                       threshold="v > 1.2 + 0.1 * I", reset="v = 0", method="exact", name="n2_G")
    G.I = b2.linked_var(src, "x")
    G.L = b2.linked_var(src, "level")
    H = b2.NeuronGroup(2, "u : 1")
    S = b2.Synapses(G, H, on_pre="u_post += I_pre * (j + 1)")
    S.connect()
    mv, mI, mu = (b2.StateMonitor(g, v, record=True) for g, v in ((G, "v"), (G, "I"), (H, "u")))
    sp = b2.SpikeMonitor(G)
    b2.run(20 * b2.ms)
    src.level = 2
    b2.run(10 * b2.ms)

    assert len(sp.i) > 5
    np.testing.assert_array_equal(ours["sp"].i, np.asarray(sp.i))
    np.testing.assert_allclose(ours["sp"].t, np.asarray(sp.t), rtol=0, atol=1e-12)
    for name, mon, var in (("mv", mv, "v"), ("mI", mI, "I"), ("mu", mu, "u")):
        np.testing.assert_allclose(ours[name].values, getattr(mon, var).T, rtol=1e-12, atol=1e-15, err_msg=name)
