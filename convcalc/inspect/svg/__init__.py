"""The model as a picture: `convcalc inspect MODEL --svg FILE` (and `convcalc diff --svg`).

``model_svg(graph, sizes, marks)`` draws any Graph in dataflow order with the size of every tensor on
its edge (``sizes``: tensor name -> full shape, as ``propagate(...).shapes`` gives), each box its op
and arguments in short form, merges joined by their skip connections, and the nodes in ``marks`` (node
name -> ``Mark``) highlighted with their text. ``inspect_svg(report)`` draws an inspect report: the
failing merge or layer marked, the accepted input sizes in the caption. Plain text, no dependency;
layout in ``layout``, words in ``words``, SVG in ``draw``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from convcalc.errors import ConvCalcError
from convcalc.explain.svg import check_output_path
from convcalc.graph.model import Graph
from convcalc.graph.shapes import Shape
from convcalc.inspect.fixes import spatial_letters
from convcalc.inspect.svg.draw import render
from convcalc.inspect.svg.items import (
    MARK_KINDS,
    MAX_BOXES,
    Item,
    Mark,
    assign_levels,
    collect,
    dataflow_order,
    spatial,
)
from convcalc.inspect.svg.layout import place
from convcalc.inspect.svg.words import arguments, key, shape_text

if TYPE_CHECKING:
    from convcalc.inspect.report import InspectReport
    from convcalc.periodic import Accepted

__all__ = [
    "MARK_KINDS",
    "MAX_BOXES",
    "Mark",
    "Panel",
    "check_budget",
    "check_svg_path",
    "inspect_svg",
    "model_svg",
    "models_svg",
    "write_svg",
]


@dataclass(frozen=True)
class Panel:
    """One model of a picture: its Graph, the size of each tensor (name -> full shape, as
    ``propagate(graph, shapes).shapes`` gives; a tensor missing is drawn '?'), its marked nodes (node
    name -> Mark) and a heading ("A: model.onnx")."""

    graph: Graph
    sizes: Mapping[str, Shape]
    marks: Mapping[str, Mark] = field(default_factory=dict)
    heading: str = ""
    # tensors whose sizes are those with a failing merge's fix applied (labelled so on their edges):
    # the words of the layer's own change ("output_padding=[1, 1]"), or "" when it is not changed
    fixed: Mapping[str, str] = field(default_factory=dict)


def model_svg(
    graph: Graph,
    sizes: Mapping[str, Shape],
    marks: Mapping[str, Mark] | None = None,
    *,
    title: Sequence[str] = (),
    caption: Sequence[str] = (),
    fixed: Mapping[str, str] | None = None,
) -> str:
    """The SVG text of ``graph`` with the tensor ``sizes`` on its edges and ``marks`` highlighted.

    ``title`` lines go above the drawing (the first in bold), ``caption`` lines below it, before the
    legend; the sizes of the ``fixed`` tensors are labelled "with the fix applied" (or with the layer's own
    change, "with output_padding=[1, 1] (its fix)", where the mapping gives one). More than MAX_BOXES
    boxes is refused (BudgetExceeded) before any layout.
    """
    return models_svg(
        [Panel(graph, sizes, dict(marks or {}), fixed=dict(fixed or {}))], title=title, caption=caption
    )


def models_svg(panels: Sequence[Panel], *, title: Sequence[str] = (), caption: Sequence[str] = ()) -> str:
    """Several models in one picture, each below the one before under its heading (`diff --svg`: model A
    above model B, the changed layers marked in both), one caption and one legend for all."""
    drawn = []
    for panel in panels:
        graph, sizes, marks = panel.graph, panel.sizes, dict(panel.marks)
        unknown = sorted(set(marks) - {node.name for node in graph.nodes})
        if unknown:
            raise ConvCalcError(
                f"svg: marks name nodes that {graph.source} does not have: {', '.join(unknown)}",
                parameter="svg",
            )
        items, producer = dataflow_order(*collect(graph, marks))
        assign_levels(graph, items, producer, sizes)
        outputs = set(graph.outputs)
        labels = []
        for item in items:
            shape = sizes.get(item.output) if item.output is not None else None
            text = "?" if shape is None else shape_text(shape)
            if item.output is not None and item.output in panel.fixed:
                words = panel.fixed[item.output]
                text += f" with {words} (its fix)" if words else " with the fix applied"
            labels.append(f"{text} (output)" if item.output in outputs else text)
        drawn.append((panel.heading, place(items, producer, labels), _band_names(graph, items, sizes)))
    spelled = key(arguments(node) for panel in panels for node in panel.graph.nodes)
    return render(drawn, title, [*caption, *([f"In the boxes: {spelled}."] if spelled else [])])


def check_budget(graph: Graph) -> None:
    """Refuse a graph of more than MAX_BOXES boxes before it is analysed (BudgetExceeded)."""
    collect(graph, {})


def _band_names(graph: Graph, items: list[Item], sizes: Mapping[str, Shape]) -> dict[int, str]:
    """Per level, the spatial sizes found there: '64x64', or two of them ('65x65, 64x64 ...')."""
    seen: dict[int, list[str]] = {}
    reference = sizes.get(graph.inputs[0].name) if graph.inputs else None
    for item in items:
        shape = sizes.get(item.output) if item.output is not None else None
        if shape is None or reference is None:
            continue
        own = spatial(shape, item.layout, len(reference))
        if own is None:
            continue
        text = "x".join(map(str, own))
        names = seen.setdefault(item.level, [])
        if text not in names:
            names.append(text)
    return {
        level: ", ".join(names[:2]) + (" \u2026" if len(names) > 2 else "") for level, names in seen.items()
    }


def _accepted(accepted: Accepted) -> str:
    """'16, 32, 48, 64, ... (every 16th from 16)': the first members, then the rule."""
    if accepted.classes and len(accepted.classes) == accepted.period:
        return f"every size from {min(accepted.classes)}"
    first = accepted.smallest
    if first is None:
        return "none"
    members = (
        accepted.within(first, first + 4 * accepted.period)[:5] if accepted.classes else accepted.singles
    )
    rule = ""
    if accepted.classes:
        residues = ", ".join(str(c % accepted.period) for c in sorted(accepted.classes))
        rule = f" ({accepted.period}q + {residues}, from {min(accepted.classes)})"
    more = ", ..." if accepted.classes else ""
    return ", ".join(map(str, members)) + more + rule


def inspect_svg(report: InspectReport) -> str:
    """The picture of an inspect report: sizes for its input, failing merges and layers marked (errors),
    checkerboard and dropping layers marked (warnings), the accepted input sizes in the caption."""
    graph = report.graph
    marks: dict[str, Mark] = {}
    for merge in report.merges:
        if merge.knock_on:  # as the table has it: one cause, fixed earlier; this merge then agrees
            causes = sum(1 for m in report.merges if m.index < merge.index and not m.knock_on)
            fixes = "merge's fix is" if causes == 1 else "merges' fixes are"
            stands = " vs ".join(map(shape_text, merge.shapes))
            marks[merge.name] = Mark(
                f"knock-on: agrees once the earlier {fixes} applied (as it stands {stands})", "knock_on"
            )
        else:
            marks[merge.name] = Mark(f"FAILS: {merge.message}", "error")
    failure = report.run.failure
    if failure is not None:
        marks[failure.node.name] = Mark(f"FAILS: cannot run: {failure.message}", "error")
    for node in report.run.stopped[:1]:
        marks[node.name] = Mark(f"shapes stop here: {node.op} is not modelled", "error")
    for finding in report.findings:
        if finding.node is None or finding.node in marks or finding.severity != "warning":
            continue
        words = {"checkerboard": "checkerboard: uneven overlap", "dropped": "never reads its last inputs"}
        if finding.kind in words:
            marks[finding.node] = Mark(f"warning: {words[finding.kind]}", "warning")
    shapes = ", ".join(shape_text(s) for s in report.input_shapes)
    status = (
        "runs" if report.runs else "does not run as it stands" if not report.run.ok else "is not shown to run"
    )
    title = [
        report.headline(),
        f"{graph.source} ({graph.framework}, {len(graph.nodes)} nodes), input {shapes} {status}",
    ]
    caption = []
    if report.axes:
        texts = [(axis.spatial_axis, _accepted(axis.accepted) if axis.accepted else axis.note or "unknown")
                 for axis in report.axes]  # fmt: skip
        if len({t for _, t in texts}) == 1:
            caption.append(f"Input sizes the whole model accepts, every spatial axis: {texts[0][1]}")
        else:
            caption.append(
                "Input sizes the whole model accepts: "
                + "; ".join(f"{spatial_letters(len(texts))[n]}: {t}" for n, t in texts)
            )
    for merge in report.merges:
        if merge.knock_on:
            caption.append(
                f"{merge.name}: a knock-on of the merges before it, which it agrees with once their "
                "fixes are applied"
            )
        elif merge.fixes:
            caption.append(f"Fix for {merge.name}: {merge.fixes[0]}")
    caption.append(
        "Bands by spatial scale, largest on top (their sizes on the left); "
        "activations and normalisations are folded into the box before them (+ ...)."
    )
    # the sizes the table prints: after a failing merge, those with its fix applied, labelled so
    sizes = dict(report.run.shapes)
    fixed = {}
    for row in report.layers:
        node = graph.nodes[row.index]
        if row.with_fixes and node.outputs:
            sizes[node.outputs[0]] = row.output_shape
            fixed[node.outputs[0]] = row.fix_words
    if fixed:
        caption.append(
            "Sizes after the failing merge are those with its fix applied (as it stands no runtime "
            "computes them), as the table shows."
        )
    return model_svg(graph, sizes, marks, title=title, caption=caption, fixed=fixed)


def check_svg_path(path: Path) -> None:
    """Refuse an output path before any work: what explain's figures refuse (check_output_path: a name
    too long for the file system, a directory, a missing parent directory), and a name not ending in
    .svg (a .png would hold SVG text)."""
    suffix = path.suffix.lower()
    try:
        directory = path.is_dir()
    except OSError:  # a name too long for the system: check_output_path names it
        directory = False
    if suffix != ".svg" and not directory and path.name not in ("", ".", ".."):
        hint = " (for a PNG, open the SVG in a browser and take a screenshot)" if suffix == ".png" else ""
        raise ConvCalcError(
            f"svg writes SVG text, so the file name must end in .svg; got {str(path)!r}{hint}",
            parameter="svg",
        )
    check_output_path(path)


def write_svg(text: str, path: Path) -> Path:
    """Write the picture to ``path`` (checked by check_svg_path); a failing write is a ConvCalcError."""
    check_svg_path(path)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConvCalcError(
            f"svg: cannot write {str(path)!r}: {error.strerror or error}", parameter="svg"
        ) from None
    return path
