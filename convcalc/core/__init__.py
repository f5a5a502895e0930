"""The arithmetic core: sizes of convolutions and transposed convolutions, in Python integers only.

Every size convcalc reports is computed here, once. The canonical form of a transposed convolution is
the pair of crops (before, after) taken from its full output ``(i-1)*s + d*(k-1) + 1``; a negative crop
extends the output with zeros. PyTorch's ``padding``/``output_padding`` map to crops
``(padding_before, padding_after - output_padding)`` (``rules.pytorch_crops``), and every other
framework convention reduces to the same pair.

- ``axes``: validation helpers and the per-axis results (ConvAxis, TransposedAxis, DirectAxis,
  ReversalAxis) with their formulas;
- ``rules``: the rules tying arguments together (crops, output_padding limits, symmetric padding);
- ``layer``: ``Layer``, the one layer value (kind, per-axis kernel, stride, dilation, pads or crops,
  output_padding, groups, channels) every feature passes around, loaded when first used;
- ``layers``: normalise then compute (``conv_layer``, ``transposed_layer``, the output sizes);
- ``report``: channels and the full report behind ``convcalc shape``;
- ``pool``: pooling and upsampling axes for chains, loaded when first used (`convcalc shape` does not
  pay for it).
"""

from typing import TYPE_CHECKING, Any

from convcalc.core.axes import (
    MAX_AXES,
    PADDING_MODES,
    ConvAxis,
    DirectAxis,
    IntArg,
    PaddingArg,
    Pairs,
    ReversalAxis,
    TransposedAxis,
    broadcast_axes,
    dilated_kernel_size,
    direct_form,
    int_axes,
    padding_pairs,
    reversal,
    same_padding,
    split_extra_at_end,
    split_extra_at_start,
    spread_axes,
    spread_pairs,
)
from convcalc.core.layers import (
    ConvParams,
    check_transposed_axes,
    conv_axes_for,
    conv_layer,
    conv_output_size,
    conv_transpose_output_size,
    normalize,
    transposed_axes_for,
    transposed_layer,
)
from convcalc.core.report import ChannelReport, ShapeReport, channel_report, shape_report
from convcalc.core.rules import (
    check_output_padding,
    output_padding_allowed,
    output_padding_limit,
    pytorch_crops,
    symmetric_for_crop,
)

if TYPE_CHECKING:
    from convcalc.core.layer import Layer
    from convcalc.core.pool import PoolAxis, UpsampleAxis, pool_axes_for

_POOL = ("PoolAxis", "UpsampleAxis", "pool_axes_for")


def __getattr__(name: str) -> Any:
    if name in _POOL:
        from convcalc.core import pool

        return getattr(pool, name)
    if name == "Layer":
        from convcalc.core.layer import Layer

        return Layer
    raise AttributeError(f"module 'convcalc.core' has no attribute {name!r}")


__all__ = [
    "MAX_AXES",
    "PADDING_MODES",
    "ChannelReport",
    "ConvAxis",
    "ConvParams",
    "DirectAxis",
    "IntArg",
    "Layer",
    "PaddingArg",
    "Pairs",
    "PoolAxis",
    "ReversalAxis",
    "ShapeReport",
    "TransposedAxis",
    "UpsampleAxis",
    "broadcast_axes",
    "channel_report",
    "check_output_padding",
    "check_transposed_axes",
    "conv_axes_for",
    "conv_layer",
    "conv_output_size",
    "conv_transpose_output_size",
    "dilated_kernel_size",
    "direct_form",
    "int_axes",
    "normalize",
    "output_padding_allowed",
    "output_padding_limit",
    "padding_pairs",
    "pool_axes_for",
    "pytorch_crops",
    "reversal",
    "same_padding",
    "shape_report",
    "split_extra_at_end",
    "split_extra_at_start",
    "spread_axes",
    "spread_pairs",
    "symmetric_for_crop",
    "transposed_axes_for",
    "transposed_layer",
]
