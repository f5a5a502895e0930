"""How each PyTorch layer's own arguments become a Graph spec: the modules (nn.Conv*, nn.ConvTranspose*,
pooling, nn.Upsample, padding, PixelShuffle, nn.Flatten, nn.Linear, activations and norms) and their
functional forms (F.conv*, F.*pool*, F.interpolate, F.pad, torch.cat, slicing, view / reshape,
elementwise operators). ``LayerReader`` holds what every kind needs; ``torch_fx.FxReader`` walks the
traced graph and calls it. A layer whose arguments are computed from tensor sizes in forward, or which
the graph cannot express, is answered None: the walk reads it as ``unknown``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.inspect.graph import (
    BlockSpec,
    ConcatSpec,
    ConvSpec,
    DenseSpec,
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
)
from convcalc.inspect.shapes import propagate

Described = tuple[str, Spec, list[Any]]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SHAPE_PRESERVING_MODULES = _words(
    "ReLU ReLU6 LeakyReLU PReLU RReLU ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Hardtanh Hardswish "
    "Hardsigmoid Hardshrink Softshrink Tanhshrink Softplus Softsign LogSigmoid Threshold Softmax "
    "LogSoftmax Softmin Softmax2d Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout "
    "Identity BatchNorm1d BatchNorm2d BatchNorm3d SyncBatchNorm InstanceNorm1d InstanceNorm2d "
    "InstanceNorm3d GroupNorm LayerNorm LocalResponseNorm CrossMapLRN2d RMSNorm"
)
_SHAPE_PRESERVING_CALLS = _words(
    "relu relu6 leaky_relu prelu rrelu elu selu celu gelu silu mish sigmoid tanh hardtanh hardswish "
    "hardsigmoid softplus softsign logsigmoid softmax log_softmax softmin dropout dropout1d dropout2d "
    "dropout3d alpha_dropout feature_alpha_dropout batch_norm instance_norm layer_norm group_norm "
    "local_response_norm normalize rms_norm exp log sqrt rsqrt abs neg clamp clip sign floor ceil round "
    "sin cos contiguous clone detach float half double bfloat16 reciprocal square pos"
)
# operator.add for "x + y", torch.add, Tensor.add / add_ (the trailing underscore is dropped first)
_ELEMENTWISE_CALLS = _words(
    "add sub mul truediv div floordiv mod pow maximum minimum where iadd isub imul itruediv "
    "true_divide multiply subtract"
)
_CONCAT_CALLS = frozenset(("cat", "concat", "concatenate"))
SIZE_METHODS = frozenset(("size", "dim", "numel", "nelement", "ndimension"))
SIZE_ATTRIBUTES = frozenset(("shape", "ndim", "dtype", "device", "is_cuda", "layout"))
_PAD_MODES = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect"}
_PAD_MODES.update({"Replication": "replicate", "Circular": "circular"})
_POOL_ARGS = {
    "max": ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    "avg": (
        "input",
        "kernel_size",
        "stride",
        "padding",
        "ceil_mode",
        "count_include_pad",
        "divisor_override",
    ),
    "lp": ("input", "norm_type", "kernel_size", "stride", "ceil_mode"),
}
_INTERPOLATE_ARGS = ("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor")
_CONV_ARGS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
_CONV_T_ARGS = ("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation")


def _ints(value: object, count: int | None = None) -> tuple[int, ...] | None:
    """An int or a sequence of ints as a tuple (an int spread over ``count`` axes); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value,) * (count or 1)
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(value)
    return None


def _bind(names: Sequence[str], args: Sequence[object], kwargs: dict[str, object]) -> dict[str, object]:
    bound = dict(zip(names, args))
    bound.update(kwargs)
    return bound


def _spell(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(tuple(value) if isinstance(value, list) else value)


def nodes_in(value: object) -> list[Any]:
    """Every fx Node inside an argument (lists, tuples, dicts, slices), in order."""
    found: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item).__name__ == "Node" and hasattr(item, "op"):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, slice):
            stack.extend((item.step, item.stop, item.start))
    return found


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


