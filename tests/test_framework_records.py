"""Framework answers recorded by running the frameworks, one row per layer, checked against convcalc.

Each row is a layer in one framework's own arguments and what that framework did with it: the output
shape and values for a given input and weight (one channel, flattened in C order, the weight in the
framework's own layout), or a refusal (then ``refusal`` is the pattern convcalc's refusal must match).
``unsupported_by`` names the backends or kernels that refuse the layer or compute other values;
``note`` a pattern one of convcalc's notes must match. ``source`` says where the answer comes from:
a run here (versions below; docs/framework-facts.md has the commands) or issue 11's statement where the
framework could not be installed. Every row is checked against convcalc's reading and, where values
are recorded, against the NumPy engine executing that reading (always); the `live` tests run the rows
again in the real framework where it is installed (TensorFlow and Keras: the `tf` extra; JAX and Flax:
`jax`; Paddle by hand) and skip cleanly otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from convcalc.conventions import convention, read
from convcalc.conventions.layouts import weight_shape
from convcalc.errors import ConvCalcError
from convcalc.port.execute import run_layer

TF = "run: tensorflow-cpu 2.21.0 (oneDNN on, float32), Python 3.11, x86-64"
KERAS = "run: keras 3.15.1, JAX backend (values) and TensorFlow backend (refusal)"
JAX = "run: jax/jaxlib 0.10.2, float64"
FLAX = "run: flax 0.12.8 on jax 0.10.2"
PADDLE = "run: paddlepaddle 3.3.1 (CPU), float32"
ISSUE = "issue 11 (MXNet 1.9.1 run by the reporter; mxnet does not install on Python 3.11)"


@dataclass(frozen=True)
class Record:
    framework: str
    size: tuple[int, ...]
    kernel: tuple[int, ...]
    kw: dict[str, Any]
    source: str
    output: tuple[int, ...] | None = None
    refusal: str = ""
    x: tuple[float, ...] = ()
    w: tuple[float, ...] = ()
    values: tuple[float, ...] = ()
    unsupported_by: tuple[str, ...] = ()
    note: str = ""
    # Backends (Keras) or dtypes (TensorFlow) on which the live framework refuses the layer.
    refused_live: tuple[str, ...] = field(default=())
    # What the live framework does with a layer convcalc refuses: "error", or "empty" (an empty output).
    live: str = "error"

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.kw.items())
        return f"{self.framework} {self.size} k{self.kernel} {args}"


RECORDS: tuple[Record, ...] = (
    # JAX refuses negative padding only when size + low + high < 0 (issue 11's two examples first).
    Record(
        "jax",
        (5, 2),
        (4, 1),
        {"stride": (3, 1), "padding": ((5, -1), (-3, 5))},
        JAX,
        output=(2, 4),
        x=tuple(float(v) for v in range(1, 11)),
        w=(1.0, 10.0, 100.0, 1000.0),
        values=(0.0,) * 8,
    ),
    Record(
        "jax",
        (5,),
        (1,),
        {"padding": ((-3, 2),)},
        JAX,
        output=(4,),
        x=(1.0, 2.0, 3.0, 4.0, 5.0),
        w=(1.0,),
        values=(4.0, 5.0, 0.0, 0.0),
    ),
    Record("jax", (5,), (1,), {"padding": ((-6, 0),)}, JAX, refusal=r"size \+ low \+ high must be >= 0"),
    Record(
        "jax", (3,), (2,), {"padding": ((2, -4),)}, JAX, refusal="JAX returns an empty output", live="empty"
    ),
    Record(
        "jax",
        (2,),
        (3,),
        {"stride": 2, "padding": ((-4, 5),), "transposed": True, "transpose_kernel": True},
        JAX,
        output=(2,),
        x=(1.0, 2.0),
        w=(1.0, 10.0, 100.0),
        values=(0.0, 0.0),
    ),
    Record(
        "jax",
        (5,),
        (1,),
        {"stride": 2, "padding": ((-10, 0),), "transposed": True, "transpose_kernel": True},
        JAX,
        refusal=r"zero-stuffed size \(i-1\)\*s \+ 1 = 9",
    ),
    Record(
        "jax",
        (5,),
        (1,),
        {"stride": 2, "padding": ((-6, -4),), "transposed": True, "transpose_kernel": True},
        JAX,
        refusal=r"size \+ low \+ high must be >= 0",
    ),
    Record(
        "jax",
        (2,),
        (3,),
        {"stride": 2, "padding": ((-3, 0),), "transposed": True, "transpose_kernel": True},
        JAX,
        refusal="transposed output would be -2 .*JAX returns an empty output",
        live="empty",
    ),
    Record(
        "flax",
        (1,),
        (1,),
        {"stride": 2, "padding": ((4, -2),)},
        FLAX,
        output=(2,),
        x=(7.0,),
        w=(3.0,),
        values=(0, 0),
    ),
    # TensorFlow: explicit pairs only in the 2-D ops.
    Record(
        "tensorflow", (7,), (3,), {"stride": 2, "padding": ((2, 2),)}, TF, refusal="tf.nn.conv1d takes 'SAME'"
    ),
    Record(
        "tensorflow",
        (7, 7, 7),
        (3, 3, 3),
        {"stride": 2, "padding": ((2, 2),) * 3},
        TF,
        refusal="tf.nn.conv3d takes 'SAME'",
    ),
    Record(
        "tensorflow",
        (5,),
        (3,),
        {"stride": 2, "padding": ((1, 1),), "output_size": (9,), "transposed": True},
        TF,
        refusal="tf.nn.conv1d_transpose takes 'SAME'",
    ),
    Record(
        "tensorflow",
        (7, 7),
        (3, 3),
        {"stride": 2, "padding": ((2, 2), (2, 2))},
        TF,
        output=(5, 5),
        x=(1.0,) * 49,
        w=(1.0,) * 9,
        values=(1, 3, 3, 3, 1, 3, 9, 9, 9, 3, 3, 9, 9, 9, 3, 3, 9, 9, 9, 3, 1, 3, 3, 3, 1),
    ),
    # Dilated transposed convolutions: oneDNN (float32) runs 'SAME'/'VALID'; no CPU kernel runs pairs.
    Record(
        "tensorflow",
        (5, 5),
        (3, 3),
        {"dilation": 2, "padding": ((1, 1), (1, 1)), "output_size": (7, 7), "transposed": True},
        TF,
        output=(7, 7),
        unsupported_by=("TensorFlow's CPU kernels",),
        refused_live=("float32", "float64"),
    ),
    Record(
        "tensorflow",
        (5,),
        (3,),
        {"dilation": 2, "padding": "same", "output_size": (5,), "transposed": True},
        TF,
        output=(5,),
        x=(1.0,) * 5,
        w=(1.0,) * 3,
        values=(2.0, 2.0, 3.0, 2.0, 2.0),
        note="only the oneDNN kernels",
        refused_live=("float64",),
    ),
    # 'SAME' needing padding <= -2: right in conv1d and in oneDNN float32 conv3d, shifted in Eigen conv3d.
    Record(
        "tensorflow",
        (7,),
        (1,),
        {"stride": 4, "padding": "same"},
        TF,
        output=(2,),
        x=(1, 2, 3, 4, 5, 6, 7),
        w=(1.0,),
        values=(1.0, 5.0),
        note="Eigen conv3d kernel",
    ),
    Record(
        "tensorflow",
        (1, 1, 7),
        (1, 1, 1),
        {"stride": (1, 1, 4), "padding": "same"},
        TF,
        output=(1, 1, 2),
        x=(1, 2, 3, 4, 5, 6, 7),
        w=(1.0,),
        values=(1.0, 5.0),
        unsupported_by=("TensorFlow's Eigen conv3d kernel",),
    ),
    # float64 (Eigen) returns the empty output; float32 (oneDNN) a (2, 2) tensor of uninitialised memory.
    Record(
        "tensorflow", (2, 2), (3, 3), {"padding": "valid"}, TF, refusal="uninitialised memory", live="empty"
    ),
    # Keras: 'same' with an explicit output_padding.
    Record(
        "keras",
        (5,),
        (4,),
        {"stride": 2, "padding": "same", "output_padding": (0,), "transposed": True},
        KERAS,
        output=(8,),
        x=(1, 0, 0, 0, 2),
        w=(1, 2, 3, 4),
        values=(3, 4, 0, 0, 0, 0, 2, 4),
        unsupported_by=("Keras's TensorFlow backend",),
        refused_live=("tensorflow",),
    ),
    Record(
        "keras",
        (5,),
        (4,),
        {"stride": 2, "padding": "same", "output_padding": (1,), "transposed": True},
        KERAS,
        output=(9,),
        x=(1, 0, 0, 0, 2),
        w=(1, 2, 3, 4),
        values=(2, 3, 4, 0, 0, 0, 0, 2, 4),
    ),
    Record(
        "keras",
        (5,),
        (2,),
        {"dilation": 3, "padding": "same", "output_padding": (0,), "transposed": True},
        KERAS,
        output=(4,),
        x=(1, 0, 0, 0, 2),
        w=(1, 2),
        values=(0, 2, 2, 0),
        unsupported_by=("Keras's TensorFlow backend",),
        refused_live=("tensorflow",),
    ),
    Record(
        "keras",
        (5,),
        (3,),
        {"dilation": 2, "padding": "same", "output_padding": (0,), "transposed": True},
        KERAS,
        output=(5,),
        x=(1, 0, 0, 0, 2),
        w=(1, 2, 3),
        values=(2, 0, 5, 0, 4),
        note="only oneDNN",
    ),
    # Paddle: a truncated size of 1 is one real element, the overhang read as zeros.
    Record(
        "paddle",
        (2,),
        (3,),
        {"stride": 2},
        PADDLE,
        output=(1,),
        x=(1, 2),
        w=(10, 100, 1000),
        values=(210,),
        note="truncation",
    ),
    Record(
        "paddle",
        (3,),
        (5,),
        {"stride": 3},
        PADDLE,
        output=(1,),
        x=(1, 2, 3),
        w=(1, 10, 100, 1000, 10000),
        values=(321,),
    ),
    Record(
        "paddle",
        (3,),
        (5,),
        {"stride": 4, "padding": ((1, 0),)},
        PADDLE,
        output=(1,),
        x=(1, 2, 3),
        w=(1, 10, 100, 1000, 10000),
        values=(3210,),
    ),
    Record(
        "paddle",
        (3,),
        (3,),
        {"stride": 3, "dilation": 2},
        PADDLE,
        output=(1,),
        x=(1, 2, 3),
        w=(10, 100, 1000),
        values=(310,),
    ),
    Record(
        "paddle",
        (2, 3),
        (3, 3),
        {"stride": 2},
        PADDLE,
        output=(1, 1),
        x=(1, 2, 3, 4, 5, 6),
        w=(1, 2, 3, 4, 5, 6, 7, 8, 9),
        values=(91,),
    ),
    Record("paddle", (2,), (3,), {}, PADDLE, refusal="returns an empty output", live="empty"),
    Record("paddle", (3,), (5,), {"stride": 2}, PADDLE, refusal="returns an empty output", live="empty"),
    # MXNet 1.9 defects: stated in notes, not modelled.
    Record(
        "mxnet",
        (5,),
        (3,),
        {"stride": 2, "output_size": (10,), "transposed": True},
        ISSUE,
        output=(10,),
        note="MKLDNN kernels .* refuse every target_shape",
    ),
    Record(
        "mxnet",
        (3, 3, 3),
        (3, 3, 3),
        {"stride": 2, "transposed": True},
        ISSUE,
        output=(7, 7, 7),
        note="refuses every 3-D Deconvolution",
    ),
    Record(
        "mxnet",
        (5,),
        (3,),
        {"stride": 2, "dilation": 2, "transposed": True},
        ISSUE,
        output=(13,),
        note="wrong values for a dilated Deconvolution",
    ),
)

# Eigen's conv3d (float64) with 'SAME' where the needed padding is <= -2: (size, stride, values read)
# for x = 1..size and a 1-wide kernel of 1. Run: tensorflow-cpu 2.21.0, tf.nn.conv3d, float64.
EIGEN_CONV3D_SAME_FLOAT64 = (
    (7, 4, (2.0, 6.0)),
    (9, 5, (2.0, 7.0)),
    (6, 4, (1.0, 5.0)),
)


def _ids(records: tuple[Record, ...]) -> list[str]:
    return [r.label for r in records]


def _read(r: Record) -> Any:
    return read(r.framework, r.size, r.kernel, **r.kw)


def _engine_values(r: Record) -> np.ndarray:
    """The engine executing convcalc's reading on the row's input and weight (one channel)."""
    layer = _read(r)
    layout = convention(r.framework).layout(layer.args)
    x = np.asarray(r.x, dtype=np.float64).reshape(1, 1, *r.size)
    w = np.asarray(r.w, dtype=np.float64).reshape(weight_shape(layout, r.kernel, 1, 1, 1))
    return np.asarray(run_layer(layer, x, w))


@pytest.mark.parametrize("r", RECORDS, ids=_ids(RECORDS))
def test_convcalc_reads_each_layer_as_the_framework_ran_it(r: Record) -> None:
    if r.output is None:
        with pytest.raises(ConvCalcError, match=r.refusal) as info:
            _read(r)
        assert info.value.parameter is not None
        return
    layer = _read(r)
    assert layer.output == r.output
    assert layer.unsupported_by == r.unsupported_by
    if r.note:
        assert any(re.search(r.note, n) for n in layer.notes), layer.notes
    if r.values:
        got = _engine_values(r)
        assert got.shape[2:] == r.output
        np.testing.assert_allclose(got.ravel(), np.asarray(r.values, dtype=np.float64), atol=1e-9)


@pytest.mark.parametrize(("size", "stride", "observed"), EIGEN_CONV3D_SAME_FLOAT64)
def test_the_eigen_conv3d_note_states_the_shift_tensorflow_showed(
    size: int, stride: int, observed: tuple[float, ...]
) -> None:
    """The note's shift, applied to convcalc's windows, gives what Eigen's conv3d returned in float64."""
    layer = read("tensorflow", (1, 1, size), 1, stride=(1, 1, stride), padding="same")
    x = np.arange(1.0, size + 1)
    starts = [n * stride - layer.placement[2][0] for n in range(layer.output[2])]
    needed = (layer.output[2] - 1) * stride + 1 - size
    if needed > -2:
        assert not layer.unsupported_by and tuple(x[starts]) == observed
        return
    shift = int(re.search(r"reads every window (\d+) element", " ".join(layer.notes)).group(1))
    assert tuple(x[[s + shift for s in starts]]) == observed


