"""Caffe: Convolution and Deconvolution layers (from the source; Caffe was not run).

Symmetric pad only, no padding words. Deconvolution is s*(i-1) + K - 2*pad: no output_padding and no
output size, so an odd size such as i*s is reached only with a Crop layer after it. The convolution
divides with truncation and does not check, so a kernel overhanging the input by less than a stride
silently gives 1. Weights as in PyTorch.
"""

from __future__ import annotations

from convcalc.conventions.base import (
    Convention,
    FrameworkLayer,
    LayerArgs,
    conv_axes,
    fmt_tuple,
    transposed_axes,
    with_,
)
from convcalc.conventions.code import LayerCode, parse_value
from convcalc.conventions.pytorch import symmetric_closest
from convcalc.core import ConvAxis, TransposedAxis


class Caffe(Convention):
    name = "caffe"
    title = "Caffe"
    default_padding = ((0, 0),)
    output_padding_name = None

    def read_conv(self, args: LayerArgs) -> tuple[tuple[ConvAxis, ...], list[str]]:
        pads = self.symmetric_pads(args, "pad (pad_h, pad_w) is one value per axis")
        return conv_axes(args, tuple((p, p) for p in pads)), []

    def too_small_conv_message(self, n: int, a: ConvAxis) -> str:
        return (
            f"the padded input ({a.padded_size}) is smaller than the dilated kernel ({a.dilated_kernel}) on "
            f"axis {n}: Caffe divides with truncation and does not check (an overhang below the stride "
            "silently gives 1); that is no real convolution, and convcalc refuses it"
        )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        if args.output_padding is not None or args.output_size is not None:
            raise self.error(
                "output_padding" if args.output_padding is not None else "output_size",
                "Deconvolution has no output_padding and no output size: crop its output with a Crop layer",
            )
        pads = self.symmetric_pads(args, "pad (pad_h, pad_w) is one value per axis")
        return transposed_axes(args, tuple((p, p) for p in pads)), []

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        closest = tuple((max(min(b, a), 0),) * 2 for b, a in wanted.placement)
        return [with_(wanted.args, padding=closest)]

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, output_size=None, output_padding=None)
        pads = [symmetric_closest(cb, ca, 1)[0] for cb, ca in wanted.placement]
        return [with_(base, padding=tuple((p, p) for p in pads)), with_(base, padding=((0, 0),) * base.ndim)]

    def spell(self, args: LayerArgs) -> list[tuple[str, str]]:
        return [
            ("kernel_size", fmt_tuple(args.kernel_size)),
            ("stride", fmt_tuple(args.stride)),
            ("dilation", fmt_tuple(args.dilation)),
            ("pad", fmt_tuple([b for b, _ in args.pairs()])),
        ]

    fix_in_code = False

    def layer_code(self, code: LayerCode) -> list[str]:
        """A prototxt layer; repeated fields give one value per axis."""
        fields = []
        for name, text in code.arguments:
            value = parse_value(text)[0]
            fields += [f"{name}: {v}" for v in (value if isinstance(value, list) else [value])]
        op = "Deconvolution" if code.transposed else "Convolution"
        param = f"num_output: {code.out_channels} {' '.join(fields)}"
        return [f'layer {{ type: "{op}" convolution_param {{ {param} }} }}']


CONVENTION = Caffe()
