"""One verdict: the agreement rule of `verdict`, used by verify, sweep, port --verify, solve --verify.

Witnesses: hand-worked bounds of the rule; every command flips to "failed" when the one rule is made
impossible to meet, and a route perturbed by more than the rule allows fails while round-off passes; a
subprocess shows that documents and renderers load no numpy.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import engine
from convcalc import verdict as results
from convcalc.cli import app
from convcalc.errors import ExitCode
from convcalc.verdict import Check, agrees, all_passed, route_check, scalar_check, shape_check

runner = CliRunner()


def test_the_rule_is_relative_above_one_and_absolute_below() -> None:
    # 1e-9 * max(1, 1000) = 1e-6; 1e-9 * max(1, 0.001) = 1e-9.
    assert agrees(0.9e-6, 1000.0) and not agrees(1.1e-6, 1000.0)
    assert agrees(0.9e-9, 0.001) and not agrees(1.1e-9, 0.001)
    assert agrees(0.0, 0.0)
    assert not agrees(math.inf, 1.0)  # shapes differ
    assert not agrees(math.nan, 1.0)


def test_checks_carry_the_verdict_words() -> None:
    assert shape_check("s", [2, 3], (2, 3)).verdict == "pass"
    assert shape_check("s", [2, 3], (2, 4)).verdict == "FAIL"
    # Values within the rule, but the wrong shape: the route fails.
    assert route_check("r", [2, 3], (3, 2), 0.0, 1.0).verdict == "FAIL"
    assert route_check("r", [2, 3], (2, 3), 2e-9, 1.0).verdict == "FAIL"
    assert route_check("r", [2, 3], (2, 3), 2e-9, 4.0).verdict == "pass"
    identity = scalar_check("adjoint", 1000.0, 1000.0 + 5e-7)
    assert identity.passed and identity.expected == "1000" and identity.got == "1000.0000005"
    assert not scalar_check("adjoint", 1000.0, 1000.01).passed
    skipped = Check("m", "", "", None, None, note="budget")
    assert skipped.verdict == "skipped"
    assert all_passed([skipped, shape_check("s", [1], [1])])
    assert not all_passed([skipped, shape_check("s", [1], [2])])


def _exit_codes() -> dict[str, int]:
    commands = {
        "verify": ["verify", "5", "-k", "3", "-s", "2", "-p", "1", "--json"],
        "verify --framework": [
            "verify",
            "5",
            "-k",
            "3",
            "-s",
            "2",
            "-p",
            "same",
            "-t",
            "-f",
            "keras",
            "--json",
        ],
        "sweep": ["sweep", "--sizes", "4", "--kernel-sizes", "3", "--strides", "2", "--ndims", "1", "--json"],
        "port --verify": [
            "port",
            "9",
            "--from",
            "onnx",
            "--to",
            "keras",
            "-k",
            "4",
            "-p",
            "same_lower",
            "--verify",
        ],
        "solve --verify": ["solve", "5", "10", "-k", "3", "--verify"],
        "solve --conv --verify": ["solve", "10", "5", "--conv", "-k", "3", "--verify"],
    }
    return {name: runner.invoke(app, args).exit_code for name, args in commands.items()}


def test_every_command_decides_by_the_one_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(_exit_codes().values()) == {ExitCode.OK}
    # A rule no comparison can meet: every command that compares values must now report a failure.
    monkeypatch.setattr(results, "TOLERANCE", -1.0)
    assert set(_exit_codes().values()) == {ExitCode.VERIFICATION_FAILED}


@pytest.mark.parametrize(("noise", "passed"), [(1e-12, True), (1e-4, False)])
def test_a_route_off_by_more_than_the_rule_fails(
    monkeypatch: pytest.MonkeyPatch, noise: float, passed: bool
) -> None:
    right = engine.conv_transpose_cropped

    def noisy(*args: Any, **kwargs: Any) -> Any:
        return right(*args, **kwargs) + noise

    monkeypatch.setattr(engine, "conv_transpose_cropped", noisy)
    result = runner.invoke(app, ["verify", "6", "-k", "3", "-s", "2", "--json"])
    document = json.loads(result.stdout)
    check = next(c for c in document["checks"] if c["check"] == "transposed: engine (col2im)")
    assert check["passed"] is passed
    assert float(check["error"]) == pytest.approx(noise)
    assert result.exit_code == (ExitCode.OK if passed else ExitCode.VERIFICATION_FAILED)
    assert document["setup"]["tolerance"] == repr(results.TOLERANCE)


def test_documents_and_renderers_load_no_numpy() -> None:
    """Building verify's and sweep's JSON and tables from their report objects never loads the engine."""
    code = """
import sys
from rich.console import Console
from convcalc.core import shape_report
from convcalc.verify.document import sweep_document, verify_document
from convcalc.verify.render import sweep_view, verify_view
from convcalc.verdict import Check, SweepFailure, SweepReport, VerifyReport
from convcalc.verify.sweep import SweepGrid, parse_range

checks = (Check("convolution: im2col", [2, 3, 3], [2, 3, 3], None, True),
          Check("transposed: engine (col2im)", [2, 2, 5], [2, 2, 5], 1e-12, True))
report = VerifyReport(shape_report(5, 3, stride=2), None, 0, 2, 2, 3, 1, checks)
failure = SweepFailure({"size": 3, "kernel_size": 2}, checks[1:], "convcalc verify 3 -k 2")
sweep = SweepReport(SweepGrid(sizes=parse_range("sizes", "1-3", 1)), 0, 10, 120, {"a rule": 4}, (failure,))
verify_document(report), sweep_document(sweep)
Console(file=open("/dev/null", "w")).print(verify_view(report), sweep_view(sweep))
print("numpy" in sys.modules, "convcalc.engine" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["False", "False"]
