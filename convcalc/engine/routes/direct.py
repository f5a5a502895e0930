"""The direct route: zeros inserted between the inputs, the core's re-padding, a stride-1 convolution.

The convolution here is the route's own (every window a view, one contraction), not the fast path's
im2col, so that the two transposed routes share nothing but the boundary checks and the core's numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from convcalc.core import direct_form
from convcalc.engine.budget import check_budget, transposed_figures
from convcalc.engine.inputs import Array, real_array, tensors, transposed_axes
from convcalc.engine.routes.crops import crop
from convcalc.errors import ConvCalcError


@dataclass(frozen=True)
class DirectRun:
    """What the direct route executed: its output and the spatial sizes it actually built."""

    output: Array
    stretched: tuple[int, ...]
    padded: tuple[int, ...]


def direct_weight(weight: object, groups: int = 1) -> Array:
    """(C_in, C_out/g, *k) -> (C_out, C_in/g, *k) swapped within each group, spatial axes flipped."""
    wa = real_array("weight", weight)
    c_in, c_out_g = wa.shape[:2]
    kernel = wa.shape[2:]
    swapped = wa.reshape(groups, c_in // groups, c_out_g, *kernel).swapaxes(1, 2)
    flipped = np.flip(swapped, axis=tuple(range(3, 3 + len(kernel))))
    return np.ascontiguousarray(flipped.reshape(groups * c_out_g, c_in // groups, *kernel))


def _correlate(x: Array, w: Array, dilation: Sequence[int], groups: int) -> Array:
    """y[n, o, p] = sum over c, t of x[n, c, p + t*d] * w[o, c, t]: stride 1, no padding, per group.

    Every (position, tap) pair is a view of x (position p and tap t of an axis sit p + t*d elements
    along it); one copy lays the windows out as rows and one matrix product per group contracts
    channels and taps.
    """
    ndim = w.ndim - 2
    n, c_in = x.shape[:2]
    c_out = w.shape[0]
    kernel = w.shape[2:]
    out = tuple(size - d * (k - 1) for size, k, d in zip(x.shape[2:], kernel, dilation))
    if min(out) < 1:
        raise ConvCalcError(
            f"the direct form's padded input {x.shape[2:]} is smaller than the dilated kernel "
            f"{tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))}",
            parameter="padding",
        )
    x = np.ascontiguousarray(x)
    s_n, s_c, *s_axes = x.strides
    # (groups, N, *out, C/groups, *k): the windows of each group, still a view of x.
    windows = as_strided(
        x,
        shape=(groups, n, *out, c_in // groups, *kernel),
        strides=(s_c * (c_in // groups), s_n, *s_axes, s_c, *(s * d for s, d in zip(s_axes, dilation))),
        writeable=False,
    )
    rows = windows.reshape(groups, n * math.prod(out), -1)
    y = rows @ w.reshape(groups, c_out // groups, -1).swapaxes(1, 2)
    # (groups, N * prod(out), C_out/groups) -> (N, C_out, *out)
    spread = y.reshape(groups, n, *out, c_out // groups).transpose(1, 0, 2 + ndim, *range(2, 2 + ndim))
    result: Array = np.ascontiguousarray(spread).reshape(n, c_out, *out)
    return result


def transpose_direct_run(
    x: object, weight: object, *, stride: object, dilation: object, crops: object, groups: int = 1
) -> DirectRun:
    """Zero insertion, padding K-1-crop per side (the core's ``direct_form``), stride-1 convolution.

    Returns the output together with the measured sizes of the stretched and re-padded input.
    """
    xa, wa, _, groups = tensors(x, weight, None, transposed=True, groups=groups)
    axes = transposed_axes(xa, wa, stride, dilation, crops)
    check_budget(*transposed_figures(xa.shape, wa.shape, axes, groups), what="the direct route")
    forms = [direct_form(a) for a in axes]
    n, c_in = xa.shape[:2]
    c_out = wa.shape[1] * groups
    padded_sizes = [max(f.stretched + f.pad_before + f.pad_after, 0) for f in forms]
    outputs = [max(p - f.dilated_kernel + 1, 0) for p, f in zip(padded_sizes, forms)]
    n_taps = math.prod(wa.shape[2:])
    check_budget(
        n * c_out * (c_in // groups) * n_taps * math.prod(outputs),
        n
        * c_in
        * max(math.prod(f.stretched for f in forms), math.prod(padded_sizes), n_taps * math.prod(outputs)),
        what="the direct route's convolution",
    )
    stretched = np.zeros((n, c_in, *(f.stretched for f in forms)), dtype=xa.dtype)
    stretched[(slice(None),) * 2 + tuple(slice(None, None, a.stride) for a in axes)] = xa
    # The direct form's padding: zeros first, then a negative pad crops (possibly into those zeros).
    padded = crop(stretched, [(-f.pad_before, -f.pad_after) for f in forms])
    output = _correlate(padded, direct_weight(wa, groups), [a.dilation for a in axes], groups)
    return DirectRun(output, stretched.shape[2:], padded.shape[2:])


def transpose_direct(
    x: object, weight: object, *, stride: object, dilation: object, crops: object, groups: int = 1
) -> Array:
    """The direct-convolution route; see ``transpose_direct_run``. Returns (N, C_out, *output)."""
    return transpose_direct_run(
        x, weight, stride=stride, dilation=dilation, crops=crops, groups=groups
    ).output
