"""The model as a picture (`convcalc.inspect.svg`): well-formed SVG, no two labels or boxes colliding, no
edge through a box or a label, marks in words, the U-Net drawn as a U, budgets refused.

Every text's box is recomputed from the SVG itself with the DejaVu Sans metrics (as the explain figures'
tests do); the sizes on the edges are checked against torch running the model, the accepted sizes in
the caption against a brute force over input sizes.
"""

from __future__ import annotations

import html
import json
import random
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from itertools import combinations, pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.errors import BudgetExceeded, ConvCalcError
from convcalc.explain.svg.canvas import Box, text_box
from convcalc.explain.svg.palette import contrast
from convcalc.graph.model import ConcatSpec, ConvSpec, Graph, Node, PoolSpec, Tensor
from convcalc.graph.shapes import propagate
from convcalc.inspect.analysis import InspectReport, inspect_graph
from convcalc.inspect.svg import MAX_BOXES, Mark, Panel, inspect_svg, model_svg, models_svg
from convcalc.inspect.svg.draw import MARK_STYLES

SVG = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------------------------------------------
# Reading a picture back.


def _walk(element: ET.Element, dx: float = 0.0, dy: float = 0.0) -> Iterator[tuple[ET.Element, float, float]]:
    match = re.fullmatch(r"translate\(([-\d.]+),\s*([-\d.]+)\)", element.get("transform", ""))
    if match:
        dx, dy = dx + float(match[1]), dy + float(match[2])
    yield element, dx, dy
    for child in element:
        yield from _walk(child, dx, dy)


class Picture:
    """A model picture parsed back: its texts' boxes, node rectangles and edge polylines, on the page."""

    def __init__(self, text: str) -> None:
        self.root = ET.fromstring(text)
        assert self.root.tag == f"{SVG}svg"
        _, _, self.width, self.height = (float(v) for v in self.root.get("viewBox", "").split())
        self.texts: list[tuple[Box, ET.Element]] = []
        self.nodes: list[tuple[Box, ET.Element]] = []
        self.edges: list[tuple[list[tuple[float, float]], ET.Element]] = []
        for element, dx, dy in _walk(self.root):
            tag = element.tag.removeprefix(SVG)
            if tag == "text":
                box = text_box(
                    float(element.get("x", "nan")) + dx,
                    float(element.get("y", "nan")) + dy,
                    element.text or "",
                    float(element.get("font-size", "nan")),
                    element.get("text-anchor", "start"),
                    element.get("font-weight") == "bold",
                )
                self.texts.append((box, element))
            elif tag == "rect" and element.get("class") == "node":
                x, y = float(element.get("x", 0)) + dx, float(element.get("y", 0)) + dy
                w, h = float(element.get("width", 0)), float(element.get("height", 0))
                self.nodes.append((Box(x, y, x + w, y + h), element))
            elif tag == "path" and element.get("class") in ("edge", "skip"):
                points = [
                    (float(a) + dx, float(b) + dy)
                    for a, b in re.findall(r"[ML]([-\d.]+),([-\d.]+)", element.get("d", ""))
                ]
                self.edges.append((points, element))

    def by_class(self, name: str) -> list[tuple[Box, ET.Element]]:
        return [(b, e) for b, e in self.texts if e.get("class") == name]

    def node(self, name: str) -> tuple[Box, ET.Element]:
        found = [(b, e) for b, e in self.nodes if e.get("data-node") == name]
        assert len(found) == 1, name
        return found[0]

    def inside(self, rect: Box) -> list[ET.Element]:
        return [
            e
            for b, e in self.texts
            if rect.x0 <= b.x0 and b.x1 <= rect.x1 and rect.y0 <= b.y0 and b.y1 <= rect.y1
        ]


