"""How each PyTorch layer's own arguments become a Graph spec, from the values it was really called with.

The capture (``torch_capture``) executes the model and hands every call here with its concrete
arguments: the modules (nn.Conv*, nn.ConvTranspose*, pooling, nn.Upsample, padding, PixelShuffle,
nn.Flatten, nn.Linear, activations and norms) and their functional forms (F.conv*, F.*pool*,
F.interpolate, F.pad, torch.cat, chunk / split, slicing, view / reshape, elementwise operators). A
call the Graph cannot express is answered None: the capture records it as ``unknown`` with the shape
torch gave it. Sizes computed in forward arrive here as plain numbers at the captured input size;
whether they move with the input size is found by the reader, which captures at several sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.model import (
    BlockSpec,
    ConcatSpec,
    ConvSpec,
    DenseSpec,
    FlattenSpec,
    PadSpec,
    PoolSpec,
    ReshapeSpec,
    ResizeSpec,
    SliceSpec,
    Spec,
    TransposeSpec,
    ValueSpec,
)

Described = tuple[str, Spec, list[Any]]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SHAPE_PRESERVING_MODULES = _words(
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
    "sin cos contiguous clone detach float half double bfloat16 reciprocal square pos to type type_as "
    "requires_grad data erf sigmoid_ tanh_ nan_to_num"
)
# "x + y", torch.add, Tensor.add / add_ (a trailing underscore is dropped first)
_ELEMENTWISE_CALLS = _words(
    "add sub rsub mul truediv rtruediv div floordiv mod pow maximum minimum where iadd isub imul itruediv "
    "true_divide multiply subtract radd rmul and or xor"
)
_CONCAT_CALLS = frozenset(("cat", "concat", "concatenate"))
_AXIS_CALLS = frozenset(("permute", "transpose", "swapaxes", "swapdims", "unsqueeze", "squeeze"))
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


def op_name(func: Any) -> str:
    """torch's name of a call, as a user reads it: ``__add__`` -> add, ``_max_pool2d`` -> max_pool2d."""
    name = str(getattr(func, "__name__", None) or func)
    if name == "__get__":  # a property: Tensor.shape, Tensor.T, Tensor.data
        name = str(getattr(getattr(func, "__self__", None), "__name__", name))
    name = name.strip("_") or name
    return name[: -len("_with_indices")] if name.endswith("_with_indices") else name


def _ints(value: object, count: int | None = None) -> tuple[int, ...] | None:
    """An int or a sequence of ints as a tuple (an int spread over ``count`` axes); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (int(value),) * (count or 1)
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(int(v) for v in value)
    return None


def _bind(names: Sequence[str], args: Sequence[object], kwargs: dict[str, Any]) -> dict[str, Any]:
    bound = dict(zip(names, args))
    bound.update(kwargs)
    return bound


def _spell(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return str(tuple(int(v) if isinstance(v, int) else v for v in value))
    return str(value)


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def overrides_forward(module: Any) -> bool:
    """Whether the module's class (or a class between it and torch.nn) defines its own forward."""
    forward = getattr(type(module), "forward", None)
    return not str(getattr(forward, "__module__", "")).startswith("torch.nn.")


