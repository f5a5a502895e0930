"""ONNX files -> Graph, through the `onnx` package (the optional extra ``convcalc[onnx]``).

Attributes are read as the ONNX operator specification defines them (defaults included: strides and
dilations 1, pads 0, auto_pad NOTSET, group 1; kernel_shape from the weight initializer when absent).
Constant operands (initializers and Constant nodes) are decoded with ``struct``, never numpy, and only
when small (they are shapes, pads, scales). Conv and ConvTranspose keep ONNX's own words and are read
by ``convcalc.conventions.onnx``. Ops outside the modelled set become ``unknown`` nodes carrying the
output shapes onnx's own shape inference gives, so propagation can continue through them.
"""

from __future__ import annotations

import heapq
import importlib.util
import struct
import sys
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from convcalc.errors import ConvCalcError, option
from convcalc.graph.model import (
    BlockSpec,
    ConcatSpec,
    Dim,
    ExpandSpec,
    FlattenSpec,
    Graph,
    Node,
    Number,
    RecurrentSpec,
    ReshapeSpec,
    Spec,
    Tensor,
    TransposeSpec,
    UnknownSpec,
    ValueSpec,
)
from convcalc.graph.values import FLOAT_TYPES, INTEGER_TYPES
from convcalc.graph.values import OPS as VALUE_OPS
from convcalc.inspect.onnx_ops import MAX_CONSTANT_VALUES, POOLS, OpReader

NUMBER_TYPES = INTEGER_TYPES | FLOAT_TYPES

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_NODES = 20_000

INSTALL = 'pip install "convcalc[onnx]"'

SHAPE_PRESERVING = frozenset(
    [
        "Relu",
        "LeakyRelu",
        "PRelu",
        "Sigmoid",
        "Tanh",
        "Elu",
        "Selu",
        "Celu",
        "Softplus",
        "Softsign",
        "Gelu",
        "HardSigmoid",
        "HardSwish",
        "Mish",
        "Erf",
        "Identity",
        "Dropout",
        "BatchNormalization",
        "InstanceNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "LpNormalization",
        "LRN",
        "MeanVarianceNormalization",
        "Softmax",
        "LogSoftmax",
        "Hardmax",
        "Cast",
        "Clip",
        "Abs",
        "Neg",
        "Exp",
        "Log",
        "Sqrt",
        "Reciprocal",
        "Floor",
        "Ceil",
        "Round",
        "Sign",
        "Not",
        "ThresholdedRelu",
        "Sin",
        "Cos",
        "Tan",
        "Atan",
        "IsNaN",
        "IsInf",
        "Swish",
        "QuantizeLinear",
        "DequantizeLinear",
        "RandomNormalLike",
        "RandomUniformLike",
        "Bernoulli",
    ]
)
RECURRENT = frozenset({"LSTM", "GRU", "RNN"})
ELEMENTWISE = frozenset(
    [
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Sum",
        "Max",
        "Min",
        "Mean",
        "Pow",
        "And",
        "Or",
        "Xor",
        "Equal",
        "Greater",
        "Less",
        "Where",
    ]
)
GLOBAL_POOLS = frozenset({"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"})
# Operand positions that hold data (the rest are parameters: BatchNorm statistics, Clip bounds, ...).
DATA_INPUTS = {"PRelu": 1, "Clip": 1, "Dropout": 1, "QuantizeLinear": 1, "DequantizeLinear": 1}


def _import_onnx() -> Any:
    """The whole onnx package (about a second to import): only for its shape inference of an op
    convcalc does not model."""
    try:
        import onnx
    except ImportError:
        raise ConvCalcError(
            f"reading ONNX files needs the onnx package; install it with: {INSTALL}", parameter="model"
        ) from None
    return onnx


PROTOBUF_MODULE = "onnx.onnx_ml_pb2"


