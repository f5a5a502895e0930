"""Crops of the witness routes' full outputs, written apart from the fast path's own (its plans)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from convcalc.engine.inputs import Array


def crop(array: Array, crops: Sequence[tuple[int, int]], lead: int = 2) -> Array:
    """Remove crop_before/crop_after elements from each trailing axis; a negative crop appends zeros.

    Zeros first, then the crops: a crop may reach past the array into zeros appended on the other side.
    """
    sizes = array.shape[lead:]
    front = [max(-b, 0) for b, _ in crops]
    extended = tuple(f + n + max(-a, 0) for f, n, (_, a) in zip(front, sizes, crops))
    if extended != sizes:
        zeros = np.zeros(array.shape[:lead] + extended, dtype=array.dtype)
        zeros[(slice(None),) * lead + tuple(slice(f, f + n) for f, n in zip(front, sizes))] = array
        array = zeros
    keep = [slice(max(b, 0), n - max(a, 0)) for (b, a), n in zip(crops, extended)]
    return array[(slice(None),) * lead + tuple(keep)]
