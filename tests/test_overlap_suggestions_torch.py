"""Checkerboard replacements: torch runs every suggested layer with ones, counting outputs that get nothing.

The empty counts convcalc reports must equal torch's, and a replacement that leaves outputs empty must
never be ranked before one that covers every output.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from convcalc.cli import app


def _torch_empty(
    size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    torch = pytest.importorskip("torch")
    layer = torch.nn.ConvTranspose1d(
        1, 1, kernel, stride, padding, output_padding, bias=False, dilation=dilation
    )
    with torch.no_grad():
        layer.weight.fill_(1.0)
        out = layer(torch.ones(1, 1, size))[0, 0]
    return int((out == 0).sum())


@pytest.mark.parametrize(
    ("size", "options"),
    [
        ("3x3", ["-k", "4", "-s", "3"]),
        ("8x8", ["-k", "3", "-s", "2"]),
        ("5", ["-k", "5", "-s", "3"]),
        ("4x6", ["-k", "3x5", "-s", "2x4"]),
        ("6", ["-k", "3", "-s", "2", "-d", "2"]),
        ("7", ["-k", "4", "-s", "3", "-p", "1"]),
    ],
)
def test_suggestions_count_empty_outputs_like_torch_and_cover_first(size: str, options: list[str]) -> None:
    pytest.importorskip("torch")
    result = CliRunner().invoke(app, ["explain", size, *options, "-t", "--section", "overlap", "--json"])
    assert result.exit_code == 0, result.output
    suggestions = json.loads(result.stdout)["overlap"]["suggestions"]
    assert suggestions
    sizes = [int(v) for v in size.split("x")]
    covers = []
    for s in suggestions:
        if s["kind"] != "kernel":
            covers.append(True)
            continue
        empty = [
            _torch_empty(
                sizes[n],
                s["kernel_size"][n],
                s["stride"][n],
                s["padding"][n],
                s["output_padding"][n],
                s["dilation"][n],
            )
            for n in range(len(sizes))
        ]
        assert s["empty_outputs"] == empty
        covers.append(not any(empty))
    # Every covering option comes before every option that leaves an output empty.
    assert covers == sorted(covers, reverse=True)


def test_the_headline_replacement_for_the_readme_case_covers_every_output() -> None:
    pytest.importorskip("torch")
    result = CliRunner().invoke(app, ["explain", "3x3", "-k", "4", "-s", "3", "-t", "--section", "overlap"])
    headline = " ".join(result.stdout.split("\n\n")[0].split())
    assert "instead: k6 s3 p1 op0 (same size 10x10, even overlap)" in headline
    assert _torch_empty(3, 6, 3, 1, 0, 1) == 0 and _torch_empty(3, 3, 3, 0, 1, 1) == 1
