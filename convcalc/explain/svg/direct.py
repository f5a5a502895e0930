"""The transposed convolution as its equivalent direct convolution, the kernel at one placement.

In the manner of the convolution-arithmetic guide: the input with the s-1 inserted zeros and the p'
padding shaded apart, the flipped kernel at one placement (animated.py sweeps it over every
placement), the output with the position it computes, and the sizes. Every number comes from
the core's TransposedAxis / DirectAxis. Placements are numbered from 0, row by row, everywhere:
``--placement N`` draws placement N and the figure says "placement N".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from convcalc.core import DirectAxis, TransposedAxis, direct_form
from convcalc.errors import ConvCalcError
from convcalc.explain.svg.canvas import Canvas, text_width, x_join

MARGIN = 20
GAP = 72
LINE = 22
# Beyond this the figure is refused before anything is drawn: the grids would not fit a page.
MAX_DIAGRAM_CELLS = 40

FILL = {"input": "#6fa8dc", "zero": "#ffffff", "pad": "#d9d9d9", "output": "#93c47d"}
STROKE = {"input": "#1f4e79", "zero": "#7f7f7f", "pad": "#9e9e9e", "output": "#38761d"}
KERNEL = "#b45f06"
TAP = "#e69138"
CURRENT = "#38761d"
CROP = "#cc0000"
ZERO_SIZE = 10
TAP_SIZE = 9


def direct_cell_kinds(axis: DirectAxis, stride: int) -> list[str]:
    """Per axis: p' padding cells, the stretched input (inputs every s-th cell), p' padding; a negative
    p' crops the stretched input instead."""
    stretched = ["input" if q % stride == 0 else "zero" for q in range(axis.stretched)]
    kept = stretched[max(-axis.pad_before, 0) : axis.stretched - max(-axis.pad_after, 0)]
    return ["pad"] * max(axis.pad_before, 0) + kept + ["pad"] * max(axis.pad_after, 0)


def _combine(row: str, column: str) -> str:
    """A 2-D cell is padding if either axis pads, an input only where both axes hold an input."""
    if "pad" in (row, column):
        return "pad"
    return "input" if row == column == "input" else "zero"


def _pair(values: Sequence[int]) -> tuple[int, int]:
    """A per-axis value as (rows, columns): a 1-D configuration is drawn as one row."""
    return (1 if len(values) == 1 else values[0], values[-1])


def _side(values: Sequence[int]) -> str:
    """p' on one side in words: 'pads 2x2', 'crops 1x1' (p' < 0), or per axis when the axes differ."""
    if all(v >= 0 for v in values):
        return f"pads {x_join([*values])}"
    if all(v <= 0 for v in values):
        return f"crops {x_join([-v for v in values])}"
    return ", ".join(f"axis {n} {'pads' if v >= 0 else 'crops'} {abs(v)}" for n, v in enumerate(values))


def padding_words(direct: Sequence[DirectAxis]) -> str:
    """The legend's words for p' = K-1-crop on each side; a negative p' is said as a crop."""
    text = (
        f"padding p' = K-1-crop: before {_side([a.pad_before for a in direct])}, "
        f"after {_side([a.pad_after for a in direct])}"
    )
    if any(min(a.pad_before, a.pad_after) < 0 for a in direct):
        text += " (p' < 0 removes cells of the stretched input; red edge)"
    return text


def placement_count(axes: Sequence[TransposedAxis]) -> int:
    """The number of kernel placements: one per output position of the direct convolution."""
    return math.prod(direct_form(a).output for a in axes)


@dataclass(frozen=True)
class DiagramLayout:
    """The axes, the kind of each cell along the rows and the columns (input, zero, pad), the cell size."""

    transposed: tuple[TransposedAxis, ...]
    direct: tuple[DirectAxis, ...]
    rows: list[str]
    columns: list[str]
    cell: float

    @property
    def outputs(self) -> tuple[int, int]:
        return _pair([a.output for a in self.direct])

    @property
    def placements(self) -> int:
        rows, columns = self.outputs
        return rows * columns

    def tap_label(self, tr: int, tc: int) -> str:
        """The weight a window offset multiplies: the kernel is flipped, offset t reads weight k-1-t."""
        k_rows, k_cols = _pair([a.kernel_size for a in self.direct])
        if len(self.direct) == 1:
            return f"w{k_cols - 1 - tc}"
        return f"w{k_rows - 1 - tr},{k_cols - 1 - tc}"


