"""Every command's JSON document validates against the JSON Schema shipped in the package.

The documents here come from other arguments than the samples the schemas were drafted from
(docs/make_schemas.py), so a schema that only fits its own samples fails.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.schemas import COMMANDS, schema

jsonschema = pytest.importorskip("jsonschema")
runner = CliRunner()

DOCUMENTS = [
    ("shape", ["shape", "7x9", "-k", "3x2", "-s", "2x1", "-p", "1:2x0", "-d", "2x1"]),
    ("shape", ["shape", "16", "-k", "4", "-s", "2", "-p", "1", "-t", "--output-padding", "1"]),
    ("shape", ["shape", "10", "-k", "3", "-s", "2", "-p", "1", "-f", "onnx", "-t"]),
    (
        "shape",
        [
            "shape",
            "12",
            "-k",
            "3",
            "-s",
            "3",
            "-p",
            "valid",
            "--in-channels",
            "6",
            "--out-channels",
            "4",
            "-g",
            "2",
        ],
    ),
    ("explain", ["explain", "5x5", "-k", "3", "-s", "2", "--section", "matrix"]),
    ("explain", ["explain", "4", "-k", "2", "-s", "2", "-t"]),
    ("solve", ["solve", "7", "15", "--all"]),
    ("solve", ["solve", "9x9", "3x3", "--conv", "--top", "2"]),
    ("solve", ["solve", "3", "1000"]),
    ("port", ["port", "8", "-k", "4", "-s", "2", "-p", "1", "-t", "--from", "pytorch", "--to", "tensorflow"]),
    ("port", ["port", "9x9", "-k", "3", "-s", "1", "-p", "same", "--from", "keras", "--to", "jax"]),
    ("verify", ["verify", "6x5", "-k", "2", "-s", "2", "-t", "--output-padding", "1"]),
    ("sweep", ["sweep", "--sizes", "2-4", "--kernel-sizes", "2", "--strides", "1-2", "--ndims", "2"]),
    ("chain", ["chain", "conv k3 s2 p1 | conv k3 s2 p1 | tconv k4 s2 p1 | tconv k4 s2 p1", "30"]),
    ("error", ["shape", "3", "-k", "3", "-s", "0"]),
    ("error", ["chain", "conv k3 | nonsense"]),
    ("error", ["port", "5", "-k", "3", "--from", "keras", "--to", "nowhere"]),
]


def test_every_command_has_a_schema() -> None:
    for command in COMMANDS:
        assert schema(command)["type"] == "object"
        jsonschema.Draft202012Validator.check_schema(schema(command))


@pytest.mark.parametrize(("command", "args"), DOCUMENTS, ids=[" ".join(a[:4]) for _, a in DOCUMENTS])
def test_documents_validate(command: str, args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--json"])
    document = json.loads(result.stdout)
    assert ("error" in document) == (command == "error")
    jsonschema.validate(document, schema(command), cls=jsonschema.Draft202012Validator)


def test_a_wrong_document_is_refused() -> None:
    result = runner.invoke(app, ["shape", "8", "-k", "3", "--json"])
    document = json.loads(result.stdout)
    document["convolution"]["output"] = "3"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema("shape"))
