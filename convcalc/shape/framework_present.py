"""`convcalc shape --framework X`'s presentation: its JSON document, its tables, its one-line answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.conventions import convention
from convcalc.jsonout import JsonDict
from convcalc.port.document import framework_shape_document
from convcalc.text import same, x_join

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.conventions.base import FrameworkLayer
    from convcalc.shape.framework import FrameworkShape


def document(result: FrameworkShape) -> JsonDict:
    return framework_shape_document(result.layer, result.pytorch)


def render(result: FrameworkShape) -> RenderableType:
    from convcalc.port.render import framework_shape_view

    return framework_shape_view(result.layer, result.pytorch)


def layer_line(layer: FrameworkLayer) -> str:
    """'TensorFlow transposed convolution 5 -> 10 (crops 0:1).'"""
    kind = "transposed convolution" if layer.is_transposed else "convolution"
    axes = layer.transposed if layer.is_transposed else layer.conv
    pads = "crops" if layer.is_transposed else "padding"
    placement = same([f"{b}:{a}" for b, a in layer.placement])
    return (
        f"{convention(layer.framework).title} {kind} {x_join([a.size for a in axes])} -> "
        f"{x_join(layer.output)} ({pads} {placement})."
    )


def headline(result: FrameworkShape) -> str:
    line = layer_line(result.layer)
    if result.pytorch is not None:
        line += f" In PyTorch: {result.pytorch.verdict}."
    return line
