"""TensorFlow tf.nn: conv1d/2d/3d and conv{1,2,3}d_transpose / conv_transpose.

Convolution: 'SAME' (output ceil(i/s), odd padding element at the end), 'VALID', or explicit
(before, after) pairs. Transposed: the gradient of that convolution, so the caller passes output_shape
O and TensorFlow checks that the forward convolution maps O back to i; SAME crops the full output with
the odd element at the end (or zero-extends at the end). No output_padding, no groups; filters
(k..., in/groups, out) and (k..., out, in) for the transposed op.
"""

from __future__ import annotations

from convcalc.core import ConvAxis, TransposedAxis, split_extra_at_end
from convcalc.frameworks.base import (
    Convention,
    FrameworkLayer,
    LayerArgs,
    conv_axes,
    explicit_closest,
    fmt_list,
    full_sizes,
    same_pads,
    transposed_axes,
    trunc_div,
    with_,
)
from convcalc.frameworks.layouts import Layout


def output_shape_range(args: LayerArgs) -> list[tuple[int, int]]:
    """Per axis the output_shape values TensorFlow accepts: those the forward convolution maps back to i.

    SAME: ceil(O/s) = i, so O in [(i-1)*s + 1, i*s]; VALID: [full, full + s - 1]; explicit (pb, pa):
    [full - pb - pa, full - pb - pa + s - 1].
    """
    ranges = []
    for n, (i, s, full) in enumerate(zip(args.size, args.stride, full_sizes(args))):
        if args.padding_word == "same":
            ranges.append(((i - 1) * s + 1, i * s))
        elif args.padding_word == "valid":
            ranges.append((full, full + s - 1))
        else:
            pb, pa = args.pairs()[n]
            ranges.append((full - pb - pa, full - pb - pa + s - 1))
    return ranges


def keras_output_shape(args: LayerArgs) -> tuple[int, ...]:
    """The output_shape Keras computes for tf.nn (op=None): i*s for SAME, (i-1)*s + max(K, s) for VALID."""
    out = []
    for n, (i, s, full) in enumerate(zip(args.size, args.stride, full_sizes(args))):
        k = full - (i - 1) * s
        if args.padding_word == "same":
            out.append(i * s)
        elif args.padding_word == "valid":
            out.append((i - 1) * s + max(k, s))
        else:
            pb, pa = args.pairs()[n]
            out.append(full - pb - pa)
    return tuple(out)


class TensorFlow(Convention):
    name = "tensorflow"
    title = "TensorFlow"
    padding_words = ("same", "valid")
    transposed_padding_words = ("same", "valid")
    default_padding = "valid"
    conv_layout = Layout(("S", "I/g", "O"))
    transposed_layout_default = Layout(("S", "O", "I"))
    output_size_name = "output_shape"
    output_padding_name = None
    transposed_groups = False

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        word = args.padding_word
        if word == "same":
            return conv_axes(args, same_pads(args)), []
        if word == "valid":
            return conv_axes(args, ((0, 0),) * args.ndim), []
        return conv_axes(args, self.nonnegative_pairs(args)), []

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        # TensorFlow divides with truncation: (i + pads - K + s) / s.
        truncated = trunc_div(a.padded_size - a.dilated_kernel + a.stride, a.stride)
        if truncated < 0:
            return (
                f"Computed output size would be negative: {truncated} [input_size: {a.size}, "
                f"effective_filter_size: {a.dilated_kernel}, stride: {a.stride}] on axis {n}"
            )
        return (
            f"the padded input ({a.padded_size}) is smaller than the dilated kernel ({a.dilated_kernel}) on "
            f"axis {n}: eager TensorFlow returns an empty output, graph mode fails with 'Negative dimension "
            "size'; convcalc describes layers with at least one output element"
        )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        if args.output_padding is not None:
            raise self.error(
                "output_padding",
                "tf.nn.conv_transpose has no output_padding: give the output size (output_shape) instead",
            )
        pairs = None if args.padding_word else self.nonnegative_pairs(args)
        notes = []
        ranges = output_shape_range(args)
        if args.output_size is None:
            out = keras_output_shape(args)
            notes.append(
                f"tf.nn.conv_transpose needs output_shape; assumed {fmt_list(out)}, the size Keras passes "
                f"(accepted per axis: {', '.join(f'{lo}..{hi}' for lo, hi in ranges)})"
            )
        else:
            out = args.output_size
        for n, (o, (lo, hi)) in enumerate(zip(out, ranges)):
            if not lo <= o <= hi:
                raise self.error(
                    "output_size",
                    "output_shape must be a size that the forward convolution with the same settings "
                    f"maps back to the input size {args.size[n]}: {lo}..{hi} on axis {n}; got {o}",
                )
        crops = []
        for n, (o, full) in enumerate(zip(out, full_sizes(args))):
            if args.padding_word == "same":
                crops.append(split_extra_at_end(full - o))
            elif args.padding_word == "valid":
                crops.append((0, full - o))
            else:
                assert pairs is not None
                crops.append((pairs[n][0], full - pairs[n][0] - o))
        if any(d > 1 for d in args.dilation):
            notes.append(
                "TensorFlow's CPU (Eigen) kernels refuse transposed convolutions with dilation > 1; "
                "the oneDNN kernels run them"
            )
        return transposed_axes(args, crops), notes

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, padding=((0, 0),) * wanted.args.ndim)
        explicit = tuple((max(b, 0), max(a, 0)) for b, a in wanted.placement)
        return [with_(base, padding="same"), with_(base, padding="valid"), with_(base, padding=explicit)]

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, output_padding=None, output_size=wanted.output)
        out = [with_(base, padding="same"), with_(base, padding="valid")]
        pads, sizes = [], []
        for a in wanted.transposed:
            pb, pa, op = explicit_closest(a.crop_before, a.crop_after, a.stride)
            pads.append((pb, pa))
            sizes.append(a.full - pb - pa + op)
        out.append(with_(base, padding=tuple(pads), output_size=tuple(sizes)))
        extended = tuple(a.full + min(max(-a.crop_after, 0), a.stride - 1) for a in wanted.transposed)
        out.append(with_(base, padding=((0, 0),) * base.ndim, output_size=extended))
        return out

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        word = args.padding_word
        padding = repr(word.upper()) if word else fmt_list([f"[{b}, {a}]" for b, a in args.pairs()])
        out = [
            ("filter spatial shape", fmt_list(args.kernel_size)),
            ("strides", fmt_list(args.stride)),
            ("dilations", fmt_list(args.dilation)),
            ("padding", padding + ("" if word else " (spatial pairs; [0, 0] for batch and channels)")),
        ]
        if args.transposed:
            size = args.output_size if args.output_size is not None else keras_output_shape(args)
            out.append(("output_shape (spatial)", fmt_list(size)))
        return out


CONVENTION = TensorFlow()
