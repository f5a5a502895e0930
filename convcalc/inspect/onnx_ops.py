"""ONNX attributes, constants and per-operator specs, as the ONNX operator specification defines them.

Defaults are the spec's (strides and dilations 1, pads 0, auto_pad NOTSET, group 1; kernel_shape from
the weight when absent). Constant operands (initializers and Constant nodes) are decoded with
``struct``, never numpy, and only when small: they are shapes, pads and scales.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.model import ConvSpec, DenseSpec, Dim, PadSpec, PoolSpec, ResizeSpec, SliceSpec

# Constant operands are decoded only up to this many values (they are shapes, pads and scales).
MAX_CONSTANT_VALUES = 4096
POOLS = {"MaxPool": "max", "AveragePool": "avg", "LpPool": "lp"}
_ATTRIBUTE_FIELDS = {1: "f", 2: "i", 3: "s", 4: "t", 5: "g", 6: "floats", 7: "ints", 8: "strings"}
_FORMATS = {1: "f", 6: "i", 7: "q", 11: "d", 10: "e", 12: "I", 13: "Q", 2: "B", 3: "b", 4: "H", 5: "h"}


class OpReader:
    """Reads one model's attributes and constants; builds the spec of each modelled operator."""

    def __init__(self, onnx: Any, model: Any, source: str) -> None:
        self.onnx = onnx
        self.model = model
        self.graph = model.graph
        self.source = source
        self.initializers = {t.name: t for t in self.graph.initializer}
        self.constant_nodes: dict[str, Any] = {}
        self.inferred: dict[str, tuple[Dim, ...] | None] = {}
        # Tensors of the shape arithmetic (small constants, Shape -> Gather -> Sub -> Concat ...): an
        # operand computed from them is read at run time (``Node.operands``), see convcalc.graph.values.
        self.value_tensors: set[str] = set()
        self.operands: list[tuple[str, str]] = []

    # -- errors and attributes -------------------------------------------------------------------
    def error(self, node: Any, message: str) -> ConvCalcError:
        return ConvCalcError(
            f"{self.source}: node {node.name or '(unnamed)'!r} ({node.op_type}): {message}", parameter="model"
        )

    def attrs(self, node: Any) -> dict[str, Any]:
        """Each attribute's value by its declared type (AttributeProto.AttributeType: FLOAT 1, INT 2,
        STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7, STRINGS 8), as onnx.helper.get_attribute_value."""
        out = {}
        for attribute in node.attribute:
            field = _ATTRIBUTE_FIELDS.get(attribute.type)
            if field is None:
                raise self.error(node, f"attribute {attribute.name!r} cannot be read")
            value = getattr(attribute, field)
            out[attribute.name] = list(value) if attribute.type in (6, 7, 8) else value
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
        return self.tensor_numbers(node, tensor, name)

    def tensor_numbers(self, node: Any, tensor: Any, name: str = "(attribute)") -> list[int | float]:
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

    def operand(self, node: Any, name: str, role: str, what: str) -> tuple[int, ...] | None:
        """A constant operand's integers; () with the operand recorded (``Node.operands``) when the
        shape arithmetic computes it; None when neither (data-dependent: not modelled)."""
        if self.constant_tensor(name) is not None:
            return self.int_values(node, name, what)
        if name in self.value_tensors:
            self.operands.append((role, name))
            return ()
        return None

    def int_values(self, node: Any, name: str, what: str) -> tuple[int, ...] | None:
        values = self.values(node, name)
        if values is None:
            return None
        if not all(isinstance(v, int) or float(v).is_integer() for v in values):
            raise self.error(node, f"{what} must be integers; got {values}")
        return tuple(int(v) for v in values)

    # -- the walk ---------------------------------------------------------------------------------
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
        return PoolSpec(
            POOLS[node.op_type],
            kernel,
            stride,
            padding,
            dilation,
            ceil_mode,
            tuple(arguments),
            framework="onnx",
        )

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
            factors = tuple(Fraction(float(v)) for v in raw)
            return ResizeSpec(mode, factors, None, "asymmetric", "floor")
        if "axes" in attrs or self.word(attrs, "keep_aspect_ratio_policy", "stretch") != "stretch":
            return None
        names = list(node.input) + [""] * 4
        scales_name, sizes_name = (names[1], "") if len(node.input) == 2 else (names[2], names[3])
        coordinate_mode = self.word(attrs, "coordinate_transformation_mode", "half_pixel")
        nearest_mode = self.word(attrs, "nearest_mode", "round_prefer_floor")
        if sizes_name:
            sizes = self.operand(node, sizes_name, "sizes", "Resize sizes")
            return None if sizes is None else ResizeSpec(mode, None, sizes, coordinate_mode, nearest_mode)
        if scales_name:
            if self.constant_tensor(scales_name) is None and scales_name in self.value_tensors:
                self.operands.append(("scales", scales_name))
                return ResizeSpec(mode, (), None, coordinate_mode, nearest_mode)
            scales = self.values(node, scales_name)
            if scales is None:
                return None
            if not scales:
                return None
            if any(float(s) <= 0 for s in scales):
                raise self.error(node, f"scales must be > 0; got {scales}")
            exact = tuple(Fraction(float(v)) for v in scales)
            return ResizeSpec(mode, exact, None, coordinate_mode, nearest_mode)
        raise self.error(node, "Resize needs scales or sizes")

    def pad(self, node: Any, attrs: dict[str, Any]) -> PadSpec | None:
        mode = self.word(attrs, "mode", "constant")
        if "pads" in attrs:
            pads = self.ints(node, attrs, "pads", None)
        elif len(node.input) > 1 and node.input[1]:
            found = self.operand(node, node.input[1], "pads", "Pad pads")
            if found is None:
                return None
            if not found:
                return PadSpec((), mode)
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
            roles = ("starts", "ends", "axes", "steps")
            found = [
                self.operand(node, name, role, "Slice " + role) if name else None
                for name, role in zip(names[1:5], roles)
            ]
            if found[0] is None or found[1] is None:
                return None
            if (names[3] and found[2] is None) or (names[4] and found[3] is None):
                return None
            if self.operands:
                # computed at run time: the spec holds the constant parts, the run fills in the rest
                return SliceSpec(found[2] or (), found[0], found[1], found[3] or ())
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
