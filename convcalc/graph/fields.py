"""Receptive fields through a graph, also through transposed convolutions and upsampling.

Per spatial axis of the first input, every position of every tensor carries the span [lo, hi] of input
positions it depends on (its hull; padding contributes nothing). A convolution's output j reads
j*s + t*d - pad_before; a transposed convolution's output j receives input u wherever
u*s + t*d - crop_before = j; a pooling reads like a convolution; a nearest resize reads
floor(j * i / o) and a linear or cubic one also its neighbours (the hull of the coordinate transforms).
The field of an output is the widest span of its positions. Pure integers, bounded work.

Beside the spans, ``Field`` is the closed form of one windowed layer (r_out = r_in + (K-1)*j_in, the
jump and the first window), and ``layer_fields`` follows it through a run from the first input, layer by
layer, as `chain` reports it; where a window lies inside the input the two agree (the widest span of a
layer's output is its ``Field.receptive_field``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

from convcalc.core import ConvAxis, TransposedAxis
from convcalc.graph.model import (
    ConcatSpec,
    Graph,
    PadSpec,
    ResizeSpec,
    SliceSpec,
    TransposeSpec,
    ValueSpec,
)
from convcalc.graph.shapes import NodeRun, Run
from convcalc.graph.sizes import symmetric

Span = tuple[int, int] | None


class Field(NamedTuple):
    """Receptive field arithmetic of one layer on one axis, in input coordinates.

    r_out = r_in + (K-1)*j_in, j_out = j_in*s, left_out = left_in - pad_before*j_in; the first output
    sees the inputs left .. left + r - 1 (negative: padding).
    """

    receptive_field: int
    jump: int
    left: int

    @property
    def right(self) -> int:
        return self.left + self.receptive_field - 1

    def through(self, window: ConvAxis) -> Field:
        """The field after one window (a convolution's axis, or a pooling's as ``ConvAxis``)."""
        return Field(
            self.receptive_field + (window.dilated_kernel - 1) * self.jump,
            self.jump * window.stride,
            self.left - window.pad_before * self.jump,
        )


def layer_fields(graph: Graph, run: Run, spatial_axis: int) -> dict[int, Field | None]:
    """Per node index, the closed-form field of its output on one spatial axis, following each node's
    first input back to the graph's first input through convolutions, poolings and shape-preserving
    nodes; None from a transposed convolution, a resize or any other op on (their fields are spans)."""
    fields: dict[str, Field | None] = {graph.inputs[0].name: Field(1, 1, 0)} if graph.inputs else {}
    out: dict[int, Field | None] = {}
    for node_run in run.nodes:
        node = node_run.node
        if not node.inputs or node.inputs[0] not in fields:
            continue
        field = fields[node.inputs[0]]
        layer = node_run.layer
        if field is None:
            pass
        elif layer is not None and not layer.is_transposed:
            field = field.through(layer.conv[spatial_axis])
        elif node_run.windows:
            field = field.through(node_run.windows[spatial_axis])
        elif node.kind != "shape_preserving":
            field = None
        out[node_run.index] = field
        for name in node.outputs:
            fields[name] = field
    return out


MAX_POSITIONS = 2_000_000
# Windowed layers cost output positions x kernel taps each (a kernel_size of 65536 is a hang otherwise).
MAX_TAPS = 5_000_000


def _union(spans: Sequence[Span]) -> Span:
    real = [s for s in spans if s is not None]
    if not real:
        return None
    return min(s[0] for s in real), max(s[1] for s in real)


def _monotone(x: list[Span]) -> bool:
    """Every position has a span, and both ends never move back along the axis (then a window's hull is
    its first position's start and its last position's end)."""
    if not x or None in x:
        return False
    starts = [u[0] for u in x]  # type: ignore[index]
    ends = [u[1] for u in x]  # type: ignore[index]
    return starts == sorted(starts) and ends == sorted(ends)


def _conv_spans(x: list[Span], axis: ConvAxis, out: int) -> list[Span]:
    s, d, pad = axis.stride, axis.dilation, axis.pad_before
    reach = (axis.kernel_size - 1) * d
    n = len(x)
    monotone = _monotone(x)
    if monotone:
        # the windows wholly inside the input, j*s - pad >= 0 and j*s - pad + reach <= n - 1, read their
        # first and last taps' spans as they are (the loop below gives the same); the rest go through it
        low, high = -(-pad // s), min((n - 1 - reach + pad) // s, out - 1)
        if 0 <= low <= high:
            first, last = low * s - pad, high * s - pad  # the first taps of the first and last of them
            starts = [u[0] for u in x[first : last + 1 : s]]  # type: ignore[index]
            ends = [u[1] for u in x[first + reach : last + reach + 1 : s]]  # type: ignore[index]
            inside: list[Span] = list(zip(starts, ends))
            return _conv_spans_between(x, axis, 0, low) + inside + _conv_spans_between(x, axis, high + 1, out)
    return _conv_spans_between(x, axis, 0, out, monotone)


def _conv_spans_between(
    x: list[Span], axis: ConvAxis, start: int, stop: int, monotone: bool = True
) -> list[Span]:
    """``_conv_spans`` for the outputs ``start`` to ``stop - 1``, one by one."""
    s, d, pad = axis.stride, axis.dilation, axis.pad_before
    reach = (axis.kernel_size - 1) * d
    n = len(x)
    spans: list[Span] = []
    for j in range(start, stop):
        first = j * s - pad
        last = first + reach
        if first < 0:  # the first tap inside the input
            first += (-first + d - 1) // d * d
        if last >= n:  # the last tap inside the input
            last -= (last - n + d) // d * d
        if first > last:
            spans.append(None)
        elif monotone:
            low, high = x[first], x[last]
            spans.append((low[0], high[1]))  # type: ignore[index]
        else:
            spans.append(_union(x[first : last + 1 : d]))
    return spans


def _transposed_spans(x: list[Span], axis: TransposedAxis) -> list[Span]:
    spans = []
    for j in range(axis.output):
        sources = []
        for t in range(axis.kernel_size):
            u, rest = divmod(j + axis.crop_before - t * axis.dilation, axis.stride)
            if rest == 0 and 0 <= u < len(x):
                sources.append(x[u])
        spans.append(_union(sources))
    return spans


def source_coordinate(j: int, i: int, out: int, scale: Fraction, coordinate_mode: str) -> Fraction | None:
    """Where output j samples the input, as ONNX Resize's coordinate_transformation_mode defines it
    (exact rationals; None for a mode without a rule here)."""
    if coordinate_mode == "half_pixel":
        return (j + Fraction(1, 2)) / scale - Fraction(1, 2)
    if coordinate_mode == "pytorch_half_pixel":
        return (j + Fraction(1, 2)) / scale - Fraction(1, 2) if out > 1 else Fraction(0)
    if coordinate_mode == "align_corners":
        return Fraction(j * (i - 1), out - 1) if out > 1 else Fraction(0)
    if coordinate_mode == "asymmetric":
        return j / scale
    return None


def _nearest_index(x: Fraction, nearest_mode: str) -> int | None:
    floor = math.floor(x)
    if nearest_mode == "floor":
        return floor
    if nearest_mode == "ceil":
        return math.ceil(x)
    if x - floor == Fraction(1, 2):
        return floor if nearest_mode == "round_prefer_floor" else floor + 1
    return round(x) if nearest_mode in ("round_prefer_floor", "round_prefer_ceil") else None


def _read_positions(x: Fraction, mode: str, nearest_mode: str) -> list[int] | None:
    """The input positions a resize output at coordinate x reads with a nonzero weight: the nearest
    one; two neighbours for linear; four for cubic (its kernel is 0 at whole distances, so an exact
    coordinate reads itself alone)."""
    floor = math.floor(x)
    if mode == "nearest":
        index = _nearest_index(x, nearest_mode)
        return None if index is None else [index]
    if x == floor:
        return [floor]
    if mode == "linear":
        return [floor, floor + 1]
    if mode == "cubic":
        return [floor - 1, floor, floor + 1, floor + 2]
    return None


def _resize_spans(
    x: list[Span], out: int, mode: str, spec: ResizeSpec | None = None, scale: Fraction | None = None
) -> list[Span]:
    i = len(x)
    if spec is not None and spec.coordinate_mode and i > 0:
        # ONNX Runtime divides by the scale it is given, or by out/in when it is given sizes
        scale = scale or Fraction(out, i)
        exact: list[Span] = []
        for j in range(out):
            coordinate = source_coordinate(j, i, out, scale, spec.coordinate_mode)
            reads = None if coordinate is None else _read_positions(coordinate, mode, spec.nearest_mode)
            if reads is None:
                break
            exact.append(_union([x[min(max(u, 0), i - 1)] for u in reads]))
        else:
            return exact
    spans = []
    for j in range(out):
        centre = j * i // out
        low, high = (centre, centre) if mode == "nearest" else (centre - 1, (j + 1) * i // out + 1)
        spans.append(_union([x[u] for u in range(max(low, 0), min(high, i - 1) + 1)]))
    return spans


def receptive_fields(
    graph: Graph, run: Run, tensor_axes: Sequence[int]
) -> tuple[tuple[str, tuple[int | None, ...]], ...]:
    """Per graph output: the widest receptive field on each spatial axis (None where it cannot be told)."""
    if run.failure is not None or not graph.inputs:
        return ()
    total = sum(max(s, default=0) for s in run.shapes.values()) * max(len(tensor_axes), 1)
    if total > MAX_POSITIONS or _taps(run) * max(len(tensor_axes), 1) > MAX_TAPS:
        return ()
    if len(tensor_axes) > 1 and _alike(graph, run, tensor_axes):
        per_axis = [_fields_on_axis(graph, run, tensor_axes[0])] * len(tensor_axes)
    else:
        per_axis = [_fields_on_axis(graph, run, axis) for axis in tensor_axes]
    out = []
    for name in graph.outputs:
        out.append((name, tuple(fields.get(name) for fields in per_axis)))
    return tuple(out)


def _alike(graph: Graph, run: Run, tensor_axes: Sequence[int]) -> bool:
    """Whether every spatial axis has the same field: the graph treats them alike (``sizes.symmetric``)
    and every tensor of the run has one size on all of them."""
    rank = len(run.input_shapes[0])
    for shape in run.shapes.values():
        if len(shape) == rank and len({shape[a] for a in tensor_axes}) > 1:
            return False
    return symmetric(graph, run.input_shapes, tuple(tensor_axes))


def _fields_on_axis(graph: Graph, run: Run, axis: int) -> dict[str, int | None]:
    spans = _spans_on_axis(graph, run, axis)
    widths: dict[str, int | None] = {}
    for name in graph.outputs:
        found = next(iter(spans.get(name, {}).values()), None)
        widths[name] = (
            None if found is None else max((s[1] - s[0] + 1 for s in found if s is not None), default=0)
        )
    return widths


def _spans_on_axis(graph: Graph, run: Run, axis: int) -> dict[str, dict[int, list[Span]]]:
    """Per tensor that depends on the first input's ``axis`` and can be followed: the tensor axis that
    carries it, and each position's span of input positions."""
    first = graph.inputs[0].name
    spans: dict[str, dict[int, list[Span]]] = {
        first: {axis: [(u, u) for u in range(run.input_shapes[0][axis])]}
    }
    # Tensors that depend on the input but whose spans cannot be told (an op convcalc does not model, a
    # layer of the other data_format): everything they feed is unknown too, never a narrower field.
    lost: set[str] = set()
    for node_run in run.nodes:
        node = node_run.node
        if any(name in lost for name in node.inputs):
            lost.update(node.outputs)
            continue
        known = [spans.get(name) for name in node.inputs]
        x = known[0] if known else None
        if x is None:
            if any(k is not None for k in known):
                lost.update(node.outputs)  # the input reaches it through a later operand only
            continue
        # the tensor axis that carries the analysed input axis here, and after this node
        pos = next(iter(x))
        xs = x[pos]
        out_pos = _carried(node_run, pos, run)
        if out_pos is None:
            lost.update(node.outputs)
            continue
        out_size = node_run.outputs[0][out_pos] if len(node_run.outputs[0]) > out_pos else None
        result: list[Span] | None = None
        spec = node.spec
        if (node_run.layer is not None or node_run.windows) and not _is_spatial(node_run, pos):
            lost.update(node.outputs)  # a layer of the other data_format (Keras allows mixing)
            continue
        if node_run.layer is not None:
            n = _spatial_index(node_run, pos)
            if node_run.layer.is_transposed:
                result = _transposed_spans(xs, node_run.layer.transposed[n])
            else:
                result = _conv_spans(xs, node_run.layer.conv[n], node_run.layer.conv[n].output)
        elif node_run.windows:
            n = _spatial_index(node_run, pos)
            result = _conv_spans(xs, node_run.windows[n], node_run.windows[n].output)
        elif node.kind in ("shape_preserving", "transpose", "value"):
            result = xs  # the values move with their axis (``_carried``), their spans with them
        elif node.kind == "elementwise":
            operands = [k[pos] for k in known if k is not None and pos in k]
            result = [
                _union([o[j] if len(o) > 1 else o[0] for o in operands if len(o) in (1, len(xs))])
                for j in range(len(xs))
            ]
        elif isinstance(spec, ConcatSpec):
            concat_axis = spec.axis + len(node_run.inputs[0]) if spec.axis < 0 else spec.axis
            operands = [k[pos] for k in known if k is not None and pos in k]
            if concat_axis == pos:
                result = [s for o in operands for s in o]
            else:
                result = [_union([o[j] for o in operands if j < len(o)]) for j in range(len(xs))]
        elif isinstance(spec, PadSpec):
            before, after = spec.pads[pos]
            padded = [None] * max(before, 0) + xs[max(-before, 0) : len(xs) - max(-after, 0) or None]
            result = padded + [None] * max(after, 0)
        elif isinstance(spec, SliceSpec):
            result = list(xs)
            for a, start, end, step in zip(spec.axes, spec.starts, spec.ends, spec.steps):
                if (a + len(node_run.inputs[0]) if a < 0 else a) == pos:
                    result = [xs[u] for u in range(*slice(start, end, step).indices(len(xs)))]
        elif isinstance(spec, ResizeSpec) and out_size is not None:
            given = spec.scales[pos] if spec.scales and pos < len(spec.scales) else None
            result = _resize_spans(xs, out_size, spec.mode, spec, given)
        elif node.kind == "global_pool":
            result = [_union(xs)]
        if result is None or out_size is None or len(result) != out_size:
            lost.update(node.outputs)
            continue
        for name in node.outputs:
            spans[name] = {out_pos: result}
    return spans


