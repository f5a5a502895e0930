"""Regenerate the small Keras `.h5` and `.tflite` files here and the shapes the runtimes gave for them.

Run from the repository root with the `tf` extra and tf-keras (Keras 2) installed:

    pip install 'tensorflow-cpu==2.21.0' 'keras==3.15.1' h5py && pip install --no-deps 'tf-keras==2.21.0'
    python tests/data/tflite_h5/make.py

Weights are random (seeded); the files are tiny (2-4 channels). ``records.json`` holds, for each file
and input size, every layer's output shape as Keras ran it (``.h5``) or as the TFLite interpreter ran
it (``.tflite``, every tensor kept): the observations tests/test_inspect_tflite.py and
tests/test_inspect_h5.py compare inspect with, without TensorFlow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
# Odd sizes: the stride-2 'valid' convolution and transposed convolution meet again only at 4q + 3.
H5_SIZES = [(15, 17), (11, 11), (16, 17), (14, 15)]
TFLITE_SIZE = (15, 17)


def build(keras, shape):  # type: ignore[no-untyped-def]
    """A small U-Net with every layer kind the readers map; two outputs (segmentation, class)."""
    layers = keras.layers
    x = keras.Input(shape, name="image")
    c1 = layers.Conv2D(3, 3, padding="same", activation="relu", name="c1")(x)
    down = layers.Conv2D(4, 3, strides=2, padding="valid", name="down")(c1)
    dw = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(down)
    up = layers.Conv2DTranspose(3, 3, strides=2, padding="valid", name="up")(dw)
    cat = layers.Concatenate(name="cat")([c1, up])
    pool = layers.MaxPooling2D(2, padding="same", name="pool")(cat)
    avg = layers.AveragePooling2D(3, strides=2, padding="valid", name="avg")(pool)
    ups = layers.UpSampling2D(2, name="ups")(avg)
    pad = layers.ZeroPadding2D(((1, 0), (0, 1)), name="pad")(ups)
    bil = layers.UpSampling2D(2, interpolation="bilinear", name="bil")(pad)
    up2 = layers.Conv2DTranspose(2, 4, strides=2, padding="same", name="up2")(bil)
    dil = layers.Conv2D(2, 3, dilation_rate=2, padding="same", name="dil")(up2)
    add = layers.Add(name="add")([up2, dil])
    seg = layers.Conv2D(2, 1, activation="sigmoid", name="seg")(add)
    gap = layers.GlobalAveragePooling2D(name="gap")(cat)
    cls = layers.Dense(3, name="cls")(gap)
    return keras.Model(x, [seg, cls], name="unet")


def build_dynamic(keras):  # type: ignore[no-untyped-def]
    """A U-Net whose up path is Conv2DTranspose only, for a `.tflite` with dynamic sizes: the converter
    computes TRANSPOSE_CONV's output_shape from SHAPE at run time (UpSampling2D does not trace there)."""
    layers = keras.layers
    x = keras.Input((None, None, 3), name="image")
    c1 = layers.Conv2D(3, 3, padding="same", name="c1")(x)
    down = layers.Conv2D(4, 3, strides=2, padding="valid", name="down")(c1)
    up = layers.Conv2DTranspose(3, 3, strides=2, padding="valid", name="up")(down)
    cat = layers.Concatenate(name="cat")([c1, up])
    y = layers.Conv2DTranspose(2, 4, strides=2, padding="same", name="up2")(cat)
    return keras.Model(x, y, name="unet_dynamic")


def interpreter_shapes(tf, path, shape):  # type: ignore[no-untyped-def]
    """Every tensor's shape as the interpreter's own kernels ran the model at this input shape (no
    delegate: XNNPACK runs a size-mismatched CONCATENATION without complaint), or its error."""
    import numpy as np

    interpreter = tf.lite.Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    (entry,) = interpreter.get_input_details()
    if tuple(entry["shape"]) != tuple(shape):
        interpreter.resize_tensor_input(entry["index"], list(shape))
    try:
        interpreter.allocate_tensors()
        interpreter.set_tensor(entry["index"], np.ones(shape, np.float32))
        interpreter.invoke()
    except RuntimeError as error:
        return {"error": str(error).splitlines()[0][:200]}
    shapes = {}
    for detail in interpreter.get_tensor_details():
        try:
            shapes[detail["name"]] = list(interpreter.get_tensor(detail["index"]).shape)
        except ValueError:
            continue  # a tensor the interpreter freed or never allocated
    return shapes


def keras_shapes(keras, model, size):  # type: ignore[no-untyped-def]
    """Every layer's output shape when Keras runs the model at this size, or the error it raises."""
    import numpy as np

    probe = keras.Model(model.inputs, [layer.output for layer in model.layers[1:]])
    x = np.random.default_rng(0).standard_normal((1, *size, 3)).astype("float32")
    try:
        outputs = probe(x)
    except Exception as error:
        return {"error": str(error).splitlines()[0][:200]}
    return {layer.name: list(y.shape) for layer, y in zip(model.layers[1:], outputs)}


def make_keras(flavour: str) -> dict[str, object]:
    if flavour == "keras2":
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import tf_keras as keras
    else:
        import keras
    keras.utils.set_random_seed(0)
    model = build(keras, (None, None, 3))
    path = HERE / f"unet_{flavour}.h5"
    model.save(path)
    records: dict[str, object] = {"file": path.name, "keras_version": keras.__version__, "runs": {}}
    for size in H5_SIZES:
        records["runs"]["x".join(map(str, (1, *size, 3)))] = keras_shapes(keras, model, size)  # type: ignore[index]
    return records


def make_tflite() -> list[dict[str, object]]:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = build(keras, (*TFLITE_SIZE, 3))
    out = []
    for name, fp16 in (("unet.tflite", False), ("unet_fp16.tflite", True)):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        if fp16:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        (HERE / name).write_bytes(converter.convert())
        shape = (1, *TFLITE_SIZE, 3)
        runs = {"x".join(map(str, shape)): interpreter_shapes(tf, HERE / name, shape)}
        out.append({"file": name, "tensorflow_version": tf.__version__, "runs": runs})
    with tempfile.TemporaryDirectory() as saved:
        build_dynamic(keras).export(saved, verbose=False)
        (HERE / "unet_dynamic.tflite").write_bytes(tf.lite.TFLiteConverter.from_saved_model(saved).convert())
    runs = {}
    for size in H5_SIZES:
        shape = (1, *size, 3)
        runs["x".join(map(str, shape))] = interpreter_shapes(tf, HERE / "unet_dynamic.tflite", shape)
    out.append({"file": "unet_dynamic.tflite", "tensorflow_version": tf.__version__, "runs": runs})
    return out


def main() -> None:
    if len(sys.argv) > 1:  # one Keras flavour per process: tf-keras and Keras 3 do not share one
        print(json.dumps(make_keras(sys.argv[1])))
        return
    records = []
    for flavour in ("keras3", "keras2"):
        done = subprocess.run([sys.executable, __file__, flavour], check=True, capture_output=True, text=True)
        records.append(json.loads(done.stdout.strip().splitlines()[-1]))
    records.extend(make_tflite())
    (HERE / "records.json").write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
