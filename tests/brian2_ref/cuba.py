"""Brian2 reference for examples/cuba.snn: Brian2's own ``examples/CUBA.py``
(Vogels & Abbott 2005; benchmark 2 of Brette et al. 2007).

4000 leaky integrate-and-fire neurons (3200 excitatory, 800 inhibitory),
exponential synaptic currents, 5 ms refractory period, linear equations
integrated exactly, random connectivity with probability 0.02 (self
connections allowed), ``v`` drawn uniformly in ``[Vr, Vt]``.

Written as the example is, with one group ``P`` of 4000 neurons and two
synapse groups selected by presynaptic index (``i < 3200``, ``i >= 3200``);
cuba.snn splits ``P`` into ``exc`` and ``inh`` with four synapse
groups, which is the same random model (every ordered pair is connected
independently with probability 0.02 in both).  The constants below must stay
equal to those in cuba.snn.

Random numbers differ from snndsl's, so the comparison is statistical
(tests/e2e/test_cuba_vs_brian2.py).
"""

from __future__ import annotations

import numpy as np

N_EXC = 3200
N_INH = 800
TAUM = 20e-3
TAUE = 5e-3
TAUI = 10e-3
VT = -50e-3
VR = -60e-3
EL = -49e-3
REFRACTORY = 5e-3
P_CONN = 0.02


def run_cuba_brian2(duration: float = 1.0, seed: int = 1, *, target: str = "numpy",
                    dt: float = 0.1e-3) -> dict:
    """Run CUBA for ``duration`` seconds with ``seed``.

    ``target``: Brian2's code generation target, ``"numpy"`` (default, no
    compilation) or ``"cython"``.

    Returns numpy arrays (SI units): ``exc_i``, ``exc_t`` (spikes of the
    excitatory neurons, indices 0..3199), ``inh_i``, ``inh_t`` (inhibitory,
    indices 0..799, i.e. Brian2's index minus 3200), ``n_syn_e``, ``n_syn_i``
    (synapse counts).
    """
    import brian2 as b2
    from brian2 import mV, ms, second

    b2.prefs.codegen.target = target
    b2.start_scope()
    b2.defaultclock.dt = dt * second
    b2.seed(seed)

    namespace = {"taum": TAUM * second, "taue": TAUE * second, "taui": TAUI * second,
                 "Vt": VT * b2.volt, "Vr": VR * b2.volt, "El": EL * b2.volt,
                 "we": (60 * 0.27 / 10) * mV, "wi": (-20 * 4.5 / 10) * mV}
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = b2.NeuronGroup(N_EXC + N_INH, eqs, threshold="v>Vt", reset="v = Vr",
                       refractory=REFRACTORY * second, method="exact",
                       namespace=namespace, name="P")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = b2.Synapses(P, P, on_pre="ge += we", namespace=namespace, name="Ce")
    Ci = b2.Synapses(P, P, on_pre="gi += wi", namespace=namespace, name="Ci")
    Ce.connect(f"i<{N_EXC}", p=P_CONN)
    Ci.connect(f"i>={N_EXC}", p=P_CONN)
    s_mon = b2.SpikeMonitor(P, name="s_mon")
    net = b2.Network(P, Ce, Ci, s_mon)
    net.run(duration * second, namespace=namespace)

    i = np.array(s_mon.i[:], dtype=np.int64)
    t = np.array(s_mon.t_[:], dtype=float)
    exc = i < N_EXC
    return {"exc_i": i[exc], "exc_t": t[exc], "inh_i": i[~exc] - N_EXC, "inh_t": t[~exc],
            "n_syn_e": int(len(Ce)), "n_syn_i": int(len(Ci))}


def spike_statistics(i, t, n: int, duration: float, min_spikes: int = 3) -> dict:
    """Mean firing rate (Hz, over all ``n`` neurons), the mean ISI coefficient
    of variation over the neurons with at least ``min_spikes`` spikes, and
    how many neurons entered that mean."""
    i = np.asarray(i, dtype=np.int64)
    t = np.asarray(t, dtype=float)
    order = np.lexsort((t, i))
    i, t = i[order], t[order]
    counts = np.bincount(i, minlength=n)
    cvs = []
    starts = np.concatenate(([0], np.cumsum(counts)))
    for k in np.flatnonzero(counts >= min_spikes):
        isi = np.diff(t[starts[k]:starts[k + 1]])
        cvs.append(isi.std() / isi.mean())
    return {"rate": len(t) / (n * duration), "cv": float(np.mean(cvs)) if cvs else float("nan"),
            "n_cv": len(cvs)}


def network_statistics(exc_i, exc_t, inh_i, inh_t, duration: float) -> dict:
    """The statistics the test compares, over the whole network (4000 neurons)
    and per population."""
    all_i = np.concatenate([np.asarray(exc_i, np.int64), np.asarray(inh_i, np.int64) + N_EXC])
    all_t = np.concatenate([np.asarray(exc_t, float), np.asarray(inh_t, float)])
    tot = spike_statistics(all_i, all_t, N_EXC + N_INH, duration)
    e = spike_statistics(exc_i, exc_t, N_EXC, duration)
    h = spike_statistics(inh_i, inh_t, N_INH, duration)
    return {"rate": tot["rate"], "cv": tot["cv"], "n_cv": tot["n_cv"],
            "rate_exc": e["rate"], "rate_inh": h["rate"]}


if __name__ == "__main__":  # pragma: no cover - measuring seed-to-seed variability
    import argparse
    import time

    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--target", default="numpy")
    args = ap.parse_args()
    for s in args.seeds:
        t0 = time.time()
        r = run_cuba_brian2(args.duration, s, target=args.target)
        st = network_statistics(r["exc_i"], r["exc_t"], r["inh_i"], r["inh_t"], args.duration)
        print(f"seed {s}: rate {st['rate']:.4f} Hz (exc {st['rate_exc']:.4f}, inh "
              f"{st['rate_inh']:.4f}) cv {st['cv']:.4f} over {st['n_cv']}  "
              f"syn {r['n_syn_e']}+{r['n_syn_i']}  [{time.time() - t0:.1f} s]", flush=True)
