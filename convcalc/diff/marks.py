"""What a picture of a diff marks: in each model, the nodes of every layer that differs, and why.

The hook for `diff --svg`: the drawing (one panel per model, A above B) marks these nodes as
"changed" with the text given here; the layer's folded Pad / Slice / Transpose nodes are marked with
it, so that the mark sits on whatever box the drawing keeps.
"""

from __future__ import annotations

from convcalc.diff.layers import Layer
from convcalc.diff.report import DiffReport


def _nodes(layer: Layer) -> list[str]:
    return [n.name for n in (*layer.before, layer.node, *layer.after)]


def changed_nodes(report: DiffReport) -> tuple[dict[str, str], dict[str, str]]:
    """(A's, B's) node name -> the one-line reason, for every layer pair whose verdict is not 'same'."""
    marks: tuple[dict[str, str], dict[str, str]] = ({}, {})
    for pair in report.differing:
        text = pair.reason()
        for side, layer in zip(marks, (pair.a, pair.b)):
            if layer is not None:
                for name in _nodes(layer):
                    side[name] = text
    return marks
