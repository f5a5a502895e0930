"""`convcalc verify`: exit codes, JSON, and failures it must catch."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import core, engine
from convcalc.cli import app
from convcalc.core import report as core_report
from convcalc.engine.routes import direct as direct_route
from convcalc.errors import ExitCode

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


@pytest.mark.parametrize(
    "args",
    [
        ["63x64", "-k", "4", "-s", "2", "-p", "1"],
        ["2x2", "-k", "2", "-s", "2"],
        ["5", "-k", "3", "-s", "2", "-p", "1", "--output-padding", "1"],
        ["5", "-k", "3", "-d", "2", "--output-padding", "1"],
        ["6x5", "-k", "3x2", "-s", "2x1", "-p", "1:0x2:1", "-d", "2x1"],
        ["7", "-k", "4", "-p", "same"],
        ["4x3x5", "-k", "2", "-s", "2", "-p", "1", "--in-channels", "4", "--out-channels", "6", "-g", "2"],
        ["5x5", "-k", "3", "-s", "2", "-p", "1", "--output-padding", "1", "--transposed"],
        ["3", "-k", "1", "-s", "2", "-p", "1", "--output-padding", "1", "--transposed"],
    ],
)
def test_verify_passes_valid_layers(args: list[str]) -> None:
    result = invoke("verify", *args)
    assert result.exit_code == ExitCode.OK, result.output
    assert "all checks passed" in result.stdout
    assert "FAIL" not in result.stdout
    assert result.stderr == ""


def test_verify_json_document() -> None:
    result = invoke("verify", "5x4", "-k", "3", "-s", "2", "-p", "1", "--seed", "7", "--json")
    assert result.exit_code == ExitCode.OK
    document = json.loads(result.stdout)
    assert document["schema_version"] >= 1
    assert document["command"] == "verify"
    assert document["passed"] is True
    assert document["setup"]["seed"] == 7
    assert document["input"]["size"] == [5, 4]
    names = [c["check"] for c in document["checks"]]
    for expected in (
        "convolution: im2col",
        "transposed: scatter (definition)",
        "transposed: direct convolution",
        "transposed: matrix C^T y",
        "adjoint: <conv x, y> = <x, conv_transpose y>",
        "round trip with output_padding = r restores W",
    ):
        assert expected in names
    assert all(c["verdict"] == "pass" for c in document["checks"])
    _no_floats(document)
    # The shapes verified are the ones `convcalc shape` reports.
    shape = json.loads(invoke("shape", "5x4", "-k", "3", "-s", "2", "-p", "1", "--json").stdout)
    transposed = next(c for c in document["checks"] if c["check"] == "transposed: scatter (definition)")
    assert transposed["got"][2:] == shape["transposed"]["output"]
    direct = next(c for c in document["checks"] if c["check"] == "direct form: output")
    assert direct["got"] == shape["direct"]["output"]


def test_verify_seed_changes_the_tensors_not_the_verdict() -> None:
    first = json.loads(invoke("verify", "6", "-k", "3", "-s", "2", "--json").stdout)
    second = json.loads(invoke("verify", "6", "-k", "3", "-s", "2", "--seed", "1", "--json").stdout)
    adjoint = "adjoint: <conv x, y> = <x, conv_transpose y>"
    values = [next(c["expected"] for c in d["checks"] if c["check"] == adjoint) for d in (first, second)]
    assert values[0] != values[1]
    assert first["passed"] and second["passed"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["5", "-k", "3", "-s", "2", "--output-padding", "2"], "output_padding must be smaller"),
        (["2", "-k", "3"], "dilated kernel"),
        (["5"], "kernel_size is required"),
        (["5", "-k", "3", "--seed", "-1"], "seed must be an integer from 0"),
        (["5", "-k", "3", "--in-channels", "3", "--out-channels", "4", "-g", "2"], "groups must divide"),
        (["5", "-k", "3", "-p", "same", "--transposed"], "padding='same'"),
    ],
)
def test_verify_invalid_input_exits_2(args: list[str], message: str) -> None:
    result = invoke("verify", *args)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    as_json = invoke("verify", *args, "--json")
    assert as_json.exit_code == ExitCode.INVALID_INPUT
    assert message in json.loads(as_json.stdout)["error"]["message"]


def test_verify_refuses_work_over_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "MAX_WORK", 10_000)
    result = invoke("verify", "64x64", "-k", "3")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "MAX_WORK" in result.stderr


def test_verify_skips_the_matrix_route_past_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "MAX_MATRIX_ELEMENTS", 10)
    result = invoke("verify", "8", "-k", "3", "--json")
    assert result.exit_code == ExitCode.OK
    checks = json.loads(result.stdout)["checks"]
    matrix = next(c for c in checks if c["check"] == "transposed: matrix C^T y")
    assert matrix["verdict"] == "skipped" and "MAX_MATRIX_ELEMENTS" in matrix["note"]


# ---------------------------------------------------------------------------------------------------
# Deliberately broken routes and a broken core: verify must say so with exit code 1.


def _shifted(route: Any) -> Any:
    """A route whose last axis comes out reversed (doubled when it has one element)."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        result = route(*args, **kwargs)
        return result[..., ::-1].copy() if result.shape[-1] > 1 else result * 2

    return broken


