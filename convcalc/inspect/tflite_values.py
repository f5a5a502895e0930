"""The small integer vectors a converted model computes its sizes with: SHAPE and the arithmetic after it.

A model converted with dynamic sizes computes, for example, TRANSPOSE_CONV's output_shape as
PACK(SHAPE(x)[0], SHAPE(x)[1] * 2, SHAPE(x)[2] * 2, 3). Each element of such a vector is a known int,
a ``Linear`` term ``scale * dim(tensor, axis) + offset`` of one dynamic dimension, or None (anything
else). The ops read: SHAPE, STRIDED_SLICE (one axis, no ellipsis or new axes), GATHER, PACK,
CONCATENATION, CAST, and MUL / ADD / SUB / FLOOR_DIV where the result stays linear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

# An op's size-giving vector (output_shape, paddings, size, new_shape) has a few entries.
MAX_VECTOR = 64


@dataclass(frozen=True)
class Linear:
    """scale * (size of ``tensor`` on ``axis``) + offset."""

    tensor: int
    axis: int
    scale: int = 1
    offset: int = 0


Element = Union[int, Linear, None]
Vector = tuple[Element, ...]


def arithmetic(name: str, a: Element, b: Element) -> Element:
    """One element of MUL, ADD, SUB or FLOOR_DIV, when the result is an int or stays linear."""
    if isinstance(a, int) and isinstance(b, int):
        if name == "MUL":
            return a * b
        if name == "ADD":
            return a + b
        if name == "SUB":
            return a - b
        return a // b if name == "FLOOR_DIV" and b else None
    if name == "MUL" and isinstance(a, int) != isinstance(b, int):
        k, term = (a, b) if isinstance(a, int) else (b, a)
        if isinstance(term, Linear) and isinstance(k, int):
            return Linear(term.tensor, term.axis, term.scale * k, term.offset * k)
    if name in ("ADD", "SUB") and isinstance(a, Linear) and isinstance(b, int):
        return Linear(a.tensor, a.axis, a.scale, a.offset + (b if name == "ADD" else -b))
    if name == "ADD" and isinstance(a, int) and isinstance(b, Linear):
        return Linear(b.tensor, b.axis, b.scale, b.offset + a)
    return None


def broadcast(name: str, a: Vector, b: Vector) -> Vector | None:
    """MUL / ADD / SUB / FLOOR_DIV of two vectors, one of them possibly a scalar."""
    if len(a) != len(b) and 1 not in (len(a), len(b)):
        return None
    size = max(len(a), len(b))
    return tuple(arithmetic(name, a[k % len(a)], b[k % len(b)]) for k in range(size))


def strided_slice(
    vector: Vector, begin: int | None, end: int | None, step: int, shrink: bool
) -> Vector | None:
    """One axis of STRIDED_SLICE (begin / end None where the op's mask says so)."""
    if step == 0:
        return None
    if shrink:
        index = begin or 0
        return (vector[index],) if -len(vector) <= index < len(vector) else None
    return vector[slice(begin, end, step)]


def gather(vector: Vector, indices: Vector) -> Vector | None:
    if not all(isinstance(k, int) and -len(vector) <= k < len(vector) for k in indices):
        return None
    return tuple(vector[k] for k in indices if isinstance(k, int))
