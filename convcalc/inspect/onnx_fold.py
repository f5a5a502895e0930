"""Integer constant folding of ONNX shape arithmetic (Shape -> Gather/Slice -> Sub -> Concat -> ...).

A statically exported PyTorch model computes Resize sizes and Pad amounts from ``x.shape`` at run time:
``F.interpolate(size=skip.shape[2:])`` and ``F.pad(u, [0, a.shape[3] - u.shape[3], ...])`` become small
graphs of Shape, Gather, Slice, Sub, Unsqueeze, Concat, ConstantOfShape, Reshape, Transpose and Cast.
Once every tensor shape is known (the given input, onnx's shape inference), those graphs are integer
arithmetic on a few values; this module evaluates them in plain Python, as the ONNX operator
specification defines each op, so Resize and Pad get their operands as constants. Anything outside the
handled subset (floats, other ops, big tensors) is left unfolded: the op then stays as onnx infers it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from convcalc.inspect.graph import Dim

# A folded tensor: its dims and its values, flat, row-major.
Folded = tuple[tuple[int, ...], list[int]]
MAX_FOLDED_VALUES = 4096
_INTEGER_TYPES = frozenset({2, 3, 4, 5, 6, 7, 12, 13})  # uint8 int8 uint16 int16 int32 int64 uint32 uint64


class _Skip(Exception):
    """The node is outside the folded subset; its outputs stay unknown."""


def _count(dims: tuple[int, ...]) -> int:
    total = 1
    for d in dims:
        total *= d
    return total


def _attr(node: Any, name: str, default: Any, onnx: Any) -> Any:
    for attribute in node.attribute:
        if attribute.name == name:
            return onnx.helper.get_attribute_value(attribute)
    return default


def fold_shapes(
    onnx: Any,
    nodes: list[Any],
    shapes: Mapping[str, tuple[Dim, ...] | None],
    constant: Callable[[str], list[int] | None],
    constant_dims: Callable[[str], tuple[int, ...] | None],
) -> dict[str, list[int]]:
    """The values of every integer tensor the shape arithmetic in ``nodes`` (topological order) yields.

    ``shapes`` gives known tensor shapes (for Shape); ``constant``/``constant_dims`` read initializers
    and Constant nodes (None when the name is not a constant)."""
    known: dict[str, Folded] = {}

    def get(name: str) -> Folded:
        if name in known:
            return known[name]
        dims = constant_dims(name)
        if dims is None:
            raise _Skip
        values = constant(name)
        if values is None or len(values) != _count(dims):
            raise _Skip
        if not all(isinstance(v, int) or float(v).is_integer() for v in values):
            raise _Skip
        return dims, [int(v) for v in values]

    for node in nodes:
        if node.domain not in ("", "ai.onnx") or len(node.output) != 1 or not node.output[0]:
            continue
        try:
            result = _fold(onnx, node, get, shapes)
        except (_Skip, ValueError, IndexError, ZeroDivisionError, TypeError):
            continue
        if result is not None and _count(result[0]) <= MAX_FOLDED_VALUES:
            known[node.output[0]] = result
    return {name: values for name, (_, values) in known.items()}


def _fold(
    onnx: Any, node: Any, get: Callable[[str], Folded], shapes: Mapping[str, tuple[Dim, ...] | None]
) -> Folded | None:
    op = node.op_type
    inputs = list(node.input)
    if op == "Shape":
        shape = shapes.get(inputs[0])
        if shape is None or not all(isinstance(d, int) for d in shape):
            return None
        ints = [int(d) for d in shape]
        rank = len(ints)
        start = _attr(node, "start", 0, onnx)
        end = _attr(node, "end", rank, onnx)
        start, end = (max(0, min(rank, v + rank if v < 0 else v)) for v in (start, end))
        picked = ints[start:end]
        return (len(picked),), picked
    if op == "Constant":
        return get(node.output[0])
    if op in ("Identity", "Cast"):
        if op == "Cast" and _attr(node, "to", 0, onnx) not in _INTEGER_TYPES:
            return None
        return get(inputs[0])
    if op in ("Add", "Sub", "Mul", "Div"):
        (da, a), (db, b) = get(inputs[0]), get(inputs[1])
        if len(a) == len(b):
            dims = da if len(da) >= len(db) else db
        elif len(b) == 1:
            dims, b = da, b * len(a)
        elif len(a) == 1:
            dims, a = db, a * len(b)
        else:
            return None
        if op == "Div" and any(y == 0 or x % y for x, y in zip(a, b)):
            return None  # only exact integer division is folded
        fn: Callable[[int, int], int] = {
            "Add": operator.add,
            "Sub": operator.sub,
            "Mul": operator.mul,
            "Div": operator.floordiv,
        }[op]
        return dims, [fn(x, y) for x, y in zip(a, b)]
    if op == "Gather":
        dims, values = get(inputs[0])
        index_dims, indices = get(inputs[1])
        if len(dims) != 1 or _attr(node, "axis", 0, onnx) not in (0, -1):
            return None
        return index_dims, [values[i + len(values) if i < 0 else i] for i in indices]
    if op in ("Unsqueeze", "Squeeze"):
        dims, values = get(inputs[0])
        axes = list(_attr(node, "axes", [], onnx)) or (list(get(inputs[1])[1]) if len(inputs) > 1 else [])
        out = list(dims)
        if op == "Unsqueeze":
            rank = len(dims) + len(axes)
            for axis in sorted(a + rank if a < 0 else a for a in axes):
                out.insert(axis, 1)
        else:
            drop = {a + len(dims) if a < 0 else a for a in axes} or {i for i, d in enumerate(dims) if d == 1}
            out = [d for i, d in enumerate(dims) if i not in drop]
        return tuple(out), values
    if op == "Concat":
        parts = [get(name) for name in inputs if name]
        if any(len(d) != 1 for d, _ in parts):
            return None
        joined = [v for _, values in parts for v in values]
        return (len(joined),), joined
    if op == "Slice":
        dims, values = get(inputs[0])
        starts, ends = get(inputs[1])[1], get(inputs[2])[1]
        axes = get(inputs[3])[1] if len(inputs) > 3 and inputs[3] else [0]
        if len(dims) < 1 or len(starts) != 1 or axes not in ([0], [-len(dims)]):
            return None  # a slice along the first axis only (rows of a shape table)
        step = get(inputs[4])[1][0] if len(inputs) > 4 and inputs[4] else 1
        width = _count(dims[1:])
        table = [values[r * width : (r + 1) * width] for r in range(dims[0])]
        # Python's slice clamps starts/ends as ONNX does, including INT64 extremes and negative steps.
        chosen = table[slice(starts[0], ends[0], step)]
        return (len(chosen), *dims[1:]), [v for row in chosen for v in row]
    if op == "ConstantOfShape":
        target = get(inputs[0])[1]
        value = _attr(node, "value", None, onnx)
        fill = 0
        if value is not None:
            if value.data_type not in _INTEGER_TYPES:
                return None
            fill = _first(value)
        if _count(tuple(target)) > MAX_FOLDED_VALUES:
            return None
        return tuple(target), [fill] * _count(tuple(target))
    if op == "Reshape":
        dims, values = get(inputs[0])
        target = list(get(inputs[1])[1])
        for i, d in enumerate(target):
            if d == 0:
                target[i] = dims[i]
        if target.count(-1) == 1:
            rest = _count(tuple(d for d in target if d != -1))
            target[target.index(-1)] = len(values) // rest
        if _count(tuple(target)) != len(values):
            return None
        return tuple(target), values
    if op == "Transpose":
        dims, values = get(inputs[0])
        if len(dims) != 2 or list(_attr(node, "perm", [1, 0], onnx)) != [1, 0]:
            return None
        rows, cols = dims
        return (cols, rows), [values[r * cols + c] for c in range(cols) for r in range(rows)]
    return None


def _first(tensor: Any) -> int:
    for field in ("int64_data", "int32_data", "uint64_data"):
        stored = list(getattr(tensor, field))
        if stored:
            return int(stored[0])
    raw = bytes(tensor.raw_data)
    if not raw:
        return 0
    width = {2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 12: 4, 13: 8}[tensor.data_type]
    signed = tensor.data_type in (3, 5, 6, 7)
    return int.from_bytes(raw[:width], "little", signed=signed)
