"""Hostile command lines (issue 11): every command, values of every hostile form, and the heavy cases.

The fuzz half runs in process, through the console script's ``run`` (usage errors included), on
argument vectors Hypothesis builds from pools of hostile values: Unicode digits, numbers past Python's
printing limit and past convcalc's, signs, empty strings, separators in the wrong place, words.
Whatever comes in, the contract of the CLI holds: exit 0, 1 or 2; no traceback; a message on stderr
with exit 2, and with --json a JSON error object on stdout. Numbers that would be valid are kept
small, so that each example costs milliseconds (the budgets of large but valid inputs are the
subprocess half's business).

The subprocess half runs each heavy case of the issue as its own process under a memory limit
(RLIMIT_AS, 300 MB) and a CPU-time limit (RLIMIT_CPU, 2 s; CPU time, not wall time, so that a loaded
machine does not fail it): each must answer or be refused with exit 2 and a message. A bound, not a
benchmark (benchmarks/hostile_inputs.py measures them).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.cli import app, run
from convcalc.errors import ExitCode

UNICODE_DIGITS = ["²", "①", "፩", "٣", "३", "𝟕", "Ⅻ", "½", "3²", "1x٣", "٣:1"]
BIG = ["9" * 101, "7" * 2200, "1" * 5000, "-" + "9" * 120, "1" + "0" * 99]
FORMS = ["", " ", "x", "1x", "x1", "1xx1", "1:", ":1", "1:2:3", "+", "-", "--", "1.5", "1e3", "0x10", "nan"]
WORDS = ["same", "valid", "full", "SAME_UPPER", "causal", "same_lower", "notset", "half", "é", "\x00"]
SMALL = [str(n) for n in range(-2, 9)] + ["2x3", "3x1", "1:2", "0:1x1:0", "2x2x2", "+3", "-1x2"]
HOSTILE = st.sampled_from(UNICODE_DIGITS + BIG + FORMS + WORDS)
VALUE = st.one_of(st.sampled_from(SMALL), HOSTILE)
FRAMEWORKS = ["pytorch", "tensorflow", "keras", "onnx", "jax", "flax", "equinox", "paddle", "mxnet", "caffe"]
FRAMEWORK = st.one_of(st.sampled_from(FRAMEWORKS), HOSTILE)
# Output paths that cannot take the figure (none is written): over the system's name limit, the wrong
# suffix, a missing directory, a directory, a file system that refuses new files.
SVG_PATHS = st.sampled_from(
    [
        "a" * 300 + ".svg",
        "b" * 5000,
        "out.png",
        "/nonexistent/dir/f.svg",
        "",
        ".",
        "/",
        "/proc/x.svg",
        "x/" * 3000,
    ]
)

LAYER_OPTIONS = ["-k", "-s", "-p", "-d", "--output-padding", "--in-channels", "--out-channels", "-g"]
COMMANDS: dict[str, dict[str, Any]] = {
    "shape": {"options": [*LAYER_OPTIONS, "--output-size", "-f"], "flags": ["-t", "--transpose-kernel"]},
    "verify": {"options": [*LAYER_OPTIONS, "--output-size", "-f", "--seed"], "flags": ["-t"]},
    "explain": {
        "options": [*LAYER_OPTIONS, "--layers", "--section", "--placement", "--svg"],
        "flags": ["-t"],
    },
    "port": {"options": [*LAYER_OPTIONS[:5], "--seed", "--from", "--to"], "flags": ["-t", "--verify"]},
    "solve": {
        "options": ["-k", "-s", "-p", "-d", "--output-padding", "--max-kernel", "--max-stride", "--top"],
        "flags": ["--conv", "--strict", "--all"],
    },
}


def _run(argv: list[str]) -> tuple[int, str, str]:
    """The console script's entry point (``convcalc.cli.run``, the path a user's command takes, usage
    errors included) in process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    commands = list(app.registered_commands)  # run() keeps only the command it was asked for
    try:
        with (
            mock.patch.object(sys, "argv", ["convcalc", *argv]),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                run()
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    finally:
        app.registered_commands = commands
    return code, out.getvalue(), err.getvalue()


def _cli(argv: list[str]) -> str:
    """The CLI contract for one command line; an exception escaping ``run`` fails the test with it.
    Returns stderr."""
    code, stdout, stderr = _run(argv)
    shown = f"argv={argv!r}\nstdout={stdout[-2000:]!r}\nstderr={stderr[-2000:]!r}"
    assert "Traceback" not in stdout + stderr, shown
    assert code in (ExitCode.OK, ExitCode.VERIFICATION_FAILED, ExitCode.INVALID_INPUT), shown
    if code == ExitCode.INVALID_INPUT:
        assert stderr.strip(), shown
        options = argv[: argv.index("--")] if "--" in argv else argv  # after "--", --json is a value
        if "--json" in options:
            document = json.loads(stdout)
            assert document["error"]["message"], shown
    return stderr


@st.composite
def layer_argv(draw: st.DrawFn, command: str) -> list[str]:
    spec = COMMANDS[command]
    argv = [command, draw(VALUE)]
    if command == "solve":
        argv.append(draw(VALUE))
    if command == "port":
        argv += ["--from", draw(FRAMEWORK), "--to", draw(FRAMEWORK)]
    for option in draw(st.lists(st.sampled_from(spec["options"]), max_size=5, unique=True)):
        value = (
            draw(FRAMEWORK)
            if option in ("-f", "--from", "--to")
            else draw(SVG_PATHS)
            if option == "--svg"
            else draw(VALUE)
        )
        argv += [option, value]
    argv += draw(st.lists(st.sampled_from(spec["flags"]), max_size=2, unique=True))
    if command == "explain" and draw(st.booleans()):
        argv += ["--section", draw(st.sampled_from(["matrix", "direct", "overlap", "contributions", "bad"]))]
    if draw(st.booleans()):
        argv.append("--json")  # last, so that no option takes it as its value
    return argv


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("command", sorted(COMMANDS))
@FUZZ
@given(data=st.data())
def test_fuzz_layer_commands(command: str, data: st.DataObject) -> None:
    _cli(data.draw(layer_argv(command)))


RANGE = st.one_of(
    st.sampled_from(["1", "2", "1-2", "1,3", "0", "0-1", "2-1", "1-3", "1,,2", "1-2-3", "3-3", ",", "-1"]),
    HOSTILE,
)


@FUZZ
@given(
    options=st.dictionaries(
        st.sampled_from(["--sizes", "--kernel-sizes", "--strides", "--paddings", "--dilations"]),
        RANGE,
        max_size=3,
    ),
    seed=st.none() | VALUE,
    as_json=st.booleans(),
)
def test_fuzz_sweep(options: dict[str, str], seed: str | None, as_json: bool) -> None:
    # A small grid unless a fuzzed range widens one axis of it.
    argv = ["sweep", "--sizes", "3", "--kernel-sizes", "2", "--output-paddings", "0", "--ndims", "1"]
    for option, value in options.items():
        argv += [option, value]
    if seed is not None:
        argv += ["--seed", seed]
    _cli(argv + (["--json"] if as_json else []))


CHAIN_TOKEN = st.one_of(
    st.sampled_from(["conv", "tconv", "pool", "avgpool", "up2", "up", "k3", "s2", "p1", "op1", "d2", "c4"]),
    st.sampled_from(["g2", "ceil", "k3x3", "p1:0", "psame", "s1x2", "kx", "k", "k0", "s-1", "q1", "|"]),
    HOSTILE.map(lambda v: "k" + v),
    HOSTILE.map(lambda v: "s" + v),
)


@FUZZ
@given(
    layers=st.lists(st.lists(CHAIN_TOKEN, min_size=1, max_size=4).map(" ".join), min_size=1, max_size=4),
    size=st.none() | VALUE | st.sampled_from(["58x197x193x107", "5x6x7", "9x9"]),
    channels=st.none() | VALUE,
    size_range=st.none() | st.sampled_from(["1:9", "9:1", "1:", ":", "1:10000000000000", "²:5"]) | HOSTILE,
    as_json=st.booleans(),
)
def test_fuzz_chain(
    layers: list[str], size: str | None, channels: str | None, size_range: str | None, as_json: bool
) -> None:
    argv = ["chain", " | ".join(layers)]
    if size is not None:
        argv.append(size)
    if channels is not None:
        argv += ["--channels", channels]
    if size_range is not None:
        argv += ["--range", size_range]
    _cli(argv + (["--json"] if as_json else []))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    token=st.lists(CHAIN_TOKEN, min_size=1, max_size=3).map(" ".join),
    times=st.integers(1, 14_000),
    bars=st.booleans(),
    as_json=st.booleans(),
)
def test_fuzz_long_chain_specs(token: str, times: int, bars: bool, as_json: bool) -> None:
    # Specs of up to ~100,000 characters: one layer repeated, or one very long layer.
    spec = (" | " if bars else " ").join([token] * times)[:100_000]
    argv = ["chain", spec] + (["--json"] if as_json else [])
    stderr = _cli(argv)
    assert len(stderr) < 2_000, stderr[:300]  # an error quotes the layer, not the whole spec


