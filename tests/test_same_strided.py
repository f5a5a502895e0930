"""`shape -p same` with a stride: convcalc applies TensorFlow's and Keras's 'same', which PyTorch refuses,
and says so in the first line and above the tables.

Witnesses: torch itself refusing ``Conv1d/Conv2d(padding='same', stride=2)`` (live, when torch is
installed), TensorFlow's documented 'SAME' rule worked by hand (tf.nn, "Notes on padding": output
ceil(i/s), total max((o-1)*s + K - i, 0), the odd element at the end; a TensorFlow run with k=4 gave
the pads (1, 2), shared/reference/framework-semantics.md), and torch executing the pads convcalc names.
"""

from __future__ import annotations

import importlib.util
import json
import math

import pytest
from typer.testing import CliRunner

import convcalc
from convcalc.cli import app

runner = CliRunner()
NEEDS_TORCH = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is the witness")

# (size, kernel, stride, dilation) -> TensorFlow's (before, after), worked by hand from the TF docs.
TF_SAME = {
    (64, 3, 2, 1): (0, 1),  # o = 32, total = 31*2 + 3 - 64 = 1
    (7, 4, 2, 1): (1, 2),  # o = 4, total = 3*2 + 4 - 7 = 3: the TensorFlow run's (1, 2)
    (10, 3, 3, 2): (2, 2),  # K = 5, o = 4, total = 3*3 + 5 - 10 = 4
    (5, 2, 4, 1): (0, 1),  # o = 2, total = 1*4 + 2 - 5 = 1
    (6, 1, 4, 1): (0, 0),  # o = 2, total = max(1*4 + 1 - 6, 0) = 0: no padding at all
}


def text(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


@pytest.mark.parametrize(("case", "pads"), TF_SAME.items(), ids=str)
def test_strided_same_is_tensorflows_rule(case: tuple[int, int, int, int], pads: tuple[int, int]) -> None:
    size, k, s, d = case
    report = convcalc.shape(size, k, stride=s, dilation=d, padding="same")
    axis = report.conv[0]
    assert (axis.pad_before, axis.pad_after) == pads
    assert axis.output == math.ceil(size / s)


def test_the_output_says_which_same_it_applied_and_that_pytorch_refuses_it() -> None:
    out = text("shape", "64", "-k", "3", "-s", "2", "-p", "same")
    first = out.split(". ")[0]
    assert "TensorFlow's padding 'same', which PyTorch refuses with stride 2" in first
    assert "'same' here is TensorFlow's and Keras's: output ceil(i/s), pads 0:1" in out
    assert "add --framework keras or --framework tensorflow" in out
    document = json.loads(
        runner.invoke(app, ["shape", "64", "-k", "3", "-s", "2", "-p", "same", "--json"]).stdout
    )
    assert "PyTorch refuses" in document["headline"]
    # One strided axis is enough; explain's first line says it too.
    assert "PyTorch refuses with stride 2x1" in text("shape", "64x48", "-k", "3", "-s", "2x1", "-p", "same")
    assert "PyTorch refuses" in text(
        "explain", "8", "-k", "3", "-s", "2", "-p", "same", "--section", "matrix"
    )


def test_same_with_stride_1_is_pytorchs_own_and_carries_no_note() -> None:
    out = text("shape", "64", "-k", "4", "-p", "same")
    assert "padding 'same')" in out and "TensorFlow" not in out and "refuses" not in out


@NEEDS_TORCH
def test_torch_refuses_what_the_note_quotes() -> None:
    import torch

    for layer in (torch.nn.Conv1d, torch.nn.Conv2d):
        with pytest.raises(
            ValueError, match="padding='same' is not supported for strided convolutions"
        ) as raised:
            layer(1, 1, 3, stride=2, padding="same")
        assert str(raised.value) in text("shape", "64", "-k", "3", "-s", "2", "-p", "same")


@NEEDS_TORCH
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel lengths")
@pytest.mark.parametrize("case", [*TF_SAME, (9, 4, 1, 1), (9, 3, 1, 2), (8, 2, 1, 1)], ids=str)
def test_torch_runs_the_pads_convcalc_names(case: tuple[int, int, int, int]) -> None:
    """Padding x by convcalc's pads and convolving with the stride gives convcalc's output; with stride 1
    it gives exactly what torch's own padding='same' gives (values, not only the size)."""
    import torch

    size, k, s, d = case
    axis = convcalc.shape(size, k, stride=s, dilation=d, padding="same").conv[0]
    x = torch.randn(1, 1, size, generator=torch.Generator().manual_seed(size * 31 + k), dtype=torch.float64)
    w = torch.randn(1, 1, k, generator=torch.Generator().manual_seed(k), dtype=torch.float64)
    padded = torch.nn.functional.pad(x, (axis.pad_before, axis.pad_after))
    ours = torch.nn.functional.conv1d(padded, w, stride=s, dilation=d)
    assert ours.shape[-1] == axis.output
    if s == 1:
        theirs = torch.nn.functional.conv1d(x, w, padding="same", dilation=d)
        torch.testing.assert_close(ours, theirs)
