"""Accepted input sizes of a chain, one axis at a time (every layer acts on each axis separately).

See ``convcalc.chain.stack`` for the argument: i = i_min + r + q*P, and a skip matches for all q, none,
or exactly one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

from convcalc.chain.stack import (
    _SEARCH_RUNS,
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
from convcalc.core import (
    UpsampleAxis,
    conv_axes_for,
    normalize,
    pool_axes_for,
    transposed_axes_for,
)
from convcalc.errors import BudgetExceeded, ConvCalcError
from convcalc.periodic import Accepted, class_members, smallest


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


Step = Callable[[int], tuple[int, int]]


def _axis_step(layer: Layer) -> Step:
    """One layer of one axis as a function size -> (output, dropped), remembered per size."""
    return functools.lru_cache(maxsize=None)(_axis_rule(layer))


def _axis_rule(layer: Layer) -> Step:
    """One layer of one axis as a function size -> (output, dropped), its parameters normalised once.

    The sizes are the core's (``conv_axes_for``, ``transposed_axes_for``, ``pool_axes_for``,
    ``UpsampleAxis``), exactly as ``run`` computes them; only the validation of the size-independent
    arguments is done once instead of once per input size.
    """
    if layer.kind in ("conv", "tconv"):
        transposed = layer.kind == "tconv"
        _, params = normalize(
            1,
            layer.kernel_size,
            stride=layer.stride,
            padding=layer.padding,
            output_padding=layer.output_padding,
            dilation=layer.dilation,
            transposed=transposed,
        )
        if params.ndim != 1:
            raise ConvCalcError("a per-axis value has more than one axis", parameter="layers")
        if transposed:
            return lambda size: (transposed_axes_for((size,), params)[0].output, 0)

        def conv_step(size: int) -> tuple[int, int]:
            axis = conv_axes_for((size,), params)[0]
            return axis.output, axis.dropped

        return conv_step
    if layer.kind in ("maxpool", "avgpool"):
        assert isinstance(layer.padding, int)
        pool = (_pick(layer.kernel_size, 0),), (_pick(layer.stride, 0),), (layer.padding,)
        dilation, ceil_mode = (_pick(layer.dilation, 0),), layer.ceil_mode

        def pool_step(size: int) -> tuple[int, int]:
            axis = pool_axes_for((size,), *pool, dilation, ceil_mode)[0]
            return axis.output, axis.dropped

        return pool_step
    scale = _pick(layer.scale, 0)
    return lambda size: (UpsampleAxis(size, scale).output, 0)


def _axis_sizes_run(steps: Sequence[Step], size: int) -> tuple[list[int], bool] | None:
    """Input sizes of every layer plus the final output, whether no layer drops an input; None if it
    cannot run."""
    sizes, exact = [size], True
    try:
        for step in steps:
            size, dropped = step(size)
            sizes.append(size)
            exact = exact and dropped == 0
    except ConvCalcError:
        return None
    return sizes, exact


def _gaps(pairs: Sequence[tuple[int, int]], sizes: Sequence[int]) -> list[int]:
    """Decoder output minus the encoder input it should restore, per pair (one axis).

    ``sizes[n]`` is the input of layer n + 1, so layer n's output is ``sizes[n]``.
    """
    return [sizes[dec] - sizes[enc - 1] for enc, dec in pairs]


def _period(layers: Sequence[Layer], axis: int) -> int:
    """P: the product of the strides of the convolutions and poolings on this axis."""
    return math.prod(
        _pick(layer.stride, axis) for layer in layers if layer.kind in ("conv", "maxpool", "avgpool")
    )


def check_chain_budget(layers: Sequence[Layer], ndim: int) -> None:
    """Refuse, before any run, an analysis of more than MAX_CHAIN_STEPS layer evaluations."""
    periods = [_period(layers, n) for n in range(ndim)]
    for n, period in enumerate(periods):
        if period > MAX_PERIOD:
            raise ConvCalcError(
                f"the product of the strides on axis {n} is {period}; the accepted sizes are worked out "
                f"for products up to {MAX_PERIOD}",
                parameter="layers",
            )
    steps = sum(_evaluations(layers, n, period) for n, period in enumerate(periods))
    if steps > MAX_CHAIN_STEPS:
        raise BudgetExceeded(
            f"the accepted input sizes of this chain take up to {steps:,} layer evaluations "
            f"({len(layers)} layers, products of strides {', '.join(map(str, periods))} on {ndim} "
            f"axis(es)); the limit MAX_CHAIN_STEPS is {MAX_CHAIN_STEPS:,}: analyse fewer layers at a "
            "time (split the chain at a skip-free point), or put unstrided layers after the strided ones",
            budget="MAX_CHAIN_STEPS",
            limit=MAX_CHAIN_STEPS,
            requested=steps,
            parameter="layers",
        )


def _evaluations(layers: Sequence[Layer], axis: int, period: int) -> int:
    """An upper bound on the distinct (layer, size) evaluations of ``axis_sizes`` (module docstring)."""
    width, total = 2 * period, _SEARCH_RUNS * len(layers)
    for layer in layers:
        total += width
        if layer.kind in ("conv", "maxpool", "avgpool"):
            width = width // _pick(layer.stride, axis) + 2
    return total


def axis_sizes(layers: Sequence[Layer], axis: int) -> AxisSizes:
    """Exact sets of inputs on one axis that run, that every skip pair restores, that every window tiles."""
    pairs, _ = _stack_pairs(layers)
    flat = [_on_axis(layer, axis) for layer in layers]
    period = _period(layers, axis)
    if period > MAX_PERIOD:
        raise ConvCalcError(
            f"the product of the strides on axis {axis} is {period}; the accepted sizes are worked out "
            f"for products up to {MAX_PERIOD}",
            parameter="layers",
        )
    try:
        steps = [_axis_step(layer) for layer in flat]
    except ConvCalcError:
        steps = None
    minimum = (
        None if steps is None else smallest(lambda size: _axis_sizes_run(steps, size) is None, MAX_INPUT)
    )
    if steps is None or minimum is None:
        # Sizes grow with the input, so a chain that runs for no input breaks a rule that does not
        # depend on it (output_padding too large, negative padding): let that layer say which.
        run(flat, (MAX_INPUT,))
        raise ConvCalcError(
            f"no input size up to {MAX_INPUT} runs through the chain on axis {axis}", parameter="layers"
        )
    restore_classes: list[int] = []
    restore_singles: list[int] = []
    exact_classes: list[int] = []
    for r in range(period):
        first = minimum + r
        base, later = _axis_sizes_run(steps, first), _axis_sizes_run(steps, first + period)
        assert base is not None and later is not None, "sizes past the smallest runnable input run"
        start, step = _gaps(pairs, base[0]), _gaps(pairs, later[0])
        gaps = [(g0, g1 - g0) for g0, g1 in zip(start, step)]
        whole, single = class_members(gaps, first, period)
        if whole:
            restore_classes.append(first)
        elif single is not None:
            restore_singles.append(single)
        # Remainders repeat exactly along a class, so one run decides the whole class.
        if base[1]:
            exact_classes.append(first)
    return AxisSizes(
        axis,
        minimum,
        Accepted(period, tuple(restore_classes), tuple(sorted(restore_singles))),
        Accepted(period, tuple(exact_classes), ()),
    )
