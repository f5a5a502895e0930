"""`solve --framework X`: which of solve's answers X can express exactly, in X's own arguments.

solve searches layers in the canonical terms of the core (pads before/after, output_padding at the end);
each answer is turned into its canonical form and ported to X. Only exact ports are kept: an answer that
X could only reach with an extra slice is not an answer in X.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.conventions.base import FrameworkLayer, LayerArgs
from convcalc.errors import ConvCalcError
from convcalc.port.translate import Translation, translate
from convcalc.solve.answers import Answer


def canonical_layer(answer: Answer) -> FrameworkLayer:
    """An answer as a PyTorch-layout layer in canonical form: crops (pb, pa - op) or pads (pb, pa)."""
    layer = answer.layer
    size = tuple(a.size for a in answer.axes)
    args = LayerArgs(
        size=size,
        kernel_size=layer.kernel_size,
        stride=layer.stride,
        dilation=layer.dilation,
        padding=layer.padding,
        output_padding=layer.output_padding if layer.transposed else None,
        transposed=layer.transposed,
    )
    if layer.transposed:
        return FrameworkLayer("pytorch", args, transposed=layer.transposed_axes(size))
    return FrameworkLayer("pytorch", args, conv=layer.conv_axes(size))


def exact_in(framework: str, answers: Sequence[Answer]) -> list[tuple[Answer, Translation]]:
    """The answers the framework expresses exactly (same shape and values), with its arguments."""
    kept = []
    for answer in answers:
        try:
            t = translate(canonical_layer(answer), framework)
        except ConvCalcError:
            continue  # the framework's rules refuse this kernel, stride and dilation altogether
        if t.exact:
            kept.append((answer, t))
    return kept
