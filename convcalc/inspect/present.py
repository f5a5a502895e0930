"""`convcalc inspect`'s presentation of an InspectReport: its JSON document, tables and one-line answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.inspect.document import inspect_document
from convcalc.jsonout import JsonDict

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.inspect.report import InspectReport


def document(report: InspectReport) -> JsonDict:
    return inspect_document(report)


def render(report: InspectReport) -> RenderableType:
    from convcalc.inspect.render import inspect_view

    return inspect_view(report)


def headline(report: InspectReport) -> str:
    size = "x".join(map(str, report.spatial)) or "x".join(map(str, report.input_shapes[0]))
    counts: dict[str, int] = {}
    for f in report.findings:
        if f.severity != "info":
            counts[f.kind] = counts.get(f.kind, 0) + 1
    if not counts:
        return f"no findings: the model runs on {size} with every merge agreeing"
    words = {
        "merge": ("skip mismatch", "skip mismatches"),
        "failure": ("layer that cannot run", "layers that cannot run"),
        "checkerboard": ("checkerboard layer", "checkerboard layers"),
        "dropped": ("layer dropping inputs", "layers dropping inputs"),
        "portability": ("layer to port with a fix", "layers to port with a fix"),
        "runtime": ("runtime disagreement", "runtime disagreements"),
        "conflict": ("argument conflict", "argument conflicts"),
    }
    parts = []
    for kind, n in counts.items():
        if kind == "stopped":
            node = report.run.stopped[0]
            parts.append(f"shapes stop at layer {node.name} (unknown op {node.op})")
            continue
        one, many = words.get(kind, (kind, kind))
        parts.append(
            f"{n} {one if n == 1 else many}" + (f" at {size}" if kind in ("merge", "failure") else "")
        )
    total = sum(counts.values())
    return f"{total} finding{'' if total == 1 else 's'}: " + ", ".join(parts)
