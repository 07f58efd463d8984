"""Brian2 reference for examples/song_abbott.snn: Brian2's own
``examples/synapses/STDP.py`` (Song, Miller & Abbott 2000).

One leaky integrate-and-fire neuron (conductance input, Euler) driven by
``N`` Poisson inputs at ``F`` through all-to-all additive STDP synapses with
event-driven traces.  Starting from uniform weights in ``[0, gmax]``, STDP
with slightly dominant depression (``dApost = -1.05 dApre``) pushes the
weights apart: after a long run (the example's 100 s) their distribution is
bimodal, piled up at 0 and at ``gmax``, and the output rate settles at a
moderate value whatever the initial rate.

The model is the example's, line for line, with one deliberate choice: the
example leaves ``v`` at Brian2's default 0 mV (above threshold, so the
neuron fires in its first step); here, as in song_abbott.snn, ``v`` starts at
``vr``.  The constants below must stay equal to those in song_abbott.snn.

Random numbers differ from snndsl's, so the comparison is statistical
(tests/e2e/test_song_abbott_vs_brian2.py).
"""

from __future__ import annotations

import numpy as np

N = 1000
F = 15.0            # Hz
TAUM = 10e-3        # s
TAUPRE = 20e-3
TAUPOST = 20e-3
EE = 0.0            # V
VT = -54e-3
VR = -60e-3
EL = -74e-3
TAUE = 5e-3
GMAX = 0.01
DAPRE = 0.01 * GMAX
DAPOST = -0.01 * TAUPRE / TAUPOST * 1.05 * GMAX


def run_song_abbott_brian2(duration: float = 100.0, seed: int = 1, *, n_inputs: int = N,
                           target: str = "cython", dt: float = 0.1e-3,
                           rate_bin: float = 1.0) -> dict:
    """Run the STDP example for ``duration`` seconds with ``seed``.

    ``target`` is Brian2's code generation target: ``"cython"`` (default;
    about 3x faster than numpy here once the extensions are cached in
    ``~/.cython``) or ``"numpy"``.

    Returns (SI units, numpy arrays):
    ``rate`` (output spikes / duration, Hz), ``n_out_spikes``, ``out_t``
    (output spike times), ``w_final`` (per synapse, Brian2 order = input
    index), ``rate_t`` / ``rate_binned`` (output rate in bins of
    ``rate_bin`` seconds, bin starts) and ``n_in_spikes``.
    """
    import brian2 as b2
    from brian2 import Hz, mV, ms, second

    b2.prefs.codegen.target = target
    b2.start_scope()
    b2.defaultclock.dt = dt * second
    b2.seed(seed)

    namespace = {
        "taum": TAUM * second, "taupre": TAUPRE * second, "taupost": TAUPOST * second,
        "Ee": EE * b2.volt, "vt": VT * b2.volt, "vr": VR * b2.volt, "El": EL * b2.volt,
        "taue": TAUE * second, "gmax": GMAX, "dApre": DAPRE, "dApost": DAPOST,
    }
    eqs_neurons = """
    dv/dt = (ge * (Ee-v) + El - v) / taum : volt
    dge/dt = -ge / taue : 1
    """
    poisson_input = b2.PoissonGroup(n_inputs, rates=F * Hz, name="inp")
    neurons = b2.NeuronGroup(1, eqs_neurons, threshold="v>vt", reset="v = vr",
                             method="euler", namespace=namespace, name="out")
    neurons.v = VR * b2.volt
    S = b2.Synapses(poisson_input, neurons,
                    """w : 1
                       dApre/dt = -Apre / taupre : 1 (event-driven)
                       dApost/dt = -Apost / taupost : 1 (event-driven)""",
                    on_pre="""ge += w
                              Apre += dApre
                              w = clip(w + Apost, 0, gmax)""",
                    on_post="""Apost += dApost
                               w = clip(w + Apre, 0, gmax)""",
                    namespace=namespace, name="S")
    S.connect()
    S.w = "rand() * gmax"
    out_mon = b2.SpikeMonitor(neurons, name="out_spikes")
    in_count = b2.SpikeMonitor(poisson_input, record=False, name="in_count")
    net = b2.Network(poisson_input, neurons, S, out_mon, in_count)
    net.run(duration * second, namespace=namespace)

    out_t = np.array(out_mon.t_[:], dtype=float)
    n_bins = max(1, int(round(duration / rate_bin)))
    edges = np.arange(n_bins + 1) * rate_bin
    counts, _ = np.histogram(out_t, bins=edges)
    return {
        "rate": len(out_t) / duration,
        "n_out_spikes": int(len(out_t)),
        "out_t": out_t,
        "w_final": np.array(S.w[:], dtype=float),
        "rate_t": edges[:-1],
        "rate_binned": counts / rate_bin,
        "n_in_spikes": int(in_count.num_spikes),
    }


def weight_statistics(w, gmax: float = GMAX) -> dict:
    """The statistics the tests compare: fractions near 0 and near gmax, mean."""
    x = np.asarray(w, dtype=float) / gmax
    return {"frac_low": float(np.mean(x < 0.1)), "frac_high": float(np.mean(x > 0.9)),
            "mean_w": float(np.mean(x))}


if __name__ == "__main__":  # pragma: no cover - measuring seed-to-seed variability
    import argparse
    import time

    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--target", default="cython")
    ap.add_argument("--n-inputs", type=int, default=N)
    args = ap.parse_args()
    for s in args.seeds:
        t0 = time.time()
        r = run_song_abbott_brian2(args.duration, s, n_inputs=args.n_inputs, target=args.target)
        st = weight_statistics(r["w_final"])
        last = r["rate_binned"][-max(1, len(r["rate_binned"]) // 5):].mean()
        print(f"seed {s}: rate {r['rate']:.3f} Hz (last fifth {last:.2f}), "
              f"low {st['frac_low']:.4f} high {st['frac_high']:.4f} mean {st['mean_w']:.4f} "
              f"in {r['n_in_spikes']}  [{time.time() - t0:.1f} s]", flush=True)
