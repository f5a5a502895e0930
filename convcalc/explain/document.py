"""JSON sections of `convcalc explain`, built from the same result objects as its tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convcalc.explain.results import Contributions, DirectSteps, Explanation, Grid, MatrixView, Section
from convcalc.jsonout import JsonDict, columns, envelope, report_input
from convcalc.overlap import MAX_MAP_CELLS, OverlapMap, Suggestion

OVERLAP_AXIS_FIELDS = (
    "size",
    "output",
    "period",
    "minimum",
    "maximum",
    "interior_first",
    "interior_last",
    "uniform",
    "holes",
)


def _suggestion(suggestion: Suggestion) -> JsonDict:
    return {
        "kind": suggestion.kind,
        "output": list(suggestion.output),
        "kernel_size": list(suggestion.kernel_size),
        "stride": list(suggestion.stride),
        "padding": list(suggestion.padding),
        "output_padding": list(suggestion.output_padding),
        "dilation": list(suggestion.dilation),
        "resize_to": None if suggestion.resize_to is None else list(suggestion.resize_to),
        "scale_factor": None if suggestion.scale_factor is None else list(suggestion.scale_factor),
        "empty_outputs": None if suggestion.empty is None else list(suggestion.empty),
    }


def overlap_section(result: OverlapMap) -> JsonDict:
    """Per-axis maps and patterns (lists per axis), the N-d verdict, the cells when within budget."""
    cells: Any = result.cells() if result.cell_count <= MAX_MAP_CELLS else None
    return {
        "layers": len(result.axes[0].layers),
        "axes": {
            **columns(result.axes, OVERLAP_AXIS_FIELDS),
            "counts": [list(a.counts) for a in result.axes],
            "pattern": [list(a.pattern) for a in result.axes],
        },
        "shape": list(result.shape),
        "period": list(result.period),
        "minimum": result.minimum,
        "maximum": result.maximum,
        "interior_minimum": result.interior_minimum,
        "interior_maximum": result.interior_maximum,
        "uniform": result.uniform,
        "map": cells,
        "suggested_layer": result.suggested_layer,
        "suggestions": [_suggestion(s) for s in result.suggestions],
    }


def _grid(grid: Grid) -> JsonDict:
    document: JsonDict = {"shape": list(grid.shape), "values": grid.nested()}
    if grid.kinds is not None:
        document["kinds"] = _nest_kinds(list(grid.kinds), grid.shape)
    return document


def _nest_kinds(flat: list[str], shape: tuple[int, ...]) -> list[Any]:
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0]
    return [_nest_kinds(flat[n * step : (n + 1) * step], shape[1:]) for n in range(shape[0])]


def _section(section: Section[Any], build: Any) -> JsonDict | None:
    """A section not asked for is null; one too large to print says why, shown false."""
    if section.content is None and section.refusal is None:
        return None
    if section.content is None:
        return {"shown": False, "refusal": section.refusal}
    return {"shown": True, **build(section.content)}


def _matrix(view: MatrixView) -> JsonDict:
    return {
        "matrix": [list(row) for row in view.matrix],
        "matrix_transposed": [list(col) for col in zip(*view.matrix)],
        "output_positions": [list(p) for p in view.output_positions],
        "input_positions": [list(p) for p in view.input_positions],
        "x": _grid(view.x),
        "weight": _grid(view.weight),
        "y": _grid(view.y),
        "output_padding": list(view.output_padding),
        "transposed_of_y": _grid(view.transposed_of_y),
        "c_transpose_y": _grid(view.c_transpose_y),
        "upstream_gradient": _grid(view.g),
        "c_transpose_g": _grid(view.c_transpose_g),
        "input_gradient": _grid(view.gradient),
        "checks": {
            "conv_is_c_x": view.conv_is_c_x,
            "transposed_is_c_transpose_y": view.transposed_is_c_transpose_y,
            "gradient_is_c_transpose_g": view.gradient_is_c_transpose_g,
            "transposed_of_g_is_gradient": view.transposed_of_g_is_gradient,
        },
        "slip_c_transpose_y_differs_from_gradient": view.slip_differs,
    }


def _direct(steps: DirectSteps) -> JsonDict:
    return {
        "input": _grid(steps.input),
        "stretched": _grid(steps.stretched),
        "padded": _grid(steps.padded),
        "kernel": _grid(steps.kernel),
        "flipped_kernel": _grid(steps.flipped),
        "output": _grid(steps.output),
        "transposed": _grid(steps.transposed),
        "equal": steps.equal,
        "engine_sizes_match": steps.engine_sizes_match,
        "unflipped_output": _grid(steps.unflipped),
        "unflipped_equal": steps.unflipped_equal,
    }


def _contributions(result: Contributions) -> JsonDict:
    return {
        "positions": [
            {
                "output": list(item.position),
                "pairs": [{"input": list(u), "tap": list(t)} for u, t in item.pairs],
                "value": item.value,
            }
            for item in result.items
        ],
        "equal_to_engine": result.verified,
    }


def explain_document(
    explanation: Explanation, overlap: OverlapMap | None, svg_files: Sequence[str]
) -> JsonDict:
    """The `convcalc explain --json` document: one key per section (null when not asked for)."""
    report = explanation.report
    return envelope(
        "explain",
        input=report_input(report),
        matrix=_section(explanation.matrix, _matrix),
        direct=_section(explanation.direct, _direct),
        contributions=_section(explanation.contributions, _contributions),
        overlap=None if overlap is None else overlap_section(overlap),
        verified=explanation.verified,
        svg_files=list(svg_files),
    )
