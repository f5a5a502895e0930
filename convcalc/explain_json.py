"""JSON sections of `convcalc explain`, built from the same result objects as its tables."""

from __future__ import annotations

from typing import Any

from convcalc.jsonout import JsonDict, columns
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
