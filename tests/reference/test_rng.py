"""snndsl/reference/rng.py against the C runtime's generators, draw for draw:
a small C program linked with runtime_c/snn_runtime.c prints the draws of
several (seed, stream) pairs in hex, and Python must give the same bits."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from snndsl.reference.interpreter import expm, timestep
from snndsl.reference.rng import STEPS_NEVER, Binomial, Keyed, Rng, Streams

pytestmark = pytest.mark.needs_cc
RUNTIME = Path(__file__).resolve().parents[2] / "runtime_c"

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include "snn_runtime.h"
#include "snn_support.h"

/* inversion and BTRS, either side of p = 1/2, the edges */
static const int64_t binomial_n[] = {1000, 1000, 1000000, 50, 20, 20, 1, 100000, 30, 25, 3000000000LL, 0};
static const double binomial_p[] = {0.002, 0.5, 0.3, 0.99, 1.0, 0.0, 0.5, 1e-4, 0.4, 0.6, 1e-9, 0.5};
#define N_BINOMIAL 12

/* keyed: the time step's generator, element by element */
static int keyed(uint64_t seed, uint32_t site, int64_t step)
{
    for (int64_t e = 0; e < 20000; e++) {
        snn_ctr r;
        snn_ctr_at(&r, seed, site, step, e);
        const double a = snn_ctr_normal(&r);  /* in order: C leaves a call's arguments unordered */
        printf("%a\n%a\n", a, snn_ctr_normal(&r));
    }
    for (int64_t e = 0; e < 50; e++) {
        snn_ctr r;
        snn_ctr_at(&r, seed, site, step, e * 1000003);
        for (int k = 0; k < 3; k++) printf("%llx\n", (unsigned long long)snn_ctr_bits(&r));
        const double u = snn_ctr_uniform(&r);
        printf("%a\n%a\n", u, snn_ctr_normal(&r));
        printf("%lld\n", (long long)snn_ctr_geometric(&r, 0.01));
        for (int k = 0; k < N_BINOMIAL; k++) {
            snn_binomial_t b;
            snn_binomial_prepare(&b, binomial_n[k], binomial_p[k]);
            printf("%lld\n", (long long)snn_binomial_draw_ctr(&b, &r));
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5)
        return keyed(strtoull(argv[2], NULL, 10), (uint32_t)strtoul(argv[3], NULL, 10), strtoll(argv[4], NULL, 10));
    uint64_t seed = strtoull(argv[1], NULL, 10), stream = strtoull(argv[2], NULL, 10);
    snn_rng r;
    snn_rng_seed(&r, seed, stream);
    for (int k = 0; k < 5; k++) printf("%llx\n", (unsigned long long)snn_rng_next(&r));
    for (int k = 0; k < 5; k++) printf("%a\n", snn_rng_uniform(&r));
    for (int k = 0; k < 5; k++) printf("%a\n", snn_rng_normal(&r));
    const double ps[] = {0.5, 0.01, 1e-4, 1e-9, 1.0, 0.0, -1.0, 0.999999};
    for (int k = 0; k < 8; k++) printf("%lld\n", (long long)snn_geometric(&r, ps[k]));
    for (int k = 0; k < N_BINOMIAL; k++) {
        snn_binomial_t b;
        snn_binomial_prepare(&b, binomial_n[k], binomial_p[k]);
        for (int d = 0; d < 50; d++) printf("%lld\n", (long long)snn_binomial_draw(&b, &r));
    }
    return 0;
}
"""


BINOMIAL = [(1000, 0.002), (1000, 0.5), (1000000, 0.3), (50, 0.99), (20, 1.0), (20, 0.0), (1, 0.5), (100000, 1e-4),
            (30, 0.4), (25, 0.6), (3000000000, 1e-9), (0, 0.5)]


@pytest.fixture(scope="module")
def draws(tmp_path_factory):
    cc = shutil.which("cc")
    assert cc is not None
    d = tmp_path_factory.mktemp("rng")
    (d / "draws.c").write_text(PROGRAM)
    subprocess.run([cc, "-O2", "-std=c11", "-fno-math-errno", f"-I{RUNTIME}", str(d / "draws.c"),
                    str(RUNTIME / "snn_runtime.c"), "-lm", "-o", str(d / "draws")], check=True)

    def run(*args: int | str) -> list[str]:
        return subprocess.run([str(d / "draws"), *map(str, args)], capture_output=True, text=True,
                              check=True).stdout.split()
    return run


def _values(xs):
    return [float.fromhex(x) if "p" in x else x for x in xs]


