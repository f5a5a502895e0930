"""What a new user's trial of `convcalc inspect` found wrong, each pinned by a witness.

The trial's model: a conv, a stride-2 conv, a ConvTranspose2d(k3, s2, p1, op1) and a concatenation with
the first conv's output. At 65x64 the concatenation's operands disagree (66 vs 65) and torch refuses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import convcalc

MODEL = """
import torch
import torch.nn as nn


class UNet(nn.Module):
    def __init__(self, output_padding=(1, 1)):
        super().__init__()
        self.enc1 = nn.Conv2d(3, 8, 3, padding=1)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(16, 16, 3, padding=1)
        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=output_padding)
        self.dec = nn.Conv2d(16, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        e = torch.relu(self.enc1(x))
        d = torch.relu(self.down(e))
        m = torch.relu(self.mid(d))
        u = self.up(m)
        c = torch.cat([u, e], dim=1)
        return self.head(torch.relu(self.dec(c)))


def build():
    return UNet().eval()


def fixed():
    return UNet(output_padding=(0, 1)).eval()
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "mymodel.py"
    path.write_text(MODEL)
    return path


def _module(path: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("trial_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_after_a_failing_merge_count_the_work_of_the_sizes_they_print(model: Path) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    report = convcalc.inspect(f"{model}:build", inputs="1x3x65x64")
    rows = {row.name: row for row in report.layers}
    assert rows["dec"].with_fixes and rows["dec"].input_shape == (1, 16, 65, 64)
    # the witness: torch counting the model with the fix inspect suggests (output_padding=(0, 1) on up)
    fixed = _module(model).fixed()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        fixed(torch.zeros(1, 3, 65, 64))
    per_module = counter.get_flop_counts()
    for name in ("dec", "head"):
        flops = sum(per_module[f"UNet.{name}"].values())
        assert 2 * (rows[name].macs or 0) == flops, name
    assert 2 * sum(r.macs or 0 for r in report.layers) == counter.get_total_flops()
