"""The Keras `.h5` reader (h5py), without TensorFlow.

Witness: the layer shapes Keras gave when it ran the committed models (Keras 3 and tf.keras 2 saves of
the same U-Net) at each input size, and the sizes where it raised (tests/data/tflite_h5/records.json,
written by make.py). Broken and hostile HDF5 files must give a ConvCalcError and nothing else.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from convcalc.errors import ConvCalcError

DATA = Path(__file__).parent / "data" / "tflite_h5"
RECORDS = {r["file"]: r for r in json.loads((DATA / "records.json").read_text())}
RUNS = [(name, size) for name in ("unet_keras3.h5", "unet_keras2.h5") for size in RECORDS[name]["runs"]]


def _h5py():  # type: ignore[no-untyped-def]
    return pytest.importorskip("h5py")


@pytest.mark.parametrize(("name", "size"), RUNS)
def test_every_layer_shape_and_every_failure_matches_keras(name: str, size: str) -> None:
    _h5py()
    from convcalc.inspect import inspect_model

    observed = RECORDS[name]["runs"][size]
    report = inspect_model(str(DATA / name), [tuple(int(v) for v in size.split("x"))])
    if "error" in observed:
        # Keras raised in Concatenate: inspect names that merge as the one that fails.
        assert not report.runs and [m.name for m in report.merges] == ["cat"]
        return
    assert report.runs
    shapes = {t: s for r in report.run.nodes for t, s in zip(r.node.outputs, r.outputs)}
    for layer, shape in observed.items():
        assert list(shapes[layer]) == shape, layer


def test_keras2_and_keras3_saves_read_to_the_same_layers() -> None:
    _h5py()
    from convcalc.inspect.h5_reader import read_h5

    k2, k3 = read_h5(DATA / "unet_keras2.h5"), read_h5(DATA / "unet_keras3.h5")
    assert [(n.name, n.kind, n.spec) for n in k2.nodes] == [(n.name, n.kind, n.spec) for n in k3.nodes]
    assert "written by Keras 2.21.0 (tensorflow backend) as a legacy .h5 file" in k2.notes
    up = next(n for n in k2.nodes if n.name == "up")
    assert up.spec.in_channels == 8 and up.spec.out_channels == 3  # type: ignore[union-attr]


def _file(path: Path, **attrs: object) -> Path:
    h5py = _h5py()
    with h5py.File(path, "w") as handle:
        for key, value in attrs.items():
            handle.attrs[key] = value
    return path


def _refused(path: Path, match: str) -> None:
    from convcalc.inspect.h5_reader import read_h5

    with pytest.raises(ConvCalcError, match=match) as caught:
        read_h5(path)
    assert str(path) in str(caught.value)


def test_broken_and_hostile_h5_files_are_refused(tmp_path: Path) -> None:
    _h5py()
    (tmp_path / "zeros.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(504))
    _refused(tmp_path / "zeros.h5", "not a readable HDF5 file")
    _refused(_file(tmp_path / "weights.h5", other=1), "no model_config attribute")
    _refused(_file(tmp_path / "text.h5", model_config="not json"), "model_config is not valid JSON")
    deep = '{"class_name": "Functional", "config": ' + "[" * 500 + "]" * 500 + "}"
    _refused(_file(tmp_path / "deep.h5", model_config=deep), "nests deeper than 100 levels")
    _refused(_file(tmp_path / "big.h5", model_config="x" * (17 * 2**20)), "bytes; inspect reads")
    sub = json.dumps({"class_name": "MyModel", "config": {}})
    _refused(_file(tmp_path / "sub.h5", model_config=sub), "subclassed model")
    _refused(_file(tmp_path / "many.h5", model_config=[b"{}", b"{}"]), "one string")


def test_the_cli_reads_h5_and_refuses_broken_ones_with_exit_two(tmp_path: Path) -> None:
    _h5py()
    from typer.testing import CliRunner

    from convcalc.cli import app

    ok = CliRunner().invoke(app, ["inspect", str(DATA / "unet_keras2.h5"), "--input", "1x11x11x3"])
    assert ok.exit_code == 0 and "input 1x11x11x3 runs" in " ".join(ok.output.split())
    (tmp_path / "cut.h5").write_bytes((DATA / "unet_keras2.h5").read_bytes()[:3000])
    bad = CliRunner().invoke(app, ["inspect", str(tmp_path / "cut.h5"), "--json"])
    assert bad.exit_code == 2 and "error" in json.loads(bad.stdout) and "Traceback" not in bad.output


def test_without_h5py_the_error_names_the_extra_and_the_resave(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc.inspect.h5_reader import read_h5

    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ConvCalcError, match=r"pip install 'convcalc\[h5\]'.*model\.save\('model\.keras'\)"):
        read_h5(DATA / "unet_keras2.h5")


def test_the_json_document_of_an_h5_model_meets_the_schema() -> None:
    _h5py()
    import jsonschema
    from typer.testing import CliRunner

    from convcalc.cli import app

    schema = json.loads(
        (Path(__file__).parents[1] / "convcalc" / "schemas" / "inspect.schema.json").read_text()
    )
    result = CliRunner().invoke(
        app, ["inspect", str(DATA / "unet_keras2.h5"), "--input", "1x15x17x3", "--json"]
    )
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema)
    assert document["model"]["framework"] == "keras" and document["runs"]


def test_an_old_keras2_sequential_takes_its_channels_from_the_weight_shapes(tmp_path: Path) -> None:
    # Keras 2 before InputLayer entries: the first layer carries batch_input_shape, no layer records its
    # input shape, the channels are in the kernels' shapes. Hand-worked: 'same' stride 2 on 8x9 -> 4x5;
    # 'valid' k3 s2 transposed -> (4-1)*2+3 = 9 and (5-1)*2+3 = 11; flatten 9*11*1 = 99 -> Dense 5.
    h5py = _h5py()
    from convcalc.inspect import inspect_model

    conv = {"name": "conv", "batch_input_shape": [None, 8, 9, 2], "filters": 4, "kernel_size": [3, 3]}
    conv |= {"strides": [2, 2], "padding": "same", "data_format": "channels_last"}
    up = {"name": "up", "filters": 1, "kernel_size": [3, 3], "strides": [2, 2], "padding": "valid"}
    layers = [
        {"class_name": "Conv2D", "config": conv},
        {"class_name": "Conv2DTranspose", "config": up | {"output_padding": None}},
        {"class_name": "Flatten", "config": {"name": "flat"}},
        {"class_name": "Dense", "config": {"name": "fc", "units": 5}},
    ]
    path = tmp_path / "old.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": layers}})
        handle.attrs["keras_version"] = "2.2.4"
        for name, shape in [("conv", (3, 3, 2, 4)), ("up", (3, 3, 1, 4)), ("fc", (99, 5))]:
            handle.create_dataset(f"model_weights/{name}/{name}/kernel:0", shape, "f4")
    report = inspect_model(str(path))
    shapes = {t: s for r in report.run.nodes for t, s in zip(r.node.outputs, r.outputs)}
    assert shapes == {"conv": (1, 4, 5, 4), "up": (1, 9, 11, 1), "flat": (1, 99), "fc": (1, 5)}
    specs = {n.name: n.spec for n in report.graph.nodes}
    assert specs["up"].in_channels == 4 and specs["fc"].in_features == 99  # type: ignore[union-attr]


def _keras2_nested(path: Path) -> Path:
    """A tf.keras 2 model as tf.keras 2.21 saves it: a Sequential encoder with its own input nested in a
    Functional model, referred to as ["enc", 1, 0] (Keras 2 counts the encoder's internal node)."""
    h5py = _h5py()

    def layer(cls: str, name: str, inbound: list[Any], **config: Any) -> dict[str, Any]:
        return {"class_name": cls, "name": name, "config": {"name": name, **config}, "inbound_nodes": inbound}

    encoder = {
        "class_name": "Sequential",
        "name": "enc",
        "inbound_nodes": [[["input_1", 0, 0, {}]]],
        "config": {
            "name": "enc",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {"name": "ic1_input", "batch_input_shape": [None, None, None, 3]},
                },
                {
                    "class_name": "Conv2D",
                    "config": {"name": "ic1", "filters": 4, "kernel_size": [3, 3], "padding": "same"},
                },
                {"class_name": "MaxPooling2D", "config": {"name": "ip", "pool_size": [2, 2]}},
            ],
        },
    }
    layers = [
        layer("InputLayer", "input_1", [], batch_input_shape=[None, None, None, 3]),
        encoder,
        layer("Conv2DTranspose", "up", [[["enc", 1, 0, {}]]], filters=3, kernel_size=[2, 2], strides=[2, 2]),
        layer("Concatenate", "cat", [[["input_1", 0, 0, {}], ["up", 0, 0, {}]]], axis=-1),
        layer("SeparableConv2D", "sep", [[["cat", 0, 0, {}]]], filters=5, kernel_size=[3, 3], padding="same"),
    ]
    config = {
        "class_name": "Functional",
        "config": {
            "name": "model",
            "layers": layers,
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [["sep", 0, 0]],
        },
    }
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(config)
        handle.attrs["keras_version"] = "2.21.0"
        weights = {
            "enc/ic1/kernel:0": (3, 3, 3, 4),
            "up/up/kernel:0": (2, 2, 3, 4),
            "sep/sep/depthwise_kernel:0": (3, 3, 6, 1),
            "sep/sep/pointwise_kernel:0": (1, 1, 6, 5),
        }
        for name, shape in weights.items():
            handle.create_dataset(f"model_weights/{name}", shape, "f4")
    return path


def test_a_keras2_nested_model_is_referred_to_by_keras2_node_numbers(tmp_path: Path) -> None:
    # Hand-worked, and what tf.keras 2.21 gave running this model: at 8x8 the encoder halves to 4x4,
    # the k2 s2 transposed convolution doubles it back, the skip joins, the output is 8x8x5; at 9x9
    # the encoder gives 4x4 again and Concatenate refuses 8x8 beside 9x9.
    from convcalc.inspect import inspect_model

    path = _keras2_nested(tmp_path / "nested.h5")
    report = inspect_model(str(path), [(1, 8, 8, 3)])
    shapes = {t: s for r in report.run.nodes for t, s in zip(r.node.outputs, r.outputs)}
    assert report.runs and shapes["enc"] == (1, 4, 4, 4) and shapes["up"] == (1, 8, 8, 3)
    assert shapes["sep"] == (1, 8, 8, 5)
    odd = inspect_model(str(path), [(1, 9, 9, 3)])
    assert not odd.runs and [m.name for m in odd.merges] == ["cat"]
