"""The C runtime's random numbers, bit for bit, in Python (runtime_c/snn_runtime.{h,c}).

xoshiro256** (Blackman & Vigna) seeded through splitmix64, one generator per
stream number: `snn_rng_seed(seed, stream)`, `snn_rng_uniform` (53 random
bits), `snn_rng_normal` (Marsaglia's polar method; the second deviate is
discarded, as in the C) and `snn_geometric` (steps before the next success
of a Bernoulli process). The reference backend draws every random number
through `Streams`, so the stream a draw comes from is named in one place.
"""
from __future__ import annotations

import math

MASK = (1 << 64) - 1
# SNN_STEPS_NEVER (runtime_c/snn_support.h): past every step a simulation reaches
STEPS_NEVER = 1 << 54


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK


def splitmix64(x: int) -> tuple[int, int]:
    """(the next state, the output) of splitmix64 from state `x`."""
    x = (x + 0x9E3779B97F4A7C15) & MASK
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return x, z ^ (z >> 31)


def steps(n: float) -> int:
    """snn_steps: a number of steps (a double) truncated toward zero, clamped to
    +-STEPS_NEVER; nan reads as +STEPS_NEVER."""
    if not n < STEPS_NEVER:  # nan too
        return STEPS_NEVER
    if not n > -STEPS_NEVER:
        return -STEPS_NEVER
    return int(n)


class Rng:
    """One xoshiro256** generator, seeded as `snn_rng_seed(seed, stream)`."""

    __slots__ = ("s",)

    def __init__(self, seed: int, stream: int):
        a, b = seed & MASK, (stream ^ 0x6A09E667F3BCC909) & MASK
        s = []
        for _ in range(4):
            a, x = splitmix64(a)
            b, y = splitmix64(b)
            s.append(x ^ _rotl(y, 32))
        if not any(s):
            s[0] = 1  # the all-zero state is the one xoshiro cannot leave
        self.s = s

    def next(self) -> int:
        s = self.s
        result = (_rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def uniform(self) -> float:
        """[0, 1) with 53 random bits (exact: an integer times 2**-53)."""
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self) -> float:
        while True:
            u = 2.0 * self.uniform() - 1.0
            v = 2.0 * self.uniform() - 1.0
            s = u * u + v * v
            if not (s >= 1.0 or s == 0.0):
                return u * math.sqrt(-2.0 * math.log(s) / s)

    def geometric(self, p: float) -> int:
        """snn_geometric: 0 when p >= 1, STEPS_NEVER when p <= 0 (or nan)."""
        if p >= 1:
            return 0
        if not p > 0:
            return STEPS_NEVER
        u = self.uniform()
        return steps(math.floor(math.log1p(-u) / math.log1p(-p)))

    def state(self) -> tuple[int, ...]:
        return tuple(self.s)


class Streams:
    """The random streams of one simulation: stream k is `Rng(seed, k)`,
    made when first drawn from (as the C seeds every stream at setup)."""

    def __init__(self, seed: int):
        self.seed = seed
        self._rngs: dict[int, Rng] = {}

    def __getitem__(self, k: int) -> Rng:
        rng = self._rngs.get(k)
        if rng is None:
            rng = self._rngs[k] = Rng(self.seed, k)
        return rng
