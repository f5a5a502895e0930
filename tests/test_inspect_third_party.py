"""Third-party models (MONAI, diffusers) exported by both torch exporters, against ONNX Runtime.

Opt-in (CONVCALC_CORPUS=1, with monai and diffusers installed --no-deps): tiny configurations with random
weights, never downloaded ones. Witness as in test_inspect_onnx_patterns: ONNX Runtime with every
intermediate tensor an output, every size 1..40 of the first spatial axis; every tensor's shape agrees,
and the sizes convcalc says run are the sizes ONNX Runtime runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

if not os.environ.get("CONVCALC_CORPUS"):
    pytest.skip("the third-party corpus is opt-in: CONVCALC_CORPUS=1", allow_module_level=True)
torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).parent))
import onnx_patterns as op  # noqa: E402
from test_inspect_onnx_patterns import _ort_shapes, _session  # noqa: E402

from convcalc.graph.shapes import propagate  # noqa: E402
from convcalc.inspect.analysis import inspect_graph  # noqa: E402
from convcalc.inspect.onnx_reader import read_onnx  # noqa: E402


class Sample(torch.nn.Module):
    """The model's tensor output (diffusers returns an object with .sample; its UNet takes a timestep)."""

    def __init__(self, model: Any, timestep: bool = False) -> None:
        super().__init__()
        self.model, self.timestep = model, timestep

    def forward(self, x: Any) -> Any:
        y = self.model(x, 0) if self.timestep else self.model(x)
        return getattr(y, "sample", y)


def _models() -> dict[str, Callable[[], Any]]:
    monai = pytest.importorskip("monai.networks.nets")
    diffusers = pytest.importorskip("diffusers")
    return {
        "monai_unet": lambda: Sample(monai.UNet(2, 1, 1, channels=(4, 8, 16), strides=(2, 2))),
        "monai_basicunet": lambda: Sample(monai.BasicUNet(2, 1, 1, features=(4, 4, 8, 8, 16, 4))),
        "monai_dynunet": lambda: Sample(
            monai.DynUNet(2, 1, 1, kernel_size=(3, 3, 3), strides=(1, 2, 2), upsample_kernel_size=(2, 2))
        ),
        "diffusers_unet2d": lambda: Sample(
            diffusers.UNet2DModel(
                sample_size=32,
                in_channels=1,
                out_channels=1,
                block_out_channels=(8, 16),
                layers_per_block=1,
                norm_num_groups=4,
                down_block_types=("DownBlock2D", "AttnDownBlock2D"),
                up_block_types=("AttnUpBlock2D", "UpBlock2D"),
                attention_head_dim=8,
            ),
            timestep=True,
        ),
        "diffusers_autoencoder_kl": lambda: Sample(
            diffusers.AutoencoderKL(
                in_channels=1,
                out_channels=1,
                block_out_channels=(8, 16),
                layers_per_block=1,
                norm_num_groups=4,
                latent_channels=4,
                down_block_types=("DownEncoderBlock2D",) * 2,
                up_block_types=("UpDecoderBlock2D",) * 2,
            )
        ),
    }


NAMES = ["monai_unet", "monai_basicunet", "monai_dynunet", "diffusers_unet2d", "diffusers_autoencoder_kl"]


@pytest.mark.parametrize("dynamo", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_third_party_models_agree_with_onnx_runtime(name: str, dynamo: bool, tmp_path: Path) -> None:
    if dynamo:
        pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    example = (1, 1, 32, 32)
    data = op.export(_models()[name](), example, dynamo=dynamo)
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(data)
    graph = read_onnx(path)
    report = inspect_graph(graph, [example])
    session = _session(data)
    axis = report.axes[0]
    assert axis.runs is not None, axis.note
    for size in range(1, 41):
        shape = (1, 1, size, 32)
        truth = _ort_shapes(session, shape)
        run = propagate(graph, (shape,))
        assert axis.runs.contains(size) == (truth is not None) == (run.ok and not run.stopped), size
        for tensor, dims in (truth or {}).items():
            if tensor in run.shapes:
                assert run.shapes[tensor] == dims, (size, tensor)
