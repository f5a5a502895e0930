"""The scatter route: the transposed convolution by its definition, one kernel tap at a time."""

from __future__ import annotations

import numpy as np

from convcalc.engine.budget import check_budget, transposed_figures
from convcalc.engine.inputs import Array, tensors, transposed_axes
from convcalc.engine.routes.crops import crop


def transpose_scatter(
    x: object, weight: object, *, stride: object, dilation: object, crops: object, groups: int = 1
) -> Array:
    """out[(p*s + t*d)] += x[p] * w[t] for every input position p and tap t, then the crops.

    The definition: each input element adds a scaled copy of the kernel at stride s and overlaps sum.
    One tensor contraction per kernel tap over all input positions at once.
    """
    xa, wa, _, groups = tensors(x, weight, None, transposed=True, groups=groups)
    axes = transposed_axes(xa, wa, stride, dilation, crops)
    check_budget(*transposed_figures(xa.shape, wa.shape, axes, groups), what="the scatter route")
    n, c_in = xa.shape[:2]
    c_out_g = wa.shape[1]
    sizes = xa.shape[2:]
    grouped_x = xa.reshape(n, groups, c_in // groups, *sizes)
    grouped_w = wa.reshape(groups, c_in // groups, c_out_g, *wa.shape[2:])
    full = np.zeros((n, groups, c_out_g, *(a.full for a in axes)), dtype=xa.dtype)
    for tap in np.ndindex(*wa.shape[2:]):
        copy = np.einsum("ngc...,gco->ngo...", grouped_x, grouped_w[(slice(None),) * 3 + tap])
        # Input position p of axis a lands at p*s + t*d: a slice from t*d every s, one per input.
        place = tuple(
            slice(j * a.dilation, j * a.dilation + (i - 1) * a.stride + 1, a.stride)
            for j, i, a in zip(tap, sizes, axes)
        )
        full[(slice(None),) * 3 + place] += copy
    cropped = crop(full, [(a.crop_before, a.crop_after) for a in axes], lead=3)
    return np.ascontiguousarray(cropped.reshape(n, groups * c_out_g, *cropped.shape[3:]))
