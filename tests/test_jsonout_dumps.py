"""``convcalc.jsonout.dumps`` writes what ``json.dumps(document, indent=2)`` writes, character for character
(the documented output is indented; the writer is faster than the standard library's pure-Python
encoder). Witness: the standard library, on random JSON values and on a real inspect document."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.jsonout import dumps

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(["", "é", "\u2603", '"', "\\", "\n", "\x00"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_the_writer_equals_the_standard_library(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2)


def test_keys_and_types_it_leaves_to_the_standard_library() -> None:
    class Size(int):
        pass

    for value in ({1: 2, None: True, 1.5: [1]}, {"a": Size(3)}, [Size(4), 5]):
        assert dumps(value) == json.dumps(value, indent=2)  # type: ignore[arg-type]
