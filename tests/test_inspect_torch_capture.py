"""The PyTorch route by execution: a fast slice of the corpus (models needing only torch), each against
eager torch (CPU, random weights, hooks by call site) over a sweep of sizes that includes odd sizes and
sizes that fail; its accepted sizes against the same sweep; and the meta device's promise that
building and reading a model allocates none of its weights.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

from convcalc.cli import app  # noqa: E402
from convcalc.inspect.torch_reader import inspect_module, read_module  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from corpus.torch_models import CASES, Case, SkipDict, codec_decoder, reused  # noqa: E402
from corpus.witness import accepted_agrees, compare, eager  # noqa: E402

FAST = [c for c in CASES if c.library is None]
runner = CliRunner()


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("case", FAST, ids=[c.name for c in FAST])
def test_every_size_agrees_with_eager_torch(case: Case) -> None:
    torch.manual_seed(0)
    real = case.make()
    with torch.device("meta"):
        meta = case.make()
    verdicts = [compare(real, meta, shape) for shape in case.shapes()]
    assert [v.problems for v in verdicts if v.problems] == []
    assert any(v.torch_runs for v in verdicts)
    base = next(shape for shape, v in zip(case.shapes(), verdicts) if v.torch_runs)
    assert accepted_agrees(meta, base, real, case.shapes()) == []


def test_each_call_of_a_reused_module_is_its_own_layer() -> None:
    graph = read_module(reused(), (1, 3, 16, 16))
    assert [n.name for n in graph.nodes] == ["stem", "pool", "conv", "pool#2", "conv#2", "pool#3"]
    truth = eager(reused(), (1, 3, 16, 16))
    assert [truth.layers[n.name] for n in graph.nodes] == [
        (1, 4, 16, 16),
        (1, 4, 8, 8),
        (1, 4, 8, 8),
        (1, 4, 4, 4),
        (1, 4, 4, 4),
        (1, 4, 2, 2),
    ]


def test_an_isinstance_check_that_torch_fx_gets_wrong_reads_as_it_runs() -> None:
    """Witness of the old failure: torch.fx's proxy is no Tensor, so its trace drops the skip cat (as
    MONAI's BasicUNet lost every skip). Execution keeps it, crops the odd decoder map as forward does,
    and reads both dict outputs."""
    traced = torch.fx.symbolic_trace(SkipDict())
    assert not any(n.target is torch.cat for n in traced.graph.nodes)
    graph = read_module(SkipDict(), (1, 3, 9, 8))
    kinds = [(n.name, n.kind) for n in graph.nodes]
    assert ("getitem", "slice") in kinds and ("cat", "concat") in kinds
    assert graph.outputs == ("head", "cat")
    report = inspect_module(SkipDict(), (1, 3, 9, 8))
    assert report.exit_code == 0 and report.run.shapes["head"] == tuple(
        SkipDict()(torch.zeros(1, 3, 9, 8))["logits"].shape
    )


def test_a_size_dependent_decoder_re_executes_for_its_accepted_sizes() -> None:
    """The codec decoder pads by an amount computed from the length: the graph carries ``rebuild``, and
    its accepted lengths are the lengths torch runs (every length from 1 to 40 here)."""
    graph = read_module(codec_decoder(), (1, 8, 9))
    assert graph.rebuild is not None
    report = inspect_module(codec_decoder(), (1, 8, 9))
    accepted = report.axes[0].accepted
    assert accepted is not None
    model = codec_decoder().eval()
    for length in range(1, 41):
        assert accepted.contains(length) == (eager(model, (1, 8, length)).error is None), length


FACTORIES = """
import torch.nn as nn

def bare():
    return nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)

def huge():
    # 1.2e10 parameters (48 GB of float32 if they were real): built on the meta device, none allocated
    return nn.Sequential(*[nn.Linear(40_000, 40_000) for _ in range(8)])

def raises():
    raise ValueError("the checkpoint path is not set")

def returns_a_dict():
    return {"model": nn.Identity()}
"""


@pytest.fixture
def factories(tmp_path: Path) -> Path:
    path = tmp_path / "factories.py"
    path.write_text(FACTORIES)
    return path


def test_a_bare_layer_is_the_model(factories: Path) -> None:
    result = runner.invoke(app, ["inspect", f"{factories}:bare", "--input", "1x3x7x5", "--json"])
    assert result.exit_code == 0, result.stderr
    layers = json.loads(result.stdout)["layers"]
    real = torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)(torch.zeros(1, 3, 7, 5))
    assert [(row["name"], row["output_shape"]) for row in layers] == [("ConvTranspose2d", list(real.shape))]


def test_a_model_too_big_for_memory_is_read_on_the_meta_device(factories: Path) -> None:
    result = runner.invoke(app, ["inspect", f"{factories}:huge", "--input", "2x40000"])
    assert result.exit_code == 0, result.stderr
    assert "12,800,320,000" in result.stdout or "12800320000" in result.stdout.replace(",", "")


@pytest.mark.parametrize(
    ("attr", "message"),
    [
        ("raises", "calling raises() raised ValueError: the checkpoint path is not set (line 12)"),
        ("returns_a_dict", "returns_a_dict() returned a dict, not a torch.nn.Module"),
    ],
)
def test_a_factory_that_raises_or_returns_no_module_exits_2_quoting_it(
    factories: Path, attr: str, message: str
) -> None:
    result = runner.invoke(app, ["inspect", f"{factories}:{attr}", "--input", "1x3x8x8"])
    assert result.exit_code == 2 and message in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_help_says_that_naming_a_python_file_runs_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "inspect", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "RUNS that Python file" in " ".join(done.stdout.split())


def test_a_suggested_merge_fix_applied_to_the_module_runs_in_torch() -> None:
    """The report's first fix for the U-Net at 65x64 (an output_padding on the transposed layer that
    feeds the failing cat), applied to the torch module: torch then runs that input."""
    import re

    from inspect_models import UNet

    model = UNet().eval()
    report = inspect_module(model, (1, 3, 65, 64))
    (merge,) = report.merges
    found = re.match(r"output_padding=\[(\d+), (\d+)\] on (\S+) \(ConvTranspose2d\)", merge.fixes[0])
    assert found is not None, merge.fixes
    assert eager(model, (1, 3, 65, 64)).error is not None
    layer = model.get_submodule(found[3])
    layer.output_padding = (int(found[1]), int(found[2]))
    assert eager(model, (1, 3, 65, 64)).error is None
    assert inspect_module(model, (1, 3, 65, 64)).exit_code == 0


def test_a_model_whose_output_convcalc_cannot_see_come_from_its_input_is_refused() -> None:
    """A TorchScript submodule takes no hooks and calls no Python function: nothing of it is seen, so the
    model is refused rather than read as an empty graph that 'runs'."""
    from convcalc.errors import ConvCalcError

    class Scripted(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.jit.script(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()))

        def forward(self, x: Any) -> Any:
            return self.body(x)

    with pytest.raises(
        ConvCalcError, match=r"Scripted: no output of forward was seen to come from its input"
    ):
        read_module(Scripted(), (1, 3, 9, 9), "Scripted")
