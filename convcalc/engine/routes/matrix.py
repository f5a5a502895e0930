"""The matrix route: the dense matrix C of a convolution, applied as C (a convolution) or C^T.

C is built entry by entry from the weight and the core's convolution axes; C^T then computes the
transposed convolution, whose output is the forward convolution's input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from convcalc.core import conv_axes_for, conv_layer, normalize
from convcalc.engine.budget import check_matrix_budget
from convcalc.engine.inputs import Array, check_axis_count, real_array, tensors, transposed_axes
from convcalc.errors import ConvCalcError


def conv_matrix(
    input_size: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
) -> Array:
    """C with conv(x).ravel() = C @ x.ravel() for one sample; C[o*P + q, c*Q + p] = w[o, c, t].

    Rows are the flattened output (C_out, *output) and columns the flattened input (C_in, *input),
    both row-major: row = out_channel * prod(output) + position, column = in_channel * prod(input)
    + position. ``weight`` is a convolution weight (C_out, C_in/groups, *k), which is also the weight
    of the transposed convolution that C^T computes. Limited to ``MAX_MATRIX_ELEMENTS`` entries.
    """
    wa = real_array("weight", weight)
    if wa.ndim < 3 or 0 in wa.shape:
        raise ConvCalcError(
            f"weight must have shape (C_out, C_in/groups, *k) with at least one spatial axis and no "
            f"empty axis; got {wa.shape}",
            parameter="weight",
        )
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ConvCalcError(f"groups must be an integer >= 1; got {groups!r}", parameter="groups")
    c_out, c_in_g = wa.shape[:2]
    if c_out % groups:
        raise ConvCalcError(
            f"groups must divide the output channels; got weight.shape[0]={c_out}, groups={groups}",
            parameter="groups",
        )
    kernel = wa.shape[2:]
    sizes, params = normalize(input_size, kernel, stride=stride, padding=padding, dilation=dilation)
    check_axis_count("input_size", len(sizes), len(kernel))
    axes = conv_axes_for(sizes, params)
    out = tuple(a.output for a in axes)
    rows, cols = c_out * math.prod(out), c_in_g * groups * math.prod(sizes)
    check_matrix_budget(rows, cols)
    dtype = np.result_type(wa.dtype, np.float32)
    matrix = np.zeros((rows, cols), dtype=dtype)
    out_channel = np.arange(c_out)
    in_channel = (out_channel // (c_out // groups))[:, None] * c_in_g + np.arange(c_in_g)
    grid = np.indices(out).reshape(len(out), -1)
    for tap in np.ndindex(*kernel):
        position = np.array(
            [g * a.stride + j * a.dilation - a.pad_before for g, j, a in zip(grid, tap, axes)]
        ).reshape(len(out), -1)
        inside = np.all((position >= 0) & (position < np.array(sizes)[:, None]), axis=0)
        row = out_channel[:, None, None] * math.prod(out) + np.flatnonzero(inside)
        col = in_channel[:, :, None] * math.prod(sizes) + np.ravel_multi_index(
            tuple(position[:, inside]), sizes
        )
        # Within one tap each (row, column) pair occurs once, so a fancy-index add is exact.
        taken = (slice(None), slice(None), *tap)
        matrix[row, col] += wa[taken][:, :, None]
    return matrix


def _matrix_input(x: Array) -> Array:
    return x.reshape(x.shape[0], -1)


def conv_by_matrix(
    x: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
) -> Array:
    """y = C x per sample, with C from ``conv_matrix``: the matrix route of the convolution."""
    xa, wa, _, groups = tensors(x, weight, None, transposed=False, groups=groups)
    matrix = conv_matrix(xa.shape[2:], wa, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = _matrix_input(xa) @ matrix.T
    out = conv_output_sizes(xa.shape[2:], wa.shape[2:], stride, padding, dilation)
    result: Array = y.reshape(xa.shape[0], wa.shape[0], *out)
    return result


def conv_output_sizes(
    size: Sequence[int], kernel_size: Sequence[int], stride: object, padding: object, dilation: object
) -> tuple[int, ...]:
    """The core's convolution output size per axis."""
    axes = conv_layer(tuple(size), tuple(kernel_size), stride=stride, padding=padding, dilation=dilation)
    return tuple(a.output for a in axes)


def transpose_matrix(
    x: object, weight: object, *, stride: object, dilation: object, crops: object, groups: int = 1
) -> Array:
    """x' = C^T y per sample, C the matrix of the forward convolution with padding = max(crop, 0).

    The forward convolution runs on the output's kept part of the full extent (size full - crops);
    negative crops are then appended as zeros. Returns (N, C_out, *output).
    """
    xa, wa, _, groups = tensors(x, weight, None, transposed=True, groups=groups)
    axes = transposed_axes(xa, wa, stride, dilation, crops)
    kept = [a.full - max(a.crop_before, 0) - max(a.crop_after, 0) for a in axes]
    if min(kept) < 1:
        # The crops remove the whole full output: what is left is zeros appended by negative crops.
        return np.zeros((xa.shape[0], wa.shape[1] * groups, *(a.output for a in axes)), dtype=xa.dtype)
    pads = [(max(a.crop_before, 0), max(a.crop_after, 0)) for a in axes]
    matrix = conv_matrix(
        kept,
        wa,
        stride=[a.stride for a in axes],
        padding=pads,
        dilation=[a.dilation for a in axes],
        groups=groups,
    )
    assert matrix.shape[0] == math.prod(xa.shape[1:]), "the forward convolution must map back to x"
    y = _matrix_input(xa) @ matrix
    out = y.reshape(xa.shape[0], wa.shape[1] * groups, *kept)
    return np.ascontiguousarray(
        np.pad(out, [(0, 0), (0, 0)] + [(max(-a.crop_before, 0), max(-a.crop_after, 0)) for a in axes])
    )
