"""`convcalc solve` through Typer's runner: exit codes, stdout and stderr apart, JSON that parses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ExitCode

runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_table_ranks_and_explains() -> None:
    result = invoke("solve", "23x40", "46x80")
    assert result.exit_code == ExitCode.OK, result.output
    assert "Answers, best first" in result.stdout and "even coverage" in result.stdout
    assert "more with --all" in result.stdout
    assert result.stderr == ""


def test_json_all_lists_every_answer_per_axis() -> None:
    doc = json.loads(invoke("solve", "23x40", "46x80", "--all", "--json").stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "solve"
    assert doc["count"] == doc["shown"] == len(doc["answers"])
    first = doc["answers"][0]
    assert first["rank"] == 1 and first["kernel_size"] == [2, 2] and first["padding"] == [[0, 0], [0, 0]]
    assert first["output"] == [46, 80]
    dcgan = [a for a in doc["answers"] if a["kernel_size"] == [4, 4] and a["dilation"] == [1, 1]]
    assert [(a["padding"], a["output_padding"], a["reasons"]) for a in dcgan] == [
        ([[1, 1], [1, 1]], [0, 0], ["even coverage", "symmetric padding", "output_padding 0"])
    ]


def test_fixed_kernel_and_stride_solve_for_padding_like_output_size() -> None:
    doc = json.loads(invoke("solve", "6", "12", "-k", "3", "-s", "2", "-p", "1", "--json").stdout)
    assert [a["output_padding"] for a in doc["answers"]] == [[1]]
    assert doc["input"]["fixed"]["padding"] == [[1, 1]]


def test_strict_drops_pytorch_only_output_padding() -> None:
    loose = invoke("solve", "5", "10", "-k", "3", "-s", "1", "-d", "2")
    assert loose.exit_code == 0 and "PyTorch-only" in loose.stdout
    strict = json.loads(
        invoke("solve", "5", "10", "-k", "3", "-s", "1", "-d", "2", "--strict", "--json").stdout
    )
    assert strict["count"] == 0 and strict["nearest"][0]["target"] == 10


def test_nothing_fits_is_not_an_error() -> None:
    result = invoke("solve", "10", "100", "--conv")
    assert result.exit_code == ExitCode.OK
    assert "no layer within bounds fits" in result.stdout and "maps 10 -> 22" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["solve", "5", "0"], "target must be >= 1"),
        (["solve", "5", "9x9"], "target has 2 axes"),
        (["solve", "5", "9", "--conv", "--output-padding", "1"], "output_padding belongs"),
        (["solve", "5", "9", "-p", "same"], "padding must be numbers"),
        (["solve", "5", "9", "--max-kernel", "100"], "max_kernel must be an integer from 1 to 64"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_json_error(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in " ".join(result.stderr.split()) and result.stdout == ""
    assert "Traceback" not in result.stderr
    as_json = invoke(*args, "--json")
    assert as_json.exit_code == ExitCode.INVALID_INPUT
    assert message in json.loads(as_json.stdout)["error"]["message"]


def test_solve_without_verify_does_not_load_numpy() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from convcalc.cli import app\n"
        "r = CliRunner().invoke(app, ['solve', '23x40', '46x80', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['solve', '23x40', '46x80'])\n"
        "assert r.exit_code == 0, r.output\n"
        "import sys\nprint('numpy' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "False"
