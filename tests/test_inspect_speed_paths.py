"""The shortcuts that make inspect fast give the answers of the plain way (brute force witnesses).

- Convolution reads are shared by every spec that reads alike (channels aside): each shared read equals
  the spec's own ``ConvSpec.read``.
- Receptive fields take a window's hull from its end positions when spans only move forward: equal to
  the union of every tap's span, on random spans and windows.
- A graph that treats every spatial axis alike gets one axis's receptive fields for all: equal to
  each axis worked out alone (random graphs).
- A node's run remembered by its input shapes equals the run of a fresh graph (random graphs, sweeps).
- The accepted sizes of the benchmark's U-Net (benchmarks/inspect_speed.py, fewer layers per level)
  equal a size-by-size sweep of the graph.
"""

from __future__ import annotations

import dataclasses
import random
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from convcalc.core import ConvAxis
from convcalc.errors import ConvCalcError
from convcalc.graph.fields import _alike, _conv_spans, _fields_on_axis, _union, receptive_fields
from convcalc.graph.model import ConvSpec, Graph, Node, PoolSpec, Tensor
from convcalc.graph.shapes import _read_conv, propagate, spatial_axes


def test_shared_conv_reads_equal_each_specs_own_read() -> None:
    specs = [
        ConvSpec("onnx", (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), c_in, c_out)
        for c_in, c_out in ((3, 4), (4, 4), (8, 16))
    ] + [ConvSpec("pytorch", (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), 8, 4, output_padding=(1, 0))]
    for spec in specs:
        for size in ((5, 7), (16, 16), (33, 2)):
            for transposed in (False, True):
                try:
                    own = spec.read(size, transposed)
                except ConvCalcError as error:
                    with pytest.raises(ConvCalcError, match=re.escape(str(error))):
                        _read_conv(spec, size, transposed)
                    continue
                layer, out = _read_conv(spec, size, transposed)
                assert layer == own and out == own.output


def _taps_union(x: list, axis: ConvAxis, out: int) -> list:
    spans = []
    for j in range(out):
        reads = [j * axis.stride + t * axis.dilation - axis.pad_before for t in range(axis.kernel_size)]
        spans.append(_union([x[u] for u in reads if 0 <= u < len(x)]))
    return spans


def test_window_hulls_equal_the_union_of_every_tap() -> None:
    rng = random.Random(15)
    for trial in range(400):
        n = rng.randint(1, 30)
        monotone = trial % 2 == 0
        x: list = []
        low = high = 0
        for _ in range(n):
            if monotone:
                low += rng.randint(0, 2)
                high = max(high, low) + rng.randint(0, 3)
                x.append((low, high))
            else:
                a = rng.randint(0, 40)
                x.append(None if rng.random() < 0.2 else (a, a + rng.randint(0, 5)))
        k, s, d = rng.randint(1, 5), rng.randint(1, 3), rng.randint(1, 3)
        pad = rng.randint(0, 4)
        axis = ConvAxis(n, k, s, d, pad, pad)
        out = max((n + 2 * pad - d * (k - 1) - 1) // s + 1, 0)
        assert _conv_spans(x, axis, out) == _taps_union(x, axis, out), (x, k, s, d, pad)


def test_benchmark_unet_accepted_sizes_equal_a_sweep(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    import inspect_speed

    from convcalc.inspect.analysis import inspect_graph
    from convcalc.inspect.onnx_reader import read_onnx

    path = tmp_path / "unet.onnx"
    inspect_speed.build(path, repeat=2)
    graph = read_onnx(path)
    report = inspect_graph(graph, [(1, 3, 64, 64)])
    for axis in report.axes:
        assert axis.accepted is not None and axis.runs is not None
        for size in range(1, 100):
            shape = [1, 3, 64, 64]
            shape[axis.tensor_axis] = size
            run = propagate(graph, (tuple(shape),))
            a = axis.tensor_axis
            dropped = any(
                r.dropped[spatial_axes(r.node.layout, len(r.inputs[0])).index(a)]
                for r in run.nodes
                if any(r.dropped)
            )
            assert axis.runs.contains(size) == run.ok, size
            assert axis.accepted.contains(size) == (run.ok and not dropped), size


def _norm_models() -> dict[str, Any]:
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Skip(nn.Module):
        def __init__(self, norm: Any) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.norm = norm
            self.down = nn.Conv2d(4, 4, 3, stride=2, padding=1)
            self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)

        def forward(self, x: Any) -> Any:
            x = self.norm(self.conv(x))
            return torch.cat([x, self.up(self.down(x))], dim=1)

    return {
        "eval statistics": Skip(nn.BatchNorm2d(4)),
        "no affine": Skip(nn.BatchNorm2d(4, affine=False)),
        "batch statistics": Skip(nn.BatchNorm2d(4, track_running_stats=False)),
        "wrong channels": Skip(nn.BatchNorm2d(5)),
        "instance": Skip(nn.InstanceNorm2d(4, affine=True)),
        "instance, running statistics": Skip(nn.InstanceNorm2d(4, track_running_stats=True)),
        "instance on 1x1": nn.Sequential(nn.Conv2d(3, 4, 8), nn.InstanceNorm2d(4)),
        "groups": Skip(nn.GroupNorm(2, 4)),
        "groups that do not divide": nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.GroupNorm(2, 4)),
        "one value per group": nn.Sequential(nn.Conv2d(3, 2, 8), nn.GroupNorm(2, 2)),
        "1-d": nn.Sequential(nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Conv1d(3, 3, 3, stride=2)),
    }


