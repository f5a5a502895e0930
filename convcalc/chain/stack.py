"""A stack of layers: sizes after every layer and encoder/decoder pairs; the records of the chain's report.

Every size comes from the core (``conv_axes_for``, ``transposed_axes_for``, ``pool_axes_for``,
``UpsampleAxis``); this module only strings layers together and reasons about the sequence. The
accepted input sizes and the receptive field come from the graph engine `inspect` uses
(``convcalc.chain.sizes``), which reads the same layers by the same core rules.

Accepted input sizes are exact, not sampled. Every size rule is monotone in its input, so the chain runs
for exactly the inputs i >= i_min. Past i_min, adding P (the product of the strides of the convolutions
and poolings on that axis) to the input adds an exact multiple of every layer's stride to its input, so
every floor, remainder and ceil_mode decision repeats, and every size is affine in q along the class
i = i_min + r + q*P. A skip connection then matches for all q, for none, or for exactly one q
(``convcalc.periodic.class_members``, which the engine applies to every merge).

Budgets, checked before any run: the engine runs each axis's graph (layers and skip merges) at most at
the 3*P sizes of its classes' first members, plus the runs that find the smallest input and the period,
an axis whose layers read as an earlier one's once (``convcalc.chain.sizes.check_chain_budget``); those
node evaluations may be at most ``MAX_CHAIN_STEPS``. A listing of accepted sizes is counted class by
class before it is built; every size the chain reaches has at most ``MAX_DIGITS`` digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Union

from convcalc.core import (
    ConvAxis,
    PoolAxis,
    TransposedAxis,
    UpsampleAxis,
    channel_report,
    conv_axes_for,
    normalize,
    pool_axes_for,
    transposed_axes_for,
)
from convcalc.core.display import Presentable
from convcalc.core.layer import Layer as CoreLayer
from convcalc.errors import ConvCalcError, ExitCode
from convcalc.graph.fields import Field
from convcalc.parse import MAX_DIGITS
from convcalc.periodic import Accepted

KINDS = ("conv", "tconv", "maxpool", "avgpool", "up")
MAX_LAYERS = 256
MAX_PERIOD = 4096
# i_min is searched by doubling up to this input size; past it the chain is called unusable.
MAX_INPUT = 2**64
# Node evaluations of the accepted-size analysis, summed over the axes analysed (about 7 microseconds and
# 0.2 KB each: a few seconds and about 200 MB at the limit; a 24-layer chain with strides of product 4096,
# which the engine before the shared one answered, takes 447,480).
MAX_CHAIN_STEPS = 1_000_000
_SIZE_LIMIT = 10**MAX_DIGITS

Value = Union[int, tuple[int, ...]]
PaddingValue = Union[str, int, tuple[int, ...], tuple[tuple[int, int], ...]]
Axis = Union[ConvAxis, TransposedAxis, PoolAxis, UpsampleAxis]


class Layer(NamedTuple):
    """One layer as the user wrote it (values may be one for every axis or one per axis)."""

    kind: str
    text: str
    kernel_size: Value = 1
    stride: Value = 1
    padding: PaddingValue = 0
    output_padding: Value = 0
    dilation: Value = 1
    ceil_mode: bool = False
    scale: Value = 1
    out_channels: int | None = None
    groups: int = 1

    @property
    def downsamples(self) -> bool:
        return self.kind in ("conv", "maxpool", "avgpool") and _max(self.stride) > 1

    @property
    def upsamples(self) -> bool:
        return (self.kind == "tconv" and _max(self.stride) > 1) or (
            self.kind == "up" and _max(self.scale) > 1
        )

    def label(self, index: int) -> str:
        return f"layer {index} ({clip(self.text)})"


def clip(text: str, limit: int = 60) -> str:
    """The text as typed, cut with an ellipsis past ``limit`` characters: an error message stays readable
    whatever the user pasted."""
    text = text.strip()
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _max(value: Value) -> int:
    return value if isinstance(value, int) else max(value)


def _pick(value: Value, axis: int) -> int:
    return value if isinstance(value, int) else value[axis] if len(value) > 1 else value[0]


def skipped_phases(kernel_size: int, stride: int, dilation: int) -> int:
    """Of every ``stride`` consecutive input elements away from the input's ends, how many no window
    reads: window o's taps sit at o*s + j*d (j < k), so they reach the phases {j*d mod s} and never the
    others, at any size (a 1x1 stride-2 convolution reads every other element; k2 d2 s2 too).

    >>> skipped_phases(1, 2, 1), skipped_phases(2, 2, 2), skipped_phases(3, 2, 1), skipped_phases(2, 4, 1)
    (1, 1, 0, 2)
    """
    # j*d mod s repeats after s / gcd(d, s) <= s taps
    return stride - len({j * dilation % stride for j in range(min(kernel_size, stride))})


@dataclass(frozen=True)
class LayerResult:
    """A layer run on an input: per-axis sizes in and out, the core's axes, channels in and out."""

    index: int
    layer: Layer
    size: tuple[int, ...]
    output: tuple[int, ...]
    axes: tuple[Axis, ...]
    in_channels: int | None
    out_channels: int | None

    @property
    def dropped(self) -> tuple[int, ...]:
        """Real inputs no window of a convolution or pooling reaches (0 for the other layers)."""
        return tuple(a.dropped if isinstance(a, (ConvAxis, PoolAxis)) else 0 for a in self.axes)

    @property
    def skipped(self) -> tuple[int, ...]:
        """Per axis, how many of every ``stride`` input elements no window of a convolution or pooling
        ever reads, inside the input and at any size (``skipped_phases``; 0 for the other layers)."""
        return tuple(
            skipped_phases(a.kernel_size, a.stride, a.dilation) if isinstance(a, (ConvAxis, PoolAxis)) else 0
            for a in self.axes
        )

    @property
    def canonical(self) -> CoreLayer | None:
        """A convolution or transposed convolution step as the core's one layer value; None for the
        pooling and upsampling steps (``layer`` keeps the step as the user wrote it)."""
        if self.layer.kind not in ("conv", "tconv"):
            return None
        ndim = len(self.axes)
        ops = self.layer.output_padding
        per_axis = (ops,) * ndim if isinstance(ops, int) else ops * ndim if len(ops) == 1 else ops
        return CoreLayer.of(
            [a for a in self.axes if isinstance(a, (ConvAxis, TransposedAxis))],
            per_axis if self.layer.kind == "tconv" else None,
            groups=self.layer.groups,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
        )


