"""The fast path's plans: one call's validated shapes, budget figures and index layouts, memoised.

Validating and planning a call costs more than running it at verification sizes, so a plan is kept per
distinct shapes, dtypes and exact-typed arguments (``planned``). Every size in a plan is the core's:
``conv_axes_for`` for a convolution, ``transposed_axes_for`` or the canonical crops for a transposed one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import product
from typing import Any

import numpy as np

from convcalc.core import ConvAxis, TransposedAxis, conv_axes_for, normalize, transposed_axes_for
from convcalc.engine.budget import transposed_figures
from convcalc.engine.inputs import Array, Index, T, check_axis_count, key, tensors, transposed_axes


def _taps(kernel_size: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every kernel tap index, row-major (the order of a C-contiguous weight's spatial axes)."""
    return product(*(range(k) for k in kernel_size))


def _strided(start: Sequence[int], count: Sequence[int], step: Sequence[int]) -> tuple[slice, ...]:
    """Per axis, the slice of ``count`` elements from ``start`` every ``step``."""
    return tuple(slice(b, b + (n - 1) * s + 1, s) for b, n, s in zip(start, count, step))


def _index(lead: int, spatial: Sequence[slice | int]) -> Index:
    """An index taking every element of the ``lead`` leading axes and ``spatial`` on the rest."""
    return (slice(None),) * lead + tuple(spatial)


_PLANS: dict[object, Any] = {}
# A plan holds at most one index array of up to GATHER_LIMIT or BINCOUNT_LIMIT entries (256 KiB), so
# this bounds the memo's memory to 128 MiB at worst.
_MAX_PLANS = 512


def planned(
    build: Callable[..., T], x: object, weight: object, bias: object, groups: object, *geometry: object
) -> tuple[T, Array, Array, Array | None]:
    """build(x, weight, bias, groups, *geometry) computed once per distinct shapes, dtypes and arguments.

    Validating and planning a call costs more than running it at verification sizes. A plan is stored
    only once build has accepted the call, and the key tells 1 from True and 1.0, so a call that finds
    a plan passed the same checks: refused input never has one and is refused by build every time.
    Returns the plan and the arrays (not yet cast to the plan's dtype).
    """
    try:
        xa, wa = np.asarray(x), np.asarray(weight)
        ba = None if bias is None else np.asarray(bias)
        plan_key = (
            build,
            xa.shape,
            xa.dtype,
            wa.shape,
            wa.dtype,
            None if ba is None else (ba.shape, ba.dtype),
            key(groups),
            *[key(value) for value in geometry],
        )
        plan: T | None = _PLANS.get(plan_key)
    except (TypeError, ValueError):
        # An unhashable argument or something numpy cannot make an array of: build validates the call
        # in its usual order (it may refuse something else first) and nothing is stored.
        plan = build(x, weight, bias, groups, *geometry)
        return plan, np.asarray(x), np.asarray(weight), None if bias is None else np.asarray(bias)
    if plan is None:
        plan = build(xa, wa, ba, groups, *geometry)
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[plan_key] = plan
    return plan, xa, wa, ba


def cast(dtype: np.dtype[Any], x: Array, w: Array, bias: Array | None) -> tuple[Array, Array, Array | None]:
    """The arrays in the plan's common float dtype (no copy when they already are)."""
    cast_bias = None if bias is None else bias.astype(dtype, copy=False)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), cast_bias


def _conv_axes(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: object, padding: object, dilation: object
) -> tuple[ConvAxis, ...]:
    sizes, params = normalize(x_shape[2:], w_shape[2:], stride=stride, padding=padding, dilation=dilation)
    check_axis_count("stride, padding or dilation", len(sizes), len(x_shape) - 2)
    return conv_axes_for(sizes, params)


def _tap_table(kernel_size: int, dilation: int, count: int, stride: int, offset: int = 0) -> Array:
    """t*d + p*s + offset for every tap t and position p of one axis: a (kernel_size, count) table."""
    table: Array = np.arange(kernel_size)[:, None] * dilation + np.arange(count)[None, :] * stride + offset
    return table


