"""Ctrl-C / SIGTERM during a run: what was recorded is written, marked interrupted."""
import signal
import subprocess
import time

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_writes_partial_results(tmp_path, sig):
    path = tmp_path / "long.snn"
    path.write_text("poisson p[2000]:\n    rate : Hz\n    init: rate = 50 Hz\nmonitor s: spikes of p\nmonitor r: p.rate[0:2] every 1 ms\n"
                    "phase long:\n    run 10000 s\n    save p.rate as never\n")
    model = snndsl.compile(path)
    out = tmp_path / "res"
    proc = subprocess.Popen([str(model.binary), "-o", str(out), "--quiet"], stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    res = snndsl.load(out)
    assert res.interrupted
    n = len(res["r"].t)
    assert 0 < n < 10_000_000
    assert len(res["s"].t) > 0 and res["s"].t.max() < n * 1e-3 + 1e-3
    np.testing.assert_array_equal(res["r"].values, 50.0)
    assert res.manifest["saved"]["never"]["count"] == 0
