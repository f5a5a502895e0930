"""A laid-out model as SVG text on the explain figures' canvas (its measured text, its boxes).

Colours tell kinds apart at a glance and always come with words: every box names its op, a marked box
carries its mark's text in it, and the legend names each colour. Fills are light and text dark, so the
picture reads on white and in print.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from convcalc.explain.svg.canvas import ASCENT, DESCENT, Canvas, text_width
from convcalc.inspect.svg.layout import BOX_PAD_X, BOX_PAD_Y, LABEL_SIZE, Layout, label_anchor, line_height

MARGIN = 16.0
CAPTION_SIZE = 12.0
MIN_WIDTH = 560.0
# Kind -> (legend words, fill, stroke).
KIND_STYLES: dict[str, tuple[str, str, str]] = {
    "conv": ("convolution", "#dbe9f6", "#3f6fa8"),
    "conv_transpose": ("transposed convolution", "#fde2c8", "#b8702a"),
    "pool": ("pooling, space to depth", "#dcefd9", "#4a8a45"),
    "resize": ("resize, depth to space", "#fbefbf", "#9c7f12"),
    "merge": ("merge (concat, add, ...)", "#e9dff5", "#7a58a3"),
    "input": ("model input", "#ffffff", "#555555"),
    "other": ("other", "#eeeeee", "#777777"),
}
GROUP = {
    "global_pool": "pool",
    "space_to_depth": "pool",
    "depth_to_space": "resize",
    "concat": "merge",
    "elementwise": "merge",
}
# Mark kind -> (legend words, colour): dark enough for text on white (WCAG contrast above 5.5).
MARK_STYLES = {
    "error": ("fails", "#c0161b"),
    "changed": ("changed", "#8e1fa3"),
    "warning": ("warning", "#9a5200"),
    "knock_on": ("knock-on, agrees once earlier fixes apply", "#35557a"),
}
TEXT = "#1a1a1a"
SOFT_TEXT = "#444444"
EDGE = "#3a3a3a"
SKIP = "#6b4c96"
STYLE = (
    ".edge{fill:none;stroke:#3a3a3a;stroke-width:1.3}"
    ".skip{fill:none;stroke:#6b4c96;stroke-width:1.3;stroke-dasharray:6 3}"
    ".band{stroke:none}"
)


def kind_style(kind: str) -> tuple[str, str, str]:
    name = GROUP.get(kind, kind)
    return KIND_STYLES.get(name, KIND_STYLES["other"])


def render(
    panels: Sequence[tuple[str, Layout, dict[int, str]]],
    title: Sequence[str],
    caption: Sequence[str],
) -> str:
    """The SVG document: the title, then each panel (its heading, bands with their sizes, edges, boxes,
    size labels) below the one before, then the caption and the legend."""
    canvas = Canvas()
    band_widths = [
        max((text_width(name, LABEL_SIZE) for name in names.values()), default=0.0) + 14
        for _, _, names in panels
    ]
    width = max([MIN_WIDTH, *(b + layout.width for b, (_, layout, _) in zip(band_widths, panels))])
    y = MARGIN
    for n, line in enumerate(title):
        for part in _wrap_width(line, width, CAPTION_SIZE, n == 0):
            y += line_height(CAPTION_SIZE)
            canvas.text(MARGIN, y, part, CAPTION_SIZE, bold=n == 0, fill=TEXT, class_="title")
    canvas.raw(
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#3a3a3a"/></marker>'
        '<marker id="skip-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b4c96"/></marker></defs>'
    )
    for (heading, layout, names), band_width in zip(panels, band_widths):
        y += 10
        if heading:
            y += line_height(CAPTION_SIZE) + 4
            canvas.text(MARGIN, y, heading, CAPTION_SIZE, bold=True, fill=TEXT, class_="heading")
            y += 8
        _panel(canvas, layout, names, MARGIN, y, band_width, width)
        y += layout.height + 14
    y += 10
    for n, line in enumerate(caption):
        for part in _wrap_width(line, width, CAPTION_SIZE, False):
            y += line_height(CAPTION_SIZE)
            canvas.text(MARGIN, y, part, CAPTION_SIZE, fill=TEXT, class_="caption")
        if n == 0:
            y += 2
    y += 10
    _legend(canvas, [layout for _, layout, _ in panels], MARGIN, y, width)
    return canvas.svg(MARGIN, STYLE, fluid=True)


def _panel(
    canvas: Canvas,
    layout: Layout,
    band_names: dict[int, str],
    left: float,
    top: float,
    band_width: float,
    width: float,
) -> None:
    """One model: its bands (the sizes on the left), edges, boxes and size labels, from (left, top)."""
    for n, (level, band_top, band_bottom) in enumerate(layout.bands):
        stripe_top = band_top - 12 if n == 0 else band_top - 14
        canvas.rect(
            left, top + stripe_top, width, band_bottom - stripe_top + 14, "band",
            fill="#f4f4f6" if n % 2 == 0 else "#ffffff",
        )  # fmt: skip
        canvas.text(left + 4, top + band_top + ASCENT * LABEL_SIZE + 2, band_names.get(level, ""), LABEL_SIZE,
                    fill=SOFT_TEXT, class_="band-size")  # fmt: skip
    with canvas.group(left + band_width, top, class_="model"):
        for edge in layout.edges:
            d = " ".join(f"{'M' if n == 0 else 'L'}{_n(x)},{_n(y)}" for n, (x, y) in enumerate(edge.points))
            kind, marker = ("skip", "skip-arrow") if edge.skip else ("edge", "arrow")
            canvas.raw(f'<path class="{kind}" d="{d}" marker-end="url(#{marker})"/>')
        for box in layout.boxes:
            item = box.item
            _, fill, stroke = kind_style(item.kind)
            attributes: dict[str, object] = {"rx": 4, "fill": fill, "stroke": stroke, "stroke_width": 1.2}
            if item.mark is not None:
                attributes.update(stroke=MARK_STYLES[item.mark.kind][1], stroke_width=3)
            canvas.rect(box.x, box.y, box.w, box.h, "node", data_node=_attr(item.key), **attributes)
            baseline = box.y + BOX_PAD_Y
            for text, size, bold, role in box.lines:
                baseline += line_height(size)
                colour = {"title": TEXT, "name": SOFT_TEXT, "folded": SOFT_TEXT}.get(role)
                if role == "mark" and item.mark is not None:
                    colour = MARK_STYLES[item.mark.kind][1]
                canvas.text(box.x + BOX_PAD_X, baseline - DESCENT * size - (LINE_SLACK * size), text, size,
                            bold=bold, fill=colour, class_=role)  # fmt: skip
            x, baseline = label_anchor(box, layout.runs[box.run].down)
            canvas.text(x, baseline, box.label, LABEL_SIZE, fill=TEXT, class_="size")


LINE_SLACK = (1.3 - ASCENT - DESCENT) / 2  # the line's extra height, split above and below the glyphs


def _legend(canvas: Canvas, layouts: list[Layout], x0: float, y: float, width: float) -> None:
    """A swatch and its words for each kind drawn and each mark kind used, wrapping at the width."""
    boxes = [box for layout in layouts for box in layout.boxes]
    skips = any(edge.skip for layout in layouts for edge in layout.edges)
    kinds = {GROUP.get(b.item.kind, b.item.kind) for b in boxes}
    entries: list[tuple[str, str, str, float]] = []
    for name, (words, fill, stroke) in KIND_STYLES.items():
        if name in kinds or (name == "other" and kinds - set(KIND_STYLES)):
            entries.append((words, fill, stroke, 1.2))
    for kind, (words, colour) in MARK_STYLES.items():
        if any(b.item.mark is not None and b.item.mark.kind == kind for b in boxes):
            entries.append((f"{words} (thick border, reason in the box)", "#ffffff", colour, 3.0))
    x = x0
    size = CAPTION_SIZE - 1
    y += line_height(size)
    for words, fill, stroke, stroke_width in entries:
        need = 22 + text_width(words, size) + 18
        if x > x0 and x + need > x0 + width:
            x, y = x0, y + line_height(size) + 6
        canvas.rect(x, y - 10, 16, 11, "swatch", fill=fill, stroke=stroke, stroke_width=stroke_width, rx=2)
        canvas.text(x + 22, y, words, size, fill=TEXT, class_="legend")
        x += need
    if skips:
        words = "skip connection (dashed); sizes on the edges are each box's output"
    else:
        words = "sizes on the edges are each box's output"
    if x > x0 and x + 30 + text_width(words, size) > x0 + width:
        x, y = x0, y + line_height(size) + 6
    colour, dash = (SKIP, ' stroke-dasharray="6 3"') if skips else (EDGE, "")
    canvas.raw(
        f'<path class="legend-line" d="M{_n(x)},{_n(y - 4)} L{_n(x + 22)},{_n(y - 4)}" '
        f'stroke="{colour}" stroke-width="1.3"{dash}/>'
    )
    canvas.text(x + 30, y, words, size, fill=TEXT, class_="legend")


def _wrap_width(text: str, width: float, size: float, bold: bool) -> list[str]:
    """Words into lines no wider than ``width`` at ``size`` (a longer word stands alone)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(lines[-1] + " " + word, size, bold) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
