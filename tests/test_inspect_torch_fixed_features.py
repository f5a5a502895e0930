"""A Linear layer on a flattened map takes one size per class, not every size past a minimum.

A model captured again at each size fails where torch refuses its Linear, on both sides of the sizes
that fit, so the doubling search for the smallest size that runs (right for windows that outgrow their
input) never met one: the report said "the model runs on 9x8" and then "no size runs". Witness: eager
torch over a sweep; where convcalc works the sizes out they are torch's, and otherwise it says "not
worked out", never "no size runs" for a size it has just run (found by a fresh-eyes review).
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import convcalc  # noqa: E402

SWEEP = range(1, 41)


class PooledLinear(nn.Module):
    """Conv s2 p1, the mean over W, a Linear on the flattened (4, H') map: torch runs H = 9 and 10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.head = nn.Linear(4 * 5, 3)

    def forward(self, x: Any) -> Any:
        return self.head(self.conv(x).mean(3).flatten(1))


class RowLinear(nn.Module):
    """Conv k3 s2, flatten(2), a Linear on H' x W': with W = 5, torch runs H = 13 and 14."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, stride=2)
        self.head = nn.Linear(12, 4)

    def forward(self, x: Any) -> Any:
        return self.head(self.conv(x).flatten(2))


def pooled() -> nn.Module:
    return PooledLinear()


def rows() -> nn.Module:
    return RowLinear()


def torch_runs(model: Any, width: int) -> set[int]:
    runs = set()
    for size in SWEEP:
        try:
            with torch.no_grad():
                model(torch.zeros(1, 1, size, width))
        except RuntimeError:
            continue
        runs.add(size)
    return runs


@pytest.mark.parametrize(("name", "width", "given"), [("pooled", 8, 9), ("rows", 5, 9), ("rows", 5, 13)])
def test_a_linear_on_a_flattened_map_is_never_no_size_runs(name: str, width: int, given: int) -> None:
    truth = torch_runs(globals()[name]().eval(), width)
    report = convcalc.inspect(f"{__file__}:{name}", input=f"1x1x{given}x{width}")
    (axis,) = [a for a in report.axes if a.tensor_axis == 2]
    assert truth, "some size runs"
    if axis.runs is None:
        assert axis.note is not None and axis.note.startswith("not worked out"), axis.note
    else:
        assert {size for size in SWEEP if axis.runs.contains(size)} == truth
    assert axis.note != "no size runs"
