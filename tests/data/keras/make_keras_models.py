"""Build the committed Keras test models and record the shapes Keras computes for every layer.

Run it with Keras 3 on the torch backend (TensorFlow is not needed):

    KERAS_BACKEND=torch python tests/data/keras/make_keras_models.py [OUT_DIR]

It writes OUT_DIR/<name>.keras (Keras' own ``model.save``, re-zipped with deflate so that the tiny
weights take a few KB; Keras loads the re-zipped file) and OUT_DIR/keras_shapes.json. The shapes are
not Keras' static inference: each saved file is loaded back with ``keras.saving.load_model`` and run
on real arrays at two or three input sizes, layer by layer through Keras' own graph walk, and every
layer's output shape is recorded (nested models as ``outer/inner``). Where Keras fails (a skip
connection that no longer matches, an empty output) the failing layer and Keras' message are recorded
instead, and the layers after it are absent. For the models with merges, ``sweep`` also records for
every square input size from 1 to SWEEP whether Keras runs the whole model, and if not, the layer where
it fails. OUT_DIR defaults to this file's directory.
"""

from __future__ import annotations

import json
import os
import re
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHAPES_FILE = "keras_shapes.json"
BATCH = 2
SWEEP = 24
SWEPT = ("unet2d", "residual_add", "nested", "pooled_classifier")


class LayerFailed(Exception):
    def __init__(self, layer: str, message: str) -> None:
        super().__init__(f"{layer}: {message}")
        self.layer = layer
        self.message = message