def _crosses(points: list[tuple[float, float]], box: Box, e: float = 0.5) -> bool:
    """Whether an axis-parallel polyline runs through the box's inside (touching its edge is allowed)."""
    for (ax, ay), (bx, by) in pairwise(points):
        x0, x1, y0, y1 = min(ax, bx), max(ax, bx), min(ay, by), max(ay, by)
        if y0 == y1 and box.y0 + e < y0 < box.y1 - e and x0 < box.x1 - e and x1 > box.x0 + e:
            return True
        if x0 == x1 and box.x0 + e < x0 < box.x1 - e and y0 < box.y1 - e and y1 > box.y0 + e:
            return True
    return False


def assert_clean(picture: Picture) -> None:
    """Nothing collides: texts with texts; node boxes with node boxes and with texts that are not theirs;
    edges with boxes and with size labels; everything on the page."""
    for box, element in picture.texts + picture.nodes:
        assert box.x0 >= 0 and box.y0 >= 0, element.text
        assert box.x1 <= picture.width and box.y1 <= picture.height, element.text
    for (a, ea), (b, eb) in combinations(picture.texts, 2):
        assert not a.overlaps(b), f"{ea.text!r} at {a} overlaps {eb.text!r} at {b}"
    for (a, ea), (b, eb) in combinations(picture.nodes, 2):
        assert not a.overlaps(b), f"boxes {ea.get('data-node')} and {eb.get('data-node')} overlap"
    for rect, element in picture.nodes:
        own = picture.inside(rect)
        assert own, element.get("data-node")
        for box, text in picture.texts:
            if text not in own:
                assert not box.overlaps(rect), f"{text.text!r} overlaps box {element.get('data-node')}"
    labels = [b for b, e in picture.texts if e.get("class") in ("size", "band-size")]
    for points, path in picture.edges:
        for rect, element in picture.nodes:
            assert not _crosses(points, rect), f"edge {path.get('d')} runs through {element.get('data-node')}"
        for box in labels:
            assert not _crosses(points, box), f"edge {path.get('d')} runs through a label at {box}"
        assert all(0 <= x <= picture.width and 0 <= y <= picture.height for x, y in points)


# ---------------------------------------------------------------------------------------------------
# Models built as Graphs (no framework needed).


def _conv(name: str, x: str, y: str, c_in: int, c_out: int, k: int = 3, s: int = 1, p: int = 1) -> Node:
    spec = ConvSpec("pytorch", (k, k), (s, s), (1, 1), ((p, p), (p, p)), c_in, c_out)
    return Node(name, "Conv2d", "conv", (x,), (y,), spec)


def unet_graph(depth: int = 3) -> Graph:
    """Pool 2 down, ConvTranspose k2 s2 up, concatenated skips: accepts multiples of 2**depth."""
    nodes = [_conv("inc", "x", "e0", 3, 4)]
    for n in range(depth):
        nodes.append(
            Node(
                f"pool{n}",
                "MaxPool2d",
                "pool",
                (f"e{n}",),
                (f"p{n}",),
                PoolSpec("max", (2, 2), (2, 2), ((0, 0), (0, 0))),
            )
        )
        nodes.append(_conv(f"down{n}", f"p{n}", f"e{n + 1}", 4, 4))
    y = f"e{depth}"
    for n in reversed(range(depth)):
        spec = ConvSpec("pytorch", (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), 4, 4)
        nodes.append(Node(f"up{n}", "ConvTranspose2d", "conv_transpose", (y,), (f"u{n}",), spec))
        nodes.append(Node(f"cat{n}", "cat", "concat", (f"e{n}", f"u{n}"), (f"c{n}",), ConcatSpec(1)))
        nodes.append(_conv(f"conv{n}", f"c{n}", f"d{n}", 8, 4))
        y = f"d{n}"
    return Graph("unet", "pytorch", (Tensor("x", (1, 3, "h", "w")),), tuple(nodes), (y,)).checked()


