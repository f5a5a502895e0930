"""Both models read for diff: each with its own reader, each input shape in that model's own layout.

``--input`` is A's input shape, in A's layout; without it, the shape A's file fixes (a dynamic batch
read as 1). B's shape is the same tensor with its axes put in B's
order: the axes of each model input are named ("N", "C", "H", "W") by the first layer that reads them
(through any Transposes), so an NCHW model and its NHWC conversion get 1x3x64x48 and 1x64x48x3.
``--input-b`` gives B's shape instead (once per input of B), for models whose inputs differ otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from convcalc.diff.axes import Names, follow, input_names, layout_names, shape_in, transpose_perms
from convcalc.diff.layers import Layer, model_layers
from convcalc.errors import ConvCalcError, option
from convcalc.graph.model import CHANNELS_FIRST, Graph
from convcalc.graph.shapes import Run, Shape, propagate
from convcalc.inspect.analysis import input_layout, resolve_inputs
from convcalc.inspect.load import load_graph

FILE_SUFFIXES = (".onnx", ".keras", ".h5", ".hdf5", ".tflite")


@dataclass(frozen=True)
class Side:
    """One model as diff reads it: its graph run on its input, every tensor's axis names, its layers."""

    label: str
    model: str
    graph: Graph
    input_shapes: tuple[Shape, ...]
    input_names: tuple[tuple[str, ...], ...]
    run: Run
    names: dict[str, Names]
    layers: tuple[Layer, ...]


def _is_python_target(model: str) -> bool:
    return Path(model).suffix.lower() not in FILE_SUFFIXES and ":" in model


def read_side(
    label: str, model: str, graph: Graph, shapes: Sequence[Shape], parameter: str = "input"
) -> Side:
    """Run the graph on its input shapes (given with ``parameter``) and name every axis."""
    given, _, _ = resolve_inputs(graph, shapes, parameter)
    perms = transpose_perms(graph)
    named = input_names(graph, perms, input_layout(graph))
    start = {t.name: names for t, names in zip(graph.inputs, named)}
    run = propagate(graph, given)
    names = follow(graph, start, perms, {k: len(v) for k, v in run.shapes.items()})
    layers = model_layers(graph, run, names, perms)
    fixed = tuple(tuple(n or "?" for n in (names_ or ())) for names_ in named)
    return Side(label, model, graph, given, fixed, run, names, layers)


def read_sides(
    a: str, b: str, a_inputs: Sequence[Shape], b_inputs: Sequence[Shape] | None
) -> tuple[Side, Side]:
    """Read A with its --input (or the input shape A's file fixes); B with --input-b, or A's input with
    its axes in B's order."""
    side_a = _read_a(a, a_inputs) if a_inputs else _read_a_as_declared(a, b)
    if b_inputs:
        return side_a, read_side("B", b, load_graph(b, b_inputs, "input_b"), b_inputs, "input_b")
    if _is_python_target(b):
        wanted = [layout_names(CHANNELS_FIRST, len(s)) for s in side_a.input_shapes]
        shapes = _in_order(side_a, wanted, b)
        return side_a, read_side("B", b, load_graph(b, shapes), shapes)
    first = load_graph(b, None)
    if len(first.inputs) != len(side_a.input_shapes):
        raise ConvCalcError(
            f"{b} has {len(first.inputs)} data input(s) and {a} has {len(side_a.input_shapes)}; give B's "
            "input shapes with --input-b (once per input)",
            parameter="input",
        )
    perms = transpose_perms(first)
    named = input_names(first, perms, input_layout(first))
    wanted = [tuple(n or "?" for n in (names or ())) for names in named]
    shapes = _in_order(side_a, wanted, b)
    declared = [tuple(t.shape) for t in first.inputs]
    # onnx's shape inference ran on the declared shapes: read again only when the input is another
    reread = first.framework == "onnx" and declared != [tuple(s) for s in shapes]
    graph = load_graph(b, shapes) if reread else first
    return side_a, read_side("B", b, graph, shapes)


def _read_a(a: str, shapes: Sequence[Shape]) -> Side:
    return read_side("A", a, load_graph(a, shapes), shapes)


def _read_a_as_declared(a: str, b: str) -> Side:
    """A on the input shape its file fixes (a dynamic batch read as 1); refused when a size is open."""
    if _is_python_target(a):
        fixed = _fixed_by(b)
        example = (
            option("input", fixed) + f" (the shape {b} fixes)" if fixed else option("input", "1x3x256x256")
        )
        raise ConvCalcError(
            f"diff needs A's input shape: {a} is a PyTorch module; give {option('input')}, for example "
            f"{example}",
            parameter="input",
        )
    graph = load_graph(a, None)
    shapes, _, symbolic = resolve_inputs(graph, None)  # refuses an input with no shape or an open axis
    if symbolic:
        open_sizes = " and ".join(
            f"{t.name!r} is {'x'.join(str(d) for d in t.shape)}" for t in graph.inputs if t.shape
        )
        raise ConvCalcError(
            f"diff needs A's input shape: {a} leaves its spatial size open (input {open_sizes}); give "
            f"{option('input')} with every size, for example {option('input', _example(graph))}",
            parameter="input",
        )
    declared = [tuple(t.shape) for t in graph.inputs]
    # onnx's shape inference ran on the declared shapes: read again when the batch was open
    if graph.framework == "onnx" and declared != [tuple(s) for s in shapes]:
        graph = load_graph(a, shapes)
    return read_side("A", a, graph, shapes)


def _fixed_by(b: str) -> str | None:
    """The one input shape B's file fixes, its axes in a PyTorch module's order (N, C, spatial...);
    None when B is a module too, leaves a size open, has several inputs or cannot be read."""
    if _is_python_target(b):
        return None
    try:
        graph = load_graph(b, None)
        shapes, _, symbolic = resolve_inputs(graph, None)
        names = input_names(graph, transpose_perms(graph), input_layout(graph))
    except ConvCalcError:
        return None
    if symbolic or len(shapes) != 1 or not names[0]:
        return None
    mine = dict(zip(names[0], shapes[0]))
    order = layout_names(CHANNELS_FIRST, len(shapes[0]))
    if set(order) != set(mine):
        return None
    return "x".join(str(mine[n]) for n in order)


def _example(graph: Graph) -> str:
    """The first input's shape with its open sizes filled (batch 1, others 64)."""
    dims = graph.inputs[0].shape
    return "x".join(str(d) if isinstance(d, int) else ("1" if n == 0 else "64") for n, d in enumerate(dims))


def _in_order(side_a: Side, wanted: Sequence[tuple[str, ...]], b: str) -> list[Shape]:
    if len(wanted) != len(side_a.input_shapes):
        raise ConvCalcError(
            f"{b} has {len(wanted)} data input(s) and {side_a.model} has {len(side_a.input_shapes)}; give "
            "B's input shapes with --input-b",
            parameter="input",
        )
    return [
        shape_in(names, shape, want, f"{side_a.model} and {b}")
        for names, shape, want in zip(side_a.input_names, side_a.input_shapes, wanted)
    ]
