"""The Python API's layer keywords (shape, verify, explain, port) reach the reader as the CLI's options.

The four functions keep explicit keyword signatures for users and share one helper that forwards them;
a keyword the helper dropped would silently keep its default, so every keyword each function declares
is given a value other than its default and must arrive in the options the reader gets.
"""

from __future__ import annotations

import contextlib
import inspect
import json
from typing import Any

import pytest
from typer.testing import CliRunner

import convcalc
from convcalc import api
from convcalc.cli import app
from convcalc.errors import ConvCalcError, ExitCode
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


# The same mistakes through the Python API and through the command line: each names the parameter as
# the user in front of it spells it (keyword= in Python, the command's option on the command line).
MISTAKES: list[tuple[str, Any, list[str], str, str]] = [
    (
        "no kernel_size",
        lambda: convcalc.shape(64),
        ["shape", "64"],
        "give kernel_size=, for example kernel_size=3",
        "give --kernel-size (-k), for example --kernel-size 3",
    ),
    (
        "output_size without transposed",
        lambda: convcalc.shape(16, 3, output_size=40),
        ["shape", "16", "-k", "3", "--output-size", "40"],
        "add transposed=True, or drop output_size=",
        "add --transposed (-t), or drop --output-size",
    ),
    (
        "transpose_kernel without jax",
        lambda: convcalc.verify(16, 3, transpose_kernel=True),
        ["verify", "16", "-k", "3", "--transpose-kernel"],
        "transpose_kernel=True is an argument of JAX and Flax only: add framework='jax' or framework='flax'",
        "--transpose-kernel is an argument of JAX and Flax only: add --framework jax or --framework flax",
    ),
    (
        "groups with a framework",
        lambda: convcalc.shape(16, 3, groups=2, framework="keras"),
        ["shape", "16", "-k", "3", "-g", "2", "--framework", "keras"],
        "in_channels=, out_channels= and groups= go with convcalc's own arguments; drop them with "
        "framework='keras'",
        "--in-channels, --out-channels and --groups (-g) go with convcalc's own arguments; drop them with "
        "--framework keras",
    ),
    (
        "'same' on a transposed layer",
        lambda: convcalc.shape(16, 3, stride=2, padding="same", transposed=True),
        ["shape", "16", "-k", "3", "-s", "2", "-p", "same", "-t"],
        "(framework='keras' or framework='tensorflow')",
        "(--framework keras or --framework tensorflow)",
    ),
    (
        "output_padding with conv",
        lambda: convcalc.solve(8, 4, conv=True, output_padding=1),
        ["solve", "8", "4", "--conv", "--output-padding", "1"],
        "drop it or drop conv=True",
        "drop it or drop --conv",
    ),
    (
        "port without a kernel",
        lambda: convcalc.port(16, source="pytorch", target="keras"),
        ["port", "16", "--from", "pytorch", "--to", "keras"],
        "give kernel_size=, for example kernel_size=3",
        "give --kernel-size (-k), for example --kernel-size 3",
    ),
    (
        "figure without svg",
        lambda: convcalc.explain(3, 2, stride=2, transposed=True, figure="animated"),
        ["explain", "3", "-k", "2", "-s", "2", "-t", "--figure", "animated"],
        "choose what svg= draws; give svg= with a file name too",
        "choose what --svg draws; give --svg with a file name too",
    ),
    (
        "placement with another figure",
        lambda: convcalc.explain(5, 3, svg="x.svg", figure="scatter", placement=2),
        ["explain", "5", "-k", "3", "--svg", "x.svg", "--figure", "scatter", "--placement", "2"],
        "got placement=2 with figure='scatter'",
        "got --placement 2 with --figure scatter",
    ),
]


@pytest.mark.parametrize(
    ("call", "args", "in_python", "on_the_command_line"),
    [m[1:] for m in MISTAKES],
    ids=[m[0] for m in MISTAKES],
)
def test_errors_name_the_keyword_in_python_and_the_option_on_the_command_line(
    call: Any, args: list[str], in_python: str, on_the_command_line: str
) -> None:
    with pytest.raises(ConvCalcError) as raised:
        call()
    assert in_python in str(raised.value)
    assert "--" not in str(raised.value)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    message = " ".join(result.stderr.split())
    assert on_the_command_line in message
    assert "=," not in message and "=True" not in message
    # and with --json, the same words in the error object
    as_json = CliRunner().invoke(app, [*args, "--json"])
    assert on_the_command_line in json.loads(as_json.stdout)["error"]["message"]


def test_the_command_line_spelling_ends_with_the_command() -> None:
    CliRunner().invoke(app, ["shape", "64"])
    with pytest.raises(ConvCalcError, match="give kernel_size=,"):
        convcalc.shape(64)
