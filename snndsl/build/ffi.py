"""In-process runs: libmodel.so through cffi, declared by runtime_c/snn_api.h.

`ffi.cdef` reads the API header itself, so Python and C share one
declaration of the boundary.
"""
from __future__ import annotations

import functools
from pathlib import Path

import cffi

from snndsl import resources
from snndsl.build import cc


@functools.lru_cache(maxsize=1)
def ffi() -> cffi.FFI:
    f = cffi.FFI()
    f.cdef((resources.runtime_dir() / "snn_api.h").read_text())
    return f


@functools.lru_cache(maxsize=None)
def _load(folder: Path, digest: str):
    copy = folder / f".libmodel-{digest[:20]}.so"
    if cc.sha256_file(copy) != digest:
        cc.clean_temporaries(folder)
        try:
            cc.copy_new(folder / "libmodel.so", copy)
        except OSError as exc:
            raise cc.BuildDirError(f"cannot load the model from '{folder}': {exc.strerror}") from None
        if cc.sha256_file(copy) != digest:
            copy.unlink(missing_ok=True)
            raise cc.BuildDirError(f"'{folder / 'libmodel.so'}' changed after the model was compiled; "
                                   "compile it again")
    return ffi().dlopen(str(copy))


def load_library(artifact: cc.Artifact):
    """dlopen the artifact's library, only if it is the one its build
    verified. The dynamic loader caches by path, so the library is loaded
    from a copy named by its content hash, checked before every first load."""
    if not artifact.library_sha256:
        raise cc.BuildDirError(f"'{artifact.library}' was not verified by a build; compile the model")
    return _load(artifact.dir, artifact.library_sha256)
