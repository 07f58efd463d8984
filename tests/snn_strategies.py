"""Hypothesis strategies for .snn text, shared by the fuzz tests: valid models
mutated line- and token-wise, random token streams, and random top-level
declarations (tests/checks/test_fuzz_frontend.py, tests/syntax/test_descent.py)."""
from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [p.read_text(encoding="utf-8") for p in
         sorted((ROOT / "tests" / "checks" / "valid").glob("*.snn")) + sorted((ROOT / "examples").glob("*.snn"))
         + sorted((ROOT / "tests" / "e2e" / "models").glob("*.snn"))]

KEYWORDS = """neurons poisson spikes synapses monitor phase run for in if else while let freeze
unfreeze save store restore state as and or not const param data init on pre post connect
threshold reset refractory method delay every during from of true false""".split()
NAMES = ["w", "learned", "x", "inp", "out", "S", "i", "j", "t", "dt", "N", "tau", "rate",
         "W_max", "sum", "mean", "count", "sum_post", "rand", "clip", "exp", "len", "k",
         "all", "one_to_one", "double", "single", "shared", "constant", "event-driven",
         "boolean", "integer", "seed", "precision", "times"]
NUMBERS = ["0", "1", "-3", "2.5", "0.3", "1e-3", "1e400", "10 ms", "0.1 ms", "20 Hz", "-65 mV",
           "2 mV/ms", "1 metre**2", "0 ms", "3 s"]
PUNCT = ["=", "+=", "-=", "*=", "/=", ":", ".", ",", "(", ")", "[", "]", "->", "..", "+", "-",
         "*", "/", "**", "%", "<", "<=", ">", ">=", "==", "!=", "#", '"', '"x.npy"']
TOKENS = KEYWORDS + NAMES + NUMBERS + PUNCT
LAYOUT = ["\n", "\n    ", "\n        ", "\n  ", "\t", " "]
CHARS = st.sampled_from(list("$@!?;{}`'\\\t\r\x00é") + PUNCT + [" ", "\n", "    "])


@st.composite
def mutated_model(draw) -> str:
    lines = draw(st.sampled_from(SEEDS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            lines = [""]
        n = len(lines)
        k = draw(st.integers(0, n - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "tab",
                                   "chars", "keyword", "tok_delete", "tok_duplicate",
                                   "tok_swap", "tok_replace"]))
        line = lines[k]
        toks = line.split(" ")
        if op == "delete":
            del lines[k]
        elif op == "duplicate":
            lines.insert(k, line)
        elif op == "swap":
            m = draw(st.integers(0, n - 1))
            lines[k], lines[m] = lines[m], lines[k]
        elif op == "indent":
            lines[k] = " " * draw(st.integers(1, 9)) + line
        elif op == "dedent":
            lead = len(line) - len(line.lstrip(" "))
            lines[k] = line[min(draw(st.integers(1, 8)), lead):]
        elif op == "tab":
            lines[k] = "\t" + line
        elif op == "chars":
            pos = draw(st.integers(0, len(line)))
            lines[k] = line[:pos] + "".join(draw(st.lists(CHARS, min_size=1, max_size=4))) + line[pos:]
        elif op == "keyword":
            pos = draw(st.integers(0, len(toks)))
            toks.insert(pos, draw(st.sampled_from(KEYWORDS)))
            lines[k] = " ".join(toks)
        elif op == "tok_delete" and len(toks) > 1:
            del toks[draw(st.integers(0, len(toks) - 1))]
            lines[k] = " ".join(toks)
        elif op == "tok_duplicate":
            p = draw(st.integers(0, len(toks) - 1))
            toks.insert(p, toks[p])
            lines[k] = " ".join(toks)
        elif op == "tok_swap" and len(toks) > 1:
            a, b = draw(st.integers(0, len(toks) - 1)), draw(st.integers(0, len(toks) - 1))
            toks[a], toks[b] = toks[b], toks[a]
            lines[k] = " ".join(toks)
        elif op == "tok_replace":
            toks[draw(st.integers(0, len(toks) - 1))] = draw(st.sampled_from(TOKENS))
            lines[k] = " ".join(toks)
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


token_stream = st.lists(st.one_of(st.sampled_from(TOKENS), st.sampled_from(LAYOUT)),
                        min_size=1, max_size=40).map(" ".join)

# Top-level declarations with random bodies: gets further into the checker
# than a free token stream, which mostly stops at the first syntax error.
_expr_token = st.sampled_from(NAMES + NUMBERS + ["+", "-", "*", "/", "(", ")", ">", "and", "not"])
_expr = st.lists(_expr_token, min_size=1, max_size=6).map(" ".join)
declaration = st.one_of(
    st.builds("const {} = {}\n".format, st.sampled_from(NAMES + KEYWORDS), _expr),
    st.builds("param {} = {}\n".format, st.sampled_from(NAMES), _expr),
    st.builds("{} = {}\n".format, st.sampled_from(["dt", "seed", "precision", "tau"]), _expr),
    st.builds("poisson {}[{}]:\n    rate = {}\n".format, st.sampled_from(["inp", "out", "N"]), _expr, _expr),
    st.builds("synapses S: inp -> out:\n    connect: {}\n    w : 1\n    on pre:\n        {} += {}\n".format,
              _expr, st.sampled_from(NAMES), _expr),
    st.builds("synapses S: inp -> out:\n    connect: {} in {} .. {} if {} times {}\n    w : 1\n".format,
              st.sampled_from(["j", "i", "k"]), _expr, _expr, _expr, _expr),
    st.builds("synapses S: inp -> out:\n    connect: j = {} if {}\n    on pre: post.x += w\n".format, _expr, _expr),
    st.builds("monitor m: {}.{} every {}\n".format, st.sampled_from(NAMES), st.sampled_from(NAMES), _expr),
    st.builds("phase p:\n    {}.{} = {}\n    run {}\n".format, st.sampled_from(["S", "inp"]),
              st.sampled_from(NAMES), _expr, _expr),
)
declarations = st.lists(declaration, min_size=1, max_size=6).map("".join)
