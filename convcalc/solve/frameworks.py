"""`solve --framework X`: which of solve's answers X can express exactly, in X's own arguments.

solve searches layers in the canonical terms of the core (pads before/after, output_padding at the end);
each answer is turned into its canonical form and ported to X. Only exact ports are kept: an answer that
X could only reach with an extra slice is not an answer in X.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.conventions.base import FrameworkLayer, LayerArgs
from convcalc.core import ConvAxis, TransposedAxis, pytorch_crops
from convcalc.errors import ConvCalcError
from convcalc.port.translate import Translation, translate
from convcalc.solve.solver import Answer


def canonical_layer(answer: Answer) -> FrameworkLayer:
    """An answer as a PyTorch-layout layer in canonical form: crops (pb, pa - op) or pads (pb, pa)."""
    axes = answer.axes
    transposed = axes[0].transposed
    args = LayerArgs(
        size=tuple(a.size for a in axes),
        kernel_size=answer.kernel_size,
        stride=answer.stride,
        dilation=answer.dilation,
        padding=answer.padding,
        output_padding=answer.output_padding if transposed else None,
        transposed=transposed,
    )
    if transposed:
        pairs = tuple((a.pad_before, a.pad_after) for a in axes)
        crops = tuple(
            TransposedAxis(a.size, a.kernel_size, a.stride, a.dilation, cb, ca)
            for a, (cb, ca) in zip(axes, pytorch_crops(pairs, answer.output_padding))
        )
        return FrameworkLayer("pytorch", args, transposed=crops)
    pads = tuple(
        ConvAxis(a.size, a.kernel_size, a.stride, a.dilation, a.pad_before, a.pad_after) for a in axes
    )
    return FrameworkLayer("pytorch", args, conv=pads)


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
