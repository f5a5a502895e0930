"""The numbers printed in the scatter and overlap figures, against independent witnesses.

The scatter view's sums against the engine's conv_transpose on the same input; the overlap figure's
counts against a brute-force count of kernel taps per output position (and torch when installed).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from itertools import product

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcalc import engine
from convcalc.core import TransposedAxis, shape_report
from convcalc.errors import ConvCalcError
from convcalc.explain.svg import overlap_diagram, scatter_diagram

SVG = "{http://www.w3.org/2000/svg}"


def values(text: str, attribute: str, grid: str | None = None) -> dict[tuple[int, ...], int]:
    """Position -> printed number, from the texts carrying ``attribute`` (and data-grid ``grid``)."""
    found = {}
    for element in ET.fromstring(text).iter(f"{SVG}text"):
        if element.get(attribute) is None or (grid is not None and element.get("data-grid") != grid):
            continue
        if grid is None:
            position = (int(element.get("data-row", -1)), int(element.get("data-column", -1)))
        else:
            position = tuple(int(v) for v in element.get("data-position", "").split(","))
        assert element.text == element.get(attribute)
        found[position] = int(element.get(attribute, "0"))
    return found


layers_1d_2d = st.builds(
    lambda ndim, i, k, s, d, p, op: ((i,) if ndim == 1 else (i, max(1, 4 - i)), k, s, d, p, op),
    st.integers(1, 2),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(0, 3),
    st.integers(0, 2),
)


def axes_for(config: tuple[tuple[int, ...], int, int, int, int, int]) -> tuple[TransposedAxis, ...] | None:
    size, k, s, d, p, op = config
    try:
        return shape_report(
            size, k, stride=s, dilation=d, padding=p, output_padding=op, transposed=True
        ).transposed
    except ConvCalcError:
        return None


def counting(shape: tuple[int, ...]) -> np.ndarray:
    return np.arange(1, math.prod(shape) + 1, dtype=np.float64).reshape(1, 1, *shape)


@given(layers_1d_2d)
def test_scatter_sums_equal_the_engines_conv_transpose(
    config: tuple[tuple[int, ...], int, int, int, int, int],
) -> None:
    axes = axes_for(config)
    assume(axes is not None)
    assert axes is not None
    try:
        text = scatter_diagram(axes)
    except ConvCalcError:
        assume(False)
    x = counting(tuple(a.size for a in axes))
    w = counting(tuple(a.kernel_size for a in axes))
    common = {"stride": [a.stride for a in axes], "dilation": [a.dilation for a in axes]}
    expected = engine.conv_transpose_cropped(
        x, w, crops=[(a.crop_before, a.crop_after) for a in axes], **common
    )
    shown = values(text, "data-value", "output")
    assert [shown[p] for p in sorted(shown)] == [int(v) for v in expected.ravel()]
    full = engine.conv_transpose_cropped(x, w, crops=[(0, 0)] * len(axes), **common)
    shown_full = values(text, "data-value", "full")
    inside = sorted(p for p in shown_full if all(0 <= q < a.full for q, a in zip(p, axes)))
    assert [shown_full[p] for p in inside] == [int(v) for v in full.ravel()]
    # The pieces drawn, summed cell by cell, give the full output drawn.
    pieces = [values(text, "data-value", f"piece-{n}") for n in range(math.prod(a.size for a in axes))]
    assert all(sum(piece.get(p, 0) for piece in pieces) == shown_full[p] for p in inside)


def brute_force_counts(axes: tuple[TransposedAxis, ...]) -> dict[tuple[int, ...], int]:
    """Every (input position, kernel tap) pair of the N-d layer dropped onto the output it lands on."""
    counts = dict.fromkeys(product(*(range(a.output) for a in axes)), 0)
    for u in product(*(range(a.size) for a in axes)):
        for t in product(*(range(a.kernel_size) for a in axes)):
            j = tuple(q * a.stride + tap * a.dilation - a.crop_before for q, tap, a in zip(u, t, axes))
            if j in counts:
                counts[j] += 1
    return counts


@given(layers_1d_2d)
def test_overlap_figure_counts_equal_a_brute_force_count(
    config: tuple[tuple[int, ...], int, int, int, int, int],
) -> None:
    axes = axes_for(config)
    assume(axes is not None and all(a.output >= 1 for a in axes))
    assert axes is not None
    shown = values(overlap_diagram(axes), "data-count")
    expected = brute_force_counts(axes)
    assert {((0, *j) if len(j) == 1 else j): n for j, n in expected.items()} == shown


def test_overlap_of_a_stack_counts_paths_through_both_layers() -> None:
    # Two layers: a path is (input, tap of layer 1, tap of layer 2); count them by brute force.
    axes = shape_report(3, 3, stride=2, padding=1, transposed=True).transposed
    first = brute_force_counts(axes)
    second_axes = (TransposedAxis(axes[0].output, 3, 2, 1, 1, 1),)
    paths = dict.fromkeys(range(second_axes[0].output), 0)
    for (j,), n in first.items():
        for t in range(3):
            k = j * 2 + t - 1
            if k in paths:
                paths[k] += n
    shown = values(overlap_diagram(axes, layers=2), "data-count")
    assert {(0, k): n for k, n in paths.items()} == shown


def test_overlap_counts_equal_torch_conv_transpose_of_ones() -> None:
    torch = pytest.importorskip("torch")
    # The lecture notes' checkerboard: kernel 4, stride 3, on 3x3; and an odd case with dilation.
    for size, k, s, d, p in [((3, 3), 4, 3, 1, 0), ((4, 3), 3, 2, 2, 1)]:
        axes = shape_report(size, k, stride=s, dilation=d, padding=p, transposed=True).transposed
        ones = torch.ones(1, 1, *size, dtype=torch.float64)
        kernel = torch.ones(1, 1, k, k, dtype=torch.float64)
        got = torch.nn.functional.conv_transpose2d(ones, kernel, stride=s, padding=p, dilation=d)
        shown = values(overlap_diagram(axes), "data-count")
        assert [shown[p] for p in sorted(shown)] == [int(v) for v in got.flatten().tolist()]
