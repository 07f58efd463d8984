"""The C runtime's random numbers, bit for bit, in Python (runtime_c/snn_runtime.{h,c}).

xoshiro256** (Blackman & Vigna) seeded through splitmix64, one generator per
stream number: `snn_rng_seed(seed, stream)`, `snn_rng_uniform` (53 random
bits), `snn_rng_normal` (Marsaglia's polar method; the second deviate is
discarded, as in the C), `snn_geometric` (steps before the next success
of a Bernoulli process) and `snn_binomial_*` (`Binomial`). The reference backend draws every random number
through `Streams`, so the stream a draw comes from is named in one place.
"""
from __future__ import annotations

import math

import numpy as np

from snndsl.reference import ziggurat

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

    def choose(self, n: int, k: int) -> list[int]:
        """snn_choose: k distinct numbers of 0 .. n - 1 in increasing order
        (Floyd's algorithm, k draws)."""
        chosen: set[int] = set()
        for t in range(n - k, n):
            r = int(self.uniform() * float(t + 1))
            chosen.add(t if r in chosen else r)
        return sorted(chosen)

    def state(self) -> tuple[int, ...]:
        return tuple(self.s)


_STIRLING_TAIL = (0.08106146679532726, 0.0413406959554093, 0.02767792568499834, 0.020790672103765093,
                  0.016644691189821193, 0.013876128823070748, 0.01189670994589177, 0.010411265261972096,
                  0.009255462182712733, 0.00833056343336287)


def _stirling_tail(k: float) -> float:
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


class Binomial:
    """snn_binomial_prepare / snn_binomial_draw: exact Binomial(n, p) deviates,
    by inversion when n min(p, 1 - p) < 10, else by BTRS, operation for
    operation as the C (math's log, exp and sqrt are the C library's)."""

    def __init__(self, n: int, p: float):
        self.n = n
        self.flip = p > 0.5
        P = 1.0 - p if self.flip else p
        q = 1.0 - P
        self.P, self.q = P, q
        self.rejection = not float(n) * P < 10
        if not self.rejection:
            self.qn = math.exp(float(n) * math.log(q))
            self.bound = min(float(n), float(n) * P + 10.0 * math.sqrt(float(n) * P * q + 1))
            return
        spq = math.sqrt(float(n) * P * q)
        self.b = 1.15 + 2.53 * spq
        self.a = -0.0873 + 0.0248 * self.b + 0.01 * P
        self.c = float(n) * P + 0.5
        self.vr = 0.92 - 4.2 / self.b
        self.alpha = (2.83 + 5.1 / self.b) * spq
        self.r = P / q
        self.m = float(math.floor(float(n + 1) * P))
        self.h = _stirling_tail(self.m) + _stirling_tail(float(n) - self.m)

    def draw_each(self, keyed: "Keyed") -> np.ndarray:
        """One deviate for each element of `keyed`, from its own generator: by
        inversion for all of them at once (each element's operations and
        draws are those of `draw`, in its order: +, -, * and / round alike in
        numpy and Python); by BTRS, which calls the C library's log, one
        element at a time."""
        count = len(keyed.calls)
        if self.n <= 0 or not self.P > 0:
            return np.full(count, self.n if self.flip else 0, dtype=np.int64)
        if self.rejection:  # the numbers of each try for all elements that still try; the test one by one
            k = np.zeros(count, dtype=np.int64)
            trying = np.arange(count)
            while len(trying):
                us, vs = keyed.uniform(trying) - 0.5, keyed.uniform(trying)
                tries = [self._btrs_try(float(u), float(v)) for u, v in zip(us, vs)]
                done = np.array([kf is not None for kf in tries], dtype=bool)
                k[trying[done]] = [int(kf) for kf in tries if kf is not None]
                trying = trying[~done]
            return self.n - k if self.flip else k
        n, P, q, qn, bound = float(self.n), self.P, self.q, self.qn, self.bound
        x = np.zeros(count)
        px = np.full(count, qn)
        u = keyed.uniform(np.arange(count))
        active = np.flatnonzero(u > px)
        while len(active):
            x[active] += 1
            over = x[active] > bound
            again = active[over]
            if len(again):  # past the bound: start again with a new number
                x[again], px[again], u[again] = 0.0, qn, keyed.uniform(again)
            go = active[~over]
            u[go] -= px[go]
            px[go] = ((n - x[go] + 1.0) * P * px[go]) / (x[go] * q)
            active = active[u[active] > px[active]]
        k = x.astype(np.int64)
        return self.n - k if self.flip else k

    def draw(self, rng: "Rng") -> int:
        n = self.n
        if n <= 0 or not self.P > 0:
            return n if self.flip else 0
        if not self.rejection:
            x, px, u = 0, self.qn, rng.uniform()
            while u > px:
                x += 1
                if float(x) > self.bound:
                    x, px, u = 0, self.qn, rng.uniform()
                else:
                    u -= px
                    px = (float(n - x + 1) * self.P * px) / (float(x) * self.q)
            k = x
        else:
            while True:
                kf = self._btrs_try(rng.uniform() - 0.5, rng.uniform())
                if kf is not None:
                    break
            k = int(kf)
        return n - k if self.flip else k

    def _btrs_try(self, u: float, v: float) -> float | None:
        """One try of BTRS with the uniform numbers u - 0.5 and v: the deviate,
        or None where it is rejected."""
        nd, m, a, b = float(self.n), self.m, self.a, self.b
        us = 0.5 - abs(u)
        if us <= 0:
            return None
        kf = float(math.floor((2 * a / us + b) * u + self.c))
        if kf < 0 or kf > nd:
            return None
        if us >= 0.07 and v <= self.vr:
            return kf
        w = v * self.alpha / (a / (us * us) + b)
        lv = math.log(w) if w > 0 else -math.inf
        bound = ((m + 0.5) * math.log((m + 1) / (self.r * (nd - m + 1)))
                 + (nd + 1) * math.log((nd - m + 1) / (nd - kf + 1))
                 + (kf + 0.5) * math.log(self.r * (nd - kf + 1) / (kf + 1))
                 + self.h - _stirling_tail(kf) - _stirling_tail(nd - kf))
        return kf if lv <= bound else None


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


