"""Progress of in-process runs, reported through Python.

The compiled simulation runs in a worker thread; the calling thread reads
what it is doing (`snn_sim_progress`) a few times a second and hands it to a
reporter, as a `Progress`. So progress goes where Python's output goes (a
notebook shows it; `quiet` silences it), never straight to the process's
stderr descriptor. The reporter is a callback the user gives
(`model.run(progress=fn)`), or by default, unless quiet, a tqdm bar when
tqdm is installed, else a line on `sys.stderr`: rewritten in place in a
terminal, a plain line every 10 s otherwise (a log file gets no `\\r`).
Like the binary's, it starts once a run has lasted a second.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable

# Reported once the whole has lasted AFTER seconds, then every EVERY seconds
# (the default line: every LOG_EVERY seconds when not in a terminal).
AFTER, EVERY, LOG_EVERY = 1.0, 0.5, 10.0


@dataclass(frozen=True)
class Progress:
    """What an in-process simulation is doing."""

    what: str  #: the phase ("train"), "advance", or a setup step ("connecting S")
    t: float  #: the simulated time, in seconds
    run: tuple[float, float]  #: the current run's start and end, in simulated seconds
    fraction: float  #: of the current run (or setup step) done, 0 to 1
    wall: float  #: seconds since the setup or the run began
    remaining: float | None  #: about how many wall seconds the current run still takes, if known

    def line(self) -> str:
        if self.run == (0.0, 0.0) and self.t == 0.0:  # a setup step ("connecting S")
            return f"[snndsl] {self.what}  {100 * self.fraction:.0f}%  ({self.wall:.1f} s wall)"
        left = f", about {self.remaining:.1f} s left" if self.remaining is not None else ""
        return (f"[snndsl] phase {self.what}  t = {self.t:.3f} s  ({100 * self.fraction:.0f}% of this run{left})  "
                f"{self.wall:.1f} s wall")


def read(lib, ffi, ptr) -> Progress:
    info = ffi.new("snn_sim_progress_info *")
    lib.snn_sim_progress(ptr, info)
    done = min(max(info.done, 0.0), 1.0)
    remaining = info.run_wall * (1 - done) / done if 0.01 < done < 1 else None
    return Progress(ffi.string(info.what).decode("utf-8", "replace"), info.t, (info.t_from, info.t_to), done,
                    info.wall, remaining)


class _Paced:
    """Calls `report` at most every `every` seconds, once AFTER has passed."""

    def __init__(self, report: Callable[[Progress], None], every: float):
        self.report, self.every = report, every
        self.began = time.monotonic()
        self.last: float | None = None

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self.began < AFTER or (self.last is not None and now - self.last < self.every):
            return
        self.last = now
        self.report(p)

    def close(self) -> None:
        close = getattr(self.report, "close", None)
        if close is not None:
            close()


class _Line:
    def __init__(self, stream):
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.width = 0

    def __call__(self, p: Progress) -> None:
        text = p.line()
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width))
            self.width = max(self.width, len(text))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()


class _Bar:
    """A tqdm bar per run (or setup step), in percent of it."""

    def __init__(self, tqdm):
        self.tqdm, self.bar, self.key = tqdm, None, None

    def __call__(self, p: Progress) -> None:
        key = (p.what, p.run)
        if key != self.key:
            self.close()
            self.key = key
            self.bar = self.tqdm(total=100, desc=p.what, unit="%", leave=False,
                                 bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")
        self.bar.n = round(100 * p.fraction)
        self.bar.set_postfix_str(f"t = {p.t:.3f} s", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def reporter(progress: Callable[[Progress], None] | None, quiet: bool) -> _Paced | None:
    """What reports an in-process run's progress: the user's callback, else
    (unless quiet) a tqdm bar or a line on sys.stderr; None for nothing."""
    if progress is not None:
        if not callable(progress):
            from snndsl.driver import SimulationError
            raise SimulationError(f"progress takes a function of one snndsl.Progress, not {progress!r}")
        return _Paced(progress, EVERY)
    if quiet:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        line = _Line(sys.stderr)
        return _Paced(line, EVERY if line.tty else LOG_EVERY)
    return _Paced(_Bar(tqdm), EVERY)
