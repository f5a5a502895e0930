"""The ONNX convention against ONNX Runtime itself, and onnx shape inference (skipped without them).

Models with one Conv or ConvTranspose node are built with onnx.helper and run by onnxruntime; convcalc's
reading of the same attributes, executed by the NumPy engine with the same weight (ONNX's layout is
PyTorch's), must give the same shape and values. Where convcalc refuses, ONNX Runtime must refuse too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcalc.conventions import read
from convcalc.conventions.base import FrameworkLayer
from convcalc.errors import ConvCalcError
from convcalc.port.execute import run_layer

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
helper = onnx.helper

C_IN, C_OUT = 2, 3


def _model(op: str, attributes: dict[str, Any], x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> Any:
    node = helper.make_node(op, ["x", "w"], ["y"], **attributes)
    graph = helper.make_graph(
        [node],
        "g",
        [
            helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(x_shape)),
            helper.make_tensor_value_info("w", onnx.TensorProto.FLOAT, list(w_shape)),
        ],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10  # what this onnxruntime reads (onnx writes a newer one by default)
    return model


def _attributes(layer: FrameworkLayer) -> dict[str, Any]:
    args = layer.args
    attributes: dict[str, Any] = {
        "kernel_shape": list(args.kernel_size),
        "strides": list(args.stride),
        "dilations": list(args.dilation),
        "auto_pad": (args.padding_word or "notset").upper(),
    }
    if args.padding_word is None:
        pairs = args.pairs()
        attributes["pads"] = [b for b, _ in pairs] + [a for _, a in pairs]
    if args.output_padding is not None:
        attributes["output_padding"] = list(args.output_padding)
    if args.output_size is not None:
        attributes["output_shape"] = list(args.output_size)
    return attributes


def _run_ort(layer: FrameworkLayer, x: Any, w: Any) -> Any:
    op = "ConvTranspose" if layer.is_transposed else "Conv"
    model = _model(op, _attributes(layer), x.shape, w.shape)
    options = ort.SessionOptions()
    options.log_severity_level = 4  # ORT logs shape disagreements with inference: expected here
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x.astype(np.float32), "w": w.astype(np.float32)})[0]


@st.composite
def onnx_layers(draw: st.DrawFn) -> FrameworkLayer:
    ndim = draw(st.integers(1, 2))
    small = st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim).map(tuple)
    transposed = draw(st.booleans())
    kw: dict[str, Any] = {
        "stride": draw(small),
        "dilation": draw(st.lists(st.integers(1, 2), min_size=ndim, max_size=ndim).map(tuple)),
        "transposed": transposed,
    }
    word = draw(st.sampled_from(["pads", "valid", "same_upper", "same_lower"]))
    kw["padding"] = (
        tuple(draw(st.tuples(st.integers(0, 3), st.integers(0, 3))) for _ in range(ndim))
        if word == "pads"
        else word
    )
    if transposed and draw(st.booleans()):
        kw["output_padding"] = draw(st.lists(st.integers(0, 2), min_size=ndim, max_size=ndim).map(tuple))
    if transposed and word != "valid" and draw(st.booleans()):
        kw["output_size"] = draw(st.lists(st.integers(1, 24), min_size=ndim, max_size=ndim).map(tuple))
    try:
        return read(
            "onnx", tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim))), draw(small), **kw
        )
    except ConvCalcError:
        assume(False)
        raise


@given(onnx_layers(), st.integers(0, 1000))
def test_onnx_runtime_agrees_with_the_onnx_convention(layer: FrameworkLayer, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, C_IN, *layer.args.size))
    if layer.is_transposed:
        w = rng.standard_normal((C_IN, C_OUT, *layer.args.kernel_size))
    else:
        w = rng.standard_normal((C_OUT, C_IN, *layer.args.kernel_size))
    # ONNX Runtime's CPU kernels are float32: round the data first, compare within float32 accuracy.
    x, w = x.astype(np.float32).astype(np.float64), w.astype(np.float32).astype(np.float64)
    got = _run_ort(layer, x, w)
    assert tuple(got.shape[2:]) == layer.output
    np.testing.assert_allclose(got, run_layer(layer, x, w), atol=1e-4)


@pytest.mark.parametrize(
    "kw",
    [
        {"stride": 2, "output_padding": 2},  # oracle 20
        {"stride": 1, "dilation": 2, "output_padding": 1},  # section 10-C
        {"stride": 2, "output_size": 13},  # beyond full + op + s - 1
    ],
)
def test_onnx_runtime_refuses_what_convcalc_refuses(kw: dict[str, Any]) -> None:
    with pytest.raises(ConvCalcError):
        read("onnx", 5, 3, transposed=True, **kw)
    attributes = {"kernel_shape": [3], "strides": [kw["stride"]], "dilations": [kw.get("dilation", 1)]}
    if "output_padding" in kw:
        attributes["output_padding"] = [kw["output_padding"]]
    if "output_size" in kw:
        attributes["output_shape"] = [kw["output_size"]]
    model = _model("ConvTranspose", attributes, (1, 1, 5), (1, 1, 3))
    with pytest.raises(Exception, match=r"output_padding|output_shape|Expected input size|inconsistent"):
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        session.run(None, {"x": np.ones((1, 1, 5), np.float32), "w": np.ones((1, 1, 3), np.float32)})


@pytest.mark.parametrize(("kernel", "op"), [(3, 1), (1, 0), (2, 0), (4, 1)])
def test_onnx_shape_inference_note_names_what_inference_declares(kernel: int, op: int) -> None:
    layer = read(
        "onnx",
        5,
        kernel,
        stride=2 if kernel < 4 else 3,
        padding="same_upper",
        output_padding=op,
        transposed=True,
    )
    model = _model("ConvTranspose", _attributes(layer), (1, 1, 5), (1, 1, kernel))
    inferred = (
        onnx.shape_inference.infer_shapes(model).graph.output[0].type.tensor_type.shape.dim[2].dim_value
    )
    if inferred != layer.output[0]:
        assert any(f"onnx shape inference declares {inferred}" in note for note in layer.notes)
    else:
        assert not any("shape inference" in note for note in layer.notes)


def test_onnx_runtime_conv_refuses_same_with_dilation() -> None:
    # Not in the catalog: found by running onnxruntime 1.31.1; ConvTranspose accepts it.
    with pytest.raises(ConvCalcError, match="Dilation not supported for auto_pad SAME_UPPER"):
        read("onnx", 9, 3, dilation=2, padding="same_upper")
    model = _model(
        "Conv", {"kernel_shape": [3], "dilations": [2], "auto_pad": "SAME_UPPER"}, (1, 1, 9), (1, 1, 3)
    )
    options = ort.SessionOptions()
    options.log_severity_level = 4
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    with pytest.raises(Exception, match="Dilation not supported"):
        session.run(None, {"x": np.ones((1, 1, 9), np.float32), "w": np.ones((1, 1, 3), np.float32)})
    assert read("onnx", 5, 3, stride=2, dilation=2, padding="same_upper", transposed=True).output == (10,)


def _ort_1d(op: str, attributes: dict[str, Any], x: Any, w: Any) -> Any:
    model = _model(op, attributes, x.shape, w.shape)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x.astype(np.float32), "w": w.astype(np.float32)})[0]


def test_onnx_runtime_conv_same_with_negative_padding_reads_a_shifted_window() -> None:
    # Not in the catalog: i=4, k=1, s=4 needs pad -3; the spec (and TensorFlow) read x[0], ORT reads x[1].
    with pytest.raises(ConvCalcError, match=r"pad_needed = \(ceil\(i/s\)-1\)\*s \+ k - i = -3.*shifted by 1"):
        read("onnx", 4, 1, stride=4, padding="same_upper")
    y = _ort_1d(
        "Conv",
        {"kernel_shape": [1], "strides": [4], "auto_pad": "SAME_UPPER"},
        np.arange(1.0, 5.0)[None, None],
        np.ones((1, 1, 1)),
    )
    assert y.ravel().tolist() == [2.0]
    # pad_needed -2 (i=3, s=3) still reads x[0]: convcalc accepts it and agrees.
    layer = read("onnx", 3, 1, stride=3, padding="same_upper")
    y = _ort_1d(
        "Conv",
        {"kernel_shape": [1], "strides": [3], "auto_pad": "SAME_UPPER"},
        np.arange(1.0, 4.0)[None, None],
        np.ones((1, 1, 1)),
    )
    assert (
        y.ravel().tolist()
        == run_layer(layer, np.arange(1.0, 4.0)[None, None], np.ones((1, 1, 1))).ravel().tolist()
    )


def test_onnx_runtime_output_shape_bound_ignores_output_padding() -> None:
    # full = (6-1)*2 + 1 = 11: O = 13 = full + op + s - 1 is refused by ORT although op = 1; 12 is accepted.
    with pytest.raises(ConvCalcError, match=r"at most \(i-1\)\*s \+ K \+ s - 1 = 12"):
        read("onnx", 6, 1, stride=2, output_padding=1, output_size=13, transposed=True)
    attributes = {"kernel_shape": [1], "strides": [2], "output_padding": [1]}
    x, w = np.arange(1.0, 7.0)[None, None], np.ones((1, 1, 1))
    with pytest.raises(Exception, match="Expected input size 7 but got 6"):
        _ort_1d("ConvTranspose", {**attributes, "output_shape": [13]}, x, w)
    layer = read("onnx", 6, 1, stride=2, output_padding=1, output_size=12, transposed=True)
    got = _ort_1d("ConvTranspose", {**attributes, "output_shape": [12]}, x, w)
    np.testing.assert_allclose(got, run_layer(layer, x, w))
