"""The conv-like layers of one model, with the Pad / Slice / Transpose nodes that serve them folded in.

A layer is a convolution, a transposed convolution, a pooling or a resize (or a Pad / Slice that serves
no such layer). A converter spells one framework layer as several nodes: an explicit Pad before a VALID
convolution, a Slice after a transposed convolution instead of its crops, Transposes around a layer that
runs in the other layout. Those nodes are folded into the layer they serve: a zero Pad before a
convolution adds to its pads (a Slice there removes from them), a Slice after a transposed convolution
adds to its crops, a Transpose only renames axes. ``form`` gives the layer's canonical form for any
input sizes, so that two models' layers are compared on the same input. Pure integers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from convcalc.core import ConvAxis, TransposedAxis
from convcalc.diff.axes import Names, layer_names
from convcalc.errors import ConvCalcError
from convcalc.graph.model import ConvSpec, Graph, Node, PadSpec, PoolSpec, ResizeSpec, SliceSpec
from convcalc.graph.shapes import Run, Shape, pool_output, pool_pads, spatial_axes

LAYER_KINDS = ("conv", "conv_transpose", "pool", "resize", "pad", "slice")
# One name per interpolation: PyTorch and Keras say bilinear / trilinear / bicubic for 2-D / 3-D, ONNX
# and TFLite linear / cubic (PyTorch's nearest-exact is another rule and keeps its name).
_MODES = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}


def resize_mode(mode: str) -> str:
    """'bilinear' -> 'linear': the interpolation whatever the number of axes it is named for."""
    return _MODES.get(mode.lower(), mode.lower())


@dataclass(frozen=True)
class AxisForm:
    """One spatial axis of a layer in canonical form: input and output sizes, the window, and its
    placement: pads (before, after) of a convolution, pooling, Pad or Slice (negative = crop), crops of
    the full output (i-1)*s + K of a transposed convolution; ``scale`` of a resize."""

    name: str
    size: int
    output: int
    kernel_size: int = 1
    stride: int = 1
    dilation: int = 1
    placement: tuple[int, int] = (0, 0)
    scale: Fraction | None = None


@dataclass(frozen=True)
class Layer:
    """One conv-like layer: its node, the nodes folded in before and after it, and its axes by name."""

    position: int
    node: Node
    before: tuple[Node, ...]
    after: tuple[Node, ...]
    axes: tuple[str, ...]
    channel_name: str
    input_shape: Shape
    output_shape: Shape
    sizes: tuple[int, ...]
    tensor_axes: tuple[int, ...] = ()
    # per folded Pad / Slice before the layer: the layer axes' index in that node's tensor
    before_axes: tuple[tuple[int, ...] | None, ...] = ()
    after_axes: tuple[tuple[int, ...] | None, ...] = ()

    @property
    def kind(self) -> str:
        return self.node.kind

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def output_tensor(self) -> str:
        return (self.after[-1] if self.after else self.node).outputs[0]

    @property
    def detail(self) -> str:
        """The kind with its variety: 'pool max', 'resize nearest'."""
        spec = self.node.spec
        if isinstance(spec, PoolSpec):
            return f"pool {spec.op}"
        if isinstance(spec, ResizeSpec):
            return f"resize {resize_mode(spec.mode)}"
        return self.kind

    def spelling(self) -> tuple[str, ...]:
        """The layer as its file spells it: the node's arguments, and each folded node."""
        parts = [_node_spelling(n) for n in self.before if n.kind != "transpose"]
        parts.append(_node_spelling(self.node))
        parts += [_node_spelling(n) for n in self.after if n.kind != "transpose"]
        transposes = [n for n in (*self.before, *self.after) if n.kind == "transpose"]
        if transposes:
            parts.append(f"{len(transposes)} Transpose{'s' if len(transposes) > 1 else ''} folded")
        return tuple(parts)

    @cached_property
    def own_form(self) -> tuple[AxisForm, ...]:
        """The canonical axes on the layer's own input sizes."""
        return self.form(dict(zip(self.axes, self.sizes)))

    def form(self, sizes: Mapping[str, int]) -> tuple[AxisForm, ...]:
        """The canonical axes for these input sizes (by axis name): the framework's own rules."""
        own = tuple(sizes[name] for name in self.axes)
        if own == self.sizes and "own_form" in self.__dict__:
            return self.own_form
        spec = self.node.spec
        if isinstance(spec, ConvSpec):
            return self._conv(spec, own)
        if isinstance(spec, PoolSpec):
            pads = pool_pads(spec, own)
            dilation = spec.dilation or (1,) * len(own)
            forms = []
            for name, i, k, s, d, (pb, pa) in zip(
                self.axes, own, spec.kernel_size, spec.stride, dilation, pads
            ):
                out = pool_output(spec, i, k, s, d, pb, pa)
                forms.append(AxisForm(name, i, out, k, s, d, (pb, pa)))
            return _nonempty(self, tuple(forms))
        if isinstance(spec, ResizeSpec):
            return _nonempty(self, self._resize(spec, own))
        placement = _placements(self.node, self.tensor_axes, own, len(self.input_shape))
        return _nonempty(
            self,
            tuple(
                AxisForm(name, i, i + b + a, placement=(b, a))
                for name, i, (b, a) in zip(self.axes, own, placement)
            ),
        )

    def _resize(self, spec: ResizeSpec, own: tuple[int, ...]) -> tuple[AxisForm, ...]:
        """A resize's axes: fixed sizes, or floor(i * scale). Sizes or scales the graph computes (an
        empty operand: `interpolate(size=skip.shape[2:])` exported) are those this run computed: the
        output sizes it gave, whatever the input, since they follow another tensor, not this one."""
        forms = []
        for name, i, a in zip(self.axes, own, self.tensor_axes):
            if spec.scales:
                forms.append(AxisForm(name, i, int(i * spec.scales[a]), scale=spec.scales[a]))
            else:
                out = spec.sizes[a] if spec.sizes else self.output_shape[a]
                forms.append(AxisForm(name, i, out, scale=Fraction(out, i)))
        return tuple(forms)

    def _conv(self, spec: ConvSpec, own: tuple[int, ...]) -> tuple[AxisForm, ...]:
        transposed = self.kind == "conv_transpose"
        sizes = list(own)
        added = [[0, 0] for _ in own]
        for node, axes in zip(self.before, self.before_axes):
            if axes is None:
                continue
            for n, (b, a) in enumerate(_placements(node, axes, tuple(sizes), len(self.input_shape))):
                added[n][0] += b
                added[n][1] += a
                sizes[n] += b + a
        layer = spec.read(tuple(sizes), transposed)
        if transposed:
            axes_t = list(layer.transposed)
            for node, tensor_axes in zip(self.after, self.after_axes):
                if tensor_axes is None:
                    continue
                outputs = tuple(a.output for a in axes_t)
                for n, (b, a) in enumerate(_placements(node, tensor_axes, outputs, len(self.input_shape))):
                    t = axes_t[n]
                    axes_t[n] = TransposedAxis(
                        t.size, t.kernel_size, t.stride, t.dilation, t.crop_before - b, t.crop_after - a
                    )
            return _nonempty(
                self,
                tuple(
                    AxisForm(
                        name,
                        t.size,
                        t.output,
                        t.kernel_size,
                        t.stride,
                        t.dilation,
                        (t.crop_before, t.crop_after),
                    )
                    for name, t in zip(self.axes, axes_t)
                ),
            )
        forms = []
        for name, i, c, (b, a) in zip(self.axes, own, layer.conv, added):
            axis = ConvAxis(i, c.kernel_size, c.stride, c.dilation, c.pad_before + b, c.pad_after + a)
            forms.append(
                AxisForm(
                    name,
                    i,
                    axis.output,
                    c.kernel_size,
                    c.stride,
                    c.dilation,
                    (axis.pad_before, axis.pad_after),
                )
            )
        return _nonempty(self, tuple(forms))


