"""Record Keras running the checkerboard fix `convcalc inspect` spells for the Keras models here.

Run with TensorFlow + Keras 3 installed (not needed by the tests, which read fix_records.json):
    python tests/data/tflite_h5/make_fix_record.py
For each model, the fix text is built into layers exactly as written (a Conv2DTranspose with those
keyword arguments, then the Cropping2D it names) and run on the layer's input size with ones for the
input and the kernel, one channel: each output value is then the number of taps reaching that output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).parent


def run(fix: str, input_shape: tuple[int, ...]) -> dict[str, object]:
    import keras  # here, so that pytest's doctest collection imports this file without Keras
    import numpy as np

    match = re.fullmatch(r"(.*?)(?:, then keras\.layers\.(Cropping\dD)\(cropping=(.*)\))? \(same .*\)", fix)
    assert match is not None, fix
    arguments = eval(f"dict({match[1]})")  # the fix's own keyword text, as a user would paste it
    layer = keras.layers.Conv2DTranspose(1, use_bias=False, kernel_initializer="ones", **arguments)
    x = np.ones((1, *input_shape[1:-1], 1), dtype="float32")
    y = layer(x)
    if match[2]:
        y = getattr(keras.layers, match[2])(cropping=eval(match[3]))(y)
    values = np.asarray(y)[0, ..., 0]
    return {"fix": fix, "input": list(x.shape), "output": list(np.asarray(y).shape), "taps": values.tolist()}


def main() -> None:
    import keras

    import convcalc

    records = []
    for name in ("unet_keras3.h5", "unet.tflite"):
        report = convcalc.inspect(HERE / name)
        for finding in report.findings:
            if finding.kind != "checkerboard" or finding.fix is None:
                continue
            row = next(r for r in report.layers if r.name == finding.node)
            record = run(finding.fix, row.input_shape)
            records.append({"file": name, "layer": row.name, "keras_version": keras.__version__, **record})
    (HERE / "fix_records.json").write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
