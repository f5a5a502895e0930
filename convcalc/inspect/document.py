"""The `convcalc inspect --json` document, built from the same report the tables show."""

from __future__ import annotations

from convcalc.chain.document import accepted_document
from convcalc.conventions.code import json_value
from convcalc.inspect.report import InspectReport, runs_from
from convcalc.jsonout import JsonDict, envelope
from convcalc.periodic import Accepted

# An axis whose sizes are not worked out: every field of an accepted-size set, null or empty.
NOT_WORKED_OUT: JsonDict = {
    "period": None,
    "classes": [],
    "singles": [],
    "smallest": None,
    "contains_size": None,
    "nearest_below": None,
    "nearest_above": None,
}


def _sizes(accepted: Accepted | None, size: int) -> JsonDict:
    return dict(NOT_WORKED_OUT) if accepted is None else accepted_document(accepted, size)


def inspect_document(report: InspectReport) -> JsonDict:
    """Findings first, then the run, merges, accepted sizes, receptive fields and every layer."""
    graph = report.graph
    failure = report.run.failure
    layers = [
        {
            "index": row.index,
            "name": row.name,
            "op": row.op,
            "kind": row.kind,
            "arguments": {name: json_value(value) for name, value in row.arguments},
            "placement": None if row.placement is None else [list(p) for p in row.placement],
            "input_shape": list(row.input_shape),
            "output_shape": list(row.output_shape),
            "output_formula": None if row.formula is None else list(row.formula),
            "with_fixes": row.with_fixes,
            "fix": None
            if not row.fix
            else {"merge": row.fix_for, "arguments": {name: list(values) for name, values in row.fix}},
            "dropped": list(row.dropped),
            "overlap": None if row.overlap is None else [list(p) for p in row.overlap],
            "checkerboard": row.checkerboard,
            "parameters": row.parameters,
            "macs": row.macs,
            "notes": list(row.notes),
        }
        for row in report.layers
    ]
    accepted = []
    for axis in report.axes:
        size = report.input_shapes[0][axis.tensor_axis]
        entry: JsonDict = {
            "spatial_axis": axis.spatial_axis,
            "tensor_axis": axis.tensor_axis,
            "minimum": runs_from(axis),
            "note": axis.note,
            "worked_out": axis.accepted is not None,
        }
        entry.update(_sizes(axis.accepted, size))  # the sizes that run with nothing dropped
        entry["runs"] = _sizes(axis.runs, size)  # the sizes that run
        accepted.append(entry)
    return envelope(
        "inspect",
        model={
            "source": graph.source,
            "framework": graph.framework,
            "inputs": [{"name": t.name, "shape": list(t.shape)} for t in graph.inputs],
            "outputs": list(graph.outputs),
            "nodes": len(graph.nodes),
        },
        input={"shapes": [list(s) for s in report.input_shapes], "given": report.size_given},
        runs=report.runs,
        exit_code=int(report.exit_code),
        target=report.target,
        findings=[
            {"severity": f.severity, "kind": f.kind, "node": f.node, "message": f.message, "fix": f.fix}
            for f in report.findings
        ],
        failure=None
        if failure is None
        else {"node": failure.node.name, "op": failure.node.op, "message": failure.message},
        merges=[
            {
                "node": m.name,
                "op": m.op,
                "shapes": [list(s) for s in m.shapes],
                "paths": [list(p) for p in m.paths],
                "message": m.message,
                "fixes": list(m.fixes),
                "knock_on": m.knock_on,
            }
            for m in report.merges
        ],
        stopped=[n.name for n in report.run.stopped],
        accepted_sizes=accepted,
        receptive_fields=[
            {"output": name, "receptive_field": list(values)} for name, values in report.fields
        ],
        totals={
            "parameters": report.parameters,
            "macs": sum(r.macs or 0 for r in report.layers),
        },
        layers=layers,
    )
