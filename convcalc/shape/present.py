"""`convcalc shape`'s presentation of a ShapeReport: its JSON document, its tables, its one-line answer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from convcalc.jsonout import JsonDict, shape_document
from convcalc.shape.dialect import pytorch_refusal
from convcalc.text import same, x_join

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.core import ShapeReport


def document(report: ShapeReport) -> JsonDict:
    return shape_document(report)


def render(report: ShapeReport) -> RenderableType:
    from convcalc.shape.render import shape_view

    return shape_view(report)


def layer_words(report: ShapeReport) -> str:
    """k3 s2 p1 (with d and op only when they are not the default)."""
    p = report.params
    pads = [(a.pad_before, a.pad_after) for a in report.conv]
    if p.padding_mode == "same" and pytorch_refusal(report) is not None:
        padding = f"TensorFlow's padding 'same', which PyTorch refuses with stride {same(p.stride)}"
    elif p.padding_mode:
        padding = f"padding '{p.padding_mode}'"
    else:
        padding = "p" + same([str(b) if b == a else f"{b}:{a}" for b, a in pads])
    words = [f"k{same(p.kernel_size)}", f"s{same(p.stride)}", padding]
    if any(d != 1 for d in p.dilation):
        words.append(f"d{same(p.dilation)}")
    return " ".join(words)


def headline(report: ShapeReport) -> str:
    p = report.params
    words = layer_words(report)
    op = p.output_padding
    if report.transposed_input:
        given = x_join([a.size for a in report.transposed])
        out = x_join([a.output for a in report.transposed])
        options = report.reachable()
        words += f" op{same(op)}" if any(op) else ""
        line = f"transposed {given} -> {out} ({words})."
        if all(len(o) == 1 for o in options):
            return line + f" With stride {same(p.stride)} that is the only size it can give."
        if all(o == options[0] for o in options) and len(set(op)) == 1:
            options, op, per_axis = options[:1], op[:1], " per axis" if len(options) > 1 else ""
        else:
            per_axis = ""
        low = x_join([o[0][1] for o in options])
        high = x_join([o[-1][1] for o in options])
        others = []
        for n, axis in enumerate(options):
            for v, size in axis:
                if v != op[n]:
                    where = f" on axis {n}" if len(options) > 1 else ""
                    only = " (PyTorch only: not below the stride)" if v >= p.stride[n] else ""
                    others.append(f"output_padding={v} gives {size}{where}{only}")
        return line + f" {'; '.join(others)}; sizes {low}..{high}{per_axis} are reachable."
    given = x_join([a.size for a in report.conv])
    out = x_join([a.output for a in report.conv])
    line = f"convolution {given} -> {out} ({words})."
    if report.twin_problem is not None:
        return line + " Its transposed twin cannot exist: its output would be empty."
    rev = report.reversal
    back = x_join([a.size - a.remainder + o for a, o in zip(rev, op)])
    if all(a.remainder == o for a, o in zip(rev, op)):
        with_op = f" with output_padding={same(op)}" if any(op) else ""
        return line + f" The transposed twin{with_op} gives back {given}."
    need = same([a.remainder for a in rev])
    first = x_join([a.colliding_first for a in rev])
    last = x_join([a.colliding_last for a in rev])
    op_words = f" with output_padding={same(op)}" if any(op) else ""
    stride = same(p.stride)
    # Every combination of the per-axis sizes collides: 2 per axis in 2-D are 4 inputs, not 2.
    count = math.prod(a.colliding_count for a in rev)
    per_axis = "" if len(rev) == 1 else f" ({same([a.colliding_count for a in rev])} per axis)"
    return (
        line + f" The transposed twin{op_words} gives {back}, not {given}: the {count} inputs{per_axis} "
        f"{first}..{last} all give {out}, and output_padding (below the stride {stride}) picks one of "
        f"them: output_padding={need} restores {given}."
    )
