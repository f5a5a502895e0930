"""The overlap (checkerboard) map of transposed convolutions, in Python integers only.

A transposed convolution scatters input u through kernel tap t onto the full-output position
u*s + t*d; after the crops, output position j receives every pair with u*s + t*d - crop_before = j.
The number of such pairs is the overlap count. Away from the borders it depends only on j mod s, so
an uneven count repeats with period s: the checkerboard. With dilation 1 the interior is uniform
exactly when s divides k. For a stack of transposed layers the maps compose: the count of a
position is the number of paths (input, tap of layer 1, tap of layer 2, ...) that reach it, which
is the next layer's scatter applied to the previous layer's counts.

Per axis the counts are computed from the core's TransposedAxis; an N-d map is the outer product
of its axes, because the pairs of an N-d convolution are the products of per-axis pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from operator import add
from typing import TYPE_CHECKING

from convcalc.core import (
    ConvParams,
    TransposedAxis,
    check_transposed_axes,
    conv_axes_for,
    dilated_kernel_size,
    output_padding_limit,
    pytorch_crops,
    symmetric_for_crop,
    transposed_layer,
)
from convcalc.errors import ConvCalcError

if TYPE_CHECKING:
    from convcalc.core.layer import Layer

# Per axis the map is built position by position; beyond these it is refused, not attempted.
MAX_MAP_POSITIONS = 1_000_000
MAX_MAP_WORK = 20_000_000
MAX_PERIOD_WORK = 1_000_000
# The N-d product map is only spelled out cell by cell up to this many cells.
MAX_MAP_CELLS = 1_000_000
MAX_LAYERS = 32


def scatter_counts(axis: TransposedAxis, weights: Sequence[int] | None = None) -> tuple[int, ...]:
    """M[j] = sum of weights[u] over the pairs (u, t) with u*s + t*d - crop_before = j.

    With no weights (every input counts once) this is the number of (input, kernel tap) pairs that
    land on each output position; returns one count per output position.

    >>> scatter_counts(TransposedAxis(3, kernel_size=4, stride=3, dilation=1, crop_before=0, crop_after=0))
    (1, 1, 1, 2, 1, 1, 2, 1, 1, 1)
    """
    # The budget first: the weights of a huge input must not be built to be refused.
    if axis.full > MAX_MAP_POSITIONS or axis.size * axis.kernel_size > MAX_MAP_WORK:
        raise ConvCalcError(
            f"the overlap map is computed position by position up to {MAX_MAP_POSITIONS:,} positions "
            f"and {MAX_MAP_WORK:,} (input, tap) pairs per axis; got a full output of {axis.full:,} "
            f"and {axis.size * axis.kernel_size:,} pairs (size {axis.size}, kernel_size "
            f"{axis.kernel_size}, stride {axis.stride})",
            parameter="size",
        )
    w = (1,) * axis.size if weights is None else tuple(weights)
    assert len(w) == axis.size, "weights must give one value per input position"
    full = [0] * axis.full
    span = (axis.size - 1) * axis.stride + 1
    for t in range(axis.kernel_size):
        # Each tap adds the whole input, spread at stride s, starting at its own offset t*d.
        taps = slice(t * axis.dilation, t * axis.dilation + span, axis.stride)
        full[taps] = map(add, full[taps], w)
    # Output position j reads full position j + crop_before; outside the full output (a negative
    # crop) nothing lands, so those positions are zeros.
    low, high = axis.crop_before, axis.full - axis.crop_after
    kept = full[max(low, 0) : max(min(high, axis.full), max(low, 0))]
    zeros_before = max(min(high, 0) - low, 0)
    zeros_after = max(high - max(low, axis.full), 0)
    return (0,) * zeros_before + tuple(kept) + (0,) * zeros_after


def _next_pattern(pattern: tuple[int, ...], axis: TransposedAxis) -> tuple[int, ...]:
    """P'[r] = sum over taps t with s | (r + crop_before - t*d) of P[(r + crop_before - t*d)/s mod S].

    The steady-state count of the next layer for each output position modulo S*s, given the steady
    state P (period S) of its input; returns the new period's counts.
    """
    period = len(pattern) * axis.stride
    if period * axis.kernel_size > MAX_PERIOD_WORK:
        raise ConvCalcError(
            f"the overlap pattern of this stack has period {period:,} (the product of the strides); "
            f"it is computed up to {MAX_PERIOD_WORK:,} (position, tap) pairs, got "
            f"{period * axis.kernel_size:,}",
            parameter="stride",
        )
    result = []
    for r in range(period):
        total = 0
        for t in range(axis.kernel_size):
            source, rest = divmod(r + axis.crop_before - t * axis.dilation, axis.stride)
            if rest == 0:
                total += pattern[source % len(pattern)]
        result.append(total)
    return tuple(result)


@dataclass(frozen=True)
class OverlapAxis:
    """The overlap counts of one axis through a stack of transposed layers (one layer: a stack of one).

    ``pattern[j % period]`` is the count at every interior position j, the positions
    ``interior_first .. interior_last`` that no border (input edge or crop) reaches.
    """

    layers: tuple[TransposedAxis, ...]
    counts: tuple[int, ...]
    pattern: tuple[int, ...]
    interior_first: int
    interior_last: int

    @property
    def size(self) -> int:
        return self.layers[0].size

    @property
    def output(self) -> int:
        return len(self.counts)

    @property
    def period(self) -> int:
        """The product of the strides: the interior repeats with this period."""
        return len(self.pattern)

    @property
    def minimum(self) -> int:
        return min(self.counts)

    @property
    def maximum(self) -> int:
        return max(self.counts)

    @property
    def interior_length(self) -> int:
        return max(self.interior_last - self.interior_first + 1, 0)

    @property
    def interior_counts(self) -> tuple[int, ...]:
        return self.counts[self.interior_first : self.interior_last + 1]

    @property
    def uniform(self) -> bool:
        """Every interior position receives the same number of pairs (for any input size)."""
        return len(set(self.pattern)) == 1

    @property
    def holes(self) -> bool:
        """Some interior positions receive no pair at all (gcd(d, s) > 1 leaves whole residues empty)."""
        return min(self.pattern) == 0


def overlap_axis(layers: Sequence[TransposedAxis]) -> OverlapAxis:
    """Compose the scatter of each layer over the previous layer's counts; returns the final axis map.

    Interior: an output position is interior when every tap reads an interior position of the layer
    before (the input itself is interior everywhere), i.e. a*s + (k-1)*d <= j + crop_before <= b*s.
    """
    if not layers:
        raise ConvCalcError("a stack needs at least one transposed layer; got none", parameter="layers")
    for n, (first, second) in enumerate(pairwise(layers)):
        if second.size != first.output:
            raise ConvCalcError(
                f"layer {n + 1} must take layer {n}'s output as its input size; got input size "
                f"{second.size} after an output of {first.output}",
                parameter="size",
            )
    counts: tuple[int, ...] | None = None
    pattern: tuple[int, ...] = (1,)
    low, high = 0, layers[0].size - 1
    for axis in layers:
        counts = scatter_counts(axis, counts)
        pattern = _next_pattern(pattern, axis)
        reach = (axis.kernel_size - 1) * axis.dilation
        low = max(low * axis.stride + reach - axis.crop_before, 0)
        high = min(high * axis.stride - axis.crop_before, axis.output - 1)
    assert counts is not None
    return OverlapAxis(tuple(layers), counts, pattern, low, high)


@dataclass(frozen=True)
class Suggestion:
    """A nearby configuration with the same output size and a uniform interior.

    kind "kernel": a transposed convolution whose stride divides its kernel (PyTorch padding and
    output_padding). kind "resize": resize the input to the output size, then a k=3, padding 1,
    stride 1 convolution (the lecture notes' alternative).
    """

    kind: str
    output: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    resize_to: tuple[int, ...] | None
    scale_factor: tuple[int, ...] | None
    # Per axis, the outputs no (input, tap) pair reaches, counted position by position; None when the
    # count is over the map budget.
    empty: tuple[int, ...] | None = None

    @property
    def covers(self) -> bool:
        """Every output receives at least one input (counted, not assumed)."""
        return self.empty is not None and not any(self.empty)

    @property
    def layer(self) -> Layer:
        """The suggested layer as the core's value: the transposed convolution, or the resize's
        k=3, padding 1 convolution (which runs on the resized input)."""
        from convcalc.core.layer import Layer

        pads = tuple((p, p) for p in self.padding)
        if self.kind == "resize":
            return Layer("conv", self.kernel_size, self.stride, self.dilation, pads, self.output_padding)
        crops = pytorch_crops(pads, self.output_padding)
        return Layer("transposed", self.kernel_size, self.stride, self.dilation, crops, self.output_padding)


@dataclass(frozen=True)
class OverlapMap:
    """The overlap map of an N-d stack: per-axis maps whose outer product is the N-d count."""

    axes: tuple[OverlapAxis, ...]
    suggestions: tuple[Suggestion, ...]
    suggested_layer: int | None

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.output for a in self.axes)

    @property
    def cell_count(self) -> int:
        return math.prod(self.shape)

    @property
    def minimum(self) -> int:
        """Counts are >= 0, so the minimum of a product of axes is the product of their minima."""
        return math.prod(a.minimum for a in self.axes)

    @property
    def maximum(self) -> int:
        return math.prod(a.maximum for a in self.axes)

    @property
    def interior_minimum(self) -> int | None:
        if any(a.interior_length == 0 for a in self.axes):
            return None
        return math.prod(min(a.interior_counts) for a in self.axes)

    @property
    def interior_maximum(self) -> int | None:
        if any(a.interior_length == 0 for a in self.axes):
            return None
        return math.prod(max(a.interior_counts) for a in self.axes)

    @property
    def period(self) -> tuple[int, ...]:
        return tuple(a.period for a in self.axes)

    @property
    def uniform(self) -> bool:
        return all(a.uniform for a in self.axes)

    def cells(self) -> list[object]:
        """The N-d counts as nested lists (row-major), refused beyond MAX_MAP_CELLS cells."""
        if self.cell_count > MAX_MAP_CELLS:
            raise ConvCalcError(
                f"the overlap map has {self.cell_count:,} cells; it is spelled out cell by cell up to "
                f"{MAX_MAP_CELLS:,} (the per-axis maps, whose product it is, are always given)",
                parameter="size",
            )
        return _outer([a.counts for a in self.axes])


def _outer(vectors: Sequence[tuple[int, ...]]) -> list[object]:
    head, *rest = vectors
    if not rest:
        return list(head)
    inner = _outer(rest)
    return [_scale(inner, c) for c in head]


def _scale(nested: list[object], factor: int) -> list[object]:
    return [_scale(v, factor) if isinstance(v, list) else factor * v for v in nested]  # type: ignore[operator]


def overlap_map(layers: Sequence[Sequence[TransposedAxis]]) -> OverlapMap:
    """The map of a stack given as one tuple of per-axis TransposedAxis per layer; with suggestions."""
    if not layers:
        raise ConvCalcError("a stack needs at least one transposed layer; got none", parameter="layers")
    if len(layers) > MAX_LAYERS:
        raise ConvCalcError(
            f"a stack may have at most {MAX_LAYERS} layers here; got {len(layers)}", parameter="layers"
        )
    ndim = len(layers[0])
    if any(len(layer) != ndim for layer in layers):
        raise ConvCalcError(
            "every layer of a stack must have the same number of spatial axes; got "
            + ", ".join(str(len(layer)) for layer in layers),
            parameter="layers",
        )
    axes = tuple(overlap_axis([layer[n] for layer in layers]) for n in range(ndim))
    # A stack is uniform when each of its layers is, so the fix is suggested layer by layer: for the
    # first layer whose own map is uneven.
    for n, layer in enumerate(layers):
        if not all(overlap_pattern(axis)[1] for axis in layer):
            return OverlapMap(axes, suggest(layer), n)
    return OverlapMap(axes, (), None)


def overlap_pattern(axis: TransposedAxis) -> tuple[tuple[int, ...], bool]:
    """The steady-state counts of one layer alone by output position mod s, and whether they are equal."""
    pattern = _next_pattern((1,), axis)
    return pattern, len(set(pattern)) == 1


def overlap_for(
    size: object,
    kernel_size: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    layers: int = 1,
) -> OverlapMap:
    """The overlap map of a transposed convolution on input ``size`` (PyTorch arguments), repeated
    ``layers`` times in a stack; returns the map with suggestions when it is uneven."""
    axes = transposed_layer(
        size, kernel_size, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation
    )
    return overlap_map(repeat_layer(axes, layers))


def repeat_layer(axes: Sequence[TransposedAxis], layers: int) -> list[tuple[TransposedAxis, ...]]:
    """The same layer (kernel, stride, dilation, crops) stacked ``layers`` times, each on the last output."""
    if isinstance(layers, bool) or not isinstance(layers, int) or not 1 <= layers <= MAX_LAYERS:
        raise ConvCalcError(
            f"layers must be an integer from 1 to {MAX_LAYERS}; got {layers!r}", parameter="layers"
        )
    stack = [tuple(axes)]
    for _ in range(layers - 1):
        stack.append(
            tuple(
                TransposedAxis(a.output, a.kernel_size, a.stride, a.dilation, a.crop_before, a.crop_after)
                for a in stack[-1]
            )
        )
    for layer in stack:
        check_transposed_axes(layer)
    return stack


def _pytorch_padding(total_crop: int, stride: int, dilation: int) -> tuple[int, int] | None:
    """Symmetric padding and output_padding for a total crop within PyTorch's limit; or None."""
    return symmetric_for_crop(total_crop, output_padding_limit(stride, dilation))


def _kernel_fix(axis: TransposedAxis, direction: int) -> tuple[int, int, int, int] | None:
    """(k', p, op, d') for the multiple of s nearest k in ``direction`` (-1 below, +1 above)."""
    s, d = axis.stride, axis.dilation
    if s == 1 or (axis.kernel_size % s == 0 and math.gcd(d, s) == 1):
        fit = _pytorch_padding(axis.full - axis.output, s, d)
        return None if fit is None else (axis.kernel_size, *fit, d)
    # With gcd(d, s) > 1 whole residues stay empty; dilation 1 removes them.
    d_new = d if math.gcd(d, s) == 1 else 1
    k = (axis.kernel_size // s) * s if direction < 0 else (axis.kernel_size // s + 1) * s
    if k < s:
        return None
    full = (axis.size - 1) * s + dilated_kernel_size(k, d_new)
    fit = _pytorch_padding(full - axis.output, s, d_new)
    return None if fit is None else (k, *fit, d_new)


def _empty_outputs(axes: Sequence[TransposedAxis]) -> tuple[int, ...] | None:
    """Per axis, how many outputs get no (input, tap) pair, by counting; None over the map budget."""
    try:
        return tuple(scatter_counts(axis).count(0) for axis in axes)
    except ConvCalcError:
        return None


def suggest(axes: Sequence[TransposedAxis]) -> tuple[Suggestion, ...]:
    """Nearby configurations with the same output size and a uniform interior.

    Options whose every output receives an input come first (counted with scatter_counts), nearest
    kernel first; then the ones leaving outputs empty.

    Each candidate is re-derived by the core (transposed_axes_for / conv_axes_for) and kept only when
    the core confirms its output size; the resize-then-convolve one follows the kernels that cover
    every output.
    """
    target = tuple(a.output for a in axes)
    strides = tuple(a.stride for a in axes)
    found: list[Suggestion] = []
    options: list[tuple[int, Suggestion]] = []
    for direction in (-1, 1):
        fixes = [_kernel_fix(a, direction) for a in axes]
        if any(f is None for f in fixes):
            continue
        ks, ps, ops, ds = (tuple(f[n] for f in fixes if f is not None) for n in range(4))
        fixed = transposed_layer(
            tuple(a.size for a in axes), ks, stride=strides, padding=ps, output_padding=ops, dilation=ds
        )
        if tuple(a.output for a in fixed) != target:
            continue
        distance = sum(abs(k - a.kernel_size) for k, a in zip(ks, axes))
        empty = _empty_outputs(fixed)
        option = Suggestion("kernel", target, ks, strides, ps, ops, ds, None, None, empty)
        options.append((distance, option))
    # An option that leaves outputs with no input (a dead border) goes after every one that does not.
    for _, option in sorted(options, key=lambda pair: (not pair[1].covers, pair[0])):
        if option not in found:
            found.append(option)
    ndim = len(axes)
    ones = (1,) * ndim
    conv_params = ConvParams((3,) * ndim, ones, ones, ((1, 1),) * ndim, (0,) * ndim)
    if tuple(a.output for a in conv_axes_for(target, conv_params)) == target:
        integer_scale = all(t == a.size * a.stride for t, a in zip(target, axes))
        scale = strides if integer_scale else None
        found.append(
            Suggestion(
                "resize", target, (3,) * ndim, ones, ones, (0,) * ndim, ones, target, scale, (0,) * ndim
            )
        )
    # Stable: covering kernels, the resize, then the kernels that leave outputs empty.
    return tuple(sorted(found, key=lambda option: not option.covers))


MAX_CONTRIBUTION_PAIRS = 1_000_000


def contributions(axis: TransposedAxis) -> tuple[tuple[tuple[int, int], ...], ...]:
    """For each output j, the pairs (u, t) with u*s + t*d = j + crop_before and 0 <= u < i.

    Gathered output by output (the scatter in scatter_counts goes input by input); returns one tuple
    of (input position, kernel tap) pairs per output position.

    >>> contributions(TransposedAxis(2, kernel_size=3, stride=2, dilation=1, crop_before=1, crop_after=1))
    (((0, 1),), ((0, 2), (1, 0)), ((1, 1),))
    """
    if axis.output * axis.kernel_size > MAX_CONTRIBUTION_PAIRS:
        raise ConvCalcError(
            f"the contributions are listed up to {MAX_CONTRIBUTION_PAIRS:,} (output, tap) pairs per "
            f"axis; got {axis.output * axis.kernel_size:,} (output {axis.output}, kernel_size "
            f"{axis.kernel_size})",
            parameter="size",
        )
    result = []
    for j in range(axis.output):
        pairs = []
        for t in range(axis.kernel_size):
            u, rest = divmod(j + axis.crop_before - t * axis.dilation, axis.stride)
            if rest == 0 and 0 <= u < axis.size:
                pairs.append((u, t))
        result.append(tuple(sorted(pairs)))
    return tuple(result)
