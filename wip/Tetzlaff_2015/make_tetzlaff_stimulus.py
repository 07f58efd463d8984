"""Writes the timed arrays of Brian2's examples/frompapers/Tetzlaff_2015.py as the
script builds them (DT = 0.5 ms, learning trial lt = 5000 DT, 100 trials):
stim_func (one row per DT), learning_phase (one per 0.1 lt), stim_A_gate and
stim_B_gate (one per lt), as 0/1 floats where Brian2's are booleans."""
from pathlib import Path

import numpy as np

here = Path(__file__).parent
DT = 0.5e-3
lt = 5000 * DT
duration = 100 * lt
balanced_until = duration / 2
n_lt = int(round(duration / lt))
balanced = [k * lt < balanced_until for k in range(n_lt)]
stim_func = np.array([100 * (np.sin(0.1 * (i + 1)) + 1) for i in range(int(round(duration / DT)))])
learning_phase = np.array([i % 10 > 3 for i in range(int(round(duration / (0.1 * lt))))], dtype=float)
stim_A_gate = np.array([k % 2 == 0 if balanced[k] else k % 4 in [0, 1, 2] for k in range(n_lt)], dtype=float)
stim_B_gate = np.array([k % 2 == 1 if balanced[k] else k % 4 == 3 for k in range(n_lt)], dtype=float)
np.savez(here / "tetzlaff_stimulus.npz", stim_func=stim_func, learning_phase=learning_phase,
         stim_A_gate=stim_A_gate, stim_B_gate=stim_B_gate)
