"""Published models rebuilt for the inspect tests, exported to ONNX and run by ONNX Runtime.

The architectures are the published ones; only the channel widths are narrowed so that the tests run in
seconds (widths do not change any size). Sources:
- DCGAN generator and discriminator: the PyTorch DCGAN tutorial (pytorch/tutorials,
  beginner_source/dcgan_faces_tutorial.py), nz=100, 64x64 images.
- U-Net depth 4: Ronneberger et al. 2015 with padded 3x3 convolutions (as most re-implementations):
  two conv-BN-ReLU per level, MaxPool 2, ConvTranspose k2 s2, concatenation of the skip without any
  cropping or padding, so an input that is not a multiple of 16 breaks a skip.
- pix2pix: the UnetGenerator of junyanz/pytorch-CycleGAN-and-pix2pix (k4 s2 p1 down, k4 s2 p1 up,
  skip concatenation at every level), 5 downsamplings.
- A 1-D decoder of ConvTranspose1d layers (WaveGAN / HiFi-GAN style upsampling, one with output_padding).

The exporter is torch.onnx.export with dynamo=False: the dynamo exporter of torch 2.13 needs the
onnxscript package, which the onnx extra does not install.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn


def dcgan_generator(nz: int = 100, ngf: int = 8, nc: int = 3) -> nn.Module:
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
        nn.BatchNorm2d(ngf * 8),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
        nn.Tanh(),
    )


def dcgan_discriminator(ndf: int = 8, nc: int = 3) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 4),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 8),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
        nn.Sigmoid(),
    )


def _double_conv(c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """The classic U-Net, depth 4 (four poolings, four up-convolutions)."""

    def __init__(self, channels: int = 3, classes: int = 2, width: int = 4) -> None:
        super().__init__()
        w = [width * 2**n for n in range(5)]
        self.inc = _double_conv(channels, w[0])
        self.downs = nn.ModuleList(
            nn.Sequential(nn.MaxPool2d(2), _double_conv(w[n], w[n + 1])) for n in range(4)
        )
        self.ups = nn.ModuleList(nn.ConvTranspose2d(w[n + 1], w[n], 2, stride=2) for n in reversed(range(4)))
        self.convs = nn.ModuleList(_double_conv(w[n + 1], w[n]) for n in reversed(range(4)))
        self.outc = nn.Conv2d(w[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up, conv in zip(self.ups, self.convs):
            y = conv(torch.cat([skips.pop(), up(y)], dim=1))
        return self.outc(y)


class _SkipBlock(nn.Module):
    """pix2pix's UnetSkipConnectionBlock: down, the inner block, up; the input concatenated to the result."""

    def __init__(self, outer: int, inner: int, sub: nn.Module | None, outermost: bool = False) -> None:
        super().__init__()
        self.outermost = outermost
        down = nn.Conv2d(outer, inner, 4, 2, 1, bias=False)
        up_in = inner if sub is None else inner * 2
        up = nn.ConvTranspose2d(up_in, outer, 4, 2, 1, bias=False)
        layers: list[nn.Module] = [nn.LeakyReLU(0.2), down]
        if sub is not None:
            layers += [nn.BatchNorm2d(inner), sub]
        layers += [nn.ReLU(), up, nn.Tanh() if outermost else nn.BatchNorm2d(outer)]
        self.model = nn.Sequential(*(layers[1:] if outermost else layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.model(x)
        return y if self.outermost else torch.cat([x, y], 1)


def pix2pix_generator(channels: int = 3, ngf: int = 4, num_downs: int = 5) -> nn.Module:
    block = _SkipBlock(ngf * 8, ngf * 8, None)
    for _ in range(num_downs - 5):
        block = _SkipBlock(ngf * 8, ngf * 8, block)
    block = _SkipBlock(ngf * 4, ngf * 8, block)
    block = _SkipBlock(ngf * 2, ngf * 4, block)
    block = _SkipBlock(ngf, ngf * 2, block)
    return _SkipBlock(channels, ngf, block, outermost=True)


def decoder_1d(channels: int = 8) -> nn.Module:
    return nn.Sequential(
        nn.ConvTranspose1d(channels, channels, 16, stride=8, padding=4),
        nn.LeakyReLU(0.1),
        nn.ConvTranspose1d(channels, channels // 2, 4, stride=2, padding=1),
        nn.LeakyReLU(0.1),
        nn.ConvTranspose1d(channels // 2, channels // 2, 3, stride=2, padding=1, output_padding=1),
        nn.LeakyReLU(0.1),
        nn.Conv1d(channels // 2, 1, 7, padding=3),
        nn.Tanh(),
    )


MODELS: dict[str, tuple[Any, tuple[int, ...]]] = {
    "dcgan_generator": (dcgan_generator, (1, 100, 1, 1)),
    "dcgan_discriminator": (dcgan_discriminator, (1, 3, 64, 64)),
    "unet": (UNet, (1, 3, 64, 64)),
    "pix2pix": (pix2pix_generator, (1, 3, 64, 64)),
    "decoder_1d": (decoder_1d, (1, 8, 10)),
}


def export(module: nn.Module, shape: tuple[int, ...], dynamic: bool = True) -> bytes:
    """The module exported by torch.onnx.export, spatial axes dynamic (named h, w, ...)."""
    module.eval()
    names = ["h", "w", "d"][: len(shape) - 2]
    axes = {"x": {n + 2: name for n, name in enumerate(names)}} if dynamic else None
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.zeros(shape),),
            buffer,
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes=axes,
        )
    return buffer.getvalue()


def with_every_output(model_bytes: bytes) -> tuple[bytes, list[str]]:
    """The model with every node output added as a graph output, and those names in node order."""
    import onnx

    model = onnx.load_model_from_string(model_bytes)
    existing = {o.name for o in model.graph.output}
    names = []
    for node in model.graph.node:
        for name in node.output:
            if name and node.op_type != "Constant":
                names.append(name)
                if name not in existing:
                    model.graph.output.append(onnx.ValueInfoProto(name=name))
    return model.SerializeToString(), names


def ort_session(model_bytes: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def run_ort(session: Any, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]] | str:
    """Every output's shape as ONNX Runtime computes it, or the error text when the run fails."""
    import numpy as np

    names = [o.name for o in session.get_outputs()]
    try:
        results = session.run(names, {session.get_inputs()[0].name: np.zeros(shape, np.float32)})
    except Exception as error:
        return str(error)
    return {name: tuple(r.shape) for name, r in zip(names, results)}


if __name__ == "__main__":
    # `python tests/inspect_models.py unet unet.onnx`: the documentation's example models, made on demand
    import sys
    from pathlib import Path

    if len(sys.argv) != 3 or sys.argv[1] not in MODELS:
        sys.exit(f"usage: python tests/inspect_models.py {{{','.join(MODELS)}}} FILE.onnx")
    factory, input_shape = MODELS[sys.argv[1]]
    Path(sys.argv[2]).write_bytes(export(factory(), input_shape))
    size = "x".join(map(str, input_shape))
    print(f"wrote {sys.argv[2]} ({sys.argv[1]}, exported at {size}, spatial axes dynamic)")
