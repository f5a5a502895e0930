"""The patterns of real models, exported by torch and run by ONNX Runtime at a sweep of input sizes.

Witness: ONNX Runtime with every intermediate tensor made a graph output, at every size of each spatial
axis from 1 to ``TOP`` (the other axes held at the example's size). Every tensor convcalc propagates
must have ONNX Runtime's shape, and the sizes convcalc says run (``AxisSizes.runs``) must be exactly
the sizes ONNX Runtime runs. The TorchScript exporter (``dynamo=False``) runs by default; the dynamo
exporter (needs onnxscript) and a longer sweep with CONVCALC_HEAVY=1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
sys.path.insert(0, str(Path(__file__).parent))
import onnx_patterns as op  # noqa: E402

from convcalc.graph.shapes import propagate  # noqa: E402
from convcalc.inspect.analysis import inspect_graph  # noqa: E402
from convcalc.inspect.onnx_reader import read_onnx  # noqa: E402

HEAVY = bool(os.environ.get("CONVCALC_HEAVY"))
TOP = 64 if HEAVY else 24
EXPORTERS = [False, True] if HEAVY else [False]


def _session(data: bytes) -> Any:
    model = onnx.load_from_string(data)
    named = {o.name for o in model.graph.output}
    for node in model.graph.node:
        for name in node.output:
            if name and name not in named:
                model.graph.output.append(onnx.ValueInfoProto(name=name))
                named.add(name)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _ort_shapes(session: Any, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]] | None:
    try:
        outputs = session.run(None, {session.get_inputs()[0].name: np.zeros(shape, np.float32)})
    except Exception:  # ONNX Runtime's refusal is the witness that the size does not run
        return None
    return {o.name: tuple(v.shape) for o, v in zip(session.get_outputs(), outputs)}


@pytest.mark.parametrize("dynamo", EXPORTERS)
@pytest.mark.parametrize("name", sorted(op.PATTERNS))
def test_sizes_that_run_are_the_sizes_onnx_runtime_runs(name: str, dynamo: bool, tmp_path: Path) -> None:
    if dynamo:
        pytest.importorskip("onnxscript")
    ort.set_default_logger_severity(4)
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    cls, example = op.PATTERNS[name]
    data = op.export(cls(), example, dynamo=dynamo)
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(data)
    graph = read_onnx(path)
    session = _session(data)
    report = inspect_graph(graph, [example])
    assert report.axes, name
    for axis in report.axes:
        assert axis.runs is not None, (name, axis.note)
        for size in range(1, TOP + 1):
            shape = list(example)
            shape[axis.tensor_axis] = size
            truth = _ort_shapes(session, tuple(shape))
            run = propagate(graph, (tuple(shape),))
            assert axis.runs.contains(size) == (truth is not None), (name, axis.spatial_axis, size)
            assert (run.ok and not run.stopped) == (truth is not None), (name, size)
            if truth is None:
                # the failure is located: convcalc names a node that cannot run or a merge that disagrees
                assert run.failure is not None or run.mismatches, (name, size)
                continue
            for tensor, dims in truth.items():
                if tensor in run.shapes:
                    assert run.shapes[tensor] == dims, (name, size, tensor)
            # the formulas give the same sizes as the run, on every tensor
            for tensor, formulas in axis.formulas.items():
                for n, formula in enumerate(formulas):
                    value = None if formula is None else formula.at(size)
                    if value is not None and tensor in run.shapes:
                        assert run.shapes[tensor][n] == value, (name, size, tensor, n)


def test_the_shortcut_runs_on_multiples_of_8_and_no_size_drops_nothing(tmp_path: Path) -> None:
    """A 1x1 stride-2 shortcut never reads the last input of an even size: no size drops nothing, but
    every size whose halvings agree runs (hand-worked: stem s2, pool s2, conv s2 vs the 1x1 s2)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    cls, example = op.PATTERNS["shortcut"]
    path = tmp_path / "shortcut.onnx"
    path.write_bytes(op.export(cls(), example))
    report = inspect_graph(read_onnx(path), [example])
    axis = report.axes[0]
    assert axis.runs is not None and axis.accepted is not None
    assert axis.runs.smallest == 1 and all(axis.runs.contains(n) for n in range(1, 65))
    assert report.runs


