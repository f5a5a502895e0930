"""Layer classes that libraries define on top of Keras, each read from its saved config by what its
source computes (the rule next to the class it reads).

A `.keras` file (and a Keras 3 `.h5` file) names such a class with the Python module Keras 3 records
for it; where no module is recorded (tf.keras 2 `.h5` files), the config keys the class writes
identify it. A class read here is one of these, never a user's own class of the same name.
"""

from __future__ import annotations

from convcalc.errors import ConvCalcError
from convcalc.graph.model import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    ConcatSpec,
    ConvSpec,
    Node,
    ResizeSpec,
    ValueSpec,
)
from convcalc.inspect.keras_config import _Call, _fmt, _int, _list

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


def spatial_pyramid_pooling_layer(call: _Call) -> bool:
    """Whether the call is of keras-hub's SpatialPyramidPooling."""
    return call.cls == "SpatialPyramidPooling" and _is(call, SPATIAL_PYRAMID_POOLING)


def _pyramid_layout(source: str, call: _Call, filters: int) -> str:
    """keras-hub takes the layout from ``keras.config.image_data_format()`` when the layer is made and
    saves none: the recorded shapes tell it (channels are the static axis of an input whose spatial
    axes are free, and where the output's channels are ``num_channels``); Keras' default otherwise."""
    shape = call.input_shape
    if shape is not None and len(shape) != 4:
        raise ConvCalcError(
            f"{source}: layer {call.path!r}: SpatialPyramidPooling reads a rank-4 tensor (2-D images); "
            f"the config records an input of shape {list(shape)}",
            parameter="model",
        )
    if shape is not None and isinstance(shape[1], int) != isinstance(shape[-1], int):
        return CHANNELS_FIRST if isinstance(shape[1], int) else CHANNELS_LAST
    out = call.declared
    if out is not None and len(out) == 4 and (out[1] == filters) != (out[-1] == filters):
        return CHANNELS_FIRST if out[1] == filters else CHANNELS_LAST
    return CHANNELS_LAST


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
    dilations = [_int(source, where, "dilation_rates", r, 1, 65_536) for r in rates]
    filters = _int(source, where, "num_channels", cfg.get("num_channels", 256), 1)
    layout = _pyramid_layout(source, call, filters)
    channel_axis = 1 if layout == CHANNELS_FIRST else -1
    shape = call.input_shape
    channels = shape[channel_axis] if shape is not None else None
    if not isinstance(channels, int):
        raise ConvCalcError(
            f"{source}: layer {where!r}: the config does not record the layer's input channels (a model "
            "never built?)",
            parameter="model",
        )
    (x,) = call.inputs
    nodes: list[Node] = []

    def conv(name: str, source_tensor: str, in_channels: int, kernel: int, dilation: int) -> str:
        padding = "same" if kernel > 1 else "valid"
        shown = [("filters", str(filters)), ("kernel_size", _fmt((kernel, kernel))), ("padding", padding)]
        if dilation > 1:
            shown.append(("dilation_rate", _fmt((dilation, dilation))))
        spec = ConvSpec(
            "keras",
            (kernel, kernel),
            (1, 1),
            (dilation, dilation),
            padding,
            in_channels,
            filters,
            bias=False,
            arguments=tuple(shown),
        )
        output = call.output if name == "conv_projection" else f"{where}/{name}"
        nodes.append(Node(f"{where}/{name}", "Conv2D", "conv", (source_tensor,), (output,), spec, layout))
        return output

    branches = [conv("aspp_conv_1", x, channels, 1, 1)]
    branches += [conv(f"aspp_conv_{n + 2}", x, channels, 3, d) for n, d in enumerate(dilations)]
    pooled = f"{where}/average_pooling"
    nodes.append(Node(pooled, "GlobalAveragePooling2D", "global_pool", (x,), (pooled,), None, layout))
    pooled = conv("conv_pooling", pooled, channels, 1, 1)
    # Resized to the input's H and W: the shape of the first branch (N, H, W, num_channels) in its layout.
    size = f"{where}/resizing/size"
    nodes.append(Node(size, "Shape", "value", (branches[0],), (size,), ValueSpec("Shape"), layout))
    resized = f"{where}/resizing"
    nodes.append(
        Node(
            resized,
            "Resizing",
            "resize",
            (pooled,),
            (resized,),
            ResizeSpec("bilinear", None, ()),
            layout,
            operands=(("sizes", size),),
        )
    )
    merged = f"{where}/concatenate"
    concat = ConcatSpec(channel_axis)
    nodes.append(Node(merged, "Concatenate", "concat", (*branches, resized), (merged,), concat, layout))
    conv("conv_projection", merged, filters * (len(dilations) + 2), 1, 1)
    return nodes