def models(keras: Any) -> dict[str, tuple[Callable[[], Any], list[tuple[int, ...]]]]:
    """name -> (builder, input shapes without the batch axis, one per recorded run)."""
    L = keras.layers

    def seq_conv1d() -> Any:
        return keras.Sequential(
            [
                keras.Input((None, 2), name="x"),
                L.Conv1D(3, 4, dilation_rate=2, padding="valid", name="conv_valid_d2"),
                L.Conv1D(3, 3, strides=2, padding="same", name="conv_same_s2"),
                L.Conv1D(2, 3, dilation_rate=2, padding="causal", name="conv_causal_d2"),
                L.MaxPooling1D(2, padding="same", name="maxpool_same"),
                L.AveragePooling1D(3, strides=2, padding="valid", name="avgpool_valid_k3s2"),
                L.UpSampling1D(3, name="upsample_3"),
                L.ZeroPadding1D((1, 2), name="zeropad_1_2"),
                L.Cropping1D((2, 1), name="crop_2_1"),
                L.Conv1DTranspose(2, 3, strides=2, padding="same", name="convt_same_k3s2"),
                L.Conv1DTranspose(
                    2, 4, strides=2, padding="same", output_padding=1, name="convt_same_k4s2_op1"
                ),
                L.Conv1DTranspose(2, 1, strides=2, padding="valid", name="convt_valid_k1s2"),
                L.Conv1DTranspose(
                    2, 3, strides=3, padding="valid", output_padding=2, name="convt_valid_k3s3_op2"
                ),
                L.Conv1DTranspose(2, 3, dilation_rate=2, padding="same", name="convt_same_d2"),
                L.Conv1DTranspose(
                    1, 4, strides=2, padding="same", output_padding=0, name="convt_same_k4s2_op0"
                ),
            ],
            name="seq_conv1d",
        )

    def seq_conv2d() -> Any:
        return keras.Sequential(
            [
                keras.Input((None, None, 3), name="image"),
                L.Conv2D(4, (3, 5), strides=(2, 1), padding="same", name="conv_same_s21"),
                L.Conv2D(4, 3, groups=2, padding="valid", name="conv_valid_groups2"),
                L.BatchNormalization(name="bn"),
                L.ReLU(name="relu"),
                L.MaxPooling2D((3, 2), strides=(2, 2), padding="same", name="maxpool_same_k32"),
                L.AveragePooling2D(2, padding="valid", name="avgpool_valid"),
                L.UpSampling2D((2, 3), name="upsample_2x3"),
                L.ZeroPadding2D(((1, 0), (2, 1)), name="zeropad"),
                L.Cropping2D(((0, 1), (3, 0)), name="crop"),
                L.DepthwiseConv2D(3, strides=2, padding="same", name="depthwise_same_s2"),
                L.SeparableConv2D(4, (1, 3), padding="valid", name="separable_valid"),
                L.Conv2DTranspose(3, 4, strides=2, padding="same", name="convt_same_k4s2"),
                L.Conv2DTranspose(
                    3, (3, 4), strides=(2, 3), padding="same", output_padding=(0, 2), name="convt_same_op02"
                ),
                L.Conv2DTranspose(2, 3, strides=2, padding="valid", name="convt_valid_k3s2"),
                L.Conv2DTranspose(
                    2, (2, 3), strides=(3, 2), padding="valid", output_padding=(1, 0), name="convt_valid_op10"
                ),
                L.Conv2DTranspose(2, 3, dilation_rate=(2, 1), padding="valid", name="convt_valid_d21"),
                L.Activation("tanh", name="tanh"),
            ],
            name="seq_conv2d",
        )

    def seq_conv3d() -> Any:
        return keras.Sequential(
            [
                keras.Input((None, None, None, 1), name="volume"),
                L.Conv3D(2, (3, 1, 2), strides=(1, 2, 1), padding="same", name="conv_same"),
                L.Conv3DTranspose(2, 3, strides=(2, 1, 2), padding="same", name="convt_same"),
                L.MaxPooling3D(2, padding="valid", name="maxpool_valid"),
                L.AveragePooling3D((1, 2, 2), padding="same", name="avgpool_same"),
                L.UpSampling3D((1, 2, 3), name="upsample"),
                L.ZeroPadding3D(((0, 1), (1, 1), (2, 0)), name="zeropad"),
                L.Cropping3D(((1, 0), (0, 0), (0, 2)), name="crop"),
                L.Conv3DTranspose(
                    1,
                    (2, 3, 1),
                    strides=(2, 2, 1),
                    padding="valid",
                    output_padding=(1, 0, 0),
                    name="convt_valid",
                ),
                L.Conv3D(1, 2, dilation_rate=2, padding="valid", name="conv_valid_d2"),
            ],
            name="seq_conv3d",
        )

    def channels_first() -> Any:
        cf = "channels_first"
        return keras.Sequential(
            [
                keras.Input((2, None, None), name="image_nchw"),
                L.Conv2D(3, 3, strides=2, padding="same", data_format=cf, name="conv_same_s2"),
                L.Conv2DTranspose(
                    2, 3, strides=2, padding="valid", output_padding=1, data_format=cf, name="convt_valid_op1"
                ),
                L.MaxPooling2D(2, padding="same", data_format=cf, name="maxpool_same"),
                L.AveragePooling2D((2, 3), data_format=cf, name="avgpool_valid"),
                L.UpSampling2D((3, 2), data_format=cf, name="upsample"),
                L.ZeroPadding2D((1, 2), data_format=cf, name="zeropad"),
                L.Cropping2D(((2, 0), (0, 1)), data_format=cf, name="crop"),
                L.Conv2DTranspose(1, 4, strides=2, padding="same", data_format=cf, name="convt_same_k4s2"),
            ],
            name="channels_first",
        )

    def unet2d() -> Any:
        # The classic U-Net pattern (Ronneberger et al.) at depth 2 with Keras' usual 'same' convolutions:
        # pooling floors an odd size, the 2x up-convolution doubles it, and the skip no longer matches.
        inputs = keras.Input((None, None, 1), name="image")
        e1 = L.Conv2D(2, 3, padding="same", activation="relu", name="enc1_conv")(inputs)
        p1 = L.MaxPooling2D(2, name="enc1_pool")(e1)
        e2 = L.Conv2D(4, 3, padding="same", activation="relu", name="enc2_conv")(p1)
        p2 = L.MaxPooling2D(2, name="enc2_pool")(e2)
        b = L.Conv2D(8, 3, padding="same", activation="relu", name="bottleneck")(p2)
        u2 = L.Conv2DTranspose(4, 2, strides=2, padding="same", name="dec2_up")(b)
        c2 = L.Concatenate(name="dec2_skip")([u2, e2])
        d2 = L.Conv2D(4, 3, padding="same", activation="relu", name="dec2_conv")(c2)
        u1 = L.Conv2DTranspose(2, 2, strides=2, padding="same", name="dec1_up")(d2)
        c1 = L.Concatenate(name="dec1_skip")([u1, e1])
        d1 = L.Conv2D(2, 3, padding="same", activation="relu", name="dec1_conv")(c1)
        outputs = L.Conv2D(1, 1, activation="sigmoid", name="head")(d1)
        return keras.Model(inputs, outputs, name="unet2d")

    def residual_add() -> Any:
        # A downsampling residual block: conv stride 2 'same' gives ceil(i/2), the pooled shortcut floor(i/2).
        inputs = keras.Input((None, None, 2), name="x")
        a = L.Conv2D(4, 3, strides=2, padding="same", name="branch_conv_s2")(inputs)
        a = L.Conv2D(4, 3, padding="same", name="branch_conv")(a)
        s = L.AveragePooling2D(2, name="shortcut_pool")(inputs)
        s = L.Conv2D(4, 1, name="shortcut_proj")(s)
        added = L.Add(name="add")([a, s])
        return keras.Model(inputs, L.ReLU(name="relu")(added), name="residual_add")

    def nested() -> Any:
        encoder = keras.Sequential(
            [
                keras.Input((None, None, 1)),
                L.Conv2D(2, 3, strides=2, padding="same", name="down1"),
                L.Conv2D(4, 3, strides=2, padding="same", name="down2"),
            ],
            name="encoder",
        )
        dec_in = keras.Input((None, None, 4))
        dec_out = L.Conv2DTranspose(2, 3, strides=2, padding="same", name="up1")(dec_in)
        dec_out = L.Conv2DTranspose(1, 3, strides=2, padding="same", name="up2")(dec_out)
        decoder = keras.Model(dec_in, dec_out, name="decoder")
        inputs = keras.Input((None, None, 1), name="image")
        restored = decoder(encoder(inputs))
        outputs = L.Add(name="residual")([restored, inputs])
        return keras.Model(inputs, outputs, name="nested")

    def dcgan_generator() -> Any:
        # Radford et al.'s DCGAN generator (k4: s1 from the latent, then s2 steps), in Keras' spelling,
        # fully convolutional so that the latent may be a spatial map.
        return keras.Sequential(
            [
                keras.Input((None, None, 4), name="latent"),
                L.Conv2DTranspose(4, 4, strides=1, padding="valid", use_bias=False, name="project"),
                L.BatchNormalization(name="bn1"),
                L.ReLU(name="relu1"),
                L.Conv2DTranspose(2, 4, strides=2, padding="same", use_bias=False, name="up1"),
                L.BatchNormalization(name="bn2"),
                L.ReLU(name="relu2"),
                L.Conv2DTranspose(2, 4, strides=2, padding="same", use_bias=False, name="up2"),
                L.BatchNormalization(name="bn3"),
                L.ReLU(name="relu3"),
                L.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", name="to_image"),
            ],
            name="dcgan_generator",
        )

    def dcgan_tutorial() -> Any:
        # The generator and discriminator of TensorFlow's DCGAN tutorial (MNIST), with small channel counts.
        inputs = keras.Input((4,), name="noise")
        x = L.Dense(7 * 7 * 2, use_bias=False, name="project")(inputs)
        x = L.BatchNormalization(name="bn0")(x)
        x = L.LeakyReLU(name="lrelu0")(x)
        x = L.Reshape((7, 7, 2), name="reshape")(x)
        x = L.Conv2DTranspose(2, 5, strides=1, padding="same", use_bias=False, name="up0")(x)
        x = L.BatchNormalization(name="bn1")(x)
        x = L.LeakyReLU(name="lrelu1")(x)
        x = L.Conv2DTranspose(2, 5, strides=2, padding="same", use_bias=False, name="up1")(x)
        x = L.BatchNormalization(name="bn2")(x)
        x = L.LeakyReLU(name="lrelu2")(x)
        image = L.Conv2DTranspose(1, 5, strides=2, padding="same", activation="tanh", name="up2")(x)
        y = L.Conv2D(2, 5, strides=2, padding="same", name="disc_conv1")(image)
        y = L.LeakyReLU(name="disc_lrelu1")(y)
        y = L.Dropout(0.3, name="disc_drop1")(y)
        y = L.Conv2D(2, 5, strides=2, padding="same", name="disc_conv2")(y)
        y = L.LeakyReLU(name="disc_lrelu2")(y)
        y = L.Flatten(name="flatten")(y)
        score = L.Dense(1, name="score")(y)
        return keras.Model(inputs, [image, score], name="dcgan_tutorial")

    def pooled_classifier() -> Any:
        inputs = keras.Input((None, None, 3), name="image")
        x = L.Conv2D(4, 3, strides=2, padding="valid", name="stem")(inputs)
        x = L.MaxPooling2D(3, strides=2, padding="valid", name="pool")(x)
        x = L.GlobalAveragePooling2D(name="gap")(x)
        return keras.Model(inputs, L.Dense(2, name="logits")(x), name="pooled_classifier")

    def two_inputs() -> Any:
        # A guided upsampler: a half-resolution guide brought up 2x and concatenated with the image.
        image = keras.Input((None, None, 1), name="image")
        guide = keras.Input((None, None, 2), name="guide")
        up = L.UpSampling2D(2, name="guide_up")(guide)
        x = L.Conv2D(2, 3, padding="same", name="image_conv")(image)
        merged = L.Concatenate(name="merge")([x, up])
        return keras.Model([image, guide], L.Conv2D(1, 1, name="head")(merged), name="two_inputs")

    def shared() -> Any:
        # A siamese pair: one Conv2D and one sub-model, each called on two inputs (their second calls are
        # Keras nodes 1), then the two branches concatenated.
        tower = keras.Sequential(
            [keras.Input((None, None, 2)), L.Conv2D(2, 3, strides=2, padding="same", name="down")],
            name="tower",
        )
        left, right = keras.Input((None, None, 1), name="left"), keras.Input((None, None, 1), name="right")
        stem = L.Conv2D(2, 3, padding="valid", name="stem")
        a, b = tower(stem(left)), tower(stem(right))
        return keras.Model([left, right], L.Concatenate(name="pair")([a, b]), name="shared")

    def unbuilt_sequential() -> Any:
        # Saved before it was ever built or called: config.json holds no input shape at all.
        return keras.Sequential([L.Conv2D(2, 3, name="conv")], name="unbuilt_sequential")

    return {
        "seq_conv1d": (seq_conv1d, [(40, 2), (47, 2), (61, 2)]),
        "seq_conv2d": (seq_conv2d, [(23, 30, 3), (32, 32, 3), (41, 27, 3)]),
        "seq_conv3d": (seq_conv3d, [(6, 8, 7, 1), (9, 5, 10, 1)]),
        "channels_first": (channels_first, [(2, 13, 16), (2, 20, 9)]),
        "unet2d": (unet2d, [(16, 16, 1), (17, 17, 1), (20, 18, 1)]),
        "residual_add": (residual_add, [(16, 12, 2), (15, 12, 2), (9, 9, 2)]),
        "nested": (nested, [(16, 16, 1), (18, 16, 1), (12, 20, 1)]),
        "dcgan_generator": (dcgan_generator, [(1, 1, 4), (2, 3, 4)]),
        "dcgan_tutorial": (dcgan_tutorial, [(4,)]),
        "pooled_classifier": (pooled_classifier, [(32, 32, 3), (11, 9, 3), (5, 5, 3)]),
        "two_inputs": (two_inputs, [((16, 12, 1), (8, 6, 2)), ((17, 12, 1), (8, 6, 2))]),
        "shared": (
            shared,
            [((13, 10, 1), (13, 10, 1)), ((13, 10, 1), (12, 10, 1)), ((12, 9, 1), (14, 9, 1))],
        ),
        "unbuilt_sequential": (unbuilt_sequential, []),
    }


