"""TensorFlow Lite `.tflite` files -> Graph, through the ``tflite`` schema package (no TensorFlow).

A `.tflite` file is a flatbuffer (identifier "TFL3") that the interpreter reads in place; so does this
reader, through a read-only memory map: weights are never copied, only the small integer vectors an op
reads as sizes (TRANSPOSE_CONV's output_shape, PAD's paddings, RESIZE's size, RESHAPE's shape).
Flatbuffers have no checksum and Python's flatbuffers package no verifier, so every count is checked
against a budget and against the file size before a loop runs over it, and every read that leaves the
file becomes the same refusal ("truncated or corrupt"). Only the main subgraph (subgraph 0) is read.

Tensors keep their names in the file (made unique with ``#index`` where two tensors share one); a node
is named by its first output tensor. Tensors holding a buffer are constants; so are the outputs of ops
reading only constants (DEQUANTIZE of float16 weights), and the outputs of SHAPE and of the shape
arithmetic after it (``tflite_values`` follows it): those ops are not data flow and leave no node.
The ops are mapped in ``tflite_ops``; any op outside the modelled set is ``unknown`` with the shape the
file records, a dynamic batch taken at 1 for the ops that keep it (a note says so).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

from convcalc.conventions import read
from convcalc.errors import ConvCalcError
from convcalc.inspect.graph import (
    CHANNELS_LAST,
    ConvSpec,
    Dim,
    Graph,
    Node,
    Spec,
    Tensor,
    UnknownSpec,
)
from convcalc.inspect.tflite_ops import BUILDERS
from convcalc.inspect.tflite_values import MAX_VECTOR, Linear, Vector, broadcast, gather, strided_slice

# The flatbuffer format addresses at most 2 GiB; larger models keep their weights after it, which
# this reader never reads.
MAX_FILE_BYTES = 4 * 1024**3
MAX_SUBGRAPHS = 1_000
MAX_OPERATOR_CODES = 10_000
MAX_BUFFERS = 1_000_000
MAX_TENSORS = 1_000_000
MAX_OPERATORS = 200_000
MAX_OP_TENSORS = 10_000
# All operators' input and output lists together (vectors may overlap, so each alone proves little).
MAX_OP_ENTRIES = 4_000_000
MAX_RANK = 8
MAX_NAME = 256

# Unmodelled ops that keep the batch axis (their axis arguments in a converted CNN leave it alone).
BATCH_KEEPING = frozenset(
    [
        "EXPAND_DIMS",
        "SQUEEZE",
        "TILE",
        "MEAN",
        "SUM",
        "REDUCE_MAX",
        "REDUCE_MIN",
        "TRANSPOSE",
        "DEPTH_TO_SPACE",
        "SPACE_TO_DEPTH",
        "L2_POOL_2D",
        "ARG_MAX",
        "ARG_MIN",
        "CONV_3D",
        "CONV_3D_TRANSPOSE",
    ]
)
# Ops that compute sizes from SHAPE: with only constants or such values in, their output is no data.
SHAPE_SOURCES = frozenset(["SHAPE", "RANK"])
INT_TYPES = {2: "<i", 4: "<q"}  # TensorType INT32, INT64


def read_tflite(path: Path) -> Graph:
    """Read a `.tflite` file into a checked Graph (the ``tflite`` package; no TensorFlow needed)."""
    schema = _schema(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ConvCalcError(f"{path}: not a file", parameter="model")
        if size > MAX_FILE_BYTES:
            raise ConvCalcError(
                f"{path}: the file is {size} bytes; inspect reads `.tflite` files up to {MAX_FILE_BYTES}",
                parameter="model",
            )
        if size < 16:
            raise ConvCalcError(
                f"{path}: {size} bytes is too short for a TFLite flatbuffer (truncated?)", parameter="model"
            )
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return TFLiteReader(str(path), schema, data, size).graph()
    except ConvCalcError:
        raise
    except OSError as error:
        raise ConvCalcError(
            f"{path}: cannot read the file ({error.strerror or error})", parameter="model"
        ) from None


def _schema(path: Path) -> Any:
    try:
        import tflite
    except ImportError:
        raise ConvCalcError(
            f"{path}: reading `.tflite` files needs the tflite schema package: pip install "
            "'convcalc[tflite]'",
            parameter="model",
        ) from None
    return tflite


class TFLiteReader:
    def __init__(self, source: str, schema: Any, data: mmap.mmap, size: int) -> None:
        self.source = source
        self.tfl = schema
        self.data = data
        self.size = size
        self.op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if isinstance(v, int)}
        self.names: list[str] = []
        self.constant: set[int] = set()
        # Values of the small integer tensors SHAPE and the arithmetic after it compute (None where
        # nothing is known of them).
        self.shape_values: dict[int, Vector | None] = {}
        self.constants: dict[int, Tensor] = {}
        self.nodes: list[Node] = []
        self.notes: list[str] = []
        self.batch_taken = False
        self.entries = 0
        self.pending: dict[int, tuple[str, list[Any]]] = {}
        self.readers: dict[int, int] = {}
        self.outputs: set[int] = set()

    def error(self, message: str) -> ConvCalcError:
        return ConvCalcError(f"{self.source}: {message}", parameter="model")

    def corrupt(self, where: str) -> ConvCalcError:
        return self.error(
            f"not a readable TFLite flatbuffer: {where} points outside the file (truncated or corrupt)"
        )

    def graph(self) -> Graph:
        if bytes(self.data[4:8]) != b"TFL3":
            raise self.error(
                f"not a TFLite model: bytes 4..8 are {bytes(self.data[4:8])!r}, a `.tflite` flatbuffer has "
                "the identifier b'TFL3' there"
            )
        try:
            return self.read()
        except ConvCalcError:
            raise
        except (struct.error, IndexError, ValueError, TypeError, OverflowError, UnicodeDecodeError):
            raise self.corrupt("an offset") from None

    def count(self, what: str, value: int, limit: int, width: int) -> int:
        """A vector's length, checked against its budget and against the bytes it would need."""
        if value > limit or value * width > self.size:
            beyond = (
                f"a {self.size}-byte file holds fewer" if value <= limit else f"inspect reads up to {limit}"
            )
            raise self.error(f"the file declares {value} {what}; {beyond} (truncated, corrupt or too large)")
        return value

    def read(self) -> Graph:
        model = self.tfl.Model.GetRootAs(self.data, 0)
        subgraphs = self.count("subgraphs", model.SubgraphsLength(), MAX_SUBGRAPHS, 4)
        if subgraphs == 0:
            raise self.error("the model has no subgraph")
        if subgraphs > 1:
            self.notes.append(f"{subgraphs} subgraphs: the main one is read, control flow ops are unknown")
        codes = self.count("operator codes", model.OperatorCodesLength(), MAX_OPERATOR_CODES, 4)
        self.model = model
        self.buffer_count = self.count("buffers", model.BuffersLength(), MAX_BUFFERS, 4)
        self.op_codes = [self.op_name(model.OperatorCodes(n)) for n in range(codes)]
        sub = model.Subgraphs(0)
        self.sub = sub
        tensors = self.count("tensors", sub.TensorsLength(), MAX_TENSORS, 4)
        operators = self.count("operators", sub.OperatorsLength(), MAX_OPERATORS, 4)
        seen: set[str] = set()
        self.tensors = [sub.Tensors(n) for n in range(tensors)]
        for n, tensor in enumerate(self.tensors):
            name = self.name(tensor._tab, 10) or f"tensor{n}"
            name = name if name not in seen else f"{name}#{n}"
            seen.add(name)
            self.names.append(name)
            if self.has_data(tensor.Buffer()):
                self.constant.add(n)
        inputs = [
            self.tensor_index(sub.Inputs(n), "a subgraph input")
            for n in range(self.vector(sub.InputsLength()))
        ]
        graph_inputs = tuple(
            Tensor(self.names[t], self.signature(t)) for t in inputs if t not in self.constant
        )
        ends = [
            self.tensor_index(sub.Outputs(n), "a subgraph output")
            for n in range(self.vector(sub.OutputsLength()))
        ]
        self.outputs = set(ends)
        for n in range(operators):
            op = sub.Operators(n)
            for j in range(self.vector(op.InputsLength())):
                self.readers[op.Inputs(j)] = self.readers.get(op.Inputs(j), 0) + 1
        for n in range(operators):
            self.operator(sub.Operators(n), n)
        for t in list(self.pending):
            self.flush(t)
        outputs = tuple(self.names[t] for t in ends)
        if self.batch_taken:
            self.notes.append(
                "the shapes of ops convcalc does not model are the file's, whose batch is 1: give --input "
                "with batch 1"
            )
        version = model.Version()
        self.notes.insert(0, f"TFLite schema version {version}, {operators} operators")
        graph = Graph(
            source=self.source,
            framework="tflite",
            inputs=graph_inputs,
            nodes=tuple(self.nodes),
            outputs=outputs,
            constants=tuple(self.constants.values()),
            notes=tuple(self.notes),
        )
        return graph.checked()

    def name(self, table: Any, field: int) -> str:
        """A string field cut at MAX_NAME bytes before it is copied: one huge string that every tensor
        names would otherwise be copied once per tensor."""
        at = table.Offset(field)
        if not at:
            return ""
        at += table.Pos
        at += struct.unpack_from("<I", self.data, at)[0]
        (length,) = struct.unpack_from("<I", self.data, at)
        raw = self.data[at + 4 : at + 4 + min(length, 4 * MAX_NAME)]
        return bytes(raw).decode("utf-8", "replace")[:MAX_NAME]

    def vector(self, length: int) -> int:
        self.entries += self.count("entries in an operator's tensor list", length, MAX_OP_TENSORS, 4)
        if self.entries > MAX_OP_ENTRIES:
            raise self.error(
                f"the operators' tensor lists hold more than {MAX_OP_ENTRIES} entries in all; inspect "
                "reads up to that"
            )
        return length

    def op_name(self, code: Any) -> str:
        # Codes below 127 are also in deprecated_builtin_code, the only field old files have.
        number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if number == self.tfl.BuiltinOperator.CUSTOM:
            custom = self.name(code._tab, 6)[:80]
            return f"CUSTOM:{custom}" if custom else "CUSTOM"
        return str(self.op_names.get(number, f"BUILTIN_{number}"))

    def tensor_index(self, index: int, what: str) -> int:
        if not 0 <= index < len(self.tensors):
            raise self.error(f"{what} is tensor {index}; the subgraph has {len(self.tensors)} tensors")
        return index

    def has_data(self, buffer: int) -> bool:
        if buffer <= 0 or buffer >= self.buffer_count:
            return False
        entry = self.model.Buffers(buffer)
        return bool(entry.DataLength() or entry.Offset() > 1)

    def shape(self, t: int) -> tuple[int, ...]:
        tensor = self.tensors[t]
        rank = tensor.ShapeLength()
        if rank > MAX_RANK:
            raise self.error(f"tensor {self.names[t]!r} has rank {rank}; inspect reads up to {MAX_RANK}")
        return tuple(tensor.Shape(n) for n in range(rank))

    def signature(self, t: int) -> tuple[Dim, ...]:
        """The shape with dynamic dimensions (-1 in shape_signature) as '?'."""
        tensor = self.tensors[t]
        shape = self.shape(t)
        if tensor.ShapeSignatureLength() != len(shape):
            return shape
        return tuple("?" if tensor.ShapeSignature(n) < 0 else d for n, d in enumerate(shape))

    def declared(self, name: str, op: Any, ins: list[int], t: int, where: str) -> tuple[Dim, ...]:
        """The shape the converter recorded for an unmodelled op's output; where only its batch is
        dynamic, the batch of an op that keeps it (or multiplies it by a constant block) at batch 1."""
        signature = self.signature(t)
        if "?" in signature[1:] or "?" not in signature[:1]:
            return signature
        self.batch_taken = True
        if name in BATCH_KEEPING:
            return (1, *signature[1:])
        if name in ("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND") and len(ins) > 1 and ins[1] >= 0:
            block = [b for b in self.value(ins[1], where) or () if isinstance(b, int) and b >= 1]
            if block and len(block) == len(self.value(ins[1], where) or ()):
                product = 1
                for b in block:
                    product *= b
                return (product if name == "SPACE_TO_BATCH_ND" else 1, *signature[1:])
        return signature

    def ints(self, t: int, what: str, where: str) -> tuple[int, ...]:
        """A small constant integer tensor's values (int32 or int64), read from its buffer."""
        tensor = self.tensors[t]
        fmt = INT_TYPES.get(tensor.Type())
        if t not in self.constant or fmt is None:
            raise self.error(f"{where}: {what} must be a constant int32/int64 tensor")
        entry = self.model.Buffers(tensor.Buffer())
        count = 1
        for d in self.shape(t):
            count *= d
        if not 0 <= count <= MAX_VECTOR:
            raise self.error(f"{where}: {what} has {count} values; inspect reads up to {MAX_VECTOR}")
        width = struct.calcsize(fmt)
        if entry.Offset() > 1:
            start, length = entry.Offset(), entry.Size()
            raw = bytes(self.data[start : start + min(length, count * width)])
        else:
            length = entry.DataLength()
            raw = bytes(entry.Data(n) for n in range(min(length, count * width)))
        if len(raw) != count * width:
            raise self.error(f"{where}: {what} holds {len(raw)} bytes for {count} values (corrupt)")
        return tuple(v for (v,) in struct.iter_unpack(fmt, raw))

    def options(self, op: Any, cls: Any, where: str) -> Any:
        table = op.BuiltinOptions()
        if table is None:
            raise self.error(f"{where}: the op has no options (corrupt)")
        options = cls()
        options.Init(table.Bytes, table.Pos)
        return options

    # Shape arithmetic: SHAPE, slices of it, products, packs (``tflite_values``).
    def value(self, t: int, where: str) -> Vector | None:
        if t in self.shape_values:
            return self.shape_values[t]
        if t in self.constant and self.tensors[t].Type() in INT_TYPES:
            return self.ints(t, "a shape value", where)
        return None

    def evaluate(self, name: str, op: Any, ins: list[int], n: int) -> Vector | None:
        where = f"operator {n} ({name})"
        if name == "SHAPE":
            return tuple(
                d if isinstance(d, int) else Linear(ins[0], a) for a, d in enumerate(self.signature(ins[0]))
            )
        values = [self.value(t, where) for t in ins]
        args = [v for v in values if v is not None]
        if len(args) != len(values):
            return None
        if name == "CAST":
            return args[0]
        if name in ("PACK", "CONCATENATION"):
            return tuple(e for v in args for e in v)
        if name in ("MUL", "ADD", "SUB", "FLOOR_DIV") and len(args) == 2:
            return broadcast(name, args[0], args[1])
        if name == "GATHER" and len(args) == 2:
            return gather(args[0], args[1])
        if name == "STRIDED_SLICE" and len(args) == 4:
            bounds = args[1:]
            if any(len(v) != 1 or not isinstance(v[0], int) for v in bounds):
                return None
            options = self.options(op, self.tfl.StridedSliceOptions, where)
            if options.EllipsisMask() or options.NewAxisMask():
                return None
            begin, end, step = (int(v[0]) for v in bounds)  # type: ignore[arg-type]
            return strided_slice(
                args[0],
                None if options.BeginMask() & 1 else begin,
                None if options.EndMask() & 1 else end,
                step,
                bool(options.ShrinkAxisMask() & 1),
            )
        return None

    # Operators.
    def operator(self, op: Any, n: int) -> None:
        index = op.OpcodeIndex()
        if index >= len(self.op_codes):
            raise self.error(f"operator {n} uses operator code {index}; the model has {len(self.op_codes)}")
        name = self.op_codes[index]
        ins = [op.Inputs(j) for j in range(self.vector(op.InputsLength()))]
        outs = [op.Outputs(j) for j in range(self.vector(op.OutputsLength()))]
        for t in [*ins, *outs]:
            if t >= 0:
                self.tensor_index(t, f"operator {n} ({name}) reads or writes")
        if not outs:
            raise self.error(f"operator {n} ({name}) has no output")
        present = [t for t in ins if t >= 0]
        data = [t for t in present if t not in self.constant and t not in self.shape_values]
        if name in SHAPE_SOURCES or (not data and present and any(t in self.shape_values for t in present)):
            value = self.evaluate(name, op, present, n)
            self.shape_values.update(dict.fromkeys(outs, value))
            return
        if present and not data:
            self.constant.update(outs)
            return
        if self.fold(name, op, ins, outs, n):
            return
        for t in present:
            self.flush(t)
        self.emit(name, op, ins, outs, n)

    def emit(self, name: str, op: Any, ins: list[int], outs: list[int], n: int) -> None:
        """The op as one node: its builder's kind and spec, or ``unknown`` with the file's shapes."""
        where = f"operator {n} ({name}, output {self.names[outs[0]]!r})"
        builder = BUILDERS.get(name)
        node = None if builder is None else builder(self, op, ins, outs, where)
        if node is None:
            data = [t for t in ins if t >= 0 and t not in self.constant and t not in self.shape_values]
            declared = tuple(self.declared(name, op, ins, t, where) for t in outs)
            node = (name, "unknown", UnknownSpec(declared), tuple(self.names[t] for t in data))
        self.add(node, outs)

    def add(self, node: tuple[str, str, Spec, tuple[str, ...]], outs: list[int]) -> None:
        op_name, kind, spec, node_inputs = node
        label = self.names[outs[0]].split(";")[-1]
        outputs = tuple(self.names[t] for t in outs)
        self.nodes.append(Node(label, op_name, kind, node_inputs, outputs, spec, CHANNELS_LAST))

    # The converter's form of a dilated convolution: SPACE_TO_BATCH_ND, a 'VALID' CONV_2D (or
    # DEPTHWISE_CONV_2D), then BATCH_TO_SPACE_ND. Held back op by op while the pattern holds, and
    # folded into one node.
    def fold(self, name: str, op: Any, ins: list[int], outs: list[int], n: int) -> bool:
        held = self.pending.get(ins[0]) if ins and ins[0] >= 0 else None
        if name == "SPACE_TO_BATCH_ND" and len(outs) == 1 and self.single_reader(outs[0]):
            self.pending[outs[0]] = ("s2b", [(name, op, ins, outs, n)])
            return True
        if held is None:
            return False
        step, ops = held
        convs = {"CONV_2D": self.tfl.Conv2DOptions, "DEPTHWISE_CONV_2D": self.tfl.DepthwiseConv2DOptions}
        if step == "s2b" and name in convs and len(outs) == 1 and self.single_reader(outs[0]):
            options = self.options(op, convs[name], f"operator {n} ({name})")
            plain = (
                options.DilationHFactor(),
                options.DilationWFactor(),
                options.StrideH(),
                options.StrideW(),
            )
            if plain == (1, 1, 1, 1) and options.Padding() == 1:
                del self.pending[ins[0]]
                self.pending[outs[0]] = ("conv", [*ops, (name, op, ins, outs, n)])
                return True
        if step == "conv" and name == "BATCH_TO_SPACE_ND":
            node = self.dilated(ops, (name, op, ins, outs, n))
            if node is not None:
                del self.pending[ins[0]]
                self.add(node, outs)
                return True
        return False

    def single_reader(self, t: int) -> bool:
        return self.readers.get(t, 0) == 1 and t not in self.outputs

    def flush(self, t: int) -> None:
        """Emit the ops held back for a pattern that did not complete, in their order."""
        held = self.pending.pop(t, None)
        if held is not None:
            for name, op, ins, outs, n in held[1]:
                self.emit(name, op, ins, outs, n)

    def dilated(self, ops: list[Any], last: Any) -> tuple[str, str, Spec, tuple[str, ...]] | None:
        """One convolution with dilation = the block, its pads the paddings less the crops, when they are
        'SAME' or 'VALID' at the file's input size."""
        (_, _, s2b_ins, _, _), (name, conv, conv_ins, conv_outs, m) = ops
        _, _, b2s_ins, _, k = last
        where = f"operator {k} (BATCH_TO_SPACE_ND)"
        block = self.value(s2b_ins[1], where) if len(s2b_ins) > 2 else None
        paddings = self.value(s2b_ins[2], where) if len(s2b_ins) > 2 else None
        crops = self.value(b2s_ins[2], where) if len(b2s_ins) > 2 else None
        again = self.value(b2s_ins[1], where) if len(b2s_ins) > 2 else None
        x = s2b_ins[0]
        size = self.signature(x)
        if block != again or len(size) != 4 or not isinstance(size[1], int) or not isinstance(size[2], int):
            return None
        b, p, c = ([e for e in v or () if isinstance(e, int)] for v in (block, paddings, crops))
        if len(b) != 2 or len(p) != 4 or len(c) != 4:
            return None
        pads = ((p[0] - c[0], p[1] - c[1]), (p[2] - c[2], p[3] - c[3]))
        node = BUILDERS[name](self, conv, conv_ins, conv_outs, f"operator {m} ({name})")
        assert node is not None
        op_name, kind, spec, _ = node
        assert isinstance(spec, ConvSpec)
        kernel = spec.kernel_size
        for word in ("same", "valid"):
            layer = read("tflite", (size[1], size[2]), kernel, dilation=tuple(b), padding=word)
            if layer.placement == pads:
                shown = tuple(
                    (key, str(b) if key == "dilation" else word.upper() if key == "padding" else value)
                    for key, value in spec.arguments
                )
                folded = replace(spec, dilation=(b[0], b[1]), padding=word, arguments=shown)
                return op_name, kind, folded, (self.names[x],)
        return None

    def data_input(self, ins: list[int], at: int, where: str) -> str:
        if at >= len(ins) or ins[at] < 0 or ins[at] in self.constant:
            raise self.error(f"{where}: input {at} must be a data tensor")
        return self.names[ins[at]]

    def operand(self, t: int) -> str:
        if t in self.constant and t not in self.constants:
            self.constants[t] = Tensor(self.names[t], self.shape(t))
        return self.names[t]

    def weight(self, ins: list[int], at: int, where: str) -> tuple[int, ...]:
        if at >= len(ins) or ins[at] < 0:
            raise self.error(f"{where}: the op has no filter (input {at})")
        shape = self.shape(ins[at])
        if len(shape) != 4 or min(shape) < 1:
            raise self.error(f"{where}: the filter must have 4 sizes >= 1; got {list(shape)}")
        return shape

    def channels(self, ins: list[int], at: int, where: str) -> int:
        shape = self.shape(ins[at])
        if len(shape) != 4 or shape[-1] < 1:
            raise self.error(f"{where}: the input must be NHWC with known channels; got {list(shape)}")
        return shape[-1]
