"""PyTorch: nn.ConvNd / nn.ConvTransposeNd and their functional forms.

Convolution: symmetric integer padding, or 'valid', or 'same' (stride 1 only, odd element at the end).
Transposed: integer padding p crops p from both ends of the full output; output_padding adds op at the
end and must be < max(stride, dilation); forward(output_size=O) picks op = O - min for O in
[min, min + s - 1] and overrides output_padding. Weight (in, out/groups, k...), the true adjoint.
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
from convcalc.core import ConvAxis, TransposedAxis, output_padding_limit, pytorch_crops, symmetric_for_crop


def symmetric_closest(crop_before: int, crop_after: int, bound: int) -> tuple[int, int]:
    """The symmetric (p, op) with 0 <= op < bound whose crops (p, p - op) come closest to the wanted pair.

    No crop may exceed max(wanted, 0) on its side (else real output would be lost, not just zeros), and
    a larger p keeps the slice left to do smaller: p = min(max(cb, 0), max(ca, 0) + bound - 1).

    >>> symmetric_closest(0, 1, 2), symmetric_closest(1, 0, 2), symmetric_closest(0, -3, 2)
    ((0, 0), (1, 1), (0, 1))
    """
    p = min(max(crop_before, 0), max(crop_after, 0) + bound - 1)
    op = min(max(p - crop_after, 0), bound - 1)
    return p, op


def symmetric_same_shape(crop_before: int, crop_after: int, bound: int) -> tuple[int, int] | None:
    """A symmetric (p, op) with the same total crop (so the same output size), or None."""
    return symmetric_for_crop(crop_before + crop_after, bound)


class PyTorch(Convention):
    name = "pytorch"
    title = "PyTorch"
    padding_words = ("valid", "same")
    transposed_padding_words = ()
    default_padding = ((0, 0),)
    output_size_name = "output_size"

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        word = args.padding_word
        if word == "valid":
            return conv_axes(args, ((0, 0),) * args.ndim), []
        if word == "same":
            if any(s != 1 for s in args.stride):
                raise self.error(
                    "padding",
                    "padding='same' is not supported for strided convolutions (stride must be 1 on "
                    f"every axis); got stride={list(args.stride)}",
                )
            # PyTorch pads K-1 in total with the odd element at the end, as TensorFlow does.
            return conv_axes(args, same_pads(args)), []
        pads = self.symmetric_pads(args, "use F.pad on the input for asymmetric padding")
        return conv_axes(args, tuple((p, p) for p in pads)), []

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        return (
            f"Kernel size can't be greater than actual input size: the padded input is {a.padded_size} "
            f"and the dilated kernel {a.dilated_kernel} on axis {n} (PyTorch never returns an empty output)"
        )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        pads = self.symmetric_pads(args, "ConvTranspose takes integer padding only")
        notes: list[str] = []
        op = self.output_padding_below(
            args, "output padding must be smaller than either stride or dilation", strict_stride=False
        )
        if args.output_size is not None:
            if args.output_padding is not None:
                notes.append("output_size overrides output_padding (PyTorch recomputes it)")
            base = transposed_axes(args, tuple((p, p) for p in pads))
            op_list = []
            for n, (a, o) in enumerate(zip(base, args.output_size)):
                # PyTorch's allowed range uses the stride only, even where dilation would allow more.
                if not a.output <= o <= a.output + a.stride - 1:
                    lo = [b.output for b in base]
                    hi = [b.output + b.stride - 1 for b in base]
                    raise self.error(
                        "output_size",
                        f"requested an output size of {list(args.output_size)}, but valid sizes range "
                        f"from {lo} to {hi} (min (i-1)*s - 2p + K, max min + s - 1; axis {n})",
                    )
                op_list.append(o - a.output)
            op = tuple(op_list)
        crops = pytorch_crops(tuple((p, p) for p in pads), op)
        return transposed_axes(args, crops), notes

    def check_transposed_output(self, axes: Sequence[TransposedAxis]) -> None:
        for a in axes:
            if a.output < 1:
                sizes = " x ".join(str(b.output) for b in axes)
                raise self.error(
                    "padding",
                    f"Output size is too small: calculated output size per channel ({sizes}); every "
                    "axis must be >= 1 ((i-1)*s - 2p + K + op)",
                )

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, padding=((0, 0),) * wanted.args.ndim)
        closest = tuple((max(min(b, a), 0),) * 2 for b, a in wanted.placement)
        return [with_(base, padding=closest), with_(base, padding="same")]

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, output_size=None)
        bounds = [output_padding_limit(a.stride, a.dilation) for a in wanted.transposed]
        pairs = [symmetric_closest(cb, ca, m) for (cb, ca), m in zip(wanted.placement, bounds)]
        out = [
            with_(base, padding=tuple((p, p) for p, _ in pairs), output_padding=tuple(o for _, o in pairs))
        ]
        # No crop at all always gives an output; only zeros (output_padding) may be added at the end.
        extend = tuple(min(max(-ca, 0), m - 1) for (_, ca), m in zip(wanted.placement, bounds))
        out.append(with_(base, padding=((0, 0),) * base.ndim, output_padding=extend))
        same = [symmetric_same_shape(cb, ca, m) for (cb, ca), m in zip(wanted.placement, bounds)]
        if all(s is not None for s in same):
            chosen = [s for s in same if s is not None]
            out.append(
                with_(
                    base,
                    padding=tuple((p, p) for p, _ in chosen),
                    output_padding=tuple(o for _, o in chosen),
                )
            )
        return out

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        out = [
            ("kernel_size", fmt_tuple(args.kernel_size)),
            ("stride", fmt_tuple(args.stride)),
            ("dilation", fmt_tuple(args.dilation)),
        ]
        word = args.padding_word
        out.append(("padding", repr(word) if word else fmt_tuple([b for b, _ in args.pairs()])))
        if args.transposed:
            out.append(("output_padding", fmt_tuple(args.output_padding or (0,) * args.ndim)))
            if args.output_size is not None:
                out.append(("output_size (forward argument)", fmt_tuple(args.output_size)))
        return out

    code_import = "import torch"

    def layer_code(self, code: LayerCode) -> list[str]:
        kind = "ConvTranspose" if code.transposed else "Conv"
        name = f"torch.nn.{kind}{code.ndim}d"
        layer = call(name, [code.in_channels, code.out_channels], [*code.keywords(), *code.grouped])
        return [f"layer = {layer}", f"y = layer({code.x})"]

    def pad_code(self, name: str, pairs: Sequence[tuple[int, int]]) -> str:
        flat = [v for b, a in reversed(pairs) for v in (b, a)]  # the last axis first
        return f"torch.nn.functional.pad({name}, {tuple(flat)})"


CONVENTION = PyTorch()
