"""The user documentation runs as written.

docs/api.md: every ```python block runs, in order, in one namespace, in a
temporary working folder that holds examples/freeze_after_learning.snn (the
examples are written for the repository's root folder). Their `assert`s are
the page's claims.

docs/tutorial.md, in order, in a temporary working folder:
- a block opened with ```LANG FILE (```snn forum.snn, ```python analyse.py)
  is written to FILE; several blocks of one file are its pieces, joined by a
  blank line;
- every line of a ```console block that starts with `$ ` is a command, run
  with bash; the lines after it, up to the next `$ ` line, are what it prints
  (stdout and stderr together, as in a terminal). The command must exit with
  status 0 (a command shown failing is written `...; echo "exit status: $?"`)
  and print exactly that, except for what truly varies: the wall times
  (`in 0.000865 s wall`), a progress line (the program prints one only when a
  run lasts more than a second of wall time) and matplotlib's one-time
  font-cache notice.
`snndsl` and `python` are this checkout's, whatever is installed.

The two tests that run things need a C compiler (needs_cc) and take about
10 s together; the others check the documents' markup.

`pytest tests/test_docs.py --update-golden` rewrites the outputs shown in
docs/tutorial.md with the real ones and copies the figures the tutorial's
commands draw into docs/ (then read the diff).
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

DOCS = ROOT / "docs"
API, TUTORIAL = DOCS / "api.md", DOCS / "tutorial.md"
README = ROOT / "README.md"
FORUM = EXAMPLES / "freeze_after_learning.snn"

FENCE = re.compile(r"^```(\S*)\s*(\S*)\s*$")
PROMPT = "$ "
TUTORIAL_LANGUAGES = {"console", "snn", "python"}  # any other fence in the tutorial is a mistake


@dataclass
class Block:
    lang: str
    file: str            # the file name after the language, or ""
    line: int            # the line number (from 1) of the block's first line of content
    lines: list[str] = field(default_factory=list)
    end: int = 0         # the line number of the closing fence

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a markdown file (fences at the start of a line)."""
    found, current = [], None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if current is None:
            m = FENCE.match(line)
            if m:
                current = Block(m.group(1), m.group(2), number + 1)
        elif line.rstrip() == "```":
            current.end = number
            found.append(current)
            current = None
        else:
            current.lines.append(line)
    assert current is None, f"{path.name}: the block opened at line {current.line - 1} is not closed"
    return found


@dataclass
class Command:
    command: str
    line: int                      # of the `$ ` line in the markdown
    output: list[str]              # the lines shown after it
    block: Block


def commands(block: Block) -> list[Command]:
    assert block.lines and block.lines[0].startswith(PROMPT), \
        f"line {block.line}: a console block starts with a `$ ` command"
    found = []
    for k, line in enumerate(block.lines):
        if line.startswith(PROMPT):
            found.append(Command(line[len(PROMPT):], block.line + k, [], block))
        else:
            found[-1].output.append(line)
    return found


# ---- what truly varies from one run to the next -----------------------------

_WALL = re.compile(r"\bin [0-9][0-9.e+-]* s wall\b")
_PROGRESS = re.compile(r"(?:\r\[snndsl\] [^\r\n]*\([0-9.]+ s wall\) *)+\n")
_FONT_CACHE = re.compile(r"^Matplotlib is building the font cache.*\n", re.MULTILINE)


