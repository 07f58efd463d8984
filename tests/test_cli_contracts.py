"""The commands of the README, typed as a user types them: through the installed
`snndsl` console script (next to sys.executable), in a working folder, with relative
paths. Each test checks what the command promises -- exit status, what it prints, the
files it writes and what they hold -- not only that it ran.

Without the console script (snndsl not installed with pip) these tests skip; in CI
(CI=true) they fail instead. The build cache is private to the test session
(tests/conftest.py); the commands inherit it.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT, skip_outside_ci

import snndsl

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOT_WIDTH, PLOT_PANEL_HEIGHT = 880, 286  # snndsl/plot.py: 8 x 2.6 inches per monitor at 110 dpi

# What a run of snndsl's own package prints: sha256 over its .py files, by relative path.
_PACKAGE_HASH = """
import hashlib, pathlib, snndsl
root = pathlib.Path(snndsl.__file__).parent
h = hashlib.sha256()
for p in sorted(root.rglob("*.py")):
    h.update(str(p.relative_to(root)).encode() + b"\\0" + p.read_bytes())
print(h.hexdigest())
"""


def _package_hash() -> str:
    root = Path(snndsl.__file__).parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def snndsl_exe() -> Path:
    """The installed console script, checked to run this checkout's snndsl."""
    exe = Path(sys.executable).parent / "snndsl"
    if not exe.is_file():
        skip_outside_ci(f"no installed snndsl console script at {exe} (pip install .)")
    first = exe.read_bytes().split(b"\n", 1)[0]
    if not first.startswith(b"#!"):
        pytest.fail(f"{exe} is not a script: {first[:80]!r}")
    interpreter = first[2:].decode().strip().split()[0]
    assert Path(interpreter).parent.resolve() == Path(sys.executable).parent.resolve(), \
        f"{exe} runs {interpreter}, not this environment's Python ({sys.executable})"
    theirs = subprocess.run([interpreter, "-c", _PACKAGE_HASH], capture_output=True, text=True, cwd="/",
                            check=False)
    if theirs.returncode != 0 or theirs.stdout.strip() != _package_hash():
        skip_outside_ci(f"the installed snndsl ({exe}) is not the snndsl under test "
                        f"({Path(snndsl.__file__).parent}); reinstall it (pip install .) or set PYTHONPATH")
    return exe


def _run(exe: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(exe), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False)
    text = proc.stdout + proc.stderr
    assert "Traceback (most recent call last)" not in text and "snndsl: internal error" not in text, text
    return proc


@pytest.fixture
def cli(snndsl_exe):
    """cli(*args, cwd=folder): the installed `snndsl ARGS...`, run in `folder`."""
    return lambda *args, cwd: _run(snndsl_exe, *args, cwd=cwd)


def _ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    return proc


def _user_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    for f in fragments:
        assert f in proc.stderr, f"{f!r} not in:\n{proc.stderr}"


def _read_png(path: Path) -> np.ndarray:
    """The pixels (height, width, channels) of a PNG, after checking that it is one:
    signature, an IHDR first, every chunk's CRC, an IEND last; decoded by matplotlib."""
    try:
        import matplotlib.image
    except ImportError:
        skip_outside_ci("matplotlib is not installed (a test dependency)")
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, data[:16]
    pos, chunks = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in chunk {kind!r} of {path}"
        chunks.append((kind, body))
        pos += 12 + length
    assert pos == len(data) and chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND", [k for k, _ in chunks]
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert any(k == b"IDAT" for k, _ in chunks)
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (height, width)
    return pixels


def _centre(pixels: np.ndarray) -> np.ndarray:
    """The middle of the image (inside the axes, away from labels), RGB."""
    h, w = pixels.shape[:2]
    return pixels[int(h * 0.3):int(h * 0.7), int(w * 0.3):int(w * 0.7), :3]


# ---- the console script ------------------------------------------------------------