class SkipPair(NamedTuple):
    """A decoder layer and the encoder layer it mirrors: the decoder should give back the encoder's input."""

    encoder: int
    decoder: int
    expected: tuple[int, ...]
    got: tuple[int, ...]
    output_padding_fix: tuple[int | None, ...]
    fix_strict: tuple[bool, ...]

    @property
    def restored(self) -> tuple[bool, ...]:
        return tuple(e == g for e, g in zip(self.expected, self.got))


class AxisSizes(NamedTuple):
    """What one axis of the chain accepts: the smallest runnable input, the restoring and exact inputs;
    both None with ``note`` saying why where they are not worked out (a given size is still answered)."""

    axis: int
    minimum: int
    restores: Accepted | None
    exact: Accepted | None
    note: str | None = None


@dataclass(frozen=True, repr=False)
class ChainReport(Presentable):
    """Sizes after every layer, skip pairs, accepted inputs per axis and the receptive field."""

    layers: tuple[Layer, ...]
    size: tuple[int, ...]
    size_given: bool
    results: tuple[LayerResult, ...]
    pairs: tuple[SkipPair, ...]
    unpaired: tuple[int, ...]
    accepted: tuple[AxisSizes, ...]
    fields: tuple[tuple[Field, ...] | None, ...] = field(default=())
    listed: dict[int, tuple[int, ...]] | None = None
    """Per axis, the restoring input sizes in the range the command was asked to list (--range)."""

    presenter = "convcalc.chain.present"

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def output(self) -> tuple[int, ...]:
        return self.results[-1].output if self.results else self.size

    @property
    def restored(self) -> bool:
        """Every decoder gives back the size of the encoder input it mirrors (exit 0; else exit 1)."""
        return all(all(pair.restored) for pair in self.pairs)

    @property
    def exit_code(self) -> ExitCode:
        """The command's exit code: 0 when every skip is restored, 1 when one is not."""
        return ExitCode.OK if self.restored else ExitCode.VERIFICATION_FAILED


