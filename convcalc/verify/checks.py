"""`convcalc verify` and its sweep: every claim of the core, executed on seeded random tensors.

Each check compares what the core predicts (sizes, the direct form's numbers) or what one route
computes with what an independent route or identity gives. The engine does the arithmetic; this
module only decides what to compare, so it never imports numpy itself.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
from typing import TYPE_CHECKING, Any, Union

from convcalc import engine
from convcalc.core import DirectAxis, ShapeReport, TransposedAxis, direct_form, shape_report
from convcalc.errors import BudgetExceeded, ConvCalcError

if TYPE_CHECKING:
    from convcalc.engine import Array
    from convcalc.frameworks.base import FrameworkLayer

# float64 round-off of sums of a few thousand products stays far below this, relative to the values'
# magnitude; a misplaced element or a wrong crop is of the order of the values themselves.
TOLERANCE = 1e-9
BATCH = 2
# Channels when the user gives none: different counts, so that a swapped channel axis shows.
DEFAULT_IN_CHANNELS = 2
DEFAULT_OUT_CHANNELS = 3

Value = Union[list[int], str]


@dataclass(frozen=True)
class Check:
    """One line of the verification: what was expected, what was got, the error and the verdict.

    ``passed`` is None when the check was skipped (``note`` says why).
    """

    name: str
    expected: Value
    got: Value
    error: float | None
    passed: bool | None
    note: str = ""

    @property
    def verdict(self) -> str:
        return "skipped" if self.passed is None else "pass" if self.passed else "FAIL"


@dataclass(frozen=True)
class VerifyReport:
    """What was verified (a shape report, or a framework's layer), the tensors' setup and every check.

    For a framework's transposed convolution ``report`` is None and the channels are the layer's own.
    """

    report: ShapeReport | None
    layer: FrameworkLayer | None
    seed: int
    batch: int
    in_channels: int
    out_channels: int
    groups: int
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed is not False for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.passed is False)


def _shape_check(name: str, expected: Sequence[int], got: Sequence[int]) -> Check:
    return Check(name, list(expected), list(got), None, list(expected) == list(got))


def _route_check(name: str, expected: Sequence[int], got: Array, reference: Array | None) -> Check:
    """The core's shape, and max |got - reference| <= TOLERANCE * max(1, max |reference|)."""
    shape_ok = list(got.shape) == list(expected)
    if reference is None:
        return Check(name, list(expected), list(got.shape), None, shape_ok)
    error = engine.max_abs_error(got, reference)
    bound = TOLERANCE * max(1.0, engine.max_abs(reference))
    return Check(name, list(expected), list(got.shape), error, shape_ok and error <= bound)


def _skipped(name: str, error: ConvCalcError) -> Check:
    return Check(name, "", "", None, None, note=str(error))


def _matrix_route(call: Callable[[], Array]) -> Array | ConvCalcError:
    """The dense route within its own budget; past it the check is skipped, not failed."""
    try:
        return call()
    except ConvCalcError as error:
        if not (isinstance(error, BudgetExceeded) and error.budget == "MAX_MATRIX_ELEMENTS"):
            raise
        return error


def verify_layer(
    size: Any,
    kernel_size: Any,
    *,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    transposed: bool = False,
    in_channels: int | None = None,
    out_channels: int | None = None,
    groups: int = 1,
    seed: int = 0,
) -> VerifyReport:
    """Execute the layer of ``shape_report`` by every route on seeded float64 tensors; return the checks.

    The convolution runs on its input W and the transposed twin on its input i (the convolution's
    output, or the user's size with ``transposed``). The convolution's weight (C_out, C_in/g, *k) is
    also the twin's weight, as in PyTorch.
    """
    _check_seed(seed)
    report = shape_report(
        size,
        kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        transposed=transposed,
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
    )
    if report.channels is None:
        c_in, c_out, g = DEFAULT_IN_CHANNELS, DEFAULT_OUT_CHANNELS, 1
    else:
        c_in, c_out, g = report.channels.in_channels, report.channels.out_channels, report.channels.groups
    params = report.params
    conv_in = [a.size for a in report.conv]
    conv_out = [a.output for a in report.conv]
    pads = [(a.pad_before, a.pad_after) for a in report.conv]
    t_in = [a.size for a in report.transposed]
    remainders = [r.remainder for r in report.reversal]
    kernel = list(params.kernel_size)
    # Every array the verification needs, allocated under the engine's budgets before any work.
    x, y_twin, y_conv, w = engine.random_tensors(
        seed,
        (BATCH, c_in, *conv_in),
        (BATCH, c_out, *t_in),
        (BATCH, c_out, *conv_out),
        (c_out, c_in // g, *kernel),
    )
    geometry: dict[str, Any] = {"stride": params.stride, "dilation": params.dilation, "groups": g}
    checks: list[Check] = []

    # The convolution: the core's size, and im2col against the dense matrix; then the twin.
    forward = engine.conv(x, w, padding=params.padding, **geometry)
    conv_shape = [BATCH, c_out, *conv_out]
    checks.append(_route_check("convolution: im2col", conv_shape, forward, None))
    by_matrix = _matrix_route(lambda: engine.conv_by_matrix(x, w, padding=pads, **geometry))
    if isinstance(by_matrix, ConvCalcError):
        checks.append(_skipped("convolution: matrix C x", by_matrix))
    else:
        checks.append(_route_check("convolution: matrix C x", conv_shape, by_matrix, forward))

    checks += _transposed_checks(
        y_twin,
        w,
        report.transposed,
        report.direct,
        geometry,
        pytorch={"padding": pads, "output_padding": params.output_padding},
    )

    # The adjoint identity, and the round trip conv -> transposed conv with output_padding = r.
    left, right = engine.adjoint_identity(x, y_conv, w, padding=pads, output_padding=remainders, **geometry)
    checks.append(_adjoint_check(left, right))
    back = engine.conv_transpose(forward, w, padding=pads, output_padding=remainders, **geometry)
    checks.append(_shape_check("round trip with output_padding = r restores W", conv_in, back.shape[2:]))

    return VerifyReport(report, None, seed, BATCH, c_in, c_out, g, tuple(checks))


def _transposed_checks(
    y: Array,
    w: Array,
    axes: Sequence[TransposedAxis],
    forms: Sequence[DirectAxis],
    geometry: dict[str, Any],
    pytorch: dict[str, Any] | None,
) -> list[Check]:
    """Every route of the transposed convolution against the scatter route (the definition), and the
    direct form's numbers (as `shape` prints them) against the arrays the direct route really built."""
    c_in = w.shape[1] * geometry["groups"]
    expected = [y.shape[0], c_in, *(a.output for a in axes)]
    canonical: dict[str, Any] = {"crops": [(a.crop_before, a.crop_after) for a in axes], **geometry}
    scatter = engine.transpose_scatter(y, w, **canonical)
    direct = engine.transpose_direct_run(y, w, **canonical)
    routes: dict[str, Array | ConvCalcError] = {
        "engine (col2im)": engine.conv_transpose_cropped(y, w, **canonical),
    }
    if pytorch is not None:
        routes["PyTorch arguments"] = engine.conv_transpose(y, w, **pytorch, **geometry)
    routes["direct convolution"] = direct.output
    routes["matrix C^T y"] = _matrix_route(lambda: engine.transpose_matrix(y, w, **canonical))
    checks = [_route_check("transposed: scatter (definition)", expected, scatter, None)]
    for route, result in routes.items():
        name = f"transposed: {route}"
        if isinstance(result, ConvCalcError):
            checks.append(_skipped(name, result))
        else:
            checks.append(_route_check(name, expected, result, scatter))
    checks.append(
        _shape_check("direct form: stretched (i-1)s+1", [d.stretched for d in forms], direct.stretched)
    )
    checks.append(
        _shape_check(
            "direct form: re-padded size",
            [d.stretched + d.pad_before + d.pad_after for d in forms],
            direct.padded,
        )
    )
    checks.append(_shape_check("direct form: output", [d.output for d in forms], direct.output.shape[2:]))
    return checks


def _adjoint_check(left: float, right: float) -> Check:
    gap = abs(left - right)
    return Check(
        "adjoint: <conv x, y> = <x, conv_transpose y>",
        f"{left:.12g}",
        f"{right:.12g}",
        gap,
        gap <= TOLERANCE * max(1.0, abs(left), abs(right)),
    )


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConvCalcError(f"seed must be an integer from 0 to 2**63 - 1; got {seed!r}", parameter="seed")
    return seed


def verify_framework(framework: str, *, seed: int = 0, **arguments: Any) -> VerifyReport:
    """Verify a layer given in one framework's arguments (``convcalc.frameworks.read``).

    A convolution is verified like ``verify_layer`` with its resolved padding; a transposed convolution
    through its canonical crops (which PyTorch's arguments may not express), by every route, the
    direct form and the adjoint identity. Values are computed in PyTorch's weight layout.
    """
    from convcalc.frameworks import read

    _check_seed(seed)
    layer = read(framework, **arguments)
    if not layer.is_transposed:
        result = verify_layer(
            [a.size for a in layer.conv],
            list(layer.args.kernel_size),
            stride=list(layer.args.stride),
            padding=[(a.pad_before, a.pad_after) for a in layer.conv],
            # The canonical axes, not the arguments: Paddle's 'SAME' runs with dilation 1.
            dilation=[a.dilation for a in layer.conv],
            seed=seed,
        )
        assert result.report is not None
        claimed = _shape_check(
            f"{layer.framework} output size", list(layer.output), [a.output for a in result.report.conv]
        )
        return replace(result, layer=layer, checks=(claimed, *result.checks))
    axes = layer.transposed
    # The transposed layer maps DEFAULT_OUT_CHANNELS -> DEFAULT_IN_CHANNELS, as the twin in verify_layer.
    y, z, w = engine.random_tensors(
        seed,
        (BATCH, DEFAULT_OUT_CHANNELS, *(a.size for a in axes)),
        (BATCH, DEFAULT_IN_CHANNELS, *(a.output for a in axes)),
        (DEFAULT_OUT_CHANNELS, DEFAULT_IN_CHANNELS, *layer.args.kernel_size),
    )
    geometry: dict[str, Any] = {
        "stride": [a.stride for a in axes],
        "dilation": [a.dilation for a in axes],
        "groups": 1,
    }
    checks = _transposed_checks(y, w, axes, [direct_form(a) for a in axes], geometry, pytorch=None)
    executed = checks[0].got
    checks.insert(
        0,
        Check(
            f"{layer.framework} output size",
            list(layer.output),
            executed[2:] if isinstance(executed, list) else executed,
            None,
            isinstance(executed, list) and executed[2:] == list(layer.output),
        ),
    )
    crops = [(a.crop_before, a.crop_after) for a in axes]
    # Here the transposed convolution is the operator and the convolution its adjoint.
    forward, backward = engine.adjoint_identity_cropped(y, z, w, crops=crops, **geometry)
    checks.append(_adjoint_check(backward, forward))
    return VerifyReport(None, layer, seed, BATCH, DEFAULT_OUT_CHANNELS, DEFAULT_IN_CHANNELS, 1, tuple(checks))


def layer_command(arguments: dict[str, Any], seed: int) -> str:
    """The `convcalc verify` command line that reproduces one configuration."""

    def text(value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int):
            return str(value)
        return "x".join(f"{v[0]}:{v[1]}" if isinstance(v, tuple) else str(v) for v in value)

    flags = [
        ("-k", "kernel_size"),
        ("-s", "stride"),
        ("-p", "padding"),
        ("--output-padding", "output_padding"),
        ("-d", "dilation"),
    ]
    parts = ["convcalc verify", text(arguments["size"])]
    parts += [f"{flag} {text(arguments[key])}" for flag, key in flags]
    return " ".join([*parts, f"--seed {seed}"])


# ---------------------------------------------------------------------------------------------------
# The sweep.

MAX_SWEEP_CONFIGURATIONS = 200_000


def parse_range(name: str, text: str, minimum: int) -> tuple[int, ...]:
    """`1-7` -> 1..7, `1,3,5` -> (1, 3, 5), `2` -> (2,); mixed: `1-3,8`.

    >>> parse_range("sizes", "1-3,8", 1)
    (1, 2, 3, 8)
    """
    values: list[int] = []
    for token in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d{1,6})(?:-(\d{1,6}))?", token)
        if match is None:
            raise ConvCalcError(
                f"{name} must be numbers or ranges like 1-7, joined by commas; got {text!r}",
                parameter=name,
            )
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if last < first:
            raise ConvCalcError(f"{name} range must run upwards (1-7); got {token!r}", parameter=name)
        values.extend(range(first, last + 1))
    if min(values) < minimum:
        raise ConvCalcError(f"{name} must be >= {minimum}; got {text!r}", parameter=name)
    return tuple(sorted(set(values)))


def _spread(value: int, ndim: int) -> int | tuple[int, ...]:
    return value if ndim == 1 else (value,) * ndim


@dataclass(frozen=True)
class SweepGrid:
    """The ranges swept; every configuration uses its values on all spatial axes alike."""

    sizes: tuple[int, ...] = tuple(range(1, 9))
    kernel_sizes: tuple[int, ...] = (1, 2, 3, 4)
    strides: tuple[int, ...] = (1, 2, 3)
    paddings: tuple[int, ...] = (0, 1, 2)
    dilations: tuple[int, ...] = (1, 2)
    output_paddings: tuple[int, ...] = (0, 1, 2)
    ndims: tuple[int, ...] = (1, 2, 3)

    @property
    def count(self) -> int:
        return math.prod(
            len(v)
            for v in (
                self.sizes,
                self.kernel_sizes,
                self.strides,
                self.paddings,
                self.dilations,
                self.output_paddings,
                self.ndims,
            )
        )

    def configurations(self) -> Iterator[dict[str, Any]]:
        """Keyword arguments of ``verify_layer``, one per grid point."""
        for nd, i, k, s, p, d, op in product(
            self.ndims,
            self.sizes,
            self.kernel_sizes,
            self.strides,
            self.paddings,
            self.dilations,
            self.output_paddings,
        ):
            yield {
                "size": _spread(i, nd),
                "kernel_size": _spread(k, nd),
                "stride": _spread(s, nd),
                "padding": _spread(p, nd),
                "output_padding": _spread(op, nd),
                "dilation": _spread(d, nd),
            }


@dataclass(frozen=True)
class SweepFailure:
    """A configuration whose verification failed, the failed checks, and the command to reproduce it."""

    arguments: dict[str, Any]
    checks: tuple[Check, ...]
    command: str


@dataclass(frozen=True)
class SweepReport:
    grid: SweepGrid
    seed: int
    verified: int
    checks: int
    skipped: dict[str, int] = field(default_factory=dict)
    failures: tuple[SweepFailure, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def skip_reason(error: ConvCalcError) -> str:
    """The rule a configuration broke, without its numbers, so that equal reasons count together."""
    rule = re.split(r"[;:]", str(error), maxsplit=1)[0]
    return re.sub(r"-?\d+", "n", rule)


def sweep(grid: SweepGrid, *, seed: int = 0, progress: Callable[[int], None] | None = None) -> SweepReport:
    """Verify every configuration of the grid; invalid ones are skipped and counted by reason.

    ``progress`` is called with the number of configurations done after each one.
    """
    if grid.count > MAX_SWEEP_CONFIGURATIONS:
        raise ConvCalcError(
            f"the sweep grid has {grid.count:,} configurations; the limit MAX_SWEEP_CONFIGURATIONS is "
            f"{MAX_SWEEP_CONFIGURATIONS:,}: narrow the ranges",
            parameter="grid",
        )
    skipped: Counter[str] = Counter()
    failures: list[SweepFailure] = []
    verified = checks = 0
    for done, arguments in enumerate(grid.configurations(), start=1):
        try:
            result = verify_layer(**arguments, seed=seed)
        except ConvCalcError as error:
            skipped[skip_reason(error)] += 1
        else:
            verified += 1
            checks += len(result.checks)
            if not result.passed:
                failures.append(SweepFailure(arguments, result.failures, layer_command(arguments, seed)))
        if progress is not None:
            progress(done)
    return SweepReport(grid, seed, verified, checks, dict(skipped.most_common()), tuple(failures))
