"""How each size moves with one input axis: its gain (change per unit of input) per tensor axis, read
from the graph's layers (``gains``, ``period``: the sizes to check a captured graph at) or exactly from
two runs of it (``gain_denominators``: the period of an axis's accepted sizes)."""

from __future__ import annotations

import math
from fractions import Fraction

from convcalc.graph.model import (
    BlockSpec,
    ConcatSpec,
    ConvSpec,
    Graph,
    PoolSpec,
    ResizeSpec,
    SliceSpec,
    TransposeSpec,
    ValueSpec,
)
from convcalc.graph.shapes import Run, spatial_axes


def gain_denominators(first: Run, later: Run, step: int) -> int:
    """The lcm of the denominators of every size's and value's gain (its change per unit of input),
    read exactly from two runs ``step`` apart (a multiple of the period): the period of this axis."""
    period = 1
    for name, shape in first.shapes.items():
        other = later.shapes.get(name)
        if other is None or len(other) != len(shape):
            continue
        for x, y in zip(shape, other):
            period = math.lcm(period, step // math.gcd(y - x, step))  # the denominator of (y - x)/step
    for name, values in first.values.items():
        other_values = later.values.get(name)
        if values is None or other_values is None or len(values) != len(other_values):
            continue
        for u, v in zip(values, other_values):
            period = math.lcm(period, ((Fraction(v) - Fraction(u)) / step).denominator)
    for node_run in first.nodes:
        spec = node_run.node.spec
        if isinstance(spec, ValueSpec) and spec.op == "Mod" and len(node_run.node.inputs) == 2:
            # a remainder repeats over the period of its dividend's gain divided by the divisor
            dividend, divisor = node_run.node.inputs
            xs, ys, ds = first.values.get(dividend), later.values.get(dividend), first.values.get(divisor)
            if xs is None or ys is None or ds is None or len(xs) != len(ys):
                continue
            if later.values.get(divisor) != ds:
                # a divisor that follows the size (torch.roll's shift modulo the axis it rolls): not a
                # remainder by a constant; the remainder's own gain (above) is what repeats
                continue
            for u, v in zip(xs, ys):
                for w in ds:
                    if w != 0:
                        gain = (Fraction(v) - Fraction(u)) / step / Fraction(w)
                        period = math.lcm(period, gain.denominator)
    return period


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
        elif isinstance(spec, TransposeSpec):  # output axis n is input axis perm[n] (none: reversed)
            perm = spec.perm or tuple(reversed(range(len(x))))
            g = [x[a] if 0 <= a < len(x) else None for a in perm]
        elif isinstance(spec, ValueSpec) and spec.op in ("Unsqueeze", "Squeeze"):
            moved = _moved_axes(spec, x)
            if moved is None:
                for name in node.outputs:
                    out[name] = None
                continue
            g = moved
        for name in node.outputs:
            out[name] = g
    return out


def _moved_axes(spec: ValueSpec, x: list[Fraction | None]) -> list[Fraction | None] | None:
    """The gains after an Unsqueeze (a new axis gains nothing) or a Squeeze given by its attribute
    (torch's unsqueeze/squeeze); None where the axes come from an operand."""
    axes = dict(spec.attributes).get("axes")
    if not isinstance(axes, (list, tuple)) or not all(isinstance(a, int) for a in axes):
        return None
    if spec.op == "Unsqueeze":
        rank = len(x) + len(axes)
        g: list[Fraction | None] = list(x)
        for a in sorted(a % rank for a in axes):
            g.insert(a, Fraction(0))
        return g
    drop = {a % len(x) for a in axes} if x else set()
    return [v for n, v in enumerate(x) if n not in drop]


def period(graph: Graph, tensor_axis: int) -> int:
    """P: the lcm of the denominators of every tensor's gain on every axis."""
    p = 1
    for values in gains(graph, tensor_axis).values():
        for v in values or ():
            if v is not None:
                p = math.lcm(p, v.denominator)
    return p
