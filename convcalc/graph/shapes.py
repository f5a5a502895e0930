"""Shape propagation through a Graph with convcalc's core: full tensor shapes, node by node.

Convolutions go through their framework's convention (``ConvSpec.read``); pooling windows are the
core's ``ConvAxis`` with the framework's pads resolved (a ceil_mode window becomes extra padding at the
end, as PyTorch and ONNX Runtime place it). Every other kind is a one-line rule of its op. A node that
cannot run on its input (an empty output, a framework refusal) ends the run as a failure; a merge whose
operands disagree is recorded and the run continues with its first operand, so that every disagreement
of one input size is found in one pass. Pure integers: no numpy.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cached_property
from typing import cast

from convcalc.conventions.base import FrameworkLayer, trunc_div
from convcalc.core import ConvAxis, same_padding
from convcalc.errors import ConvCalcError
from convcalc.graph.model import (
    CHANNELS_FIRST,
    BlockSpec,
    ConcatSpec,
    ConvSpec,
    DenseSpec,
    ExpandSpec,
    FlattenSpec,
    Graph,
    Node,
    PadSpec,
    PoolSpec,
    RecurrentSpec,
    ReshapeSpec,
    ResizeSpec,
    SliceSpec,
    Spec,
    TransposeSpec,
    UnknownSpec,
    ValueSpec,
)
from convcalc.graph.values import (
    DIVISORS,
    Unknown,
    Values,
    ValueTensor,
    broadcast_shape,
    evaluate,
    split,
)

Shape = tuple[int, ...]


@dataclass(slots=True)
class NodeRun:
    """One node run on concrete shapes: what it read and produced, and its canonical windows. Not
    frozen (nothing changes one after ``propagate``): a frozen dataclass's ``__init__`` costs six times
    as much, and a graph's accepted sizes build tens of thousands of these."""

    index: int
    node: Node
    inputs: tuple[Shape, ...]
    outputs: tuple[Shape, ...]
    layer: FrameworkLayer | None = None
    windows: tuple[ConvAxis, ...] = ()
    mismatch: str | None = None
    # Worked out when first asked (a node run is shared by every run at its input shapes): ``dropped``,
    # and the disagreements ``graph.sizes`` reads as numbers that must be 0 (its ``_gaps``).
    drops: tuple[int, ...] | None = field(default=None, compare=False, repr=False)
    gaps: tuple[tuple[tuple[int, int, int], int], ...] | None = field(default=None, compare=False, repr=False)

    @property
    def dropped(self) -> tuple[int, ...]:
        """Real inputs no window reaches, per spatial axis (conv and pool only)."""
        found = self.drops
        if found is None:
            axes = self.layer.conv if self.layer is not None else self.windows
            # stride 1 leaves no remainder: nothing dropped (most layers; the core's rule otherwise)
            found = self.drops = tuple(0 if a.stride == 1 else a.dropped for a in axes)
        return found


@dataclass(frozen=True)
class Failure:
    """The node that cannot run on its input, and why (the framework's or the core's own words)."""

    index: int
    node: Node
    message: str


@dataclass(frozen=True)
class Run:
    """The graph run on one set of input shapes."""

    input_shapes: tuple[Shape, ...]
    shapes: dict[str, Shape]
    nodes: tuple[NodeRun, ...]
    failure: Failure | None
    stopped: tuple[Node, ...]
    # The values of the shape arithmetic (None where not known), and every divisor the run met (strides,
    # integer divisions, scale denominators): sizes repeat, affinely, over their product.
    values: dict[str, Values | None] = field(default_factory=dict)
    divisors: tuple[int, ...] = ()
    # The divisors each node met (by node index; only nodes that divide), read by ``step``.
    divided: dict[int, tuple[int, ...]] = field(default_factory=dict)

    @cached_property
    def step(self) -> int:
        """A period of every size the run met: a tensor's sizes repeat (affinely) over the lcm of its
        inputs' periods times the lcm of what its own op divides by (one division per axis or element),
        so parallel branches that each halve a size count once (the product of all the divisors bounds
        it too, far more loosely: a Swin encoder's 71 halvings). Worked out when asked (the accepted
        sizes ask one run of dozens), not during ``propagate``."""
        periods: dict[str, int] = {}  # each tensor's period, where it is more than 1
        for node_run in self.nodes:
            node = node_run.node
            own = self.divided.get(node_run.index)
            if not periods and own is None:
                continue
            period = 1
            for name in node.inputs:
                period = math.lcm(period, periods.get(name, 1))
            for _, name in node.operands:
                period = math.lcm(period, periods.get(name, 1))
            if own:
                period *= math.lcm(*own)
            if period > 1:
                for name in node.outputs:
                    periods[name] = period
        return math.lcm(*periods.values()) if periods else 1

    @property
    def mismatches(self) -> tuple[NodeRun, ...]:
        return tuple(r for r in self.nodes if r.mismatch is not None)

    @property
    def ok(self) -> bool:
        return self.failure is None and not self.mismatches


