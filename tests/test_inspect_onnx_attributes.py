"""ONNX attributes that exporters rarely write, built with onnx.helper and run by ONNX Runtime.

For each model and each input size, every node's output shape as ONNX Runtime computes it (or its
refusal to run) must be what inspect's propagation says.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("numpy")

sys.path.insert(0, str(Path(__file__).parent))
import inspect_models as im  # noqa: E402

from convcalc.graph.shapes import propagate  # noqa: E402
from convcalc.inspect.analysis import inspect_graph  # noqa: E402
from convcalc.inspect.onnx_reader import graph_from_model  # noqa: E402

helper = onnx.helper
TP = onnx.TensorProto


def _weight(name: str, shape: tuple[int, ...]) -> Any:
    count = 1
    for d in shape:
        count *= d
    return helper.make_tensor(name, TP.FLOAT, shape, [0.5] * count)


def _ints(name: str, values: list[int]) -> Any:
    return helper.make_tensor(name, TP.INT64, [len(values)], values)


def _model(nodes: list[Any], rank: int, initializers: list[Any], opset: int = 19) -> Any:
    dims = ["n", "c", *[f"s{n}" for n in range(rank - 2)]]
    x = helper.make_tensor_value_info("x", TP.FLOAT, dims)
    outputs = [o for node in nodes for o in node.output]
    graph = helper.make_graph(
        nodes, "g", [x], [helper.make_empty_tensor_value_info(o) for o in outputs], initializers
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 9
    return model


def _compare(model: Any, shapes: list[tuple[int, ...]]) -> int:
    """Compare on every shape; return how many ran in ONNX Runtime."""
    graph = graph_from_model(model, "m.onnx")
    session = im.ort_session(model.SerializeToString())
    ran = 0
    for shape in shapes:
        run = propagate(graph, (shape,))
        ort = im.run_ort(session, shape)
        if isinstance(ort, str) or any(0 in got for got in ort.values()):
            # a refusal, or an empty tensor: both are a layer that cannot run for inspect
            assert not run.ok, f"{shape}: ONNX Runtime fails or gives an empty output ({ort}); inspect runs"
            continue
        if run.failure is not None and "shifted" in run.failure.message:
            continue  # a documented refusal: ORT runs these, reading windows the spec does not
        assert run.ok, f"{shape}: ONNX Runtime runs {ort}; inspect says {run.failure or run.mismatches}"
        for name, got in ort.items():
            assert run.shapes[name] == got, (shape, name, run.shapes[name], got)
        ran += 1
    return ran


@pytest.mark.parametrize("auto_pad", ["SAME_LOWER", "SAME_UPPER", "VALID"])
@pytest.mark.parametrize(("kernel", "stride"), [(1, 2), (2, 2), (3, 2), (4, 3), (3, 1)])
def test_conv_auto_pad(auto_pad: str, kernel: int, stride: int) -> None:
    conv = helper.make_node(
        "Conv", ["x", "w"], ["y"], auto_pad=auto_pad, strides=[stride, stride], kernel_shape=[kernel, kernel]
    )
    model = _model([conv], 4, [_weight("w", (3, 2, kernel, kernel))])
    _compare(model, [(1, 2, i, i + 1) for i in range(1, 10)])


@pytest.mark.parametrize("auto_pad", ["SAME_LOWER", "SAME_UPPER", "NOTSET"])
@pytest.mark.parametrize(
    ("kernel", "stride", "dilation", "output_padding"), [(3, 2, 1, 1), (3, 2, 2, 1), (4, 3, 2, 2)]
)
def test_conv_transpose_dilation_and_output_padding(
    auto_pad: str, kernel: int, stride: int, dilation: int, output_padding: int
) -> None:
    attributes: dict[str, Any] = {
        "strides": [stride],
        "dilations": [dilation],
        "output_padding": [output_padding],
        "auto_pad": auto_pad,
    }
    if auto_pad == "NOTSET":
        attributes["pads"] = [1, 2]
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], **attributes)
    model = _model([node], 3, [_weight("w", (2, 3, kernel))])
    _compare(model, [(1, 2, i) for i in range(1, 9)])


@pytest.mark.parametrize("output_shape", [[10], [11], [9], [13], [20]])
@pytest.mark.parametrize("auto_pad", ["SAME_LOWER", "SAME_UPPER", "NOTSET"])
def test_conv_transpose_output_shape(output_shape: list[int], auto_pad: str) -> None:
    node = helper.make_node(
        "ConvTranspose", ["x", "w"], ["y"], strides=[2], output_shape=output_shape, auto_pad=auto_pad
    )
    model = _model([node], 3, [_weight("w", (2, 3, 3))])
    _compare(model, [(1, 2, 5)])


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize(
    ("kernel", "stride", "pads"), [(2, 2, [0, 0]), (3, 2, [1, 1]), (3, 2, [0, 1]), (2, 3, [1, 0])]
)
def test_pool_ceil_mode(op: str, kernel: int, stride: int, pads: list[int]) -> None:
    node = helper.make_node(op, ["x"], ["y"], kernel_shape=[kernel], strides=[stride], pads=pads, ceil_mode=1)
    _compare(_model([node], 3, []), [(1, 2, i) for i in range(2, 12)])


def test_a_graph_of_many_ops() -> None:
    """Conv, pooling, Resize by scales and to sizes, Pad, Slice, DepthToSpace, SpaceToDepth, Concat, Add
    with broadcasting, GlobalAveragePool, Flatten, Gemm: shapes and failures as ONNX Runtime has them."""
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["a"], ["a1"]),
        helper.make_node("MaxPool", ["a1"], ["b"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        helper.make_node("Resize", ["b", "", "scales"], ["c"], mode="nearest"),
        helper.make_node("Pad", ["c", "pads"], ["d"]),
        helper.make_node("Slice", ["d", "starts", "ends", "axes"], ["e"]),
        helper.make_node("Concat", ["e", "a1"], ["f"], axis=1),
        helper.make_node("Add", ["f", "bias"], ["g"]),
        helper.make_node("DepthToSpace", ["g"], ["h"], blocksize=2),
        helper.make_node("SpaceToDepth", ["h"], ["i"], blocksize=2),
        helper.make_node("GlobalAveragePool", ["i"], ["j"]),
        helper.make_node("Flatten", ["j"], ["k"]),
        helper.make_node("Gemm", ["k", "fc"], ["l"], transB=1),
        helper.make_node("Resize", ["a1", "", "", "sizes"], ["m"], mode="linear"),
    ]
    initializers = [
        _weight("w1", (4, 3, 3, 3)),
        helper.make_tensor("scales", TP.FLOAT, [4], [1.0, 1.0, 2.0, 2.0]),
        _ints("pads", [0, 0, 1, 0, 0, 0, -1, 2]),
        _ints("starts", [1]),
        _ints("ends", [-1]),
        _ints("axes", [3]),
        _weight("bias", (8, 1, 1)),
        _weight("fc", (5, 8)),
        _ints("sizes", [1, 4, 7, 9]),
    ]
    model = _model(nodes, 4, initializers)
    shapes = [(1, 3, h, w) for h in (7, 8, 9, 12, 13) for w in (8, 9, 10, 11)]
    # Runs where the Concat operands agree, fails elsewhere: both sides are exercised.
    assert 0 < _compare(model, shapes) < len(shapes)


def test_an_unknown_op_is_named_and_shapes_continue_through_onnx_inference() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1]),
        helper.make_node("CumSum", ["a", "axis"], ["b"]),
        helper.make_node("ConvTranspose", ["b", "w2"], ["c"], strides=[2]),
    ]
    model = _model(nodes, 3, [_weight("w1", (2, 2, 3)), _ints("axis", [2]), _weight("w2", (2, 2, 3))])
    model.graph.input[0].CopyFrom(helper.make_tensor_value_info("x", TP.FLOAT, [1, 2, 9]))
    report = inspect_graph(graph_from_model(model, "m.onnx"))
    assert report.run.shapes["c"] == (1, 2, 19)
    assert any(f.kind == "unknown" and "CumSum" in f.message for f in report.findings)
    assert report.axes[0].accepted is None and "CumSum" in (report.axes[0].note or "")
    _compare(model, [(1, 2, 9)])


def test_an_unknown_op_without_a_shape_stops_propagation_there() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"]),
        helper.make_node("NonZero", ["a"], ["b"]),
        helper.make_node("Cast", ["b"], ["c"], to=TP.FLOAT),
    ]
    model = _model(nodes, 3, [_weight("w1", (2, 2, 3))])
    report = inspect_graph(graph_from_model(model, "m.onnx"), [(1, 2, 9)])
    assert [n.name for n in report.run.stopped] == ["NonZero_1", "Cast_2"]
    stopped = [f for f in report.findings if f.kind == "stopped"]
    assert len(stopped) == 1 and stopped[0].severity == "error" and stopped[0].node == "NonZero_1"
    assert (
        "ONNX's NonZero" in stopped[0].message
        and "ONNX's shape inference gives no shape" in stopped[0].message
    )
    # the model is not shown to run: a finding in the headline and exit 1, never "no findings ... runs"
    assert report.headline() == "1 finding: shapes stop at layer NonZero_1 (unknown op NonZero)"
    assert not report.runs and int(report.exit_code) == 1
    # witness: ONNX Runtime runs it; the shapes inspect did give (up to the stop) are ONNX Runtime's
    ort = im.run_ort(im.ort_session(im.with_every_output(model.SerializeToString())[0]), (1, 2, 9))
    assert not isinstance(ort, str) and ort["a"] == report.run.shapes["a"] == (1, 2, 7)


def test_same_upper_with_dilation_fails_as_in_onnx_runtime_and_the_explicit_pads_run() -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="dil", dilations=[2], auto_pad="SAME_UPPER")]
    model = _model(nodes, 3, [_weight("w", (3, 2, 3))])
    model.graph.input[0].CopyFrom(helper.make_tensor_value_info("x", TP.FLOAT, [1, 2, 7]))
    _compare(model, [(1, 2, 7)])
    report = inspect_graph(graph_from_model(model, "m.onnx"))
    assert int(report.exit_code) == 1
    fix = report.findings[0].fix or ""
    assert fix.startswith("auto_pad NOTSET with pads=[2, 2]")
    del model.graph.node[0].attribute[:]
    model.graph.node[0].attribute.extend(
        [helper.make_attribute("dilations", [2]), helper.make_attribute("pads", [2, 2])]
    )
    assert im.run_ort(im.ort_session(model.SerializeToString()), (1, 2, 7)) == {"y": (1, 3, 7)}


def test_portability_to_pytorch_names_the_slice_port_gives() -> None:
    from convcalc.port.translate import port

    nodes = [
        helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2], auto_pad="SAME_UPPER")
    ]
    model = _model(nodes, 3, [_weight("w", (2, 3, 3))])
    model.graph.input[0].CopyFrom(helper.make_tensor_value_info("x", TP.FLOAT, [1, 2, 5]))
    report = inspect_graph(graph_from_model(model, "m.onnx"), target="pytorch")
    (finding,) = [f for f in report.findings if f.kind == "portability"]
    expected = port("onnx", "pytorch", 5, 3, stride=2, padding="same_upper", transposed=True)
    assert finding.node == "up" and (finding.fix or "").endswith(
        "; then " + "; ".join(expected.fix_steps()).replace("axis 0:", "L:")
    )
    assert report.run.shapes["y"] == (1, 3, 10) == (1, 3, *expected.source.output)
    _compare(model, [(1, 2, 5)])


def test_merge_fixes_assume_the_inner_fixes_and_run_in_onnx_runtime() -> None:
    """Decoder first in each Concat: the outer fix only exists once the inner one is applied."""
    nodes = [
        helper.make_node("MaxPool", ["x"], ["d1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("MaxPool", ["d1"], ["d2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("ConvTranspose", ["d2", "w2"], ["u2"], name="up2", strides=[2, 2]),
        helper.make_node("Concat", ["u2", "d1"], ["c2"], name="skip2", axis=1),
        helper.make_node("ConvTranspose", ["c2", "w1"], ["u1"], name="up1", strides=[2, 2]),
        helper.make_node("Concat", ["u1", "x"], ["y"], name="skip1", axis=1),
    ]
    model = _model(nodes, 4, [_weight("w2", (2, 2, 2, 2)), _weight("w1", (4, 2, 2, 2))])
    model.graph.input[0].CopyFrom(helper.make_tensor_value_info("x", TP.FLOAT, [1, 2, 11, 11]))
    report = inspect_graph(graph_from_model(model, "m.onnx"))
    assert [m.name for m in report.merges] == ["skip2", "skip1"]
    assert [m.fixes[0] for m in report.merges] == [
        "output_padding=[1, 1] on up2 (ConvTranspose)",
        "output_padding=[1, 1] on up1 (ConvTranspose) (with the fixes above applied, the operands are "
        "1x2x10x10 vs 1x2x11x11)",
    ]
    for node in model.graph.node:
        if node.op_type == "ConvTranspose":
            node.attribute.append(helper.make_attribute("output_padding", [1, 1]))
    assert im.run_ort(im.ort_session(model.SerializeToString()), (1, 2, 11, 11))["y"] == (1, 4, 11, 11)


def test_a_node_without_inputs_feeding_a_merge() -> None:
    """RandomNormal makes a fixed 1x2x6 tensor: the Concat agrees only where the conv output is 6."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["a"], name="conv", pads=[1, 1], strides=[2]),
        helper.make_node("RandomNormal", [], ["r"], name="noise", shape=[1, 2, 6]),
        helper.make_node("Concat", ["a", "r"], ["y"], name="merge", axis=1),
    ]
    model = _model(nodes, 3, [_weight("w", (2, 2, 3))])
    _compare(model, [(1, 2, i) for i in range(8, 15)])
    session = im.ort_session(model.SerializeToString())
    runs = [i for i in range(1, 30) if not isinstance(im.run_ort(session, (1, 2, i)), str)]
    report = inspect_graph(graph_from_model(model, "m.onnx"), [(1, 2, 9)])
    assert [m.name for m in report.merges] == ["merge"]
    accepted = report.axes[0].accepted
    assert accepted is not None and accepted.classes == () and list(accepted.singles) == runs == [11, 12]