# --- Live: the real frameworks, where installed ---------------------------------------------------


def _per_axis(value: object, ndim: int) -> list[int]:
    return list(value) if isinstance(value, tuple) else [int(value)] * ndim  # type: ignore[arg-type]


def _expect_live(r: Record, run: Any, refused: bool = False) -> None:
    """Run the layer; compare with the row (shape, values), or expect the refusal or empty output."""
    if refused or (r.output is None and r.live == "error"):
        with pytest.raises(Exception):  # noqa: B017 - each framework raises its own type
            run()
        return
    y = np.asarray(run())
    if r.output is None:
        assert 0 in y.shape, y.shape
        return
    assert tuple(y.shape[1 : 1 + len(r.size)]) == r.output
    if r.values:
        np.testing.assert_allclose(y.ravel(), np.asarray(r.values, dtype=np.float64), rtol=1e-6)


def _channels_last(r: Record, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(r.x or [1.0] * math.prod(r.size), dtype=dtype).reshape(1, *r.size, 1)
    w = np.asarray(r.w or [1.0] * math.prod(r.kernel), dtype=dtype).reshape(*r.kernel, 1, 1)
    return x, w


def _run_tensorflow(tf: Any, r: Record, dtype: Any) -> Any:
    nd = len(r.size)
    x, w = _channels_last(r, dtype)
    pad = r.kw.get("padding", "valid")
    padding = pad.upper() if isinstance(pad, str) else [[0, 0], *map(list, pad), [0, 0]]
    strides = [1, *_per_axis(r.kw.get("stride", 1), nd), 1]
    dilations = [1, *_per_axis(r.kw.get("dilation", 1), nd), 1]
    if r.kw.get("transposed"):
        op = {1: tf.nn.conv1d_transpose, 2: tf.nn.conv2d_transpose, 3: tf.nn.conv3d_transpose}[nd]
        shape = [1, *r.kw["output_size"], 1]
        return op(x, w, shape, strides, padding, dilations=dilations)
    if nd == 1:
        return tf.nn.conv1d(x, w, strides[1], padding, dilations=dilations[1])
    return {2: tf.nn.conv2d, 3: tf.nn.conv3d}[nd](x, w, strides, padding, dilations=dilations)


TF_RECORDS = tuple(r for r in RECORDS if r.framework == "tensorflow")


@pytest.mark.parametrize("r", TF_RECORDS, ids=_ids(TF_RECORDS))
def test_live_tensorflow(r: Record) -> None:
    tf = pytest.importorskip("tensorflow")
    if r.output is None and r.live == "empty":
        # float64 runs on Eigen: the empty output; float32 on oneDNN: a non-empty uninitialised tensor.
        assert 0 in tuple(_run_tensorflow(tf, r, np.float64).shape)
        assert 0 not in tuple(_run_tensorflow(tf, r, np.float32).shape)
        return
    _expect_live(r, lambda: _run_tensorflow(tf, r, np.float32), "float32" in r.refused_live)
    if "float64" in r.refused_live:
        _expect_live(r, lambda: _run_tensorflow(tf, r, np.float64), True)


@pytest.mark.parametrize(("size", "stride", "observed"), EIGEN_CONV3D_SAME_FLOAT64)
def test_live_tensorflow_eigen_conv3d_same(size: int, stride: int, observed: tuple[float, ...]) -> None:
    tf = pytest.importorskip("tensorflow")
    x = np.arange(1.0, size + 1).reshape(1, 1, 1, size, 1)
    y = tf.nn.conv3d(x, np.ones((1, 1, 1, 1, 1)), [1, 1, 1, stride, 1], "SAME")
    assert tuple(np.asarray(y).ravel()) == observed


_KERAS_SCRIPT = """
import json, sys
import numpy as np
import keras
out = []
for row in json.loads(sys.stdin.read()):
    nd = len(row["size"])
    layer = getattr(keras.layers, f"Conv{nd}DTranspose")(
        1, row["kernel"], strides=row["stride"], dilation_rate=row["dilation"], padding=row["padding"],
        output_padding=row["output_padding"], use_bias=False)
    layer.build((1, *row["size"], 1))
    layer.set_weights([np.asarray(row["w"], np.float32).reshape(*row["kernel"], 1, 1)])
    try:
        y = keras.ops.convert_to_numpy(layer(np.asarray(row["x"], np.float32).reshape(1, *row["size"], 1)))
        out.append({"shape": list(y.shape[1:-1]), "values": y.ravel().tolist()})
    except Exception as error:
        out.append({"error": type(error).__name__})
print(json.dumps(out))
"""

KERAS_RECORDS = tuple(r for r in RECORDS if r.framework == "keras")


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_live_keras_backends(backend: str) -> None:
    """Each Keras backend in a fresh process (Keras picks its backend once, at import)."""
    # Not imported here: Keras would fix its backend in this process.
    for module in ("keras", backend):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    rows = [
        {
            "size": list(r.size),
            "kernel": list(r.kernel),
            "stride": _per_axis(r.kw.get("stride", 1), len(r.size)),
            "dilation": _per_axis(r.kw.get("dilation", 1), len(r.size)),
            "padding": r.kw["padding"],
            "output_padding": list(r.kw["output_padding"]),
            "x": list(r.x),
            "w": list(r.w),
        }
        for r in KERAS_RECORDS
    ]
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _KERAS_SCRIPT],
        input=json.dumps(rows),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    for r, got in zip(KERAS_RECORDS, json.loads(done.stdout.strip().splitlines()[-1])):
        if backend in r.refused_live:
            assert "error" in got, r.label
            continue
        assert tuple(got["shape"]) == r.output, r.label
        np.testing.assert_allclose(got["values"], np.asarray(r.values, dtype=np.float64), err_msg=r.label)