def spatial_axes(layout: str, rank: int) -> tuple[int, ...]:
    """Indices of the spatial axes of a tensor of this rank in this layout."""
    return tuple(range(2, rank)) if layout == CHANNELS_FIRST else tuple(range(1, rank - 1))


def channel_axis(layout: str, rank: int) -> int:
    return 1 if layout == CHANNELS_FIRST else rank - 1


class _Mismatch(Exception):
    """A merge or a weight that disagrees with its input: recorded, the run continues."""

    def __init__(self, message: str, output: Shape) -> None:
        super().__init__(message)
        self.output = output


# A convolution read by its framework, per (reading, size): every spec that reads alike (its channels
# and display arguments aside) shares one read, so a model's twenty 3x3 convolutions are read once per
# size. The reading key of a spec is remembered by the spec's identity (building it costs more than
# the lookup), the spec kept in the value so that the key stays its own.
_READ: dict[tuple[object, Shape, bool], tuple[FrameworkLayer, Shape]] = {}
_READING: dict[int, tuple[ConvSpec, object]] = {}
MAX_READ = 65536


def _reading(spec: ConvSpec) -> object:
    """What ``ConvSpec.read`` depends on: two specs with the same reading read every size alike."""
    found = _READING.get(id(spec))
    if found is not None and found[0] is spec:
        return found[1]
    key = spec.reading()
    if len(_READING) >= MAX_READ:
        _READING.clear()
    _READING[id(spec)] = (spec, key)
    return key


def _read_conv(spec: ConvSpec, size: Shape, transposed: bool) -> tuple[FrameworkLayer, Shape]:
    """The canonical layer and its output sizes (``ConvSpec.read``), remembered."""
    key = (_reading(spec), size, transposed)
    found = _READ.get(key)
    if found is not None:
        return found
    layer = spec.read(size, transposed)
    if len(_READ) >= MAX_READ:
        _READ.clear()
    _READ[key] = (layer, layer.output)
    return layer, layer.output


# Per graph (by identity; a weak reference tells that the key is still its graph, and the plan goes
# when its graph does, so remembered runs never outlive the model they belong to): its constants'
# shapes and values, and each node's step (``_plan``).
MAX_GRAPHS = 64
# A graph's node runs kept by input shapes (``_Step``'s memo), up to this many in all.
MAX_MEMO = 65536

# How ``propagate`` runs a node: a convolution straight to ``_conv``, a shape-preserving node (an
# activation, a normalisation) passes its first input on, a node of the shape arithmetic through
# ``_value``, a node with run-time operands bound first, anything else through ``_run_node``.
_CONV, _PRESERVING, _OTHER, _VALUE, _BOUND = range(5)  # the first three by input shapes alone
# (index, node, route, input names, the divisors it meets, its runs by input shapes, its one input and
# its one output where it has one of each). A node whose run depends on its input shapes alone (a
# convolution, a pooling, a merge: no operands, no values) is run once per input shapes: sizes in a graph
# repeat from one input size to the next (every size below a stride-16 stage is the same for 16 input
# sizes in a row), and the accepted sizes run it at dozens. A node of one input keeps its runs by that
# input's shape, the others by the tuple of their inputs' shapes.
_Step = tuple[int, Node, int, tuple[str, ...], tuple[int, ...], dict[object, NodeRun], str | None, str | None]
_Plan = tuple["weakref.ref[Graph]", dict[str, Shape], dict[str, Values | None], tuple[_Step, ...], list[int]]
_PLANS: dict[int, _Plan] = {}