# ---------------------------------------------------------------------------------------------------
# Running layers through the core.


def _broadcast(name: str, value: Value, ndim: int, layer: str) -> tuple[int, ...]:
    values = (value,) if isinstance(value, int) else value
    if len(values) not in (1, ndim):
        raise ConvCalcError(
            f"{layer}: {name} has {len(values)} axes but the input has {ndim}; give one value or one "
            "per axis",
            parameter="layers",
        )
    return values * ndim if len(values) == 1 else values


def _run_layer(index: int, layer: Layer, size: tuple[int, ...], channels: int | None) -> LayerResult:
    label = layer.label(index)
    try:
        axes: tuple[Axis, ...]
        if layer.kind in ("conv", "tconv"):
            sizes, params = normalize(
                size,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                output_padding=layer.output_padding,
                dilation=layer.dilation,
                transposed=layer.kind == "tconv",
            )
            if params.ndim != len(size):
                raise ConvCalcError(
                    f"a per-axis value has {params.ndim} axes but the input has {len(size)}",
                    parameter="layers",
                )
            axes = (
                conv_axes_for(sizes, params) if layer.kind == "conv" else transposed_axes_for(sizes, params)
            )
        elif layer.kind in ("maxpool", "avgpool"):
            ndim = len(size)
            pads = _broadcast("padding", layer.padding, ndim, label)  # type: ignore[arg-type]
            axes = pool_axes_for(
                size,
                _broadcast("kernel_size", layer.kernel_size, ndim, label),
                _broadcast("stride", layer.stride, ndim, label),
                pads,
                _broadcast("dilation", layer.dilation, ndim, label),
                layer.ceil_mode,
            )
        else:
            scales = _broadcast("scale", layer.scale, len(size), label)
            axes = tuple(UpsampleAxis(i, s) for i, s in zip(size, scales))
        out_channels = channels
        if layer.kind in ("conv", "tconv") and (layer.out_channels is not None or layer.groups != 1):
            if channels is None or layer.out_channels is None:
                raise ConvCalcError(
                    "groups and out_channels (c) need the input channels of the chain (--channels) and the "
                    "layer's out channels (c64)",
                    parameter="channels",
                )
            kernel = tuple(a.kernel_size for a in axes)  # type: ignore[union-attr]
            channel_report(channels, layer.out_channels, layer.groups, kernel, tuple(a.output for a in axes))
            out_channels = layer.out_channels
    except ConvCalcError as error:
        raise ConvCalcError(f"{label}: {error}", parameter=error.parameter) from None
    output = tuple(a.output for a in axes)
    if any(o >= _SIZE_LIMIT for o in output):
        raise ConvCalcError(
            f"{label}: its output size has more than {MAX_DIGITS} digits; convcalc reads and reports sizes "
            f"of at most {MAX_DIGITS} digits: use smaller sizes, strides or scale factors",
            parameter="layers",
        )
    return LayerResult(index, layer, size, output, axes, channels, out_channels)


def run(layers: Sequence[Layer], size: Sequence[int], channels: int | None = None) -> tuple[LayerResult, ...]:
    """Sizes after every layer; the first layer that cannot run raises, naming itself."""
    results = []
    current = tuple(size)
    for index, layer in enumerate(layers, 1):
        result = _run_layer(index, layer, current, channels)
        results.append(result)
        current, channels = result.output, result.out_channels
    return tuple(results)


def _runs(layers: Sequence[Layer], size: Sequence[int]) -> tuple[LayerResult, ...] | None:
    try:
        return run(layers, size)
    except ConvCalcError:
        return None


# ---------------------------------------------------------------------------------------------------
# Encoder / decoder pairs.


