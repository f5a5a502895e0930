"""Torch-only models that reproduce the patterns of real third-party models, for the ONNX witnesses.

Each is small (a few channels) and written here in the style of the library it stands for:
- ``GroupNormBlock``: a ResNet block with GroupNorm (diffusers / MONAI), whose ONNX export reshapes to
  (N, G, -1) and back to Shape(x);
- ``AttentionBlock``: diffusers' spatial self-attention (flatten H*W, Q/K/V, softmax, restore H, W);
- ``InterpolateToSkip``: a decoder that resizes to ``skip.shape[2:]`` (smp's FPN, torchvision FPN);
- ``PadToSkip``: the classic U-Net ``F.pad`` by the size difference (milesial/Pytorch-UNet);
- ``LstmHead``: a conv front end whose time axis goes through an LSTM (CRNN);
- ``Shortcut``: a ResNet downsampling block with a 1x1 stride-2 shortcut (torchvision ResNet);
- ``Audio``: a 1-D encoder reading (B, T) with no channel axis (wav2vec-like front end).
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


class GroupNormBlock(nn.Module):
    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, c, 3, padding=1)
        self.norm = nn.GroupNorm(4, c)
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.down = nn.Conv2d(c, c, 3, stride=2, padding=0)

    def forward(self, x: Any) -> Any:
        x = self.conv_in(x)
        h = self.conv(F.silu(self.norm(x)))
        return self.down(x + h)


class AttentionBlock(nn.Module):
    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, c, 3, stride=2, padding=1)
        self.norm = nn.GroupNorm(2, c)
        self.q, self.k, self.v, self.out = (nn.Linear(c, c) for _ in range(4))

    def forward(self, x: Any) -> Any:
        x = self.conv_in(x)
        b, c, h, w = x.shape
        t = self.norm(x).view(b, c, h * w).transpose(1, 2)
        q, k, v = self.q(t), self.k(t), self.v(t)
        a = torch.softmax(q @ k.transpose(1, 2) / c**0.5, dim=-1)
        y = self.out(a @ v).transpose(1, 2).reshape(b, c, h, w)
        return x + y


class InterpolateToSkip(nn.Module):
    def __init__(self, c: int = 4) -> None:
        super().__init__()
        self.enc = nn.Conv2d(3, c, 3, padding=1)
        self.down = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.down2 = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.head = nn.Conv2d(2 * c, 1, 1)

    def forward(self, x: Any) -> Any:
        skip = self.enc(x)
        d = self.down2(self.down(skip))
        u = F.interpolate(d, size=skip.shape[2:], mode="nearest")
        return self.head(torch.cat([skip, u], dim=1))


class PadToSkip(nn.Module):
    def __init__(self, c: int = 4) -> None:
        super().__init__()
        self.enc = nn.Conv2d(3, c, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.mid = nn.Conv2d(c, c, 3, padding=1)
        self.up = nn.ConvTranspose2d(c, c, 2, stride=2)
        self.head = nn.Conv2d(2 * c, 1, 1)

    def forward(self, x: Any) -> Any:
        skip = self.enc(x)
        u = self.up(self.mid(self.pool(skip)))
        dy = skip.size()[2] - u.size()[2]
        dx = skip.size()[3] - u.size()[3]
        u = F.pad(u, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.head(torch.cat([skip, u], dim=1))


class LstmHead(nn.Module):
    def __init__(self, c: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, c, 3, stride=2, padding=1)
        self.lstm = nn.LSTM(c * 4, 6, batch_first=True)

    def forward(self, x: Any) -> Any:  # (B, 1, 8, T): 8 rows, T time steps
        f = self.conv(x)  # (B, c, 4, T')
        b, c, h, t = f.shape
        seq = f.permute(0, 3, 1, 2).reshape(b, t, c * h)
        out, _ = self.lstm(seq)
        return out


class Shortcut(nn.Module):
    def __init__(self, c: int = 4) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.a = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.b = nn.Conv2d(2 * c, 2 * c, 3, padding=1)
        self.short = nn.Conv2d(c, 2 * c, 1, stride=2)

    def forward(self, x: Any) -> Any:
        y = self.pool(self.stem(x))
        return self.b(self.a(y)) + self.short(y)


class Audio(nn.Module):
    def __init__(self, c: int = 4) -> None:
        super().__init__()
        self.a = nn.Conv1d(1, c, 10, stride=5)
        self.b = nn.Conv1d(c, c, 3, stride=2)

    def forward(self, x: Any) -> Any:  # (B, T)
        return self.b(F.gelu(self.a(x.unsqueeze(1))))


PATTERNS: dict[str, tuple[type, tuple[int, ...]]] = {
    "groupnorm": (GroupNormBlock, (1, 3, 32, 32)),
    "attention": (AttentionBlock, (1, 3, 16, 16)),
    "interpolate_to_skip": (InterpolateToSkip, (1, 3, 32, 32)),
    "pad_to_skip": (PadToSkip, (1, 3, 32, 32)),
    "lstm": (LstmHead, (1, 1, 8, 20)),
    "shortcut": (Shortcut, (1, 3, 64, 64)),
    "audio": (Audio, (1, 400)),
}


def dynamic_axes(shape: tuple[int, ...]) -> dict[int, str]:
    """The spatial axes (every axis after channels; after batch for a (B, T) input) named dynamic."""
    first = 1 if len(shape) == 2 else 2
    return {n: f"s{n}" for n in range(first, len(shape))}


def export(model: Any, shape: tuple[int, ...], dynamo: bool = False) -> bytes:
    """The model exported to ONNX with its spatial axes dynamic, by either torch exporter."""
    model.eval()
    example = torch.zeros(shape)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            dims = {n: torch.export.Dim.AUTO for n in dynamic_axes(shape)}
            program = torch.onnx.export(model, (example,), dynamic_shapes=[dims], dynamo=True, verbose=False)
            program.save(buffer)  # type: ignore[union-attr]
        else:
            torch.onnx.export(
                model,
                (example,),
                buffer,
                dynamo=False,
                input_names=["x"],
                dynamic_axes={"x": dynamic_axes(shape)},
            )
    return buffer.getvalue()