@pytest.mark.parametrize(
    "argv",
    [
        ["chain", "avgpool k1x2 s1 | maxpool k3 s2 d1 | pool k4x3 d1", "58x197x193x107", "--range", "0:0"],
        ["chain", "conv k1x2 | conv k3x3x3"],
        ["chain", "conv " + "k3 " * 13_000],
        ["chain", "conv k" + "3" * 40_000],
        ["explain", "4", "-k", "3", "--svg", "a" * 300 + ".svg"],
        ["explain", "4", "-k", "3", "--svg", "out.png"],
    ],
)
def test_fuzz_findings_are_named_refusals(argv: list[str]) -> None:
    for extra in ([], ["--json"]):
        code, stdout, stderr = _run(argv + extra)
        assert code == ExitCode.INVALID_INPUT and "Traceback" not in stderr, stderr[-2000:]
        assert stderr.startswith("error: ") and len(stderr) < 2_000
        if extra:
            assert json.loads(stdout)["error"]["parameter"] in ("layers", "svg")


LAYER_KEYS = ["type", "kernel_size", "stride", "padding", "output_padding", "dilation", "scale_factor"]
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["conv", "tconv k3 s2", "up2", "x", "²"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(LAYER_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
DOCUMENT = st.dictionaries(st.sampled_from(["layers", "size", "in_channels", "x"]), JSON_VALUE, max_size=3)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value if v is not None) + "]"
    return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items() if v is not None) + "}"


