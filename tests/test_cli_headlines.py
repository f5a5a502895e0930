"""What a person sees: the answer in one line first, the same line in JSON, nothing cut at any width.

The eight questions of issue 12, each answered by one command whose headline holds the answer; each
answer is also witnessed independently (a hand-worked value from PyTorch's documented size formula, a
brute-force count, or torch itself when it is installed).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ExitCode

runner = CliRunner()


def invoke(*args: str, width: int = 80) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(width), "NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def headline(*args: str, exit_code: int = ExitCode.OK) -> str:
    """The first line of the answer, read from JSON (the text's first lines carry the same words)."""
    code, out, _ = invoke(*args, "--json")
    assert code == exit_code, out
    doc = json.loads(out)
    code, text, _ = invoke(*args, width=400)
    assert text.splitlines()[0] == doc["headline"]
    return str(doc["headline"])


def transposed_size(i: int, k: int, s: int, p: int, op: int = 0, d: int = 1) -> int:
    """PyTorch's documented ConvTranspose size: (i-1)*s - 2p + d*(k-1) + op + 1."""
    return (i - 1) * s - 2 * p + d * (k - 1) + op + 1


def conv_size(i: int, k: int, s: int, p: int) -> int:
    """PyTorch's documented Conv size: floor((i + 2p - k) / s) + 1."""
    return (i + 2 * p - k) // s + 1


# 1. Why does my decoder give 63 and not 64?
def test_why_63_and_not_64() -> None:
    line = headline("shape", "32", "-k", "3", "-s", "2", "-p", "1", "-t")
    assert transposed_size(32, 3, 2, 1) == 63 and transposed_size(32, 3, 2, 1, op=1) == 64
    assert line == "transposed 32 -> 63 (k3 s2 p1). output_padding=1 gives 64; sizes 63..64 are reachable."


# 2. What output_padding is, and why it must stay below the stride.
def test_what_output_padding_is_and_why_below_the_stride() -> None:
    line = headline("shape", "64", "-k", "3", "-s", "2", "-p", "1")
    # Brute force: exactly `stride` input sizes share the convolution's output 32.
    sharing = [w for w in range(1, 200) if conv_size(w, 3, 2, 1) == 32]
    assert sharing == [63, 64]
    assert "the 2 inputs 63..64 all give 32" in line
    assert "output_padding (below the stride 2) picks one of them: output_padding=1 restores 64" in line


def test_a_2d_headline_counts_every_combination_of_the_colliding_sizes() -> None:
    line = headline("shape", "64x63", "-k", "3", "-s", "2x3", "-p", "1")
    # Brute force over 2-D inputs: every (h, w) with the same output as 64x63.
    sharing = [
        (h, w)
        for h in range(1, 100)
        for w in range(1, 100)
        if (conv_size(h, 3, 2, 1), conv_size(w, 3, 3, 1)) == (32, 21)
    ]
    assert len(sharing) == 6
    assert "the 6 inputs (2x3 per axis) 63x61..64x63 all give 32x21" in line


# 3. Why C^T y is not the gradient.
def test_why_c_transpose_y_is_not_the_gradient() -> None:
    line = headline("explain", "4x4", "-k", "3", "--section", "matrix")
    assert "It computes C^T y; the gradient of the convolution is C^T g with g = dL/dy" in line
    assert "(here they differ)" in line


# 4. Why the direct convolution needs the flipped kernel.
def test_why_the_direct_form_flips_the_kernel() -> None:
    line = headline("explain", "3", "-k", "3", "-s", "2", "-t", "--section", "direct")
    # Hand-worked: the stretched input has s-1 = 1 zero between elements, padded by K-1-p = 2 each side.
    assert "1 zero(s) between inputs, padding 2:2, stride 1, and the kernel flipped" in line
    assert "unflipped gives different numbers" in line


# 5. Where the checkerboard comes from (kernel 4, stride 3) and what to use instead.
def test_where_the_checkerboard_comes_from() -> None:
    line = headline("explain", "3x3", "-k", "4", "-s", "3", "-t", "--section", "overlap")
    # Brute force: output position u*s + t of a 1-D transposed convolution, counted over (u, t).
    counts = [0] * transposed_size(3, 4, 3, 0)
    for u in range(3):
        for t in range(4):
            counts[u * 3 + t] += 1
    interior = counts[3:-3]
    assert (min(interior) ** 2, max(interior) ** 2) == (1, 4)
    assert (
        "Checkerboard: interior outputs receive 1 to 4 contributions (stride 3 does not divide kernel 4)"
        in line
    )
    assert "instead: k6 s3 p1 op0 (same size 10x10, even overlap)" in line
    assert transposed_size(3, 3, 3, 0, op=1) == 10


# 6. How to port Keras 'same' to PyTorch exactly.
def test_port_keras_same_to_pytorch() -> None:
    args = ("port", "16x16", "-k", "3", "-s", "2", "-p", "same", "-t", "--from", "keras", "--to", "pytorch")
    line = headline(*args)
    assert line.startswith(
        "Keras -> PyTorch: not equal as it stands; equal in shape and in values after the fix"
    )
    assert "axis 0: remove the last 1 output element(s)" in line
    # Keras 'same' gives i*s = 32; PyTorch k3 s2 p0 gives 33, one too many at the end.
    assert transposed_size(16, 3, 2, 0) == 33


# 7. Which layer maps size A to size B.
def test_which_layer_maps_32_to_64() -> None:
    line = headline("solve", "32", "64")
    assert line.startswith("transposed convolution 32 -> 64: best k2 s2 p0 op0 (even coverage")
    assert transposed_size(32, 2, 2, 0) == 64


# 8. Whether an encoder-decoder restores its input size.
def test_whether_an_encoder_decoder_restores_its_input() -> None:
    layers = "conv k3 s2 p1 | conv k3 s2 p1 | tconv k3 s2 p1 op1 | tconv k3 s2 p1 op1"
    line = headline("chain", layers, "63", exit_code=ExitCode.VERIFICATION_FAILED)
    size = 63
    for _ in range(2):
        size = conv_size(size, 3, 2, 1)
    for _ in range(2):
        size = transposed_size(size, 3, 2, 1, op=1)
    assert size == 64
    assert line.startswith("input 63 -> output 64; not restored")
    assert "nearest inputs that restore every skip: 60 or 64" in line
    assert headline("chain", layers, "64") == "input 64 -> output 64; every skip connection matches (2)."


def test_the_eight_answers_agree_with_torch() -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    with torch.no_grad():
        y = nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1)(torch.zeros(1, 1, 32))
        assert y.shape[-1] == 63
        y = nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1, output_padding=1)(torch.zeros(1, 1, 32))
        assert y.shape[-1] == 64
        assert nn.ConvTranspose1d(1, 1, 2, stride=2)(torch.zeros(1, 1, 32)).shape[-1] == 64
        x = torch.zeros(1, 1, 63)
        for layer in (nn.Conv1d(1, 1, 3, 2, 1), nn.Conv1d(1, 1, 3, 2, 1)):
            x = layer(x)
        for layer in (nn.ConvTranspose1d(1, 1, 3, 2, 1, 1), nn.ConvTranspose1d(1, 1, 3, 2, 1, 1)):
            x = layer(x)
        assert x.shape[-1] == 64


