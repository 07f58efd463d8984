"""The random input of Brian2's Jansen & Rit (1995) example: 70000 numbers
uniform in [0, 1), one per 2 ms (Brian2 draws them unseeded, with numpy's
rnd.rand). Writes jansen_rit_noise.npy beside this file, read by
examples/brian2/Jansen_Rit_1995_single_column.snn as a timed array; numpy's
legacy generator is seeded with 1995, so the file is the same on every run:

    python examples/brian2/data/make_jansen_rit_noise.py
"""
from pathlib import Path

import numpy as np


def noise(seed: int = 1995, n: int = 70000) -> np.ndarray:
    return np.random.RandomState(seed).rand(n)


if __name__ == "__main__":
    out = Path(__file__).with_name("jansen_rit_noise.npy")
    np.save(out, noise())
    print(f"wrote {out}")
