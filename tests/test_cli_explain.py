"""`convcalc explain` through Typer's runner: exit codes, stdout and stderr apart, JSON that parses."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ExitCode

runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_overlap_of_the_seed_kernel_4_stride_3() -> None:
    result = invoke("explain", "3x3", "-k", "4", "-s", "3", "-t")
    assert result.exit_code == ExitCode.OK, result.output
    out = result.stdout
    # The twice-covered row of the figure, readable without colour.
    assert "\n2 2 2 4 2 2 4 2 2 2 \n" in out
    out = " ".join(out.split())
    assert "checkerboard" in out and "period 3x3" in out
    assert "kernel_size 6x6, stride 3x3, padding 1x1, output_padding 0x0 -> 10x10" in out
    assert result.stderr == ""


def test_overlap_json_matches_the_hand_worked_map() -> None:
    result = invoke("explain", "3x3", "-k", "4", "-s", "3", "-t", "--json")
    assert result.exit_code == ExitCode.OK
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "explain"
    overlap = doc["overlap"]
    assert overlap["axes"]["counts"] == [[1, 1, 1, 2, 1, 1, 2, 1, 1, 1]] * 2
    assert overlap["axes"]["pattern"] == [[2, 1, 1]] * 2
    assert (overlap["minimum"], overlap["maximum"], overlap["uniform"]) == (1, 4, False)
    assert overlap["map"][3] == [2, 2, 2, 4, 2, 2, 4, 2, 2, 2]
    assert [s["kind"] for s in overlap["suggestions"]] == ["kernel", "kernel", "resize"]


def test_overlap_of_the_convolutions_twin_and_of_a_stack() -> None:
    # Without -t the size is the convolution's input: 64 -> 32 -> the twin returns 64.
    result = invoke("explain", "64", "-k", "4", "-s", "2", "-p", "1", "--layers", "3", "--json")
    assert result.exit_code == ExitCode.OK
    overlap = json.loads(result.stdout)["overlap"]
    assert overlap["layers"] == 3 and overlap["shape"] == [256]
    assert overlap["uniform"] is True and overlap["axes"]["pattern"] == [[8] * 8]
    assert overlap["suggestions"] == []


def test_explain_bad_input_exits_2_with_a_json_error() -> None:
    result = invoke("explain", "3", "-k", "4", "-s", "3", "-t", "--layers", "0", "--json")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "layers must be an integer from 1 to 32; got 0" in result.stderr
    assert json.loads(result.stdout)["error"]["parameter"] == "layers"
    assert "Traceback" not in result.stderr
    result = invoke("explain", "3x3", "-s", "3")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "kernel_size is required" in result.stderr and result.stdout == ""


def test_svg_and_frames_are_written(tmp_path: Path) -> None:
    target = tmp_path / "fig.svg"
    result = invoke("explain", "5x5", "-k", "3", "-s", "2", "--svg", str(target), "--json")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["svg_files"] == [str(target)]
    root = ET.fromstring(target.read_text())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    result = invoke("explain", "3", "-k", "2", "-s", "2", "-t", "--svg", str(target), "--frames")
    assert result.exit_code == ExitCode.OK
    assert sorted(p.name for p in tmp_path.glob("fig-*.svg")) == [f"fig-{n:03d}.svg" for n in range(6)]


def test_svg_refusal_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "big.svg"
    result = invoke("explain", "3x3x3", "-k", "2", "-t", "--svg", str(target))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "1-D and 2-D configurations; got 3 spatial axes" in result.stderr
    assert not target.exists()
    result = invoke("explain", "3", "-k", "2", "-t", "--svg", str(tmp_path / "missing" / "x.svg"))
    assert result.exit_code == ExitCode.INVALID_INPUT and "svg: cannot write" in result.stderr
