"""Normalised N-d parameters: validate and broadcast once, then compute a layer's axes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from convcalc.core.axes import (
    ConvAxis,
    IntArg,
    PaddingArg,
    Pairs,
    TransposedAxis,
    _broadcast,
    _int_axes,
    _mode_padding,
    _padding_axes,
    _spread,
    _spread_pairs,
    dilated_kernel_size,
)
from convcalc.core.rules import check_output_padding, pytorch_crops
from convcalc.errors import ConvCalcError, option

# ---------------------------------------------------------------------------------------------------
# Normalised N-d parameters.


class ConvParams(NamedTuple):
    """Per-axis parameters after validation and broadcasting; padding stays a mode or explicit pairs."""

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: str | Pairs
    output_padding: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return len(self.kernel_size)

    @property
    def padding_mode(self) -> str | None:
        return self.padding if isinstance(self.padding, str) else None

    def pads_for(self, size: Sequence[int]) -> Pairs:
        """The explicit (before, after) padding of every axis for an input of this size."""
        if isinstance(self.padding, str):
            mode = self.padding
            return tuple(
                _mode_padding(mode, i, dilated_kernel_size(k, d), s)
                for i, k, s, d in zip(size, self.kernel_size, self.stride, self.dilation)
            )
        return self.padding


def normalize(
    size: object,
    kernel_size: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    transposed: bool = False,
) -> tuple[tuple[int, ...], ConvParams]:
    """Validate and broadcast the arguments; return the per-axis input size and parameters.

    Checks come in a fixed order: types and ranges of each argument, then axis counts, then the rules
    that tie parameters together (output_padding < max(stride, dilation); modes for transposed).
    """
    sizes = _int_axes("size", size, 1)
    kernels = _int_axes("kernel_size", kernel_size, 1)
    strides = _int_axes("stride", stride, 1)
    dilations = _int_axes("dilation", dilation, 1)
    pads = _padding_axes(padding)
    out_pads = _int_axes("output_padding", output_padding, 0)

    named: dict[str, tuple[object, ...]] = {
        "size": sizes,
        "kernel_size": kernels,
        "stride": strides,
        "dilation": dilations,
        "output_padding": out_pads,
    }
    if not isinstance(pads, str):
        named["padding"] = pads
    ndim = _broadcast(named)
    sizes, kernels = _spread(sizes, ndim), _spread(kernels, ndim)
    strides, dilations = _spread(strides, ndim), _spread(dilations, ndim)
    out_pads = _spread(out_pads, ndim)
    pads = pads if isinstance(pads, str) else _spread_pairs(pads, ndim)

    if transposed and isinstance(pads, str) and pads != "valid":
        raise ConvCalcError(
            f"padding={pads!r} is not defined for a transposed convolution here: its meaning differs "
            "between frameworks; for Keras's or TensorFlow's 'same' (output = input * stride) read the "
            f"layer by that framework's rules ({option('framework', 'keras')} or "
            f"{option('framework', 'tensorflow')}), or give explicit padding or 'valid'",
            parameter="padding",
        )
    check_output_padding(out_pads, strides, dilations)
    params = ConvParams(kernels, strides, dilations, pads, out_pads)
    return sizes, params


def conv_axes_for(sizes: Sequence[int], params: ConvParams) -> tuple[ConvAxis, ...]:
    """The convolution axes for normalised arguments; an output of size <= 0 is explained."""
    axes = tuple(
        ConvAxis(i, k, s, d, pb, pa)
        for i, k, s, d, (pb, pa) in zip(
            sizes, params.kernel_size, params.stride, params.dilation, params.pads_for(sizes)
        )
    )
    for n, axis in enumerate(axes):
        if axis.padded_size < axis.dilated_kernel:
            raise ConvCalcError(
                f"the dilated kernel ({axis.dilated_kernel}) is larger than the padded input "
                f"({axis.padded_size}) on axis {n}: the convolution output size would be "
                f"{axis.output}; it must be >= 1 (size {axis.size}, padding "
                f"{axis.pad_before}+{axis.pad_after}, kernel_size {axis.kernel_size}, "
                f"dilation {axis.dilation})",
                parameter="size",
            )
    return axes


def transposed_axes_for(
    sizes: Sequence[int], params: ConvParams, pads: Pairs | None = None, *, check: bool = True
) -> tuple[TransposedAxis, ...]:
    """The transposed axes for normalised PyTorch-style arguments: crops (p_before, p_after - op).

    ``pads`` overrides the padding with already resolved pairs (the twin of a 'same' convolution keeps
    the pairs the convolution resolved for its own input). ``check=False`` lets a twin be empty, so
    that a report can say so instead of failing.
    """
    crops = pytorch_crops(params.pads_for(sizes) if pads is None else pads, params.output_padding)
    axes = tuple(
        TransposedAxis(i, k, s, d, cb, ca)
        for i, k, s, d, (cb, ca) in zip(sizes, params.kernel_size, params.stride, params.dilation, crops)
    )
    if check:
        check_transposed_axes(axes)
    return axes


def check_transposed_axes(axes: Sequence[TransposedAxis]) -> None:
    """Refuse a transposed convolution whose output would be empty, saying where the size went."""
    for n, axis in enumerate(axes):
        if axis.output < 1:
            raise ConvCalcError(
                f"the transposed convolution output size would be {axis.output} on axis {n}; it must "
                f"be >= 1: the full output (i-1)*s + K = ({axis.size}-1)*{axis.stride} + "
                f"{axis.dilated_kernel} = {axis.full} is cropped by {axis.crop_before} before and "
                f"{axis.crop_after} after (padding and output_padding)",
                parameter="padding",
            )


def _scalar_or_tuple(size: object, values: tuple[int, ...]) -> int | tuple[int, ...]:
    return values[0] if isinstance(size, int) and len(values) == 1 else values


def conv_layer(
    size: object,
    kernel_size: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
) -> tuple[ConvAxis, ...]:
    """Normalise a convolution's arguments and compute its axes (an empty output is refused).

    >>> [a.output for a in conv_layer((32, 31), (4, 3), stride=(2, 1), padding=((1, 1), (0, 2)))]
    [16, 31]
    """
    sizes, params = normalize(size, kernel_size, stride=stride, padding=padding, dilation=dilation)
    return conv_axes_for(sizes, params)


def transposed_layer(
    size: object,
    kernel_size: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
) -> tuple[TransposedAxis, ...]:
    """Normalise a transposed convolution's arguments (PyTorch's names) and compute its canonical axes.

    >>> [(a.crop_before, a.crop_after, a.output) for a in transposed_layer(31, 4, stride=2, padding=1,
    ...                                                                    output_padding=1)]
    [(1, 0, 63)]
    """
    sizes, params = normalize(
        size,
        kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        transposed=True,
    )
    return transposed_axes_for(sizes, params)


def conv_output_size(
    size: IntArg,
    kernel_size: IntArg,
    *,
    stride: IntArg = 1,
    padding: PaddingArg = 0,
    dilation: IntArg = 1,
) -> int | tuple[int, ...]:
    """floor((i + pad_before + pad_after - d*(k-1) - 1) / s) + 1 on every axis.

    Returns an int for an int size (one axis), else a tuple with one entry per spatial axis.

    >>> conv_output_size(5, 3, stride=2, padding=1)
    3
    >>> conv_output_size((32, 32), 4, stride=2, padding=1)
    (16, 16)
    """
    axes = conv_layer(size, kernel_size, stride=stride, padding=padding, dilation=dilation)
    return _scalar_or_tuple(size, tuple(a.output for a in axes))


def conv_transpose_output_size(
    size: IntArg,
    kernel_size: IntArg,
    *,
    stride: IntArg = 1,
    padding: PaddingArg = 0,
    output_padding: IntArg = 0,
    dilation: IntArg = 1,
) -> int | tuple[int, ...]:
    """(i-1)*s - pad_before - pad_after + d*(k-1) + 1 + output_padding on every axis.

    Returns an int for an int size (one axis), else a tuple with one entry per spatial axis.

    >>> conv_transpose_output_size(5, 3, stride=2, padding=1, output_padding=1)
    10
    """
    axes = transposed_layer(
        size, kernel_size, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation
    )
    return _scalar_or_tuple(size, tuple(a.output for a in axes))
