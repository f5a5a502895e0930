"""One engine for `chain` and `inspect` (convcalc/graph): the closed-form field a chain reports against
the exact spans the engine follows position by position, and the periodic sets both answer in."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.chain import sizes
from convcalc.chain.parse import parse_chain
from convcalc.chain.report import chain_report
from convcalc.chain.stack import _stack_pairs
from convcalc.errors import ConvCalcError
from convcalc.graph.fields import _fields_on_axis, _spans_on_axis
from convcalc.graph.shapes import propagate
from convcalc.periodic import Accepted, reduce_period

WINDOW = st.one_of(
    st.builds(
        lambda k, s, p, d: f"conv k{k} s{s} p{min(p, k - 1)} d{d}",
        st.integers(1, 5),
        st.integers(1, 3),
        st.integers(0, 3),
        st.integers(1, 2),
    ),
    st.builds(
        lambda k, s, p: f"maxpool k{k} s{s} p{min(p, k // 2)}",
        st.integers(1, 3), st.integers(1, 3), st.integers(0, 1),
    ),
    st.builds(lambda k, s: f"avgpool k{k} s{s} ceil", st.integers(1, 3), st.integers(1, 3)),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(WINDOW, min_size=1, max_size=5))
def test_the_closed_form_field_is_the_span_of_an_output_inside_the_input(texts: list[str]) -> None:
    """Run the chain's graph on an input long enough that some output of every layer reads no padding:
    there, the exact span of input positions it depends on (``_spans_on_axis``, which knows nothing of
    the closed form) starts at left + j*jump and is receptive_field wide; the widest span of the last
    output (inspect's receptive field) is the chain's receptive field."""
    layers = parse_chain(" | ".join(texts))
    # the strides may take 300 below a later kernel (s3 s2 s3 s3, then k4 d2): start where the chain runs
    start = max(300, chain_report(layers).accepted[0].minimum)
    fields = [f[0] for f in chain_report(layers, (start,)).fields if f is not None]
    # long enough for an output of every layer to read no padding (no padding word: fields keep still)
    size = max(start, *(2 * (f.right + f.jump) - f.left for f in fields))
    report = chain_report(layers, (size,))
    pairs, _ = _stack_pairs(layers)
    graph = sizes.chain_graph([sizes._on_axis(layer, 0) for layer in layers], pairs)
    run = propagate(graph, ((1, 1, size),))
    spans = _spans_on_axis(graph, run, 2)
    for n, fields in enumerate(report.fields, 1):
        assert fields is not None
        (field,) = fields
        outputs = spans[f"t{n}"][2]
        first, last = field.left, field.right
        jump = field.jump
        inside = [j for j in range(len(outputs)) if first + j * jump >= 0 and last + j * jump < size]
        assert inside, (texts, n)
        for j in inside:
            assert outputs[j] == (field.left + j * field.jump, field.right + j * field.jump), (texts, n, j)
    assert _fields_on_axis(graph, run, 2)[graph.outputs[0]] == report.fields[-1][0].receptive_field  # type: ignore[index]


@given(
    st.integers(1, 24),
    st.lists(st.integers(0, 60), max_size=8),
    st.lists(st.integers(0, 120), max_size=6),
)
def test_reduce_period_keeps_every_member_with_a_divisor_of_the_period(
    period: int, starts: list[int], singles: list[int]
) -> None:
    accepted = Accepted(period, tuple(sorted(set(starts))), tuple(sorted(set(singles) - set(starts))))
    reduced = reduce_period(accepted)
    top = 200 + 3 * period
    members = [v for v in range(top) if accepted.contains(v)]
    assert [v for v in range(top) if reduced.contains(v)] == members
    assert period % reduced.period == 0


def test_a_pooling_padding_over_half_its_window_is_refused_in_the_cores_words() -> None:
    """PyTorch's p <= k/2 (the core's rule, torch refuses it too) holds at no size: the chain says so,
    naming the layer, before the engine (whose pooling follows other frameworks too) runs it."""
    with pytest.raises(ConvCalcError, match=r"layer 2 \(avgpool k3x1 s1 p1 ceil\): pooling padding must be"):
        chain_report(parse_chain("conv k3 | avgpool k3x1 s1 p1 ceil"))