def _stack_pairs(layers: Sequence[Layer]) -> tuple[list[tuple[int, int]], list[int]]:
    """Each upsampling layer mirrors the most recent unmatched downsampling one (1-based indices)."""
    stack: list[int] = []
    pairs, unpaired = [], []
    for index, layer in enumerate(layers, 1):
        if layer.downsamples:
            stack.append(index)
        elif layer.upsamples:
            if stack:
                pairs.append((stack.pop(), index))
            else:
                unpaired.append(index)
    return pairs, sorted(unpaired + stack)


def _output_padding_fix(
    result: LayerResult, expected: tuple[int, ...]
) -> tuple[tuple[int | None, ...], tuple[bool, ...]]:
    """For a transposed decoder layer: the output_padding that gives the expected size, if one is allowed."""
    fixes: list[int | None] = []
    strict: list[bool] = []
    for axis, want in zip(result.axes, expected):
        if not isinstance(axis, TransposedAxis):
            fixes.append(None)
            strict.append(True)
            continue
        op = _pick(result.layer.output_padding, len(fixes))
        needed = want - (axis.output - op)
        ok = 0 <= needed < max(axis.stride, axis.dilation)
        fixes.append(needed if ok else None)
        strict.append(needed < axis.stride)
    return tuple(fixes), tuple(strict)


def skip_pairs(
    layers: Sequence[Layer],
    results: Sequence[LayerResult],
    pairs: Sequence[tuple[int, int]],
    channels: int | None = None,
) -> tuple[SkipPair, ...]:
    """Each pair as the chain runs, with the output_padding that fixes it once the inner pairs are fixed.

    Pairs are fixed from the innermost decoder outwards: a fix changes every size after it, so each
    output_padding is worked out on the chain with the earlier fixes applied.
    """
    current = list(layers)
    fixed_results: Sequence[LayerResult] | None = results
    fixes: dict[int, tuple[tuple[int | None, ...], tuple[bool, ...]]] = {}
    for enc, dec in sorted(pairs, key=lambda pair: pair[1]):
        if fixed_results is None:
            fixes[dec] = ((None,) * len(results[0].size), (True,) * len(results[0].size))
            continue
        expected = fixed_results[enc - 1].size
        fix, strict = _output_padding_fix(fixed_results[dec - 1], expected)
        fixes[dec] = (fix, strict)
        if current[dec - 1].kind == "tconv" and fixed_results[dec - 1].output != expected:
            if all(op is not None for op in fix):
                current[dec - 1] = current[dec - 1]._replace(output_padding=tuple(op or 0 for op in fix))
                fixed_results = _runs_with(current, results[0].size, channels)
            else:
                fixed_results = None
        elif fixed_results[dec - 1].output != expected:
            fixed_results = None  # a resize or an unfixable layer: the outer fixes depend on how it is fixed
    out = []
    for enc, dec in pairs:
        fix, strict = fixes[dec]
        out.append(SkipPair(enc, dec, results[enc - 1].size, results[dec - 1].output, fix, strict))
    return tuple(out)


def axis_fixes(report: ChainReport, pair: SkipPair) -> tuple[tuple[int, str], ...]:
    """Per axis the pair does not restore: the change that restores it, in words (no sizes suggested)."""
    decoder = report.layers[pair.decoder - 1]
    fixes = []
    for n, ok in enumerate(pair.restored):
        if ok:
            continue
        want, got = pair.expected[n], pair.got[n]
        op = pair.output_padding_fix[n]
        if op is not None and op == _pick(decoder.output_padding, n):
            fixes.append((n, "restored once the inner skips are fixed"))
        elif op is not None:
            rule = "" if pair.fix_strict[n] else ", PyTorch-only: >= stride"
            fixes.append((n, f"output_padding={op} on layer {pair.decoder}{rule}"))
        elif decoder.kind == "up":
            fixes.append((n, f"resize to size {want} with interpolate size=, or crop/pad the skip"))
        else:
            side = "crop the skip by" if got < want else "crop the decoder output by"
            fixes.append((n, f"{side} {abs(want - got)}"))
    return tuple(fixes)


def _runs_with(
    layers: Sequence[Layer], size: Sequence[int], channels: int | None
) -> tuple[LayerResult, ...] | None:
    try:
        return run(layers, size, channels)
    except ConvCalcError:
        return None
