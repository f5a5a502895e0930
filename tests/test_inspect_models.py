"""inspect against ONNX Runtime on published models exported by torch.onnx.export (skipped without them).

Every intermediate tensor is added as a graph output; for odd and even input sizes ONNX Runtime's
shapes, and whether it runs at all, must be what inspect says. The accepted input sizes are checked
size by size (brute force over a range), receptive fields against torch's own gradients, and MACs
against torch.utils.flop_counter.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

sys.path.insert(0, str(Path(__file__).parent))
import inspect_models as im  # noqa: E402

from convcalc.graph.shapes import (  # noqa: E402
    Run,
    propagate,
    spatial_axes,
)
from convcalc.inspect.analysis import inspect_graph  # noqa: E402
from convcalc.inspect.onnx_reader import read_onnx  # noqa: E402


def _clean(run: Run, tensor_axis: int) -> bool:
    """The run has no refusal, no stop, no disagreeing merge and no window leaving an input unread."""
    dropped = any(
        r.dropped[spatial_axes(r.node.layout, len(r.inputs[0])).index(tensor_axis)]
        for r in run.nodes
        if any(r.dropped) and tensor_axis in spatial_axes(r.node.layout, len(r.inputs[0]))
    )
    return run.ok and not run.stopped and not dropped


SIZES = {
    "dcgan_discriminator": (64, 65, 66, 95, 33, 31, 17, 7),
    "unet": (64, 65, 48, 255, 256, 33, 17, 15, 7),
    "pix2pix": (64, 65, 96, 97, 100, 127, 63, 31),
    "decoder_1d": (10, 11, 1, 2, 7),
}


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    """Tiny models: one torch thread is many times faster than several on a loaded machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any, list[str]]]:
    torch.manual_seed(0)
    out = {}
    directory = tmp_path_factory.mktemp("models")
    for name, (factory, shape) in im.MODELS.items():
        data = im.export(factory(), shape, dynamic=name != "dcgan_generator")
        path = directory / f"{name}.onnx"
        path.write_bytes(data)
        full, names = im.with_every_output(data)
        out[name] = (path, im.ort_session(full), names)
    return out


def _shape(name: str, size: int) -> tuple[int, ...]:
    base = im.MODELS[name][1]
    return base[:2] + (size,) * (len(base) - 2)


@pytest.mark.parametrize("name", sorted(SIZES))
def test_every_intermediate_shape_matches_onnx_runtime(
    name: str, exported: dict[str, tuple[Path, Any, list[str]]]
) -> None:
    path, session, names = exported[name]
    graph = read_onnx(path)
    for size in SIZES[name]:
        shape = _shape(name, size)
        run = propagate(graph, (shape,))
        ort = im.run_ort(session, shape)
        if isinstance(ort, str):
            assert not run.ok, f"{name} at {size}: ONNX Runtime fails ({ort[:120]}), inspect says it runs"
            continue
        assert run.ok, f"{name} at {size}: ONNX Runtime runs, inspect says {run.failure or run.mismatches}"
        for tensor in names:
            assert run.shapes[tensor] == ort[tensor], (name, size, tensor)


def test_dcgan_generator_shapes_match_onnx_runtime(exported: dict[str, tuple[Path, Any, list[str]]]) -> None:
    path, session, names = exported["dcgan_generator"]
    report = inspect_graph(read_onnx(path))
    ort = im.run_ort(session, (1, 100, 1, 1))
    assert not isinstance(ort, str)
    assert all(report.run.shapes[t] == ort[t] for t in names)
    assert report.run.shapes["y"] == (1, 3, 64, 64)
    # The tutorial's k4 s2 p1 layers overlap evenly (2 taps per output on every phase).
    assert [row.checkerboard for row in report.layers if row.kind == "conv_transpose"] == [False] * 5


