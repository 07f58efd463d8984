"""Nothing a user writes reaches the C source unescaped: names are mangled,
strings and paths are escaped. Hostile names and paths compile to a model
that runs and does exactly what the model says."""
import subprocess
import sys

import numpy as np
import pytest

import snndsl

pytestmark = pytest.mark.needs_cc

C_NAMES_MODEL = """\
poisson main[2]:
    rate = 50 Hz
    exit : 1
    printf : integer
    double : boolean
    sim : 1
    _i : 1
    k : 1
    slot : 1
synapses int: main -> main:
    connect: all
    return : 1
    NULL : 1 (shared)
    snn_sim_run : 1
    on pre:
        return += 1
        post.exit += return
    init:
        NULL = 2
        snn_sim_run = i * 10 + j
monitor sizeof: int.return
monitor free: spikes of main
phase static:
    main.sim = 3
    main._i = i
    main.k = N
    main.slot = i + 1
    main.double = i == 1
    main.printf = 7
    run 200 ms
    save main.exit as malloc
    save int.snn_sim_run as memcpy
    save main.double as abort
    save main.slot as stdout
"""


def test_c_keywords_and_libc_names_as_model_names(tmp_path):
    path = tmp_path / "while.snn"
    path.write_text(C_NAMES_MODEL)
    res = snndsl.compile(path).run(seed=4)
    np.testing.assert_array_equal(res.saved["memcpy"], [0, 1, 10, 11])
    np.testing.assert_array_equal(res.saved["abort"], [False, True])
    np.testing.assert_array_equal(res.saved["stdout"], [1, 2])
    # every presynaptic spike adds 1 to `return` of its synapses, and exit sums them
    spikes = np.bincount(res["free"].i, minlength=2)
    assert spikes.sum() > 0
    assert res["sizeof"].values[-1].sum() <= 2 * spikes.sum()
    c_source = snndsl.compile(path).frontend.c_source
    assert "int main(" not in c_source  # the user's `main` is only ever g_main


HOSTILE_PATH = 'we"ird *' + "/" + ' x\\y\nz.npy'  # a quote, '*/' across the folder, a backslash, a newline


def test_hostile_data_path_is_passed_escaped(tmp_path):
    target = tmp_path / HOSTILE_PATH
    target.parent.mkdir()
    np.save(target, np.array([4.0, 5.0]))
    escaped = HOSTILE_PATH.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    path = tmp_path / "m.snn"
    path.write_text(f'data d : Hz = "{escaped}"\npoisson p[2]:\n    rate : Hz\nphase a:\n    p.rate = d\n'
                    "    save p.rate as out\n")
    model = snndsl.compile(path)
    np.testing.assert_array_equal(model.run().saved["out"], [4.0, 5.0])
    c_source = model.frontend.c_source
    assert "we\"ird" not in c_source and "*/ x" not in c_source and "\nz.npy" not in c_source


def test_hostile_model_file_name(tmp_path):
    path = tmp_path / 'ev"il\\x\ny */ .snn'.replace("/", "_")
    path.write_text("poisson p[2]:\n    rate = 50 Hz\nmonitor s: spikes of p\nphase a:\n    run 100 ms\n")
    out = tmp_path / "res"
    proc = subprocess.run([sys.executable, "-m", "snndsl", "run", str(path), "-o", str(out), "--quiet"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    res = snndsl.load(out)
    assert res.manifest["model"] == path.stem
    assert len(res["s"].t) > 0


def test_names_that_only_differ_in_underscores_stay_apart(tmp_path):
    """Mangling is injective: a__b in group a and b in group a__ never meet."""
    path = tmp_path / "m.snn"
    path.write_text("poisson a[2]:\n    rate = 0 Hz\n    b__c : 1\npoisson a__b[2]:\n    rate = 0 Hz\n    c : 1\n"
                    "phase p:\n    a.b__c = 1\n    a__b.c = 2\n    save a.b__c as x\n    save a__b.c as y\n")
    res = snndsl.compile(path).run()
    np.testing.assert_array_equal(res.saved["x"], [1, 1])
    np.testing.assert_array_equal(res.saved["y"], [2, 2])
