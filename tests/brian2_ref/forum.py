"""Brian2 reference for the "forum model" (tests/e2e/models/forum_fixed.snn).

STDP synapses ``inp -> out`` (all-to-all, 10 x 10) are trained for ``train``
seconds on fixed input spikes, every synapse whose weight passed 0.3 is frozen
with the conditional assignment ``S.learned['w > 0.3'] = 0``, then the network
runs ``test`` more seconds.  Everything is deterministic (fixed spike times,
fixed initial weights), so snndsl must agree with this up to floating point.

The constants below must stay equal to the ones written in forum_fixed.snn.
"""

from __future__ import annotations

import numpy as np

#: time constant of the two event-driven traces (seconds); ``const tau``
FORUM_TAU = 20e-3
#: learning rate; the literal ``0.01`` multiplying the traces in forum_fixed.snn
FORUM_ETA = 0.01
#: freezing threshold of the ``freeze`` phase
FORUM_W_THRESHOLD = 0.3

N_PRE = 10
N_POST = 10


def make_forum_inputs(seed: int = 2024, dt: float = 0.1e-3, train: float = 1.0,
                      test: float = 1.0) -> dict:
    """Fixed input spike trains and initial weights for the forum model.

    * background: every neuron of both groups fires as an independent Poisson
      train (12 Hz);
    * during ``train``, a common 20 Hz driver makes pre neurons 0-4 fire within
      1 ms after each driver event (probability 0.8 each) and post neurons 0-4
      3 to 6 ms after it (probability 0.8 each): the 25 synapses among them are
      potentiated;
    * during ``test`` the same happens for neurons 5-9, so synapses 5-9 -> 5-9
      that were not frozen change a lot in the test phase.

    Every spike is placed at ``(step + u) * dt`` with ``u`` in [0.05, 0.95], so
    no time lies within ``0.01 * dt`` of a bin edge, and at most one spike per
    neuron and step is kept.  The arrays are returned *unsorted* (grouped by
    source: background first, then driven spikes), as Brian2's
    SpikeGeneratorGroup accepts; within a step, several neurons often spike
    with their times out of index order (the driven groups are jittered by
    less than 1 ms).

    Returns a dict with ``pre_i``, ``pre_t``, ``post_i``, ``post_t`` (int64
    indices, float64 seconds) and ``w0`` (float64, 100 weights in [0, 0.5],
    Brian2 synapse order i*10 + j).
    """
    rng = np.random.default_rng(seed)
    total = train + test
    n_steps = int(round(total / dt))

    def poisson_times(rate, t0, t1):
        n = rng.poisson(rate * (t1 - t0))
        return np.sort(rng.uniform(t0, t1, size=n))

    # common drivers: 20 Hz during train (neurons 0-4), during test (5-9)
    drivers = [(poisson_times(20.0, 0.0, train - 0.01), range(0, 5)),
               (poisson_times(20.0, train, total - 0.01), range(5, 10))]

    def group_spikes(n, lag_lo, lag_hi):
        idx, times = [], []
        for k in range(n):  # independent background
            tt = poisson_times(12.0, 0.0, total)
            idx.append(np.full(len(tt), k))
            times.append(tt)
        for drv, neurons in drivers:  # driven spikes
            for k in neurons:
                keep = rng.random(len(drv)) < 0.8
                tt = drv[keep] + rng.uniform(lag_lo, lag_hi, size=int(keep.sum()))
                idx.append(np.full(len(tt), k))
                times.append(tt)
        return np.concatenate(idx), np.concatenate(times)

    def quantise(idx, t):
        step = np.floor(t / dt).astype(np.int64)
        ok = (step >= 0) & (step < n_steps)
        idx, step = idx[ok], step[ok]
        # at most one spike per (neuron, step): keep the first occurrence
        _, first = np.unique(idx * (n_steps + 1) + step, return_index=True)
        first = np.sort(first)
        idx, step = idx[first], step[first]
        u = rng.uniform(0.05, 0.95, size=len(step))
        return idx.astype(np.int64), ((step + u) * dt).astype(np.float64)

    pre_i, pre_t = group_spikes(N_PRE, 0.0, 1e-3)
    post_i, post_t = group_spikes(N_POST, 3e-3, 6e-3)
    pre_i, pre_t = quantise(pre_i, pre_t)
    post_i, post_t = quantise(post_i, post_t)
    w0 = rng.uniform(0.0, 0.5, size=N_PRE * N_POST)
    return {"pre_i": pre_i, "pre_t": pre_t, "post_i": post_i, "post_t": post_t,
            "w0": w0}


