"""Snapshots never give a wrong answer quietly (issue 7, item 6).

A snapshot (`save_state`, `store state`) carries a CRC-64 of its whole content;
loading reads the whole file, verifies the checksum and every length before it
changes anything, and checks the values that index arrays (neuron and synapse
numbers, queue lengths, CSR offsets) even in a snapshot whose checksum is valid.
Any damage is a clear error (E0601), never a crash and never a half-loaded
simulation.

The measurement the issue asks for: every single-bit flip of a small model's
snapshot (all bit positions) is loaded in a child process; the test asserts that
all are detected. `python tests/test_reliability_state.py` prints the figure
(`--isolate` runs each load in its own forked process, to count crashes of a
runtime that has them).
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import snndsl  # noqa: E402

pytestmark = pytest.mark.needs_cc

# Every kind of state a snapshot holds: Poisson sources drawing geometric skips,
# a spike generator, neurons with refractoriness, a homogeneous delay ring, a
# heterogeneous delay queue (spikes in flight), a freezable variable, a local.
MODEL = """\
dt = 0.1 ms
seed = 7
poisson inp[4]:
    rate = 300 Hz
spikes gen[3]:
    indices = [0, 1, 2, 1, 0]
    times = [1 ms, 2 ms, 3 ms, 4 ms, 30 ms]
neurons G[3]:
    dv/dt = -v / (10 ms) : 1
    threshold: v > 1
    reset: v = 0
    refractory: 1 ms
synapses S: inp -> G:
    connect: all
    delay: 1 ms
    w : 1
    on pre:
        post.v += w
    init: w = 0.3
synapses T: gen -> G:
    connect: i != j
    delay: (0.5 + 0.7 * j) * ms
    w : 1
    on pre:
        post.v += w
    init: w = 0.6
monitor spk: spikes of G
phase a:
    let x = 1
    run 10 ms
    freeze T.w
    store state as mid
    run 10 ms
