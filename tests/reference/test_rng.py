"""snndsl/reference/rng.py against the C runtime's generators, draw for draw:
a small C program linked with runtime_c/snn_runtime.c prints the draws of
several (seed, stream) pairs in hex, and Python must give the same bits."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from snndsl.reference.interpreter import expm, timestep
from snndsl.reference.rng import STEPS_NEVER, Rng, Streams

pytestmark = pytest.mark.needs_cc
RUNTIME = Path(__file__).resolve().parents[2] / "runtime_c"

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include "snn_runtime.h"
#include "snn_support.h"

int main(int argc, char **argv)
{
    uint64_t seed = strtoull(argv[1], NULL, 10), stream = strtoull(argv[2], NULL, 10);
    snn_rng r;
    snn_rng_seed(&r, seed, stream);
    for (int k = 0; k < 5; k++) printf("%llx\n", (unsigned long long)snn_rng_next(&r));
    for (int k = 0; k < 5; k++) printf("%a\n", snn_rng_uniform(&r));
    for (int k = 0; k < 5; k++) printf("%a\n", snn_rng_normal(&r));
    const double ps[] = {0.5, 0.01, 1e-4, 1e-9, 1.0, 0.0, -1.0, 0.999999};
    for (int k = 0; k < 8; k++) printf("%lld\n", (long long)snn_geometric(&r, ps[k]));
    return 0;
}
"""


@pytest.fixture(scope="module")
def draws(tmp_path_factory):
    cc = shutil.which("cc")
    assert cc is not None
    d = tmp_path_factory.mktemp("rng")
    (d / "draws.c").write_text(PROGRAM)
    subprocess.run([cc, "-O2", "-std=c11", "-fno-math-errno", f"-I{RUNTIME}", str(d / "draws.c"),
                    str(RUNTIME / "snn_runtime.c"), "-lm", "-o", str(d / "draws")], check=True)

    def run(seed: int, stream: int) -> list[str]:
        return subprocess.run([str(d / "draws"), str(seed), str(stream)], capture_output=True, text=True,
                              check=True).stdout.split()
    return run


@pytest.mark.parametrize("seed, stream", [(0, 0), (1, 0), (1, 1), (1234, 7), (2**64 - 1, 2**64 - 1), (42, 2**40)])
def test_the_same_draws_as_the_c_runtime(draws, seed, stream):
    c = draws(seed, stream)
    r = Rng(seed, stream)
    py = [f"{r.next():x}" for _ in range(5)]
    py += [r.uniform().hex() for _ in range(5)]
    py += [r.normal().hex() for _ in range(5)]
    py += [str(r.geometric(p)) for p in (0.5, 0.01, 1e-4, 1e-9, 1.0, 0.0, -1.0, 0.999999)]
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
