"""`x[..., a, b, c, d]` saved by Keras on a rank-4 tensor: the ellipsis stands for no axis.

The reader refused a key with more items than the tensor has axes, counting the ellipsis as one (a false
refusal, found by a fresh-eyes review). Witness: NumPy's own indexing (Keras ops index as NumPy does)
of an array with the key, against the slice convcalc reads from the saved key.
"""

from __future__ import annotations

import numpy as np
import pytest

from convcalc.inspect.keras_ops import _get_item


def _saved(item: object) -> dict[str, object]:
    """An index item as a Keras config records it."""
    if item is Ellipsis:
        return {"class_name": "__ellipsis__"}
    assert isinstance(item, slice)
    return {"class_name": "__slice__", "config": {"start": item.start, "stop": item.stop, "step": item.step}}


@pytest.mark.parametrize(
    "key",
    [
        (Ellipsis, slice(None), slice(1, None), slice(None, 3), slice(None, None, 2)),
        (slice(None), Ellipsis, slice(0, 2)),
        (Ellipsis, slice(2, 5)),
        (slice(None), slice(None), slice(1, 4), slice(None), Ellipsis),
    ],
)
def test_a_saved_slice_key_cuts_as_numpy_does(key: tuple[object, ...]) -> None:
    data = np.zeros((2, 7, 6, 5))
    spec = _get_item([_saved(item) for item in key], data.ndim)
    assert spec is not None
    cut = [slice(None)] * data.ndim
    for axis, start, end, step in zip(spec.axes, spec.starts, spec.ends, spec.steps):
        cut[axis] = slice(start, end, step)
    assert data[tuple(cut)].shape == data[key].shape
