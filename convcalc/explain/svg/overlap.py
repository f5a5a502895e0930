"""The overlap (checkerboard) figure: the number of (input, kernel tap) pairs on each output position.

The counts come from convcalc.overlap (per axis; a 2-D map is the outer product), drawn as a grid
shaded by the palette shared with the terminal heat map, each cell printing its count, the interior
(where the count repeats with the period of the strides) framed, and a key of the colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product

from convcalc.core import TransposedAxis
from convcalc.errors import ConvCalcError, option
from convcalc.explain.svg.canvas import Canvas, text_width, x_join
from convcalc.explain.svg.palette import colour_key, count_colours, ink
from convcalc.overlap import OverlapMap, overlap_map, repeat_layer

MARGIN = 20
LINE = 22
MAX_OVERLAP_SIDE = 40
INDEX_SIZE = 9
COUNT_SIZE = 11


def overlap_counts(axes: Sequence[TransposedAxis], layers: int = 1) -> OverlapMap:
    """The stack's overlap map, refused before it is computed when the figure would be too large."""
    if len(axes) not in (1, 2):
        raise ConvCalcError(
            f"the overlap figure is drawn for 1-D and 2-D configurations; got {len(axes)} spatial axes",
            parameter="size",
        )
    stack = repeat_layer(axes, layers)
    outputs = [a.output for a in stack[-1]]
    if max(outputs) > MAX_OVERLAP_SIDE or min(outputs) < 1:
        raise ConvCalcError(
            f"the overlap figure is drawn up to {MAX_OVERLAP_SIDE} output positions a side, with a non-empty "
            f"output; this stack gives {x_join(outputs)}: choose a smaller size or fewer "
            f"{option('layers')}",
            parameter="size",
        )
    return overlap_map(stack)


def overlap_diagram(axes: Sequence[TransposedAxis], layers: int = 1) -> str:
    """The SVG of the counts as a shaded grid, with the verdict and the colour key."""
    result = overlap_counts(axes, layers)
    last = result.axes[-1].counts
    first = (1,) if result.ndim == 1 else result.axes[0].counts
    counts = [[a * b for b in last] for a in first]
    colours = count_colours(v for row in counts for v in row)
    widest = max(text_width(str(v), COUNT_SIZE) for row in counts for v in row)
    cell = max(30.0, math.ceil(widest + 10))

    canvas = Canvas()
    stack = "" if layers == 1 else f", {layers} layers stacked"
    canvas.text(
        MARGIN,
        MARGIN + 15,
        f"Overlap counts of the transposed convolution {x_join([a.size for a in axes])} -> "
        f"{x_join([*result.shape])}: kernel {x_join([a.kernel_size for a in axes])}, stride "
        f"{x_join([a.stride for a in axes])}, dilation {x_join([a.dilation for a in axes])}{stack}",
        15,
        bold=True,
    )
    canvas.text(
        MARGIN, MARGIN + 15 + LINE, "each cell: the number of (input, kernel tap) pairs landing on it"
    )
    # Away from the borders a count is a product of one pattern value per axis.
    cycle = sorted({math.prod(values) for values in product(*(a.pattern for a in result.axes))})
    if result.uniform:
        verdict = (
            f"uniform: away from the borders every position receives {cycle[0]} pair(s); "
            f"min {result.minimum}, max {result.maximum}"
        )
    else:
        verdict = (
            f"checkerboard: away from the borders the counts cycle through {', '.join(map(str, cycle))} "
            f"with period {x_join([*result.period])}; min {result.minimum}, max {result.maximum}"
        )
    canvas.text(MARGIN, MARGIN + 15 + 2 * LINE, verdict, bold=True)
    top = MARGIN + 15 + 3 * LINE + 8
    rows, columns = len(counts), len(counts[0])
    left = MARGIN + (0 if result.ndim == 1 else text_width(str(rows - 1), INDEX_SIZE) + 8)
    for c in range(columns):
        canvas.text(left + c * cell + cell / 2, top, str(c), INDEX_SIZE, "middle", fill="#666666")
    grid_y = top + 6
    canvas.raw(
        f'<g class="overlap-grid" data-rows="{rows}" data-columns="{columns}" shape-rendering="crispEdges">'
    )
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            x, y = left + c * cell, grid_y + r * cell
            # Crisp edges and no stroke: neighbours of one colour join into one block.
            canvas.rect(x, y, cell, cell, "count", fill=colours[value])
            canvas.text(
                x + cell / 2,
                y + cell / 2 + 4,
                str(value),
                COUNT_SIZE,
                "middle",
                fill=ink(colours[value]),
                data_row=r,
                data_column=c,
                data_count=value,
            )
    canvas.raw("</g>")
    if result.ndim == 2:
        for r in range(rows):
            canvas.text(left - 4, grid_y + r * cell + cell / 2 + 3, str(r), INDEX_SIZE, "end", fill="#666666")
    interior = [(a.interior_first, a.interior_last) for a in result.axes]
    if all(lo <= hi for lo, hi in interior):
        (r0, r1), (c0, c1) = ((0, 0), interior[0]) if result.ndim == 1 else interior
        canvas.raw(
            f'<rect class="interior" x="{left + c0 * cell}" y="{grid_y + r0 * cell}" '
            f'width="{(c1 - c0 + 1) * cell}" height="{(r1 - r0 + 1) * cell}" fill="none" stroke="#1f4e79" '
            'stroke-width="2" stroke-dasharray="6,3"/>'
        )
    y = grid_y + rows * cell + 30
    canvas.text(MARGIN, y, "key:", 12)
    x = MARGIN + text_width("key:", 12) + 12
    used = {v for row in counts for v in row}
    for label, colour in colour_key({v: c for v, c in colours.items() if v in used}):
        canvas.rect(x, y - 13, 18, 18, "key", fill=colour, stroke="#666666", data_counts=label)
        box = canvas.text(x + 24, y, label + (" (no pair)" if label == "0" else ""), 12)
        x = box.x1 + 14
    canvas.text(
        MARGIN,
        y + LINE + 4,
        "dashed frame: the interior, where no border reaches and the counts repeat with the period",
        12,
    )
    return canvas.svg(MARGIN, data_layers=layers)
