"""Brian2 reference for examples/freeze_after_learning.snn itself: Poisson
inputs and outputs (random), so the comparison with snndsl is statistical.

Written in the same shape as the example: 10 x 10 Poisson groups at 10 Hz,
all-to-all STDP with event-driven traces (tau = 20 ms), trained 1 s, the
synapses with w > 0.3 frozen, tested 1 s.
"""

from __future__ import annotations

import numpy as np


def run_forum_poisson_brian2(seed: int, dt: float = 0.1e-3) -> dict:
    import brian2 as b2
    from brian2 import Hz, ms, second

    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    b2.defaultclock.dt = dt * second
    b2.seed(seed)
    inp = b2.PoissonGroup(10, rates=10 * Hz)
    out = b2.PoissonGroup(10, rates=10 * Hz)
    S = b2.Synapses(inp, out, model="""
        w : 1
        learned : 1
        W_max : 1 (shared, constant)
        dx/dt = -x / tau : 1 (event-driven)
        dy/dt = -y / tau : 1 (event-driven)
        """, on_pre="""
        x += 1
        w = clip(w + y * learned, 0, W_max)
        """, on_post="""
        y -= 1
        w = clip(w + x * learned, 0, W_max)
        """, namespace={"tau": 20 * ms})
    S.connect()
    S.w = "rand()"
    S.W_max = 1
    S.learned = 1
    spikes = b2.SpikeMonitor(out)
    net = b2.Network(inp, out, S, spikes)
    net.run(1 * second)
    S.learned["w > 0.3"] = 0
    trained = np.array(S.w[:])
    net.run(1 * second)
    return {"trained_w": trained, "tested_w": np.array(S.w[:]), "n_out_spikes": int(spikes.num_spikes)}
