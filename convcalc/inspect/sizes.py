"""Input sizes a whole graph accepts, per spatial axis: exact congruence classes, as `chain` finds them.

The argument is chain's (``convcalc.chain.stack``), carried to a graph with branches. Let g(t) be the
rational gain of tensor t along the analysed axis (1 at the input; a stride s divides it, a transposed
stride or an integer upsampling multiplies it; a concatenation along the axis adds its operands'). With
P the lcm of the gains' denominators, adding P to the input adds the integer P*g(t) to every tensor t
and an exact multiple of every stride to every strided layer's input, so every floor, remainder and
padding decision repeats: along a class i = first + q*P every size, and so every merge's disagreement,
is affine in q. Three runs of the graph per class (q = 0, 1, 2) give each disagreement's start and step
and check that it is affine; chain's ``class_members`` then says whether the class agrees for every q,
for one q (checked by one more run), or for none. A class also needs no dropped input and no refusal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

from convcalc.chain.sizes import class_members
from convcalc.chain.stack import Accepted
from convcalc.inspect.graph import (
    BlockSpec,
    ConcatSpec,
    ConvSpec,
    DenseSpec,
    Graph,
    PadSpec,
    PoolSpec,
    ResizeSpec,
    SliceSpec,
    UnknownSpec,
)
from convcalc.inspect.shapes import Failure, Run, Shape, propagate, spatial_axes

MAX_PERIOD = 4096
# Runs of the graph times its nodes: the accepted sizes of one axis are worked out within this budget.
MAX_WORK = 150_000
MAX_INPUT = 2**24
# A class's affine part is looked for from its first member on, and up to this many periods later.
MAX_SHIFT = 4
# The step a size-dependent graph's gains are measured over: 2^10 * 3^2 * 5 * 7 (a meta execution
# costs the same at any size).
MEASURE = 322_560
# A rebuilt graph's period is doubled up to this while no class runs (see axis_sizes).
MAX_REBUILT_PERIOD = 64


@dataclass(frozen=True)
class AxisSizes:
    """What one spatial axis of the first input accepts, the other axes held at their given sizes."""

    tensor_axis: int
    spatial_axis: int
    minimum: int | None
    accepted: Accepted | None
    note: str | None = None


def gains(graph: Graph, tensor_axis: int) -> dict[str, list[Fraction | None] | None]:
    """Per tensor, per tensor axis, the gain along the analysed input axis (None where it is lost)."""
    first = graph.inputs[0]
    out: dict[str, list[Fraction | None] | None] = {
        first.name: [Fraction(1 if n == tensor_axis else 0) for n in range(len(first.shape))]
    }
    for tensor in graph.constants:
        out[tensor.name] = [Fraction(0)] * len(tensor.shape)
    for tensor in graph.inputs[1:]:
        out[tensor.name] = [Fraction(0)] * len(tensor.shape)
    for node in graph.nodes:
        if any(name not in out for name in node.inputs):
            continue
        x = out[node.inputs[0]] if node.inputs else None
        if x is None or node.kind in ("flatten", "reshape", "dense", "unknown"):
            for name in node.outputs:
                out[name] = None
            continue
        g: list[Fraction | None] = list(x)
        spec = node.spec
        axes = spatial_axes(node.layout, len(x))
        if isinstance(spec, (ConvSpec, PoolSpec)):
            for n, a in enumerate(axes[: len(spec.stride)]):
                v = x[a]
                if v is not None:
                    transposed = node.kind == "conv_transpose"
                    g[a] = v * spec.stride[n] if transposed else v / spec.stride[n]
            if isinstance(spec, ConvSpec):
                g[1 if node.layout == "channels_first" else len(x) - 1] = Fraction(0)
        elif isinstance(spec, ResizeSpec):
            for n in range(len(x)):
                v = x[n]
                if spec.sizes is not None:
                    g[n] = Fraction(0)
                elif spec.scales is not None and n < len(spec.scales) and v is not None:
                    g[n] = v * spec.scales[n]
        elif isinstance(spec, SliceSpec):
            for a, step in zip(spec.axes, spec.steps):
                index = a + len(x) if a < 0 else a
                current = g[index] if 0 <= index < len(x) else None
                if current is not None:
                    g[index] = current / abs(step)
        elif isinstance(spec, ConcatSpec):
            index = spec.axis + len(x) if spec.axis < 0 else spec.axis
            operands = [out[name] for name in node.inputs]
            parts = [o[index] if o is not None and index < len(o) else None for o in operands]
            if 0 <= index < len(x):
                total = Fraction(0)
                for p in parts:
                    total = total + p if p is not None else total
                g[index] = None if any(p is None for p in parts) else total
        elif isinstance(spec, BlockSpec):
            for a in axes:
                v = x[a]
                if v is not None:
                    g[a] = v * spec.block_size if node.kind == "depth_to_space" else v / spec.block_size
        elif node.kind == "global_pool":
            for a in axes:
                g[a] = Fraction(0)
        for name in node.outputs:
            out[name] = g
    return out


def run_graph(graph: Graph, shapes: tuple[Shape, ...]) -> Run:
    """The graph run at these input shapes; a graph with ``rebuild`` (its specs depend on the input
    size) is rebuilt at them first, and shapes that stop there count as a failure (the reader stops
    shapes where the model refuses the input)."""
    if graph.rebuild is None:
        return propagate(graph, shapes)
    run = propagate(graph.rebuild(shapes), shapes)
    if run.failure is None and run.stopped:
        node = run.stopped[0]
        return replace(run, failure=Failure(-1, node, f"shapes stop at {node.name} ({node.op})"))
    return run


def measured_period(graph: Graph, shapes: tuple[Shape, ...], tensor_axis: int, step: int = MEASURE) -> int:
    """P for a graph with ``rebuild``: every tensor's gain measured between the given size and the
    given size plus ``step`` (a multiple of every period convcalc looks for, so that the difference
    is exactly step * gain); the lcm of their denominators."""
    assert graph.rebuild is not None
    low = graph.rebuild(shapes)
    high = graph.rebuild(_with(shapes, tensor_axis, shapes[0][tensor_axis] + step))
    a, b = propagate(low, shapes), propagate(high, _with(shapes, tensor_axis, shapes[0][tensor_axis] + step))
    p = 1
    for name, shape in a.shapes.items():
        other = b.shapes.get(name)
        if other is None or len(other) != len(shape):
            continue
        for x, y in zip(shape, other):
            p = math.lcm(p, Fraction(y - x, step).denominator)
    return p


def period(graph: Graph, tensor_axis: int) -> int:
    """P: the lcm of the denominators of every tensor's gain on every axis."""
    p = 1
    for values in gains(graph, tensor_axis).values():
        for v in values or ():
            if v is not None:
                p = math.lcm(p, v.denominator)
    return p