class LayerReader:
    """The state of one read (nodes so far, ranks, notes) and the rule of every layer kind."""

    def __init__(self, torch: Any, module: Any, shape: tuple[int, ...], source: str) -> None:
        self.torch = torch
        self.module = module
        self.shape = shape
        self.source = source
        self.nodes: list[Node] = []
        self.inputs: list[Tensor] = []
        self.constants: dict[str, Tensor] = {}
        self.notes: list[str] = []
        self.rank: dict[str, int | None] = {}
        self.tensors: set[Any] = set()
        self.graph_module: Any = None
        self.attr_shapes: dict[str, tuple[int, ...]] = {}
        self.known: tuple[int, dict[str, tuple[int, ...]]] = (-1, {})
        self.keeps_rank = False

    def error(self, where: str, message: str) -> ConvCalcError:
        return ConvCalcError(f"{self.source}: {where}: {message}", parameter="model")

    def is_tensor(self, value: object) -> bool:
        return type(value).__name__ == "Node" and value in self.tensors

    def name_of(self, node: Any) -> str:
        if node.op == "call_module":
            return str(node.target)
        stack = node.meta.get("nn_module_stack") or {}
        paths = [v[0] for v in stack.values() if isinstance(v, tuple) and v and v[0]]
        return f"{paths[-1]}.{node.name}" if paths else str(node.name)

    def dynamic(self, node: Any, what: str, value: object) -> bool:
        """True (with a note) when an argument is computed from tensor sizes in forward."""
        if not nodes_in(value):
            return False
        self.keeps_rank = True  # every op read with computed arguments keeps its input's rank
        self.notes.append(
            f"{self.name_of(node)}: {what} is computed from tensor sizes in forward; convcalc reads the "
            "layer as unknown, with torch's own output shape for the given input"
        )
        return True

    def shape_now(self, name: str) -> tuple[int, ...] | None:
        """A tensor's shape at the given input, by convcalc's own propagation of the nodes read so far."""
        if self.known[0] != len(self.nodes):
            graph = Graph(
                self.source,
                "pytorch",
                tuple(self.inputs),
                tuple(self.nodes),
                (),
                tuple(self.constants.values()),
            )
            self.known = (len(self.nodes), propagate(graph, (self.shape,)).shapes)
        return self.known[1].get(name)

    def attr_shape(self, value: object) -> tuple[int, ...] | None:
        if not self.is_tensor(value) or value.op != "get_attr":  # type: ignore[attr-defined]
            return None
        return self.attr_shapes.get(value.name)  # type: ignore[attr-defined]

    def module_node(self, node: Any, module: Any, op: str) -> Described | None:
        nn = self.torch.nn
        x = self.first(node)
        if x is None:
            return None
        lazy = getattr(module, "has_uninitialized_params", None)
        if callable(lazy) and lazy():
            raise self.error(
                str(node.target), f"{op} is a lazy module whose weights are not made yet; run the model once"
            )
        if isinstance(module, nn.modules.conv._ConvNd):
            return self.conv_module(node, module, x)
        if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
            if module.return_indices:
                return None
            return self.pool(
                node,
                "max",
                x,
                module.kernel_size,
                module.stride,
                module.padding,
                module.dilation,
                module.ceil_mode,
            )
        if isinstance(module, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
            return self.pool(
                node, "avg", x, module.kernel_size, module.stride, module.padding, 1, module.ceil_mode
            )
        if type(module).__name__.startswith("LPPool"):
            return self.pool(node, "lp", x, module.kernel_size, module.stride, 0, 1, module.ceil_mode)
        if type(module).__name__.startswith("Adaptive") and hasattr(module, "output_size"):
            if getattr(module, "return_indices", False):
                return None
            return self.adaptive(
                node, "adaptive_avg" if "Avg" in op else "adaptive_max", x, module.output_size
            )
        if isinstance(module, nn.Upsample):
            return self.resize(node, x, module.size, module.scale_factor, module.mode)
        if isinstance(module, nn.PixelShuffle):
            return self.block(x, "depth_to_space", module.upscale_factor)
        if isinstance(module, nn.PixelUnshuffle):
            return self.block(x, "space_to_depth", module.downscale_factor)
        for prefix, mode in _PAD_MODES.items():
            if op.startswith(prefix + "Pad") and hasattr(module, "padding"):
                return self.pad(node, x, module.padding, mode)
        if isinstance(module, nn.Flatten):
            return self.flatten(x, module.start_dim, module.end_dim)
        if isinstance(module, nn.Linear):
            return "dense", DenseSpec(module.in_features, module.out_features, module.bias is not None), [x]
        if op in _SHAPE_PRESERVING_MODULES:
            return "shape_preserving", None, [x]
        return None

    def conv_module(self, node: Any, module: Any, x: Any) -> Described | None:
        transposed = bool(module.transposed)
        ndim = len(module.kernel_size)
        padding: Any = module.padding
        if not isinstance(padding, str):
            padding = tuple((int(p), int(p)) for p in padding)
        arguments = [
            ("kernel_size", _spell(module.kernel_size)),
            ("stride", _spell(module.stride)),
            ("padding", _spell(module.padding)),
            ("dilation", _spell(module.dilation)),
            ("groups", str(module.groups)),
        ]
        output_padding = output_size = None
        if transposed:
            output_padding = tuple(int(p) for p in module.output_padding)
            arguments.append(("output_padding", _spell(module.output_padding)))
            requested = node.kwargs.get("output_size", node.args[1] if len(node.args) > 1 else None)
            if requested is not None:
                if self.dynamic(node, "output_size (a forward argument)", requested):
                    return None
                sizes = _ints(requested)
                if sizes is None or len(sizes) not in (ndim, ndim + 2):
                    raise self.error(
                        str(node.target),
                        f"output_size must have {ndim} or {ndim + 2} elements; got {requested!r}",
                    )
                output_size = sizes[-ndim:]
                arguments.append(("output_size (forward argument)", _spell(list(output_size))))
        if module.padding_mode != "zeros":
            arguments.append(("padding_mode", repr(module.padding_mode)))
            self.notes.append(
                f"{node.target}: padding_mode={module.padding_mode!r} pads with F.pad before a padding-0 "
                "convolution: the sizes are those of zero padding (PyTorch also refuses reflect padding "
                "not smaller than the input and circular padding larger than it, which this report does "
                "not check)"
            )
        spec = ConvSpec(
            framework="pytorch",
            kernel_size=tuple(module.kernel_size),
            stride=tuple(module.stride),
            dilation=tuple(module.dilation),
            padding=padding,
            in_channels=module.in_channels,
            out_channels=module.out_channels,
            groups=module.groups,
            bias=module.bias is not None,
            output_padding=output_padding,
            output_size=output_size,
            arguments=tuple(arguments),
        )
        return ("conv_transpose" if transposed else "conv"), spec, [x]

    def call_node(self, node: Any, op: str) -> Described | None:
        args, kwargs = list(node.args), dict(node.kwargs)
        if op in _CONCAT_CALLS:
            bound = _bind(("tensors", "dim"), args, kwargs)
            tensors, dim = bound.get("tensors"), bound.get("dim", 0)
            if not isinstance(tensors, (list, tuple)) or not isinstance(dim, int):
                return None
            if not tensors or not all(self.is_tensor(t) for t in tensors):
                return None
            return "concat", ConcatSpec(dim), list(tensors)
        operands = [n for n in nodes_in((args, kwargs)) if self.is_tensor(n)]
        # a number or a size read in forward (1 - y, y * x.size(0)) is a scalar: it keeps the shape
        if op in _ELEMENTWISE_CALLS and operands:
            return ("elementwise" if len(operands) > 1 else "shape_preserving"), None, operands
        x = self.first(node)
        if x is None:
            return None
        # F.layer_norm(x, x.shape[1:], self.weight, ...): the parameters and sizes do not change the shape
        if op in _SHAPE_PRESERVING_CALLS and all(n is x or n.op == "get_attr" for n in operands):
            return "shape_preserving", None, [x]
        if op == "getitem":
            return self.getitem(node, x, args[1] if len(args) > 1 else None)
        if op == "pad":
            bound = _bind(("input", "pad", "mode", "value"), args, kwargs)
            if self.dynamic(node, "pad", bound.get("pad")):
                return None
            return self.pad(node, x, bound.get("pad"), str(bound.get("mode") or "constant"))
        if op in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
            bound = _bind(_INTERPOLATE_ARGS, args, kwargs)
            if self.dynamic(node, "size / scale_factor", (bound.get("size"), bound.get("scale_factor"))):
                return None
            default = "bilinear" if op == "upsample_bilinear" else "nearest"
            return self.resize(
                node, x, bound.get("size"), bound.get("scale_factor"), str(bound.get("mode") or default)
            )
        for kind in ("max", "avg", "lp"):
            if op in (f"{kind}_pool1d", f"{kind}_pool2d", f"{kind}_pool3d"):
                bound = _bind(_POOL_ARGS[kind], args, kwargs)
                if bound.get("return_indices") or self.dynamic(
                    node, "the pooling arguments", [v for k, v in bound.items() if k != "input"]
                ):
                    return None
                return self.pool(
                    node,
                    kind,
                    x,
                    bound.get("kernel_size"),
                    bound.get("stride"),
                    bound.get("padding", 0),
                    bound.get("dilation", 1),
                    bool(bound.get("ceil_mode")),
                )
        if op.startswith("adaptive_") and op[-2:] in ("1d", "2d", "3d"):
            bound = _bind(("input", "output_size", "return_indices"), args, kwargs)
            if bound.get("return_indices"):
                return None
            mode = "adaptive_avg" if "avg" in op else "adaptive_max"
            return self.adaptive(node, mode, x, bound.get("output_size"))
        if op in ("pixel_shuffle", "pixel_unshuffle"):
            factor = _bind(("input", "factor"), args, kwargs).get("factor", kwargs.get("upscale_factor"))
            factor = kwargs.get("downscale_factor", factor)
            if not isinstance(factor, int):
                return None
            return self.block(x, "depth_to_space" if op == "pixel_shuffle" else "space_to_depth", factor)
        if op == "flatten":
            bound = _bind(("input", "start_dim", "end_dim"), args, kwargs)
            start, end = bound.get("start_dim", 0), bound.get("end_dim", -1)
            return self.flatten(x, start, end) if isinstance(start, int) and isinstance(end, int) else None
        if op in ("view", "reshape"):
            return self.reshape(x, args[1:])
        if op in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
            return self.conv_call(
                node, op, x, _bind(_CONV_T_ARGS if "transpose" in op else _CONV_ARGS, args, kwargs)
            )
        if op == "linear":
            weight = _bind(("input", "weight", "bias"), args, kwargs)
            shape = self.attr_shape(weight.get("weight"))
            if shape is None or len(shape) != 2:
                return None
            return "dense", DenseSpec(shape[1], shape[0], weight.get("bias") is not None), [x]
        return None

    def conv_call(self, node: Any, op: str, x: Any, bound: dict[str, object]) -> Described | None:
        weight = self.attr_shape(bound.get("weight"))
        if weight is None or self.dynamic(
            node,
            "the convolution arguments",
            {k: v for k, v in bound.items() if k not in ("input", "weight", "bias")},
        ):
            return None
        ndim = len(weight) - 2
        groups = bound.get("groups", 1)
        stride, dilation = _ints(bound.get("stride", 1), ndim), _ints(bound.get("dilation", 1), ndim)
        padding_value = bound.get("padding", 0)
        padding: Any = padding_value if isinstance(padding_value, str) else _ints(padding_value, ndim)
        if not isinstance(groups, int) or stride is None or dilation is None or padding is None:
            return None
        transposed = "transpose" in op
        output_padding = _ints(bound.get("output_padding", 0), ndim) if transposed else None
        if not isinstance(padding, str):
            padding = tuple((p, p) for p in padding)
        in_channels, out_channels = (
            (weight[0], weight[1] * groups) if transposed else (weight[1] * groups, weight[0])
        )
        arguments = [
            ("weight", _spell(weight)),
            ("stride", _spell(stride)),
            ("padding", _spell(padding_value)),
            ("dilation", _spell(dilation)),
            ("groups", str(groups)),
        ]
        if output_padding is not None:
            arguments.append(("output_padding", _spell(output_padding)))
        spec = ConvSpec(
            "pytorch",
            weight[2:],
            stride,
            dilation,
            padding,
            in_channels,
            out_channels,
            groups,
            bound.get("bias") is not None,
            output_padding,
            None,
            False,
            tuple(arguments),
        )
        return ("conv_transpose" if transposed else "conv"), spec, [x]

    def pool(
        self,
        node: Any,
        kind: str,
        x: Any,
        kernel: object,
        stride: object,
        padding: object,
        dilation: object,
        ceil_mode: bool,
    ) -> Described | None:
        rank = self.rank.get(x.name)
        kernels = _ints(kernel, (rank - 2) if rank else None)
        if kernels is None:
            return None
        n = len(kernels)
        strides = kernels if stride is None or stride == [] or stride == () else _ints(stride, n)
        pads, dilations = _ints(padding, n), _ints(dilation, n)
        if strides is None or pads is None or dilations is None:
            return None
        for k, p in zip(kernels, pads):
            if p > k // 2:
                raise self.error(
                    self.name_of(node),
                    f"pad should be at most half of kernel size, but got pad={p}, kernel_size={k} "
                    "(PyTorch refuses this pooling on every input)",
                )
        arguments = [
            ("kernel_size", _spell(kernel)),
            ("stride", _spell(strides)),
            ("padding", _spell(padding)),
        ]
        if any(d != 1 for d in dilations):
            arguments.append(("dilation", _spell(dilation)))
        if ceil_mode:
            arguments.append(("ceil_mode", "True"))
        return (
            "pool",
            PoolSpec(
                kind, kernels, strides, tuple((p, p) for p in pads), dilations, ceil_mode, tuple(arguments)
            ),
            [x],
        )

    def adaptive(self, node: Any, mode: str, x: Any, output_size: object) -> Described | None:
        rank = self.rank.get(x.name)
        if rank is None or rank < 3:
            return None
        sizes = _ints(output_size, rank - 2)
        if sizes is not None and all(s == 1 for s in sizes):
            return "global_pool", None, [x]
        current = self.shape_now(x.name)
        if sizes is None or current is None or len(sizes) != rank - 2:
            return None  # None entries keep an input size: not a fixed resize
        return "resize", ResizeSpec(mode, sizes=(*current[:2], *sizes)), [x]

    def resize(self, node: Any, x: Any, size: object, scale: object, mode: str) -> Described | None:
        rank = self.rank.get(x.name)
        if rank is None or rank < 3:
            return None
        if size is not None:
            sizes = _ints(size, rank - 2)
            current = self.shape_now(x.name)
            if sizes is None or current is None or len(sizes) != rank - 2:
                return None
            return "resize", ResizeSpec(mode, sizes=(*current[:2], *sizes)), [x]
        factors = scale if isinstance(scale, (list, tuple)) else [scale] * (rank - 2)
        if len(factors) != rank - 2 or not all(isinstance(f, (int, float)) and f > 0 for f in factors):
            return None
        exact = [Fraction(float(f)) for f in factors]  # type: ignore[arg-type]
        if any(f.denominator != 1 for f in exact):
            self.notes.append(
                f"{self.name_of(node)}: scale_factor {_spell(scale)} is not an integer: torch computes "
                "floor(size * scale) in floating point, which can differ by one from the exact product"
            )
        return "resize", ResizeSpec(mode, scales=(Fraction(1), Fraction(1), *exact)), [x]

    def block(self, x: Any, kind: str, factor: int) -> Described | None:
        # pixel_shuffle works on the last two axes: the graph's rule is per spatial axis, so rank 4 only.
        if self.rank.get(x.name) != 4 or factor < 1:
            return None
        return kind, BlockSpec(factor), [x]

    def pad(self, node: Any, x: Any, pad: object, mode: str) -> Described | None:
        rank = self.rank.get(x.name)
        amounts = _ints(pad)
        if rank is None or amounts is None or len(amounts) % 2 or len(amounts) // 2 > rank:
            return None
        pairs = [(0, 0)] * rank
        for n in range(len(amounts) // 2):
            pairs[rank - 1 - n] = (amounts[2 * n], amounts[2 * n + 1])
        if mode in ("reflect", "circular"):
            self.notes.append(
                f"{self.name_of(node)}: PyTorch refuses {mode} padding "
                f"{'not smaller than' if mode == 'reflect' else 'larger than'} the input on an axis; this "
                "report does not check that limit"
            )
        return "pad", PadSpec(tuple(pairs), mode), [x]

    def getitem(self, node: Any, x: Any, index: object) -> Described | None:
        rank = self.rank.get(x.name)
        items = index if isinstance(index, tuple) else (index,)
        if not all(isinstance(i, slice) or i is Ellipsis for i in items) or list(items).count(Ellipsis) > 1:
            return None
        if rank is None or self.dynamic(node, "the slice bounds", items):
            return None
        slices = [i for i in items if isinstance(i, slice)]
        if len(slices) > rank:
            return None
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items = (*items[:at], *[slice(None)] * (rank - len(slices)), *items[at + 1 :])
        axes, starts, ends, steps = [], [], [], []
        for axis, item in enumerate(items):
            assert isinstance(item, slice)
            if item == slice(None):
                continue
            start, end, step = item.start, item.stop, item.step
            if not all(
                v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (start, end, step)
            ):
                return None
            if step is not None and step < 1:
                return None  # torch refuses non-positive steps
            axes.append(axis)
            starts.append(0 if start is None else start)
            ends.append(end)
            steps.append(1 if step is None else step)
        return "slice", SliceSpec(tuple(axes), tuple(starts), tuple(ends), tuple(steps)), [x]

    def flatten(self, x: Any, start: int, end: int) -> Described | None:
        rank = self.rank.get(x.name)
        if rank is None or end not in (-1, rank - 1):
            return None
        if start in (1, 1 - rank):
            return "flatten", FlattenSpec(1), [x]
        if start in (0, -rank):
            return "reshape", ReshapeSpec((-1,)), [x]
        return None

    def reshape(self, x: Any, shape: Sequence[object]) -> Described | None:
        values = list(shape[0]) if len(shape) == 1 and isinstance(shape[0], (list, tuple)) else list(shape)
        out: list[int] = []
        for position, value in enumerate(values):
            if isinstance(value, int) and not isinstance(value, bool) and value != 0 and value >= -1:
                out.append(value)
            elif (
                getattr(value, "op", None) == "call_method"
                and value.target == "size"  # type: ignore[attr-defined]
                and value.args == (x, position)  # type: ignore[attr-defined]
            ):
                out.append(0)  # x.view(x.size(0), -1): ONNX's 0 copies the input's own dimension
            else:
                return None
        return ("reshape", ReshapeSpec(tuple(out)), [x]) if out else None

    def first(self, node: Any) -> Any:
        value = node.args[0] if node.args else next(iter(node.kwargs.values()), None)
        return value if self.is_tensor(value) else None
