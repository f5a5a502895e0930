"""Time of `convcalc inspect` on a 100-layer ONNX model, beyond importing onnx.

The model is a U-Net-like encoder-decoder built with onnx.helper: 4 levels of (Conv 3x3, Relu) x 5
and a MaxPool, a bottleneck of 5 (Conv, Relu), 4 levels of ConvTranspose k2 s2, Concat with the
skip, (Conv, Relu) x 5; 100 nodes with the activations. Timed: reading the file (protobuf,
topological walk, onnx shape inference) and the whole analysis (every layer, merges and fixes,
accepted sizes per axis, receptive field), at an odd size that breaks the skips (fixes are
re-checked) and at a good size. Target: at most 0.5 s each.
Run: python benchmarks/inspect_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_S = 0.5


def build(path: Path) -> int:
    import onnx
    from onnx import TensorProto, helper

    nodes: list[Any] = []
    weights: list[Any] = []
    width = 4

    def conv(x: str, c_in: int, c_out: int) -> str:
        n = len(nodes)
        weights.append(
            helper.make_tensor(f"w{n}", TensorProto.FLOAT, [c_out, c_in, 3, 3], [0.0] * (c_out * c_in * 9))
        )
        nodes.append(helper.make_node("Conv", [x, f"w{n}"], [f"c{n}"], name=f"conv{n}", pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{n}"], [f"r{n}"], name=f"relu{n}"))
        return f"r{n}"

    x, c = "x", 3
    skips = []
    for level in range(4):
        for _ in range(5):
            x, c = conv(x, c, width << level), width << level
        skips.append((x, c))
        nodes.append(
            helper.make_node(
                "MaxPool", [x], [f"p{level}"], name=f"pool{level}", kernel_shape=[2, 2], strides=[2, 2]
            )
        )
        x = f"p{level}"
    for _ in range(5):
        x, c = conv(x, c, width << 4), width << 4
    for level in reversed(range(4)):
        skip, skip_c = skips[level]
        n = len(nodes)
        weights.append(
            helper.make_tensor(f"u{n}", TensorProto.FLOAT, [c, skip_c, 2, 2], [0.0] * (c * skip_c * 4))
        )
        nodes.append(
            helper.make_node("ConvTranspose", [x, f"u{n}"], [f"t{n}"], name=f"up{level}", strides=[2, 2])
        )
        nodes.append(helper.make_node("Concat", [skip, f"t{n}"], [f"k{n}"], name=f"skip{level}", axis=1))
        x, c = f"k{n}", 2 * skip_c
        for _ in range(5 if level else 4):
            x, c = conv(x, c, skip_c), skip_c
    graph = helper.make_graph(
        nodes,
        "bench",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)],
        weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return len(nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    import onnx  # noqa: F401

    import_s = time.perf_counter() - start
    from convcalc.inspect.analysis import inspect_graph
    from convcalc.inspect.onnx_reader import read_onnx

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "model100.onnx"
        count = build(path)
        print(f"model: {count} nodes; import onnx: {import_s:.3f} s (not counted)")
        for size in (255, 256):
            shape = [(1, 3, size, size)]
            start = time.perf_counter()
            inspect_graph(read_onnx(path, shape), shape)
            cold = time.perf_counter() - start  # with the first imports of convcalc's analysis modules
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                report = inspect_graph(read_onnx(path, shape), shape)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            print(
                f"inspect at {size}x{size}: {median:.3f} s median of {args.repeat}, first run {cold:.3f} s "
                f"({max(median, cold) / TARGET_S:.2f}x the {TARGET_S} s budget; {report.headline()})"
            )


if __name__ == "__main__":
    main()
