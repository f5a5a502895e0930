"""Statically exported PyTorch models that size Resize and Pad from ``x.shape`` (trial report item 4).

``F.interpolate(size=skip.shape[2:])`` and ``F.pad(u, [0, a.shape[3] - u.shape[3], ...])`` export
(dynamo=False) as Shape -> Slice/Gather -> Sub -> Unsqueeze -> Concat -> ConstantOfShape -> Reshape ->
Slice -> Transpose -> Reshape -> Cast graphs feeding Resize's sizes and Pad's pads. Witness: ONNX Runtime
running the exported model, every intermediate tensor's shape compared with what inspect works out.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

sys.path.insert(0, str(Path(__file__).parent))
import inspect_models as im  # noqa: E402

from convcalc.graph.shapes import propagate  # noqa: E402
from convcalc.inspect.analysis import inspect_graph  # noqa: E402
from convcalc.inspect.onnx_reader import read_onnx  # noqa: E402

nn = torch.nn
F = torch.nn.functional


class ShapeSizedUNet(nn.Module):
    """The tester's unet2.py: Resize to the skip's size, then Pad up to the first skip's size."""

    def __init__(self) -> None:
        super().__init__()
        self.e1 = nn.Conv2d(3, 4, 3, padding=1)
        self.d1 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.u1 = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.u0 = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.out = nn.Conv2d(8, 1, 1)

    def forward(self, x: Any) -> Any:
        a = torch.relu(self.e1(x))
        b = torch.relu(self.d1(a))
        u = self.u1(self.pool(b))
        u = F.interpolate(u, size=b.shape[2:])
        u = self.u0(u)
        u = F.pad(u, [0, a.shape[3] - u.shape[3], 0, a.shape[2] - u.shape[2]])
        return self.out(torch.cat([u, a], 1))


@pytest.mark.parametrize("size", [(67, 45), (64, 64), (33, 70)])
def test_shape_computed_resize_and_pad_match_onnx_runtime(size: tuple[int, int], tmp_path: Path) -> None:
    torch.manual_seed(0)
    shape = (1, 3, *size)
    data = im.export(ShapeSizedUNet(), shape, dynamic=False)
    path = tmp_path / "unet2.onnx"
    path.write_bytes(data)
    graph = read_onnx(path)
    kinds = {node.op: node.kind for node in graph.nodes}
    # Resize and Pad are modelled (their operands folded from the shape arithmetic), not unknown.
    assert kinds["Resize"] == "resize"
    assert kinds["Pad"] == "pad"
    run = propagate(graph, (shape,))
    assert run.ok, run.failure or run.mismatches
    full, _names = im.with_every_output(data)
    ort = im.run_ort(im.ort_session(full), shape)
    assert not isinstance(ort, str), ort
    for node in graph.nodes:
        if node.kind in ("resize", "pad", "conv", "conv_transpose", "pool", "concat"):
            for tensor in node.outputs:
                assert run.shapes[tensor] == ort[tensor], (size, node.name, tensor)
    report = inspect_graph(graph, (shape,))
    assert report.runs
