"""inspect's fix for a U-Net skip mismatch names the decoder side and keeps the model's output size.

Witness: PyTorch running the tester's U-Net (tests/trial unet.py) with the crops inspect suggests applied
to the decoder operand of each skip concatenation, at the odd input size that failed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

sys.path.insert(0, str(Path(__file__).parent))
import inspect_models as im  # noqa: E402

from convcalc.inspect.analysis import inspect_graph  # noqa: E402
from convcalc.inspect.onnx_reader import read_onnx  # noqa: E402

nn = torch.nn


class UNet(nn.Module):
    def __init__(self, crops: tuple[tuple[int, int], ...] = ((0, 0), (0, 0))) -> None:
        super().__init__()
        self.crops = crops
        self.e1 = nn.Conv2d(3, 4, 3, padding=1)
        self.d1 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.d2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.u2 = nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1)
        self.u1 = nn.ConvTranspose2d(16, 4, 4, stride=2, padding=1)
        self.out = nn.Conv2d(8, 1, 1)

    @staticmethod
    def _crop(u: Any, crop: tuple[int, int]) -> Any:
        if crop == (0, 0):
            return u  # exported as is: no shape arithmetic in the graph inspect reads
        return u[:, :, : u.shape[2] - crop[0], : u.shape[3] - crop[1]]

    def forward(self, x: Any) -> Any:
        a = torch.relu(self.e1(x))
        b = torch.relu(self.d1(a))
        c = torch.relu(self.d2(b))
        u = torch.cat([self._crop(self.u2(c), self.crops[0]), b], 1)
        u = torch.cat([self._crop(self.u1(u), self.crops[1]), a], 1)
        return self.out(u)


@pytest.mark.parametrize("size", [(65, 64), (66, 63), (67, 65)])
def test_following_the_decoder_crops_runs_and_keeps_the_output_size(
    size: tuple[int, int], tmp_path: Path
) -> None:
    torch.manual_seed(0)
    path = tmp_path / "unet.onnx"
    path.write_bytes(im.export(UNet(), (1, 3, 64, 64)))
    shape = (1, 3, *size)
    report = inspect_graph(read_onnx(path), (shape,))
    assert len(report.merges) == 2
    crops = []
    for merge in report.merges:
        fix = merge.fixes[0]
        assert re.match(r"crop operand 1, the decoder side \(", fix), fix
        amounts = dict.fromkeys((0, 1), 0)  # spatial axes: rows, columns
        for axis, amount in re.findall(r"axis (\d): crop (\d+) at the end", fix):
            amounts[int(axis)] = int(amount)
        crops.append((amounts[0], amounts[1]))
    with torch.no_grad():
        with pytest.raises(RuntimeError):
            UNet()(torch.zeros(shape))
        out = UNet(tuple(crops))(torch.zeros(shape))
    # The model maps a size it accepts to the same size; the fixed model keeps that for the odd size.
    assert tuple(out.shape) == (1, 1, *size)


class KnockOn(nn.Module):
    """A decoder output concatenated first (so its size carries on) whose skip mismatch makes a later
    residual Add disagree too; ``crop`` crops the decoder operand, as inspect's fix says."""

    def __init__(self, crop: int = 0) -> None:
        super().__init__()
        self.crop = crop
        self.d1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.d2 = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.u1 = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.u2 = nn.ConvTranspose2d(8, 3, 2, stride=2)

    def forward(self, x: Any) -> Any:
        a = self.d1(x)
        u = self.u1(self.d2(a))
        if self.crop:
            u = u[:, :, : u.shape[2] - self.crop, : u.shape[3] - self.crop]
        return x + self.u2(torch.cat([u, a], 1))


def test_a_knock_on_mismatch_is_not_a_second_finding(tmp_path: Path) -> None:
    """One root cause, one finding: the Add after the bad skip agrees once the skip is fixed (torch runs
    the fixed model), so it is an info finding, and the layers after the skip show the fixed sizes."""
    torch.manual_seed(0)
    path = tmp_path / "knock.onnx"
    path.write_bytes(im.export(KnockOn(), (1, 3, 32, 32)))
    report = inspect_graph(read_onnx(path), [(1, 3, 30, 30)])
    errors = [f for f in report.findings if f.kind == "merge" and f.severity == "error"]
    knock_ons = [m for m in report.merges if m.knock_on]
    assert len(errors) == 1 and "crop operand 1" in (errors[0].fix or "")
    assert len(knock_ons) == 1 and knock_ons[0].op == "Add"
    assert report.headline().startswith("1 finding: 1 skip mismatch at 30x30")
    with pytest.raises(RuntimeError):
        KnockOn()(torch.zeros(1, 3, 30, 30))
    fixed = KnockOn(crop=1)(torch.zeros(1, 3, 30, 30))
    decoder = next(row for row in report.layers if row.name == "/u2/ConvTranspose")
    assert decoder.with_fixes and tuple(fixed.shape) == decoder.output_shape == (1, 3, 30, 30)
