"""What every framework convention shares: the user's arguments and the canonical layer.

A convention reads a layer in its framework's own words (padding modes and names, output_padding,
output_shape / output_size / target_shape, the framework's validity rules) and returns the core's
canonical form: ConvAxis pads for a convolution, TransposedAxis crops for a transposed convolution.
Going back, it proposes candidate arguments in its own words; ``convcalc.port.translate`` re-reads
each candidate through the same convention, so every translation is checked by the target's own rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Union

from convcalc.conventions.layouts import Layout
from convcalc.core import (
    ConvAxis,
    Pairs,
    TransposedAxis,
    broadcast_axes,
    int_axes,
    output_padding_allowed,
    padding_pairs,
    same_padding,
    spread_axes,
    spread_pairs,
)
from convcalc.core.layer import Layer
from convcalc.errors import ConvCalcError

if TYPE_CHECKING:  # the snippet writer (and its ast) loads only where code is written
    from convcalc.conventions.code import LayerCode

Padding = Union[str, Pairs]


@dataclass(frozen=True)
class LayerArgs:
    """One layer as a framework's user writes it: per-axis values, padding a word or (before, after) pairs.

    ``output_padding`` and ``output_size`` are None when not given (Keras tells None from 0).
    ``output_size`` is the framework's requested output: PyTorch output_size, TensorFlow and ONNX
    output_shape, Paddle output_size, MXNet target_shape.
    """

    size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Padding
    output_padding: tuple[int, ...] | None = None
    output_size: tuple[int, ...] | None = None
    transposed: bool = False
    transpose_kernel: bool = False

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def padding_word(self) -> str | None:
        return self.padding if isinstance(self.padding, str) else None

    def pairs(self) -> Pairs:
        """The explicit padding pairs; only valid when padding is not a word."""
        assert not isinstance(self.padding, str)
        return self.padding


def make_args(
    size: object,
    kernel_size: object,
    *,
    stride: object = 1,
    dilation: object = 1,
    padding: object = 0,
    output_padding: object = None,
    output_size: object = None,
    transposed: bool = False,
    transpose_kernel: bool = False,
) -> LayerArgs:
    """Check types and ranges, then axis counts; return per-axis LayerArgs (framework rules come later)."""
    sizes = int_axes("size", size, 1)
    kernels = int_axes("kernel_size", kernel_size, 1)
    strides = int_axes("stride", stride, 1)
    dilations = int_axes("dilation", dilation, 1)
    word = padding.strip().lower() if isinstance(padding, str) else None
    pads = None if word is not None else padding_pairs(padding, minimum=None)
    out_pads = None if output_padding is None else int_axes("output_padding", output_padding, 0)
    out_sizes = None if output_size is None else int_axes("output_size", output_size, 1)

    named: dict[str, tuple[object, ...]] = {
        "size": sizes,
        "kernel_size": kernels,
        "stride": strides,
        "dilation": dilations,
    }
    if pads is not None:
        named["padding"] = pads
    if out_pads is not None:
        named["output_padding"] = out_pads
    if out_sizes is not None:
        named["output_size"] = out_sizes
    ndim = broadcast_axes(named)
    return LayerArgs(
        size=spread_axes(sizes, ndim),
        kernel_size=spread_axes(kernels, ndim),
        stride=spread_axes(strides, ndim),
        dilation=spread_axes(dilations, ndim),
        padding=word if word is not None else spread_pairs(pads or ((0, 0),), ndim),
        output_padding=None if out_pads is None else spread_axes(out_pads, ndim),
        output_size=None if out_sizes is None else spread_axes(out_sizes, ndim),
        transposed=transposed,
        transpose_kernel=transpose_kernel,
    )


@dataclass(frozen=True)
class FrameworkLayer:
    """A layer read by one framework's rules: its canonical axes (conv pads or transposed crops) and notes.

    Kept beside the core's ``Layer`` (``layer``) because it holds what only the framework knows: its
    name, the arguments as its user wrote them, its notes and the backends that refuse the layer.

    ``unsupported_by`` names the framework's backends or kernels that refuse this layer although the
    framework defines it, or compute other values (Keras's TensorFlow backend, TensorFlow's CPU kernels);
    empty when every one runs it as described. ``port`` prefers layers every backend runs.
    """

    framework: str
    args: LayerArgs
    conv: tuple[ConvAxis, ...] = ()
    transposed: tuple[TransposedAxis, ...] = ()
    notes: tuple[str, ...] = ()
    unsupported_by: tuple[str, ...] = ()

    @property
    def is_transposed(self) -> bool:
        return self.args.transposed

    @property
    def output(self) -> tuple[int, ...]:
        axes: Sequence[ConvAxis | TransposedAxis] = self.transposed if self.is_transposed else self.conv
        return tuple(a.output for a in axes)

    @property
    def placement(self) -> tuple[tuple[int, int], ...]:
        """Per axis: pads (before, after) of a convolution, crops (before, after) of a transposed one."""
        return self.layer.placement

    @property
    def layer(self) -> Layer:
        """The canonical layer these arguments describe. Its output_padding is PyTorch's own when the
        framework is PyTorch, else 0: another framework's output_padding can mean another crop, and the
        crops already say everything."""
        if self.is_transposed:
            pytorch = self.framework == "pytorch"
            return Layer.of(self.transposed, self.args.output_padding if pytorch else None)
        return Layer.of(self.conv)


class Convention:
    """One framework's reading of convolution arguments. Subclasses fill in the framework's own rules."""

    name: str = ""
    title: str = ""
    padding_words: tuple[str, ...] = ()
    transposed_padding_words: tuple[str, ...] = ()
    default_padding: Padding = ((0, 0),)
    conv_layout = Layout(("O", "I/g", "S"))
    transposed_layout_default = Layout(("I", "O/g", "S"))
    # The name of output_size / output_padding in this framework, or None where it has no such argument.
    output_size_name: str | None = None
    output_padding_name: str | None = "output_padding"
    transposed_groups = True

    def transposed_layout(self, args: LayerArgs) -> Layout:
        return self.transposed_layout_default

    def layout(self, args: LayerArgs) -> Layout:
        return self.transposed_layout(args) if args.transposed else self.conv_layout

    # Reading: framework arguments -> canonical form.
    def read(self, args: LayerArgs) -> FrameworkLayer:
        """Check this framework's rules and return the canonical layer (ConvCalcError when it refuses)."""
        self.check_words(args)
        if args.transposed:
            axes, notes = self.read_transposed(args)
            self.check_transposed_output(axes)
            layer = FrameworkLayer(self.name, args, transposed=axes, notes=tuple(notes))
        else:
            if args.output_size is not None:
                raise self.error("output_size", "output_size only applies to a transposed convolution")
            if args.output_padding is not None:
                raise self.error("output_padding", "output_padding only applies to a transposed convolution")
            conv, notes = self.read_conv(args)
            self.check_conv_output(conv)
            layer = FrameworkLayer(self.name, args, conv=conv, notes=tuple(notes))
        refusals = self.backend_refusals(layer)
        if not refusals:
            return layer
        return replace(
            layer,
            unsupported_by=tuple(who for who, _ in refusals if who),
            notes=layer.notes + tuple(why for _, why in refusals),
        )

    def backend_refusals(self, layer: FrameworkLayer) -> list[tuple[str, str]]:
        """(backend or kernel, why) for each part of the framework that refuses a layer it defines or
        computes other values; an empty name marks a note about a case this layer is close to."""
        return []

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        raise NotImplementedError

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        raise NotImplementedError

    # Writing: canonical form -> candidate arguments, best first; port re-reads and picks.
    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        raise NotImplementedError

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        raise NotImplementedError

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        """The arguments as this framework's API spells them, in order."""
        raise NotImplementedError

    def port_notes(self, wanted: FrameworkLayer, produced: FrameworkLayer, exact: bool) -> list[str]:
        """Notes on a port's chosen arguments (another op of this framework that does better, ...)."""
        return []

    # Code to paste (``convcalc.port.snippet``): the import, the tensors' layout, the layer and a pad.
    code_import: str = ""
    channels_last = False  # tensors (N, spatial..., C) rather than (N, C, spatial...)
    pad_function = "numpy.pad"
    fix_in_code = True  # False: the fix is named in a comment (an ONNX node, a Caffe layer)

    def layer_code(self, code: LayerCode) -> list[str]:
        """The layer applied to ``code.x`` as lines of code (``y = ...``, or the node it declares)."""
        raise NotImplementedError

    def pad_code(self, name: str, pairs: Sequence[tuple[int, int]]) -> str:
        """Zeros added around the spatial axes of ``name`` by the framework's own pad function."""
        spatial = [[b, a] for b, a in pairs]
        full = [[0, 0], *spatial, [0, 0]] if self.channels_last else [[0, 0], [0, 0], *spatial]
        return f"{self.pad_function}({name}, {full})"

    # Shared checks and helpers.
    def error(self, parameter: str, message: str) -> ConvCalcError:
        return ConvCalcError(f"{self.title}: {message}", parameter=parameter)

    def check_words(self, args: LayerArgs) -> None:
        word = args.padding_word
        allowed = self.transposed_padding_words if args.transposed else self.padding_words
        if word is not None and word not in allowed:
            kind = "transposed convolution" if args.transposed else "convolution"
            accepted = ", ".join(repr(w) for w in allowed) or "no padding words"
            raise self.error(
                "padding",
                f"padding for a {kind} takes {accepted} or explicit integers; got {word!r}",
            )

    def check_conv_output(self, axes: Sequence[ConvAxis]) -> None:
        for n, a in enumerate(axes):
            if a.output < 1:
                raise self.error("size", self.too_small_conv_message(n, a))

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        return (
            f"the dilated kernel ({a.dilated_kernel}) is larger than the padded input "
            f"({a.padded_size}) on axis {n}, so the output would be {a.output}; it must be >= 1"
        )

    def check_transposed_output(self, axes: Sequence[TransposedAxis]) -> None:
        for n, a in enumerate(axes):
            if a.output < 1:
                raise self.error(
                    "padding",
                    f"the transposed output would be {a.output} on axis {n} (full output "
                    f"(i-1)*s + K = {a.full}, cropped {a.crop_before} before and {a.crop_after} after); "
                    "it must be >= 1",
                )

    def nonnegative_pairs(self, args: LayerArgs) -> Pairs:
        pairs = args.pairs()
        if any(v < 0 for pair in pairs for v in pair):
            raise self.error("padding", f"padding must be >= 0 on every axis; got {list(pairs)}")
        return pairs

    def symmetric_pads(self, args: LayerArgs, how: str) -> tuple[int, ...]:
        pairs = self.nonnegative_pairs(args)
        if any(b != a for b, a in pairs):
            raise self.error(
                "padding",
                f"padding is symmetric (one value per axis); {how}; got {[list(p) for p in pairs]}",
            )
        return tuple(b for b, _ in pairs)

    def output_padding_below(self, args: LayerArgs, rule: str, strict_stride: bool) -> tuple[int, ...]:
        """output_padding, checked against op < s (strict) or op < max(s, d); zeros when not given."""
        op = args.output_padding or (0,) * args.ndim
        for n, (p, s, d) in enumerate(zip(op, args.stride, args.dilation)):
            if not output_padding_allowed(p, s, d, strict=strict_stride):
                raise self.error(
                    "output_padding",
                    f"{rule}; got output_padding={list(op)}, stride={list(args.stride)}, "
                    f"dilation={list(args.dilation)} (axis {n})",
                )
        return op


