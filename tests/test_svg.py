"""SVG figures: well-formed, geometry from the core, labels that never overlap, one placement numbering."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from itertools import combinations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcalc.core import ShapeReport, TransposedAxis, shape_report
from convcalc.errors import ConvCalcError
from convcalc.explain.svg import (
    animated_diagram,
    direct_diagram,
    figure,
    overlap_diagram,
    placement_count,
    scatter_diagram,
)
from convcalc.explain.svg.canvas import Box, text_box, text_width

SVG = "{http://www.w3.org/2000/svg}"
NS = {"svg": SVG[1:-1]}


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    return root


def rects(root: ET.Element, kind: str) -> list[ET.Element]:
    return root.findall(f".//svg:rect[@class='{kind}']", NS)


def grid(root: ET.Element, name: str) -> tuple[int, int]:
    g = root.find(f".//svg:g[@class='{name}']", NS)
    assert g is not None
    return int(g.get("data-rows", "0")), int(g.get("data-columns", "0"))


def cell(root: ET.Element) -> float:
    return float(root.get("data-cell", "nan"))


def _walk(
    element: ET.Element, dx: float, dy: float, moving: bool
) -> Iterator[tuple[ET.Element, float, float, bool]]:
    match = re.fullmatch(r"translate\(([-\d.]+),\s*([-\d.]+)\)", element.get("transform", ""))
    if match:
        dx, dy = dx + float(match[1]), dy + float(match[2])
    moving = moving or "sweep" in element.get("class", "").split()
    yield element, dx, dy, moving
    for child in element:
        yield from _walk(child, dx, dy, moving)


def labels(root: ET.Element, *, moving: bool = False) -> list[tuple[Box, ET.Element]]:
    """Every text's box in page coordinates, recomputed from its attributes with the text metrics.

    Texts inside the animated (``sweep``) groups move; they are left out unless ``moving``.
    """
    found = []
    for element, dx, dy, is_moving in _walk(root, 0.0, 0.0, False):
        if element.tag != f"{SVG}text" or is_moving != moving:
            continue
        box = text_box(
            float(element.get("x", "nan")) + dx,
            float(element.get("y", "nan")) + dy,
            element.text or "",
            float(element.get("font-size", "nan")),
            element.get("text-anchor", "start"),
            element.get("font-weight") == "bold",
        )
        found.append((box, element))
    return found


def drawing_size(root: ET.Element) -> tuple[float, float]:
    """The drawing's own extent (the viewBox); width and height may show it scaled down."""
    x, y, width, height = (float(v) for v in root.get("viewBox", "").split())
    assert (x, y) == (0, 0)
    # The size on screen is the drawing scaled by one factor, at most MAX_SHOWN_WIDTH wide.
    shown_w, shown_h = float(root.get("width", 0)), float(root.get("height", 0))
    assert shown_w <= max(width, 960) and abs(shown_w / width - shown_h / height) < 0.01
    return width, height


def assert_no_overlap(root: ET.Element, boxes: list[tuple[Box, ET.Element]]) -> None:
    width, height = drawing_size(root)
    for box, element in boxes:
        assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height, element.text
    for (a, ea), (b, eb) in combinations(boxes, 2):
        assert not a.overlaps(b), f"{ea.text!r} at {a} overlaps {eb.text!r} at {b}"
    # Every shape is on the page too (the animated kernel's first place included).
    for element, dx, dy, _ in _walk(root, 0.0, 0.0, False):
        if element.tag == f"{SVG}rect":
            x, y = float(element.get("x", 0)) + dx, float(element.get("y", 0)) + dy
            right, bottom = x + float(element.get("width", 0)), y + float(element.get("height", 0))
            assert x >= 0 and right <= width and y >= 0 and bottom <= height, ET.tostring(element)


