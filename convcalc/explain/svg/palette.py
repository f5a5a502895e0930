"""The colour scale of overlap counts, shared by the terminal heat map and the SVG overlap figure.

Light amber (few pairs) through red to deep plum (many), every colour of mid luminance so that it stands apart
from a white page or a light terminal and from a black terminal alike; zero (no pair at all) is a
neutral grey outside the scale. The digits printed on a colour are black or white, whichever
contrasts more. Contrast is the WCAG ratio of relative luminances.
"""

from __future__ import annotations

from collections.abc import Iterable

# Colours of the xterm 256-colour cube (215, 209, 167, 161, 125, 89; grey 245), so that a 256-colour
# terminal shows exactly these and keeps every level apart.
SCALE = ("#ffaf5f", "#ff875f", "#d75f5f", "#d7005f", "#af005f", "#87005f")
ZERO = "#8a8a8a"
BLACK = "#000000"
WHITE = "#ffffff"


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG relative luminance of '#rrggbb': 0.2126 R + 0.7152 G + 0.0722 B on linear channels."""
    r, g, b = (int(colour[n : n + 2], 16) for n in (1, 3, 5))
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast(first: str, second: str) -> float:
    """(lighter + 0.05) / (darker + 0.05): 1 for equal colours, 21 for black on white.

    >>> round(contrast(BLACK, WHITE), 1)
    21.0
    """
    low, high = sorted((luminance(first), luminance(second)))
    return (high + 0.05) / (low + 0.05)


def ink(colour: str) -> str:
    """Black or white, whichever is more legible on ``colour``."""
    return BLACK if contrast(colour, BLACK) >= contrast(colour, WHITE) else WHITE


def count_colours(values: Iterable[int]) -> dict[int, str]:
    """A colour per distinct count, by rank: the smallest non-zero count lightest, the largest darkest,
    the ranks spread over the scale (one count alone takes its middle); zero is ZERO."""
    levels = sorted({v for v in values if v})
    last = len(SCALE) - 1
    colours = {0: ZERO}
    for rank, value in enumerate(levels):
        step = last // 2 if len(levels) == 1 else round(rank * last / (len(levels) - 1))
        colours[value] = SCALE[step]
    return colours


def colour_key(colours: dict[int, str]) -> list[tuple[str, str]]:
    """(label, colour) per colour in use, in count order: '1', '2..3' where counts share a colour.

    >>> colour_key({0: ZERO, 1: SCALE[0], 2: SCALE[5]})
    [('0', '#8a8a8a'), ('1', '#ffaf5f'), ('2', '#87005f')]
    """
    groups: list[tuple[int, int, str]] = []
    for value in sorted(colours):
        if groups and groups[-1][2] == colours[value]:
            groups[-1] = (groups[-1][0], value, colours[value])
        else:
            groups.append((value, value, colours[value]))
    return [(str(low) if low == high else f"{low}..{high}", colour) for low, high, colour in groups]
