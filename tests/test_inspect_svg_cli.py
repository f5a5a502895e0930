"""`convcalc inspect MODEL --svg FILE`: the file written, one line said, --json alongside, and every bad
path refused by name before the model is read (exit 2, a JSON error object with --json)."""

from __future__ import annotations

import importlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ExitCode

onnx = pytest.importorskip("onnx")
helper = onnx.helper
TP = onnx.TensorProto
runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def unet_like(path: Path) -> Path:
    """Conv s2 p1 -> ConvTranspose k2 s2 -> Concat with the input: the skip agrees on even sizes only."""
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], name="down", pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("ConvTranspose", ["a", "w2"], ["b"], name="up", strides=[2, 2]),
        helper.make_node("Concat", ["x", "b"], ["y"], name="skip", axis=1),
    ]
    weights = [
        helper.make_tensor("w1", TP.FLOAT, [4, 2, 3, 3], [0.1] * 72),
        helper.make_tensor("w2", TP.FLOAT, [4, 2, 2, 2], [0.1] * 32),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TP.FLOAT, [1, 2, "h", "w"])],
        [helper.make_empty_tensor_value_info("y")],
        weights,
    )
    path.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    )
    return path


@pytest.mark.parametrize(("size", "code"), [("8x10", ExitCode.OK), ("9x10", ExitCode.VERIFICATION_FAILED)])
def test_the_picture_is_written_and_one_line_says_where(tmp_path: Path, size: str, code: int) -> None:
    model, target = unet_like(tmp_path / "m.onnx"), tmp_path / "m.svg"
    result = invoke("inspect", str(model), "--input", f"1x2x{size}", "--svg", str(target))
    assert result.exit_code == code, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and str(target) in lines[0] and lines[0].startswith("wrote the picture of")
    assert ("skip mismatch" in lines[0]) == (code == ExitCode.VERIFICATION_FAILED)
    root = ET.fromstring(target.read_text(encoding="utf-8"))
    marked = [
        r.get("data-node")
        for r in root.iter("{http://www.w3.org/2000/svg}rect")
        if r.get("stroke-width") == "3"
    ]
    assert marked == ([] if code == ExitCode.OK else ["skip"])


def test_json_alongside_names_the_file(tmp_path: Path) -> None:
    model, target = unet_like(tmp_path / "m.onnx"), tmp_path / "m.svg"
    result = invoke("inspect", str(model), "--input", "1x2x9x9", "--svg", str(target), "--json")
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    doc = json.loads(result.stdout)
    assert doc["command"] == "inspect" and doc["svg_files"] == [str(target)] and doc["merges"]
    assert target.stat().st_size > 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("m.png", "svg writes SVG text, so the file name must end in .svg; got '{path}' (for a PNG"),
        ("m.txt", "svg writes SVG text, so the file name must end in .svg"),
        ("missing/m.svg", "svg: cannot write '{path}': the directory '{parent}' does not exist"),
        ("", "svg must name a file to write, such as fig.svg; got '{path}', which is a directory"),
        (
            "x" * 300 + ".svg",
            "svg: the name 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... in the path is 304 bytes long",
        ),
        ("y" * 300 + "/m.svg", "in the path is 300 bytes long and the file system allows"),
    ],
)
def test_bad_paths_are_refused_by_name_before_the_model_is_read(
    tmp_path: Path, name: str, message: str
) -> None:
    path = tmp_path / name if name else tmp_path
    expected = message.format(path=path, parent=path.parent)
    # The model does not exist: the path is refused first, so its message is the one given.
    result = invoke("inspect", str(tmp_path / "absent.onnx"), "--svg", str(path))
    assert result.exit_code == ExitCode.INVALID_INPUT and result.stdout == ""
    assert expected in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    result = invoke("inspect", str(tmp_path / "absent.onnx"), "--svg", str(path), "--json")
    assert result.exit_code == ExitCode.INVALID_INPUT
    error = json.loads(result.stdout)["error"]
    assert error["parameter"] == "svg" and expected in error["message"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_write_that_fails_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    model = unet_like(tmp_path / "m.onnx")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if (locked / "probe").exists() or _writable(locked):
            pytest.skip("running as a user who can write anywhere")
        result = invoke("inspect", str(model), "--input", "1x2x8x8", "--svg", str(locked / "m.svg"))
    finally:
        locked.chmod(0o700)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "svg: cannot write" in result.stderr and "Traceback" not in result.stderr


def _writable(directory: Path) -> bool:
    try:
        (directory / "probe").write_text("")
    except OSError:
        return False
    (directory / "probe").unlink()
    return True


def test_a_model_too_large_to_draw_is_refused_before_it_is_analysed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 601  # MAX_BOXES + 1 convolutions, plus the input's box
    nodes = [
        helper.make_node("Conv", ["x" if n == 0 else f"t{n - 1}", "w"], [f"t{n}"], name=f"c{n}")
        for n in range(count)
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TP.FLOAT, [1, 2, 8, 8])],
        [helper.make_empty_tensor_value_info(f"t{count - 1}")],
        [helper.make_tensor("w", TP.FLOAT, [2, 2, 1, 1], [0.5] * 4)],
    )
    model = tmp_path / "big.onnx"
    model.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    )

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was analysed before the picture's budget was checked")

    monkeypatch.setattr(importlib.import_module("convcalc.inspect.analysis"), "inspect_graph", never)
    result = invoke("inspect", str(model), "--svg", str(tmp_path / "big.svg"), "--json")
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    error = json.loads(result.stdout)["error"]
    assert error["parameter"] == "svg" and "the limit MAX_BOXES is 600" in error["message"]
    assert not (tmp_path / "big.svg").exists()


def test_explain_refuses_a_name_too_long_the_same_way(tmp_path: Path) -> None:
    """The check is explain's too (check_output_path): a stat of such a name used to raise a traceback."""
    result = invoke("explain", "3", "-k", "2", "-t", "--svg", str(tmp_path / ("z" * 300 + ".svg")))
    assert result.exit_code == ExitCode.INVALID_INPUT and "Traceback" not in result.stderr
    assert "in the path is 304 bytes long" in " ".join(result.stderr.split())
