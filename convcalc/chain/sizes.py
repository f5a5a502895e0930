"""Accepted input sizes and receptive field of a chain, one axis at a time, by the engine `inspect` uses.

Every layer acts on each axis separately, so each axis of the chain becomes a 1-D ``Graph``
(``chain_graph``): its layers in order, and each skip pair a concatenation of the decoder's output with
the encoder's input (a merge, as in a U-Net). ``convcalc.graph.sizes.axis_sizes`` answers on that graph:
the sizes that run with every merge agreeing are the sizes that restore every skip, and the sizes that
run with nothing dropped (merges aside) are the sizes every window tiles. The engine writes its classes
with the smallest period that describes them; the chain reports them over P, the product of the strides
of its convolutions and poolings (see ``convcalc.chain.stack``), from its smallest input on.

The receptive field is the graph engine's too: a run of each axis's graph at the chain's input gives
every window as the engine reads it, and ``convcalc.graph.fields.layer_fields`` follows the field
through them, up to the first upsampling layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from convcalc.chain.stack import (
    MAX_CHAIN_STEPS,
    MAX_INPUT,
    MAX_PERIOD,
    AxisSizes,
    Layer,
    PaddingValue,
    _pick,
    _stack_pairs,
    run,
)
from convcalc.errors import BudgetExceeded, ConvCalcError
from convcalc.graph import sizes as engine
from convcalc.graph.fields import Field, layer_fields
from convcalc.graph.model import (
    CONVCALC,
    ConcatSpec,
    ConvSpec,
    Graph,
    Node,
    PoolSpec,
    ResizeSpec,
    Tensor,
)
from convcalc.periodic import Accepted

# The analysed axis of a chain's 1-D graph: tensors are (batch, channels, size).
AXIS = 2


def _on_axis(layer: Layer, axis: int) -> Layer:
    padding: PaddingValue = layer.padding
    if not isinstance(padding, (str, int)):
        entry = padding[axis] if len(padding) > 1 else padding[0]
        # a (before, after) pair stays a pair of this one axis, never two axes
        padding = (entry,) if isinstance(entry, tuple) else entry
    return Layer(
        kind=layer.kind,
        text=layer.text,
        kernel_size=_pick(layer.kernel_size, axis),
        stride=_pick(layer.stride, axis),
        padding=padding,
        output_padding=_pick(layer.output_padding, axis),
        dilation=_pick(layer.dilation, axis),
        ceil_mode=layer.ceil_mode,
        scale=_pick(layer.scale, axis),
    )


def _node(index: int, layer: Layer, source: str) -> Node:
    """One layer of one axis as a graph node in convcalc's own dialect (the rules of `convcalc shape`)."""
    name, output = layer.label(index), f"t{index}"
    k, s, d = _pick(layer.kernel_size, 0), _pick(layer.stride, 0), _pick(layer.dilation, 0)
    if layer.kind in ("conv", "tconv"):
        padding = layer.padding
        pads = (
            padding
            if isinstance(padding, str)
            else ((padding, padding),)
            if isinstance(padding, int)
            else padding
        )
        spec = ConvSpec(
            CONVCALC,
            (k,),
            (s,),
            (d,),
            pads,  # type: ignore[arg-type]
            1,
            1,
            output_padding=(_pick(layer.output_padding, 0),) if layer.kind == "tconv" else None,
        )
        kind = "conv" if layer.kind == "conv" else "conv_transpose"
        return Node(name, layer.kind, kind, (source,), (output,), spec)
    if layer.kind in ("maxpool", "avgpool"):
        assert isinstance(layer.padding, int)
        pool = PoolSpec(layer.kind[:3], (k,), (s,), ((layer.padding, layer.padding),), (d,), layer.ceil_mode)
        return Node(name, layer.kind, "pool", (source,), (output,), pool)
    scales = (Fraction(1), Fraction(1), Fraction(_pick(layer.scale, 0)))
    return Node(name, layer.kind, "resize", (source,), (output,), ResizeSpec("nearest", scales))