def static_labels(root: ET.Element) -> list[tuple[Box, ET.Element]]:
    """The labels always shown: the animation's captions take turns in one place, so only one counts."""
    boxes = labels(root)
    captions = [pair for pair in boxes if "caption" in pair[1].get("class", "")]
    return [pair for pair in boxes if pair not in captions[1:]]


def test_text_metrics_measure_dejavu_sans() -> None:
    # DejaVu Sans advances: '5' 1303, 'x' 1212, 'o' 1253 of 2048 units per em.
    assert text_width("5x5", 2048) == 1303 + 1212 + 1303
    assert text_width("o", 2048, bold=True) == 1407
    box = text_box(100, 50, "5x5", 10, "middle")
    assert box.x0 < 100 - text_width("5x5", 10) / 2 and box.y1 > 50


def test_text_metrics_match_the_font_file() -> None:
    tt_lib = pytest.importorskip("fontTools.ttLib")
    path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    try:
        font = tt_lib.TTFont(path)
    except OSError:
        pytest.skip("DejaVu Sans is not installed")
    cmap, metrics = font.getBestCmap(), font["hmtx"]
    for code in range(32, 127):
        assert text_width(chr(code), 2048) == metrics[cmap[code]][0]


def test_the_guides_figure_stride_2_kernel_3_on_2x2() -> None:
    # The convolution-arithmetic guide's transposed figure: a 3x3 kernel, stride 2, over a 5x5 input
    # gives 2x2; its transpose inserts one zero between the 2x2 inputs (3x3) and pads by 2 (7x7).
    report = shape_report((5, 5), 3, stride=2)
    root = parse(direct_diagram(report.transposed))
    assert grid(root, "input-grid") == (7, 7)
    assert len(rects(root, "input")) == 4
    assert len(rects(root, "zero")) == 9 - 4
    assert len(rects(root, "pad")) == 49 - 9
    assert grid(root, "output-grid") == (5, 5)
    assert len(rects(root, "output")) == 25 and len(rects(root, "output-current")) == 1
    window = rects(root, "kernel-window")[0]
    assert (float(window.get("width", 0)), float(window.get("height", 0))) == (3 * cell(root), 3 * cell(root))
    assert len(rects(root, "kernel-tap")) == 9
    taps = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tap-label"]
    # Flipped: the top-left tap of the window multiplies the last weight.
    assert taps[0] == "w2,2" and taps[-1] == "w0,0"


configurations = st.builds(
    lambda ndim, i, k, s, d, p, op: ((i,) * ndim if ndim == 1 else (i, i + 1), k, s, d, p, op),
    st.integers(1, 2),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(0, 4),
    st.integers(0, 2),
)


def report_for(config: tuple[tuple[int, ...], int, int, int, int, int]) -> ShapeReport | None:
    size, k, s, d, p, op = config
    try:
        return shape_report(size, k, stride=s, dilation=d, padding=p, output_padding=op, transposed=True)
    except ConvCalcError:
        return None