def deep_graph(blocks: int = 66) -> Graph:
    """A residual network of ``blocks`` blocks (conv, ReLU, conv, add: 3 boxes each), a stride-2 conv
    every 20 blocks: more than 200 boxes."""
    nodes = [_conv("stem", "x", "t0", 3, 8)]
    x = "t0"
    for n in range(blocks):
        if n and n % 20 == 0:
            nodes.append(_conv(f"down{n}", x, f"s{n}", 8, 8, s=2))
            x = f"s{n}"
        nodes.append(_conv(f"b{n}.a", x, f"a{n}", 8, 8))
        nodes.append(Node(f"b{n}.relu", "ReLU", "shape_preserving", (f"a{n}",), (f"r{n}",)))
        nodes.append(_conv(f"b{n}.b", f"r{n}", f"b{n}", 8, 8))
        nodes.append(Node(f"b{n}.add", "add", "elementwise", (x, f"b{n}"), (f"o{n}",)))
        x = f"o{n}"
    return Graph("deep", "pytorch", (Tensor("x", (1, 3, 64, 64)),), tuple(nodes), (x,)).checked()


def chain_graph(count: int) -> Graph:
    nodes = [_conv(f"c{n}", "x" if n == 0 else f"t{n - 1}", f"t{n}", 4, 4) for n in range(count)]
    return Graph(
        "chain", "pytorch", (Tensor("x", (1, 4, 16, 16)),), tuple(nodes), (f"t{count - 1}",)
    ).checked()


def picture_of(report: InspectReport) -> Picture:
    picture = Picture(inspect_svg(report))
    assert_clean(picture)
    return picture


# ---------------------------------------------------------------------------------------------------
# Graph models.