@pytest.mark.parametrize("seed, site, step", [(0, 0, 0), (1234, 9, 77), (2**64 - 1, 65535, 2**48 - 1)])
def test_the_same_keyed_draws_as_the_c_runtime(draws, seed, site, step):
    """Keyed (the time step's Philox): normal numbers of 20000 elements, the
    ziggurat's wedges and tail included, then 64-bit words, uniform,
    geometric and binomial numbers, continuing each element's sequence."""
    c = draws("keyed", seed, site, step)
    k = Keyed(seed, site, step, np.arange(20000))
    everyone = np.arange(20000)
    a, b = k.normal(everyone), k.normal(everyone)
    py = [x.hex() for pair in zip(a, b) for x in pair]
    k = Keyed(seed, site, step, np.arange(50) * 1000003)
    for e in range(50):
        one = k.one(e)
        py += [f"{int(k.bits([e])[0]):x}" for _ in range(3)]
        py += [one.uniform().hex(), one.normal().hex(), str(one.geometric(0.01))]
        for n, p in BINOMIAL:
            py.append(str(Binomial(n, p).draw(one)))
    assert _values(py) == _values(c)


def test_keyed_normal_numbers_have_the_normal_distribution():
    """The ziggurat's numbers over 400000 elements against the normal
    distribution (Kolmogorov-Smirnov), and their tails beyond the ziggurat's
    start, 3.654: as often as the normal distribution says."""
    from scipy import stats
    x = Keyed(5, 12, 3, np.arange(400000)).normal(np.arange(400000))
    assert stats.kstest(x, "norm").pvalue > 1e-3
    tail = (np.abs(x) > 3.6541528853610088).sum()
    expected = 400000 * 2 * stats.norm.sf(3.6541528853610088)
    assert abs(tail - expected) < 5 * np.sqrt(expected)


@pytest.mark.parametrize("seed, stream", [(0, 0), (1, 0), (1, 1), (1234, 7), (2**64 - 1, 2**64 - 1), (42, 2**40)])
def test_the_same_draws_as_the_c_runtime(draws, seed, stream):
    c = draws(seed, stream)
    r = Rng(seed, stream)
    py = [f"{r.next():x}" for _ in range(5)]
    py += [r.uniform().hex() for _ in range(5)]
    py += [r.normal().hex() for _ in range(5)]
    py += [str(r.geometric(p)) for p in (0.5, 0.01, 1e-4, 1e-9, 1.0, 0.0, -1.0, 0.999999)]
    for n, p in BINOMIAL:
        b = Binomial(n, p)
        py += [str(b.draw(r)) for _ in range(50)]
    assert [float.fromhex(x) if "p" in x else x for x in py] == [float.fromhex(x) if "p" in x else x for x in c]


def test_streams_are_independent_and_reproducible():
    s, t = Streams(5), Streams(5)
    a = [s[3].uniform() for _ in range(3)]
    s[0].uniform()  # another stream drawing changes nothing in stream 3
    assert a + [s[3].uniform()] == [t[3].uniform() for _ in range(4)]
    assert Streams(6)[3].uniform() != a[0]
    assert Rng(1, 0).geometric(0.0) == STEPS_NEVER


def test_clock_and_expm_helpers():
    assert timestep(0.3, 0.1e-3) == 3000 and timestep(0.30000001, 0.1e-3) == 3000
    assert timestep(0.30005, 0.1e-3) == 3001  # beyond 1e-4 dt: rounded up
    assert timestep(2.5e-4, 1e-4) == 3  # between two steps: the next one
    assert expm(2, [0.0, 0.0, 0.0, 0.0]) == [1.0, 0.0, 0.0, 1.0]
    assert expm(1, [float("inf")]) is None


@pytest.mark.parametrize("n, p", [(1000, 0.002), (40, 0.3), (1000, 0.5), (200, 0.93), (10**7, 0.01), (15, 0.7)])
def test_binomial_draws_have_the_binomial_distribution(n, p):
    """The deviates of both methods (inversion: n p < 10, BTRS above) against
    the exact probabilities, by a chi-square test over 20000 draws: a 5 %
    excess of one value of probability 0.05 is 2.3 standard errors; a wrong
    mean by 0.05 standard deviations shifts the statistic by well over its
    own spread."""
    from scipy import stats
    r = Rng(3, 11)
    b = Binomial(n, p)
    k = np.array([b.draw(r) for _ in range(20000)])
    lo, hi = stats.binom.ppf(1e-4, n, p), stats.binom.ppf(1 - 1e-4, n, p)
    edges = np.unique(np.clip(np.arange(lo, hi + 2), lo, hi + 1))
    observed = np.histogram(np.clip(k, lo, hi), edges)[0]
    expected = np.diff(np.concatenate([[0], stats.binom.cdf(edges[1:-1] - 1, n, p), [1]])) * len(k)
    keep = expected > 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3
    assert abs(k.mean() - n * p) < 5 * np.sqrt(n * p * (1 - p) / len(k))


def test_the_c_runtime_holds_the_ziggurat_tables_of_the_reference():
    """runtime_c/snn_runtime.c's literals are reference/ziggurat.py's tables, written by c_tables()."""
    from snndsl.reference import ziggurat
    assert ziggurat.c_tables() in (RUNTIME / "snn_runtime.c").read_text()
    assert ziggurat.KI[1] == 0 and all(0 < w for w in ziggurat.WI) and ziggurat.FI[0] == 1.0
    assert all(a > b for a, b in zip(ziggurat.FI, ziggurat.FI[1:]))  # layers from the top down
