"""Brian2 references for neuron groups: tests/e2e/models/lif_delays.snn and
tests/e2e/models/integrate_<method>.snn.

Everything is deterministic (fixed input spikes, no random numbers), so snndsl must
agree with these up to floating point.  The constants here must stay equal to the ones
written in the ``.snn`` files.

Besides the Brian2 runs, ``integrate_numpy`` integrates the same systems with an
independent numpy implementation of each method's textbook formula (and, for
``exact``, an eigen-decomposition of the linear system): the tests use it to check the
references themselves and to size the tolerances (see the test module).
"""

from __future__ import annotations

import numpy as np

DT = 0.1e-3

# --- lif_delays.snn ---------------------------------------------------------------
N_IN = 5
N_G = 20
N_H = 4
LIF_DURATION = 0.120
TAU_M = 10e-3
TAU_Z = 3e-3
V_REST = -70e-3
V_TH = -54e-3
V_RESET = -65e-3
HOM_DELAY = 1.53e-3
N_MON_G = 8  # monitor vG: G.v[0:8]


def make_lif_delays_inputs(seed: int = 7, dt: float = DT,
                           duration: float = LIF_DURATION) -> dict:
    """Fixed input spikes of ``inp[5]``: 60 Hz Poisson trains per neuron plus
    volleys in which all five neurons fire in the same step (so many synapses hit
    the same target neuron in one step, with both delays).

    Every spike lies at ``(step + u) * dt`` with ``u`` in [0.05, 0.95]; at most one
    spike per neuron and step.  Returned unsorted (by neuron, then volleys), as
    Brian2's SpikeGeneratorGroup accepts: ``in_i`` int64, ``in_t`` float64 seconds.
    """
    rng = np.random.default_rng(seed)
    n_steps = int(round(duration / dt))
    idx, steps = [], []
    for k in range(N_IN):
        n = rng.poisson(60.0 * duration)
        s = rng.integers(0, n_steps - 30, size=n)
        idx.append(np.full(n, k))
        steps.append(s)
    for t_volley in (0.010, 0.031, 0.052, 0.0735, 0.094):
        s = int(t_volley / dt)
        idx.append(np.arange(N_IN))
        steps.append(np.full(N_IN, s))
    idx = np.concatenate(idx).astype(np.int64)
    steps = np.concatenate(steps).astype(np.int64)
    _, first = np.unique(idx * (n_steps + 1) + steps, return_index=True)
    first = np.sort(first)
    idx, steps = idx[first], steps[first]
    u = rng.uniform(0.05, 0.95, size=len(steps))
    return {"in_i": idx, "in_t": ((steps + u) * dt).astype(np.float64)}


def het_delay_expr() -> str:
    """S_het's per-synapse delay, as written in lif_delays.snn (Brian2 syntax)."""
    return "(0.137 + 0.24 * ((i * 7 + j * 3) % 11)) * ms"


