"""Regenerate the Keras corpus slice here: three real models' `.keras` files and Keras' runs of them.

Run from the repository root with Keras 3 and torch installed (Keras on its torch backend, see
tests/corpus/test_keras_corpus.py for why not TensorFlow's):

    KERAS_BACKEND=torch python tests/data/keras_corpus/make.py [MODEL ...]

Named models are made again and the others' records kept; with no name, every model is.

The models come from tests/corpus/keras_models.py (keras.applications code with random weights, and
a U-Net written from its description). Each file keeps only ``config.json`` and ``metadata.json``:
inspect reads nothing else, and the weights would make the files megabytes. ``records.json`` holds,
per model, Keras' layer-by-layer run (every layer's output shape, or the layers it refused) at a few
input shapes, and whether Keras ran the model along each spatial axis over sizes 1 to 40 and a few
larger ones, the other axis at the base size: tests/test_inspect_keras_corpus.py compares convcalc
with them without Keras.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.corpus.keras_models import CASES  # noqa: E402
from tests.corpus.keras_witness import record  # noqa: E402

MODELS = (
    "MobileNetV2",
    "EfficientNetB0",
    "ConvNeXtTiny",
    "classic_unet",
    "feature_pyramid",
    "DeepLabV3",
    "keras_ops",
    "scaled_residual",
    "hub_EfficientNet",
    "hub_MobileNet",
    "pyramid_channels_first",
    "ops_channels_first",
)
# Full records (every layer) at these sizes of the first spatial axis: tiny ones Keras refuses, odd
# ones, the base.
FULL = (1, 7, 17, 33, 64)
SWEEP = (*range(1, 41), 47, 48, 63, 64, 65, 79, 80)
KEPT = ("metadata.json", "config.json")


def config_only(source: Path, target: Path) -> None:
    """The `.keras` zip with only what inspect reads, deflated, with fixed dates."""
    with zipfile.ZipFile(source) as zin:
        members = [(name, zin.read(name)) for name in KEPT]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for name, data in members:
            zout.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def main(names: list[str]) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    unknown = set(names) - set(MODELS)
    if unknown:
        raise SystemExit(f"not a model of the slice: {sorted(unknown)}; the slice: {', '.join(MODELS)}")
    kept = json.loads((HERE / "records.json").read_text())["models"] if names else {}
    document: dict[str, object] = {
        "made_by": "tests/data/keras_corpus/make.py",
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "models": kept,
    }
    for case in CASES:
        if case.name not in (names or MODELS):
            continue
        keras.utils.set_random_seed(0)
        model = case.build(keras)
        with tempfile.TemporaryDirectory() as folder:
            saved = Path(folder) / "model.keras"
            model.save(saved)
            config_only(saved, HERE / f"{case.name}.keras")
        h, w = case.base
        full = [record(keras, model, case.shape(s, w)) for s in FULL]
        tall, wide = case.spatial_axes
        runs: dict[str, dict[str, bool]] = {str(tall): {}, str(wide): {}}
        for s in SWEEP:
            for axis, shape in ((tall, case.shape(s, w)), (wide, case.shape(h, s))):
                runs[str(axis)][str(s)] = record(keras, model, shape)["error"] is None
        document["models"][case.name] = {  # type: ignore[index]
            "file": f"{case.name}.keras",
            "source": case.source,
            "base": list(case.base_shape()),
            "records": full,
            "runs": runs,
        }
        print(case.name, flush=True)
    (HERE / "records.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
