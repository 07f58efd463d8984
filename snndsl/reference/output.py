"""A results folder written by the reference backend, as the C's snn_results_write.

The same files (`manifest.json`, one `.npy` per array) under the same rules:
a folder that is absent, empty or snndsl's (its mark `.snndsl-results`, or a
manifest of the results format) is written, any other is refused
untouched, as are the root and the home folder; every file is written as a
temporary in the folder and renamed over its name; the old manifest goes
first and the new one comes last, so a crash never leaves a manifest that
lies; files of the previous write that this one does not name are removed.
"""
from __future__ import annotations

import io
import json
import os
import socket
from pathlib import Path

import numpy as np

FORMAT = "snndsl-results/1"
MARK = ".snndsl-results"
TMP_PREFIX = ".snndsl-tmp-"


class OutputError(Exception):
    """The folder cannot be written: the reason, as the C says it."""


def _plain(name: str) -> bool:
    return bool(name) and "/" not in name and name not in (".", "..", "manifest.json", "manifest.json.tmp") \
        and not name.startswith(".snndsl")


def _owned(folder: Path) -> list[str] | None:
    """The files the last write made, if the folder is snndsl's; else None."""
    try:
        mark = (folder / MARK).read_text().split("\n")
        if mark[0] == FORMAT:
            return [n for n in mark[1:] if _plain(n)]
    except (OSError, UnicodeDecodeError):
        pass
    try:
        if json.loads((folder / "manifest.json").read_text()[:1 << 20]).get("format") == FORMAT:
            return []
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _same(folder: Path, other: str | None) -> bool:
    try:
        return bool(other) and os.path.samefile(folder, other)
    except OSError:
        return False


def _write(folder: Path, name: str, data: bytes) -> None:
    tmp = folder / f"{TMP_PREFIX}{os.getpid()}-{socket.gethostname()[:32]}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / name)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write '{name}': {exc.strerror or exc}") from None


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, np.ascontiguousarray(array), allow_pickle=False)
    return out.getvalue()


def write_results(path, manifest: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` (by file name) and `manifest` into the folder `path`."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(exc.strerror or str(exc)) from None
    if not folder.is_dir():
        raise OutputError("not a folder")
    if _same(folder, "/"):
        raise OutputError("it is the root folder; choose an empty or new folder")
    if _same(folder, os.environ.get("HOME")):
        raise OutputError("it is the home folder; choose an empty or new folder")
    present = sorted(os.listdir(folder))
    old = _owned(folder) if present else []
    if old is None:
        names = ", ".join(present[:5]) + (f" and {len(present) - 5} more" if len(present) > 5 else "")
        raise OutputError(f"it holds files snndsl did not write ({names}); choose an empty or new folder")
    now = [name for name in arrays if _plain(name)]
    _write(folder, MARK, ("\n".join([FORMAT, *old, *[n for n in now if n not in old]]) + "\n").encode())
    (folder / "manifest.json").unlink(missing_ok=True)  # from now on no manifest can lie
    for name, array in arrays.items():
        _write(folder, name, _npy(array))
    _write(folder, "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    _write(folder, MARK, ("\n".join([FORMAT, *now]) + "\n").encode())
    for name in old:
        if name not in now:
            (folder / name).unlink(missing_ok=True)
