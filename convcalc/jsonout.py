"""JSON documents built from the core's result objects (the same objects the tables show).

Only ints, bools, strings, lists and null; per-axis values are always lists. ``SCHEMA_VERSION`` changes
whenever a key is renamed or removed or its meaning changes; adding keys does not change it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from convcalc.core import ConvParams, ShapeReport
from convcalc.errors import ConvCalcError

SCHEMA_VERSION = 1

JsonDict = dict[str, Any]


def dumps(document: JsonDict) -> str:
    return json.dumps(document, indent=2)


def envelope(command: str, **sections: Any) -> JsonDict:
    """Every document starts with the schema version and the command that made it."""
    return {"schema_version": SCHEMA_VERSION, "command": command, **sections}


def error_document(command: str, error: ConvCalcError) -> JsonDict:
    return envelope(command, error={"message": str(error), "parameter": error.parameter})


def columns(axes: Sequence[object], fields: Sequence[str]) -> JsonDict:
    """Per-axis objects -> {field: [value on axis 0, value on axis 1, ...]}."""
    return {name: [getattr(axis, name) for axis in axes] for name in fields}


def params_document(params: ConvParams, size: Sequence[int]) -> JsonDict:
    """The normalised input: every per-axis value a list, padding as resolved [before, after] pairs."""
    return {
        "size": list(size),
        "kernel_size": list(params.kernel_size),
        "stride": list(params.stride),
        "dilation": list(params.dilation),
        "padding_mode": params.padding_mode,
        "output_padding": list(params.output_padding),
    }


CONV_FIELDS = ("size", "output", "dilated_kernel", "pad_before", "pad_after", "padded_size")
TRANSPOSED_FIELDS = ("size", "output", "dilated_kernel", "full", "crop_before", "crop_after")
DIRECT_FIELDS = (
    "size",
    "zeros_inserted",
    "stretched",
    "pad_before",
    "pad_after",
    "dilated_kernel",
    "output",
)
REVERSAL_FIELDS = (
    "size",
    "output",
    "remainder",
    "restored",
    "reversible",
    "base",
    "output_padding_to_restore",
    "allowed_pytorch",
    "allowed_strict",
    "colliding_first",
    "colliding_last",
)


def report_input(report: ShapeReport) -> JsonDict:
    """The normalised layer behind a report, with padding as the resolved [before, after] pairs."""
    given = report.transposed if report.transposed_input else report.conv
    return {
        **params_document(report.params, [a.size for a in given]),
        "padding": [[a.pad_before, a.pad_after] for a in report.conv],
        "transposed": report.transposed_input,
    }


def shape_document(report: ShapeReport) -> JsonDict:
    """The `convcalc shape --json` document."""
    channels = None
    if report.channels is not None:
        ch = report.channels
        channels = {
            "in_channels": ch.in_channels,
            "out_channels": ch.out_channels,
            "groups": ch.groups,
            "conv_weight_shape": list(ch.conv_weight_shape),
            "transposed_weight_shape": list(ch.transposed_weight_shape),
            "direct_weight_shape": list(ch.direct_weight_shape),
            "parameters": ch.parameters,
            "parameters_with_bias": ch.parameters_with_bias,
            "multiply_accumulates": ch.multiply_accumulates,
        }
    return envelope(
        "shape",
        input=report_input(report),
        convolution=columns(report.conv, CONV_FIELDS),
        transposed=None if report.twin_problem else columns(report.transposed, TRANSPOSED_FIELDS),
        direct=None if report.twin_problem else columns(report.direct, DIRECT_FIELDS),
        twin_problem=report.twin_problem,
        reversal=columns(report.reversal, REVERSAL_FIELDS),
        output_padding_rule={
            "pytorch_ok": [True] * report.ndim,
            "strict_ok": list(report.output_padding_strict_ok),
        },
        channels=channels,
        framework=None,
        layer=None,
        pytorch=None,
    )


SHAPE_SECTIONS = (
    "input",
    "convolution",
    "transposed",
    "direct",
    "twin_problem",
    "reversal",
    "output_padding_rule",
    "channels",
    "framework",
    "layer",
    "pytorch",
)
"""The keys of every `shape` document; a section that does not apply is null."""
