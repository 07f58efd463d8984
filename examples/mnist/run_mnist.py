"""Unsupervised MNIST (Diehl & Cook 2015) in one command: train, freeze, label, test.

    python examples/mnist/run_mnist.py                        # N = 100 on the shipped digits
    python examples/mnist/run_mnist.py --neurons 400 --epochs 1 --train 4000

It prepares the digits if examples/mnist/data/ has none (prepare_data.py), compiles
diehl_cook.snn with `const n_e = N`, runs it in this process (progress on stderr),
then labels each excitatory neuron with the class it answered most during the label
phase (training digits only), classifies each test digit by the neurons' votes
(the class whose neurons answered most on average), prints the accuracy and the
confusion matrix, and draws the learned receptive fields and the confusion matrix.
Results (the saved arrays and the report) go to --output (default mnist_results/).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODEL = HERE / "diehl_cook.snn"
N_CLASSES = 10


def model_source(n_neurons: int) -> str:
    """diehl_cook.snn with its group size set: a size is a compile-time constant."""
    text = MODEL.read_text()
    line = "const n_e = 100\n"
    if line not in text:
        raise SystemExit(f"run_mnist.py: {MODEL} no longer declares '{line.strip()}'")
    return text.replace(line, f"const n_e = {n_neurons}\n")


def assign_labels(counts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each neuron's class: the one with the highest mean response (Diehl & Cook's
    get_new_assignments). A neuron that never answered gets -1."""
    mean = np.zeros((N_CLASSES, counts.shape[1]))
    for c in range(N_CLASSES):
        if np.any(labels == c):
            mean[c] = counts[labels == c].mean(axis=0)
    assigned = mean.argmax(axis=0)
    assigned[mean.max(axis=0) == 0] = -1
    return assigned


def classify(counts: np.ndarray, assigned: np.ndarray) -> np.ndarray:
    """Each sample's class: the class whose neurons spiked most on average
    (Diehl & Cook's get_recognized_number_ranking)."""
    votes = np.zeros((counts.shape[0], N_CLASSES))
    for c in range(N_CLASSES):
        members = assigned == c
        if members.any():
            votes[:, c] = counts[:, members].mean(axis=1)
    return votes.argmax(axis=1)


