"""The engine's boundary, shared by the fast path and the witness routes: what a caller may pass.

Arrays are checked (real numbers, ranks, channels, groups) and cast to a common float dtype; canonical
crops are checked and turned into the core's ``TransposedAxis`` per axis. Nothing here computes a
convolution: the routes that check each other share only these checks and the core's sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, Union

import numpy as np
import numpy.typing as npt

from convcalc.core import TransposedAxis, check_transposed_axes, normalize
from convcalc.errors import ConvCalcError

Array = npt.NDArray[Any]
Index = tuple[Union[slice, int], ...]
T = TypeVar("T")


def real_array(name: str, value: object) -> Array:
    """A real numeric array; integers and booleans are not accepted as tensors of a convolution."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise ConvCalcError(
            f"{name} must be an array of real numbers; got dtype {array.dtype}", parameter=name
        )
    return array


def tensors(
    x: object, weight: object, bias: object, *, transposed: bool, groups: object
) -> tuple[Array, Array, Array | None, int]:
    """Check types, ranks, channel counts and groups; return the arrays cast to a common float dtype."""
    xa, wa = real_array("x", x), real_array("weight", weight)
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise ConvCalcError(f"groups must be an integer; got {groups!r}", parameter="groups")
    if groups < 1:
        raise ConvCalcError(f"groups must be >= 1; got {groups}", parameter="groups")
    if xa.ndim < 3:
        raise ConvCalcError(
            f"x must have shape (N, C, *spatial) with at least one spatial axis; got shape {xa.shape}",
            parameter="x",
        )
    if wa.ndim != xa.ndim:
        layout = "(C_in, C_out/groups, *k)" if transposed else "(C_out, C_in/groups, *k)"
        raise ConvCalcError(
            f"weight must have shape {layout} with as many axes as x ({xa.ndim}); got shape {wa.shape}",
            parameter="weight",
        )
    if 0 in xa.shape or 0 in wa.shape:
        bad = "x" if 0 in xa.shape else "weight"
        raise ConvCalcError(
            f"{bad} must have at least one element on every axis; got shape "
            f"{(xa if bad == 'x' else wa).shape}",
            parameter=bad,
        )
    c_in = xa.shape[1]
    if transposed:
        if wa.shape[0] != c_in:
            raise ConvCalcError(
                f"weight's first axis must equal x's channels (transposed layout (C_in, C_out/groups, "
                f"*k)); got weight shape {wa.shape} for x with {c_in} channels",
                parameter="weight",
            )
        if c_in % groups:
            raise ConvCalcError(
                f"groups must divide the input channels; got {c_in} channels, groups={groups}",
                parameter="groups",
            )
        c_out = wa.shape[1] * groups
    else:
        if wa.shape[1] * groups != c_in:
            raise ConvCalcError(
                f"x must have weight.shape[1] * groups = {wa.shape[1]} * {groups} = "
                f"{wa.shape[1] * groups} channels (layout (C_out, C_in/groups, *k)); got {c_in}",
                parameter="x",
            )
        if wa.shape[0] % groups:
            raise ConvCalcError(
                f"groups must divide the output channels; got weight.shape[0]={wa.shape[0]}, groups={groups}",
                parameter="groups",
            )
        c_out = wa.shape[0]
    dtype = np.result_type(xa.dtype, wa.dtype, np.float32)
    ba = None
    if bias is not None:
        ba = real_array("bias", bias)
        if ba.shape != (c_out,):
            raise ConvCalcError(
                f"bias must have shape ({c_out},), one value per output channel; got {ba.shape}",
                parameter="bias",
            )
        dtype = np.result_type(dtype, ba.dtype)
        ba = ba.astype(dtype, copy=False)
    return xa.astype(dtype, copy=False), wa.astype(dtype, copy=False), ba, groups


def check_axis_count(name: str, got: int, spatial: int) -> None:
    if got != spatial:
        raise ConvCalcError(
            f"{name} has {got} axes but x has {spatial} spatial axes; give one value or one per axis",
            parameter=name,
        )


def key(value: object) -> object:
    """A hashable key that tells 1 from True and 1.0 (normalize accepts only the first)."""
    if type(value) is int:
        return value
    if type(value) is tuple and all(type(v) is int for v in value):
        return value
    if isinstance(value, (list, tuple)):
        return ("seq", *[key(v) for v in value])
    hash(value)
    return (type(value), value)


_AXES: dict[object, Any] = {}
_MAX_MEMO = 4096


def memo(kind: str, build: Callable[..., T], *args: object) -> T:
    """build(*args) computed once per distinct arguments: the core is pure, and re-validating the same
    layer on every call would cost more than the convolution itself at verification sizes."""
    try:
        memo_key = (kind, key(args))
    except TypeError:
        return build(*args)
    if memo_key not in _AXES:
        if len(_AXES) >= _MAX_MEMO:
            _AXES.clear()
        _AXES[memo_key] = build(*args)
    result: T = _AXES[memo_key]
    return result


def transposed_axes(
    x: Array, w: Array, stride: object, dilation: object, crops: object
) -> tuple[TransposedAxis, ...]:
    """The core's transposed axes for canonical crops (validated here: pairs of ints, may be negative)."""
    return memo("cropped", _canonical_axes, x.shape, w.shape, stride, dilation, crops)


def _canonical_axes(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: object, dilation: object, crops: object
) -> tuple[TransposedAxis, ...]:
    spatial = len(x_shape) - 2
    sizes, params = normalize(x_shape[2:], w_shape[2:], stride=stride, dilation=dilation)
    check_axis_count("stride or dilation", len(sizes), spatial)
    if isinstance(crops, (str, bytes)) or not isinstance(crops, Sequence):
        raise ConvCalcError(
            f"crops must be a sequence of (before, after) pairs, one per spatial axis; got {crops!r}",
            parameter="crops",
        )
    pairs: list[tuple[int, int]] = []
    for entry in crops:
        if (
            isinstance(entry, (str, bytes))
            or not isinstance(entry, Sequence)
            or len(entry) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in entry)
        ):
            raise ConvCalcError(
                f"crops must be (before, after) pairs of integers; got {entry!r}", parameter="crops"
            )
        pairs.append((entry[0], entry[1]))
    if len(pairs) == 1:
        pairs *= spatial
    check_axis_count("crops", len(pairs), spatial)
    axes = tuple(
        TransposedAxis(i, k, s, d, b, a)
        for i, k, s, d, (b, a) in zip(sizes, params.kernel_size, params.stride, params.dilation, pairs)
    )
    check_transposed_axes(axes)
    return axes
