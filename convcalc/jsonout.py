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
    """``json.dumps(document, indent=2)``, character for character, written by one recursive function
    rather than the standard library's pure-Python encoder (which an indent selects: its C encoder
    does not indent): about three times as fast on a large model's inspect document. A value it does
    not write (a key that is not a string, a type JSON has no word for) goes to ``json.dumps``."""
    parts: list[str] = []
    try:
        _write(document, parts, "\n")
    except _Unusual:
        return json.dumps(document, indent=2)
    return "".join(parts)


class _Unusual(Exception):
    """A value ``_write`` leaves to the standard library."""


_STRING = json.encoder.encode_basestring_ascii  # what json.dumps uses with ensure_ascii (its default)
_FLOAT_WORDS = {float("inf"): "Infinity", float("-inf"): "-Infinity"}


def _write(value: Any, out: list[str], newline: str) -> None:
    """Append ``value`` as json.dumps(indent=2) writes it, ``newline`` being the line break and indent
    of the line that holds it."""
    kind = type(value)
    if kind is str:
        out.append(_STRING(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            out.append(separator)
            out.append(_STRING(key))
            out.append(": ")
            _write(item, out, inner)
            separator = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        if all(type(item) is int for item in value):  # a shape: the commonest list
            out.append("[" + inner + ("," + inner).join(map(int.__repr__, value)) + newline + "]")
            return
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _write(item, out, inner)
            separator = "," + inner
        out.append(newline + "]")
    elif kind is float:
        out.append("NaN" if value != value else _FLOAT_WORDS.get(value) or float.__repr__(value))
    else:
        raise _Unusual


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
