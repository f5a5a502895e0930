"""`.keras` files of real model code (keras.applications, random weights) against Keras' recorded runs.

The witness is Keras 3 itself: tests/data/keras_corpus/make.py built each model, saved it (only
``config.json`` and ``metadata.json`` are kept: inspect reads nothing else), and ran it layer by layer
at a few input sizes (every layer's output shape, or the layers Keras refused) and along each
spatial axis over sizes 1 to 40 and a few larger ones. No Keras or TensorFlow is needed here; the
live comparison over more models is tests/corpus/test_keras_corpus.py (opt-in).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import convcalc
from convcalc.inspect.keras_reader import read_keras
from tests.corpus.keras_witness import compare, compare_sizes

DATA = Path(__file__).parent / "data" / "keras_corpus"
RECORDS = json.loads((DATA / "records.json").read_text())["models"]


def cases() -> list[Any]:
    return [
        pytest.param(name, truth, id=f"{name}-{'x'.join(map(str, truth['input']))}")
        for name, model in RECORDS.items()
        for truth in model["records"]
    ]


@pytest.mark.parametrize(("name", "truth"), cases())
def test_every_layer_shape_and_the_verdict_are_keras_own(name: str, truth: dict[str, Any]) -> None:
    verdict = compare(read_keras(DATA / RECORDS[name]["file"]), truth)
    assert verdict.stopped is None
    assert verdict.problems == []


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_sizes_that_run_are_the_sizes_keras_runs(name: str) -> None:
    model = RECORDS[name]
    runs_at = {int(axis): {int(s): ran for s, ran in sizes.items()} for axis, sizes in model["runs"].items()}
    assert compare_sizes(read_keras(DATA / model["file"]), tuple(model["base"]), runs_at) == []


# keras-hub's EfficientNet and MobileNet pad before every window: Keras runs them at every size from 1.
RUNS_AT_EVERY_SIZE = frozenset(["hub_EfficientNet", "hub_MobileNet"])


def test_the_records_hold_sizes_keras_refuses_and_sizes_it_runs() -> None:
    # Otherwise the sweeps above would check only half of the answer.
    for name, model in RECORDS.items():
        expected = {True} if name in RUNS_AT_EVERY_SIZE else {True, False}
        assert {truth["error"] is None for truth in model["records"]} == expected
        for sizes in model["runs"].values():
            assert set(sizes.values()) == expected


@pytest.mark.parametrize("name", ["DepthwiseConvBlock", "InvertedResidualBlock", "ConvBnActBlock"])
def test_keras_hub_mobilenet_blocks_are_read_from_their_config(name: str, tmp_path: Path) -> None:
    # keras-hub's MobileNet blocks (channels rounded by its adjust_channels, padding given apart from
    # the kernel): every block's output against Keras' runs, also without a module (`.h5`); a class
    # of that name with other keys is not modelled.
    legacy = _without_modules(_config("hub_MobileNet"))
    for truth in RECORDS["hub_MobileNet"]["records"]:
        assert compare(read_keras(_written(tmp_path / "legacy.keras", legacy)), truth).problems == []
    block = next(e for e in _layers(legacy) if e["class_name"] == name)
    block["config"] = {"name": block["name"], "trainable": True}
    verdict = compare(
        read_keras(_written(tmp_path / "other.keras", legacy)), RECORDS["hub_MobileNet"]["records"][-1]
    )
    assert verdict.stopped == block["name"]


def test_keras_hub_efficientnet_blocks_are_read_from_their_config(tmp_path: Path) -> None:
    # MBConvBlock and FusedMBConvBlock are layers of keras-hub's own: read from their configs (the
    # records above compare every block's output shape with Keras'), also without a module (`.h5`);
    # a class of that name with other keys (a user's own) is not modelled.
    report = convcalc.inspect(DATA / RECORDS["hub_EfficientNet"]["file"], input="1x33x64x3")
    assert all(axis.runs is not None and axis.runs.contains(1) for axis in report.axes)
    legacy = _without_modules(_config("hub_EfficientNet"))
    for truth in RECORDS["hub_EfficientNet"]["records"]:
        assert compare(read_keras(_written(tmp_path / "legacy.keras", legacy)), truth).problems == []
    (block,) = [e for e in _layers(legacy) if e["class_name"] == "MBConvBlock"]
    block["config"].pop("se_ratio")
    verdict = compare(
        read_keras(_written(tmp_path / "other.keras", legacy)), RECORDS["hub_EfficientNet"]["records"][-1]
    )
    assert verdict.stopped == block["name"]


def test_the_report_answers_the_sizes_that_run() -> None:
    report = convcalc.inspect(DATA / RECORDS["classic_unet"]["file"], input="1x33x64x3")
    assert report.exit_code == 1
    assert [axis.runs is not None for axis in report.axes] == [True, True]


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_the_json_documents_hold_their_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from typer.testing import CliRunner

    from convcalc.cli import app
    from convcalc.schemas import schema

    model = RECORDS[name]
    truth = model["records"][-2]  # 33 on the first axis: the U-Nets refuse it, the applications run it
    given = "x".join(map(str, truth["input"]))
    result = CliRunner().invoke(app, ["inspect", str(DATA / model["file"]), "--input", given, "--json"])
    assert result.exit_code == (0 if truth["error"] is None else 1), result.stdout[-300:]
    jsonschema.validate(json.loads(result.stdout), schema("inspect"))


def _config(name: str) -> Any:
    import zipfile

    with zipfile.ZipFile(DATA / RECORDS[name]["file"]) as archive:
        return json.loads(archive.read("config.json"))


def _without_modules(value: Any) -> Any:
    """The config as a `.h5` file of tf.keras 2 writes it: no module recorded for any class."""
    if isinstance(value, dict):
        return {k: _without_modules(v) for k, v in value.items() if k not in ("module", "registered_name")}
    return [_without_modules(v) for v in value] if isinstance(value, list) else value


def _written(path: Path, document: Any) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(document))
    return path


def _layers(document: Any) -> Any:
    """Every layer entry of a config, nested models included."""
    if isinstance(document, dict):
        if "class_name" in document and "inbound_nodes" in document:
            yield document
        for value in document.values():
            yield from _layers(value)
    elif isinstance(document, list):
        for value in document:
            yield from _layers(value)


def test_convnext_layer_scale_is_known_without_a_module_as_in_h5(tmp_path: Path) -> None:
    # A `.h5` file's config records no "module" for a class: ConvNeXt's LayerScale is then known by its
    # config keys; a LayerScale of other keys (a user's own class) is not modelled.
    legacy = _without_modules(_config("ConvNeXtTiny"))
    truth = RECORDS["ConvNeXtTiny"]["records"][-1]
    assert compare(read_keras(_written(tmp_path / "legacy.keras", legacy)), truth).problems == []
    for layer in legacy["config"]["layers"]:
        if layer["class_name"] == "LayerScale":
            layer["config"].pop("projection_dim")
    verdict = compare(read_keras(_written(tmp_path / "other.keras", legacy)), truth)
    assert verdict.stopped == "convnext_tiny_stage_0_block_0_layer_scale"


def test_keras_hub_spatial_pyramid_pooling_is_read_from_its_config(tmp_path: Path) -> None:
    # keras-hub's DeepLabV3 pyramid resizes its pooled branch back to its input's size: read from the
    # config (dilation_rates, num_channels), every size Keras ran or refused is answered (the tests
    # above compare each record and the sweep), with the layer's own output shape Keras' at each.
    graph = read_keras(DATA / RECORDS["DeepLabV3"]["file"])
    resize = next(n for n in graph.nodes if n.name == "spatial_pyramid_pooling/resizing")
    assert resize.operands == (("sizes", "spatial_pyramid_pooling/resizing/size"),)
    report = convcalc.inspect(DATA / RECORDS["DeepLabV3"]["file"], input="1x64x64x3")
    assert report.exit_code == 0 and all(axis.runs is not None for axis in report.axes)
    # Made under channels_first, which the layer does not save: told by the recorded shapes (the
    # records of pyramid_channels_first compare its runs with Keras' in that layout).
    first = read_keras(DATA / RECORDS["pyramid_channels_first"]["file"])
    assert {n.layout for n in first.nodes if n.name.startswith("pyramid")} == {"channels_first"}
    # Known without a module by its config keys (a `.h5` file); a class of that name with other keys
    # (a user's own) is not modelled: the answer stops there.
    legacy = _without_modules(_config("DeepLabV3"))
    for truth in RECORDS["DeepLabV3"]["records"]:
        assert compare(read_keras(_written(tmp_path / "legacy.keras", legacy)), truth).problems == []
    (pyramid,) = [e for e in _layers(legacy) if e["class_name"] == "SpatialPyramidPooling"]
    pyramid["config"].pop("num_channels")
    verdict = compare(
        read_keras(_written(tmp_path / "other.keras", legacy)), RECORDS["DeepLabV3"]["records"][-1]
    )
    assert verdict.stopped == "spatial_pyramid_pooling"


def test_keras_operations_are_read_by_their_own_rules_with_or_without_a_module(tmp_path: Path) -> None:
    # keras.ops called on a Functional model's tensors (pad, transpose, image.resize, concatenate,
    # x[..., :1], add, reshape with the batch axis) against Keras' runs, in the `.keras` form and with
    # no module recorded (Keras 3's `.h5` form: an operation's config has no trainable or dtype).
    legacy = _without_modules(_config("keras_ops"))
    graph = read_keras(_written(tmp_path / "legacy.keras", legacy))
    assert {n.name: n.kind for n in graph.nodes}["reshape"] == "reshape"
    for truth in RECORDS["keras_ops"]["records"]:
        assert compare(graph, truth).problems == []


def test_an_operation_is_never_read_by_the_rule_of_a_layer_of_its_name(tmp_path: Path) -> None:
    # ops.average(x, axis=-1) is saved as class "Average" (a reduction): not the Average merge layer.
    config = _config("keras_ops")
    (op,) = [e for e in _layers(config) if e["name"] == "transpose"]
    op["class_name"], op["config"] = "Average", {"name": "transpose", "axis": -1}
    verdict = compare(
        read_keras(_written(tmp_path / "ops.keras", config)), RECORDS["keras_ops"]["records"][-1]
    )
    assert verdict.stopped == "transpose"


def test_an_unknown_layer_called_on_two_tensors_is_not_worked_out_never_refused(tmp_path: Path) -> None:
    # A class convcalc does not model may read several tensors (InceptionResNetV2's CustomScaleLayer was
    # refused as "reads one tensor"): it is named and the answer stops there.
    config = _config("keras_ops")
    (op,) = [e for e in _layers(config) if e["name"] == "add"]
    op.update(module="my_project.layers", class_name="MyMerge", registered_name="MyMerge")
    op["config"].update(trainable=True, dtype="float32")
    graph = read_keras(_written(tmp_path / "custom.keras", config))
    (node,) = [n for n in graph.nodes if n.name == "add"]
    assert node.kind == "unknown" and len(node.inputs) == 2
    assert compare(graph, RECORDS["keras_ops"]["records"][-1]).stopped == "add"


def test_inception_resnet_scaled_residual_is_a_merge_known_without_a_module(tmp_path: Path) -> None:
    legacy = _without_modules(_config("scaled_residual"))
    for truth in RECORDS["scaled_residual"]["records"]:
        assert compare(read_keras(_written(tmp_path / "legacy.keras", legacy)), truth).problems == []
    (layer,) = [e for e in _layers(legacy) if e["class_name"] == "CustomScaleLayer"]
    layer["config"].pop("scale")
    verdict = compare(
        read_keras(_written(tmp_path / "other.keras", legacy)), RECORDS["scaled_residual"]["records"][-1]
    )
    assert verdict.stopped == "scaled_add"


def test_a_keras_hub_backbone_inside_a_model_says_how_to_save_it_readably(tmp_path: Path) -> None:
    # A keras-hub task (DeepLabV3ImageSegmenter) calls its Backbone, which config.json holds as its
    # constructor's arguments: named, not worked out, and the note says what to save instead.
    config = _config("classic_unet")
    (layer,) = [e for e in _layers(config) if e["name"] == "conv2d_3"]
    layer.update(module="keras_hub.src.models.vgg.vgg_backbone", class_name="VGGBackbone")
    graph = read_keras(_written(tmp_path / "task.keras", config))
    assert "conv2d_3: a keras-hub VGGBackbone is saved as its constructor's arguments" in "\n".join(
        graph.notes
    )
    assert compare(graph, RECORDS["classic_unet"]["records"][-1]).stopped == "conv2d_3"
