"""`convcalc diff` between a Keras U-Net saved as `.h5` and its conversion by TensorFlow's TFLite converter.

Witness: tests/data/tflite_h5/records.json holds the shape of every tensor as Keras ran the `.h5` and as
the TFLite interpreter ran the `.tflite` (tests/data/tflite_h5/make.py); diff's sizes for both files are
those, and its verdicts for the converter's layers are faithful: SAME / VALID convolutions, the depthwise
one, TRANSPOSE_CONV with its output_shape, the poolings, the explicit PAD, a dilated convolution that the
converter wraps in SPACE_TO_BATCH / BATCH_TO_SPACE, bilinear (Keras) = linear (TFLite), and the two
outputs that the converter lists in the other order, and the nearest UpSampling2D that the converter
spells as ExpandDims / Tile / Reshape (the TFLite reader folds it back into one resize).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("tflite")
pytest.importorskip("h5py")

from convcalc.diff.report import diff_models

DATA = Path(__file__).parent / "data" / "tflite_h5"
RECORDS = {r["file"]: r["runs"] for r in json.loads((DATA / "records.json").read_text())}


@pytest.mark.parametrize("h5", ["unet_keras3.h5", "unet_keras2.h5"])
def test_the_tflite_conversion_of_a_keras_unet(h5: str) -> None:
    report = diff_models(str(DATA / h5), str(DATA / "unet.tflite"), [(1, 15, 17, 3)])
    verdicts = {p.name: p.verdict for p in report.pairs}
    assert set(verdicts.values()) == {"same"}, verdicts
    layers = {"c1", "down", "dw", "up", "ups", "pool", "avg", "pad", "bil", "up2", "dil", "seg"}
    assert layers <= set(verdicts)
    # the sizes both runtimes gave: Keras for every A layer, the TFLite interpreter for B's outputs
    keras = RECORDS[h5]["1x15x17x3"]
    for pair in report.pairs:
        assert pair.a is not None and list(pair.a.output_shape) == keras[pair.name], pair.name
    interpreter = RECORDS["unet.tflite"]["1x15x17x3"]
    pairs = {o.a_name: o.b_name for o in report.outputs}
    assert pairs == {"seg": "StatefulPartitionedCall_1:0", "cls": "StatefulPartitionedCall_1:1"}
    for output in report.outputs:
        assert output.b_shape is not None and list(output.b_shape) == interpreter[output.b_name]
        assert list(output.b_shape) == keras[output.a_name]
