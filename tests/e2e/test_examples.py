"""The examples run as the README shows, and do what they claim."""
import subprocess
import sys

import numpy as np
import pytest

import snndsl

from conftest import EXAMPLES

pytestmark = pytest.mark.needs_cc


def test_freeze_after_learning_via_cli(tmp_path):
    """snndsl run writes results in which every synapse with w > 0.3 after
    training keeps exactly its weight through testing, and the others change."""
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(EXAMPLES / "freeze_after_learning.snn"),
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "weights" in proc.stdout  # the summary names the monitors
    res = snndsl.load(out)
    trained, tested = res.saved["trained_w"], res.saved["tested_w"]
    frozen = trained > 0.3
    assert 0 < frozen.sum() < len(trained)
    np.testing.assert_array_equal(tested[frozen], trained[frozen])
    assert (tested[~frozen] != trained[~frozen]).mean() > 0.8
    # the weight trace agrees: frozen synapses are flat during the test phase
    mon = res["weights"]
    start, stop = res.phases["test"]
    during = mon.t >= start
    assert np.all(mon.values[during][:, frozen] == trained[frozen])
    assert res.phases == {"train": (0.0, 1.0), "freeze": (1.0, 1.0), "test": (1.0, 2.0)}
    assert mon.values.shape == (2000, 100)
    assert res.manifest["seed"] == 1234


def test_same_seed_same_numbers_different_seed_differs(tmp_path):
    model = snndsl.compile(EXAMPLES / "freeze_after_learning.snn")
    a, b, c = model.run(seed=3), model.run(seed=3), model.run(seed=4)
    np.testing.assert_array_equal(a.saved["tested_w"], b.saved["tested_w"])
    np.testing.assert_array_equal(a["out_spikes"].t, b["out_spikes"].t)
    assert not np.array_equal(a.saved["tested_w"], c.saved["tested_w"])


def test_binary_and_cffi_agree_for_a_seed(tmp_path):
    model = snndsl.compile(EXAMPLES / "freeze_after_learning.snn", build_dir=tmp_path / "build")
    assert (tmp_path / "build" / "model.c").is_file()
    assert (tmp_path / "build" / "libmodel.so").is_file()
    subprocess.run([str(model.binary), "-o", str(tmp_path / "r"), "--seed", "3", "--quiet"], check=True)
    disk, mem = snndsl.load(tmp_path / "r"), model.run(seed=3)
    for name in ("weights", "out_spikes"):
        for attr in ("t", "values", "i"):
            x, y = getattr(disk[name], attr), getattr(mem[name], attr)
            assert (x is None) == (y is None)
            if x is not None:
                assert x.dtype == y.dtype and np.array_equal(x, y), (name, attr)
    for name in disk.saved:
        assert np.array_equal(disk.saved[name], mem.saved[name])
    assert disk.phases == mem.phases
