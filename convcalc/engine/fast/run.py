"""The fast path: ``conv`` by im2col and the transposed convolution by col2im, each on its plan.

A call finds (or builds) its plan in ``plans``, checks the plan's budget figures (the budgets are read
at every call), then runs: one matrix product per group, with the kernel taps' data moved either by one
gather / one bincount (small calls, where Python's overhead per tap dominates) or by a strided slice
per tap (large calls).
"""

from __future__ import annotations

import math

import numpy as np

from convcalc.engine.budget import check_budget
from convcalc.engine.fast.plans import (
    ConvPlan,
    TransposePlan,
    cast,
    conv_plan,
    cropped_plan,
    planned,
    pytorch_plan,
)
from convcalc.engine.inputs import Array

# Below this many column entries one gather beats a strided copy per kernel tap.
GATHER_LIMIT = 2**15
# Below this many contributions one bincount beats a strided add per kernel tap (Python's overhead per
# tap dominates); above it the strided adds win (bincount is a float64 random-access pass).
BINCOUNT_LIMIT = 2**15


def _channels_first(array: Array) -> Array:
    """(N, C, *s) -> (C, N, *s): puts the channels where the matrix product contracts them."""
    swapped: Array = array.swapaxes(0, 1)
    return swapped


def _batch_first(array: Array) -> Array:
    return np.ascontiguousarray(array.swapaxes(0, 1))


def conv(
    x: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    bias: object = None,
) -> Array:
    """y[n, o, p] = sum over c, t of x[n, c, p*s + t*d - pad_before] * w[o, c, t]; PyTorch's convolution.

    Returns an array (N, C_out, *output) with the sizes of ``convcalc.core.conv_axes_for``.
    """
    plan, xa, wa, ba = planned(conv_plan, x, weight, bias, groups, stride, padding, dilation)
    return _conv_run(*cast(plan.dtype, xa, wa, ba), plan)


def _conv_run(x: Array, w: Array, bias: Array | None, plan: ConvPlan) -> Array:
    """im2col: every kernel tap's window into a column matrix, then one product per group."""
    check_budget(plan.work, plan.elements, what="this convolution")
    if plan.source is not None:
        source = np.zeros(plan.source, dtype=x.dtype)
        source[plan.interior] = _channels_first(x)
    else:
        source = _channels_first(x)
    c_in = source.shape[0]
    if plan.entries <= GATHER_LIMIT:
        cols = source.reshape(c_in, -1).take(plan.gather, axis=1)
    else:
        cols = np.empty((c_in, len(plan.windows), *plan.output[1:]), dtype=x.dtype)
        for t, window in enumerate(plan.windows):
            cols[:, t] = source[window]
    y = np.matmul(w.reshape(plan.weight), cols.reshape(plan.columns))
    result = _batch_first(y.reshape(plan.output))
    if bias is not None:
        result += bias.reshape(-1, *([1] * len(plan.axes)))
    return result


def conv_transpose_cropped(
    x: object,
    weight: object,
    *,
    stride: object,
    dilation: object,
    crops: object,
    groups: int = 1,
) -> Array:
    """Full output (i-1)*s + d*(k-1) + 1 cropped by (before, after) per axis; negative crops add zeros.

    The canonical form every framework convention reduces to. Returns (N, C_out, *output) with the
    sizes of ``convcalc.core.TransposedAxis``. Computed by col2im: one matrix product per group gives
    every tap's contribution, then they are summed into place (``_transpose_run``).
    """
    plan, xa, wa, _ = planned(cropped_plan, x, weight, None, groups, stride, dilation, crops)
    xa, wa, _ = cast(plan.dtype, xa, wa, None)
    return _transpose_run(xa, wa, plan)


def conv_transpose(
    x: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    bias: object = None,
) -> Array:
    """o = (i-1)*s - pad_before - pad_after + d*(k-1) + 1 + output_padding; PyTorch's transposed conv.

    Padding may be an int, per axis, (before, after) pairs or 'valid'. Returns (N, C_out, *output):
    the canonical form with the crops ``convcalc.core.transposed_axes_for`` reports.
    """
    plan, xa, wa, ba = planned(
        pytorch_plan, x, weight, bias, groups, stride, padding, output_padding, dilation
    )
    xa, wa, ba = cast(plan.dtype, xa, wa, ba)
    result = _transpose_run(xa, wa, plan)
    if ba is not None:
        result += ba.reshape(-1, *([1] * len(plan.axes)))
    return result


def _transpose_run(x: Array, w: Array, plan: TransposePlan) -> Array:
    """col2im: one product per group gives every tap's contribution, then they are summed in place."""
    check_budget(plan.work, plan.elements, what="this transposed convolution")
    source = _channels_first(x).reshape(plan.source)
    per_group = w.reshape(plan.weight).transpose(0, 2, 1)
    cols = np.matmul(per_group, source)
    if plan.entries <= BINCOUNT_LIMIT:
        # The index sends cropped entries to one extra bin past the result, dropped here.
        size = math.prod(plan.output)
        sums = np.bincount(plan.scatter, weights=cols.ravel(), minlength=size + 1)[:size]
        result: Array = sums.astype(x.dtype, copy=False).reshape(plan.output)
        return result
    contributions = cols.reshape(plan.columns)
    full = np.zeros((plan.columns[0], plan.columns[2], *plan.extent), dtype=x.dtype)
    for t, place in enumerate(plan.places):
        full[place] += contributions[:, t]
    return _batch_first(full[plan.keep])
