"""The surface wave of Sturzl et al. (2000), as Brian2's example computes it:
a sum of cosines from 150 to 450 Hz, Gaussian weights around 300 Hz and
random phases, sampled every 0.1 ms for 500 ms (5001 values), scaled to
0.01 of the peak weight. Writes sturzl_wave.npy beside this file, read by
examples/brian2/Sturzl_et_al_2000.snn as a timed array. The phases come from
numpy's generator seeded with 2000, so the file is the same on every run:

    python examples/brian2/data/make_sturzl_wave.py
"""
from pathlib import Path

import numpy as np


def wave(seed: int = 2000, dt: float = 1e-4, duration: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    time = np.arange(int(round(duration / dt)) + 1) * dt
    total, weights = np.zeros_like(time), 0.0
    for f in np.arange(150, 451):
        weight = np.exp(-(f - 300) ** 2 / (2 * 50 ** 2))
        total += 100 * weight * np.cos(2 * np.pi * f * time + 2 * np.pi * rng.random())
        weights += weight
    return 0.01 * total / weights


if __name__ == "__main__":
    out = Path(__file__).with_name("sturzl_wave.npy")
    np.save(out, wave())
    print(f"wrote {out}")