def _nonempty(layer: Layer, forms: tuple[AxisForm, ...]) -> tuple[AxisForm, ...]:
    for form in forms:
        if form.output < 1:
            raise ConvCalcError(
                f"layer {layer.name!r}: the output would be empty on {form.name} (size {form.output} from "
                f"input {form.size})",
                parameter="size",
            )
    return forms


def _placements(
    node: Node, axes: tuple[int, ...], sizes: tuple[int, ...], rank: int
) -> tuple[tuple[int, int], ...]:
    """A Pad's (before, after) or a Slice's crops (as negative pads) on the given tensor axes."""
    spec = node.spec
    if isinstance(spec, PadSpec):
        return tuple(spec.pads[a] for a in axes)
    assert isinstance(spec, SliceSpec)
    out = []
    for a, i in zip(axes, sizes):
        b, e = 0, 0
        for axis, start, end, step in zip(spec.axes, spec.starts, spec.ends, spec.steps):
            if (axis + rank if axis < 0 else axis) == a:
                first, stop, _ = slice(start, end, step).indices(i)
                b, e = -first, -(i - max(stop, first))
        out.append((b, e))
    return tuple(out)


def _compact(name: str, value: str) -> str:
    """`[1, 1, 1, 1]` -> `1,1,1,1` (ONNX pads: begins then ends), `(3, 3)` -> `3x3`: one word each."""
    text = value.strip()
    if text[:1] in "[(" and text[-1:] in "])":
        parts = [p.strip() for p in text[1:-1].split(",") if p.strip()]
        return ("," if name == "pads" else "x").join(parts)
    return text.replace(" ", "")