def test_installed_console_script_lists_the_commands(cli, tmp_path):
    proc = _ok(cli("--help", cwd=tmp_path))
    assert proc.stdout.startswith("usage: snndsl ")
    listed = re.findall(r"^    (\w+) ", proc.stdout, re.MULTILINE)
    assert listed == ["check", "compile", "run", "info", "plot"], proc.stdout
    # no command: a user's mistake (exit 1, E0601), not argparse's exit 2 (snndsl's bugs)
    proc = cli(cwd=tmp_path)
    _user_error(proc, "snndsl: error[E0601]: ", "COMMAND")
    assert proc.stderr.startswith("usage: snndsl ")


def test_check_a_relative_model(cli, tmp_path):
    shutil.copy(EXAMPLES / "freeze_after_learning.snn", tmp_path / "model.snn")
    proc = _ok(cli("check", "model.snn", cwd=tmp_path))
    assert (proc.stdout, proc.stderr) == ("", "")
    (tmp_path / "typo.snn").write_text((tmp_path / "model.snn").read_text().replace("S.learned[w", "S.learnd[w"))
    proc = cli("check", "typo.snn", cwd=tmp_path)
    _user_error(proc, "error[E0201]", "did you mean 'learned'?")
    assert proc.stderr.startswith("typo.snn:37:7: error[E0201]: 'learnd' is not a variable of 'S'")


# ---- snndsl compile --no-opt -------------------------------------------------------

