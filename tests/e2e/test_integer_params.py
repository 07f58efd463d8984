"""Integer-valued parameters wherever integers go (issue 8's language gap):
`train_x[n_train - n_label + k, i]`, loop bounds, index ranges; a value that is
not whole is a run-time error naming the parameter, never a truncation."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

MODEL = """\
param n_train = 5
param n_label = 2
param last = n_train - 1
data x = "x.npy"
neurons G[3]:
    v : 1
phase a:
    for k in 0 .. n_label:
        G.v = x[n_train - n_label + k, i]
        run 1 ms
        save G.v as v
    G.v[0:last - 2] = -1
    save G.v as after
"""


@pytest.fixture
def model(tmp_path):
    (tmp_path / "m.snn").write_text(MODEL)
    np.save(tmp_path / "x.npy", np.arange(18.0).reshape(6, 3))
    return snndsl.compile(tmp_path / "m.snn")


def test_parameters_index_data_and_bound_loops(model):
    res = model.run()
    np.testing.assert_array_equal(res.saved["v"], [[9, 10, 11], [12, 13, 14]])
    np.testing.assert_array_equal(res.saved["after"], [-1, -1, 14])
    res = model.run(params={"n_train": 4, "n_label": 3})
    np.testing.assert_array_equal(res.saved["v"], [[3, 4, 5], [6, 7, 8], [9, 10, 11]])


@pytest.mark.parametrize("name, value", [("n_train", "2.5"), ("n_label", "1e300"), ("n_label", "-0.5")])
def test_a_fractional_value_is_an_error_naming_the_parameter(model, name, value):
    with pytest.raises(snndsl.SimulationError, match=f"parameter '{name}' is used as an integer"):
        model.run(params={name: value})


def test_a_derived_parameter_is_checked_too(model):
    with pytest.raises(snndsl.SimulationError, match="parameter 'n_train' is used as an integer"):
        model.run(params={"n_train": 4.5})


def test_on_the_command_line(model, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(tmp_path / "m.snn"), "-o", str(tmp_path / "r"),
                           "--set", "n_train=2.5"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "m.snn:1:1: error[E0601]: parameter 'n_train' is used as an integer" in proc.stderr
    assert "not 2.5" in proc.stderr
