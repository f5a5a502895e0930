"""Rich renderables for `convcalc explain`: the overlap heat map, contributions, matrices, steps.

Readable without colour: every cell prints its number and every verdict its word; the shading only
repeats what the numbers say (darker = more pairs, as in the lecture notes' figure).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from convcalc.explain.results import Contributions, DirectSteps, Explanation, Grid, MatrixView
from convcalc.explain.svg.palette import colour_key, count_colours, ink
from convcalc.overlap import OverlapMap, Suggestion
from convcalc.render import FoldedGrid, hanging, x_join, yes_no

# The heat map shows at most this many rows and columns; the JSON has every cell.
HEAT_MAP_SIDE = 40
HEAT_MAP_ROWS = 24


def heat_map(rows: Sequence[Sequence[int]], title: str, shape: tuple[int, int]) -> RenderableType:
    """A grid of counts, each printed as a number on a colour of the shared scale, with a key.

    The colours (light amber for few pairs to deep plum for many, zero grey) are of mid luminance, so
    they stand apart from dark and light terminals alike; each digit is black or white, whichever
    contrasts more with its colour. The space after a number takes the number's colour, so equal
    neighbours join into one block and a checkerboard reads as one. ``rows`` may be the first part of
    a larger map of ``shape`` (rows, columns). One row (a 1-D map) is folded into lines labelled with
    their first position; a grid shows its first rows and columns, as many as fit in 80 columns.
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
    colours = count_colours(v for row in shown for v in row)
    text = Text()
    for label, row in zip(labels, shown):
        text.append(label, style="dim")
        for value in row:
            text.append(f"{value:>{width}} ", style=f"{ink(colours[value])} on {colours[value]}")
        text.append("\n")
    text.append("key (pairs per position): ", style="dim")
    used = {v for row in shown for v in row}
    for label, colour in colour_key({v: c for v, c in colours.items() if v in used}):
        text.append(f" {label} ", style=f"{ink(colour)} on {colour}")
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
        + _empty_words(suggestion)
    )


def _empty_words(suggestion: Suggestion) -> str:
    if suggestion.empty is None:
        return " (outputs receiving nothing not counted: over the map budget)"
    if not any(suggestion.empty):
        return ""
    return f" ({x_join(suggestion.empty)} border output(s) per axis receive nothing)"


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
        ("min / max along this axis alone", [f"{a.minimum} / {a.maximum}" for a in result.axes]),
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
            f"[bold]checkerboard[/bold] on axis {', '.join(map(str, uneven))}: interior counts "
            f"range from {result.interior_minimum} to {result.interior_maximum} with period "
            f"{x_join(result.period)}; min {result.minimum}, max {result.maximum} overall"
            + (" (all axes together: the product of each axis's counts)." if result.ndim > 1 else ".")
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
            else f" (for layer {(result.suggested_layer or 0) + 1}; a stack of uniform layers is uniform)"
        )
        parts.append(Text.from_markup(f"Same output size without the pattern{where}:"))
        parts.extend(hanging("  - ", Text(_suggestion_line(suggestion))) for suggestion in result.suggestions)
    if written:
        names = (
            str(written[0]) if len(written) == 1 else f"{written[0]} .. {written[-1]} ({len(written)} files)"
        )
        parts.append(Text(f"SVG diagram written: {names}"))
    return Group(*parts)


# --- the matrix view, the direct steps and the contributions -------------------------------------

_KIND_STYLE = {"input": "bold", "zero": "italic underline", "pad": "dim"}


def _label(position: Sequence[int]) -> str:
    return ",".join(str(p) for p in position)


def grid_text(grid: Grid, title: str, *, marked: bool = False) -> RenderableType:
    """A 1-D grid as one line, a 2-D grid as rows (more axes: the flat values); marked cells for the
    direct steps: inserted zeros print as 0, padding as a middle dot, so the marks survive without colour."""
    shape = grid.shape if len(grid.shape) in (1, 2) else (math.prod(grid.shape),)
    rows, columns = (1, shape[0]) if len(shape) == 1 else shape
    cells = [
        ("·" if marked and grid.kinds and grid.kinds[n] == "pad" else str(v))
        for n, v in enumerate(grid.values)
    ]
    styles = [_KIND_STYLE.get(grid.kinds[n], "") if marked and grid.kinds else "" for n in range(len(cells))]
    return FoldedGrid(
        title,
        [cells[r * columns : (r + 1) * columns] for r in range(rows)],
        styles=[styles[r * columns : (r + 1) * columns] for r in range(rows)],
        show_indices=False,
    )


def matrix_text(rows: Sequence[Sequence[int]], row_labels: Sequence[str], title: str) -> RenderableType:
    """A dense matrix with labelled rows and numbered columns; zeros print as '.'."""
    cells = [[str(v) if v else "." for v in row] for row in rows]
    return FoldedGrid(title, cells, row_labels=row_labels)


def _check(label: str, ok: bool) -> Text:
    return Text.from_markup(f"  {label}: {yes_no(ok)}")


