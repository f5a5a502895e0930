"""Time of `convcalc diff` on two 500-node ONNX models, beyond importing onnx and convcalc.

Both models are a deep encoder-decoder built with onnx.helper: levels of (Conv 3x3, Relu) with a
residual Add, MaxPool down, ConvTranspose k2 s2 and a Resize up, about 500 nodes each. A is named as
the TorchScript exporter names nodes ("/enc3/conv2/Conv"); B as the dynamo exporter does
("node_conv2d_41"), so no name matches and the layers are aligned by order; B's NHWC variant has
Transposes at its input and output and one pads attribute moved (the diff finds it). Timed: reading
both files (protobuf, topological walk, onnx shape inference), propagating the sizes, naming the axes,
folding, aligning and comparing every layer, the output position maps. Target: at most 1 s.
Run: python benchmarks/diff_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_S = 1.0
SIZE = 64


def build(path: Path, dynamo_names: bool, nhwc: bool, moved: int | None) -> int:
    import onnx
    from onnx import TensorProto, helper

    nodes: list[Any] = []
    weights: list[Any] = []
    width = 4

    def name(kind: str, path_name: str) -> str:
        return f"node_{kind}_{len(nodes)}" if dynamo_names else path_name

    def conv(x: str, c: int, where: str) -> str:
        n = len(nodes)
        weights.append(helper.make_tensor(f"w{n}", TensorProto.FLOAT, [c, c, 3, 3], [0.0] * (c * c * 9)))
        pads = [0, 1, 2, 1] if moved == n else [1, 1, 1, 1]
        nodes.append(
            helper.make_node("Conv", [x, f"w{n}"], [f"c{n}"], name=name("conv2d", f"{where}/Conv"), pads=pads)
        )
        nodes.append(helper.make_node("Relu", [f"c{n}"], [f"r{n}"], name=name("relu", f"{where}/Relu")))
        return f"r{n}"

    x = "x"
    if nhwc:
        nodes.append(helper.make_node("Transpose", ["x_nhwc"], ["x"], name="to_nchw", perm=[0, 3, 1, 2]))
    levels, blocks = 3, 17
    for level in range(levels):
        for block in range(blocks):
            y = conv(conv(x, width, f"/enc{level}/b{block}/conv1"), width, f"/enc{level}/b{block}/conv2")
            nodes.append(
                helper.make_node(
                    "Add", [x, y], [f"a{len(nodes)}"], name=name("add", f"/enc{level}/b{block}/Add")
                )
            )
            x = nodes[-1].output[0]
        nodes.append(
            helper.make_node(
                "MaxPool",
                [x],
                [f"p{level}"],
                name=name("max_pool2d", f"/pool{level}/MaxPool"),
                kernel_shape=[2, 2],
                strides=[2, 2],
            )
        )
        x = f"p{level}"
    for level in reversed(range(levels)):
        n = len(nodes)
        weights.append(
            helper.make_tensor(f"u{n}", TensorProto.FLOAT, [width, width, 2, 2], [0.0] * (width * width * 4))
        )
        if level % 2:
            nodes.append(
                helper.make_node(
                    "ConvTranspose",
                    [x, f"u{n}"],
                    [f"t{n}"],
                    name=name("convolution", f"/up{level}/ConvTranspose"),
                    strides=[2, 2],
                )
            )
        else:
            weights.append(helper.make_tensor(f"s{n}", TensorProto.FLOAT, [4], [1.0, 1.0, 2.0, 2.0]))
            nodes.append(
                helper.make_node(
                    "Resize",
                    [x, "", f"s{n}"],
                    [f"t{n}"],
                    name=name("upsample_nearest2d", f"/up{level}/Resize"),
                    mode="nearest",
                )
            )
        x = f"t{n}"
        for block in range(blocks):
            y = conv(conv(x, width, f"/dec{level}/b{block}/conv1"), width, f"/dec{level}/b{block}/conv2")
            nodes.append(
                helper.make_node(
                    "Add", [x, y], [f"a{len(nodes)}"], name=name("add", f"/dec{level}/b{block}/Add")
                )
            )
            x = nodes[-1].output[0]
    out = "y"
    if nhwc:
        nodes.append(helper.make_node("Transpose", [x], [out], name="to_nhwc", perm=[0, 2, 3, 1]))
    else:
        nodes.append(helper.make_node("Identity", [x], [out], name="out"))
    shape = [1, SIZE, SIZE, width] if nhwc else [1, width, SIZE, SIZE]
    graph = helper.make_graph(
        nodes,
        "bench",
        [helper.make_tensor_value_info("x_nhwc" if nhwc else "x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return len(nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import onnx  # noqa: F401  (imports are not timed)

    from convcalc.diff.document import diff_document
    from convcalc.diff.headline import diff_headline
    from convcalc.diff.report import diff_models

    with tempfile.TemporaryDirectory() as folder:
        a, b = Path(folder) / "a.onnx", Path(folder) / "b.onnx"
        count_a = build(a, dynamo_names=False, nhwc=False, moved=None)
        count_b = build(b, dynamo_names=True, nhwc=True, moved=300)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = diff_models(str(a), str(b), [(1, 4, SIZE, SIZE)])
            diff_document(report)
            headline = diff_headline(report)
            times.append(time.perf_counter() - start)
    first, median = times[0], statistics.median(times)
    print(
        f"A: {count_a} nodes, B: {count_b} nodes (NHWC, dynamo-style names), {len(report.pairs)} layer pairs"
    )
    print(f"headline: {headline}")
    print(
        f"diff: first {first:.3f} s, median {median:.3f} s of {args.repeat}; target {TARGET_S:.1f} s: "
        f"{median / TARGET_S:.2f} of the budget"
    )
    # The slow path of the alignment: B lacks one layer, so the kinds differ and every layer of A is
    # scored against every layer of B (no name matches).
    from convcalc.diff.align import align

    layers_b = report.b.layers[:100] + report.b.layers[101:]
    start = time.perf_counter()
    pairs = align(report.a.layers, layers_b)
    spent = time.perf_counter() - start
    unpaired = sum(1 for x, y in pairs if x is None or y is None)
    print(
        f"alignment by order with one layer missing ({len(report.a.layers)} x {len(layers_b)} layers): "
        f"{spent:.3f} s, {unpaired} unpaired"
    )


if __name__ == "__main__":
    main()
