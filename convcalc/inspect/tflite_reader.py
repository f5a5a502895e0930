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
from fractions import Fraction
from pathlib import Path
from typing import Any

from convcalc.conventions import read
from convcalc.errors import ConvCalcError
from convcalc.graph.model import (
    CHANNELS_LAST,
    ConvSpec,
    Dim,
    Graph,
    Node,
    ResizeSpec,
    Spec,
    Tensor,
    UnknownSpec,
)
from convcalc.inspect.tflite_file import TFLiteFile
from convcalc.inspect.tflite_ops import BUILDERS

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


class TFLiteReader(TFLiteFile):
    def __init__(self, source: str, schema: Any, data: mmap.mmap, size: int) -> None:
        super().__init__(source, schema, data, size)
        self.op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if isinstance(v, int)}
        self.batch_taken = False
        self.entries = 0
        self.pending: dict[int, tuple[str, list[Any]]] = {}
        self.readers: dict[int, int] = {}
        self.outputs: set[int] = set()

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
        subgraph_lists = "entries in the subgraph's inputs or outputs"
        inputs = [
            self.tensor_index(t, "a subgraph input")
            for t in self.int32s(sub._tab, 6, subgraph_lists, MAX_OP_TENSORS)
        ]
        ends = [
            self.tensor_index(t, "a subgraph output")
            for t in self.int32s(sub._tab, 8, subgraph_lists, MAX_OP_TENSORS)
        ]
        inputs, ends = self.signature_order(model, inputs, ends)
        graph_inputs = tuple(
            Tensor(self.names[t], self.signature(t)) for t in inputs if t not in self.constant
        )
        self.outputs = set(ends)
        ops = [sub.Operators(n) for n in range(operators)]
        lists = [self.op_tensors(op) for op in ops]
        for op, (ins, _) in zip(ops, lists):
            code = op.OpcodeIndex()
            if code < len(self.op_codes) and self.op_codes[code] in SHAPE_SOURCES:
                continue  # reads the size only: not a reader of the data a fold would hide
            for t in ins:
                self.readers[t] = self.readers.get(t, 0) + 1
        for n, (op, (ins, outs)) in enumerate(zip(ops, lists)):
            self.operator(op, n, ins, outs)
        for t in list(self.pending):
            self.flush(t)
        outputs = tuple(self.names[t] for t in ends)
        if self.batch_taken:
            self.notes.append(
                "the shapes of ops convcalc does not model are the file's, whose batch is 1: give an input "
                "shape with batch 1"
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

    def signature_order(self, model: Any, inputs: list[int], ends: list[int]) -> tuple[list[int], list[int]]:
        """The inputs and outputs in the order of the main subgraph's signature (the converted model's
        own: output_0, output_1, ...), where it names the same tensors; the subgraph's order otherwise."""
        count = self.count("signatures", model.SignatureDefsLength(), MAX_SUBGRAPHS, 4)
        for n in range(count):
            signature = model.SignatureDefs(n)
            if signature.SubgraphIndex() != 0:
                continue
            lists = []
            for length, item, own in (
                (signature.InputsLength(), signature.Inputs, inputs),
                (signature.OutputsLength(), signature.Outputs, ends),
            ):
                order = [
                    item(j).TensorIndex()
                    for j in range(self.count("signature entries", length, MAX_OP_TENSORS, 4))
                ]
                lists.append(order if sorted(order) == sorted(own) else own)
            if lists[1] != ends:
                key = self.name(signature._tab, 8) or "the first"  # SignatureDef.signature_key
                self.notes.append(f"outputs in the order of signature {key!r}")
            return lists[0], lists[1]
        return inputs, ends

    def op_tensors(self, op: Any) -> tuple[list[int], list[int]]:
        """An operator's input and output tensor indices (-1 = an optional input left out)."""
        lists = []
        for field in (6, 8):  # Operator.inputs, Operator.outputs
            values = self.int32s(op._tab, field, "entries in an operator's tensor list", MAX_OP_TENSORS)
            self.entries += len(values)
            if self.entries > MAX_OP_ENTRIES:
                raise self.error(
                    f"the operators' tensor lists hold more than {MAX_OP_ENTRIES} entries in all; inspect "
                    "reads up to that"
                )
            lists.append(list(values))
        return lists[0], lists[1]

    def op_name(self, code: Any) -> str:
        # Codes below 127 are also in deprecated_builtin_code, the only field old files have.
        number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if number == self.tfl.BuiltinOperator.CUSTOM:
            custom = self.name(code._tab, 6)[:80]
            return f"CUSTOM:{custom}" if custom else "CUSTOM"
        return str(self.op_names.get(number, f"BUILTIN_{number}"))

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

    # Operators.
    def operator(self, op: Any, n: int, ins: list[int], outs: list[int]) -> None:
        index = op.OpcodeIndex()
        if index >= len(self.op_codes):
            raise self.error(f"operator {n} uses operator code {index}; the model has {len(self.op_codes)}")
        name = self.op_codes[index]
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
        starts = {"SPACE_TO_BATCH_ND": "s2b", "EXPAND_DIMS": "expand"}
        if name in starts and len(outs) == 1 and self.single_reader(outs[0]):
            self.flush(ins[0])
            self.pending[outs[0]] = (starts[name], [(name, op, ins, outs, n)])
            return True
        if held is None:
            return False
        step, ops = held
        if step == "expand" and name == "TILE" and len(outs) == 1 and self.single_reader(outs[0]):
            del self.pending[ins[0]]
            self.pending[outs[0]] = ("tile", [*ops, (name, op, ins, outs, n)])
            return True
        if step == "tile" and name == "RESHAPE":
            node = self.repeat(ops, (name, op, ins, outs, n))
            if node is not None:
                del self.pending[ins[0]]
                self.add(node, outs)
                return True
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

    # Keras 3's UpSampling2D (nearest) on the TensorFlow backend repeats each axis: EXPAND_DIMS after
    # the axis, TILE by the factor there, RESHAPE merging the two: a nearest resize of that axis.
    def repeat(self, ops: list[Any], last: Any) -> tuple[str, str, Spec, tuple[str, ...]] | None:
        """A nearest resize by the TILE factor on one axis, when the three ops say exactly that."""
        (_, _, expand_ins, _, _), (_, _, tile_ins, _, _) = ops
        _, _, _, reshape_outs, k = last
        where = f"operator {k} (RESHAPE)"
        x = expand_ins[0]
        before, after = self.signature(x), self.signature(reshape_outs[0])
        axis = self.value(expand_ins[1], where) if len(expand_ins) > 1 else None
        multiples = self.value(tile_ins[1], where) if len(tile_ins) > 1 else None
        if axis is None or multiples is None or len(axis) != 1 or not isinstance(axis[0], int):
            return None
        inserted = axis[0] % (len(before) + 1)
        factors = [m for m in multiples if isinstance(m, int)]
        if inserted == 0 or len(factors) != len(before) + 1 or len(after) != len(before):
            return None
        factor = factors[inserted]
        if factor < 1 or any(m != 1 for a, m in enumerate(factors) if a != inserted):
            return None
        repeated = inserted - 1
        for a, (i, o) in enumerate(zip(before, after)):
            expected = i * factor if a == repeated and isinstance(i, int) else i
            if o not in (expected, "?"):  # '?': a size the converter left to run time
                return None
        scales = tuple(Fraction(factor if a == repeated else 1) for a in range(len(before)))
        previous = self.nodes[-1] if self.nodes else None
        if (
            previous is not None
            and previous.op == "TILE"
            and isinstance(previous.spec, ResizeSpec)
            and previous.spec.scales is not None
            and previous.outputs == (self.names[x],)
            and self.single_reader(x)
        ):
            # UpSampling2D repeats one axis after the other: the two are one resize.
            self.nodes.pop()
            scales = tuple(a * b for a, b in zip(previous.spec.scales, scales))
            return "TILE", "resize", ResizeSpec("nearest", scales=scales), previous.inputs
        return "TILE", "resize", ResizeSpec("nearest", scales=scales), (self.names[x],)

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
                folded = spec._replace(dilation=(b[0], b[1]), padding=word, arguments=shown)
                return op_name, kind, folded, (self.names[x],)
        return None
