"""ONNX files -> Graph, through the `onnx` package (the optional extra ``convcalc[onnx]``).

Attributes are read as the ONNX operator specification defines them (defaults included: strides and
dilations 1, pads 0, auto_pad NOTSET, group 1; kernel_shape from the weight initializer when absent).
Constant operands (initializers and Constant nodes) are decoded with ``struct``, never numpy, and only
when small (they are shapes, pads, scales). Conv and ConvTranspose keep ONNX's own words and are read
by ``convcalc.frameworks.onnx``. Ops outside the modelled set become ``unknown`` nodes carrying the
output shapes onnx's own shape inference gives, so propagation can continue through them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.inspect.graph import (
    BlockSpec,
    ConcatSpec,
    ConvSpec,
    DenseSpec,
    Dim,
    FlattenSpec,
    Graph,
    Node,
    PadSpec,
    PoolSpec,
    ReshapeSpec,
    ResizeSpec,
    SliceSpec,
    Spec,
    Tensor,
    UnknownSpec,
)

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_NODES = 20_000
# Constant operands are decoded only up to this many values (they are shapes, pads and scales).
MAX_CONSTANT_VALUES = 4096

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
    ]
)
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
POOLS = {"MaxPool": "max", "AveragePool": "avg", "LpPool": "lp"}
GLOBAL_POOLS = frozenset({"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"})
# Operand positions that hold data (the rest are parameters: BatchNorm statistics, Clip bounds, ...).
DATA_INPUTS = {"PRelu": 1, "Clip": 1, "Dropout": 1, "QuantizeLinear": 1, "DequantizeLinear": 1}

_FORMATS = {1: "f", 6: "i", 7: "q", 11: "d", 10: "e", 12: "I", 13: "Q", 2: "B", 3: "b", 4: "H", 5: "h"}


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ConvCalcError(
            f"reading ONNX files needs the onnx package; install it with: {INSTALL}", parameter="model"
        ) from None
    return onnx


def read_onnx(path: Path, input_shapes: Sequence[tuple[int, ...]] | None = None) -> Graph:
    """Read an ONNX file into a checked Graph; ``input_shapes`` (full shapes) fill dynamic dimensions
    before onnx's shape inference runs, so unknown ops get concrete shapes where onnx can give them."""
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
    onnx = _import_onnx()
    data = path.read_bytes()
    try:
        model = onnx.load_model_from_string(data)
    except Exception as error:  # protobuf raises its own DecodeError, and RecursionError when nested
        raise ConvCalcError(
            f"{path}: not a readable ONNX model (the protobuf does not parse: {type(error).__name__}); "
            "is the file truncated or not an ONNX file?",
            parameter="model",
        ) from None
    return graph_from_model(model, str(path), input_shapes)


def graph_from_model(model: Any, source: str, input_shapes: Sequence[tuple[int, ...]] | None = None) -> Graph:
    """A Graph from an in-memory ``onnx.ModelProto``."""
    onnx = _import_onnx()
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
        return reader.read(input_shapes)
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