"""

MAGIC = b"SNNSTATE3\n"
HEAD = 96  # magic, source hash, padding to 80, file length, number of fields


def crc64(data: bytes) -> int:
    """CRC-64/XZ (ECMA-182 polynomial, reflected, init and final xor all ones)."""
    table = []
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ 0xC96C5795D7870F42 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def fields(data: bytes) -> dict[str, tuple[int, int, int]]:
    """{name: (element size, count, offset of the data)} of a snapshot (queues: offset of slot 0's length)."""
    assert data[:10] == MAGIC
    (n,) = struct.unpack_from("<Q", data, 88)
    at, out = HEAD, {}
    pad = lambda x: (x + 7) // 8 * 8  # noqa: E731
    for _ in range(n):
        (length,) = struct.unpack_from("<Q", data, at)
        name = data[at + 8: at + 8 + length].decode()
        at = pad(at + 8 + length)
        elsize, count = struct.unpack_from("<QQ", data, at)
        at += 16
        out[name] = (elsize, count, at)
        if name.endswith(".ring") and name.startswith("T."):  # the queue: per slot a length, then its entries
            for _ in range(count):
                (used,) = struct.unpack_from("<Q", data, at)
                at = pad(at + 8 + used * elsize)
        else:
            at = pad(at + elsize * count)
    assert at == len(data) - 8
    return out


def seal(data: bytes) -> bytes:
    """The snapshot with its checksum recomputed (a hand-crafted, 'valid' file)."""
    return data[:-8] + struct.pack("<Q", crc64(data[:-8]))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("snap")
    (d / "m.snn").write_text(MODEL)
    return snndsl.compile(d / "m.snn")


@pytest.fixture(scope="module")
def snapshot(model, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("snapfile") / "mid.state"
    model.simulation(seed=3).advance(0.0041).save_state(path)  # spikes of gen still in flight in T
    return path.read_bytes()


def test_format_checksum_and_layout(snapshot, model):
    """The writer's CRC-64 is the standard CRC-64/XZ; the stored state equals the saved one."""
    assert snapshot[:10] == MAGIC
    assert snapshot[10:74].decode() == model.frontend.ir.source_hash
    assert struct.unpack_from("<Q", snapshot, 80)[0] == len(snapshot)
    assert struct.unpack("<Q", snapshot[-8:])[0] == crc64(snapshot[:-8])
    f = fields(snapshot)
    assert {"clock.step", "rng", "S.ring", "T.ring", "gen.src_step", "inp.next_spike", "local.x"} <= set(f)
    stored = model.run(seed=3).states["mid"]
    assert stored[:10] == MAGIC and struct.unpack("<Q", stored[-8:])[0] == crc64(stored[:-8])


FLIPS = """
import os, sys
sys.path[:0] = [{root!r}]
import snndsl
model = snndsl.compile({snn!r})
data = open({state!r}, "rb").read()
isolate = {isolate!r}
path = {tmp!r}
bits = {bits!r}
detected = accepted = crashed = 0
messages = {{}}
sim = model.simulation()  # a refused load changes nothing, so one simulation serves every flip
bits = range(len(data) * 8) if bits is None else bits
for bit in bits:
    bad = bytearray(data)
    bad[bit // 8] ^= 1 << (bit % 8)
    with open(path, "wb") as f:
        f.write(bad)
    if isolate:
        pid = os.fork()
        if pid == 0:
            try:
                model.simulation().load_state(path)
                os._exit(3)
            except snndsl.SimulationError:
                os._exit(4)
        _, status = os.waitpid(pid, 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        detected += code == 4
        accepted += code == 3
        crashed += code not in (3, 4)
        continue
    try:
        sim.load_state(path)
        accepted += 1
    except snndsl.SimulationError as e:
        detected += 1
        key = str(e).split("(")[-1][:40]
        messages[key] = messages.get(key, 0) + 1
print("RESULT", len(bits), detected, accepted, crashed)
print("MESSAGES", sorted(messages.items(), key=lambda kv: -kv[1])[:8])
"""


def count_flips(snn: Path, state: Path, tmp: Path, isolate: bool = False,
                bits: list[int] | None = None) -> tuple[int, int, int, int, str]:
    """(bits, detected, accepted, crashed, output) over single-bit flips of
    `state` (every bit, or those in `bits`), in a child process."""
    code = FLIPS.format(root=str(HERE.parent), snn=str(snn), state=str(state), tmp=str(tmp), isolate=isolate,
                        bits=bits)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT"):
            total, detected, accepted, crashed = map(int, line.split()[1:])
            return total, detected, accepted, crashed, proc.stdout
    return 0, 0, 0, 1, f"the child died (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-2000:]}"


def sample_bits(size: int, seed: int = 0) -> list[int]:
    """Every bit of the header and of the checksum, and every bit of 256 bytes
    drawn at random from the fields (the full set: `python tests/test_reliability_state.py`)."""
    rng = np.random.default_rng(seed)
    body = rng.choice(np.arange(HEAD, size - 8), 256, replace=False)
    chosen = [*range(HEAD), *sorted(int(b) for b in body), *range(size - 8, size)]
    return [8 * b + k for b in chosen for k in range(8)]


def test_single_bit_flips_are_detected(model, snapshot, tmp_path):
    """A sample of bit positions (all of the header and checksum, all bits of
    256 random bytes), each flipped alone: every one is refused with an error,
    none crashes, none is accepted. (All 8 x len positions: 100 % detected,
    see main(); CRC-64 detects every single-bit error by construction.)"""
    (tmp_path / "m.snn").write_text(MODEL)
    (tmp_path / "good.state").write_bytes(snapshot)
    bits = sample_bits(len(snapshot))
    total, detected, accepted, crashed, out = count_flips(tmp_path / "m.snn", tmp_path / "good.state",
                                                          tmp_path / "bad.state", bits=bits)
    assert total == len(bits) and (detected, accepted, crashed) == (total, 0, 0), out


def test_binary_refuses_a_damaged_restore(model, snapshot, tmp_path):
    """`restore state from` in the generated binary: a damaged file is exit 1 and
    one clear line, never a signal."""
    later = tmp_path / "later.snn"
    later.write_text(MODEL.split("phase a:")[0] + 'phase b:\n    restore state from "in.state"\n    let x = 1\n'
                     "    run 1 ms\n    freeze T.w\n")
    binary = snndsl.compile(later).binary
    (tmp_path / "in.state").write_bytes(snapshot)
    ok = subprocess.run([str(binary), "-o", "r", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    rng = np.random.default_rng(0)
    for bit in sorted(rng.choice(len(snapshot) * 8, 40, replace=False)):
        bad = bytearray(snapshot)
        bad[bit // 8] ^= 1 << (bit % 8)
        (tmp_path / "in.state").write_bytes(bad)
        proc = subprocess.run([str(binary), "-o", "r", "-q"], cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 1, (bit, proc.returncode, proc.stderr)
        # (a flip in the first bytes: "... in.state is not an snndsl snapshot (or its first bytes are damaged)")
        named = "error[E0601]: the snapshot " in proc.stderr or "is not an snndsl snapshot" in proc.stderr
        assert named and "in.state" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_checksum_mismatch_message(model, snapshot, tmp_path):
    bad = bytearray(snapshot)
    bad[len(bad) // 2] ^= 0x10
    (tmp_path / "bad.state").write_bytes(bad)
    with pytest.raises(snndsl.SimulationError, match=r"error\[E0601\]: the snapshot .*bad.state is damaged "
                                                     r"\(checksum mismatch\)"):
        model.simulation().load_state(tmp_path / "bad.state")
    (tmp_path / "cut.state").write_bytes(snapshot[:-100])
    with pytest.raises(snndsl.SimulationError, match=r"is damaged \(truncated"):
        model.simulation().load_state(tmp_path / "cut.state")


@pytest.mark.parametrize("magic, why", [(b"SNNSTATE1\n", "format 1, without a checksum"),
                                        (b"SNNSTATE2\n", "format 2, whose time step drew other random numbers")])
def test_old_format_is_refused_clearly(model, tmp_path, magic, why):
    (tmp_path / "old.state").write_bytes(magic + b"0" * 64 + bytes(200))
    with pytest.raises(snndsl.SimulationError, match=rf"older snndsl \({why}\)"):
        model.simulation().load_state(tmp_path / "old.state")


CRAFTED = """
import struct, sys
sys.path[:0] = [{here!r}, {root!r}]
import snndsl
from test_reliability_state import fields, seal
model = snndsl.compile({snn!r})
data = open({state!r}, "rb").read()
f = fields(data)
def put(name, k, fmt, value, base=None):
    elsize, count, at = f[name]
    b = bytearray(data if base is None else base)
    struct.pack_into(fmt, b, at + k * elsize, value)
    return bytes(b)
cases = {{
    "T.pre out of range": put("T.pre", 2, "<i", 99),  # S, in presynaptic order, stores no pre
    "S.pre_start past the synapses": put("S.pre_start", 2, "<q", 1 << 40),
    "S.post negative": put("S.post", 0, "<i", -1),
    "T.pre_start decreasing": put("T.pre_start", 1, "<q", 5),
    "T.pre_start past the synapses": put("T.pre_start", 3, "<q", 99),
    "T.post_syn out of range": put("T.post_syn", 0, "<i", 1 << 30),  # S, all pairs, keeps no post lists
    "T.post_other out of range": put("T.post_other", 3, "<i", 77),
    "S.n not every pair": put("S.n", 0, "<q", 3),  # all pairs: its pathways compute the synapses
    "G.nspikes too many": put("G.nspikes", 0, "<q", 1000),
    "inp.spikes out of range": put("inp.spikes", 0, "<i", 9, put("inp.nspikes", 0, "<q", 1)),
    "S.ring_n too long": put("S.ring_n", 0, "<q", 1 << 30),
    "S.ring entry": put("S.ring", 0, "<i", 1 << 20, put("S.ring_n", 0, "<q", 1)),  # a live entry
    "S.delay_steps beyond the ring": put("S.delay_steps", 0, "<q", 1 << 20),
    "S.ring_size not a power of two": put("S.ring_size", 0, "<q", 12),
    "T.delay_steps beyond the ring": put("T.delay_steps", 1, "<i", 1 << 20),
    "T.n larger than its arrays": put("T.n", 0, "<q", 1 << 50),
    "S.n negative": put("S.n", 0, "<q", -5),
    "gen.cursor past the end": put("gen.cursor", 0, "<q", 1 << 40),
    "gen.src_i out of range": put("gen.src_i", 1, "<i", 3),
    "gen.src_step unsorted": put("gen.src_step", 0, "<q", 1 << 40),
    "gen.nsrc huge": put("gen.nsrc", 0, "<q", 1 << 60),
    "clock.step negative": put("clock.step", 0, "<q", -3),
    "rng all zero": data[:f["rng"][2]] + bytes(f["rng"][0] * f["rng"][1]) + data[f["rng"][2] + f["rng"][0] * f["rng"][1]:],
}}
elsize, count, at = f["T.ring"]
for name, value in (("T.ring slot length huge", 1 << 62), ("T.ring slot length long", 3)):
    b = bytearray(data)
    struct.pack_into("<Q", b, at, value)
    cases[name] = bytes(b)
for slot in range(count):
    (used,) = struct.unpack_from("<Q", data, at)
    if used:
        b = bytearray(data)
        struct.pack_into("<i", b, at + 8, 1 << 20)
        cases["T.ring entry out of range"] = bytes(b)
        break
    at = (at + 8 + used * elsize + 7) // 8 * 8
for name, bad in cases.items():
    open({tmp!r}, "wb").write(seal(bad))
    try:
        model.simulation().load_state({tmp!r})
        print("ACCEPTED", name)
    except snndsl.SimulationError as e:
        print("REFUSED", name, "::", e)
print("DONE", len(cases))
"""


def test_crafted_snapshot_with_a_valid_checksum_is_refused(model, snapshot, tmp_path):
    """Values a crash would follow from (indices, counts, queue lengths, CSR
    offsets, the ring's size) are checked even when the checksum is right."""
    (tmp_path / "m.snn").write_text(MODEL)
    (tmp_path / "good.state").write_bytes(snapshot)
    code = CRAFTED.format(here=str(HERE), root=str(HERE.parent), snn=str(tmp_path / "m.snn"),
                          state=str(tmp_path / "good.state"), tmp=str(tmp_path / "crafted.state"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    report = f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0 and "DONE" in proc.stdout, report
    assert "ACCEPTED" not in proc.stdout, report
    for line in proc.stdout.splitlines():
        if line.startswith("REFUSED"):
            assert "error[E0601]: the snapshot" in line, line


def test_a_refused_snapshot_leaves_the_simulation_as_it_was(model, snapshot, tmp_path):
    """A failed load changes nothing: the simulation continues exactly like an
    untouched twin (a damaged file, and a valid file with one bad index late in it)."""
    bad = bytearray(snapshot)
    bad[-20] ^= 1
    (tmp_path / "bad.state").write_bytes(bad)
    crafted = bytearray(snapshot)
    struct.pack_into("<i", crafted, fields(snapshot)["T.pre"][2], 99)
    (tmp_path / "crafted.state").write_bytes(seal(bytes(crafted)))
    twin = model.simulation(seed=11).advance(0.005).advance(0.01).results()
    for path in ("bad.state", "crafted.state"):
        sim = model.simulation(seed=11).advance(0.005)
        with pytest.raises(snndsl.SimulationError, match="the snapshot"):
            sim.load_state(tmp_path / path)
        got = sim.advance(0.01).results()
        np.testing.assert_array_equal(got["spk"].t, twin["spk"].t)
        np.testing.assert_array_equal(got["spk"].i, twin["spk"].i)
        assert len(twin["spk"].t) > 3


def test_stored_state_restores_through_the_same_checks(model, tmp_path, monkeypatch):
    """`store state` keeps the same format in memory; restored by another model, a
    damaged copy is refused like a file."""
    whole = model.run(seed=3)
    later = tmp_path / "later.snn"
    later.write_text(MODEL.split("phase a:")[0] + 'phase b:\n    restore state from "in.state"\n    let x = 1\n'
                     "    run 10 ms\n    freeze T.w\n")
    (tmp_path / "in.state").write_bytes(whole.states["mid"])
    monkeypatch.chdir(tmp_path)
    rest = snndsl.compile(later).run(seed=99)
    late = whole["spk"].t >= 0.01 - 1e-12
    np.testing.assert_array_equal(rest["spk"].t, whole["spk"].t[late])
    np.testing.assert_array_equal(rest["spk"].i, whole["spk"].i[late])
    bad = bytearray(whole.states["mid"])
    bad[200] ^= 4
    (tmp_path / "in.state").write_bytes(bad)
    with pytest.raises(snndsl.SimulationError, match=r"damaged \(checksum mismatch\)"):
        snndsl.compile(later).run()


# ---- issue 7, item 10: checking a model of many groups is linear in the groups


def many_groups(n: int) -> str:
    """n neuron groups, n / 2 Poisson groups and n synapse groups, each between neighbours."""
    out = ["dt = 0.1 ms", "param rate_in = 5 Hz", ""]
    for k in range(n // 2):
        out += [f"poisson P{k}[4]:", f"    rate = rate_in * (1 + {k % 3})", ""]
    for k in range(n):
        out += [f"neurons N{k}[3]:", "    dv/dt = -v / (10 ms) : 1", "    threshold: v > 1", "    reset: v = 0", ""]
    for k in range(n):
        src = f"P{k // 2}" if k % 2 == 0 else f"N{k - 1}"
        out += [f"synapses S{k}: {src} -> N{k}:", "    connect: all", "    w : 1", "    on pre:",
                "        post.v += w", "    init: w = 0.2", ""]
    out += ["monitor m0: spikes of N0", "", "phase a:", "    run 1 ms", ""]
    return "\n".join(out)


def test_the_frontend_visits_each_group_a_bounded_number_of_times(monkeypatch):
    """Every IR node the whole frontend (check, lower, passes, view, render)
    visits through ir.walk, for a model of n and of 4 n groups: linear work
    visits about 4 times as many, quadratic work (each Poisson or synapse group
    walking every group, as the Poisson skip analysis and the trace hoisting
    once did) about 16 times. Counts, not seconds: the test is not timed."""
    from snndsl import driver
    from snndsl.ir import nodes
    visited = [0]
    walk = nodes.walk

    def counting(node):
        for n in walk(node):
            visited[0] += 1
            yield n

    monkeypatch.setattr(nodes, "walk", counting)
    counts = []
    for n in (40, 160):
        visited[0] = 0
        driver.frontend(many_groups(n), f"many{n}.snn")
        counts.append(visited[0])
    assert counts[1] < 5 * counts[0], counts


@pytest.mark.slow
def test_a_model_of_ten_thousand_groups_checks(tmp_path):
    """`snndsl check` of 10,000 groups (4,000 neuron, 2,000 Poisson and 4,000
    synapse groups) finishes: quadratic work took hours here; the timeout is
    generous for a loaded machine, the test is not timed."""
    (tmp_path / "many.snn").write_text(many_groups(4000))
    proc = subprocess.run([sys.executable, "-m", "snndsl", "check", str(tmp_path / "many.snn")],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    assert proc.returncode == 0, proc.stderr[-2000:]


def main() -> None:
    """Print the single-bit-flip figure for MODEL's snapshot."""
    import argparse
    import tempfile
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isolate", action="store_true", help="each load in a forked process (counts crashes)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        os.environ.setdefault("SNNDSL_CACHE", str(d / "cache"))
        (d / "m.snn").write_text(MODEL)
        snndsl.compile(d / "m.snn").simulation(seed=3).advance(0.0041).save_state(d / "good.state")
        total, detected, accepted, crashed, out = count_flips(d / "m.snn", d / "good.state", d / "bad.state",
                                                              args.isolate)
        print(json.dumps({"bits": total, "detected": detected, "accepted": accepted, "crashed": crashed}))
        if not args.isolate:
            print(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