def _tap_places(tables: Sequence[Array], extent: Sequence[int]) -> tuple[Array, Array]:
    """The row-major flat index into ``extent`` of every (tap, position) pair, and whether it is inside.

    ``tables[a]`` holds axis a's coordinates per tap and position (``_tap_table``). Both results are
    (taps, positions), taps and positions each row-major over the axes; outside entries are garbage.
    """
    ndim = len(tables)
    places = np.zeros([1] * 2 * ndim, dtype=np.intp)
    inside = np.ones([1] * 2 * ndim, dtype=bool)
    for axis, (table, size) in enumerate(zip(tables, extent)):
        # Axis a's taps go to dimension a and its positions to dimension ndim + a.
        shape = [1] * 2 * ndim
        shape[axis], shape[ndim + axis] = table.shape
        coordinate = table.reshape(shape)
        places = places * size + coordinate
        inside = inside & (coordinate >= 0) & (coordinate < size)
    n_taps = math.prod(table.shape[0] for table in tables)
    return places.reshape(n_taps, -1), inside.reshape(n_taps, -1)


@dataclass(frozen=True, eq=False)
class ConvPlan:
    """One convolution's validated shapes, its budget figures and the layouts its run goes through.

    Every size is the core's (``axes``); the index arrays are built on first use.
    """

    axes: tuple[ConvAxis, ...]
    dtype: np.dtype[Any]
    batch: int
    work: int
    elements: int
    # Column-matrix entries C_in * taps * N * prod(output): picks the gather or the per-tap copies.
    entries: int
    source: tuple[int, ...] | None
    interior: Index
    weight: tuple[int, int, int]
    columns: tuple[int, int, int]
    output: tuple[int, ...]

    @cached_property
    def windows(self) -> tuple[Index, ...]:
        """Per kernel tap, the slice of the (C, N, *padded) source that tap multiplies."""
        out = [a.output for a in self.axes]
        strides = [a.stride for a in self.axes]
        return tuple(
            _index(2, _strided([j * a.dilation for j, a in zip(tap, self.axes)], out, strides))
            for tap in _taps([a.kernel_size for a in self.axes])
        )

    @cached_property
    def gather(self) -> Array:
        """For each tap, sample and output position (flattened in that order): the source's flat index.

        The source is (C, N * prod(padded)); taking these indices on its last axis gives the columns
        (C, taps, N, *output) in one step.
        """
        places, _ = _tap_places(
            [_tap_table(a.kernel_size, a.dilation, a.output, a.stride) for a in self.axes],
            [a.padded_size for a in self.axes],
        )
        samples = np.arange(self.batch) * math.prod(a.padded_size for a in self.axes)
        index = (places[:, None, :] + samples[None, :, None]).ravel()
        index.setflags(write=False)
        return index


