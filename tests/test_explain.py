"""`convcalc explain`'s sections against the first seed's hand-built matrix, torch and the overlap map."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.core import ShapeReport, shape_report
from convcalc.errors import ConvCalcError, ExitCode
from convcalc.explain.steps import explain
from convcalc.overlap import overlap_map

runner = CliRunner()

W = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def seed_matrix() -> list[list[int]]:
    """The first seed's C for a 4x4 input and a 3x3 kernel, built row by row as the question does:
    C[0, :3] = w[0]; C[0, 4:7] = w[1]; C[0, 8:11] = w[2]; row 1 shifted by 1, rows 2, 3 by 4 and 5."""
    rows = []
    for shift in (0, 1, 4, 5):
        row = [0] * 16
        for r in range(3):
            row[shift + 4 * r : shift + 4 * r + 3] = W[r]
        rows.append(row)
    return rows


def test_seed_one_matrix_and_slip() -> None:
    result = explain(shape_report((4, 4), 3))
    view = result.matrix.content
    assert view is not None
    assert [list(r) for r in view.matrix] == seed_matrix()
    # y by hand: 1*1+2*2+3*3 + 5*4+6*5+7*6 + 9*7+10*8+11*9 = 14 + 92 + 242 = 348.
    assert view.y.nested()[0][0] == 348
    # With g = 1 everywhere, dL/dx counts the weights that touch each input: corner w[0,0] = 1, the
    # centre (1,1) gets w[0,0]+w[0,1]+w[1,0]+w[1,1] = 12.
    assert view.gradient.nested()[0] == [1, 3, 5, 3] and view.gradient.nested()[1][1] == 12
    assert view.verified and view.slip_differs
    assert view.c_transpose_y.nested()[0][0] == 348  # y[0,0] * w[0,0]: C^T y, not the gradient


def test_seed_one_direct_form_pads_two_and_needs_the_flip() -> None:
    steps = explain(shape_report((4, 4), 3)).direct.content
    assert steps is not None
    # The guide's "2x2 input padded with a 2x2 border of zeros": 6x6, padding p' = 2 on each side.
    assert steps.padded.shape == (6, 6)
    assert steps.padded.kinds is not None and steps.padded.kinds.count("pad") == 36 - 4
    assert steps.flipped.nested() == [[9, 8, 7], [6, 5, 4], [3, 2, 1]]
    assert steps.equal and steps.engine_sizes_match and not steps.unflipped_equal


def test_contributions_agree_with_the_overlap_map() -> None:
    report = shape_report(3, 4, stride=3, transposed=True)
    listed = explain(report).contributions.content
    assert listed is not None and listed.verified
    counts = overlap_map([report.transposed]).axes[0].counts
    assert tuple(len(item.pairs) for item in listed.items) == counts == (1, 1, 1, 2, 1, 1, 2, 1, 1, 1)


@st.composite
def small_reports(draw: st.DrawFn) -> ShapeReport:
    ndim = draw(st.integers(1, 2))
    size = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    k = draw(st.integers(1, 3))
    s = draw(st.integers(1, 3))
    d = draw(st.integers(1, 2))
    p = draw(st.integers(0, 2))
    transposed = draw(st.booleans())
    op = draw(st.integers(0, 1)) if transposed else 0
    try:
        return shape_report(
            size, k, stride=s, dilation=d, padding=p, output_padding=op, transposed=transposed
        )
    except ConvCalcError:
        assume(False)
        raise


@given(small_reports())
def test_every_check_holds_and_torch_agrees(report: ShapeReport) -> None:
    result = explain(report)
    assert result.verified
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    ndim = report.ndim
    conv = (F.conv1d, F.conv2d)[ndim - 1]
    conv_t = (F.conv_transpose1d, F.conv_transpose2d)[ndim - 1]
    params = report.params
    view = result.matrix.content
    if view is not None and all(a.pad_before == a.pad_after for a in report.conv):
        x = torch.tensor(view.x.nested(), dtype=torch.float64).reshape(1, 1, *view.x.shape)
        x.requires_grad_(True)
        w = torch.tensor(view.weight.nested(), dtype=torch.float64).reshape(1, 1, *view.weight.shape)
        pads = [a.pad_before for a in report.conv]
        y = conv(x, w, stride=params.stride, padding=pads, dilation=params.dilation)
        y.backward(torch.ones_like(y))
        assert x.grad.reshape(-1).to(torch.int64).tolist() == list(view.gradient.values)
        back = conv_t(
            y.detach(),
            w,
            stride=params.stride,
            padding=pads,
            dilation=params.dilation,
            output_padding=list(view.output_padding),
        )
        assert back.reshape(-1).to(torch.int64).tolist() == list(view.c_transpose_y.values)


def test_sections_too_large_are_refused_with_the_largest_shown() -> None:
    result = explain(shape_report((32, 32), 3, stride=2, padding=1))
    assert result.matrix.content is None
    assert result.matrix.refusal is not None and "up to 25 positions on a side (for example 5x5)" in (
        result.matrix.refusal
    )
    assert result.contributions.refusal is not None and "for example 8x8" in result.contributions.refusal
    with pytest.raises(ConvCalcError, match=r"matrix view .* up to 25 positions .* has 1024"):
        explain(shape_report((32, 32), 3, stride=2, padding=1), ("matrix",), strict=True)


def test_a_few_outputs_of_a_twin_with_many_inputs_are_refused_before_the_run() -> None:
    # Padding 5000 crops the twin 5000 -> 2: two outputs to list, but 5,000 inputs to run through.
    with pytest.raises(ConvCalcError, match=r"running the transposed twin on its 5,000 input positions"):
        explain(shape_report(2, 4, stride=2, padding=5000), ("contributions",), strict=True)


def test_cli_explain_json_is_integers_and_verified() -> None:
    result = runner.invoke(app, ["explain", "4x4", "-k", "3", "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    doc = json.loads(result.stdout)
    assert doc["verified"] is True
    assert doc["matrix"]["matrix"] == seed_matrix()
    assert doc["matrix"]["slip_c_transpose_y_differs_from_gradient"] is True
    assert doc["direct"]["padded"]["shape"] == [6, 6]
    assert doc["direct"]["padded"]["kinds"][2][2] == "input"
    assert doc["contributions"]["positions"][0] == {
        "output": [0, 0],
        "pairs": [{"input": [0, 0], "tap": [0, 0]}],
        "value": 348,
    }

    def only_plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and only_plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(only_plain(v) for v in value)
        return value is None or isinstance(value, (int, str, bool))

    assert only_plain(doc)


def test_cli_explain_text_and_refusals() -> None:
    result = runner.invoke(app, ["explain", "4x4", "-k", "3"])
    assert result.exit_code == ExitCode.OK
    out = result.stdout
    assert "The classic slip" in out and "different: the direct form needs the" in out
    assert " 348 393\n" in out and "· · 348 393 · ·".replace(" ", "") in out.replace(" ", "")
    big = runner.invoke(app, ["explain", "32x32", "-k", "3", "-s", "2", "-p", "1"])
    assert big.exit_code == ExitCode.OK
    assert "not shown" in big.stdout and "for example 5x5" in big.stdout
    strict = runner.invoke(app, ["explain", "32x32", "-k", "3", "--section", "matrix", "--json"])
    assert strict.exit_code == ExitCode.INVALID_INPUT
    assert json.loads(strict.stdout)["error"]["parameter"] == "size"
    bad = runner.invoke(app, ["explain", "4", "-k", "3", "--section", "pictures"])
    assert bad.exit_code == ExitCode.INVALID_INPUT and "section must name" in bad.stderr
