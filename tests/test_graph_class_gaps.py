"""A disagreement that only some residue classes show, of sizes that do not move with the input.

A Reshape to a target taken modulo the input size (``[1, -1, H % m + 1]`` of a pooled (1, 12, 1, 1)
map) fails only where H % m + 1 does not divide 12. Its operands' sizes never move with H, so the
accepted sizes counted it only when one of the four sample runs fell in a failing class: with m = 5
every H was said to run, although H = 4, 9, 14, ... fail (found by a fresh-eyes review). Each class's
first line is a sample now. Witness: ONNX Runtime over H = 1..40.
"""

from __future__ import annotations

from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
np = pytest.importorskip("numpy")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import convcalc  # noqa: E402

CHANNELS = 12


def modulo_reshape(path: Path, modulus: int) -> None:
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["pooled"]),
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "two"], ["height"], axis=0),
        helper.make_node("Mod", ["height", "modulus"], ["rest"]),
        helper.make_node("Add", ["rest", "one"], ["last"]),
        helper.make_node("Concat", ["lead", "last"], ["target"], axis=0),
        helper.make_node("Reshape", ["pooled", "target"], ["y"]),
    ]
    constants = {"two": [2], "lead": [1, -1], "modulus": [modulus], "one": [1]}
    graph = helper.make_graph(
        nodes,
        "modulo_reshape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, CHANNELS, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array(v, np.int64), name) for name, v in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


@pytest.mark.parametrize("modulus", [3, 4, 5, 7])
def test_a_failure_of_some_classes_only_is_found(modulus: int, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    modulo_reshape(path, modulus)
    session = ort.InferenceSession(str(path))
    ort.set_default_logger_severity(4)

    def runs(height: int) -> bool:
        try:
            session.run(None, {"x": np.zeros((1, CHANNELS, height, 3), np.float32)})
        except Exception:  # ONNX Runtime's refusal of the Reshape
            return False
        return True

    truth = {h for h in range(1, 41) if runs(h)}
    report = convcalc.inspect(str(path), input=f"1x{CHANNELS}x{min(truth)}x3")
    (axis,) = [a for a in report.axes if a.tensor_axis == 2]
    assert axis.runs is not None, axis.note
    assert {h for h in range(1, 41) if axis.runs.contains(h)} == truth