@pytest.mark.parametrize("size", [64, 65, 36])
def test_a_unet_is_drawn_as_a_u_with_straight_skips(size: int) -> None:
    picture = picture_of(inspect_graph(unet_graph(), [(1, 3, size, size)]))
    tops = {
        name: picture.node(name)[0].y0 for name in ("inc", "down0", "down1", "down2", "up1", "up0", "conv0")
    }
    # The encoder steps down, the decoder back up, each level in its band.
    assert tops["inc"] < tops["down0"] < tops["down1"] < tops["down2"]
    assert tops["down2"] > tops["up1"] > tops["up0"]
    lefts = [picture.node(n)[0].x0 for n in ("inc", "down0", "down1", "down2", "up2", "up1", "up0", "conv0")]
    assert lefts == sorted(lefts)
    # Each skip crosses at its level: one horizontal segment from the encoder to its concatenation.
    skips = [points for points, path in picture.edges if path.get("class") == "skip"]
    assert len(skips) == 3
    for points in skips:
        assert len(points) == 2 and points[0][1] == points[1][1], points
    bands = [e.text for _, e in sorted(picture.by_class("band-size"), key=lambda p: p[0].y0)]
    sides = [size]
    for _ in range(3):
        sides.append(sides[-1] // 2)
    assert [b.split(",")[0] for b in bands] == [f"{s}x{s}" for s in sides]


def test_the_failing_merge_is_marked_in_words_and_colour() -> None:
    report = inspect_graph(unet_graph(), [(1, 3, 36, 36)])  # 36 = 4 * 9: the deepest skip fails
    assert [m.name for m in report.merges]
    picture = picture_of(report)
    for merge in report.merges:
        rect, element = picture.node(merge.name)
        assert element.get("stroke") == MARK_STYLES["error"][1]
        words = " ".join(e.text or "" for e in picture.inside(rect) if e.get("class") == "mark")
        assert words.startswith("FAILS:") and all(
            "x".join(map(str, shape)) in words for shape in merge.shapes
        ), words
    unmarked = [e for _, e in picture.nodes if e.get("data-node") not in {m.name for m in report.merges}]
    assert all(e.get("stroke") != MARK_STYLES["error"][1] for e in unmarked)


def test_the_caption_lists_sizes_that_run_and_none_between() -> None:
    """The accepted sizes in the caption, checked by running the graph on every size up to the fifth."""
    report = inspect_graph(unet_graph(), [(1, 3, 64, 64)])
    caption = " ".join(e.text or "" for _, e in Picture(inspect_svg(report)).by_class("caption"))
    listed = [
        int(v) for v in re.findall(r"\d+", re.search(r"every spatial axis: ((?:\d+, )+)\.\.\.", caption)[1])
    ]
    assert len(listed) == 5
    running = [s for s in range(1, listed[-1] + 1) if propagate(unet_graph(), ((1, 3, s, s),)).ok]
    assert running == listed


def test_marks_given_by_a_caller_are_drawn_with_their_text_and_kind() -> None:
    graph = unet_graph()
    sizes = propagate(graph, ((1, 3, 32, 32),)).shapes
    marks = {
        "up1": Mark("changed: pads 1:1 -> 0:2", "changed"),
        "down0": Mark("shifted by one row", "warning"),
    }
    picture = Picture(model_svg(graph, sizes, marks, title=["A vs B"]))
    assert_clean(picture)
    for name, mark in marks.items():
        rect, element = picture.node(name)
        assert element.get("stroke") == MARK_STYLES[mark.kind][1]
        assert " ".join(e.text or "" for e in picture.inside(rect) if e.get("class") == "mark") == mark.text
    legend = " ".join(e.text or "" for _, e in picture.by_class("legend"))
    assert "changed" in legend and "warning" in legend
    with pytest.raises(
        ConvCalcError, match="mark kind must be one of error, changed, warning, knock_on; got 'red'"
    ):
        Mark("x", "red")
    with pytest.raises(ConvCalcError, match="marks name nodes that unet does not have: nowhere"):
        model_svg(graph, sizes, {"nowhere": Mark("x")})


def test_two_models_stack_under_their_headings_with_their_own_marks() -> None:
    """What `diff --svg` draws: model A above model B, a changed layer marked in each."""
    a = unet_graph()
    nodes = tuple(
        replace(n, spec=n.spec._replace(kernel_size=(5, 5), padding=((2, 2), (2, 2))))
        if n.name == "down1"
        else n
        for n in a.nodes
    )
    b = replace(a, source="unet-converted", nodes=nodes)
    panels = [
        Panel(
            g,
            propagate(g, ((1, 3, 32, 32),)).shapes,
            {"down1": Mark(f"pads in {g.source}", "changed")},
            g.source,
        )
        for g in (a, b)
    ]
    picture = Picture(models_svg(panels, title=["unet vs unet-converted"], caption=["1 layer changed"]))
    assert_clean(picture)
    headings = sorted(picture.by_class("heading"), key=lambda p: p[0].y0)
    assert [e.text for _, e in headings] == ["unet", "unet-converted"]
    marked = sorted(
        ((box, e) for box, e in picture.nodes if e.get("data-node") == "down1"), key=lambda p: p[0].y0
    )
    assert len(marked) == 2 and headings[1][0].y0 > marked[0][0].y1 and marked[1][0].y0 > headings[1][0].y1
    texts = [
        " ".join(t.text or "" for t in picture.inside(box) if t.get("class") == "mark") for box, _ in marked
    ]
    assert texts == ["pads in unet", "pads in unet-converted"]
    # Each box says its own arguments: B has another kernel and padding (the same sizes).
    titles = [t.text for box, _ in marked for t in picture.inside(box) if t.get("class") == "title"]
    assert titles == ["Conv2d k3 p1", "Conv2d k5 p2"]
    assert "?" not in {e.text for _, e in picture.by_class("size")}  # both run: every size known


def test_long_words_and_many_folded_ops_keep_a_box_narrow() -> None:
    graph = unet_graph()
    nodes = list(graph.nodes)
    for n in range(8):  # eight activations after inc, each a different op
        nodes.insert(
            1 + n,
            Node(f"act{n}", f"Act{n}", "shape_preserving", ("e0" if n == 0 else f"z{n - 1}",), (f"z{n}",)),
        )
    nodes = [replace(node, inputs=("z7",)) if node.name == "pool0" else node for node in nodes]
    nodes = [replace(node, inputs=("z7", "u0")) if node.name == "cat0" else node for node in nodes]
    graph = replace(graph, nodes=tuple(nodes)).checked()
    sizes = propagate(graph, ((1, 3, 32, 32),)).shapes
    picture = Picture(model_svg(graph, sizes, {"up0": Mark("/" + "very_long_path_component" * 12)}))
    assert_clean(picture)
    rect, _ = picture.node("up0")
    assert rect.x1 - rect.x0 < 320
    folded = [e.text for e in picture.inside(picture.node("inc")[0]) if e.get("class") == "folded"]
    assert folded == ["+ Act0 Act1 Act2 +5 more"]


def test_every_text_reads_on_what_it_is_drawn_on() -> None:
    """WCAG contrast of at least 4.5 between each text's colour and the fill under it: a box's, a band's
    stripe or the white page (palette.contrast, the explain figures' rule)."""
    report = inspect_graph(unet_graph(), [(1, 3, 36, 36)])
    marks = {"up1": Mark("changed here", "changed"), "down0": Mark("a warning", "warning")}
    for text in (inspect_svg(report), model_svg(report.graph, report.run.shapes, marks)):
        picture = Picture(text)
        stripes = []
        for element, _, dy in _walk(picture.root):
            if element.tag == f"{SVG}rect" and element.get("class") == "band":
                y = float(element.get("y", 0)) + dy
                stripes.append((y, y + float(element.get("height", 0)), element.get("fill", "")))
        for box, element in picture.texts:
            under = next((r.get("fill", "") for b, r in picture.nodes if element in picture.inside(b)), None)
            if under is None:
                middle = (box.y0 + box.y1) / 2
                under = next((fill for y0, y1, fill in stripes if y0 <= middle <= y1), "#ffffff")
            assert contrast(element.get("fill", "#000000"), under) >= 4.5, (
                element.text,
                element.get("fill"),
                under,
            )


def test_a_deep_model_folds_into_columns_and_stays_readable() -> None:
    graph = deep_graph()
    report = inspect_graph(graph, [(1, 3, 64, 64)])
    picture = picture_of(report)
    assert len(picture.nodes) > 200
    # Folded: more than one column per scale, and roughly as wide as tall.
    columns = {round(b.x0) for b, _ in picture.nodes}
    assert len(columns) >= 8
    assert 0.4 < picture.width / picture.height < 2.5
    # Shown at full size where the window is as wide (never wider than drawn): the smallest text is readable.
    assert picture.root.get("width") == "100%"
    assert picture.root.get("style") == f"max-width:{picture.width:g}px;height:auto"
    assert min(float(e.get("font-size", 0)) for _, e in picture.texts) >= 10


def test_a_long_chain_is_a_snake() -> None:
    picture = picture_of(inspect_graph(chain_graph(120), [(1, 4, 16, 16)]))
    firsts = [picture.node(f"c{n}")[0] for n in range(120)]
    columns = sorted({round(b.x0) for b in firsts})
    assert len(columns) > 3
    # Columns alternate: down, then up.
    first_column = [b for b in firsts if round(b.x0) == columns[0]]
    second_column = [b for b in firsts if round(b.x0) == columns[1]]
    assert [b.y0 for b in first_column] == sorted(b.y0 for b in first_column)
    assert [b.y0 for b in second_column] == sorted((b.y0 for b in second_column), reverse=True)


def test_too_many_boxes_are_refused_before_the_layout() -> None:
    graph = chain_graph(MAX_BOXES + 1)
    sizes = {name: (1, 4, 16, 16) for name in ["x", *(f"t{n}" for n in range(MAX_BOXES + 1))]}
    with pytest.raises(BudgetExceeded, match="MAX_BOXES is 600") as error:
        model_svg(graph, sizes)
    assert (error.value.budget, error.value.requested, error.value.parameter) == ("MAX_BOXES", 601, "svg")
    Picture(model_svg(chain_graph(MAX_BOXES - 1), sizes))  # one input box + 599: at the limit


def test_unknown_sizes_are_question_marks() -> None:
    graph = unet_graph()
    picture = Picture(model_svg(graph, {"x": (1, 3, 16, 16)}))
    assert_clean(picture)
    assert {e.text for _, e in picture.by_class("size")} == {"1x3x16x16", "?", "? (output)"}


def random_graph(rng: random.Random, count: int) -> Graph:
    """A random dataflow graph: convolutions (stride 1 and 2), transposed convolutions, activations,
    adds and concatenations reading recent or any earlier tensors; sometimes a second input."""
    tensors = ["x", "x2"] if rng.random() < 0.3 else ["x"]
    nodes: list[Node] = []
    for n in range(count):
        kind = rng.choice(["conv", "conv", "down", "up", "relu", "add", "cat"])
        source = rng.choice(tensors[-4:]) if rng.random() < 0.8 else rng.choice(tensors)
        others = tuple(dict.fromkeys([source, *rng.sample(tensors, min(len(tensors), rng.randint(1, 3)))]))
        out = f"t{n}"
        if kind in ("add", "cat") and len(others) > 1:
            spec = ConcatSpec(1) if kind == "cat" else None
            nodes.append(
                Node(f"n{n}", kind, "concat" if kind == "cat" else "elementwise", others, (out,), spec)
            )
        elif kind == "up":
            spec = ConvSpec("pytorch", (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), 4, 4)
            nodes.append(Node(f"n{n}", "ConvTranspose2d", "conv_transpose", (source,), (out,), spec))
        elif kind == "relu":
            nodes.append(Node(f"n{n}", "ReLU", "shape_preserving", (source,), (out,)))
        else:
            nodes.append(_conv(f"n{n}", source, out, 4, 4, s=2 if kind == "down" else 1))
        tensors.append(out)
    inputs = tuple(Tensor(name, (1, 4, 32, 32)) for name in tensors if name.startswith("x"))
    return Graph("random", "pytorch", inputs, tuple(nodes), (tensors[-1],)).checked()


@settings(max_examples=20)
@given(st.randoms(use_true_random=False), st.integers(1, 60))
def test_any_graph_draws_without_collisions(rng: random.Random, count: int) -> None:
    """Branches, merges of several operands, second inputs, mismatching merges, marks of any length:
    still no label or box collides and no edge runs through one."""
    graph = random_graph(rng, count)
    run = propagate(graph, tuple((1, 4, 32, 32) for _ in graph.inputs))
    chosen = rng.sample(graph.nodes, min(3, len(graph.nodes)))
    marks = {
        n.name: Mark("marked " * rng.randint(1, 9), rng.choice(["error", "changed", "warning"]))
        for n in chosen
    }
    assert_clean(Picture(model_svg(graph, run.shapes, marks)))


# ---------------------------------------------------------------------------------------------------
# Published models, read from PyTorch; the sizes on the edges checked against torch running them.


@pytest.fixture(scope="module")
def im() -> Iterator[object]:
    pytest.importorskip("torch")
    sys.path.insert(0, str(Path(__file__).parent))
    import inspect_models
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is many times faster on a loaded machine
    yield inspect_models
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("unet", 64),
        ("unet", 65),
        ("dcgan_generator", None),
        ("dcgan_discriminator", None),
        ("pix2pix", 96),
        ("decoder_1d", 10),
    ],
)
def test_published_models_draw_cleanly_with_torchs_sizes(im: object, name: str, size: int | None) -> None:
    import torch

    from convcalc.inspect.torch_reader import read_module

    factory, shape = im.MODELS[name]  # type: ignore[attr-defined]
    if size is not None:
        shape = shape[:2] + (size,) * (len(shape) - 2)
    torch.manual_seed(0)
    module = factory().eval()
    report = inspect_graph(read_module(module, shape, name), [shape])
    picture = picture_of(report)
    output = [e.text for _, e in picture.by_class("size") if (e.text or "").endswith("(output)")]
    if report.runs:
        with torch.no_grad():
            real = tuple(module(torch.zeros(shape)).shape)
        assert output == ["x".join(map(str, real)) + " (output)"]
    else:
        with pytest.raises(RuntimeError), torch.no_grad():  # torch refuses the concatenation too
            module(torch.zeros(shape))
        marked = [e.get("data-node") for _, e in picture.nodes if e.get("stroke") == MARK_STYLES["error"][1]]
        assert marked == [m.name for m in report.merges]


