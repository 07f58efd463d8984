"""Each benchmark's section of bench/RESULTS.md, between its markers.

A script writes its own section and leaves every other one as it is:
`write_section(text, path, begin, end)` replaces what lies between `begin`
and `end` (the text holds both markers), or appends the text where the file
has no such section yet.
"""
from __future__ import annotations

from pathlib import Path


def markers(script: str) -> tuple[str, str]:
    """The markers of `script`'s section ("memory_bench.py")."""
    return (f"<!-- BEGIN {script} section: generated, do not edit by hand -->",
            f"<!-- END {script} section -->")


def write_section(text: str, path_md: Path, begin: str, end: str) -> None:
    old = path_md.read_text() if path_md.exists() else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + text + rest.split(end, 1)[1].lstrip("\n")
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text
    path_md.write_text(new)
