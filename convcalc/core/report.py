"""Channels and weights, and the full report behind `convcalc shape`."""

from __future__ import annotations

import math
from typing import NamedTuple

from convcalc.core.axes import (
    ConvAxis,
    DirectAxis,
    IntArg,
    PaddingArg,
    ReversalAxis,
    TransposedAxis,
    _check_int,
    direct_form,
    reversal,
)
from convcalc.core.display import Presentable
from convcalc.core.layers import (
    ConvParams,
    check_transposed_axes,
    conv_axes_for,
    normalize,
    transposed_axes_for,
)
from convcalc.core.rules import output_padding_allowed, output_padding_limit
from convcalc.errors import ConvCalcError

# ---------------------------------------------------------------------------------------------------
# Channels.


class ChannelReport(NamedTuple):
    """Weights and work of a convolution (in -> out channels) and of its transposed twin (out -> in)."""

    in_channels: int
    out_channels: int
    groups: int
    kernel_size: tuple[int, ...]
    conv_output: tuple[int, ...]
    bias_channels: int

    @property
    def conv_weight_shape(self) -> tuple[int, ...]:
        """(out, in/groups, *k): PyTorch's Conv weight; also the twin ConvTranspose's (in_t, out_t/groups)."""
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    @property
    def transposed_weight_shape(self) -> tuple[int, ...]:
        """The twin transposed convolution maps out -> in channels; PyTorch's layout (in_t, out_t/g, *k)."""
        return self.conv_weight_shape

    @property
    def direct_weight_shape(self) -> tuple[int, ...]:
        """The twin's equivalent direct convolution: channel axes swapped per group, then flipped."""
        return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)

    @property
    def parameters(self) -> int:
        return math.prod(self.conv_weight_shape)

    @property
    def parameters_with_bias(self) -> int:
        """With the bias of the layer the user described: one per output channel of that layer."""
        return self.parameters + self.bias_channels

    @property
    def multiply_accumulates(self) -> int:
        """Per sample: one product per weight and per position the kernel visits (``conv_output``, the
        convolution's output, which is the transposed layer's input)."""
        return math.prod(self.conv_output) * self.parameters


def channel_report(
    in_channels: object,
    out_channels: object,
    groups: object,
    kernel_size: tuple[int, ...],
    conv_output: tuple[int, ...],
    bias_channels: int | None = None,
) -> ChannelReport:
    """Validate channels and groups (groups must divide both) and describe the weights."""
    c_in = _check_int("in_channels", in_channels)
    c_out = _check_int("out_channels", out_channels)
    g = _check_int("groups", groups)
    for name, value in (("in_channels", c_in), ("out_channels", c_out), ("groups", g)):
        if value < 1:
            raise ConvCalcError(f"{name} must be >= 1; got {value}", parameter=name)
    for name, value in (("in_channels", c_in), ("out_channels", c_out)):
        if value % g:
            raise ConvCalcError(
                f"groups must divide {name}; got {name}={value}, groups={g}", parameter="groups"
            )
    return ChannelReport(
        c_in, c_out, g, kernel_size, conv_output, c_out if bias_channels is None else bias_channels
    )


# ---------------------------------------------------------------------------------------------------
# The full report behind `convcalc shape`.


class _ShapeFields(NamedTuple):
    transposed_input: bool
    params: ConvParams
    conv: tuple[ConvAxis, ...]
    transposed: tuple[TransposedAxis, ...]
    direct: tuple[DirectAxis, ...]
    reversal: tuple[ReversalAxis, ...]
    channels: ChannelReport | None
    twin_problem: str | None = None
    """Why the transposed twin cannot exist (its output would be empty), or None when it can."""


