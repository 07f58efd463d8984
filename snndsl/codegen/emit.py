"""Emitting stage: `CModel` -> the text of model.c, through jinja2 templates."""
from __future__ import annotations

import functools
import os
import re

from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined

from snndsl.codegen.c_expr import c_string
from snndsl.codegen.view import CModel


class _CompiledTemplates(FileSystemBytecodeCache):
    """The templates compiled once, kept in the build cache (templates/):
    jinja2 checks each against its template's text and its own version. A
    cache that cannot be read or written is compiled around, never an error."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # damaged or foreign: compile the template again
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            os.makedirs(self.directory, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    from snndsl.build.cc import cache_root
    env = Environment(loader=PackageLoader("snndsl", "templates"), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      autoescape=False, bytecode_cache=_CompiledTemplates(str(cache_root() / "templates")))
    env.filters["c_string"] = c_string
    # text that is not an identifier (the model's file name) in a C comment:
    # nothing that could end the comment or start a trigraph
    env.filters["c_comment"] = lambda s: re.sub(r"[^A-Za-z0-9_ .,:+=-]", "?", s)
    env.filters["c_string_body"] = lambda s: c_string(s)[1:-1].replace("%", "%%")
    return env


def render(view: CModel) -> str:
    return _env().get_template("model.c.j2").render(m=view)
