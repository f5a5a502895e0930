"""Keras 3 operations called on a Functional model's tensors (``keras.ops.pad(x, ...)``), and resizing
to a fixed size: their rules, next to the operation they read.

Keras 3 saves an operation called on a KerasTensor as a node of the graph, with the module of its
class (``keras.src.ops.numpy``, ``keras.src.ops.image``) and its constructor's arguments: read here by
the NumPy semantics Keras gives them (the full tensor's axes, batch included), never by the rules of
the layer of the same class name (``ops.average`` reduces an axis where the ``Average`` layer merges;
``ops.reshape`` includes the batch axis where the ``Reshape`` layer does not). An operation outside the
table stays an ``unknown`` node.
"""

from __future__ import annotations

from typing import Any

from convcalc.graph.model import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    ConcatSpec,
    Node,
    PadSpec,
    ReshapeSpec,
    ResizeSpec,
    SliceSpec,
    Spec,
    Tensor,
    TransposeSpec,
    UnknownSpec,
    ValueSpec,
)
from convcalc.inspect.keras_config import MAX_AXIS_VALUE, _Call

OPS_MODULE = "keras.src.ops."
# Elementwise operations with NumPy broadcasting (two tensors, or a tensor and a number).
ELEMENTWISE_OPS = frozenset(
    ["Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Maximum", "Minimum", "Power", "Where"]
)
# Pad modes whose sizes convcalc models: constant pads any amount; reflect reads the axis's own
# elements (pads < the axis, as torch and TensorFlow refuse otherwise).
PAD_MODES = frozenset(["constant", "reflect"])


# Every operation read here (the others stay unknown, as any class convcalc does not model).
OPS = ELEMENTWISE_OPS | {"Concatenate", "Pad", "Reshape", "Transpose", "Resize", "GetItem"}


def is_keras_op(call: _Call) -> bool:
    """Whether the call is of a Keras operation (keras.ops.*), not of a layer: by its recorded module,
    or where none is recorded (Keras 3's `.h5` files), by a config without the ``trainable`` and
    ``dtype`` every Keras 3 layer writes."""
    if call.module:
        return call.module.startswith(OPS_MODULE)
    return call.cls in OPS and not {"trainable", "dtype"} & call.config.keys()


def _ints(value: Any, low: int) -> list[int] | None:
    """A list of integers in [low, MAX_AXIS_VALUE], or None when it is anything else."""
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and low <= v <= MAX_AXIS_VALUE for v in value
    ):
        return None
    return value


def _rank(call: _Call) -> int | None:
    return None if call.input_shape is None else len(call.input_shape)


def op_nodes(call: _Call, args: list[Any]) -> tuple[list[Node], list[Tensor]]:
    """The nodes (and constant tensors) of one Keras operation call, ``args`` the call's positional
    arguments as config.json records them; an ``unknown`` node when the operation, or this use of it,
    is not modelled."""
    cls, cfg = call.cls, call.config
    layout = CHANNELS_LAST
    kind = "unknown"
    spec: Spec = None
    if cls in ELEMENTWISE_OPS:
        kind = "elementwise"
    elif cls == "Concatenate":
        axis = cfg.get("axis", 0)
        if isinstance(axis, int) and not isinstance(axis, bool):
            kind, spec = "concat", ConcatSpec(axis)
    elif cls == "Pad" and len(call.inputs) == 1:
        pad = _pad(cfg, _rank(call))
        if pad is not None:
            kind, spec = "pad", pad
    elif cls == "Reshape" and len(call.inputs) == 1:
        shape = _ints(cfg.get("newshape"), -1)
        if shape is not None and 0 not in shape and shape.count(-1) <= 1:
            kind, spec = "reshape", ReshapeSpec(tuple(shape))
    elif cls == "Transpose" and len(call.inputs) == 1:
        axes = cfg.get("axes")
        perm = () if axes is None else _ints(axes, 0)
        if perm is not None:
            kind, spec = "transpose", TransposeSpec(tuple(perm))
    elif cls == "Resize" and call.module in ("", OPS_MODULE + "image") and len(call.inputs) == 1:
        size = _ints(cfg.get("size"), 1)
        fmt = cfg.get("data_format") or CHANNELS_LAST
        if (
            size is not None
            and len(size) == 2
            and _rank(call) == 4
            and fmt in (CHANNELS_LAST, CHANNELS_FIRST)
        ):
            mode = str(cfg.get("interpolation", "bilinear"))
            return fixed_resize(call, (size[0], size[1]), mode, fmt)
    elif cls == "GetItem" and len(call.inputs) == 1 and len(args) == 2:
        found = _get_item(args[1], _rank(call))
        if found is not None:
            kind, spec = "slice", found
    if kind == "unknown":
        spec = UnknownSpec((call.declared,))
    return [Node(call.path, cls, kind, call.inputs, (call.output,), spec, layout)], []


