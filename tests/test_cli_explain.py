"""`convcalc explain` through Typer's runner: exit codes, stdout and stderr apart, JSON that parses."""

from __future__ import annotations

import json
import re

import pytest
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
    assert "\n2 2 2 4 2 2 4 2 2 2\n" in out
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
    assert [s["kind"] for s in overlap["suggestions"]] == ["kernel", "resize", "kernel"]


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


def test_a_folded_matrix_names_no_colour_when_colour_is_off() -> None:
    from typer.testing import CliRunner

    from convcalc.cli import app

    result = CliRunner().invoke(
        app, ["explain", "5x5", "-k", "3", "--section", "matrix"], env={"COLUMNS": "60", "NO_COLOR": "1"}
    )
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "shown in 2 blocks" in text and "cyan" not in text
    assert "row and column numbers on the left and above each block" in text


@pytest.mark.parametrize("size", ["4", "4x4", "5x5"])
def test_no_title_leaves_a_size_alone_on_a_line_at_80_columns(size: str) -> None:
    from typer.testing import CliRunner

    from convcalc.cli import app

    result = CliRunner().invoke(
        app, ["explain", size, "-k", "3", "-s", "2", "-t", "--section", "direct"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert not [line for line in lines if re.fullmatch(r"\s*\d+(x\d+)*\s*", line) and len(line.split()) == 1]
    assert any(line.startswith("3. padded to ") for line in lines)
