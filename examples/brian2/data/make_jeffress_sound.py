"""The white-noise sound of Brian2's Jeffress example, `10 * randn(50000)`
sampled every 0.02 ms (one second), as float32. Writes jeffress_sound.npy
beside this file, read by examples/brian2/jeffress.snn as a timed array. The
values come from numpy's generator seeded with 1949 (Jeffress's model is from
1948), so the file is the same on every run:

    python examples/brian2/data/make_jeffress_sound.py
"""
from pathlib import Path

import numpy as np


def sound(seed: int = 1949, n: int = 50000) -> np.ndarray:
    return (10 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


if __name__ == "__main__":
    out = Path(__file__).with_name("jeffress_sound.npy")
    np.save(out, sound())
    print(f"wrote {out}")
