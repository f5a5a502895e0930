"""The words in a model picture: padding that differs before and after is spelled per axis by name, and
the caption spells out the abbreviations the boxes use.

Witness: the pads each ONNX file stores, read with onnx itself ([h_begin, w_begin, h_end, w_end]), and
the box texts read back from the SVG as a browser would find them (the <text> elements).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.cli import app

DIFF = Path(__file__).parent / "data" / "diff"
onnx = pytest.importorskip("onnx")


def texts(svg: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", t).replace("&amp;", "&") for t in re.findall(r"<text[^>]*>.*?</text>", svg)
    ]


def stored_pads(path: Path, name: str) -> list[int]:
    node = next(n for n in onnx.load(str(path)).graph.node if n.name == name)
    return list(next(a.ints for a in node.attribute if a.name == "pads"))


def test_asymmetric_pads_read_per_axis_by_name(tmp_path: Path) -> None:
    assert stored_pads(DIFF / "net_moved.onnx", "/head/Conv") == [0, 1, 2, 1]  # H 0:2, W 1:1
    assert stored_pads(DIFF / "net.onnx", "/head/Conv") == [1, 1, 1, 1]
    out = tmp_path / "moved.svg"
    result = CliRunner().invoke(app, ["inspect", str(DIFF / "net_moved.onnx"), "--svg", str(out)])
    assert result.exit_code == 0, result.output
    words = texts(out.read_text())
    assert "Conv k3 pad H 0:2 W 1:1" in words and "Conv k3 s2 p1" in words
    assert not any(re.search(r"p\d+:\d+x", w) for w in words)  # the terse 'p0:2x1' is gone
    caption = " ".join(words)  # the caption wraps over several lines
    assert (
        "In the boxes: k kernel, s stride, p padding, pad b:a padding b before and a after, "
        "op output_padding." in caption
    )


def test_the_diff_picture_shows_both_spellings_and_one_key(tmp_path: Path) -> None:
    out = tmp_path / "diff.svg"
    CliRunner().invoke(app, ["diff", str(DIFF / "net.onnx"), str(DIFF / "net_moved.onnx"), "--svg", str(out)])
    words = texts(out.read_text())
    assert words.count("Conv k3 p1") == 1 and words.count("Conv k3 pad H 0:2 W 1:1") == 1
    assert " ".join(words).count("In the boxes:") == 1