def _with(shapes: tuple[Shape, ...], tensor_axis: int, size: int) -> tuple[Shape, ...]:
    first = list(shapes[0])
    first[tensor_axis] = size
    return (tuple(first), *shapes[1:])


def _gaps(run: Run, tensor_axis: int) -> list[int]:
    """Every disagreement on the analysed axis as a number that must be 0: merge operands, weights."""
    gaps: list[int] = []
    for node_run in run.nodes:
        node = node_run.node
        ins = node_run.inputs
        if node.kind == "concat":
            assert isinstance(node.spec, ConcatSpec)
            if node.spec.axis % len(ins[0]) == tensor_axis:
                continue
            for shape in ins[1:]:
                if len(shape) == len(ins[0]) > tensor_axis:
                    gaps.append(shape[tensor_axis] - ins[0][tensor_axis])
        elif node.kind == "elementwise":
            rank = max(len(s) for s in ins)
            if tensor_axis >= rank:
                continue
            dims = [s[tensor_axis - rank + len(s)] for s in ins if tensor_axis - rank + len(s) >= 0]
            big = [d for d in dims if d != 1]
            gaps.extend(d - big[0] for d in big[1:])
        elif node.kind == "dense" and isinstance(node.spec, DenseSpec):
            gaps.append(ins[0][-1] - node.spec.in_features)
        elif node_run.mismatch is not None:
            gaps.append(1)  # a disagreement that does not follow the size (channels, a reshape)
    return gaps


def _dropped(run: Run, tensor_axis: int) -> bool:
    for node_run in run.nodes:
        if any(node_run.dropped):
            axes = spatial_axes(node_run.node.layout, len(node_run.inputs[0]))
            if tensor_axis in axes and node_run.dropped[axes.index(tensor_axis)]:
                return True
    return False


