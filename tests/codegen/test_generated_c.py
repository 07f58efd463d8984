"""The generated C: snapshots, strict warnings, sanitizers, unoptimized vs optimized."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl.build import cc
from snndsl.driver import frontend
from snndsl.ir.dump import dump

from conftest import EXAMPLES, ROOT, skip_outside_ci

GOLDEN = ROOT / "tests" / "golden"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.snn"))


def _relative_frontend(path: Path, passes=None):
    """Front end with a file name relative to the repository, so snapshots do
    not depend on where the checkout lives."""
    rel = os.path.relpath(path, ROOT)
    kwargs = {} if passes is None else {"passes": passes}
    return frontend(path.read_text(), rel, **kwargs)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_golden_ir_and_c(path, update_golden):
    fe = _relative_frontend(path)
    folder = GOLDEN / path.stem
    outputs = {"ir.txt": dump(fe.ir), "model.c": fe.c_source}
    if update_golden:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in outputs.items():
            (folder / name).write_text(text)
    for name, text in outputs.items():
        expected = (folder / name).read_text()
        assert text == expected, f"{folder / name} differs; review and refresh with pytest --update-golden"


def test_output_is_deterministic():
    path = EXAMPLES / "freeze_after_learning.snn"
    assert _relative_frontend(path).c_source == _relative_frontend(path).c_source


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_output_does_not_depend_on_the_hash_seed(path):
    """Two processes with different string hashing (PYTHONHASHSEED) emit the
    same C: nothing is ordered by iterating a set of names."""
    script = ("import sys; from snndsl.driver import frontend; p = sys.argv[1]; "
              "sys.stdout.write(frontend(open(p).read(), 'model.snn').c_source)")
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                              env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
    assert "snn_sim_new" in outputs[0]


def _compile(tmp_path, c_source, flags):
    work = tmp_path / "c"
    work.mkdir(exist_ok=True)
    (work / "model.c").write_text(c_source)
    for name in cc.RUNTIME_FILES:
        shutil.copy(ROOT / "runtime_c" / name, work / name)
    cmd = ["cc", *flags, "-o", "model", "model.c", "snn_runtime.c", "snn_main.c", "-lm"]
    return work, subprocess.run(cmd, cwd=work, capture_output=True, text=True)


C_MODELS = (EXAMPLE_FILES + sorted((ROOT / "tests" / "syntax").glob("supported_*.snn"))
            + sorted((ROOT / "tests" / "e2e" / "models").glob("*.snn")))


@pytest.mark.needs_cc
@pytest.mark.parametrize("path", C_MODELS, ids=lambda p: p.stem)
def test_no_warnings_under_wall_wextra(path, tmp_path):
    fe = frontend(path.read_text(), str(path))
    _, proc = _compile(tmp_path, fe.c_source, ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
    assert proc.returncode == 0, proc.stderr


@pytest.mark.needs_cc
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_no_warnings_with_openmp_either(path, tmp_path):
    fe = frontend(path.read_text(), str(path))
    assert "SNN_OMP(omp parallel" in fe.c_source
    _, proc = _compile(tmp_path, fe.c_source, ["-O2", "-std=c11", "-fopenmp", "-Wall", "-Wextra", "-Wpedantic",
                                               "-Werror"])
    assert proc.returncode == 0, proc.stderr


# gcc's -fsanitize=undefined does not include float-cast-overflow: a double too
# large for the integer it is converted to (a time in steps, issue 7)
SANITIZE = "-fsanitize=address,undefined,float-cast-overflow"


def _sanitizers_work(tmp_path) -> bool:
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    r = subprocess.run(["cc", SANITIZE, str(probe), "-o", str(tmp_path / "probe")],
                       capture_output=True)
    return r.returncode == 0 and subprocess.run([str(tmp_path / "probe")]).returncode == 0


@pytest.mark.needs_cc
@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLE_FILES + [ROOT / "tests" / "e2e" / "models" / "custom_events.snn"],
                         ids=lambda p: p.stem)
def test_clean_under_sanitizers(path, tmp_path):
    if not _sanitizers_work(tmp_path):
        skip_outside_ci("this compiler has no working address/undefined sanitizer")
    fe = frontend(path.read_text(), str(path))
    work, proc = _compile(tmp_path, fe.c_source, ["-O1", "-g", "-std=c11", SANITIZE,
                                                  "-fno-sanitize-recover=all"])
    assert proc.returncode == 0, proc.stderr
    short = ["--set", "duration=50 ms"] if "param duration" in path.read_text() else []  # keep CI fast
    run = subprocess.run([str(work / "model"), "-o", str(tmp_path / "r"), "--quiet", *short], capture_output=True,
                         text=True, env={**os.environ, "ASAN_OPTIONS": "detect_leaks=1"})
    assert run.returncode == 0, run.stderr
    assert "runtime error" not in run.stderr
    assert snndsl.load(tmp_path / "r").phases


NEAR_LIMITS = """\
# Values near the step counter's limits that must be accepted: a tiny dt, so that
# lastspike = -1e4 s is 1e19 steps ago (past int64_t); a refractory period from a
# parameter; a Poisson rate so small that its next spike is never; a spike far past
# the end; a run from a parameter; a monitor sampling every 1e12 steps; an integer
# variable assigned a number past int32_t (it saturates, as int() does).
dt = 1e-15 s
param ref = 1e-9 s
param T = 5e-13 s
neurons g[3]:
    dv/dt = (1.1 - v) / (100 * dt) : 1
    threshold: v > 1
    reset: v = 0
    refractory: ref
    big : integer
    init:
        big = 1e300 * (i + 1)
