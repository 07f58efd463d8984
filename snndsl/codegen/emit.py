"""Emitting stage: `CModel` -> the text of model.c, through jinja2 templates."""
from __future__ import annotations

import functools
import re

from jinja2 import Environment, PackageLoader, StrictUndefined

from snndsl.codegen.c_expr import c_string
from snndsl.codegen.view import CModel


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("snndsl", "templates"), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      autoescape=False)
    env.filters["c_string"] = c_string
    # text that is not an identifier (the model's file name) in a C comment:
    # nothing that could end the comment or start a trigraph
    env.filters["c_comment"] = lambda s: re.sub(r"[^A-Za-z0-9_ .,:+=-]", "?", s)
    env.filters["c_string_body"] = lambda s: c_string(s)[1:-1].replace("%", "%%")
    return env


def render(view: CModel) -> str:
    return _env().get_template("model.c.j2").render(m=view)
