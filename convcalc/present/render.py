"""Make any renderable fit the terminal without cutting a number (rich only; the CLI wraps what it prints).

Rich shrinks a table that is too wide by squashing its columns, and past their longest word it cuts
cells with an ellipsis; ``console.print`` also crops every line at the edge. Here a table too wide for
the terminal is split into blocks of columns, each block repeating the first (label) column, and its
title is printed on its own line so that it never wraps inside a narrow table. Numeric grids
(``FoldedGrid``) fold the same way with their column indices repeated above every block.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from convcalc.present import parts


class Fitted:
    """``renderable`` with every table and grid inside it fitted to the width it is printed at."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _fit(self.renderable, console, options)


def _fit(renderable: RenderableType, console: Console, options: ConsoleOptions) -> Iterable[RenderableType]:
    if isinstance(renderable, Group):
        for part in renderable.renderables:
            yield from _fit(part, console, options)
    elif isinstance(renderable, Table):
        yield from split_table(renderable, console, options)
    elif isinstance(renderable, Padding) and isinstance(renderable.renderable, Table):
        yield renderable
    else:
        yield renderable


def _minimum(table: Table, console: Console, options: ConsoleOptions) -> int:
    """The narrowest the table can be without cutting a word (measured without the terminal's limit)."""
    return Measurement.get(console, options.update_width(10**6), table).minimum


def _widest_cell(column: object, console: Console, options: ConsoleOptions) -> int:
    cells = [column.header, *column._cells]  # type: ignore[attr-defined]
    wide = options.update_width(10**6)
    return max((Measurement.get(console, wide, cell).maximum for cell in cells), default=0)


def _upper_bound(table: Table) -> int:
    """A quick width no narrower than the table's widest rendering (markup counts as text)."""
    total = 1
    for column in table.columns:
        cells = [column.header, *column._cells]
        widths = [
            c.cell_len if isinstance(c, Text) else len(c) if isinstance(c, str) else 10**6 for c in cells
        ]
        total += max(widths, default=0) + 3
    return total


def split_table(table: Table, console: Console, options: ConsoleOptions) -> Iterable[RenderableType]:
    """The title on its own line, then the table, or blocks of its columns when it is too wide.

    A column holding a number never wraps: its cells are measured at their full width. Text columns
    (wider than any number) may still wrap between words.
    """
    title = table.title
    table = copy.copy(table)
    table.title = None
    if title:
        style = table.title_style or "bold"
        yield Text(str(title), style=style) if isinstance(title, str) else title
    width = options.max_width
    if (
        _upper_bound(table) <= width
        or Measurement.get(console, options.update_width(10**6), table).maximum <= width
    ):
        yield table  # fits without wrapping anything: the common case
        return
    table.columns = [copy.copy(column) for column in table.columns]
    for column in table.columns:
        # Short cells (numbers, shapes, verdict words) must not wrap or be cut: the column keeps them whole.
        if _widest_cell(column, console, options) <= 16:
            column.no_wrap = True
            column.min_width = max(column.min_width or 0, _widest_cell(column, console, options))
    if _minimum(table, console, options) <= width or len(table.columns) <= 2:
        yield table
        return
    keep, rest = table.columns[:1], table.columns[1:]
    blocks: list[list[object]] = []
    for column in rest:
        if blocks:
            trial = copy.copy(table)
            trial.columns = [*keep, *blocks[-1], column]  # type: ignore[list-item]
            if _minimum(trial, console, options) <= width:
                blocks[-1].append(column)
                continue
        blocks.append([column])
    yield Text(
        f"(too wide for {width} columns: shown in {len(blocks)} blocks of columns, "
        f"the first column repeated)",
        style="italic",
    )
    for block in blocks:
        part = copy.copy(table)
        part.columns = [*keep, *block]  # type: ignore[list-item]
        yield part


class FoldedGrid:
    """A grid of numbers with labelled rows and numbered columns, folded into blocks of columns.

    Every block repeats the column indices above it and the row labels beside it, so each number can be
    read whole at any width.
    """

    def __init__(
        self,
        title: str,
        cells: Sequence[Sequence[str]],
        *,
        row_labels: Sequence[str] | None = None,
        styles: Sequence[Sequence[str]] | None = None,
        show_indices: bool = True,
    ) -> None:
        self.title = title
        self.cells = cells
        self.row_labels = row_labels
        self.styles = styles
        self.show_indices = show_indices

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = max((len(row) for row in self.cells), default=0)
        width = max([len(c) for row in self.cells for c in row] + [len(str(max(columns - 1, 0)))])
        labels = self.row_labels or [""] * len(self.cells)
        if not self.row_labels and 2 + columns * (width + 1) - 1 > options.max_width and len(self.cells) > 1:
            labels = [str(r) for r in range(len(self.cells))]  # folded: rows numbered, as the columns
        label_width = max((len(label) for label in labels), default=0)
        margin = label_width + 3 if label_width else 2
        fits = max(1, (options.max_width - margin) // (width + 1))
        # Blocks of even size: 16 columns where 15 fit print as 8 + 8, not 15 + 1.
        per_block = -(-columns // -(-columns // fits)) if columns else 1
        blocks = [range(n, min(n + per_block, columns)) for n in range(0, columns, per_block)] or [range(0)]
        yield Text(self.title, style="bold")
        folded = len(blocks) > 1
        if folded:
            yield Text(
                f"({columns} columns, shown in {len(blocks)} blocks; row and column numbers in cyan)",
                style="italic",
            )
        for block in blocks:
            text = Text(no_wrap=True, overflow="ignore")
            if self.show_indices or folded:
                text.append(" " * margin)
                text.append(" ".join(f"{n:>{width}}" for n in block) + "\n", style="cyan")
            for r, (label, row) in enumerate(zip(labels, self.cells)):
                text.append(f" {label:>{label_width}}  " if label_width else "  ", style="cyan")
                for c in block:
                    if c >= len(row):
                        break
                    if c != block.start:
                        text.append(" ")
                    style = self.styles[r][c] if self.styles else ""
                    text.append(f"{row[c]:>{width}}", style=style)
                text.append("\n")
            text.rstrip()
            yield text


def view(obj: Any) -> RenderableType:
    """The headline and the tables, fitted to whatever width they are printed at."""
    _, line, build = parts(obj)
    return Fitted(Group(Text(line(), style="bold"), build()))


def html(obj: Any, width: int = 100) -> str:
    """The tables as HTML with inline styles, for a notebook."""
    console = Console(record=True, width=width, file=io.StringIO(), force_jupyter=False, emoji=False)
    console.print(view(obj), crop=False)
    return console.export_html(
        inline_styles=True, code_format='<pre style="font-family:monospace">{code}</pre>'
    )