def _pad(cfg: dict[str, Any], rank: int | None) -> PadSpec | None:
    """ops.pad(x, pad_width, mode): (before, after) per tensor axis; one pair pads every axis."""
    mode = cfg.get("mode", "constant")
    width = cfg.get("pad_width")
    if mode not in PAD_MODES or not isinstance(width, list) or not width:
        return None
    pairs = []
    for pair in width:
        found = _ints(pair, 0)
        if found is None or len(found) not in (1, 2):
            return None
        pairs.append((found[0], found[-1]))
    if len(pairs) == 1 and rank is not None:
        pairs *= rank
    if rank is None or len(pairs) != rank:
        return None
    return PadSpec(tuple(pairs), mode)


def _get_item(key: Any, rank: int | None) -> SliceSpec | None:
    """``x[key]`` for a key of slices with steps >= 1 and at most one ellipsis (Python's clamping on
    each axis); an integer index or a new axis, which change the rank, are not modelled."""
    items = key if isinstance(key, list) else [key]
    if rank is None or not all(isinstance(i, dict) for i in items):
        return None
    kinds = [i.get("class_name") for i in items]
    if len(items) - kinds.count("__ellipsis__") > rank:  # an ellipsis may stand for no axis at all
        return None
    if kinds.count("__ellipsis__") > 1 or not set(kinds) <= {"__slice__", "__ellipsis__"}:
        return None
    if "__ellipsis__" in kinds:
        at = kinds.index("__ellipsis__")
        items = items[:at] + [None] * (rank - len(items) + 1) + items[at + 1 :]
    axes, starts, ends, steps = [], [], [], []
    for axis, item in enumerate(items):
        cfg = item.get("config") if isinstance(item, dict) else None
        if not isinstance(cfg, dict):
            continue
        bounds = [cfg.get(k) for k in ("start", "stop", "step")]
        if not all(b is None or (isinstance(b, int) and not isinstance(b, bool)) for b in bounds):
            return None
        start, stop, step = bounds
        if step is not None and step < 1:
            return None
        if (start, stop, step) != (None, None, None):
            axes.append(axis)
            starts.append(start or 0)
            ends.append(stop)
            steps.append(step or 1)
    return SliceSpec(tuple(axes), tuple(starts), tuple(ends), tuple(steps))


def fixed_resize(
    call: _Call, size: tuple[int, int], mode: str, layout: str
) -> tuple[list[Node], list[Tensor]]:
    """Resizing to a fixed (height, width) (``keras.layers.Resizing``, ``keras.ops.image.resize``; also
    with crop_to_aspect_ratio or pad_to_aspect_ratio, whose output has that size too): the sizes are
    the input's batch and channels around the fixed size, computed from the input's shape at run time."""
    (x,) = call.inputs
    where = call.path
    batch, channels, fixed, sizes = (f"{where}/{part}" for part in ("batch", "channels", "size", "sizes"))
    channel_span = (("start", 1), ("end", 2)) if layout == CHANNELS_FIRST else (("start", -1),)
    parts = (batch, channels, fixed) if layout == CHANNELS_FIRST else (batch, fixed, channels)
    nodes = [
        Node(batch, "Shape", "value", (x,), (batch,), ValueSpec("Shape", (("start", 0), ("end", 1))), layout),
        Node(channels, "Shape", "value", (x,), (channels,), ValueSpec("Shape", channel_span), layout),
        Node(sizes, "Concat", "value", parts, (sizes,), ValueSpec("Concat", (("axis", 0),)), layout),
        Node(
            where,
            call.cls,
            "resize",
            (x,),
            (call.output,),
            ResizeSpec(mode, None, ()),
            layout,
            operands=(("sizes", sizes),),
        ),
    ]
    return nodes, [Tensor(fixed, (2,), size)]