def confusion(true: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    m = np.zeros((N_CLASSES, N_CLASSES), int)
    np.add.at(m, (true, predicted), 1)
    return m


def plot_receptive_fields(weights: np.ndarray, n_neurons: int, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    w = weights.reshape(784, n_neurons)  # synapses by i (input pixel), then j (neuron)
    side = int(np.ceil(np.sqrt(n_neurons)))
    tiles = np.full((side * 28, side * 28), np.nan)
    for k in range(n_neurons):
        r, c = divmod(k, side)
        tiles[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28] = w[:, k].reshape(28, 28)
    inches = max(8.0, 0.55 * side)  # about half an inch per 28 x 28 tile
    fig, ax = plt.subplots(figsize=(inches, inches))
    im = ax.imshow(tiles, cmap="hot_r", vmin=0, vmax=np.nanmax(tiles), interpolation="nearest")
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(f"Input-to-excitatory weights after training ({n_neurons} neurons, 28 x 28 each)")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="w")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(m: np.ndarray, accuracy: float, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 5.4))
    im = ax.imshow(m, cmap="Blues")
    for t in range(N_CLASSES):
        for p in range(N_CLASSES):
            if m[t, p]:
                ax.text(p, t, str(m[t, p]), ha="center", va="center", fontsize=8,
                        color="white" if m[t, p] > m.max() / 2 else "black")
    ax.set_xticks(range(N_CLASSES)), ax.set_yticks(range(N_CLASSES))
    ax.set_xlabel("predicted digit"), ax.set_ylabel("true digit")
    ax.set_title(f"Test digits: {accuracy:.1%} correct ({m.sum()} digits)")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--neurons", type=int, default=100, help="excitatory (and inhibitory) neurons (default 100)")
    p.add_argument("--train", type=int, help="training digits per epoch (default: all)")
    p.add_argument("--epochs", type=int, default=1, help="passes over the training digits (default 1)")
    p.add_argument("--label", type=int, help="training digits used to label the neurons (default: all)")
    p.add_argument("--test", type=int, help="test digits (default: all)")
    p.add_argument("--data", type=Path, default=HERE / "data", help="folder of prepare_data.py's arrays")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the model's)")
    p.add_argument("-o", "--output", type=Path, default=Path("mnist_results"), help="where to write the report")
    p.add_argument("--quiet", action="store_true", help="no progress")
    args = p.parse_args(argv)

    import snndsl
    if not (args.data / "train_x.npy").exists():
        from prepare_data import main as prepare
        prepare(["-o", str(args.data)])
    train_x, train_y = np.load(args.data / "train_x.npy"), np.load(args.data / "train_y.npy")
    test_x, test_y = np.load(args.data / "test_x.npy"), np.load(args.data / "test_y.npy")
    n_train = min(args.train or len(train_x), len(train_x))
    n_label = min(args.label or len(train_x), len(train_x))
    n_test = min(args.test or len(test_x), len(test_x))

    args.output.mkdir(parents=True, exist_ok=True)
    source = args.output / f"diehl_cook_{args.neurons}.snn"
    source.write_text(model_source(args.neurons))
    t0 = time.perf_counter()
    model = snndsl.compile(source)
    t_compile = time.perf_counter() - t0
    params = {"n_train": n_train, "n_epochs": args.epochs, "n_label": n_label, "n_test": n_test}
    print(f"Diehl & Cook, {args.neurons} excitatory neurons: {args.epochs} epoch(s) of {n_train} training "
          f"digits, {n_label} labelling, {n_test} test (compiled in {t_compile:.1f} s)", file=sys.stderr)
    sim = model.simulation(params=params, seed=args.seed, quiet=args.quiet,
                           data={"train_x": args.data / "train_x.npy", "test_x": args.data / "test_x.npy"})
    t0 = time.perf_counter()
    sim.run_protocol()
    wall = time.perf_counter() - t0
    res = sim.results()

    assigned = assign_labels(np.asarray(res.saved["label_counts"]), train_y[:n_label])
    predicted = classify(np.asarray(res.saved["test_counts"]), assigned)
    truth = test_y[:n_test].astype(int)
    accuracy = float(np.mean(predicted == truth))
    m = confusion(truth, predicted)
    weights = np.asarray(res.saved["weights"])
    frozen = bool(np.array_equal(weights, res.saved["tested_weights"])
                  and np.array_equal(res.saved["theta"], res.saved["tested_theta"]))
    phases = {name: stop - start for name, (start, stop) in res.phases.items()}
    walls = {ph["name"]: ph["wall"] for ph in res.manifest["phases"] if ph.get("ran")}
    train_wall = walls.get("train")

    report = {
        "neurons": args.neurons, "epochs": args.epochs, "train_digits": n_train, "label_digits": n_label,
        "test_digits": n_test, "accuracy": accuracy, "confusion": m.tolist(),
        "neurons_labelled": int(np.sum(assigned >= 0)), "plastic_state_unchanged_after_freeze": frozen,
        "simulated_s": phases, "wall_s": {"compile": t_compile, "run": wall, "phases": walls},
        "wall_s_per_epoch": train_wall / args.epochs if train_wall is not None else None,
    }
    (args.output / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    np.save(args.output / "weights.npy", weights)
    plot_receptive_fields(weights, args.neurons, args.output / "receptive_fields.png")
    plot_confusion(m, accuracy, args.output / "confusion.png")

    print(f"test accuracy: {accuracy:.1%} ({int(np.sum(predicted == truth))} of {n_test}); "
          f"{report['neurons_labelled']} of {args.neurons} neurons answered during labelling")
    print("confusion matrix (rows: true digit, columns: predicted):")
    print("      " + " ".join(f"{c:4d}" for c in range(N_CLASSES)))
    for c in range(N_CLASSES):
        print(f"  {c:2d}  " + " ".join(f"{v:4d}" for v in m[c]))
    per_epoch = f", {report['wall_s_per_epoch']:.1f} s per training epoch" if train_wall is not None else ""
    print(f"wall time: {wall:.1f} s in all{per_epoch}; weights and theta unchanged after the freeze: {frozen}")
    print(f"wrote {args.output}/report.json, receptive_fields.png, confusion.png")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