def _affine(runs: list[Run], tensor_axis: int) -> bool:
    """Every tensor's shape and every gap moves by the same step from q=0 to 1 as from 1 to 2."""
    a, b, c = runs
    if set(a.shapes) != set(b.shapes) or set(b.shapes) != set(c.shapes):
        return False
    for name, shape in a.shapes.items():
        if any(z - y != y - x for x, y, z in zip(shape, b.shapes[name], c.shapes[name])):
            return False
    ga, gb, gc = _gaps(a, tensor_axis), _gaps(b, tensor_axis), _gaps(c, tensor_axis)
    return len(ga) == len(gb) == len(gc) and all(z - y == y - x for x, y, z in zip(ga, gb, gc))


def _clean(run: Run, tensor_axis: int) -> bool:
    """The run has no refusal, nothing stopped, no disagreement and no drop on the analysed axis."""
    return (
        run.failure is None
        and not run.stopped
        and not any(_gaps(run, tensor_axis))
        and not _dropped(run, tensor_axis)
    )


def axis_sizes(
    graph: Graph,
    shapes: tuple[Shape, ...],
    tensor_axis: int,
    spatial_axis: int,
    tensor_axes: tuple[int, ...] = (),
) -> AxisSizes:
    """The exact set of sizes of one input axis for which the whole graph runs cleanly (see the module).

    The other spatial axes (``tensor_axes``) are held at their given sizes; where no size of this axis
    runs with them (the given input fails on another axis), at the smallest size that runs on all.
    A graph with ``rebuild`` is executed again at each size: its period is measured from a size that
    runs, and doubled (up to MAX_REBUILT_PERIOD) while no class runs, for a model's own checks of its
    input (a width divisible by 32) have a period no layer shows."""
    p = period(graph, tensor_axis) if graph.rebuild is None else 1
    flow = gains(graph, tensor_axis)
    for node in graph.nodes if graph.rebuild is None else ():
        if node.kind == "unknown" and any(
            g is None or g != 0 for name in node.inputs for g in (flow.get(name) or [None])
        ):
            assert isinstance(node.spec, UnknownSpec)
            known = all(d is not None and all(isinstance(v, int) for v in d) for d in node.spec.declared)
            why = "its shape is known only for the given input" if known else "shapes stop there"
            return AxisSizes(
                tensor_axis,
                spatial_axis,
                None,
                None,
                f"{node.op} ({node.name}) lies on this axis's path and convcalc does not model it; {why}, "
                "so accepted sizes are not worked out",
            )

    def run_at(size: int) -> Run:
        return run_graph(graph, _with(shapes, tensor_axis, size))

    def too_long(p: int) -> AxisSizes | None:
        if p > MAX_PERIOD or (3 * p + 64) * max(len(graph.nodes), 1) > MAX_WORK:
            return AxisSizes(
                tensor_axis,
                spatial_axis,
                None,
                None,
                f"the period of this axis is {p}; accepted sizes are worked out for periods up to "
                f"{MAX_PERIOD} and {MAX_WORK} node evaluations",
            )
        return None

    refused = too_long(p)
    if refused is not None:
        return refused
    held = None
    high = _first_running(run_at)
    others = tuple(a for a in tensor_axes if a != tensor_axis)
    if high is None and others:
        base = smallest_running(graph, shapes, tensor_axes)
        if base is not None:
            moved = list(shapes[0])
            for a in others:
                moved[a] = base
            shapes = (tuple(moved), *shapes[1:])
            held = f"the other spatial axes are held at {base} here (the given sizes do not run)"
            high = _first_running(run_at)
    if high is None:
        return AxisSizes(tensor_axis, spatial_axis, None, Accepted(p, (), ()), "no size runs")
    if graph.rebuild is not None:
        p = measured_period(graph, _with(shapes, tensor_axis, high), tensor_axis)
        refused = too_long(p)
        if refused is not None:
            return refused
    low = high // 2
    while high - low > 1:
        mid = (low + high) // 2
        if run_at(mid).failure is None:
            high = mid
        else:
            low = mid
    minimum = high
    found = _classes(run_at, minimum, p, tensor_axis)
    while (
        graph.rebuild is not None
        and isinstance(found, Accepted)
        and not found.classes
        and not found.singles
        and 2 * p <= MAX_REBUILT_PERIOD
        and too_long(2 * p) is None
    ):
        p *= 2
        found = _classes(run_at, minimum, p, tensor_axis)
    if isinstance(found, str):
        return AxisSizes(tensor_axis, spatial_axis, minimum, None, found)
    return AxisSizes(tensor_axis, spatial_axis, minimum, found, held)


