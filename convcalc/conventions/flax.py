"""Flax linen: nn.Conv and nn.ConvTranspose, thin layers over JAX.

Padding defaults to 'SAME'. An int p or (low, high) pairs go straight to lax, so for ConvTranspose they
pad the zero-stuffed input as JAX does (crops K-1-low and K-1-high), not PyTorch's padding. Conv also
takes 'CAUSAL' (1-D, K-1 at the start). 'CIRCULAR' and 'REFLECT' do not pad with zeros and are not
modelled. Kernels (k..., in/groups, features) and, for ConvTranspose, (k..., in, features), or
(k..., features, in) with transpose_kernel=True.
"""

from __future__ import annotations

from convcalc.conventions.base import FrameworkLayer, LayerArgs, conv_axes, fmt_tuple, with_
from convcalc.conventions.code import LayerCode, call
from convcalc.conventions.jax import Jax
from convcalc.conventions.layouts import Layout
from convcalc.core import ConvAxis, TransposedAxis


class Flax(Jax):
    name = "flax"
    title = "Flax"
    padding_words = ("same", "valid", "causal")
    transposed_padding_words = ("same", "valid")
    default_padding = "same"
    conv_layout = Layout(("S", "I/g", "O"))

    def check_words(self, args: LayerArgs) -> None:
        if args.padding_word in ("circular", "reflect"):
            raise self.error(
                "padding",
                f"padding={args.padding_word.upper()!r} wraps or mirrors the input instead of padding with "
                "zeros; convcalc models zero padding only",
            )
        super().check_words(args)
        if args.padding_word == "causal" and args.ndim != 1:
            raise self.error(
                "padding", f"Causal padding is only implemented for 1D convolutions; got {args.ndim} axes"
            )

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        if args.padding_word == "causal":
            axes = conv_axes(args, ((0, 0),) * args.ndim)
            return conv_axes(args, tuple((a.dilated_kernel - 1, 0) for a in axes)), []
        return super().read_conv(args)

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        axes, notes = super().read_transposed(args)
        if not args.padding_word:
            notes.append(
                "integer padding pads the zero-stuffed input as in lax.conv_transpose (crop K-1-p), not "
                "PyTorch's padding"
            )
        return axes, notes

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        word = args.padding_word
        padding = repr(word.upper()) if word else fmt_tuple([fmt_tuple(p) for p in args.pairs()])
        out = [
            ("kernel_size", fmt_tuple(args.kernel_size)),
            ("strides", fmt_tuple(args.stride)),
            ("kernel_dilation", fmt_tuple(args.dilation)),
            ("padding", padding),
        ]
        if args.transposed:
            out.append(("transpose_kernel", str(args.transpose_kernel)))
        return out

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, padding=wanted.placement)
        return [with_(base, padding=w) for w in ("same", "valid")] + [base]

    code_import = "import flax.linen as nn"
    channels_last = True

    def layer_code(self, code: LayerCode) -> list[str]:
        kind = "ConvTranspose" if code.transposed else "Conv"
        layer = call(f"nn.{kind}", [], [("features", code.out_channels), *code.keywords()])
        return [f"layer = {layer}", f"y = layer.apply(params, {code.x})"]


CONVENTION = Flax()