def normalise(text: str) -> str:
    text = _PROGRESS.sub("", text)
    text = _FONT_CACHE.sub("", text)
    text = _WALL.sub("in <wall time> s wall", text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def test_normalise_keeps_all_but_what_varies():
    assert normalise("forum: 3 phases, simulated 2 s in 0.000865 s wall\n") == \
        normalise("forum: 3 phases, simulated 2 s in 1.2e-05 s wall\n")
    assert normalise("simulated 2 s in 0.1 s wall\n") != normalise("simulated 3 s in 0.1 s wall\n")
    progress = "\r[snndsl] phase train  t = 0.500 s  (1.0 s wall)\r[snndsl] phase test  t = 1.5 s  (1.5 s wall)\n"
    assert normalise(progress + "[snndsl] done: results in results/\n") == "[snndsl] done: results in results/"
    assert normalise("210 spikes\n") != normalise("211 spikes\n")


# ---- the shape of the documents ---------------------------------------------

def test_every_api_section_has_an_example():
    text = API.read_text().splitlines()
    python = [b for b in blocks(API) if b.lang == "python"]
    headings = [n for n, line in enumerate(text, 1) if line.startswith("## ")]
    for start, stop in zip(headings, headings[1:] + [len(text) + 1]):
        assert any(start < b.line < stop for b in python), f"docs/api.md:{start}: {text[start - 1]} has no example"
    assert len(headings) >= 7


def test_tutorial_markup():
    found = blocks(TUTORIAL)
    for b in found:
        assert b.lang in TUTORIAL_LANGUAGES, f"docs/tutorial.md:{b.line - 1}: a ```{b.lang} block"
        assert (b.lang == "console") == (b.file == ""), \
            f"docs/tutorial.md:{b.line - 1}: files are ```snn FILE or ```python FILE, commands ```console"
    shown = [c.command for b in found if b.lang == "console" for c in commands(b)]
    for needed in ("snndsl check", "snndsl run", "snndsl info", "snndsl plot", "python "):
        assert any(c.startswith(needed) for c in shown), f"the tutorial shows no `{needed}`"
    # the tutorial writes the repository's example, piece by piece
    pieces = [b.text.strip("\n") for b in found if b.file == "forum.snn"]
    assert "\n\n".join(pieces) + "\n" == FORUM.read_text(), \
        "docs/tutorial.md's forum.snn is no longer examples/freeze_after_learning.snn"
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", TUTORIAL.read_text()):
        assert (DOCS / image).is_file(), f"docs/tutorial.md shows {image}, which is not in docs/"


def test_readme_links_the_documentation():
    text = README.read_text()
    for page in ("docs/api.md", "docs/tutorial.md"):
        assert f"]({page})" in text


# ---- running them -----------------------------------------------------------

@pytest.mark.needs_cc
def test_api_examples_run(tmp_path, monkeypatch):
    (tmp_path / "examples").mkdir()
    shutil.copy(FORUM, tmp_path / "examples" / FORUM.name)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_api"}
    python = [b for b in blocks(API) if b.lang == "python"]
    assert len(python) >= 8
    for b in python:
        # padded so that a traceback names the line of docs/api.md
        code = compile("\n" * (b.line - 1) + b.text, str(API), "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples


def _environment(bin_dir: Path) -> dict:
    for name, line in (("snndsl", f'exec "{sys.executable}" -m snndsl "$@"'),
                       ("python", f'exec "{sys.executable}" "$@"')):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{line}\n")
        script.chmod(0o755)
    path = os.pathsep.join(p for p in dict.fromkeys([str(ROOT), *os.environ.get("PYTHONPATH", "").split(os.pathsep)])
                           if p)
    return dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=path,
                PYTHONUNBUFFERED="1", MPLBACKEND="Agg", LC_ALL="C")


def _run(command: Command, cwd: Path, env: dict) -> str:
    proc = subprocess.run(["bash", "-c", command.command], check=False, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, (f"docs/tutorial.md:{command.line}: `{command.command}` exited with "
                                  f"status {proc.returncode}:\n{proc.stdout}")
    return proc.stdout


def _update(runs: list[tuple[Command, str]], work: Path) -> None:
    """Rewrite the outputs shown in docs/tutorial.md with `runs`' real ones."""
    lines = TUTORIAL.read_text().splitlines()
    for command, output in sorted(runs, key=lambda r: -r[0].line):  # from the end: line numbers hold
        first = command.line  # index of the line after the `$ ` line
        last = first + len(command.output)
        lines[first:last] = [line.rstrip() for line in output.splitlines()]
    TUTORIAL.write_text("\n".join(lines) + "\n")
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", TUTORIAL.read_text()):
        if (work / image).is_file():
            shutil.copy(work / image, DOCS / image)


@pytest.mark.needs_cc
def test_tutorial_commands_print_what_it_shows(tmp_path, update_golden):
    work, bin_dir = tmp_path / "work", tmp_path / "bin"
    work.mkdir()
    bin_dir.mkdir()
    env = _environment(bin_dir)
    files: dict[str, list[str]] = {}
    runs, mismatches = [], []
    for b in blocks(TUTORIAL):
        if b.file:
            files.setdefault(b.file, []).append(b.text.strip("\n"))
            (work / b.file).write_text("\n\n".join(files[b.file]) + "\n")
            continue
        for command in commands(b):
            real = _run(command, work, env)
            runs.append((command, real))
            shown = "\n".join(command.output)
            if normalise(real) != normalise(shown):
                diff = "\n".join(difflib.unified_diff(normalise(shown).splitlines(), normalise(real).splitlines(),
                                                      "shown in docs/tutorial.md", "printed", lineterm=""))
                mismatches.append(f"docs/tutorial.md:{command.line}: $ {command.command}\n{diff}")
    assert len(runs) >= 10
    for png in ("tutorial_plot.png", "tutorial_weights.png", "seed7.png"):
        assert (work / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    if update_golden:
        _update(runs, work)
        return
    assert not mismatches, ("what the tutorial shows is not what its commands print "
                            "(pytest tests/test_docs.py --update-golden rewrites it):\n\n" + "\n\n".join(mismatches))


@pytest.mark.needs_cc
def test_readme_python_runs_as_a_user_types_it(tmp_path, monkeypatch):
    """The README's Python block, in a checkout's layout, after its first command
    (`snndsl run examples/freeze_after_learning.snn -o results/`)."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    subprocess.run([sys.executable, "-m", "snndsl", "run", "examples/freeze_after_learning.snn", "-o", "results/",
                    "-q"], check=True, capture_output=True)
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    exec(compile(code, str(README), "exec"), {})
    assert (tmp_path / "half.state").is_file()
