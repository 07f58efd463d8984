"""The ziggurat tables of the time step's normal numbers (snn_ctr_normal).

Marsaglia & Tsang's ziggurat (2000) with 256 layers and 52-bit magnitudes,
as numpy's `random_standard_normal`: `x[i]` the right edge of layer i
(x[255] = R, decreasing to the top), index 0 the base strip with the tail.
The C runtime holds the same numbers as literals (runtime_c/snn_runtime.c,
written by `c_tables()`; tests/runtime_c checks they match), so the C and
the reference backend draw the same normal numbers bit for bit.
"""
from __future__ import annotations

import math

R = 3.6541528853610088  # the start of the tail
V = 0.00492867323399    # the area of each layer
M = 2.0 ** 52


def tables() -> tuple[list[int], list[float], list[float]]:
    """(ki, wi, fi): accept `rabs < ki[i]` at once; x = rabs * wi[i]; fi[i] = exp(-x[i]^2 / 2)."""
    ki, wi, fi = [0] * 256, [0.0] * 256, [0.0] * 256
    dn = tn = R
    q = V / math.exp(-0.5 * dn * dn)
    ki[0] = int(math.floor((dn / q) * M))
    ki[1] = 0
    wi[0] = q / M
    wi[255] = dn / M
    fi[0] = 1.0
    fi[255] = math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(V / dn + math.exp(-0.5 * dn * dn)))
        ki[i + 1] = int(math.floor((dn / tn) * M))
        tn = dn
        fi[i] = math.exp(-0.5 * dn * dn)
        wi[i] = dn / M
    return ki, wi, fi


KI, WI, FI = tables()


def c_tables() -> str:
    """The tables as C, for runtime_c/snn_runtime.c."""
    def rows(values, fmt):
        items = [fmt(v) for v in values]
        return "\n".join("    " + ", ".join(items[k:k + 4]) + "," for k in range(0, len(items), 4))
    return ("const uint64_t snn_zig_ki[256] = {\n" + rows(KI, lambda v: f"UINT64_C({v})") + "\n};\n"
            "const double snn_zig_wi[256] = {\n" + rows(WI, float.hex) + "\n};\n"
            "const double snn_zig_fi[256] = {\n" + rows(FI, float.hex) + "\n};\n")
