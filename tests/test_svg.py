"""SVG diagrams: parsed with xml.etree, their geometry checked against the core's numbers."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcalc.core import ShapeReport, shape_report
from convcalc.errors import ConvCalcError
from convcalc.explain.svg import CELL, diagram_frames, direct_diagram

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)


def rects(root: ET.Element, kind: str) -> list[ET.Element]:
    return root.findall(f".//svg:rect[@class='{kind}']", NS)


def grid(root: ET.Element, name: str) -> tuple[int, int]:
    g = root.find(f".//svg:g[@class='{name}']", NS)
    assert g is not None
    return int(g.get("data-rows", "0")), int(g.get("data-columns", "0"))


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
    assert len(rects(root, "output")) + len(rects(root, "output-current")) == 25
    window = rects(root, "kernel-window")[0]
    assert (float(window.get("width", 0)), float(window.get("height", 0))) == (3 * CELL, 3 * CELL)
    assert len(rects(root, "kernel-tap")) == 9
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if (t.text or "").startswith("w")]
    # Flipped: the top-left tap of the window multiplies the last weight.
    assert labels[0] == "w2,2" and labels[-1] == "w0,0"


configurations = st.builds(
    lambda ndim, i, k, s, d, p, op: (
        (i,) * ndim if ndim == 1 else (i, i + 1),
        k,
        s,
        d,
        p,
        op,
    ),
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
def test_geometry_matches_the_core(
    config: tuple[tuple[int, ...], int, int, int, int, int], pick: int
) -> None:
    report = report_for(config)
    assume(report is not None)
    assert report is not None
    outputs = [a.output for a in report.transposed]
    placement = pick % math.prod(outputs)
    root = parse(direct_diagram(report.transposed, placement))
    direct = report.direct
    padded = [a.stretched + a.pad_before + a.pad_after for a in direct]
    rows, columns = grid(root, "input-grid")
    assert [columns] == padded[-1:] and (rows == 1 if len(direct) == 1 else rows == padded[0])
    assert len(rects(root, "input")) + len(rects(root, "zero")) + len(rects(root, "pad")) == math.prod(padded)
    if all(min(a.pad_before, a.pad_after) >= 0 for a in direct):
        assert len(rects(root, "input")) == math.prod(a.size for a in direct)
        stretched = math.prod(a.stretched for a in direct)
        assert len(rects(root, "pad")) == math.prod(padded) - stretched
    out_rows, out_cols = grid(root, "output-grid")
    assert out_rows * out_cols == math.prod(outputs)
    assert out_cols == outputs[-1]
    # The kernel window sits at the placement's output position, with the dilated extent, inside the grid.
    place_row, place_col = divmod(placement, out_cols)
    window = rects(root, "kernel-window")[0]
    x, y = float(window.get("x", -1)), float(window.get("y", -1))
    w, h = float(window.get("width", -1)), float(window.get("height", -1))
    assert (x, y) == (place_col * CELL, place_row * CELL)
    assert w == direct[-1].dilated_kernel * CELL
    assert h == (CELL if len(direct) == 1 else direct[0].dilated_kernel * CELL)
    assert x + w <= columns * CELL and y + h <= rows * CELL
    assert len(rects(root, "kernel-tap")) == math.prod(a.kernel_size for a in direct)
    current = rects(root, "output-current")
    assert len(current) == 1
    assert (int(current[0].get("data-row", -1)), int(current[0].get("data-column", -1))) == (
        place_row,
        place_col,
    )


def test_frames_walk_every_placement() -> None:
    report = shape_report(3, 2, stride=2, transposed=True)
    frames = diagram_frames(report.transposed)
    assert len(frames) == report.transposed[0].output == 6
    xs = [float(rects(parse(f), "kernel-window")[0].get("x", -1)) for f in frames]
    assert xs == [n * CELL for n in range(6)]


def test_refusals_name_the_bound() -> None:
    report = shape_report(40, 3, stride=2, transposed=True)
    with pytest.raises(ConvCalcError, match=r"up to 64 cells per axis; axis 0 has 83 cells"):
        direct_diagram(report.transposed)
    report3 = shape_report((2, 2, 2), 3, transposed=True)
    with pytest.raises(ConvCalcError, match=r"1-D and 2-D configurations; got 3 spatial axes"):
        direct_diagram(report3.transposed)
    with pytest.raises(ConvCalcError, match=r"placement must be from 0 to 3; got 4"):
        direct_diagram(shape_report(2, 3, transposed=True).transposed, 4)