def run_lif_delays_brian2(in_i, in_t, dt: float = DT,
                          duration: float = LIF_DURATION) -> dict:
    """Run lif_delays.snn's network in Brian2 (numpy target).

    Returns numpy arrays (SI units): ``vG_t``, ``vG_values`` (n_times, 8),
    ``vH_t``, ``vH_values``, ``zH_values`` (n_times, 4), ``spkG_i``, ``spkG_t``,
    ``spkH_i``, ``spkH_t``, ``spkIn_i``, ``spkIn_t``, ``het_delay`` (per synapse of
    S_het, seconds), ``het_i``, ``het_j``, ``hom_n``, ``het_n`` (synapse counts),
    ``nspk`` (H's counters at the end), ``t_end``.
    """
    from brian2 import (Network, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor,
                        StateMonitor, Synapses, defaultclock, ms, mV, prefs, second,
                        start_scope)

    prefs.codegen.target = "numpy"
    start_scope()
    defaultclock.dt = dt * second
    ns = {"tau_m": TAU_M * second, "tau_z": TAU_Z * second, "v_rest": V_REST * 1e3 * mV,
          "v_th": V_TH * 1e3 * mV, "v_reset": V_RESET * 1e3 * mV}

    inp = SpikeGeneratorGroup(N_IN, np.asarray(in_i), np.asarray(in_t) * second,
                              name="inp")
    G = NeuronGroup(
        N_G,
        """
        dv/dt = (v_rest - v + I) / tau_m : volt (unless refractory)
        I : volt (constant)
        """,
        threshold="v > v_th", reset="v = v_reset", refractory=2 * ms,
        method="exact", namespace=ns, name="G")
    G.v = "v_rest + i * 0.4*mV"
    G.I = "int(i < 4) * (24*mV + i * 3*mV) + int(i >= 4) * (8*mV + i * 0.25*mV)"

    H = NeuronGroup(
        N_H,
        """
        dv/dt = (v_rest - v + I) / tau_m : volt (unless refractory)
        dz/dt = -z / tau_z : 1
        I : volt (constant)
        nspk : integer
        """,
        threshold="v > v_th",
        # Brian2 has no if/else in abstract code: the .snn reset
        #   nspk += 1; z = 1; if nspk % 2 == 0: v = v_reset else: v = v_reset - 5 mV
        reset="""
        nspk += 1
        z = 1
        v = v_reset - 5*mV * int(nspk % 2 != 0)
        """,
        refractory="z > 0.4", method="exact", namespace=ns, name="H")
    H.v = "v_rest"
    H.I = "20*mV + i * 4*mV"

    S_hom = Synapses(inp, G, "w : volt", on_pre="v_post += w", delay=HOM_DELAY * second,
                     namespace=ns, name="S_hom")
    S_hom.connect()
    S_hom.w = "(1 + (i * 5 + j * 3) % 7) * 0.35*mV"

    S_het = Synapses(inp, G, "w : volt", on_pre="v_post += w", namespace=ns,
                     name="S_het")
    S_het.connect("(i + j) % 2 == 0")
    S_het.delay = het_delay_expr()
    S_het.w = "(2 + (i * 3 + j) % 5) * 0.4*mV"

    vG = StateMonitor(G, "v", record=np.arange(N_MON_G), name="vG")
    vH = StateMonitor(H, ["v", "z"], record=True, name="vH")
    spkG = SpikeMonitor(G, name="spkG")
    spkH = SpikeMonitor(H, name="spkH")
    spkIn = SpikeMonitor(inp, name="spkIn")

    net = Network(inp, G, H, S_hom, S_het, vG, vH, spkG, spkH, spkIn)
    net.run(duration * second, namespace=ns)

    return {
        "vG_t": np.array(vG.t_[:], dtype=float),
        "vG_values": np.array(vG.v_[:], dtype=float).T.copy(),
        "vH_t": np.array(vH.t_[:], dtype=float),
        "vH_values": np.array(vH.v_[:], dtype=float).T.copy(),
        "zH_values": np.array(vH.z_[:], dtype=float).T.copy(),
        "spkG_i": np.array(spkG.i[:], dtype=np.int64),
        "spkG_t": np.array(spkG.t_[:], dtype=float),
        "spkH_i": np.array(spkH.i[:], dtype=np.int64),
        "spkH_t": np.array(spkH.t_[:], dtype=float),
        "spkIn_i": np.array(spkIn.i[:], dtype=np.int64),
        "spkIn_t": np.array(spkIn.t_[:], dtype=float),
        "het_delay": np.array(S_het.delay_[:], dtype=float),
        "het_i": np.array(S_het.i[:], dtype=np.int64),
        "het_j": np.array(S_het.j[:], dtype=np.int64),
        "hom_n": len(S_hom),
        "het_n": len(S_het),
        "nspk": np.array(H.nspk[:], dtype=np.int64),
        "t_end": float(net.t_),
    }


