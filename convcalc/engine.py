"""The NumPy engine: convolutions and transposed convolutions executed by independent routes.

The only module of convcalc that imports numpy. It never decides a size on its own: every output size,
padding and crop comes from the arithmetic core (``normalize``, ``conv_axes_for``,
``transposed_axes_for``, ``direct_form``), so that running the engine checks the core.

Layouts are PyTorch's: ``x`` is ``(N, C, *spatial)`` with any number of spatial axes; a convolution
weight is ``(C_out, C_in/groups, *k)``; a transposed-convolution weight is ``(C_in, C_out/groups, *k)``
(the same tensor as the convolution it is the adjoint of).

Routes for the transposed convolution, each its own code:

- ``conv_transpose_cropped``: the engine's fast form: one matrix product per group gives every
  kernel tap's contribution, then a strided add per tap (col2im), then the canonical crops.
- ``transpose_scatter``: the definition: every input element adds a scaled copy of the kernel into
  the output at stride s, one kernel tap at a time.
- ``transpose_direct``: zeros inserted between inputs, re-padded with the core's ``direct_form``
  numbers, then a stride-1 convolution with the flipped, channel-swapped kernel.
- ``transpose_matrix``: the dense matrix C of the forward convolution, applied as C^T.
- ``adjoint_identity``: <conv(x), y> = <x, conv_transpose(y)>.

Work and memory are budgeted: ``MAX_WORK`` multiply-accumulates and ``MAX_ELEMENTS`` elements in any
array the engine allocates; the matrix route has the tighter ``MAX_MATRIX_ELEMENTS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import product
from typing import Any, TypeVar, Union

import numpy as np
import numpy.typing as npt

from convcalc.core import (
    ConvAxis,
    TransposedAxis,
    check_transposed_axes,
    conv_axes_for,
    direct_form,
    normalize,
    transposed_axes_for,
)
from convcalc.errors import ConvCalcError

Array = npt.NDArray[Any]
Index = tuple[Union[slice, int], ...]
T = TypeVar("T")

# About 10 s of NumPy work on one core: beyond this the user asked for a training run, not a check.
MAX_WORK = 10**10
# 2**27 elements is 1 GiB in float64 for one array; the machine must stay usable.
MAX_ELEMENTS = 2**27
# The dense matrix grows as (output positions) x (input positions): 2**22 entries is 32 MiB.
MAX_MATRIX_ELEMENTS = 2**22


# ---------------------------------------------------------------------------------------------------
# Validation at the boundary.


def _array(name: str, value: object) -> Array:
    """A real numeric array; integers and booleans are not accepted as tensors of a convolution."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise ConvCalcError(
            f"{name} must be an array of real numbers; got dtype {array.dtype}", parameter=name
        )
    return array


def _tensors(
    x: object, weight: object, bias: object, *, transposed: bool, groups: object
) -> tuple[Array, Array, Array | None, int]:
    """Check types, ranks, channel counts and groups; return the arrays cast to a common float dtype."""
    xa, wa = _array("x", x), _array("weight", weight)
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise ConvCalcError(f"groups must be an integer; got {groups!r}", parameter="groups")
    if groups < 1:
        raise ConvCalcError(f"groups must be >= 1; got {groups}", parameter="groups")
    if xa.ndim < 3:
        raise ConvCalcError(
            f"x must have shape (N, C, *spatial) with at least one spatial axis; got shape {xa.shape}",
            parameter="x",
        )
    if wa.ndim != xa.ndim:
        layout = "(C_in, C_out/groups, *k)" if transposed else "(C_out, C_in/groups, *k)"
        raise ConvCalcError(
            f"weight must have shape {layout} with as many axes as x ({xa.ndim}); got shape {wa.shape}",
            parameter="weight",
        )
    if 0 in xa.shape or 0 in wa.shape:
        bad = "x" if 0 in xa.shape else "weight"
        raise ConvCalcError(
            f"{bad} must have at least one element on every axis; got shape "
            f"{(xa if bad == 'x' else wa).shape}",
            parameter=bad,
        )
    c_in = xa.shape[1]
    if transposed:
        if wa.shape[0] != c_in:
            raise ConvCalcError(
                f"weight's first axis must equal x's channels (transposed layout (C_in, C_out/groups, "
                f"*k)); got weight shape {wa.shape} for x with {c_in} channels",
                parameter="weight",
            )
        if c_in % groups:
            raise ConvCalcError(
                f"groups must divide the input channels; got {c_in} channels, groups={groups}",
                parameter="groups",
            )
        c_out = wa.shape[1] * groups
    else:
        if wa.shape[1] * groups != c_in:
            raise ConvCalcError(
                f"x must have weight.shape[1] * groups = {wa.shape[1]} * {groups} = "
                f"{wa.shape[1] * groups} channels (layout (C_out, C_in/groups, *k)); got {c_in}",
                parameter="x",
            )
        if wa.shape[0] % groups:
            raise ConvCalcError(
                f"groups must divide the output channels; got weight.shape[0]={wa.shape[0]}, groups={groups}",
                parameter="groups",
            )
        c_out = wa.shape[0]
    dtype = np.result_type(xa.dtype, wa.dtype, np.float32)
    ba = None
    if bias is not None:
        ba = _array("bias", bias)
        if ba.shape != (c_out,):
            raise ConvCalcError(
                f"bias must have shape ({c_out},), one value per output channel; got {ba.shape}",
                parameter="bias",
            )
        dtype = np.result_type(dtype, ba.dtype)
        ba = ba.astype(dtype, copy=False)
    return xa.astype(dtype, copy=False), wa.astype(dtype, copy=False), ba, groups


