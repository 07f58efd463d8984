"""Each pass on a small hand-built IR, compared with ==; verify() after each."""
import dataclasses

import pytest

from snndsl.diagnostics import InternalError
from snndsl.ir import nodes as ir
from snndsl.ir.verify import verify
from snndsl.passes import PIPELINE, fold_constants
from snndsl.passes.fold_constants import _fold


def module(*stmts, vars_=(ir.StateVar("w", "f", False, "1"),)):
    g = ir.Group("S", "poisson", 3, vars_, init=tuple(stmts), rate=ir.Const(0.0))
    return ir.Module("m", "hash", 1e-4, 0, (), (), (g,), (), (), ())


W = ir.Var("S", "w")


def test_fold_constants_folds_and_simplifies():
    before = module(ir.Assign(W, ir.Binary("+", ir.Binary("*", W, ir.Binary("/", ir.Const(2.0), ir.Const(2.0))),
                                           ir.Binary("-", ir.Const(1.0), ir.Const(1.0)))))
    after = fold_constants(before)
    verify(after)
    assert after.groups[0].init == (ir.Assign(W, W),)
    assert before.groups[0].init != after.groups[0].init  # the input is not mutated


def test_fold_constants_keeps_what_depends_on_run_time():
    stmt = ir.Assign(W, ir.Binary("*", W, ir.Call("exp", (ir.Binary("*", ir.Const(-50.0), ir.Special("t")),))))
    assert fold_constants(module(stmt)).groups[0].init == (stmt,)


def test_fold_constants_integer_and_boolean_results():
    e = ir.Binary("and", ir.Binary("<", ir.Const(1, "i"), ir.Const(2, "i"), "b"), ir.Const(True, "b"), "b")
    m = fold_constants(module(ir.If(e, (ir.Assign(W, ir.Binary("%", ir.Const(-7, "i"), ir.Const(3, "i"), "i")),))))
    stmt = m.groups[0].init[0]
    assert stmt.cond == ir.Const(True, "b")
    assert stmt.body[0].value == ir.Const(2, "i")  # Python's sign rule for %


def test_fold_constants_leaves_division_by_zero_to_run_time():
    e = ir.Binary("/", ir.Const(1.0), ir.Const(0.0))
    assert fold_constants(module(ir.Assign(W, e))).groups[0].init[0].value == e


def test_map_expr_reaches_expressions_in_every_kind_of_node():
    """A rewrite reaches an expression wherever it sits: in a field of a node
    class that map_expr does not name (map_expr once listed the classes to
    descend into, and silently skipped the rest), and in the module's saves."""

    @dataclasses.dataclass(frozen=True)
    class Inner:
        value: ir.Expr

    @dataclasses.dataclass(frozen=True)
    class Outer:
        inner: Inner
        many: tuple

    two = ir.Binary("+", ir.Const(1.0), ir.Const(1.0))
    out = ir.map_expr(_fold, Outer(Inner(two), (Inner(two),)))
    assert out == Outer(Inner(ir.Const(2.0)), (Inner(ir.Const(2.0)),))
    saved = ir.SaveDef("s", "S", "w", False, "1", "f", expr=two)
    m = dataclasses.replace(module(), saves=(saved,))
    assert fold_constants(m).saves[0].expr == ir.Const(2.0)


def test_pipeline_is_a_tuple_of_pure_functions():
    m = module(ir.Assign(W, ir.Binary("+", W, ir.Const(0.0))))
    for p in PIPELINE:
        out = p(m)
        verify(out)
        assert p(m) == out


def test_verify_rejects_broken_ir():
    with pytest.raises(InternalError, match="unknown variable S.v"):
        verify(module(ir.Assign(ir.Var("S", "v"), ir.Const(1.0))))
    with pytest.raises(InternalError, match="undeclared local"):
        verify(module(ir.Assign(W, ir.Local("k"))))
    with pytest.raises(InternalError, match="sharedness"):
        verify(module(ir.Assign(ir.Var("S", "w", "shared"), ir.Const(1.0))))


# ---- hoist_traces / remove_dead_state ------------------------------------------

from snndsl.passes import hoist_traces, remove_dead_state  # noqa: E402

T = ir.Special("t")


