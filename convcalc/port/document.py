"""JSON documents for framework conventions and ports, built from the same objects as the tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convcalc.conventions import convention
from convcalc.conventions.base import FrameworkLayer
from convcalc.core import direct_form
from convcalc.port.translate import Translation

if TYPE_CHECKING:
    from convcalc.verdict import PortCheck
from convcalc.jsonout import (
    CONV_FIELDS,
    DIRECT_FIELDS,
    SHAPE_SECTIONS,
    TRANSPOSED_FIELDS,
    columns,
    envelope,
)

JsonDict = dict[str, Any]


def arguments_document(arguments: tuple[tuple[str, str], ...]) -> list[JsonDict]:
    """Each argument's JSON value (lists, numbers, strings, null) and its spelling in the framework's code."""
    from convcalc.conventions.code import parse_value

    out = []
    for name, text in arguments:
        value, note = parse_value(text)
        out.append({"name": name, "value": value, "spelled": text, "note": note})
    return out


def layer_document(layer: FrameworkLayer) -> JsonDict:
    """A layer as one framework reads it: its arguments, the canonical axes, layout and notes."""
    conv = convention(layer.framework)
    args = layer.args
    document: JsonDict = {
        "framework": conv.name,
        "transposed": args.transposed,
        "arguments": arguments_document(tuple(conv.spell(args))),
        "size": list(args.size),
        "output": list(layer.output),
        "weight_layout": conv.layout(args).describe(args.ndim),
        "kernel_flipped": conv.layout(args).flipped,
        "notes": list(layer.notes),
        "unsupported_by": list(layer.unsupported_by),
    }
    if args.transposed:
        document["canonical"] = columns(layer.transposed, TRANSPOSED_FIELDS)
        document["direct"] = columns([direct_form(a) for a in layer.transposed], DIRECT_FIELDS)
    else:
        document["canonical"] = columns(layer.conv, CONV_FIELDS)
    return document


def translation_document(t: Translation) -> JsonDict:
    """The target's arguments, the fix, the weight change and the verdict of one port."""
    return {
        "from": layer_document(t.source),
        "to": layer_document(t.target),
        "exact": t.exact,
        "shape_equal": t.shape_equal,
        "values_equal": t.values_equal,
        "verdict": t.verdict,
        "fix": {
            "applies_to": "output" if t.source.is_transposed else "input",
            "meaning": (
                "remove (before, after) elements of the output; negative: add zeros"
                if t.source.is_transposed
                else "pad the input with (before, after) zeros; negative: remove input elements"
            ),
            "before": [b for b, _ in t.fix],
            "after": [a for _, a in t.fix],
            "steps": t.fix_steps(),
        },
        "weight_change": {
            "from_layout": t.weight.source,
            "to_layout": t.weight.target,
            "permutation": list(t.weight.permutation),
            "flip_spatial_axes": list(t.weight.flip_spatial),
            "description": t.weight.describe(),
        },
        "shape_only_arguments": None if t.shape_only is None else arguments_document(t.shape_only),
        "channels": _channels_document(t),
        "notes": list(t.notes),
    }


def check_document(check: PortCheck | None) -> JsonDict | None:
    """The execution check of a port (None when not asked for); the error is null when shapes differ."""
    if check is None:
        return None
    finite = check.max_error != float("inf")
    return {
        "ok": check.ok,
        "seed": check.seed,
        "source_shape": list(check.source_shape),
        "target_shape": list(check.target_shape),
        "max_abs_error": check.max_error if finite else None,
        "values_equal_without_fix": check.unfixed_equal,
    }


def _channels_document(t: Translation) -> JsonDict | None:
    shapes = t.weight_shapes()
    if t.channels is None or shapes is None:
        return None
    return {
        "in_channels": t.channels.in_channels,
        "out_channels": t.channels.out_channels,
        "groups": t.channels.groups,
        "from_weight_shape": list(shapes[0]),
        "to_weight_shape": list(shapes[1]),
    }


def port_document(t: Translation, check: PortCheck | None = None) -> JsonDict:
    """The `convcalc port --json` document."""
    from convcalc.port.snippet import snippet

    return envelope("port", **translation_document(t), code=snippet(t), verification=check_document(check))


def framework_answers_document(framework: str, translations: Sequence[Translation], dropped: int) -> JsonDict:
    """The `framework` section of `solve --framework X --json`: X's arguments for each shown answer."""
    return {
        "name": convention(framework).name,
        "dropped": dropped,
        "answers": [
            {
                "rank": n + 1,
                "arguments": arguments_document(t.arguments),
                "weight_layout": t.weight.target,
                "notes": list(t.notes),
            }
            for n, t in enumerate(translations)
        ],
    }


def framework_shape_document(layer: FrameworkLayer, pytorch: Translation | None) -> JsonDict:
    """The `convcalc shape --framework X --json` document: the keys of every `shape` document.

    The sizes are the framework's canonical form (``convolution``, or ``transposed`` and ``direct``);
    the sections that describe convcalc's twin (reversal, output_padding rule, channels) are null, and
    the framework's own arguments are in ``layer``.
    """
    args = layer.args
    sections: JsonDict = dict.fromkeys(SHAPE_SECTIONS)
    sections["input"] = {
        "size": list(args.size),
        "kernel_size": list(args.kernel_size),
        "stride": list(args.stride),
        "dilation": list(args.dilation),
        "padding_mode": None,
        "output_padding": None,
        "padding": None,
        "transposed": args.transposed,
    }
    if args.transposed:
        sections["transposed"] = columns(layer.transposed, TRANSPOSED_FIELDS)
        sections["direct"] = columns([direct_form(a) for a in layer.transposed], DIRECT_FIELDS)
    else:
        sections["convolution"] = columns(layer.conv, CONV_FIELDS)
    sections["framework"] = layer.framework
    sections["layer"] = layer_document(layer)
    sections["pytorch"] = None if pytorch is None else translation_document(pytorch)
    return envelope("shape", **sections)
