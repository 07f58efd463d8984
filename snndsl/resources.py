"""Where the grammar and the C runtime live, installed or in a checkout.

`pip install .` ships grammar/ and runtime_c/ as the package data packages
`snndsl._grammar` and `snndsl._runtime_c` (see pyproject.toml); in a source
checkout they are the top-level folders beside the package.
"""
from __future__ import annotations

from importlib import resources as _res
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _folder(package: str, checkout_dir: str) -> Path:
    local = _CHECKOUT / checkout_dir
    if local.is_dir() and (_CHECKOUT / "pyproject.toml").is_file():
        return local
    try:
        return Path(str(_res.files(package)))
    except ModuleNotFoundError:  # pragma: no cover - broken install
        return local


def grammar_text() -> str:
    return (_folder("snndsl._grammar", "grammar") / "snn.lark").read_text()


def runtime_dir() -> Path:
    return _folder("snndsl._runtime_c", "runtime_c")
