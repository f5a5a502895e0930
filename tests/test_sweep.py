"""`convcalc sweep`: counts, skip reasons, the progress bar, and the failures it must catch."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import engine
from convcalc.cli import app
from convcalc.errors import ConvCalcError, ExitCode
from convcalc.verify.sweep import parse_range

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _no_floats(node: Any) -> None:
    """The JSON rule: ints, bools, strings, lists, objects and null only."""
    assert not isinstance(node, float), node
    if isinstance(node, dict):
        for value in node.values():
            _no_floats(value)
    elif isinstance(node, list):
        for value in node:
            _no_floats(value)


def test_sweep_small_grid_passes_and_counts() -> None:
    result = invoke("sweep", "--sizes", "1-4", "--kernel-sizes", "1-3", "--ndims", "1,2", "--json")
    assert result.exit_code == ExitCode.OK, result.output
    document = json.loads(result.stdout)
    _no_floats(document)
    assert document["configurations"] == 4 * 3 * 3 * 3 * 2 * 3 * 2
    assert document["verified"] + document["skipped"] == document["configurations"]
    assert sum(r["count"] for r in document["skipped_reasons"]) == document["skipped"]
    reasons = " ".join(r["reason"] for r in document["skipped_reasons"])
    assert "output_padding must be smaller than max(stride, dilation)" in reasons
    assert "larger than the padded input" in reasons
    assert document["failures"] == [] and document["passed"] is True
    assert result.stderr == ""


def test_sweep_table_without_a_terminal_has_no_progress_bar() -> None:
    result = invoke("sweep", "--sizes", "2-3", "--kernel-sizes", "2", "--ndims", "1")
    assert result.exit_code == ExitCode.OK
    assert "every verified configuration passed" in result.stdout
    assert "Skipped: the rule each broke" in result.stdout
    assert result.stderr == ""


def test_progress_bar_only_on_a_terminal() -> None:
    from rich.console import Console

    from convcalc.verify.render import progress_bar

    piped = io.StringIO()
    with progress_bar(3, Console(file=piped, force_terminal=False)) as update:
        assert update is None
    assert piped.getvalue() == ""
    terminal = io.StringIO()
    with progress_bar(3, Console(file=terminal, force_terminal=True), delay=0) as update:
        assert update is not None
        update(3)
    assert "3/3" in terminal.getvalue()


def test_sweep_failure_lists_a_command_that_reproduces_it(monkeypatch: pytest.MonkeyPatch) -> None:
    right = engine.transpose_scatter

    def broken_when_strided(*args: Any, **kwargs: Any) -> Any:
        result = right(*args, **kwargs)
        return result * 2 if max(kwargs["stride"]) > 1 else result

    monkeypatch.setattr(engine, "transpose_scatter", broken_when_strided)
    result = invoke(
        "sweep", "--sizes", "3", "--kernel-sizes", "2", "--paddings", "0", "--ndims", "1", "--json"
    )
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    failures = json.loads(result.stdout)["failures"]
    assert failures
    assert all(f["arguments"]["stride"][0] > 1 for f in failures)
    command = failures[0]["command"]
    assert command.startswith("convcalc verify 3 -k 2 -s ")
    reproduced = invoke(*command.split()[1:])
    assert reproduced.exit_code == ExitCode.VERIFICATION_FAILED
    table = invoke("sweep", "--sizes", "3", "--kernel-sizes", "2", "--paddings", "0", "--ndims", "1")
    assert table.exit_code == ExitCode.VERIFICATION_FAILED
    assert "Failures" in table.stdout and "convcalc verify 3" in table.stdout
    monkeypatch.setattr(engine, "transpose_scatter", right)
    assert invoke(*command.split()[1:]).exit_code == ExitCode.OK


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strides", "0-2"], "strides must be >= 1"),
        (["--sizes", "5-2"], "range must run upwards"),
        (["--paddings", "a"], "paddings must be numbers or ranges"),
        (["--sizes", "1-999999", "--kernel-sizes", "1-99"], "MAX_SWEEP_CONFIGURATIONS"),
    ],
)
def test_sweep_invalid_ranges_exit_2(args: list[str], message: str) -> None:
    result = invoke("sweep", *args)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in result.stderr


def test_parse_range() -> None:
    assert parse_range("sizes", "1-3,8,2", 1) == (1, 2, 3, 8)
    with pytest.raises(ConvCalcError, match="dilations must be >= 1"):
        parse_range("dilations", "0", 1)