def _plan(graph: Graph) -> _Plan:
    """What ``propagate`` reads once per graph: the constants' shapes and values, each node's route
    (the dispatch on its spec, done once rather than at every input size), and how many more node runs
    its memos may keep."""
    found = _PLANS.get(id(graph))
    if found is not None and found[0]() is graph:
        return found
    steps: list[_Step] = []
    for index, node in enumerate(graph.nodes):
        spec = node.spec
        divisors: tuple[int, ...] = ()
        if isinstance(spec, ConvSpec) and not node.operands:
            route = _CONV
            if node.kind in DIVIDING:
                divisors = tuple(d for d in spec.stride if d > 1)
        elif isinstance(spec, ValueSpec):
            route = _VALUE
        elif node.operands:
            route = _BOUND
        elif node.kind == "shape_preserving" and node.inputs:
            route = _PRESERVING
        else:
            route = _OTHER
            if node.kind in DIVIDING:
                divisors = tuple(d for d in _divisors(node) if d > 1)
        one = node.inputs[0] if route <= _OTHER and len(node.inputs) == 1 else None
        out = node.outputs[0] if len(node.outputs) == 1 else None
        steps.append((index, node, route, node.inputs, divisors, _memo(node, index), one, out))
    known = {t.name: tuple(int(d) for d in t.shape) for t in graph.constants}
    if len(_PLANS) >= MAX_GRAPHS:
        _PLANS.clear()
    constants = {t.name: t.values for t in graph.constants}
    found = _PLANS[id(graph)] = (weakref.ref(graph), known, constants, tuple(steps), [MAX_MEMO])
    weakref.finalize(graph, _forget, id(graph), found)
    return found


# Each node's runs by input shapes, found by the node's identity and index as well as kept by its graph's
# plan: a graph made from another by changing one node (a merge's fix re-checked, ``inspect.fixes``)
# shares the runs of every node it keeps while the first graph lives.
_MEMOS: dict[tuple[int, int], tuple[Node, dict[object, NodeRun]]] = {}
MAX_NODES = 262_144


def _memo(node: Node, index: int) -> dict[object, NodeRun]:
    key = (id(node), index)
    found = _MEMOS.get(key)
    if found is not None and found[0] is node:
        return found[1]
    if len(_MEMOS) >= MAX_NODES:
        _MEMOS.clear()
    memo: dict[object, NodeRun] = {}
    _MEMOS[key] = (node, memo)
    return memo


def _forget(key: int, plan: _Plan) -> None:
    """A graph's plan goes with its graph (unless the key already holds another graph's plan), and the
    node runs it offered to other graphs (a graph that took them keeps them in its own plan)."""
    if _PLANS.get(key) is plan:
        del _PLANS[key]
    for index, node, _, _, _, memo, _, _ in plan[3]:
        found = _MEMOS.get((id(node), index))
        if found is not None and found[1] is memo:
            del _MEMOS[(id(node), index)]


def propagate(graph: Graph, input_shapes: tuple[Shape, ...]) -> Run:
    """Run every node on concrete input shapes (one per graph input, in order)."""
    _, known, constant_values, steps, room = _plan(graph)
    shapes: dict[str, Shape] = dict(known)
    values: dict[str, Values | None] = dict(constant_values)
    for tensor, shape in zip(graph.inputs, input_shapes):
        shapes[tensor.name] = shape
    runs: list[NodeRun] = []
    stopped: list[Node] = []
    divisors: list[int] = []
    divided: dict[int, tuple[int, ...]] = {}  # the divisors each node met (``Run.step``)
    failure: Failure | None = None
    add = runs.append
    run: NodeRun | None
    for index, node, route, names, always, memo, one, out in steps:
        if one is not None:  # one input, run by its shape alone: the commonest node, its shape the key
            x = shapes.get(one)
            if x is None:
                stopped.append(node)
                continue
            key: object = x
            inputs: tuple[Shape, ...] = (x,)
        else:
            try:
                inputs = (shapes[names[0]],) if len(names) == 1 else tuple([shapes[name] for name in names])
                if route >= _VALUE:  # _VALUE or _BOUND: no other route has operands
                    for _, name in node.operands:
                        shapes[name]
            except KeyError:
                stopped.append(node)
                continue
            key = inputs
        if route <= _OTHER:  # _CONV, _PRESERVING, _OTHER: a node's run depends on its input shapes alone
            run = memo.get(key)
            if run is None:
                try:
                    run = _by_shapes(index, node, route, inputs)
                except ConvCalcError as error:
                    failure = Failure(index, node, str(error))
                    break
                if run is None:
                    stopped.append(node)
                    continue
                if room[0] > 0:
                    memo[key] = run
                    room[0] -= 1
            add(run)
            if out is not None:
                shapes[out] = run.outputs[0]
            else:
                for name, shape in zip(node.outputs, run.outputs):
                    shapes[name] = shape
            if always:
                divided[index] = always
                divisors.extend(always)
            continue
        met = len(divisors)
        try:
            if route == _VALUE:
                run = _value(index, node, cast(ValueSpec, node.spec), shapes, values, divisors)
            else:
                bound = _bind(node, values)
                run = None if bound is None else _run_node(index, bound, inputs)
                if run is not None and bound is not None and node.kind in DIVIDING:
                    divisors.extend(d for d in _divisors(bound) if d > 1)
        except ConvCalcError as error:
            failure = Failure(index, node, str(error))
            break
        if run is None:
            stopped.append(node)
            continue
        add(run)
        for name, shape in zip(node.outputs, run.outputs):
            shapes[name] = shape
        if len(divisors) > met:
            divided[index] = tuple(divisors[met:])
    return Run(input_shapes, shapes, tuple(runs), failure, tuple(stopped), values, tuple(divisors), divided)


