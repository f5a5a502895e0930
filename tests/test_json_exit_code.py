"""Every command's JSON document carries `exit_code`, the code the command exits with, so that a script
reading the document needs no second channel; checked against the process's own exit code."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from convcalc import engine
from convcalc.cli import app

runner = CliRunner()

COMMANDS = [
    ["shape", "63", "-k", "4", "-s", "2", "-p", "1"],
    ["verify", "5", "-k", "3", "-s", "2", "-p", "1"],
    ["explain", "5", "-k", "3", "-s", "2", "-p", "1"],
    ["solve", "5", "10"],
    ["port", "9", "--from", "onnx", "--to", "keras", "-k", "4", "-p", "same_lower"],
    ["sweep", "--sizes", "3", "--kernel-sizes", "2", "--paddings", "0", "--ndims", "1"],
    ["chain", "conv k3 s2 p1 | tconv k3 s2 p1 op1", "64"],
    ["chain", "conv k3 s2 p1 | tconv k3 s2 p1 op1", "63"],  # not restored: exit 1
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_the_document_says_the_exit_code_the_command_exits_with(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--json"])
    document = json.loads(result.stdout)
    assert result.exit_code in (0, 1), result.output
    assert document["exit_code"] == result.exit_code
    assert list(document)[:4] == ["schema_version", "command", "headline", "exit_code"] or args[0] == "chain"


def test_a_failing_command_says_1() -> None:
    result = runner.invoke(app, ["chain", "conv k3 s2 p1 | tconv k3 s2 p1 op1", "63", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["exit_code"] == 1


def test_a_sweep_whose_engine_disagrees_says_1(monkeypatch: pytest.MonkeyPatch) -> None:
    right = engine.transpose_scatter
    monkeypatch.setattr(engine, "transpose_scatter", lambda *a, **k: right(*a, **k) * 2)
    args = ["sweep", "--sizes", "3", "--kernel-sizes", "2", "--paddings", "0", "--ndims", "1", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and json.loads(result.stdout)["exit_code"] == 1
