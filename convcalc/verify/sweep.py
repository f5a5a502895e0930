"""`convcalc sweep`: `verify` over every configuration of a grid, invalid ones counted by the rule they broke.

The grid, its ranges and the reproducing command are pure; only ``sweep`` itself runs the engine.

Budgets, checked before anything is expanded or run: range text is read as intervals and the grid's
size is counted from their bounds (``MAX_SWEEP_CONFIGURATIONS``); then the whole sweep's work is
estimated from the sizes each configuration reaches (``sweep_work``) and refused past
``MAX_SWEEP_WORK``, about two minutes on a two-core machine.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from itertools import product
from typing import Any

from convcalc.core import MAX_AXES
from convcalc.errors import BudgetExceeded, ConvCalcError
from convcalc.parse import check_seed, parse_int
from convcalc.verdict import SweepFailure, SweepGrid, SweepReport

MAX_SWEEP_CONFIGURATIONS = 200_000
MAX_SWEEP_VALUE = 999_999
# The cost model of one configuration, in units of about a nanosecond on two cores: Python's share of
# a verification, then per element of the arrays the routes allocate and per multiply-accumulate.
SWEEP_OVERHEAD = 2_000_000
SWEEP_ELEMENT = 3
# Arrays a verification allocates about as large as its largest (inputs, outputs, each route's full
# output) and routes that run a full convolution; batch times channels of verify's defaults (2 x 3).
_ARRAYS, _ROUTES, _BATCH_CHANNELS = 20, 8, 6
MAX_SWEEP_WORK = 120 * 10**9


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


Intervals = tuple[tuple[int, int], ...]


def range_intervals(name: str, text: str, minimum: int) -> Intervals:
    """`1-7,9` -> ((1, 7), (9, 9)): the text read without expanding it (ASCII digits, at most 999,999).

    >>> range_intervals("sizes", "1-3,8", 1)
    ((1, 3), (8, 8))
    """
    intervals = []
    for token in text.replace(" ", "").split(","):
        parts = token.split("-")
        if len(parts) > 2 or not all(parts) or not all(p.isdigit() or not p.isascii() for p in parts):
            raise ConvCalcError(
                f"{name} must be numbers or ranges like 1-7, joined by commas; got {text[:60]!r}",
                parameter=name,
            )
        first, last = (parse_int(name, part, maximum=MAX_SWEEP_VALUE) for part in (parts[0], parts[-1]))
        if last < first:
            raise ConvCalcError(f"{name} range must run upwards (1-7); got {token!r}", parameter=name)
        if first < minimum:
            raise ConvCalcError(f"{name} must be >= {minimum}; got {text[:60]!r}", parameter=name)
        intervals.append((first, last))
    return tuple(intervals)


def _merged(intervals: Intervals) -> Intervals:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(intervals):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)


def count_values(intervals: Intervals) -> int:
    """How many distinct values the intervals hold, counted from their bounds."""
    return sum(last - first + 1 for first, last in _merged(intervals))


def _expand(intervals: Intervals) -> tuple[int, ...]:
    return tuple(v for first, last in _merged(intervals) for v in range(first, last + 1))


def _check_count(count: int, what: str) -> None:
    if count > MAX_SWEEP_CONFIGURATIONS:
        raise BudgetExceeded(
            f"{what} has {count:,} configurations; the limit MAX_SWEEP_CONFIGURATIONS is "
            f"{MAX_SWEEP_CONFIGURATIONS:,}: narrow the ranges",
            budget="MAX_SWEEP_CONFIGURATIONS",
            limit=MAX_SWEEP_CONFIGURATIONS,
            requested=count,
            parameter="grid",
        )


def parse_range(name: str, text: str, minimum: int) -> tuple[int, ...]:
    """`1-7` -> 1..7, `1,3,5` -> (1, 3, 5), `2` -> (2,); mixed: `1-3,8`. Counted before it is expanded.

    >>> parse_range("sizes", "1-3,8", 1)
    (1, 2, 3, 8)
    """
    intervals = range_intervals(name, text, minimum)
    _check_count(count_values(intervals), f"the range {name}")
    return _expand(intervals)


def sweep_grid(**texts: str) -> SweepGrid:
    """The grid from the CLI's range texts (sizes=..., kernel_sizes=..., ...; the SweepGrid field names),
    refused before any range is expanded when it is too large, then when its work is too large."""
    minimum = {"paddings": 0, "output_paddings": 0}
    intervals = {name: range_intervals(name, text, minimum.get(name, 1)) for name, text in texts.items()}
    _check_count(math.prod(count_values(i) for i in intervals.values()), "the sweep grid")
    if any(last > MAX_AXES for _, last in intervals.get("ndims", ())):
        raise ConvCalcError(f"ndims must be at most {MAX_AXES}; got {texts['ndims']!r}", parameter="ndims")
    grid = SweepGrid(**{name: _expand(i) for name, i in intervals.items()})
    check_sweep_work(grid)
    return grid


def _axis_extent(i: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """The largest per-axis extent among the arrays one configuration allocates (0: it is skipped).

    The convolution's padded input, and the twin's full output with the direct route's re-padding on
    both sides (zeros of a negative crop included).
    """
    big_k = d * (k - 1) + 1
    padded = i + 2 * p
    if padded < big_k:
        return 0
    full = (padded - big_k) // s * s + big_k
    return max(padded, full + 2 * big_k + op)


def sweep_work(grid: SweepGrid) -> int:
    """The estimated work of the whole sweep (units of SWEEP_OVERHEAD, SWEEP_ELEMENT; MACs count 1).

    Every configuration pays SWEEP_OVERHEAD; one that runs pays for _ARRAYS arrays and the im2col
    columns at its largest extent E per axis, and _ROUTES convolutions of E**n positions by k**n taps:
    per-axis figures depend on one axis's values only, so the sum runs over the 1-D configurations.
    """
    per_axis = [
        (_axis_extent(i, k, s, p, d, op), k)
        for i, k, s, p, d, op in product(
            grid.sizes, grid.kernel_sizes, grid.strides, grid.paddings, grid.dilations, grid.output_paddings
        )
    ]
    total = grid.count * SWEEP_OVERHEAD
    for n in grid.ndims:
        for extent, k in per_axis:
            if extent:
                positions, taps = extent**n, k**n
                elements = _BATCH_CHANNELS * positions * (_ARRAYS + taps)
                total += SWEEP_ELEMENT * elements + _ROUTES * _BATCH_CHANNELS * taps * positions
    return total


def check_sweep_work(grid: SweepGrid) -> None:
    """Refuse a sweep whose estimated work is past MAX_SWEEP_WORK, before it starts."""
    work = sweep_work(grid)
    if work > MAX_SWEEP_WORK:
        raise BudgetExceeded(
            f"the sweep's estimated work is {work:,} units (about {work / 10**9:,.0f} s on two cores; "
            f"{grid.count:,} configurations); the limit MAX_SWEEP_WORK is {MAX_SWEEP_WORK:,} (about "
            f"{MAX_SWEEP_WORK // 10**9} s): narrow the ranges, above all sizes, kernel sizes and ndims",
            budget="MAX_SWEEP_WORK",
            limit=MAX_SWEEP_WORK,
            requested=work,
            parameter="grid",
        )


def skip_reason(error: ConvCalcError) -> str:
    """The rule a configuration broke, in words without its numbers, so that equal reasons count together.

    The numbers of one configuration are kept apart (``SweepReport.skipped_examples``).

    >>> skip_reason(ConvCalcError("the dilated kernel (4) is larger than the padded input (3) on axis 0"))
    'the dilated kernel is larger than the padded input'
    >>> skip_reason(ConvCalcError("the transposed convolution output size would be 0 on axis 1"))
    'the transposed convolution output size would be below 1'
    """
    rule = re.split(r"[;:]", str(error), maxsplit=1)[0]
    rule = re.sub(r"\s*\((-?\d+(,\s*)?)+\)", "", rule)
    rule = re.sub(r" on (axis|axes) -?\d+(,\s*-?\d+)*", "", rule)
    return re.sub(r"would be -?\d+$", "would be below 1", rule)


def sweep(grid: SweepGrid, *, seed: int = 0, progress: Callable[[int], None] | None = None) -> SweepReport:
    """Verify every configuration of the grid; invalid ones are skipped and counted by reason.

    ``progress`` is called with the number of configurations done after each one.
    """
    check_seed(seed)  # once here: inside the loop every configuration would be skipped for it
    _check_count(grid.count, "the sweep grid")
    check_sweep_work(grid)
    from convcalc.verify.checks import verify_layer  # the engine, loaded only to run the sweep

    skipped: Counter[str] = Counter()
    examples: dict[str, str] = {}
    failures: list[SweepFailure] = []
    verified = checks = 0
    for done, arguments in enumerate(grid.configurations(), start=1):
        try:
            result = verify_layer(**arguments, seed=seed)
        except ConvCalcError as error:
            reason = skip_reason(error)
            skipped[reason] += 1
            examples.setdefault(reason, str(error))
        else:
            verified += 1
            checks += len(result.checks)
            if not result.passed:
                failures.append(SweepFailure(arguments, result.failures, layer_command(arguments, seed)))
        if progress is not None:
            progress(done)
    return SweepReport(grid, seed, verified, checks, dict(skipped.most_common()), tuple(failures), examples)
