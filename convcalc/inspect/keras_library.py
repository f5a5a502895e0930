"""Layer classes that libraries define on top of Keras, each read from its saved config by what its
source computes (the rule next to the class it reads).

A `.keras` file (and a Keras 3 `.h5` file) names such a class with the Python module Keras 3 records
for it; where no module is recorded (tf.keras 2 `.h5` files), the config keys the class writes
identify it. A class read here is one of these, never a user's own class of the same name.
"""

from __future__ import annotations

from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.model import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    ConcatSpec,
    ConvSpec,
    Node,
    PadSpec,
    ResizeSpec,
    Spec,
    ValueSpec,
)
from convcalc.inspect.keras_config import MAX_AXIS_VALUE, _Call, _fmt, _int, _list

# Layers keras.applications defines in its own modules, each shape-preserving (ConvNeXt scales every
# channel by a learned gamma, and drops whole residual branches in training): the module Keras 3
# records for the class, and the config keys that identify it where no module is recorded (`.h5`).
APPLICATION_SHAPE_PRESERVING = {
    "LayerScale": ("keras.src.applications.convnext", frozenset(["init_values", "projection_dim"])),
    "StochasticDepth": ("keras.src.applications.convnext", frozenset(["drop_path_rate"])),
}
# Layers keras.applications defines that add their inputs (InceptionResNetV2's residual: the
# shortcut plus the branch times a constant ``scale``): a merge with broadcasting, as Add.
APPLICATION_ELEMENTWISE = {
    "CustomScaleLayer": ("keras.src.applications.inception_resnet_v2", frozenset(["scale"])),
}
# keras-hub's DeepLabV3 atrous spatial pyramid pooling (keras_hub/src/models/deeplab_v3).
SPATIAL_PYRAMID_POOLING = (
    "keras_hub.src.models.deeplab_v3.deeplab_v3_layers",
    frozenset(["dilation_rates", "num_channels"]),
)
# keras-hub's EfficientNet blocks (keras_hub/src/models/efficientnet).
EFFICIENTNET_BLOCKS = {
    "MBConvBlock": (
        "keras_hub.src.models.efficientnet.mbconv",
        frozenset(["expand_ratio", "se_ratio", "nores"]),
    ),
    "FusedMBConvBlock": (
        "keras_hub.src.models.efficientnet.fusedmbconv",
        frozenset(["expand_ratio", "se_ratio", "nores", "projection_kernel_size"]),
    ),
}
# keras-hub's MobileNet blocks (keras_hub/src/models/mobilenet/mobilenet_backbone.py), by the config
# keys each writes.
MOBILENET_MODULE = "keras_hub.src.models.mobilenet.mobilenet_backbone"
MOBILENET_BLOCKS = {
    "DepthwiseConvBlock": (MOBILENET_MODULE, frozenset(["infilters", "filters", "residual"])),
    "InvertedResidualBlock": (MOBILENET_MODULE, frozenset(["expansion", "infilters", "filters", "padding"])),
    "ConvBnActBlock": (MOBILENET_MODULE, frozenset(["filter", "activation"])),
}
# Dilation rates of a real pyramid are a few (6, 12, 18); more branches than this are refused.
MAX_PYRAMID_BRANCHES = 64


def _is(call: _Call, known: tuple[str, frozenset[str]]) -> bool:
    module, keys = known
    return call.module == module or (not call.module and keys <= call.config.keys())


def application_layer(call: _Call) -> bool:
    """Whether the call is of a shape-preserving layer class keras.applications defines."""
    known = APPLICATION_SHAPE_PRESERVING.get(call.cls)
    return known is not None and _is(call, known)


def application_merge(call: _Call) -> bool:
    """Whether the call is of an elementwise merge layer class keras.applications defines."""
    known = APPLICATION_ELEMENTWISE.get(call.cls)
    return known is not None and _is(call, known)


def efficientnet_block_layer(call: _Call) -> bool:
    """Whether the call is of one of keras-hub's EfficientNet blocks."""
    known = EFFICIENTNET_BLOCKS.get(call.cls)
    return known is not None and _is(call, known)


def mobilenet_block_layer(call: _Call) -> bool:
    """Whether the call is of one of keras-hub's MobileNet blocks."""
    known = MOBILENET_BLOCKS.get(call.cls)
    return known is not None and _is(call, known)


def spatial_pyramid_pooling_layer(call: _Call) -> bool:
    """Whether the call is of keras-hub's SpatialPyramidPooling."""
    return call.cls == "SpatialPyramidPooling" and _is(call, SPATIAL_PYRAMID_POOLING)


