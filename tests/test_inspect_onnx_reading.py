"""Reading ONNX files: only onnx's protobuf module is loaded, and hostile files exit 2 with the reason.

A model whose every op convcalc models is read without running the onnx package's __init__ (numpy,
ml_dtypes and the C++ extension: a second of imports); onnx's shape inference is imported only for an op
convcalc does not model. Hostile files (protobuf nested past the parser's depth, random bytes, text, a
tensor declared with 2^40 elements) exit 2 with the reason and no traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.cli import app

onnx = pytest.importorskip("onnx")
runner = CliRunner()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, written by hand (the wire format's own rule)."""
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def _deep(levels: int) -> bytes:
    """ModelProto.graph -> node -> attribute.g -> node -> ... nested ``levels`` times (an If's branch)."""
    graph = b""
    for _ in range(levels):
        attribute = _field(1, b"then_branch") + _varint(20 << 3) + _varint(5) + _field(6, graph)
        graph = _field(1, _field(4, b"If") + _field(5, attribute))
    return _field(7, graph)


def _model(tmp_path: Path) -> Path:
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [2, 1, 3, 3], [0.0] * 18)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], strides=[2, 2]),
        helper.make_node("Shape", ["c"], ["s"]),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [weight],
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_a_modelled_model_is_read_without_importing_the_onnx_package(tmp_path: Path) -> None:
    path = _model(tmp_path)
    code = (
        "import sys; from pathlib import Path; from convcalc.inspect.onnx_reader import read_onnx; "
        f"graph = read_onnx(Path({str(path)!r}), [(1, 1, 9, 9)]); "
        "print(len(graph.nodes), 'onnx' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "False", "False"]


@pytest.mark.parametrize(
    "content",
    [_deep(300), b"\x08\x96\x01garbage\xff\xff\xff", b"not an onnx model\n"],
    ids=["nested-past-the-parser", "random-bytes", "text"],
)
def test_hostile_files_exit_2_with_the_reason(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "hostile.onnx"
    path.write_bytes(content)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and str(path) in result.output


def test_a_tensor_declared_with_2_to_the_40_elements_is_not_allocated(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 40])
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [huge],
    )
    path = tmp_path / "huge.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    result = runner.invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code in (1, 2) and "Traceback" not in result.output