def test_broken_engine_route_makes_verify_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "conv_transpose_cropped", _shifted(engine.conv_transpose_cropped))
    result = invoke("verify", "5", "-k", "3", "-s", "2", "-p", "1")
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    assert "FAIL" in result.stdout
    assert "check(s) failed" in result.stdout
    document = json.loads(invoke("verify", "5", "-k", "3", "-s", "2", "-p", "1", "--json").stdout)
    assert document["passed"] is False
    failed = [c["check"] for c in document["checks"] if c["verdict"] == "FAIL"]
    assert failed == ["transposed: engine (col2im)"]


def test_unflipped_kernel_in_the_direct_route_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first seed's mistake: the direct form with the kernel not flipped."""
    monkeypatch.setattr(direct_route, "direct_weight", lambda w, groups=1: w.swapaxes(0, 1).copy())
    result = invoke("verify", "4", "-k", "3", "--in-channels", "1", "--out-channels", "1", "--json")
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    failed = [c["check"] for c in json.loads(result.stdout)["checks"] if c["verdict"] == "FAIL"]
    assert failed == ["transposed: direct convolution"]


def test_wrong_direct_form_in_the_core_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the core reported p' = K-1-p+1, the sizes the direct route really builds disagree."""
    right = core.direct_form

    def wrong(axis: core.TransposedAxis) -> core.DirectAxis:
        form = right(axis)
        return core.DirectAxis(
            form.size,
            form.kernel_size,
            form.dilation,
            form.zeros_inserted,
            form.stretched,
            form.pad_before + 1,
            form.pad_after,
        )

    monkeypatch.setattr(core_report, "direct_form", wrong)
    result = invoke("verify", "5", "-k", "3", "-s", "2", "-p", "1", "--json")
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    failed = [c["check"] for c in json.loads(result.stdout)["checks"] if c["verdict"] == "FAIL"]
    assert "direct form: re-padded size" in failed and "direct form: output" in failed


def test_broken_adjoint_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    right = engine.adjoint_identity
    monkeypatch.setattr(engine, "adjoint_identity", lambda *a, **k: (right(*a, **k)[0], 0.5))
    result = invoke("verify", "5", "-k", "3", "--json")
    assert result.exit_code == ExitCode.VERIFICATION_FAILED


# ---------------------------------------------------------------------------------------------------
# Layers given in another framework's arguments: executed through their canonical crops.


@pytest.mark.parametrize(
    ("args", "output"),
    [
        # Reference vectors 8, 10, 15, 17: sizes the frameworks return, by their own conventions.
        (["5", "-k", "3", "-s", "2", "-p", "same", "-t", "--framework", "keras"], [10]),
        (["5", "-k", "1", "-s", "2", "-p", "valid", "-t", "--framework", "keras"], [10]),
        (["5", "-k", "4", "-s", "3", "-p", "valid", "-t", "--framework", "jax"], [16]),
        (["5", "-k", "3", "-s", "2", "-p", "same_lower", "-t", "--framework", "onnx"], [10]),
        (["5", "-k", "3", "-s", "2", "-p", "1", "-t", "--output-size", "10", "-f", "pytorch"], [10]),
        (["6x7", "-k", "3", "-s", "2", "-p", "same", "--framework", "tensorflow"], [3, 4]),
    ],
)
def test_verify_framework_layers(args: list[str], output: list[int]) -> None:
    result = invoke("verify", *args, "--json")
    assert result.exit_code == ExitCode.OK, result.output
    document = json.loads(result.stdout)
    assert document["input"]["output"] == output
    assert document["checks"][0]["got"] == output
    assert document["passed"] is True


def test_negative_crop_with_a_broken_matrix_route_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keras 'valid' with k=1, s=2 appends a zero (crop -1): a route that forgets it must fail."""
    right = engine.transpose_matrix
    monkeypatch.setattr(engine, "transpose_matrix", lambda *a, **k: right(*a, **k)[..., :-1])
    result = invoke(
        "verify", "5", "-k", "1", "-s", "2", "-p", "valid", "-t", "--framework", "keras", "--json"
    )
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    failed = [c["check"] for c in json.loads(result.stdout)["checks"] if c["verdict"] == "FAIL"]
    assert failed == ["transposed: matrix C^T y"]


def test_framework_layers_refuse_channels() -> None:
    result = invoke("verify", "5", "-k", "3", "-t", "--framework", "keras", "--in-channels", "2")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "go with convcalc's own arguments" in result.stderr


def test_verify_has_every_option_of_shape() -> None:
    def options(command: str) -> set[str]:
        text = invoke(command, "--help").stdout
        return {word.strip(",") for word in text.split() if word.startswith("--")}

    assert options("shape") <= options("verify")
    assert {"--seed", "--json"} <= options("verify")


def test_jax_negative_padding_is_verified_on_the_cropped_input() -> None:
    """JAX pads (5, -1) and (-1, 2): (5 + 5 - 1 - 4)//3 + 1 = 2 and 3 - 1 + 2 = 4, worked by hand."""
    result = invoke("verify", "5x3", "-k", "4x1", "-s", "3x1", "-p", "5:-1x-1:2", "-f", "jax", "--json")
    assert result.exit_code == ExitCode.OK, result.output
    document = json.loads(result.stdout)
    assert document["checks"][0]["got"] == [2, 4] and document["passed"] is True
    # Every input element cropped away: nothing to execute, said plainly.
    result = invoke("verify", "5x2", "-k", "4x1", "-s", "3x1", "-p", "5:-1x-3:5", "-f", "jax")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "removes every one of the 2 input elements" in result.stderr
