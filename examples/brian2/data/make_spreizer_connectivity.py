"""The four landscapes and the connectivity of Spreizer et al. (2019), as
Brian2's example (frompapers/Spreizer_et_al_2019/Spreizer_et_al_2019.py)
computes them in numpy, for examples/brian2/Spreizer_et_al_2019.snn.

Each of the GRID_SIZE**2 neurons of a periodic grid sends NCONN synapses to
the neurons at (x, y) + round(r (cos a, sin a) + R (cos phi, sin phi)): a
uniform angle a, a radius r of +-(3 + Gamma(4, 3 / SCALE_DOWN)) (half of each
sign), shifted by R = 1 towards the neuron's angle phi from the landscape:
uniform at random ("symmetric" and "random": the example draws both alike,
with R = 1), Perlin noise (the example's perlin{SCALE_DOWN}.npy, equalized)
and pi / 6 everywhere ("homog"). The language cannot draw them (a target
`j = ...` may not call rand(), and x and y need the same draws), so they are
data, written here as one network of 4 * GRID_SIZE**2 neurons, the four
landscapes one after the other (neurons k * GRID_SIZE**2 + ...):

    Spreizer_et_al_2019.npz: pairs (n, 2) int32 (i, j) rows in Brian2's
    order of creation; phi (4 * GRID_SIZE**2,) the landscapes.

The draws are the example's: numpy seeded with 8 (b2.seed(8)), then for each
landscape in its order its angles and its connections, so the symmetric
network is the example's exactly (the example's later ones also follow the
numpy numbers its simulations drew in between).

    python make_spreizer_connectivity.py [SCALE_DOWN]    # 5 (default) to 1
"""
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
LANDSCAPES = ["symmetric", "random", "perlin", "homog"]


def round_to_even(gs, scaler):
    rounded = round(gs / scaler)
    if rounded % 2:
        rounded += 1
    return int(rounded)


def make(scale_down: int = 5, seed: int = 8):
    grid = round_to_even(100, scale_down)
    nconn = round_to_even(1000, scale_down ** 2)
    theta, kappa, gap, R, phi_h = 3 / scale_down, 4, 3, 1.0, np.pi / 6
    np.random.seed(seed)

    def landscape(kind):
        if kind == "perlin":
            return np.load(HERE / f"Spreizer_et_al_2019_perlin{scale_down}.npy")
        if kind == "homog":
            return np.ones(grid ** 2) * phi_h
        return np.random.uniform(0, 2 * np.pi, size=grid ** 2)

    def draw_post(phi):
        alpha = np.random.uniform(-np.pi, np.pi, nconn)
        radius = np.concatenate([-np.random.gamma(shape=kappa, scale=theta, size=int(nconn // 2)),
                                 +np.random.gamma(shape=kappa, scale=theta, size=nconn - int(nconn // 2))])
        radius[radius < 0] -= gap
        radius[radius >= 0] += gap
        x, y = radius * np.cos(alpha), radius * np.sin(alpha)
        x += R * np.cos(phi)
        y += R * np.sin(phi)
        self_link = x ** 2 + y ** 2 < 1e-3 ** 2
        coords = np.array([x[~self_link], y[~self_link]]).T
        return np.round(coords).astype(int)

    pairs, phis = [], []
    for k, kind in enumerate(LANDSCAPES):
        phi = landscape(kind)
        phis.append(phi)
        for s in range(grid ** 2):
            sy, sx = divmod(s, grid)
            rel = draw_post(phi[s])
            x, y = (rel[:, 0] + sx) % grid, (rel[:, 1] + sy) % grid
            t = y * grid + x
            pairs.append(np.column_stack([np.full(len(t), s), t]) + k * grid ** 2)
    return np.concatenate(pairs).astype(np.int32), np.concatenate(phis)


if __name__ == "__main__":
    scale_down = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    pairs, phi = make(scale_down)
    out = HERE / ("Spreizer_et_al_2019.npz" if scale_down == 5 else f"Spreizer_et_al_2019_{scale_down}.npz")
    np.savez(out, pairs=pairs, phi=phi)
    print(f"wrote {out}: {len(pairs)} synapses")
