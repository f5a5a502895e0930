"""TensorFlow Lite: CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV as the TFLite interpreter runs them.

Padding is a word only ('SAME' or 'VALID', the ``padding`` field of the op's options). A convolution
pads as TensorFlow does: output ceil(i/s) for 'SAME', the odd padding element at the end. A transposed
convolution reads its output size from its ``output_shape`` input tensor O and computes its padding
from O alone, as the forward convolution from O would pad: total = max((ceil(O/s) - 1)*s + K - O, 0)
for 'SAME' (0 for 'VALID'), of which total // 2 is cropped at the start of the full output
(i-1)*s + K; the output is its first O elements from there, so the end is cropped, or extended with
zeros, by whatever is left. Unlike tf.nn.conv2d_transpose, the interpreter does not check that O is a
size the input gives: its reference kernel runs as stated for any O, its optimized kernel and XNNPACK
delegate (the defaults) only for the O that tf.nn accepts (``backend_refusals``). No dilation.
Filters: (O, k..., I/groups) for CONV_2D, (1, k..., I*multiplier) for DEPTHWISE_CONV_2D, and
(O, k..., I) for TRANSPOSE_CONV, none of them flipped.
"""

from __future__ import annotations

from convcalc.conventions.base import (
    Convention,
    FrameworkLayer,
    LayerArgs,
    conv_axes,
    fmt_list,
    full_sizes,
    same_pads,
    transposed_axes,
    with_,
)
from convcalc.conventions.layouts import Layout
from convcalc.core import ConvAxis, TransposedAxis


def transposed_crop_before(output: int, kernel: int, stride: int, word: str) -> int:
    """Crop at the start of a TRANSPOSE_CONV: half the padding the forward convolution from O would take.

    >>> transposed_crop_before(10, 3, 2, "same"), transposed_crop_before(9, 3, 2, "same")
    (0, 1)
    """
    if word != "same":
        return 0
    total = max((-(-output // stride) - 1) * stride + kernel - output, 0)
    return total // 2


def consistent_output_range(size: int, kernel: int, stride: int, word: str) -> tuple[int, int]:
    """The output_shape values whose forward convolution gives back the input size (TensorFlow's check)."""
    if word == "same":
        return (size - 1) * stride + 1, size * stride
    full = (size - 1) * stride + kernel
    return full, full + stride - 1


class TFLite(Convention):
    name = "tflite"
    title = "TFLite"
    padding_words = ("same", "valid")
    transposed_padding_words = ("same", "valid")
    default_padding = "valid"
    conv_layout = Layout(("O", "S", "I/g"))
    transposed_layout_default = Layout(("O", "S", "I"))
    output_size_name = "output_shape"
    output_padding_name = None
    transposed_groups = False

    def check_words(self, args: LayerArgs) -> None:
        if args.padding_word is None:
            raise self.error(
                "padding",
                "the ops take padding 'SAME' or 'VALID' only (explicit pads are a separate PAD op); got "
                f"{[list(p) for p in args.pairs()]}",
            )
        super().check_words(args)

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        if args.padding_word == "same":
            return conv_axes(args, same_pads(args)), []
        return conv_axes(args, ((0, 0),) * args.ndim), []

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        return (
            f"the dilated kernel ({a.dilated_kernel}) is larger than the padded input ({a.padded_size}) on "
            f"axis {n}: the interpreter's Prepare computes an output size {a.output} and fails"
        )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        if args.output_padding is not None:
            raise self.error(
                "output_padding", "TRANSPOSE_CONV has no output_padding: its output_shape input sets the size"
            )
        if any(d != 1 for d in args.dilation):
            raise self.error("dilation", f"TRANSPOSE_CONV has no dilation; got {fmt_list(args.dilation)}")
        if args.output_size is None:
            raise self.error(
                "output_size",
                "TRANSPOSE_CONV reads its output size from its output_shape input tensor; give it",
            )
        word = args.padding_word
        assert word is not None
        crops = []
        for o, k, s, full in zip(args.output_size, args.kernel_size, args.stride, full_sizes(args)):
            before = transposed_crop_before(o, k, s, word)
            crops.append((before, full - before - o))
        return transposed_axes(args, crops), []

    def backend_refusals(self, layer: FrameworkLayer) -> list[tuple[str, str]]:
        args = layer.args
        if not args.transposed or args.output_size is None:
            return []
        word = args.padding_word or "valid"
        for n, (i, k, s, o) in enumerate(zip(args.size, args.kernel_size, args.stride, args.output_size)):
            lo, hi = consistent_output_range(i, k, s, word)
            if not lo <= o <= hi:
                why = (
                    f"output_shape {o} on axis {n} is not one the input size {i} gives ({lo}..{hi} with "
                    "these settings; a fixed-size model run at another size): the reference kernel "
                    "crops or zero-extends the end as shown, the optimized kernel and the XNNPACK "
                    "delegate (the interpreter's defaults) give other sizes or values, uninitialised "
                    "memory included"
                )
                return [("TFLite's optimized kernel and XNNPACK delegate", why)]
        return []

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, padding="valid")
        return [with_(base, padding="same"), base]

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, output_padding=None, output_size=wanted.output)
        return [with_(base, padding="same"), with_(base, padding="valid")]

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        out = [
            ("filter spatial shape", fmt_list(args.kernel_size)),
            ("stride", fmt_list(args.stride)),
            ("dilation", fmt_list(args.dilation)),
            ("padding", repr((args.padding_word or "valid").upper())),
        ]
        if args.transposed and args.output_size is not None:
            out.append(("output_shape (spatial)", fmt_list(args.output_size)))
        return out


CONVENTION = TFLite()
