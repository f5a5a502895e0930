"""`convcalc inspect`: read a model (ONNX, Keras, PyTorch); explain, check and fix its convolutions.

From Python (a notebook): ``inspect_model("unet.onnx", [(1, 3, 255, 255)])`` returns the report the
command prints (``.headline()``, ``.findings``, ``.merges``, ``.axes``, ``.layers``, ``.exit_code``);
``convcalc.inspect.analysis.inspect_graph`` does the same for a Graph a reader has built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcalc.inspect.report import InspectReport


def inspect_model(
    model: str, inputs: Sequence[tuple[int, ...]] | None = None, target: str | None = None
) -> InspectReport:
    """Read a model file (or "file.py:factory") and analyse it, as `convcalc inspect` does."""
    from convcalc.inspect.analysis import inspect_graph
    from convcalc.inspect.load import load_graph

    shapes = None if inputs is None else [tuple(s) for s in inputs]
    return inspect_graph(load_graph(str(model), shapes), shapes, target)
