"""Write the ONNX files of the diff examples: python tests/data/diff/make_diff_models.py

net.onnx: net.py exported by torch.onnx.export (TorchScript exporter, dynamo=False), input 1x3x16x12.
net_moved.onnx: net.onnx with the head's pads moved from 1,1,1,1 to 0,1,2,1 (the defect of a converter
that puts SAME padding on the wrong side).
net_nhwc.onnx: net.onnx run in NHWC (a Transpose at the input and at the output, as tf2onnx writes a
Keras model) with the transposed convolution's output_padding dropped.
"""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

import onnx
import torch
from onnx import TensorProto, helper

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from net import build  # noqa: E402

SHAPE = (1, 3, 16, 12)


def set_attr(node: onnx.NodeProto, name: str, value: object) -> None:
    kept = [a for a in node.attribute if a.name != name]
    del node.attribute[:]
    node.attribute.extend(kept)
    if value is not None:
        node.attribute.append(helper.make_attribute(name, value))


def main() -> None:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(build(), (torch.zeros(SHAPE),), buffer, dynamo=False, input_names=["x"])
    model = onnx.load_model_from_string(buffer.getvalue())
    onnx.save(model, str(HERE / "net.onnx"))

    moved = onnx.ModelProto()
    moved.CopyFrom(model)
    head = next(n for n in moved.graph.node if n.name == "/head/Conv")
    set_attr(head, "pads", [0, 1, 2, 1])
    onnx.save(moved, str(HERE / "net_moved.onnx"))

    nhwc = onnx.ModelProto()
    nhwc.CopyFrom(model)
    graph = nhwc.graph
    up = next(n for n in graph.node if n.op_type == "ConvTranspose")
    set_attr(up, "output_padding", None)
    for node in graph.node:
        node.input[:] = ["x_nchw" if name == "x" else name for name in node.input]
    y = graph.output[0].name
    graph.node[-1].output[0] = "y_nchw"
    graph.node.insert(0, helper.make_node("Transpose", ["x"], ["x_nchw"], name="to_nchw", perm=[0, 3, 1, 2]))
    graph.node.append(helper.make_node("Transpose", ["y_nchw"], [y], name="to_nhwc", perm=[0, 2, 3, 1]))
    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 12, 3]))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 15, 11, 2]))
    onnx.checker.check_model(nhwc)
    onnx.save(nhwc, str(HERE / "net_nhwc.onnx"))


if __name__ == "__main__":
    main()
