"""In-process runs: libmodel.so through cffi, declared by runtime_c/snn_api.h.

`ffi.cdef` reads the API header itself, so Python and C share one
declaration of the boundary.
"""
from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import cffi

from snndsl import resources


@functools.lru_cache(maxsize=1)
def ffi() -> cffi.FFI:
    f = cffi.FFI()
    f.cdef((resources.runtime_dir() / "snn_api.h").read_text())
    return f


@functools.lru_cache(maxsize=None)
def _open(path: str, key: str):
    return ffi().dlopen(path)


def load_library(library: Path, key: str):
    """dlopen the library. The dynamic loader caches by path, so a library
    rebuilt in place is loaded from a copy named by its content key."""
    copy = library.with_name(f".libmodel-{key[:20]}.so")
    if not copy.exists():
        tmp = copy.with_name(copy.name + f".{os.getpid()}")
        shutil.copyfile(library, tmp)
        os.replace(tmp, copy)
    return _open(str(copy), key)