class Layers:
    """The rule of every layer kind, on concrete values; ``is_data`` tells graph tensors from weights."""

    def __init__(self, torch: Any, notes: list[str], is_data: Callable[[Any], bool]) -> None:
        self.torch = torch
        self.notes = notes
        self.is_data = is_data

    def error(self, name: str, message: str) -> ConvCalcError:
        return ConvCalcError(f"{name}: {message}", parameter="model")

    def is_tensor(self, value: object) -> bool:
        return isinstance(value, self.torch.Tensor)

    # -- modules ------------------------------------------------------------------------------------

    def module(self, name: str, module: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Described | None:
        """A module recorded as one node (a torch layer whose forward is torch's own), or None."""
        nn = self.torch.nn
        x = args[0] if args else next(iter(kwargs.values()), None)
        if not self.is_tensor(x) or not self.is_data(x):
            return None
        op = type(module).__name__
        if isinstance(module, nn.modules.conv._ConvNd):
            return self.conv_module(name, module, x, args[1:], kwargs)
        if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
            if module.return_indices:
                return None
            return self.pool(
                name,
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
                name, "avg", x, module.kernel_size, module.stride, module.padding, 1, module.ceil_mode
            )
        if op.startswith("LPPool"):
            return self.pool(name, "lp", x, module.kernel_size, module.stride, 0, 1, module.ceil_mode)
        if op.startswith("Adaptive") and hasattr(module, "output_size"):
            if getattr(module, "return_indices", False):
                return None
            return self.adaptive(x, "adaptive_avg" if "Avg" in op else "adaptive_max", module.output_size)
        if isinstance(module, nn.Upsample):
            return self.resize(name, x, module.size, module.scale_factor, module.mode)
        if isinstance(module, nn.PixelShuffle):
            return self.block(x, "depth_to_space", module.upscale_factor)
        if isinstance(module, nn.PixelUnshuffle):
            return self.block(x, "space_to_depth", module.downscale_factor)
        for prefix, mode in _PAD_MODES.items():
            if op.startswith(prefix + "Pad") and hasattr(module, "padding"):
                return self.pad(name, x, module.padding, mode)
        if isinstance(module, nn.Flatten):
            return self.flatten(x, module.start_dim, module.end_dim)
        if isinstance(module, nn.Linear):
            return "dense", DenseSpec(module.in_features, module.out_features, module.bias is not None), [x]
        if op in SHAPE_PRESERVING_MODULES:
            return "shape_preserving", None, [x]
        return None

    def conv_module(
        self, name: str, module: Any, x: Any, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> Described | None:
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
            requested = kwargs.get("output_size", args[0] if args else None)
            if requested is not None:
                sizes = _ints(list(requested) if isinstance(requested, tuple) else requested)
                if sizes is None or len(sizes) not in (ndim, ndim + 2):
                    raise self.error(
                        name, f"output_size must have {ndim} or {ndim + 2} elements; got {requested!r}"
                    )
                output_size = sizes[-ndim:]
                arguments.append(("output_size (forward argument)", _spell(list(output_size))))
        if module.padding_mode != "zeros":
            arguments.append(("padding_mode", repr(module.padding_mode)))
            self.notes.append(
                f"{name}: padding_mode={module.padding_mode!r} pads with F.pad before a padding-0 "
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

    # -- functions and tensor methods ---------------------------------------------------------------

    def call(self, name: str, op: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Described | None:
        """A function or tensor method called on graph data, or None when the Graph cannot express it."""
        if op.endswith("_") and op.rstrip("_") in _SHAPE_PRESERVING_CALLS | _ELEMENTWISE_CALLS:
            op = op.rstrip("_")
        if op in _CONCAT_CALLS:
            bound = _bind(("tensors", "dim"), args, kwargs)
            tensors, dim = bound.get("tensors"), bound.get("dim", 0)
            if not isinstance(tensors, (list, tuple)) or not isinstance(dim, int) or not tensors:
                return None
            if not all(self.is_tensor(t) for t in tensors) or len({t.dim() for t in tensors}) > 1:
                return None
            return "concat", ConcatSpec(int(dim)), list(tensors)
        tensors = [a for a in (*args, *kwargs.values()) if self.is_tensor(a)]
        # a number or a size read in forward (1 - y, y * x.size(0)) is a scalar: it keeps the shape
        if op in _ELEMENTWISE_CALLS and tensors:
            # by identity: `in` would compare tensors elementwise (MONAI DiNTS adds data to tensor(0.0))
            scalars = {id(t) for t in tensors if t.dim() == 0 and not self.is_data(t)}
            operands = [t for t in tensors if id(t) not in scalars] or tensors
            return ("elementwise" if len(operands) > 1 else "shape_preserving"), None, operands
        x: Any = args[0] if args else next(iter(kwargs.values()), None)
        if not self.is_tensor(x) or not self.is_data(x):
            return None
        others = [t for t in tensors if t is not x]
        # F.layer_norm(x, x.shape[1:], self.weight, ...): weights and sizes do not change the shape
        if op in _SHAPE_PRESERVING_CALLS and not any(self.is_data(t) for t in others):
            return "shape_preserving", None, [x]
        if op == "getitem":
            return self.getitem(x, args[1] if len(args) > 1 else None)
        if op == "pad":
            bound = _bind(("input", "pad", "mode", "value"), args, kwargs)
            return self.pad(name, x, bound.get("pad"), str(bound.get("mode") or "constant"))
        if op in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
            bound = _bind(_INTERPOLATE_ARGS, args, kwargs)
            default = "bilinear" if op == "upsample_bilinear" else "nearest"
            return self.resize(
                name, x, bound.get("size"), bound.get("scale_factor"), str(bound.get("mode") or default)
            )
        for kind in ("max", "avg", "lp"):
            if op in (f"{kind}_pool1d", f"{kind}_pool2d", f"{kind}_pool3d"):
                bound = _bind(_POOL_ARGS[kind], args, kwargs)
                if bound.get("return_indices"):
                    return None
                return self.pool(
                    name,
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
            return self.adaptive(
                x, "adaptive_avg" if "avg" in op else "adaptive_max", bound.get("output_size")
            )
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
            return self.reshape(x, args[1:] or tuple(kwargs.values()))
        if op in _AXIS_CALLS:
            return self.axes(op, x, args[1:], kwargs)
        if op in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
            bound = _bind(_CONV_T_ARGS if "transpose" in op else _CONV_ARGS, args, kwargs)
            return self.conv_call(op, x, bound)
        if op == "linear":
            bound = _bind(("input", "weight", "bias"), args, kwargs)
            weight: Any = bound.get("weight")
            if not self.is_tensor(weight) or self.is_data(weight) or weight.dim() != 2:
                return None
            return (
                "dense",
                DenseSpec(int(weight.shape[1]), int(weight.shape[0]), bound.get("bias") is not None),
                [x],
            )
        if op in ("mean", "amax", "sum", "amin") and x.dim() >= 3:
            return self.reduce(x, _bind(("input", "dim", "keepdim"), args, kwargs))
        return None

    def pieces(
        self, op: str, args: Sequence[Any], kwargs: dict[str, Any], outputs: Sequence[Any]
    ) -> list[Described] | None:
        """chunk / split / tensor_split: each piece a slice of the input along one axis, in order."""
        x: Any = args[0] if args else kwargs.get("input")
        if op not in ("chunk", "split", "tensor_split") or not self.is_tensor(x) or not self.is_data(x):
            return None
        dim = _bind(("input", "sections", "dim"), args, kwargs).get("dim", 0)
        if not isinstance(dim, int) or not -x.dim() <= dim < x.dim():
            return None
        axis = int(dim) % x.dim()
        found: list[Described] = []
        start = 0
        for piece in outputs:
            if not self.is_tensor(piece) or piece.dim() != x.dim():
                return None
            end = start + int(piece.shape[axis])
            found.append(("slice", SliceSpec((axis,), (start,), (end,), (1,)), [x]))
            start = end
        return found

    def conv_call(self, op: str, x: Any, bound: dict[str, Any]) -> Described | None:
        weight: Any = bound.get("weight")
        if not self.is_tensor(weight) or self.is_data(weight):
            return None
        shape = tuple(int(d) for d in weight.shape)
        ndim = len(shape) - 2
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
            (shape[0], shape[1] * groups) if transposed else (shape[1] * groups, shape[0])
        )
        arguments = [
            ("weight", _spell(shape)),
            ("stride", _spell(stride)),
            ("padding", _spell(padding_value)),
            ("dilation", _spell(dilation)),
            ("groups", str(groups)),
        ]
        if output_padding is not None:
            arguments.append(("output_padding", _spell(output_padding)))
        spec = ConvSpec(
            "pytorch",
            shape[2:],
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
        name: str,
        kind: str,
        x: Any,
        kernel: object,
        stride: object,
        padding: object,
        dilation: object,
        ceil_mode: bool,
    ) -> Described | None:
        kernels = _ints(kernel, x.dim() - 2)
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
                    name,
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
        spec = PoolSpec(
            kind, kernels, strides, tuple((p, p) for p in pads), dilations, ceil_mode, tuple(arguments)
        )
        return "pool", spec, [x]

    def adaptive(self, x: Any, mode: str, output_size: object) -> Described | None:
        rank = x.dim()
        if rank < 3:
            return None
        values = output_size if isinstance(output_size, (list, tuple)) else [output_size] * (rank - 2)
        if len(values) != rank - 2:
            return None
        # None keeps that axis's input size
        sizes = [int(x.shape[2 + n]) if v is None else v for n, v in enumerate(values)]
        if all(s == 1 for s in sizes) and all(v is not None for v in values):
            return "global_pool", None, [x]
        fixed = _ints(sizes)
        if fixed is None:
            return None
        return "resize", ResizeSpec(mode, sizes=(int(x.shape[0]), int(x.shape[1]), *fixed)), [x]

    def resize(self, name: str, x: Any, size: object, scale: object, mode: str) -> Described | None:
        rank = x.dim()
        if rank < 3:
            return None
        if size is not None:
            sizes = _ints(list(size) if isinstance(size, tuple) else size, rank - 2)
            if sizes is None or len(sizes) != rank - 2:
                return None
            return "resize", ResizeSpec(mode, sizes=(int(x.shape[0]), int(x.shape[1]), *sizes)), [x]
        factors = scale if isinstance(scale, (list, tuple)) else [scale] * (rank - 2)
        if len(factors) != rank - 2 or not all(
            isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0 for f in factors
        ):
            return None
        exact = [Fraction(float(f)) for f in factors]  # type: ignore[arg-type]
        if any(f.denominator != 1 for f in exact):
            self.notes.append(
                f"{name}: scale_factor {_spell(scale)} is not an integer: torch computes "
                "floor(size * scale) in floating point, which can differ by one from the exact product"
            )
        return "resize", ResizeSpec(mode, scales=(Fraction(1), Fraction(1), *exact)), [x]

    def block(self, x: Any, kind: str, factor: int) -> Described | None:
        # pixel_shuffle works on the last two axes: the graph's rule is per spatial axis, so rank 4 only.
        if x.dim() != 4 or factor < 1:
            return None
        return kind, BlockSpec(factor), [x]

    def pad(self, name: str, x: Any, pad: object, mode: str) -> Described | None:
        rank = x.dim()
        amounts = _ints(list(pad) if isinstance(pad, tuple) else pad)
        if amounts is None or len(amounts) % 2 or len(amounts) // 2 > rank:
            return None
        pairs = [(0, 0)] * rank
        for n in range(len(amounts) // 2):
            pairs[rank - 1 - n] = (amounts[2 * n], amounts[2 * n + 1])
        return "pad", PadSpec(tuple(pairs), mode), [x]  # its reflect / circular limits: graph.shapes

    def getitem(self, x: Any, index: object) -> Described | None:
        rank = x.dim()
        items = index if isinstance(index, tuple) else (index,)
        if not all(isinstance(i, slice) or i is Ellipsis for i in items) or list(items).count(Ellipsis) > 1:
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
            starts.append(0 if start is None else int(start))
            ends.append(None if end is None else int(end))
            steps.append(1 if step is None else int(step))
        return "slice", SliceSpec(tuple(axes), tuple(starts), tuple(ends), tuple(steps)), [x]

    def flatten(self, x: Any, start: int, end: int) -> Described | None:
        rank = x.dim()
        if end not in (-1, rank - 1):
            return None
        if start in (1, 1 - rank):
            return "flatten", FlattenSpec(1), [x]
        if start in (0, -rank):
            return "reshape", ReshapeSpec((-1,)), [x]
        if -rank < start < rank:
            # flatten(2) of (B, C, H, W) is (B, C, H*W): ONNX's 0 copies the leading axes
            return "reshape", ReshapeSpec((0,) * (start % rank) + (-1,)), [x]
        return None

    def axes(self, op: str, x: Any, args: Sequence[object], kwargs: dict[str, Any]) -> Described | None:
        """Calls that move, add or drop axes: transpose / swapaxes / permute as a Transpose,
        unsqueeze / squeeze as ONNX's Unsqueeze / Squeeze on the shape (sizes carried through)."""
        rank = x.dim()
        if op == "permute":
            dims = _ints(args[0] if len(args) == 1 else (args or kwargs.get("dims")))
            if dims is None or sorted(d % rank for d in dims) != list(range(rank)):
                return None
            return "transpose", TransposeSpec(tuple(d % rank for d in dims)), [x]
        if op in ("transpose", "swapaxes", "swapdims"):
            pair = _ints(args[:2] if len(args) >= 2 else tuple(kwargs.values())[:2])
            if pair is None or len(pair) != 2 or not all(-rank <= d < rank for d in pair):
                return None
            perm = list(range(rank))
            first, second = (d % rank for d in pair)
            perm[first], perm[second] = second, first
            return "transpose", TransposeSpec(tuple(perm)), [x]
        dim = args[0] if args else kwargs.get("dim")
        if op == "unsqueeze":
            if not isinstance(dim, int) or not -rank - 1 <= dim <= rank:
                return None
            return "value", ValueSpec("Unsqueeze", (("axes", (dim % (rank + 1),)),)), [x]
        # squeeze(dim): torch keeps an axis whose size is not 1 where ONNX refuses it, so only an axis
        # that is 1 here; squeeze() drops whatever is 1 at this size (a spatial axis too): not modelled
        dims = _ints(dim)
        if dims is None or not all(-rank <= d < rank for d in dims):
            return None
        drop = tuple(d % rank for d in dims)
        if any(int(x.shape[d]) != 1 for d in drop):
            return None
        return "value", ValueSpec("Squeeze", (("axes", drop),)), [x]

    def reshape(self, x: Any, shape: Sequence[object]) -> Described | None:
        values = list(shape[0]) if len(shape) == 1 and isinstance(shape[0], (list, tuple)) else list(shape)
        out: list[int] = []
        for value in values:
            if isinstance(value, int) and not isinstance(value, bool) and value >= -1:
                out.append(int(value))
            else:
                return None
        # ONNX's 0 copies the input's dimension: torch's 0 is an empty axis
        return ("reshape", ReshapeSpec(tuple(out), allow_zero=True), [x]) if out else None

    def reduce(self, x: Any, bound: dict[str, Any]) -> Described | None:
        """x.mean((2, 3), keepdim=True) over every spatial axis is a global pooling."""
        dims = _ints(bound.get("dim"))
        if dims is None or not bound.get("keepdim"):
            return None
        spatial = set(range(2, x.dim()))
        if {d % x.dim() for d in dims} != spatial:
            return None
        return "global_pool", None, [x]