def conv_plan(x: object, w: object, bias: object, groups: object, *geometry: object) -> ConvPlan:
    """Validate one convolution call (arrays, channels and groups, then the core's rules) and plan it."""
    xa, wa, _, ngroups = tensors(x, w, bias, transposed=False, groups=groups)
    axes = _conv_axes(xa.shape, wa.shape, *geometry)
    n, c_in = xa.shape[:2]
    c_out = wa.shape[0]
    n_taps = math.prod(wa.shape[2:])
    out = tuple(a.output for a in axes)
    padded = tuple(a.padded_size for a in axes)
    positions = math.prod(out)
    per_group = (c_in // ngroups) * n_taps
    return ConvPlan(
        axes=axes,
        dtype=xa.dtype,
        batch=n,
        work=n * c_out * positions * per_group,
        elements=max(n * c_in * n_taps * positions, math.prod(padded) * n * c_in),
        entries=c_in * n_taps * n * positions,
        source=(c_in, n, *padded) if any(a.pad_before or a.pad_after for a in axes) else None,
        interior=_index(2, [slice(a.pad_before, a.pad_before + a.size) for a in axes]),
        weight=(ngroups, c_out // ngroups, per_group),
        columns=(ngroups, per_group, n * positions),
        output=(c_out, n, *out),
    )


@dataclass(frozen=True, eq=False)
class TransposePlan:
    """One transposed convolution's validated shapes, its budget figures and its run's layouts.

    Every size is the core's (``axes``); the index arrays are built on first use.
    """

    axes: tuple[TransposedAxis, ...]
    dtype: np.dtype[Any]
    work: int
    elements: int
    # Contributions C_out * taps * N * prod(input): picks the bincount or the per-tap adds.
    entries: int
    source: tuple[int, int, int]
    weight: tuple[int, int, int]
    columns: tuple[int, ...]
    output: tuple[int, ...]

    @cached_property
    def before(self) -> list[int]:
        """The zeros a negative crop appends in front, allocated up front so that cropping is one view."""
        return [max(-a.crop_before, 0) for a in self.axes]

    @cached_property
    def extent(self) -> tuple[int, ...]:
        """The full output with the zeros of negative crops on both sides."""
        return tuple(b + a.full + max(-a.crop_after, 0) for b, a in zip(self.before, self.axes))

    @cached_property
    def places(self) -> tuple[Index, ...]:
        """Per kernel tap, the strided slice of the (C, N, *extent) full output it adds into."""
        sizes = [a.size for a in self.axes]
        strides = [a.stride for a in self.axes]
        return tuple(
            _index(
                2,
                _strided(
                    [b + j * a.dilation for b, j, a in zip(self.before, tap, self.axes)], sizes, strides
                ),
            )
            for tap in _taps([a.kernel_size for a in self.axes])
        )

    @cached_property
    def keep(self) -> Index:
        """The part of the (C, N, *extent) full output the crops keep."""
        return _index(
            2,
            [slice(b + a.crop_before, b + a.crop_before + a.output) for b, a in zip(self.before, self.axes)],
        )

    @cached_property
    def scatter(self) -> Array:
        """For the columns (C_out, taps, N, *input): each entry's flat position in the (N, C_out, *output)
        result, or one past its end where the crops remove it.

        Position per axis: input index * s + tap * d - crop_before, kept when in [0, output).
        """
        c_out, _, n = self.columns[:3]
        out = [a.output for a in self.axes]
        places, kept = _tap_places(
            [_tap_table(a.kernel_size, a.dilation, a.size, a.stride, -a.crop_before) for a in self.axes], out
        )
        rows = (np.arange(n)[None, :] * c_out + np.arange(c_out)[:, None]) * math.prod(out)
        index = rows[:, None, :, None] + places[None, :, None, :]
        index = np.where(kept[None, :, None, :], index, math.prod(self.output)).ravel()
        index.setflags(write=False)
        return index


def transpose_plan(x: Array, w: Array, axes: tuple[TransposedAxis, ...], groups: int) -> TransposePlan:
    n, c_in = x.shape[:2]
    c_out_g = w.shape[1]
    n_taps = math.prod(w.shape[2:])
    sizes = x.shape[2:]
    work, elements = transposed_figures(x.shape, w.shape, axes, groups)
    return TransposePlan(
        axes=axes,
        dtype=x.dtype,
        work=work,
        elements=elements,
        entries=c_out_g * groups * n_taps * n * math.prod(sizes),
        source=(groups, c_in // groups, n * math.prod(sizes)),
        weight=(groups, c_in // groups, c_out_g * n_taps),
        columns=(c_out_g * groups, n_taps, n, *sizes),
        output=(n, c_out_g * groups, *(a.output for a in axes)),
    )


def cropped_plan(
    x: object, w: object, bias: None, groups: object, stride: object, dilation: object, crops: object
) -> TransposePlan:
    """Validate one canonical transposed convolution call and plan it."""
    xa, wa, _, ngroups = tensors(x, w, bias, transposed=True, groups=groups)
    return transpose_plan(xa, wa, transposed_axes(xa, wa, stride, dilation, crops), ngroups)


def pytorch_plan(
    x: object,
    w: object,
    bias: object,
    groups: object,
    stride: object,
    padding: object,
    output_padding: object,
    dilation: object,
) -> TransposePlan:
    """Validate one conv_transpose call (arrays, channels and groups, then the core's rules) and plan it."""
    xa, wa, _, ngroups = tensors(x, w, bias, transposed=True, groups=groups)
    sizes, params = normalize(
        xa.shape[2:],
        wa.shape[2:],
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        transposed=True,
    )
    check_axis_count("stride, padding, output_padding or dilation", len(sizes), xa.ndim - 2)
    return transpose_plan(xa, wa, transposed_axes_for(sizes, params), ngroups)
