"""Rich helpers shared by every feature's tables, and the fitting that never cuts a number.

Rich shrinks a table that is too wide by squashing its columns, and past their longest word it cuts
cells with an ellipsis; ``console.print`` also crops every line at the edge. Here a table too wide for
the terminal is split into blocks of columns, each block repeating the first (label) column, and its
title is printed on its own line so that it never wraps inside a narrow table. Numeric grids
(``FoldedGrid``) fold the same way with their column indices repeated above every block.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.segment import Segment
from rich.table import Column, Table
from rich.text import Text

from convcalc.text import x_join

__all__ = ["NO", "OK", "Fitted", "FoldedGrid", "axis_table", "hanging", "headed", "html", "x_join", "yes_no"]

T = TypeVar("T")

# Readable without colour: the verdict words carry the meaning, colour only underlines them.
# Caution (a warning, a shifted or checkerboard verdict): bold in the terminal's own colour, readable on
# dark and light backgrounds alike (yellow on white is about 1.7:1 in the xterm palette; this is the
# foreground's own contrast).
CAUTION = "bold"
OK = "[green]yes[/green]"
NO = "[red]no[/red]"


def hanging(prefix: str, text: Text) -> RenderableType:
    """A list item: ``prefix`` (such as "  - ") then ``text``, whose wrapped lines stay indented under it."""
    grid = Table.grid(padding=0)
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row(prefix, text)
    return grid


def yes_no(value: bool) -> str:
    return OK if value else NO


def axis_table(title: str, axes: Sequence[T], rows: Sequence[tuple[str, Callable[[T], object]]]) -> Table:
    """A table with one row per quantity and one column per spatial axis."""
    table = Table(title=title, title_justify="left", title_style="bold")
    table.add_column("quantity", style="cyan")
    for n in range(len(axes)):
        table.add_column(f"axis {n}", justify="right")
    for label, get in rows:
        table.add_row(label, *(str(get(axis)) for axis in axes))
    return table


class Fitted:
    """``renderable`` with every table and grid inside it fitted to the width it is printed at, and no
    line ending in spaces (Rich leaves the space it wrapped at, and pads grid cells)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rendered = console.render(Group(*_fit(self.renderable, console, options)), options)
        for line in Segment.split_lines(rendered):  # not render_lines: that would crop at the edge
            yield from _trimmed(line)
            yield Segment.line()


def _trimmed(line: list[Segment]) -> list[Segment]:
    """``line`` without its trailing spaces (styles and control codes kept)."""
    line = list(line)
    for n in range(len(line) - 1, -1, -1):
        segment = line[n]
        if segment.control:
            continue
        text = segment.text.rstrip(" ")
        if text:
            line[n] = Segment(text, segment.style, segment.control)
            break
        del line[n]
    return line


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


def _cells(column: Column) -> list[RenderableType]:
    return [column.header, *column._cells]


def _range(column: Column, console: Console, options: ConsoleOptions) -> tuple[int, int]:
    """The column's narrowest width without breaking a word (a number is one word) and its natural width."""
    wide = options.update_width(10**6)
    measured = [Measurement.get(console, wide, cell) for cell in _cells(column)]
    return max((m.minimum for m in measured), default=0), max((m.maximum for m in measured), default=0)


def _widths(
    table: Table,
    console: Console,
    options: ConsoleOptions,
    width: int,
    ranges: list[tuple[int, int]] | None = None,
) -> list[int] | None:
    """Content widths that fit ``table`` in ``width`` without breaking any word, or None when none do.

    Rich's own squeeze can go below the longest word of a column and then cuts it with an ellipsis;
    here the widest columns give up their slack first and no column goes below its longest word.
    ``ranges`` are the columns' ``_range`` when already measured.
    """
    if ranges is None:
        ranges = [_range(column, console, options) for column in table.columns]
    padding = sum(table._get_padding_width(n) for n in range(len(table.columns)))
    room = width - table._extra_width - padding
    if sum(low for low, _ in ranges) > room:
        return None
    widths = [high for _, high in ranges]
    excess = sum(widths) - room
    for _ in range(excess):  # one column at a time, the widest that can still give a cell up
        widest = max((n for n, (low, _) in enumerate(ranges) if widths[n] > low), key=lambda n: widths[n])
        widths[widest] -= 1
    return widths