def rezip(path: Path) -> None:
    """Rewrite Keras' stored (uncompressed) zip with deflate, members in the same order."""
    with zipfile.ZipFile(path) as zin:
        members = [(info.filename, zin.read(info)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for name, data in members:
            zout.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def record(keras: Any, model: Any, x: Any) -> tuple[dict[str, list[int]], dict[str, str] | None]:
    """Every layer's output shape from running ``model`` on ``x`` through Keras' own graph walk."""
    shapes: dict[str, list[int]] = {}

    def run(m: Any, inputs: Any, prefix: str) -> Any:
        if isinstance(m, keras.Sequential):
            for layer in m.layers:
                inputs = call(layer, 0, prefix, (inputs,), {})
            return inputs
        # Keras' own graph walk (Function._run_through_graph), keeping each node's call number.
        values = {id(x): y for x, y in zip(m.inputs, keras.tree.flatten(inputs))}
        for depth in sorted(m._nodes_by_depth, reverse=True):
            for node in m._nodes_by_depth[depth]:
                if not node.operation or node.is_input:
                    continue
                if any(id(x) not in values for x in node.input_tensors):
                    continue
                args, kwargs = node.arguments.fill_in(values)
                index = node.operation._inbound_nodes.index(node)
                out = call(node.operation, index, prefix, args, kwargs)
                for x, y in zip(node.outputs, keras.tree.flatten(out)):
                    values[id(x)] = y
        outputs = [values[id(x)] for x in m.outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    def call(op: Any, index: int, prefix: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        name = prefix + op.name + (f":{index}" if index else "")
        if isinstance(op, keras.Model):
            out = run(op, args[0], name + "/")
        else:
            try:
                out = op(*args, **kwargs)
            except Exception as exc:
                raise LayerFailed(name, first_line(exc)) from exc
        for t, tensor in enumerate(keras.tree.flatten(out)):
            shapes[name + (f":{index}:{t}" if t and not index else f":{t}" if t else "")] = [
                int(v) for v in tensor.shape
            ]
        return out

    try:
        run(model, x, "")
    except LayerFailed as failed:
        return shapes, {"layer": failed.layer, "message": failed.message}
    return shapes, None


def first_line(exc: Exception) -> str:
    """The framework's own message: Keras wraps it after an 'Exception encountered' line, in ANSI bold."""
    lines = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Exception encountered"):
        return f"{type(exc).__name__}: {lines[1].strip()}"
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def main(out_dir: Path) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    out_dir.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "made_by": "tests/data/keras/make_keras_models.py",
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "batch": BATCH,
        "models": {},
    }
    rng = np.random.default_rng(0)
    for name, (build, inputs) in models(keras).items():
        path = out_dir / f"{name}.keras"
        build().save(path)
        rezip(path)
        loaded = keras.saving.load_model(path)
        runs = []
        for shape in inputs:
            if isinstance(shape[0], tuple):  # a model with several inputs: one shape each
                x = [rng.standard_normal((BATCH, *s)).astype("float32") for s in shape]
                given: dict[str, Any] = {"inputs": [[BATCH, *s] for s in shape]}
            else:
                x = rng.standard_normal((BATCH, *shape)).astype("float32")
                given = {"input": [BATCH, *shape]}
            layers, error = record(keras, loaded, x)
            runs.append({**given, "layers": layers, "error": error})
        document["models"][name] = {"file": path.name, "runs": runs}
        if name in SWEPT:
            sweep = {}
            for size in range(1, SWEEP + 1):
                shape = tuple(size if n < len(inputs[0]) - 1 else d for n, d in enumerate(inputs[0]))
                _, error = record(keras, loaded, np.zeros((1, *shape), "float32"))
                sweep[str(size)] = None if error is None else error["layer"]
            document["models"][name]["sweep"] = sweep
    (out_dir / SHAPES_FILE).write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
