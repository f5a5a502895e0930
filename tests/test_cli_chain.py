"""`convcalc chain` through Typer's runner: exit codes, stdout and stderr apart, JSON that parses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ExitCode

runner = CliRunner()
UNET = " | ".join(
    ["conv k3 p1 | conv k3 p1 | pool k2"] * 4 + ["conv k3 p1"] + ["up2 | conv k3 p1 | conv k3 p1"] * 4
)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


ENCODER_DECODER = "conv k3 s2 p1 | conv k3 s2 p1 | tconv k3 s2 p1 op1 | tconv k3 s2 p1 op1"


@pytest.mark.parametrize(("size", "code"), [("63", ExitCode.VERIFICATION_FAILED), ("64", ExitCode.OK)])
def test_a_size_not_restored_exits_1_as_inspect_does(size: str, code: ExitCode) -> None:
    for extra in ([], ["--json"]):
        result = invoke("chain", ENCODER_DECODER, size, *extra)
        assert result.exit_code == code, result.output
    # the document says the exit code the command ends with, as inspect's and diff's documents do
    assert json.loads(result.stdout)["exit_code"] == code
    assert "not restored" in invoke("chain", ENCODER_DECODER, "63").stdout


def test_help_spells_the_chain_grammar_at_80_columns() -> None:
    result = runner.invoke(app, ["chain", "--help"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    text = " ".join(result.stdout.split())
    for token in ("dN dilation", "cN out channels", "gN groups", "ceil ceil_mode", "avgpool", "k3x5", "p1:2"):
        assert token in text, token
    assert "1 when a skip connection is not restored" in text
    example = "'conv k3 s2 p1 c64 | maxpool k2 ceil | tconv k4 s2 p1 | up2'"
    assert example in text
    assert invoke("chain", example.strip("'"), "64", "-c", "3").exit_code == ExitCode.OK


def test_table_flags_the_skip_mismatch_of_an_odd_input() -> None:
    result = runner.invoke(app, ["chain", UNET, "101"], env={"COLUMNS": "200"})
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    out = " ".join(result.stdout.split())
    assert "MISMATCH" in out and "or input 96 or 112" in out and "16q + 0 (from 16)" in out
    assert result.stderr == ""


def test_json_document() -> None:
    result = invoke("chain", UNET, "101x96", "--range", "1:64", "--json")
    assert result.exit_code == ExitCode.VERIFICATION_FAILED  # 101 is not restored
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "chain"
    assert doc["input"] == {"size": [101, 96], "size_given": True}
    assert doc["layers"][2]["kind"] == "maxpool" and doc["layers"][2]["output"] == [50, 48]
    assert doc["layers"][2]["dropped"] == [1, 0]
    assert doc["layers"][0]["receptive_field"] == [3, 3] and doc["layers"][-1]["receptive_field"] is None
    assert [p["restored"] for p in doc["pairs"]] == [
        [True, True],
        [False, True],
        [False, True],
        [False, True],
    ]
    axis0 = doc["accepted"][0]
    assert axis0["restores"]["period"] == 16 and axis0["restores"]["classes"] == [16]
    assert axis0["restores"]["nearest_below"] == 96 and axis0["listed"] == [16, 32, 48, 64]


def test_without_a_size_the_smallest_restoring_input_is_used() -> None:
    doc = json.loads(invoke("chain", UNET, "--json").stdout)
    assert doc["input"] == {"size": [16], "size_given": False}
    assert all(all(p["restored"]) for p in doc["pairs"])


def test_a_chain_file(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps({"size": [63], "layers": "conv k4 s2 p1 | tconv k4 s2 p1"}))
    doc = json.loads(invoke("chain", str(path), "--json").stdout)
    assert doc["output"] == [62] and doc["pairs"][0]["output_padding_fix"] == [1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chain", "conv k3 | pool k2 op1", "8"], "layer 2 (pool k2 op1): token 'op1'"),
        (["chain", "conv k3 | conv k9", "8"], "layer 2 (conv k9): the dilated kernel (9)"),
        (["chain", "missing.toml"], "cannot read the chain file"),
        (["chain", "conv k3", "8", "--range", "9:1"], "range must be LOW:HIGH"),
        (["chain", "conv k3", "8x"], "size must be whole numbers"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_json_error(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in " ".join(result.stderr.split()) and result.stdout == ""
    as_json = invoke(*args, "--json")
    assert as_json.exit_code == ExitCode.INVALID_INPUT
    assert message in json.loads(as_json.stdout)["error"]["message"]


def test_chain_does_not_load_numpy() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from convcalc.cli import app\n"
        f"r = CliRunner().invoke(app, ['chain', {UNET!r}, '101'])\n"
        "assert r.exit_code == 1, r.output\n"
        "import sys\nprint('numpy' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "False"