def _by_shapes(index: int, node: Node, route: int, inputs: tuple[Shape, ...]) -> NodeRun | None:
    """A node whose run depends on its input shapes alone (``_CONV``, ``_PRESERVING``, ``_OTHER``)."""
    if route == _PRESERVING:
        if min(inputs[0], default=1) >= 1:
            return NodeRun(index, node, inputs, (inputs[0],) * len(node.outputs))
        return _run_node(index, node, inputs)  # refuses the empty axis
    if route == _CONV:
        return _conv(index, node, cast(ConvSpec, node.spec), inputs[0])
    return _run_node(index, node, inputs)


def _value(
    index: int,
    node: Node,
    spec: ValueSpec,
    shapes: dict[str, Shape],
    values: dict[str, Values | None],
    divisors: list[int],
) -> NodeRun | None:
    """A node of the shape arithmetic: its values for this input (``convcalc.graph.values``)."""
    inputs = [ValueTensor(shapes[name], values.get(name)) for name in node.inputs]
    try:
        if spec.op == "Split":
            outs = split(inputs, dict(spec.attributes), len(node.outputs))
        else:
            outs = [evaluate(spec.op, inputs, dict(spec.attributes))] * len(node.outputs)
    except Unknown:
        return None
    divisor = DIVISORS.get(spec.op)
    if divisor is not None and divisor < len(inputs):
        for v in inputs[divisor].values or ():
            if abs(Fraction(v).numerator) > 1:
                divisors.append(abs(Fraction(v).numerator))
    for name, out in zip(node.outputs, outs):
        values[name] = out.values
    return NodeRun(index, node, tuple(t.shape for t in inputs), tuple(out.shape for out in outs))


def _bind(node: Node, values: dict[str, Values | None]) -> Node | None:
    """The node with its run-time operands (``Node.operands``) written into its spec; None when one is
    not known for this input."""
    if not node.operands:
        return node
    given: dict[str, Values] = {}
    for role, name in node.operands:
        found = values.get(name)
        if found is None:
            return None
        given[role] = found
    spec: Spec = node.spec
    if isinstance(spec, ResizeSpec):
        if "sizes" in given:
            spec = spec._replace(sizes=tuple(int(v) for v in given["sizes"]), scales=None)
        elif "scales" in given:
            spec = spec._replace(scales=tuple(Fraction(v) for v in given["scales"]), sizes=None)
    elif isinstance(spec, PadSpec):
        pads = [int(v) for v in given["pads"]]
        half = len(pads) // 2
        spec = spec._replace(pads=tuple(zip(pads[:half], pads[half:])))
    elif isinstance(spec, (ReshapeSpec, ExpandSpec)):
        spec = spec._replace(shape=tuple(int(v) for v in given["shape"]))
    elif isinstance(spec, SliceSpec):
        parts = {role: tuple(int(v) for v in given[role]) for role in given}
        starts = parts.get("starts", spec.starts)
        spec = SliceSpec(
            parts.get("axes", spec.axes or tuple(range(len(starts)))),
            starts,
            parts.get("ends", spec.ends),
            parts.get("steps", spec.steps or (1,) * len(starts)),
        )
    return replace(node, spec=spec)