def _saved_layout(source: str, call: _Call, filters: int) -> str:
    """Layers that take the layout from ``keras.config.image_data_format()`` when they are made save
    none (keras-hub's pyramid and MobileNet blocks): the recorded shapes tell it (channels are the
    static axis of an input whose spatial axes are free, and where the output has ``filters``
    channels); Keras' default otherwise."""
    shape = call.input_shape
    if shape is not None and len(shape) != 4:
        raise ConvCalcError(
            f"{source}: layer {call.path!r}: {call.cls} reads a rank-4 tensor (2-D images); "
            f"the config records an input of shape {list(shape)}",
            parameter="model",
        )
    if shape is not None and isinstance(shape[1], int) != isinstance(shape[-1], int):
        return CHANNELS_FIRST if isinstance(shape[1], int) else CHANNELS_LAST
    out = call.declared
    if out is not None and len(out) == 4 and (out[1] == filters) != (out[-1] == filters):
        return CHANNELS_FIRST if out[1] == filters else CHANNELS_LAST
    return CHANNELS_LAST


class _Block:
    """The nodes of one library layer's inner graph, named under the layer's path, in its layout."""

    def __init__(self, call: _Call, layout: str) -> None:
        self.call, self.layout = call, layout
        self.nodes: list[Node] = []

    def node(
        self, name: str, op: str, kind: str, inputs: tuple[str, ...], spec: Spec = None, **more: Any
    ) -> str:
        """A node named ``path/name``, or the layer's own (its path and output) when ``name`` is OUTPUT."""
        path = f"{self.call.path}/{name}" if name != OUTPUT else self.call.path
        output = self.call.output if name == OUTPUT else path
        self.nodes.append(Node(path, op, kind, inputs, (output,), spec, self.layout, **more))
        return output

    def conv(
        self,
        name: str,
        x: str,
        channels: tuple[int, int],
        kernel: int,
        stride: int = 1,
        *,
        padding: str = "valid",
        dilation: int = 1,
        depthwise: bool = False,
        bias: bool = False,
    ) -> str:
        """A Keras Conv2D (or DepthwiseConv2D) of square kernel, stride and dilation."""
        in_channels, out_channels = channels
        shown = [
            ("kernel_size", _fmt((kernel, kernel))),
            ("strides", _fmt((stride, stride))),
            ("padding", padding),
        ]
        if dilation > 1:
            shown.append(("dilation_rate", _fmt((dilation, dilation))))
        if not depthwise:
            shown.insert(0, ("filters", str(out_channels)))
        spec = ConvSpec(
            "keras",
            (kernel, kernel),
            (stride, stride),
            (dilation, dilation),
            padding,
            in_channels,
            out_channels,
            groups=in_channels if depthwise else 1,
            bias=bias,
            arguments=tuple(shown),
        )
        return self.node(name, "DepthwiseConv2D" if depthwise else "Conv2D", "conv", (x,), spec)

    def pad(self, name: str, x: str, amount: int) -> str:
        spatial = ((amount, amount),) * 2
        pads = ((0, 0), (0, 0), *spatial) if self.layout == CHANNELS_FIRST else ((0, 0), *spatial, (0, 0))
        return self.node(name, "ZeroPadding2D", "pad", (x,), PadSpec(pads))

    def squeeze_excite(self, x: str, channels: int, reduced: int) -> str:
        """Squeeze and excite: the global average through two 1x1 convolutions, times the input."""
        se = self.node("se_squeeze", "GlobalAveragePooling2D", "global_pool", (x,))
        se = self.conv("se_reduce", se, (channels, reduced), 1, padding="same", bias=True)
        se = self.conv("se_expand", se, (reduced, channels), 1, padding="same", bias=True)
        return self.node("se_excite", "Multiply", "elementwise", (x, se))


# The name of a block's last node: its output is the layer's own.
OUTPUT = ""


def _layer_layout(source: str, call: _Call) -> tuple[str, int]:
    """A layer's data_format as its config records it, and its input channels."""
    fmt = call.config.get("data_format") or CHANNELS_LAST
    if fmt not in (CHANNELS_LAST, CHANNELS_FIRST):
        raise ConvCalcError(
            f"{source}: layer {call.path!r}: data_format must be 'channels_last' or 'channels_first'; "
            f"got {str(fmt)[:80]!r}",
            parameter="model",
        )
    return fmt, _channels(source, call, 1 if fmt == CHANNELS_FIRST else -1)


