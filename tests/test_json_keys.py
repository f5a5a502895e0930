"""Golden key sets of every command's JSON document: the exact keys at the top and in every section.

The keys are the README's documented schema (section "JSON output" and each command's **JSON**
paragraph); a key added, renamed or dropped must show up here and in the README together. Sections
that are lists of objects are checked for every element (path `name[]`); a section that is null in a
run is absent from its golden set, so each command runs once per optional section.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc import engine
from convcalc.cli import app
from convcalc.errors import ExitCode

runner = CliRunner()

Sections = dict[str, set[str]]


def sections(node: Any, path: str = "", found: Sections | None = None) -> Sections:
    """Every object in the document by path ('' the top, 'a.b', 'a[]' the elements of a list)."""
    found = {} if found is None else found
    if isinstance(node, dict):
        found.setdefault(path, set()).update(node)
        for key, value in node.items():
            sections(value, f"{path}.{key}" if path else key, found)
    elif isinstance(node, list):
        for value in node:
            sections(value, path + "[]", found)
    return found


def document(*args: str, code: int = ExitCode.OK) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


ENVELOPE = {"schema_version", "command"}
# Every document of a command that succeeded: the one-line answer the text prints first.
HEADED = ENVELOPE | {"headline", "exit_code"}
LAYER_INPUT = {
    "size",
    "kernel_size",
    "stride",
    "dilation",
    "output_padding",
    "padding",
    "padding_mode",
    "transposed",
}
CONV_AXES = {"size", "output", "dilated_kernel", "pad_before", "pad_after", "padded_size"}
TRANSPOSED_AXES = {"size", "output", "dilated_kernel", "full", "crop_before", "crop_after"}
DIRECT_AXES = {"size", "zeros_inserted", "stretched", "pad_before", "pad_after", "dilated_kernel", "output"}
CHECK = {"check", "expected", "got", "error", "verdict", "passed", "note"}
# value: a JSON value; spelled: as the framework's code writes it; note: the spelling's remark or null.
ARGUMENT = {"name", "value", "spelled", "note"}
ARRAY = {"shape", "values"}

SHAPE_TOP = HEADED | {
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
}
REVERSAL = {
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
}
SHAPE: Sections = {
    "": SHAPE_TOP,
    "input": LAYER_INPUT,
    "convolution": CONV_AXES,
    "transposed": TRANSPOSED_AXES,
    "direct": DIRECT_AXES,
    "reversal": REVERSAL,
    "output_padding_rule": {"pytorch_ok", "strict_ok"},
}
CHANNELS = {
    "in_channels",
    "out_channels",
    "groups",
    "conv_weight_shape",
    "transposed_weight_shape",
    "direct_weight_shape",
    "parameters",
    "parameters_with_bias",
    "multiply_accumulates",
}
FRAMEWORK_LAYER = {
    "framework",
    "transposed",
    "arguments",
    "size",
    "output",
    "unsupported_by",
    "canonical",
    "weight_layout",
    "kernel_flipped",
    "notes",
}
TRANSLATION = {
    "from",
    "to",
    "exact",
    "shape_equal",
    "values_equal",
    "verdict",
    "fix",
    "weight_change",
    "shape_only_arguments",
    "notes",
    "channels",
}


def layer_sections(prefix: str, transposed: bool) -> Sections:
    """A layer as a framework reads it: the canonical axes, and the direct form of a transposed one."""
    found: Sections = {
        prefix: FRAMEWORK_LAYER | ({"direct"} if transposed else set()),
        f"{prefix}.arguments[]": ARGUMENT,
        f"{prefix}.canonical": TRANSPOSED_AXES if transposed else CONV_AXES,
    }
    if transposed:
        found[f"{prefix}.direct"] = DIRECT_AXES
    return found


def translation_sections(prefix: str, transposed: bool, shape_only: bool) -> Sections:
    """A port from one framework's arguments to another's (`port`, and `pytorch` in `shape -f X`)."""
    inner = f"{prefix}." if prefix else ""
    found: Sections = {
        **layer_sections(f"{inner}from", transposed),
        **layer_sections(f"{inner}to", transposed),
        f"{inner}fix": {"applies_to", "meaning", "before", "after", "steps"},
        f"{inner}weight_change": {
            "from_layout",
            "to_layout",
            "permutation",
            "flip_spatial_axes",
            "description",
        },
    }
    if shape_only:
        found[f"{inner}shape_only_arguments[]"] = ARGUMENT
    return found


def test_shape_keys() -> None:
    # One key set for every shape document; a section that does not apply is null.
    assert sections(document("shape", "63", "-k", "4", "-s", "2", "-p", "1")) == SHAPE
    with_channels = document(
        "shape", "32x32", "-k", "4", "-s", "2", "-p", "1", "--in-channels", "4", "--out-channels", "2"
    )
    assert sections(with_channels) == {**SHAPE, "channels": CHANNELS}
    transposed = document("shape", "5", "-k", "3", "-s", "2", "-p", "1", "-t", "--output-padding", "1")
    assert sections(transposed) == SHAPE
    # A transposed twin that cannot exist: the convolution is answered, the twin's sections are null.
    impossible = document("shape", "2", "-k", "2", "-s", "5", "-p", "2")
    assert sections(impossible) == {
        key: value for key, value in SHAPE.items() if key not in ("transposed", "direct")
    }
    keras = document("shape", "5", "-k", "3", "-s", "2", "-p", "same", "-t", "-f", "keras")
    assert sections(keras) == {
        "": SHAPE_TOP,
        "input": LAYER_INPUT,
        "transposed": TRANSPOSED_AXES,
        "direct": DIRECT_AXES,
        **layer_sections("layer", transposed=True),
        "pytorch": TRANSLATION,
        **translation_sections("pytorch", transposed=True, shape_only=True),
    }
    tensorflow = document("shape", "7", "-k", "3", "-s", "2", "-p", "same", "-f", "tensorflow")
    assert sections(tensorflow) == {
        "": SHAPE_TOP,
        "input": LAYER_INPUT,
        "convolution": CONV_AXES,
        **layer_sections("layer", transposed=False),
        "pytorch": TRANSLATION,
        **translation_sections("pytorch", transposed=False, shape_only=False),
    }


VERIFY_TOP = HEADED | {"input", "setup", "checks", "passed"}
SETUP = {"seed", "dtype", "batch", "in_channels", "out_channels", "groups", "tolerance"}


def test_verify_keys() -> None:
    plain = document("verify", "5", "-k", "3", "-s", "2", "-p", "1")
    assert sections(plain) == {"": VERIFY_TOP, "input": LAYER_INPUT, "setup": SETUP, "checks[]": CHECK}
    framework = document("verify", "5", "-k", "3", "-s", "2", "-p", "same", "-t", "-f", "keras")
    assert sections(framework) == {
        "": VERIFY_TOP,
        "input": {"framework", "size", "kernel_size", "stride", "dilation", "transposed", "crops", "output"},
        "setup": SETUP,
        "checks[]": CHECK,
    }


SWEEP_TOP = HEADED | {
    "grid",
    "seed",
    "configurations",
    "verified",
    "checks",
    "skipped",
    "skipped_reasons",
    "failures",
    "passed",
}
GRID = {"sizes", "kernel_sizes", "strides", "paddings", "dilations", "output_paddings", "ndims"}
SMALL_GRID = ("sweep", "--sizes", "3", "--kernel-sizes", "2", "--paddings", "0", "--ndims", "1")


def test_sweep_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    passed = {"": SWEEP_TOP, "grid": GRID, "skipped_reasons[]": {"reason", "count", "example"}}
    assert sections(document(*SMALL_GRID)) == passed
    right = engine.transpose_scatter
    monkeypatch.setattr(engine, "transpose_scatter", lambda *a, **k: right(*a, **k) * 2)
    failed = document(*SMALL_GRID, code=ExitCode.VERIFICATION_FAILED)
    assert sections(failed) == {
        **passed,
        "failures[]": {"arguments", "command", "checks"},
        "failures[].arguments": {"size", "kernel_size", "stride", "padding", "output_padding", "dilation"},
        "failures[].checks[]": CHECK,
    }


def test_explain_keys() -> None:
    assert sections(document("explain", "5", "-k", "3", "-s", "2", "-p", "1")) == {
        "": HEADED | {"input", "matrix", "direct", "contributions", "overlap", "verified", "svg_files"},
        "input": LAYER_INPUT,
        "matrix": {
            "shown",
            "output_padding",
            "x",
            "weight",
            "y",
            "matrix",
            "matrix_transposed",
            "input_positions",
            "output_positions",
            "transposed_of_y",
            "c_transpose_y",
            "upstream_gradient",
            "c_transpose_g",
            "input_gradient",
            "slip_c_transpose_y_differs_from_gradient",
            "checks",
        },
        **{
            f"matrix.{name}": ARRAY
            for name in (
                "x",
                "weight",
                "y",
                "transposed_of_y",
                "c_transpose_y",
                "upstream_gradient",
                "c_transpose_g",
                "input_gradient",
            )
        },
        "matrix.checks": {
            "conv_is_c_x",
            "transposed_is_c_transpose_y",
            "gradient_is_c_transpose_g",
            "transposed_of_g_is_gradient",
        },
        "direct": {
            "shown",
            "input",
            "stretched",
            "padded",
            "kernel",
            "flipped_kernel",
            "output",
            "transposed",
            "equal",
            "engine_sizes_match",
            "unflipped_output",
            "unflipped_equal",
        },
        **{
            f"direct.{name}": ARRAY
            for name in ("input", "kernel", "flipped_kernel", "output", "transposed", "unflipped_output")
        },
        "direct.stretched": ARRAY | {"kinds"},
        "direct.padded": ARRAY | {"kinds"},
        "contributions": {"shown", "positions", "equal_to_engine"},
        "contributions.positions[]": {"output", "value", "pairs"},
        "contributions.positions[].pairs[]": {"input", "tap"},
        "overlap": {
            "layers",
            "shape",
            "period",
            "uniform",
            "minimum",
            "maximum",
            "interior_minimum",
            "interior_maximum",
            "axes",
            "map",
            "suggested_layer",
            "suggestions",
        },
        "overlap.axes": {
            "size",
            "output",
            "period",
            "pattern",
            "counts",
            "minimum",
            "maximum",
            "interior_first",
            "interior_last",
            "holes",
            "uniform",
        },
        "overlap.suggestions[]": {
            "kind",
            "kernel_size",
            "stride",
            "padding",
            "output_padding",
            "dilation",
            "output",
            "resize_to",
            "scale_factor",
            "empty_outputs",
        },
    }


SOLVE_TOP = HEADED | {"input", "count", "shown", "omitted", "mixed", "answers", "nearest"}
SOLVE_INPUT: Sections = {
    "input": {"size", "target", "transposed", "fixed", "bounds"},
    "input.fixed": {"kernel_size", "stride", "padding", "output_padding", "dilation"},
    "input.bounds": {"max_kernel", "max_stride", "max_dilation", "strict"},
}
ANSWER = {
    "rank",
    "kernel_size",
    "stride",
    "padding",
    "output_padding",
    "dilation",
    "output",
    "checkerboard_free",
    "symmetric",
    "uniform",
    "strict_ok",
    "remainder",
    "dropped",
    "reasons",
}
NEAREST = {"axis", "size", "target", "below", "above", "smaller_input", "larger_input", "other_kind"}
NEAREST_LAYER = {
    "size",
    "output",
    "kernel_size",
    "stride",
    "padding",
    "output_padding",
    "dilation",
    "transposed",
}


def test_solve_keys() -> None:
    assert sections(document("solve", "5", "10")) == {"": SOLVE_TOP, **SOLVE_INPUT, "answers[]": ANSWER}
    assert sections(document("solve", "5", "10", "-f", "keras", "--verify")) == {
        "": SOLVE_TOP | {"framework"},
        **SOLVE_INPUT,
        "answers[]": ANSWER | {"verified"},
        "framework": {"name", "dropped", "answers"},
        "framework.answers[]": {"rank", "arguments", "weight_layout", "notes"},
        "framework.answers[].arguments[]": ARGUMENT,
    }
    # Nothing fits: each nearest layer, where there is one, has the same keys.
    above = document("solve", "8", "3", "-k", "3", "-s", "2", "-p", "1")
    assert sections(above) == {
        "": SOLVE_TOP,
        **SOLVE_INPUT,
        "nearest[]": NEAREST,
        **{f"nearest[].{side}": NEAREST_LAYER for side in ("above", "smaller_input", "other_kind")},
    }
    below = document("solve", "7", "16", "-k", "3", "-s", "2", "-p", "1", "-d", "1")
    assert sections(below) == {
        "": SOLVE_TOP,
        **SOLVE_INPUT,
        "nearest[]": NEAREST,
        **{f"nearest[].{side}": NEAREST_LAYER for side in ("below", "larger_input")},
    }


SIZES = {"period", "classes", "singles", "smallest", "contains_size", "nearest_below", "nearest_above"}


def test_chain_keys() -> None:
    doc = document("chain", "conv k3 s2 p1 | tconv k3 s2 p1 op1", "--range", "1:9")
    assert sections(doc) == {
        "": HEADED | {"input", "exit_code", "output", "layers", "pairs", "unpaired", "accepted"},
        "input": {"size", "size_given"},
        "layers[]": {
            "index",
            "kind",
            "text",
            "size",
            "output",
            "in_channels",
            "out_channels",
            "dropped",
            "skipped",
            "receptive_field",
            "jump",
            "first_window",
        },
        "pairs[]": {"encoder", "decoder", "expected", "got", "restored", "output_padding_fix", "fix_strict"},
        "accepted[]": {"axis", "minimum", "restores", "exact", "listed", "note"},
        "accepted[].restores": SIZES,
        "accepted[].exact": SIZES,
    }


PORT_TOP = HEADED | TRANSLATION | {"code", "verification"}


def test_port_keys() -> None:
    transposed = document(
        "port", "5", "--from", "pytorch", "--to", "keras", "-k", "3", "-s", "2", "-p", "1",
        "--output-padding", "1", "-t", "--verify", "--in-channels", "4", "--out-channels", "6",
    )  # fmt: skip
    assert sections(transposed) == {
        "": PORT_TOP,
        **translation_sections("", transposed=True, shape_only=True),
        "channels": {"in_channels", "out_channels", "groups", "from_weight_shape", "to_weight_shape"},
        "verification": {
            "ok",
            "seed",
            "source_shape",
            "target_shape",
            "max_abs_error",
            "values_equal_without_fix",
        },
    }
    conv = document("port", "9", "--from", "onnx", "--to", "keras", "-k", "4", "-p", "same_lower")
    assert sections(conv) == {"": PORT_TOP, **translation_sections("", transposed=False, shape_only=True)}


@pytest.mark.parametrize(
    "args",
    [
        ["shape", "5", "-k", "3", "-s", "0"],
        ["verify", "5", "-k", "3", "-s", "0"],
        ["sweep", "--strides", "0"],
        ["explain", "5", "-k", "3", "-s", "0"],
        ["solve", "5", "0"],
        ["chain", "conv k3 s0"],
        ["port", "5", "--from", "pytorch", "--to", "keras", "-k", "3", "-s", "0"],
    ],
)
def test_error_document_keys(args: list[str]) -> None:
    doc = document(*args, code=ExitCode.INVALID_INPUT)
    assert sections(doc) == {"": ENVELOPE | {"error"}, "error": {"message", "parameter"}}
    assert doc["command"] == args[0]
