"""The `snndsl` command: check, compile, run, info, plot.

Every failure a user can cause ends in a diagnostic and exit status 1;
a bug in snndsl prints one line asking to report it (`--debug` shows the
traceback).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from snndsl import driver
from snndsl.build import cc
from snndsl.diagnostics import CompileError, InternalError, render_all

EXIT_OK, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 130


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but a mistake on the command line is a user error like any
    other: usage, one `snndsl: error[E0601]: ...` line and exit status 1 (not 2,
    which this command keeps for its own bugs)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        print(f"snndsl: error[E0601]: {message}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def _parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(prog="snndsl", description="Compile and run spiking neural network "
                                "experiments written in the .snn language.")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("check", help="check a model: exit 0, or diagnostics and exit 1")
    c.add_argument("model")

    c = sub.add_parser("compile", help="compile a model to BUILD/model and BUILD/libmodel.so")
    c.add_argument("model")
    c.add_argument("-o", "--output", metavar="BUILD", help="build folder (default: the build cache)")
    c.add_argument("--emit", choices=("ast", "ir", "c"), help="print a stage's output instead of building")
    c.add_argument("--no-opt", action="store_true", help="skip the optimization passes")
    c.add_argument("--ranks", action="store_true", help="build for MPI ranks, with mpicc: run it with "
                   "'mpiexec -n N BUILD/model' (the results are the same for any N)")

    r = sub.add_parser("run", help="compile (cached) and run a model, writing RESULTS")
    r.add_argument("model")
    r.add_argument("-o", "--output", metavar="RESULTS", default="results", help="results folder (default: results)")
    r.add_argument("--set", metavar="NAME=VALUE", action="append", default=[], help="set a parameter, e.g. --set 'rate=20 Hz'")
    r.add_argument("--data", metavar="NAME=PATH", action="append", default=[], help="read a data array from PATH")
    r.add_argument("--seed", help="random seed (default: the model's)")
    r.add_argument("--threads", metavar="N", help="threads for the time step (default 1; 0: every core); the "
                                                  "results are the same for any number")
    r.add_argument("--ranks", metavar="N", help="run on N MPI ranks (mpiexec -n N; pip install "
                   "\"snndsl[mpi]\"); the results are the same for any number")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress or summary")
    r.add_argument("--backend", choices=driver.BACKENDS, default=None,
                   help="c: the generated C program (the default where a C compiler is installed); "
                        "reference: the IR interpreted with numpy (slow, exact; the fallback without a compiler)")

    i = sub.add_parser("info", help="summarise a results folder")
    i.add_argument("results")

    pl = sub.add_parser("plot", help="plot monitors or saved arrays of a results folder")
    pl.add_argument("results")
    pl.add_argument("names", nargs="*", metavar="NAME",
                    help="monitors (every one by default), or one saved array (a histogram) or two "
                         "(before and after)")
    pl.add_argument("-o", "--output", metavar="FILE.png")
    pl.add_argument("--window", default="10 ms", help="smoothing window of population rates (default 10 ms)")
    pl.add_argument("--matrix", action="store_true", help="a saved synaptic array as a pre x post matrix")
    pl.add_argument("--fields", metavar="HxW", help="a saved synaptic array as an H x W image per postsynaptic "
                    "neuron (receptive fields)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except CompileError as exc:
        print(render_all(exc.diagnostics, exc.sources), file=sys.stderr)
        return EXIT_ERROR
    except (driver.SimulationError, UserFacingError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("snndsl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if args.debug:
            raise
        kind = "internal error" if isinstance(exc, InternalError) else f"internal error ({type(exc).__name__})"
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"snndsl: {kind}: {first}\nThis is a bug in snndsl; please report it with the model "
              "(run with --debug for details).", file=sys.stderr)
        return EXIT_INTERNAL


class UserFacingError(Exception):
    pass


def _warn(warnings, file: str, source: str) -> None:
    if warnings:
        print(render_all(list(warnings), {file: source}), file=sys.stderr)


def _check(args) -> int:
    source, file = driver.read_source(args.model)
    _, _, warnings = driver.diagnose(source, file)
    _warn(warnings, file, source)
    return EXIT_OK


def _compile(args) -> int:
    source, file = driver.read_source(args.model)
    passes = () if args.no_opt else driver.PIPELINE
    if args.emit == "ast":
        from snndsl.syntax.parse import parse_source
        for d in parse_source(source, file).decls:
            print(d)
        return EXIT_OK
    fe = driver.frontend(source, file, passes, ranks=args.ranks)
    _warn(fe.warnings, fe.ast.file, fe.source)
    if args.emit == "ir":
        from snndsl.ir.dump import dump
        sys.stdout.write(dump(fe.ir))
        return EXIT_OK
    if args.emit == "c":
        sys.stdout.write(fe.c_source)
        return EXIT_OK
    art = _build(fe, args.output, args.ranks)
    print(f"built {art.binary} and {art.library}" + (" for MPI ranks" if args.ranks else ""))
    return EXIT_OK


def _build(fe: driver.Frontend, out, ranks: bool = False) -> cc.Artifact:
    """Build (cached); a folder that cannot be used is a cc.BuildDirError, a CompileError."""
    if ranks:
        try:
            cc.mpi_tools()
        except cc.NoMPIError as exc:
            raise UserFacingError(f"snndsl: error[E0601]: --ranks: {exc}") from None
    return cc.build(fe.c_source, Path(out) if out else None, mpi=ranks)


def _split(items: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UserFacingError(f"snndsl: error[E0601]: {flag} takes NAME=VALUE, not '{item}'")
        out.append((name.strip(), value))
    return out


def _run(args) -> int:
    source, file = driver.read_source(args.model)
    fe = driver.frontend(source, file)
    _warn(fe.warnings, fe.ast.file, fe.source)
    sets, datas = _split(args.set, "--set"), _split(args.data, "--data")
    seed = None
    if args.seed is not None:
        text = args.seed.strip()
        if not (text.isascii() and text.isdigit()) or int(text) >= driver.SEED_LIMIT:
            raise UserFacingError(f"snndsl: error[E0601]: --seed expects an integer from 0 to 2**64-1, "
                                  f"got '{args.seed}'")
        seed = int(text)
    threads = None
    if args.threads is not None:
        text = args.threads.strip()
        if not (text.isascii() and text.isdigit()) or int(text) > driver.MAX_THREADS:
            raise UserFacingError(f"snndsl: error[E0601]: --threads expects a number of threads from 1 to "
                                  f"{driver.MAX_THREADS}, or 0 for every core, got '{args.threads}'")
        threads = int(text)
    ranks = None
    if args.ranks is not None:
        text = args.ranks.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_RANKS:
            raise UserFacingError(f"snndsl: error[E0601]: --ranks expects a number of ranks from 1 to "
                                  f"{MAX_RANKS}, got '{args.ranks}'")
        ranks = int(text)
        if threads not in (None, 1):
            raise UserFacingError("snndsl: error[E0601]: --ranks runs one thread a rank for now: leave out "
                                  "--threads (or --ranks)")
        if args.backend == "reference":
            raise UserFacingError("snndsl: error[E0601]: --ranks runs the C backend; the reference backend "
                                  "runs in this process (leave out --ranks or --backend reference)")
        fe = driver.frontend(source, file, ranks=True)
    if args.backend == "reference":
        return _run_reference(fe, file, args, sets, datas, seed)
    try:
        art = _build(fe, None, ranks is not None)
    except cc.NoCompilerError as exc:
        if args.backend == "c":
            raise
        driver.check_reference(fe, exc)
        print(f"snndsl: warning: {driver.fallback_message(exc)}", file=sys.stderr)
        return _run_reference(fe, file, args, sets, datas, seed)
    cmd = [str(art.binary), "-o", args.output]
    for name, value in sets:
        cmd += ["--set", f"{name}={value}"]
    for name, path in datas:
        cmd += ["--data", f"{name}={path}"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    if args.quiet:
        cmd.append("--quiet")
    env = None
    if ranks is not None:
        cmd, env = _mpiexec(ranks, cmd)
    returncode = _run_child(cmd, env, ranks is not None)
    if returncode == -signal.SIGINT:  # Ctrl-C before the binary could catch it
        print(f"snndsl: interrupted; no results were written to {args.output}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if returncode < 0:
        raise UserFacingError(f"snndsl: error[E0601]: the model binary {art.binary} was killed by "
                              f"{_signal_name(-returncode)}; no results were written to {args.output}")
    if returncode not in (0, EXIT_INTERRUPTED):
        return EXIT_ERROR
    if not args.quiet:
        _summary(args.output)
    return EXIT_INTERRUPTED if returncode == EXIT_INTERRUPTED else EXIT_OK


def _run_reference(fe: driver.Frontend, file: str, args, sets, datas, seed) -> int:
    """The run on the reference backend, in this process: the same results folder."""
    from snndsl.reference.output import OutputError, write_results
    driver.check_reference(fe)
    if args.threads is not None and args.threads.strip() not in ("1", "0") and not args.quiet:
        print("snndsl: note: the reference backend runs on one thread (--threads changes no result)",
              file=sys.stderr)
    model = driver.Model(fe, None, file, "reference")
    sim = model.simulation(params=dict(sets), seed=seed, data=dict(datas))
    sim.run_protocol()
    engine = sim._engine
    try:
        write_results(args.output, engine.manifest(), engine.arrays())
    except OutputError as exc:
        raise UserFacingError(f"error[E0601]: cannot write results to '{args.output}': {exc}") from None
    if not args.quiet:
        _summary(args.output)
    return EXIT_OK


def _signal_name(number: int) -> str:
    """'SIGXFSZ (file size limit exceeded)' for a signal number."""
    try:
        sig = signal.Signals(number)
    except ValueError:
        return f"signal {number}"
    why = signal.strsignal(sig)
    return f"{sig.name} ({why.lower()})" if why else sig.name


def _die_with_parent(parent: int):
    """A function for Popen's preexec_fn: the child gets SIGKILL when this
    process dies, even by `kill -9` (Linux's PR_SET_PDEATHSIG), so no model
    binary is left running as an orphan. Elsewhere, None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def arm() -> None:
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(EXIT_INTERRUPTED)
    return arm


MAX_RANKS = 4096


def _mpiexec(ranks: int, cmd: list[str]) -> tuple[list[str], dict]:
    """`cmd` under mpiexec on this machine: more ranks than cores are allowed
    (--oversubscribe), and Open MPI is told that running as root is wanted."""
    _, mpiexec = cc.mpi_tools()
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    over = ["--oversubscribe"] if ranks > (os.cpu_count() or 1) else []
    return [mpiexec, "-n", str(ranks), *over, *cmd], env


def _run_child(cmd: list[str], env: dict | None = None, ranks: bool = False) -> int:
    """Run the model binary. Ctrl-C reaches it too (same process group); it
    stops at the end of a step and writes what it recorded, so this process
    waits for it instead of dying first. It never outlives this process.
    `ranks`: `cmd` is mpiexec, which would kill the ranks on Ctrl-C; it runs
    in a session of its own, and Ctrl-C here becomes a SIGUSR1 to it, which it
    passes on to every rank: they stop at the same step and write."""
    proc = subprocess.Popen(cmd, preexec_fn=_die_with_parent(os.getpid()), env=env, start_new_session=ranks)
    handler = (lambda signum, frame: proc.send_signal(signal.SIGUSR1)) if ranks else signal.SIG_IGN
    previous = signal.signal(signal.SIGINT, handler)
    try:
        return proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def _summary(folder) -> None:
    from snndsl.results import load
    res = load(folder)
    m = res.manifest
    print(f"{m['model']}: {len(res.phases)} phases, simulated {max((s for _, s in res.phases.values()), default=0):g} s "
          f"in {m['timings']['run']:.3g} s wall")
    for name, mon in res.monitors.items():
        if mon.kind == "state":
            print(f"  {name}: {mon.group}.{mon.variable}, {mon.values.shape[0]} samples x {mon.values.shape[1]}")
        elif mon.kind == "spikes":
            what = "spikes" if mon.event == "spike" else f"{mon.event} events"
            print(f"  {name}: {len(mon.i)} {what} of {mon.group}{mon.part}")
        else:
            print(f"  {name}: rate of {mon.group}{mon.part}, {len(mon.t)} samples")
    for name, arr in res.saved.items():
        print(f"  saved {name}: shape {arr.shape}")


def _info(args) -> int:
    from snndsl.results import ResultsError, load
    try:
        res = load(args.results)
    except ResultsError as exc:
        raise UserFacingError(f"snndsl: error: {exc}") from None
    m = res.manifest
    print(f"model {m['model']} (dt = {m['dt']:g} s, seed {m['seed']})" + (" INTERRUPTED" if res.interrupted else ""))
    for name, (a, b) in res.phases.items():
        print(f"  phase {name}: {a:g} s .. {b:g} s")
    for k, v in res.params.items():
        print(f"  param {k} = {v:g} {m['params'][k]['unit']}")
    _summary(args.results)
    return EXIT_OK


def _plot(args) -> int:
    from snndsl.plot import plot_results, synapse_matrix
    from snndsl.results import ResultsError, load
    try:
        res = load(args.results)
    except ResultsError as exc:
        raise UserFacingError(f"snndsl: error: {exc}") from None
    names = args.names
    for name in names:
        if name not in res and name not in res.saved:
            raise UserFacingError(f"snndsl: error: no monitor '{name}' (monitors: "
                                  f"{', '.join(res.monitors) or 'none'}; saved arrays: "
                                  f"{', '.join(res.saved) or 'none'})")
    saved = [n for n in names if n in res.saved and n not in res]
    if saved and (len(saved) != len(names) or len(saved) > 2):
        raise UserFacingError("snndsl: error: plot monitors, or one saved array (a histogram) or two (before "
                              f"and after), not {' '.join(names)}")
    if len(saved) == 2 and np.size(res.saved[saved[0]]) != np.size(res.saved[saved[1]]):
        raise UserFacingError(f"snndsl: error: '{saved[0]}' and '{saved[1]}' differ in size: before and after "
                              "need one value per element each")
    if not names and not res.monitors:
        raise UserFacingError(f"snndsl: error: nothing to plot: the model of '{args.results}' records no "
                              "monitor (add one, e.g. `monitor spk: spikes of G`)")
    window = _seconds(args.window, "--window")
    fields = None
    if args.fields is not None:
        parts = args.fields.lower().split("x")
        if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise UserFacingError(f"snndsl: error: --fields takes HxW, such as 28x28, not {args.fields!r}")
        fields = (int(parts[0]), int(parts[1]))
    if (args.matrix or fields) and (len(names) != 1 or names[0] not in res.saved_indices):
        raise UserFacingError("snndsl: error: --matrix and --fields draw one saved array of a synapse group "
                              f"(saved: {', '.join(res.saved_indices) or 'none'})")
    n_pre = synapse_matrix(res, names[0]).shape[0] if fields else 0
    if fields and fields[0] * fields[1] != n_pre:
        raise UserFacingError(f"snndsl: error: --fields {args.fields}: {fields[0] * fields[1]} pixels, but "
                              f"{names[0]} has {n_pre} presynaptic neurons")
    out = args.output or os.path.join(args.results, f"{'_'.join(names) or 'results'}.png")
    plot_results(res, names or None, out, window, args.matrix, fields)
    print(f"wrote {out}")
    return EXIT_OK


def _seconds(text: str, what: str) -> float:
    from snndsl.driver import SimulationError, _duration
    try:
        value = _duration(text)
    except SimulationError:
        value = -1.0
    if not value > 0:
        raise UserFacingError(f"snndsl: error: {what} takes a duration such as '10 ms', not {text!r}")
    return value


_COMMANDS = {"check": _check, "compile": _compile, "run": _run, "info": _info, "plot": _plot}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
