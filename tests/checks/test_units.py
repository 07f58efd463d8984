"""The unit table against Brian2's: every unit name Brian2 knows means here what
it means in Brian2 (the same SI scale and dimension), and a model written with
Brian2's names is the same program."""
import re

import pytest

from snndsl import resources
from snndsl.driver import frontend
from snndsl.units import UNITS, grammar_line

from conftest import EXAMPLES


@pytest.mark.brian2
def test_every_brian2_unit_name_has_brian2s_scale_and_dimension():
    import brian2.units.allunits as allunits
    import brian2.units.stdunits as stdunits
    names = [n for n in allunits.__all__ + stdunits.__all__ if not re.search(r"\d", n) and n != "celsius"]
    assert len(names) > 700
    for name in names:
        q = getattr(allunits, name, None) or getattr(stdunits, name)
        assert name in UNITS, name
        scale, dim = UNITS[name]
        assert scale == pytest.approx(float(q), rel=1e-14), name
        assert dim.ints() == tuple(int(d) for d in q.dim._dims), name


def test_the_grammar_knows_every_unit_name():
    """grammar/snn.lark's UNIT_SUFFIX is generated from the table (python -m snndsl.units --grammar)."""
    assert grammar_line() in resources.grammar_text().splitlines()


def test_a_model_in_brian2s_unit_names_is_the_same_program():
    text = (EXAMPLES / "cuba.snn").read_text()
    brian2 = re.sub(r"\b(\d[\d.]*) ?(ms|mV)\b", lambda m: f"{m.group(1)} {dict(ms='msecond', mV='mvolt')[m.group(2)]}",
                    text)
    assert brian2 != text and "msecond" in brian2 and "mvolt" in brian2
    def program(source):  # the C, but for the hash of the source it embeds
        fe = frontend(source, "cuba.snn")
        return fe.c_source.replace(fe.ir.source_hash, "HASH").replace(fe.ir.source_hash[:16], "HASH")
    assert program(brian2) == program(text)


# ---- fractional powers ----------------------------------------------------------

def test_fractional_dimensions_are_written_as_brian2_users_write_them():
    from fractions import Fraction

    from snndsl.units import METRE, MOLAR, SECOND, SIEMENS, VOLT, dim_of, format_dim, format_power, small_fraction
    half, third = Fraction(1, 2), Fraction(1, 3)
    cases = {VOLT / SECOND ** half: "volt/second**0.5", METRE ** third: "metre**(1/3)",
             SECOND ** -half: "1/second**0.5", VOLT * SECOND ** half: "volt*second**0.5",
             METRE ** Fraction(-2, 3): "1/metre**(2/3)", MOLAR ** half: "molar**0.5",
             VOLT ** half / SECOND: "volt**0.5/second", SIEMENS ** third: "siemens**(1/3)",
             SECOND ** half * METRE ** half: "metre**0.5*second**0.5"}
    for dim, text in cases.items():
        assert format_dim(dim) == text
        assert dim_of(text) == dim  # results and neo read them back
    assert format_power(Fraction(5, 4)) == "1.25" and format_power(Fraction(-1, 12)) == "(-1/12)"
    assert small_fraction(1 / 3) == third and small_fraction(0.5) == half and small_fraction(2) == 2
    assert small_fraction(0.123) is None and small_fraction(Fraction(1, 13)) is None


def test_a_fractional_unit_has_brian2s_dimension():
    """`volt/second**0.5`, `metre**(1/3)` in declarations: Brian2's dimension
    (its exponents are floats)."""
    import brian2

    src = ("neurons G[1]:\n    a : volt/second**0.5\n    b : metre**(1/3)\n    c : mV*ms**-1.5\n"
           "monitor ma: G.a\nmonitor mb: G.b\nmonitor mc: G.c\nphase p:\n    run 1 ms\n")
    units = {m.name: m.unit for m in frontend(src, "<units>").ir.monitors}
    for name, theirs in (("ma", brian2.volt / brian2.second ** 0.5), ("mb", brian2.metre ** (1 / 3)),
                         ("mc", brian2.mV * brian2.ms ** -1.5)):
        from snndsl.units import dim_of
        ours = [float(e) for e in dim_of(units[name]).exps]
        assert ours == pytest.approx(list(brian2.get_dimensions(theirs)._dims), rel=1e-12), name


def test_every_fractional_dimension_reads_back():
    """format_dim's text, whatever the dimension, is what dim_of reads back
    (results, Neo and the manifest rely on it)."""
    import random
    from fractions import Fraction

    from snndsl.units import Dim, dim_of, format_dim
    rng = random.Random(0)
    for _ in range(2000):
        d = Dim(tuple(Fraction(rng.randint(-6, 6), rng.choice([1, 1, 2, 3, 4])) if rng.random() < 0.5
                      else Fraction(0) for _ in range(7)))
        assert dim_of(format_dim(d)) == d, (d, format_dim(d))
