"""Keras 3 layers: ConvND and ConvNDTranspose, as the JAX and torch backends run them.

Padding is a word only: 'valid', 'same' (odd element at the end), and 'causal' for Conv1D (K-1 at the
start). strides > 1 together with dilation_rate > 1 is refused. Transposed: output_padding=None picks
i*s for 'same' and (i-1)*s + max(K, s) for 'valid'; a given output_padding must be < strides and, with
'same', counts from Keras-2's pad = K//2. Kernels (k..., in/groups, filters) and (k..., filters, in).
The TensorFlow backend passes that size to tf.nn.conv_transpose as output_shape, which refuses it for
'same' when the dilated kernel is even and output_padding is 0 on an axis; those layers run on the JAX
and torch backends only (``unsupported_by``), and TensorFlow's CPU kernels run dilated transposed
layers only in float32 (oneDNN).
"""

from __future__ import annotations

from convcalc.conventions.base import (
    Convention,
    FrameworkLayer,
    LayerArgs,
    conv_axes,
    fmt_tuple,
    full_sizes,
    same_pads,
    transposed_axes,
    with_,
)
from convcalc.conventions.code import LayerCode, call
from convcalc.conventions.layouts import Layout
from convcalc.conventions.tensorflow import eigen_conv3d_same_notes
from convcalc.core import ConvAxis, TransposedAxis, split_extra_at_end


class Keras(Convention):
    name = "keras"
    title = "Keras"
    padding_words = ("valid", "same", "causal")
    transposed_padding_words = ("valid", "same")
    default_padding = "valid"
    conv_layout = Layout(("S", "I/g", "O"))
    transposed_layout_default = Layout(("S", "O", "I"))
    transposed_groups = False

    def check_words(self, args: LayerArgs) -> None:
        if args.padding_word is None:
            raise self.error(
                "padding",
                "layers take padding 'valid' or 'same' ('causal' for Conv1D), not numbers; pad "
                f"explicitly with a ZeroPadding layer; got {[list(p) for p in args.pairs()]}",
            )
        super().check_words(args)
        if args.padding_word == "causal" and args.ndim != 1:
            raise self.error("padding", f"padding='causal' exists for Conv1D only; got {args.ndim} axes")
        if max(args.stride) > 1 and max(args.dilation) > 1:
            raise self.error(
                "dilation",
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`; got "
                f"strides={fmt_tuple(args.stride)} and dilation_rate={fmt_tuple(args.dilation)}",
            )

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        word = args.padding_word
        if word == "same":
            return conv_axes(args, same_pads(args)), []
        if word == "causal":
            axes = conv_axes(args, ((0, 0),) * args.ndim)
            return conv_axes(args, tuple((a.dilated_kernel - 1, 0) for a in axes)), []
        return conv_axes(args, ((0, 0),) * args.ndim), []

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        return (
            f"Computed output size would be zero or negative: {a.output} on axis {n} (input {a.size}, "
            f"dilated kernel {a.dilated_kernel}, stride {a.stride}, padding valid)"
        )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        if args.output_size is not None:
            raise self.error(
                "output_size", "ConvTranspose layers have no output size argument; use output_padding"
            )
        if args.output_padding is not None:
            self.output_padding_below(
                args, "`output_padding` must be strictly less than `strides` for all dimensions", True
            )
        crops = []
        for n, (full, s) in enumerate(zip(full_sizes(args), args.stride)):
            big_k = full - (args.size[n] - 1) * s
            op = None if args.output_padding is None else args.output_padding[n]
            if args.padding_word == "same":
                # op=None aims at i*s; a given op counts from Keras-2's pad = K // 2 on both sides.
                total = big_k - s if op is None else big_k - big_k % 2 - op
                crops.append(split_extra_at_end(total))
            else:
                crops.append((0, -max(s - big_k, 0) if op is None else -op))
        return transposed_axes(args, crops), []

    def backend_refusals(self, layer: FrameworkLayer) -> list[tuple[str, str]]:
        args = layer.args
        refusals = []
        if args.transposed and args.padding_word == "same" and args.output_padding is not None:
            refused = [
                n
                for n, (a, op) in enumerate(zip(layer.transposed, args.output_padding))
                if a.dilated_kernel % 2 == 0 and op == 0
            ]
            if refused:
                sizes = [(a.size - 1) * a.stride for a in layer.transposed]
                refusals.append(
                    (
                        "Keras's TensorFlow backend",
                        "runs on the JAX and torch backends only: the TensorFlow backend passes "
                        f"output_shape (i-1)*s + K%2 + output_padding, here {sizes[refused[0]]} on axis "
                        f"{refused[0]} (dilated kernel even, output_padding 0), to tf.nn.conv_transpose, "
                        "whose 'SAME' accepts only (i-1)*s+1 .. i*s and refuses it (\"Size of out_backprop "
                        'doesn\'t match computed"; oneDNN: "could not create a primitive descriptor"); '
                        "'same' with output_padding=None, or 'valid', plus a crop runs everywhere",
                    )
                )
        if args.transposed and any(d > 1 for d in args.dilation):
            refusals.append(
                (
                    "",
                    "on the TensorFlow backend only oneDNN (float32, the default on x86 CPUs) runs a "
                    "dilated transposed convolution; in float64 or with TF_ENABLE_ONEDNN_OPTS=0 it fails",
                )
            )
        if not args.transposed and args.padding_word == "same":
            refusals.extend(
                (who and "Keras's TensorFlow backend (its Eigen conv3d kernel)", why)
                for who, why in eigen_conv3d_same_notes(layer.conv, args.ndim)
            )
        return refusals

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, padding="valid")
        return [base, with_(base, padding="same"), with_(base, padding="causal")]

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, output_size=None, output_padding=None)
        valid_op, same_op = [], []
        for a in wanted.transposed:
            valid_op.append(min(max(-a.crop_after, 0), a.stride - 1))
            big_k = a.dilated_kernel
            total = a.crop_before + a.crop_after
            same_op.append(min(max(big_k - big_k % 2 - total, 0), a.stride - 1))
        return [
            with_(base, padding="same"),
            with_(base, padding="valid"),
            with_(base, padding="same", output_padding=tuple(same_op)),
            with_(base, padding="valid", output_padding=tuple(valid_op)),
        ]

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        out = [
            ("kernel_size", fmt_tuple(args.kernel_size)),
            ("strides", fmt_tuple(args.stride)),
            ("dilation_rate", fmt_tuple(args.dilation)),
            ("padding", repr(args.padding_word)),
        ]
        if args.transposed:
            op = args.output_padding
            out.append(("output_padding", "None" if op is None else fmt_tuple(op)))
        return out

    code_import = "import keras"
    channels_last = True
    pad_function = "keras.ops.pad"

    def layer_code(self, code: LayerCode) -> list[str]:
        name = f"keras.layers.Conv{code.ndim}D{'Transpose' if code.transposed else ''}"
        keywords = [("filters", code.out_channels), *code.keywords(), *code.grouped]
        return [f"layer = {call(name, [], keywords)}", f"y = layer({code.x})"]


CONVENTION = Keras()
