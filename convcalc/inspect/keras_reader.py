"""Keras `.keras` files -> Graph: the zip's ``config.json`` read with the standard library only.

No TensorFlow or Keras is needed: a `.keras` file (Keras 3, and tf.keras since 2.13) is a zip whose
``config.json`` describes the model; ``keras_archive`` reads it with bounded memory. Sequential and
Functional models are read, nested models inlined under their name ("encoder/conv1"). Conv*D and
Conv*DTranspose (also DepthwiseConv and SeparableConv) keep Keras' own arguments, padding word and
output_padding (None when unset) included, and are read by ``convcalc.conventions.keras``. Keras
operations saved in the graph (``keras.ops.pad(x)``) are read by ``keras_ops``, layer classes of
keras.applications and keras-hub by ``keras_library``, each from its config. A layer class
outside the modelled set becomes an ``unknown`` node carrying the output shape Keras recorded for it in
the config where that shape is static; otherwise propagation stops there and the report names it.

Tensor and node names are the Keras layer names (a layer's first call); the output of a layer's call
number ``n`` > 0 is ``name:n``, and a further output ``t`` of a nested model ``name:n:t``.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.model import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
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
    Spec,
    Tensor,
    TransposeSpec,
    UnknownSpec,
)
from convcalc.inspect.keras_archive import read_config
from convcalc.inspect.keras_config import (
    MAX_AXIS_VALUE,
    _build_config,
    _Call,
    _class,
    _dict,
    _fmt,
    _history,
    _int,
    _ints,
    _keras_tensors,
    _list,
    _module,
    _name,
    _nested_keys,
    _pairs,
    _shape,
    _tensor_name,
    _topological,
)
from convcalc.inspect.keras_library import (
    application_layer,
    application_merge,
    efficientnet_block,
    efficientnet_block_layer,
    mobilenet_block,
    mobilenet_block_layer,
    spatial_pyramid_pooling,
    spatial_pyramid_pooling_layer,
)
from convcalc.inspect.keras_ops import fixed_resize, is_keras_op, op_nodes

MAX_LAYERS = 20_000
# Models inside models inside models: real files nest two or three.
MAX_NESTING = 16

MODEL_CLASSES = frozenset(["Functional", "Sequential", "Model"])
CONV = {f"Conv{n}D": n for n in (1, 2, 3)}
CONV_TRANSPOSE = {f"Conv{n}DTranspose": n for n in (1, 2, 3)}
DEPTHWISE = {"DepthwiseConv1D": 1, "DepthwiseConv2D": 2}
SEPARABLE = {"SeparableConv1D": 1, "SeparableConv2D": 2}
POOL = {f"{op}Pooling{n}D": (op, n) for op in ("Max", "Average") for n in (1, 2, 3)}
GLOBAL_POOL = {f"Global{op}Pooling{n}D": n for op in ("Max", "Average") for n in (1, 2, 3)}
UPSAMPLING = {f"UpSampling{n}D": n for n in (1, 2, 3)}
ZERO_PADDING = {f"ZeroPadding{n}D": n for n in (1, 2, 3)}
CROPPING = {f"Cropping{n}D": n for n in (1, 2, 3)}
ELEMENTWISE = frozenset(["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"])
SHAPE_PRESERVING = frozenset(
    [
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "Softmax",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "UnitNormalization",
        "Normalization",
        "Rescaling",
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "ActivityRegularization",
        "Identity",
        "Masking",
    ]
)


def _call_args(entry: dict[str, Any], index: int) -> list[Any]:
    """The positional arguments config.json records for a layer's call number ``index`` (Keras 3)."""
    nodes = entry.get("inbound_nodes")
    node = nodes[index] if isinstance(nodes, list) and index < len(nodes) else None
    args = node.get("args") if isinstance(node, dict) else None
    return args if isinstance(args, list) else []