@pytest.mark.needs_cc
def test_compile_no_opt_builds_unoptimized_c_that_computes_the_same(cli, tmp_path):
    """freeze_after_learning.snn is where the optimizer matters: it folds constants
    (-1/tau to -50.0) and keeps the event-driven traces x and y per neuron (indexed by
    _i and _j, each with its own lastupdate) instead of per synapse. --no-opt keeps the
    C as written: per-synapse traces, one lastupdate, -1.0 / 0.02 unfolded."""
    shutil.copy(EXAMPLES / "freeze_after_learning.snn", tmp_path / "freeze.snn")
    for folder, flags in (("build_opt", ()), ("build_noopt", ("--no-opt",))):
        proc = _ok(cli("compile", "freeze.snn", *flags, "-o", f"{folder}/", cwd=tmp_path))
        here = tmp_path / folder
        assert proc.stdout == f"built {here / 'model'} and {here / 'libmodel.so'}\n"
        for name in ("model.c", "model", "libmodel.so", ".snndsl-build"):
            assert (here / name).is_file(), name
        # the folder holds what `--emit c` prints, with the same flags
        emitted = _ok(cli("compile", "freeze.snn", *flags, "--emit", "c", cwd=tmp_path)).stdout
        assert (here / "model.c").read_text() == emitted

    opt = (tmp_path / "build_opt" / "model.c").read_text()
    noopt = (tmp_path / "build_noopt" / "model.c").read_text()
    assert opt != noopt
    assert "v_lastupdate_pre" in opt and "v_lastupdate_post" in opt and "-50.0" in opt
    assert "sim->g_S.v_x = snn_alloc(sim, sim->g_inp.n," in opt
    assert "sim->g_S.v_y = snn_alloc(sim, sim->g_out.n," in opt
    assert "v_lastupdate_pre" not in noopt and "sim->g_S.v_lastupdate = snn_alloc(sim, sim->g_S.n," in noopt
    assert "sim->g_S.v_x = snn_alloc(sim, sim->g_S.n," in noopt
    assert "-1.0 / 0.02" in noopt and "-50.0" not in noopt

    # both binaries, run as the README runs them, give the same numbers
    for folder in ("build_opt", "build_noopt"):
        proc = subprocess.run([f"./{folder}/model", "-o", f"res_{folder}", "--seed", "3", "-q"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
    a, b = snndsl.load(tmp_path / "res_build_opt"), snndsl.load(tmp_path / "res_build_noopt")
    assert a.manifest["seed"] == b.manifest["seed"] == 3
    np.testing.assert_array_equal(a["out_spikes"].t, b["out_spikes"].t)
    np.testing.assert_array_equal(a["out_spikes"].i, b["out_spikes"].i)
    for name in ("trained_w", "tested_w"):
        np.testing.assert_allclose(a.saved[name], b.saved[name], rtol=0, atol=1e-12)
    np.testing.assert_allclose(a["weights"].values, b["weights"].values, rtol=0, atol=1e-12)
    assert not np.array_equal(a.saved["trained_w"], a.saved["tested_w"])  # it learned: the check has teeth


# ---- snndsl run examples/cuba.snn, info, plot ------------------------------------------

@pytest.fixture(scope="module")
def cuba_run(tmp_path_factory, snndsl_exe):
    """`snndsl run examples/cuba.snn` in a fresh working folder, with no -o: (folder, process)."""
    work = tmp_path_factory.mktemp("cuba_user")
    (work / "examples").mkdir()
    shutil.copy(EXAMPLES / "cuba.snn", work / "examples" / "cuba.snn")
    proc = _ok(_run(snndsl_exe, "run", "examples/cuba.snn", cwd=work))
    return work, proc


CUBA_FILES = {"exc_spikes.i.npy", "exc_spikes.t.npy", "inh_spikes.i.npy", "inh_spikes.t.npy"}


@pytest.mark.slow
@pytest.mark.needs_cc
def test_run_cuba_writes_the_default_results_folder(cuba_run):
    work, proc = cuba_run
    res = work / "results"  # the default of -o
    assert {p.name for p in work.iterdir()} == {"examples", "results"}
    assert {p.name for p in res.iterdir()} == {"manifest.json", ".snndsl-results"} | CUBA_FILES
    assert (res / ".snndsl-results").read_text().splitlines()[0] == "snndsl-results/1"
    m = json.loads((res / "manifest.json").read_text())
    assert m["format"] == "snndsl-results/1" and m["model"] == "cuba"
    assert (m["dt"], m["seed"], m["interrupted"]) == (1e-4, 1, False)
    assert m["source_hash"] == hashlib.sha256((EXAMPLES / "cuba.snn").read_bytes()).hexdigest()
    assert m["params"] == {"duration": {"value": 1, "unit": "second"}}
    assert [(p["name"], p["ran"], p["start"], p["stop"]) for p in m["phases"]] == [("simulate", True, 0, 1)]
    assert {k: (g["kind"], g.get("source"), g.get("target")) for k, g in m["groups"].items()} == {
        "exc": ("neurons", None, None), "inh": ("neurons", None, None),
        "exc_exc": ("synapses", "exc", "exc"), "exc_inh": ("synapses", "exc", "inh"),
        "inh_exc": ("synapses", "inh", "exc"), "inh_inh": ("synapses", "inh", "inh")}
    assert (m["groups"]["exc"]["size"], m["groups"]["inh"]["size"]) == (3200, 800)
    for name, (n_pre, n_post) in {"exc_exc": (3200, 3200), "exc_inh": (3200, 800),
                                  "inh_exc": (800, 3200), "inh_inh": (800, 800)}.items():
        pairs = n_pre * n_post  # rand() < 0.02 per pair: binomial, within 6 standard deviations
        assert abs(m["groups"][name]["size"] - 0.02 * pairs) < 6 * (0.02 * 0.98 * pairs) ** 0.5, name
    assert set(m["monitors"]) == {"exc_spikes", "inh_spikes"}
    for name, group, size in (("exc_spikes", "exc", 3200), ("inh_spikes", "inh", 800)):
        mon = m["monitors"][name]
        assert (mon["kind"], mon["group"]) == ("spikes", group)
        assert mon["files"] == {"i": f"{name}.i.npy", "t": f"{name}.t.npy"}
        i, t = np.load(res / mon["files"]["i"]), np.load(res / mon["files"]["t"])
        assert i.shape == t.shape and i.ndim == 1
        assert i.min() >= 0 and i.max() < size and t.min() >= 0 and t.max() < 1
        assert np.all(np.diff(t) >= 0)  # in time order
        np.testing.assert_allclose(t / 1e-4, np.round(t / 1e-4), atol=1e-6)  # at time steps
        rate = len(i) / size  # asynchronous irregular firing at a few Hz (README: about 5.6 Hz)
        assert 3 < rate < 10, (name, rate)
        assert len(np.unique(i)) > 0.5 * size  # most neurons fire, not a few
    # what `run` printed: the summary, then the binary's last line
    n_exc, n_inh = len(np.load(res / "exc_spikes.i.npy")), len(np.load(res / "inh_spikes.i.npy"))
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"cuba: 1 phases, simulated 1 s in [0-9.e+-]+ s wall", lines[0]), lines
    assert lines[1:] == [f"  exc_spikes: {n_exc} spikes of exc", f"  inh_spikes: {n_inh} spikes of inh"]
    assert proc.stderr.splitlines()[-1] == "[snndsl] done: results in results/"


@pytest.mark.slow
@pytest.mark.needs_cc
def test_info_prints_every_field_as_the_folder_holds_it(cli, cuba_run, tmp_path):
    """`snndsl info` line by line against the manifest and arrays: the model, dt and
    seed, each phase's start and stop, each parameter with its unit, the run's wall
    time, and per monitor the spike count. Then again for a run with --seed and --set."""
    work, _ = cuba_run
    res = work / "results"
    m = json.loads((res / "manifest.json").read_text())
    n_exc, n_inh = len(np.load(res / "exc_spikes.i.npy")), len(np.load(res / "inh_spikes.i.npy"))
    lines = _ok(cli("info", "results/", cwd=work)).stdout.splitlines()
    assert lines[:3] == ["model cuba (dt = 0.0001 s, seed 1)", "  phase simulate: 0 s .. 1 s",
                         "  param duration = 1 second"]
    wall = re.fullmatch(r"cuba: 1 phases, simulated 1 s in ([0-9.e+-]+) s wall", lines[3])
    assert wall and float(wall.group(1)) == pytest.approx(m["timings"]["run"], rel=5e-3), lines[3]
    assert lines[4:] == [f"  exc_spikes: {n_exc} spikes of exc", f"  inh_spikes: {n_inh} spikes of inh"]

    # other values, so that none of the above is a default printed whatever the folder holds
    (tmp_path / "cuba.snn").write_text((EXAMPLES / "cuba.snn").read_text())
    run = _ok(cli("run", "cuba.snn", "-o", "short/", "--seed", "7", "--set", "duration=200 ms", cwd=tmp_path))
    m = json.loads((tmp_path / "short" / "manifest.json").read_text())
    assert (m["seed"], m["params"]["duration"]["value"], m["phases"][0]["stop"]) == (7, 0.2, 0.2)
    n_exc = len(np.load(tmp_path / "short" / "exc_spikes.i.npy"))
    n_inh = len(np.load(tmp_path / "short" / "inh_spikes.i.npy"))
    info = _ok(cli("info", "short", cwd=tmp_path)).stdout.splitlines()
    assert info[:3] == ["model cuba (dt = 0.0001 s, seed 7)", "  phase simulate: 0 s .. 0.2 s",
                        "  param duration = 0.2 second"]
    assert re.fullmatch(r"cuba: 1 phases, simulated 0.2 s in [0-9.e+-]+ s wall", info[3]), info[3]
    assert info[4:] == [f"  exc_spikes: {n_exc} spikes of exc", f"  inh_spikes: {n_inh} spikes of inh"]
    assert info[3:] == run.stdout.splitlines()  # run prints the same summary


@pytest.mark.needs_cc
def test_info_of_a_model_with_phases_states_and_saves(cli, tmp_path):
    shutil.copy(EXAMPLES / "freeze_after_learning.snn", tmp_path / "freeze.snn")
    _ok(cli("run", "freeze.snn", "-q", "-o", "out", cwd=tmp_path))
    res = snndsl.load(tmp_path / "out")
    n_spikes = len(res["out_spikes"].i)
    assert res["weights"].values.shape == (2000, 100)
    lines = _ok(cli("info", "out/", cwd=tmp_path)).stdout.splitlines()
    assert lines[:4] == ["model freeze (dt = 0.0001 s, seed 1234)", "  phase train: 0 s .. 1 s",
                         "  phase freeze: 1 s .. 1 s", "  phase test: 1 s .. 2 s"]
    assert re.fullmatch(r"freeze: 3 phases, simulated 2 s in [0-9.e+-]+ s wall", lines[4])
    assert lines[5:] == ["  weights: S.w, 2000 samples x 100", f"  out_spikes: {n_spikes} spikes of out",
                         "  saved trained_w: shape (100,)", "  saved tested_w: shape (100,)"]


@pytest.mark.slow
@pytest.mark.needs_cc
def test_plot_spike_raster_as_in_the_readme(cli, cuba_run, tmp_path):
    """`snndsl run examples/cuba.snn -o results/ && snndsl plot results/ exc_spikes -o raster.png`"""
    work, _ = cuba_run
    proc = _ok(cli("plot", "results/", "exc_spikes", "-o", str(tmp_path / "raster.png"), cwd=work))
    assert proc.stdout == f"wrote {tmp_path / 'raster.png'}\n"
    proc = _ok(cli("plot", "results/", "exc_spikes", "-o", "raster.png", cwd=work))
    assert (proc.stdout, proc.stderr) == ("wrote raster.png\n", "")
    assert (work / "raster.png").read_bytes() == (tmp_path / "raster.png").read_bytes()
    (work / "raster.png").unlink()
    pixels = _read_png(tmp_path / "raster.png")
    assert pixels.shape[:2] == (PLOT_PANEL_HEIGHT, PLOT_WIDTH)  # one panel
    # 19,000 spikes of 3,200 neurons in a second: the middle of the axes is mostly ink
    assert (_centre(pixels).min(axis=2) < 0.5).mean() > 0.3


@pytest.mark.needs_cc
def test_plot_rate_monitor(cli, tmp_path):
    shutil.copy(ROOT / "tests" / "e2e" / "models" / "rate_monitor.snn", tmp_path / "rates.snn")
    _ok(cli("run", "rates.snn", "-q", "-o", "res", cwd=tmp_path))
    assert snndsl.load(tmp_path / "res")["r_n"].rate.max() > 0  # something to draw
    proc = _ok(cli("plot", "res", "r_n", "-o", "rate.png", cwd=tmp_path))
    assert (proc.stdout, proc.stderr) == ("wrote rate.png\n", "")
    pixels = _read_png(tmp_path / "rate.png")
    assert pixels.shape[:2] == (PLOT_PANEL_HEIGHT, PLOT_WIDTH)
    centre = _centre(pixels)
    assert ((centre[..., 2] - centre[..., 0]) > 0.3).mean() > 0.002  # the rate's (blue) line crosses it
    # a monitor the folder does not hold: the error names the ones it does, and nothing is written
    proc = cli("plot", "res", "r_nn", "-o", "typo.png", cwd=tmp_path)
    _user_error(proc, "snndsl: error: no monitor 'r_nn' (monitors: r_in, r_n; saved arrays: none)")
    assert not (tmp_path / "typo.png").exists()


@pytest.mark.needs_cc
def test_plot_of_a_run_that_records_nothing_is_an_error(cli, tmp_path):
    """It wrote an empty results.png and exited 0."""
    (tmp_path / "quiet.snn").write_text("poisson p[2]:\n    rate = 5 Hz\nphase a:\n    run 10 ms\n")
    _ok(cli("run", "quiet.snn", "-q", "-o", "res", cwd=tmp_path))
    proc = cli("plot", "res", cwd=tmp_path)
    _user_error(proc, "snndsl: error: nothing to plot")
    assert not (tmp_path / "res" / "results.png").exists()


@pytest.mark.slow
@pytest.mark.needs_cc
def test_plot_without_a_monitor_draws_every_monitor_into_the_folder(cli, cuba_run, tmp_path):
    """No monitor named: one panel per monitor, written to RESULTS/results.png (a file
    the user may keep there: a later run into the folder leaves it)."""
    work, _ = cuba_run
    shutil.copytree(work / "results", tmp_path / "results")
    (tmp_path / "examples").mkdir()
    shutil.copy(work / "examples" / "cuba.snn", tmp_path / "examples" / "cuba.snn")
    proc = _ok(cli("plot", "results/", cwd=tmp_path))
    assert (proc.stdout, proc.stderr) == ("wrote results/results.png\n", "")
    pixels = _read_png(tmp_path / "results" / "results.png")
    assert pixels.shape[:2] == (2 * PLOT_PANEL_HEIGHT, PLOT_WIDTH)  # exc_spikes and inh_spikes
    h = pixels.shape[0]
    for panel in (pixels[:h // 2], pixels[h // 2:]):
        assert (_centre(panel).min(axis=2) < 0.5).mean() > 0.1, "a panel without spikes"
    png = (tmp_path / "results" / "results.png").read_bytes()
    _ok(cli("run", "examples/cuba.snn", "-q", "--set", "duration=50 ms", cwd=tmp_path))
    assert snndsl.load(tmp_path / "results").phases == {"simulate": (0, 0.05)}
    assert (tmp_path / "results" / "results.png").read_bytes() == png


# ---- snndsl run --data NAME=file.npz:key ----------------------------------------------

LOAD_MODEL = """\
# Reads a data array into a neuron variable and saves it.
dt = 0.1 ms
data bias : mV = "defaults.npz:b"
neurons n[3]:
    dv/dt = -v / (10 ms) : volt
phase load:
    n.v = bias
    save n.v as v_loaded
    run 1 ms
"""


@pytest.mark.needs_cc
def test_data_from_an_npz_key_on_the_command_line(cli, tmp_path):
    """The declared path is relative to the .snn file; --data's is the user's (relative
    to the working folder); the key picks one array of an archive of several; values
    are multiplied by the declared unit (mV), saved in SI units (V)."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "load.snn").write_text(LOAD_MODEL)
    np.savez(tmp_path / "models" / "defaults.npz", a=np.array([1.0, 2, 3]), b=np.array([7.0, 8, 9]))
    np.savez(tmp_path / "inputs.npz", a=np.array([1.0, 2, 3]), b=np.array([10, 20, 30], dtype=np.int16),
             c=np.arange(4.0))

    def loaded(out: str) -> np.ndarray:
        assert json.loads((tmp_path / out / "manifest.json").read_text())["model"] == "load"
        return np.load(tmp_path / out / "v_loaded.npy")

    run = _ok(cli("run", "models/load.snn", "-o", "r_default", cwd=tmp_path))
    assert run.stdout.splitlines()[1:] == ["  saved v_loaded: shape (3,)"]
    np.testing.assert_allclose(loaded("r_default"), [7e-3, 8e-3, 9e-3], rtol=1e-15)
    _ok(cli("run", "models/load.snn", "-q", "-o", "r_b", "--data", "bias=inputs.npz:b", cwd=tmp_path))
    np.testing.assert_allclose(loaded("r_b"), [10e-3, 20e-3, 30e-3], rtol=1e-15)
    _ok(cli("run", "models/load.snn", "-q", "-o", "r_a", "--data", "bias=inputs.npz:a", cwd=tmp_path))
    np.testing.assert_allclose(loaded("r_a"), [1e-3, 2e-3, 3e-3], rtol=1e-15)
    # from the model's folder, the same files by other relative paths
    _ok(cli("run", "load.snn", "-q", "-o", "../r_up", "--data", "bias=../inputs.npz:b", cwd=tmp_path / "models"))
    np.testing.assert_allclose(loaded("r_up"), [10e-3, 20e-3, 30e-3], rtol=1e-15)

    # mistakes: exit 1, E0601 at the declaration or the use, no results written
    for spec, fragments in {
        "inputs.npz": ("models/load.snn:3:1: error[E0601]: data 'bias'", "holds 3 arrays", "(has: a, b, c)"),
        "inputs.npz:zz": ("models/load.snn:3:1: error[E0601]: data 'bias'", "key 'zz' not in", "(has: a, b, c)"),
        "inputs.npz:c": ("models/load.snn:7:5: error[E0601]: data 'bias' has 4 elements, but 'n' has 3",),
        "missing.npz:a": ("models/load.snn:3:1: error[E0601]: data 'bias'", "missing.npz"),
    }.items():
        proc = cli("run", "models/load.snn", "-q", "-o", "r_bad", "--data", f"bias={spec}", cwd=tmp_path)
        _user_error(proc, *fragments)
        assert not (tmp_path / "r_bad" / "manifest.json").exists(), spec
    proc = cli("run", "models/load.snn", "-q", "-o", "r_bad", "--data", "nope=inputs.npz:a", cwd=tmp_path)
    _user_error(proc, "error[E0601]: --data nope: the model has no data array 'nope'")
    assert not (tmp_path / "r_bad" / "manifest.json").exists()


# ---- plots a scientist keeps: units, phases, smoothed rates, saved arrays -------

@pytest.mark.needs_cc
def test_plots_show_units_phases_and_smoothed_rates(cli, tmp_path):
    """Values in the unit that suits them (mV, nS, ms), the phases named where
    they begin, the population rate smoothed over the stated window; each kind
    rendered (and looked at when written)."""
    from snndsl.plot import figure
    (tmp_path / "lif.snn").write_text(
        "neurons G[3]:\n    dv/dt = (I - v) / (10 ms) : volt\n    I : volt (constant)\n    ge : siemens\n"
        "    threshold: v > -50 mV\n    reset:\n        v = -65 mV\n        ge += 1 nS\n"
        "    init:\n        v = -65 mV\n        I = -45 mV + i * 3 mV\n"
        "monitor mv: G.v\nmonitor mge: G.ge\nmonitor r: rate of G\n"
        "phase warm:\n    run 100 ms\nphase drive:\n    run 200 ms\n")
    _ok(cli("run", "lif.snn", "-q", "-o", "res", cwd=tmp_path))
    res = snndsl.load(tmp_path / "res")
    fig = figure(res, None, window=0.02)
    mv, mge, rate = fig.axes
    assert mv.get_ylabel() == "G.v [mV]" and mge.get_ylabel() == "G.ge [nS]"
    assert rate.get_xlabel() == "time [ms]"
    assert rate.get_title(loc="left") == "r: population rate, smoothed over 20 ms (flat window)"
    assert -66 < min(np.min(line.get_ydata()) for line in mv.get_lines()[:3]) < -64  # drawn in mV
    assert [t.get_text() for t in mv.texts] == ["warm", "drive"]  # the phases, named in the first panel
    assert [line.get_xdata()[0] for line in mv.get_lines() if line.get_linestyle() == "--"] == [100.0]
    assert [t.get_text() for t in mv.get_legend().get_texts()] == ["G[0]", "G[1]", "G[2]"]
    smoothed = rate.get_lines()[0].get_ydata()
    assert smoothed.max() < 400  # per step it reaches 1 / (3 dt) = 3,333 Hz
    np.testing.assert_allclose(smoothed.mean(), res["r"].rate.mean(), rtol=0.1)
    _ok(cli("plot", "res", "--window", "20 ms", "-o", "lif.png", cwd=tmp_path))
    assert _read_png(tmp_path / "lif.png").shape[:2] == (3 * PLOT_PANEL_HEIGHT, PLOT_WIDTH)
    _user_error(cli("plot", "res", "--window", "soon", cwd=tmp_path), "--window takes a duration such as '10 ms'")


@pytest.mark.needs_cc
def test_plot_of_two_saved_arrays_is_before_and_after(cli, tmp_path):
    from snndsl.plot import figure
    shutil.copy(EXAMPLES / "freeze_after_learning.snn", tmp_path / "forum.snn")
    _ok(cli("run", "forum.snn", "-q", "-o", "res", cwd=tmp_path))
    proc = _ok(cli("plot", "res", "trained_w", "tested_w", cwd=tmp_path))
    assert proc.stdout == "wrote res/trained_w_tested_w.png\n"
    assert _read_png(tmp_path / "res" / "trained_w_tested_w.png").shape[:2] == (352, PLOT_WIDTH)
    res = snndsl.load(tmp_path / "res")
    held = int(np.sum(res.saved["trained_w"] == res.saved["tested_w"]))
    hist, scatter = figure(res, ["trained_w", "tested_w"]).axes
    assert [t.get_text() for t in scatter.get_legend().get_texts()] == [f"changed ({100 - held})",
                                                                       f"unchanged ({held})"]
    assert held >= int(np.sum(res.saved["trained_w"] > 0.3))  # the frozen synapses, at least
    _ok(cli("plot", "res", "trained_w", "-o", "hist.png", cwd=tmp_path))
    _user_error(cli("plot", "res", "trained_w", "weights", cwd=tmp_path), "plot monitors, or one saved array")


@pytest.mark.needs_cc
def test_plot_a_weight_matrix_and_receptive_fields(cli, tmp_path):
    from snndsl.plot import figure, synapse_matrix
    shutil.copy(EXAMPLES / "freeze_after_learning.snn", tmp_path / "forum.snn")
    _ok(cli("run", "forum.snn", "-q", "-o", "res", cwd=tmp_path))
    res = snndsl.load(tmp_path / "res")
    m = synapse_matrix(res, "trained_w")
    i, j = res.saved_indices["trained_w"]
    assert m.shape == (10, 10) and np.array_equal(m[i, j], res.saved["trained_w"])
    image = figure(res, ["trained_w"], matrix=True).axes[0].images[0].get_array()
    np.testing.assert_array_equal(np.asarray(image), m)
    tiles = np.asarray(figure(res, ["trained_w"], fields=(2, 5)).axes[0].images[0].get_array())
    np.testing.assert_array_equal(tiles[0:2, 0:5], m[:, 0].reshape(2, 5))  # neuron 0's field, top left
    np.testing.assert_array_equal(tiles[0:2, 6:11], m[:, 1].reshape(2, 5))  # neuron 1's, beside it
    assert _ok(cli("plot", "res", "trained_w", "--matrix", cwd=tmp_path)).stdout == "wrote res/trained_w.png\n"
    _ok(cli("plot", "res", "trained_w", "--fields", "2x5", "-o", "fields.png", cwd=tmp_path))
    _user_error(cli("plot", "res", "trained_w", "--fields", "3x5", cwd=tmp_path),
                "--fields 3x5: 15 pixels, but trained_w has 10 presynaptic neurons")
    _user_error(cli("plot", "res", "trained_w", "--fields", "big", cwd=tmp_path), "--fields takes HxW")
    _user_error(cli("plot", "res", "weights", "--matrix", cwd=tmp_path), "--matrix and --fields draw one saved array")
