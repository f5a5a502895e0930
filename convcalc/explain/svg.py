"""SVG diagrams of a transposed convolution as its equivalent direct convolution (plain text, no dependency).

In the manner of the convolution-arithmetic guide: the input with the s-1 inserted zeros and the p'
padding shaded apart, the flipped kernel at one placement, the output with the position it computes,
and labels with the sizes. Every number comes from the core's TransposedAxis / DirectAxis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from convcalc.core import DirectAxis, TransposedAxis, direct_form
from convcalc.errors import ConvCalcError

CELL = 28
GAP = 3 * CELL
MARGIN = 20
MAX_DIAGRAM_CELLS = 64
MAX_FRAMES = 1024

FILL = {"input": "#6fa8dc", "zero": "#ffffff", "pad": "#d9d9d9", "output": "#93c47d"}
STROKE = {"input": "#1f4e79", "zero": "#7f7f7f", "pad": "#9e9e9e", "output": "#38761d"}


def direct_cell_kinds(axis: DirectAxis, stride: int) -> list[str]:
    """Per axis: p' padding cells, the stretched input (inputs every s-th cell), p' padding; a negative
    p' crops the stretched input instead."""
    stretched = ["input" if q % stride == 0 else "zero" for q in range(axis.stretched)]
    kept = stretched[max(-axis.pad_before, 0) : axis.stretched - max(-axis.pad_after, 0)]
    return ["pad"] * max(axis.pad_before, 0) + kept + ["pad"] * max(axis.pad_after, 0)


@dataclass(frozen=True)
class _Layout:
    """Rows and columns of the drawing: a 1-D configuration is drawn as one row."""

    transposed: tuple[TransposedAxis, ...]
    direct: tuple[DirectAxis, ...]
    row_kinds: list[str]
    column_kinds: list[str]

    @property
    def outputs(self) -> tuple[int, int]:
        return (1 if len(self.direct) == 1 else self.direct[0].output, self.direct[-1].output)

    @property
    def extents(self) -> tuple[int, int]:
        return (1 if len(self.direct) == 1 else self.direct[0].dilated_kernel, self.direct[-1].dilated_kernel)

    @property
    def kernel(self) -> tuple[int, int]:
        return (1 if len(self.direct) == 1 else self.direct[0].kernel_size, self.direct[-1].kernel_size)

    @property
    def dilation(self) -> tuple[int, int]:
        return (1 if len(self.direct) == 1 else self.direct[0].dilation, self.direct[-1].dilation)


def _layout(axes: Sequence[TransposedAxis]) -> _Layout:
    if len(axes) not in (1, 2):
        raise ConvCalcError(
            f"diagrams are drawn for 1-D and 2-D configurations; got {len(axes)} spatial axes",
            parameter="size",
        )
    if any(a.output < 1 for a in axes):
        raise ConvCalcError(
            "the transposed convolution's output is empty (size "
            + "x".join(str(a.output) for a in axes)
            + "): there is nothing to draw",
            parameter="size",
        )
    direct = tuple(direct_form(a) for a in axes)
    kinds = [direct_cell_kinds(d, a.stride) for d, a in zip(direct, axes)]
    for n, (axis_kinds, d) in enumerate(zip(kinds, direct)):
        if max(len(axis_kinds), d.output) > MAX_DIAGRAM_CELLS:
            raise ConvCalcError(
                f"diagrams are drawn up to {MAX_DIAGRAM_CELLS} cells per axis; axis {n} has "
                f"{len(axis_kinds)} cells of zero-inserted, padded input and {d.output} outputs "
                f"(input size {d.size}, stride {axes[n].stride}): choose a smaller size",
                parameter="size",
            )
    rows = ["input"] if len(axes) == 1 else kinds[0]
    return _Layout(tuple(axes), direct, rows, kinds[-1])


def _combine(row: str, column: str) -> str:
    """A 2-D cell is padding if either axis pads, an input only where both axes hold an input."""
    if "pad" in (row, column):
        return "pad"
    return "input" if row == column == "input" else "zero"


def _rect(x: float, y: float, w: float, h: float, kind: str, **attributes: object) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    return f'<rect class="{kind}" x="{x}" y="{y}" width="{w}" height="{h}"{extra}/>'