# --- nothing cut at any width ------------------------------------------------------------------------

COMMANDS = [
    ("shape", "63", "-k", "4", "-s", "2", "-p", "1", "--output-padding", "1"),
    ("shape", "32x32", "-k", "3", "-s", "2", "-p", "1", "-t", "--in-channels", "64", "--out-channels", "32"),
    ("shape", "5", "-k", "3", "-s", "2", "-p", "same", "-t", "-f", "paddle"),
    ("explain", "8x8", "-k", "4", "-s", "2", "-p", "1", "-t", "--section", "direct"),
    ("explain", "5x5", "-k", "3", "-s", "2", "--section", "matrix"),
    ("explain", "3x3", "-k", "4", "-s", "3", "-t", "--section", "overlap"),
    ("explain", "3", "-k", "3", "-s", "2", "-t", "--section", "contributions"),
    ("solve", "23x40", "46x80", "--top", "5"),
    ("solve", "64", "32"),
    ("chain", "conv k3 s2 p1 | pool k2 | tconv k3 s2 p1 op1 | up2 | conv k3 p1", "63"),
    ("port", "16x16", "-k", "3", "-s", "2", "-p", "same", "-t", "--from", "keras", "--to", "pytorch"),
    ("verify", "63", "-k", "4", "-s", "2", "-p", "1", "--in-channels", "4", "--out-channels", "2", "-g", "2"),
    ("sweep", "--sizes", "1-3", "--kernel-sizes", "1-3", "--ndims", "1"),
]


