"""`convcalc explain`'s presentation of an ExplainReport: its JSON document, tables and one-line answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.explain.document import explain_document
from convcalc.jsonout import JsonDict
from convcalc.shape.present import layer_words
from convcalc.text import same, x_join

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.core import ShapeReport
    from convcalc.explain.results import ExplainReport
    from convcalc.overlap import OverlapMap


def document(result: ExplainReport) -> JsonDict:
    return explain_document(result.explanation, result.overlap, [str(p) for p in result.written])


def render(result: ExplainReport) -> RenderableType:
    from convcalc.explain.render import explanation_view

    return explanation_view(
        result.explanation, result.overlap, result.written, figure_only=result.figure_only
    )


def headline(result: ExplainReport) -> str:
    explanation, overlap = result.explanation, result.overlap
    r = explanation.report
    axes = r.transposed
    sizes = f"{x_join([a.size for a in axes])} -> {x_join([a.output for a in axes])}"
    op = r.params.output_padding
    words = layer_words(r) + (f" op{same(op)}" if any(op) else "")
    stacked = len(overlap.axes[0].layers) if overlap is not None and overlap.axes else 1
    if stacked > 1 and overlap is not None:
        steps = [x_join([a.layers[n].size for a in overlap.axes]) for n in range(stacked)]
        chain = " -> ".join([*steps, x_join([a.output for a in overlap.axes])])
        parts = [f"{stacked} stacked transposed layers ({words} each): {chain}."]
    else:
        parts = [f"transposed {sizes} ({words})."]
    view = explanation.matrix.content
    if view is not None:
        differs = " (here they differ)" if view.slip_differs else ""
        parts.append(
            "It computes C^T y; the gradient of the convolution is C^T g with g = dL/dy, so C^T y is a "
            f"gradient only when y is dL/dy{differs}."
        )
    direct = explanation.direct.content
    if direct is not None:
        zeros = same([a.zeros_inserted for a in direct.axes])
        before = same([a.pad_before for a in direct.axes])
        after = same([a.pad_after for a in direct.axes])
        unflipped = (
            "the same here: the kernel is symmetric" if direct.unflipped_equal else "different numbers"
        )
        parts.append(
            f"As a direct convolution: {zeros} zero(s) between inputs, padding {before}:{after}, stride 1, "
            "and the kernel flipped, because the output meets the kernel's taps in reverse order as the "
            f"window slides (unflipped gives {unflipped})."
        )
    if overlap is not None:
        if overlap.uniform:
            parts.append("Every interior output receives the same number of contributions: no checkerboard.")
        else:
            layer = "" if stacked == 1 else f" for layer {(overlap.suggested_layer or 0) + 1}"
            instead = f"; instead{layer}: {_suggestion(overlap)}" if overlap.suggestions else ""
            parts.append(
                f"Checkerboard: interior outputs receive {overlap.interior_minimum} to "
                f"{overlap.interior_maximum} contributions ({_why_uneven(r)}){instead}."
            )
    if not explanation.verified:
        parts.append("A check FAILED.")
    return " ".join(parts)


def _why_uneven(report: ShapeReport) -> str:
    p = report.params
    if all(d == 1 for d in p.dilation):
        return f"stride {same(p.stride)} does not divide kernel {same(p.kernel_size)}"
    return "the dilated taps fall unevenly between the stride's positions"


def _suggestion(overlap: OverlapMap) -> str:
    s = overlap.suggestions[0]
    even = "even overlap" if s.covers else "even inside, border outputs empty"
    if s.kind == "resize":
        return f"resize to {x_join(s.output)}, then a convolution"
    return (
        f"k{same(s.kernel_size)} s{same(s.stride)} p{same(s.padding)} op{same(s.output_padding)} "
        f"(same size {x_join(s.output)}, {even})"
    )
