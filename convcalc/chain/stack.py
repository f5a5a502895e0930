"""A stack of layers: sizes after every layer, encoder/decoder pairs, accepted input sizes, receptive field.

Every size comes from the core (``conv_axes_for``, ``transposed_axes_for``, ``pool_axes_for``,
``UpsampleAxis``); this module only strings layers together and reasons about the sequence.

Accepted input sizes are exact, not sampled. Every size rule is monotone in its input, so the chain runs
for exactly the inputs i >= i_min. Past i_min, adding P (the product of the strides of the convolutions
and poolings on that axis) to the input adds an exact multiple of every layer's stride to its input, so
every floor, remainder and ceil_mode decision repeats, and every size is affine in q along the class
i = i_min + r + q*P. A skip connection then matches for all q, for none, or for exactly one q: the
sizes each class contributes follow from two runs of the chain (q = 0 and q = 1).

Budgets, checked before any run: the 2*P inputs of the classes form one contiguous range, and a layer
of stride s maps a contiguous range of L sizes to at most L // s + 2 sizes, so with each layer's
answers remembered the analysis evaluates at most sum(L_j) + 128 * layers layers per axis (128 runs
find the smallest input); that count may be at most ``MAX_CHAIN_STEPS``. A listing of accepted sizes
is counted class by class before it is built; every size the chain reaches has at most ``MAX_DIGITS``
digits.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Union

from convcalc.core import (
    MAX_AXES,
    ConvAxis,
    PoolAxis,
    TransposedAxis,
    UpsampleAxis,
    channel_report,
    conv_axes_for,
    normalize,
    pool_axes_for,
    transposed_axes_for,
)
from convcalc.core.display import Presentable
from convcalc.errors import BudgetExceeded, ConvCalcError
from convcalc.parse import MAX_DIGITS

KINDS = ("conv", "tconv", "maxpool", "avgpool", "up")
MAX_LAYERS = 256
MAX_PERIOD = 4096
MAX_LISTED = 10_000
# i_min is searched by doubling up to this input size; past it the chain is called unusable.
MAX_INPUT = 2**64
# Layer evaluations of the accepted-size analysis, summed over the axes (about 10 microseconds each).
MAX_CHAIN_STEPS = 250_000
_SEARCH_RUNS = 2 * 64  # doubling then bisecting up to MAX_INPUT
_SIZE_LIMIT = 10**MAX_DIGITS

Value = Union[int, tuple[int, ...]]
PaddingValue = Union[str, int, tuple[int, ...], tuple[tuple[int, int], ...]]
Axis = Union[ConvAxis, TransposedAxis, PoolAxis, UpsampleAxis]


@dataclass(frozen=True)
class Layer:
    """One layer as the user wrote it (values may be one for every axis or one per axis)."""

    kind: str
    text: str
    kernel_size: Value = 1
    stride: Value = 1
    padding: PaddingValue = 0
    output_padding: Value = 0
    dilation: Value = 1
    ceil_mode: bool = False
    scale: Value = 1
    out_channels: int | None = None
    groups: int = 1

    @property
    def downsamples(self) -> bool:
        return self.kind in ("conv", "maxpool", "avgpool") and _max(self.stride) > 1

    @property
    def upsamples(self) -> bool:
        return (self.kind == "tconv" and _max(self.stride) > 1) or (
            self.kind == "up" and _max(self.scale) > 1
        )

    def label(self, index: int) -> str:
        return f"layer {index} ({self.text})"


def _max(value: Value) -> int:
    return value if isinstance(value, int) else max(value)


def _pick(value: Value, axis: int) -> int:
    return value if isinstance(value, int) else value[axis] if len(value) > 1 else value[0]


@dataclass(frozen=True)
class LayerResult:
    """A layer run on an input: per-axis sizes in and out, the core's axes, channels in and out."""

    index: int
    layer: Layer
    size: tuple[int, ...]
    output: tuple[int, ...]
    axes: tuple[Axis, ...]
    in_channels: int | None
    out_channels: int | None

    @property
    def dropped(self) -> tuple[int, ...]:
        """Real inputs no window of a convolution or pooling reaches (0 for the other layers)."""
        return tuple(a.dropped if isinstance(a, (ConvAxis, PoolAxis)) else 0 for a in self.axes)


@dataclass(frozen=True)
class SkipPair:
    """A decoder layer and the encoder layer it mirrors: the decoder should give back the encoder's input."""

    encoder: int
    decoder: int
    expected: tuple[int, ...]
    got: tuple[int, ...]
    output_padding_fix: tuple[int | None, ...]
    fix_strict: tuple[bool, ...]

    @property
    def restored(self) -> tuple[bool, ...]:
        return tuple(e == g for e, g in zip(self.expected, self.got))