@given(configurations, st.integers(0, 10_000))
def test_geometry_matches_the_core_and_labels_never_overlap(
    config: tuple[tuple[int, ...], int, int, int, int, int], pick: int
) -> None:
    report = report_for(config)
    assume(report is not None)
    assert report is not None
    outputs = [a.output for a in report.transposed]
    placement = pick % math.prod(outputs)
    root = parse(direct_diagram(report.transposed, placement))
    size = cell(root)
    direct = report.direct
    padded = [a.stretched + a.pad_before + a.pad_after for a in direct]
    rows, columns = grid(root, "input-grid")
    assert [columns] == padded[-1:] and (rows == 1 if len(direct) == 1 else rows == padded[0])
    assert len(rects(root, "input")) + len(rects(root, "zero")) + len(rects(root, "pad")) == math.prod(padded)
    if all(min(a.pad_before, a.pad_after) >= 0 for a in direct):
        assert len(rects(root, "input")) == math.prod(a.size for a in direct)
        assert len(rects(root, "pad")) == math.prod(padded) - math.prod(a.stretched for a in direct)
    out_rows, out_cols = grid(root, "output-grid")
    assert out_rows * out_cols == math.prod(outputs) and out_cols == outputs[-1]
    # The kernel window sits at the placement's output position, with the dilated extent, inside the grid.
    place_row, place_col = divmod(placement, out_cols)
    window = rects(root, "kernel-window")[0]
    x, y = float(window.get("x", -1)), float(window.get("y", -1))
    w, h = float(window.get("width", -1)), float(window.get("height", -1))
    assert (x, y) == (place_col * size, place_row * size)
    assert w == direct[-1].dilated_kernel * size
    assert h == (size if len(direct) == 1 else direct[0].dilated_kernel * size)
    assert x + w <= columns * size and y + h <= rows * size
    assert len(rects(root, "kernel-tap")) == math.prod(a.kernel_size for a in direct)
    current = rects(root, "output-current")
    assert len(current) == 1
    assert (int(current[0].get("data-row", -1)), int(current[0].get("data-column", -1))) == (
        place_row,
        place_col,
    )
    # One numbering: the figure names the placement it was asked for.
    assert root.get("data-placement") == str(placement)
    assert f"placement {placement} (of 0..{math.prod(outputs) - 1}" in ET.tostring(root, encoding="unicode")
    assert_no_overlap(root, labels(root))


def test_placement_6_is_called_placement_6() -> None:
    axes = shape_report((5, 5), 3, stride=2).transposed
    text = direct_diagram(axes, 6)
    assert "placement 6 (of 0..24, row by row): the kernel computes output position (1, 1)" in text
    assert "placement 7" not in text


def test_a_negative_p_prime_is_said_as_a_crop() -> None:
    # Padding 2 > K-1 = 1: p' = 1 - 2 = -1 on each side, which crops the stretched input.
    axes = shape_report((3, 3), 2, stride=2, padding=2, transposed=True).transposed
    root = parse(direct_diagram(axes))
    legend = next(t.text for t in root.iter(f"{SVG}text") if t.get("data-legend") == "pad")
    assert legend is not None
    assert "before crops 1x1, after crops 1x1" in legend and "-1x-1" not in legend
    edges = root.findall(".//svg:path[@class='crop-edge']", NS)
    assert sorted((e.get("data-axis"), e.get("data-side")) for e in edges) == [
        ("0", "after"),
        ("0", "before"),
        ("1", "after"),
        ("1", "before"),
    ]
    mixed = shape_report((3, 3), 2, stride=2, padding=(1, 2), transposed=True).transposed
    assert "before crops 0x1, after crops 0x1" in direct_diagram(mixed)
    mixed = shape_report((3, 3), 2, stride=2, padding=(0, 2), transposed=True).transposed
    assert "before axis 0 pads 1, axis 1 crops 1, after axis 0 pads 1, axis 1 crops 1" in direct_diagram(
        mixed
    )


def _sweep(root: ET.Element) -> list[tuple[float, float]]:
    style = root.find("svg:style", NS)
    assert style is not None and style.text is not None
    rule = re.search(r"@keyframes sweep \{(.*?)\}\s*$", style.text, re.M)
    assert rule is not None
    moves = re.findall(r"([\d.]+)% \{transform: translate\(([-\d.]+)px, ([-\d.]+)px\)\}", rule[1])
    return [(float(x), float(y)) for _, x, y in moves]