def _channels(source: str, call: _Call, axis: int) -> int:
    shape = call.input_shape
    channels = shape[axis] if shape is not None and len(shape) == 4 else None
    if not isinstance(channels, int):
        raise ConvCalcError(
            f"{source}: layer {call.path!r}: the config does not record the layer's input channels as a "
            "rank-4 tensor (a model never built?)",
            parameter="model",
        )
    return channels


def efficientnet_block(source: str, call: _Call) -> list[Node]:
    """keras-hub's EfficientNet blocks as their ``call`` computes them (keras_hub/src/models/
    efficientnet): MBConvBlock expands by a 1x1 convolution (expand_ratio != 1), then a depthwise
    kernel_size 'same' convolution of the block's stride; FusedMBConvBlock pads kernel_size // 2 and
    runs one 'valid' kernel_size convolution of that stride. Both squeeze and excite (0 < se_ratio <=
    1), pad the projection kernel // 2 and project by a 'valid' convolution to output_filters, and add
    the input back when the stride is 1, input_filters == output_filters and not nores. Batch norms,
    activations and dropout keep the shape and are left out."""
    cfg, where = call.config, call.path
    layout, channels = _layer_layout(source, call)
    input_filters = _int(source, where, "input_filters", cfg.get("input_filters"), 1)
    output_filters = _int(source, where, "output_filters", cfg.get("output_filters"), 1)
    ratio = _int(source, where, "expand_ratio", cfg.get("expand_ratio", 1), 1)
    kernel = _int(source, where, "kernel_size", cfg.get("kernel_size", 3), 1, MAX_AXIS_VALUE)
    stride = _int(source, where, "strides", cfg.get("strides", 1), 1, MAX_AXIS_VALUE)
    se_ratio = cfg.get("se_ratio", 0.0)
    if not isinstance(se_ratio, (int, float)) or isinstance(se_ratio, bool):
        raise ConvCalcError(
            f"{source}: layer {where!r}: se_ratio must be a number; got {str(se_ratio)[:80]}",
            parameter="model",
        )
    fused = call.cls == "FusedMBConvBlock"
    filters = input_filters * ratio
    block = _Block(call, layout)
    (x,) = call.inputs
    if fused:
        projection = _int(
            source, where, "projection_kernel_size", cfg.get("projection_kernel_size", 1), 1, MAX_AXIS_VALUE
        )
        y = block.pad("expand_conv_pad", x, kernel // 2)
        y = block.conv("expand_conv", y, (channels, filters), kernel, stride)
        width = filters
    else:
        projection = 1 if ratio != 1 else kernel
        y, width = x, channels
        if ratio != 1:
            y = block.conv("expand_conv", x, (channels, filters), 1, padding="same")
            width = filters
        y = block.conv("dwconv2", y, (width, width), kernel, stride, padding="same", depthwise=True)
    if 0 < se_ratio <= 1:
        y = block.squeeze_excite(y, width, max(1, int(input_filters * se_ratio)))
    y = block.pad("project_conv_pad", y, projection // 2)
    residual = stride == 1 and input_filters == output_filters and not cfg.get("nores", False)
    y = block.conv("project_conv" if residual else OUTPUT, y, (width, output_filters), projection)
    if residual:
        block.node(OUTPUT, "Add", "elementwise", (y, x))
    return block.nodes


def _adjust_channels(value: float, divisor: int = 8) -> int:
    """keras-hub MobileNet's channel rounding: to the nearest multiple of ``divisor`` (at least one
    divisor), one divisor more where that loses over 10 %."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _ratio(source: str, where: str, field: str, value: Any) -> float:
    if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        raise ConvCalcError(
            f"{source}: layer {where!r}: {field} must be a number or null; got {str(value)[:80]}",
            parameter="model",
        )
    return float(value or 0)


def mobilenet_block(source: str, call: _Call) -> list[Node]:
    """keras-hub's MobileNet blocks as their ``call`` computes them: ConvBnActBlock is a 1x1
    convolution to ``filter``; DepthwiseConvBlock pads 1 and runs a 'valid' kernel_size depthwise
    convolution of its stride, squeezes and excites, projects 1x1 to filters and adds the input when
    ``residual``; InvertedResidualBlock expands 1x1 to adjust_channels(expansion), pads ``padding`` and
    runs a 'valid' depthwise convolution of its stride, squeezes and excites, projects 1x1 to filters
    and adds the input when the stride is 1 and infilters == filters. Squeeze and excite (a ratio
    given) reduces to adjust_channels(channels x ratio). Batch norms and activations are left out."""
    cfg, where, cls = call.config, call.path, call.cls
    number = "filter" if cls == "ConvBnActBlock" else "filters"
    filters = _int(source, where, number, cfg.get(number), 1)
    layout = _saved_layout(source, call, filters)
    channels = _channels(source, call, 1 if layout == CHANNELS_FIRST else -1)
    block = _Block(call, layout)
    (x,) = call.inputs
    if cls == "ConvBnActBlock":
        block.conv(OUTPUT, x, (channels, filters), 1)
        return block.nodes
    kernel = _int(source, where, "kernel_size", cfg.get("kernel_size", 3), 1, MAX_AXIS_VALUE)
    stride = _int(source, where, "stride", cfg.get("stride", 1), 1, MAX_AXIS_VALUE)
    se_ratio = _ratio(source, where, "squeeze_excite_ratio", cfg.get("squeeze_excite_ratio"))
    if cls == "DepthwiseConvBlock":
        width, padding, y = channels, 1, x
        residual = bool(cfg.get("residual", False))
    else:
        expansion = _int(source, where, "expansion", cfg.get("expansion"), 1, MAX_AXIS_VALUE)
        padding = _int(source, where, "padding", cfg.get("padding", 0), 0, MAX_AXIS_VALUE)
        width = _adjust_channels(expansion)
        y = block.conv("conv1", x, (channels, width), 1)
        infilters = _int(source, where, "infilters", cfg.get("infilters"), 1)
        residual = stride == 1 and infilters == filters
    y = block.pad("pad", y, padding)
    y = block.conv(
        "conv2" if cls != "DepthwiseConvBlock" else "conv1", y, (width, width), kernel, stride, depthwise=True
    )
    if se_ratio:
        y = block.squeeze_excite(y, width, _adjust_channels(width * se_ratio))
    last = "conv3" if cls != "DepthwiseConvBlock" else "conv2"
    y = block.conv(last if residual else OUTPUT, y, (width, filters), 1)
    if residual:
        block.node(OUTPUT, "Add", "elementwise", (y, x))
    return block.nodes


def spatial_pyramid_pooling(source: str, call: _Call) -> list[Node]:
    """keras-hub's SpatialPyramidPooling(dilation_rates, num_channels) as its ``call`` computes it, on
    (N, H, W, C) in its layout: parallel branches of num_channels channels each, keeping H and W (a 1x1
    convolution; a 3x3 'same' convolution per dilation rate; the global average pooled to 1x1, a 1x1
    convolution, resized bilinearly back to the input's H and W), concatenated on channels and projected
    by a 1x1 convolution to num_channels. Its batch norms, activations and dropout keep the shape and
    are left out. The nodes are named after keras-hub's own inner layers, under the layer's path."""
    cfg, where = call.config, call.path
    rates = _list(source, where, "dilation_rates", cfg.get("dilation_rates"))
    if len(rates) > MAX_PYRAMID_BRANCHES:
        raise ConvCalcError(
            f"{source}: layer {where!r}: dilation_rates gives {len(rates)} rates; inspect reads up to "
            f"{MAX_PYRAMID_BRANCHES}",
            parameter="model",
        )
    dilations = [_int(source, where, "dilation_rates", r, 1, MAX_AXIS_VALUE) for r in rates]
    filters = _int(source, where, "num_channels", cfg.get("num_channels", 256), 1)
    layout = _saved_layout(source, call, filters)
    channels = _channels(source, call, 1 if layout == CHANNELS_FIRST else -1)
    (x,) = call.inputs
    block = _Block(call, layout)
    branches = [block.conv("aspp_conv_1", x, (channels, filters), 1)]
    branches += [
        block.conv(f"aspp_conv_{n + 2}", x, (channels, filters), 3, padding="same", dilation=d)
        for n, d in enumerate(dilations)
    ]
    pooled = block.node("average_pooling", "GlobalAveragePooling2D", "global_pool", (x,))
    pooled = block.conv("conv_pooling", pooled, (channels, filters), 1)
    # Resized to the input's H and W: the shape of the first branch (N, H, W, num_channels) in its layout.
    size = block.node("resizing/size", "Shape", "value", (branches[0],), ValueSpec("Shape"))
    resize = ResizeSpec("bilinear", None, ())
    branches.append(
        block.node("resizing", "Resizing", "resize", (pooled,), resize, operands=(("sizes", size),))
    )
    merged = block.node(
        "concatenate",
        "Concatenate",
        "concat",
        tuple(branches),
        ConcatSpec(1 if layout == CHANNELS_FIRST else -1),
    )
    block.conv(OUTPUT, merged, (filters * len(branches), filters), 1)
    return block.nodes
