"""Where the grammar and the C runtime live, installed or in a checkout.

`pip install .` ships grammar/ and runtime_c/ inside the package as
`snndsl/_grammar/` and `snndsl/_runtime_c/` (see pyproject.toml); in a
source checkout they are the top-level folders beside the package.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _folder(installed: str, checkout: str) -> Path:
    for candidate in (_PACKAGE / installed, _PACKAGE.parent / checkout):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"snndsl is installed without its {checkout}/ folder (looked in "
                            f"{_PACKAGE / installed} and {_PACKAGE.parent / checkout})")


def grammar_text() -> str:
    return (_folder("_grammar", "grammar") / "snn.lark").read_text()


def runtime_dir() -> Path:
    return _folder("_runtime_c", "runtime_c")