@pytest.mark.parametrize(
    "axes",
    [
        shape_report((5, 5), 3, stride=2).transposed,
        shape_report(4, 3, stride=3, dilation=2, padding=1, transposed=True).transposed,
        shape_report((2, 3), (2, 3), stride=(2, 1), transposed=True).transposed,
    ],
)
def test_the_animation_sweeps_every_placement_without_script(axes: tuple[TransposedAxis, ...]) -> None:
    text = animated_diagram(axes)
    root = parse(text)
    count = placement_count(axes)
    assert "<script" not in text.lower() and "javascript:" not in text.lower()
    assert not [e for e in root.iter() if any(name.lower().startswith("on") for name in e.attrib)]
    assert root.find(".//svg:foreignObject", NS) is None
    assert int(root.get("data-placements", 0)) == count
    # The kernel visits placement n at the position the still figure draws for placement n.
    moves = _sweep(root)
    assert len(moves) == count + 1 and moves[-1] == moves[-2]
    for n, (x, y) in enumerate(moves[:-1]):
        still = parse(direct_diagram(axes, n))
        window = rects(still, "kernel-window")[0]
        assert (x, y) == (float(window.get("x", -1)), float(window.get("y", -1)))
    captions = [t for t in root.iter(f"{SVG}text") if "caption" in t.get("class", "")]
    assert [int(t.get("data-placement", -1)) for t in captions] == list(range(count))
    assert all((t.text or "").startswith(f"placement {n}: output (") for n, t in enumerate(captions))
    # Without animation (reduced motion, a still renderer) only the first caption shows.
    assert [t.get("opacity") for t in captions] == ["1"] + ["0"] * (count - 1)
    filled = rects(root, "computed step")
    assert len(filled) == count
    assert "prefers-reduced-motion" in text
    assert_no_overlap(root, static_labels(root))
    # The captions take turns: each is shown only from its placement's start to the next one's.
    for n in (0, count - 1):
        stops = re.search(rf"@keyframes caption{n} \{{(.*?)\}}\}}", text)
        assert stops is not None and f"{100 * n / count:.4f}% {{opacity: 1}}" in stops[1]


@given(configurations, st.sampled_from(["animated", "scatter", "overlap"]))
def test_no_figure_has_overlapping_labels(
    config: tuple[tuple[int, ...], int, int, int, int, int], name: str
) -> None:
    report = report_for(config)
    assume(report is not None)
    assert report is not None
    try:
        text = figure(report.transposed, name)
    except ConvCalcError as error:
        assert error.parameter == "size"  # a refusal by budget or emptiness, never a crash
        return
    root = parse(text)
    assert_no_overlap(root, static_labels(root))


def test_every_figure_is_well_formed_with_separate_labels() -> None:
    cases = [
        shape_report((5, 5), 3, stride=2).transposed,
        shape_report((3, 3), 4, stride=3, transposed=True).transposed,
        shape_report(3, 3, stride=2, padding=1, transposed=True).transposed,
        shape_report((2, 2), 2, transposed=True).transposed,
        shape_report((2, 3), 3, stride=2, dilation=2, padding=3, transposed=True).transposed,
    ]
    for axes in cases:
        for name in ("direct", "animated", "scatter", "overlap"):
            root = parse(figure(axes, name))
            assert_no_overlap(root, static_labels(root))


def test_refusals_come_before_the_drawing() -> None:
    # A billion inputs: refused from the arithmetic, before any list of cells exists.
    huge = shape_report(10**9, 3, stride=2, transposed=True).transposed
    for draw in (direct_diagram, animated_diagram):
        with pytest.raises(
            ConvCalcError, match=r"up to 40 cells per axis; axis 0 has 2,?000,?000,?003 cells"
        ):
            draw(huge)
    with pytest.raises(ConvCalcError, match=r"up to 16 inputs"):
        scatter_diagram(huge)
    with pytest.raises(ConvCalcError, match=r"up to 40 output positions a side"):
        overlap_diagram(huge, layers=32)
    with pytest.raises(ConvCalcError, match=r"up to 40 cells per axis; axis 0 has 43 cells"):
        direct_diagram(shape_report(20, 3, stride=2, transposed=True).transposed)
    with pytest.raises(ConvCalcError, match=r"1-D and 2-D configurations; got 3 spatial axes"):
        direct_diagram(shape_report((2, 2, 2), 3, transposed=True).transposed)
    with pytest.raises(ConvCalcError, match=r"placement must be from 0 to 3; got 4"):
        direct_diagram(shape_report(2, 3, transposed=True).transposed, 4)
    with pytest.raises(
        ConvCalcError, match=r"up to 256 kernel placements .* this configuration has 441 \(21x21\)"
    ):
        animated_diagram(shape_report((11, 11), 1, stride=2, transposed=True).transposed)
    with pytest.raises(ConvCalcError, match=r"up to 16 inputs .* got input 5x5"):
        scatter_diagram(shape_report((5, 5), 2, transposed=True).transposed)
    with pytest.raises(ConvCalcError, match=r"up to 40 output positions a side.* gives 3200"):
        overlap_diagram(shape_report(100, 4, stride=2, padding=1).transposed, layers=6)
    with pytest.raises(ConvCalcError, match=r"figure must be one of direct, animated, scatter, overlap"):
        figure(huge, "movie")
    with pytest.raises(ConvCalcError, match=r"placement picks the kernel position of the direct figure"):
        figure(huge, "scatter", placement=2)


