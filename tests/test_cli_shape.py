"""`convcalc shape` through Typer's runner: exit codes, stdout and stderr apart, JSON that parses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from convcalc import __version__
from convcalc.cli import app
from convcalc.errors import ExitCode

runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_shape_table_shows_the_63_instead_of_64_story() -> None:
    result = invoke("shape", "63x64", "-k", "4", "-s", "2", "-p", "1")
    assert result.exit_code == ExitCode.OK, result.output
    out = result.stdout
    for heading in (
        "Convolution",
        "Transposed convolution",
        "Equivalent direct convolution",
        "Reversibility",
    ):
        assert heading in out
    assert "not restored" in out and "restored" in out
    assert result.stderr == ""


def test_shape_json_is_complete_and_per_axis_lists() -> None:
    result = invoke("shape", "63x64", "-k", "4", "-s", "2", "-p", "1", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "shape"
    assert doc["input"]["size"] == [63, 64]
    assert doc["input"]["padding"] == [[1, 1], [1, 1]]
    assert doc["convolution"]["output"] == [31, 32]
    # 63 -> 31 -> 62: one element lost; output_padding=1 restores it (PyTorch's ConvTranspose2d agrees)
    assert doc["transposed"]["output"] == [62, 64]
    assert doc["reversal"]["remainder"] == [1, 0]
    assert doc["reversal"]["reversible"] == [False, True]
    assert doc["reversal"]["colliding_first"] == [62, 64]
    assert doc["direct"]["pad_before"] == [2, 2]
    assert doc["channels"] is None


def test_shape_transposed_with_channels_and_asymmetric_padding() -> None:
    result = invoke(
        "shape", "5", "-k", "3", "-s", "2", "-p", "1:0", "--output-padding", "1", "--transposed",
        "--in-channels", "4", "--out-channels", "6", "-g", "2", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # full (5-1)*2 + 3 = 11, crops 1 before and 0 - 1 after: 11
    assert doc["transposed"]["output"] == [11]
    assert doc["transposed"]["crop_before"] == [1] and doc["transposed"]["crop_after"] == [-1]
    assert doc["channels"]["transposed_weight_shape"] == [4, 3, 3]


def test_output_padding_between_stride_and_dilation_is_flagged_as_pytorch_only() -> None:
    result = invoke("shape", "5", "-k", "3", "-s", "1", "-d", "2", "--output-padding", "1", "-t")
    assert result.exit_code == 0
    assert "demand output_padding < stride" in " ".join(result.stdout.split())
    doc = json.loads(
        invoke("shape", "5", "-k", "3", "-d", "2", "--output-padding", "1", "-t", "--json").stdout
    )
    assert doc["output_padding_rule"]["strict_ok"] == [False]
    assert doc["transposed"]["output"] == [10]  # catalog vector 2: PyTorch gives 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shape", "32x32"], "kernel_size is required"),
        (["shape", "32xx32", "-k", "3"], "size must be whole numbers joined by 'x'"),
        (["shape", "32", "-k", "3", "-s", "0"], "stride must be >= 1"),
        (["shape", "5", "-k", "7"], "the dilated kernel (7) is larger than the padded input (5)"),
        (["shape", "5", "-k", "3", "-p", "1:2:3"], "before:after pairs"),
        (["shape", "5", "-k", "3", "-p", "half"], "padding must be"),
        (
            ["shape", "5", "-k", "3", "-s", "2", "--output-padding", "2", "-t"],
            "output_padding must be smaller",
        ),
        (
            ["shape", "5", "-k", "3", "--in-channels", "3", "--out-channels", "4", "-g", "2"],
            "groups must divide",
        ),
        (["shape", "9" * 200, "-k", "3"], "size may have at most 100 digits"),
    ],
)
def test_invalid_input_exits_2_with_a_message_on_stderr(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_invalid_input_with_json_prints_an_error_object() -> None:
    result = invoke("shape", "5", "-k", "0", "--json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert doc["error"]["parameter"] == "kernel_size"
    assert "kernel_size must be >= 1" in doc["error"]["message"]
    assert "kernel_size must be >= 1" in result.stderr


def test_version_and_python_dash_m() -> None:
    assert invoke("--version").stdout.strip() == f"convcalc {__version__}"
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc", "shape", "12", "-k", "3", "-s", "2", "-p", "1", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["convolution"]["output"] == [6]


def test_console_entry_builds_only_the_named_command_and_still_dispatches_each() -> None:
    # run() registers only the command named on the command line; each command must still answer.
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "convcalc", *args], capture_output=True, text=True)

    solved = run("solve", "6", "12", "-k", "3", "-s", "2", "-p", "1", "--json")
    assert solved.returncode == 0, solved.stderr
    assert json.loads(solved.stdout)["command"] == "solve"
    listing = run("--help")
    assert listing.returncode == 0
    for command in ("shape", "verify", "explain", "solve", "chain", "port", "sweep"):
        assert command in listing.stdout
    refused = run("shape", "5", "-k", "3", "-s", "0")
    assert refused.returncode == 2 and "stride must be >= 1" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_error_messages_keep_colons_as_typed() -> None:
    """':fire:' in a value is text, not an emoji (rich's emoji codes are off)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "convcalc", "shape", "5", "-k", "3", "-p", ":fire:"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and ":fire:" in result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["shape", "63", "-k", "3", "-s", "2"], 141),
        (["shape", "63", "-k", "3", "-s", "2", "--json"], 141),
        (["shape", "63", "-k", "3", "--json", "--stide", "2"], ExitCode.INVALID_INPUT),
        (["shape", "0", "-k", "3", "--json"], ExitCode.INVALID_INPUT),
    ],
)
def test_a_closed_pipe_is_not_a_verification_failure(args: list[str], code: int) -> None:
    """`convcalc ... | head` with the reader gone: exit 141 (128 + SIGPIPE), or 2 for bad input; never
    1 (a disagreement) and never a traceback. The pipe's read end is closed before the command writes."""
    import os

    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "convcalc", *args], stdout=write, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        ("shape -5 -k 3", "size"),
        ("shape -5x3 -k 3 -t", "size"),
        ("shape --stride 2 -5 -k3", "size"),
        ("explain -4 -k 3 -s 2 -t", "size"),
        ("solve 7 -3", "target"),
        ("solve -7 3 --top 2", "size"),
    ],
)
def test_a_negative_size_is_refused_by_name(args: str, parameter: str) -> None:
    """Click would read `-5` as an unknown option; it is the size, and the rule is named (exit 2)."""
    result = runner.invoke(app, args.split())
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert f"{parameter} must be >= 1" in result.output
    document = runner.invoke(app, [*args.split(), "--json"])
    assert document.exit_code == ExitCode.INVALID_INPUT
    assert json.loads(document.stdout)["error"]["parameter"] == parameter


