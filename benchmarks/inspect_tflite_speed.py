"""Time of reading a 500-operator `.tflite` model, and of inspecting it, beyond importing tflite.

The model is written here with the flatbuffers builder of the `tflite` package (no TensorFlow): an
NHWC input 1x64x64x8, then 250 blocks of CONV_2D 3x3 'SAME' (float32 weights and bias in buffers)
and ADD of the block's input (a residual), so 500 operators, 751 tensors. Timed: ``read_tflite``
(memory map, budgets, every operator mapped to a node) and the whole analysis. The diff command
reads two such models; its target is 1 s for both, so the budget here is 0.25 s for one read.
Run: python benchmarks/inspect_tflite_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_READ_S = 0.25
BLOCKS = 250
CHANNELS = 8
SIZE = 64


def _module(name: str) -> Any:
    # The package re-exports each class under its module's name: the module holds the builder functions.
    return importlib.import_module(f"tflite.{name}")


def build(path: Path) -> int:
    import flatbuffers
    import tflite

    b = flatbuffers.Builder(1024)
    buffer, tensor, operator, model = (_module(n) for n in ("Buffer", "Tensor", "Operator", "Model"))
    subgraph, code, conv = (_module(n) for n in ("SubGraph", "OperatorCode", "Conv2DOptions"))

    def int_vector(start: Any, values: list[int]) -> int:
        start(b, len(values))
        for v in reversed(values):
            b.PrependInt32(v)
        return int(b.EndVector())

    def table_vector(start: Any, offsets: list[int]) -> int:
        start(b, len(offsets))
        for o in reversed(offsets):
            b.PrependUOffsetTRelative(o)
        return int(b.EndVector())

    buffers = [_empty(b, buffer)]  # buffer 0: empty, as the converter writes it
    tensors: list[tuple[str, list[int], int]] = [("input", [1, SIZE, SIZE, CHANNELS], 0)]
    ops: list[tuple[int, list[int], list[int]]] = []
    weight_bytes = struct.pack(f"<{CHANNELS * 9 * CHANNELS}f", *([0.01] * (CHANNELS * 9 * CHANNELS)))
    bias_bytes = struct.pack(f"<{CHANNELS}f", *([0.0] * CHANNELS))
    data_offsets = {}
    for key, raw in (("w", weight_bytes), ("b", bias_bytes)):
        b.StartVector(1, len(raw), 16)
        for byte in reversed(raw):
            b.PrependUint8(byte)
        data_offsets[key] = b.EndVector()
    for key in ("w", "b"):
        buffer.Start(b)
        buffer.AddData(b, data_offsets[key])
        buffers.append(buffer.End(b))
    x = 0
    for n in range(BLOCKS):
        w, bias, y, z = len(tensors), len(tensors) + 1, len(tensors) + 2, len(tensors) + 3
        tensors += [
            (f"block{n}/kernel", [CHANNELS, 3, 3, CHANNELS], 1),
            (f"block{n}/bias", [CHANNELS], 2),
            (f"block{n}/conv", [1, SIZE, SIZE, CHANNELS], 0),
            (f"block{n}/add", [1, SIZE, SIZE, CHANNELS], 0),
        ]
        ops += [(0, [x, w, bias], [y]), (1, [y, x], [z])]
        x = z
    names = [b.CreateString(t[0]) for t in tensors]
    tensor_offsets = []
    for t, name in zip(tensors, names):
        shape = int_vector(tensor.StartShapeVector, t[1])
        tensor.Start(b)
        tensor.AddShape(b, shape)
        tensor.AddType(b, tflite.TensorType.FLOAT32)
        tensor.AddBuffer(b, t[2])
        tensor.AddName(b, name)
        tensor_offsets.append(tensor.End(b))
    conv.Start(b)
    conv.AddPadding(b, tflite.Padding.SAME)
    conv.AddStrideW(b, 1)
    conv.AddStrideH(b, 1)
    conv.AddDilationWFactor(b, 1)
    conv.AddDilationHFactor(b, 1)
    conv_options = conv.End(b)
    op_offsets = []
    for opcode, ins, outs in ops:
        inputs = int_vector(operator.StartInputsVector, ins)
        outputs = int_vector(operator.StartOutputsVector, outs)
        operator.Start(b)
        operator.AddOpcodeIndex(b, opcode)
        operator.AddInputs(b, inputs)
        operator.AddOutputs(b, outputs)
        if opcode == 0:
            operator.AddBuiltinOptionsType(b, tflite.BuiltinOptions.Conv2DOptions)
            operator.AddBuiltinOptions(b, conv_options)
        op_offsets.append(operator.End(b))
    tensors_vector = table_vector(subgraph.StartTensorsVector, tensor_offsets)
    operators_vector = table_vector(subgraph.StartOperatorsVector, op_offsets)
    inputs_vector = int_vector(subgraph.StartInputsVector, [0])
    outputs_vector = int_vector(subgraph.StartOutputsVector, [x])
    subgraph.Start(b)
    subgraph.AddTensors(b, tensors_vector)
    subgraph.AddInputs(b, inputs_vector)
    subgraph.AddOutputs(b, outputs_vector)
    subgraph.AddOperators(b, operators_vector)
    main = subgraph.End(b)
    codes = []
    for number in (tflite.BuiltinOperator.CONV_2D, tflite.BuiltinOperator.ADD):
        code.Start(b)
        code.AddDeprecatedBuiltinCode(b, number)
        code.AddBuiltinCode(b, number)
        code.AddVersion(b, 1)
        codes.append(code.End(b))
    codes_vector = table_vector(model.StartOperatorCodesVector, codes)
    subgraphs_vector = table_vector(model.StartSubgraphsVector, [main])
    buffers_vector = table_vector(model.StartBuffersVector, buffers)
    model.Start(b)
    model.AddVersion(b, 3)
    model.AddOperatorCodes(b, codes_vector)
    model.AddSubgraphs(b, subgraphs_vector)
    model.AddBuffers(b, buffers_vector)
    b.Finish(model.End(b), file_identifier=b"TFL3")
    path.write_bytes(bytes(b.Output()))
    return len(ops)


def _empty(b: Any, buffer: Any) -> int:
    buffer.Start(b)
    return int(buffer.End(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from convcalc.inspect.analysis import inspect_graph
    from convcalc.inspect.tflite_reader import read_tflite

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "residual.tflite"
        operators = build(path)
        size = path.stat().st_size
        reads, analyses = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            graph = read_tflite(path)
            middle = time.perf_counter()
            report = inspect_graph(graph)
            reads.append(middle - start)
            analyses.append(time.perf_counter() - middle)
        assert report.runs and len(graph.nodes) == operators
    read = statistics.median(reads)
    print(f"{operators} operators, {size} bytes")
    ratio = read / TARGET_READ_S
    print(
        f"read_tflite: median {read:.3f} s (first {reads[0]:.3f} s); {ratio:.2f} x the {TARGET_READ_S} s "
        "budget"
    )
    print(f"analysis:    median {statistics.median(analyses):.3f} s")


if __name__ == "__main__":
    main()
