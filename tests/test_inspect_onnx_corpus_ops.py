"""ONNX ops the wider third-party corpus met (issue 15): Einsum (MONAI UNETR's attention), ReduceMean and
partial reductions (EfficientNet's squeeze-excitation, VQ-GAN's codebook distances), ArgMax / ArgMin,
GatherND (Swin's relative positions), Tile (diffusers' UNet1DModel tiles its timestep features over the
length), MatMul by a constant of rank 4 (cross-attention keys folded by the exporter), the limit of
reflect padding, the period of a graph whose many branches each halve a size, weight_norm's ReduceL2 of
a weight (its shape from the axes operand), and a finite set of sizes that run (SwinUNETR's export
reshapes a constant table to sizes taken from the input).

Witness: ONNX Runtime runs each small graph at every size of the swept axis; convcalc agrees on whether
it runs, on every tensor's shape, and its "sizes that run" hold exactly the sizes ONNX Runtime runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import inspect_models as im  # noqa: E402

from convcalc.graph.shapes import propagate  # noqa: E402
from convcalc.inspect.analysis import inspect_graph  # noqa: E402
from convcalc.inspect.onnx_reader import read_onnx  # noqa: E402


def _ints(name: str, values: list[int], dims: list[int] | None = None) -> Any:
    return h.make_tensor(name, T.INT64, dims if dims is not None else [len(values)], values)


def _floats(name: str, dims: list[int]) -> Any:
    count = 1
    for d in dims:
        count *= d
    return h.make_tensor(name, T.FLOAT, dims, [0.5] * count)


def _model(nodes: list[Any], rank: int, initializers: list[Any], opset: int = 18) -> bytes:
    """A graph of one float input x of the given rank (every axis named, so every size is dynamic)."""
    x = h.make_tensor_value_info("x", T.FLOAT, [f"d{n}" for n in range(rank)])
    y = h.make_tensor_value_info(nodes[-1].output[0], T.FLOAT, None)
    graph = h.make_graph(nodes, "g", [x], [y], initializers)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)], ir_version=9)
    return bytes(model.SerializeToString())


ATTENTION = (
    [
        h.make_node("Einsum", ["x", "w"], ["q"], equation="bchw,dc->bdhw"),
        h.make_node("Einsum", ["q", "q"], ["scores"], equation="bdhw,bdxw->bhwx"),
        h.make_node("Softmax", ["scores"], ["p"], axis=-1),
        h.make_node("Einsum", ["p", "q"], ["y"], equation="bhwx,bdxw->bdhw"),
    ],
    4,
    [_floats("w", [3, 4])],
)
ELLIPSIS = (
    [
        h.make_node("Einsum", ["x", "x"], ["g"], equation="...ij,...kj->...ik"),
        h.make_node("Einsum", ["g"], ["y"], equation="...ii"),  # implicit output: the broadcast axes
    ],
    4,
    [],
)
EINSUM_MISMATCH = (  # a letter of sizes H + 1 and H + 2: ONNX Runtime refuses, and so must convcalc;
    # a letter of size 1 broadcasts (the pooled row against every row)
    [
        h.make_node("Pad", ["x", "one"], ["wide"]),
        h.make_node("Pad", ["x", "two"], ["wider"]),
        h.make_node("ReduceMax", ["x", "rows"], ["pooled"], keepdims=1),
        h.make_node("Einsum", ["x", "pooled"], ["broadcast"], equation="bchw,bchw->bhw"),
        h.make_node("Einsum", ["wide", "wider"], ["y"], equation="bchw,bchw->bhw"),
    ],
    4,
    [_ints("rows", [2]), _ints("one", [0, 0, 1, 0, 0, 0, 0, 0]), _ints("two", [0, 0, 2, 0, 0, 0, 0, 0])],
)
REDUCTIONS = (
    [
        h.make_node("ReduceMean", ["x", "hw"], ["se"], keepdims=1),  # squeeze-excitation's mean
        h.make_node("Mul", ["x", "se"], ["scaled"]),
        h.make_node("ReduceSum", ["scaled", "c"], ["distance"], keepdims=0),
        h.make_node("ReduceL2", ["x", "c"], ["norm"], keepdims=1),
        h.make_node("ArgMin", ["distance"], ["code"], axis=2, keepdims=1),
        h.make_node("Cast", ["code"], ["codef"], to=T.FLOAT),
        h.make_node("Unsqueeze", ["codef", "c"], ["code4"]),
        h.make_node("ArgMax", ["x"], ["top"], axis=2, keepdims=0),
        h.make_node("Cast", ["top"], ["topf"], to=T.FLOAT),
        h.make_node("Unsqueeze", ["topf", "h"], ["top4"]),
        h.make_node("Add", ["norm", "top4"], ["mixed"]),
        h.make_node("Add", ["mixed", "code4"], ["y"]),
    ],
    4,
    [_ints("hw", [2, 3]), _ints("c", [1]), _ints("h", [2])],
)
GATHER_ND = (
    [
        h.make_node("GatherND", ["x", "pairs"], ["rows"]),
        h.make_node("GatherND", ["x", "per_batch"], ["chosen"], batch_dims=1),
        h.make_node("Unsqueeze", ["rows", "zero"], ["rows4"]),
        h.make_node("Add", ["rows4", "chosen"], ["y"]),
    ],
    4,
    [_ints("pairs", [0, 1, 0, 3], [2, 2]), _ints("per_batch", [1, 2], [1, 2, 1]), _ints("zero", [0])],
)
TILE = (
    [
        h.make_node("Shape", ["x"], ["shape"]),
        h.make_node("Slice", ["shape", "two", "three"], ["length"]),
        h.make_node("Concat", ["ones", "length"], ["repeats"], axis=0),
        h.make_node("Slice", ["x", "zero", "one", "two"], ["first"]),
        h.make_node("Tile", ["first", "repeats"], ["tiled"]),  # one frame over the length, as UNet1D
        h.make_node("Tile", ["tiled", "twice"], ["y"]),
    ],
    3,
    [
        _ints("two", [2]),
        _ints("three", [3]),
        _ints("ones", [1, 1]),
        _ints("zero", [0]),
        _ints("one", [1]),
        _ints("twice", [1, 2, 1]),
    ],
)
CONSTANT_KEYS = (
    [
        h.make_node("Transpose", ["x"], ["t"], perm=[0, 1, 3, 2]),
        h.make_node("MatMul", ["t", "keys"], ["y"]),
    ],
    4,
    [_floats("keys", [1, 2, 4, 3])],
)
REFLECT = (
    [
        h.make_node("Pad", ["x", "pads"], ["p"], mode="reflect"),
        h.make_node("Pad", ["p", "crop"], ["y"], mode="reflect"),
    ],
    3,
    [_ints("pads", [0, 0, 3, 0, 0, 2]), _ints("crop", [0, 0, 0, 0, 0, 0])],
)
HALVINGS = (  # 24 parallel branches, each halving H and W: the product of every divisor is 4 ** 24
    [h.make_node("MaxPool", ["x"], [f"b{n}"], kernel_shape=[2, 2], strides=[2, 2]) for n in range(24)]
    + [
        h.make_node("Concat", [f"b{n}" for n in range(24)], ["y"], axis=1),
    ],
    4,
    [],
)

FINITE = (  # SwinUNETR's TorchScript export: its relative-position table (a constant of 16 values here)
    # reshaped to [a, a, -1] with a = H // 2 + 1 taken from the input's size, and a remainder by the size
    # itself (torch.roll's shift modulo the axis): only H // 2 + 1 in {1, 2, 4} runs, a finite set
    [
        h.make_node("Shape", ["x"], ["shape"]),
        h.make_node("Gather", ["shape", "axis"], ["size"]),
        h.make_node("Div", ["size", "two"], ["half"]),
        h.make_node("Add", ["half", "one"], ["side"]),
        h.make_node("Mod", ["size", "size"], ["rolled"]),
        h.make_node("Add", ["side", "rolled"], ["a"]),
        h.make_node("Concat", ["a", "a", "rest"], ["target"], axis=0),
        h.make_node("Reshape", ["table", "target"], ["bias"]),
        h.make_node("ReduceSum", ["bias"], ["total"], keepdims=0),
        h.make_node("Mul", ["x", "total"], ["y"]),
    ],
    4,
    [_ints("axis", [2]), _ints("two", [2]), _ints("one", [1]), _ints("rest", [-1]), _floats("table", [16])],
)

WEIGHT_NORM = (  # weight_norm exported (transformers' EnCodec): the L2 norm of the weight over axes given
    # as an operand divides it, and the convolution reads the result as its weight
    [
        h.make_node("ReduceL2", ["w", "axes"], ["norm"], keepdims=1),
        h.make_node("Div", ["w", "norm"], ["unit"]),
        h.make_node("Conv", ["x", "unit"], ["y"], kernel_shape=[3], strides=[2]),
    ],
    3,
    [_floats("w", [4, 2, 3]), _ints("axes", [1, 2])],
)

GRAPHS = {
    "einsum attention": (ATTENTION, (1, 4, 0, 5)),
    "einsum ellipsis": (ELLIPSIS, (2, 3, 0, 5)),
    "einsum mismatch": (EINSUM_MISMATCH, (1, 2, 0, 3)),
    "reductions": (REDUCTIONS, (1, 4, 0, 3)),
    "gather_nd": (GATHER_ND, (1, 4, 0, 5)),
    "tile": (TILE, (1, 2, 0)),
    "matmul constant keys": (CONSTANT_KEYS, (1, 2, 0, 4)),
    "reflect pad": (REFLECT, (1, 2, 0)),
    "halvings": (HALVINGS, (1, 2, 0, 7)),
    "finite sizes": (FINITE, (1, 2, 0, 3)),
    "weight norm": (WEIGHT_NORM, (1, 2, 0)),
}


def _shape(template: tuple[int, ...], size: int) -> tuple[int, ...]:
    """The template with its 0 (the swept axis) set to ``size``."""
    return tuple(size if d == 0 else d for d in template)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_ops_agree_with_onnx_runtime_at_every_size(name: str, tmp_path: Path) -> None:
    (nodes, rank, initializers), template = GRAPHS[name]
    data = _model(nodes, rank, initializers)
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    graph = read_onnx(path)
    assert not [n.op for n in graph.nodes if n.kind == "unknown"], name
    full, _ = im.with_every_output(data)
    session = im.ort_session(full)
    sizes = range(1, 13)
    running = []
    for size in sizes:
        shape = _shape(template, size)
        truth = im.run_ort(session, shape)
        run = propagate(graph, (shape,))
        assert not run.stopped, (name, size, run.stopped[0].op)
        assert run.ok == (not isinstance(truth, str)), (name, size, truth, run.failure)
        if isinstance(truth, dict):
            running.append(size)
            for tensor, dims in truth.items():
                assert run.shapes[tensor] == dims, (name, size, tensor)
    report = inspect_graph(graph, [_shape(template, max(running or [12]))])
    axis = next(a for a in report.axes if template[a.tensor_axis] == 0)
    assert axis.runs is not None, (name, axis.note)
    assert [s for s in sizes if axis.runs.contains(s)] == running, name


def test_parallel_halvings_repeat_over_two_not_over_the_product() -> None:
    """The step of the runs is the lcm over paths, each path's product: 24 branches of one halving give
    a step of 2 (per axis: lcm(2, 2)), where the product of all the divisors is 2 ** 48."""
    (nodes, rank, initializers), template = GRAPHS["halvings"]
    graph = read_onnx_bytes(_model(nodes, rank, initializers))
    run = propagate(graph, (_shape(template, 10),))
    assert run.step == 2
    assert len(run.divisors) == 48


def read_onnx_bytes(data: bytes) -> Any:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        path.write_bytes(data)
        return read_onnx(path)


def test_a_finite_set_of_sizes_is_answered_as_its_members() -> None:
    """Every size from 9 on fails (a * a > 16 values): the sizes that run are 1, 2, 3, 6 and 7 alone,
    as ONNX Runtime runs them (checked at every size in the test above), with no class."""
    (nodes, rank, initializers), template = GRAPHS["finite sizes"]
    graph = read_onnx_bytes(_model(nodes, rank, initializers))
    axis = inspect_graph(graph, [_shape(template, 6)]).axes[0]
    assert axis.runs is not None and axis.runs.classes == () and axis.runs.singles == (1, 2, 3, 6, 7)
