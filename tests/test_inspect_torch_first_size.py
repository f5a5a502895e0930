"""The sizes a PyTorch model runs at, when none of the powers of two does (a new user's find).

The PyTorch route re-executes a model whose capture ended where torch refused the given input, and a
re-executed run that torch refuses at a merge fails. Such failures depend on a size's class, not on its
magnitude, so the doubling search for the smallest size that runs (right for layers, which refuse small
sizes only) skipped every odd size and answered "no size runs". Witness: eager torch over a sweep, every
size in both directions (runs where convcalc says it runs, and only there), and the ONNX export's own
answer when onnx is installed.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import convcalc  # noqa: E402

SWEEP = range(1, 41)


class DownUpAdd(nn.Module):
    """Down by a stride-2 convolution and back up, added to the input: torch runs odd sizes from 3 only
    (the transposed convolution returns 2*floor((H-3)/2) + 3)."""

    def __init__(self, resize: bool) -> None:
        super().__init__()
        self.resize = resize
        self.down = nn.Conv2d(1, 1, 3, stride=2)
        self.up = nn.ConvTranspose2d(1, 1, 3, stride=2)

    def forward(self, x: Any) -> Any:
        y = self.up(self.down(x)) + x
        return nn.functional.interpolate(y, size=x.shape[2:]) if self.resize else y


class TwoLevels(nn.Module):
    """Two stride-2 levels whose skip agrees only at H = 4q + 8 and 4q + 9."""

    def __init__(self) -> None:
        super().__init__()
        self.d1 = nn.Conv2d(2, 2, 4, stride=2)
        self.d2 = nn.Conv2d(2, 2, 3, stride=2)
        self.u2 = nn.ConvTranspose2d(2, 2, 3, stride=2)
        self.u1 = nn.ConvTranspose2d(4, 2, 4, stride=2)

    def forward(self, x: Any) -> Any:
        a = self.d1(x)
        b = self.u2(self.d2(a))
        return self.u1(torch.cat([a, b], 1))


def plain() -> nn.Module:
    return DownUpAdd(False)


def resized() -> nn.Module:
    return DownUpAdd(True)


def two_levels() -> nn.Module:
    return TwoLevels()


def torch_runs(model: Any, shape: list[int], axis: int) -> set[int]:
    runs = set()
    for size in SWEEP:
        x = list(shape)
        x[axis] = size
        try:
            with torch.no_grad():
                model(torch.zeros(x))
        except RuntimeError:
            continue
        runs.add(size)
    return runs


def reported_runs(report: Any, axis: int) -> tuple[set[int], int | None]:
    (answer,) = [a for a in report.axes if a.tensor_axis == axis]
    assert answer.runs is not None, answer.note
    held = re.search(r"held at (\d+)", answer.note or "")
    return {size for size in SWEEP if answer.runs.contains(size)}, int(held.group(1)) if held else None


@pytest.mark.parametrize(
    ("name", "channels", "given"),
    [("plain", 1, 10), ("resized", 1, 9), ("plain", 1, 9), ("two_levels", 2, 16), ("two_levels", 2, 17)],
)
def test_the_sizes_that_run_are_torchs_whether_or_not_the_given_one_runs(
    name: str, channels: int, given: int
) -> None:
    torch.manual_seed(0)
    model = globals()[name]().eval()
    report = convcalc.inspect(f"{__file__}:{name}", input=f"1x{channels}x{given}x{given}")
    answers = {axis: reported_runs(report, axis) for axis in (2, 3)}
    for axis, (runs, held) in answers.items():
        other = 5 - axis
        if held is None and not torch_runs(model, [1, channels, given, given], axis) & {given}:
            # the given size does not run and the report read the model past the refused merge (as
            # the ONNX reader does): each axis's sizes are those that run with the others at one that runs
            held = min(answers[other][0])
        shape = [1, channels, held or given, held or given]
        assert runs == torch_runs(model, shape, axis), (name, given, axis, held)
        assert runs, "some size runs"


@pytest.mark.parametrize("name", ["plain", "two_levels"])
def test_the_onnx_export_gives_the_same_sizes(name: str, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    channels = 2 if name == "two_levels" else 1
    shape = (1, channels, 17, 17) if name == "two_levels" else (1, channels, 9, 9)
    model = globals()[name]().eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(shape),), buffer, dynamo=False)
    path = tmp_path / "m.onnx"
    path.write_bytes(buffer.getvalue())
    given = "x".join(map(str, shape))
    from_onnx = convcalc.inspect(str(path), input=given)
    from_torch = convcalc.inspect(f"{__file__}:{name}", input=given)
    for a, b in zip(from_onnx.axes, from_torch.axes):
        assert a.runs == b.runs and a.accepted == b.accepted
