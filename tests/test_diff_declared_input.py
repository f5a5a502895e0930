"""`convcalc diff A B` without --input: A's own input shape when its file fixes it, a clear refusal when
it leaves a size open.

Witnesses: the shape each file declares, read by the format's own library (onnx's protobuf, the
`tflite` schema package, h5py), never by convcalc's readers; the report without --input must then be
the report with that shape given explicitly, whose verdicts the other diff tests check against ONNX
Runtime, Keras and the TFLite interpreter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcalc
from convcalc.cli import app
from convcalc.errors import ConvCalcError

DATA = Path(__file__).parent / "data"
NET, MOVED = DATA / "diff" / "net.onnx", DATA / "diff" / "net_moved.onnx"
UNET_TFLITE, UNET_H5 = DATA / "tflite_h5" / "unet.tflite", DATA / "tflite_h5" / "unet_keras3.h5"
runner = CliRunner()


def onnx_declared(path: Path) -> tuple[int, ...]:
    onnx = pytest.importorskip("onnx")
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert all(d.HasField("dim_value") for d in dims)
    return tuple(d.dim_value for d in dims)


def tflite_declared(path: Path) -> tuple[int, ...]:
    tflite = pytest.importorskip("tflite")
    model = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    graph = model.Subgraphs(0)
    tensor = graph.Tensors(graph.Inputs(0))
    signature = [tensor.ShapeSignature(n) for n in range(tensor.ShapeSignatureLength())]
    assert signature[0] == -1 and all(d > 0 for d in signature[1:])  # an open batch, fixed sizes
    return (1, *signature[1:])


def test_onnx_a_with_a_fixed_shape_needs_no_input() -> None:
    declared = onnx_declared(NET)
    assert declared == (1, 3, 16, 12)
    implicit = runner.invoke(app, ["diff", str(NET), str(MOVED), "--json"])
    explicit = runner.invoke(
        app, ["diff", str(NET), str(MOVED), "--json", "--input", "x".join(map(str, declared))]
    )
    assert implicit.exit_code == explicit.exit_code == 1  # one layer differs: the moved pad
    assert json.loads(implicit.stdout) == json.loads(explicit.stdout)
    text = runner.invoke(app, ["diff", str(NET), str(MOVED)], env={"COLUMNS": "80"})
    assert text.stdout.startswith("1 of 3 layers differs; first: layer /head/Conv: pads on H 1:1 -> 0:2")
    assert "input 1x3x16x12" in text.stdout


def test_tflite_a_with_an_open_batch_takes_batch_1_and_keras_b_follows() -> None:
    declared = tflite_declared(UNET_TFLITE)
    implicit = convcalc.diff(UNET_TFLITE, UNET_H5)
    explicit = convcalc.diff(UNET_TFLITE, UNET_H5, input=declared)
    assert implicit.to_dict() == explicit.to_dict()
    assert implicit.same and implicit.exit_code == 0
    result = runner.invoke(app, ["diff", str(UNET_TFLITE), str(UNET_H5)])
    assert result.exit_code == 0 and result.stdout.startswith("faithful: B computes what A computes")


def test_a_that_leaves_its_size_open_is_refused_naming_the_file_and_the_option() -> None:
    h5py = pytest.importorskip("h5py")
    with h5py.File(UNET_H5) as f:  # the Keras config: the Input layer's batch_shape is (None, None, None, 3)
        config = json.loads(f.attrs["model_config"])
    shape = config["config"]["layers"][0]["config"]["batch_shape"]
    assert shape[1] is None and shape[2] is None
    result = runner.invoke(app, ["diff", str(UNET_H5), str(UNET_TFLITE)])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert (
        f"diff needs A's input shape: {UNET_H5} leaves its spatial size open (input 'image' is ?x?x?x3)"
        in message
    )
    assert "give --input with every size, for example --input 1x64x64x3" in message
    as_json = runner.invoke(app, ["diff", str(UNET_H5), str(UNET_TFLITE), "--json"])
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout)["error"]["parameter"] == "input"
    with pytest.raises(ConvCalcError, match="give input= with every size, for example input='1x64x64x3'"):
        convcalc.diff(UNET_H5, UNET_TFLITE)
    # With the size given it runs (B, the .tflite, fixes 15x17: the same size given to A).
    assert convcalc.diff(UNET_H5, UNET_TFLITE, input="1x15x17x3").exit_code == 0


def test_a_pytorch_module_always_needs_the_input() -> None:
    result = runner.invoke(app, ["diff", f"{DATA / 'diff' / 'net.py'}:build", str(NET)])
    assert result.exit_code == 2
    # the example is the shape B's file fixes (net.onnx: 1x3x16x12)
    assert f"is a PyTorch module; give --input, for example --input 1x3x16x12 (the shape {NET} fixes)" in (
        " ".join(result.stderr.split())
    )
