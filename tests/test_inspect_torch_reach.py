"""The PyTorch route on behaviours the third-party corpus found (tests/corpus, opt-in), each reproduced
by a small module of our own and checked against eager torch: what the model's code prints, ..."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

PRINTS = """
import torch.nn as nn

print("importing the file")


class Loud(nn.Module):
    def __init__(self):
        super().__init__()
        print("building")
        self.conv = nn.Conv2d(1, 2, 3, stride=2)

    def forward(self, x):
        print("running at", tuple(x.shape))
        return self.conv(x)


def loud():
    return Loud()
"""


def test_what_the_model_prints_never_reaches_the_json_on_stdout(tmp_path: Path) -> None:
    """MONAI's DiNTS prints while it runs: stdout stays one JSON document, the prints go to stderr."""
    path = tmp_path / "loud.py"
    path.write_text(PRINTS)
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "inspect", f"{path}:loud", "--input", "1x1x9x8", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    expected = tuple(torch.nn.Conv2d(1, 2, 3, stride=2)(torch.zeros(1, 1, 9, 8)).shape)
    assert tuple(report["layers"][-1]["output_shape"]) == expected
    assert "building" in done.stderr and "running at" in done.stderr and "importing" in done.stderr


SUMS = '''
import torch
import torch.nn as nn


class Sums(nn.Module):
    """MONAI DiNTS: outputs start as tensor(0.0) and each path's result is added to them."""

    def __init__(self):
        super().__init__()
        self.paths = nn.ModuleList([nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(1, 2, 3, padding=1)])

    def forward(self, x):
        outputs = [torch.tensor(0.0, dtype=x.dtype, device=x.device)] * 2
        for n, path in enumerate(self.paths):
            outputs[n % 2] = outputs[n % 2] + path(x)
        return outputs[0] * outputs[1]


def sums():
    return Sums()
'''

SIZES_IN_BUFFERS = '''
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class StreamingConv(nn.Module):
    """EnCodec's convolution: stride and kernel size kept as 0-d buffers, the right padding that makes
    the frames cover the input computed from them with tensor arithmetic in forward."""

    def __init__(self, kernel, stride):
        super().__init__()
        self.conv = nn.Conv1d(2, 2, kernel, stride)
        self.stride = nn.Buffer(torch.tensor(stride, dtype=torch.int64), persistent=False)
        self.kernel = nn.Buffer(torch.tensor(kernel, dtype=torch.int64), persistent=False)
        self.total = nn.Buffer(self.kernel - self.stride, persistent=False)

    def forward(self, x):
        length = x.shape[-1]
        frames = torch.ceil((length - self.kernel + self.total) / self.stride).to(torch.int64)
        extra = frames * self.stride + self.kernel - self.total - length
        return self.conv(F.pad(x, (int(self.total), int(extra))))


def streaming():
    return nn.Sequential(StreamingConv(4, 2), nn.ELU(), StreamingConv(5, 3))
'''


def _module_from(source: str, name: str, tmp_path: Path) -> tuple[Path, object]:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    space: dict[str, object] = {}
    exec(compile(source, str(path), "exec"), space)
    return path, space[name]


def _eager(model: object, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        with torch.no_grad():
            return tuple(model(torch.zeros(shape)).shape)  # type: ignore[operator]
    except RuntimeError:
        return None


def test_data_added_to_a_zero_dimensional_constant_reads_as_eager_torch_runs(tmp_path: Path) -> None:
    """The capture compared tensors with ``in`` (elementwise ==): 'Boolean value of Tensor with more
    than one value is ambiguous', read as the model refusing every input."""
    from convcalc.inspect.analysis import inspect_graph
    from convcalc.inspect.torch_reader import read_target

    path, factory = _module_from(SUMS, "sums", tmp_path)
    model = factory()  # type: ignore[operator]
    for shape in ((1, 1, 5, 7), (1, 1, 1, 1), (2, 1, 9, 4)):
        graph = read_target(f"{path}:sums", shape)
        report = inspect_graph(graph, (shape,))
        assert report.runs and report.run.shapes[graph.outputs[0]] == _eager(model, shape)


def test_sizes_computed_from_zero_dimensional_buffers_read_as_eager_torch_runs(tmp_path: Path) -> None:
    """Built on the meta device the buffers hold no numbers and forward cannot compute its padding:
    inspect builds the model again on the CPU, keeps 0-d buffers' values, and every length agrees
    with eager torch, the accepted lengths included."""
    from convcalc.inspect.analysis import inspect_graph
    from convcalc.inspect.torch_reader import read_target

    path, factory = _module_from(SIZES_IN_BUFFERS, "streaming", tmp_path)
    model = factory()  # type: ignore[operator]
    graph = read_target(f"{path}:streaming", (1, 2, 16))
    report = inspect_graph(graph, ((1, 2, 16),))
    axis = report.axes[0]
    assert axis.runs is not None, axis.note
    for length in range(1, 30):
        truth = _eager(model, (1, 2, length))
        assert axis.runs.contains(length) == (truth is not None), length
        if truth is not None:
            at = inspect_graph(read_target(f"{path}:streaming", (1, 2, length)), ((1, 2, length),))
            assert at.run.shapes[at.graph.outputs[0]] == truth, length
