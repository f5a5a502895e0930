"""SVG as plain text: rectangles and text, each text measured so that no two labels overlap.

Text is measured with the advance widths of DejaVu Sans (the first font the figures ask for; Verdana,
the fallback, is as wide), so a figure reserves room for its labels without a browser. Every text
element records its box; a figure is laid out so those boxes never meet, and the tests recompute the
boxes from the SVG with the same metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from xml.sax.saxutils import escape

FONT_FAMILY = "DejaVu Sans, Verdana, sans-serif"
# Advance widths of printable ASCII (space .. ~) in 1/2048 em, DejaVu Sans 2.37 and its Bold;
# any other character counts as one em, wider than DejaVu's arrows and signs.
_REGULAR = (
    651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303, 1303, 1303,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577,
    1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401,
    2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298,
    569, 569, 1186, 569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075,
    1303, 690, 1303, 1716,
)  # fmt: skip
_BOLD = (
    713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748, 1425, 1425, 1425,
    1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716, 1188, 2048, 1585, 1561, 1503, 1700,
    1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714, 1741, 1501, 1741, 1577, 1475, 1397, 1663, 1585,
    2259, 1579, 1483, 1485, 936, 748, 936, 1716, 1024, 1024, 1382, 1466, 1214, 1466, 1389, 891, 1466, 1458,
    702, 702, 1362, 702, 2134, 1458, 1407, 1466, 1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192,
    1458, 748, 1458, 1716,
)  # fmt: skip
_EM = 2048
# Above and below the baseline, in em: DejaVu's tallest letters (0.76) and deepest (0.24), rounded up.
ASCENT = 0.8
DESCENT = 0.25
# A little air around every box, so that labels that do not overlap do not touch either.
PAD = 1.0


def text_width(content: str, size: float, bold: bool = False) -> float:
    """The advance width of ``content`` at ``size`` pixels: sum of the glyph widths / 2048 * size.

    >>> round(text_width("5x5", 10), 2)
    18.64
    """
    table = _BOLD if bold else _REGULAR
    units = sum(table[ord(ch) - 32] if 32 <= ord(ch) < 127 else _EM for ch in content)
    return units * size / _EM


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in user units: left, top, right, bottom."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)


def text_box(x: float, y: float, content: str, size: float, anchor: str = "start", bold: bool = False) -> Box:
    """The box a text element covers: its measured width placed by ``anchor``, ascent and descent around
    the baseline ``y``, and PAD of air on every side."""
    width = text_width(content, size, bold)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return Box(left - PAD, y - ASCENT * size - PAD, left + width + PAD, y + DESCENT * size + PAD)


def _attributes(attributes: dict[str, object]) -> str:
    return "".join(f' {name.rstrip("_").replace("_", "-")}="{value}"' for name, value in attributes.items())


def _n(value: float) -> str:
    """Coordinates without float noise: 28.0 -> 28, 28.5 -> 28.5."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


class Canvas:
    """An SVG being written: elements in order, the boxes of its texts, and its extent."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.boxes: list[Box] = []
        self.right = 0.0
        self.bottom = 0.0
        # The translation of the group being written: extents and boxes are kept in page coordinates.
        self.dx = 0.0
        self.dy = 0.0

    def _extend(self, x: float, y: float) -> None:
        self.right, self.bottom = max(self.right, x + self.dx), max(self.bottom, y + self.dy)

    @contextmanager
    def group(self, dx: float = 0.0, dy: float = 0.0, **attributes: object) -> Iterator[None]:
        """A <g> translated by (dx, dy): what is drawn inside counts where it shows on the page."""
        transform = f' transform="translate({_n(dx)},{_n(dy)})"' if dx or dy else ""
        self.parts.append(f"<g{_attributes(attributes)}{transform}>")
        self.dx, self.dy = self.dx + dx, self.dy + dy
        try:
            yield
        finally:
            self.dx, self.dy = self.dx - dx, self.dy - dy
            self.parts.append("</g>")

    def rect(self, x: float, y: float, w: float, h: float, kind: str, **attributes: object) -> None:
        self.parts.append(
            f'<rect class="{kind}" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"'
            f"{_attributes(attributes)}/>"
        )
        self._extend(x + w, y + h)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        size: float = 13,
        anchor: str = "start",
        bold: bool = False,
        **attributes: object,
    ) -> Box:
        """A text element at baseline ``y``; returns (and records) the box it covers."""
        box = text_box(x, y, content, size, anchor, bold)
        if bold:
            attributes = {"font_weight": "bold", **attributes}
        self.parts.append(
            f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}"'
            f"{_attributes(attributes)}>{escape(content)}</text>"
        )
        self._extend(box.x1, box.y1)
        box = box.moved(self.dx, self.dy)
        self.boxes.append(box)
        return box

    def raw(self, markup: str) -> None:
        """Markup whose extent the caller has already accounted for (groups, paths, styles)."""
        self.parts.append(markup)

    def svg(
        self,
        margin: float,
        style: str = "",
        shown_width: float | None = None,
        fluid: bool = False,
        **attributes: object,
    ) -> str:
        """The document: width and height the extent plus ``margin``, a white background, the parts.
        ``fluid``: as wide as the window that shows it, never wider than drawn, the height following
        the viewBox (a large model's picture fits a browser window)."""
        width, height = round(self.right + margin), round(self.bottom + margin)
        # A figure wider than ``shown_width`` (MAX_SHOWN_WIDTH unless given) is shown scaled down to it:
        # the viewBox keeps the drawing's own coordinates, the width and height say the size on screen.
        scale = min(1.0, (shown_width or MAX_SHOWN_WIDTH) / width)
        size = (
            f'width="100%" style="max-width:{width}px;height:auto"'
            if fluid
            else f'width="{round(width * scale)}" height="{round(height * scale)}"'
        )
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {width} {height}" '
            f'font-family="{FONT_FAMILY}"{_attributes(attributes)}>'
        )
        background = (
            f'<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>'
        )
        styles = [f"<style>{style}</style>"] if style else []
        return "\n".join([head, *styles, background, *self.parts, "</svg>"]) + "\n"


MAX_SHOWN_WIDTH = 960


def x_join(values: tuple[int, ...] | list[int]) -> str:
    """(5, 5) -> '5x5'."""
    return "x".join(str(v) for v in values)