@pytest.mark.parametrize(
    ("name", "low", "high"), [("unet", 1, 80), ("pix2pix", 1, 140), ("decoder_1d", 1, 20)]
)
def test_accepted_sizes_by_brute_force(
    name: str, low: int, high: int, exported: dict[str, tuple[Path, Any, list[str]]]
) -> None:
    path, session, _ = exported[name]
    graph = read_onnx(path)
    report = inspect_graph(graph, [_shape(name, 64 if name != "decoder_1d" else 10)])
    axis = report.axes[0]
    assert axis.accepted is not None
    for size in range(low, high + 1):
        shape = _shape(name, size)
        run = propagate(graph, (shape,))
        accepted = axis.accepted.contains(size)
        assert accepted == _clean(run, axis.tensor_axis), (name, size)
        if accepted:
            # what inspect accepts, ONNX Runtime runs
            assert not isinstance(im.run_ort(session, shape), str), (name, size)
        elif isinstance(im.run_ort(session, shape), str):
            assert not run.ok


def test_unet_at_an_odd_size_names_the_skips_and_fixes(
    exported: dict[str, tuple[Path, Any, list[str]]],
) -> None:
    path, session, _ = exported["unet"]
    report = inspect_graph(read_onnx(path), [(1, 3, 255, 255)])
    assert int(report.exit_code) == 1
    assert len(report.merges) == 4
    assert report.headline().startswith("8 findings: 4 skip mismatches at 255x255")
    axis = report.axes[0]
    assert axis.accepted is not None
    # ONNX Runtime truncates: its MaxPool gives one window on a 1-element input, so layers run from 1
    assert (axis.accepted.period, axis.accepted.classes, axis.minimum) == (16, (16,), 1)
    assert axis.accepted.nearest(255) == (240, 256)
    # The suggested input sizes run in ONNX Runtime; the given one does not.
    assert isinstance(im.run_ort(session, (1, 3, 255, 255)), str)
    for size in (240, 256):
        assert not isinstance(im.run_ort(session, (1, 3, size, size)), str)
    # Every merge's first fix is an output_padding on the up-convolution feeding it.
    assert all(m.fixes and m.fixes[0].startswith("output_padding=[1, 1] on /ups.") for m in report.merges)


def test_output_padding_fixes_run_in_onnx_runtime(exported: dict[str, tuple[Path, Any, list[str]]]) -> None:
    """Apply every suggested output_padding to the ONNX file itself: ONNX Runtime then runs 255x255."""
    import onnx

    path, _, _ = exported["unet"]
    model = onnx.load(str(path))
    report = inspect_graph(read_onnx(path), [(1, 3, 255, 255)])
    fixed = {m.fixes[0].split(" on ")[1].split(" (")[0] for m in report.merges}
    for node in model.graph.node:
        if node.name in fixed:
            node.attribute.append(onnx.helper.make_attribute("output_padding", [1, 1]))
    session = im.ort_session(model.SerializeToString())
    assert im.run_ort(session, (1, 3, 255, 255)) == {"y": (1, 2, 255, 255)}


def _support_width(gradient: Any, spatial: int) -> int:
    nonzero = gradient.abs().sum(dim=tuple(range(gradient.dim() - spatial))) != 0
    widths = []
    for axis in range(spatial):
        others = tuple(a for a in range(spatial) if a != axis)
        line = nonzero.any(dim=others) if others else nonzero
        index = line.nonzero().flatten()
        widths.append(int(index.max() - index.min() + 1) if len(index) else 0)
    return max(widths)


@pytest.mark.parametrize(("name", "size"), [("decoder_1d", 10), ("dcgan_discriminator", 96), ("pix2pix", 32)])
def test_receptive_field_matches_torch_gradients(
    name: str, size: int, exported: dict[str, tuple[Path, Any, list[str]]]
) -> None:
    path, _, _ = exported[name]
    torch.manual_seed(1)
    module = im.MODELS[name][0]().eval()
    shape = _shape(name, size)
    x = torch.randn(shape, requires_grad=True)
    y = module(x)
    spatial = len(shape) - 2
    widest = 0
    # Each axis acts separately, so the positions (j, j, ...) meet every row of every axis.
    for j in range(max(y.shape[2:])):
        position = tuple(min(j, n - 1) for n in y.shape[2:])
        (gradient,) = torch.autograd.grad(y[(0, 0, *position)], x, retain_graph=True)
        widest = max(widest, _support_width(gradient, spatial))
    report = inspect_graph(read_onnx(path), [shape])
    assert report.fields[0][1][0] == widest