# ---- counter-based: Philox4x32-10, the time step's generator (runtime_c/snn_runtime.h) ----------

M32 = 0xFFFFFFFF
_KI = np.array(ziggurat.KI, dtype=np.uint64)
_WI = np.array(ziggurat.WI, dtype=np.float64)
PARTS = 4  # a site is a stream number times PARTS plus a part (codegen/view.py's SITE_*)


def philox4x32(c: list, k0, k1) -> list:
    """snn_philox4x32 on numpy uint64 arrays (or ints) holding 32-bit words."""
    c0, c1, c2, c3 = c
    for r in range(10):
        if r:
            k0 = (k0 + 0x9E3779B9) & M32
            k1 = (k1 + 0xBB67AE85) & M32
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & M32, (p0 >> 32) ^ c3 ^ k1, p0 & M32
    return [c0, c1, c2, c3]


class Keyed:
    """snn_ctr_at / snn_ctr_uniform / snn_ctr_normal for many elements at once:
    the generators of the elements `elements` (their indices) of the code
    `site` in step `step`. Draws take positions into `elements`; each
    element keeps its own count of calls and its spare number, as each
    element's `snn_ctr` does in the C."""

    def __init__(self, seed: int, site: int, step: int, elements: np.ndarray):
        e = np.asarray(elements, dtype=np.int64).astype(np.uint64)
        t = np.uint64(step)
        self.k0, self.k1 = np.uint64(seed & M32), np.uint64((seed >> 32) & M32)
        self.hi = ((e >> np.uint64(32)) & np.uint64(0xFF)) << np.uint64(24)
        self.c1 = e & np.uint64(M32)
        self.c2 = t & np.uint64(M32)
        self.c3 = ((t >> np.uint64(32)) & np.uint64(0xFFFF)) | (np.uint64(site) << np.uint64(16))
        self.calls = np.zeros(len(e), dtype=np.uint64)
        self.spare = np.zeros(len(e), dtype=np.uint64)
        self.has_spare = np.zeros(len(e), dtype=bool)

    def bits(self, sel) -> np.ndarray:
        """snn_ctr_bits: the next 64 random bits of each element at `sel`."""
        sel = np.asarray(sel, dtype=np.int64)
        out = np.empty(len(sel), dtype=np.uint64)
        spare = self.has_spare[sel]
        out[spare] = self.spare[sel[spare]]
        fresh = sel[~spare]
        if len(fresh):
            c = philox4x32([self.hi[fresh] | self.calls[fresh], self.c1[fresh],
                            np.broadcast_to(self.c2, fresh.shape), np.broadcast_to(self.c3, fresh.shape)],
                           self.k0, self.k1)
            out[~spare] = (c[0] << np.uint64(32)) | c[1]
            self.spare[fresh] = (c[2] << np.uint64(32)) | c[3]
            self.calls[fresh] += np.uint64(1)
        self.has_spare[sel] = ~spare
        return out

    def uniform(self, sel) -> np.ndarray:
        return (self.bits(sel) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53

    def normal(self, sel) -> np.ndarray:
        """snn_ctr_normal, the ziggurat: the layer, sign and magnitude from 64
        bits, accepted at once for most elements (with numpy); the others one
        by one, as snn_ctr_normal_slow (with math's exp and log1p, the C
        library's)."""
        sel = np.asarray(sel, dtype=np.int64)
        bits = self.bits(sel)
        layer = (bits & np.uint64(0xFF)).astype(np.int64)
        rabs = (bits >> np.uint64(9)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = rabs.astype(np.float64) * _WI[layer]
        out = np.where((bits >> np.uint64(8)) & np.uint64(1), -x, x)
        for k in np.flatnonzero(~(rabs < _KI[layer])):
            out[k] = self._normal_slow(int(sel[k]), int(bits[k]))
        return out

    def _normal_slow(self, pos: int, bits: int) -> float:
        one = KeyedOne(self, pos)
        while True:
            layer, rabs = bits & 0xFF, (bits >> 9) & 0x000FFFFFFFFFFFFF
            x = float(rabs) * ziggurat.WI[layer]
            if (bits >> 8) & 1:
                x = -x
            if rabs < ziggurat.KI[layer]:
                return x
            if layer == 0:  # the tail
                while True:
                    xx = -(1.0 / ziggurat.R) * math.log1p(-one.uniform())
                    yy = -math.log1p(-one.uniform())
                    if yy + yy > xx * xx:
                        return -(ziggurat.R + xx) if (rabs >> 8) & 1 else ziggurat.R + xx
            if (ziggurat.FI[layer - 1] - ziggurat.FI[layer]) * one.uniform() + ziggurat.FI[layer] \
                    < math.exp(-0.5 * x * x):
                return x
            bits = int(self.bits(np.array([pos]))[0])

    def one(self, pos: int) -> "KeyedOne":
        """The generator of the element at `pos`, for code drawing one number
        at a time (Binomial.draw, geometric)."""
        return KeyedOne(self, pos)


class KeyedOne:
    __slots__ = ("keyed", "sel")

    def __init__(self, keyed: Keyed, pos: int):
        self.keyed, self.sel = keyed, np.array([pos])

    def uniform(self) -> float:
        return float(self.keyed.uniform(self.sel)[0])

    def normal(self) -> float:
        return float(self.keyed.normal(self.sel)[0])

    def geometric(self, p: float) -> int:
        return Rng.geometric(self, p)