@FUZZ
@given(document=DOCUMENT, suffix=st.sampled_from([".json", ".toml"]), as_json=st.booleans())
def test_fuzz_chain_files(document: dict[str, Any], suffix: str, as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"chain{suffix}"
        if suffix == ".json":
            path.write_text(json.dumps(document))
        else:
            path.write_text("".join(f"{k} = {_toml(v)}\n" for k, v in document.items() if v is not None))
        _cli(["chain", str(path)] + (["--json"] if as_json else []))


@FUZZ
@given(
    model=st.one_of(
        VALUE, st.sampled_from(["m.onnx", "m.keras", "m.py:f", "no.such.module:x", ".onnx", "x:"])
    ),
    inputs=st.lists(VALUE, max_size=2),
    target=st.none() | FRAMEWORK,
    as_json=st.booleans(),
)
def test_fuzz_inspect(model: str, inputs: list[str], target: str | None, as_json: bool) -> None:
    argv = ["inspect", model]
    for text in inputs:
        argv += ["--input", text]
    if target is not None:
        argv += ["--target", target]
    _cli(argv + (["--json"] if as_json else []))


def test_bare_convcalc_prints_usage_on_stderr_with_exit_2() -> None:
    code, stdout, stderr = _run([])
    assert code == ExitCode.INVALID_INPUT
    assert "Usage" in stderr and "Missing command" in stderr
    assert stdout == ""


@pytest.mark.parametrize("argv", [["--json"], ["--json", "shape", "5", "-k", "3"], ["--json", "--nope"]])
def test_json_before_any_command_is_a_json_usage_error(argv: list[str]) -> None:
    code, stdout, stderr = _run(argv)
    assert code == ExitCode.INVALID_INPUT
    assert json.loads(stdout)["error"]["message"]
    assert stderr.startswith("error:")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["shape", "²", "-k", "3"], "size must be written with the ASCII digits 0-9"),
        (["shape", "5", "-k", "3", "--in-channels", "٣", "--out-channels", "3"], "in_channels must be"),
        (["chain", "conv k3 s2", "--range", "²:5"], "range must be written with the ASCII digits"),
        (["sweep", "--sizes", "፩"], "sizes must be written with the ASCII digits"),
        (["solve", "5", "①"], "target must be written with the ASCII digits"),
        (["shape", "5", "-k", "3", "--in-channels", "7" * 2200, "--out-channels", "7"], "at most 100 digits"),
        (["verify", "5", "-k", "3", "--seed", "-1"], "seed must be an integer from 0"),
        (["sweep", "--seed", "-5"], "seed must be an integer from 0"),
        (["port", "5", "-k", "3", "--from", "pytorch", "--to", "keras", "--verify", "--seed", "-1"], "seed"),
    ],
)
def test_bad_values_are_refused_with_exit_2_naming_the_parameter(argv: list[str], message: str) -> None:
    for as_json in (False, True):
        code, stdout, stderr = _run(argv + (["--json"] if as_json else []))
        assert code == ExitCode.INVALID_INPUT, stdout
        assert message in " ".join(stderr.split())
        if as_json:
            assert message in json.loads(stdout)["error"]["message"]


