"""Pooling and resize-upsampling sizes in the core, witnessed by PyTorch (ceil_mode included)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc.core import pool_axes_for
from convcalc.errors import ConvCalcError


def test_ceil_mode_keeps_a_partial_window_only_if_it_starts_inside() -> None:
    # i=6, k=3, s=2, p=1: floor gives 3; ceil gives 4 and the 4th window starts at 6 - 1 = 5 < i + p.
    (floor_axis,) = pool_axes_for([6], [3], [2], [1], [1], ceil_mode=False)
    (ceil_axis,) = pool_axes_for([6], [3], [2], [1], [1], ceil_mode=True)
    assert (floor_axis.output, ceil_axis.output) == (3, 4)
    # i=5, k=2, s=2, p=1: ceil would give 4, but that window starts at 6 >= i + p = 6: dropped.
    (axis,) = pool_axes_for([5], [2], [2], [1], [1], ceil_mode=True)
    assert axis.output == 3


def test_padding_over_half_the_kernel_is_refused() -> None:
    with pytest.raises(ConvCalcError, match="pooling padding must be at most half the kernel size"):
        pool_axes_for([8], [2], [2], [2], [1], ceil_mode=False)


@given(
    size=st.integers(1, 20),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 4),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    ceil_mode=st.booleans(),
)
def test_pool_sizes_and_refusals_match_torch(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> None:
    torch = pytest.importorskip("torch")
    try:
        (axis,) = pool_axes_for([size], [kernel], [stride], [padding], [dilation], ceil_mode)
        ours: int | None = axis.output
    except ConvCalcError:
        ours = None
    try:
        theirs: int | None = torch.nn.functional.max_pool1d(
            torch.zeros(1, 1, size), kernel, stride, padding, dilation, ceil_mode=ceil_mode
        ).shape[-1]
    except RuntimeError:
        theirs = None
    assert ours == theirs
    if dilation == 1 and ours is not None:
        x = torch.zeros(1, 1, size)
        avg = torch.nn.functional.avg_pool1d(x, kernel, stride, padding, ceil_mode=ceil_mode)
        assert avg.shape[-1] == ours
