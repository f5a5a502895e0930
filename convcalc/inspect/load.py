"""Which reader reads a model: its suffix (.onnx, .keras, .h5, .tflite), or "file.py:factory"."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from convcalc.errors import ConvCalcError, option
from convcalc.graph.model import Graph
from convcalc.parse import parse_ints

MAX_INPUT_RANK = 8


def parse_input(text: str, parameter: str = "input") -> tuple[int, ...]:
    """`1x3x256x256` -> (1, 3, 256, 256): a full input shape, batch and channels included; errors name
    ``parameter`` as the user spells it (``--input`` on the command line, ``input=`` in Python)."""
    value = parse_ints(parameter, text)
    shape = (value,) if isinstance(value, int) else value
    if len(shape) > MAX_INPUT_RANK or any(d < 1 for d in shape):
        raise ConvCalcError(
            f"{option(parameter)} must be a full shape of 1 to {MAX_INPUT_RANK} sizes >= 1 (for example "
            f"1x3x256x256); got {text!r}",
            parameter=parameter,
        )
    return shape


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _is_hdf5(path: Path) -> bool:
    """Whether the file starts with the HDF5 signature (its first 8 bytes; the HDF5 format spec)."""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            return handle.read(8) == _HDF5_SIGNATURE
    except OSError:
        return False


def load_graph(model: str, inputs: Sequence[tuple[int, ...]] | None, parameter: str = "input") -> Graph:
    """Read the model with the reader its name asks for; only a named Python file runs user code.
    Errors in ``inputs`` name ``parameter``, the option or keyword they came from."""
    path = Path(model)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        from convcalc.inspect.onnx_reader import read_onnx

        return read_onnx(path, inputs, parameter)
    if suffix == ".keras":
        from convcalc.inspect.keras_reader import read_keras

        return read_keras(path)
    if suffix == ".tflite":
        from convcalc.inspect.tflite_reader import read_tflite

        return read_tflite(path)
    if suffix in (".h5", ".hdf5") or _is_hdf5(path):
        from convcalc.inspect.h5_reader import read_h5

        return read_h5(path)
    target, sep, attr = model.rpartition(":")
    if (
        sep
        and attr.isidentifier()
        and (target.endswith(".py") or all(p.isidentifier() for p in target.split(".")))
    ):
        from convcalc.inspect.torch_reader import read_target

        if not inputs:
            raise ConvCalcError(
                f"{model}: a PyTorch module needs the input shape: give {option(parameter)}, for example "
                f"{option(parameter, '1x3x256x256')}",
                parameter=parameter,
            )
        if len(inputs) > 1:  # checked before the user's file runs
            given = ", ".join("x".join(map(str, shape)) for shape in inputs)
            raise ConvCalcError(
                f"{model}: {option(parameter)} gives {len(inputs)} shapes; inspect reads a PyTorch module "
                f"with one input tensor (forward(x)), so give one shape; got {given}",
                parameter=parameter,
            )
        return read_target(model, inputs[0])
    raise ConvCalcError(
        f"model must be an .onnx, .keras, .h5 or .tflite file, or a PyTorch module as "
        f"path/to/file.py:factory or package.module:attr; got {model!r}",
        parameter="model",
    )