# ---------------------------------------------------------------------------------------------------
# The metrics against a real renderer.


def test_chromium_draws_every_text_inside_its_measured_box(tmp_path: Path) -> None:
    """Headless Chromium lays the picture out and reports each text's real box (getBBox): each lies
    within the box the tests above recompute, so that no overlap there means none on screen. Skipped
    without Chromium (Debian: apt-get install chromium)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("Chromium is not installed")
    report = inspect_graph(unet_graph(), [(1, 3, 36, 36)])
    text = inspect_svg(report)
    page = tmp_path / "measure.html"
    page.write_text(
        "<html><body>" + text + "<script>const out = [];"
        "for (const t of document.querySelectorAll('text')) {const b = t.getBBox();"
        "out.push([t.textContent, b.x, b.y, b.width, b.height]);}"
        "document.body.innerHTML = '<pre>' + JSON.stringify(out) + '</pre>';</script></body></html>",
        encoding="utf-8",
    )
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
    flags += ["--disable-background-networking", "--disable-component-update", "--disable-quic"]
    flags.append("--window-size=4000,3000")  # wider than the drawing: shown at its own size
    profile = tmp_path / "profile"
    result = subprocess.run(
        [binary, *flags, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"<pre>(.*)</pre>", result.stdout, re.S)
    assert found is not None, result.stderr[-500:]
    real = json.loads(html.unescape(found[1]))
    ours = [(element, box) for box, element in _local_boxes(text)]
    assert len(real) == len(ours) > 50
    for (content, x, y, width, height), (element, box) in zip(real, ours):
        assert content == element.text
        assert box.x0 <= x + 0.5 and x + width <= box.x1 + 0.5, (content, x, width, box)
        assert box.y0 <= y + 0.5 and y + height <= box.y1 + 0.5, (content, y, height, box)


@pytest.mark.parametrize("window", [1200, 800])
def test_chromium_fits_the_picture_to_the_window(tmp_path: Path, window: int) -> None:
    """A U-Net's picture is wider than a browser window: Chromium shows it at the window's width (its
    height following the drawing's proportions), and at its own width in a wider window."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("Chromium is not installed")
    text = inspect_svg(inspect_graph(unet_graph(), [(1, 3, 36, 36)]))
    _, _, drawn_width, drawn_height = (float(v) for v in ET.fromstring(text).get("viewBox", "").split())
    page = tmp_path / "fit.html"
    page.write_text(
        "<html><body style='margin:0'>" + text + "<script>const b = document.querySelector('svg')"
        ".getBoundingClientRect(); const e = document.documentElement; document.body.innerHTML = '<pre>'"
        " + JSON.stringify([b.width, b.height, e.clientWidth, e.scrollWidth]) + '</pre>';</script>"
        "</body></html>",
        encoding="utf-8",
    )
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
    flags += ["--disable-background-networking", "--disable-component-update", f"--window-size={window},900"]
    result = subprocess.run(
        [binary, *flags, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"<pre>(.*)</pre>", result.stdout, re.S)
    assert found is not None, result.stderr[-500:]
    width, height, inner, scrolled = json.loads(html.unescape(found[1]))
    assert drawn_width > 800  # the test means something: the drawing is wider than the small window
    assert width == pytest.approx(min(inner, drawn_width), abs=1)  # inner: the window less a scroll bar
    assert scrolled <= inner  # nothing to scroll sideways
    assert height == pytest.approx(width * drawn_height / drawn_width, abs=2)


def _local_boxes(text: str) -> list[tuple[Box, ET.Element]]:
    """Each text's measured box in its own coordinates (getBBox ignores the groups' translations)."""
    return [
        (
            text_box(
                float(e.get("x", "nan")),
                float(e.get("y", "nan")),
                e.text or "",
                float(e.get("font-size", "nan")),
                e.get("text-anchor", "start"),
                e.get("font-weight") == "bold",
            ),
            e,
        )
        for e in ET.fromstring(text).iter(f"{SVG}text")
    ]