def run_forum_brian2(pre_i, pre_t, post_i, post_t, w0, dt=0.1e-3, train=1.0,
                     test=1.0) -> dict:
    """Run the forum model in Brian2 (numpy target) on the given inputs.

    ``pre_t`` and ``post_t`` are in seconds; ``w0`` holds one weight per
    synapse in Brian2 order (``i`` major, ``j`` minor).

    Returns numpy arrays (SI units):
    ``w_trained``, ``w_tested`` (per synapse), ``weights_t`` (sample times),
    ``weights_values`` ``(n_times, n_synapses)``, ``spike_i``, ``spike_t``
    (SpikeMonitor of ``inp``), ``lastupdate`` (per synapse, at the end) and
    ``phases`` ``{"train": (0, train), "freeze": (train, train), "test":
    (train, train + test)}``.
    """
    from brian2 import (Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor,
                        Synapses, defaultclock, ms, prefs, second, start_scope)

    prefs.codegen.target = "numpy"
    start_scope()
    defaultclock.dt = dt * second

    namespace = {"tau": FORUM_TAU * second, "eta": FORUM_ETA}

    inp = SpikeGeneratorGroup(N_PRE, np.asarray(pre_i), np.asarray(pre_t) * second,
                              name="inp")
    out = SpikeGeneratorGroup(N_POST, np.asarray(post_i),
                              np.asarray(post_t) * second, name="out")
    S = Synapses(
        inp, out,
        model="""
        w : 1
        learned : 1
        W_max : 1 (shared, constant)
        dx/dt = -x / tau : 1 (event-driven)
        dy/dt = -y / tau : 1 (event-driven)
        """,
        on_pre="""
        x += 1
        w = clip(w + y * learned * eta, 0, W_max)
        """,
        on_post="""
        y -= 1
        w = clip(w + x * learned * eta, 0, W_max)
        """,
        namespace=namespace,
        name="S",
    )
    S.connect()
    S.w = np.asarray(w0, dtype=float)
    S.W_max = 1
    S.learned = 1

    weights = StateMonitor(S, "w", record=True, dt=1 * ms, name="weights")
    in_spikes = SpikeMonitor(inp, name="in_spikes")

    net = Network(inp, out, S, weights, in_spikes)
    net.run(train * second, namespace=namespace)
    w_trained = np.array(S.w[:], dtype=float)
    # the freeze phase: S.learned[w > 0.3] = 0
    S.learned[f"w > {FORUM_W_THRESHOLD!r}"] = 0
    t_freeze = float(net.t_)
    net.run(test * second, namespace=namespace)
    w_tested = np.array(S.w[:], dtype=float)

    return {
        "w_trained": w_trained,
        "w_tested": w_tested,
        "learned": np.array(S.learned[:], dtype=float),
        "lastupdate": np.array(S.lastupdate_[:], dtype=float),
        "syn_i": np.array(S.i[:], dtype=np.int64),
        "syn_j": np.array(S.j[:], dtype=np.int64),
        "weights_t": np.array(weights.t_[:], dtype=float),
        "weights_values": np.array(weights.w[:], dtype=float).T.copy(),
        "spike_i": np.array(in_spikes.i[:], dtype=np.int64),
        "spike_t": np.array(in_spikes.t_[:], dtype=float),
        "phases": {
            "train": (0.0, float(train)),
            "freeze": (t_freeze, t_freeze),
            "test": (t_freeze, float(net.t_)),
        },
    }


def _summary(ref: dict) -> str:  # pragma: no cover - manual inspection helper
    wtr, wte = ref["w_trained"], ref["w_tested"]
    frozen = wtr > FORUM_W_THRESHOLD
    lines = [
        f"synapses: {len(wtr)}, samples: {ref['weights_values'].shape}, "
        f"t[0]={ref['weights_t'][0]!r} t[-1]={ref['weights_t'][-1]!r}",
        f"inp spikes: {len(ref['spike_i'])}",
        f"frozen (w_trained > 0.3): {frozen.sum()} / {len(wtr)}",
        f"frozen unchanged in test: {np.array_equal(wte[frozen], wtr[frozen])}",
        f"non-frozen changed: {(wte[~frozen] != wtr[~frozen]).sum()} / {(~frozen).sum()}, "
        f"max |dw| = {np.abs(wte[~frozen] - wtr[~frozen]).max():.4f}",
        f"non-frozen crossing 0.3 in test: {(wte[~frozen] > FORUM_W_THRESHOLD).sum()}",
        f"phases: {ref['phases']}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    import time

    t0 = time.time()
    ref = run_forum_brian2(**make_forum_inputs())
    print(_summary(ref))
    print(f"took {time.time() - t0:.2f} s")
