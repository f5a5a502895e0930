"""Equinox: eqx.nn.Conv and eqx.nn.ConvTranspose (PyTorch-like arguments over JAX).

padding is forward-convolution padding: an int, (low, high) pairs, 'SAME', 'SAME_LOWER' or 'VALID'.
ConvTranspose crops (low, high - output_padding) of the full output, output_padding < stride. With
'SAME' the output is i*s - output_padding (output_padding shrinks it), the odd crop at the end ('SAME')
or the start ('SAME_LOWER'). The transposed weight has the convolution's layout (out, in/groups, k...)
and is not flipped: PyTorch's weight needs a flip and a swap of the first two axes.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.conventions.base import (
    ExplicitPairsConvention,
    LayerArgs,
    conv_axes,
    fmt_tuple,
    same_pads,
    transposed_axes,
)
from convcalc.conventions.code import LayerCode, call
from convcalc.conventions.layouts import Layout
from convcalc.core import ConvAxis, TransposedAxis, split_extra_at_end, split_extra_at_start

WORDS = ("same", "same_lower", "valid")


class Equinox(ExplicitPairsConvention):
    name = "equinox"
    title = "Equinox"
    padding_words = WORDS
    transposed_padding_words = WORDS
    default_padding = ((0, 0),)
    transposed_layout_default = Layout(("O", "I/g", "S"), flipped=True)

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        word = args.padding_word
        if word in ("same", "same_lower"):
            return conv_axes(args, same_pads(args, lower=word == "same_lower")), []
        if word == "valid":
            return conv_axes(args, ((0, 0),) * args.ndim), []
        return conv_axes(args, self.nonnegative_pairs(args)), []

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        if args.output_size is not None:
            raise self.error("output_size", "ConvTranspose has no output size argument; use output_padding")
        op = self.output_padding_below(args, "Must have `output_padding < stride` (elementwise)", True)
        word = args.padding_word
        zero = transposed_axes(args, ((0, 0),) * args.ndim)
        if word in ("same", "same_lower"):
            crops = []
            for a, p in zip(zero, op):
                total = a.dilated_kernel - a.stride + p
                split = split_extra_at_end if word == "same" else split_extra_at_start
                before = split(max(total, 0))[0]
                crops.append((before, total - before))
            return transposed_axes(args, crops), []
        pairs = ((0, 0),) * args.ndim if word == "valid" else self.nonnegative_pairs(args)
        return transposed_axes(args, tuple((b, a - p) for (b, a), p in zip(pairs, op))), []

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        word = args.padding_word
        padding = repr(word.upper()) if word else fmt_tuple([fmt_tuple(p) for p in args.pairs()])
        out = [
            ("kernel_size", fmt_tuple(args.kernel_size)),
            ("stride", fmt_tuple(args.stride)),
            ("dilation", fmt_tuple(args.dilation)),
            ("padding", padding),
        ]
        if args.transposed:
            out.append(("output_padding", fmt_tuple(args.output_padding or (0,) * args.ndim)))
        return out

    code_import = "import equinox as eqx"
    pad_function = "jnp.pad"

    def layer_code(self, code: LayerCode) -> list[str]:
        kind = "ConvTranspose" if code.transposed else "Conv"
        keywords = [*code.keywords(), *code.grouped, ("key", "key")]
        layer = call(f"eqx.nn.{kind}", [str(code.ndim), code.in_channels, code.out_channels], keywords)
        return [f"layer = {layer}", f"y = layer({code.x})  # x: (channels, spatial...), unbatched"]

    def pad_code(self, name: str, pairs: Sequence[tuple[int, int]]) -> str:
        full = [[0, 0], *([b, a] for b, a in pairs)]  # unbatched: (C, spatial...)
        return f"{self.pad_function}({name}, {full})"


CONVENTION = Equinox()