def syn(on_pre, on_post, monitors=(), extra_vars=(), phases=()):
    """A synapse group inp -> out with traces x, y and their shared clock."""
    decay = (ir.Const(-50.0), ir.Const(0.0))
    vars_ = (ir.StateVar("w", "f", False, "1"),
             ir.StateVar("x", "f", False, "1", "event-driven", decay),
             ir.StateVar("y", "f", False, "1", "event-driven", decay),
             ir.StateVar("lastupdate", "f", False, "second", "lastupdate")) + extra_vars
    adv = (ir.Advance("S", ("x", "y"), "lastupdate"),)
    stamp = (ir.Assign(ir.Var("S", "lastupdate"), T),)
    s = ir.Group("S", "synapses", None, vars_, source="inp", target="out",
                 on_pre=adv + tuple(on_pre) + stamp, on_post=adv + tuple(on_post) + stamp)
    src = ir.Group("inp", "poisson", 3, (), rate=ir.Const(1.0))
    dst = ir.Group("out", "poisson", 2, (), rate=ir.Const(1.0))
    return ir.Module("m", "h", 1e-4, 0, (), (), (src, dst, s), tuple(monitors), (), tuple(phases))


X, Y, Wv = ir.Var("S", "x"), ir.Var("S", "y"), ir.Var("S", "w")
STDP_PRE = (ir.Assign(X, ir.Binary("+", X, ir.Const(1.0))), ir.Assign(Wv, ir.Binary("+", Wv, Y)))
STDP_POST = (ir.Assign(Y, ir.Binary("-", Y, ir.Const(1.0))), ir.Assign(Wv, ir.Binary("+", Wv, X)))
W_MON = ir.Monitor("mw", "state", "S", "w")


def test_hoist_traces_moves_stdp_traces_to_neurons():
    out = remove_dead_state(hoist_traces(syn(STDP_PRE, STDP_POST, [W_MON])))
    verify(out)
    g = out.group("S")
    assert g.var("x").index == "pre" and g.var("y").index == "post"
    assert g.var("lastupdate") is None  # no trace is left per synapse
    assert g.on_pre_spike == (ir.Advance("S", ("x",), "lastupdate_pre"), STDP_PRE[0],
                              ir.Assign(ir.Var("S", "lastupdate_pre"), T))
    assert g.on_pre == (ir.Advance("S", ("y",), "lastupdate_post"),
                        ir.Assign(ir.Var("S", "lastupdate_post"), T), STDP_PRE[1])
    assert g.on_post_spike[1] == STDP_POST[0]
    assert g.on_post == (ir.Advance("S", ("x",), "lastupdate_pre"),
                         ir.Assign(ir.Var("S", "lastupdate_pre"), T), STDP_POST[1])


def test_hoist_traces_keeps_a_trace_that_depends_on_the_synapse():
    pre = (ir.Assign(X, ir.Binary("+", X, Wv)), STDP_PRE[1])  # x += w: per synapse
    out = hoist_traces(syn(pre, STDP_POST, [W_MON]))
    g = out.group("S")
    assert g.var("x").index == "element" and g.var("y").index == "post"
    assert ir.Advance("S", ("x",), "lastupdate") in g.on_pre  # x stays per synapse, on its clock


def test_hoist_traces_keeps_observed_or_reordered_traces():
    monitored = hoist_traces(syn(STDP_PRE, STDP_POST, [W_MON, ir.Monitor("mx", "state", "S", "x")]))
    assert monitored.group("S").var("x").index == "element"
    read_first = (ir.Assign(Wv, ir.Binary("+", Wv, X)), STDP_PRE[0])  # reads x before x += 1
    assert hoist_traces(syn(read_first, STDP_POST, [W_MON])).group("S").var("x").index == "element"
    under_if = (ir.If(ir.Binary(">", Wv, ir.Const(0.5), "b"), (STDP_PRE[0],)), STDP_PRE[1])
    assert hoist_traces(syn(under_if, STDP_POST, [W_MON])).group("S").var("x").index == "element"
    written_by_phase = [ir.Phase("p", (ir.GroupAssign("S", X, ir.Const(0.0)),))]
    out = hoist_traces(syn(STDP_PRE, STDP_POST, [W_MON], phases=written_by_phase))
    assert out.group("S").var("x").index == "element"


def test_remove_dead_state_drops_unread_variables_and_their_writes():
    unused = ir.StateVar("u", "f", False, "1")
    pre = STDP_PRE + (ir.Assign(ir.Var("S", "u"), ir.Binary("+", Wv, ir.Const(1.0))),)
    out = remove_dead_state(syn(pre, STDP_POST, [W_MON], extra_vars=(unused,)))
    verify(out)
    g = out.group("S")
    assert g.var("u") is None
    assert all(not (isinstance(s, ir.Assign) and s.target.name == "u") for s in g.on_pre)
    assert g.var("lastupdate") is not None  # still the clock of x and y


