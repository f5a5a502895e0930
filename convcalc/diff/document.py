"""The `convcalc diff --json` document, built from the same report the tables show."""

from __future__ import annotations

from fractions import Fraction

from convcalc.diff.compare import VERDICTS, PairDiff
from convcalc.diff.layers import AxisForm, Layer
from convcalc.diff.models import Side
from convcalc.diff.report import DiffReport
from convcalc.jsonout import JsonDict, envelope


def amount(value: Fraction) -> int | str:
    """An integer shift as a number; a fraction of an element as the string '1/2'."""
    return int(value) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def form_document(layer: Layer, form: tuple[AxisForm, ...] | None) -> JsonDict | None:
    if form is None:
        return None
    return {
        "axes": [f.name for f in form],
        "size": [f.size for f in form],
        "output": [f.output for f in form],
        "kernel_size": [f.kernel_size for f in form],
        "stride": [f.stride for f in form],
        "dilation": [f.dilation for f in form],
        "placement": "crops" if layer.kind == "conv_transpose" else "pads",
        "before_after": [list(f.placement) for f in form],
        "scale": [None if f.scale is None else str(f.scale) for f in form],
    }


def layer_document(layer: Layer | None, form: tuple[AxisForm, ...] | None, side: Side) -> JsonDict | None:
    if layer is None:
        return None
    spec = layer.node.spec
    return {
        "name": layer.name,
        "op": layer.node.op,
        "kind": layer.kind,
        "detail": layer.detail,
        "framework": getattr(spec, "framework", "") or side.graph.framework,
        "spelling": list(layer.spelling()),
        "folded": [n.name for n in (*layer.before, *layer.after)],
        "axes": list(layer.axes),
        "channel_axis": layer.channel_name,
        "kernel_flipped": bool(getattr(spec, "transpose_kernel", False)),
        "input_shape": list(layer.input_shape),
        "output_shape": list(layer.output_shape),
        "canonical": form_document(layer, form),
    }


def pair_document(index: int, pair: PairDiff, report: DiffReport) -> JsonDict:
    return {
        "index": index,
        "verdict": pair.verdict,
        "reason": pair.reason(),
        "a": layer_document(pair.a, pair.a_form, report.a),
        "b": layer_document(pair.b, pair.b_form, report.b),
        "changes": [{"argument": c.argument, "axis": c.axis, "a": c.a, "b": c.b} for c in pair.changes],
        "shift": {axis: amount(n) for axis, n in pair.shift},
    }


def side_document(side: Side) -> JsonDict:
    graph = side.graph
    return {
        "source": graph.source,
        "framework": graph.framework,
        "nodes": len(graph.nodes),
        "inputs": [
            {"name": t.name, "shape": list(shape), "axes": list(names)}
            for t, shape, names in zip(graph.inputs, side.input_shapes, side.input_names)
        ],
        "layers": len(side.layers),
        "runs": side.run.failure is None,
    }


def diff_document(report: DiffReport) -> JsonDict:
    """Models, the verdict counts, every layer pair and every output."""
    counts = {verdict: sum(1 for p in report.pairs if p.verdict == verdict) for verdict in VERDICTS}
    return envelope(
        "diff",
        same=report.same,
        exit_code=int(report.exit_code),
        a=side_document(report.a),
        b=side_document(report.b),
        counts=counts,
        layers=[pair_document(n, pair, report) for n, pair in enumerate(report.pairs)],
        outputs=[
            {
                "index": o.index,
                "a_name": o.a_name,
                "b_name": o.b_name,
                "axes": list(o.axes),
                "a_shape": None if o.a_shape is None else list(o.a_shape),
                "b_shape": None if o.b_shape is None else list(o.b_shape),
                "verdict": o.verdict,
                "shift": {axis: amount(n) for axis, n in o.shift},
                "note": o.note,
            }
            for o in report.outputs
        ],
    )
