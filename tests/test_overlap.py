"""The overlap (checkerboard) map, against hand-worked values, pair-by-pair enumeration and torch."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc.core import TransposedAxis, check_transposed_axes, conv_axes_for, normalize, transposed_axes_for
from convcalc.errors import ConvCalcError
from convcalc.overlap import contributions, overlap_axis, overlap_for, overlap_map, scatter_counts


def enumerate_counts(layers: list[TransposedAxis]) -> list[int]:
    """Walk every path (input u, tap of layer 1, tap of layer 2, ...) by the definition and tally where
    it lands: position u*s + t*d - crop_before of each layer, dropped when a crop removes it."""
    positions = Counter(range(layers[0].size))
    for axis in layers:
        landed: Counter[int] = Counter()
        for u, weight in positions.items():
            for t in range(axis.kernel_size):
                j = u * axis.stride + t * axis.dilation - axis.crop_before
                if 0 <= j < axis.output:
                    landed[j] += weight
        positions = landed
    return [positions[j] for j in range(layers[-1].output)]


@st.composite
def transposed_axis(draw: st.DrawFn, size: int | None = None) -> TransposedAxis:
    i = draw(st.integers(1, 12)) if size is None else size
    k = draw(st.integers(1, 7))
    s = draw(st.integers(1, 5))
    d = draw(st.integers(1, 3))
    full = (i - 1) * s + d * (k - 1) + 1
    before = draw(st.integers(-2, full - 1))
    after = draw(st.integers(-2, full - 1 - before))
    axis = TransposedAxis(i, k, s, d, before, after)
    check_transposed_axes([axis])
    return axis


# --- hand-worked values ---------------------------------------------------------------------------


def test_seed_kernel_4_stride_3_one_axis() -> None:
    # Input 3, k=4, s=3: input u covers full positions 3u .. 3u+3, so u=0 -> 0..3, u=1 -> 3..6,
    # u=2 -> 6..9. Positions 3 and 6 are covered twice, every other position once.
    axis = overlap_for(3, 4, stride=3).axes[0]
    assert axis.counts == (1, 1, 1, 2, 1, 1, 2, 1, 1, 1)
    # Interior residues mod 3: taps {0, 3} land on residue 0, tap 1 on 1, tap 2 on 2.
    assert axis.pattern == (2, 1, 1)
    assert (axis.period, axis.minimum, axis.maximum, axis.uniform) == (3, 1, 2, False)


def test_seed_kernel_4x4_stride_3_two_axes() -> None:
    # The lecture notes' figure: a 4x4 kernel with stride 3; the twice-covered rows and columns
    # cross at cells covered four times.
    result = overlap_for((3, 3), (4, 4), stride=3)
    cells = result.cells()
    assert (result.minimum, result.maximum, result.period, result.uniform) == (1, 4, (3, 3), False)
    fours = [(r, c) for r, row in enumerate(cells) for c, v in enumerate(row) if v == 4]  # type: ignore[arg-type]
    assert fours == [(3, 3), (3, 6), (6, 3), (6, 6)]
    assert cells[3] == [2, 2, 2, 4, 2, 2, 4, 2, 2, 2]
    assert sum(sum(row) for row in cells) == (3 * 4) ** 2  # type: ignore[misc]
    kinds = [s.kind for s in result.suggestions]
    assert kinds == ["kernel", "resize", "kernel"]  # the op1 kernel leaves a dead border
    kernels = [s.kernel_size for s in result.suggestions if s.kind == "kernel"]
    assert kernels == [(6, 6), (3, 3)]


def test_kernel_4_stride_2_padding_1_is_uniform() -> None:
    # The DCGAN layer: k=4 divisible by s=2, every interior output gets exactly two pairs.
    axis = overlap_for(8, 4, stride=2, padding=1).axes[0]
    assert axis.pattern == (2, 2) and axis.uniform
    assert axis.counts[0] == 1 and axis.counts[-1] == 1 and set(axis.counts[1:-1]) == {2}


def test_dilation_sharing_a_factor_with_stride_leaves_holes() -> None:
    # s=2, d=2: every tap lands on an even full position; odd positions receive nothing.
    axis = overlap_for(4, 3, stride=2, dilation=2).axes[0]
    assert axis.holes and not axis.uniform
    assert axis.counts[1::2] == (0,) * len(axis.counts[1::2])


# --- properties against the enumeration -----------------------------------------------------------


@given(transposed_axis())
def test_counts_match_enumeration(axis: TransposedAxis) -> None:
    assert list(scatter_counts(axis)) == enumerate_counts([axis])
    # Every pair lands somewhere in the full output; crops only remove or pad.
    if axis.crop_before <= 0 and axis.crop_after <= 0:
        assert sum(scatter_counts(axis)) == axis.size * axis.kernel_size


@given(transposed_axis())
def test_interior_follows_the_pattern(axis: TransposedAxis) -> None:
    result = overlap_axis([axis])
    counts = enumerate_counts([axis])
    for j in range(result.interior_first, result.interior_last + 1):
        assert counts[j] == result.pattern[j % result.period]


@given(st.integers(1, 6), st.integers(1, 8), st.integers(0, 3), st.integers(0, 2), st.integers(0, 1))
def test_dilation_1_uniform_exactly_when_stride_divides_kernel(
    s: int, k: int, extra: int, p: int, op: int
) -> None:
    # Enough inputs that the interior shows a whole period; then read uniformity off the counts.
    i = k + 2 * s + 2 * p + extra
    sizes, params = normalize(i, k, stride=s, padding=p, output_padding=op % max(s, 1), transposed=True)
    axis = transposed_axes_for(sizes, params)[0]
    result = overlap_axis([axis])
    interior = enumerate_counts([axis])[result.interior_first : result.interior_last + 1]
    assert len(interior) >= s
    assert (len(set(interior)) == 1) == (k % s == 0) == result.uniform


@given(transposed_axis().flatmap(lambda a: st.tuples(st.just(a), transposed_axis(size=a.output))))
def test_stack_composes_like_paths(pair: tuple[TransposedAxis, TransposedAxis]) -> None:
    first, second = pair
    if first.output * second.stride > 2000:
        return
    result = overlap_axis([first, second])
    counts = enumerate_counts([first, second])
    assert list(result.counts) == counts
    assert result.period == first.stride * second.stride
    for j in range(result.interior_first, result.interior_last + 1):
        assert counts[j] == result.pattern[j % result.period]


def test_stack_of_uniform_layers_is_uniform_and_uneven_stays_uneven() -> None:
    uniform = overlap_for(4, 4, stride=2, padding=1, layers=3)
    assert uniform.uniform and uniform.axes[0].pattern == (8,) * 8 and uniform.suggestions == ()
    uneven = overlap_for(4, 3, stride=2, padding=1, output_padding=1, layers=2)
    assert not uneven.uniform and uneven.axes[0].output == 16
    assert len(uneven.suggestions) == 3


@given(
    st.integers(1, 9),
    st.integers(1, 7),
    st.integers(2, 4),
    st.integers(1, 2),
    st.integers(0, 2),
    st.integers(0, 1),
)
def test_suggestions_keep_the_output_and_are_uniform(i: int, k: int, s: int, d: int, p: int, op: int) -> None:
    try:
        result = overlap_for(i, k, stride=s, padding=p, output_padding=op, dilation=d)
    except ConvCalcError:
        return
    if result.uniform:
        assert result.suggestions == ()
        return
    kinds = [s.kind for s in result.suggestions]
    assert kinds.count("resize") == 1
    covers = [s.covers for s in result.suggestions]
    assert covers == sorted(covers, reverse=True)
    for suggestion in result.suggestions:
        if suggestion.kind == "kernel":
            sizes, params = normalize(
                i,
                suggestion.kernel_size,
                stride=suggestion.stride,
                padding=suggestion.padding,
                output_padding=suggestion.output_padding,
                dilation=suggestion.dilation,
                transposed=True,
            )
            axes = transposed_axes_for(sizes, params)
            assert tuple(a.output for a in axes) == result.shape
            big = transposed_axes_for((i + 3 * s,), params)
            interior_map = overlap_axis(list(big))
            counts = enumerate_counts(list(big))
            interior = counts[interior_map.interior_first : interior_map.interior_last + 1]
            assert len(set(interior)) == 1
        else:
            sizes, params = normalize(suggestion.resize_to, 3, padding=1)
            assert tuple(a.output for a in conv_axes_for(sizes, params)) == result.shape
            if suggestion.scale_factor is not None:
                assert tuple(i * f for f in suggestion.scale_factor) == result.shape


# --- errors ---------------------------------------------------------------------------------------


def test_refuses_maps_beyond_the_budget() -> None:
    with pytest.raises(ConvCalcError, match=r"overlap map is computed position by position.*size 2000000"):
        overlap_for(2_000_000, 4, stride=2)


def test_refuses_cells_beyond_the_budget() -> None:
    result = overlap_for((2000, 2000), 2, stride=1)
    assert result.maximum == 4
    with pytest.raises(ConvCalcError, match=r"4,004,001 cells"):
        result.cells()


def test_refuses_a_broken_stack() -> None:
    a = TransposedAxis(3, 4, 2, 1, 1, 1)
    with pytest.raises(
        ConvCalcError,
        match=r"layer 1 must take layer 0's output as its input size; got input size 5 after an output of 6",
    ):
        overlap_axis([a, TransposedAxis(5, 3, 1, 1, 0, 0)])
    with pytest.raises(ConvCalcError, match=r"layers must be an integer from 1 to 32; got 0"):
        overlap_for(3, 3, layers=0)
    with pytest.raises(ConvCalcError, match=r"same number of spatial axes; got 1, 2"):
        overlap_map([(a,), (a, a)])


# --- torch ----------------------------------------------------------------------------------------


@given(
    st.integers(1, 6),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(1, 2),
    st.integers(0, 2),
    st.integers(0, 3),
)
def test_map_equals_torch_transposed_convolution_of_ones(
    i: int, k: int, s: int, d: int, p: int, op: int
) -> None:
    torch = pytest.importorskip("torch")
    try:
        result = overlap_for((i, i + 1), k, stride=s, padding=p, output_padding=op, dilation=d)
    except ConvCalcError:
        return
    ones = torch.ones(1, 1, i, i + 1, dtype=torch.float64)
    kernel = torch.ones(1, 1, k, k, dtype=torch.float64)
    y = torch.nn.functional.conv_transpose2d(ones, kernel, stride=s, padding=p, output_padding=op, dilation=d)
    assert y[0, 0].to(torch.int64).tolist() == result.cells()
    assert math.prod(y.shape[2:]) == result.cell_count


@given(transposed_axis())
def test_contributions_gathered_agree_with_the_scattered_counts(axis: TransposedAxis) -> None:
    pairs = contributions(axis)
    assert [len(p) for p in pairs] == enumerate_counts([axis])
    for j, listed in enumerate(pairs):
        for u, t in listed:
            assert u * axis.stride + t * axis.dilation - axis.crop_before == j
