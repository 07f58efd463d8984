#!/usr/bin/env python
"""Where snndsl's CUBA time goes: the 'exact step' loop of the generated C.

Compiles examples/cuba.snn, copies the generated C into a temp dir and builds
three variants with snndsl's own flags (snndsl.build.cc.CFLAGS), timing the
simulation loop (manifest timings["run"], best of 3) for --set 'duration=5 s':

  generated  model.c as snndsl emits it: per neuron, a dense 3x3 step
             x' = E x + F c, with E and F chosen per neuron through a pointer
             (refractory or not), all fields read through `sim->`, and
             snn_elapsed_steps(0.005, sim->dt) recomputed per neuron
  hoist      the same arithmetic, but the arrays in local `restrict` pointers
             and the refractory step count computed once per step
  sparse     hoist + only the nonzero coefficients (ge, gi decay alone; v gets
             3 products and a constant, or stays as it is when refractory) --
             what Brian2's generated code computes

and checks that the spikes of all three are bit-identical.

Usage: /work/venv/bin/python bench/cuba_exact_step_experiment.py
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def patch(src: str, mode: str) -> str:
    out = src
    for g in ("inh", "exc"):          # inh's loop comes after exc's: patch from the end
        start = src.index(f"    for (int64_t _i = 0; _i < sim->g_{g}.n; _i++) {{ /* update {g} */")
        k = src.index("            }\n", start) + len("            }\n")
        assert src[k:k + 6] == "    }\n", "the generated update loop changed shape; adapt this script"
        head = f"""    {{ const int64_t _n = sim->g_{g}.n; const double _dt = sim->dt;
      const int64_t _ref = snn_elapsed_steps(0.005, _dt);
      double *restrict v = sim->g_{g}.v_v, *restrict ge = sim->g_{g}.v_ge, *restrict gi = sim->g_{g}.v_gi;
      const double *restrict ls = sim->g_{g}.v_lastspike; uint8_t *restrict nr = sim->g_{g}.v_not_refractory;
      const double (*L)[9] = sim->lin_{g};
"""
        if mode == "hoist":
            body = """    for (int64_t _i = 0; _i < _n; _i++) {
        nr[_i] = snn_elapsed_steps(_t - ls[_i], _dt) >= _ref;
        const double _x0 = v[_i], _x1 = ge[_i], _x2 = gi[_i];
        const double _c0 = -2.45, _c1 = -0.0, _c2 = -0.0;
        const double *_E = nr[_i] ? L[0] : L[2];
        const double *_F = nr[_i] ? L[1] : L[3];
        v[_i] = _E[0] * _x0 + _E[1] * _x1 + _E[2] * _x2 + _F[0] * _c0 + _F[1] * _c1 + _F[2] * _c2;
        ge[_i] = _E[3] * _x0 + _E[4] * _x1 + _E[5] * _x2 + _F[3] * _c0 + _F[4] * _c1 + _F[5] * _c2;
        gi[_i] = _E[6] * _x0 + _E[7] * _x1 + _E[8] * _x2 + _F[6] * _c0 + _F[7] * _c1 + _F[8] * _c2;
    } }
"""
        else:
            body = """      const double a0 = L[0][0], a1 = L[0][1], a2 = L[0][2], b0 = L[1][0] * -2.45;
      const double e4 = L[0][4], e8 = L[0][8], r0 = L[2][0], rb0 = L[3][0] * -2.45;
    for (int64_t _i = 0; _i < _n; _i++) {
        const int ok = snn_elapsed_steps(_t - ls[_i], _dt) >= _ref;
        nr[_i] = ok;
        const double _x0 = v[_i], _x1 = ge[_i], _x2 = gi[_i];
        v[_i] = ok ? a0 * _x0 + a1 * _x1 + a2 * _x2 + b0 : r0 * _x0 + rb0;
        ge[_i] = e4 * _x1;
        gi[_i] = e8 * _x2;
    } }
"""
        out = out[:start] + head + body + out[k + 6:]
    return out


def main():
    import snndsl
    from snndsl.build import cc
    model = snndsl.compile(ROOT / "examples" / "cuba.snn")
    src_dir = model.binary.parent
    src = (src_dir / "model.c").read_text()
    if "const double _c1 = -0.0;" not in src:
        print("note: the generated exact step no longer has the dense form this experiment patches")
    with tempfile.TemporaryDirectory(prefix="cuba_exact_") as tmp:
        tmp = Path(tmp)
        for f in src_dir.iterdir():
            if f.suffix in (".c", ".h"):
                shutil.copy(f, tmp)
        variants = {"generated": src, "hoist": patch(src, "hoist"), "sparse": patch(src, "sparse")}
        best, spikes = {}, {}
        for name, code in variants.items():
            (tmp / f"{name}.c").write_text(code)
            subprocess.run([cc.compiler(), *cc.CFLAGS, "-o", name, f"{name}.c", "snn_main.c", "snn_runtime.c",
                            "-lm"], cwd=tmp, check=True)
            runs = []
            for k in range(3):
                out = tmp / f"r_{name}"
                subprocess.run([str(tmp / name), "-o", str(out), "--quiet", "--set", "duration=5 s"], check=True)
                runs.append(json.loads((out / "manifest.json").read_text())["timings"]["run"])
            best[name] = min(runs)
            spikes[name] = [(out / f"{m}.npy").read_bytes() for m in
                            ("exc_spikes.i", "exc_spikes.t", "inh_spikes.i", "inh_spikes.t")]
            print(f"{name:10s} simulation loop, best of 3: {best[name]:.3f} s  "
                  f"(repeats {', '.join(f'{r:.3f}' for r in runs)})", flush=True)
        for name in ("hoist", "sparse"):
            print(f"{name}: spikes {'identical to' if spikes[name] == spikes['generated'] else 'DIFFER from'} "
                  "the generated code's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
