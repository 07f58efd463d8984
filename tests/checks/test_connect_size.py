"""Compile-time estimates of the synapses a `connect:` makes (issue 7, item 11):
an error where they cannot exist in any process (E0504, tests/checks/invalid/
too_large_*.snn), a warning where they exceed this machine's memory (W0104)."""
from snndsl.driver import frontend
from snndsl.semantics.check import Checker
from snndsl.semantics.connectivity import bytes_per_synapse, check_connectivity, synapse_count
from snndsl.syntax.parse import parse_source

MODEL = """\
poisson a[{n}]:
    rate = 1 Hz
neurons b[{n}]:
    dv/dt = -v / (10 ms) : 1
synapses S: a -> b:
    connect: {connect}
    w : 1
    dx/dt = -x / (5 ms) : 1 (event-driven)
    on pre:
        post.v += w
"""


def checked(n: int, connect: str):
    text = MODEL.format(n=n, connect=connect)
    return Checker(parse_source(text, "c.snn"), text).run()


def test_a_million_by_a_million_all_to_all_warns_at_the_connect_line():
    """10^12 synapses of 56 bytes (indices 32; w, x and the last update's time 8 each): 51 TiB."""
    fe = frontend(MODEL.format(n=10**6, connect="all"), "c.snn")
    [w] = fe.warnings
    assert (w.code.value, w.span.line, w.span.col) == ("W0104", 6, 5)
    assert "1e+12 synapses" in w.message and "TiB" in w.message


def test_estimates_and_thresholds():
    model = checked(1000, "all")
    g = model.group("S")
    assert bytes_per_synapse(g, model) == 32 + 8 + 8 + 8  # indices, w, x, lastupdate
    assert synapse_count(g, {"a": 1000, "b": 1000})[0] == 1e6
    assert check_connectivity(model, memory=2 ** 40) == []
    [w] = check_connectivity(model, memory=10**6)
    assert w.code.value == "W0104" and not w.is_error
    sparse = checked(10**6, "rand() < 1e-6")
    assert synapse_count(sparse.group("S"), {"a": 10**6, "b": 10**6})[0] == 1e6
    assert check_connectivity(sparse, memory=2 ** 34) == []  # 10^6 synapses: 56 MB
    anded = checked(10**6, "i != j and rand() < 1e-6")
    assert "at most" in synapse_count(anded.group("S"), {"a": 10**6, "b": 10**6})[1]
    assert synapse_count(checked(10, "i != j").group("S"), {"a": 10, "b": 10}) is None  # unknown: no estimate
    assert synapse_count(checked(10, "one_to_one").group("S"), {"a": 10, "b": 10})[0] == 10


def test_generator_estimates():
    """`all times N` with N a constant is counted; the other generators'
    counts are known only at run time."""
    assert synapse_count(checked(1000, "all times 3").group("S"), {"a": 1000, "b": 1000})[0] == 3e6
    assert synapse_count(checked(10, "j in i .. i + 3").group("S"), {"a": 10, "b": 10}) is None
    fe = frontend(MODEL.format(n=10**6, connect="all times 2"), "c.snn")
    [w] = fe.warnings
    assert (w.code.value, w.span.line, w.span.col) == ("W0104", 6, 5) and "2e+12 synapses" in w.message

