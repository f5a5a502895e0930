"""ONNX Conv and ConvTranspose, as ONNX Runtime (1.13 and later) executes them.

auto_pad is NOTSET (explicit pads [begins..., ends...], possibly asymmetric), VALID, SAME_UPPER (odd
element at the end) or SAME_LOWER (at the start). ConvTranspose crops (pads_begin, pads_end -
output_padding); with output_shape O the total t = full + op - O is split with the odd crop at the end
for SAME_UPPER and at the start otherwise. ONNX Runtime demands output_padding < stride in effect.
Weights (M, C/group, k...) and (C, M/group, k...), as in PyTorch.
"""

from __future__ import annotations

from convcalc.conventions.base import (
    ExplicitPairsConvention,
    LayerArgs,
    conv_axes,
    fmt_list,
    full_sizes,
    same_pads,
    transposed_axes,
    trunc_div,
)
from convcalc.conventions.code import LayerCode, call
from convcalc.core import ConvAxis, TransposedAxis, split_extra_at_end, split_extra_at_start

WORDS = ("notset", "valid", "same_upper", "same_lower")


class Onnx(ExplicitPairsConvention):
    name = "onnx"
    title = "ONNX"
    padding_words = WORDS
    transposed_padding_words = WORDS
    default_padding = ((0, 0),)
    output_size_name = "output_shape"

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        word = args.padding_word
        if word in ("same_upper", "same_lower"):
            if any(d > 1 for d in args.dilation):
                # Found by running onnxruntime 1.31.1: its Conv kernel refuses this, ConvTranspose does not.
                raise self.error(
                    "dilation",
                    f"Dilation not supported for auto_pad {word.upper()} in ONNX Runtime's Conv; use "
                    f"explicit pads instead; got dilations={list(args.dilation)}",
                )
            for n, (i, k, s) in enumerate(zip(args.size, args.kernel_size, args.stride)):
                self.check_same_shift(word, n, i, k, s)
            return conv_axes(args, same_pads(args, lower=word == "same_lower")), []
        if word in ("valid", "notset"):
            return conv_axes(args, ((0, 0),) * args.ndim), []
        return conv_axes(args, self.nonnegative_pairs(args)), []

    def check_same_shift(self, word: str, n: int, size: int, kernel: int, stride: int) -> None:
        """Refuse SAME_* where ONNX Runtime's Conv reads a shifted window (observed, onnxruntime 1.31.1).

        ORT does not clamp the SAME padding at 0: pad_needed = (ceil(i/s)-1)*s + k - i goes negative
        when the kernel is shorter than the stride's gap, it splits it with C division, and its kernel
        then starts the windows -tail-1 (SAME_UPPER) or -tail-2 (SAME_LOWER) elements in, not at 0 as
        the ONNX spec and TensorFlow do. tests/test_onnx_runtime.py runs ORT on such cases.
        """
        need = (-(-size // stride) - 1) * stride + kernel - size
        if need >= 0:
            return
        head = trunc_div(need, 2) if word == "same_upper" else trunc_div(need + 1, 2)
        shift = max(0, -(need - head) - (1 if word == "same_upper" else 2))
        if shift:
            raise self.error(
                "padding",
                f"auto_pad {word.upper()} needs negative padding on axis {n} (pad_needed = "
                f"(ceil(i/s)-1)*s + k - i = {need}), and ONNX Runtime's Conv then reads windows shifted "
                f"by {shift} from what the ONNX spec (and TensorFlow) read; use explicit pads instead",
            )

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        return (
            f"Invalid input shape: the padded input ({a.padded_size}) is smaller than the dilated kernel "
            f"({a.dilated_kernel}) on axis {n}; ONNX Runtime refuses it (onnx shape inference would "
            "truncate to a meaningless size)"
        )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        word = args.padding_word
        pairs = ((0, 0),) * args.ndim if word else self.nonnegative_pairs(args)
        op = self.output_padding_below(
            args,
            "output_padding must be less than the stride: ONNX Runtime checks < max(stride, dilation) and "
            "then rejects output_padding >= stride as inconsistent with the input size",
            strict_stride=True,
        )
        notes: list[str] = []
        crops = []
        fulls = full_sizes(args)
        if args.output_size is not None:
            if not word and any(p != (0, 0) for p in pairs):
                notes.append("pads are ignored when output_shape is given (ONNX derives them)")
            for n, (o, full, s, p) in enumerate(zip(args.output_size, fulls, args.stride, op)):
                total = full + p - o
                if total < 0:
                    # Past full + output_padding ONNX Runtime pads nothing and appends zeros at the end;
                    # its check maps O back to the input ignoring output_padding: O <= full + s - 1.
                    if o > full + s - 1:
                        raise self.error(
                            "output_size",
                            "Explicit output_shape is inconsistent with input spatial dimensions: ONNX "
                            f"Runtime accepts at most (i-1)*s + K + s - 1 = {full + s - 1} "
                            f"on axis {n} (output_padding does not count); got {o}",
                        )
                    crops.append((0, full - o))
                    continue
                split = split_extra_at_end if word == "same_upper" else split_extra_at_start
                before, after = split(total)
                crops.append((before, after - p))
            return transposed_axes(args, crops), notes
        for n, (full, s, p) in enumerate(zip(fulls, args.stride, op)):
            big_k = full - (args.size[n] - 1) * s
            if word in ("same_upper", "same_lower"):
                total = max(0, big_k + p - s)
                split = split_extra_at_end if word == "same_upper" else split_extra_at_start
                before, after = split(total)
                crops.append((before, after - p))
                runtime = full + p - total
                inferred = full + p - max(0, big_k - s)
                if inferred != runtime:
                    notes.append(
                        f"axis {n}: onnx shape inference declares {inferred}, ONNX Runtime computes {runtime}"
                    )
                if args.size[n] * s != runtime:
                    notes.append(
                        f"axis {n}: the onnx reference evaluator aims at i*s = {args.size[n] * s}, ONNX "
                        f"Runtime computes {runtime}"
                    )
            else:
                pb, pa = pairs[n]
                crops.append((pb, pa - p))
        return transposed_axes(args, crops), notes

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        word = args.padding_word
        out = [
            ("kernel_shape", fmt_list(args.kernel_size)),
            ("strides", fmt_list(args.stride)),
            ("dilations", fmt_list(args.dilation)),
            ("auto_pad", repr((word or "notset").upper())),
        ]
        if not word:
            pairs = args.pairs()
            out.append(("pads", fmt_list([b for b, _ in pairs] + [a for _, a in pairs])))
        if args.transposed:
            out.append(("output_padding", fmt_list(args.output_padding or (0,) * args.ndim)))
            if args.output_size is not None:
                out.append(("output_shape", fmt_list(args.output_size)))
        return out

    code_import = "import onnx"
    fix_in_code = False

    def layer_code(self, code: LayerCode) -> list[str]:
        op = "ConvTranspose" if code.transposed else "Conv"
        node = call("onnx.helper.make_node", [f"'{op}'", "['x', 'w']", "['y']"], code.keywords())
        return [f"node = {node}"]


CONVENTION = Onnx()