def _classes(run_at: Callable[[int], Run], minimum: int, p: int, tensor_axis: int) -> Accepted | str:
    """The accepted classes mod p from ``minimum`` on, or why they are not worked out."""
    classes: list[int] = []
    singles: list[int] = []
    for r in range(p):
        first = minimum + r
        # Tiny inputs may sit in a regime of their own (ONNX Runtime's truncating pool gives one window
        # on an input shorter than it): the class is taken from the first start where three runs are
        # affine, and the sizes before it are checked one by one.
        start = None
        failing = True
        for shift in range(MAX_SHIFT):
            base = first + shift * p
            runs = [run_at(base + q * p) for q in range(3)]
            if any(run.failure is not None or run.stopped for run in runs):
                continue
            failing = False
            if _affine(runs, tensor_axis):
                start = base
                break
        if failing:
            continue
        if start is None:
            return (
                f"sizes are not affine along the class {first} + {p}q (an op convcalc does not model on "
                "this axis); accepted sizes are not worked out"
            )
        singles.extend(v for v in range(first, start, p) if _clean(run_at(v), tensor_axis))
        if _dropped(runs[0], tensor_axis):
            continue
        g0, g1 = _gaps(runs[0], tensor_axis), _gaps(runs[1], tensor_axis)
        whole, single = class_members([(a, b - a) for a, b in zip(g0, g1)], start, p)
        if whole:
            classes.append(start)
        elif single is not None and _clean(run_at(single), tensor_axis):
            singles.append(single)
    return Accepted(p, tuple(classes), tuple(sorted(singles)))


def _first_running(run_at: Callable[[int], Run]) -> int | None:
    """A power of two that runs without a refusal (the search for the smallest starts there), or None."""
    high = 1
    while run_at(high).failure is not None:
        high *= 2
        if high > MAX_INPUT:
            return None
    return high


def _same(values: object) -> bool:
    return not isinstance(values, tuple) or len(set(values)) <= 1


def symmetric(graph: Graph, shapes: tuple[Shape, ...], tensor_axes: tuple[int, ...]) -> bool:
    """Whether every spatial axis sees the same sizes and parameters (one analysis then serves all)."""
    # Every input, not only the first: a second input of 7x8 makes the axes differ (trial item 1).
    for shape in shapes:
        if len(shape) != len(shapes[0]) or len({shape[a] for a in tensor_axes}) > 1:
            return False
    for node in graph.nodes:
        spec = node.spec
        if isinstance(spec, (ConvSpec, PoolSpec)):
            fields: list[tuple[int, ...] | None] = [spec.kernel_size, spec.stride, spec.dilation]
            if isinstance(spec, ConvSpec):
                fields += [spec.output_padding, spec.output_size]
            if not all(_same(f) for f in fields) or not _same(spec.padding):
                return False
        elif isinstance(spec, ResizeSpec):
            values = spec.sizes if spec.sizes is not None else spec.scales
            if (
                values is None
                or len(values) != len(shapes[0])
                or not _same(tuple(values[a] for a in tensor_axes))
            ):
                return False
        elif isinstance(spec, PadSpec):
            if len(spec.pads) != len(shapes[0]) or not _same(tuple(spec.pads[a] for a in tensor_axes)):
                return False
        elif isinstance(spec, ConcatSpec):
            if spec.axis % len(shapes[0]) in tensor_axes:
                return False
        elif node.kind in ("slice", "unknown", "reshape", "flatten"):
            return False
    return True


def all_axes(graph: Graph, shapes: tuple[Shape, ...], tensor_axes: tuple[int, ...]) -> tuple[AxisSizes, ...]:
    """The accepted sizes of every spatial axis (one analysis when the graph is the same on each)."""
    if tensor_axes and graph.rebuild is None and symmetric(graph, shapes, tensor_axes):
        first = axis_sizes(graph, shapes, tensor_axes[0], 0, tensor_axes)
        return tuple(replace(first, tensor_axis=a, spatial_axis=n) for n, a in enumerate(tensor_axes))
    return tuple(axis_sizes(graph, shapes, a, n, tensor_axes) for n, a in enumerate(tensor_axes))


def smallest_running(graph: Graph, shapes: tuple[Shape, ...], tensor_axes: tuple[int, ...]) -> int | None:
    """The smallest size that runs with every listed spatial axis of the first input set to it."""

    def fails(size: int) -> bool:
        first = list(shapes[0])
        for a in tensor_axes:
            first[a] = size
        return run_graph(graph, (tuple(first), *shapes[1:])).failure is not None

    high = 1
    while fails(high):
        high *= 2
        if high > MAX_INPUT:
            return None
    low = high // 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fails(mid) else (low, mid)
    return high
