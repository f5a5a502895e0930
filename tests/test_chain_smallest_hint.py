"""A given size too small for a chain: the refusal names the layer and says the size the chain runs
from. Witness: torch executing the same layers at every size around it (refusing below, running from it)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

import convcalc
from convcalc.cli import app
from convcalc.errors import ConvCalcError, ExitCode

runner = CliRunner()


def _first_torch_size(forward: Callable[[int], object], limit: int = 64) -> int:
    """The smallest size torch runs these layers at (every larger one up to ``limit`` runs too)."""
    runs = []
    for size in range(1, limit):
        try:
            forward(size)
        except RuntimeError:
            runs.append(False)
        else:
            runs.append(True)
    first = runs.index(True) + 1
    assert all(runs[first - 1 :]), "torch runs every size from the first on"
    return first


def test_the_refusal_says_the_size_the_chain_runs_from() -> None:
    result = runner.invoke(app, ["chain", "conv k5 s1 | conv k5 s1", "3"])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stdout == ""
    assert "layer 1 (conv k5 s1)" in result.stderr
    assert result.stderr.rstrip().endswith("; the chain runs from size 9")
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    w = torch.ones(1, 1, 5)
    assert _first_torch_size(lambda n: f.conv1d(f.conv1d(torch.zeros(1, 1, n), w), w)) == 9


def test_each_axis_says_its_own_smallest_size_in_json() -> None:
    layers = "conv k3 s2 | pool k2 | conv k3x5"
    result = runner.invoke(app, ["chain", layers, "9x9", "--json"])
    assert result.exit_code == ExitCode.INVALID_INPUT
    error = json.loads(result.stdout)["error"]
    assert error["parameter"] == "size"
    assert error["message"].endswith("; the chain runs from size 13x21")
    torch = pytest.importorskip("torch")
    f = torch.nn.functional

    def forward(h: int, w: int) -> object:
        x = f.conv2d(torch.zeros(1, 1, h, w), torch.ones(1, 1, 3, 3), stride=2)
        return f.conv2d(f.max_pool2d(x, 2), torch.ones(1, 1, 3, 5))

    assert _first_torch_size(lambda n: forward(n, 64)) == 13
    assert _first_torch_size(lambda n: forward(64, n)) == 21


def test_a_size_that_runs_or_another_refusal_gets_no_hint() -> None:
    assert convcalc.chain("conv k5 s1 | conv k5 s1", 9).size == (9,)
    with pytest.raises(ConvCalcError, match=r"\(--channels\) and the layer's out channels \(c64\)$"):
        convcalc.chain("conv k3 c4 g2 | conv k5", 9)