def _jax_dims(nd: int) -> tuple[str, str, str]:
    spatial = "DHW"[3 - nd :]
    return f"N{spatial}C", f"{spatial}IO", f"N{spatial}C"


JAX_RECORDS = tuple(r for r in RECORDS if r.framework == "jax")


@pytest.mark.parametrize("r", JAX_RECORDS, ids=_ids(JAX_RECORDS))
def test_live_jax(r: Record) -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    lax = jax.lax
    nd = len(r.size)
    x, w = _channels_last(r, np.float64)
    pad = r.kw.get("padding", "valid")
    padding = pad.upper() if isinstance(pad, str) else list(pad)
    strides = _per_axis(r.kw.get("stride", 1), nd)
    dilation = _per_axis(r.kw.get("dilation", 1), nd)
    if r.kw.get("transposed"):

        def run() -> Any:
            return lax.conv_transpose(
                x,
                w,
                strides,
                padding,
                rhs_dilation=dilation,
                dimension_numbers=_jax_dims(nd),
                transpose_kernel=r.kw.get("transpose_kernel", False),
            )
    else:

        def run() -> Any:
            return lax.conv_general_dilated(
                x, w, strides, padding, rhs_dilation=dilation, dimension_numbers=_jax_dims(nd)
            )

    _expect_live(r, run)


