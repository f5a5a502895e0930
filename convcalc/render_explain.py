"""Rich renderables for `convcalc explain`: the overlap heat map, contributions, matrices, steps.

Readable without colour: every cell prints its number and every verdict its word; the shading only
repeats what the numbers say (darker = more pairs, as in the lecture notes' figure).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcalc.overlap import OverlapMap, Suggestion
from convcalc.render import x_join, yes_no

# The heat map shows at most this many rows and columns; the JSON has every cell.
HEAT_MAP_SIDE = 40
HEAT_MAP_ROWS = 24
_SHADES = ("grey93", "grey78", "grey62", "grey46", "grey30", "grey15")


def _shade(value: int, levels: Sequence[int]) -> str:
    if value == 0:
        return "on white"
    rank = levels.index(value) if len(levels) > 1 else 0
    step = rank * (len(_SHADES) - 1) // max(len(levels) - 1, 1)
    foreground = "black" if step < 3 else "white"
    return f"{foreground} on {_SHADES[step]}"


def heat_map(rows: Sequence[Sequence[int]], title: str, shape: tuple[int, int]) -> RenderableType:
    """A grid of counts, each printed as a number on a grey proportional to its rank.

    ``rows`` may be the first part of a larger map of ``shape`` (rows, columns). One row (a 1-D map)
    is folded into lines labelled with their first position; a grid shows its first rows and columns,
    as many as fit in 80 columns.
    """
    width = max(len(str(v)) for row in rows for v in row)
    side = max(min(HEAT_MAP_SIDE, 72 // (width + 1)), 4)
    if shape[0] == 1:
        line = list(rows[0])
        shown = [line[n : n + side] for n in range(0, len(line), side)][:HEAT_MAP_SIDE]
        labels = [f"{n * side:>{len(str(len(line)))}}: " for n in range(len(shown))]
    else:
        shown = [list(row[:side]) for row in rows[:HEAT_MAP_ROWS]]
        labels = [""] * len(shown)
    cut = sum(len(row) for row in shown) < shape[0] * shape[1]
    levels = sorted({v for row in shown for v in row if v})
    text = Text()
    for label, row in zip(labels, shown):
        text.append(label, style="dim")
        for value in row:
            text.append(f"{value:>{width}}", style=_shade(value, levels))
            text.append(" ")
        text.append("\n")
    if cut:
        text.append(
            f"(a part of the {shape[0]}x{shape[1]} positions; --json has the per-axis counts)\n",
            style="italic",
        )
    return Group(Text(title, style="bold"), text)


def _suggestion_line(suggestion: Suggestion) -> str:
    if suggestion.kind == "resize":
        how = (
            f" (scale_factor {x_join(suggestion.scale_factor)})"
            if suggestion.scale_factor is not None
            else ""
        )
        return (
            f"resize (nearest or bilinear) to {x_join(suggestion.output)}{how}, then a convolution "
            "kernel_size 3, padding 1, stride 1 (keeps the size)"
        )
    dilation = "" if set(suggestion.dilation) == {1} else f", dilation {x_join(suggestion.dilation)}"
    return (
        f"transposed convolution kernel_size {x_join(suggestion.kernel_size)}, stride "
        f"{x_join(suggestion.stride)}, padding {x_join(suggestion.padding)}, output_padding "
        f"{x_join(suggestion.output_padding)}{dilation} -> {x_join(suggestion.output)}"
    )


def overlap_view(result: OverlapMap, written: Sequence[Path] = ()) -> RenderableType:
    """The per-axis table, the heat map of the last two axes, the verdict and the suggestions."""
    table = Table(
        title="Overlap map: (input, kernel tap) pairs landing on each output position",
        title_justify="left",
        title_style="bold",
    )
    table.add_column("quantity", style="cyan")
    for n in range(result.ndim):
        table.add_column(f"axis {n}", justify="right")
    layers = len(result.axes[0].layers)
    rows: list[tuple[str, Sequence[object]]] = [
        ("layers in the stack", [layers] * result.ndim),
        ("output positions", [a.output for a in result.axes]),
        ("period (product of strides)", [a.period for a in result.axes]),
        ("interior pattern (by position mod period)", [" ".join(map(str, a.pattern)) for a in result.axes]),
        (
            "interior positions",
            [f"{a.interior_first}..{a.interior_last}" if a.interior_length else "none" for a in result.axes],
        ),
        ("min / max over all positions", [f"{a.minimum} / {a.maximum}" for a in result.axes]),
        ("uniform interior", [yes_no(a.uniform) for a in result.axes]),
    ]
    for label, values in rows:
        table.add_row(label, *(str(v) for v in values))

    parts: list[RenderableType] = [table]
    last = result.axes[-1].counts
    if result.ndim == 1:
        parts.append(heat_map([last[: HEAT_MAP_SIDE * HEAT_MAP_SIDE]], "Heat map (axis 0)", (1, len(last))))
    else:
        second = result.axes[-2].counts
        title = f"Heat map (axes {result.ndim - 2} and {result.ndim - 1})"
        if result.ndim > 2:
            title += ": each cell is also multiplied by the counts of the leading axes"
        corner = [[a * b for b in last[:HEAT_MAP_SIDE]] for a in second[:HEAT_MAP_SIDE]]
        parts.append(heat_map(corner, title, (len(second), len(last))))

    if result.uniform:
        verdict = (
            f"[green]uniform[/green]: every interior position receives the same number of pairs "
            f"({result.interior_maximum if result.interior_maximum is not None else 'no interior yet'}); "
            f"min {result.minimum}, max {result.maximum} (the borders receive fewer)."
        )
    else:
        uneven = [n for n, a in enumerate(result.axes) if not a.uniform]
        holes = any(a.holes for a in result.axes)
        verdict = (
            f"[yellow]checkerboard[/yellow] on axis {', '.join(map(str, uneven))}: interior counts "
            f"range from {result.interior_minimum} to {result.interior_maximum} with period "
            f"{x_join(result.period)}; min {result.minimum}, max {result.maximum} overall."
        )
        if holes:
            verdict += (
                " Some interior positions receive no pair at all (dilation shares a factor with stride)."
            )
    parts.append(Text.from_markup(verdict))
    if result.suggestions:
        where = (
            ""
            if layers == 1
            else f" (for layer {result.suggested_layer}; a stack of uniform layers is uniform)"
        )
        lines = Text.from_markup(f"Same output size without the pattern{where}:\n")
        for suggestion in result.suggestions:
            lines.append(f"  - {_suggestion_line(suggestion)}\n")
        parts.append(lines)
    if written:
        names = (
            str(written[0]) if len(written) == 1 else f"{written[0]} .. {written[-1]} ({len(written)} files)"
        )
        parts.append(Text(f"SVG diagram written: {names}"))
    return Group(*parts)
