"""One reader of a layer's command-line options, for every command that describes one layer.

Two dialects, chosen only by ``--framework``:

- without it, convcalc's own documented arguments: PyTorch's names and meanings, plus TensorFlow's
  'same' on strided convolutions, 'full', and ``before:after`` padding pairs; ``--output-size`` picks the
  output_padding that gives that size (under the same output_padding rule);
- with ``--framework X`` (``pytorch`` included), exactly X's arguments and refusals, read by the
  convention module of X (``convcalc.conventions``).

No other flag switches the rule set: ``--transpose-kernel`` exists only in JAX and Flax, so it needs
``--framework jax`` or ``flax``. The reader parses text once and returns typed values; nothing here
imports numpy or rich. Its records are NamedTuples: a frozen dataclass costs several times as much to
define, and every command pays that at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from convcalc.core import ShapeReport, shape_report
from convcalc.errors import ConvCalcError, option
from convcalc.parse import parse_framework_padding, parse_ints, parse_padding

if TYPE_CHECKING:
    from convcalc.conventions.base import FrameworkLayer
    from convcalc.core.layer import Layer

Ints = int | tuple[int, ...]
Padding = str | int | tuple[int, ...] | tuple[tuple[int, int], ...]


class LayerOptions(NamedTuple):
    """The shared layer options exactly as typed (text), built once by the CLI."""

    size: str
    kernel_size: str | None = None
    stride: str = "1"
    padding: str | None = None
    output_padding: str | None = None
    dilation: str = "1"
    transposed: bool = False
    in_channels: int | None = None
    out_channels: int | None = None
    groups: int = 1
    framework: str | None = None
    output_size: str | None = None
    transpose_kernel: bool = False


class LayerArguments(NamedTuple):
    """Parsed arguments in convcalc's own dialect (PyTorch's names), ready for the core."""

    size: Ints
    kernel_size: Ints
    stride: Ints
    padding: Padding
    output_padding: Ints
    dilation: Ints
    transposed: bool
    in_channels: int | None
    out_channels: int | None
    groups: int

    def layer(self, report: ShapeReport | None = None) -> Layer:
        """The canonical layer: the convolution's resolved pads, or the transposed layer's crops."""
        from convcalc.core.layer import Layer

        report = report or self.report()
        axes = report.transposed if self.transposed else report.conv
        return Layer.of(
            axes,
            report.params.output_padding if self.transposed else None,
            groups=self.groups,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
        )

    def report(self) -> ShapeReport:
        """The core's full description of this layer and its twin."""
        return shape_report(
            self.size,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            output_padding=self.output_padding,
            dilation=self.dilation,
            transposed=self.transposed,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            groups=self.groups,
        )


class FrameworkArguments(NamedTuple):
    """Parsed arguments in one framework's spelling (words and unset values kept as given)."""

    size: Ints
    kernel_size: Ints
    stride: Ints
    dilation: Ints
    padding: Padding | None
    output_padding: Ints | None
    output_size: Ints | None
    transposed: bool
    transpose_kernel: bool

    def read(self, framework: str) -> FrameworkLayer:
        """The layer as ``framework`` reads it: its canonical form, with that framework's refusals."""
        from convcalc.conventions import read

        return read(
            framework,
            self.size,
            self.kernel_size,
            stride=self.stride,
            dilation=self.dilation,
            padding=self.padding,
            output_padding=self.output_padding,
            output_size=self.output_size,
            transposed=self.transposed,
            transpose_kernel=self.transpose_kernel,
        )


class ReadLayer(NamedTuple):
    """A layer read from the options: ``report`` in convcalc's dialect, or ``framework_layer``; both give
    the canonical ``layer``."""

    options: LayerOptions
    arguments: LayerArguments | None
    report: ShapeReport | None
    framework_layer: FrameworkLayer | None

    @property
    def layer(self) -> Layer:
        if self.framework_layer is not None:
            return self.framework_layer.layer
        assert self.arguments is not None and self.report is not None
        return self.arguments.layer(self.report)


def _require_kernel(kernel_size: str | None) -> str:
    if kernel_size is None:
        raise ConvCalcError(
            f"kernel_size is required: give {option('kernel_size')}, for example {option('kernel_size', 3)}",
            parameter="kernel_size",
        )
    return kernel_size


