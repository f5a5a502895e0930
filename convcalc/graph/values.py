"""Integer shape arithmetic (ONNX's Shape, Gather, Div, Concat, ...), evaluated at every input size.

An exported model computes sizes from ``x.shape`` at run time (``F.interpolate(size=skip.shape[2:])``,
``F.pad`` by a size difference, GroupNorm's reshape to (N, G, -1) and back to Shape(x), attention's
flatten and restore). The reader keeps that arithmetic as ``value`` nodes, and ``shapes.propagate``
evaluates them with the rules below at each input size, so a Resize or a Pad gets its operands for that
size. Each op's rule sits in one table (``OPS``), as the ONNX operator specification defines it:
integers are Python ints (integer ``Div`` truncates toward zero, as ONNX Runtime's C division), floats
are exact ``Fraction`` values (a float32 shape computation is exact on the small integers it sees), and
casts between them truncate toward zero. A tensor keeps its values only when small (``MAX_VALUES``);
its shape is always known. Pure Python: no numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

from convcalc.errors import ConvCalcError
from convcalc.graph.model import Number

MAX_VALUES = 4096
# ONNX TensorProto data types read as integers (bool too), and as floats.
INTEGER_TYPES = frozenset({2, 3, 4, 5, 6, 7, 9, 12, 13})
FLOAT_TYPES = frozenset({1, 10, 11, 16})

Shape = tuple[int, ...]
Values = tuple[Number, ...]


class Unknown(Exception):
    """The values cannot be worked out (a float that is not exact, a tensor too large): shape only."""


class ValueTensor:
    """A tensor of the shape arithmetic: its shape, and its values row-major (None when not known)."""

    __slots__ = ("shape", "values")

    def __init__(self, shape: Shape, values: Values | None) -> None:
        self.shape = shape
        self.values = values if values is not None and len(values) <= MAX_VALUES else None

    def known(self) -> Values:
        if self.values is None:
            raise Unknown
        return self.values


def count(shape: Sequence[int]) -> int:
    return math.prod(shape)


def trunc_div(a: int, b: int) -> int:
    """C's integer division (toward zero), as ONNX Runtime divides integer tensors."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _strides(shape: Shape) -> list[int]:
    out, step = [], 1
    for d in reversed(shape):
        out.append(step)
        step *= d
    return out[::-1]