def chain_graph(flat: Sequence[Layer], pairs: Sequence[tuple[int, int]] = ()) -> Graph:
    """One axis of the chain (its layers already read for that axis) as a Graph; each skip pair
    (encoder, decoder), 1-based, concatenates the decoder's output with the encoder's input."""
    nodes: list[Node] = []
    merges = {dec: enc for enc, dec in pairs}
    source = "x"
    for index, layer in enumerate(flat, 1):
        nodes.append(_node(index, layer, source))
        source = f"t{index}"
        if index in merges:
            enc = merges[index]
            skip = "x" if enc == 1 else f"t{enc - 1}"
            nodes.append(
                Node(f"skip {enc}-{index}", "concat", "concat", (source, skip), (f"m{index}",), ConcatSpec(1))
            )
    return Graph("chain", CONVCALC, (Tensor("x", (1, 1, "L")),), tuple(nodes), (source,)).checked()


def _period(layers: Sequence[Layer], axis: int) -> int:
    """P: the product of the strides of the convolutions and poolings on this axis."""
    return math.prod(
        _pick(layer.stride, axis) for layer in layers if layer.kind in ("conv", "maxpool", "avgpool")
    )


def check_chain_budget(layers: Sequence[Layer], ndim: int, given: bool = False) -> None:
    """Refuse, before any run, an analysis of more than MAX_CHAIN_STEPS node evaluations. A product of
    strides above MAX_PERIOD is refused only when no size is given (the default input is the smallest
    that restores every skip, which needs the accepted sizes); with a size, that axis's accepted sizes
    are left out (``axis_sizes`` says why) and cost nothing here."""
    periods = [_period(layers, n) for n in range(ndim)]
    for n, period in enumerate(periods):
        if period > MAX_PERIOD and not given:
            raise ConvCalcError(
                f"the product of the strides on axis {n} is {period}; the accepted sizes are worked out "
                f"for products up to {MAX_PERIOD}: give an input size to have every layer's size for it",
                parameter="layers",
            )
    # axes whose layers read alike are analysed once (``all_axes``)
    distinct = {
        tuple(_on_axis(layer, n) for layer in layers): periods[n]
        for n in range(ndim)
        if periods[n] <= MAX_PERIOD
    }
    steps = sum(_evaluations(layers, period) for period in distinct.values())
    if steps > MAX_CHAIN_STEPS:
        raise BudgetExceeded(
            f"the accepted input sizes of this chain take up to {steps:,} layer evaluations "
            f"({len(layers)} layers, products of strides {', '.join(map(str, periods))} on {ndim} "
            f"axis(es)); the limit MAX_CHAIN_STEPS is {MAX_CHAIN_STEPS:,}: analyse fewer layers at a "
            "time (split the chain where no skip pair spans the cut) or fewer strided layers",
            budget="MAX_CHAIN_STEPS",
            limit=MAX_CHAIN_STEPS,
            requested=steps,
            parameter="layers",
        )


# Runs of the chain's graph that the engine makes besides its classes: the search for the smallest
# input (doubling, then bisecting, up to MAX_INPUT) and the few runs that find the period.
_SEARCH_RUNS = 2 * 64 + 2 + 3 * engine.MAX_SHIFT


def _evaluations(layers: Sequence[Layer], period: int) -> int:
    """An upper bound on the node evaluations of ``axis_sizes``: the engine runs the whole graph (layers
    and skip merges) at most at the 3*P sizes of its classes' first three members, and the search runs."""
    pairs, _ = _stack_pairs(layers)
    return (3 * period + _SEARCH_RUNS) * (len(layers) + len(pairs))


# Each axis's graph by its layers read for that axis: the accepted sizes and the receptive field of
# one report run the same graphs (and an axis that reads as another shares its graph).
Graphs = dict[tuple[Layer, ...], Graph]


def _graph_of(flat: tuple[Layer, ...], pairs: Sequence[tuple[int, int]], graphs: Graphs | None) -> Graph:
    if graphs is None:
        return chain_graph(flat, pairs)
    graph = graphs.get(flat)
    if graph is None:
        graph = graphs[flat] = chain_graph(flat, pairs)
    return graph


def all_axes(layers: Sequence[Layer], ndim: int, graphs: Graphs | None = None) -> tuple[AxisSizes, ...]:
    """``axis_sizes`` of every axis; an axis whose layers read as an earlier one's shares its answer."""
    found: dict[tuple[Layer, ...], AxisSizes] = {}
    out = []
    for axis in range(ndim):
        flat = tuple(_on_axis(layer, axis) for layer in layers)
        if flat not in found:
            found[flat] = axis_sizes(layers, axis, flat, graphs)
        out.append(found[flat]._replace(axis=axis))
    return tuple(out)