# Arguments left out of a spelling when every value is the framework's default (as its own repr does).
_ONES = ("dilations", "dilation", "dilation_rate", "group", "groups", "depth_multiplier")
_ZEROS = ("pads", "padding", "output_padding")


def _default(name: str, value: str) -> bool:
    values = set(_compact("", value).split("x"))
    return (name in _ONES and values == {"1"}) or (name in _ZEROS and values == {"0"})


def _node_spelling(node: Node) -> str:
    spec = node.spec
    if isinstance(spec, (ConvSpec, PoolSpec)):
        args = " ".join(f"{k}={_compact(k, v)}" for k, v in spec.arguments if not _default(k, v))
        return f"{node.op} {args}".strip()
    if isinstance(spec, PadSpec):
        pads = ",".join(f"{b}:{a}" for b, a in spec.pads)
        return f"{node.op} pads={pads}" + ("" if spec.mode == "constant" else f" mode={spec.mode}")
    if isinstance(spec, SliceSpec):
        parts = [
            f"{a}:{s}:{'' if e is None else e}" + ("" if st == 1 else f":{st}")
            for a, s, e, st in zip(spec.axes, spec.starts, spec.ends, spec.steps)
        ]
        return f"{node.op} " + ",".join(parts)
    if isinstance(spec, ResizeSpec):
        values = spec.sizes if spec.sizes is not None else spec.scales
        assert values is not None
        word = "sizes" if spec.sizes is not None else "scales"
        # an empty operand is one the graph computes (interpolate(size=x.shape[2:]) exported)
        spelled = ",".join(str(v) for v in values) if values else "computed from other sizes"
        return f"{node.op} mode={spec.mode} {word}={spelled}"
    return node.op


def _is_transpose(node: Node, perms: Mapping[str, tuple[int, ...]]) -> bool:
    return node.kind == "transpose" and bool(node.outputs) and node.outputs[0] in perms


def _zero_pad(node: Node) -> bool:
    spec = node.spec
    return isinstance(spec, PadSpec) and spec.mode == "constant"


def _unit_slice(node: Node) -> bool:
    spec = node.spec
    return isinstance(spec, SliceSpec) and all(s == 1 for s in spec.steps)


