"""Crops of the witness routes' full outputs, written apart from the fast path's own (its plans)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from convcalc.engine.inputs import Array


def crop(array: Array, crops: Sequence[tuple[int, int]], lead: int = 2) -> Array:
    """Remove crop_before/crop_after elements from each trailing axis; a negative crop appends zeros.

    Zeros first, then the crops: a crop may reach past the array into zeros appended on the other side.
    """
    extend = [(0, 0)] * lead + [(max(-b, 0), max(-a, 0)) for b, a in crops]
    extended = np.pad(array, extend) if any(e != (0, 0) for e in extend) else array
    keep = [slice(max(b, 0), n - max(a, 0)) for (b, a), n in zip(crops, extended.shape[lead:])]
    return extended[(slice(None),) * lead + tuple(keep)]
