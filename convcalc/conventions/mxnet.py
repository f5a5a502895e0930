"""MXNet 1.x: Convolution and Deconvolution (Gluon ConvNDTranspose maps output_padding to adj).

Symmetric pad only, no padding words. Deconvolution crops pad from both ends and appends adj zeros at
the end, adj < stride. target_shape T overrides pad and adj: the total crop t = full - T >= 0 is split
with the odd element at the start (adj = t mod 2, so at stride 1 t must be even). Weights as in PyTorch.
MXNet 1.9's CPU kernels have defects convcalc states in notes but does not model: MKLDNN refuses every
target_shape; the native kernel (MKLDNN off) refuses every 3-D Deconvolution and returns wrong values for
a dilated Deconvolution with stride > 1.
"""

from __future__ import annotations

from convcalc.conventions.base import (
    Convention,
    FrameworkLayer,
    LayerArgs,
    conv_axes,
    fmt_tuple,
    full_sizes,
    transposed_axes,
    with_,
)
from convcalc.conventions.code import LayerCode, call
from convcalc.conventions.pytorch import symmetric_closest
from convcalc.core import ConvAxis, TransposedAxis, split_extra_at_start


def kernel_defects(args: LayerArgs) -> list[str]:
    """MXNet 1.9.1's CPU kernel defects that touch a Deconvolution (stated, not modelled)."""
    notes = []
    if args.output_size is not None:
        notes.append(
            "MXNet 1.9's MKLDNN kernels (the default CPU build) refuse every target_shape ('could not create "
            "a descriptor for a dilated deconvolution forward propagation primitive'): run with "
            "MXNET_MKLDNN_ENABLED=0, or give pad and adj"
        )
    if args.ndim == 3:
        notes.append("MXNet 1.9's native CPU kernel (MKLDNN off) refuses every 3-D Deconvolution")
    if any(d > 1 for d in args.dilation) and any(s > 1 for s in args.stride):
        notes.append(
            "MXNet 1.9's native CPU kernel (MKLDNN off) returns wrong values for a dilated Deconvolution "
            "with stride > 1; the values above are what the layer defines"
        )
    return notes


class MXNet(Convention):
    name = "mxnet"
    title = "MXNet"
    default_padding = ((0, 0),)
    output_size_name = "target_shape"
    output_padding_name = "adj"

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        pads = self.symmetric_pads(args, "pad takes one value per axis")
        return conv_axes(args, tuple((p, p) for p in pads)), []

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        return (
            f"kernel size exceed input: the dilated kernel ({a.dilated_kernel}) is larger than the padded "
            f"input ({a.padded_size}) on axis {n}"
        )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        pads = self.symmetric_pads(args, "pad takes one value per axis")
        if args.ndim == 3 and any(d > 1 for d in args.dilation):
            raise self.error("dilation", "Dilate is not supported in 3d deconvolution")
        adj = self.output_padding_below(args, "adj (output_padding) must be smaller than stride", True)
        notes = kernel_defects(args)
        if args.output_size is None:
            return transposed_axes(args, tuple((p, p - a) for p, a in zip(pads, adj))), notes
        if args.output_padding is not None or any(pads):
            notes.append("target_shape overrides pad and adj (MXNet derives them)")
        crops = []
        for n, (t_shape, full, s) in enumerate(zip(args.output_size, full_sizes(args), args.stride)):
            total = full - t_shape
            if total < 0:
                raise self.error(
                    "output_size",
                    f"too big target shape: at most the full output (i-1)*s + K = {full} on axis {n}; "
                    f"got {t_shape}",
                )
            if total % 2 >= s:
                raise self.error(
                    "output_size",
                    f"target_shape {t_shape} on axis {n} leaves an odd total crop {total}, which needs "
                    f"adj = 1, and adj must be smaller than stride ({s})",
                )
            crops.append(split_extra_at_start(total))
        return transposed_axes(args, crops), notes

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        closest = tuple((max(min(b, a), 0),) * 2 for b, a in wanted.placement)
        return [with_(wanted.args, padding=closest)]

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, output_size=None)
        pairs = [
            symmetric_closest(cb, ca, a.stride) for (cb, ca), a in zip(wanted.placement, wanted.transposed)
        ]
        out = [
            with_(base, padding=tuple((p, p) for p, _ in pairs), output_padding=tuple(o for _, o in pairs))
        ]
        extend = tuple(min(max(-a.crop_after, 0), a.stride - 1) for a in wanted.transposed)
        out.append(with_(base, padding=((0, 0),) * base.ndim, output_padding=extend))
        if all(a.output <= a.full for a in wanted.transposed):
            out.append(with_(base, padding=((0, 0),) * base.ndim, output_size=wanted.output))
        return out

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        out = [
            ("kernel", fmt_tuple(args.kernel_size)),
            ("stride", fmt_tuple(args.stride)),
            ("dilate", fmt_tuple(args.dilation)),
            ("pad", fmt_tuple([b for b, _ in args.pairs()])),
        ]
        if args.transposed:
            if args.output_size is not None:
                out.append(("target_shape", fmt_tuple(args.output_size)))
            else:
                out.append(("adj", fmt_tuple(args.output_padding or (0,) * args.ndim)))
        return out

    code_import = "import mxnet as mx"
    pad_function = "mx.np.pad"

    def layer_code(self, code: LayerCode) -> list[str]:
        op = "Deconvolution" if code.transposed else "Convolution"
        keywords: list[tuple[str, object]] = [
            ("data", code.x),
            ("weight", "w"),
            ("num_filter", code.out_channels),
        ]
        keywords += [*code.keywords(), *([("num_group", code.groups)] if code.groups != 1 else [])]
        keywords.append(("no_bias", True))
        return [f"y = {call(f'mx.nd.{op}', [], keywords)}"]


CONVENTION = MXNet()