def test_the_figures_need_neither_numpy_nor_rich() -> None:
    code = (
        "import sys\n"
        "from convcalc.core import shape_report\n"
        "from convcalc.explain.svg import figure\n"
        "axes = shape_report((3, 3), 4, stride=3, transposed=True).transposed\n"
        "for name in ('direct', 'animated', 'scatter', 'overlap'):\n"
        "    figure(axes, name)\n"
        "print(sorted(m for m in ('numpy', 'rich') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("size", [(2,), (4,), (2, 2), (3, 3)])
def test_every_piece_of_the_scatter_but_the_last_is_followed_by_a_plus(size: tuple[int, ...]) -> None:
    """Wrapped rows of scattered kernels still read as one sum: n inputs, n - 1 '+' signs."""
    axes = shape_report(size, 4, stride=2, padding=1, transposed=True).transposed
    root = parse(scatter_diagram(axes))
    pieces = math.prod(size)
    assert len([t for t in root.iter(f"{SVG}text") if t.text == "+"]) == pieces - 1
    assert_no_overlap(root, labels(root))


def test_a_large_direct_figure_is_shown_scaled_with_its_drawing_kept() -> None:
    """The tester's 35x35 direct form (16x16, k4 s2 p1, transposed) was over 1100 px wide on screen."""
    axes = shape_report((16, 16), 4, stride=2, padding=1, transposed=True).transposed
    root = parse(direct_diagram(axes))
    width, height = drawing_size(root)
    assert width > 1100
    assert float(root.get("width", 0)) == 960
    assert float(root.get("height", 0)) == round(height * 960 / width)
    small = parse(direct_diagram(shape_report((3,), 3, stride=2, transposed=True).transposed))
    assert small.get("width") == small.get("viewBox", "").split()[2]


def test_the_legend_has_no_padding_swatch_when_no_cell_is_padding() -> None:
    # p' = K-1-p = 1-2 = -1 on every side: nothing padded, the stretched input cropped (red edge).
    cropped = parse(direct_diagram(shape_report((3, 3), 2, stride=2, padding=2, transposed=True).transposed))
    assert rects(cropped, "pad") == [] and rects(cropped, "legend-pad") == []
    assert len(rects(cropped, "legend-crop-edge")) == 1
    # p' = 0: neither padding cells nor a crop edge, so no swatch at all beside the words.
    plain = parse(direct_diagram(shape_report((3, 3), 2, stride=2, padding=1, transposed=True).transposed))
    assert rects(plain, "pad") == [] and rects(plain, "legend-pad") == []
    assert rects(plain, "legend-crop-edge") == []
    # p' = 2: padding cells drawn, and their swatch.
    padded = parse(direct_diagram(shape_report((3, 3), 3, stride=2, transposed=True).transposed))
    assert rects(padded, "pad") and len(rects(padded, "legend-pad")) == 1