FLAX_RECORDS = tuple(r for r in RECORDS if r.framework == "flax")


@pytest.mark.parametrize("r", FLAX_RECORDS, ids=_ids(FLAX_RECORDS))
def test_live_flax(r: Record) -> None:
    jax = pytest.importorskip("jax")
    nn = pytest.importorskip("flax.linen")
    nd = len(r.size)
    x, w = _channels_last(r, np.float32)
    pad = r.kw.get("padding", "same")
    layer = nn.Conv(
        1,
        r.kernel,
        strides=_per_axis(r.kw.get("stride", 1), nd),
        padding=pad.upper() if isinstance(pad, str) else list(pad),
        kernel_dilation=_per_axis(r.kw.get("dilation", 1), nd),
        use_bias=False,
    )
    _expect_live(r, lambda: layer.apply({"params": {"kernel": jax.numpy.asarray(w)}}, x))


PADDLE_RECORDS = tuple(r for r in RECORDS if r.framework == "paddle")


@pytest.mark.parametrize("r", PADDLE_RECORDS, ids=_ids(PADDLE_RECORDS))
def test_live_paddle(r: Record) -> None:
    paddle = pytest.importorskip("paddle")
    nd = len(r.size)
    x = paddle.to_tensor(np.asarray(r.x or [1.0] * math.prod(r.size), np.float32).reshape(1, 1, *r.size))
    w = paddle.to_tensor(np.asarray(r.w or [1.0] * math.prod(r.kernel), np.float32).reshape(1, 1, *r.kernel))
    pad = r.kw.get("padding", ((0, 0),) * nd)
    padding = pad.upper() if isinstance(pad, str) else [v for pair in pad for v in pair]
    conv = {1: paddle.nn.functional.conv1d, 2: paddle.nn.functional.conv2d}[nd]
    stride = _per_axis(r.kw.get("stride", 1), nd)
    dilation = _per_axis(r.kw.get("dilation", 1), nd)
    # Channels first here: compare the spatial shape from axis 2.
    y = lambda: np.moveaxis(conv(x, w, stride=stride, padding=padding, dilation=dilation).numpy(), 1, -1)  # noqa: E731
    _expect_live(r, y)
