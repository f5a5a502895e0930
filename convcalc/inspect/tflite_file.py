"""A `.tflite` flatbuffer read with checks: counts against budgets and the file's size, tensors' names,
shapes and small integer values, an op's options; every refusal names the file.

``TFLiteFile`` holds what the op mapping (``tflite_ops``) reads through; ``tflite_reader`` walks the
operators with it and assembles the Graph.
"""

from __future__ import annotations

import mmap
import struct
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.model import Dim, Node, Tensor
from convcalc.inspect.tflite_values import MAX_VECTOR, Linear, Vector, broadcast, gather, strided_slice

MAX_RANK = 8
MAX_NAME = 256
INT_TYPES = {2: "<i", 4: "<q"}  # TensorType INT32, INT64


class TFLiteFile:
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
        self.shapes: dict[int, tuple[int, ...]] = {}
        # Set once the model's tables are checked (TFLiteReader.read).
        self.model: Any = None
        self.tensors: list[Any] = []
        self.op_codes: list[str] = []
        self.buffer_count = 0
        self.pending: dict[int, tuple[str, list[Any]]] = {}
        self.readers: dict[int, int] = {}
        self.outputs: set[int] = set()

    def error(self, message: str) -> ConvCalcError:
        return ConvCalcError(f"{self.source}: {message}", parameter="model")

    def corrupt(self, where: str) -> ConvCalcError:
        return self.error(
            f"not a readable TFLite flatbuffer: {where} points outside the file (truncated or corrupt)"
        )

    def count(self, what: str, value: int, limit: int, width: int) -> int:
        """A vector's length, checked against its budget and against the bytes it would need."""
        if value > limit or value * width > self.size:
            beyond = (
                f"a {self.size}-byte file holds fewer" if value <= limit else f"inspect reads up to {limit}"
            )
            raise self.error(f"the file declares {value} {what}; {beyond} (truncated, corrupt or too large)")
        return value

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

    def int32s(self, table: Any, field: int, what: str, limit: int) -> tuple[int, ...]:
        """An int32 vector field read in one unpack (its length checked first); () when absent."""
        at = table.Offset(field)
        if not at:
            return ()
        at += table.Pos
        at += struct.unpack_from("<I", self.data, at)[0]
        (length,) = struct.unpack_from("<I", self.data, at)
        self.count(what, length, limit, 4)
        return struct.unpack_from(f"<{length}i", self.data, at + 4)

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
        if t not in self.shapes:
            what = f"sizes in the shape of tensor {self.names[t]!r}"
            self.shapes[t] = self.int32s(self.tensors[t]._tab, 4, what, MAX_RANK)  # Tensor.shape
        return self.shapes[t]

    def signature(self, t: int) -> tuple[Dim, ...]:
        """The shape with dynamic dimensions (-1 in shape_signature) as '?'."""
        shape = self.shape(t)
        what = f"sizes in the shape signature of tensor {self.names[t]!r}"
        signature = self.int32s(self.tensors[t]._tab, 18, what, MAX_RANK)  # Tensor.shape_signature
        if len(signature) != len(shape):
            return shape
        return tuple("?" if s < 0 else d for s, d in zip(signature, shape))

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
