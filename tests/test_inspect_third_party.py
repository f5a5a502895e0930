"""Third-party models (MONAI, diffusers, nnU-Net's dynamic-network-architectures) exported by both torch
exporters, against ONNX Runtime.

Opt-in (CONVCALC_CORPUS=1, with the libraries installed --no-deps): tiny configurations with random
weights, never downloaded ones. Witness as in test_inspect_onnx_patterns: ONNX Runtime with every
intermediate tensor an output, every size 1..40 of the first spatial axis (1..20 for 3-D models); every
tensor's shape agrees, and the sizes convcalc says run are the sizes ONNX Runtime runs.
``python tests/test_inspect_third_party.py`` prints the agreement table of the corpus models.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
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
from tests.corpus.torch_models import CASES, Case  # noqa: E402
from tests.corpus.witness import document_problems  # noqa: E402


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


# Models added after the readers were written (the reach of issue 15): every one through both exporters.
UNSEEN = (
    "monai.SegResNetVAE",
    "monai.SegResNetDS",
    "monai.BasicUNetPlusPlus",
    "monai.ViTAutoEnc",
    "monai.Generator",
    "monai.Regressor",
    "monai.DenseNet",
    "monai.ResNet",
    "monai.EfficientNetBN",
    "monai.HoVerNet",
    "monai.MedNeXt",
    "monai.VNet",
    "monai.DiNTS",
    "diffusers.ControlNet",
    "diffusers.TemporalDecoder",
    "diffusers.AsymmetricKL",
    "diffusers.AutoencoderDC",
    "diffusers.UNet2DSkip",
    "diffusers.UNet2DResnetSample",
    "diffusers.ConsistencyVAE",
    "transformers.EncodecDecoder",
    "transformers.Encodec",
    "transformers.DacDecoder",
)
ONNX_CASES = {
    case.name: case
    for case in CASES
    if case.name
    in {
        "monai.AttentionUnet",
        "monai.UNETR",
        "monai.SwinUNETR",
        "monai.FlexibleUNet",
        "monai.HighResNet",
        "monai.AHNet",
        "monai.SegResNet",
        "diffusers.UNet1DModel",
        "diffusers.UNet2DCondition",
        "diffusers.VQModel",
        "diffusers.AutoencoderTiny",
        "nnunet.PlainConvUNet2d",
        "nnunet.PlainConvUNet2dDS",
        "nnunet.ResEncUNet2d",
        "nnunet.PlainConvUNet3d",
        "nnunet.ResEncUNet3d",
    }
    | set(UNSEEN)
}


# SwinUNETR's deepest map must hold more than one element for its instance norm: 32x32 leaves 1x1
SIDES = {"monai.SwinUNETR": 64}
# Models built for one input size (a Linear on the flattened map, a fixed patch grid, HoVerNet's check
# of 256x256, a generator's latent of length 1): exported at that size.
SIDES.update(
    {
        "monai.ViTAutoEnc": 16,
        "monai.Regressor": 16,
        "monai.HoVerNet": 256,
        "monai.Generator": 1,
        "diffusers.ControlNet": 16,
    }
)
# Exports torch 2.13 cannot make (the reason, as the exporter gives it): left out of the sweep.
EXPORT_FAILS = {
    ("monai.AHNet", True): "torch.export: sympy cannot solve a guard on ((s/2)//2)",
    ("nnunet.ResEncUNet2d", True): "torch.export: Eq(x/4 - ((x/2)//2), 0) cannot be solved",
    ("nnunet.ResEncUNet3d", True): "torch.export: Eq(x/4 - ((x/2)//2), 0) cannot be solved",
    ("diffusers.UNet1DModel", False): "TorchScript exporter: convolution for kernel of unknown shape",
    ("monai.DiNTS", True): "torch.export: `if self.node_a[0][d]` reads a tensor's data (an unbacked .item())",
    (
        "diffusers.ConsistencyVAE",
        True,
    ): "torch.export: SymIntArrayRef expected to contain only concrete integers",
    (
        "transformers.EncodecDecoder",
        True,
    ): "torch.export: padding computed from 0-d buffers, Eq(u0, 1) cannot guard",
    ("transformers.Encodec", True): "torch.export: padding computed from 0-d buffers, Eq(u0, 1) cannot guard",
}
# Exports ONNX Runtime refuses to load (the node it names, and why).
LOAD_FAILS = {
    ("diffusers.AutoencoderDC", False): (
        "/model/encoder/down_blocks.0/down_blocks.0.0/Transpose_1",
        "the TorchScript exporter writes Transpose perm [0, -1, 1, 2], not a permutation",
    ),
}
# Models whose exported sizes do not repeat (none now: SwinUNETR's export runs a finite set, below).
NOT_PERIODIC: set[str] = set()
# Sizes swept besides 1..40: SwinUNETR's exports run 32 and 64 alone (a relative-position table reshaped
# to sizes that follow the input fails from 68 on), a finite set convcalc answers as its members.
EXTRA_SIZES = {"monai.SwinUNETR": (48, 63, 64, 65, 68, 72, 80, 96, 128, 160)}


def _example(case: Case) -> tuple[int, ...]:
    """The export size: 32 on every spatial axis (16 for 3-D models), 64 for a 1-D one."""
    spatial = len(case.sizes[0])
    side = SIDES.get(case.name, {1: 64, 2: 32, 3: 16}[spatial])
    return (*case.lead, *(side,) * spatial)


def onnx_sweep(case: Case, dynamo: bool, folder: Path) -> tuple[int, int, int, list[str]]:
    """(cases, agreeing cases, false alarms, problems) of one model through one exporter: each size of
    the first spatial axis, the others at the export size, read by convcalc and run by ONNX Runtime."""
    torch.manual_seed(0)
    example = _example(case)
    try:
        data = op.export(case.make(), example, dynamo=dynamo)
    except Exception:
        reason = EXPORT_FAILS.get((case.name, dynamo))
        if reason is None:
            raise
        pytest.skip(f"the export fails: {reason}")
    path = folder / f"{case.name}-{'dynamo' if dynamo else 'script'}.onnx"
    path.write_bytes(data)
    graph = read_onnx(path)
    report = inspect_graph(graph, [example])
    refused = LOAD_FAILS.get((case.name, dynamo))
    if refused is not None:
        # ONNX Runtime refuses the file: convcalc must refuse it too, at the node ONNX Runtime names
        with pytest.raises(Exception, match=refused[0]):
            _session(data)
        assert report.run.failure is not None and report.run.failure.node.name == refused[0], (
            report.run.failure
        )
        pytest.skip(f"ONNX Runtime refuses to load the export, and so does convcalc: {refused[1]}")
    session = _session(data)
    axis = report.axes[0]
    problems = document_problems(str(path), example)
    if axis.runs is None and case.name not in NOT_PERIODIC:
        problems.append(f"sizes that run not worked out: {axis.note}")
    agree = alarms = 0
    sizes = [*range(1, 21 if len(example) == 5 else 41), *EXTRA_SIZES.get(case.name, ())]
    for size in sizes:
        shape = (*example[:2], size, *example[3:])
        truth = _ort_shapes(session, shape)
        run = propagate(graph, (shape,))
        runs = run.ok and not run.stopped
        found = []
        if run.ok and run.stopped:  # not worked out: a disagreement, never a claim that it fails
            found.append(f"not worked out, because {run.stopped[0].op} ({run.stopped[0].name})")
        elif runs != (truth is not None):
            found.append(
                f"convcalc says {'runs' if runs else 'fails'}, ONNX Runtime {'runs' if truth else 'fails'}"
            )
        if axis.runs is not None and axis.runs.contains(size) != (truth is not None):
            found.append("sizes that run " + ("include" if axis.runs.contains(size) else "leave out") + " it")
        found.extend(
            f"{tensor}: {run.shapes[tensor]} vs ONNX Runtime {dims}"
            for tensor, dims in (truth or {}).items()
            if tensor in run.shapes and run.shapes[tensor] != dims
        )
        agree += not found
        alarms += truth is not None and not run.ok
        problems.extend(f"{shape}: {p}" for p in found)
    return len(sizes), agree, alarms, problems


@pytest.mark.parametrize("dynamo", [False, True])
@pytest.mark.parametrize("name", sorted(ONNX_CASES))
def test_corpus_models_agree_with_onnx_runtime(name: str, dynamo: bool, tmp_path: Path) -> None:
    case = ONNX_CASES[name]
    if not case.available():
        pytest.skip(f"{case.library} is not installed")
    if dynamo:
        pytest.importorskip("onnxscript")
    _, _, alarms, problems = onnx_sweep(case, dynamo, tmp_path)
    assert alarms == 0 and not problems, problems[:10]


def main() -> None:
    import tempfile

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    wanted = sys.argv[1:]
    print(f"{'model':28} {'exporter':8} {'cases':>5} {'agree':>5} {'false alarms':>12} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for name, case in ONNX_CASES.items():
            if wanted and not any(w in name for w in wanted):
                continue
            if not case.available():
                print(f"{name:28} skipped: {case.library} is not installed")
                continue
            for dynamo in (False, True):
                start = time.perf_counter()
                exporter = "dynamo" if dynamo else "script"
                try:
                    cases, agree, alarms, problems = onnx_sweep(case, dynamo, Path(folder))
                except pytest.skip.Exception as skipped:
                    print(f"{name:28} {exporter:8} skipped: {skipped.msg}")
                    continue
                except Exception as error:  # an export or a read that fails: the table says so
                    print(f"{name:28} {exporter:8} failed: {type(error).__name__}: {str(error)[:300]}")
                    continue
                seconds = time.perf_counter() - start
                print(f"{name:28} {exporter:8} {cases:5} {agree:5} {alarms:12} {seconds:8.1f}", flush=True)
                for problem in problems[:5]:
                    print(f"    {problem[:300]}")


if __name__ == "__main__":
    main()
