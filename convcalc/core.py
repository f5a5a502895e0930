"""The arithmetic core: sizes of convolutions and transposed convolutions, in Python integers only.

Every size convcalc reports is computed here, once. The canonical form of a transposed convolution is
the pair of crops (before, after) taken from its full output ``(i-1)*s + d*(k-1) + 1``; a negative crop
extends the output with zeros. PyTorch's ``padding``/``output_padding`` map to crops
``(padding_before, padding_after - output_padding)``, and every other framework convention reduces to
the same pair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

from convcalc.errors import ConvCalcError

MAX_AXES = 16
PADDING_MODES = ("valid", "same", "full")

IntArg = Union[int, Sequence[int]]
PaddingArg = Union[int, str, Sequence[Union[int, Sequence[int]]]]
Pairs = tuple[tuple[int, int], ...]


# ---------------------------------------------------------------------------------------------------
# Validation at the boundary: types, then ranges, then axis counts, then rules tying parameters.


def _fmt(values: Sequence[object]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def _check_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        kind = type(value).__name__
        raise ConvCalcError(f"{name} must be an integer; got {value!r} ({kind})", parameter=name)
    return value


def _int_axes(name: str, value: object, minimum: int) -> tuple[int, ...]:
    """Type- and range-check a scalar or per-axis parameter; return its raw per-axis tuple."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (int, Sequence)):
        kind = type(value).__name__
        raise ConvCalcError(
            f"{name} must be an integer or a sequence of integers; got {value!r} ({kind})",
            parameter=name,
        )
    values = (value,) if isinstance(value, int) else tuple(value)
    ints = tuple(_check_int(name, v) for v in values)
    if not ints:
        raise ConvCalcError(f"{name} must name at least one axis; got ()", parameter=name)
    if len(ints) > MAX_AXES:
        raise ConvCalcError(
            f"{name} may have at most {MAX_AXES} spatial axes; got {len(ints)}", parameter=name
        )
    if any(v < minimum for v in ints):
        raise ConvCalcError(f"{name} must be >= {minimum} on every axis; got {_fmt(ints)}", parameter=name)
    return ints


def _padding_axes(padding: object, name: str = "padding", minimum: int | None = 0) -> str | Pairs:
    """Type- and range-check padding: a mode string, an int, or per axis an int or (before, after).

    ``minimum=None`` lets negative pads through (some frameworks accept them and check them later).
    """
    if isinstance(padding, str):
        mode = padding.strip().lower()
        if mode not in PADDING_MODES:
            raise ConvCalcError(
                f"{name} must be an integer, (before, after) pairs or one of "
                f"{', '.join(PADDING_MODES)}; got {padding!r}",
                parameter=name,
            )
        return mode
    if isinstance(padding, bool) or not isinstance(padding, (int, Sequence)):
        raise ConvCalcError(
            f"{name} must be an integer, (before, after) pairs or a mode string; "
            f"got {padding!r} ({type(padding).__name__})",
            parameter=name,
        )
    entries: Sequence[object] = (padding,) if isinstance(padding, int) else padding
    pairs: list[tuple[int, int]] = []
    for entry in entries:
        if isinstance(entry, Sequence) and not isinstance(entry, (str, bytes)):
            if len(entry) != 2:
                raise ConvCalcError(
                    f"{name} pairs must be (before, after); got {tuple(entry)!r}", parameter=name
                )
            pairs.append((_check_int(name, entry[0]), _check_int(name, entry[1])))
        else:
            p = _check_int(name, entry)
            pairs.append((p, p))
    if not pairs:
        raise ConvCalcError(f"{name} must name at least one axis; got ()", parameter=name)
    if len(pairs) > MAX_AXES:
        raise ConvCalcError(
            f"{name} may have at most {MAX_AXES} spatial axes; got {len(pairs)}", parameter=name
        )
    if minimum is not None and any(v < minimum for pair in pairs for v in pair):
        raise ConvCalcError(
            f"{name} must be >= {minimum} on every axis; got {_fmt_pairs(tuple(pairs))}", parameter=name
        )
    return tuple(pairs)


