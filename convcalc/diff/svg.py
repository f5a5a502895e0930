"""`convcalc diff --svg FILE`: model A above model B, each layer that differs marked in both with why."""

from __future__ import annotations

from convcalc.diff.headline import output_text
from convcalc.diff.marks import changed_nodes
from convcalc.diff.report import DiffReport
from convcalc.inspect.svg import Mark, Panel, check_budget, models_svg
from convcalc.inspect.svg.words import shape_text


def diff_svg(report: DiffReport) -> str:
    """The picture of a diff: A's panel above B's, the sizes of each on its own input, the changed
    layers (their folded nodes too) marked "changed", the headline on top, the outputs in the caption."""
    for side in (report.a, report.b):
        check_budget(side.graph)
    panels = []
    for side, marks in zip((report.a, report.b), changed_nodes(report)):
        shapes = ", ".join(shape_text(s) for s in side.input_shapes)
        graph = side.graph
        panels.append(
            Panel(
                graph,
                side.run.shapes,
                {name: Mark(text, "changed") for name, text in marks.items()},
                f"{side.label}: {graph.source} ({graph.framework}, {len(graph.nodes)} nodes), input {shapes}",
            )
        )
    caption = [f"output {o.index} ({o.a_name} / {o.b_name}): {output_text(o)}" for o in report.outputs]
    caption.append(
        "The sizes on the edges are each model's own run on its input; the verdicts read both layers on "
        "A's input sizes; the marked layers differ (verdict: why)."
    )
    return models_svg(panels, title=[report.headline()], caption=caption)
