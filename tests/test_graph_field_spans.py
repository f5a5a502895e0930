"""A window's span of input positions (``convcalc.graph.fields._conv_spans``) against brute force: the
union of the spans its taps read inside the input, for random windows on random lists of spans (the
monotone ones take the shortcut through each window's first and last taps)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.core import ConvAxis
from convcalc.graph.fields import Span, _conv_spans


def _brute(x: list[Span], axis: ConvAxis, out: int) -> list[Span]:
    spans: list[Span] = []
    for j in range(out):
        taps = [j * axis.stride - axis.pad_before + t * axis.dilation for t in range(axis.kernel_size)]
        read = [x[u] for u in taps if 0 <= u < len(x) and x[u] is not None]
        spans.append((min(s[0] for s in read), max(s[1] for s in read)) if read else None)  # type: ignore[index]
    return spans


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 40), st.booleans())
def test_window_spans_equal_the_union_of_their_taps(rng: random.Random, n: int, monotone: bool) -> None:
    if monotone:
        starts = sorted(rng.randint(0, 60) for _ in range(n))
        x: list[Span] = [(a, a + rng.randint(0, 3) + i) for i, a in enumerate(starts)]
        ends = [s[1] for s in x if s is not None]
        x = [(s[0], max(ends[: i + 1])) for i, s in enumerate(x) if s is not None]
    else:
        x = [
            None if rng.random() < 0.2 else (a, a + rng.randint(0, 5))
            for a in (rng.randint(0, 60) for _ in range(n))
        ]
    k, s, d = rng.randint(1, 6), rng.randint(1, 4), rng.randint(1, 3)
    before, after = rng.randint(0, 2 * k), rng.randint(0, 2 * k)
    axis = ConvAxis(n, k, s, d, before, after)
    if n + before + after < (k - 1) * d + 1:
        return  # no window fits: the layer refuses the input
    assert _conv_spans(x, axis, axis.output) == _brute(x, axis, axis.output)