class ShapeReport(Presentable, _ShapeFields):
    """A convolution and its transposed twin (same kernel, stride, padding, dilation), fully described.

    ``transposed_input`` says which size the user gave: False, the convolution's input (the twin runs
    on the convolution's output); True, the transposed convolution's input (the convolution twin runs
    on the transposed output, and its input is what the reversal describes).

    A frozen record like the axes it holds: a NamedTuple, which `convcalc shape` builds about ten times
    faster than a frozen dataclass (and without loading ``dataclasses``); Presentable comes first so
    that its repr, the one-line answer, is the one used.
    """

    __slots__ = ()

    @property
    def ndim(self) -> int:
        return self.params.ndim

    presenter = "convcalc.shape.present"

    def reachable(self) -> list[list[tuple[int, int]]]:
        """Per axis of the transposed layer: (output_padding, output) for every output_padding PyTorch
        allows (op < max(stride, dilation)), the output counted from op = 0."""
        p = self.params
        out = []
        for axis, op, s, d in zip(self.transposed, p.output_padding, p.stride, p.dilation):
            base = axis.output - op
            out.append([(v, base + v) for v in range(output_padding_limit(s, d))])
        return out

    @property
    def output_padding_strict_ok(self) -> tuple[bool, ...]:
        """Whether output_padding < stride on each axis (the rule of most frameworks but PyTorch)."""
        p = self.params
        return tuple(
            output_padding_allowed(op, s, d, strict=True)
            for op, s, d in zip(p.output_padding, p.stride, p.dilation)
        )


def shape_report(
    size: IntArg,
    kernel_size: IntArg,
    *,
    stride: IntArg = 1,
    padding: PaddingArg = 0,
    output_padding: IntArg = 0,
    dilation: IntArg = 1,
    transposed: bool = False,
    in_channels: int | None = None,
    out_channels: int | None = None,
    groups: int = 1,
) -> ShapeReport:
    """Describe a convolution and its transposed twin; ``transposed`` says size is the twin's input."""
    sizes, params = normalize(
        size,
        kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        transposed=transposed,
    )
    twin_problem = None
    if transposed:
        t_axes = transposed_axes_for(sizes, params)
        c_axes = conv_axes_for(tuple(a.output for a in t_axes), params)
    else:
        c_axes = conv_axes_for(sizes, params)
        c_pads = tuple((a.pad_before, a.pad_after) for a in c_axes)
        # A convolution whose padding reaches past its last window has a twin that can come out empty
        # (W=1, k=1, s=2, padding 0:1): the report keeps the convolution and says why the twin cannot
        # exist; the reversal row still shows the output_padding that restores W.
        t_axes = transposed_axes_for(tuple(a.output for a in c_axes), params, c_pads, check=False)
        try:
            check_transposed_axes(t_axes)
        except ConvCalcError as error:
            twin_problem = str(error)

    channels = None
    if in_channels is not None or out_channels is not None:
        if in_channels is None or out_channels is None:
            missing = "in_channels" if in_channels is None else "out_channels"
            raise ConvCalcError(
                f"{missing} is needed too: give both in_channels and out_channels", parameter=missing
            )
        # The weight describes the convolution; for a transposed layer the user's channels are swapped.
        c_in, c_out = (out_channels, in_channels) if transposed else (in_channels, out_channels)
        # Every product pairs one input element of the transposed layer (one output element of the
        # convolution) with one weight; a transposed layer typed with output_padding >= stride runs on
        # fewer elements than its convolution twin would produce, so it counts its own input.
        positions = sizes if transposed else tuple(a.output for a in c_axes)
        channels = channel_report(c_in, c_out, groups, params.kernel_size, positions, out_channels)
    elif groups != 1:
        raise ConvCalcError(
            f"groups={groups} needs in_channels and out_channels to divide", parameter="groups"
        )

    return ShapeReport(
        transposed_input=transposed,
        params=params,
        conv=c_axes,
        transposed=t_axes,
        direct=tuple(direct_form(a) for a in t_axes),
        reversal=tuple(reversal(a, params.padding_mode) for a in c_axes),
        channels=channels,
        twin_problem=twin_problem,
    )
