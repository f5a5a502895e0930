"""A small encoder-decoder for the diff examples (docs/commands/diff.md): `net.py:build`."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, 2, 1)
        self.up = nn.ConvTranspose2d(4, 4, 3, 2, 1, output_padding=1)
        self.head = nn.Conv2d(4, 2, 3, 1, 1)

    def forward(self, x: Any) -> Any:
        return self.head(torch.relu(self.up(torch.relu(self.down(x)))))


def build() -> nn.Module:
    torch.manual_seed(0)
    return Net().eval()
