"""The Python API's layer keywords (shape, verify, explain, port) reach the reader as the CLI's options.

The four functions keep explicit keyword signatures for users and share one helper that forwards them;
a keyword the helper dropped would silently keep its default, so every keyword each function declares
is given a value other than its default and must arrive in the options the reader gets.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

import pytest

import convcalc
from convcalc import api
from convcalc.errors import ConvCalcError
from convcalc.reader import LayerOptions

# A value for each layer keyword, none of them its default, and how the CLI would spell it.
GIVEN: dict[str, tuple[object, object]] = {
    "size": ((16, 12), "16x12"),
    "kernel_size": (5, "5"),
    "stride": ((3, 2), "3x2"),
    "padding": (((1, 2), (0, 1)), "1:2x0:1"),
    "output_padding": (1, "1"),
    "dilation": (2, "2"),
    "transposed": (True, True),
    "in_channels": (4, 4),
    "out_channels": (6, 6),
    "groups": (2, 2),
    "framework": ("keras", "keras"),
    "output_size": (33, "33"),
    "transpose_kernel": (True, True),
}
FUNCTIONS = [convcalc.shape, convcalc.verify, convcalc.explain, convcalc.port]


def test_the_table_covers_every_layer_option() -> None:
    assert set(GIVEN) == set(LayerOptions._fields)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_every_layer_keyword_a_function_declares_reaches_the_reader(
    function: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = [name for name in inspect.signature(function).parameters if name in LayerOptions._fields]
    assert {"size", "kernel_size", "stride", "padding", "dilation", "transposed"} <= set(declared)
    seen: list[LayerOptions] = []
    forward = api._layer_options

    def spy(arguments: Any) -> LayerOptions:
        seen.append(forward(arguments))
        return seen[-1]

    monkeypatch.setattr(api, "_layer_options", spy)
    extra = {"source": "pytorch", "target": "keras"} if function is convcalc.port else {}
    for name in declared:
        value, text = GIVEN[name]
        arguments: dict[str, Any] = {"size": 8, "kernel_size": 3, name: value, **extra}
        seen.clear()
        # A lone keyword may make a layer the reader refuses; what the reader received is the point.
        with contextlib.suppress(ConvCalcError):
            function(**arguments)
        assert len(seen) == 1, name
        assert getattr(seen[0], name) == text, name
        defaults = LayerOptions(size="8", kernel_size="3")
        others = {
            f: getattr(seen[0], f) for f in LayerOptions._fields if f not in (name, "size", "kernel_size")
        }
        assert others == {f: getattr(defaults, f) for f in others}, name
