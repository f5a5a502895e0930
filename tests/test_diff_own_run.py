"""`diff`'s B row reads B's layer on A's input sizes (the canonical form the verdict compares); where B's
own model gives the layer other sizes, the row says so ("in B's own run: ..."), and those are the JSON's
``input_shape`` / ``output_shape``, while ``canonical`` holds the sizes on A's input, as the table does.

A: Conv k3 s2 pads 1, Conv k3 pads 1; B: the same with the first Conv unpadded. At 16x12 A's second
Conv reads 8x6 and B's reads 7x5. Witness: ONNX Runtime running both files with every intermediate as
an output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

np = pytest.importorskip("numpy")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).parent))

from inspect_models import ort_session, with_every_output  # noqa: E402
from test_diff_cli import conv_chain  # noqa: E402

from convcalc.cli import app  # noqa: E402
from convcalc.schemas import schema  # noqa: E402

SHAPE = (1, 2, 16, 12)
SECOND = ("Conv", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})
A = [("Conv", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}), SECOND]
B = [("Conv", {"kernel_shape": [3, 3], "strides": [2, 2]}), SECOND]


def _runtime_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Every tensor's shape as ONNX Runtime computes it on SHAPE."""
    model, names = with_every_output(path.read_bytes())
    session = ort_session(model)
    values = session.run(names, {"x": np.zeros(SHAPE, np.float32)})
    return {name: tuple(v.shape) for name, v in zip(names, values)}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return conv_chain(tmp_path / "a.onnx", A, SHAPE), conv_chain(tmp_path / "b.onnx", B, SHAPE)


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "80", "NO_COLOR": "1"})


def test_the_json_shapes_are_each_run_and_canonical_is_on_a_sizes(files: tuple[Path, Path]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    a, b = files
    result = _invoke("diff", str(a), str(b), "--input", "x".join(map(str, SHAPE)), "--json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("diff"), cls=jsonschema.Draft202012Validator)
    second = document["layers"][1]
    ran_a, ran_b = _runtime_shapes(a), _runtime_shapes(b)
    assert second["a"]["input_shape"] == list(ran_a["t0"]) == [1, 2, 8, 6]
    assert second["b"]["input_shape"] == list(ran_b["t0"]) == [1, 2, 7, 5]
    assert second["b"]["output_shape"] == list(ran_b["t1"])
    # the verdict's sizes: B's layer on A's input sizes, A's run
    assert second["b"]["canonical"]["size"] == second["a"]["canonical"]["size"] == list(ran_a["t0"][2:])
    assert second["b"]["canonical"]["output"] == list(ran_a["t1"][2:])


def test_the_table_shows_b_own_run_where_it_differs(files: tuple[Path, Path]) -> None:
    a, b = files
    result = _invoke("diff", str(a), str(b), "--input", "x".join(map(str, SHAPE)))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    own = [line for line in lines if "own run" in line]
    # only the second Conv of B: the first reads the model's input, the same in both
    assert len(own) == 1 and "in B's own run: 1x2x7x5 -> 1x2x7x5" in own[0]
    assert any("H,W 8x6 -> 8x6" in line for line in lines)


def test_no_own_run_line_when_b_runs_on_a_sizes(files: tuple[Path, Path]) -> None:
    a, _ = files
    result = _invoke("diff", str(a), str(a), "--input", "x".join(map(str, SHAPE)))
    assert result.exit_code == 0 and "own run" not in result.stdout