def _carried(node_run: NodeRun, pos: int, run: Run) -> int | None:
    """Which output axis carries input axis ``pos``: a Transpose moves it to where its perm names it; an
    Unsqueeze or Squeeze shifts it past the axes added or removed; a value node of any other shape
    op loses track (None); every other node keeps it in place."""
    node = node_run.node
    spec = node.spec
    rank = len(node_run.inputs[0]) if node_run.inputs else 0
    if isinstance(spec, TransposeSpec):
        perm = spec.perm or tuple(reversed(range(rank)))
        return perm.index(pos) if pos in perm else None
    if not isinstance(spec, ValueSpec):
        return pos
    if spec.op not in ("Unsqueeze", "Squeeze", "Identity", "Cast"):
        return None
    if spec.op in ("Identity", "Cast"):
        return pos
    attributes = dict(spec.attributes)
    given = attributes.get("axes")
    if given is None and len(node.inputs) > 1:
        given = run.values.get(node.inputs[1])
    out_rank = len(node_run.outputs[0])
    if spec.op == "Unsqueeze":
        if not isinstance(given, (list, tuple)):
            return None
        added = {int(a) + out_rank if int(a) < 0 else int(a) for a in given}
        kept = [n for n in range(out_rank) if n not in added]
        return kept[pos] if pos < len(kept) else None
    shape = node_run.inputs[0]
    if isinstance(given, (list, tuple)):
        removed = {int(a) + rank if int(a) < 0 else int(a) for a in given}
    else:
        removed = {n for n, d in enumerate(shape) if d == 1}
    return None if pos in removed else pos - sum(1 for a in removed if a < pos)


def _taps(run: Run) -> int:
    """Output positions times kernel taps, summed over the windowed layers: the cost of the spans."""
    work = 0
    for node_run in run.nodes:
        layer = node_run.layer
        axes = (
            node_run.windows if layer is None else (layer.transposed if layer.is_transposed else layer.conv)
        )
        if axes:
            work += max(node_run.outputs[0], default=0) * max(a.kernel_size for a in axes)
    return work


def _is_spatial(node_run: object, axis: int) -> bool:
    from convcalc.graph.shapes import NodeRun, spatial_axes

    assert isinstance(node_run, NodeRun)
    return axis in spatial_axes(node_run.node.layout, len(node_run.inputs[0]))


def _spatial_index(node_run: object, axis: int) -> int:
    from convcalc.graph.shapes import NodeRun, spatial_axes

    assert isinstance(node_run, NodeRun)
    return spatial_axes(node_run.node.layout, len(node_run.inputs[0])).index(axis)