def test_output_shape_with_output_padding_is_flagged_and_read_as_onnx_runtime_runs_it() -> None:
    node = helper.make_node(
        "ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2], output_shape=[10], output_padding=[1]
    )
    model = _model([node], 3, [_weight("w", (2, 3, 3))])
    assert _compare(model, [(1, 2, 5)]) == 1
    report = inspect_graph(graph_from_model(model, "m.onnx"), [(1, 2, 5)])
    (finding,) = [f for f in report.findings if f.kind == "conflict"]
    assert finding.node == "up" and "both given" in finding.message


LAYER = st.sampled_from(["Conv", "ConvTranspose", "MaxPool", "AveragePool", "Resize", "Pad"])


@st.composite
def _random_chain(draw: Any) -> tuple[list[Any], list[Any]]:
    """3 to 5 one-axis layers with random attributes, each reading the previous output."""
    nodes: list[Any] = []
    weights: list[Any] = []
    x = "x"
    for n in range(draw(st.integers(3, 5))):
        op = draw(LAYER)
        k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        out = f"t{n}"
        if op in ("Conv", "ConvTranspose"):
            word = draw(st.sampled_from(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]))
            attrs: dict[str, Any] = {"strides": [s], "dilations": [d], "auto_pad": word}
            if word == "NOTSET":
                attrs["pads"] = [draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))]
            if op == "ConvTranspose" and draw(st.booleans()):
                attrs["output_padding"] = [draw(st.integers(0, s - 1))]
            weights.append(_weight(f"w{n}", (2, 2, k)))
            nodes.append(helper.make_node(op, [x, f"w{n}"], [out], **attrs))
        elif op in ("MaxPool", "AveragePool"):
            word = draw(st.sampled_from(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]))
            attrs = {
                "kernel_shape": [k],
                "strides": [s],
                "ceil_mode": draw(st.integers(0, 1)),
                "auto_pad": word,
            }
            if word == "NOTSET":
                attrs["pads"] = [draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))]
            if op == "MaxPool":
                attrs["dilations"] = [d]
            nodes.append(helper.make_node(op, [x], [out], **attrs))
        elif op == "Resize":
            weights.append(helper.make_tensor(f"sc{n}", TP.FLOAT, [3], [1.0, 1.0, float(s)]))
            nodes.append(helper.make_node("Resize", [x, "", f"sc{n}"], [out], mode="nearest"))
        else:
            weights.append(_ints(f"p{n}", [0, 0, draw(st.integers(-1, 2)), 0, 0, draw(st.integers(-1, 2))]))
            nodes.append(helper.make_node("Pad", [x, f"p{n}"], [out]))
        x = out
    return nodes, weights


@settings(max_examples=100, deadline=None)
@given(_random_chain())
def test_random_chains_match_onnx_runtime(chain: tuple[list[Any], list[Any]]) -> None:
    nodes, weights = chain
    _compare(_model(nodes, 3, weights), [(1, 2, i) for i in (1, 2, 5, 8, 13)])


def test_upsample_opset_9_and_matmul() -> None:
    nodes = [
        helper.make_node("Upsample", ["x", "scales"], ["u"], mode="nearest"),
        helper.make_node("GlobalMaxPool", ["u"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("MatMul", ["f", "m"], ["y"]),
    ]
    initializers = [helper.make_tensor("scales", TP.FLOAT, [4], [1.0, 1.0, 2.0, 3.0]), _weight("m", (2, 5))]
    model = _model(nodes, 4, initializers, opset=9)
    model.ir_version = 4
    assert _compare(model, [(1, 2, h, w) for h in (1, 4, 7) for w in (2, 5)]) == 6
    report = inspect_graph(graph_from_model(model, "m.onnx"), [(1, 2, 7, 5)])
    assert report.run.shapes["u"] == (1, 2, 14, 15) and report.run.shapes["y"] == (1, 5)
