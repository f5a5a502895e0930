"""The arithmetic core: sizes of convolutions and transposed convolutions, in Python integers only.

Every size convcalc reports is computed here, once. The canonical form of a transposed convolution is
the pair of crops (before, after) taken from its full output ``(i-1)*s + d*(k-1) + 1``; a negative crop
extends the output with zeros. PyTorch's ``padding``/``output_padding`` map to crops
``(padding_before, padding_after - output_padding)``, and every other framework convention reduces to
the same pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Union

from convcalc.core.rules import Pairs as Pairs
from convcalc.core.rules import _fmt, output_padding_allowed
from convcalc.errors import ConvCalcError

MAX_AXES = 16
PADDING_MODES = ("valid", "same", "full")

IntArg = Union[int, Sequence[int]]
PaddingArg = Union[int, str, Sequence[Union[int, Sequence[int]]]]


# ---------------------------------------------------------------------------------------------------
# Validation at the boundary: types, then ranges, then axis counts, then rules tying parameters.


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


class ConvAxis(NamedTuple):
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


class TransposedAxis(NamedTuple):
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


class DirectAxis(NamedTuple):
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


class ReversalAxis(NamedTuple):
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
    def restored(self) -> int | None:
        """W - r, the size the twin gives back with output_padding 0; None when the twin has no output
        (W - r < 1: the padding crops everything the twin would give)."""
        back = self.size - self.remainder
        return back if back >= 1 else None

    @property
    def reversible(self) -> bool:
        return self.remainder == 0

    @property
    def output_padding_to_restore(self) -> int:
        return self.remainder

    @property
    def allowed_pytorch(self) -> bool:
        return output_padding_allowed(self.remainder, self.stride, self.dilation)

    @property
    def allowed_strict(self) -> bool:
        return output_padding_allowed(self.remainder, self.stride, self.dilation, strict=True)

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