@pytest.mark.parametrize("name", ["dcgan_generator", "decoder_1d", "unet"])
def test_macs_match_torch_flop_counter(name: str, exported: dict[str, tuple[Path, Any, list[str]]]) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    path, _, _ = exported[name]
    shape = im.MODELS[name][1]
    module = im.MODELS[name][0]().eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(torch.zeros(shape))
    report = inspect_graph(read_onnx(path), [shape])
    assert 2 * sum(row.macs or 0 for row in report.layers) == counter.get_total_flops()


def test_transposed_macs_count_input_elements_not_outputs() -> None:
    """torchinfo counts a stride-2 ConvTranspose1d per output (twice too many); the products are per input."""
    import onnx

    from convcalc.inspect.onnx_reader import graph_from_model

    module = torch.nn.ConvTranspose1d(4, 6, 4, stride=2, padding=1).eval()
    model = onnx.load_model_from_string(im.export(module, (1, 4, 50), dynamic=False))
    row = inspect_graph(graph_from_model(model, "t.onnx")).layers[0]
    assert row.output_shape == (1, 6, 100)
    assert row.macs == 50 * 4 * 6 * 4 == math.prod((50, 4, 6, 4))
    assert row.parameters == 4 * 6 * 4 + 6


def _table_cells(text: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The layer table's header and, per layer index, each column's cell on the row's first line."""
    lines = text[text.index("Layer by layer") :].splitlines()
    header = next(line for line in lines if line.startswith("┃"))
    names = [cell.strip() for cell in header.split("┃")[1:-1]]
    rows = {}
    for line in lines:
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if line.startswith("│") and cells and cells[0].isdigit():
            rows[cells[0]] = dict(zip(names, cells))
    return names, rows


@pytest.mark.parametrize("model", ["unet", "pix2pix", "decoder_1d"])
@pytest.mark.parametrize("columns", [60, 80, 120])
def test_the_layer_table_never_cuts_a_number(
    exported: dict[str, tuple[Path, Any, list[str]]], model: str, columns: int
) -> None:
    """At 60, 80 and 120 columns every number of the JSON document's layer rows is a whole cell of the
    table, or its column is named as left out (with --json to see it)."""
    import json

    from typer.testing import CliRunner

    from convcalc.cli import app

    path = str(exported[model][0])
    shape = "x".join(map(str, {"unet": (1, 3, 255, 255), "pix2pix": (1, 3, 96, 96)}.get(model, (1, 8, 11))))
    runner = CliRunner()
    document = json.loads(runner.invoke(app, ["inspect", path, "--input", shape, "--json"]).stdout)
    text = runner.invoke(app, ["inspect", path, "--input", shape], env={"COLUMNS": str(columns)}).stdout
    assert all(len(line) <= columns for line in text.splitlines())
    names, rows = _table_cells(text)
    note = (
        " ".join(text[text.index("Left out at") :].split()).partition(").")[0]
        if "Left out at" in text
        else ""
    )
    if note:
        assert note.startswith(f"Left out at {columns} columns") and "--json" in note
    xs = "x".join
    for layer in document["layers"]:
        if layer["kind"] == "shape_preserving":
            continue
        cells = rows[str(layer["index"])]
        placement = layer["placement"]
        expected = {
            "in": xs(map(str, layer["input_shape"])),
            "out": xs(map(str, layer["output_shape"])),
            "params": "" if layer["parameters"] is None else f"{layer['parameters']:,}",
            "MACs": "" if layer["macs"] is None else f"{layer['macs']:,}",
            "pads/crops": ""
            if placement is None
            else xs(f"{b}:{a}" if b != a else str(b) for b, a in placement),
            "dropped": xs(map(str, layer["dropped"])) if any(layer["dropped"]) else "",
        }
        for name, value in expected.items():
            if name in names:
                assert cells[name] == value, (columns, layer["name"], name)
            elif value:
                assert name in note, (columns, name, note)
