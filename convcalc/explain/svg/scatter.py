"""The scatter view of a transposed convolution (the picture of Dive into Deep Learning, 14.10).

Each input element multiplies the whole kernel and adds it into the full output at u*s (taps spread
by the dilation); the full output (i-1)*s + K is the sum of these scaled kernels, and the output is
the full output cropped by crop_before and crop_after (a negative crop appends zeros). Values are
x = 1, 2, 3, ... and w = 1, 2, 3, ..., row-major, as in the rest of `explain`; the arithmetic is
Python integers here, and the tests compare it with the engine's conv_transpose.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

from convcalc.core import TransposedAxis
from convcalc.errors import ConvCalcError
from convcalc.explain.svg.canvas import Canvas, text_width, x_join

MARGIN = 20
LINE = 22
VALUE_SIZE = 12
MAX_SCATTER_INPUTS = 16
MAX_SCATTER_SIDE = 16
MAX_ROW_WIDTH = 1100
# One light colour per input element (cycled), shared by the input cell and its scaled kernel.
COLOURS = ("#9fc5e8", "#f9cb9c", "#b6d7a8", "#ea9999", "#b4a7d6", "#ffe599", "#a2c4c9", "#d5a6bd")
EMPTY = "#f3f3f3"
CROPPED = "#bdbdbd"
APPENDED = "#fff2cc"


@dataclass(frozen=True)
class Scatter:
    """Per input element (row-major) its scaled kernel placed in the full output; their sum; the output."""

    full_shape: tuple[int, ...]
    x: dict[tuple[int, ...], int]
    w: dict[tuple[int, ...], int]
    pieces: tuple[dict[tuple[int, ...], int], ...]
    full: dict[tuple[int, ...], int]
    output_shape: tuple[int, ...]
    output: dict[tuple[int, ...], int]


def _counting(shape: Sequence[int]) -> dict[tuple[int, ...], int]:
    return {p: n + 1 for n, p in enumerate(product(*(range(v) for v in shape)))}


def scatter(axes: Sequence[TransposedAxis]) -> Scatter:
    """piece_u[u*s + t*d] = x[u] * w[t]; full = sum of the pieces; output[j] = full[j + crop_before]."""
    x = _counting([a.size for a in axes])
    w = _counting([a.kernel_size for a in axes])
    full_shape = tuple(a.full for a in axes)
    pieces = []
    full = dict.fromkeys(product(*(range(n) for n in full_shape)), 0)
    for u, xu in x.items():
        piece = {}
        for t, wt in w.items():
            at = tuple(q * a.stride + tap * a.dilation for q, tap, a in zip(u, t, axes))
            piece[at] = xu * wt
            full[at] += xu * wt
        pieces.append(piece)
    output_shape = tuple(a.output for a in axes)
    output = {
        j: full.get(tuple(q + a.crop_before for q, a in zip(j, axes)), 0)
        for j in product(*(range(n) for n in output_shape))
    }
    return Scatter(full_shape, x, w, tuple(pieces), full, output_shape, output)


def _check(axes: Sequence[TransposedAxis]) -> None:
    if len(axes) not in (1, 2):
        raise ConvCalcError(
            f"the scatter view is drawn for 1-D and 2-D configurations; got {len(axes)} spatial axes",
            parameter="size",
        )
    inputs = math.prod(a.size for a in axes)
    sides = [max(a.full, a.full - a.crop_after) - min(a.crop_before, 0) for a in axes]
    if inputs > MAX_SCATTER_INPUTS or max(sides) > MAX_SCATTER_SIDE or any(a.output < 1 for a in axes):
        raise ConvCalcError(
            f"the scatter view draws one grid per input element, up to {MAX_SCATTER_INPUTS} inputs and "
            f"{MAX_SCATTER_SIDE} cells of full output a side, with a non-empty output; got input "
            f"{x_join([a.size for a in axes])}, full output {x_join(sides)}, output "
            f"{x_join([a.output for a in axes])}: choose a smaller size",
            parameter="size",
        )


def _crop_words(crops: Sequence[int]) -> str:
    """'crop 1x1', 'append 1x1 zeros' (a negative crop), or per axis when the axes differ."""
    if all(c >= 0 for c in crops):
        return f"crop {x_join([*crops])}"
    if all(c <= 0 for c in crops):
        return f"append {x_join([-c for c in crops])} zeros"
    return ", ".join(f"axis {n} " + (f"crop {c}" if c >= 0 else f"append {-c}") for n, c in enumerate(crops))


def _shape2(shape: Sequence[int]) -> tuple[int, int]:
    return (1 if len(shape) == 1 else shape[0], shape[-1])


def _position(p: Sequence[int]) -> str:
    return ",".join(str(v) for v in p)


class _Grids:
    """Draws value grids of one cell size onto a canvas."""

    def __init__(self, canvas: Canvas, cell: float) -> None:
        self.canvas, self.cell = canvas, cell

    def grid(
        self,
        name: str,
        x0: float,
        y0: float,
        shape: Sequence[int],
        cells: dict[tuple[int, ...], tuple[str, int | None]],
        offset: Sequence[int] = (0, 0),
    ) -> None:
        """``cells`` maps a position to its fill and its value (None: left blank); rows, columns from 0
        at ``offset`` cells from (x0, y0)."""
        rows, columns = _shape2(shape)
        c = self.cell
        self.canvas.raw(f'<g class="{name}" data-rows="{rows}" data-columns="{columns}">')
        for position, (fill, value) in cells.items():
            r, col = (0, position[0]) if len(position) == 1 else position
            x, y = x0 + (col + offset[1]) * c, y0 + (r + offset[0]) * c
            self.canvas.rect(
                x, y, c, c, "cell", fill=fill, stroke="#666666", data_position=_position(position)
            )
            if value is not None:
                self.canvas.text(
                    x + c / 2,
                    y + c / 2 + 4,
                    str(value),
                    VALUE_SIZE,
                    "middle",
                    data_grid=name,
                    data_position=_position(position),
                    data_value=value,
                )
        self.canvas.raw("</g>")

    def size(self, shape: Sequence[int]) -> tuple[float, float]:
        rows, columns = _shape2(shape)
        return columns * self.cell, rows * self.cell


def scatter_diagram(axes: Sequence[TransposedAxis]) -> str:
    """The SVG: input and kernel, one scaled kernel per input element, their sum, the cropped output."""
    _check(axes)
    view = scatter(axes)
    widest = max(text_width(str(v), VALUE_SIZE) for v in [*view.full.values(), *view.x.values()])
    cell = max(30.0, math.ceil(widest + 10))
    canvas = Canvas()
    grids = _Grids(canvas, cell)
    colour = {u: COLOURS[n % len(COLOURS)] for n, u in enumerate(view.x)}
    canvas.text(
        MARGIN,
        MARGIN + 15,
        f"Transposed convolution {x_join([a.size for a in axes])} -> {x_join([a.output for a in axes])} "
        f"as a scatter: kernel {x_join([a.kernel_size for a in axes])}, stride "
        f"{x_join([a.stride for a in axes])}, dilation {x_join([a.dilation for a in axes])}",
        15,
        bold=True,
    )
    canvas.text(
        MARGIN,
        MARGIN + 15 + LINE,
        "each input element x[u] multiplies the kernel w and adds it into the full output from u*stride "
        "on; here x = 1, 2, 3, ... and w = 1, 2, 3, ...",
    )
    y: float = MARGIN + 15 + 2 * LINE + 12
    canvas.text(MARGIN, y, f"input x {x_join([a.size for a in axes])}", 12)
    input_w, input_h = grids.size([a.size for a in axes])
    kernel_x = MARGIN + max(input_w, text_width(f"input x {x_join([a.size for a in axes])}", 12)) + 40
    canvas.text(kernel_x, y, f"kernel w {x_join([a.kernel_size for a in axes])}", 12)
    grids.grid("input", MARGIN, y + 8, [a.size for a in axes], {u: (colour[u], v) for u, v in view.x.items()})
    grids.grid(
        "kernel",
        kernel_x,
        y + 8,
        [a.kernel_size for a in axes],
        {t: ("#ffffff", v) for t, v in view.w.items()},
    )
    _, kernel_h = grids.size([a.kernel_size for a in axes])
    y += 8 + max(input_h, kernel_h) + 36

    piece_w, piece_h = grids.size(view.full_shape)
    labels = [
        f"x[{_position(u)}] = {xu}: {xu} * w at ({_position([q * a.stride for q, a in zip(u, axes)])})"
        for u, xu in view.x.items()
    ]
    slot = max(piece_w, *(text_width(label, 11) for label in labels)) + 36
    per_row = max(1, int((MAX_ROW_WIDTH - MARGIN) // slot))
    blank = dict.fromkeys(view.full, (EMPTY, None))
    for n, (u, piece, label) in enumerate(zip(view.x, view.pieces, labels)):
        row, column = divmod(n, per_row)
        x0, y0 = MARGIN + column * slot, y + row * (piece_h + 40)
        canvas.text(x0, y0, label, 11)
        cells = {**blank, **{p: (colour[u], v) for p, v in piece.items()}}
        grids.grid(f"piece-{n}", x0, y0 + 8, view.full_shape, cells)
        if n + 1 < len(view.pieces):
            # After every piece but the last, also at the end of a row that wraps: the sum goes on.
            canvas.text(x0 + piece_w + 18, y0 + 8 + piece_h / 2 + 6, "+", 18, "middle")
    y += -(-len(view.pieces) // per_row) * (piece_h + 40) + 10

    # The full output, widened by any appended zeros (negative crops), cropped cells grey; the output.
    low = [min(a.crop_before, 0) for a in axes]
    high = [max(a.full, a.full - a.crop_after) for a in axes]
    span = [h - lo for h, lo in zip(high, low)]
    sum_cells: dict[tuple[int, ...], tuple[str, int | None]] = {}
    for p in product(*(range(lo, h) for lo, h in zip(low, high))):
        inside_full = all(0 <= q < a.full for q, a in zip(p, axes))
        kept = all(a.crop_before <= q < a.full - a.crop_after for q, a in zip(p, axes))
        fill = ("#ffffff" if inside_full else APPENDED) if kept else CROPPED
        sum_cells[p] = (fill, view.full[p] if inside_full else 0)
    appended = any(min(a.crop_before, a.crop_after) < 0 for a in axes)
    canvas.text(
        MARGIN,
        y,
        f"before: {_crop_words([a.crop_before for a in axes])}; after: "
        f"{_crop_words([a.crop_after for a in axes])} (grey: cropped"
        + ("; yellow: zeros appended past the full output, a negative crop)" if appended else ")"),
        12,
    )
    y += LINE
    full_label = canvas.text(
        MARGIN, y, f"= full output {x_join([*view.full_shape])}, the sum: (i-1)*s + K", 12
    )
    offset = (0, -low[0]) if len(axes) == 1 else (-low[0], -low[1])
    grids.grid("full", MARGIN, y + 8, span, sum_cells, offset)
    span_w, span_h = grids.size(span)
    kept_x = MARGIN + (axes[-1].crop_before - low[-1]) * cell
    kept_y = y + 8 + (0 if len(axes) == 1 else (axes[0].crop_before - low[0]) * cell)
    out_w, out_h = grids.size(view.output_shape)
    canvas.raw(
        f'<rect class="kept" x="{kept_x}" y="{kept_y}" width="{out_w}" height="{out_h}" fill="none" '
        'stroke="#38761d" stroke-width="3"/>'
    )
    output_x = max(MARGIN + span_w, full_label.x1) + 60
    arrow_y = y + 8 + min(span_h, out_h) / 2
    canvas.raw(
        f'<path class="arrow" d="M {MARGIN + span_w + 12} {arrow_y} L {output_x - 12} {arrow_y}" '
        f'stroke="#444444" stroke-width="2" fill="none"/>'
        f'<path d="M {output_x - 12} {arrow_y} l -8 -5 l 0 10 z" fill="#444444"/>'
    )
    canvas.text(output_x, y, f"output {x_join([*view.output_shape])} (the framed cells)", 12)
    grids.grid(
        "output", output_x, y + 8, view.output_shape, {j: ("#d9ead3", v) for j, v in view.output.items()}
    )
    return canvas.svg(MARGIN, data_cell=cell)
