"""The stimulus gates of Brian2's examples/frompapers/Tetzlaff_2015.py, as the
script builds them (DT = 0.5 ms, a learning trial lt = 5000 DT, 100 trials):
learning_phase (one row per 0.1 lt: off for the first 0.4 lt of each trial),
stim_A_gate and stim_B_gate (one row per lt: A and B in turns for the first 50
trials, then A three times as often as B), as 0/1 floats where Brian2's are
booleans. Writes tetzlaff_stimulus.npz beside this file, read by
examples/brian2/Tetzlaff_2015.snn as timed arrays (the stimulus itself, Brian2's
`stim_func`, a table of 100 (sin(0.1 (k + 1)) + 1) per DT, is that formula of
the step in the model; no file):

    python examples/brian2/data/make_tetzlaff_stimulus.py
"""
from pathlib import Path

import numpy as np


def gates(n_trials: int = 100) -> dict[str, np.ndarray]:
    balanced = [k < n_trials / 2 for k in range(n_trials)]
    return {
        "learning_phase": np.array([k % 10 > 3 for k in range(10 * n_trials)], dtype=float),
        "stim_A_gate": np.array([k % 2 == 0 if balanced[k] else k % 4 in (0, 1, 2)
                                 for k in range(n_trials)], dtype=float),
        "stim_B_gate": np.array([k % 2 == 1 if balanced[k] else k % 4 == 3
                                 for k in range(n_trials)], dtype=float),
    }


if __name__ == "__main__":
    out = Path(__file__).with_name("tetzlaff_stimulus.npz")
    np.savez(out, **gates())
    print(f"wrote {out}")