def model_layers(
    graph: Graph, run: Run, names: Mapping[str, Names], perms: Mapping[str, tuple[int, ...]]
) -> tuple[Layer, ...]:
    """Every conv-like layer that ran, in dataflow order, with the nodes that serve it folded in."""
    producer: dict[str, int] = {}
    consumers: dict[str, list[int]] = {}
    for index, node in enumerate(graph.nodes):
        for name in node.outputs:
            producer[name] = index
        for name in node.inputs:
            consumers.setdefault(name, []).append(index)
    outputs = set(graph.outputs)

    def only_consumer(tensor: str) -> int | None:
        users = consumers.get(tensor, [])
        return users[0] if len(users) == 1 and tensor not in outputs else None

    ran = {r.index: r for r in run.nodes}
    folded: set[int] = set()
    groups: list[tuple[int, list[int], list[int]]] = []
    for index, node in enumerate(graph.nodes):
        if node.kind not in ("conv", "conv_transpose", "pool", "resize") or index not in ran:
            continue
        before: list[int] = []
        tensor = node.inputs[0]
        while tensor in producer and only_consumer(tensor) is not None:
            p = producer[tensor]
            candidate = graph.nodes[p]
            if p in folded or not (
                _is_transpose(candidate, perms)
                or (node.kind == "conv" and (_zero_pad(candidate) or _unit_slice(candidate)))
            ):
                break
            before.insert(0, p)
            tensor = candidate.inputs[0]
        after: list[int] = []
        tensor = node.outputs[0]
        while (c := only_consumer(tensor)) is not None:
            candidate = graph.nodes[c]
            if not (
                _is_transpose(candidate, perms) or (node.kind == "conv_transpose" and _unit_slice(candidate))
            ):
                break
            if c not in ran:
                break
            after.append(c)
            tensor = candidate.outputs[0]
        folded.update(before)
        folded.update(after)
        groups.append((index, before, after))
    main = {g[0]: g for g in groups}
    layers: list[Layer] = []
    for index, node in enumerate(graph.nodes):
        if index in folded or index not in ran:
            continue
        if index in main:
            _, before, after = main[index]
        elif node.kind in ("pad", "slice") and _touches_spatial(node, run, names):
            before, after = [], []
        else:
            continue
        layers.append(_layer(len(layers), graph, run, names, ran, index, before, after))
    return tuple(layers)


def _touches_spatial(node: Node, run: Run, names: Mapping[str, Names]) -> bool:
    shape = run.shapes.get(node.inputs[0])
    out = run.shapes.get(node.outputs[0])
    return shape is not None and out is not None and shape != out


def _layer(
    position: int,
    graph: Graph,
    run: Run,
    names: Mapping[str, Names],
    ran: Mapping[int, object],
    index: int,
    before: list[int],
    after: list[int],
) -> Layer:
    node = graph.nodes[index]
    x = run.shapes[node.inputs[0]]
    here = names.get(node.inputs[0])
    axes, channel = layer_names(node, here, len(x))
    own_axes = spatial_axes(node.layout, len(x))
    if node.kind in ("resize", "pad", "slice") and here is not None and None not in here:
        # layout-free ops: the spatial axes are the ones named neither N nor C
        own_axes = tuple(a for a, n in enumerate(here) if n not in ("N", "C"))
        axes = tuple(str(here[a]) for a in own_axes)
    first = graph.nodes[before[0]] if before else node
    last = graph.nodes[after[-1]] if after else node
    start = run.shapes[first.inputs[0]]
    start_names = names.get(first.inputs[0])
    if start_names is not None and len(start_names) == len(start) and all(n in start_names for n in axes):
        sizes = tuple(start[start_names.index(n)] for n in axes)
    else:
        sizes = tuple(x[a] for a in own_axes)

    def tensor_axes(n: int) -> tuple[int, ...] | None:
        folded = graph.nodes[n]
        if folded.kind == "transpose":
            return None
        seen = names.get(folded.inputs[0])
        if seen is None or any(a not in seen for a in axes):
            return own_axes
        return tuple(seen.index(a) for a in axes)

    return Layer(
        position=position,
        node=node,
        before=tuple(graph.nodes[n] for n in before),
        after=tuple(graph.nodes[n] for n in after),
        axes=axes,
        channel_name=channel,
        input_shape=start,
        output_shape=run.shapes[last.outputs[0]],
        sizes=sizes,
        tensor_axes=own_axes,
        before_axes=tuple(tensor_axes(n) for n in before),
        after_axes=tuple(tensor_axes(n) for n in after),
    )