def _fmt_pairs(pairs: Pairs) -> str:
    return _fmt([f"{b}:{a}" if b != a else str(b) for b, a in pairs])


def _broadcast(named: dict[str, tuple[object, ...]]) -> int:
    """The number of spatial axes: the longest per-axis value; every other length must be 1 or equal."""
    ndim = max(len(v) for v in named.values())
    for name, values in named.items():
        if len(values) not in (1, ndim):
            others = ", ".join(f"{n} has {len(v)}" for n, v in named.items() if len(v) == ndim)
            raise ConvCalcError(
                f"{name} has {len(values)} axes but {others}; give one value or one per axis",
                parameter=name,
            )
    return ndim


def _spread(values: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    return values * ndim if len(values) == 1 else values


def _spread_pairs(pairs: Pairs, ndim: int) -> Pairs:
    return pairs * ndim if len(pairs) == 1 else pairs


def int_axes(name: str, value: object, minimum: int) -> tuple[int, ...]:
    """Check a scalar or per-axis integer parameter (type, then range); return its per-axis tuple."""
    return _int_axes(name, value, minimum)


def padding_pairs(value: object, name: str = "padding", minimum: int | None = 0) -> Pairs:
    """Check explicit padding (an int, or per axis an int or a (before, after) pair); return the pairs."""
    if isinstance(value, str):
        raise ConvCalcError(f"{name} must be integers here, not the word {value!r}", parameter=name)
    pairs = _padding_axes(value, name, minimum)
    assert not isinstance(pairs, str)
    return pairs


def broadcast_axes(named: dict[str, tuple[object, ...]]) -> int:
    """The number of spatial axes of several per-axis values; each has one entry or one per axis."""
    return _broadcast(named)


def spread_axes(values: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    """One value for every axis, or the per-axis values unchanged."""
    return _spread(values, ndim)


def spread_pairs(pairs: Pairs, ndim: int) -> Pairs:
    """One (before, after) pair for every axis, or the per-axis pairs unchanged."""
    return _spread_pairs(pairs, ndim)


# ---------------------------------------------------------------------------------------------------
# Per-axis formulas.


def dilated_kernel_size(kernel_size: int, dilation: int) -> int:
    """K = d*(k-1) + 1: the extent a dilated kernel covers.

    >>> dilated_kernel_size(3, 2)
    5
    """
    return dilation * (kernel_size - 1) + 1


def same_padding(size: int, dilated_kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same': output ceil(i/s), total padding max((o-1)*s + K - i, 0), odd extra at the end.

    >>> same_padding(6, 4, 1)
    (1, 2)
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + dilated_kernel - size, 0)
    return total // 2, total - total // 2


def split_extra_at_end(total: int) -> tuple[int, int]:
    """(max(floor(t/2), 0), t - that): a total crop split with the odd element at the end.

    A negative total is all zero extension at the end, never at the start.

    >>> split_extra_at_end(3), split_extra_at_end(-1)
    ((1, 2), (0, -1))
    """
    before = max(total // 2, 0)
    return before, total - before


def split_extra_at_start(total: int) -> tuple[int, int]:
    """(ceil(t/2), floor(t/2)): a total split with the odd element at the start.

    >>> split_extra_at_start(3), split_extra_at_start(-1)
    ((2, 1), (0, -1))
    """
    return total - total // 2, total // 2


def _mode_padding(mode: str, size: int, dilated_kernel: int, stride: int) -> tuple[int, int]:
    if mode == "same":
        return same_padding(size, dilated_kernel, stride)
    if mode == "full":
        return dilated_kernel - 1, dilated_kernel - 1
    return 0, 0


@dataclass(frozen=True)
class ConvAxis:
    """One spatial axis of a convolution: o = floor((i + pad_before + pad_after - K) / s) + 1."""

    size: int
    kernel_size: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int

    @property
    def dilated_kernel(self) -> int:
        return dilated_kernel_size(self.kernel_size, self.dilation)

    @property
    def padded_size(self) -> int:
        return self.size + self.pad_before + self.pad_after

    @property
    def output(self) -> int:
        return (self.padded_size - self.dilated_kernel) // self.stride + 1

    @property
    def remainder(self) -> int:
        """r = (i + pad_before + pad_after - K) mod s: the input elements the last window never reaches."""
        return (self.padded_size - self.dilated_kernel) % self.stride

    @property
    def dropped(self) -> int:
        """max(r - pad_after, 0): the real input elements (not padding) that no window reaches."""
        return max(self.remainder - self.pad_after, 0)


@dataclass(frozen=True)
class TransposedAxis:
    """One spatial axis of a transposed convolution in canonical form.

    The full output (i-1)*s + K is cropped by crop_before and crop_after (negative: zeros appended).
    """

    size: int
    kernel_size: int
    stride: int
    dilation: int
    crop_before: int
    crop_after: int

    @property
    def dilated_kernel(self) -> int:
        return dilated_kernel_size(self.kernel_size, self.dilation)

    @property
    def full(self) -> int:
        return (self.size - 1) * self.stride + self.dilated_kernel

    @property
    def output(self) -> int:
        return self.full - self.crop_before - self.crop_after


@dataclass(frozen=True)
class DirectAxis:
    """The equivalent direct convolution of one transposed axis.

    Insert s-1 zeros between inputs (stretched size (i-1)*s + 1), pad K-1-crop_before at the start and
    K-1-crop_after at the end (a negative pad is a crop), then convolve with stride 1, the same dilation
    and the flipped kernel.
    """

    size: int
    kernel_size: int
    dilation: int
    zeros_inserted: int
    stretched: int
    pad_before: int
    pad_after: int

    @property
    def dilated_kernel(self) -> int:
        return dilated_kernel_size(self.kernel_size, self.dilation)

    @property
    def output(self) -> int:
        return self.stretched + self.pad_before + self.pad_after - self.dilated_kernel + 1


def direct_form(axis: TransposedAxis) -> DirectAxis:
    """The direct convolution that computes a transposed axis: p' = K-1-crop on each side."""
    k_minus_1 = axis.dilated_kernel - 1
    return DirectAxis(
        size=axis.size,
        kernel_size=axis.kernel_size,
        dilation=axis.dilation,
        zeros_inserted=axis.stride - 1,
        stretched=(axis.size - 1) * axis.stride + 1,
        pad_before=k_minus_1 - axis.crop_before,
        pad_after=k_minus_1 - axis.crop_after,
    )


@dataclass(frozen=True)
class ReversalAxis:
    """Does the transposed convolution with the same parameters undo the convolution's size change?

    For input W, r = (W + pad_before + pad_after - K) mod s; the transposed twin returns W - r, and
    output_padding = r restores W. r = 0 exactly when W = base + s*q, base = K - pad_before - pad_after.
    """

    size: int
    output: int
    remainder: int
    base: int
    stride: int
    dilation: int
    colliding_first: int
    colliding_last: int

    @property
    def restored(self) -> int:
        return self.size - self.remainder

    @property
    def reversible(self) -> bool:
        return self.remainder == 0

    @property
    def output_padding_to_restore(self) -> int:
        return self.remainder

    @property
    def allowed_pytorch(self) -> bool:
        return self.remainder < max(self.stride, self.dilation)

    @property
    def allowed_strict(self) -> bool:
        return self.remainder < self.stride

    @property
    def colliding_count(self) -> int:
        return self.colliding_last - self.colliding_first + 1


def reversal(axis: ConvAxis, padding_mode: str | None = None) -> ReversalAxis:
    """The reversibility verdict of one convolution axis and the input sizes sharing its output size."""
    o, s = axis.output, axis.stride
    if padding_mode == "same":
        # 'same' re-derives its padding from each input size: exactly the sizes with ceil(W/s) = o.
        first, last = (o - 1) * s + 1, o * s
    else:
        first = (o - 1) * s + axis.dilated_kernel - axis.pad_before - axis.pad_after
        last = first + s - 1
    return ReversalAxis(
        size=axis.size,
        output=o,
        remainder=axis.remainder,
        base=axis.dilated_kernel - axis.pad_before - axis.pad_after,
        stride=s,
        dilation=axis.dilation,
        colliding_first=max(first, 1),
        colliding_last=last,
    )


# ---------------------------------------------------------------------------------------------------
# Normalised N-d parameters.


@dataclass(frozen=True)
class ConvParams:
    """Per-axis parameters after validation and broadcasting; padding stays a mode or explicit pairs."""

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: str | Pairs
    output_padding: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return len(self.kernel_size)

    @property
    def padding_mode(self) -> str | None:
        return self.padding if isinstance(self.padding, str) else None

    def pads_for(self, size: Sequence[int]) -> Pairs:
        """The explicit (before, after) padding of every axis for an input of this size."""
        if isinstance(self.padding, str):
            mode = self.padding
            return tuple(
                _mode_padding(mode, i, dilated_kernel_size(k, d), s)
                for i, k, s, d in zip(size, self.kernel_size, self.stride, self.dilation)
            )
        return self.padding


def normalize(
    size: object,
    kernel_size: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    transposed: bool = False,
) -> tuple[tuple[int, ...], ConvParams]:
    """Validate and broadcast the arguments; return the per-axis input size and parameters.

    Checks come in a fixed order: types and ranges of each argument, then axis counts, then the rules
    that tie parameters together (output_padding < max(stride, dilation); modes for transposed).
    """
    sizes = _int_axes("size", size, 1)
    kernels = _int_axes("kernel_size", kernel_size, 1)
    strides = _int_axes("stride", stride, 1)
    dilations = _int_axes("dilation", dilation, 1)
    pads = _padding_axes(padding)
    out_pads = _int_axes("output_padding", output_padding, 0)

    named: dict[str, tuple[object, ...]] = {
        "size": sizes,
        "kernel_size": kernels,
        "stride": strides,
        "dilation": dilations,
        "output_padding": out_pads,
    }
    if not isinstance(pads, str):
        named["padding"] = pads
    ndim = _broadcast(named)
    sizes, kernels = _spread(sizes, ndim), _spread(kernels, ndim)
    strides, dilations = _spread(strides, ndim), _spread(dilations, ndim)
    out_pads = _spread(out_pads, ndim)
    pads = pads if isinstance(pads, str) else _spread_pairs(pads, ndim)

    if transposed and isinstance(pads, str) and pads != "valid":
        raise ConvCalcError(
            f"padding={pads!r} is not defined for a transposed convolution here: its meaning differs "
            "between frameworks (see the framework conventions); give explicit padding or 'valid'",
            parameter="padding",
        )
    if any(op >= max(s, d) for op, s, d in zip(out_pads, strides, dilations)):
        raise ConvCalcError(
            "output_padding must be smaller than max(stride, dilation) on every axis (PyTorch's rule); "
            f"got output_padding={_fmt(out_pads)}, stride={_fmt(strides)}, dilation={_fmt(dilations)}",
            parameter="output_padding",
        )
    params = ConvParams(kernels, strides, dilations, pads, out_pads)
    return sizes, params


def conv_axes_for(sizes: Sequence[int], params: ConvParams) -> tuple[ConvAxis, ...]:
    """The convolution axes for normalised arguments; an output of size <= 0 is explained."""
    axes = tuple(
        ConvAxis(i, k, s, d, pb, pa)
        for i, k, s, d, (pb, pa) in zip(
            sizes, params.kernel_size, params.stride, params.dilation, params.pads_for(sizes)
        )
    )
    for n, axis in enumerate(axes):
        if axis.padded_size < axis.dilated_kernel:
            raise ConvCalcError(
                f"the dilated kernel ({axis.dilated_kernel}) is larger than the padded input "
                f"({axis.padded_size}) on axis {n}: the convolution output size would be "
                f"{axis.output}; it must be >= 1 (size {axis.size}, padding "
                f"{axis.pad_before}+{axis.pad_after}, kernel_size {axis.kernel_size}, "
                f"dilation {axis.dilation})",
                parameter="size",
            )
    return axes


def transposed_axes_for(
    sizes: Sequence[int], params: ConvParams, pads: Pairs | None = None, *, check: bool = True
) -> tuple[TransposedAxis, ...]:
    """The transposed axes for normalised PyTorch-style arguments: crops (p_before, p_after - op).

    ``pads`` overrides the padding with already resolved pairs (the twin of a 'same' convolution keeps
    the pairs the convolution resolved for its own input). ``check=False`` lets a twin be empty, so
    that a report can say so instead of failing.
    """
    axes = tuple(
        TransposedAxis(i, k, s, d, pb, pa - op)
        for i, k, s, d, (pb, pa), op in zip(
            sizes,
            params.kernel_size,
            params.stride,
            params.dilation,
            params.pads_for(sizes) if pads is None else pads,
            params.output_padding,
        )
    )
    if check:
        check_transposed_axes(axes)
    return axes


def check_transposed_axes(axes: Sequence[TransposedAxis]) -> None:
    """Refuse a transposed convolution whose output would be empty, saying where the size went."""
    for n, axis in enumerate(axes):
        if axis.output < 1:
            raise ConvCalcError(
                f"the transposed convolution output size would be {axis.output} on axis {n}; it must "
                f"be >= 1: the full output (i-1)*s + K = ({axis.size}-1)*{axis.stride} + "
                f"{axis.dilated_kernel} = {axis.full} is cropped by {axis.crop_before} before and "
                f"{axis.crop_after} after (padding and output_padding)",
                parameter="padding",
            )


def _scalar_or_tuple(size: object, values: tuple[int, ...]) -> int | tuple[int, ...]:
    return values[0] if isinstance(size, int) and len(values) == 1 else values


def conv_output_size(
    size: IntArg,
    kernel_size: IntArg,
    *,
    stride: IntArg = 1,
    padding: PaddingArg = 0,
    dilation: IntArg = 1,
) -> int | tuple[int, ...]:
    """floor((i + pad_before + pad_after - d*(k-1) - 1) / s) + 1 on every axis.

    Returns an int for an int size (one axis), else a tuple with one entry per spatial axis.

    >>> conv_output_size(5, 3, stride=2, padding=1)
    3
    >>> conv_output_size((32, 32), 4, stride=2, padding=1)
    (16, 16)
    """
    sizes, params = normalize(size, kernel_size, stride=stride, padding=padding, dilation=dilation)
    return _scalar_or_tuple(size, tuple(a.output for a in conv_axes_for(sizes, params)))


def conv_transpose_output_size(
    size: IntArg,
    kernel_size: IntArg,
    *,
    stride: IntArg = 1,
    padding: PaddingArg = 0,
    output_padding: IntArg = 0,
    dilation: IntArg = 1,
) -> int | tuple[int, ...]:
    """(i-1)*s - pad_before - pad_after + d*(k-1) + 1 + output_padding on every axis.

    Returns an int for an int size (one axis), else a tuple with one entry per spatial axis.

    >>> conv_transpose_output_size(5, 3, stride=2, padding=1, output_padding=1)
    10
    """
    sizes, params = normalize(
        size,
        kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        transposed=True,
    )
    return _scalar_or_tuple(size, tuple(a.output for a in transposed_axes_for(sizes, params)))


# ---------------------------------------------------------------------------------------------------
# Channels.


@dataclass(frozen=True)
class ChannelReport:
    """Weights and work of a convolution (in -> out channels) and of its transposed twin (out -> in)."""

    in_channels: int
    out_channels: int
    groups: int
    kernel_size: tuple[int, ...]
    conv_output: tuple[int, ...]
    bias_channels: int

    @property
    def conv_weight_shape(self) -> tuple[int, ...]:
        """(out, in/groups, *k): PyTorch's Conv weight; also the twin ConvTranspose's (in_t, out_t/groups)."""
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    @property
    def transposed_weight_shape(self) -> tuple[int, ...]:
        """The twin transposed convolution maps out -> in channels; PyTorch's layout (in_t, out_t/g, *k)."""
        return self.conv_weight_shape

    @property
    def direct_weight_shape(self) -> tuple[int, ...]:
        """The twin's equivalent direct convolution: channel axes swapped per group, then flipped."""
        return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)

    @property
    def parameters(self) -> int:
        return math.prod(self.conv_weight_shape)

    @property
    def parameters_with_bias(self) -> int:
        """With the bias of the layer the user described: one per output channel of that layer."""
        return self.parameters + self.bias_channels

    @property
    def multiply_accumulates(self) -> int:
        """Per sample; the same for the convolution and its transposed twin (one product per tap)."""
        return math.prod(self.conv_output) * self.parameters


def channel_report(
    in_channels: object,
    out_channels: object,
    groups: object,
    kernel_size: tuple[int, ...],
    conv_output: tuple[int, ...],
    bias_channels: int | None = None,
) -> ChannelReport:
    """Validate channels and groups (groups must divide both) and describe the weights."""
    c_in = _check_int("in_channels", in_channels)
    c_out = _check_int("out_channels", out_channels)
    g = _check_int("groups", groups)
    for name, value in (("in_channels", c_in), ("out_channels", c_out), ("groups", g)):
        if value < 1:
            raise ConvCalcError(f"{name} must be >= 1; got {value}", parameter=name)
    for name, value in (("in_channels", c_in), ("out_channels", c_out)):
        if value % g:
            raise ConvCalcError(
                f"groups must divide {name}; got {name}={value}, groups={g}", parameter="groups"
            )
    return ChannelReport(
        c_in, c_out, g, kernel_size, conv_output, c_out if bias_channels is None else bias_channels
    )


# ---------------------------------------------------------------------------------------------------
# The full report behind `convcalc shape`.


@dataclass(frozen=True)
class ShapeReport:
    """A convolution and its transposed twin (same kernel, stride, padding, dilation), fully described.

    ``transposed_input`` says which size the user gave: False, the convolution's input (the twin runs
    on the convolution's output); True, the transposed convolution's input (the convolution twin runs
    on the transposed output, and its input is what the reversal describes).
    """

    transposed_input: bool
    params: ConvParams
    conv: tuple[ConvAxis, ...]
    transposed: tuple[TransposedAxis, ...]
    direct: tuple[DirectAxis, ...]
    reversal: tuple[ReversalAxis, ...]
    channels: ChannelReport | None

    @property
    def ndim(self) -> int:
        return self.params.ndim

    @property
    def output_padding_strict_ok(self) -> tuple[bool, ...]:
        """Whether output_padding < stride on each axis (the rule of most frameworks but PyTorch)."""
        return tuple(op < s for op, s in zip(self.params.output_padding, self.params.stride))


def shape_report(
    size: IntArg,
    kernel_size: IntArg,
    *,
    stride: IntArg = 1,
    padding: PaddingArg = 0,
    output_padding: IntArg = 0,
    dilation: IntArg = 1,
    transposed: bool = False,
    in_channels: int | None = None,
    out_channels: int | None = None,
    groups: int = 1,
) -> ShapeReport:
    """Describe a convolution and its transposed twin; ``transposed`` says size is the twin's input."""
    sizes, params = normalize(
        size,
        kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        transposed=transposed,
    )
    if transposed:
        t_axes = transposed_axes_for(sizes, params)
        c_axes = conv_axes_for(tuple(a.output for a in t_axes), params)
    else:
        c_axes = conv_axes_for(sizes, params)
        c_pads = tuple((a.pad_before, a.pad_after) for a in c_axes)
        # A convolution whose padding reaches past its last window has a twin that can come out empty
        # (W=1, k=1, s=2, padding 0:1); the reversal row then shows the output_padding that restores W.
        t_axes = transposed_axes_for(tuple(a.output for a in c_axes), params, c_pads, check=False)

    channels = None
    if in_channels is not None or out_channels is not None:
        if in_channels is None or out_channels is None:
            missing = "in_channels" if in_channels is None else "out_channels"
            raise ConvCalcError(
                f"{missing} is needed too: give both in_channels and out_channels", parameter=missing
            )
        # The weight describes the convolution; for a transposed layer the user's channels are swapped.
        c_in, c_out = (out_channels, in_channels) if transposed else (in_channels, out_channels)
        channels = channel_report(
            c_in, c_out, groups, params.kernel_size, tuple(a.output for a in c_axes), out_channels
        )
    elif groups != 1:
        raise ConvCalcError(
            f"groups={groups} needs in_channels and out_channels to divide", parameter="groups"
        )

    return ShapeReport(
        transposed_input=transposed,
        params=params,
        conv=c_axes,
        transposed=t_axes,
        direct=tuple(direct_form(a) for a in t_axes),
        reversal=tuple(reversal(a, params.padding_mode) for a in c_axes),
        channels=channels,
    )


# ---------------------------------------------------------------------------------------------------
# Pooling and resize-upsampling (the other layers of a chain), PyTorch's rules.


@dataclass(frozen=True)
class PoolAxis:
    """One axis of max/avg pooling: o = floor_or_ceil((i + 2p - K) / s) + 1, PyTorch's ceil_mode rule.

    With ceil_mode the last window may hang over the end, but it must start inside the input or the
    left padding: if (o-1)*s >= i + p, that window is dropped.
    """

    size: int
    kernel_size: int
    stride: int
    dilation: int
    padding: int
    ceil_mode: bool

    @property
    def dilated_kernel(self) -> int:
        return dilated_kernel_size(self.kernel_size, self.dilation)

    @property
    def padded_size(self) -> int:
        return self.size + 2 * self.padding

    @property
    def output(self) -> int:
        span = self.padded_size - self.dilated_kernel
        if not self.ceil_mode:
            return span // self.stride + 1
        out = -(-span // self.stride) + 1
        return out - 1 if (out - 1) * self.stride >= self.size + self.padding else out

    @property
    def remainder(self) -> int:
        """r = (i + 2p - K) mod s: elements past the last full window (dropped, or in a partial window)."""
        return (self.padded_size - self.dilated_kernel) % self.stride

    @property
    def dropped(self) -> int:
        """Real inputs no window reaches: max(r - p, 0), or 0 when ceil_mode keeps a partial window."""
        if self.ceil_mode and self.output > (self.padded_size - self.dilated_kernel) // self.stride + 1:
            return 0
        return max(self.remainder - self.padding, 0)


def pool_axes_for(
    sizes: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    ceil_mode: bool,
) -> tuple[PoolAxis, ...]:
    """Pooling axes for per-axis arguments; PyTorch's rules: p <= k/2 and an output of at least 1."""
    axes = tuple(
        PoolAxis(i, k, s, d, p, ceil_mode)
        for i, k, s, p, d in zip(sizes, kernel_size, stride, padding, dilation)
    )
    for n, axis in enumerate(axes):
        if 2 * axis.padding > axis.kernel_size:
            raise ConvCalcError(
                f"pooling padding must be at most half the kernel size (PyTorch's rule); got padding "
                f"{axis.padding} with kernel_size {axis.kernel_size} on axis {n}",
                parameter="padding",
            )
        # With ceil_mode a window may hang over the end, so only the output size itself is checked.
        if axis.output < 1:
            raise ConvCalcError(
                f"the pooling output size would be {axis.output} on axis {n}; it must be >= 1 (size "
                f"{axis.size}, padding {axis.padding}, window {axis.dilated_kernel}, stride {axis.stride}, "
                f"ceil_mode {axis.ceil_mode})",
                parameter="size",
            )
    return axes


@dataclass(frozen=True)
class UpsampleAxis:
    """One axis of resize-upsampling by an integer scale factor: o = i * scale (nearest or bilinear)."""

    size: int
    scale: int

    @property
    def output(self) -> int:
        return self.size * self.scale
