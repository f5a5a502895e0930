"""JSON documents of `convcalc verify` and `convcalc sweep`, built from the same objects as the tables."""

from __future__ import annotations

from typing import Any

from convcalc.jsonout import JsonDict, envelope, shape_document
from convcalc.verdict import TOLERANCE, Check, SweepFailure, SweepReport, VerifyReport


def _error(value: float | None) -> str | None:
    """Errors are reals; JSON here carries no floats, so they travel as decimal strings."""
    return None if value is None else repr(value)


def check_document(check: Check) -> JsonDict:
    return {
        "check": check.name,
        "expected": check.expected,
        "got": check.got,
        "error": _error(check.error),
        "verdict": check.verdict,
        "passed": check.passed,
        "note": check.note or None,
    }


def verify_document(result: VerifyReport) -> JsonDict:
    """The `convcalc verify --json` document."""
    layer = result.layer
    if result.report is not None:
        given: JsonDict = shape_document(result.report)["input"]
    else:
        assert layer is not None
        given = {
            "size": list(layer.args.size),
            "kernel_size": list(layer.args.kernel_size),
            "stride": list(layer.args.stride),
            "dilation": list(layer.args.dilation),
            "transposed": layer.is_transposed,
            "crops": [[a.crop_before, a.crop_after] for a in layer.transposed],
        }
    if layer is not None:
        given = {"framework": layer.framework, **given, "output": list(layer.output)}
    return envelope(
        "verify",
        input=given,
        setup={
            "seed": result.seed,
            "dtype": "float64",
            "batch": result.batch,
            "in_channels": result.in_channels,
            "out_channels": result.out_channels,
            "groups": result.groups,
            "tolerance": _error(TOLERANCE),
        },
        checks=[check_document(c) for c in result.checks],
        passed=result.passed,
    )


def _per_axis(value: Any) -> list[int]:
    return [value] if isinstance(value, int) else list(value)


def failure_document(failure: SweepFailure) -> JsonDict:
    return {
        "arguments": {name: _per_axis(value) for name, value in failure.arguments.items()},
        "command": failure.command,
        "checks": [check_document(c) for c in failure.checks],
    }


def sweep_document(report: SweepReport) -> JsonDict:
    """The `convcalc sweep --json` document."""
    grid = report.grid
    return envelope(
        "sweep",
        grid={
            "sizes": list(grid.sizes),
            "kernel_sizes": list(grid.kernel_sizes),
            "strides": list(grid.strides),
            "paddings": list(grid.paddings),
            "dilations": list(grid.dilations),
            "output_paddings": list(grid.output_paddings),
            "ndims": list(grid.ndims),
        },
        seed=report.seed,
        configurations=grid.count,
        verified=report.verified,
        checks=report.checks,
        skipped=report.skipped_total,
        skipped_reasons=[
            {"reason": r, "count": n, "example": report.skipped_examples.get(r)}
            for r, n in report.skipped.items()
        ],
        failures=[failure_document(f) for f in report.failures],
        passed=report.passed,
    )
