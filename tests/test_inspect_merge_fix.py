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