def test_remove_dead_state_keeps_writes_that_read_data():
    m = syn(STDP_PRE, STDP_POST, [W_MON], extra_vars=(ir.StateVar("u", "f", False, "1"),),
            phases=[ir.Phase("p", (ir.GroupAssign("S", ir.Var("S", "u"),
                                                  ir.DataAt("d", (ir.Special("elem", "i"),))),))])
    m = dataclasses.replace(m, data=(ir.DataDef("d", "/x.npy", "1", 1.0),))
    assert remove_dead_state(m).group("S").var("u") is not None


# ---- decisions (passes/decide.py): always run, written into the IR --------------

from snndsl.passes.decide import choose_poisson_sampling  # noqa: E402


def _poisson(rate: ir.Expr, *others: ir.Group) -> ir.Module:
    g = ir.Group("P", "poisson", 3, (ir.StateVar("r", "f", False, "hertz"),), rate=rate)
    return ir.Module("m", "hash", 1e-4, 0, (), (), (g, *others), (), (), ())


def test_poisson_sampling_skips_ahead_only_when_rates_stay_fixed_during_a_run():
    fixed = ir.Binary("*", ir.Const(5.0), ir.Special("i"))
    assert choose_poisson_sampling(_poisson(fixed)).groups[0].sampling == "skip ahead"
    assert choose_poisson_sampling(_poisson(ir.Var("P", "r"))).groups[0].sampling == "skip ahead"  # phases set r
    # r written by another group's event code: it may change within a run
    writer = ir.Group("S", "synapses", None, (), source="P", target="P",
                      on_pre=(ir.Assign(ir.Var("P", "r", "post"), ir.Const(1.0)),))
    assert choose_poisson_sampling(_poisson(ir.Var("P", "r"), writer)).groups[0].sampling == "per step"
    assert choose_poisson_sampling(_poisson(ir.Binary("*", ir.Const(5.0), ir.Special("t")))).groups[0].sampling \
        == "per step"
    assert choose_poisson_sampling(_poisson(ir.Rand("uniform"))).groups[0].sampling == "per step"


def test_verify_checks_the_decisions():
    m = choose_poisson_sampling(_poisson(ir.Const(5.0)))
    verify(m)
    with pytest.raises(InternalError, match="samples"):
        verify(dataclasses.replace(m, groups=(dataclasses.replace(m.groups[0], sampling="sometimes"),)))
    held = ir.Phase("p", (ir.Run(ir.Const(1.0), frozen=(("P", "r"),)),))
    with pytest.raises(InternalError, match="no freeze flag"):
        verify(dataclasses.replace(m, phases=(held,)))


def test_the_decisions_are_made_without_the_optimizer_and_shown_in_the_ir(tmp_path):
    """`--no-opt` skips the optimizer, not the decisions; `--emit ir` shows them."""
    import subprocess
    import sys
    model = tmp_path / "m.snn"
    model.write_text("poisson p[4]:\n    rate = 5 Hz\nneurons n[2]:\n    dv/dt = -v / (10 ms) : 1\n"
                     "phase a:\n    freeze n.v\n    run 1 ms\n    unfreeze n.v\n    run 1 ms\n")
    for flags in ((), ("--no-opt",)):
        out = subprocess.run([sys.executable, "-m", "snndsl", "compile", str(model), "--emit", "ir", *flags],
                             capture_output=True, text=True, check=True).stdout
        assert "poisson spikes p: rate 5.0, sampled skip ahead, stream 0" in out, out
        assert "run 0.001  (frozen everywhere: n.v)" in out and "    run 0.001\n" in out, out


# ---- the schedule of a time step (ir/lower.py), checked by verify ----------------

def test_the_schedule_is_brian2s_order_and_verify_holds_it_to_that():
    from snndsl.driver import diagnose
    from snndsl.ir.lower import lower
    text = ("neurons n[2]:\n    dv/dt = -v / (10 ms) : 1\n    threshold: v > 1\n    reset: v = 0\n"
            "poisson p[2]:\n    rate = 5 Hz\n"
            "synapses S: p -> n:\n    connect: all\n    w : 1\n    on pre: post.v += w\n    on post: w += 0.1\n"
            "monitor r: rate of n\nmonitor sp: spikes of n\nmonitor m: n.v\nphase a:\n    run 1 ms\n")
    _, model, _ = diagnose(text, "m.snn")
    m = lower(model)
    assert [(t.kind, t.target) for t in m.schedule] == [
        ("record state", "m"), ("update", "n"), ("threshold", "n"), ("threshold", "p"), ("record spikes", "sp"),
        ("on pre", "S"), ("on post", "S"), ("reset", "n"), ("record rate", "r")]
    verify(m)
    swapped = list(m.schedule)
    swapped[5], swapped[6] = swapped[6], swapped[5]  # on post before on pre
    with pytest.raises(InternalError, match="against Brian2's order"):
        verify(dataclasses.replace(m, schedule=tuple(swapped)))
    with pytest.raises(InternalError, match="the task reset of p"):
        verify(dataclasses.replace(m, schedule=m.schedule[:7] + (ir.Task("reset", "p"),) + m.schedule[8:]))
    with pytest.raises(InternalError, match="not such a monitor"):
        verify(dataclasses.replace(m, schedule=(ir.Task("record state", "sp"),) + m.schedule[1:]))


