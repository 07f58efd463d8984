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
    # 2000 sources at 1 Hz: a few MB of spikes written, however far the loop got
    path.write_text("poisson p[2000]:\n    rate : Hz\n    init: rate = 1 Hz\nmonitor s: spikes of p\nmonitor r: p.rate[0:2] every 1 ms\n"
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
    np.testing.assert_array_equal(res["r"].values, 1.0)
    assert res.manifest["saved"]["never"]["count"] == 0


def test_ctrl_c_on_snndsl_run_still_writes_results(tmp_path):
    """The CLI lets the binary finish its interrupted step and write results."""
    import os
    import sys
    path = tmp_path / "long.snn"
    path.write_text("poisson p[2000]:\n    rate = 1 Hz\nmonitor s: spikes of p\nphase long:\n    run 10000 s\n")
    snndsl.compile(path)  # build first, so the signal lands during the run
    out = tmp_path / "res"
    proc = subprocess.Popen([sys.executable, "-m", "snndsl", "run", str(path), "-o", str(out), "--quiet"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(2.0)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert snndsl.load(out).interrupted


def test_in_process_run_can_be_interrupted(tmp_path):
    import _thread
    import threading
    path = tmp_path / "long.snn"
    path.write_text("poisson p[2000]:\n    rate = 50 Hz\nphase long:\n    run 10000 s\n")
    model = snndsl.compile(path)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        model.run()
    assert time.monotonic() - start < 10
