"""`chain` past MAX_PERIOD (a product of strides above 4096): a given size is answered, as `inspect` answers
it: every layer's size, the skip pairs and the exit code, with the accepted sizes "not worked out" and
the reason in words; without a size (the default input needs the accepted sizes) it still refuses.

Witness: torch running the chain's layers in turn (Conv1d / ConvTranspose1d) at the given size.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from convcalc.chain.stack import MAX_PERIOD
from convcalc.cli import app

DEPTH = 13  # 2**13 = 8192 > MAX_PERIOD
SPEC = " | ".join(["conv k3 s2 p1"] * DEPTH + ["tconv k3 s2 p1 op1"] * DEPTH)


def _torch_sizes(size: int) -> list[int]:
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 1, size)
    out = []
    with torch.no_grad():
        for _ in range(DEPTH):
            x = torch.nn.Conv1d(1, 1, 3, 2, 1)(x)
            out.append(int(x.shape[2]))
        for _ in range(DEPTH):
            x = torch.nn.ConvTranspose1d(1, 1, 3, 2, 1, output_padding=1)(x)
            out.append(int(x.shape[2]))
    return out


@pytest.mark.parametrize("size", [9000, 8192, 3])
def test_a_given_size_is_answered_past_the_period_limit(size: int) -> None:
    assert 2**DEPTH > MAX_PERIOD
    result = CliRunner().invoke(app, ["chain", SPEC, str(size), "--json"])
    document = json.loads(result.stdout)
    assert [layer["output"][0] for layer in document["layers"]] == _torch_sizes(size)
    restored = all(all(pair["restored"]) for pair in document["pairs"])
    assert result.exit_code == (0 if restored else 1)
    (axis,) = document["accepted"]
    assert axis["restores"] is None and axis["exact"] is None and axis["listed"] is None
    assert axis["note"] == (
        "not worked out, because the product of the strides on this axis is 8192; the accepted sizes are "
        f"worked out for products up to {MAX_PERIOD}"
    )
    assert axis["minimum"] == 1  # every size runs: k3 s2 p1 gives 1 from 1
    assert "nearest inputs that restore every skip: not worked out" in document["headline"] or restored


def test_the_tables_say_not_worked_out_and_why() -> None:
    result = CliRunner().invoke(app, ["chain", SPEC, "9000x64"], env={"COLUMNS": "80"})
    assert result.exit_code == 1, result.output
    words = " ".join(result.output.split())
    assert "nearest inputs that restore every skip per axis: not worked out; not worked out." in words
    assert "axis 0: not worked out, because the product of the strides on this axis is 8192" in words
    assert "axis 1: not worked out, because the product of the strides on this axis is 8192" in words


def test_without_a_size_it_refuses_and_says_to_give_one() -> None:
    result = CliRunner().invoke(app, ["chain", SPEC, "--json"])
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert message == (
        f"the product of the strides on axis 0 is 8192; the accepted sizes are worked out for products up "
        f"to {MAX_PERIOD}: give an input size to have every layer's size for it"
    )


def test_a_size_too_small_for_a_layer_names_where_the_chain_runs_from() -> None:
    spec = " | ".join(["conv k5 s2"] * DEPTH)
    result = CliRunner().invoke(app, ["chain", spec, "7", "--json"])
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    # k5 s2 without padding: o = (i - 5)//2 + 1 >= 1 from i = 5; through 13 layers from 2**15 - 3
    smallest = 5
    for _ in range(DEPTH - 1):
        smallest = 2 * smallest + 3
    assert message.endswith(f"; the chain runs from size {smallest}")