NORM_CASES = [
    "eval statistics",
    "no affine",
    "batch statistics",
    "wrong channels",
    "instance",
    "instance, running statistics",
    "instance on 1x1",
    "groups",
    "groups that do not divide",
    "one value per group",
    "1-d",
]


@pytest.mark.parametrize("name", NORM_CASES)
def test_batch_norm_without_its_meta_kernel_reads_the_same(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The capture's shape-only batch_norm gives the document the meta kernel gives, and the shapes
    eager CPU execution gives (the model run with hooks)."""
    torch = pytest.importorskip("torch")
    from convcalc.inspect import torch_capture
    from convcalc.inspect.document import inspect_document
    from convcalc.inspect.torch_reader import inspect_module

    model = _norm_models()[name]
    sizes = (1, 2, 9) if name == "1-d" else (1, 3, 8, 8)
    shapes = [(*sizes[:-1], n) for n in (sizes[-1], sizes[-1] + 1)]
    fast = [inspect_document(inspect_module(model, shape)) for shape in shapes]
    monkeypatch.setattr(torch_capture._Run, "normalised", lambda self, func, args, kwargs: None)
    slow = [inspect_document(inspect_module(model, shape)) for shape in shapes]
    assert fast == slow
    for shape, document in zip(shapes, fast):
        model.eval()
        try:
            with torch.no_grad():
                out = model(torch.zeros(shape))
        except Exception:
            assert document["exit_code"] != 0, (name, shape)
        else:
            assert document["layers"][-1]["output_shape"] == list(out.shape), (name, shape)


def _random_2d_graph(rng: random.Random, count: int) -> Graph:
    """Convolutions (square and not), poolings, transposed convolutions, activations and adds on a
    2-d input: some graphs treat H and W alike, some do not."""
    tensors = ["x"]
    nodes = []
    for n in range(count):
        source = tensors[-1] if rng.random() < 0.8 else rng.choice(tensors)
        out = f"t{n}"
        kind = rng.choice(["conv", "conv", "wide", "down", "up", "pool", "relu", "add"])
        if kind == "relu":
            nodes.append(Node(f"n{n}", "Relu", "shape_preserving", (source,), (out,)))
        elif kind == "add":
            nodes.append(Node(f"n{n}", "Add", "elementwise", (source, rng.choice(tensors)), (out,)))
        elif kind == "pool":
            pool = PoolSpec("max", (2, 2), (2, 2), ((0, 0), (0, 0)), framework="onnx")
            nodes.append(Node(f"n{n}", "MaxPool", "pool", (source,), (out,), pool))
        elif kind == "up":
            up = ConvSpec("onnx", (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), 4, 4)
            nodes.append(Node(f"n{n}", "ConvTranspose", "conv_transpose", (source,), (out,), up))
        else:
            kernel = (3, 1) if kind == "wide" else (3, 3)
            stride = (2, 2) if kind == "down" else (1, 1)
            pads = ((1, 1), (0, 0)) if kind == "wide" else ((1, 1), (1, 1))
            conv = ConvSpec("onnx", kernel, stride, (1, 1), pads, 4, 4)
            nodes.append(Node(f"n{n}", "Conv", "conv", (source,), (out,), conv))
        tensors.append(out)
    return Graph("random", "onnx", (Tensor("x", (1, 4, "h", "w")),), tuple(nodes), (tensors[-1],)).checked()


def test_receptive_fields_of_alike_axes_equal_each_axis_worked_out_alone() -> None:
    """A graph that treats every spatial axis alike gets one axis's fields for all (``fields._alike``):
    equal to working out each axis on its own, on random graphs and inputs square or not."""
    rng = random.Random(15)
    alike = 0
    for _ in range(120):
        graph = _random_2d_graph(rng, rng.randint(1, 12))
        h = rng.choice([16, 17, 24, 33])
        w = h if rng.random() < 0.7 else rng.choice([16, 20, 31])
        run = propagate(graph, ((1, 4, h, w),))
        if run.failure is not None:
            continue
        alike += _alike(graph, run, (2, 3))
        each = [_fields_on_axis(graph, run, axis) for axis in (2, 3)]
        expected = tuple((name, tuple(f.get(name) for f in each)) for name in graph.outputs)
        assert receptive_fields(graph, run, (2, 3)) == expected
    assert 20 < alike < 100  # both ways taken


def test_remembered_node_runs_equal_runs_of_a_fresh_graph() -> None:
    """``propagate`` keeps a node's run by its input shapes, per graph: a sweep on one graph gives the
    runs a new copy of the graph gives at each size (nothing remembered)."""
    rng = random.Random(7)
    for _ in range(20):
        graph = _random_2d_graph(rng, rng.randint(1, 14))
        for size in [*range(1, 40), 17, 3, 64, 17]:
            kept = propagate(graph, ((1, 4, size, size + 1),))
            fresh = propagate(dataclasses.replace(graph), ((1, 4, size, size + 1),))
            assert (kept.shapes, kept.failure, kept.stopped) == (fresh.shapes, fresh.failure, fresh.stopped)
            assert kept.nodes == fresh.nodes and kept.divisors == fresh.divisors