def _protobuf() -> Any:
    """onnx's generated protobuf module (ModelProto, TensorProto, ...), loaded from the onnx package's
    own file without running the package's __init__, which imports numpy, ml_dtypes and onnx's C++
    extension (a second). The onnx package stays the schema; a later ``import onnx`` finds this module
    in sys.modules and uses it, so the message classes are the same ones."""
    loaded = sys.modules.get(PROTOBUF_MODULE)
    if loaded is not None:
        return loaded
    try:
        package = importlib.util.find_spec("onnx")
    except (ImportError, ValueError):
        package = None
    locations = list(package.submodule_search_locations or ()) if package is not None else []
    path = Path(locations[0]) / "onnx_ml_pb2.py" if locations else None
    if path is None or not path.is_file():
        return _import_onnx().onnx_ml_pb2
    spec = importlib.util.spec_from_file_location(PROTOBUF_MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PROTOBUF_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except Exception:  # a protobuf runtime that refuses the generated code: the package's own way
        del sys.modules[PROTOBUF_MODULE]
        return _import_onnx().onnx_ml_pb2
    return module


def read_onnx(
    path: Path, input_shapes: Sequence[tuple[int, ...]] | None = None, parameter: str = "input"
) -> Graph:
    """Read an ONNX file into a checked Graph; ``input_shapes`` (full shapes, from ``parameter``) fill
    dynamic dimensions before onnx's shape inference runs, so unknown ops get concrete shapes where onnx
    can give them."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ConvCalcError(f"{path}: cannot read the file ({error.strerror})", parameter="model") from None
    if not path.is_file():
        raise ConvCalcError(f"{path}: not a file", parameter="model")
    if size > MAX_FILE_BYTES:
        raise ConvCalcError(
            f"{path}: the file is {size} bytes; inspect reads ONNX files up to {MAX_FILE_BYTES} bytes "
            "(512 MiB); save the weights as external data to shrink it",
            parameter="model",
        )
    proto = _protobuf()
    data = path.read_bytes()
    try:
        model = proto.ModelProto.FromString(data)
    except Exception as error:  # protobuf raises its own DecodeError, and RecursionError when nested
        raise ConvCalcError(
            f"{path}: not a readable ONNX model (the protobuf does not parse: {type(error).__name__}); "
            "is the file truncated or not an ONNX file?",
            parameter="model",
        ) from None
    return graph_from_model(model, str(path), input_shapes, parameter)


def graph_from_model(
    model: Any, source: str, input_shapes: Sequence[tuple[int, ...]] | None = None, parameter: str = "input"
) -> Graph:
    """A Graph from an in-memory ``onnx.ModelProto``; errors in ``input_shapes`` name ``parameter``."""
    onnx = _protobuf()
    graph = model.graph
    if not model.HasField("graph") or (len(graph.node) == 0 and len(graph.input) == 0):
        raise ConvCalcError(
            f"{source}: the file holds no ONNX graph (no nodes, no inputs)", parameter="model"
        )
    if len(graph.node) > MAX_NODES:
        raise ConvCalcError(
            f"{source}: the graph has {len(graph.node)} nodes; inspect reads graphs up to {MAX_NODES} nodes",
            parameter="model",
        )
    reader = _Reader(onnx, model, source)
    try:
        return reader.read(input_shapes, parameter)
    except ConvCalcError:
        raise
    except (
        TypeError,
        ValueError,
        AttributeError,
        KeyError,
        IndexError,
        OverflowError,
        struct.error,
    ) as error:
        # A protobuf that parses but whose fields contradict each other (a corrupt file).
        raise ConvCalcError(
            f"{source}: the model's contents are inconsistent ({type(error).__name__}: {error}); is the file "
            "corrupt?",
            parameter="model",
        ) from None


class _Reader(OpReader):
    def read(self, input_shapes: Sequence[tuple[int, ...]] | None, parameter: str = "input") -> Graph:
        inputs = [
            Tensor(vi.name, self.value_shape(vi))
            for vi in self.graph.input
            if vi.name not in self.initializers
        ]
        if input_shapes is not None and len(input_shapes) != len(inputs):
            raise ConvCalcError(
                f"{option(parameter)} gives {len(input_shapes)} shape(s) but {self.source} has {len(inputs)} "
                f"data input(s): {', '.join(t.name for t in inputs)}",
                parameter=parameter,
            )
        ordered = self.topological()
        self.mark_values(ordered)
        graph = self.build(ordered, inputs)
        if any(node.kind == "unknown" for node in graph.nodes):
            # onnx's own shape inference, paid for only when an op is not modelled: its shapes (for the
            # given input) carry the analysis through that op
            self.infer(inputs, input_shapes)
            graph = self.build(ordered, inputs)
        return graph.checked()

    def mark_values(self, ordered: list[Any]) -> None:
        """The tensors of the shape arithmetic: small number constants, Shape's output, and what value
        ops compute from them alone."""
        for name in [*self.initializers, *self.constant_nodes]:
            if self.small_number(name):
                self.value_tensors.add(name)
        for node in ordered:
            if node.domain not in ("", "ai.onnx") or node.op_type not in VALUE_OPS:
                continue
            names = list(node.input)
            while names and not names[-1]:
                names.pop()
            if "" in names:
                continue
            if node.op_type in ("Shape", "Size") or (names and all(n in self.value_tensors for n in names)):
                self.value_tensors.update(o for o in node.output if o)

    def small_number(self, name: str) -> bool:
        tensor = self.constant_tensor(name)
        if tensor is None or tensor.data_location == 1:
            return False
        count = 1
        for d in tensor.dims:
            count *= int(d)
        return count <= MAX_CONSTANT_VALUES and tensor.data_type in NUMBER_TYPES

    def build(self, ordered: list[Any], inputs: list[Tensor]) -> Graph:
        produced = {t.name for t in inputs}
        constants: dict[str, Tensor] = {}
        nodes: list[Node] = []
        for node in ordered:
            if node.op_type == "Constant":
                continue
            self.operands = []
            spec: Spec
            if node.op_type in VALUE_OPS and all(o in self.value_tensors for o in node.output if o):
                data = tuple(n for n in node.input if n)
                kind, spec, used = "value", ValueSpec(node.op_type, self.value_attributes(node)), data
            else:
                data = self.data_inputs(node)
                kind, spec, used = self.describe(node, data)
            operands = tuple(self.operands)
            for name in (*used, *(t for _, t in operands)):
                if name not in produced and name not in constants:
                    dims = self.dims_of(name)
                    assert dims is not None
                    values = self.number_values(node, name) if name in self.value_tensors else None
                    constants[name] = Tensor(name, dims, values)
            outputs = tuple(o for o in node.output if o)
            produced.update(outputs)
            nodes.append(
                Node(
                    node.name or f"{node.op_type}_{len(nodes)}",
                    node.op_type,
                    kind,
                    used,
                    outputs,
                    spec,
                    operands=operands,
                )
            )
        outputs = tuple(o.name for o in self.graph.output)
        parameters = 0
        for tensor in self.graph.initializer:
            if tensor.data_type in FLOAT_TYPES:
                count = 1
                for d in tensor.dims:
                    count *= int(d)
                parameters += count
        return Graph(
            source=self.source,
            framework="onnx",
            inputs=tuple(inputs),
            nodes=tuple(nodes),
            outputs=outputs,
            constants=tuple(constants.values()),
            parameters=parameters,
        )

    def number_values(self, node: Any, name: str) -> tuple[Number, ...] | None:
        """A small constant's values: ints as ints, floats as exact Fractions."""
        found = self.values(node, name)
        tensor = self.constant_tensor(name)
        if found is None or tensor is None:
            return None
        if tensor.data_type in FLOAT_TYPES:
            return tuple(Fraction(float(v)) for v in found)
        return tuple(int(v) for v in found)

    def value_attributes(self, node: Any) -> tuple[tuple[str, object], ...]:
        out: list[tuple[str, object]] = []
        for name, value in self.attrs(node).items():
            if isinstance(value, self.onnx.TensorProto):
                numbers = self.tensor_numbers(node, value)
                first = numbers[0] if numbers else 0
                value = Fraction(first) if value.data_type in FLOAT_TYPES else int(first)
            elif isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            elif isinstance(value, float):
                value = Fraction(value)
            elif isinstance(value, list):
                value = [Fraction(v) if isinstance(v, float) else v for v in value]
            out.append((name, value))
        return tuple(out)

    def value_shape(self, value_info: Any) -> tuple[Dim, ...]:
        kind = value_info.type.WhichOneof("value")
        if kind != "tensor_type" or not value_info.type.tensor_type.HasField("shape"):
            return ()
        dims: list[Dim] = []
        for d in value_info.type.tensor_type.shape.dim:
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(int(d.dim_value))
            else:
                dims.append(d.dim_param or "?")
        return tuple(dims)

    def topological(self) -> list[Any]:
        """Kahn's order over the nodes as the file lists them (the first ready one in the file's order
        next); a cycle or a missing tensor is refused."""
        nodes = list(self.graph.node)
        for node in nodes:
            texts = [node.name, node.op_type, node.domain, *node.input, *node.output]
            if not all(isinstance(t, str) for t in texts):
                raise ConvCalcError(
                    f"{self.source}: a node's name, op type or tensor names are not valid UTF-8 text; "
                    "is the file corrupt?",
                    parameter="model",
                )
        available = {vi.name for vi in self.graph.input} | set(self.initializers) | {""}
        producers: dict[str, int] = {}
        for index, node in enumerate(nodes):
            for name in node.output:
                if name:
                    if name in producers or name in available:
                        raise self.error(node, f"output {name!r} is produced twice")
                    producers[name] = index
        for node in nodes:
            for name in node.input:
                if name not in available and name not in producers:
                    raise self.error(
                        node,
                        f"input {name!r} is neither a graph input, an initializer nor a node's output "
                        "(a missing initializer?)",
                    )
        waiting = [sum(1 for n in node.input if n in producers) for node in nodes]
        users: dict[str, list[int]] = {}
        for index, node in enumerate(nodes):
            for name in node.input:
                if name in producers:
                    users.setdefault(name, []).append(index)
        ready = [i for i, w in enumerate(waiting) if w == 0]
        order: list[int] = []
        heapq.heapify(ready)
        while ready:
            index = heapq.heappop(ready)
            order.append(index)
            node = nodes[index]
            if node.op_type == "Constant" and len(node.output) == 1:
                self.constant_nodes[node.output[0]] = self.constant_value(node)
            for name in node.output:
                for user in users.get(name, ()):
                    waiting[user] -= 1
                    if waiting[user] == 0:
                        heapq.heappush(ready, user)
        if len(order) != len(nodes):
            stuck = [nodes[i] for i, w in enumerate(waiting) if w > 0][:3]
            names = ", ".join(f"{n.name or '(unnamed)'!r} ({n.op_type})" for n in stuck)
            raise ConvCalcError(
                f"{self.source}: the graph has a cycle: nodes {names} wait on each other's outputs",
                parameter="model",
            )
        return [nodes[i] for i in order]

    def infer(self, inputs: list[Tensor], input_shapes: Sequence[tuple[int, ...]] | None) -> None:
        """onnx's own shape inference, with --input written into the inputs first; shapes of every tensor
        it could infer are kept for the ops convcalc does not model."""
        onnx = _import_onnx()
        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        del model.graph.initializer[:]
        # Inference reads initializers only for shape operands; keep those (small) and drop weights.
        for tensor in self.graph.initializer:
            count = 1
            for d in tensor.dims:
                count *= int(d)
            if count <= MAX_CONSTANT_VALUES and tensor.data_location != 1:
                model.graph.initializer.append(tensor)
            else:
                stub = model.graph.input.add()
                stub.CopyFrom(onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, tensor.dims))
        if input_shapes is not None:
            by_name = {t.name: shape for t, shape in zip(inputs, input_shapes)}
            for vi in model.graph.input:
                if vi.name in by_name and vi.type.WhichOneof("value") == "tensor_type":
                    shape = vi.type.tensor_type.shape
                    del shape.dim[:]
                    for d in by_name[vi.name]:
                        shape.dim.add().dim_value = d
        try:
            inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
        except Exception:  # inference is advisory: convcalc's own propagation comes first
            return
        for vi in [*inferred.graph.value_info, *inferred.graph.output]:
            known = vi.type.WhichOneof("value") == "tensor_type" and vi.type.tensor_type.HasField("shape")
            # A rank-0 shape (a scalar, e.g. Gather of one Shape element) is known, not missing.
            self.inferred[vi.name] = self.value_shape(vi) if known else None

    def data_inputs(self, node: Any) -> tuple[str, ...]:
        names = [n for n in node.input if n]
        op = node.op_type
        if op in ("Conv", "ConvTranspose", "Gemm", "Resize", "Upsample", "Pad", "Slice", "Reshape", "Expand"):
            return tuple(names[:1])
        if op in RECURRENT:
            return tuple(names[:1])
        if op == "MatMul":
            # a constant matrix is a weight (dense); a constant of another rank is an operand of a
            # batched product (attention's keys folded to a constant when the context is constant)
            weight = self.dims_of(names[1])
            return tuple(names[:1]) if weight is not None and len(weight) == 2 else tuple(names[:2])
        if op in SHAPE_PRESERVING:
            return tuple(names[: DATA_INPUTS.get(op, 1)])
        if op in POOLS or op in GLOBAL_POOLS or op in ("Flatten", "DepthToSpace", "SpaceToDepth"):
            return tuple(names[:1])
        return tuple(names)

    # -- one node -----------------------------------------------------------------------------------
    def describe(self, node: Any, data: tuple[str, ...]) -> tuple[str, Spec, tuple[str, ...]]:
        op = node.op_type
        attrs = self.attrs(node)
        if node.domain not in ("", "ai.onnx"):
            return self.unknown(node, data)
        if op in ("Conv", "ConvTranspose"):
            spec = self.conv(node, attrs)
            if spec is None:
                return self.unknown(node, data)
            return ("conv" if op == "Conv" else "conv_transpose"), spec, data
        if op in POOLS:
            return "pool", self.pool(node, attrs), data
        if op in GLOBAL_POOLS:
            return "global_pool", None, data
        if op in ("Resize", "Upsample"):
            resize = self.resize(node, attrs)
            return ("resize", resize, data) if resize is not None else self.unknown(node, data)
        if op == "Pad":
            pads = self.pad(node, attrs)
            return ("pad", pads, data) if pads is not None else self.unknown(node, data)
        if op == "Slice":
            sliced = self.slice(node, attrs)
            return ("slice", sliced, data) if sliced is not None else self.unknown(node, data)
        if op == "Concat":
            if "axis" not in attrs:
                raise self.error(node, "Concat needs an axis attribute")
            return "concat", ConcatSpec(self.integer(node, attrs, "axis", 0)), data
        if op in ELEMENTWISE:
            return "elementwise", None, data
        if op in ("DepthToSpace", "SpaceToDepth"):
            block = self.integer(node, attrs, "blocksize", 0)
            if block < 1:
                raise self.error(node, f"blocksize must be >= 1; got {block}")
            if op == "DepthToSpace" and self.word(attrs, "mode", "DCR") not in ("DCR", "CRD"):
                raise self.error(node, "mode must be DCR or CRD")
            return ("depth_to_space" if op == "DepthToSpace" else "space_to_depth"), BlockSpec(block), data
        if op in SHAPE_PRESERVING:
            return "shape_preserving", None, data
        if op == "Flatten":
            return "flatten", FlattenSpec(self.integer(node, attrs, "axis", 1)), data
        if op in ("Reshape", "Expand"):
            if len(node.input) < 2:
                raise self.error(node, f"{op} needs a shape operand")
            target = self.operand(node, node.input[1], "shape", f"the {op} shape")
            if target is None:
                return self.unknown(node, data)
            if op == "Expand":
                return "expand", ExpandSpec(target), data
            return "reshape", ReshapeSpec(target, bool(attrs.get("allowzero", 0))), data
        if op == "Transpose":
            perm = self.ints(node, attrs, "perm", None)
            return "transpose", TransposeSpec(perm), data  # no perm: the axes reversed
        if op in ("Gemm", "MatMul"):
            dense = self.dense(node, attrs)
            if dense is None and op == "MatMul" and len(data) == 2:
                return "matmul", None, data
            return ("dense", dense, data) if dense is not None else self.unknown(node, data)
        if op in RECURRENT:
            recurrent = self.recurrent(node, attrs)
            return ("recurrent", recurrent, data) if recurrent is not None else self.unknown(node, data)
        if op in VALUE_OPS or op == "Split":
            # shape ops on a data tensor (Unsqueeze of an audio input, Gather of a row): shapes only
            return "value", ValueSpec(op, self.value_attributes(node)), tuple(n for n in node.input if n)
        return self.unknown(node, data)

    def recurrent(self, node: Any, attrs: dict[str, Any]) -> RecurrentSpec | None:
        """ONNX LSTM / GRU / RNN: W is (directions, gates*hidden, input); the hidden_size attribute."""
        weight = self.dims_of(node.input[1]) if len(node.input) > 1 else None
        if weight is None or len(weight) != 3 or not node.output or not node.output[0]:
            return None
        directions = 2 if self.word(attrs, "direction", "forward") == "bidirectional" else 1
        hidden = self.integer(node, attrs, "hidden_size", 0)
        if hidden < 1:
            raise self.error(node, f"hidden_size must be >= 1; got {hidden}")
        layout = self.integer(node, attrs, "layout", 0)
        return RecurrentSpec(node.op_type, hidden, weight[2], directions, layout == 1)

    def unknown(self, node: Any, data: tuple[str, ...]) -> tuple[str, Spec, tuple[str, ...]]:
        declared = tuple(self.inferred.get(o) for o in node.output if o)
        return "unknown", UnknownSpec(declared), data