def numbers(document: Any) -> set[int]:
    """Every integer of a JSON document (booleans are not numbers)."""
    if isinstance(document, bool):
        return set()
    if isinstance(document, int):
        return {document}
    if isinstance(document, dict):
        return set().union(*(numbers(v) for v in document.values())) if document else set()
    if isinstance(document, list):
        return set().union(*(numbers(v) for v in document)) if document else set()
    return set()


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c[:3]) for c in COMMANDS])
def test_every_number_of_the_json_is_whole_in_the_text(args: tuple[str, ...], width: int) -> None:
    code, out, _ = invoke(*args, "--json")
    doc = json.loads(out)
    text_code, text, _ = invoke(*args, width=width)
    assert text_code == code
    assert text.splitlines()[0] and doc["headline"].startswith(text.splitlines()[0].rstrip()[:20])
    tokens = set(re.findall(r"(?<![\d.])-?\d[\d,]*(?![\d])", text))
    plain = {t.replace(",", "") for t in tokens} | tokens
    missing = sorted(n for n in numbers(doc) if str(n) not in plain and f"{n:,}" not in plain)
    assert not missing, f"numbers of the JSON not shown whole at {width} columns: {missing}"
    assert "…" not in text, "a cell was cut with an ellipsis"
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, f"lines wider than {width} columns: {too_wide[:3]}"


@pytest.mark.parametrize("width", [60, 80])
def test_table_titles_never_wrap_inside_a_table(width: int) -> None:
    _, text, _ = invoke("shape", "63", "-k", "4", "-s", "2", "-p", "1", width=width)
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("┏"):
            title = lines[n - 1]
            assert not title.startswith(("┃", "│", "└")), title
            # The title is printed whole on its own line, never wrapped to the table's width.
            assert title.rstrip() == title or len(title) <= width


def test_usage_errors_are_json_with_json() -> None:
    import subprocess
    import sys

    for args in (["shape", "--json"], ["shape", "3", "--bogus", "--json"]):
        proc = subprocess.run(
            [sys.executable, "-m", "convcalc", *args], capture_output=True, text=True, check=False
        )
        assert proc.returncode == ExitCode.INVALID_INPUT
        doc = json.loads(proc.stdout)
        assert doc["command"] == "shape" and doc["error"]["message"]
        assert doc["error"]["parameter"] in ("size", "--bogus")
        assert "error:" in proc.stderr


def test_help_wins_over_json_in_any_order() -> None:
    """`convcalc --json -h` is a request for help (as `convcalc -h --json` is), not a usage error."""
    import subprocess
    import sys

    for args in (["--json", "-h"], ["-h", "--json"], ["shape", "--json", "--help"]):
        proc = subprocess.run(
            [sys.executable, "-m", "convcalc", *args], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert "Usage" in proc.stdout and not proc.stdout.lstrip().startswith("{")


def test_h_and_an_example_in_every_help() -> None:
    for command in ("shape", "explain", "solve", "port", "verify", "sweep", "chain", "inspect"):
        code, out, _ = invoke(command, "-h", width=120)
        assert code == 0 and "Examples:" in out and f"$ convcalc {command}" in out
        lines = [line.strip() for line in out.splitlines()]
        for n, line in enumerate(lines):
            if line.startswith("$ convcalc"):
                # Each example says what it shows, on the line above it.
                assert lines[n - 1].endswith(":") and len(lines[n - 1]) > len("Examples:"), (command, line)


def test_shell_completion_answers() -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "_CONVCALC_COMPLETE": "complete_bash",
        "COMP_WORDS": "convcalc sh",
        "COMP_CWORD": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc"], capture_output=True, text=True, env=env, check=False
    )
    assert proc.stdout.split() == ["shape"]
    env |= {"COMP_WORDS": "convcalc shape 3 --out", "COMP_CWORD": "3"}
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc"], capture_output=True, text=True, env=env, check=False
    )
    assert set(proc.stdout.split()) == {"--output-padding", "--out-channels", "--output-size"}