def _laid_out_as_measured(table: Table) -> bool:
    """Whether Rich lays ``table`` out at its columns' measured widths (``_range``, headers included)
    when it fits: headers shown, no footer, no fixed, minimum, maximum or ratio widths, no expansion."""
    sized = any(
        c.width is not None or c.min_width is not None or c.max_width is not None or c.ratio
        for c in table.columns
    )
    return table.show_header and not (
        sized or table.expand or table.width or table.min_width or table.show_footer
    )


def _laid_out(table: Table, widths: list[int]) -> Table:
    table = copy.copy(table)
    table.columns = [copy.copy(column) for column in table.columns]
    for column, width in zip(table.columns, widths):
        column.width = width
    return table


def _as_list(table: Table) -> Iterable[RenderableType]:
    """A table too wide even for its label column and one more: each row as a label, then one
    ``header: value`` line per column, so that a very long number still gets a line of its own."""
    rows = max((len(column._cells) for column in table.columns), default=0)
    labels, rest = table.columns[0], table.columns[1:]

    def text(cell: RenderableType) -> Text:
        return (
            Text.from_markup(cell)
            if isinstance(cell, str)
            else cell
            if isinstance(cell, Text)
            else Text(str(cell))
        )

    for r in range(rows):
        line = Text(style="")
        line.append_text(text(labels._cells[r]) if r < len(labels._cells) else Text())
        for column in rest:
            if r < len(column._cells):
                line.append("\n  ")
                line.append_text(text(column.header))
                line.append(": ")
                line.append_text(text(column._cells[r]))
        yield line


def split_table(table: Table, console: Console, options: ConsoleOptions) -> Iterable[RenderableType]:
    """The title on its own line, then the table, or blocks of its columns when it is too wide.

    No column is narrower than its longest word, so a number never wraps or is cut; text may still
    wrap between words. A table whose label column and one other column cannot fit is shown as a list.
    """
    title = table.title
    table = copy.copy(table)
    table.title = None
    if title:
        style = table.title_style or "bold"
        yield Text(str(title), style=style) if isinstance(title, str) else title
    width = options.max_width
    ranges = [_range(column, console, options) for column in table.columns]
    if _laid_out_as_measured(table) and all(high for _, high in ranges):
        # Rich would give each column its widest cell: fixing those widths spares it measuring every
        # cell twice more (a third of `convcalc shape`'s printing time), the table printed the same.
        natural = [high for _, high in ranges]
        padding = sum(table._get_padding_width(n) for n in range(len(table.columns)))
        if sum(natural) + padding + table._extra_width <= width:
            yield _laid_out(table, natural)  # fits without wrapping anything: the common case
            return
    elif Measurement.get(console, options.update_width(10**6), table).maximum <= width:
        yield table
        return
    widths = _widths(table, console, options, width, ranges)
    if widths is not None:
        yield _laid_out(table, widths)
        return
    keep, rest = table.columns[:1], table.columns[1:]
    blocks: list[tuple[list[Column], list[int] | None]] = []
    for column in rest:
        if blocks and blocks[-1][1] is not None:
            trial = copy.copy(table)
            trial.columns = [*keep, *blocks[-1][0], column]
            laid = _widths(trial, console, options, width)
            if laid is not None:
                blocks[-1] = ([*blocks[-1][0], column], laid)
                continue
        single = copy.copy(table)
        single.columns = [*keep, column]
        blocks.append(([column], _widths(single, console, options, width)))
    if len(blocks) > 1:
        yield Text(
            f"(too wide for {width} columns: shown in {len(blocks)} blocks of columns, "
            f"the first column repeated)",
            style="italic",
        )
    for block, laid in blocks:
        part = copy.copy(table)
        part.columns = [*keep, *block]
        if laid is None:
            yield from _as_list(part)
        else:
            yield _laid_out(part, laid)


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
            coloured = console.color_system is not None and not console.no_color
            where = "in cyan" if coloured else "on the left and above each block"
            yield Text(
                f"({columns} columns, shown in {len(blocks)} blocks; row and column numbers {where})",
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


def headed(headline: str, renderable: RenderableType) -> RenderableType:
    """The one-line answer in bold, then the tables, fitted to whatever width they are printed at."""
    return Fitted(Group(Text(headline, style="bold"), renderable))


def html(renderable: RenderableType, width: int = 100) -> str:
    """A renderable as HTML with inline styles, for a notebook."""
    console = Console(record=True, width=width, file=io.StringIO(), force_jupyter=False, emoji=False)
    console.print(renderable, crop=False)
    return console.export_html(
        inline_styles=True, code_format='<pre style="font-family:monospace">{code}</pre>'
    )