def _check_axis_count(name: str, got: int, spatial: int) -> None:
    if got != spatial:
        raise ConvCalcError(
            f"{name} has {got} axes but x has {spatial} spatial axes; give one value or one per axis",
            parameter=name,
        )


def check_budget(work: int, elements: int, *, what: str) -> None:
    """Refuse work above ``MAX_WORK`` multiply-accumulates or an array above ``MAX_ELEMENTS``."""
    if work > MAX_WORK:
        raise ConvCalcError(
            f"{what} needs {work:,} multiply-accumulates; the engine's work budget MAX_WORK is "
            f"{MAX_WORK:,}: use smaller sizes or fewer channels",
            parameter="size",
        )
    if elements > MAX_ELEMENTS:
        raise ConvCalcError(
            f"{what} needs an array of {elements:,} elements; the engine's memory budget MAX_ELEMENTS "
            f"is {MAX_ELEMENTS:,}: use smaller sizes or fewer channels",
            parameter="size",
        )


def _taps(kernel_size: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every kernel tap index, row-major (the order of a C-contiguous weight's spatial axes)."""
    return product(*(range(k) for k in kernel_size))


def _strided(start: Sequence[int], count: Sequence[int], step: Sequence[int]) -> tuple[slice, ...]:
    """Per axis, the slice of ``count`` elements from ``start`` every ``step``."""
    return tuple(slice(b, b + (n - 1) * s + 1, s) for b, n, s in zip(start, count, step))


def _crop(array: Array, crops: Sequence[tuple[int, int]], lead: int = 2) -> Array:
    """Remove crop_before/crop_after elements from each trailing axis; a negative crop appends zeros.

    Zeros first, then the crops: a crop may reach past the array into zeros appended on the other side.
    """
    extend = [(0, 0)] * lead + [(max(-b, 0), max(-a, 0)) for b, a in crops]
    extended = np.pad(array, extend) if any(e != (0, 0) for e in extend) else array
    keep = [slice(max(b, 0), n - max(a, 0)) for (b, a), n in zip(crops, extended.shape[lead:])]
    return extended[_index(lead, keep)]


def _index(lead: int, spatial: Sequence[slice | int]) -> Index:
    """An index taking every element of the ``lead`` leading axes and ``spatial`` on the rest."""
    return (slice(None),) * lead + tuple(spatial)


def _key(value: object) -> object:
    """A hashable key that tells 1 from True and 1.0 (normalize accepts only the first)."""
    if type(value) is int:
        return value
    if type(value) is tuple and all(type(v) is int for v in value):
        return value
    if isinstance(value, (list, tuple)):
        return ("seq", *[_key(v) for v in value])
    hash(value)
    return (type(value), value)


_AXES: dict[object, Any] = {}
_MAX_MEMO = 4096


def _memo(kind: str, build: Callable[..., T], *args: object) -> T:
    """build(*args) computed once per distinct arguments: the core is pure, and re-validating the same
    layer on every call would cost more than the convolution itself at verification sizes."""
    try:
        key = (kind, _key(args))
    except TypeError:
        return build(*args)
    if key not in _AXES:
        if len(_AXES) >= _MAX_MEMO:
            _AXES.clear()
        _AXES[key] = build(*args)
    result: T = _AXES[key]
    return result


def _channels_first(array: Array) -> Array:
    """(N, C, *s) -> (C, N, *s): puts the channels where the matrix product contracts them."""
    swapped: Array = array.swapaxes(0, 1)
    return swapped


def _batch_first(array: Array) -> Array:
    return np.ascontiguousarray(array.swapaxes(0, 1))


_PLANS: dict[object, Any] = {}
# A plan holds at most one index array of up to GATHER_LIMIT or BINCOUNT_LIMIT entries (256 KiB), so
# this bounds the memo's memory to 128 MiB at worst.
_MAX_PLANS = 512


def _planned(
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
        key = (
            build,
            xa.shape,
            xa.dtype,
            wa.shape,
            wa.dtype,
            None if ba is None else (ba.shape, ba.dtype),
            _key(groups),
            *[_key(value) for value in geometry],
        )
        plan: T | None = _PLANS.get(key)
    except (TypeError, ValueError):
        # An unhashable argument or something numpy cannot make an array of: build validates the call
        # in its usual order (it may refuse something else first) and nothing is stored.
        plan = build(x, weight, bias, groups, *geometry)
        return plan, np.asarray(x), np.asarray(weight), None if bias is None else np.asarray(bias)
    if plan is None:
        plan = build(xa, wa, ba, groups, *geometry)
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan, xa, wa, ba


def _cast(dtype: np.dtype[Any], x: Array, w: Array, bias: Array | None) -> tuple[Array, Array, Array | None]:
    """The arrays in the plan's common float dtype (no copy when they already are)."""
    cast_bias = None if bias is None else bias.astype(dtype, copy=False)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), cast_bias


# ---------------------------------------------------------------------------------------------------
# The convolution.


def conv(
    x: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    bias: object = None,
) -> Array:
    """y[n, o, p] = sum over c, t of x[n, c, p*s + t*d - pad_before] * w[o, c, t]; PyTorch's convolution.

    Returns an array (N, C_out, *output) with the sizes of ``convcalc.core.conv_axes_for``.
    """
    plan, xa, wa, ba = _planned(_conv_plan, x, weight, bias, groups, stride, padding, dilation)
    return _conv_run(*_cast(plan.dtype, xa, wa, ba), plan)


def _conv_axes(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: object, padding: object, dilation: object
) -> tuple[ConvAxis, ...]:
    sizes, params = normalize(x_shape[2:], w_shape[2:], stride=stride, padding=padding, dilation=dilation)
    _check_axis_count("stride, padding or dilation", len(sizes), len(x_shape) - 2)
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
class _ConvPlan:
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


def _conv_plan(x: object, w: object, bias: object, groups: object, *geometry: object) -> _ConvPlan:
    """Validate one convolution call (arrays, channels and groups, then the core's rules) and plan it."""
    xa, wa, _, ngroups = _tensors(x, w, bias, transposed=False, groups=groups)
    axes = _conv_axes(xa.shape, wa.shape, *geometry)
    n, c_in = xa.shape[:2]
    c_out = wa.shape[0]
    n_taps = math.prod(wa.shape[2:])
    out = tuple(a.output for a in axes)
    padded = tuple(a.padded_size for a in axes)
    positions = math.prod(out)
    per_group = (c_in // ngroups) * n_taps
    return _ConvPlan(
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


# Below this many column entries one gather beats a strided copy per kernel tap.
GATHER_LIMIT = 2**15


def _conv_run(x: Array, w: Array, bias: Array | None, plan: _ConvPlan) -> Array:
    """im2col: every kernel tap's window into a column matrix, then one product per group."""
    check_budget(plan.work, plan.elements, what="this convolution")
    if plan.source is not None:
        source = np.zeros(plan.source, dtype=x.dtype)
        source[plan.interior] = _channels_first(x)
    else:
        source = _channels_first(x)
    c_in = source.shape[0]
    if plan.entries <= GATHER_LIMIT:
        cols = source.reshape(c_in, -1).take(plan.gather, axis=1)
    else:
        cols = np.empty((c_in, len(plan.windows), *plan.output[1:]), dtype=x.dtype)
        for t, window in enumerate(plan.windows):
            cols[:, t] = source[window]
    y = np.matmul(w.reshape(plan.weight), cols.reshape(plan.columns))
    result = _batch_first(y.reshape(plan.output))
    if bias is not None:
        result += bias.reshape(-1, *([1] * len(plan.axes)))
    return result


# ---------------------------------------------------------------------------------------------------
# The transposed convolution: canonical form and PyTorch's arguments.


def _transposed_axes(
    x: Array, w: Array, stride: object, dilation: object, crops: object
) -> tuple[TransposedAxis, ...]:
    """The core's transposed axes for canonical crops (validated here: pairs of ints, may be negative)."""
    return _memo("cropped", _canonical_axes, x.shape, w.shape, stride, dilation, crops)


def _canonical_axes(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: object, dilation: object, crops: object
) -> tuple[TransposedAxis, ...]:
    spatial = len(x_shape) - 2
    sizes, params = normalize(x_shape[2:], w_shape[2:], stride=stride, dilation=dilation)
    _check_axis_count("stride or dilation", len(sizes), spatial)
    if isinstance(crops, (str, bytes)) or not isinstance(crops, Sequence):
        raise ConvCalcError(
            f"crops must be a sequence of (before, after) pairs, one per spatial axis; got {crops!r}",
            parameter="crops",
        )
    pairs: list[tuple[int, int]] = []
    for entry in crops:
        if (
            isinstance(entry, (str, bytes))
            or not isinstance(entry, Sequence)
            or len(entry) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in entry)
        ):
            raise ConvCalcError(
                f"crops must be (before, after) pairs of integers; got {entry!r}", parameter="crops"
            )
        pairs.append((entry[0], entry[1]))
    if len(pairs) == 1:
        pairs *= spatial
    _check_axis_count("crops", len(pairs), spatial)
    axes = tuple(
        TransposedAxis(i, k, s, d, b, a)
        for i, k, s, d, (b, a) in zip(sizes, params.kernel_size, params.stride, params.dilation, pairs)
    )
    check_transposed_axes(axes)
    return axes


def _transposed_work(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], axes: Sequence[TransposedAxis], groups: int
) -> tuple[int, int]:
    """The multiply-accumulates of a transposed convolution and its largest array, for check_budget."""
    n, c_in = x_shape[:2]
    c_out = w_shape[1] * groups
    n_taps = math.prod(w_shape[2:])
    inputs = math.prod(a.size for a in axes)
    extent = math.prod(a.full + max(-a.crop_before, 0) + max(-a.crop_after, 0) for a in axes)
    work = n * c_in * (c_out // groups) * n_taps * inputs
    return work, max(n * c_out * n_taps * inputs, n * c_out * extent)


def _transposed_budget(x: Array, w: Array, axes: Sequence[TransposedAxis], groups: int, what: str) -> None:
    check_budget(*_transposed_work(x.shape, w.shape, axes, groups), what=what)


def conv_transpose_cropped(
    x: object,
    weight: object,
    *,
    stride: object,
    dilation: object,
    crops: object,
    groups: int = 1,
) -> Array:
    """Full output (i-1)*s + d*(k-1) + 1 cropped by (before, after) per axis; negative crops add zeros.

    The canonical form every framework convention reduces to. Returns (N, C_out, *output) with the
    sizes of ``convcalc.core.TransposedAxis``. Computed by col2im: one matrix product per group gives
    every tap's contribution, then they are summed into place (``_transpose_run``).
    """
    plan, xa, wa, _ = _planned(_cropped_plan, x, weight, None, groups, stride, dilation, crops)
    xa, wa, _ = _cast(plan.dtype, xa, wa, None)
    return _transpose_run(xa, wa, plan)


@dataclass(frozen=True, eq=False)
class _TransposePlan:
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


def _transpose_plan(x: Array, w: Array, axes: tuple[TransposedAxis, ...], groups: int) -> _TransposePlan:
    n, c_in = x.shape[:2]
    c_out_g = w.shape[1]
    n_taps = math.prod(w.shape[2:])
    sizes = x.shape[2:]
    work, elements = _transposed_work(x.shape, w.shape, axes, groups)
    return _TransposePlan(
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


def _cropped_plan(
    x: object, w: object, bias: None, groups: object, stride: object, dilation: object, crops: object
) -> _TransposePlan:
    """Validate one canonical transposed convolution call and plan it."""
    xa, wa, _, ngroups = _tensors(x, w, bias, transposed=True, groups=groups)
    return _transpose_plan(xa, wa, _transposed_axes(xa, wa, stride, dilation, crops), ngroups)


# Below this many contributions one bincount beats a strided add per kernel tap (Python's overhead per
# tap dominates); above it the strided adds win (bincount is a float64 random-access pass).
BINCOUNT_LIMIT = 2**15


def _transpose_run(x: Array, w: Array, plan: _TransposePlan) -> Array:
    """col2im: one product per group gives every tap's contribution, then they are summed in place."""
    check_budget(plan.work, plan.elements, what="this transposed convolution")
    source = _channels_first(x).reshape(plan.source)
    per_group = w.reshape(plan.weight).transpose(0, 2, 1)
    cols = np.matmul(per_group, source)
    if plan.entries <= BINCOUNT_LIMIT:
        # The index sends cropped entries to one extra bin past the result, dropped here.
        size = math.prod(plan.output)
        sums = np.bincount(plan.scatter, weights=cols.ravel(), minlength=size + 1)[:size]
        result: Array = sums.astype(x.dtype, copy=False).reshape(plan.output)
        return result
    contributions = cols.reshape(plan.columns)
    full = np.zeros((plan.columns[0], plan.columns[2], *plan.extent), dtype=x.dtype)
    for t, place in enumerate(plan.places):
        full[place] += contributions[:, t]
    return _batch_first(full[plan.keep])


def _pytorch_plan(
    x: object,
    w: object,
    bias: object,
    groups: object,
    stride: object,
    padding: object,
    output_padding: object,
    dilation: object,
) -> _TransposePlan:
    """Validate one conv_transpose call (arrays, channels and groups, then the core's rules) and plan it."""
    xa, wa, _, ngroups = _tensors(x, w, bias, transposed=True, groups=groups)
    sizes, params = normalize(
        xa.shape[2:],
        wa.shape[2:],
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        transposed=True,
    )
    _check_axis_count("stride, padding, output_padding or dilation", len(sizes), xa.ndim - 2)
    return _transpose_plan(xa, wa, transposed_axes_for(sizes, params), ngroups)


def conv_transpose(
    x: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    bias: object = None,
) -> Array:
    """o = (i-1)*s - pad_before - pad_after + d*(k-1) + 1 + output_padding; PyTorch's transposed conv.

    Padding may be an int, per axis, (before, after) pairs or 'valid'. Returns (N, C_out, *output):
    the canonical form with the crops ``convcalc.core.transposed_axes_for`` reports.
    """
    plan, xa, wa, ba = _planned(
        _pytorch_plan, x, weight, bias, groups, stride, padding, output_padding, dilation
    )
    xa, wa, ba = _cast(plan.dtype, xa, wa, ba)
    result = _transpose_run(xa, wa, plan)
    if ba is not None:
        result += ba.reshape(-1, *([1] * len(plan.axes)))
    return result


# ---------------------------------------------------------------------------------------------------
# Independent routes for the transposed convolution (canonical arguments, like conv_transpose_cropped).


def transpose_scatter(
    x: object, weight: object, *, stride: object, dilation: object, crops: object, groups: int = 1
) -> Array:
    """out[(p*s + t*d)] += x[p] * w[t] for every input position p and tap t, then the crops.

    The definition: each input element adds a scaled copy of the kernel at stride s and overlaps sum.
    One tensor contraction per kernel tap over all input positions at once.
    """
    xa, wa, _, groups = _tensors(x, weight, None, transposed=True, groups=groups)
    axes = _transposed_axes(xa, wa, stride, dilation, crops)
    _transposed_budget(xa, wa, axes, groups, "the scatter route")
    n, c_in = xa.shape[:2]
    c_out_g = wa.shape[1]
    sizes = xa.shape[2:]
    grouped_x = xa.reshape(n, groups, c_in // groups, *sizes)
    grouped_w = wa.reshape(groups, c_in // groups, c_out_g, *wa.shape[2:])
    full = np.zeros((n, groups, c_out_g, *(a.full for a in axes)), dtype=xa.dtype)
    for tap in _taps(wa.shape[2:]):
        copy = np.einsum("ngc...,gco->ngo...", grouped_x, grouped_w[_index(3, tap)])
        start = [j * a.dilation for j, a in zip(tap, axes)]
        full[(slice(None),) * 3 + _strided(start, sizes, [a.stride for a in axes])] += copy
    cropped = _crop(full, [(a.crop_before, a.crop_after) for a in axes], lead=3)
    return np.ascontiguousarray(cropped.reshape(n, groups * c_out_g, *cropped.shape[3:]))


@dataclass(frozen=True)
class DirectRun:
    """What the direct route executed: its output and the spatial sizes it actually built."""

    output: Array
    stretched: tuple[int, ...]
    padded: tuple[int, ...]


def direct_weight(weight: object, groups: int = 1) -> Array:
    """(C_in, C_out/g, *k) -> (C_out, C_in/g, *k) swapped within each group, spatial axes flipped."""
    wa = _array("weight", weight)
    c_in, c_out_g = wa.shape[:2]
    kernel = wa.shape[2:]
    swapped = wa.reshape(groups, c_in // groups, c_out_g, *kernel).swapaxes(1, 2)
    flipped = np.flip(swapped, axis=tuple(range(3, 3 + len(kernel))))
    return np.ascontiguousarray(flipped.reshape(groups * c_out_g, c_in // groups, *kernel))


def transpose_direct_run(
    x: object, weight: object, *, stride: object, dilation: object, crops: object, groups: int = 1
) -> DirectRun:
    """Zero insertion, padding K-1-crop per side (the core's ``direct_form``), stride-1 convolution.

    Returns the output together with the measured sizes of the stretched and re-padded input.
    """
    xa, wa, _, groups = _tensors(x, weight, None, transposed=True, groups=groups)
    axes = _transposed_axes(xa, wa, stride, dilation, crops)
    _transposed_budget(xa, wa, axes, groups, "the direct route")
    forms = [direct_form(a) for a in axes]
    n, c_in = xa.shape[:2]
    stretched = np.zeros((n, c_in, *(f.stretched for f in forms)), dtype=xa.dtype)
    stretched[_index(2, [slice(None, None, a.stride) for a in axes])] = xa
    # The direct form's padding: zeros first, then a negative pad crops (possibly into those zeros).
    padded = _crop(stretched, [(-f.pad_before, -f.pad_after) for f in forms])
    output = conv(
        padded,
        direct_weight(wa, groups),
        stride=1,
        padding=0,
        dilation=[a.dilation for a in axes],
        groups=groups,
    )
    return DirectRun(output, stretched.shape[2:], padded.shape[2:])


def transpose_direct(
    x: object, weight: object, *, stride: object, dilation: object, crops: object, groups: int = 1
) -> Array:
    """The direct-convolution route; see ``transpose_direct_run``. Returns (N, C_out, *output)."""
    return transpose_direct_run(
        x, weight, stride=stride, dilation=dilation, crops=crops, groups=groups
    ).output


def conv_matrix(
    input_size: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
) -> Array:
    """C with conv(x).ravel() = C @ x.ravel() for one sample; C[o*P + q, c*Q + p] = w[o, c, t].

    Rows are the flattened output (C_out, *output) and columns the flattened input (C_in, *input),
    both row-major: row = out_channel * prod(output) + position, column = in_channel * prod(input)
    + position. ``weight`` is a convolution weight (C_out, C_in/groups, *k), which is also the weight
    of the transposed convolution that C^T computes. Limited to ``MAX_MATRIX_ELEMENTS`` entries.
    """
    wa = _array("weight", weight)
    if wa.ndim < 3 or 0 in wa.shape:
        raise ConvCalcError(
            f"weight must have shape (C_out, C_in/groups, *k) with at least one spatial axis and no "
            f"empty axis; got {wa.shape}",
            parameter="weight",
        )
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ConvCalcError(f"groups must be an integer >= 1; got {groups!r}", parameter="groups")
    c_out, c_in_g = wa.shape[:2]
    if c_out % groups:
        raise ConvCalcError(
            f"groups must divide the output channels; got weight.shape[0]={c_out}, groups={groups}",
            parameter="groups",
        )
    kernel = wa.shape[2:]
    sizes, params = normalize(input_size, kernel, stride=stride, padding=padding, dilation=dilation)
    _check_axis_count("input_size", len(sizes), len(kernel))
    axes = conv_axes_for(sizes, params)
    out = tuple(a.output for a in axes)
    rows, cols = c_out * math.prod(out), c_in_g * groups * math.prod(sizes)
    if rows * cols > MAX_MATRIX_ELEMENTS:
        raise ConvCalcError(
            f"the dense convolution matrix would have {rows:,} x {cols:,} = {rows * cols:,} entries; "
            f"the matrix route's budget MAX_MATRIX_ELEMENTS is {MAX_MATRIX_ELEMENTS:,}: use smaller "
            "sizes or fewer channels",
            parameter="size",
        )
    dtype = np.result_type(wa.dtype, np.float32)
    matrix = np.zeros((rows, cols), dtype=dtype)
    out_channel = np.arange(c_out)
    in_channel = (out_channel // (c_out // groups))[:, None] * c_in_g + np.arange(c_in_g)
    grid = np.indices(out).reshape(len(out), -1)
    for tap in _taps(kernel):
        position = np.array(
            [g * a.stride + j * a.dilation - a.pad_before for g, j, a in zip(grid, tap, axes)]
        ).reshape(len(out), -1)
        inside = np.all((position >= 0) & (position < np.array(sizes)[:, None]), axis=0)
        row = out_channel[:, None, None] * math.prod(out) + np.flatnonzero(inside)
        col = in_channel[:, :, None] * math.prod(sizes) + np.ravel_multi_index(
            tuple(position[:, inside]), sizes
        )
        # Within one tap each (row, column) pair occurs once, so a fancy-index add is exact.
        matrix[row, col] += wa[_index(2, tap)][:, :, None]
    return matrix


def _matrix_input(x: Array) -> Array:
    return x.reshape(x.shape[0], -1)


def conv_by_matrix(
    x: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
) -> Array:
    """y = C x per sample, with C from ``conv_matrix``: the matrix route of the convolution."""
    xa, wa, _, groups = _tensors(x, weight, None, transposed=False, groups=groups)
    matrix = conv_matrix(xa.shape[2:], wa, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = _matrix_input(xa) @ matrix.T
    out = conv_output_sizes(xa.shape[2:], wa.shape[2:], stride, padding, dilation)
    result: Array = y.reshape(xa.shape[0], wa.shape[0], *out)
    return result


def conv_output_sizes(
    size: Sequence[int], kernel_size: Sequence[int], stride: object, padding: object, dilation: object
) -> tuple[int, ...]:
    """The core's convolution output size per axis."""
    sizes, params = normalize(
        tuple(size), tuple(kernel_size), stride=stride, padding=padding, dilation=dilation
    )
    return tuple(a.output for a in conv_axes_for(sizes, params))


def transpose_matrix(
    x: object, weight: object, *, stride: object, dilation: object, crops: object, groups: int = 1
) -> Array:
    """x' = C^T y per sample, C the matrix of the forward convolution with padding = max(crop, 0).

    The forward convolution runs on the output's kept part of the full extent (size full - crops);
    negative crops are then appended as zeros. Returns (N, C_out, *output).
    """
    xa, wa, _, groups = _tensors(x, weight, None, transposed=True, groups=groups)
    axes = _transposed_axes(xa, wa, stride, dilation, crops)
    kept = [a.full - max(a.crop_before, 0) - max(a.crop_after, 0) for a in axes]
    if min(kept) < 1:
        # The crops remove the whole full output: what is left is zeros appended by negative crops.
        return np.zeros((xa.shape[0], wa.shape[1] * groups, *(a.output for a in axes)), dtype=xa.dtype)
    pads = [(max(a.crop_before, 0), max(a.crop_after, 0)) for a in axes]
    matrix = conv_matrix(
        kept,
        wa,
        stride=[a.stride for a in axes],
        padding=pads,
        dilation=[a.dilation for a in axes],
        groups=groups,
    )
    assert matrix.shape[0] == math.prod(xa.shape[1:]), "the forward convolution must map back to x"
    y = _matrix_input(xa) @ matrix
    out = y.reshape(xa.shape[0], wa.shape[1] * groups, *kept)
    return np.ascontiguousarray(
        np.pad(out, [(0, 0), (0, 0)] + [(max(-a.crop_before, 0), max(-a.crop_after, 0)) for a in axes])
    )


# ---------------------------------------------------------------------------------------------------
# The adjoint identity, and small helpers for the verifier (which must not import numpy itself).


def adjoint_identity(
    x: object,
    y: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
) -> tuple[float, float]:
    """<conv(x), y> and <x, conv_transpose(y)>: equal when the transposed convolution is the adjoint.

    ``padding`` is resolved for x (a mode becomes explicit pairs); ``output_padding`` makes the
    transposed output the size of x. Returns the two inner products.
    """
    xa, ya = _array("x", x), _array("y", y)
    forward = conv(xa, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
    sizes, params = normalize(
        xa.shape[2:], _array("weight", weight).shape[2:], stride=stride, padding=padding, dilation=dilation
    )
    pads = [(a.pad_before, a.pad_after) for a in conv_axes_for(sizes, params)]
    backward = conv_transpose(
        ya,
        weight,
        stride=stride,
        padding=pads,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
    )
    if forward.shape != ya.shape or backward.shape != xa.shape:
        raise ConvCalcError(
            f"the adjoint identity needs y of shape {forward.shape} and conv_transpose(y) of x's shape "
            f"{xa.shape}; got y {ya.shape} and conv_transpose(y) {backward.shape}",
            parameter="output_padding",
        )
    return float(np.vdot(forward, ya)), float(np.vdot(xa, backward))


def adjoint_identity_cropped(
    y: object,
    z: object,
    weight: object,
    *,
    stride: object,
    dilation: object,
    crops: object,
    groups: int = 1,
) -> tuple[float, float]:
    """<T y, z> and <y, T* z>, T the transposed convolution with canonical crops (possibly negative).

    T* z drops the zeros a negative crop appended, then convolves with padding max(crop, 0) on each
    side: the convolution whose padded input is the full output. Returns the two inner products.
    """
    ya, za = _array("y", y), _array("z", z)
    forward = conv_transpose_cropped(ya, weight, stride=stride, dilation=dilation, crops=crops, groups=groups)
    if forward.shape != za.shape:
        raise ConvCalcError(
            f"z must have the transposed output's shape {forward.shape}; got {za.shape}", parameter="z"
        )
    axes = _transposed_axes(ya, _array("weight", weight), stride, dilation, crops)
    kept = [a.full - max(a.crop_before, 0) - max(a.crop_after, 0) for a in axes]
    if min(kept) < 1:
        # Nothing of the full output survives the crops: T is zero, and so is its adjoint.
        return float(np.vdot(forward, za)), 0.0
    inside = [slice(max(-a.crop_before, 0), max(-a.crop_before, 0) + n) for a, n in zip(axes, kept)]
    backward = conv(
        za[_index(2, inside)],
        weight,
        stride=[a.stride for a in axes],
        padding=[(max(a.crop_before, 0), max(a.crop_after, 0)) for a in axes],
        dilation=[a.dilation for a in axes],
        groups=groups,
    )
    return float(np.vdot(forward, za)), float(np.vdot(ya, backward))


def random_tensors(seed: int, *shapes: Sequence[int]) -> list[Array]:
    """Standard-normal float64 arrays of the given shapes from one seeded generator."""
    rng = np.random.default_rng(seed)
    for shape in shapes:
        check_budget(0, math.prod(shape), what="a random test tensor")
    return [rng.standard_normal(tuple(shape)) for shape in shapes]


def max_abs_error(got: Array, expected: Array) -> float:
    """max |got - expected|; infinite when the shapes differ."""
    if got.shape != expected.shape:
        return math.inf
    return float(np.max(np.abs(got - expected))) if got.size else 0.0


def max_abs(array: Array) -> float:
    return float(np.max(np.abs(array))) if array.size else 0.0