def diagram_layout(axes: Sequence[TransposedAxis]) -> DiagramLayout:
    """The layout of the direct form, refused (from the arithmetic alone) when it cannot or should not be
    drawn: more than two axes, an empty output, more than MAX_DIAGRAM_CELLS cells on an axis."""
    if len(axes) not in (1, 2):
        raise ConvCalcError(
            f"diagrams are drawn for 1-D and 2-D configurations; got {len(axes)} spatial axes",
            parameter="size",
        )
    if any(a.output < 1 for a in axes):
        raise ConvCalcError(
            "the transposed convolution's output is empty (size "
            + x_join([a.output for a in axes])
            + "): there is nothing to draw",
            parameter="size",
        )
    direct = tuple(direct_form(a) for a in axes)
    for n, d in enumerate(direct):
        # The padded input has stretched + p' + p' cells (a negative p' removes cells): checked from the
        # arithmetic, before any list of cells is built.
        padded = d.stretched + d.pad_before + d.pad_after
        if max(padded, d.output) > MAX_DIAGRAM_CELLS:
            raise ConvCalcError(
                f"diagrams are drawn up to {MAX_DIAGRAM_CELLS} cells per axis; axis {n} has "
                f"{padded} cells of zero-inserted, padded input and {d.output} outputs "
                f"(input size {d.size}, stride {axes[n].stride}): choose a smaller size",
                parameter="size",
            )
    kinds = [direct_cell_kinds(d, a.stride) for d, a in zip(direct, axes)]
    k_rows, k_cols = _pair([a.kernel_size for a in direct])
    widest = text_width(f"w{k_rows - 1},{k_cols - 1}", TAP_SIZE)
    cell = max(34.0, math.ceil(widest + 8))
    return DiagramLayout(tuple(axes), direct, ["input"] if len(axes) == 1 else kinds[0], kinds[-1], cell)


@dataclass(frozen=True)
class Origins:
    input_x: float
    output_x: float
    grid_y: float
    below: float


def draw_frame(canvas: Canvas, layout: DiagramLayout, third_line: str) -> Origins:
    """Title lines, the input grid with its zeros and padding, the output grid, the arrow."""
    t, cell = layout.transposed, layout.cell
    canvas.text(
        MARGIN,
        MARGIN + 15,
        f"Transposed convolution {x_join([a.size for a in t])} -> {x_join([a.output for a in t])}: "
        f"kernel {x_join([a.kernel_size for a in t])}, stride {x_join([a.stride for a in t])}, "
        f"dilation {x_join([a.dilation for a in t])}",
        size=15,
        bold=True,
    )
    canvas.text(
        MARGIN,
        MARGIN + 15 + LINE,
        "= a stride-1 convolution of the zero-inserted, padded input with the flipped kernel",
    )
    canvas.text(MARGIN, MARGIN + 15 + 2 * LINE, third_line)
    rows, columns = layout.rows, layout.columns
    label_y = MARGIN + 15 + 3 * LINE + 8
    grid_y = label_y + 10
    input_x = MARGIN
    dims = [len(columns)] if len(t) == 1 else [len(rows), len(columns)]
    sides = [p for d in layout.direct for p in (d.pad_before, d.pad_after)]
    done = "padded" if min(sides) >= 0 else "cropped" if max(sides) <= 0 else "padded and cropped"
    input_label = canvas.text(input_x, label_y, f"input, zero-inserted and {done}: {x_join(dims)}", 12)
    output_x = input_x + max(len(columns) * cell, input_label.x1 - input_x) + GAP
    canvas.text(output_x, label_y, f"output {x_join([a.output for a in t])}", 12)

    with canvas.group(input_x, grid_y, class_="input-grid", data_rows=len(rows), data_columns=len(columns)):
        for r, row_kind in enumerate(rows):
            for c, column_kind in enumerate(columns):
                kind = _combine(row_kind, column_kind)
                dashed = {"stroke_dasharray": "3,2"} if kind == "zero" else {}
                canvas.rect(
                    c * cell,
                    r * cell,
                    cell,
                    cell,
                    kind,
                    fill=FILL[kind],
                    stroke=STROKE[kind],
                    data_row=r,
                    data_column=c,
                    **dashed,
                )
    # The zeros' digits sit in the upper half of their cells, the kernel's labels in the lower half.
    for r, row_kind in enumerate(rows):
        for c, column_kind in enumerate(columns):
            if _combine(row_kind, column_kind) == "zero":
                canvas.text(
                    input_x + c * cell + cell / 2,
                    grid_y + r * cell + 13,
                    "0",
                    ZERO_SIZE,
                    "middle",
                    fill="#7f7f7f",
                    class_="zero-digit",
                )
    height = len(rows) * cell
    for n, d in enumerate(layout.direct):
        # A negative p' removed cells of the stretched input: a red edge on that side.
        horizontal = len(layout.direct) == 2 and n == 0
        for side, value in (("before", d.pad_before), ("after", d.pad_after)):
            if value >= 0:
                continue
            if horizontal:
                y = grid_y + (0 if side == "before" else height)
                path = f"M {input_x} {y} h {len(columns) * cell}"
            else:
                x = input_x + (0 if side == "before" else len(columns) * cell)
                path = f"M {x} {grid_y} v {height}"
            canvas.raw(
                f'<path class="crop-edge" data-side="{side}" data-axis="{n}" d="{path}" '
                f'stroke="{CROP}" stroke-width="4" fill="none"/>'
            )
    out_rows, out_cols = layout.outputs
    with canvas.group(output_x, grid_y, class_="output-grid", data_rows=out_rows, data_columns=out_cols):
        for r in range(out_rows):
            for c in range(out_cols):
                canvas.rect(
                    c * cell,
                    r * cell,
                    cell,
                    cell,
                    "output",
                    fill=FILL["output"],
                    stroke=STROKE["output"],
                    data_row=r,
                    data_column=c,
                )
    arrow_y = grid_y + min(height, out_rows * cell) / 2
    start = input_x + len(columns) * cell + 12
    canvas.raw(
        f'<path class="arrow" d="M {start} {arrow_y} L {output_x - 12} {arrow_y}" '
        f'stroke="#444444" stroke-width="2" fill="none"/>'
        f'<path d="M {output_x - 12} {arrow_y} l -8 -5 l 0 10 z" fill="#444444"/>'
    )
    return Origins(input_x, output_x, grid_y, grid_y + max(height, out_rows * cell))


