"""The terminal heat map of the overlap counts: legible on dark and light terminals, digits without colour.

The terminal counterpart of the SVG overlap figure; both take their colours from the same palette.
"""

from __future__ import annotations

import io

from rich.color import Color, ColorSystem
from rich.console import Console
from rich.text import Text

from convcalc.explain.render import heat_map
from convcalc.explain.svg.palette import (
    BLACK,
    SCALE,
    WHITE,
    ZERO,
    colour_key,
    contrast,
    count_colours,
    ink,
    luminance,
)

# The lecture notes' checkerboard (kernel 4, stride 3, 3x3 input): per-axis counts, their product.
AXIS = [1, 1, 1, 2, 1, 1, 2, 1, 1, 1]
CHECKERBOARD = [[a * b for b in AXIS] for a in AXIS]


def render(**options: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=80, **options)  # type: ignore[arg-type]
    console.print(heat_map(CHECKERBOARD, "Heat map (axes 0 and 1)", (10, 10)), crop=False)
    return out.getvalue()


def test_every_colour_stands_apart_from_black_and_white_backgrounds() -> None:
    # The old greys: the darkest (grey15) was 1.4:1 against a black terminal, the lightest 1.2:1 on white.
    for colour in (*SCALE, ZERO):
        assert contrast(colour, BLACK) >= 1.7, colour
        assert contrast(colour, WHITE) >= 1.7, colour
        assert contrast(colour, ink(colour)) >= 4.5, colour


def test_a_256_colour_terminal_keeps_every_level_apart() -> None:
    numbers = [Color.parse(c).downgrade(ColorSystem.EIGHT_BIT).number for c in (*SCALE, ZERO)]
    assert len(set(numbers)) == len(SCALE) + 1


def test_more_pairs_are_darker() -> None:
    shades = [luminance(c) for c in SCALE]
    assert shades == sorted(shades, reverse=True)
    colours = count_colours([0, 1, 2, 4, 2])
    assert colours[0] == ZERO and colours[1] == SCALE[0] and colours[4] == SCALE[-1]
    assert luminance(colours[1]) > luminance(colours[2]) > luminance(colours[4])
    # Eight counts over six colours: neighbours share a colour and the key says so.
    key = colour_key(count_colours(range(1, 9)))
    assert [label for label, _ in key] == ["0", "1", "2..3", "4", "5", "6..7", "8"]
    assert [colour for _, colour in key] == [ZERO, *SCALE]


def test_the_gaps_take_the_cells_colour_so_the_checkerboard_is_one_block() -> None:
    lines = Text.from_ansi(render(color_system="truecolor", force_terminal=True)).split("\n")
    rows = [line for line in lines if line.plain.strip() and line.plain.split()[0].isdigit()][:10]
    assert len(rows) == 10
    for row in rows:
        plain = row.plain.rstrip("\n")
        shaded = [False] * len(plain)
        for span in row.spans:
            style = span.style
            if not isinstance(style, str) and style.bgcolor is not None:
                shaded[span.start : span.end] = [True] * (span.end - span.start)
        # Every character of the row, the spaces between numbers included, sits on a colour.
        assert all(shaded), plain


def test_digits_remain_without_colour() -> None:
    plain = render(no_color=True, color_system=None)
    assert "\n2 2 2 4 2 2 4 2 2 2 \n" in plain
    assert "key (pairs per position):  1   2   4" in plain
    assert "\x1b[" not in plain
    coloured = render(color_system="truecolor", force_terminal=True, no_color=True)
    assert "48;2" not in coloured  # NO_COLOR drops the background colours, the digits stay
    assert "2 2 2 4 2 2 4 2 2 2" in Text.from_ansi(coloured).plain
