"""Run the `.h5` / `.tflite` pairs that tests/test_diff_tflite.py diffs, and record what running them gave.

Run from the repository root with TensorFlow and Keras installed (see make.py):

    python tests/data/tflite_h5/make_diff_runs.py

Builds ``perm.h5`` (a Keras model whose middle runs with H and W swapped by ``Permute``), its TFLite
conversion ``perm.tflite`` (the converter spells Permute as TRANSPOSE) and ``perm_moved.h5`` (the same
weights, the convolution after the Permute padded 0:2 instead of 1:1 on its first axis, which is W).
``diff_runs.json`` holds, for each pair diffed by the tests, each output of both files run on the same
random input: the largest difference, and for a map the shift per axis (by name) that makes B's
interior equal A's, found by trying every shift up to 3.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def build_perm(keras, moved):  # type: ignore[no-untyped-def]
    layers = keras.layers
    x = keras.Input((15, 17, 3), name="image")
    c1 = layers.Conv2D(3, 3, padding="same", name="c1")(x)
    swap = layers.Permute((2, 1, 3), name="swap")(c1)  # N, W, H, C
    if moved:
        padded = layers.ZeroPadding2D(((0, 2), (0, 0)), name="wpad")(swap)
        along = layers.Conv2D(4, (3, 1), padding="valid", name="along")(padded)
    else:
        along = layers.Conv2D(4, (3, 1), padding="same", name="along")(swap)
    back = layers.Permute((2, 1, 3), name="back")(along)  # N, H, W, C
    seg = layers.Conv2D(2, 1, name="seg")(back)
    gap = layers.GlobalAveragePooling2D(name="gap")(back)
    cls = layers.Dense(3, name="cls")(gap)
    return keras.Model(x, [seg, cls], name="perm")


def keras_run(keras, path, x):  # type: ignore[no-untyped-def]
    model = keras.models.load_model(path, compile=False)
    return [np.asarray(y) for y in model(x)]


def tflite_run(tf, path, x, names):  # type: ignore[no-untyped-def]
    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (entry,) = interpreter.get_input_details()
    interpreter.set_tensor(entry["index"], x)
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}


def compare(a, b):  # type: ignore[no-untyped-def]
    """The largest difference, and for a map (N, H, W, C) the shift (dh, dw) with B[j + d] == A[j] inside."""
    record = {"shape": list(a.shape), "max_abs_difference": float(np.max(np.abs(a - b)))}
    if a.ndim == 4:
        found = []
        for dh in range(-3, 4):
            for dw in range(-3, 4):
                h, w = a.shape[1], a.shape[2]
                ia = a[:, 3 : h - 3, 3 : w - 3]
                ib = b[:, 3 + dh : h - 3 + dh, 3 + dw : w - 3 + dw]
                if np.allclose(ia, ib, atol=1e-5):
                    found.append({"H": dh, "W": dw})
        record["interior_shifts"] = found
    return record


def main() -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(16)
    model = build_perm(keras, moved=False)
    model.save(HERE / "perm.h5")
    moved = build_perm(keras, moved=True)
    moved.set_weights(model.get_weights())
    moved.save(HERE / "perm_moved.h5")
    (HERE / "perm.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())

    x = np.random.default_rng(16).standard_normal((1, 15, 17, 3)).astype(np.float32)
    runs = []
    for a, b in [("unet_keras3.h5", "unet.tflite"), ("perm.h5", "perm.tflite")]:
        ya = keras_run(keras, HERE / a, x)
        yb = tflite_run(tf, HERE / b, x, None)
        outputs = []
        for k, out_a in enumerate(ya):
            # the converter may list the outputs in another order: the partner has the same shape
            (name,) = [n for n, v in yb.items() if v.shape == out_a.shape]
            outputs.append({"index": k, "b_name": name, **compare(out_a, yb[name])})
        runs.append({"a": a, "b": b, "input": [1, 15, 17, 3], "outputs": outputs})
    ya, yb = keras_run(keras, HERE / "perm.h5", x), keras_run(keras, HERE / "perm_moved.h5", x)
    outputs = [{"index": k, **compare(p, q)} for k, (p, q) in enumerate(zip(ya, yb))]
    runs.append({"a": "perm.h5", "b": "perm_moved.h5", "input": [1, 15, 17, 3], "outputs": outputs})
    versions = {"tensorflow": tf.__version__, "keras": keras.__version__}
    (HERE / "diff_runs.json").write_text(json.dumps({"versions": versions, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
