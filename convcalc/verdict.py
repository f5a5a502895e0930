"""The verdict of every verification: check records, reports, and the one agreement rule.

`verify`, `sweep`, `port --verify` and `solve --verify` compute their numbers in the engine (through
`verify.checks`, `port.execute` and `solve.execute`); whether a number agrees with its reference is
decided here, once. Pure Python: documents and renderers import this module without loading numpy.
It sits below the features and the framework conventions (``port.execute`` runs port checks), so
that no convention imports a feature.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import TYPE_CHECKING, Any, Union

from convcalc.core.display import Presentable
from convcalc.errors import ExitCode

if TYPE_CHECKING:
    from convcalc.conventions.base import FrameworkLayer
    from convcalc.core import ShapeReport

# float64 round-off of sums of a few thousand products stays far below this, relative to the values'
# magnitude; a misplaced element or a wrong crop is of the order of the values themselves.
TOLERANCE = 1e-9

Value = Union[list[int], str]


def allowed_error(reference_max: float) -> float:
    """TOLERANCE * max(1, max |reference|): the largest error a route may show against its reference.

    >>> allowed_error(0.5), allowed_error(4.0)
    (1e-09, 4e-09)
    """
    return TOLERANCE * max(1.0, reference_max)


def agrees(error: float, reference_max: float) -> bool:
    """The agreement rule: max |route - reference| <= TOLERANCE * max(1, max |reference|).

    ``error`` is max |route - reference| (infinite when the shapes differ), ``reference_max`` is
    max |reference|. A NaN error never agrees.

    >>> agrees(5e-7, 1000.0), agrees(5e-7, 1.0), agrees(float("nan"), 1.0)
    (True, False, False)
    """
    return error <= allowed_error(reference_max)


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


def shape_check(name: str, expected: Sequence[int], got: Sequence[int]) -> Check:
    """Sizes or shapes: equal or not."""
    return Check(name, list(expected), list(got), None, list(expected) == list(got))


def route_check(
    name: str, expected: Sequence[int], got: Sequence[int], error: float, reference_max: float
) -> Check:
    """A route's output against a reference: the expected shape, and the agreement rule."""
    shape_ok = list(got) == list(expected)
    return Check(name, list(expected), list(got), error, shape_ok and agrees(error, reference_max))


def scalar_check(name: str, reference: float, got: float) -> Check:
    """Two numbers that must be equal (the two sides of an identity); the first is the reference."""
    error = abs(got - reference)
    return Check(name, f"{reference:.12g}", f"{got:.12g}", error, agrees(error, abs(reference)))


def skipped_check(name: str, reason: str) -> Check:
    return Check(name, "", "", None, None, note=reason)


def all_passed(checks: Sequence[Check]) -> bool:
    """A run passes when no check failed; skipped checks neither pass nor fail it."""
    return all(c.passed is not False for c in checks)


@dataclass(frozen=True, repr=False)
class VerifyReport(Presentable):
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

    presenter = "convcalc.verify.present"

    @property
    def passed(self) -> bool:
        return all_passed(self.checks)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.passed else ExitCode.VERIFICATION_FAILED

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.passed is False)


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


@dataclass(frozen=True, repr=False)
class SweepReport(Presentable):
    """A sweep's counts: configurations verified, checks run, invalid ones skipped by reason, failures."""

    grid: SweepGrid
    seed: int
    verified: int
    checks: int
    skipped: dict[str, int] = field(default_factory=dict)
    failures: tuple[SweepFailure, ...] = ()
    skipped_examples: dict[str, str] = field(default_factory=dict)
    """Per reason, the full message (with its numbers) of the first configuration skipped for it."""

    presenter = "convcalc.verify.sweep_present"

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.passed else ExitCode.VERIFICATION_FAILED

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass(frozen=True)
class PortCheck:
    """Source layer and fixed target layer run on the same random data; shapes and largest difference.

    ``reference_max`` is max |source output|, the scale of the agreement rule.
    """

    source_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    unfixed_shape: tuple[int, ...]
    max_error: float
    unfixed_error: float
    reference_max: float
    seed: int

    @property
    def ok(self) -> bool:
        return self.source_shape == self.target_shape and agrees(self.max_error, self.reference_max)

    @property
    def unfixed_equal(self) -> bool:
        """Whether the target's arguments without the fix already give the source's values."""
        return self.unfixed_shape == self.source_shape and agrees(self.unfixed_error, self.reference_max)
