"""precision = single: state variables are float32 (times stay float64), and the
results are those of the double-precision model up to float rounding."""
import numpy as np
import pytest

import snndsl

from conftest import ROOT

pytestmark = pytest.mark.needs_cc

MODEL = (ROOT / "tests" / "e2e" / "models" / "lif_delays.snn")


def test_single_precision_stores_float32_and_follows_double(tmp_path, lif_delays_data):
    data = lif_delays_data
    single = tmp_path / "single.snn"
    single.write_text("precision = single\n" + MODEL.read_text())
    d = snndsl.compile(MODEL).run(data=data)
    s = snndsl.compile(single).run(data=data)
    assert d["vG"].values.dtype == np.float64 and s["vG"].values.dtype == np.float32
    assert s["vG"].t.dtype == np.float64
    c_source = snndsl.compile(single).frontend.c_source
    assert "float *v_v;" in c_source and "double *v_lastspike;" in c_source
    np.testing.assert_allclose(s["vG"].values, d["vG"].values, rtol=0, atol=2e-5)  # volts: 20 uV
    # the same spikes, but for the odd one whose threshold crossing is within float rounding
    same = np.intersect1d(s["spkG"].t * 1e4 + s["spkG"].i * 1e7, d["spkG"].t * 1e4 + d["spkG"].i * 1e7)
    assert len(same) >= 0.95 * len(d["spkG"].t)
