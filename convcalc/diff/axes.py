"""Which axis of the model input every tensor axis carries: "N", "C", "H", "W" followed along the dataflow.

Two models compared by diff may keep their tensors in other orders (NCHW against NHWC, with the
Transposes a converter inserts). Each tensor axis is named by the model-input axis it carries, so that a
layer's spatial axes are compared by name ("H" with "H"), whatever their position. A Transpose permutes
the names (the ``perm`` of an ONNX Transpose, a Keras Permute or a TFLite TRANSPOSE); ops that keep
the layout keep them; an op that mixes axes (Reshape, Flatten, MatMul) or that convcalc does not model
ends the naming (None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

from convcalc.errors import ConvCalcError
from convcalc.graph.model import CHANNELS_FIRST, SPATIAL_NAMES, Graph, Node, TransposeSpec, UnknownSpec
from convcalc.graph.shapes import channel_axis, spatial_axes

Names = Optional[tuple[Optional[str], ...]]

# Kinds whose node.layout tells where the channels are: they decide the layout of the model input.
LAYOUT_KINDS = ("conv", "conv_transpose", "pool", "global_pool", "depth_to_space", "space_to_depth")
# Kinds whose output carries the axes of their first input in the same places.
KEEPING_KINDS = (
    "conv",
    "conv_transpose",
    "pool",
    "global_pool",
    "resize",
    "pad",
    "slice",
    "concat",
    "elementwise",
    "depth_to_space",
    "space_to_depth",
    "shape_preserving",
)


def spatial_names(ndim: int) -> tuple[str, ...]:
    return SPATIAL_NAMES.get(ndim, tuple(f"S{n}" for n in range(ndim)))


def layout_names(layout: str, rank: int) -> tuple[str, ...]:
    """("N", "C", "H", "W") for channels_first rank 4, ("N", "H", "W", "C") for channels_last."""
    spatial = spatial_names(rank - 2)
    return ("N", "C", *spatial) if layout == CHANNELS_FIRST else ("N", *spatial, "C")


def transpose_perms(graph: Graph) -> dict[str, tuple[int, ...]]:
    """The ``perm`` of every transpose node (ONNX Transpose, Keras Permute, TFLite TRANSPOSE), by its
    output tensor; () for an ONNX Transpose without one, which reverses the axes."""
    return {
        node.outputs[0]: node.spec.perm or ()
        for node in graph.nodes
        if isinstance(node.spec, TransposeSpec) and node.outputs
    }


def follow(
    graph: Graph,
    start: Mapping[str, Names],
    perms: Mapping[str, tuple[int, ...]],
    ranks: Mapping[str, int] | None = None,
) -> dict[str, Names]:
    """Names of every tensor's axes from the names of the inputs' axes (None where unknown)."""
    names: dict[str, Names] = dict(start)
    for node in graph.nodes:
        first = names.get(node.inputs[0]) if node.inputs else None
        out: Names = None
        if first is not None:
            perm = perms.get(node.outputs[0]) if node.outputs else None
            if node.kind == "transpose" and perm is not None:
                order = perm or tuple(reversed(range(len(first))))
                out = tuple(first[p] for p in order) if sorted(order) == list(range(len(first))) else None
            elif node.kind in KEEPING_KINDS:
                out = first
            elif node.kind == "unknown" and ranks is not None:
                out = _kept_by_unknown(node, first, ranks)
        for name in node.outputs:
            names[name] = out
    return names


def _kept_by_unknown(node: Node, first: tuple[Optional[str], ...], ranks: Mapping[str, int]) -> Names:
    """An op convcalc does not model keeps the names when its declared output has the input's rank and
    it is not a Transpose (whose perm was not read)."""
    spec = node.spec
    if node.op in ("Transpose", "Permute", "permute", "transpose") or not isinstance(spec, UnknownSpec):
        return None
    out = node.outputs[0] if node.outputs else None
    return first if out is not None and ranks.get(out) == len(first) else None


def input_names(graph: Graph, perms: Mapping[str, tuple[int, ...]], default_layout: str) -> list[Names]:
    """Names of each model input's axes, from the layout of the first layer that reads it.

    The input's axes are followed by position (through Transposes) to the first layer whose layout is
    known; that layer's channel axis is "C", its spatial axes "H", "W" in its order, axis 0 "N".
    """
    result: list[Names] = []
    for tensor in graph.inputs:
        rank = len(tensor.shape)
        positions = follow(graph, {tensor.name: tuple(str(n) for n in range(rank))}, perms)
        found: Names = None
        for node in graph.nodes:
            if node.kind not in LAYOUT_KINDS or not node.inputs:
                continue
            reading = positions.get(node.inputs[0])
            if reading is None or len(reading) != rank or None in reading:
                continue
            named: list[Optional[str]] = [None] * rank
            labels = layout_names(node.layout, rank)
            for axis, label in enumerate(labels):
                named[int(str(reading[axis]))] = label
            found = tuple(named)
            break
        result.append(found if found is not None else layout_names(default_layout, rank))
    return result


def layer_names(node: Node, names: Names, rank: int) -> tuple[tuple[str, ...], str]:
    """A layer's spatial axes by name (in its own order) and the name of the axis it reads as channels."""
    spatial = spatial_axes(node.layout, rank)
    c = channel_axis(node.layout, rank)
    if names is None or len(names) != rank:
        fallback = layout_names(node.layout, rank)
        return tuple(fallback[a] for a in spatial), fallback[c]
    return tuple(names[a] or f"axis {a}" for a in spatial), names[c] or f"axis {c}"


def shape_in(names: Sequence[str], shape: Sequence[int], wanted: Sequence[str], what: str) -> tuple[int, ...]:
    """``shape`` (whose axes are ``names``) put in the order ``wanted``."""
    if sorted(names) != sorted(wanted):
        raise ConvCalcError(
            f"{what}: the inputs' axes ({', '.join(names)} and {', '.join(wanted)}) do not correspond; give "
            "B's input shape with --input-b",
            parameter="input",
        )
    by_name = dict(zip(names, shape))
    return tuple(by_name[name] for name in wanted)