class _Reader:
    def __init__(self, onnx: Any, model: Any, source: str) -> None:
        self.onnx = onnx
        self.model = model
        self.graph = model.graph
        self.source = source
        self.initializers = {t.name: t for t in self.graph.initializer}
        self.constant_nodes: dict[str, Any] = {}
        self.inferred: dict[str, tuple[Dim, ...] | None] = {}

    # -- errors and attributes -------------------------------------------------------------------
    def error(self, node: Any, message: str) -> ConvCalcError:
        return ConvCalcError(
            f"{self.source}: node {node.name or '(unnamed)'!r} ({node.op_type}): {message}", parameter="model"
        )

    def attrs(self, node: Any) -> dict[str, Any]:
        out = {}
        for attribute in node.attribute:
            try:
                out[attribute.name] = self.onnx.helper.get_attribute_value(attribute)
            except Exception:
                raise self.error(node, f"attribute {attribute.name!r} cannot be read") from None
        return out

    def ints(
        self, node: Any, attrs: dict[str, Any], name: str, default: Sequence[int] | None
    ) -> tuple[int, ...]:
        value = attrs.get(name, default)
        if value is None:
            return ()
        if isinstance(value, int):
            return (value,)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) for v in value):
            raise self.error(node, f"attribute {name} must be a list of integers; got {value!r}")
        return tuple(value)

    def integer(self, node: Any, attrs: dict[str, Any], name: str, default: int) -> int:
        value = attrs.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, f"attribute {name} must be an integer; got {value!r}")
        return value

    def word(self, attrs: dict[str, Any], name: str, default: str) -> str:
        value = attrs.get(name, default)
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    # -- constants --------------------------------------------------------------------------------
    def constant_tensor(self, name: str) -> Any | None:
        if name in self.initializers:
            return self.initializers[name]
        return self.constant_nodes.get(name)

    def dims_of(self, name: str) -> tuple[int, ...] | None:
        tensor = self.constant_tensor(name)
        return None if tensor is None else tuple(int(d) for d in tensor.dims)

    def values(self, node: Any, name: str) -> list[int | float] | None:
        """The values of a small constant operand, or None when the operand is not constant."""
        tensor = self.constant_tensor(name)
        if tensor is None:
            return None
        count = 1
        for d in tensor.dims:
            count *= int(d)
        if count > MAX_CONSTANT_VALUES:
            raise self.error(node, f"constant {name!r} has {count} values; shape operands hold few")
        if tensor.data_location == 1:
            raise self.error(node, f"constant {name!r} is stored as external data")
        for field in ("int64_data", "int32_data", "float_data", "double_data", "uint64_data"):
            stored = list(getattr(tensor, field))
            if stored:
                if tensor.data_type == 10:
                    raise self.error(node, f"constant {name!r} is float16 outside raw_data")
                return stored[:count]
        fmt = _FORMATS.get(tensor.data_type)
        if fmt is None:
            raise self.error(node, f"constant {name!r} has data type {tensor.data_type}, not a number type")
        raw = tensor.raw_data
        width = struct.calcsize(fmt)
        if len(raw) != width * count:
            raise self.error(node, f"constant {name!r} holds {len(raw)} bytes for {count} values")
        return list(struct.unpack(f"<{count}{fmt}", raw))

    def int_values(self, node: Any, name: str, what: str) -> tuple[int, ...] | None:
        values = self.values(node, name)
        if values is None:
            return None
        if not all(isinstance(v, int) or float(v).is_integer() for v in values):
            raise self.error(node, f"{what} must be integers; got {values}")
        return tuple(int(v) for v in values)

    # -- the walk ---------------------------------------------------------------------------------
    def read(self, input_shapes: Sequence[tuple[int, ...]] | None) -> Graph:
        inputs = [
            Tensor(vi.name, self.value_shape(vi))
            for vi in self.graph.input
            if vi.name not in self.initializers
        ]
        if input_shapes is not None and len(input_shapes) != len(inputs):
            raise ConvCalcError(
                f"--input gives {len(input_shapes)} shape(s) but {self.source} has {len(inputs)} data "
                f"input(s): {', '.join(t.name for t in inputs)}",
                parameter="input",
            )
        ordered = self.topological()
        self.infer(inputs, input_shapes)
        produced = {t.name for t in inputs}
        constants: dict[str, Tensor] = {}
        nodes: list[Node] = []
        for node in ordered:
            if node.op_type == "Constant":
                continue
            data = self.data_inputs(node)
            for name in data:
                if name not in produced and name not in constants:
                    dims = self.dims_of(name)
                    assert dims is not None
                    constants[name] = Tensor(name, dims)
            kind, spec, used = self.describe(node, data)
            outputs = tuple(o for o in node.output if o)
            produced.update(outputs)
            nodes.append(
                Node(node.name or f"{node.op_type}_{len(nodes)}", node.op_type, kind, used, outputs, spec)
            )
        outputs = tuple(o.name for o in self.graph.output)
        return Graph(
            source=self.source,
            framework="onnx",
            inputs=tuple(inputs),
            nodes=tuple(nodes),
            outputs=outputs,
            constants=tuple(constants.values()),
        ).checked()

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
        """Kahn's order over the nodes as the file lists them; a cycle or a missing tensor is refused."""
        for node in self.graph.node:
            texts = [node.name, node.op_type, node.domain, *node.input, *node.output]
            if not all(isinstance(t, str) for t in texts):
                raise ConvCalcError(
                    f"{self.source}: a node's name, op type or tensor names are not valid UTF-8 text; "
                    "is the file corrupt?",
                    parameter="model",
                )
        available = {vi.name for vi in self.graph.input} | set(self.initializers) | {""}
        producers: dict[str, int] = {}
        for index, node in enumerate(self.graph.node):
            for name in node.output:
                if name:
                    if name in producers or name in available:
                        raise self.error(node, f"output {name!r} is produced twice")
                    producers[name] = index
        for node in self.graph.node:
            for name in node.input:
                if name not in available and name not in producers:
                    raise self.error(
                        node,
                        f"input {name!r} is neither a graph input, an initializer nor a node's output "
                        "(a missing initializer?)",
                    )
        waiting = [sum(1 for n in node.input if n in producers) for node in self.graph.node]
        users: dict[str, list[int]] = {}
        for index, node in enumerate(self.graph.node):
            for name in node.input:
                if name in producers:
                    users.setdefault(name, []).append(index)
        ready = [i for i, w in enumerate(waiting) if w == 0]
        order: list[int] = []
        while ready:
            ready.sort(reverse=True)
            index = ready.pop()
            order.append(index)
            node = self.graph.node[index]
            if node.op_type == "Constant" and len(node.output) == 1:
                self.constant_nodes[node.output[0]] = self.constant_value(node)
            for name in node.output:
                for user in users.get(name, ()):
                    waiting[user] -= 1
                    if waiting[user] == 0:
                        ready.append(user)
        if len(order) != len(self.graph.node):
            stuck = [self.graph.node[i] for i, w in enumerate(waiting) if w > 0][:3]
            names = ", ".join(f"{n.name or '(unnamed)'!r} ({n.op_type})" for n in stuck)
            raise ConvCalcError(
                f"{self.source}: the graph has a cycle: nodes {names} wait on each other's outputs",
                parameter="model",
            )
        return [self.graph.node[i] for i in order]

    def constant_value(self, node: Any) -> Any:
        attrs = {a.name: a for a in node.attribute}
        if "value" in attrs:
            return attrs["value"].t
        tensor = self.onnx.TensorProto()
        if "value_ints" in attrs:
            tensor.data_type, tensor.dims[:] = 7, [len(attrs["value_ints"].ints)]
            tensor.int64_data[:] = list(attrs["value_ints"].ints)
        elif "value_int" in attrs:
            tensor.data_type, tensor.int64_data[:] = 7, [attrs["value_int"].i]
        elif "value_floats" in attrs:
            tensor.data_type, tensor.dims[:] = 1, [len(attrs["value_floats"].floats)]
            tensor.float_data[:] = list(attrs["value_floats"].floats)
        elif "value_float" in attrs:
            tensor.data_type, tensor.float_data[:] = 1, [attrs["value_float"].f]
        else:
            raise self.error(node, "a Constant needs a value (value, value_ints, value_floats, ...)")
        return tensor

    def infer(self, inputs: list[Tensor], input_shapes: Sequence[tuple[int, ...]] | None) -> None:
        """onnx's own shape inference, with --input written into the inputs first; shapes of every tensor
        it could infer are kept for the ops convcalc does not model."""
        model = self.onnx.ModelProto()
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
                stub.CopyFrom(
                    self.onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, tensor.dims)
                )
        if input_shapes is not None:
            by_name = {t.name: shape for t, shape in zip(inputs, input_shapes)}
            for vi in model.graph.input:
                if vi.name in by_name and vi.type.WhichOneof("value") == "tensor_type":
                    shape = vi.type.tensor_type.shape
                    del shape.dim[:]
                    for d in by_name[vi.name]:
                        shape.dim.add().dim_value = d
        try:
            inferred = self.onnx.shape_inference.infer_shapes(model)
        except Exception:  # inference is advisory: convcalc's own propagation comes first
            return
        for vi in [*inferred.graph.value_info, *inferred.graph.output]:
            self.inferred[vi.name] = self.value_shape(vi) or None

    def data_inputs(self, node: Any) -> tuple[str, ...]:
        names = [n for n in node.input if n]
        op = node.op_type
        if op in ("Conv", "ConvTranspose", "Gemm", "MatMul", "Resize", "Upsample", "Pad", "Slice", "Reshape"):
            return tuple(names[:1])
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
        if op == "Reshape":
            target = (
                self.int_values(node, node.input[1], "the Reshape shape") if len(node.input) > 1 else None
            )
            if target is None:
                return self.unknown(node, data)
            return "reshape", ReshapeSpec(target, bool(attrs.get("allowzero", 0))), data
        if op in ("Gemm", "MatMul"):
            dense = self.dense(node, attrs)
            return ("dense", dense, data) if dense is not None else self.unknown(node, data)
        return self.unknown(node, data)

    def unknown(self, node: Any, data: tuple[str, ...]) -> tuple[str, Spec, tuple[str, ...]]:
        declared = tuple(self.inferred.get(o) for o in node.output if o)
        return "unknown", UnknownSpec(declared), data

    def conv(self, node: Any, attrs: dict[str, Any]) -> ConvSpec | None:
        if len(node.input) < 2:
            raise self.error(node, "needs an input X and a weight W")
        weight = self.dims_of(node.input[1])
        if weight is None:
            inferred = self.inferred.get(node.input[1])
            if inferred is None or not all(isinstance(d, int) for d in inferred):
                return None  # a computed weight of unknown shape: left to onnx's inference
            weight = tuple(int(d) for d in inferred)
        if len(weight) < 3:
            raise self.error(node, f"the weight W must have rank >= 3; got shape {list(weight)}")
        spatial = len(weight) - 2
        kernel = self.ints(node, attrs, "kernel_shape", weight[2:])
        if kernel != weight[2:]:
            raise self.error(
                node, f"kernel_shape {list(kernel)} does not match the weight's {list(weight[2:])}"
            )
        stride = self.ints(node, attrs, "strides", (1,) * spatial)
        dilation = self.ints(node, attrs, "dilations", (1,) * spatial)
        group = self.integer(node, attrs, "group", 1)
        if group < 1:
            raise self.error(node, f"group must be >= 1; got {group}")
        auto_pad = self.word(attrs, "auto_pad", "NOTSET").upper()
        pads = self.ints(node, attrs, "pads", (0,) * (2 * spatial))
        for name, values, length in (("strides", stride, spatial), ("dilations", dilation, spatial)):
            if len(values) != length:
                raise self.error(node, f"{name} has {len(values)} values for {spatial} spatial axes")
        if len(pads) != 2 * spatial:
            raise self.error(node, f"pads has {len(pads)} values; it needs 2 x {spatial} (begins, then ends)")
        padding: Any = (
            tuple(zip(pads[:spatial], pads[spatial:])) if auto_pad == "NOTSET" else auto_pad.lower()
        )
        arguments = [
            ("kernel_shape", str(list(kernel))),
            ("strides", str(list(stride))),
            ("dilations", str(list(dilation))),
            ("group", str(group)),
        ]
        arguments.append(("auto_pad", auto_pad) if auto_pad != "NOTSET" else ("pads", str(list(pads))))
        output_padding = output_shape = None
        if node.op_type == "Conv":
            in_channels, out_channels = weight[1] * group, weight[0]
        else:
            in_channels, out_channels = weight[0], weight[1] * group
            if "output_padding" in attrs:
                output_padding = self.ints(node, attrs, "output_padding", None)
                arguments.append(("output_padding", str(list(output_padding))))
            if "output_shape" in attrs:
                shape = self.ints(node, attrs, "output_shape", None)
                output_shape = shape[-spatial:] if len(shape) in (spatial, spatial + 2) else shape
                arguments.append(("output_shape", str(list(shape))))
        if group > 1 and (in_channels % group or out_channels % group):
            raise self.error(
                node, f"group {group} must divide the channels ({in_channels} -> {out_channels})"
            )
        return ConvSpec(
            framework="onnx",
            kernel_size=kernel,
            stride=stride,
            dilation=dilation,
            padding=padding,
            in_channels=in_channels,
            out_channels=out_channels,
            groups=group,
            bias=len(node.input) > 2 and bool(node.input[2]),
            output_padding=output_padding,
            output_size=output_shape,
            arguments=tuple(arguments),
        )

    def pool(self, node: Any, attrs: dict[str, Any]) -> PoolSpec:
        kernel = self.ints(node, attrs, "kernel_shape", None)
        if not kernel:
            raise self.error(node, "kernel_shape is required for pooling")
        spatial = len(kernel)
        stride = self.ints(node, attrs, "strides", (1,) * spatial)
        dilation = self.ints(node, attrs, "dilations", (1,) * spatial)
        pads = self.ints(node, attrs, "pads", (0,) * (2 * spatial))
        if len(stride) != spatial or len(dilation) != spatial or len(pads) != 2 * spatial:
            raise self.error(node, f"strides, dilations and pads must match kernel_shape's {spatial} axes")
        auto_pad = self.word(attrs, "auto_pad", "NOTSET").upper()
        padding: Any = (
            tuple(zip(pads[:spatial], pads[spatial:])) if auto_pad == "NOTSET" else auto_pad.lower()
        )
        ceil_mode = bool(self.integer(node, attrs, "ceil_mode", 0))
        for name, values, low in (
            ("kernel_shape", kernel, 1),
            ("strides", stride, 1),
            ("dilations", dilation, 1),
        ):
            if any(v < low for v in values):
                raise self.error(node, f"{name} must be >= {low} on every axis; got {list(values)}")
        if any(p < 0 for p in pads):
            raise self.error(node, f"pads must be >= 0; got {list(pads)}")
        arguments = [("kernel_shape", str(list(kernel))), ("strides", str(list(stride)))]
        arguments.append(("auto_pad", auto_pad) if auto_pad != "NOTSET" else ("pads", str(list(pads))))
        if any(d != 1 for d in dilation):
            arguments.append(("dilations", str(list(dilation))))
        if ceil_mode:
            arguments.append(("ceil_mode", "1"))
        return PoolSpec(POOLS[node.op_type], kernel, stride, padding, dilation, ceil_mode, tuple(arguments))

    def resize(self, node: Any, attrs: dict[str, Any]) -> ResizeSpec | None:
        mode = self.word(attrs, "mode", "nearest")
        if node.op_type == "Upsample":
            raw = (
                attrs.get("scales")
                if "scales" in attrs
                else (self.values(node, node.input[1]) if len(node.input) > 1 else None)
            )
            if raw is None:
                return None
            return ResizeSpec(mode, scales=tuple(Fraction(float(v)) for v in raw))
        if "axes" in attrs or self.word(attrs, "keep_aspect_ratio_policy", "stretch") != "stretch":
            return None
        names = list(node.input) + [""] * 4
        scales_name, sizes_name = (names[1], "") if len(node.input) == 2 else (names[2], names[3])
        if sizes_name:
            sizes = self.int_values(node, sizes_name, "Resize sizes")
            return None if sizes is None else ResizeSpec(mode, sizes=sizes)
        if scales_name:
            scales = self.values(node, scales_name)
            if scales is None:
                return None
            if not scales:
                return None
            if any(float(s) <= 0 for s in scales):
                raise self.error(node, f"scales must be > 0; got {scales}")
            return ResizeSpec(mode, scales=tuple(Fraction(float(v)) for v in scales))
        raise self.error(node, "Resize needs scales or sizes")

    def pad(self, node: Any, attrs: dict[str, Any]) -> PadSpec | None:
        mode = self.word(attrs, "mode", "constant")
        if "pads" in attrs:
            pads = self.ints(node, attrs, "pads", None)
        elif len(node.input) > 1 and node.input[1]:
            found = self.int_values(node, node.input[1], "Pad pads")
            if found is None:
                return None
            pads = found
        else:
            raise self.error(node, "Pad needs pads")
        if len(node.input) > 3 and node.input[3]:
            return None  # pads over chosen axes (opset 18): left to onnx's inference
        if len(pads) % 2:
            raise self.error(node, f"pads must hold begins then ends; got {len(pads)} values")
        half = len(pads) // 2
        return PadSpec(tuple(zip(pads[:half], pads[half:])), mode)

    def slice(self, node: Any, attrs: dict[str, Any]) -> SliceSpec | None:
        if "starts" in attrs:
            starts = self.ints(node, attrs, "starts", None)
            ends = self.ints(node, attrs, "ends", None)
            axes = self.ints(node, attrs, "axes", tuple(range(len(starts))))
            steps: tuple[int, ...] = (1,) * len(starts)
        else:
            names = list(node.input) + [""] * 5
            found = [
                self.int_values(node, name, "Slice " + what) if name else None
                for name, what in zip(names[1:5], ("starts", "ends", "axes", "steps"))
            ]
            if found[0] is None or found[1] is None:
                return None
            if (names[3] and found[2] is None) or (names[4] and found[3] is None):
                return None
            starts, ends = found[0], found[1]
            axes = found[2] if found[2] is not None else tuple(range(len(starts)))
            steps = found[3] if found[3] is not None else (1,) * len(starts)
        if not len(starts) == len(ends) == len(axes) == len(steps):
            raise self.error(node, "starts, ends, axes and steps must have the same length")
        if any(s == 0 for s in steps):
            raise self.error(node, "steps must not be 0")
        return SliceSpec(tuple(axes), tuple(starts), tuple(ends), tuple(steps))

    def dense(self, node: Any, attrs: dict[str, Any]) -> DenseSpec | None:
        if len(node.input) < 2:
            raise self.error(node, "needs two operands")
        weight = self.dims_of(node.input[1])
        if weight is None or len(weight) != 2:
            return None
        if node.op_type == "Gemm":
            if attrs.get("transA", 0):
                return None
            k, n = (weight[1], weight[0]) if attrs.get("transB", 0) else weight
            return DenseSpec(k, n, len(node.input) > 2 and bool(node.input[2]))
        return DenseSpec(weight[0], weight[1], False)
