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