class ExplicitPairsConvention(Convention):
    """A framework that takes (before, after) padding pairs and output_padding (ONNX, Paddle, Equinox).

    Its port candidates: the placement's pairs clipped at zero for a convolution; for a transposed one,
    the closest pairs plus output_padding, and no padding with output_padding extending the end.
    """

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        explicit = tuple((max(b, 0), max(a, 0)) for b, a in wanted.placement)
        return [with_(wanted.args, padding=explicit)]

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, output_size=None, output_padding=None)
        pads, ops = [], []
        for a in wanted.transposed:
            pb, pa, op = explicit_closest(a.crop_before, a.crop_after, a.stride)
            pads.append((pb, pa))
            ops.append(op)
        extend = tuple(min(max(-a.crop_after, 0), a.stride - 1) for a in wanted.transposed)
        return [
            with_(base, padding=tuple(pads), output_padding=tuple(ops)),
            with_(base, padding=((0, 0),) * base.ndim, output_padding=extend),
        ]


def conv_axes(args: LayerArgs, pads: Pairs, dilation: Sequence[int] | None = None) -> tuple[ConvAxis, ...]:
    """The canonical convolution axes for resolved pads (``dilation`` overrides, for Paddle's 'SAME')."""
    dil = args.dilation if dilation is None else tuple(dilation)
    return tuple(
        ConvAxis(i, k, s, d, pb, pa)
        for i, k, s, d, (pb, pa) in zip(args.size, args.kernel_size, args.stride, dil, pads)
    )


