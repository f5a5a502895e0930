"""`convcalc sweep`: `verify` over every configuration of a grid, invalid ones counted by the rule they broke.

The grid, its ranges and the reproducing command are pure; only ``sweep`` itself runs the engine.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.verify.results import SweepFailure, SweepReport

MAX_SWEEP_CONFIGURATIONS = 200_000


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
    if grid.count > MAX_SWEEP_CONFIGURATIONS:
        raise ConvCalcError(
            f"the sweep grid has {grid.count:,} configurations; the limit MAX_SWEEP_CONFIGURATIONS is "
            f"{MAX_SWEEP_CONFIGURATIONS:,}: narrow the ranges",
            parameter="grid",
        )
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
