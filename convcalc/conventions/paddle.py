"""PaddlePaddle: paddle.nn.functional.conv*d and conv*d_transpose.

Explicit padding may be asymmetric. 'SAME' uses the raw kernel size and forces dilation to 1, for the
convolution and (on the transposed layer's own input size) for the transposed one, so a transposed
'SAME' gives i*s only when s divides i. output_padding and output_size exclude each other; output_size
must lie in [inferred, inferred + s - 1]; output_padding beyond the stride fails in the CPU kernel.
A convolution whose padded input is shorter than the dilated kernel by less than the stride still has
one output element in Paddle (it divides with truncation and reads the overhang as zeros): convcalc
reports that element, as zeros appended at the end, and warns. Weights as in PyTorch.
"""

from __future__ import annotations

from convcalc.conventions.base import (
    ExplicitPairsConvention,
    LayerArgs,
    conv_axes,
    fmt_list,
    full_sizes,
    transposed_axes,
    trunc_div,
    with_,
)
from convcalc.conventions.code import LayerCode, call
from convcalc.core import ConvAxis, TransposedAxis, same_padding


def paddle_same_pads(args: LayerArgs) -> tuple[tuple[int, int], ...]:
    """Paddle's SAME: TensorFlow's split computed with the raw kernel size k (dilation taken as 1)."""
    pads = []
    for i, k, s in zip(args.size, args.kernel_size, args.stride):
        pads.append(same_padding(i, k, s))
    return tuple(pads)


def overhang_as_zeros(axes: tuple[ConvAxis, ...]) -> tuple[tuple[ConvAxis, ...], list[str]]:
    """Where 0 < K - padded < s, Paddle's truncated size is 1: the first window, its overhang as zeros."""
    out, notes = [], []
    for n, a in enumerate(axes):
        short = a.dilated_kernel - a.padded_size
        if 0 < short < a.stride:
            out.append(a._replace(pad_after=a.pad_after + short))
            notes.append(
                f"the padded input ({a.padded_size}) is shorter than the dilated kernel ({a.dilated_kernel}) "
                f"on axis {n}, which other frameworks refuse; Paddle divides with truncation, "
                f"({a.padded_size} - {a.dilated_kernel}) / {a.stride} + 1 = 1, and returns one element: the "
                f"window from the start with its overhang read as zeros (shown as {short} more zero(s) of "
                "padding at the end)"
            )
        else:
            out.append(a)
    return tuple(out), notes


class Paddle(ExplicitPairsConvention):
    name = "paddle"
    title = "PaddlePaddle"
    padding_words = ("same", "valid")
    transposed_padding_words = ("same", "valid")
    default_padding = ((0, 0),)
    output_size_name = "output_size"

    def dilation_note(self, args: LayerArgs) -> list[str]:
        if any(d > 1 for d in args.dilation):
            return [
                f"padding='SAME' ignores dilation: Paddle runs this layer with dilation 1, not "
                f"{fmt_list(args.dilation)}"
            ]
        return []

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        word = args.padding_word
        if word == "same":
            return conv_axes(args, paddle_same_pads(args), (1,) * args.ndim), self.dilation_note(args)
        pairs = ((0, 0),) * args.ndim if word == "valid" else self.nonnegative_pairs(args)
        return overhang_as_zeros(conv_axes(args, pairs))

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        truncated = trunc_div(a.padded_size - a.dilated_kernel, a.stride) + 1
        outcome = (
            "returns an empty output"
            if truncated == 0
            else "fails ('The meta data must be valid when call the mutable data function')"
        )
        return (
            f"the padded input ({a.padded_size}) is smaller than the dilated kernel ({a.dilated_kernel}) on "
            f"axis {n}: Paddle divides with truncation, (i + pads - K) / s + 1 = {truncated}, and {outcome}; "
            "convcalc describes layers with at least one output element"
        )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        if args.output_padding is not None and args.output_size is not None:
            raise self.error("output_size", "output_padding option is mutually exclusive with output_size")
        word = args.padding_word
        if word == "same":
            if args.output_padding is not None or args.output_size is not None:
                raise self.error(
                    "padding", "convcalc does not model 'SAME' together with output_padding or output_size"
                )
            undilated = with_(args, dilation=(1,) * args.ndim)
            crops = paddle_same_pads(args)
            return transposed_axes(undilated, crops), self.dilation_note(args)
        pairs = ((0, 0),) * args.ndim if word == "valid" else self.nonnegative_pairs(args)
        op = self.output_padding_below(
            args,
            "output_padding must be smaller than the stride (the C++ check allows max(stride, dilation), "
            "but the CPU kernel then fails on inconsistent sizes)",
            strict_stride=True,
        )
        if args.output_size is not None:
            ops = []
            for n, (o, full, s, (pb, pa)) in enumerate(
                zip(args.output_size, full_sizes(args), args.stride, pairs)
            ):
                inferred = full - pb - pa
                if o < inferred:
                    raise self.error(
                        "output_size",
                        f"output_size should not be less than the inferred output size {inferred} "
                        f"((i-1)*s - pads + K) on axis {n}; got {o}",
                    )
                if o >= inferred + s:
                    raise self.error(
                        "output_size",
                        f"output_size should be less than inferred size + stride = {inferred} + {s} = "
                        f"{inferred + s} on axis {n}; got {o}",
                    )
                ops.append(o - inferred)
            op = tuple(ops)
        crops = tuple((pb, pa - p) for (pb, pa), p in zip(pairs, op))
        return transposed_axes(args, crops), []

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        word = args.padding_word
        padding = repr(word.upper()) if word else fmt_list([v for pair in args.pairs() for v in pair])
        out = [
            ("kernel_size", fmt_list(args.kernel_size)),
            ("stride", fmt_list(args.stride)),
            ("dilation", fmt_list(args.dilation)),
            ("padding", padding + ("" if word else " (before, after per axis)")),
        ]
        if args.transposed:
            if args.output_size is not None:
                out.append(("output_size", fmt_list(args.output_size)))
            else:
                out.append(("output_padding", fmt_list(args.output_padding or (0,) * args.ndim)))
        return out

    code_import = "import paddle"
    pad_function = "paddle.nn.functional.pad"

    def layer_code(self, code: LayerCode) -> list[str]:
        name = f"paddle.nn.Conv{code.ndim}D{'Transpose' if code.transposed else ''}"
        layer = call(name, [code.in_channels, code.out_channels], [*code.keywords(), *code.grouped])
        return [f"layer = {layer}", f"y = layer({code.x})"]


CONVENTION = Paddle()
