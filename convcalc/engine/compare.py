"""Small helpers for the verifier, which must not import numpy itself: test tensors and differences."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from convcalc.engine.budget import check_budget
from convcalc.engine.inputs import Array


def random_tensors(seed: int, *shapes: Sequence[int]) -> list[Array]:
    """Standard-normal float64 arrays of the given shapes from one seeded generator."""
    rng = np.random.default_rng(seed)
    for shape in shapes:
        check_budget(0, math.prod(shape), what="a random test tensor")
    return [rng.standard_normal(tuple(shape)) for shape in shapes]


def max_abs_error(got: Array, expected: Array) -> float:
    """max |got - expected|; infinite when the shapes differ."""
    if got.shape != expected.shape:
        return math.inf
    return float(np.max(np.abs(got - expected))) if got.size else 0.0


def max_abs(array: Array) -> float:
    return float(np.max(np.abs(array))) if array.size else 0.0
