"""TensorFlow tf.nn: conv1d/2d/3d and conv{1,2,3}d_transpose / conv_transpose.

Convolution: 'SAME' (output ceil(i/s), odd padding element at the end), 'VALID', or explicit
(before, after) pairs, which only the 2-D ops (conv2d, conv2d_transpose) take: conv1d, conv3d, their
transposes and tf.nn.convolution accept the two words only. Transposed: the gradient of that
convolution, so the caller passes output_shape O and TensorFlow checks that the forward convolution
maps O back to i; SAME crops the full output with the odd element at the end (or zero-extends at the
end). No output_padding, no groups; filters (k..., in/groups, out) and (k..., out, in) for the
transposed op. CPU kernels: a dilated transposed convolution runs only on oneDNN (float32) with
'SAME'/'VALID'; explicit pairs with dilation run on no CPU kernel.
"""

from __future__ import annotations

from convcalc.conventions.base import (
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
from convcalc.conventions.code import LayerCode, call, parse_value, py
from convcalc.conventions.layouts import Layout
from convcalc.core import ConvAxis, Pairs, TransposedAxis, split_extra_at_end
from convcalc.errors import ConvCalcError


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


def eigen_conv3d_same_notes(axes: tuple[ConvAxis, ...], ndim: int) -> list[tuple[str, str]]:
    """Eigen's conv3d with 'SAME' shifts its windows where the padding SAME needs is <= -2 (not clamped)."""
    notes = []
    for n, a in enumerate(axes):
        needed = (a.output - 1) * a.stride + a.dilated_kernel - a.size
        if needed <= -2:
            where = "this layer" if ndim == 3 else "the same axis of a 3-D layer"
            notes.append(
                (
                    "TensorFlow's Eigen conv3d kernel" if ndim == 3 else "",
                    f"'SAME' needs padding {needed} on axis {n} (clamped to 0 here): in {where}, "
                    "TensorFlow's Eigen conv3d kernel (float64 always; float32 with TF_ENABLE_ONEDNN_OPTS=0) "
                    f"does not clamp it and reads every window {-needed // 2} element(s) later, other values "
                    "at the same shape; oneDNN float32 and the 1-D and 2-D ops read the windows shown here",
                )
            )
    return notes


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
        return conv_axes(args, self.explicit_pairs(args)), []

    def explicit_pairs(self, args: LayerArgs) -> Pairs:
        """Explicit pairs, which exist only in the 2-D ops; >= 0."""
        pairs = self.nonnegative_pairs(args)
        if args.ndim != 2:
            op = f"conv{args.ndim}d" + ("_transpose" if args.transposed else "")
            unit = ", or use conv2d with a unit axis" if args.ndim == 1 else ""
            raise self.error(
                "padding",
                f"explicit padding pairs exist only in the 2-D ops (conv2d, conv2d_transpose): tf.nn.{op} "
                "takes 'SAME' or 'VALID' only (TypeError: Expected string for argument 'padding'); pad or "
                f"crop explicitly around 'VALID'{unit}; got {[list(p) for p in pairs]} on {args.ndim} axes",
            )
        return pairs

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
            f"axis {n}: eager TensorFlow's Eigen kernels (float64) return an empty output, its oneDNN "
            "kernels (float32, the default on x86) a non-empty tensor of uninitialised memory, graph mode "
            "fails with 'Negative dimension size'; convcalc describes layers with at least one output element"
        )

    def read_transposed(self, args: LayerArgs) -> tuple[tuple[TransposedAxis, ...], list[str]]:
        if args.output_padding is not None:
            raise self.error(
                "output_padding",
                "tf.nn.conv_transpose has no output_padding: give the output size (output_shape) instead",
            )
        pairs = None if args.padding_word else self.explicit_pairs(args)
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
        if any(d > 1 for d in args.dilation) and args.padding_word:
            notes.append(
                "on CPU only the oneDNN kernels (float32, the default on x86) run a transposed convolution "
                "with dilation > 1; the Eigen kernels (float64, or TF_ENABLE_ONEDNN_OPTS=0) refuse it: "
                "'Current CPU implementations do not yet support dilation rates larger than 1'"
            )
        return transposed_axes(args, crops), notes

    def backend_refusals(self, layer: FrameworkLayer) -> list[tuple[str, str]]:
        args = layer.args
        refusals = []
        if args.transposed and not args.padding_word and any(d > 1 for d in args.dilation):
            refusals.append(
                (
                    "TensorFlow's CPU kernels",
                    "no CPU kernel runs a transposed convolution with dilation > 1 and explicit padding "
                    "(Eigen refuses dilation > 1, oneDNN takes it only with 'SAME'/'VALID'): 'Current CPU "
                    "implementations do not yet support dilation rates larger than 1'",
                )
            )
        if not args.transposed and args.padding_word == "same":
            refusals.extend(eigen_conv3d_same_notes(layer.conv, args.ndim))
        return refusals

    def conv_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, padding=((0, 0),) * wanted.args.ndim)
        out = [with_(base, padding="same"), with_(base, padding="valid")]
        if wanted.args.ndim == 2:
            out.append(with_(base, padding=tuple((max(b, 0), max(a, 0)) for b, a in wanted.placement)))
        return out

    def transposed_candidates(self, wanted: FrameworkLayer) -> list[LayerArgs]:
        base = with_(wanted.args, output_padding=None, output_size=wanted.output)
        out = [with_(base, padding="same"), with_(base, padding="valid")]
        if wanted.args.ndim == 2:
            pads, sizes = [], []
            for a in wanted.transposed:
                pb, pa, op = explicit_closest(a.crop_before, a.crop_after, a.stride)
                pads.append((pb, pa))
                sizes.append(a.full - pb - pa + op)
            out.append(with_(base, padding=tuple(pads), output_size=tuple(sizes)))
        # 'VALID' is explicit (0, 0) in every rank: the full output, extended by at most s - 1 zeros.
        extended = tuple(a.full + min(max(-a.crop_after, 0), a.stride - 1) for a in wanted.transposed)
        out.append(with_(base, padding="valid", output_size=extended))
        return out

    def port_notes(self, wanted: FrameworkLayer, produced: FrameworkLayer, exact: bool) -> list[str]:
        """For 1-D without explicit pairs: the exact alternative through conv2d with a unit axis."""
        if exact or wanted.args.ndim != 1 or produced.args.ndim != 1:
            return []
        unit = unit_axis_candidate(wanted)
        if unit is None:
            return []
        kind = "conv2d_transpose" if wanted.is_transposed else "conv2d"
        spelled = ", ".join(f"{name}={value}" for name, value in self.spell(unit.args))
        return [
            f"exact without a fix: tf.nn.{kind} with a unit first spatial axis (input (N, 1, W, C), filter "
            f"(1, k, ...)): {spelled}"
        ]

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

    code_import = "import tensorflow as tf"
    channels_last = True
    pad_function = "tf.pad"

    def layer_code(self, code: LayerCode) -> list[str]:
        padding = code.argument("padding")
        if isinstance(padding, list):
            padding = [[0, 0], *padding, [0, 0]]
        keywords: list[tuple[str, object]] = [
            (name, py(parse_value(text)[0]))
            for name, text in code.arguments
            if name in ("strides", "dilations")
        ]
        keywords.append(("padding", repr(padding) if isinstance(padding, list) else py(padding)))
        if code.transposed:
            spatial = code.argument("output_shape (spatial)") or list(code.output)
            shape = f"[batch, {', '.join(map(str, spatial))}, {code.out_channels}]"
            op = call(f"tf.nn.conv{code.ndim}d_transpose", [code.x, "filters", shape], keywords)
        else:
            op = call("tf.nn.convolution", [code.x, "filters"], keywords)
        return [
            "# filters: (k..., out, in) for the transposed op, (k..., in, out) for the convolution",
            f"y = {op}",
        ]


CONVENTION = TensorFlow()


def unit_axis_candidate(wanted: FrameworkLayer) -> FrameworkLayer | None:
    """A 1-D layer as conv2d / conv2d_transpose over (1, W) with explicit pairs, when that is exact."""
    a = (wanted.transposed or wanted.conv)[0]
    before, after = wanted.placement[0]
    size: tuple[int, ...] | None = None
    if wanted.is_transposed:
        pb, pa, op = explicit_closest(before, after, a.stride)
        size = (1, wanted.transposed[0].full - pb - pa + op)
        pairs: Pairs = ((0, 0), (pb, pa))
    else:
        pairs = ((0, 0), (max(before, 0), max(after, 0)))
    candidate = LayerArgs(
        size=(1, a.size),
        kernel_size=(1, a.kernel_size),
        stride=(1, a.stride),
        dilation=(1, a.dilation),
        padding=pairs,
        output_size=size,
        transposed=wanted.is_transposed,
    )
    try:
        layer = CONVENTION.read(candidate)
    except ConvCalcError:
        return None
    if layer.placement[1:] != wanted.placement or layer.unsupported_by:
        return None
    return layer
