"""chain's headline against torch running the encoder/decoder pair on every input size near the given one.

The skip pair is restored on an axis when torch's ConvTranspose2d gives back the Conv2d's input size there;
the headline's per-axis inputs and its fix must agree with what torch does.
"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from convcalc.cli import app


def _torch_out(rows: int, cols: int, tk: int, op: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    torch = pytest.importorskip("torch")
    down = torch.nn.Conv2d(1, 1, 3, 2, 1)
    up = torch.nn.ConvTranspose2d(1, 1, tk, 2, 1, output_padding=op)
    shape = up(down(torch.zeros(1, 1, rows, cols))).shape
    return int(shape[2]), int(shape[3])


def _restores(size: int, axis: int, tk: int) -> bool:
    sizes = [16, 16]
    sizes[axis] = size
    return _torch_out(sizes[0], sizes[1], tk)[axis] == size


def _expected_words(given: int, axis: int, tk: int) -> str:
    if _restores(given, axis, tk):
        return f"{given} (as given)"
    below = next(s for s in range(given - 1, 0, -1) if _restores(s, axis, tk))
    above = next(s for s in range(given + 1, 2 * given) if _restores(s, axis, tk))
    return f"{below} or {above}"


@pytest.mark.parametrize(("tk", "rows", "cols"), [(4, 65, 64), (3, 65, 64), (3, 64, 64), (4, 64, 63)])
def test_headline_inputs_and_fix_agree_with_torch(tk: int, rows: int, cols: int) -> None:
    pytest.importorskip("torch")
    result = CliRunner().invoke(
        app, ["chain", f"conv k3 s2 p1 | tconv k{tk} s2 p1", f"{rows}x{cols}", "--json"]
    )
    headline = " ".join(json.loads(result.stdout)["headline"].split())
    got = _torch_out(rows, cols, tk)
    if got == (rows, cols):
        assert "every skip connection matches" in headline
        return
    words = "; ".join(_expected_words(size, axis, tk) for axis, size in enumerate((rows, cols)))
    assert headline.endswith(f"nearest inputs that restore every skip per axis: {words}.")
    # The fix the headline names, applied in torch, gives back the input on every axis.
    fix = headline[headline.index(f"input was {rows}x{cols} (") :].split(")")[0]
    ops = [0, 0]
    crops = [0, 0]
    for axis in range(2):
        if got[axis] == (rows, cols)[axis]:
            assert f"axis {axis}" not in fix
            continue
        match = re.search(
            rf"(?:axis {axis}: )?(output_padding=(\d+) on layer 2|crop the decoder output by (\d+))", fix
        )
        assert match, fix
        if match.group(2) is not None:
            ops[axis] = int(match.group(2))
        else:
            crops[axis] = int(match.group(3))
    fixed = _torch_out(rows, cols, tk, (ops[0], ops[1]))
    assert (fixed[0] - crops[0], fixed[1] - crops[1]) == (rows, cols)