def kernel_markup(layout: DiagramLayout, x0: float, y0: float) -> str:
    """The kernel's window and taps with their weight labels, for the placement at (x0, y0)."""
    cell = layout.cell
    k_rows, k_cols = _pair([a.kernel_size for a in layout.direct])
    d_rows, d_cols = _pair([a.dilation for a in layout.direct])
    e_rows, e_cols = _pair([a.dilated_kernel for a in layout.direct])
    parts = [
        f'<rect class="kernel-window" x="{x0}" y="{y0}" width="{e_cols * cell}" height="{e_rows * cell}" '
        f'fill="none" stroke="{KERNEL}" stroke-width="3"/>'
    ]
    for tr in range(k_rows):
        for tc in range(k_cols):
            x, y = x0 + tc * d_cols * cell, y0 + tr * d_rows * cell
            parts.append(
                f'<rect class="kernel-tap" x="{x + 3}" y="{y + 3}" width="{cell - 6}" height="{cell - 6}" '
                f'fill="{TAP}" fill-opacity="0.25" stroke="{TAP}" stroke-width="2"/>'
                f'<text class="tap-label" x="{x + cell / 2}" y="{y + cell - 5}" font-size="{TAP_SIZE}" '
                f'text-anchor="middle" fill="#783f04">{layout.tap_label(tr, tc)}</text>'
            )
    return "".join(parts)


def draw_legend(canvas: Canvas, layout: DiagramLayout, top: float) -> None:
    d = layout.direct
    legend = [
        ("input", f"input {x_join([a.size for a in d])}, stretched to {x_join([a.stretched for a in d])}"),
        (
            "zero",
            f"{x_join([a.zeros_inserted for a in d])} zero(s) inserted between neighbouring inputs (s-1)",
        ),
        ("pad", padding_words(d)),
        (
            "kernel-window",
            f"kernel {x_join([a.kernel_size for a in d])} flipped (w labels), extent K = "
            f"{x_join([a.dilated_kernel for a in d])}, stride 1",
        ),
        ("output", f"output {x_join([a.output for a in d])} = padded input - K + 1"),
    ]
    padded = any(max(a.pad_before, a.pad_after) > 0 for a in d)
    cropped = any(min(a.pad_before, a.pad_after) < 0 for a in d)
    for n, (kind, label) in enumerate(legend):
        y = top + n * LINE
        fill = "#f6b26b" if kind == "kernel-window" else FILL[kind]
        stroke = KERNEL if kind == "kernel-window" else STROKE[kind]
        swatch = kind
        if kind == "pad" and not padded:
            # No cell is padding: the swatch shows what is drawn (the red crop edge), or nothing.
            swatch, fill, stroke = ("crop-edge", "none", CROP) if cropped else ("", "", "")
        if swatch:
            canvas.rect(MARGIN, y, 16, 16, f"legend-{swatch}", fill=fill, stroke=stroke)
        canvas.text(MARGIN + 24, y + 13, label, 12, data_legend=kind)


def direct_diagram(axes: Sequence[TransposedAxis], placement: int = 0) -> str:
    """The SVG text of the direct form with the kernel at ``placement`` (row-major output index from 0)."""
    layout = diagram_layout(axes)
    out_cols = layout.outputs[1]
    last = layout.placements - 1
    if not 0 <= placement <= last:
        raise ConvCalcError(f"placement must be from 0 to {last}; got {placement}", parameter="placement")
    place_row, place_col = divmod(placement, out_cols)
    where = f"({place_col})" if len(axes) == 1 else f"({place_row}, {place_col})"
    canvas = Canvas()
    origins = draw_frame(
        canvas,
        layout,
        f"placement {placement} (of 0..{last}, row by row): the kernel computes output position {where}",
    )
    cell = layout.cell
    canvas.raw(f'<g class="kernel" transform="translate({origins.input_x},{origins.grid_y})">')
    canvas.raw(kernel_markup(layout, place_col * cell, place_row * cell))
    canvas.raw("</g>")
    canvas.rect(
        origins.output_x + place_col * cell,
        origins.grid_y + place_row * cell,
        cell,
        cell,
        "output-current",
        fill=CURRENT,
        stroke=STROKE["output"],
        data_row=place_row,
        data_column=place_col,
    )
    draw_legend(canvas, layout, origins.below + 30)
    return canvas.svg(MARGIN, data_cell=cell, data_placement=placement, data_placements=layout.placements)
