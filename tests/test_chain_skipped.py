"""`chain`'s "reads to the end" looks at the end of each input only; a layer whose kernel's taps miss some
phases of its stride never reads those elements anywhere inside the input, and the report says so.

Witnesses: torch's gradient (an input element that no window reads gets a zero gradient from a
convolution with all-one weights, and from an average pooling), over small sizes, kernels, strides,
dilations and paddings; and a brute force of which indices the windows reach, written from the
convolution-arithmetic definition (window o reads o*s - p + j*d, j < k).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from convcalc.chain.stack import skipped_phases
from convcalc.cli import app

runner = CliRunner()


def _interior(n: int, k: int, s: int, d: int, p: int) -> tuple[int, int]:
    """The inputs every tap of the windows around them can reach: [d*(k-1) - p, (out-1)*s - p]."""
    out = (n + 2 * p - d * (k - 1) - 1) // s + 1
    return d * (k - 1) - p, (out - 1) * s - p


def _brute_unread(n: int, k: int, s: int, d: int, p: int) -> set[int]:
    out = (n + 2 * p - d * (k - 1) - 1) // s + 1
    read = {o * s - p + j * d for o in range(out) for j in range(k)}
    return set(range(n)) - read


CASES = [(k, s, d, p) for k in range(1, 5) for s in range(1, 5) for d in range(1, 4) for p in range(0, 2)]


@pytest.mark.parametrize(("k", "s", "d", "p"), CASES)
def test_the_skipped_phases_are_what_the_windows_never_reach_inside_the_input(
    k: int, s: int, d: int, p: int
) -> None:
    skipped = skipped_phases(k, s, d)
    for n in range(2 * d * (k - 1) + 4 * s + 1, 2 * d * (k - 1) + 6 * s + 2):
        low, high = _interior(n, k, s, d, p)
        unread = _brute_unread(n, k, s, d, p)
        blocks = range(low, high - s + 2)
        assert blocks, (n, k, s, d, p)
        for start in blocks:  # every s consecutive inputs inside: the same count
            assert len(unread & set(range(start, start + s))) == skipped, (n, k, s, d, p, start)


@pytest.mark.parametrize(("k", "s", "d", "p"), [c for c in CASES if c[3] <= (c[0] - 1) * c[2] // 2])
def test_torch_reads_no_more_and_no_fewer(k: int, s: int, d: int, p: int) -> None:
    torch = pytest.importorskip("torch")
    n = d * (k - 1) + 5 * s + 3
    x = torch.ones(1, 1, n, requires_grad=True)
    conv = torch.nn.functional.conv1d(x, torch.ones(1, 1, k), stride=s, padding=p, dilation=d)
    conv.sum().backward()
    assert x.grad is not None
    unread = {i for i in range(n) if x.grad[0, 0, i] == 0}
    assert unread == _brute_unread(n, k, s, d, p)
    if d == 1 and p <= k // 2:  # average pooling reads the same windows
        y = torch.ones(1, 1, n, requires_grad=True)
        torch.nn.functional.avg_pool1d(y, k, s, p).sum().backward()
        assert y.grad is not None
        assert {i for i in range(n) if y.grad[0, 0, i] == 0} == _brute_unread(n, k, s, 1, p)


def test_the_report_names_each_layer_that_skips_and_the_json_counts() -> None:
    layers = "conv k3 p1 | conv k1 s2 | pool k2 | conv k2 s2 d2 | conv k3 s2x1 d2"
    result = runner.invoke(app, ["chain", layers, "64x64"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    text = " ".join(result.stdout.split())
    assert "reads to the end" in text
    assert "layer 2 (conv k1 s2) never reads 1 of every 2 input elements, at any size" in text
    assert "layer 4 (conv k2 s2 d2) never reads 1 of every 2 input elements, at any size" in text
    assert "layer 5 (conv k3 s2x1 d2) never reads 1 of every 2 input elements on axis 0, at any size" in text
    assert "layer 1 " not in text and "layer 3 " not in text  # k3 s1 and pool k2 s2 read every element
    document = json.loads(runner.invoke(app, ["chain", layers, "64x64", "--json"]).stdout)
    assert [layer["skipped"] for layer in document["layers"]] == [[0, 0], [1, 1], [0, 0], [1, 1], [1, 0]]
