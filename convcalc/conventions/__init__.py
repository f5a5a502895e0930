"""Framework conventions: each framework's own convolution arguments, read into the core's canonical form.

One module per framework. ``convention(name)`` finds one by name or alias; ``read(name, ...)`` checks a
layer against that framework's rules and returns its canonical axes; ``port`` (in ``.port``) translates
a layer from one framework's arguments to another's. Pure integers: nothing here imports numpy.
"""

from __future__ import annotations

from convcalc.conventions import (
    caffe,
    equinox,
    flax,
    jax,
    keras,
    mxnet,
    onnx,
    paddle,
    pytorch,
    tensorflow,
    tflite,
)
from convcalc.conventions.base import Convention, FrameworkLayer, LayerArgs, make_args
from convcalc.conventions.layouts import Layout
from convcalc.errors import ConvCalcError

CONVENTIONS: dict[str, Convention] = {
    module.CONVENTION.name: module.CONVENTION
    for module in (pytorch, tensorflow, keras, onnx, jax, flax, equinox, paddle, mxnet, caffe)
}
# Runtimes of converted models: their layers are read from model files (inspect), never written by hand,
# so they are no port target and no --framework choice.
RUNTIMES: dict[str, Convention] = {tflite.CONVENTION.name: tflite.CONVENTION}
ALIASES = {
    "torch": "pytorch",
    "tf": "tensorflow",
    "onnxruntime": "onnx",
    "ort": "onnx",
    "paddlepaddle": "paddle",
}

__all__ = [
    "CONVENTIONS",
    "RUNTIMES",
    "Convention",
    "FrameworkLayer",
    "LayerArgs",
    "Layout",
    "convention",
    "make_args",
    "read",
]


def convention(name: str, parameter: str = "framework") -> Convention:
    """The convention called ``name`` (case-insensitive; aliases torch, tf, ort, ...)."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in CONVENTIONS:
        raise ConvCalcError(
            f"{parameter} must be one of {', '.join(CONVENTIONS)}; got {name!r}", parameter=parameter
        )
    return CONVENTIONS[key]


def read(framework: str, size: object, kernel_size: object, **arguments: object) -> FrameworkLayer:
    """Check a layer against one framework's rules; return its canonical form (see ``make_args``).

    >>> read("tensorflow", 5, 3, stride=2, padding="same", transposed=True).placement
    ((0, 1),)
    """
    conv = RUNTIMES.get(framework) or convention(framework)
    if arguments.get("padding") is None:
        arguments["padding"] = conv.default_padding
    return conv.read(make_args(size, kernel_size, **arguments))  # type: ignore[arg-type]