# Padding that copies the input's own elements needs enough of them: reflect pads < the axis (PyTorch,
# ONNX Runtime, TensorFlow's MirrorPad), PyTorch's circular pads <= the axis (both checked live).
MIRROR_SLACK = {"reflect": 0, "circular": 1}

DIVIDING = frozenset({"conv", "pool", "resize", "slice", "space_to_depth"})


def _divisors(node: Node) -> tuple[int, ...]:
    """What a node divides by: its strides, a resize's scale denominators, a slice's steps, a block."""
    spec = node.spec
    if isinstance(spec, (ConvSpec, PoolSpec)) and node.kind != "conv_transpose":
        return spec.stride
    if isinstance(spec, ResizeSpec) and spec.scales is not None:
        return tuple(Fraction(v).denominator for v in spec.scales)
    if isinstance(spec, SliceSpec):
        return tuple(abs(step) for step in spec.steps)
    if isinstance(spec, BlockSpec) and node.kind == "space_to_depth":
        return (spec.block_size,)
    return ()


def _run_node(index: int, node: Node, inputs: tuple[Shape, ...]) -> NodeRun | None:
    spec = node.spec
    try:
        if isinstance(spec, ConvSpec):
            return _conv(index, node, spec, inputs[0])
        if isinstance(spec, PoolSpec):
            windows = _pool_windows(node, spec, inputs[0])
            out = list(inputs[0])
            for axis, window in zip(spatial_axes(node.layout, len(out)), windows):
                out[axis] = window.output
            return NodeRun(index, node, inputs, (tuple(out),) * len(node.outputs), windows=windows)
        if isinstance(spec, UnknownSpec):
            declared = spec.declared
            if len(declared) != len(node.outputs) or not all(
                d is not None and all(isinstance(v, int) for v in d) for d in declared
            ):
                return None
            outs = tuple(tuple(int(v) for v in d) for d in declared if d is not None)
            return NodeRun(index, node, inputs, outs)
        if isinstance(spec, RecurrentSpec):
            outputs, mismatch = _recurrent(spec, inputs[0], len(node.outputs))
            return NodeRun(index, node, inputs, outputs, mismatch=mismatch)
        output = _simple(node, inputs)
    except _Mismatch as mismatch:
        return NodeRun(index, node, inputs, (mismatch.output,) * len(node.outputs), mismatch=str(mismatch))
    for n, size in enumerate(output):
        if size < 1:
            raise ConvCalcError(
                f"the output would be empty: size {size} on tensor axis {n}", parameter="size"
            )
    return NodeRun(index, node, inputs, (output,) * len(node.outputs))


def _recurrent(spec: RecurrentSpec, x: Shape, outputs: int) -> tuple[tuple[Shape, ...], str | None]:
    """ONNX LSTM / GRU / RNN: X (seq, batch, input) -> Y (seq, directions, batch, hidden), Y_h and Y_c
    (directions, batch, hidden); with layout=1 (batch first) X (batch, seq, input) -> Y (batch, seq,
    directions, hidden), Y_h (batch, directions, hidden). The time axis goes through unchanged."""
    if len(x) != 3:
        raise ConvCalcError(f"{spec.op} reads a rank-3 input; got {list(x)}", parameter="input")
    d, h = spec.directions, spec.hidden_size
    if spec.batch_first:
        batch, seq = x[0], x[1]
        y, state = (batch, seq, d, h), (batch, d, h)
    else:
        seq, batch = x[0], x[1]
        y, state = (seq, d, batch, h), (d, batch, h)
    mismatch = None
    if x[2] != spec.input_size:
        mismatch = f"the input has {x[2]} features; {spec.op}'s weight expects {spec.input_size}"
    return (y, *[state] * (outputs - 1)), mismatch