def axis_sizes(
    layers: Sequence[Layer],
    axis: int,
    flat: Sequence[Layer] | None = None,
    graphs: Graphs | None = None,
) -> AxisSizes:
    """Exact sets of inputs on one axis that run, that every skip pair restores, that every window tiles
    (``flat``: the layers already read for this axis)."""
    pairs, _ = _stack_pairs(layers)
    flat = tuple(_on_axis(layer, axis) for layer in layers) if flat is None else tuple(flat)
    period = _period(layers, axis)
    if period > MAX_PERIOD:
        # what inspect does past its period: the smallest size that runs, and the reason in words
        minimum = engine.smallest_running(_graph_of(flat, pairs, graphs), ((1, 1, 1),), (AXIS,))
        if minimum is None:
            run(flat, (MAX_INPUT,))
            raise ConvCalcError(
                f"no input size up to {MAX_INPUT} runs through the chain on axis {axis}", parameter="layers"
            )
        run(flat, (minimum,))
        note = (
            f"not worked out, because the product of the strides on this axis is {period}; the accepted "
            f"sizes are worked out for products up to {MAX_PERIOD}"
        )
        return AxisSizes(axis, minimum, None, None, note)
    # PyTorch's pooling rule p <= k/2, which the core checks and the engine's pooling does not, holds at
    # no size once broken: then no size runs, as below
    broken = any(
        2 * _pick(layer.padding, 0) > _pick(layer.kernel_size, 0)  # type: ignore[arg-type]
        for layer in flat
        if layer.kind in ("maxpool", "avgpool")
    )
    found = (
        None
        if broken
        else engine.axis_sizes(
            _graph_of(flat, pairs, graphs),
            ((1, 1, 1),),
            AXIS,
            0,
            max_input=MAX_INPUT,
            max_work=2**62,
            formulas=False,
        )
    )
    if found is None or found.minimum is None:
        # Sizes grow with the input, so a chain that runs for no input breaks a rule that does not
        # depend on it (output_padding too large, negative padding): let that layer say which.
        run(flat, (MAX_INPUT,))
        raise ConvCalcError(
            f"no input size up to {MAX_INPUT} runs through the chain on axis {axis}", parameter="layers"
        )
    # a rule of the core's that the engine does not model would name its layer here
    run(flat, (found.minimum,))
    assert found.runs is not None and found.tiles is not None, found.note
    return AxisSizes(
        axis,
        found.minimum,
        _over(found.runs, period, found.minimum),
        _over(found.tiles, period, found.minimum),
    )


def _over(accepted: Accepted, period: int, minimum: int) -> Accepted:
    """The same sizes written over ``period`` (a multiple of the engine's): a class per residue from
    ``minimum`` on where every member is accepted, the rest as single sizes."""
    assert period % accepted.period == 0, (period, accepted.period)
    step = accepted.period
    first_of: dict[int, int] = {}
    for c in reversed(accepted.classes):
        first_of[c % step] = c
    classes = tuple(
        first for first in range(minimum, minimum + period) if first >= first_of.get(first % step, first + 1)
    )
    return Accepted(period, classes, accepted.singles)


def receptive_fields(
    layers: Sequence[Layer], size: Sequence[int], graphs: Graphs | None = None
) -> tuple[tuple[Field, ...] | None, ...]:
    """Per layer and axis, for the convolution/pooling prefix; None from the first upsampling layer on."""
    pairs, _ = _stack_pairs(layers)
    per_axis = []
    seen: dict[tuple[tuple[Layer, ...], int], list[Field | None]] = {}
    for axis, length in enumerate(size):
        flat = tuple(_on_axis(layer, axis) for layer in layers)
        if (flat, length) not in seen:
            graph = _graph_of(flat, pairs, graphs)
            fields = layer_fields(graph, engine.run_graph(graph, ((1, 1, length),)), 0)
            layer_nodes = [index for index, node in enumerate(graph.nodes) if node.kind != "concat"]
            seen[(flat, length)] = [fields.get(index) for index in layer_nodes]
        per_axis.append(seen[(flat, length)])
    out: list[tuple[Field, ...] | None] = []
    for n in range(len(layers)):
        found = [axis[n] for axis in per_axis]
        out.append(None if any(f is None for f in found) else tuple(f for f in found if f is not None))
    return tuple(out)