poisson src[2]:
    rate = 1e-290 Hz
spikes gen[1]:
    indices = [0, 0, 0]
    times = [1e-13 s, 1e290 s, 2e290 s]
synapses S: gen -> g:
    connect: all
    delay: 1e-13 s
    on pre:
        post.v += 0.5
monitor gs: spikes of g
monitor src_spikes: spikes of src
monitor gv: g.v every 1e-3 s
monitor gbig: g.big every 1e-3 s

phase a:
    run T
phase b:
    run 1e-12 s
"""


@pytest.mark.needs_cc
@pytest.mark.slow
def test_values_near_the_limits_clean_under_sanitizers(tmp_path):
    """Every time-to-steps conversion with values near the limits (issue 7):
    accepted, and no undefined behaviour (float-cast-overflow included)."""
    if not _sanitizers_work(tmp_path):
        skip_outside_ci("this compiler has no working address/undefined/float-cast-overflow sanitizer")
    path = tmp_path / "near_limits.snn"
    path.write_text(NEAR_LIMITS)
    fe = frontend(path.read_text(), str(path))
    work, proc = _compile(tmp_path, fe.c_source, ["-O1", "-g", "-std=c11", SANITIZE, "-fno-sanitize-recover=all"])
    assert proc.returncode == 0, proc.stderr
    for extra in ([], ["--set", "ref=1e-12 s"], ["--set", "T=2e-12 s"]):
        out = tmp_path / f"r{len(extra) and extra[1][0]}"
        run = subprocess.run([str(work / "model"), "-o", str(out), "--quiet", *extra], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert "runtime error" not in run.stderr
        res = snndsl.load(out)
        assert len(res["gs"].t) > 0 and len(res["src_spikes"].t) == 0
        assert len(res["gv"].t) == 1  # step 0 only
        assert (res["gbig"].values == 2 ** 31 - 1).all()
    bad = subprocess.run([str(work / "model"), "-o", str(tmp_path / "bad"), "--quiet", "--set", "ref=1e300 s"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "E0501" in bad.stderr and "runtime error" not in bad.stderr, bad.stderr


@pytest.mark.needs_cc
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_unoptimized_equals_optimized(path, tmp_path):
    params = {"duration": "2 s"} if "param duration" in path.read_text() else None  # keep CI fast
    fast = snndsl.compile(path).run(seed=7, params=params)
    plain = snndsl.compile(path, passes=()).run(seed=7, params=params)
    for name, mon in fast.monitors.items():
        for attr in ("t", "values", "i", "rate"):
            a, b = getattr(mon, attr), getattr(plain[name], attr)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"{name}.{attr}")
    for name in fast.saved:
        np.testing.assert_allclose(fast.saved[name], plain.saved[name], rtol=1e-12, atol=1e-12)


@pytest.mark.needs_cc
def test_emit_and_compile_commands(tmp_path):
    path = str(EXAMPLES / "freeze_after_learning.snn")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "snndsl", *args], capture_output=True, text=True)

    ir_out = cli("compile", path, "--emit", "ir")
    assert ir_out.returncode == 0 and "lastupdate" in ir_out.stdout
    # the kernels with their code, the storage, the random streams
    assert "    synapse events S: each presynaptic spike" in ir_out.stdout and "        each synapse:" in ir_out.stdout
    assert "        pre_start: int64_t[n(inp) + 1] (array)" in ir_out.stdout
    assert "random streams:\n    0: inp: threshold\n" in ir_out.stdout
    c_out = cli("compile", path, "--emit", "c")
    assert c_out.returncode == 0 and "snn_sim_run" in c_out.stdout
    ast_out = cli("compile", path, "--emit", "ast")
    assert ast_out.returncode == 0 and "GroupDecl" in ast_out.stdout
    built = cli("compile", path, "-o", str(tmp_path / "build"))
    assert built.returncode == 0, built.stderr
    for name in ("model.c", "model", "libmodel.so"):
        assert (tmp_path / "build" / name).is_file()
    stamp = (tmp_path / "build" / cc.STAMP).read_text()
    mtime = (tmp_path / "build" / "model").stat().st_mtime_ns
    again = cli("compile", path, "-o", str(tmp_path / "build"))  # cached: nothing rebuilt
    assert again.returncode == 0
    assert (tmp_path / "build" / "model").stat().st_mtime_ns == mtime
    assert (tmp_path / "build" / cc.STAMP).read_text() == stamp
    run = subprocess.run([str(tmp_path / "build" / "model"), "-o", str(tmp_path / "res"), "--seed", "3"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert snndsl.load(tmp_path / "res").manifest["seed"] == 3
    info = cli("info", str(tmp_path / "res"))
    assert info.returncode == 0 and "phase train" in info.stdout
    plot = cli("plot", str(tmp_path / "res"), "weights", "-o", str(tmp_path / "w.png"))
    assert plot.returncode == 0, plot.stderr
    assert (tmp_path / "w.png").stat().st_size > 1000


def _supported_all_data(tmp_path) -> dict:
    rng = np.random.default_rng(0)
    files = {
        "pairs": np.array([[0, 1], [2, 0], [1, 1]]),
        "img": rng.uniform(0, 50, size=(3, 3)),
        "st": np.array([0.5e-3, 1e-3, 2e-3, 2e-3]),
        "si": np.array([0, 1, 2, 3]),
    }
    out = {}
    for name, arr in files.items():
        np.save(tmp_path / f"{name}.npy", arr)
        out[name] = str(tmp_path / f"{name}.npy")
    n_syn_guess = 64  # S's size depends on rand(); w0 is read by length, so write it after a dry run
    np.savez(tmp_path / "w0.npz", w=np.zeros(n_syn_guess))
    out["w0"] = str(tmp_path / "w0.npz") + ":w"
    return out


@pytest.mark.needs_cc
def test_supported_constructs_run_and_agree_binary_vs_cffi(tmp_path):
    """Every supported construct at once: runs, and both run paths agree."""
    path = ROOT / "tests" / "syntax" / "supported_all.snn"
    model = snndsl.compile(path)
    data = _supported_all_data(tmp_path)
    with pytest.raises(snndsl.SimulationError, match="data 'w0' has 64 elements, but 'S' has") as err:
        model.run(seed=2, data=data)
    n = int(re.search(r"but 'S' has (\d+)", str(err.value)).group(1))  # S's size comes from rand()
    np.savez(tmp_path / "w0.npz", w=np.linspace(0, 1, n))
    res = model.run(seed=2, data=data)
    assert res.manifest["groups"]["S"]["size"] == n
    assert res.saved["w_rows"].shape == (3, n)
    assert res["apre_some"].values.shape[1] == 3
    assert res["gmax_mon"].values.shape[1] == 1
    args = [str(model.binary), "-o", str(tmp_path / "r"), "--seed", "2", "--quiet"]
    for name, p in data.items():
        args += ["--data", f"{name}={p}"]
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    disk = snndsl.load(tmp_path / "r")
    for name in res.saved:
        assert np.array_equal(disk.saved[name], res.saved[name]), name
    for name, mon in res.monitors.items():
        assert np.array_equal(disk[name].t, mon.t), name


@pytest.mark.needs_cc
@pytest.mark.slow
def test_supported_constructs_clean_under_sanitizers(tmp_path):
    if not _sanitizers_work(tmp_path):
        skip_outside_ci("this compiler has no working address/undefined sanitizer")
    path = ROOT / "tests" / "syntax" / "supported_all.snn"
    fe = frontend(path.read_text(), str(path))
    work, proc = _compile(tmp_path, fe.c_source, ["-O1", "-g", "-std=c11", SANITIZE,
                                                  "-fno-sanitize-recover=all"])
    assert proc.returncode == 0, proc.stderr
    data = _supported_all_data(tmp_path)
    args = [str(work / "model"), "-o", str(tmp_path / "r"), "--seed", "2", "--quiet"]
    for name, p in data.items():
        args += ["--data", f"{name}={p}"]
    first = subprocess.run(args, capture_output=True, text=True)
    assert first.returncode == 1 and "E0601" in first.stderr  # w0 has the wrong length: a clean error
    n = int(re.search(r"but 'S' has (\d+)", first.stderr).group(1))
    np.savez(tmp_path / "w0.npz", w=np.linspace(0, 1, n))
    run = subprocess.run(args, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "runtime error" not in run.stderr and "AddressSanitizer" not in run.stderr


def test_compiler_probes_are_asked_once_per_compiler(tmp_path, monkeypatch):
    """Whether the compiler takes -march=native and -fopenmp is asked once and
    kept in the cache (probes.json): a new process does not ask again; a
    changed compiler (another size or time) is asked anew; a damaged file is
    asked around."""
    monkeypatch.setenv("SNNDSL_CACHE", str(tmp_path / "cache"))
    real = shutil.which(cc.compiler())
    fake = tmp_path / "bin" / "cc"
    fake.parent.mkdir()
    calls = tmp_path / "calls"
    fake.write_text(f'#!/bin/sh\necho x >> "{calls}"\nexec "{real}" "$@"\n')
    fake.chmod(0o755)

    def ask() -> tuple[tuple[str, ...], int]:
        cc.machine_flags.cache_clear()
        cc.openmp_flags.cache_clear()
        flags = cc.machine_flags(str(fake)) + cc.openmp_flags(str(fake))
        return flags, len(calls.read_text().splitlines()) if calls.exists() else 0

    first, n = ask()
    assert n == 2 and first == cc.machine_flags(real) + cc.openmp_flags(real)
    assert ask() == (first, 2)  # from probes.json
    (tmp_path / "cache" / "probes.json").write_text("{not json")
    assert ask() == (first, 4)
    fake.write_text(fake.read_text() + "# changed\n")
    assert ask() == (first, 6)  # another size: another compiler
    cc.machine_flags.cache_clear()
    cc.openmp_flags.cache_clear()


def test_templates_compile_once_into_the_cache_and_never_fail_on_it(tmp_path, monkeypatch):
    """The jinja2 templates are compiled once into the cache (templates/); a
    damaged or unwritable one gives the same C."""
    from snndsl.codegen import emit
    path = EXAMPLES / "freeze_after_learning.snn"
    expected = frontend(path.read_text(), str(path)).c_source
    for state in ("empty", "filled", "damaged", "unwritable"):
        monkeypatch.setenv("SNNDSL_CACHE", str(tmp_path / "cache"))
        folder = tmp_path / "cache" / "templates"
        if state == "damaged":
            for f in folder.iterdir():
                f.write_bytes(f.read_bytes()[:40])
        if state == "unwritable":
            monkeypatch.setenv("SNNDSL_CACHE", str(tmp_path / "a-file"))
            (tmp_path / "a-file").write_text("not a folder")
        emit._env.cache_clear()
        assert frontend(path.read_text(), str(path)).c_source == expected, state
        if state == "empty":
            assert any(folder.iterdir())
    emit._env.cache_clear()
