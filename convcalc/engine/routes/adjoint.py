"""The adjoint identity: <conv(x), y> = <x, conv_transpose(y)> when the transposed convolution is the
adjoint of the convolution.

A property of the fast path, so it calls the fast path's public functions (never its helpers) with
paddings the core computed; what it proves does not depend on how they run.
"""

from __future__ import annotations

import numpy as np

from convcalc.core import conv_layer
from convcalc.engine.fast.run import conv, conv_transpose, conv_transpose_cropped
from convcalc.engine.inputs import real_array, transposed_axes
from convcalc.errors import ConvCalcError


def adjoint_identity(
    x: object,
    y: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
) -> tuple[float, float]:
    """<conv(x), y> and <x, conv_transpose(y)>: equal when the transposed convolution is the adjoint.

    ``padding`` is resolved for x (a mode becomes explicit pairs); ``output_padding`` makes the
    transposed output the size of x. Returns the two inner products.
    """
    xa, ya = real_array("x", x), real_array("y", y)
    forward = conv(xa, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
    axes = conv_layer(
        xa.shape[2:],
        real_array("weight", weight).shape[2:],
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
    pads = [(a.pad_before, a.pad_after) for a in axes]
    backward = conv_transpose(
        ya,
        weight,
        stride=stride,
        padding=pads,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
    )
    if forward.shape != ya.shape or backward.shape != xa.shape:
        raise ConvCalcError(
            f"the adjoint identity needs y of shape {forward.shape} and conv_transpose(y) of x's shape "
            f"{xa.shape}; got y {ya.shape} and conv_transpose(y) {backward.shape}",
            parameter="output_padding",
        )
    return float(np.vdot(forward, ya)), float(np.vdot(xa, backward))


def adjoint_identity_cropped(
    y: object,
    z: object,
    weight: object,
    *,
    stride: object,
    dilation: object,
    crops: object,
    groups: int = 1,
) -> tuple[float, float]:
    """<T y, z> and <y, T* z>, T the transposed convolution with canonical crops (possibly negative).

    T* z drops the zeros a negative crop appended, then convolves with padding max(crop, 0) on each
    side: the convolution whose padded input is the full output. Returns the two inner products.
    """
    ya, za = real_array("y", y), real_array("z", z)
    forward = conv_transpose_cropped(ya, weight, stride=stride, dilation=dilation, crops=crops, groups=groups)
    if forward.shape != za.shape:
        raise ConvCalcError(
            f"z must have the transposed output's shape {forward.shape}; got {za.shape}", parameter="z"
        )
    axes = transposed_axes(ya, real_array("weight", weight), stride, dilation, crops)
    kept = [a.full - max(a.crop_before, 0) - max(a.crop_after, 0) for a in axes]
    if min(kept) < 1:
        # Nothing of the full output survives the crops: T is zero, and so is its adjoint.
        return float(np.vdot(forward, za)), 0.0
    inside = (
        slice(None),
        slice(None),
        *(slice(max(-a.crop_before, 0), max(-a.crop_before, 0) + n) for a, n in zip(axes, kept)),
    )
    backward = conv(
        za[inside],
        weight,
        stride=[a.stride for a in axes],
        padding=[(max(a.crop_before, 0), max(a.crop_after, 0)) for a in axes],
        dilation=[a.dilation for a in axes],
        groups=groups,
    )
    return float(np.vdot(forward, za)), float(np.vdot(ya, backward))
