"""The TFLite ops inspect models: each op's tensors and options read into a Graph node's kind and spec.

One builder per op, found through ``BUILDERS`` by the op's name; a builder returns (op, kind, spec,
data inputs), or None where the op computes its sizes at run time in a way the Graph cannot state (the
reader then makes it an ``unknown`` node with the shape the file records). Convolutions keep TFLite's
own arguments for ``convcalc.conventions.tflite``.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from convcalc.graph.model import (
    CHANNELS_LAST,
    ConcatSpec,
    ConvSpec,
    DenseSpec,
    FlattenSpec,
    Node,
    PadSpec,
    PoolSpec,
    ReshapeSpec,
    ResizeSpec,
    Spec,
    TransposeSpec,
)
from convcalc.inspect.tflite_file import TFLiteFile
from convcalc.inspect.tflite_values import MAX_VECTOR, Linear

SAME, VALID = 0, 1
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
SHAPE_PRESERVING = frozenset(
    [
        "RELU",
        "RELU6",
        "RELU_N1_TO_1",
        "RELU_0_TO_1",
        "LEAKY_RELU",
        "PRELU",
        "ELU",
        "GELU",
        "LOGISTIC",
        "TANH",
        "HARD_SWISH",
        "SOFTMAX",
        "LOG_SOFTMAX",
        "L2_NORMALIZATION",
        "LOCAL_RESPONSE_NORMALIZATION",
        "QUANTIZE",
        "DEQUANTIZE",
        "CAST",
        "ABS",
        "NEG",
        "EXP",
        "SQRT",
        "RSQRT",
        "SQUARE",
        "FLOOR",
        "CEIL",
        "ROUND",
    ]
)
ELEMENTWISE = frozenset(
    ["ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "POW", "FLOOR_DIV"]
)


def padding_word(r: TFLiteFile, value: int, where: str) -> str:
    if value not in (SAME, VALID):
        raise r.error(f"{where}: padding must be SAME (0) or VALID (1); got {value}")
    return "same" if value == SAME else "valid"


def positive(r: TFLiteFile, values: tuple[int, ...], what: str, where: str) -> tuple[int, ...]:
    if any(v < 1 for v in values):
        raise r.error(f"{where}: {what} must be >= 1; got {list(values)}")
    return values


def conv(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    options = r.options(op, r.tfl.Conv2DOptions, where)
    x = r.data_input(ins, 0, where)
    out_c, kh, kw, per_group = r.weight(ins, 1, where)
    in_c = r.channels(ins, 0, where)
    if in_c % per_group or out_c % (in_c // per_group):
        raise r.error(
            f"{where}: the filter's input channels {per_group} must divide the input's {in_c} and the "
            f"groups divide the filters {out_c}"
        )
    stride = positive(r, (options.StrideH(), options.StrideW()), "stride", where)
    dilation = positive(r, (options.DilationHFactor(), options.DilationWFactor()), "dilation", where)
    padding = padding_word(r, options.Padding(), where)
    spec = ConvSpec(
        "tflite",
        (kh, kw),
        stride,
        dilation,
        padding,
        in_c,
        out_c,
        groups=in_c // per_group,
        bias=len(ins) > 2 and ins[2] >= 0,
        arguments=display((kh, kw), stride, dilation, padding, options.FusedActivationFunction()),
    )
    return "CONV_2D", "conv", spec, (x,)


def depthwise(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    options = r.options(op, r.tfl.DepthwiseConv2DOptions, where)
    x = r.data_input(ins, 0, where)
    _, kh, kw, out_c = r.weight(ins, 1, where)
    in_c = r.channels(ins, 0, where)
    if out_c % in_c:
        raise r.error(f"{where}: the filter's {out_c} channels must be a multiple of the input's {in_c}")
    stride = positive(r, (options.StrideH(), options.StrideW()), "stride", where)
    dilation = positive(r, (options.DilationHFactor(), options.DilationWFactor()), "dilation", where)
    padding = padding_word(r, options.Padding(), where)
    shown = display((kh, kw), stride, dilation, padding, options.FusedActivationFunction())
    spec = ConvSpec(
        "tflite",
        (kh, kw),
        stride,
        dilation,
        padding,
        in_c,
        out_c,
        groups=in_c,
        bias=len(ins) > 2 and ins[2] >= 0,
        arguments=(*shown, ("depth_multiplier", str(out_c // in_c))),
    )
    return "DEPTHWISE_CONV_2D", "conv", spec, (x,)


def transpose_conv(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    """TRANSPOSE_CONV (output_shape, weights (O, kh, kw, I), input, optional bias): a constant spatial
    output_shape is read by the TFLite convention. One computed at run time as Keras computes it
    (i*s for SAME, (i-1)*s + max(K, s) for VALID, from the input's own sizes) is a size the input gives,
    where TFLite runs as TensorFlow does: it is read as the Keras layer it came from."""
    options = r.options(op, r.tfl.TransposeConvOptions, where)
    x = r.data_input(ins, 2, where)
    out_c, kh, kw, in_c = r.weight(ins, 1, where)
    values = None if ins[0] < 0 else r.value(ins[0], where)
    if values is None or len(values) != 4:
        return None
    stride = positive(r, (options.StrideH(), options.StrideW()), "stride", where)
    word = padding_word(r, options.Padding(), where)
    spatial = values[1:3]
    spelled = "[" + ", ".join(_spell(v) for v in values) + "]"
    shown = (
        *display((kh, kw), stride, (1, 1), word, options.FusedActivationFunction()),
        ("output_shape", spelled),
    )
    bias = len(ins) > 3 and ins[3] >= 0
    sizes = [v for v in spatial if isinstance(v, int)]
    if len(sizes) == 2:
        if min(sizes) < 1:
            raise r.error(f"{where}: output_shape must give sizes >= 1; got {spelled}")
        output_size = (sizes[0], sizes[1])
        spec = ConvSpec(
            "tflite",
            (kh, kw),
            stride,
            (1, 1),
            word,
            in_c,
            out_c,
            bias=bias,
            output_size=output_size,
            arguments=shown,
        )
        return "TRANSPOSE_CONV", "conv_transpose", spec, (x,)
    for axis, (v, k, s) in enumerate(zip(spatial, (kh, kw), stride), start=1):
        keras_offset = 0 if word == "same" else max(k, s) - s
        if v != Linear(ins[2], axis, s, keras_offset):
            return None
    spec = ConvSpec("keras", (kh, kw), stride, (1, 1), word, in_c, out_c, bias=bias, arguments=shown)
    return "TRANSPOSE_CONV", "conv_transpose", spec, (x,)


def _spell(value: Any) -> str:
    if isinstance(value, Linear):
        # The input's size on that NHWC axis, as computed at run time.
        dim = "NHWC"[value.axis] if value.axis < 4 else f"dim{value.axis}"
        term = f"{value.scale}*{dim}" if value.scale != 1 else dim
        return term + (f"{value.offset:+d}" if value.offset else "")
    return "?" if value is None else str(value)


def display(
    kernel: tuple[int, int],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    padding: str,
    act: int,
) -> tuple[tuple[str, str], ...]:
    out = [
        ("filter", str(list(kernel))),
        ("stride", str(list(stride))),
        ("dilation", str(list(dilation))),
        ("padding", padding.upper()),
    ]
    if act:
        out.append(("fused_activation_function", ACTIVATIONS.get(act, str(act))))
    return tuple(out)


def pool(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    options = r.options(op, r.tfl.Pool2DOptions, where)
    x = r.data_input(ins, 0, where)
    kernel = positive(r, (options.FilterHeight(), options.FilterWidth()), "filter size", where)
    stride = positive(r, (options.StrideH(), options.StrideW()), "stride", where)
    padding = padding_word(r, options.Padding(), where)
    name = r.op_codes[op.OpcodeIndex()]
    shown = (("filter", str(list(kernel))), ("stride", str(list(stride))), ("padding", padding.upper()))
    spec = PoolSpec("max" if name == "MAX_POOL_2D" else "average", kernel, stride, padding, arguments=shown)
    return name, "pool", spec, (x,)


def pad(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    name = r.op_codes[op.OpcodeIndex()]
    x = r.data_input(ins, 0, where)
    if len(ins) < 2 or ins[1] < 0:
        raise r.error(f"{where}: the op has no paddings input")
    values = r.ints(ins[1], "paddings", where)
    rank = len(r.shape(ins[0]))
    if len(values) != 2 * rank or min(values, default=0) < 0:
        raise r.error(f"{where}: paddings must be {rank} pairs >= 0; got {list(values)}")
    pairs = tuple((values[2 * a], values[2 * a + 1]) for a in range(rank))
    mode = "constant"
    if name == "MIRROR_PAD":
        options = r.options(op, r.tfl.MirrorPadOptions, where)
        mode = "reflect" if options.Mode() == 0 else "symmetric"
    return name, "pad", PadSpec(pairs, mode), (x,)


def resize(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    """RESIZE_*: a constant size, or a size computed as an integer multiple of the input's own."""
    name = r.op_codes[op.OpcodeIndex()]
    x = r.data_input(ins, 0, where)
    size = None if len(ins) < 2 or ins[1] < 0 else r.value(ins[1], where)
    out = r.shape(outs[0])
    if size is None or len(size) != 2 or len(out) != 4:
        return None
    mode = resize_mode(r, op, name, where)
    fixed = [v for v in size if isinstance(v, int)]
    if len(fixed) == 2:
        positive(r, tuple(fixed), "size", where)
        return name, "resize", ResizeSpec(mode, sizes=(out[0], fixed[0], fixed[1], out[3])), (x,)
    scales = []
    for axis, v in enumerate(size, start=1):
        if not isinstance(v, Linear) or (v.tensor, v.axis, v.offset) != (ins[0], axis, 0) or v.scale < 1:
            return None
        scales.append(Fraction(v.scale))
    return name, "resize", ResizeSpec(mode, scales=(Fraction(1), *scales, Fraction(1))), (x,)


def resize_mode(r: TFLiteFile, op: Any, name: str, where: str) -> str:
    """The mode with the coordinate rule when it is not tf.image.resize's (half-pixel centres), the
    one Keras layers use: align_corners, or the asymmetric rule of TensorFlow 1 (bilinear only differs)."""
    nearest = name == "RESIZE_NEAREST_NEIGHBOR"
    cls = r.tfl.ResizeNearestNeighborOptions if nearest else r.tfl.ResizeBilinearOptions
    table = op.BuiltinOptions()
    options = None if table is None else cls()
    if options is not None:
        options.Init(table.Bytes, table.Pos)
    align = bool(options and options.AlignCorners())
    half = bool(options and options.HalfPixelCenters())
    mode = "nearest" if nearest else "bilinear"
    if align:
        return f"{mode} (align_corners)"
    if not half and not nearest:
        return f"{mode} (asymmetric, no half-pixel centres)"
    return mode


def concat(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    options = r.options(op, r.tfl.ConcatenationOptions, where)
    operands = tuple(r.operand(t) for t in ins if t >= 0)
    return "CONCATENATION", "concat", ConcatSpec(options.Axis()), operands


def elementwise(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    operands = tuple(r.operand(t) for t in ins if t >= 0)
    return r.op_codes[op.OpcodeIndex()], "elementwise", None, operands


def shape_preserving(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    return r.op_codes[op.OpcodeIndex()], "shape_preserving", None, (r.data_input(ins, 0, where),)


def reshape(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    """RESHAPE to a constant or computed shape: a size copied from the input's same axis is 0 (copy),
    one size nothing states is -1 (inferred)."""
    x = r.data_input(ins, 0, where)
    if len(ins) > 1 and ins[1] >= 0:
        known = r.value(ins[1], where)
        if known is None:
            return None
        target = []
        for n, v in enumerate(known):
            if isinstance(v, int):
                target.append(v)
            elif isinstance(v, Linear) and (v.tensor, v.axis, v.scale, v.offset) == (ins[0], n, 1, 0):
                target.append(0)
            else:
                target.append(-1)
        copies = 0 in target
    else:
        options = r.options(op, r.tfl.ReshapeOptions, where)
        count = r.count("new_shape values", options.NewShapeLength(), MAX_VECTOR, 4)
        target = [options.NewShape(n) for n in range(count)]
        copies = False
    if target.count(-1) > 1 or (copies and any(isinstance(v, int) and v == 0 for v in (known or ()))):
        return None
    if any(v < -1 for v in target):
        raise r.error(f"{where}: the target shape takes sizes >= 0 and one -1; got {target}")
    return "RESHAPE", "reshape", ReshapeSpec(tuple(target), allow_zero=not copies), (x,)


def fully_connected(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    x = r.data_input(ins, 0, where)
    if len(ins) < 2 or ins[1] < 0 or len(r.shape(ins[1])) != 2:
        raise r.error(f"{where}: the weights must be a (units, features) matrix")
    units, features = r.shape(ins[1])
    bias = len(ins) > 2 and ins[2] >= 0
    options = r.options(op, r.tfl.FullyConnectedOptions, where)
    rank = len(r.shape(ins[0]))
    if rank != 2 and not options.KeepNumDims():
        # Without keep_num_dims the input is read as rows of `features`: (-1, features).
        flat = r.names[outs[0]] + "/rows"
        r.nodes.append(
            Node(
                flat,
                "FULLY_CONNECTED",
                "reshape",
                (x,),
                (flat,),
                ReshapeSpec((-1, features)),
                CHANNELS_LAST,
            )
        )
        x = flat
    return "FULLY_CONNECTED", "dense", DenseSpec(features, units, bias), (x,)


def mean(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    """MEAN over the two spatial axes of an NHWC tensor: a global average pooling."""
    x = r.data_input(ins, 0, where)
    axes = None if len(ins) < 2 or ins[1] < 0 else r.value(ins[1], where)
    if (
        len(r.shape(ins[0])) != 4
        or axes is None
        or sorted(a % 4 for a in axes if isinstance(a, int)) != [1, 2]
    ):
        return None
    if r.options(op, r.tfl.ReducerOptions, where).KeepDims():
        return "MEAN", "global_pool", None, (x,)
    kept = r.names[outs[0]] + "/keepdims"
    r.nodes.append(Node(kept, "MEAN", "global_pool", (x,), (kept,), None, CHANNELS_LAST))
    return "MEAN", "flatten", FlattenSpec(1), (kept,)


def transpose(r: TFLiteFile, op: Any, ins: list[int], outs: list[int], where: str) -> Any:
    """TRANSPOSE by a constant perm (output axis n is input axis perm[n])."""
    x = r.data_input(ins, 0, where)
    if len(ins) < 2 or ins[1] < 0 or ins[1] not in r.constant:
        return None
    perm = r.ints(ins[1], "perm", where)
    rank = len(r.shape(ins[0]))
    if sorted(perm) != list(range(rank)):
        raise r.error(f"{where}: perm must be a permutation of {rank} axes; got {list(perm)}")
    return "TRANSPOSE", "transpose", TransposeSpec(perm), (x,)


BUILDERS: dict[str, Callable[..., tuple[str, str, Spec, tuple[str, ...]] | None]] = {
    "CONV_2D": conv,
    "DEPTHWISE_CONV_2D": depthwise,
    "TRANSPOSE_CONV": transpose_conv,
    "AVERAGE_POOL_2D": pool,
    "MAX_POOL_2D": pool,
    "PAD": pad,
    "PADV2": pad,
    "MIRROR_PAD": pad,
    "RESIZE_NEAREST_NEIGHBOR": resize,
    "RESIZE_BILINEAR": resize,
    "CONCATENATION": concat,
    "RESHAPE": reshape,
    "FULLY_CONNECTED": fully_connected,
    "MEAN": mean,
    "TRANSPOSE": transpose,
    **dict.fromkeys(ELEMENTWISE, elementwise),
    **dict.fromkeys(SHAPE_PRESERVING, shape_preserving),
}
