"""The TFLite convention and the `.tflite` / `.h5` readers against TensorFlow running them (opt-in).

Needs the `tf` extra (tensorflow-cpu, Keras 3 on the TensorFlow backend) and the `tflite` and `h5`
extras; skipped without them. Values, not only shapes: TRANSPOSE_CONV, CONV_2D and DEPTHWISE_CONV_2D
models are converted with tf.lite.TFLiteConverter and run by the interpreter's reference kernels, its
default (optimized + XNNPACK) kernels, and compared with convcalc's NumPy engine applying the
convention's canonical crops and pads. A Keras U-Net is saved as `.h5`, converted to `.tflite` and
run at several input sizes by Keras and the interpreter; every layer shape and every failure must be
what inspect says. A slice runs whenever TensorFlow is installed; CONVCALC_TF_SWEEP=1 runs it all.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convcalc.conventions import read
from convcalc.engine import conv, conv_transpose_cropped
from convcalc.errors import ConvCalcError

SWEEP = os.environ.get("CONVCALC_TF_SWEEP") == "1"
MAKE = Path(__file__).parent / "data" / "tflite_h5" / "make.py"


@pytest.fixture(scope="module")
def tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("tflite")
    tensorflow = pytest.importorskip("tensorflow")
    return tensorflow


def _convert(tf: Any, fn: Any) -> bytes:
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    return bytes(converter.convert())


def _run(tf: Any, data: bytes, x: np.ndarray, reference: bool) -> np.ndarray:
    kinds = tf.lite.experimental.OpResolverType
    interpreter = tf.lite.Interpreter(
        model_content=data,
        experimental_op_resolver_type=kinds.BUILTIN_REF if reference else kinds.AUTO,
    )
    (entry,) = interpreter.get_input_details()
    if tuple(entry["shape"]) != x.shape:
        interpreter.resize_tensor_input(entry["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(entry["index"], x)
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))


def _transposed(tf: Any, size: int, w: np.ndarray, out: int, stride: int, word: str) -> Any:
    @tf.function(input_signature=[tf.TensorSpec([1, size, 1, 2], tf.float32)])
    def layer(x: Any) -> Any:
        return tf.nn.conv2d_transpose(x, w, [1, out, 1, 3], strides=[1, stride, 1, 1], padding=word)

    return layer


def _conv(tf: Any, size: int, w: np.ndarray, stride: int, dilation: int, word: str, depthwise: bool) -> Any:
    @tf.function(input_signature=[tf.TensorSpec([1, size, 1, 2], tf.float32)])
    def layer(x: Any) -> Any:
        if depthwise:  # (kh, kw, in, multiplier)
            rate = [dilation, 1] if stride == 1 else None
            return tf.nn.depthwise_conv2d(x, w, [1, stride, stride, 1], word, dilations=rate)
        return tf.nn.conv2d(x, w, [1, stride, 1, 1], word, dilations=[1, dilation, 1, 1])

    return layer


TRANSPOSED = list(itertools.product([1, 2, 3, 4], [1, 2, 3], ["SAME", "VALID"]))


@pytest.mark.parametrize(("kernel", "stride", "word"), TRANSPOSED if SWEEP else TRANSPOSED[13:17])
def test_transpose_conv_values_are_the_conventions_crops(
    tf: Any, kernel: int, stride: int, word: str
) -> None:
    rng = np.random.default_rng(kernel * 10 + stride)
    for size in (2, 3, 5):
        lo = (size - 1) * stride + (1 if word == "SAME" else kernel)
        hi = size * stride if word == "SAME" else (size - 1) * stride + kernel + stride - 1
        for out in sorted({lo, hi}):
            w = rng.standard_normal((kernel, 1, 3, 2)).astype(np.float32)  # (kh, kw, out, in)

            data = _convert(tf, _transposed(tf, size, w, out, stride, word))
            # Run at the converted size and, as a fixed-size model resized, one larger and one smaller.
            for run_size in sorted({size, size + 1, max(size - 1, 1)}):
                x = rng.standard_normal((1, run_size, 1, 2)).astype(np.float32)
                canonical = read(
                    "tflite", run_size, kernel, stride=stride, padding=word, output_size=out, transposed=True
                )
                want = conv_transpose_cropped(
                    x[:, :, 0, :].transpose(0, 2, 1),
                    w[:, 0].transpose(2, 1, 0),
                    stride=[stride],
                    dilation=[1],
                    crops=list(canonical.placement),
                )
                got = _run(tf, data, x, reference=True)[:, :, 0, :].transpose(0, 2, 1)
                assert got.shape == want.shape and np.allclose(got, want, atol=1e-4)
                fast = _run(tf, data, x, reference=False)
                same = fast.shape == got.transpose(0, 2, 1)[:, :, None, :].shape and np.allclose(
                    fast[:, :, 0, :].transpose(0, 2, 1), want, atol=1e-4
                )
                # The default kernels agree wherever the convention does not flag them.
                assert same or canonical.unsupported_by, (kernel, stride, word, size, out, run_size)
                if run_size == size:
                    assert same and not canonical.unsupported_by


CONVS = [
    (k, s, d, word)
    for k, s, d in [(3, 2, 1), (4, 3, 1), (3, 1, 2), (2, 2, 1), (5, 1, 3)]
    for word in ("SAME", "VALID")
]


@pytest.mark.parametrize(("kernel", "stride", "dilation", "word"), CONVS if SWEEP else CONVS[:4])
@pytest.mark.parametrize("depthwise", [False, True])
def test_conv_and_depthwise_values_are_the_conventions_pads(
    tf: Any, tmp_path: Path, kernel: int, stride: int, dilation: int, word: str, depthwise: bool
) -> None:
    from convcalc.inspect.tflite_reader import read_tflite

    rng = np.random.default_rng(kernel + 7 * stride)
    for size in (7, 8, 10):
        try:
            canonical = read("tflite", size, kernel, stride=stride, dilation=dilation, padding=word)
        except ConvCalcError:
            continue
        w = rng.standard_normal((kernel, 1, 2, 2)).astype(np.float32)

        data = _convert(tf, _conv(tf, size, w, stride, dilation, word, depthwise))
        x = rng.standard_normal((1, size, 1, 2)).astype(np.float32)
        xs = x[:, :, 0, :].transpose(0, 2, 1)
        if depthwise:  # channel c, multiplier m -> output c*2 + m; groups = channels
            weight = w[:, 0].transpose(1, 2, 0).reshape(4, 1, kernel)
            groups = 2
        else:
            weight, groups = w[:, 0].transpose(2, 1, 0), 1
        want = conv(
            xs, weight, stride=[stride], padding=list(canonical.placement), dilation=[dilation], groups=groups
        )
        for reference in (True, False):
            got = _run(tf, data, x, reference)[:, :, 0, :].transpose(0, 2, 1)
            assert got.shape == want.shape and np.allclose(got, want, atol=1e-4), (size, reference)
        # The reader gives the converted file back as one convolution with these pads (a dilated
        # CONV_2D the converter wrote as SPACE_TO_BATCH_ND / CONV_2D / BATCH_TO_SPACE_ND folded again).
        (tmp_path / "layer.tflite").write_bytes(data)
        (node,) = [n for n in read_tflite(tmp_path / "layer.tflite").nodes if n.kind == "conv"]
        assert node.spec.read((size, 1), transposed=False).placement[0] == canonical.placement[0]  # type: ignore[union-attr]


def _make() -> Any:
    spec = importlib.util.spec_from_file_location("make_models", MAKE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SIZES = [(15, 17), (11, 11), (16, 17), (13, 14), (19, 15), (7, 7)]


@pytest.mark.parametrize("size", SIZES if SWEEP else SIZES[2:4])
def test_keras_unet_h5_and_tflite_agree_with_inspect_at_each_size(
    tf: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    pytest.importorskip("h5py")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("Keras runs on another backend in this process")
    from convcalc.inspect import inspect_model

    make = _make()
    keras.utils.set_random_seed(0)
    dynamic = make.build(keras, (None, None, 3))
    h5 = tmp_path / "unet.h5"
    dynamic.save(h5)
    shape = (1, *size, 3)
    observed = make.keras_shapes(keras, dynamic, size)
    report = inspect_model(str(h5), [shape])
    if "error" in observed:
        assert not report.runs and [m.name for m in report.merges] == ["cat"]
        with pytest.raises(ValueError):  # Keras refuses to build the fixed-size model, too
            make.build(keras, (*size, 3))
        return
    shapes = {t: s for r in report.run.nodes for t, s in zip(r.node.outputs, r.outputs)}
    assert report.runs and all(list(shapes[name]) == value for name, value in observed.items())
    converter = tf.lite.TFLiteConverter.from_keras_model(make.build(keras, (*size, 3)))
    path = tmp_path / "unet.tflite"
    path.write_bytes(converter.convert())
    interpreter = tf.lite.Interpreter(model_path=str(path), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    (entry,) = interpreter.get_input_details()
    interpreter.set_tensor(entry["index"], np.ones(entry["shape"], np.float32))
    interpreter.invoke()
    ran = {}
    for detail in interpreter.get_tensor_details():
        try:
            ran[detail["name"]] = list(interpreter.get_tensor(detail["index"]).shape)
        except ValueError:
            continue
    lite = inspect_model(str(path))
    assert lite.runs
    compared = 0
    for r in lite.run.nodes:
        for tensor, out in zip(r.node.outputs, r.outputs):
            if tensor in ran:
                assert list(out) == ran[tensor], tensor
                compared += 1
    assert compared == len(lite.run.nodes) - 1  # all but the pooling half of MEAN


DYNAMIC_SIZES = [(h, w) for h in range(5, 21) for w in (h, h + 1)]


@pytest.fixture(scope="module")
def dynamic_tflite(tf: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("Keras runs on another backend in this process")
    make = _make()
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("dynamic")
    make.build_dynamic(keras).export(str(folder / "saved"), verbose=False)
    path = folder / "unet.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(folder / "saved")).convert())
    return path


@pytest.mark.parametrize("size", DYNAMIC_SIZES if SWEEP else DYNAMIC_SIZES[18:21])
def test_dynamic_tflite_resized_agrees_with_inspect(
    tf: Any, dynamic_tflite: Path, size: tuple[int, int]
) -> None:
    from convcalc.inspect import inspect_model

    shape = (1, *size, 3)
    observed = _make().interpreter_shapes(tf, dynamic_tflite, shape)
    report = inspect_model(str(dynamic_tflite), [shape])
    if "error" in observed:
        assert "CONCATENATION" in observed["error"] and not report.runs
        assert [m.op for m in report.merges] == ["CONCATENATION"]
        # The documented hazard: the XNNPACK delegate (the default) runs the mismatched merge anyway.
        x = np.ones(shape, np.float32)
        assert _run(tf, dynamic_tflite.read_bytes(), x, reference=False).shape[1:3] == (
            2 * size[0],
            2 * size[1],
        )
        return
    assert report.runs
    for node_run in report.run.nodes:
        for tensor, out in zip(node_run.node.outputs, node_run.outputs):
            assert list(out) == observed[tensor], tensor


@pytest.mark.parametrize("size", [(9, 10), (12, 7)])
def test_keras_dilated_layers_fold_back_into_one_convolution(
    tf: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("Keras runs on another backend in this process")
    from convcalc.inspect import inspect_model

    layers = keras.layers
    x = keras.Input((*size, 2))
    y = layers.Conv2D(3, 3, dilation_rate=2, padding="same", name="a")(x)
    y = layers.DepthwiseConv2D(3, dilation_rate=(2, 3), padding="same", name="b")(y)
    y = layers.Conv2D(2, 2, dilation_rate=2, padding="valid", name="c")(y)
    path = tmp_path / "dilated.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(keras.Model(x, y)).convert())
    report = inspect_model(str(path))
    observed = _make().interpreter_shapes(tf, path, (1, *size, 2))
    assert report.runs and [r.node.kind for r in report.run.nodes] == ["conv", "conv", "conv"]
    dilations = [r.node.spec.dilation for r in report.run.nodes]  # type: ignore[union-attr]
    assert dilations == [(2, 2), (2, 3), (2, 2)]
    for node_run in report.run.nodes:
        assert list(node_run.outputs[0]) == observed[node_run.node.outputs[0]]
