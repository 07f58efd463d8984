"""Physical dimensions and the unit table (SI storage, as Brian2).

A `Dim` is a vector of rational exponents over the seven SI base units.
Values are stored in SI base units: `10 ms` is 0.01.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

BASE = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candela")


@dataclass(frozen=True, slots=True)
class Dim:
    exps: tuple[Fraction, ...] = (Fraction(0),) * 7

    @staticmethod
    def of(**powers: int) -> "Dim":
        return Dim(tuple(Fraction(powers.get(b, 0)) for b in BASE))

    def __mul__(self, other: "Dim") -> "Dim":
        return Dim(tuple(a + b for a, b in zip(self.exps, other.exps)))

    def __truediv__(self, other: "Dim") -> "Dim":
        return Dim(tuple(a - b for a, b in zip(self.exps, other.exps)))

    def __pow__(self, p) -> "Dim":
        return Dim(tuple(a * Fraction(p) for a in self.exps))

    @property
    def dimensionless(self) -> bool:
        return all(e == 0 for e in self.exps)

    @property
    def integral(self) -> bool:
        return all(e.denominator == 1 for e in self.exps)

    def ints(self) -> tuple[int, ...]:
        return tuple(int(e) for e in self.exps)

    def __str__(self) -> str:
        return format_dim(self)


DIMENSIONLESS = Dim()
SECOND = Dim.of(second=1)
HERTZ = Dim.of(second=-1)
VOLT = Dim.of(kilogram=1, metre=2, second=-3, amp=-1)
AMP = Dim.of(amp=1)
SIEMENS = Dim.of(kilogram=-1, metre=-2, second=3, amp=2)
OHM = Dim.of(kilogram=1, metre=2, second=-3, amp=-2)
FARAD = Dim.of(kilogram=-1, metre=-2, second=4, amp=2)
METRE = Dim.of(metre=1)
MOLAR = Dim.of(mole=1, metre=-3)
KELVIN = Dim.of(kelvin=1)
KILOGRAM = Dim.of(kilogram=1)
MOLE = Dim.of(mole=1)
CANDELA = Dim.of(candela=1)

# name -> (scale to SI, dimension); the table of docs/language.md.
UNITS: dict[str, tuple[float, Dim]] = {}


def _add(dim: Dim, **names: float) -> None:
    for name, scale in names.items():
        UNITS[name] = (scale, dim)


_add(SECOND, second=1.0, s=1.0, ms=1e-3, us=1e-6, ns=1e-9)
_add(HERTZ, Hz=1.0, kHz=1e3)
_add(VOLT, volt=1.0, V=1.0, mV=1e-3, uV=1e-6)
_add(AMP, amp=1.0, A=1.0, mA=1e-3, uA=1e-6, nA=1e-9, pA=1e-12)
_add(SIEMENS, siemens=1.0, mS=1e-3, uS=1e-6, nS=1e-9, pS=1e-12)
_add(OHM, ohm=1.0, kohm=1e3, Mohm=1e6, Gohm=1e9)
_add(FARAD, farad=1.0, F=1.0, uF=1e-6, nF=1e-9, pF=1e-12)
_add(METRE, metre=1.0, meter=1.0, m=1.0, cm=1e-2, mm=1e-3, um=1e-6)
_add(MOLAR, molar=1e3, mM=1.0, uM=1e-3)
_add(KELVIN, kelvin=1.0, K=1.0)
_add(KILOGRAM, kilogram=1.0, kg=1.0, g=1e-3)
_add(MOLE, mole=1.0, mol=1.0)
_add(CANDELA, candela=1.0, cd=1.0)

# Brian2's names (brian2.units.allunits): every SI prefix on the long name of each unit
# (mvolt, msecond, nsiemens, pfarad, umetre, hertz, mmolar, kohm ...), and its short
# names for concentrations and frequencies. Radian and steradian are dimensionless.
BRIAN2_PREFIXES = {"y": 1e-24, "z": 1e-21, "a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3,
                   "c": 1e-2, "d": 1e-1, "": 1.0, "da": 1e1, "h": 1e2, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
                   "P": 1e15, "E": 1e18, "Z": 1e21, "Y": 1e24}
_BRIAN2_ROOTS = {
    "amp": (1.0, AMP), "ampere": (1.0, AMP), "volt": (1.0, VOLT), "siemens": (1.0, SIEMENS), "ohm": (1.0, OHM),
    "farad": (1.0, FARAD), "second": (1.0, SECOND), "hertz": (1.0, HERTZ), "metre": (1.0, METRE),
    "meter": (1.0, METRE), "gram": (1e-3, KILOGRAM), "gramme": (1e-3, KILOGRAM), "kelvin": (1.0, KELVIN),
    "mole": (1.0, MOLE), "mol": (1.0, MOLE), "molar": (1e3, MOLAR), "candle": (1.0, CANDELA),
    "coulomb": (1.0, AMP * SECOND), "newton": (1.0, KILOGRAM * METRE / SECOND ** 2),
    "pascal": (1.0, KILOGRAM / (METRE * SECOND ** 2)), "joule": (1.0, KILOGRAM * METRE ** 2 / SECOND ** 2),
    "watt": (1.0, KILOGRAM * METRE ** 2 / SECOND ** 3), "weber": (1.0, VOLT * SECOND),
    "tesla": (1.0, VOLT * SECOND / METRE ** 2), "henry": (1.0, OHM * SECOND), "becquerel": (1.0, HERTZ),
    "gray": (1.0, METRE ** 2 / SECOND ** 2), "sievert": (1.0, METRE ** 2 / SECOND ** 2),
    "katal": (1.0, MOLE / SECOND), "lux": (1.0, CANDELA / METRE ** 2), "lumen": (1.0, CANDELA),
    "liter": (1e-3, METRE ** 3), "litre": (1e-3, METRE ** 3), "radian": (1.0, DIMENSIONLESS),
    "steradian": (1.0, DIMENSIONLESS),
}
for _root, (_scale, _dim) in _BRIAN2_ROOTS.items():
    for _prefix, _factor in BRIAN2_PREFIXES.items():
        UNITS.setdefault(_prefix + _root, (_factor * _scale, _dim))
UNITS.setdefault("kilogramme", (1.0, KILOGRAM))
_add(HERTZ, MHz=1e6)
_add(MOLAR, nM=1e-6)
del _root, _scale, _dim, _prefix, _factor

_NAMED = (("volt", VOLT), ("amp", AMP), ("siemens", SIEMENS), ("ohm", OHM), ("farad", FARAD),
          ("second", SECOND), ("metre", METRE), ("kilogram", KILOGRAM), ("kelvin", KELVIN),
          ("mole", MOLE), ("candela", CANDELA), ("molar", MOLAR))


# A power of a unit: the denominators up to 12 cover every physical law written
# with roots (sqrt, cube roots) and leave out accidents such as ms**0.123.
MAX_DENOMINATOR = 12


def small_fraction(p) -> Fraction | None:
    """p (a float, an int or a Fraction) as a fraction with a denominator up to
    MAX_DENOMINATOR, or None when it is not one (to rounding, for floats)."""
    if isinstance(p, Fraction):
        return p if p.denominator <= MAX_DENOMINATOR else None
    f = Fraction(p).limit_denominator(MAX_DENOMINATOR)
    return f if abs(float(f) - p) <= 1e-12 * max(1.0, abs(p)) else None


def format_power(e: Fraction) -> str:
    """'2', '0.5', '-1.5', '(1/3)': a power as it is written after '**'
    (a decimal where it is exact and short, else a fraction in parentheses)."""
    e = Fraction(e)
    if e.denominator == 1:
        return str(e.numerator)
    d = e.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:
        return repr(float(e))
    return f"({e.numerator}/{e.denominator})"


def _base_product(d: Dim) -> str:
    num, den = [], []
    for name, e in zip(BASE, d.exps):
        if e == 0:
            continue
        part = name if abs(e) == 1 else f"{name}**{format_power(abs(e))}"
        (num if e > 0 else den).append(part)
    text = "*".join(num) or "1"
    if den:
        text += "/" + ("*".join(den) if len(den) == 1 else "(" + "*".join(den) + ")")
    return text


def format_dim(d: Dim) -> str:
    """A readable name: 'volt', 'volt/second', '1/second', 'siemens/metre**2',
    'volt/second**0.5', 'metre**(1/3)'."""
    if d.dimensionless:
        return "1"
    if not d.integral:
        # volt/second**0.5, volt**0.5/second: a power of a named compound unit, times a
        # power of one base unit at most, one of the two powers whole
        for name, nd in _NAMED:
            if sum(x != 0 for x in nd.exps) < 2:
                continue
            j = next(k for k, x in enumerate(nd.exps) if x != 0)
            e = d.exps[j] / nd.exps[j]
            if e <= 0 or small_fraction(e) is None:
                continue
            rest = (d / nd ** e).exps
            others = [(BASE[k], x) for k, x in enumerate(rest) if x != 0]
            head = name if e == 1 else f"{name}**{format_power(e)}"
            if not others:
                return head
            if len(others) == 1 and (e.denominator == 1 or others[0][1].denominator == 1):
                base, f = others[0]
                tail = base if abs(f) == 1 else f"{base}**{format_power(abs(f))}"
                return f"{head}*{tail}" if f > 0 else f"{head}/{tail}"
        return _base_product(d)
    for name, nd in _NAMED:
        if d == nd:
            return name
    for name, nd in _NAMED:
        for other, od in (("second", SECOND), ("metre", METRE), ("metre**2", METRE ** 2)):
            if name != other.split("*")[0] and d == nd / od:
                return f"{name}/{other}"
            if name != other.split("*")[0] and d == nd * od:
                return f"{name}*{other}"
    return _base_product(d)


def describe_dim(d: Dim) -> str:
    """A dimension in a message: 'dimensionless', 'volt', 'siemens/metre**2'."""
    return "dimensionless" if d.dimensionless else format_dim(d)


def in_dim(d: Dim) -> str:
    """'in volt', or 'dimensionless': what a quantity is, in a message."""
    return "dimensionless" if d.dimensionless else f"in {format_dim(d)}"


def suggest_unit(name: str) -> str | None:
    """The unit an unknown unit name probably meant ('mvolts': 'mvolt')."""
    from snndsl.diagnostics import closest
    return closest(name, UNITS)


def si_unit_name(d: Dim) -> str:
    return format_dim(d)


# A unit power after '**': an integer, a decimal or a fraction in parentheses.
POWER = r"-?[0-9]+(?:\.[0-9]+)?|\(-?[0-9]+/[0-9]+\)"
_FACTOR = re.compile(rf"\s*([*/]?)\s*([A-Za-z_][A-Za-z0-9_]*)(?:\*\*({POWER}))?")


def read_power(text: str) -> Fraction:
    """'2', '-0.5', '(1/3)' -> the exact Fraction (not yet checked to be small)."""
    return Fraction(text.strip("()"))


def suffix_factors(text: str) -> list[tuple[str, str, Fraction]] | str:
    """The factors of a unit suffix as the lexer read it ('mV/ms**0.5'): (op
    ('', '*' or '/'), unit name, power), or the first unknown unit name;
    ValueError for a power that is not a small fraction."""
    out, pos = [], 0
    while pos < len(text):
        m = _FACTOR.match(text, pos)
        if not m or m.end() == pos:
            return text[pos:]
        op, name, power = m.group(1), m.group(2), read_power(m.group(3) or "1")
        if name not in UNITS:
            return name
        if small_fraction(power) is None:
            raise ValueError(f"the power of '{name}' must be a whole number or a small fraction (a denominator "
                             f"up to {MAX_DENOMINATOR}, such as 0.5 or (1/3)), not {format_power(power)}")
        out.append((op, name, power))
        pos = m.end()
    return out


def parse_suffix(text: str) -> tuple[float, Dim] | str:
    """A unit suffix as the lexer read it ('mV/ms', 'metre**2', 'mV/ms**0.5')
    -> (scale, dim), or the first unknown unit name; ValueError for a power
    that is not a small fraction."""
    factors = suffix_factors(text)
    if isinstance(factors, str):
        return factors
    scale, dim = 1.0, DIMENSIONLESS
    for op, name, power in factors:
        s, d = UNITS[name]
        if op == "/":
            power = -power
        scale *= s ** (int(power) if power.denominator == 1 else float(power))
        dim = dim * d ** power
    return scale, dim


_UNIT_TOKEN = re.compile(rf"([A-Za-z_][A-Za-z0-9_]*)(?:\*\*({POWER}))?|(1)|([*/()])")


def unit_factors(text: str) -> list[tuple[str, int | Fraction]]:
    """The named factors of a unit as format_dim writes it, with their powers:
    'kilogram*metre**2/(amp*second**3)' -> [('kilogram', 1), ('metre', 2),
    ('amp', -1), ('second', -3)]; 'volt/second**0.5' -> [('volt', 1),
    ('second', Fraction(-1, 2))]; '1' -> []."""
    out: list[tuple[str, int | Fraction]] = []
    sign, group, pos = 1, False, 0
    text = (text or "1").replace(" ", "")
    while pos < len(text):
        m = _UNIT_TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"unit '{text}': cannot read '{text[pos:]}'")
        pos = m.end()
        name, power, op = m.group(1), m.group(2), m.group(4)
        if op == "/":
            sign = -1
        elif op == "(":
            group = True
        elif op == ")":
            group, sign = False, 1
        elif name:
            p = read_power(power or "1")
            out.append((name, (int(p) if p.denominator == 1 else p) * sign))
            if not group:
                sign = 1
        if op == "*" and not group:
            sign = 1
    return out


def dim_of(text: str) -> Dim:
    """The dimension of a unit as format_dim writes it ('volt', '1',
    'siemens/metre**2', 'kilogram*metre**2/(amp*second**3)')."""
    named = dict(_NAMED)
    dim = DIMENSIONLESS
    for name, power in unit_factors(text):
        if name not in named:
            raise ValueError(f"unit '{text}': unknown part '{name}'")
        dim = dim * named[name] ** power
    return dim


def grammar_line() -> str:
    """grammar/snn.lark's UNIT_SUFFIX terminal for this table (longest names first)."""
    names = "|".join(sorted(UNITS, key=lambda n: (-len(n), n)))
    power = r"(\*\*(-?[0-9]+(\.[0-9]+)?|\(-?[0-9]+\/[0-9]+\)))?"
    return f"UNIT_SUFFIX: /({names}){power}([*\\/]({names}){power})*(?![A-Za-z0-9_])/"


if __name__ == "__main__":  # python -m snndsl.units --grammar
    import sys
    if sys.argv[1:] == ["--grammar"]:
        print(grammar_line())