def matrix_section_view(view: MatrixView) -> RenderableType:
    c = view.matrix
    rows = [f"{n} ({_label(p)})" for n, p in enumerate(view.output_positions)]
    columns = [f"{n} ({_label(p)})" for n, p in enumerate(view.input_positions)]
    transposed = [list(col) for col in zip(*c)]
    op = x_join(view.output_padding)
    parts: list[RenderableType] = [
        Rule("The matrix view", align="left"),
        Text(
            f"x = 1, 2, 3, ... (input {x_join(view.x.shape)}), w = 1, 2, 3, ... (kernel "
            f"{x_join(view.weight.shape)}); positions are flattened row-major; '.' is 0."
        ),
        matrix_text(c, rows, f"C ({len(c)} x {len(c[0])}): row = output position, column = input position"),
        matrix_text(transposed, columns, f"C^T ({len(c[0])} x {len(c)}): row = input position"),
        grid_text(view.x, "x"),
        grid_text(view.y, "y = conv(x) = C x"),
        grid_text(view.c_transpose_y, f"C^T y = the transposed convolution of y (output_padding {op})"),
        grid_text(view.g, "g = the upstream gradient dL/dy (ones here)"),
        grid_text(view.gradient, "dL/dx = C^T g = the transposed convolution of g"),
        Text("Checked by execution:"),
        _check("conv(x) equals C x", view.conv_is_c_x),
        _check("conv_transpose(y) equals C^T y", view.transposed_is_c_transpose_y),
        _check("the gradient <g, conv(e_j)> for every input j equals C^T g", view.gradient_is_c_transpose_g),
        _check("conv_transpose(g) equals that gradient", view.transposed_of_g_is_gradient),
    ]
    if view.slip_differs:
        parts.append(
            Text.from_markup(
                "[bold]The classic slip[/bold]: multiplying y by C^T gives C^T y, not the gradient. "
                "Backpropagation applies C^T to the upstream gradient g = dL/dy; the transposed "
                "convolution is C^T applied to whatever it is given."
            )
        )
    return Group(*parts)


def direct_section_view(steps: DirectSteps) -> RenderableType:
    zeros = x_join([d.zeros_inserted for d in steps.axes])
    before = x_join([d.pad_before for d in steps.axes])
    after = x_join([d.pad_after for d in steps.axes])
    parts: list[RenderableType] = [
        Rule("The equivalent direct convolution, step by step", align="left"),
        grid_text(steps.input, f"1. the transposed convolution's input ({x_join(steps.input.shape)})"),
        grid_text(
            steps.stretched,
            # The size first: a wrapped title never leaves it alone on a line.
            f"2. stretched to {x_join(steps.stretched.shape)}: {zeros} zero(s) inserted between neighbours "
            "(printed 0)",
            marked=True,
        ),
        grid_text(
            steps.padded,
            f"3. padded to {x_join(steps.padded.shape)}: p' = K-1-crop, before {before}, after {after} "
            "(printed ·; p' < 0 crops)",
            marked=True,
        ),
        grid_text(steps.kernel, "4. the kernel w"),
        grid_text(steps.flipped, "   flipped along every spatial axis"),
        grid_text(steps.output, "5. stride-1 convolution of step 3 with the flipped kernel"),
        grid_text(steps.transposed, "   the transposed convolution, executed directly"),
        _check("equal", steps.equal),
        _check(
            "the engine's own direct route built the same stretched and padded sizes",
            steps.engine_sizes_match,
        ),
        grid_text(steps.unflipped, "Without flipping the kernel, for comparison"),
    ]
    verdict = (
        "the same here (the kernel is symmetric)"
        if steps.unflipped_equal
        else "[bold]different[/bold]: the direct form needs the flipped kernel"
    )
    parts.append(hanging("  ", Text.from_markup(f"compared with the transposed convolution: {verdict}")))
    return Group(*parts)


def contributions_view(result: Contributions) -> RenderableType:
    table = Table(
        title="output = the sum of input * tap over its (input position, kernel tap) pairs",
        title_justify="left",
        title_style="bold",
    )
    table.add_column("output", style="cyan")
    table.add_column("pairs (input position, kernel tap)")
    table.add_column("products")
    table.add_column("value", justify="right")
    for item in result.items:
        pairs = " + ".join(f"y[{_label(u)}]*w[{_label(t)}]" for u, t in item.pairs) or "none"
        terms = " + ".join(f"{a}*{b}" for a, b in item.terms) or "-"
        table.add_row(_label(item.position), pairs, terms, str(item.value))
    return Group(
        Rule("Where the numbers come from", align="left"),
        table,
        _check("every sum equals the engine's transposed convolution", result.verified),
    )


def explanation_view(
    explanation: Explanation,
    overlap: OverlapMap | None,
    written: Sequence[Path] = (),
    *,
    figure_only: bool = False,
) -> RenderableType:
    """Every section that was built, the refusals of those too large to print, the overlap map; with
    ``figure_only`` (a figure asked for, no section named) only where the figure went."""
    if figure_only and written:
        return Text(f"wrote the picture to {written[0]}")
    parts: list[RenderableType] = []
    if explanation.matrix.content is not None:
        parts.append(matrix_section_view(explanation.matrix.content))
    if explanation.direct.content is not None:
        parts.append(direct_section_view(explanation.direct.content))
    if explanation.contributions.content is not None:
        parts.append(contributions_view(explanation.contributions.content))
    for section in (explanation.matrix, explanation.direct, explanation.contributions):
        if section.refusal is not None:
            parts.append(Text.from_markup(f"[bold]not shown[/bold]: {section.refusal}."))
    if overlap is not None:
        parts.append(Rule("The overlap (checkerboard) map", align="left"))
        parts.append(overlap_view(overlap))
    if written:  # whichever sections were asked for
        parts.append(Text(f"wrote the picture to {written[0]}"))
    if not explanation.verified:
        parts.append(Text.from_markup("[bold red]verification failed[/bold red]: see the checks marked no."))
    return Group(*parts)