def test_a_100_digit_target_is_answered_without_overflow() -> None:
    code, stdout, stderr = _run(["solve", "5", "9" * 100, "--json"])
    assert code == ExitCode.OK, stderr
    assert json.loads(stdout)["answers"] == []


# ---------------------------------------------------------------------------------------------------
# The heavy cases, each in its own resource-limited process.

MEMORY = 300 * 2**20
CPU_SECONDS = 2


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def _long_chain(axes: int) -> str:
    kernel = "x".join(["3"] * axes)
    return " | ".join([f"conv k{kernel} s2 p1"] * 12 + [f"conv k{kernel} p1"] * 244)


def _files(directory: Path) -> dict[str, str]:
    fifo = directory / "fifo.json"
    os.mkfifo(fifo)
    zero = directory / "zero.json"
    zero.symlink_to("/dev/zero")
    nested_json = directory / "nested.json"
    nested_json.write_text('{"layers": ' + "[" * 1000 + "]" * 1000 + "}")
    nested_toml = directory / "nested.toml"
    nested_toml.write_text("layers = " + "[" * 500 + "]" * 500 + "\n")
    return {"fifo": str(fifo), "zero": str(zero), "json": str(nested_json), "toml": str(nested_toml)}


HEAVY = {
    "solve fixed kernel": ["solve", "14", "2", "--conv", "-k", "1" + "0" * 18],
    "solve fixed dilation": ["solve", "20", "81", "-d", "1000000"],
    "solve across axes": ["solve", "26x25x24", "87", "--max-dilation", "64"],
    "solve 100-digit target": ["solve", "5", "9" * 100],
    "chain range": ["chain", "conv k3 s2", "--range", "1:100000000000"],
    "chain 256 layers, one axis": ["chain", _long_chain(1)],
    "chain 256 layers, two axes": ["chain", _long_chain(2)],
    "chain FIFO": ["chain", "{fifo}"],
    "chain /dev/zero": ["chain", "{zero}"],
    "chain nested JSON": ["chain", "{json}"],
    "chain nested TOML": ["chain", "{toml}"],
    "verify 12 axes": [
        "verify",
        "x".join(["1"] * 12),
        "-k",
        "3",
        "-s",
        "3",
        "-p",
        "1",
        "--output-padding",
        "2",
    ],
    "explain 10^17": ["explain", "1" + "0" * 17, "-k", "3", "-t"],
    "chain 40,000-character spec": ["chain", "conv " + "k3 " * 13_000, "--json"],
    "chain 256 layers, 4-D, range": [
        "chain",
        " | ".join(["avgpool k1x2 s1"] * 256),
        "58x197x193x107",
        "--range",
        "0:0",
    ],
    "explain padding 10^7": ["explain", "2", "-k", "4", "-s", "2", "-p", "10000000"],
    "explain padding 5000": ["explain", "2", "-k", "4", "-s", "2", "-p", "5000"],
    "sweep 300 characters": ["sweep", "--sizes", ",".join(["1-999999"] * 33)],
    "sweep work": ["sweep", "--sizes", "1-50", "--kernel-sizes", "1-8", "--strides", "1-4", "--ndims", "1-3"],
    "in-channels 2,200 digits": ["shape", "5", "-k", "3", "--in-channels", "7" * 2200, "--out-channels", "7"],
}


@pytest.mark.parametrize("name", sorted(HEAVY))
def test_heavy_cases_answer_or_refuse_within_2_cpu_seconds_and_300_mb(name: str, tmp_path: Path) -> None:
    files = _files(tmp_path)
    argv = [arg.format(**files) if arg.startswith("{") else arg for arg in HEAVY[name]]
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,  # a hang (a FIFO read) fails here; CPU time is bounded by RLIMIT_CPU
        preexec_fn=_limits,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert done.returncode in (ExitCode.OK, ExitCode.INVALID_INPUT), (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    if done.returncode == ExitCode.INVALID_INPUT:
        assert "error" in done.stderr.lower()
