"""JAX: lax.conv_general_dilated and lax.conv_transpose.

Convolution: 'SAME' / 'SAME_LOWER' / 'VALID' or (low, high) pairs that may be negative, even beyond the
size on one side: JAX refuses only size + low + high < 0 (on (i-1)*s + 1 for conv_transpose), and
returns an empty output where the kernel overhangs. conv_transpose pads the zero-stuffed input ((i-1)*s + 1
long) directly with explicit pairs (a, b) and correlates with stride 1, so the crops of the full output
are (K-1-a, K-1-b); 'SAME' gives i*s with the odd crop at the end, 'VALID' gives (i-1)*s + max(K, s).
Without transpose_kernel the kernel is not flipped: (k..., in, out) is the spatial reverse of the
adjoint; transpose_kernel=True takes the forward convolution's (k..., out, in) and flips it itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.conventions.base import (
    Convention,
    FrameworkLayer,
    LayerArgs,
    conv_axes,
    fmt_tuple,
    same_pads,
    transposed_axes,
    with_,
)
from convcalc.conventions.code import LayerCode, call
from convcalc.conventions.layouts import Layout
from convcalc.core import ConvAxis, TransposedAxis, split_extra_at_end


class Jax(Convention):
    name = "jax"
    title = "JAX"
    padding_words = ("same", "same_lower", "valid")
    transposed_padding_words = ("same", "valid")
    default_padding = "valid"
    conv_layout = Layout(("O", "I/g", "S"))
    output_padding_name = None
    transposed_groups = False

    def transposed_layout(self, args: LayerArgs) -> Layout:
        if args.transpose_kernel:
            return Layout(("S", "O", "I"))
        return Layout(("S", "I", "O"), flipped=True)

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        word = args.padding_word
        if word in ("same", "same_lower"):
            return conv_axes(args, same_pads(args, lower=word == "same_lower")), []
        if word == "valid":
            return conv_axes(args, ((0, 0),) * args.ndim), []
        pairs = args.pairs()
        self.check_negative_padding(pairs, args.size)
        return conv_axes(args, pairs), []

    def check_negative_padding(
        self, pairs: tuple[tuple[int, int], ...], sizes: tuple[int, ...], what: str = "size"
    ) -> None:
        """JAX refuses only a padded size below zero, size + low + high < 0; one side alone may exceed it."""
        for n, ((lo, hi), size) in enumerate(zip(pairs, sizes)):
            if size + lo + hi < 0:
                raise self.error(
                    "padding",
                    "Negative padding is larger than the size of the corresponding dimension: size + low + "
                    f"high must be >= 0 on every axis; got padding ({lo}, {hi}) for {what} {size} on axis "
                    f"{n} (padded size {size + lo + hi})",
                )

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        return (
            f"the padded input ({a.padded_size}) is smaller than the dilated kernel ({a.dilated_kernel}) on "
            f"axis {n}: JAX returns an empty output without an error; convcalc describes layers with at "
            "least one output element"
        )

    def check_transposed_output(self, axes: Sequence[TransposedAxis]) -> None:
        for n, a in enumerate(axes):
            if a.output < 1:
                raise self.error(
                    "padding",
                    f"the transposed output would be {a.output} on axis {n} (full output (i-1)*s + K = "
                    f"{a.full}, cropped {a.crop_before} before and {a.crop_after} after): JAX returns an "
                    "empty output without an error; convcalc describes layers with at least one output "
                    "element",
                )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        if args.output_padding is not None or args.output_size is not None:
            raise self.error(
                "output_padding" if args.output_padding is not None else "output_size",
                "lax.conv_transpose has no output_padding or output size: give explicit (low, high) "
                "padding pairs of the zero-stuffed input",
            )
        word = args.padding_word
        zero = transposed_axes(args, ((0, 0),) * args.ndim)
        if word == "same":
            crops = [split_extra_at_end(a.dilated_kernel - a.stride) for a in zero]
        elif word == "valid":
            crops = [(0, -max(a.stride - a.dilated_kernel, 0)) for a in zero]
        else:
            pairs = args.pairs()
            # conv_transpose pads the zero-stuffed input, so the size JAX checks is (i-1)*s + 1.
            stretched = tuple((a.size - 1) * a.stride + 1 for a in zero)
            self.check_negative_padding(pairs, stretched, "the zero-stuffed size (i-1)*s + 1 =")
            crops = [
                (a.dilated_kernel - 1 - lo, a.dilated_kernel - 1 - hi) for a, (lo, hi) in zip(zero, pairs)
            ]
        notes = []
        if not args.transpose_kernel:
            notes.append(
                "transpose_kernel=False (the default): the kernel is used unflipped, so the values are "
                "the adjoint's (PyTorch's, TensorFlow's) only with a spatially reversed kernel"
            )
        return transposed_axes(args, crops), notes

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, padding=wanted.placement)
        return [with_(base, padding=w) for w in ("same", "same_lower", "valid")] + [base]

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, output_size=None, output_padding=None, transpose_kernel=True)
        pairs = tuple(
            (a.dilated_kernel - 1 - a.crop_before, a.dilated_kernel - 1 - a.crop_after)
            for a in wanted.transposed
        )
        return [with_(base, padding="same"), with_(base, padding="valid"), with_(base, padding=pairs)]

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        word = args.padding_word
        padding = repr(word.upper()) if word else fmt_tuple([fmt_tuple(p) for p in args.pairs()])
        strides = "strides" if args.transposed else "window_strides"
        out = [
            ("kernel spatial shape", fmt_tuple(args.kernel_size)),
            (strides, fmt_tuple(args.stride)),
            ("rhs_dilation", fmt_tuple(args.dilation)),
            ("padding", padding),
        ]
        if args.transposed:
            out.append(("transpose_kernel", str(args.transpose_kernel)))
        return out

    code_import = "import jax"
    pad_function = "jnp.pad"

    def layer_code(self, code: LayerCode) -> list[str]:
        op = "conv_transpose" if code.transposed else "conv_general_dilated"
        return ["# x: (N, C, spatial...)", f"y = {call(f'jax.lax.{op}', [code.x, 'w'], code.keywords())}"]


CONVENTION = Jax()
