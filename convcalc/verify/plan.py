"""The whole plan of a verification, counted from the core's sizes before any route runs.

`verify` runs one layer through many routes (im2col, the dense matrices, scatter, col2im, PyTorch's
arguments, the direct form, the adjoint identity, the round trip). The engine checks each call's own
budget, but only when that call starts: earlier routes have run by then, and an array a route builds
before its call (the direct route's re-padded input) escapes it. So `verify` adds up, from the sizes
the core reports, every array each route allocates (an upper bound: arrays freed early still count)
and every multiply-accumulate, and refuses the whole plan past ``MAX_PLAN_ELEMENTS`` elements or
``MAX_PLAN_WORK`` multiply-accumulates. Pure Python: the figures are integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from convcalc.core import ConvAxis, DirectAxis, TransposedAxis
from convcalc.errors import BudgetExceeded

# 2**27 float64 elements are 1 GiB: the sum of every array, so the peak stays below it.
MAX_PLAN_ELEMENTS = 2**27
MAX_PLAN_WORK = 10**10


@dataclass
class Plan:
    """Arrays (name, elements) and multiply-accumulates of a verification, route by route."""

    arrays: list[tuple[str, int]] = field(default_factory=list)
    work: int = 0

    @property
    def elements(self) -> int:
        return sum(n for _, n in self.arrays)

    def add(self, name: str, *factors: int) -> None:
        self.arrays.append((name, math.prod(factors)))

    def conv(
        self, name: str, batch: int, c_in: int, c_out: int, groups: int, axes: Sequence[ConvAxis]
    ) -> None:
        """im2col: the padded source, the column matrix (C_in * taps * N * outputs), the output twice."""
        taps = math.prod(a.kernel_size for a in axes)
        outputs = math.prod(a.output for a in axes)
        self.add(f"{name}: padded input", batch, c_in, *(a.padded_size for a in axes))
        self.add(f"{name}: columns", c_in, taps, batch, outputs)
        self.add(f"{name}: output", 2, batch, c_out, outputs)
        self.work += batch * c_out * (c_in // groups) * taps * outputs

    def transposed(
        self, name: str, batch: int, c_in: int, c_out: int, groups: int, axes: Sequence[TransposedAxis]
    ) -> None:
        """col2im: every tap's contribution (C_out * taps * N * inputs), the full output with the zeros
        of negative crops, the cropped output."""
        taps = math.prod(a.kernel_size for a in axes)
        inputs = math.prod(a.size for a in axes)
        extent = math.prod(a.full + max(-a.crop_before, 0) + max(-a.crop_after, 0) for a in axes)
        self.add(f"{name}: contributions", c_out, taps, batch, inputs)
        self.add(f"{name}: full output", batch, c_out, extent)
        self.add(f"{name}: output", batch, c_out, *(a.output for a in axes))
        self.work += batch * c_in * (c_out // groups) * taps * inputs

    def scatter(self, batch: int, c_in: int, c_out: int, groups: int, axes: Sequence[TransposedAxis]) -> None:
        """The definition: the full output, one tap's copy at a time, the cropped result."""
        taps = math.prod(a.kernel_size for a in axes)
        inputs = math.prod(a.size for a in axes)
        self.add("scatter route: full output", batch, c_out, *(a.full for a in axes))
        self.add("scatter route: one tap's copy", batch, c_out, inputs)
        extent = math.prod(a.output + max(-a.crop_before, 0) + max(-a.crop_after, 0) for a in axes)
        self.add("scatter route: output", batch, c_out, extent)
        self.work += batch * c_in * (c_out // groups) * taps * inputs

    def direct(
        self,
        batch: int,
        c_in: int,
        c_out: int,
        groups: int,
        axes: Sequence[TransposedAxis],
        forms: Sequence[DirectAxis],
    ) -> None:
        """Zeros inserted, the re-padded input, then a stride-1 convolution over it."""
        taps = math.prod(a.kernel_size for a in axes)
        outputs = math.prod(f.output for f in forms)
        self.add("direct route: zero-inserted input", batch, c_in, *(f.stretched for f in forms))
        padded = (f.stretched + max(f.pad_before, 0) + max(f.pad_after, 0) for f in forms)
        # the re-padded input, and its channels-first copy for the convolution
        self.add("direct route: re-padded input", 2, batch, c_in, *padded)
        self.add("direct route: columns", c_in, taps, batch, outputs)
        self.add("direct route: output", 2, batch, c_out, outputs)
        self.work += batch * c_out * (c_in // groups) * taps * outputs

    def matrix(self, name: str, batch: int, rows: int, cols: int, limit: int) -> None:
        """A dense matrix route, unless past the matrix budget (then the check is skipped, not run)."""
        if rows * cols <= limit:
            self.add(f"{name}: matrix", rows, cols)
            self.add(f"{name}: product", batch, max(rows, cols))
            self.work += batch * rows * cols

    def check(self) -> None:
        """Refuse the plan past MAX_PLAN_ELEMENTS or MAX_PLAN_WORK, naming its largest array."""
        name, largest = max(self.arrays, key=lambda item: item[1])
        narrow = "use smaller sizes, fewer spatial axes or fewer channels"
        if self.elements > MAX_PLAN_ELEMENTS:
            raise BudgetExceeded(
                f"verifying this layer by every route needs arrays of {_count(self.elements)} elements in "
                f"all (the largest, {name}, has {_count(largest)}); the whole plan's budget "
                f"MAX_PLAN_ELEMENTS is {MAX_PLAN_ELEMENTS:,}: {narrow}",
                budget="MAX_PLAN_ELEMENTS",
                limit=MAX_PLAN_ELEMENTS,
                requested=self.elements,
            )
        if self.work > MAX_PLAN_WORK:
            raise BudgetExceeded(
                f"verifying this layer by every route needs {_count(self.work)} multiply-accumulates in all; "
                f"the whole plan's budget MAX_PLAN_WORK is {MAX_PLAN_WORK:,}: {narrow}",
                budget="MAX_PLAN_WORK",
                limit=MAX_PLAN_WORK,
                requested=self.work,
            )


def _count(n: int) -> str:
    """A count as a message shows it: exact up to 30 digits, then its order of magnitude.

    >>> _count(1234), _count(10**40 + 1)
    ('1,234', 'about 10^40')
    """
    return f"{n:,}" if n < 10**30 else f"about 10^{len(str(n)) - 1}"


def transposed_routes(
    plan: Plan,
    batch: int,
    c_in: int,
    c_out: int,
    groups: int,
    axes: Sequence[TransposedAxis],
    forms: Sequence[DirectAxis],
    matrix_limit: int,
    pytorch: bool,
) -> None:
    """The routes of ``verify.checks._transposed_checks``: scatter, col2im, PyTorch's arguments (when
    run), the direct form and C^T y. ``c_in`` is the transposed convolution's input channels."""
    plan.scatter(batch, c_in, c_out, groups, axes)
    plan.transposed("col2im route", batch, c_in, c_out, groups, axes)
    if pytorch:
        plan.transposed("PyTorch-arguments route", batch, c_in, c_out, groups, axes)
    plan.direct(batch, c_in, c_out, groups, axes, forms)
    kept = math.prod(a.full - max(a.crop_before, 0) - max(a.crop_after, 0) for a in axes)
    if kept >= 1:
        rows, cols = c_in * math.prod(a.size for a in axes), c_out * kept
        plan.matrix("transposed matrix route", batch, rows, cols, matrix_limit)