def test_an_unknown_option_is_still_named_next_to_a_negative_number() -> None:
    result = runner.invoke(app, ["shape", "-5", "-k", "3", "--stide", "2"])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "--stide" in result.output


def test_parameters_and_work_share_one_spelling_of_numbers() -> None:
    """Counts in the channels table carry thousands separators, parameters as well as work."""
    args = ["shape", "64", "-k", "3", "--in-channels", "1024", "--out-channels", "2048", "-g", "8"]
    out = runner.invoke(app, args).stdout
    doc = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    channels = doc["channels"]
    # 1024 * 2048 / 8 * 3 weights (hand count), with 2048 biases.
    assert channels["parameters"] == 786432
    assert "786,432 (788,480)" in out and f"{channels['multiply_accumulates']:,}" in out


def test_transposed_same_points_a_keras_user_at_the_framework_option() -> None:
    from typer.testing import CliRunner

    from convcalc.cli import app
    from convcalc.errors import ExitCode

    refused = CliRunner().invoke(app, ["shape", "32", "-k", "3", "-s", "2", "-p", "same", "-t"])
    assert refused.exit_code == ExitCode.INVALID_INPUT
    assert "--framework keras" in refused.stderr
    keras = CliRunner().invoke(app, ["shape", "32", "-k", "3", "-s", "2", "-p", "same", "-t", "-f", "keras"])
    assert keras.exit_code == ExitCode.OK and keras.stdout.startswith("Keras transposed convolution 32 -> 64")