def _conv(index: int, node: Node, spec: ConvSpec, x: Shape) -> NodeRun:
    ndim = len(spec.kernel_size)
    if len(x) != ndim + 2:
        raise ConvCalcError(
            f"the input has rank {len(x)} ({list(x)}); a {ndim}-d convolution reads rank {ndim + 2}",
            parameter="input",
        )
    transposed = node.kind == "conv_transpose"
    if node.layout == CHANNELS_FIRST:
        layer, sizes = _read_conv(spec, tuple(x[2:]), transposed)
        c, out = 1, (x[0], spec.out_channels, *sizes)
    else:
        layer, sizes = _read_conv(spec, tuple(x[1:-1]), transposed)
        c, out = len(x) - 1, (x[0], *sizes, spec.out_channels)
    mismatch = None
    if x[c] != spec.in_channels:
        mismatch = f"the input has {x[c]} channels; the weight expects {spec.in_channels}"
    return NodeRun(index, node, (x,), (out,), layer=layer, mismatch=mismatch)


def pool_pads(spec: PoolSpec, sizes: Shape) -> tuple[tuple[int, int], ...]:
    """The explicit (before, after) pads of a pooling for this input, words resolved as the framework does.

    TensorFlow / Keras 'same': total max((ceil(i/s)-1)*s + K - i, 0), the odd element at the end. ONNX
    Runtime's SAME_UPPER / SAME_LOWER: (ceil(i/s)-1)*s + k - i with the undilated k, not clamped at 0,
    split with C division (its pool_attributes.h), the odd element at the end / the start.
    """
    dilation = spec.dilation or (1,) * len(spec.kernel_size)
    if not isinstance(spec.padding, str):
        return spec.padding
    word = spec.padding
    if word in ("valid", "notset"):
        return ((0, 0),) * len(sizes)
    if word not in ("same", "same_upper", "same_lower"):
        raise ConvCalcError(f"pooling padding word {word!r} is not one convcalc reads", parameter="padding")
    pads = []
    for i, k, s, d in zip(sizes, spec.kernel_size, spec.stride, dilation):
        if spec.framework == "onnx":
            need = (-(-i // s) - 1) * s + k - i
            head = trunc_div(need, 2) if word == "same_upper" else trunc_div(need + 1, 2)
            if need - head < 0 and spec.op == "max" and all(v == 1 for v in dilation):
                # found by running onnxruntime 1.31.1: its undilated MaxPool refuses a negative SAME
                # padding; AveragePool, and MaxPool with a dilation, run it
                raise ConvCalcError(
                    f"ONNX Runtime's MaxPool: padding values must be non-negative; auto_pad {word.upper()} "
                    f"needs (ceil(i/s)-1)*s + k - i = {need} on input {i} (kernel {k}, stride {s})",
                    parameter="padding",
                )
            pads.append((head, need - head))
            continue
        before, after = same_padding(i, d * (k - 1) + 1, s)
        pads.append((after, before) if word == "same_lower" else (before, after))
    return tuple(pads)


def pool_output(spec: PoolSpec, i: int, k: int, s: int, d: int, pb: int, pa: int) -> int:
    """The number of windows: floor((i + pb + pa - K)/s) + 1, or with ceil_mode the ceiling, minus a last
    window that would start past the input and its left padding (PyTorch's rule, and ONNX Runtime's
    since ONNX opset 19). ONNX Runtime divides in C, truncating toward zero: a window longer than the
    padded input by less than the stride still gives one output."""
    span = i + pb + pa - (d * (k - 1) + 1)
    if not spec.ceil_mode:
        return (trunc_div(span, s) if spec.framework == "onnx" else span // s) + 1
    out = -(-span // s) + 1
    return out - 1 if (out - 1) * s >= i + pb else out


def _pool_windows(node: Node, spec: PoolSpec, x: Shape) -> tuple[ConvAxis, ...]:
    """Each axis as the core's ConvAxis; a partial window (ceil_mode, or ONNX Runtime's truncation) is
    padding added at the end, where the framework places it."""
    axes = spatial_axes(node.layout, len(x))
    if len(axes) != len(spec.kernel_size):
        raise ConvCalcError(
            f"the input has rank {len(x)}; a {len(spec.kernel_size)}-d pooling reads rank "
            f"{len(spec.kernel_size) + 2}",
            parameter="input",
        )
    sizes = tuple(x[a] for a in axes)
    dilation = spec.dilation or (1,) * len(sizes)
    windows = []
    for n, (i, k, s, d, (pb, pa)) in enumerate(
        zip(sizes, spec.kernel_size, spec.stride, dilation, pool_pads(spec, sizes))
    ):
        out = pool_output(spec, i, k, s, d, pb, pa)
        if out < 1:
            raise ConvCalcError(
                f"the pooling window ({d * (k - 1) + 1}) does not fit the padded input ({i + pb + pa}) on "
                f"spatial axis {n}: the output would have {out} elements",
                parameter="size",
            )
        span = i + pb + pa - (d * (k - 1) + 1)
        axis = ConvAxis(i, k, s, d, pb, pa + max((out - 1) * s - span, 0))
        assert axis.output == out
        windows.append(axis)
    return tuple(windows)


def _simple(node: Node, inputs: tuple[Shape, ...]) -> Shape:
    kind, spec = node.kind, node.spec
    x = inputs[0]
    if kind == "shape_preserving":
        return x
    if kind == "global_pool":
        out = list(x)
        for a in spatial_axes(node.layout, len(x)):
            out[a] = 1
        return tuple(out)
    if isinstance(spec, ResizeSpec):
        values = spec.sizes if spec.sizes is not None else spec.scales
        assert values is not None
        if len(values) != len(x):
            raise ConvCalcError(
                f"the resize gives {len(values)} values for an input of rank {len(x)}", parameter="input"
            )
        if spec.sizes is not None:
            return spec.sizes
        assert spec.scales is not None
        return tuple(math.floor(i * scale) for i, scale in zip(x, spec.scales))
    if isinstance(spec, PadSpec):
        if len(spec.pads) != len(x):
            raise ConvCalcError(
                f"the pad gives {len(spec.pads)} axes for an input of rank {len(x)}", parameter="input"
            )
        slack = MIRROR_SLACK.get(spec.mode)
        if slack is not None:
            for n, (i, (b, a)) in enumerate(zip(x, spec.pads)):
                if min(b, a) >= 0 and max(b, a) > i - 1 + slack:
                    raise ConvCalcError(
                        f"{spec.mode} padding of ({b}, {a}) on tensor axis {n} needs an input of more than "
                        f"{max(b, a) - slack} there; it has {i}",
                        parameter="size",
                    )
        return tuple(i + b + a for i, (b, a) in zip(x, spec.pads))
    if isinstance(spec, SliceSpec):
        sliced = list(x)
        for axis, start, end, step in zip(spec.axes, spec.starts, spec.ends, spec.steps):
            a = _axis(axis, len(x))
            sliced[a] = len(range(*slice(start, end, step).indices(x[a])))
        return tuple(sliced)
    if isinstance(spec, ConcatSpec):
        return _concat(spec, inputs)
    if kind == "elementwise":
        return _broadcast(inputs)
    if isinstance(spec, TransposeSpec):
        perm = spec.perm or tuple(reversed(range(len(x))))
        if sorted(perm) != list(range(len(x))):
            raise ConvCalcError(f"perm {list(perm)} is not a permutation of {len(x)} axes", parameter="perm")
        return tuple(x[p] for p in perm)
    if isinstance(spec, ExpandSpec):
        try:
            return broadcast_shape([x, spec.shape])
        except ConvCalcError as error:
            raise _Mismatch(str(error), x) from None
    if kind == "matmul":
        return _matmul(inputs)
    if isinstance(spec, BlockSpec):
        return _block(node, spec, x)
    if isinstance(spec, FlattenSpec):
        a = _axis(spec.axis, len(x) + 1)
        return (math.prod(x[:a]), math.prod(x[a:]))
    if isinstance(spec, ReshapeSpec):
        return _reshape(spec, x)
    if isinstance(spec, DenseSpec):
        dense = (*x[:-1], spec.out_features)
        if x[-1] != spec.in_features:
            raise _Mismatch(
                f"the input's last axis has {x[-1]} features; the weight expects {spec.in_features}", dense
            )
        return dense
    raise AssertionError(f"no shape rule for kind {kind}")


def _matmul(inputs: tuple[Shape, ...]) -> Shape:
    """numpy's matmul: (..., n, k) @ (..., k, m) -> (..., n, m), the batch axes broadcast; a rank-1
    operand gets a 1 added and removed. The two k must agree (a merge)."""
    a, b = inputs[0], inputs[1]
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    batch_a, batch_b = a2[:-2], b2[:-2]
    rows, cols = a2[-2], b2[-1]
    try:
        batch = broadcast_shape([batch_a, batch_b]) if batch_a or batch_b else ()
    except ConvCalcError:
        batch = batch_a if len(batch_a) >= len(batch_b) else batch_b
        raise _Mismatch(
            f"the batch axes do not broadcast: {_fmt(a)} @ {_fmt(b)}", (*batch, rows, cols)
        ) from None
    out = (*batch, *((rows,) if len(a) > 1 else ()), *((cols,) if len(b) > 1 else ()))
    if a2[-1] != b2[-2]:
        raise _Mismatch(f"the inner sizes disagree: {_fmt(a)} @ {_fmt(b)}", out)
    return out


def _axis(axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise ConvCalcError(f"axis {axis} is outside a tensor of rank {rank}", parameter="axis")
    return a


def _concat(spec: ConcatSpec, inputs: tuple[Shape, ...]) -> Shape:
    first = inputs[0]
    a = _axis(spec.axis, len(first))
    out = list(first)
    out[a] = sum(shape[a] for shape in inputs if len(shape) == len(first))
    for shape in inputs[1:]:
        others = [
            n for n in range(len(first)) if n != a and (len(shape) != len(first) or shape[n] != first[n])
        ]
        if others:
            raise _Mismatch(
                "operands disagree: " + " vs ".join(_fmt(s) for s in inputs) + f" (concatenating axis {a})",
                tuple(out),
            )
    return tuple(out)


def _broadcast(inputs: tuple[Shape, ...]) -> Shape:
    rank = max(len(s) for s in inputs)
    out = []
    disagree = False
    for n in range(rank):
        dims = {s[n - rank + len(s)] for s in inputs if n - rank + len(s) >= 0}
        big = dims - {1}
        if len(big) > 1:
            disagree = True
        # the first operand's size carries on, so that one run finds every later disagreement too
        first = inputs[0]
        own = first[n - rank + len(first)] if n - rank + len(first) >= 0 else 1
        out.append(own if own != 1 or not big else max(big))
    if disagree:
        raise _Mismatch("operands do not broadcast: " + " vs ".join(_fmt(s) for s in inputs), tuple(out))
    return tuple(out)


def _block(node: Node, spec: BlockSpec, x: Shape) -> Shape:
    b = spec.block_size
    axes = spatial_axes(node.layout, len(x))
    c = channel_axis(node.layout, len(x))
    out = list(x)
    factor = b ** len(axes)
    if node.kind == "depth_to_space":
        if x[c] % factor:
            raise ConvCalcError(
                f"depth_to_space needs channels divisible by {b}^{len(axes)} = {factor}; got {x[c]}",
                parameter="channels",
            )
        out[c] = x[c] // factor
        for a in axes:
            out[a] = x[a] * b
        return tuple(out)
    for a in axes:
        if x[a] % b:
            raise ConvCalcError(
                f"space_to_depth needs every spatial size divisible by the block size {b}; got {x[a]}",
                parameter="size",
            )
        out[a] = x[a] // b
    out[c] = x[c] * factor
    return tuple(out)


def _reshape(spec: ReshapeSpec, x: Shape) -> Shape:
    out = [x[n] if d == 0 and not spec.allow_zero and n < len(x) else d for n, d in enumerate(spec.shape)]
    total = math.prod(x)
    if any(d < -1 for d in out):
        raise ConvCalcError(f"a reshape target takes sizes >= -1; got {list(spec.shape)}", parameter="shape")
    if out.count(-1) > 1:
        raise ConvCalcError(f"a reshape may infer one axis (-1); got {list(spec.shape)}", parameter="shape")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise _Mismatch(f"cannot reshape {_fmt(x)} ({total} values) to {list(spec.shape)}", tuple(out))
        out[out.index(-1)] = total // known
    if math.prod(out) != total:
        raise _Mismatch(f"cannot reshape {_fmt(x)} ({total} values) to {list(spec.shape)}", tuple(out))
    return tuple(out)


def _fmt(shape: Shape) -> str:
    return "x".join(map(str, shape))


def drops_on(run: Run, tensor_axis: int) -> bool:
    """Whether some window of this run leaves an input of this tensor axis unread."""
    for node_run in run.nodes:
        if node_run.layer is None and not node_run.windows:
            continue  # no window: nothing dropped
        if any(node_run.dropped):
            axes = spatial_axes(node_run.node.layout, len(node_run.inputs[0]))
            if tensor_axis in axes and node_run.dropped[axes.index(tensor_axis)]:
                return True
    return False