@pytest.mark.parametrize("name", ["shortcut", "interpolate_to_skip", "audio", "pad_to_skip"])
def test_parameters_are_torchs_count(name: str, tmp_path: Path) -> None:
    """Every parameter: the exported file's floating-point initializers are sum(p.numel()) of the module
    (models without BatchNorm, which the exporter folds into the convolutions)."""
    pytest.importorskip("torch")
    cls, example = op.PATTERNS[name]
    model = cls()
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(op.export(model, example))
    report = inspect_graph(read_onnx(path), [example])
    assert report.parameters == sum(p.numel() for p in model.parameters())


def test_receptive_field_through_an_unsqueeze_is_onnx_runtimes(tmp_path: Path) -> None:
    """A (B, T) audio input unsqueezed to (B, 1, T): the field follows the time axis to its new place.
    Witness: ONNX Runtime with one input element changed at a time (random weights, so every tap
    matters); hand-worked: 10 + (3 - 1) * 5 = 20."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    cls, _ = op.PATTERNS["audio"]
    length = 60
    data = op.export(cls(), (1, length))
    path = tmp_path / "audio.onnx"
    path.write_bytes(data)
    report = inspect_graph(read_onnx(path), [(1, length)])
    session = _session(data)
    name = session.get_outputs()[0].name
    base = session.run([name], {"x": np.zeros((1, length), np.float32)})[0]
    reads: dict[int, list[int]] = {}
    for u in range(length):
        x = np.zeros((1, length), np.float32)
        x[0, u] = 1.0
        changed = np.abs(session.run([name], {"x": x})[0] - base).max(axis=1)[0] > 0
        for j in np.flatnonzero(changed):
            reads.setdefault(int(j), []).append(u)
    widest = max(max(us) - min(us) + 1 for us in reads.values())
    assert [values for _, values in report.fields] == [(widest,)] == [(20,)]


def _resize_model(mode: str, coordinate: str, nearest: str, scale: float) -> bytes:
    from onnx import TensorProto, helper

    node = helper.make_node(
        "Resize",
        ["x", "", "scales"],
        ["y"],
        mode=mode,
        coordinate_transformation_mode=coordinate,
        nearest_mode=nearest,
    )
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, "h", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor("scales", TensorProto.FLOAT, [4], [1.0, 1.0, scale, 1.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)
    return model.SerializeToString()


@pytest.mark.parametrize(
    ("mode", "coordinate", "nearest"),
    [
        ("nearest", "asymmetric", "floor"),
        ("nearest", "half_pixel", "round_prefer_ceil"),
        ("nearest", "half_pixel", "round_prefer_floor"),
        ("linear", "half_pixel", "round_prefer_floor"),
        ("linear", "align_corners", "round_prefer_floor"),
        ("cubic", "half_pixel", "round_prefer_floor"),
        ("cubic", "pytorch_half_pixel", "round_prefer_floor"),
    ],
)
@pytest.mark.parametrize("scale", [2.0, 1.5, 0.5])
def test_resize_fields_are_the_inputs_onnx_runtime_reads(
    mode: str, coordinate: str, nearest: str, scale: float, tmp_path: Path
) -> None:
    """Which inputs each Resize output reads, per mode and coordinate transform: the widest is the field.
    Witness: ONNX Runtime with one input element changed at a time."""
    data = _resize_model(mode, coordinate, nearest, scale)
    path = tmp_path / "resize.onnx"
    path.write_bytes(data)
    length = 9
    report = inspect_graph(read_onnx(path), [(1, 1, length, 1)])
    session = _session(data)
    base = session.run(["y"], {"x": np.zeros((1, 1, length, 1), np.float32)})[0]
    reads: dict[int, list[int]] = {}
    for u in range(length):
        x = np.zeros((1, 1, length, 1), np.float32)
        x[0, 0, u, 0] = 1.0
        changed = np.abs(session.run(["y"], {"x": x})[0] - base)[0, 0, :, 0] > 1e-6
        for j in np.flatnonzero(changed):
            reads.setdefault(int(j), []).append(u)
    widest = max(max(us) - min(us) + 1 for us in reads.values())
    assert report.fields[0][1][0] == widest