# --- integrate_<method>.snn ---------------------------------------------------------
#: per method: (N, duration in seconds, monitored variables in the order of the
#: .snn's monitors).  The models are described in integrate_model().
INTEGRATE_METHODS = ("exact", "euler", "rk2", "rk4", "exponential_euler")
INTEGRATE_DURATION = 0.050

# constants (SI), equal to the .snn files
EXACT = {"tau_m": 10e-3, "tau_e": 3e-3, "tau_i": 7e-3, "v_rest": -70e-3}
EULER = {"a": 0.02, "b": 0.2, "c": -65e-3, "d": 8e-3}            # Izhikevich (ms, mV)
RK2 = {"tau": 2e-3, "eps": 0.08, "a": 0.7, "b": 0.8, "omega": 300.0, "I0": 0.5}
RK4 = {"tau": 1.5e-3, "mu": 2.0, "omega": 250.0, "A": 1.2}          # Van der Pol
EXPEULER = {"tau_m": 5e-3, "tau_n": 4e-3, "E_L": -65e-3, "E_K": -90e-3, "g_K": 4.0,
            "v_half": -50e-3, "k_n": 5e-3, "I0": 30e-3, "omega": 400.0}


def integrate_model(method: str) -> dict:
    """The Brian2 description of integrate_<method>.snn: equations (Brian2 syntax),
    namespace (with units), initial values (expressions of ``i``), N, the monitored
    variables, and optional threshold/reset."""
    from brian2 import Hz, ms, mV, second

    if method == "exact":
        # linear coupled system: v driven by ge and gi that decay
        c = EXACT
        return dict(
            eqs="""
            dv/dt = (v_rest - v + ge - gi) / tau_m : volt
            dge/dt = -ge / tau_e : volt
            dgi/dt = -gi / tau_i : volt
            """,
            ns={"tau_m": c["tau_m"] * second, "tau_e": c["tau_e"] * second,
                "tau_i": c["tau_i"] * second, "v_rest": c["v_rest"] * 1e3 * mV},
            init={"v": "v_rest + i * 2*mV", "ge": "(10 + 5 * i) * mV", "gi": "(4 + 3 * i) * mV"},
            N=3, variables=("v", "ge", "gi"), threshold=None, reset=None)
    if method == "euler":
        # Izhikevich neuron (nonlinear), with threshold and reset
        c = EULER
        return dict(
            eqs="""
            dv/dt = (0.04 * v**2 / mV + 5 * v + 140 * mV - u + I) / ms : volt
            du/dt = a * (b * v - u) / ms : volt
            I : volt (constant)
            """,
            ns={"a": c["a"], "b": c["b"], "c_reset": c["c"] * 1e3 * mV, "d": c["d"] * 1e3 * mV},
            init={"v": "-65*mV", "u": "0.2 * -65*mV", "I": "(4 + 3 * i) * mV"},
            N=4, variables=("v", "u"), threshold="v >= 30*mV", reset="v = c_reset\nu += d")
    if method == "rk2":
        # FitzHugh-Nagumo with a time-dependent drive (exercises t + dt/2)
        c = RK2
        return dict(
            eqs="""
            dx/dt = (x - x**3 / 3 - y + I0 * (1 + sin(omega * t))) / tau : 1
            dy/dt = eps * (x + a - b * y) / tau : 1
            """,
            ns={"tau": c["tau"] * second, "eps": c["eps"], "a": c["a"], "b": c["b"],
                "omega": c["omega"] * Hz, "I0": c["I0"]},
            init={"x": "-1 + 0.5 * i", "y": "-0.5 + 0.25 * i"},
            N=3, variables=("x", "y"), threshold=None, reset=None)
    if method == "rk4":
        # forced Van der Pol oscillator, with a subexpression depending on t
        c = RK4
        return dict(
            eqs="""
            dx/dt = y / tau : 1
            dy/dt = (mu * (1 - x**2) * y - x + drive) / tau : 1
            drive = A * sin(omega * t) : 1
            """,
            ns={"tau": c["tau"] * second, "mu": c["mu"], "omega": c["omega"] * Hz,
                "A": c["A"]},
            init={"x": "0.5 + 0.5 * i", "y": "-0.3 * i"},
            N=3, variables=("x", "y"), threshold=None, reset=None)
    if method == "exponential_euler":
        # conditionally linear (Hodgkin-Huxley-like potassium current); A never 0
        c = EXPEULER
        return dict(
            eqs="""
            dv/dt = (E_L - v + g_K * n**4 * (E_K - v) + I0 * (1 + sin(omega * t))) / tau_m : volt
            dn/dt = (n_inf - n) / tau_n : 1
            n_inf = 1 / (1 + exp(-(v - v_half) / k_n)) : 1
            """,
            ns={"tau_m": c["tau_m"] * second, "tau_n": c["tau_n"] * second,
                "E_L": c["E_L"] * 1e3 * mV, "E_K": c["E_K"] * 1e3 * mV, "g_K": c["g_K"],
                "v_half": c["v_half"] * 1e3 * mV, "k_n": c["k_n"] * 1e3 * mV,
                "I0": c["I0"] * 1e3 * mV, "omega": c["omega"] * Hz},
            init={"v": "-65*mV + i * 5*mV", "n": "0.1 + 0.1 * i"},
            N=3, variables=("v", "n"), threshold=None, reset=None)
    raise ValueError(method)


