"""Framework conventions: each framework's own convolution arguments, read into the core's canonical form.

One module per framework. ``convention(name)`` finds one by name or alias; ``read(name, ...)`` checks a
layer against that framework's rules and returns its canonical axes; ``port`` (in ``.port``) translates
a layer from one framework's arguments to another's. Pure integers: nothing here imports numpy.
"""

from __future__ import annotations

import importlib

from convcalc.conventions.base import Convention, FrameworkLayer, LayerArgs, make_args
from convcalc.conventions.layouts import Layout
from convcalc.errors import ConvCalcError

# The framework modules load when a convention is first asked for (``CONVENTIONS``, ``convention``,
# ``read``), so that a caller of the shared records (the graph engine's ``FrameworkLayer``; `convcalc
# chain`, which reads its layers by the core's rules) does not pay for eleven modules it never uses.
FRAMEWORKS = ("pytorch", "tensorflow", "keras", "onnx", "jax", "flax", "equinox", "paddle", "mxnet", "caffe")
# Runtimes of converted models: their layers are read from model files (inspect), never written by hand,
# so they are no port target and no --framework choice.
RUNTIME_MODULES = ("tflite",)
_LOADED: dict[str, dict[str, Convention]] = {}


def _registry(names: tuple[str, ...]) -> dict[str, Convention]:
    found = _LOADED.get(names[0])
    if found is None:
        conventions = (importlib.import_module(f"convcalc.conventions.{name}").CONVENTION for name in names)
        found = _LOADED[names[0]] = {conv.name: conv for conv in conventions}
    return found


def _one(name: str) -> Convention | None:
    """The convention whose module is ``name`` (its own name), loading that module alone: reading an
    ONNX model's layers needs neither Caffe's module nor Keras's."""
    if name not in FRAMEWORKS and name not in RUNTIME_MODULES:
        return None
    found = _ONE.get(name)
    if found is None:
        found = _ONE[name] = importlib.import_module(f"convcalc.conventions.{name}").CONVENTION
    return found


_ONE: dict[str, Convention] = {}


def __getattr__(name: str) -> dict[str, Convention]:
    """``CONVENTIONS`` (every framework, in ``FRAMEWORKS`` order) and ``RUNTIMES``, loaded when first read."""
    if name == "CONVENTIONS":
        return _registry(FRAMEWORKS)
    if name == "RUNTIMES":
        return _registry(RUNTIME_MODULES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "read_args",
]


def convention(name: str, parameter: str = "framework") -> Convention:
    """The convention called ``name`` (case-insensitive; aliases torch, tf, ort, ...)."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    conventions = _registry(FRAMEWORKS)
    if key not in conventions:
        raise ConvCalcError(
            f"{parameter} must be one of {', '.join(conventions)}; got {name!r}", parameter=parameter
        )
    return conventions[key]


def read_args(framework: str, args: LayerArgs) -> FrameworkLayer:
    """``read`` for arguments ``make_args`` has already checked: a caller that reads one layer at many
    input sizes (``convcalc.graph``) checks its arguments once and changes only the size."""
    return (_one(framework) or convention(framework)).read(args)


def read(framework: str, size: object, kernel_size: object, **arguments: object) -> FrameworkLayer:
    """Check a layer against one framework's rules; return its canonical form (see ``make_args``).

    >>> read("tensorflow", 5, 3, stride=2, padding="same", transposed=True).placement
    ((0, 1),)
    """
    conv = _one(framework) or convention(framework)
    if arguments.get("padding") is None:
        arguments["padding"] = conv.default_padding
    return conv.read(make_args(size, kernel_size, **arguments))  # type: ignore[arg-type]
