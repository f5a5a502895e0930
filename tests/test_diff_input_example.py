"""diff of a PyTorch module (A, no --input) against a file that fixes its input shape (B): the refusal's
example is B's fixed shape, in A's axis order (N, C, spatial...), not a generic one. Witness: ONNX
Runtime runs B at the shape the example names (in B's own order), and diff run with that example reads
both models (it does not refuse)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("onnx")

from convcalc.cli import app
from convcalc.errors import ExitCode

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "diff"
A = f"{DATA / 'net.py'}:build"


@pytest.mark.parametrize(("b", "order"), [("net.onnx", (0, 1, 2, 3)), ("net_nhwc.onnx", (0, 2, 3, 1))])
def test_the_example_is_the_shape_b_fixes_in_a_modules_order(b: str, order: tuple[int, ...]) -> None:
    result = runner.invoke(app, ["diff", A, str(DATA / b)])
    assert result.exit_code == ExitCode.INVALID_INPUT and result.stdout == ""
    message = " ".join(result.stderr.split())
    found = re.search(r"for example --input (\S+) \(the shape (\S+) fixes\)", message)
    assert found is not None, message
    assert found.group(2) == str(DATA / b)
    example = tuple(int(v) for v in found.group(1).split("x"))
    assert example == (1, 3, 16, 12)

    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    session = ort.InferenceSession(str(DATA / b), providers=["CPUExecutionProvider"])
    in_b = tuple(example[n] for n in order)
    session.run(None, {session.get_inputs()[0].name: np.zeros(in_b, dtype=np.float32)})

    again = runner.invoke(app, ["diff", A, str(DATA / b), "--input", found.group(1)])
    assert again.exit_code in (ExitCode.OK, ExitCode.VERIFICATION_FAILED), again.stderr


def test_a_b_with_an_open_size_keeps_the_generic_example(tmp_path: Path) -> None:
    result = runner.invoke(app, ["diff", A, A])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "for example --input 1x3x256x256" in " ".join(result.stderr.split())
    assert "fixes)" not in result.stderr
