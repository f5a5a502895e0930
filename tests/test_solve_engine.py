"""Solutions executed: every answer of `solve` runs in the NumPy engine with the target shape."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ConvCalcError, ExitCode
from convcalc.solve.answers import Answer, Bounds
from convcalc.solve.solver import solve

pytest.importorskip("numpy")
from convcalc.solve.execute import verify_answer


@given(size=st.integers(1, 9), target=st.integers(1, 30), transposed=st.booleans())
def test_every_answer_executes_with_the_target_shape(size: int, target: int, transposed: bool) -> None:
    for answer in solve(size, target, transposed=transposed, bounds=Bounds(5, 3, 2)).answers:
        assert verify_answer(answer), answer


def test_two_axes_with_different_strides() -> None:
    report = solve((7, 9), (14, 9), dilation=1, bounds=Bounds(4, 2, 2))
    assert report.mixed and report.answers
    assert all(verify_answer(a) for a in report.answers)


def test_a_wrong_answer_fails_verification() -> None:
    good = solve(5, 10, kernel_size=3, stride=2, padding=1).answers[0]
    (axis,) = good.axes
    wrong = Answer((dataclasses.replace(axis, output=11),))
    assert not verify_answer(wrong)


def test_verify_budget_is_an_error_not_an_allocation() -> None:
    answer = solve(10**7, 2 * 10**7, kernel_size=4, stride=2, dilation=1).answers[0]
    with pytest.raises(ConvCalcError, match="--verify would take about"):
        verify_answer(answer)


def test_cli_verify_marks_every_answer_and_exits_1_when_the_engine_disagrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["solve", "23x40", "46x80", "--verify", "--json"])
    assert ok.exit_code == ExitCode.OK
    assert all(a["verified"] for a in json.loads(ok.stdout)["answers"])

    from convcalc import engine

    real = engine.conv_transpose

    def one_short(*args, **kwargs):  # type: ignore[no-untyped-def]
        return real(*args, **kwargs)[..., :-1]

    monkeypatch.setattr(engine, "conv_transpose", one_short)
    bad = runner.invoke(app, ["solve", "23x40", "46x80", "--verify"])
    assert bad.exit_code == ExitCode.VERIFICATION_FAILED
    assert "FAILED" in bad.stdout