def read_keras(path: Path) -> Graph:
    """Read a `.keras` file into a checked Graph (no TensorFlow or Keras needed)."""
    config, metadata = read_config(path)
    reader = _Reader(str(path))
    if isinstance(metadata, dict) and isinstance(metadata.get("keras_version"), str):
        reader.notes.append(f"written by Keras {metadata['keras_version'][:40]}")
    entry = _dict(reader.source, "config.json", "the top level", config)
    cls = _class(entry)
    if cls not in MODEL_CLASSES:
        raise ConvCalcError(
            f"{path}: the model's class is {str(cls)[:80]!r}; inspect reads Sequential and Functional models "
            "(a subclassed model keeps its layers in Python code, not in config.json)",
            parameter="model",
        )
    outputs = reader.model(entry, "", None, 0)
    graph = Graph(
        source=str(path),
        framework="keras",
        inputs=tuple(reader.inputs),
        nodes=tuple(reader.nodes),
        outputs=tuple(outputs),
        constants=tuple(reader.constants),
        notes=tuple(reader.notes),
    )
    return graph.checked()


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.inputs: list[Tensor] = []
        self.nodes: list[Node] = []
        self.constants: list[Tensor] = []
        self.notes: list[str] = []
        self.layers = 0

    def error(self, where: str, message: str) -> ConvCalcError:
        return ConvCalcError(f"{self.source}: {where}: {message}", parameter="model")

    # Models: Sequential and Functional, inlined when nested.
    def model(
        self, entry: dict[str, Any], prefix: str, bound: tuple[str, ...] | None, depth: int
    ) -> list[str]:
        where = f"model {prefix[:-1] or 'at the top level'!r}"
        if depth > MAX_NESTING:
            raise self.error(where, f"models are nested more than {MAX_NESTING} deep")
        config = _dict(self.source, where, "config", entry.get("config"))
        layers = _list(self.source, where, "layers", config.get("layers"))
        if entry.get("class_name") == "Sequential":
            return self.sequential(config, layers, prefix, bound, depth, where)
        return self.functional(config, layers, prefix, bound, depth, where)

    def count(self, where: str) -> None:
        self.layers += 1
        if self.layers > MAX_LAYERS:
            raise self.error(where, f"the model has more than {MAX_LAYERS} layers; inspect reads up to that")

    def input_tensor(self, name: str, config: dict[str, Any], bound: str | None, where: str) -> str:
        if bound is not None:
            return bound
        shape = config.get("batch_shape", config.get("batch_input_shape"))
        dims = _shape(self.source, where, "batch_shape", shape)
        if dims is None:
            raise self.error(
                where,
                "config.json records no input shape (a Sequential model saved before it was built); build "
                "it with an Input layer or model.build(input_shape) and save it again",
            )
        self.inputs.append(Tensor(name, dims))
        return name

    def sequential(
        self,
        config: dict[str, Any],
        layers: list[Any],
        prefix: str,
        bound: tuple[str, ...] | None,
        depth: int,
        where: str,
    ) -> list[str]:
        entries = [_dict(self.source, where, "a layer", e) for e in layers]
        outer = None if bound is None else bound[0]
        if entries and entries[0].get("class_name") == "InputLayer":
            first = entries.pop(0)
            cfg = _dict(self.source, where, "config", first.get("config"))
            x = self.input_tensor(prefix + _name(self.source, where, first, cfg), cfg, outer, where)
        else:
            x = self.input_tensor(
                prefix + "input", {"batch_shape": config.get("build_input_shape")}, outer, where
            )
        for n, entry in enumerate(entries):
            cfg = _dict(self.source, where, "config", entry.get("config"))
            name = prefix + _name(self.source, where, entry, cfg)
            self.count(name)
            build = _build_config(entry)
            later = _build_config(entries[n + 1]) if n + 1 < len(entries) else {}
            call = _Call(
                path=name,
                cls=_class(entry),
                config=cfg,
                build=build,
                inputs=(x,),
                input_shape=_shape(self.source, name, "build_config.input_shape", build.get("input_shape")),
                output=name,
                declared=_shape(self.source, name, "build_config.input_shape", later.get("input_shape")),
                layer_path=name,
                module=_module(entry),
            )
            (x,) = self.layer(call, entry, depth)
        return [x]

    def functional(
        self,
        config: dict[str, Any],
        layers: list[Any],
        prefix: str,
        bound: tuple[str, ...] | None,
        depth: int,
        where: str,
    ) -> list[str]:
        entries: dict[str, dict[str, Any]] = {}
        calls: list[tuple[str, int, list[Any]]] = []  # layer, node index, keras tensors read
        declared: dict[tuple[str, int, int], tuple[Dim, ...] | None] = {}
        for raw in layers:
            entry = _dict(self.source, where, "a layer", raw)
            cfg = _dict(self.source, where, "config", entry.get("config"))
            name = _name(self.source, where, entry, cfg)
            if name in entries:
                raise self.error(where, f"two layers are named {name!r}")
            entries[name] = entry
            nodes = _list(self.source, prefix + name, "inbound_nodes", entry.get("inbound_nodes", []))
            for index, node in enumerate(nodes):
                history = list(_keras_tensors(self.source, prefix + name, node))
                calls.append((name, index, history))
                for key, shape in history:
                    declared[key] = shape
        tensors: dict[tuple[str, int, int], str] = {}
        inputs = [_history(self.source, where, h) for h in _nested_keys(config.get("input_layers"))]
        if bound is not None and len(bound) != len(inputs):
            raise self.error(where, f"the model takes {len(inputs)} inputs; it is called with {len(bound)}")
        for n, (name, _, _) in enumerate(inputs):
            input_entry = entries.get(name)
            if input_entry is None or input_entry.get("class_name") != "InputLayer":
                raise self.error(
                    where, f"input_layers names {name!r}, which is not an InputLayer of the model"
                )
            cfg = _dict(self.source, where, "config", input_entry.get("config"))
            tensors[(name, 0, 0)] = self.input_tensor(
                prefix + name, cfg, None if bound is None else bound[n], where
            )
        for name, index, history in _topological(self.source, where, calls, set(tensors)):
            entry = entries[name]
            if entry.get("class_name") == "InputLayer":
                continue
            path = prefix + name
            self.count(path)
            missing = [k for k, _ in history if k not in tensors]
            if missing:
                raise self.error(path, f"it reads {missing[0][0]!r}, which is not an input of the model")
            output = _tensor_name(path, index, 0)
            build = _build_config(entry)
            first_shape = history[0][1] if history else None
            call = _Call(
                path=output,
                cls=_class(entry),
                config=_dict(self.source, path, "config", entry.get("config")),
                build=build,
                inputs=tuple(tensors[k] for k, _ in history),
                input_shape=first_shape
                or _shape(self.source, path, "build_config.input_shape", build.get("input_shape")),
                output=output,
                declared=declared.get((name, index, 0)),
                layer_path=path,
                node_index=index,
                module=_module(entry),
            )
            for t, tensor in enumerate(self.layer(call, entry, depth)):
                tensors[(name, index, t)] = tensor
        outputs = []
        for key in (_history(self.source, where, h) for h in _nested_keys(config.get("output_layers"))):
            if key not in tensors:
                raise self.error(where, f"output_layers names {key[0]!r}, which the model does not compute")
            outputs.append(tensors[key])
        return outputs

    # Layers.
    def layer(self, call: _Call, entry: dict[str, Any], depth: int) -> list[str]:
        if not call.inputs:
            raise self.error(call.path, f"the {call.cls} layer is called on no tensor")
        if call.cls in MODEL_CLASSES:
            inner = self.model(entry, call.path + "/", call.inputs, depth + 1)
            names = [_tensor_name(call.layer_path, call.node_index, t) for t in range(len(inner))]
            for tensor, name in zip(inner, names):
                self.add(call, name, call.cls, "shape_preserving", None, (tensor,), name)
            return names
        if is_keras_op(call):
            nodes, constants = op_nodes(call, _call_args(entry, call.node_index))
            self.nodes.extend(nodes)
            self.constants.extend(constants)
        else:
            self.add_layer(call)
        return [call.output]

    def add(
        self, call: _Call, name: str, op: str, kind: str, spec: Spec, inputs: tuple[str, ...], output: str
    ) -> None:
        layout = CHANNELS_FIRST if call.config.get("data_format") == "channels_first" else CHANNELS_LAST
        self.nodes.append(Node(name, op, kind, inputs, (output,), spec, layout))

    def add_layer(self, call: _Call) -> None:
        cls, cfg = call.cls, call.config
        fmt = cfg.get("data_format")
        if fmt not in (None, CHANNELS_LAST, CHANNELS_FIRST):
            raise self.error(
                call.path, f"data_format must be 'channels_last' or 'channels_first'; got {fmt!r}"
            )
        layout = CHANNELS_FIRST if fmt == CHANNELS_FIRST else CHANNELS_LAST
        if cls in ELEMENTWISE or application_merge(call):
            self.add(call, call.path, cls, "elementwise", None, call.inputs, call.output)
        elif cls == "Concatenate":
            axis = _int(self.source, call.path, "axis", cfg.get("axis", -1), None)
            self.add(call, call.path, cls, "concat", ConcatSpec(axis), call.inputs, call.output)
        elif len(call.inputs) != 1 and self.modelled(call):
            raise self.error(
                call.path, f"a {cls} layer reads one tensor; it is called with {len(call.inputs)}"
            )
        elif cls in SHAPE_PRESERVING or application_layer(call):
            self.add(call, call.path, cls, "shape_preserving", None, call.inputs, call.output)
        elif spatial_pyramid_pooling_layer(call):
            self.nodes.extend(spatial_pyramid_pooling(self.source, call))
        elif efficientnet_block_layer(call):
            self.nodes.extend(efficientnet_block(self.source, call))
        elif mobilenet_block_layer(call):
            self.nodes.extend(mobilenet_block(self.source, call))
        elif cls in CONV or cls in CONV_TRANSPOSE or cls in DEPTHWISE or cls in SEPARABLE:
            self.conv(call)
        elif cls in POOL:
            self.pool(call)
        elif cls in GLOBAL_POOL:
            keepdims = cfg.get("keepdims", False)
            if keepdims:
                self.add(call, call.path, cls, "global_pool", None, call.inputs, call.output)
            else:
                kept = call.output + "/keepdims"
                self.add(call, kept, cls, "global_pool", None, call.inputs, kept)
                self.add(call, call.path, cls, "flatten", FlattenSpec(1), (kept,), call.output)
        elif cls in UPSAMPLING:
            rank = UPSAMPLING[cls]
            size = _ints(self.source, call.path, "size", cfg.get("size", 2), rank, 1)
            scales = self.full(call, rank, tuple(Fraction(s) for s in size), Fraction(1))
            mode = str(cfg.get("interpolation", "nearest"))
            self.add(
                call, call.path, cls, "resize", ResizeSpec(mode, scales=scales), call.inputs, call.output
            )
        elif cls in ZERO_PADDING or cls in CROPPING:
            rank = ZERO_PADDING.get(cls) or CROPPING[cls]
            field = "padding" if cls in ZERO_PADDING else "cropping"
            pairs = _pairs(self.source, call.path, field, cfg.get(field, 1), rank)
            sign = 1 if cls in ZERO_PADDING else -1
            pads = self.full(call, rank, tuple((sign * b, sign * a) for b, a in pairs), (0, 0))
            self.add(call, call.path, cls, "pad", PadSpec(pads), call.inputs, call.output)
        elif cls == "Resizing":
            height = _int(self.source, call.path, "height", cfg.get("height"), 1, MAX_AXIS_VALUE)
            width = _int(self.source, call.path, "width", cfg.get("width"), 1, MAX_AXIS_VALUE)
            mode = str(cfg.get("interpolation", "bilinear"))
            nodes, constants = fixed_resize(call, (height, width), mode, layout)
            self.nodes.extend(nodes)
            self.constants.extend(constants)
        elif cls == "Flatten":
            self.add(call, call.path, cls, "flatten", FlattenSpec(1), call.inputs, call.output)
        elif cls == "Reshape":
            target = _list(self.source, call.path, "target_shape", cfg.get("target_shape"))
            shape = tuple(_int(self.source, call.path, "target_shape", v, -1) for v in target)
            if 0 in shape:
                raise self.error(call.path, f"target_shape values must be >= 1 or -1; got {list(shape)}")
            self.add(call, call.path, cls, "reshape", ReshapeSpec((0, *shape)), call.inputs, call.output)
        elif cls == "Permute":
            dims = _list(self.source, call.path, "dims", cfg.get("dims"))
            perm = tuple(_int(self.source, call.path, "dims", v, 1) for v in dims)
            if sorted(perm) != list(range(1, len(perm) + 1)):
                raise self.error(call.path, f"dims must be a permutation of 1..{len(perm)}; got {list(perm)}")
            self.add(call, call.path, cls, "transpose", TransposeSpec((0, *perm)), call.inputs, call.output)
        elif cls == "Dense":
            units = _int(self.source, call.path, "units", cfg.get("units"), 1)
            features = self.channels(call, -1)
            dense = DenseSpec(features, units, bool(cfg.get("use_bias", True)))
            self.add(call, call.path, cls, "dense", dense, call.inputs, call.output)
        else:
            if call.module.startswith("keras_hub.") and cls.endswith("Backbone"):
                self.notes.append(
                    f"{call.path}: a keras-hub {cls} is saved as its constructor's arguments, not its "
                    "layers; save keras.Model(backbone.inputs, backbone.outputs) in its place to inspect it"
                )
            spec = UnknownSpec((call.declared,))
            self.add(call, call.path, cls, "unknown", spec, call.inputs, call.output)

    def modelled(self, call: _Call) -> bool:
        """Whether the call is of a one-tensor layer class convcalc reads (a class it does not know
        may read several: it stays an unknown node)."""
        cls = call.cls
        known = (CONV, CONV_TRANSPOSE, DEPTHWISE, SEPARABLE, POOL, GLOBAL_POOL, UPSAMPLING, ZERO_PADDING)
        return (
            any(cls in table for table in (*known, CROPPING, SHAPE_PRESERVING))
            or cls in ("Resizing", "Flatten", "Reshape", "Permute", "Dense")
            or application_layer(call)
            or spatial_pyramid_pooling_layer(call)
            or efficientnet_block_layer(call)
            or mobilenet_block_layer(call)
        )

    def full(self, call: _Call, rank: int, spatial: tuple[Any, ...], fill: Any) -> tuple[Any, ...]:
        """Per tensor axis: the spatial values in the layer's layout, ``fill`` on batch and channels."""
        if call.config.get("data_format") == CHANNELS_FIRST:
            return (fill, fill, *spatial)
        return (fill, *spatial, fill)

    def channels(self, call: _Call, axis: int) -> int:
        shape = call.input_shape
        value = shape[axis] if shape and -len(shape) <= axis < len(shape) else None
        if not isinstance(value, int):
            raise self.error(
                call.path, "the config does not record the layer's input channels (a model never built?)"
            )
        return value

    def conv(self, call: _Call) -> None:
        cls, cfg, where = call.cls, call.config, call.path
        rank = CONV.get(cls) or CONV_TRANSPOSE.get(cls) or DEPTHWISE.get(cls) or SEPARABLE[cls]
        channels_first = cfg.get("data_format") == CHANNELS_FIRST
        in_channels = self.channels(call, 1 if channels_first else -1)
        kernel = _ints(self.source, where, "kernel_size", cfg.get("kernel_size"), rank, 1)
        strides = _ints(self.source, where, "strides", cfg.get("strides", 1), rank, 1)
        dilation = _ints(self.source, where, "dilation_rate", cfg.get("dilation_rate", 1), rank, 1)
        padding = cfg.get("padding", "valid")
        if not isinstance(padding, str):
            raise self.error(where, f"padding must be a word ('valid', 'same'); got {str(padding)[:80]}")
        bias = bool(cfg.get("use_bias", True))
        shown = [
            ("kernel_size", _fmt(kernel)),
            ("strides", _fmt(strides)),
            ("padding", padding),
            ("dilation_rate", _fmt(dilation)),
        ]
        common = {"framework": "keras", "kernel_size": kernel, "stride": strides, "dilation": dilation}
        if cls in CONV or cls in CONV_TRANSPOSE:
            filters = _int(self.source, where, "filters", cfg.get("filters"), 1)
            groups = _int(self.source, where, "groups", cfg.get("groups", 1), 1)
            op = cfg.get("output_padding")
            output_padding = None if op is None else _ints(self.source, where, "output_padding", op, rank, 0)
            shown.insert(0, ("filters", str(filters)))
            if cls in CONV_TRANSPOSE:
                shown.append(("output_padding", "None" if output_padding is None else _fmt(output_padding)))
            elif groups != 1:
                shown.append(("groups", str(groups)))
            spec = ConvSpec(
                padding=padding,
                in_channels=in_channels,
                out_channels=filters,
                groups=groups,
                bias=bias,
                output_padding=output_padding,
                arguments=tuple(shown),
                **common,  # type: ignore[arg-type]
            )
            kind = "conv_transpose" if cls in CONV_TRANSPOSE else "conv"
            self.add(call, where, cls, kind, spec, call.inputs, call.output)
            return
        multiplier = _int(self.source, where, "depth_multiplier", cfg.get("depth_multiplier", 1), 1)
        shown.append(("depth_multiplier", str(multiplier)))
        depthwise = ConvSpec(
            padding=padding,
            in_channels=in_channels,
            out_channels=in_channels * multiplier,
            groups=in_channels,
            bias=bias and cls in DEPTHWISE,
            arguments=tuple(shown),
            **common,  # type: ignore[arg-type]
        )
        if cls in DEPTHWISE:
            self.add(call, where, cls, "conv", depthwise, call.inputs, call.output)
            return
        # SeparableConv: the depthwise convolution, then a 1x1 'valid' pointwise one.
        filters = _int(self.source, where, "filters", cfg.get("filters"), 1)
        inner = call.output + "/depthwise"
        self.add(call, inner, cls, "conv", depthwise, call.inputs, inner)
        ones = (1,) * rank
        pointwise = ConvSpec(
            "keras",
            ones,
            ones,
            ones,
            "valid",
            in_channels * multiplier,
            filters,
            bias=bias,
            arguments=(("filters", str(filters)), ("kernel_size", _fmt(ones))),
        )
        self.add(call, where, cls, "conv", pointwise, (inner,), call.output)

    def pool(self, call: _Call) -> None:
        cfg, where = call.config, call.path
        op, rank = POOL[call.cls]
        size = _ints(self.source, where, "pool_size", cfg.get("pool_size", 2), rank, 1)
        strides = cfg.get("strides")
        stride = size if strides is None else _ints(self.source, where, "strides", strides, rank, 1)
        padding = cfg.get("padding", "valid")
        if padding not in ("valid", "same"):
            raise self.error(where, f"padding must be 'valid' or 'same'; got {str(padding)[:80]!r}")
        shown = (("pool_size", _fmt(size)), ("strides", _fmt(stride)), ("padding", padding))
        spec = PoolSpec("max" if op == "Max" else "average", size, stride, padding, arguments=shown)
        self.add(call, where, call.cls, "pool", spec, call.inputs, call.output)