# ---- random streams (passes/streams.py) and kernels (passes/kernels.py) ----------

STREAMS_MODEL = ("neurons n[4]:\n    dv/dt = -v / (10 ms) : 1\n    threshold: v > 0.9\n    reset: v = 0.1 * rand()\n"
                 "    init: v = rand()\n"
                 "poisson p[3]:\n    rate = 5 Hz\n"
                 "synapses S: p -> n:\n    connect: rand() < 0.5\n    w : 1\n    on pre: post.v += w\n"
                 "phase a:\n    S.w = randn()\n    run 1 ms\n")


def _decided(text: str) -> ir.Module:
    from snndsl.driver import decide, diagnose, optimize
    from snndsl.ir.lower import lower
    _, model, diags = diagnose(text, "m.snn")
    assert not [d for d in diags if d.severity == "error"], diags
    return decide(optimize(lower(model)))


def test_each_site_that_draws_has_its_own_stream_named_in_model_order():
    m = _decided(STREAMS_MODEL)
    assert m.streams == ("n: init", "n: reset", "p: threshold", "S: connect", "a: line 13")
    draws = {n.stream for n in ir.walk(m.groups[0]) if isinstance(n, ir.Rand)}
    assert draws == {0, 1}
    assert m.group("p").stream == 2
    assert {n.stream for n in ir.walk(m.group("S").connect_cond) if isinstance(n, ir.Rand)} == {3}
    assert {n.stream for n in ir.walk(m.phases) if isinstance(n, ir.Rand)} == {4}


def test_streams_do_not_depend_on_code_that_draws_nothing():
    """Editing a deterministic part of a model (here: adding a group and a
    reset that draw nothing) leaves every stream's number as it was."""
    base = _decided(STREAMS_MODEL)
    edited = _decided(STREAMS_MODEL.replace("    threshold: v > 0.9\n", "    threshold: v > 0.9\n    dw/dt = -w / (5 ms) : 1\n")
                      .replace("poisson p[3]", "neurons q[2]:\n    du/dt = -u / (3 ms) : 1\npoisson p[3]"))
    assert edited.streams[:4] == base.streams[:4]
    assert edited.group("p").stream == base.group("p").stream


def test_verify_holds_streams_and_kernels_to_their_module():
    m = _decided(STREAMS_MODEL)
    verify(m)
    n = m.group("n")
    unnumbered = dataclasses.replace(n, init=ir.map_expr(
        lambda e: dataclasses.replace(e, stream=None) if isinstance(e, ir.Rand) else e, n.init))
    with pytest.raises(InternalError, match="random streams"):
        verify(dataclasses.replace(m, groups=(unnumbered,) + m.groups[1:]))
    # a pass that rewrites a group's code after the kernels were made must rewrite its kernel too
    changed = dataclasses.replace(n, update=())
    with pytest.raises(InternalError, match="other code than its group"):
        verify(dataclasses.replace(m, groups=(changed,) + m.groups[1:]))
    with pytest.raises(InternalError, match="not in the schedule"):
        verify(dataclasses.replace(m, step=m.step[::-1]))


def test_kernels_follow_the_schedule_with_their_code():
    m = _decided(STREAMS_MODEL)
    assert [(type(k), k.target) for k in m.step] == [
        (ir.Update, "n"), (ir.Threshold, "n"), (ir.PoissonSpikes, "p"), (ir.SynapseEvents, "S"), (ir.Reset, "n")]
    syn = m.step[3]
    assert syn.event == "pre" and syn.delay == "none" and syn.in_pre_order and syn.body == m.group("S").on_pre
    poisson = m.step[2]
    assert (poisson.sampling, poisson.stream, poisson.rate) == ("skip ahead", 2, ir.Const(5.0))
    # setup: the neurons' init, then the connection by a Bernoulli trial per pair from its stream
    init, connect = m.setup
    assert (type(init), init.target, init.body) == (ir.Init, "n", m.group("n").init)
    assert (type(connect), connect.rule, connect.p, connect.cond, connect.stream) == \
        (ir.Connect, "bernoulli", ir.Const(0.5), None, 3)