def framework_arguments(options: LayerOptions) -> FrameworkArguments:
    """Parse the options for a framework convention (also `port`'s --from layer)."""
    return FrameworkArguments(
        size=parse_ints("size", options.size),
        kernel_size=parse_ints("kernel_size", _require_kernel(options.kernel_size)),
        stride=parse_ints("stride", options.stride),
        dilation=parse_ints("dilation", options.dilation),
        padding=None if options.padding is None else parse_framework_padding(options.padding),
        output_padding=(
            None if options.output_padding is None else parse_ints("output_padding", options.output_padding)
        ),
        output_size=None if options.output_size is None else parse_ints("output_size", options.output_size),
        transposed=options.transposed,
        transpose_kernel=options.transpose_kernel,
    )


def _per_axis(value: Ints, axes: int) -> tuple[int, ...]:
    return (value,) * axes if isinstance(value, int) else tuple(value)


def _check_reachable(arguments: LayerArguments, targets: Sequence[int], lowest: Sequence[int]) -> None:
    """Refuse a target outside the sizes output_padding 0 .. max(stride, dilation) - 1 reach, naming them."""
    strides = _per_axis(arguments.stride, len(lowest))
    dilations = _per_axis(arguments.dilation, len(lowest))
    highest = [low + max(s, d) - 1 for low, s, d in zip(lowest, strides, dilations)]
    if all(low <= t <= high for t, low, high in zip(targets, lowest, highest)):
        return
    wanted = "x".join(str(t) for t in targets)
    ranges = ", ".join(f"{low}..{high}" for low, high in zip(lowest, highest))
    where = "" if len(lowest) == 1 else " per axis"
    raise ConvCalcError(
        f"output size {wanted} is not reachable; {ranges} are{where} (output_padding 0 up to "
        "max(stride, dilation) - 1)",
        parameter="output_size",
    )


def _padding_for_output_size(arguments: LayerArguments, output_size: str) -> Ints:
    """The output_padding that makes the transposed output ``output_size`` (checked by the core)."""
    if not arguments.transposed:
        raise ConvCalcError(
            f"output_size is the transposed convolution's output: add {option('transposed', True)}, or drop "
            f"{option('output_size')}; got output_size={output_size!r}",
            parameter="output_size",
        )
    wanted = parse_ints("output_size", output_size)
    smallest = arguments._replace(output_padding=0).report().transposed
    targets = (wanted,) * len(smallest) if isinstance(wanted, int) else wanted
    if len(targets) != len(smallest):
        raise ConvCalcError(
            f"output_size must have one value or one per axis ({len(smallest)}); got {output_size!r}",
            parameter="output_size",
        )
    paddings = tuple(o - a.output for o, a in zip(targets, smallest))
    _check_reachable(arguments, targets, tuple(a.output for a in smallest))
    given = arguments.output_padding
    given_axes = (given,) * len(paddings) if isinstance(given, int) else given
    if given != 0 and tuple(given_axes) != paddings:
        raise ConvCalcError(
            f"output_size {list(targets)} needs output_padding {list(paddings)}, but output_padding "
            f"{list(given_axes)} was given; give one of them",
            parameter="output_size",
        )
    return paddings


def dialect_arguments(options: LayerOptions) -> LayerArguments:
    """Parse the options in convcalc's own dialect; ``--output-size`` becomes an output_padding."""
    if options.transpose_kernel:
        raise ConvCalcError(
            f"{option('transpose_kernel', True)} is an argument of JAX and Flax only: add "
            f"{option('framework', 'jax')} or {option('framework', 'flax')}",
            parameter="transpose_kernel",
        )
    arguments = LayerArguments(
        size=parse_ints("size", options.size),
        kernel_size=parse_ints("kernel_size", _require_kernel(options.kernel_size)),
        stride=parse_ints("stride", options.stride),
        padding=parse_padding("0" if options.padding is None else options.padding),
        output_padding=parse_ints("output_padding", options.output_padding or "0"),
        dilation=parse_ints("dilation", options.dilation),
        transposed=options.transposed,
        in_channels=options.in_channels,
        out_channels=options.out_channels,
        groups=options.groups,
    )
    if options.output_size is not None:
        arguments = arguments._replace(
            output_padding=_padding_for_output_size(arguments, options.output_size)
        )
    return arguments


def read_layer(options: LayerOptions) -> ReadLayer:
    """Read the options in the dialect ``--framework`` names (see the module docstring)."""
    if options.framework is None:
        arguments = dialect_arguments(options)
        return ReadLayer(options, arguments, arguments.report(), None)
    if options.in_channels is not None or options.out_channels is not None or options.groups != 1:
        raise ConvCalcError(
            f"{option('in_channels')}, {option('out_channels')} and {option('groups')} go with convcalc's "
            f"own arguments; drop them with {option('framework', options.framework)} (port takes them)",
            parameter="framework",
        )
    return ReadLayer(options, None, None, framework_arguments(options).read(options.framework))