def _text(
    x: float, y: float, content: str, size: int = 13, anchor: str = "start", **attributes: object
) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    return f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


def _dims(rows: Sequence[str], columns: Sequence[str]) -> list[int]:
    return [len(columns)] if rows == ["input"] else [len(rows), len(columns)]


def _x(values: Sequence[int]) -> str:
    return "x".join(str(v) for v in values)


def placement_count(axes: Sequence[TransposedAxis]) -> int:
    """The number of kernel placements: one per output position of the direct convolution."""
    return math.prod(direct_form(a).output for a in axes)


def direct_diagram(axes: Sequence[TransposedAxis], placement: int = 0) -> str:
    """The SVG text of the direct form with the kernel at ``placement`` (row-major output index)."""
    layout = _layout(axes)
    out_rows, out_cols = layout.outputs
    if not 0 <= placement < out_rows * out_cols:
        raise ConvCalcError(
            f"placement must be from 0 to {out_rows * out_cols - 1}; got {placement}", parameter="placement"
        )
    place_row, place_col = divmod(placement, out_cols)
    rows, columns = layout.row_kinds, layout.column_kinds
    title_height = 4 * 18
    input_x, input_y = MARGIN, MARGIN + title_height
    input_w, input_h = len(columns) * CELL, len(rows) * CELL
    output_x, output_y = input_x + input_w + GAP, input_y
    width = max(output_x + out_cols * CELL + MARGIN, 760)
    legend_y = input_y + max(input_h, out_rows * CELL) + 30
    height = legend_y + 5 * 22 + MARGIN

    t, d = layout.transposed, layout.direct
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
        f'data-cell="{CELL}" data-placement="{placement}">',
        f'<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        _text(
            MARGIN,
            MARGIN + 14,
            f"Transposed convolution {_x([a.size for a in t])} -> {_x([a.output for a in t])}: "
            f"kernel {_x([a.kernel_size for a in t])}, stride {_x([a.stride for a in t])}, "
            f"dilation {_x([a.dilation for a in t])}",
            size=15,
            font_weight="bold",
        ),
        _text(
            MARGIN,
            MARGIN + 34,
            f"= a stride-1 convolution of the zero-inserted, padded input with the flipped kernel "
            f"(placement {placement + 1} of {out_rows * out_cols})",
        ),
        _text(input_x, input_y - 8, f"input, zero-inserted and padded: {_x(_dims(rows, columns))}", 12),
        _text(output_x, input_y - 8, f"output {_x([a.output for a in t])}", 12),
        f'<g class="input-grid" transform="translate({input_x},{input_y})" '
        f'data-rows="{len(rows)}" data-columns="{len(columns)}">',
    ]
    for r, row_kind in enumerate(rows):
        for c, column_kind in enumerate(columns):
            kind = _combine(row_kind, column_kind)
            parts.append(
                _rect(
                    c * CELL,
                    r * CELL,
                    CELL,
                    CELL,
                    kind,
                    fill=FILL[kind],
                    stroke=STROKE[kind],
                    stroke_dasharray="3,2" if kind == "zero" else "none",
                    data_row=r,
                    data_column=c,
                )
            )
            if kind == "zero":
                parts.append(
                    _text(c * CELL + CELL / 2, r * CELL + CELL / 2 + 2, "0", 10, "middle", fill="#7f7f7f")
                )
    # The kernel at this placement: its window of extent K and its taps, labelled with the weight each
    # tap multiplies (the kernel is flipped: window offset t reads weight k-1-t).
    k_rows, k_cols = layout.kernel
    d_rows, d_cols = layout.dilation
    e_rows, e_cols = layout.extents
    parts.append(
        _rect(
            place_col * CELL,
            place_row * CELL,
            e_cols * CELL,
            e_rows * CELL,
            "kernel-window",
            fill="none",
            stroke="#b45f06",
            stroke_width="3",
        )
    )
    for tr in range(k_rows):
        for tc in range(k_cols):
            x, y = (place_col + tc * d_cols) * CELL, (place_row + tr * d_rows) * CELL
            parts.append(
                _rect(
                    x + 3,
                    y + 3,
                    CELL - 6,
                    CELL - 6,
                    "kernel-tap",
                    fill="none",
                    stroke="#e69138",
                    stroke_width="2",
                )
            )
            label = f"w{k_cols - 1 - tc}" if len(axes) == 1 else f"w{k_rows - 1 - tr},{k_cols - 1 - tc}"
            parts.append(_text(x + CELL / 2, y + CELL - 4, label, 8, "middle", fill="#783f04"))
    parts.append("</g>")

    parts.append(
        f'<g class="output-grid" transform="translate({output_x},{output_y})" '
        f'data-rows="{out_rows}" data-columns="{out_cols}">'
    )
    for r in range(out_rows):
        for c in range(out_cols):
            current = (r, c) == (place_row, place_col)
            parts.append(
                _rect(
                    c * CELL,
                    r * CELL,
                    CELL,
                    CELL,
                    "output-current" if current else "output",
                    fill="#38761d" if current else FILL["output"],
                    stroke=STROKE["output"],
                    data_row=r,
                    data_column=c,
                )
            )
    parts.append("</g>")
    arrow_y = input_y + min(input_h, out_rows * CELL) / 2
    parts.append(
        f'<path class="arrow" d="M {input_x + input_w + 12} {arrow_y} L {output_x - 12} {arrow_y}" '
        f'stroke="#444444" stroke-width="2" fill="none"/>'
        f'<path d="M {output_x - 12} {arrow_y} l -8 -5 l 0 10 z" fill="#444444"/>'
    )

    zeros = _x([a.zeros_inserted for a in d])
    legend = [
        ("input", f"input {_x([a.size for a in d])}, stretched to {_x([a.stretched for a in d])}"),
        ("zero", f"{zeros} zero(s) inserted between neighbouring inputs (s-1)"),
        (
            "pad",
            "padding p' = K-1-crop: before "
            + _x([a.pad_before for a in d])
            + ", after "
            + _x([a.pad_after for a in d])
            + (" (negative: cropped)" if any(min(a.pad_before, a.pad_after) < 0 for a in d) else ""),
        ),
        (
            "kernel-window",
            f"kernel {_x([a.kernel_size for a in d])} flipped (w labels), extent K = "
            f"{_x([a.dilated_kernel for a in d])}, stride 1",
        ),
        ("output", f"output {_x([a.output for a in d])} = padded input - K + 1"),
    ]
    for n, (kind, label) in enumerate(legend):
        y = legend_y + n * 22
        fill = "#f6b26b" if kind == "kernel-window" else FILL[kind]
        stroke = "#b45f06" if kind == "kernel-window" else STROKE[kind]
        parts.append(
            _rect(MARGIN, y, 16, 16, f"legend-{kind}", fill=fill, stroke=stroke)
            + _text(MARGIN + 24, y + 13, label, 12, data_legend=kind)
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def diagram_frames(axes: Sequence[TransposedAxis]) -> list[str]:
    """One SVG per kernel placement, in row-major order of the output positions."""
    count = placement_count(axes)
    _layout(axes)
    if count > MAX_FRAMES:
        raise ConvCalcError(
            f"--frames writes one file per kernel placement, up to {MAX_FRAMES}; this configuration has "
            f"{count} placements",
            parameter="frames",
        )
    return [direct_diagram(axes, n) for n in range(count)]


def write_diagrams(axes: Sequence[TransposedAxis], path: Path, frames: bool, placement: int) -> list[Path]:
    """Write the diagram (or with ``frames`` one file per placement, PATH-000.svg ...); returns the paths.

    Everything is drawn before anything is written, so a refusal leaves no partial set of files.
    """
    if frames:
        texts = diagram_frames(axes)
        width = max(len(str(len(texts) - 1)), 3)
        paths = [
            path.with_name(f"{path.stem}-{n:0{width}d}{path.suffix or '.svg'}") for n in range(len(texts))
        ]
    else:
        texts, paths = [direct_diagram(axes, placement)], [path]
    for target, text in zip(paths, texts):
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ConvCalcError(
                f"svg: cannot write {str(target)!r}: {error.strerror or error}", parameter="svg"
            ) from None
    return paths