def _axis(axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < max(rank, 1):
        raise ConvCalcError(f"axis {axis} is outside a tensor of rank {rank}", parameter="axis")
    return a


def broadcast_shape(shapes: Sequence[Shape]) -> Shape:
    """numpy's (and ONNX's multidirectional) broadcasting; ConvCalcError when the shapes disagree."""
    rank = max(len(s) for s in shapes)
    out = []
    for n in range(rank):
        dims = {s[n - rank + len(s)] for s in shapes if n - rank + len(s) >= 0}
        big = dims - {1}
        if len(big) > 1:
            raise ConvCalcError(
                "operands do not broadcast: " + " vs ".join("x".join(map(str, s)) for s in shapes),
                parameter="shape",
            )
        out.append(big.pop() if big else 1)
    return tuple(out)


def _elementwise(fn: Callable[..., Number], operands: Sequence[ValueTensor]) -> ValueTensor:
    shape = broadcast_shape([t.shape for t in operands])
    if count(shape) > MAX_VALUES or any(t.values is None for t in operands):
        return ValueTensor(shape, None)
    flats = []
    for t in operands:
        own = (1,) * (len(shape) - len(t.shape)) + t.shape
        flats.append((own, _strides(own), t.known()))
    out = []
    for index in range(count(shape)):
        args = []
        rest = index
        position = []
        for step in _strides(shape):
            position.append(rest // step)
            rest %= step
        for own, strides, values in flats:
            offset = sum((p if d != 1 else 0) * s for p, d, s in zip(position, own, strides))
            args.append(values[offset])
        out.append(fn(*args))
    return ValueTensor(shape, tuple(out))


def _is_float(v: Number) -> bool:
    return isinstance(v, Fraction)


def _div(a: Number, b: Number) -> Number:
    if _is_float(a) or _is_float(b):
        if b == 0:
            raise Unknown  # inf / nan: not a size
        return Fraction(a) / Fraction(b)
    if b == 0:
        raise ConvCalcError("an integer division by zero in the shape arithmetic", parameter="model")
    return trunc_div(int(a), int(b))


def _mod(a: Number, b: Number, fmod: int) -> Number:
    if b == 0:
        raise ConvCalcError("an integer modulo by zero in the shape arithmetic", parameter="model")
    if fmod or _is_float(a) or _is_float(b):
        r = Fraction(a) - Fraction(b) * int(Fraction(a) / Fraction(b))  # fmod: the sign of the dividend
        return r if _is_float(a) or _is_float(b) else int(r)
    return int(a) % int(b)  # Python's sign of the divisor, as ONNX Mod with fmod=0


def _pow(a: Number, b: Number) -> Number:
    if isinstance(b, int) or (isinstance(b, Fraction) and b.denominator == 1):
        e = int(b)
        if e >= 0 or a != 0:
            result = Fraction(a) ** e
            return result if _is_float(a) or _is_float(b) or result.denominator != 1 else int(result)
    raise Unknown  # a root: not exact


def _sqrt(a: Number) -> Number:
    f = Fraction(a)
    if f < 0:
        raise Unknown
    n, d = math.isqrt(f.numerator), math.isqrt(f.denominator)
    if n * n != f.numerator or d * d != f.denominator:
        raise Unknown
    return Fraction(n, d)


def _cast(v: Number, to: int) -> Number:
    if to in FLOAT_TYPES:
        return Fraction(v)
    if to == 9:
        return int(v != 0)
    return int(v)  # toward zero, as a C cast


def _attr(attributes: dict[str, object], name: str, default: object) -> object:
    return attributes.get(name, default)


def _flag(attributes: dict[str, object], name: str) -> int:
    value = attributes.get(name, 0)
    return int(value) if isinstance(value, (int, Fraction)) else 0


def _ints(v: object) -> list[int]:
    assert isinstance(v, (list, tuple))
    return [int(x) for x in v]


def _unary(fn: Callable[[Number], Number]) -> Callable[[list[ValueTensor], dict[str, object]], ValueTensor]:
    return lambda inputs, attributes: _elementwise(fn, inputs[:1])


def _binary(
    fn: Callable[[Number, Number], Number],
) -> Callable[[list[ValueTensor], dict[str, object]], ValueTensor]:
    return lambda inputs, attributes: _elementwise(fn, inputs[:2])


def _variadic(
    fn: Callable[[Number, Number], Number],
) -> Callable[[list[ValueTensor], dict[str, object]], ValueTensor]:
    def rule(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
        result = inputs[0]
        for other in inputs[1:]:
            result = _elementwise(fn, [result, other])
        return result

    return rule


def _shape(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    dims = inputs[0].shape
    rank = len(dims)
    start, end = (int(_attr(attributes, name, d)) for name, d in (("start", 0), ("end", rank)))  # type: ignore[call-overload]
    start, end = (max(0, min(rank, v + rank if v < 0 else v)) for v in (start, end))
    picked = dims[start:end]
    return ValueTensor((len(picked),), tuple(picked))


def _size(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    return ValueTensor((), (count(inputs[0].shape),))


def _gather(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    data, indices = inputs[0], inputs[1]
    rank = len(data.shape)
    axis = _axis(int(_attr(attributes, "axis", 0)), rank)  # type: ignore[call-overload]
    dim = data.shape[axis]
    shape = data.shape[:axis] + indices.shape + data.shape[axis + 1 :]
    if data.values is None or indices.values is None or count(shape) > MAX_VALUES:
        return ValueTensor(shape, None)
    picks = []
    for i in indices.known():
        k = int(i) + dim if int(i) < 0 else int(i)
        if not 0 <= k < dim:
            raise ConvCalcError(f"Gather index {i} is outside an axis of {dim}", parameter="model")
        picks.append(k)
    outer, inner = count(data.shape[:axis]), count(data.shape[axis + 1 :])
    values = data.known()
    out = [values[(o * dim + k) * inner + n] for o in range(outer) for k in picks for n in range(inner)]
    return ValueTensor(shape, tuple(out))


def _take(t: ValueTensor, axis: int, positions: Sequence[int]) -> ValueTensor:
    """The positions along one axis (a slice or a gather of one tensor)."""
    shape = (*t.shape[:axis], len(positions), *t.shape[axis + 1 :])
    if t.values is None or count(shape) > MAX_VALUES:
        return ValueTensor(shape, None)
    dim = t.shape[axis]
    outer, inner = count(t.shape[:axis]), count(t.shape[axis + 1 :])
    values = t.known()
    out = [values[(o * dim + k) * inner + n] for o in range(outer) for k in positions for n in range(inner)]
    return ValueTensor(shape, tuple(out))


def slice_positions(dim: int, start: int, end: int, step: int) -> range:
    """ONNX Slice's clamping (starts/ends clamped into the axis, negative counted from the end):
    Python's ``slice.indices`` applies the same rule, INT64 extremes included."""
    if step == 0:
        raise ConvCalcError("Slice steps must not be 0", parameter="model")
    return range(*slice(start, end, step).indices(dim))


def _slice(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    data = inputs[0]
    if "starts" in attributes:
        starts, ends = _ints(attributes["starts"]), _ints(attributes["ends"])
        axes = _ints(attributes.get("axes", list(range(len(starts)))))
        steps = [1] * len(starts)
    else:
        starts = [int(v) for v in inputs[1].known()]
        ends = [int(v) for v in inputs[2].known()]
        axes = [int(v) for v in inputs[3].known()] if len(inputs) > 3 else list(range(len(starts)))
        steps = [int(v) for v in inputs[4].known()] if len(inputs) > 4 else [1] * len(starts)
    result = data
    for axis, start, end, step in zip(axes, starts, ends, steps):
        a = _axis(axis, len(data.shape))
        result = _take(result, a, slice_positions(result.shape[a], start, end, step))
    return result


def _concat(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    parts = [t for t in inputs if count(t.shape) > 0 or len(t.shape) == len(inputs[0].shape)]
    rank = len(parts[0].shape)
    axis = _axis(int(_attr(attributes, "axis", 0)), rank)  # type: ignore[call-overload]
    shape = list(parts[0].shape)
    shape[axis] = sum(t.shape[axis] for t in parts)
    if any(t.values is None for t in parts) or count(shape) > MAX_VALUES:
        return ValueTensor(tuple(shape), None)
    outer = count(parts[0].shape[:axis])
    out: list[Number] = []
    for o in range(outer):
        for t in parts:
            block = count(t.shape[axis:])
            out.extend(t.known()[o * block : (o + 1) * block])
    return ValueTensor(tuple(shape), tuple(out))


def _axes_operand(inputs: list[ValueTensor], attributes: dict[str, object]) -> list[int] | None:
    if "axes" in attributes:
        return _ints(attributes["axes"])
    if len(inputs) > 1:
        return [int(v) for v in inputs[1].known()]
    return None


def _unsqueeze(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    axes = _axes_operand(inputs, attributes) or []
    rank = len(inputs[0].shape) + len(axes)
    shape = list(inputs[0].shape)
    for a in sorted(_axis(a, rank) for a in axes):
        shape.insert(a, 1)
    return ValueTensor(tuple(shape), inputs[0].values)


def _squeeze(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    shape = inputs[0].shape
    axes = _axes_operand(inputs, attributes)
    drop = (
        {_axis(a, len(shape)) for a in axes}
        if axes is not None
        else {n for n, d in enumerate(shape) if d == 1}
    )
    for a in drop:
        if shape[a] != 1:
            raise ConvCalcError(f"Squeeze of axis {a} of size {shape[a]}", parameter="model")
    return ValueTensor(tuple(d for n, d in enumerate(shape) if n not in drop), inputs[0].values)


def reshape_target(shape: Shape, target: Sequence[int], allow_zero: bool) -> Shape:
    """ONNX Reshape: 0 copies the input dimension (unless allowzero), one -1 is inferred."""
    out = [shape[n] if d == 0 and not allow_zero and n < len(shape) else d for n, d in enumerate(target)]
    total = count(shape)
    if any(d < -1 for d in out) or out.count(-1) > 1:
        raise ConvCalcError(
            f"a reshape target takes sizes >= -1 and one -1; got {list(target)}", parameter="shape"
        )
    if -1 in out:
        known = count([d for d in out if d != -1])
        if known == 0 or total % known:
            raise ConvCalcError(
                f"cannot reshape {'x'.join(map(str, shape))} ({total} values) to {list(target)}",
                parameter="shape",
            )
        out[out.index(-1)] = total // known
    if count(out) != total:
        raise ConvCalcError(
            f"cannot reshape {'x'.join(map(str, shape))} ({total} values) to {list(target)}",
            parameter="shape",
        )
    return tuple(out)


def _reshape(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    target = [int(v) for v in inputs[1].known()]
    shape = reshape_target(inputs[0].shape, target, bool(_attr(attributes, "allowzero", 0)))
    return ValueTensor(shape, inputs[0].values)


def _flatten(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    shape = inputs[0].shape
    a = _axis(int(_attr(attributes, "axis", 1)), len(shape) + 1)  # type: ignore[call-overload]
    return ValueTensor((count(shape[:a]), count(shape[a:])), inputs[0].values)


def _transpose(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    t = inputs[0]
    rank = len(t.shape)
    perm = _ints(attributes.get("perm", list(range(rank))[::-1]))
    shape = tuple(t.shape[p] for p in perm)
    if t.values is None:
        return ValueTensor(shape, None)
    strides = _strides(t.shape)
    out_strides = _strides(shape)
    values = t.known()
    out = []
    for index in range(count(shape)):
        rest, offset = index, 0
        for n, step in enumerate(out_strides):
            offset += (rest // step) * strides[perm[n]]
            rest %= step
        out.append(values[offset])
    return ValueTensor(shape, tuple(out))


def _expand(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    target = tuple(int(v) for v in inputs[1].known())
    return _elementwise(
        lambda v, _: v,
        [inputs[0], ValueTensor(target, (0,) * count(target) if count(target) <= MAX_VALUES else None)],
    )


def _constant_of_shape(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    shape = tuple(int(v) for v in inputs[0].known())
    if any(d < 0 for d in shape):
        raise ConvCalcError(f"ConstantOfShape of a negative size {list(shape)}", parameter="model")
    fill = attributes.get("value", 0)
    assert isinstance(fill, (int, Fraction))
    return ValueTensor(shape, (fill,) * count(shape) if count(shape) <= MAX_VALUES else None)


def _range(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    start, limit, delta = (t.known()[0] for t in inputs[:3])
    if delta == 0:
        raise ConvCalcError("Range with a delta of 0", parameter="model")
    n = max(math.ceil(Fraction(limit - start) / Fraction(delta)), 0)
    values = tuple(start + k * delta for k in range(n)) if n <= MAX_VALUES else None
    return ValueTensor((n,), values)


def split(inputs: list[ValueTensor], attributes: dict[str, object], outputs: int) -> list[ValueTensor]:
    """ONNX Split: the sizes from the ``split`` operand or attribute, else ``outputs`` chunks of
    ceil(dim/outputs), the last one smaller (opset 18's rule; older opsets divide evenly)."""
    t = inputs[0]
    axis = _axis(int(_attr(attributes, "axis", 0)), len(t.shape))  # type: ignore[call-overload]
    dim = t.shape[axis]
    if len(inputs) > 1:
        sizes = [int(v) for v in inputs[1].known()]
    elif "split" in attributes:
        sizes = _ints(attributes["split"])
    else:
        chunk = -(-dim // outputs)
        sizes = [min(chunk, max(dim - chunk * n, 0)) for n in range(outputs)]
    if sum(sizes) != dim or len(sizes) != outputs:
        raise ConvCalcError(f"Split of an axis of {dim} into {sizes}", parameter="model")
    parts, start = [], 0
    for size in sizes:
        parts.append(_take(t, axis, range(start, start + size)))
        start += size
    return parts


def _where(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    return _elementwise(lambda c, a, b: a if c else b, inputs[:3])


def _reduce(
    fn: Callable[[Sequence[Number]], Number],
) -> Callable[[list[ValueTensor], dict[str, object]], ValueTensor]:
    """ONNX ReduceX: the ``axes`` (attribute, or operand from opset 13/18; absent or empty: every axis,
    unless ``noop_with_empty_axes``) become 1 with ``keepdims`` (default 1), else are removed; ``fn``
    reduces the values along them (it raises ``Unknown`` where they cannot be worked out)."""

    def rule(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
        t = inputs[0]
        axes = _axes_operand(inputs, attributes)
        if not axes and _flag(attributes, "noop_with_empty_axes"):
            return t
        rank = len(t.shape)
        reduced = set(range(rank)) if not axes else {_axis(a, rank) for a in axes}
        return _reduce_axes(t, reduced, bool(_attr(attributes, "keepdims", 1)), fn)

    return rule


def _reduce_axes(
    t: ValueTensor, reduced: set[int], keep: bool, fn: Callable[[Sequence[Number]], Number]
) -> ValueTensor:
    """``t`` reduced along the ``reduced`` axes: each output value is ``fn`` of its group, the group's
    values in row-major order (so along one axis, in order of position)."""
    shape = tuple(1 if n in reduced else d for n, d in enumerate(t.shape) if keep or n not in reduced)
    if t.values is None:
        return ValueTensor(shape, None)
    kept = [n for n in range(len(t.shape)) if n not in reduced]
    kept_strides = _strides(tuple(t.shape[n] for n in kept))
    groups: list[list[Number]] = [[] for _ in range(count(shape))]
    steps = _strides(t.shape)
    for index, value in enumerate(t.known()):
        position = [(index // step) % dim for step, dim in zip(steps, t.shape)]
        groups[sum(position[n] * s for n, s in zip(kept, kept_strides))].append(value)
    return ValueTensor(shape, tuple(fn(group) for group in groups))


def _mean(values: Sequence[Number]) -> Number:
    """ReduceMean on floats (exact); on integers ONNX Runtime's rounding is not pinned here: unknown."""
    if not values or not any(_is_float(v) for v in values):
        raise Unknown
    return Fraction(sum(values)) / len(values)


def _unknown_values(values: Sequence[Number]) -> Number:
    raise Unknown  # a norm or a log: the shape is what the size arithmetic needs


def _arg(
    pick: Callable[[Sequence[Number]], Number],
) -> Callable[[list[ValueTensor], dict[str, object]], ValueTensor]:
    """ONNX ArgMax / ArgMin: the position of the first extreme (the last with ``select_last_index``)
    along ``axis`` (default 0), kept as 1 with ``keepdims`` (default 1)."""

    def rule(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
        t = inputs[0]
        axis = _axis(int(_attr(attributes, "axis", 0)), len(t.shape))  # type: ignore[call-overload]
        last = bool(_flag(attributes, "select_last_index"))

        def position(group: Sequence[Number]) -> int:
            best = pick(group)
            found = [n for n, v in enumerate(group) if v == best]
            return found[-1] if last else found[0]

        return _reduce_axes(t, {axis}, bool(_attr(attributes, "keepdims", 1)), position)

    return rule


def _gather_nd(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    """ONNX GatherND: the last axis of ``indices`` (k entries) addresses data's axes after the
    ``batch_dims`` (default 0) shared leading ones: output = indices.shape[:-1] + data.shape[b + k:]."""
    data, indices = inputs[0], inputs[1]
    batch = int(_attr(attributes, "batch_dims", 0))  # type: ignore[call-overload]
    k = indices.shape[-1] if indices.shape else 0
    if not indices.shape or not 1 <= k <= len(data.shape) - batch:
        raise ConvCalcError(
            f"GatherND: indices of shape {indices.shape} cannot address data of shape {data.shape} "
            f"after {batch} batch axes",
            parameter="model",
        )
    shape = (*indices.shape[:-1], *data.shape[batch + k :])
    if batch or data.values is None or indices.values is None or count(shape) > MAX_VALUES:
        return ValueTensor(shape, None)
    inner = count(data.shape[k:])
    steps = _strides(data.shape[:k])
    rows, values = indices.known(), data.known()
    out: list[Number] = []
    for start in range(0, len(rows), k):
        offset = 0
        for v, dim, step in zip(rows[start : start + k], data.shape, steps):
            n = int(v) + dim if v < 0 else int(v)
            if not 0 <= n < dim:
                raise ConvCalcError(f"GatherND: index {v} is outside an axis of {dim}", parameter="model")
            offset += n * step
        out.extend(values[offset * inner : (offset + 1) * inner])
    return ValueTensor(shape, tuple(out))


def _tile(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    """ONNX Tile: axis n repeated ``repeats[n]`` times (the ``repeats`` operand, one per axis)."""
    t = inputs[0]
    repeats = [int(v) for v in inputs[1].known()]
    if len(repeats) != len(t.shape) or min(repeats, default=0) < 0:
        raise ConvCalcError(f"Tile: repeats {repeats} for a tensor of shape {t.shape}", parameter="model")
    shape = tuple(d * r for d, r in zip(t.shape, repeats))
    if t.values is None or count(shape) > MAX_VALUES:
        return ValueTensor(shape, None)
    out = t
    for axis, r in enumerate(repeats):
        out = _take(out, axis, [n for _ in range(r) for n in range(out.shape[axis])])
    return out


def _einsum(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    """ONNX Einsum's shape: each operand's letters name its axes ("..." the broadcast ones), a letter
    has one size across the operands (or 1, which broadcasts, as ONNX Runtime runs it), and the output
    is the letters after "->" (without "->": the letters met once, in alphabetical order, after the
    broadcast axes). Values are not worked out."""
    equation = str(_attr(attributes, "equation", "")).replace(" ", "")
    left, arrow, right = equation.partition("->")
    terms = left.split(",")
    if len(terms) != len(inputs):
        raise ConvCalcError(
            f"einsum {equation!r} names {len(terms)} operands; it has {len(inputs)}", parameter="model"
        )
    sizes: dict[str, int] = {}
    broadcast: list[Shape] = []
    for term, t in zip(terms, inputs):
        head, dots, tail = term.partition("...")
        spread = len(t.shape) - len(head) - len(tail)
        if spread < 0 or (not dots and spread):
            raise ConvCalcError(
                f"einsum {equation!r}: operand {term!r} has rank {len(t.shape)}", parameter="model"
            )
        if dots:
            broadcast.append(t.shape[len(head) : len(head) + spread])
        for letter, dim in zip(head + tail, (*t.shape[: len(head)], *t.shape[len(t.shape) - len(tail) :])):
            known = sizes.setdefault(letter, dim)
            if known == 1 or dim == 1:  # a letter of size 1 broadcasts (ONNX Runtime, torch.einsum)
                sizes[letter] = dim if known == 1 else known
            elif known != dim:
                raise ConvCalcError(
                    f"einsum {equation!r}: index {letter!r} is {sizes[letter]} in one operand and {dim} in "
                    f"another: " + " vs ".join(str(t.shape) for t in inputs),
                    parameter="model",
                )
    dots_shape = broadcast_shape(broadcast) if broadcast else ()
    if not arrow:
        letters = left.replace(",", "").replace("...", "")
        right = ("..." if broadcast else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1)
        )
    head, dots, tail = right.partition("...")
    shape = (*(sizes[c] for c in head), *(dots_shape if dots else ()), *(sizes[c] for c in tail))
    return ValueTensor(shape, None)


def _identity(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    return inputs[0]


def _cast_rule(inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    to = int(_attr(attributes, "to", 7))  # type: ignore[call-overload]
    if to not in INTEGER_TYPES | FLOAT_TYPES:
        raise Unknown
    return _elementwise(lambda v: _cast(v, to), inputs[:1])


def _compare(
    fn: Callable[[Number, Number], bool],
) -> Callable[[list[ValueTensor], dict[str, object]], ValueTensor]:
    return _binary(lambda a, b: int(fn(a, b)))


# Every op of the shape arithmetic and its rule: (inputs, attributes as JSON values) -> output.
OPS: dict[str, Callable[[list[ValueTensor], dict[str, object]], ValueTensor]] = {
    "Shape": _shape,
    "Size": _size,
    "Gather": _gather,
    "Slice": _slice,
    "Concat": _concat,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Transpose": _transpose,
    "Expand": _expand,
    "ConstantOfShape": _constant_of_shape,
    "Range": _range,
    "Identity": _identity,
    "Cast": _cast_rule,
    "Add": _variadic(lambda a, b: a + b),
    "Sum": _variadic(lambda a, b: a + b),
    "Sub": _binary(lambda a, b: a - b),
    "Mul": _variadic(lambda a, b: a * b),
    "Div": _binary(_div),
    "Mod": lambda inputs, attributes: _elementwise(
        lambda a, b: _mod(a, b, _flag(attributes, "fmod")),
        inputs[:2],
    ),
    "Pow": _binary(_pow),
    "Min": _variadic(min),
    "Max": _variadic(max),
    "Neg": _unary(lambda a: -a),
    "Abs": _unary(lambda a: -a if a < 0 else a),
    "Floor": _unary(lambda a: math.floor(a) if isinstance(a, int) else Fraction(math.floor(a))),
    "Ceil": _unary(lambda a: math.ceil(a) if isinstance(a, int) else Fraction(math.ceil(a))),
    "Sqrt": _unary(_sqrt),
    "Equal": _compare(lambda a, b: a == b),
    "Less": _compare(lambda a, b: a < b),
    "LessOrEqual": _compare(lambda a, b: a <= b),
    "Greater": _compare(lambda a, b: a > b),
    "GreaterOrEqual": _compare(lambda a, b: a >= b),
    "Not": _unary(lambda a: int(not a)),
    "And": _binary(lambda a, b: int(bool(a) and bool(b))),
    "Or": _binary(lambda a, b: int(bool(a) or bool(b))),
    "Where": _where,
    "ReduceProd": _reduce(math.prod),
    "ReduceSum": _reduce(sum),
    "ReduceMax": _reduce(max),
    "ReduceMin": _reduce(min),
    "ReduceMean": _reduce(_mean),
    "ReduceL1": _reduce(_unknown_values),
    "ReduceL2": _reduce(_unknown_values),
    "ReduceSumSquare": _reduce(_unknown_values),
    "ReduceLogSum": _reduce(_unknown_values),
    "ReduceLogSumExp": _reduce(_unknown_values),
    "ArgMax": _arg(max),
    "ArgMin": _arg(min),
    "Einsum": _einsum,
    "GatherND": _gather_nd,
    "Tile": _tile,
}
# The operand of these ops whose value divides (a period of the sizes: floor and mod repeat over it).
DIVISORS = {"Div": 1, "Mod": 1}


def evaluate(op: str, inputs: list[ValueTensor], attributes: dict[str, object]) -> ValueTensor:
    """One op of the shape arithmetic on its inputs; values None where they cannot be worked out.

    Raises ``Unknown`` when even the output's shape depends on values that are not known."""
    rule = OPS[op]
    try:
        return rule(inputs, attributes)
    except Unknown:
        pass
    if len(inputs) > 1 and inputs[0].values is not None:
        # the data's values cannot be worked out (an L2 norm of a weight: weight_norm), its operands
        # (axes, a target shape, indices) still give the output's shape
        try:
            return rule([ValueTensor(inputs[0].shape, None), *inputs[1:]], attributes)
        except Unknown:
            pass
    return rule([ValueTensor(t.shape, None) for t in inputs], attributes)