def transposed_axes(
    args: LayerArgs, crops: Sequence[tuple[int, int]], dilation: Sequence[int] | None = None
) -> tuple[TransposedAxis, ...]:
    """The canonical transposed axes for crops relative to the full output (i-1)*s + K."""
    dil = args.dilation if dilation is None else tuple(dilation)
    return tuple(
        TransposedAxis(i, k, s, d, cb, ca)
        for i, k, s, d, (cb, ca) in zip(args.size, args.kernel_size, args.stride, dil, crops)
    )


def same_pads(args: LayerArgs, lower: bool = False) -> Pairs:
    """TensorFlow 'same' pads for each axis; ``lower`` moves the odd element to the start (SAME_LOWER)."""
    pads = []
    for a in conv_axes(args, ((0, 0),) * args.ndim):
        before, after = same_padding(a.size, a.dilated_kernel, a.stride)
        pads.append((after, before) if lower else (before, after))
    return tuple(pads)


def with_(args: LayerArgs, **changes: object) -> LayerArgs:
    """A copy of the arguments with some fields replaced (candidates for the reverse direction)."""
    return replace(args, **changes)  # type: ignore[arg-type]


def full_sizes(args: LayerArgs) -> tuple[int, ...]:
    """The full transposed output (i-1)*s + K of every axis."""
    return tuple(a.full for a in transposed_axes(args, ((0, 0),) * args.ndim))


def fmt_list(values: Sequence[object]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def fmt_tuple(values: Sequence[object]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def explicit_closest(crop_before: int, crop_after: int, bound: int) -> tuple[int, int, int]:
    """Asymmetric (pad_before, pad_after, op) with 0 <= op < bound closest to the wanted crops.

    Crops are (pad_before, pad_after - op); a negative crop before cannot be expressed (it is left to a
    zero pad after the layer), a negative crop after is output padding as far as the bound allows.

    >>> explicit_closest(1, 0, 2), explicit_closest(0, -1, 2), explicit_closest(-1, -3, 2)
    ((1, 0, 0), (0, 0, 1), (0, 0, 1))
    """
    if crop_after >= 0:
        return max(crop_before, 0), crop_after, 0
    return max(crop_before, 0), 0, min(-crop_after, bound - 1)


def trunc_div(numerator: int, denominator: int) -> int:
    """Integer division rounding toward zero, as C and C++ divide.

    >>> trunc_div(-1, 2), (-1) // 2
    (0, -1)
    """
    q = abs(numerator) // abs(denominator)
    return q if (numerator >= 0) == (denominator > 0) else -q