def run_integrate_brian2(method: str, dt: float = DT,
                         duration: float = INTEGRATE_DURATION) -> dict:
    """Run integrate_<method>.snn's group in Brian2 (numpy target) with a state
    monitor on every step.  Returns ``t`` and, per monitored variable ``X``,
    ``X`` as (n_times, N) SI values; ``spike_i``/``spike_t`` where there is a
    threshold; ``abstract_code`` (the state updater's, for inspection)."""
    from brian2 import (Network, NeuronGroup, SpikeMonitor, StateMonitor, defaultclock,
                        prefs, second, start_scope)

    prefs.codegen.target = "numpy"
    start_scope()
    defaultclock.dt = dt * second
    m = integrate_model(method)
    kw = {}
    if m["threshold"] is not None:
        kw = {"threshold": m["threshold"], "reset": m["reset"]}
    G = NeuronGroup(m["N"], m["eqs"], method=method, namespace=m["ns"], name="G", **kw)
    for var, expr in m["init"].items():
        setattr(G, var, expr)
    mon = StateMonitor(G, list(m["variables"]), record=True, name="mon")
    objs = [G, mon]
    spk = None
    if m["threshold"] is not None:
        spk = SpikeMonitor(G, name="spk")
        objs.append(spk)
    net = Network(*objs)
    net.run(duration * second, namespace=m["ns"])
    out = {"t": np.array(mon.t_[:], dtype=float),
           "abstract_code": G.state_updater.abstract_code}
    for var in m["variables"]:
        out[var] = np.array(getattr(mon, var + "_")[:], dtype=float).T.copy()
    if spk is not None:
        out["spike_i"] = np.array(spk.i[:], dtype=np.int64)
        out["spike_t"] = np.array(spk.t_[:], dtype=float)
    return out


# --- independent numpy integration (textbook formulas, not Brian2's code) ----------

def _initial(method: str) -> tuple[dict, dict]:
    """Initial state (SI) and constant per-neuron parameters for integrate_numpy."""
    m = integrate_model(method)
    i = np.arange(m["N"], dtype=float)
    if method == "exact":
        c = EXACT
        return {"v": c["v_rest"] + i * 2e-3, "ge": (10 + 5 * i) * 1e-3,
                "gi": (4 + 3 * i) * 1e-3}, {}
    if method == "euler":
        return {"v": np.full(m["N"], -65e-3), "u": np.full(m["N"], 0.2 * -65e-3)}, \
            {"I": (4 + 3 * i) * 1e-3}
    if method == "rk2":
        return {"x": -1 + 0.5 * i, "y": -0.5 + 0.25 * i}, {}
    if method == "rk4":
        return {"x": 0.5 + 0.5 * i, "y": -0.3 * i}, {}
    if method == "exponential_euler":
        return {"v": -65e-3 + i * 5e-3, "n": 0.1 + 0.1 * i}, {}
    raise ValueError(method)


