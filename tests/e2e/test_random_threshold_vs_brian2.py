"""rand() in a threshold, against Brian2: neurons that spike with probability
r dt in each step they are not refractory fire at 1 / (1/r + refractory).
Two seeds of 2000 neurons for 1 s: the mean rate's standard error is about
0.05 Hz, so the tolerance against the analytic rate (5 standard errors,
0.27 Hz) detects a shift of 1.6 %: a refractory period of 9 instead of
10 ms moves the rate by 2.3 %, a missing one by 20 %."""
import numpy as np
import pytest

import snndsl

pytestmark = [pytest.mark.needs_cc, pytest.mark.brian2]

N, RATE, REFRACTORY = 2000, 20.0, 0.01

MODEL = f"""\
dt = 0.1 ms
neurons n[{N}]:
    v : 1
    threshold: rand() < {RATE} Hz * dt
    refractory: 10 ms
monitor sp: spikes of n
phase a:
    run 1 s
"""


def _brian2_rate(seed: int) -> float:
    import brian2 as b2
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * b2.ms
    G = b2.NeuronGroup(N, "v : 1", threshold=f"rand() < {RATE}*Hz*dt", refractory=10 * b2.ms)
    sp = b2.SpikeMonitor(G)
    b2.run(1 * b2.second)
    return len(sp.i) / N


def test_a_random_threshold_fires_at_brian2s_rate(tmp_path):
    path = tmp_path / "poissonlike.snn"
    path.write_text(MODEL)
    model = snndsl.compile(path)
    ours = [len(model.run(seed=s)["sp"].i) / N for s in (1, 2)]
    theirs = [_brian2_rate(s) for s in (1, 2)]
    expected = 1 / (1 / RATE + REFRACTORY)
    # per neuron the count has variance about rate * (1 - rate * refractory)**2 over 1 s
    se = np.sqrt(expected * (1 - expected * REFRACTORY) ** 2 / (2 * N))
    assert abs(np.mean(ours) - expected) < 5 * se, (ours, expected)
    assert abs(np.mean(ours) - np.mean(theirs)) < 5 * np.sqrt(2) * se, (ours, theirs)
