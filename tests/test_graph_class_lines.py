"""A plain graph's classes are read from two runs each (the class's first member and one FAR periods on,
``convcalc.graph.sizes._line``); these random graphs check that reading against brute force.

Witnesses, on random 1-d graphs of convolutions (ONNX and PyTorch padding, words included), transposed
convolutions with output_padding, poolings (ONNX Runtime's truncation, ceil_mode), pads and crops,
resizes by 2 and 1/2, and skip merges (concat, add):
- the sizes that run and the sizes that drop nothing equal a size-by-size sweep of the graph (from the
  smallest size that runs);
- every tensor's formula equals its size in the concrete run, at every swept size it covers;
- the two-run reading equals the three-run reading (q = 0, 1, 2) that graphs with shape arithmetic use.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.graph import sizes
from convcalc.graph.model import (
    ConcatSpec,
    ConvSpec,
    Graph,
    Node,
    Padding,
    PadSpec,
    PoolSpec,
    ResizeSpec,
    Tensor,
)
from convcalc.graph.shapes import Run, propagate
from convcalc.graph.sizes import AxisSizes, all_axes

C = 4
AXIS = 2  # (batch, channels, length)


def _layers(rng: random.Random, n: int, source: str, out: str, earlier: list[str]) -> list[Node]:
    """One layer reading ``source`` and writing ``out``, every tensor with C channels (a concatenation
    is followed by a 1x1 convolution back to C)."""
    kind = rng.choice(["conv", "conv", "down", "up", "pool", "pad", "resize", "relu", "cat", "add"])
    name = f"n{n}"
    if kind == "cat":
        both = f"{out}_cat"
        spec = ConvSpec("onnx", (1,), (1,), (1,), ((0, 0),), 2 * C, C)
        return [
            Node(name, "Concat", "concat", (source, rng.choice(earlier)), (both,), ConcatSpec(1)),
            Node(f"{name}_mix", "Conv", "conv", (both,), (out,), spec),
        ]
    if kind == "add":
        return [Node(name, "Add", "elementwise", (source, rng.choice(earlier)), (out,))]
    return [_layer(rng, kind, name, source, out)]


def _layer(rng: random.Random, kind: str, name: str, source: str, out: str) -> Node:
    if kind == "relu":
        return Node(name, "Relu", "shape_preserving", (source,), (out,))
    if kind == "up":
        s = rng.choice([2, 2, 3])
        k = rng.randint(1, 4)
        p = rng.randint(0, (k - 1) // 2)
        up = ConvSpec("onnx", (k,), (s,), (1,), ((p, p),), C, C, output_padding=(rng.randint(0, s - 1),))
        return Node(name, "ConvTranspose", "conv_transpose", (source,), (out,), up)
    if kind == "pool":
        k = rng.randint(1, 3)
        s = rng.choice([1, 2, 2, 3])
        pads = ((rng.randint(0, k - 1), rng.randint(0, k - 1)),)
        framework = rng.choice(["onnx", ""])
        pool = PoolSpec("max", (k,), (s,), pads, ceil_mode=rng.random() < 0.3, framework=framework)
        return Node(name, "MaxPool", "pool", (source,), (out,), pool)
    if kind == "pad":
        edges = ((0, 0), (0, 0), (rng.randint(-2, 2), rng.randint(-2, 2)))
        return Node(name, "Pad", "pad", (source,), (out,), PadSpec(edges))
    if kind == "resize":
        scale = rng.choice([Fraction(2), Fraction(1, 2)])
        resize = ResizeSpec("nearest", scales=(Fraction(1), Fraction(1), scale))
        return Node(name, "Resize", "resize", (source,), (out,), resize)
    k = rng.randint(1, 5)
    d = rng.choice([1, 1, 2])
    s = rng.choice([2, 3]) if kind == "down" else 1
    framework = rng.choice(["onnx", "pytorch"])
    before = rng.randint(0, k)
    padding: Padding = ((before, before if framework == "pytorch" else rng.randint(0, k)),)
    if framework == "onnx" and rng.random() < 0.3:
        padding = rng.choice(["same_upper", "same_lower", "valid"])
    conv = ConvSpec(framework, (k,), (s,), (d,), padding, C, C)
    return Node(name, "Conv", "conv", (source,), (out,), conv)


def random_plain_graph(rng: random.Random, count: int) -> Graph:
    tensors = ["x"]
    nodes: list[Node] = []
    for n in range(count):
        source = tensors[-1] if rng.random() < 0.8 else rng.choice(tensors)
        out = f"t{n}"
        nodes.extend(_layers(rng, n, source, out, tensors))
        tensors.append(out)
    return Graph("random", "onnx", (Tensor("x", (1, C, "L")),), tuple(nodes), (tensors[-1],)).checked()


def _clean(run: Run) -> bool:
    return run.ok and not run.stopped and not any(any(r.dropped) for r in run.nodes)


def _three_runs(graph: Graph, shape: tuple[int, ...], monkeypatch: pytest.MonkeyPatch) -> AxisSizes:
    with monkeypatch.context() as patch:
        patch.setattr(sizes, "_plain", lambda graph: False)
        return all_axes(graph, (shape,), (AXIS,))[0]


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 12), st.integers(1, 40))
def test_two_runs_a_class_equal_a_sweep_and_three_runs(rng: random.Random, count: int, given: int) -> None:
    graph = random_plain_graph(rng, count)
    assert sizes._plain(graph)
    shape = (1, C, given)
    axis = all_axes(graph, (shape,), (AXIS,))[0]
    with pytest.MonkeyPatch.context() as patch:
        assert axis == _three_runs(graph, shape, patch)
    if axis.accepted is None or axis.runs is None:
        return  # not worked out: the same words both ways (above)
    period = axis.accepted.period
    # from the smallest size that runs on: below it, ``smallest`` takes every size to fail (a size-1
    # operand broadcast in an add can run where larger sizes do not; not what this test is about)
    low = axis.minimum or 1
    for size in range(low, low + 4 * max(period, axis.runs.period) + 24):
        run = propagate(graph, ((1, C, size),))
        runs = run.failure is None and not run.stopped and not run.mismatches
        assert axis.runs.contains(size) == runs, size
        assert axis.accepted.contains(size) == _clean(run), size
        if run.failure is not None or run.stopped:
            continue
        for name, formulas in axis.formulas.items():
            for dim, formula in zip(run.shapes[name], formulas):
                value = None if formula is None else formula.at(size)
                assert value is None or value == dim, (size, name, formula)


def test_classes_that_start_after_their_first_members_read_the_same_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two ONNX Runtime k3 s2 poolings: the classes' first members lie before their affine part (the
    smallest sizes give one window by truncation), so each class's line starts one period later and its
    first members are checked one by one, in both readings."""
    spec = PoolSpec("max", (3,), (2,), ((0, 0),), framework="onnx")
    nodes = (
        Node("p", "MaxPool", "pool", ("x",), ("a",), spec),
        Node("q", "MaxPool", "pool", ("a",), ("b",), spec),
    )
    graph = Graph("pools", "onnx", (Tensor("x", (1, C, "L")),), nodes, ("b",)).checked()
    axis = all_axes(graph, ((1, C, 9),), (AXIS,))[0]
    assert axis == _three_runs(graph, (1, C, 9), monkeypatch)
    assert axis.minimum is not None and axis.accepted is not None and axis.runs is not None
    starts = [start for start, _, _ in axis.formulas["b"][AXIS].pieces]  # type: ignore[union-attr]
    assert min(starts) > axis.minimum  # early members, before the lines
    swept = range(1, 80)
    assert [s for s in swept if axis.runs.contains(s)] == [
        s for s in swept if propagate(graph, ((1, C, s),)).ok
    ]
    assert [s for s in swept if axis.accepted.contains(s)] == [
        s for s in swept if _clean(propagate(graph, ((1, C, s),)))
    ]


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 12), st.integers(0, 50))
def test_the_step_of_a_run_is_a_period_of_every_size(rng: random.Random, count: int, offset: int) -> None:
    """``Run.step`` (worked out when asked, from the divisors each node met): past the crossings, every
    size moves by the same amount from one step to the next, as a sweep of three runs shows."""
    graph = random_plain_graph(rng, count)
    start = 400 + offset
    step = propagate(graph, ((1, C, start),)).step
    runs = [propagate(graph, ((1, C, start + q * step),)) for q in range(3)]
    if any(run.failure is not None for run in runs):
        return
    for name, shape in runs[0].shapes.items():
        middle, last = runs[1].shapes[name], runs[2].shapes[name]
        assert [c - b for b, c in zip(middle, last)] == [b - a for a, b in zip(shape, middle)], (name, step)