def _f(method: str, s: dict, t: float, p: dict) -> dict:
    """Right-hand sides in SI (per second)."""
    if method == "euler":
        c = EULER
        v, u = s["v"], s["u"]
        # (0.04 v^2/mV + 5 v + 140 mV - u + I) / ms in SI
        return {"v": (0.04 * v ** 2 / 1e-3 + 5 * v + 140e-3 - u + p["I"]) / 1e-3,
                "u": c["a"] * (c["b"] * v - u) / 1e-3}
    if method == "rk2":
        c = RK2
        x, y = s["x"], s["y"]
        return {"x": (x - x ** 3 / 3 - y + c["I0"] * (1 + np.sin(c["omega"] * t))) / c["tau"],
                "y": c["eps"] * (x + c["a"] - c["b"] * y) / c["tau"]}
    if method == "rk4":
        c = RK4
        x, y = s["x"], s["y"]
        drive = c["A"] * np.sin(c["omega"] * t)
        return {"x": y / c["tau"],
                "y": (c["mu"] * (1 - x ** 2) * y - x + drive) / c["tau"]}
    raise ValueError(method)


def integrate_numpy(method: str, dt: float = DT, duration: float = INTEGRATE_DURATION,
                    substeps: int = 1) -> dict:
    """Integrate integrate_<method>.snn's system independently of Brian2.

    ``substeps == 1``: the method's own textbook formula (what snndsl should compute);
    ``substeps > 1``: classical RK4 with ``dt / substeps`` (a high-accuracy solution,
    sampled every ``dt``).  ``exact`` always uses the eigen-decomposition of the
    linear system (exact up to rounding).  Threshold/reset (euler's Izhikevich) are
    applied after each ``dt`` step as Brian2 does.  Returns ``t`` and each variable
    as (n_times, N), values at the start of each step (as a state monitor records).
    """
    s, p = _initial(method)
    names = list(s)
    n_steps = int(round(duration / dt))
    rec = {k: np.empty((n_steps, len(s[k]))) for k in names}
    spikes_i, spikes_t = [], []
    if method == "exact":
        c = EXACT
        M = np.array([[-1 / c["tau_m"], 1 / c["tau_m"], -1 / c["tau_m"]],
                      [0.0, -1 / c["tau_e"], 0.0],
                      [0.0, 0.0, -1 / c["tau_i"]]])
        lam, V = np.linalg.eig(M)
        P = (V @ np.diag(np.exp(lam * dt)) @ np.linalg.inv(V)).real
        x = np.vstack([s["v"] - c["v_rest"], s["ge"], s["gi"]])
        for n in range(n_steps):
            rec["v"][n], rec["ge"][n], rec["gi"][n] = x[0] + c["v_rest"], x[1], x[2]
            x = P @ x
        return {"t": np.arange(n_steps) * dt, **rec}
    for n in range(n_steps):
        t = n * dt
        for k in names:
            rec[k][n] = s[k]
        if method == "exponential_euler" and substeps == 1:
            c = EXPEULER
            v, nn = s["v"], s["n"]
            # dv/dt = A_v v + B_v, dn/dt = A_n n + B_n, both with the OLD values
            A_v = -(1 + c["g_K"] * nn ** 4) / c["tau_m"]
            B_v = (c["E_L"] + c["g_K"] * nn ** 4 * c["E_K"]
                   + c["I0"] * (1 + np.sin(c["omega"] * t))) / c["tau_m"]
            n_inf = 1 / (1 + np.exp(-(v - c["v_half"]) / c["k_n"]))
            A_n = -1 / c["tau_n"]
            B_n = n_inf / c["tau_n"]
            s = {"v": (v + B_v / A_v) * np.exp(A_v * dt) - B_v / A_v,
                 "n": (nn + B_n / A_n) * np.exp(A_n * dt) - B_n / A_n}
        elif substeps == 1 and method in ("euler", "rk2", "rk4"):
            s = _step(method, s, t, dt, p)
        else:
            h = dt / substeps
            for k in range(substeps):
                s = _step("rk4", s, t + k * h, h, p, system=method)
        if method == "euler":  # Izhikevich threshold and reset
            c = EULER
            fired = np.nonzero(s["v"] >= 30e-3)[0]
            for k in fired:
                spikes_i.append(k)
                spikes_t.append(t)
            s["v"] = np.where(s["v"] >= 30e-3, c["c"], s["v"])
            s["u"] = s["u"] + np.isin(np.arange(len(s["u"])), fired) * c["d"]
    out = {"t": np.arange(n_steps) * dt, **rec}
    if method == "euler":
        out["spike_i"] = np.array(spikes_i, dtype=np.int64)
        out["spike_t"] = np.array(spikes_t, dtype=float)
    return out