@dataclass(frozen=True)
class Field:
    """Receptive field arithmetic of one layer on one axis, in input coordinates.

    r_out = r_in + (K-1)*j_in, j_out = j_in*s, left_out = left_in - pad_before*j_in; the first output
    sees the inputs left .. left + r - 1 (negative: padding).
    """

    receptive_field: int
    jump: int
    left: int

    @property
    def right(self) -> int:
        return self.left + self.receptive_field - 1


@dataclass(frozen=True)
class Accepted:
    """The inputs of one axis for which a property holds: whole classes i = first + q*period, and singles."""

    period: int
    classes: tuple[int, ...]
    singles: tuple[int, ...]

    @property
    def smallest(self) -> int | None:
        firsts = [*self.classes, *self.singles]
        return min(firsts) if firsts else None

    def contains(self, size: int) -> bool:
        return size in self.singles or any(size >= c and (size - c) % self.period == 0 for c in self.classes)

    def nearest(self, size: int) -> tuple[int | None, int | None]:
        """The largest member below ``size`` and the smallest above it."""
        below = [s for s in self.singles if s < size]
        above = [s for s in self.singles if s > size]
        for c in self.classes:
            if c < size:
                below.append(c + (size - 1 - c) // self.period * self.period)
            above.append(c if c > size else c + ((size - c) // self.period + 1) * self.period)
        return (max(below) if below else None, min(above) if above else None)

    def within(self, low: int, high: int) -> tuple[int, ...]:
        """Every member in [low, high], at most MAX_LISTED of them (counted before they are built)."""
        found = {s for s in self.singles if low <= s <= high}
        starts = [c if c >= low else c + -(-(low - c) // self.period) * self.period for c in self.classes]
        count = len(found) + sum(max((high - start) // self.period + 1, 0) for start in starts)
        if count > MAX_LISTED:
            raise BudgetExceeded(
                f"the range {low}..{high} holds {count:,} accepted sizes; the limit MAX_LISTED is "
                f"{MAX_LISTED:,}: narrow the range",
                budget="MAX_LISTED",
                limit=MAX_LISTED,
                requested=count,
                parameter="range",
            )
        for start in starts:
            found.update(range(start, high + 1, self.period))
        return tuple(sorted(found))


@dataclass(frozen=True)
class AxisSizes:
    """What one axis of the chain accepts: the smallest runnable input, the restoring and exact inputs."""

    axis: int
    minimum: int
    restores: Accepted
    exact: Accepted


@dataclass(frozen=True, repr=False)
class ChainReport(Presentable):
    """Sizes after every layer, skip pairs, accepted inputs per axis and the receptive field."""

    layers: tuple[Layer, ...]
    size: tuple[int, ...]
    size_given: bool
    results: tuple[LayerResult, ...]
    pairs: tuple[SkipPair, ...]
    unpaired: tuple[int, ...]
    accepted: tuple[AxisSizes, ...]
    fields: tuple[tuple[Field, ...] | None, ...] = field(default=())

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def output(self) -> tuple[int, ...]:
        return self.results[-1].output if self.results else self.size


# ---------------------------------------------------------------------------------------------------
# Running layers through the core.


def _broadcast(name: str, value: Value, ndim: int, layer: str) -> tuple[int, ...]:
    values = (value,) if isinstance(value, int) else value
    if len(values) not in (1, ndim):
        raise ConvCalcError(
            f"{layer}: {name} has {len(values)} axes but the input has {ndim}; give one value or one "
            "per axis",
            parameter="layers",
        )
    return values * ndim if len(values) == 1 else values


def _run_layer(index: int, layer: Layer, size: tuple[int, ...], channels: int | None) -> LayerResult:
    label = layer.label(index)
    try:
        axes: tuple[Axis, ...]
        if layer.kind in ("conv", "tconv"):
            sizes, params = normalize(
                size,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                output_padding=layer.output_padding,
                dilation=layer.dilation,
                transposed=layer.kind == "tconv",
            )
            if params.ndim != len(size):
                raise ConvCalcError(
                    f"a per-axis value has {params.ndim} axes but the input has {len(size)}",
                    parameter="layers",
                )
            axes = (
                conv_axes_for(sizes, params) if layer.kind == "conv" else transposed_axes_for(sizes, params)
            )
        elif layer.kind in ("maxpool", "avgpool"):
            ndim = len(size)
            pads = _broadcast("padding", layer.padding, ndim, label)  # type: ignore[arg-type]
            axes = pool_axes_for(
                size,
                _broadcast("kernel_size", layer.kernel_size, ndim, label),
                _broadcast("stride", layer.stride, ndim, label),
                pads,
                _broadcast("dilation", layer.dilation, ndim, label),
                layer.ceil_mode,
            )
        else:
            scales = _broadcast("scale", layer.scale, len(size), label)
            axes = tuple(UpsampleAxis(i, s) for i, s in zip(size, scales))
        out_channels = channels
        if layer.kind in ("conv", "tconv") and (layer.out_channels is not None or layer.groups != 1):
            if channels is None or layer.out_channels is None:
                raise ConvCalcError(
                    "groups and out_channels (c) need the input channels of the chain (--channels) and the "
                    "layer's out channels (c64)",
                    parameter="channels",
                )
            kernel = tuple(a.kernel_size for a in axes)  # type: ignore[union-attr]
            channel_report(channels, layer.out_channels, layer.groups, kernel, tuple(a.output for a in axes))
            out_channels = layer.out_channels
    except ConvCalcError as error:
        raise ConvCalcError(f"{label}: {error}", parameter=error.parameter) from None
    output = tuple(a.output for a in axes)
    if any(o >= _SIZE_LIMIT for o in output):
        raise ConvCalcError(
            f"{label}: its output size has more than {MAX_DIGITS} digits; convcalc reads and reports sizes "
            f"of at most {MAX_DIGITS} digits: use smaller sizes, strides or scale factors",
            parameter="layers",
        )
    return LayerResult(index, layer, size, output, axes, channels, out_channels)


def run(layers: Sequence[Layer], size: Sequence[int], channels: int | None = None) -> tuple[LayerResult, ...]:
    """Sizes after every layer; the first layer that cannot run raises, naming itself."""
    results = []
    current = tuple(size)
    for index, layer in enumerate(layers, 1):
        result = _run_layer(index, layer, current, channels)
        results.append(result)
        current, channels = result.output, result.out_channels
    return tuple(results)


def _runs(layers: Sequence[Layer], size: Sequence[int]) -> tuple[LayerResult, ...] | None:
    try:
        return run(layers, size)
    except ConvCalcError:
        return None


# ---------------------------------------------------------------------------------------------------
# Encoder / decoder pairs.


def _stack_pairs(layers: Sequence[Layer]) -> tuple[list[tuple[int, int]], list[int]]:
    """Each upsampling layer mirrors the most recent unmatched downsampling one (1-based indices)."""
    stack: list[int] = []
    pairs, unpaired = [], []
    for index, layer in enumerate(layers, 1):
        if layer.downsamples:
            stack.append(index)
        elif layer.upsamples:
            if stack:
                pairs.append((stack.pop(), index))
            else:
                unpaired.append(index)
    return pairs, sorted(unpaired + stack)


def _output_padding_fix(
    result: LayerResult, expected: tuple[int, ...]
) -> tuple[tuple[int | None, ...], tuple[bool, ...]]:
    """For a transposed decoder layer: the output_padding that gives the expected size, if one is allowed."""
    fixes: list[int | None] = []
    strict: list[bool] = []
    for axis, want in zip(result.axes, expected):
        if not isinstance(axis, TransposedAxis):
            fixes.append(None)
            strict.append(True)
            continue
        op = _pick(result.layer.output_padding, len(fixes))
        needed = want - (axis.output - op)
        ok = 0 <= needed < max(axis.stride, axis.dilation)
        fixes.append(needed if ok else None)
        strict.append(needed < axis.stride)
    return tuple(fixes), tuple(strict)


def skip_pairs(
    layers: Sequence[Layer],
    results: Sequence[LayerResult],
    pairs: Sequence[tuple[int, int]],
    channels: int | None = None,
) -> tuple[SkipPair, ...]:
    """Each pair as the chain runs, with the output_padding that fixes it once the inner pairs are fixed.

    Pairs are fixed from the innermost decoder outwards: a fix changes every size after it, so each
    output_padding is worked out on the chain with the earlier fixes applied.
    """
    current = list(layers)
    fixed_results: Sequence[LayerResult] | None = results
    fixes: dict[int, tuple[tuple[int | None, ...], tuple[bool, ...]]] = {}
    for enc, dec in sorted(pairs, key=lambda pair: pair[1]):
        if fixed_results is None:
            fixes[dec] = ((None,) * len(results[0].size), (True,) * len(results[0].size))
            continue
        expected = fixed_results[enc - 1].size
        fix, strict = _output_padding_fix(fixed_results[dec - 1], expected)
        fixes[dec] = (fix, strict)
        if current[dec - 1].kind == "tconv" and fixed_results[dec - 1].output != expected:
            if all(op is not None for op in fix):
                current[dec - 1] = replace(current[dec - 1], output_padding=tuple(op or 0 for op in fix))
                fixed_results = _runs_with(current, results[0].size, channels)
            else:
                fixed_results = None
        elif fixed_results[dec - 1].output != expected:
            fixed_results = None  # a resize or an unfixable layer: the outer fixes depend on how it is fixed
    out = []
    for enc, dec in pairs:
        fix, strict = fixes[dec]
        out.append(SkipPair(enc, dec, results[enc - 1].size, results[dec - 1].output, fix, strict))
    return tuple(out)


def _runs_with(
    layers: Sequence[Layer], size: Sequence[int], channels: int | None
) -> tuple[LayerResult, ...] | None:
    try:
        return run(layers, size, channels)
    except ConvCalcError:
        return None


# ---------------------------------------------------------------------------------------------------
# Accepted input sizes, one axis at a time (every layer acts on each axis separately).


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


def _minimum(steps: Sequence[Step]) -> int | None:
    """The smallest input that runs: every rule is monotone, so double, then bisect."""
    high = 1
    while _axis_sizes_run(steps, high) is None:
        high *= 2
        if high > MAX_INPUT:
            return None
    low = high // 2  # does not run (or is 0)
    while high - low > 1:
        mid = (low + high) // 2
        if _axis_sizes_run(steps, mid) is None:
            low = mid
        else:
            high = mid
    return high


def _class_members(gaps: list[tuple[int, int]], first: int, period: int) -> tuple[bool, int | None]:
    """gap(q) = g0 + q*dg must be 0 for every condition: all q (True), one q, or none."""
    if all(dg == 0 for _, dg in gaps):
        return all(g0 == 0 for g0, _ in gaps), None
    q_values = {-g0 // dg for g0, dg in gaps if dg != 0 and g0 % dg == 0 and -g0 // dg >= 0}
    for q in sorted(q_values):
        if all(g0 + q * dg == 0 for g0, dg in gaps):
            return False, first + q * period
    return False, None


class_members = _class_members  # public: convcalc.inspect.sizes reads a graph's classes with it


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
    minimum = None if steps is None else _minimum(steps)
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
        whole, single = _class_members(gaps, first, period)
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


# ---------------------------------------------------------------------------------------------------
# Receptive field.


def receptive_fields(results: Sequence[LayerResult]) -> tuple[tuple[Field, ...] | None, ...]:
    """Per layer and axis, for the convolution/pooling prefix; None from the first upsampling layer on."""
    if not results:
        return ()
    current = tuple(Field(1, 1, 0) for _ in results[0].size)
    out: list[tuple[Field, ...] | None] = []
    for result in results:
        if result.layer.kind in ("tconv", "up") or (out and out[-1] is None):
            out.append(None)
            continue
        fields = []
        for f, a in zip(current, result.axes):
            assert isinstance(a, (ConvAxis, PoolAxis))
            pad_before = a.pad_before if isinstance(a, ConvAxis) else a.padding
            fields.append(
                Field(
                    f.receptive_field + (a.dilated_kernel - 1) * f.jump,
                    f.jump * a.stride,
                    f.left - pad_before * f.jump,
                )
            )
        current = tuple(fields)
        out.append(current)
    return tuple(out)


# ---------------------------------------------------------------------------------------------------
# The report.


def chain_report(
    layers: Sequence[Layer], size: Sequence[int] | None = None, channels: int | None = None
) -> ChainReport:
    """Run the chain on ``size`` (default: the smallest input every axis restores) and analyse it."""
    if not layers:
        raise ConvCalcError("the chain has no layers", parameter="layers")
    if len(layers) > MAX_LAYERS:
        raise ConvCalcError(
            f"a chain may have at most {MAX_LAYERS} layers; got {len(layers)}", parameter="layers"
        )
    if channels is not None and (isinstance(channels, bool) or not isinstance(channels, int) or channels < 1):
        raise ConvCalcError(f"channels must be an integer >= 1; got {channels!r}", parameter="channels")
    if size is not None:
        sizes, _ = normalize(tuple(size), 1)
        ndim = len(sizes)
    else:
        ndim = max(
            (
                len(v)
                for layer in layers
                for v in (layer.kernel_size, layer.stride, layer.scale)
                if isinstance(v, tuple)
            ),
            default=1,
        )
    assert ndim <= MAX_AXES
    check_chain_budget(layers, ndim)
    given = size is not None
    if given:
        # The user's input first: its failure names the layer that breaks on it.
        results = run(layers, sizes, channels)
    accepted = tuple(axis_sizes(layers, n) for n in range(ndim))
    if not given:
        smallest = [a.restores.smallest for a in accepted]
        sizes = tuple(s if s is not None else a.minimum for s, a in zip(smallest, accepted))
        results = run(layers, sizes, channels)
    pair_indices, unpaired = _stack_pairs(layers)
    return ChainReport(
        layers=tuple(layers),
        size=sizes,
        size_given=given,
        results=results,
        pairs=skip_pairs(layers, results, pair_indices, channels),
        unpaired=tuple(unpaired),
        accepted=accepted,
        fields=receptive_fields(results),
    )
