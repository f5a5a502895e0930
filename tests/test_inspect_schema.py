"""`convcalc inspect --json` validates against convcalc/schemas/inspect.schema.json.

The documents come from other models and arguments than the samples the schema was drafted from
(docs/make_schemas.py): ONNX files exported by torch (a stopped analysis, shape-computed Resize/Pad,
merges with fixes), Keras models the samples do not use, and an error document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.schemas import schema

jsonschema = pytest.importorskip("jsonschema")
runner = CliRunner()
DATA = Path(__file__).parent / "data" / "keras"


def _validate(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    document: dict[str, object] = json.loads(result.stdout)
    jsonschema.validate(document, schema("inspect" if "error" not in document else "error"))
    return document


@pytest.mark.parametrize(
    "args",
    [
        [str(DATA / "nested.keras"), "--input", "1x18x16x1"],
        [str(DATA / "shared.keras"), "--input", "1x13x10x1", "--input", "1x12x10x1", "--target", "jax"],
        [str(DATA / "seq_conv3d.keras"), "--input", "1x9x5x10x1"],
        [str(DATA / "channels_first.keras"), "--input", "1x2x20x9", "--target", "caffe"],
        [str(DATA / "seq_conv1d.keras"), "--input", "1x47x2"],
    ],
)
def test_keras_documents_validate(args: list[str]) -> None:
    document = _validate(["inspect", *args])
    assert document["command"] == "inspect" and "error" not in document


def test_onnx_documents_validate(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    sys.path.insert(0, str(Path(__file__).parent))
    import inspect_models as im

    torch.manual_seed(0)
    for name in ("unet", "dcgan_discriminator", "decoder_1d"):
        factory, shape = im.MODELS[name]
        path = tmp_path / f"{name}.onnx"
        path.write_bytes(im.export(factory(), shape))
        for size in (65, 64):
            given = "x".join(map(str, shape[:2] + (size,) * (len(shape) - 2)))
            document = _validate(["inspect", str(path), "--input", given, "--target", "tensorflow"])
            assert document["exit_code"] in (0, 1)


def test_an_error_and_a_wrong_document() -> None:
    error = _validate(["inspect", str(DATA / "two_inputs.keras")])
    assert "error" in error
    result = runner.invoke(app, ["inspect", str(DATA / "unet2d.keras"), "--input", "1x16x16x1", "--json"])
    document = json.loads(result.stdout)
    document["runs"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema("inspect"))


def _documents_of_every_model(tmp_path: Path) -> list[tuple[str, list[str]]]:
    """Every model the inspect tests build: the published models and the real-model patterns exported to
    ONNX (at a size that runs, an odd one and a failing one), and every Keras file of the test data."""
    cases: list[tuple[str, list[str]]] = []
    for path in sorted(DATA.glob("*.keras")):
        cases.append((path.name, [str(path)]))
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    sys.path.insert(0, str(Path(__file__).parent))
    import inspect_models as im
    import onnx_patterns as op

    torch.manual_seed(0)
    for name, (factory, shape) in im.MODELS.items():
        path = tmp_path / f"{name}.onnx"
        path.write_bytes(im.export(factory(), shape))
        for size in (shape[-1], shape[-1] + 1, 1):
            given = "x".join(map(str, shape[:2] + (size,) * (len(shape) - 2)))
            cases.append((name, [str(path), "--input", given]))
        cases.append((name, [str(path), "--target", "tensorflow"]))
    for name, (cls, shape) in op.PATTERNS.items():
        path = tmp_path / f"pattern_{name}.onnx"
        path.write_bytes(op.export(cls(), shape))
        cases.append((name, [str(path)]))
        odd = (*shape[:-1], shape[-1] + 3)
        cases.append((name, [str(path), "--input", "x".join(map(str, odd))]))
    return cases


def test_every_model_the_tests_build_gives_a_valid_document(tmp_path: Path) -> None:
    failures = []
    cases = _documents_of_every_model(tmp_path)
    for name, args in cases:
        result = runner.invoke(app, ["inspect", *args, "--json"])
        document = json.loads(result.stdout)
        try:
            jsonschema.validate(document, schema("inspect" if "error" not in document else "error"))
        except jsonschema.ValidationError as error:
            failures.append((name, args[1:], error.message[:120], list(error.absolute_path)))
    assert not failures, failures
    assert len(cases) >= 40