def _rhs(system: str, s: dict, t: float, p: dict) -> dict:
    if system == "exponential_euler":
        c = EXPEULER
        v, nn = s["v"], s["n"]
        n_inf = 1 / (1 + np.exp(-(v - c["v_half"]) / c["k_n"]))
        return {"v": (c["E_L"] - v + c["g_K"] * nn ** 4 * (c["E_K"] - v)
                      + c["I0"] * (1 + np.sin(c["omega"] * t))) / c["tau_m"],
                "n": (n_inf - nn) / c["tau_n"]}
    return _f(system, s, t, p)


def _step(method: str, s: dict, t: float, h: float, p: dict, system: str | None = None):
    system = system or method

    def f(state, tt):
        return _rhs(system, state, tt, p)

    def add(a, b, k):
        return {n: a[n] + k * b[n] for n in a}

    if method == "euler":
        k1 = f(s, t)
        return add(s, k1, h)
    if method == "rk2":
        k1 = {n: h * d for n, d in f(s, t).items()}
        mid = add(s, k1, 0.5)
        return add(s, f(mid, t + h / 2), h)
    if method == "rk4":
        k1 = {n: h * d for n, d in f(s, t).items()}
        k2 = {n: h * d for n, d in f(add(s, k1, 0.5), t + h / 2).items()}
        k3 = {n: h * d for n, d in f(add(s, k2, 0.5), t + h / 2).items()}
        k4 = {n: h * d for n, d in f(add(s, k3, 1.0), t + h).items()}
        return {n: s[n] + (k1[n] + 2 * k2[n] + 2 * k3[n] + k4[n]) / 6 for n in s}
    raise ValueError(method)


if __name__ == "__main__":  # pragma: no cover - manual inspection
    inputs = make_lif_delays_inputs()
    ref = run_lif_delays_brian2(**inputs)
    print("input spikes", len(inputs["in_i"]), "G spikes", len(ref["spkG_i"]),
          "per neuron", np.bincount(ref["spkG_i"], minlength=N_G))
    print("H spikes", np.bincount(ref["spkH_i"], minlength=N_H), "nspk", ref["nspk"])
    print("het delays (steps)", np.unique(np.round(ref["het_delay"] / DT, 3)))
    for meth in INTEGRATE_METHODS:
        b = run_integrate_brian2(meth)
        mine = integrate_numpy(meth)
        fine = integrate_numpy(meth, substeps=50)
        for var in integrate_model(meth)["variables"]:
            scale = np.max(np.abs(b[var]))
            print(f"{meth:18s} {var:3s} brian2 vs same-formula numpy "
                  f"{np.max(np.abs(b[var] - mine[var])) / scale:.2e}  "
                  f"vs fine rk4 {np.max(np.abs(b[var] - fine[var])) / scale:.2e}")
