"""`convcalc diff` between a Keras model (NHWC, 'same' padding) and its hand ports to PyTorch (NCHW).

Witness: Keras 3 (the torch backend; set CONVCALC_KERAS_PYTHON to a Python with Keras, or install it)
builds, saves and runs the model in a subprocess; PyTorch runs the ports with the same weights. The
faithful port spells Keras's 'same' as TensorFlow places it (the odd pad at the end: an explicit F.pad
before a VALID convolution, a slice after the transposed convolution); diff must fold those and say
faithful. The usual hand ports (padding=1; padding=1 with output_padding=1) put the odd element at the
start: diff must name the layer and say what running both gives (other values for the stride-2
convolution, a copy moved up and left by one for the transposed one).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")

from convcalc.diff.report import diff_models  # noqa: E402

SHAPE_NHWC = (1, 16, 12, 3)

KERAS_SCRIPT = """
import sys
import numpy as np
import keras

folder = sys.argv[1]
inp = keras.Input((16, 12, 3), name="x")
y = keras.layers.Conv2D(4, 3, strides=2, padding="same", name="down")(inp)
y = keras.layers.ReLU(name="relu")(y)
y = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same", name="up")(y)
y = keras.layers.Conv2D(2, 3, padding="same", name="head")(y)
model = keras.Model(inp, y)
model.save(folder + "/net.keras")
weights = {}
for layer in model.layers:
    for n, w in enumerate(layer.get_weights()):
        weights[f"{layer.name}_{n}"] = w
np.savez(folder + "/weights.npz", **weights)
x = np.random.default_rng(0).standard_normal((1, 16, 12, 3)).astype("float32")
np.save(folder + "/x.npy", x)
np.save(folder + "/y.npy", model.predict(x, verbose=0))
"""

PORT = """
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

W = np.load(Path(__file__).with_name("weights.npz"))


def _set(layer, name):
    # Keras kernels are (kh, kw, in, out) for Conv2D and (kh, kw, out, in) for Conv2DTranspose;
    # PyTorch's are (out, in, kh, kw) and (in, out, kh, kw): the same transpose for both
    layer.weight.data = torch.from_numpy(W[name + "_0"].transpose(3, 2, 0, 1).copy())
    layer.bias.data = torch.from_numpy(W[name + "_1"].copy())
    return layer


class Port(nn.Module):
    def __init__(self, down_pads, up_args, up_crop):
        super().__init__()
        self.down_pads = down_pads
        self.up_crop = up_crop
        self.down = _set(nn.Conv2d(3, 4, 3, 2, padding=0 if down_pads else 1), "down")
        self.up = _set(nn.ConvTranspose2d(4, 4, 3, 2, **up_args), "up")
        self.head = _set(nn.Conv2d(4, 2, 3, 1, padding=1), "head")

    def forward(self, x):
        if self.down_pads:
            x = F.pad(x, (0, 1, 0, 1))
        x = self.up(torch.relu(self.down(x)))
        if self.up_crop:
            x = x[:, :, :-1, :-1]
        return self.head(x)


def faithful():
    return Port(True, {"padding": 0}, True).eval()


def ported_down():
    return Port(False, {"padding": 0}, True).eval()


def ported_up():
    return Port(True, {"padding": 1, "output_padding": 1}, False).eval()
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = os.environ.get("CONVCALC_KERAS_PYTHON")
    if not python:
        if importlib.util.find_spec("keras") is None:
            pytest.skip("keras is not installed (set CONVCALC_KERAS_PYTHON to a Python that has Keras 3)")
        python = sys.executable
    folder = tmp_path_factory.mktemp("keras_port")
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "torch")}
    subprocess.run([python, "-c", KERAS_SCRIPT, str(folder)], check=True, env=env, timeout=600)
    (folder / "port.py").write_text(textwrap.dedent(PORT))
    return folder


def run_port(folder: Path, factory: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"port_{factory}", folder / "port.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = np.load(folder / "x.npy").transpose(0, 3, 1, 2)
    with torch.no_grad():
        return getattr(module, factory)()(torch.from_numpy(np.ascontiguousarray(x))).numpy()


def keras_output(folder: Path) -> Any:
    return np.load(folder / "y.npy").transpose(0, 3, 1, 2)


def test_the_faithful_port_is_faithful(folder: Path) -> None:
    report = diff_models(str(folder / "net.keras"), f"{folder / 'port.py'}:faithful", [SHAPE_NHWC])
    assert report.b.input_shapes == ((1, 3, 16, 12),)
    assert report.same, [p.reason() for p in report.pairs]
    assert [len(p.b.before) + len(p.b.after) for p in report.pairs if p.b is not None] == [1, 1, 0]
    assert np.allclose(keras_output(folder), run_port(folder, "faithful"), atol=1e-4)


def test_padding_1_for_a_strided_same_conv_gives_other_values(folder: Path) -> None:
    report = diff_models(str(folder / "net.keras"), f"{folder / 'port.py'}:ported_down", [SHAPE_NHWC])
    (first,) = report.differing
    assert first.name == "down" and first.verdict == "different values"
    assert first.changes[0].text() == "pads on H 0:1 -> 1:1"
    assert report.outputs[0].verdict == "different values"
    a, b = keras_output(folder), run_port(folder, "ported_down")
    assert a.shape == b.shape and not np.allclose(a, b, atol=1e-3)


def test_padding_1_output_padding_1_for_a_same_transposed_conv_shifts_the_output(folder: Path) -> None:
    report = diff_models(str(folder / "net.keras"), f"{folder / 'port.py'}:ported_up", [SHAPE_NHWC])
    (first,) = report.differing
    assert first.name == "up" and first.verdict == "shifted"
    assert first.reason() == (
        "crops on H 0:1 -> 1:0; crops on W 0:1 -> 1:0: the output is shifted up by 1 row, left by 1 "
        "column, same size"
    )
    a, b = keras_output(folder), run_port(folder, "ported_up")
    # B[j - 1] == A[j] away from the borders, and not in place
    assert np.allclose(a[:, :, 3:-2, 3:-2], b[:, :, 2:-3, 2:-3], atol=1e-4)
    assert not np.allclose(a, b, atol=1e-3)
