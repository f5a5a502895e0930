"""explain's headline spells the layer with its output_padding; torch gives the size it states."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from convcalc.cli import app


@pytest.mark.parametrize(("size", "k", "s", "p", "op"), [(4, 3, 2, 1, 1), (5, 4, 3, 0, 2), (6, 3, 2, 1, 0)])
def test_headline_names_output_padding_and_torch_size(size: int, k: int, s: int, p: int, op: int) -> None:
    torch = pytest.importorskip("torch")
    out = torch.nn.ConvTranspose1d(1, 1, k, s, p, op)(torch.zeros(1, 1, size)).shape[-1]
    args = [str(size), "-k", str(k), "-s", str(s), "-p", str(p), "--output-padding", str(op), "-t", "--json"]
    headline = json.loads(CliRunner().invoke(app, ["explain", *args]).stdout)["headline"]
    spelled = f"k{k} s{s} p{p}" + (f" op{op}" if op else "")
    assert headline.startswith(f"transposed {size} -> {out} ({spelled}).")


@pytest.mark.parametrize(("size", "k", "s", "layers"), [(3, 4, 3, 2), (4, 3, 2, 3)])
def test_stacked_headline_gives_the_stack_sizes_torch_runs(size: int, k: int, s: int, layers: int) -> None:
    torch = pytest.importorskip("torch")
    sizes = [size]
    for _ in range(layers):
        sizes.append(torch.nn.ConvTranspose1d(1, 1, k, s)(torch.zeros(1, 1, sizes[-1])).shape[-1])
    args = [str(size), "-k", str(k), "-s", str(s), "-t", "--layers", str(layers), "--section", "overlap"]
    result = CliRunner().invoke(app, ["explain", *args, "--json"])
    headline = json.loads(result.stdout)["headline"]
    chain = " -> ".join(map(str, sizes))
    assert headline.startswith(f"{layers} stacked transposed layers (k{k} s{s} p0 each): {chain}.")
    assert "layer 0" not in headline and "instead for layer 1:" in headline
    text = CliRunner().invoke(app, ["explain", *args]).stdout
    assert "for layer 1;" in text and "layer 0" not in text
