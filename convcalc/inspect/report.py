"""`convcalc inspect`'s result records: one row per layer, the merges, the findings and the report that
holds them; the smallest size an axis runs from."""

from __future__ import annotations

from dataclasses import dataclass

from convcalc.core.display import Presentable
from convcalc.errors import ExitCode
from convcalc.graph.model import Graph
from convcalc.graph.shapes import Run, Shape
from convcalc.graph.sizes import AxisSizes

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class LayerRow:
    """One node as it ran: its arguments, canonical pads/crops, sizes, drops, checkerboard and work."""

    index: int
    name: str
    op: str
    kind: str
    arguments: tuple[tuple[str, str], ...]
    placement: tuple[tuple[int, int], ...] | None
    input_shape: Shape
    output_shape: Shape
    dropped: tuple[int, ...]
    overlap: tuple[tuple[int, ...], ...] | None
    parameters: int | None
    macs: int | None
    notes: tuple[str, ...]
    # the output shape in words, as functions of the input's spatial sizes (``H/2``), where they follow
    formula: tuple[str, ...] | None = None
    # the sizes are those the layer has once the fixes of the disagreeing merges before it are applied
    with_fixes: bool = False
    # the layer's own change among those fixes, in the framework's words (("output_padding", (1, 1)),),
    # and the merge it fixes: its sizes are those of the layer so changed
    fix: tuple[tuple[str, tuple[int, ...]], ...] = ()
    fix_for: str | None = None

    @property
    def fix_words(self) -> str:
        """The layer's own fix as the findings spell it: "output_padding=[1, 1]" ("" for none)."""
        return ", ".join(f"{name}={list(values)}" for name, values in self.fix)

    @property
    def checkerboard(self) -> bool:
        return self.overlap is not None and any(len(set(p)) > 1 for p in self.overlap)


@dataclass(frozen=True)
class Merge:
    """A merge whose operands disagree for the given input: each operand's path, and re-checked fixes."""

    index: int
    name: str
    op: str
    shapes: tuple[Shape, ...]
    paths: tuple[tuple[str, ...], ...]
    message: str
    fixes: tuple[str, ...]
    # agrees once the fixes of the merges before it are applied: a knock-on, not a cause of its own
    knock_on: bool = False


@dataclass(frozen=True)
class Finding:
    severity: str
    kind: str
    node: str | None
    message: str
    fix: str | None = None


@dataclass(frozen=True, repr=False)
class InspectReport(Presentable):
    """A model read and analysed: its layers, merges, accepted sizes, receptive fields and findings."""

    graph: Graph
    input_shapes: tuple[Shape, ...]
    size_given: bool
    run: Run
    layers: tuple[LayerRow, ...]
    merges: tuple[Merge, ...]
    axes: tuple[AxisSizes, ...]
    fields: tuple[tuple[str, tuple[int | None, ...]], ...]
    findings: tuple[Finding, ...]
    target: str | None

    presenter = "convcalc.inspect.present"

    @property
    def runs(self) -> bool:
        """Whether every node was reached and runs: no refusal, no disagreeing merge, no stop."""
        return self.run.ok and not self.run.stopped

    @property
    def exit_code(self) -> ExitCode:
        """1 when a merge disagrees, a layer cannot run (empty output, refusal) or shapes stop at an op
        convcalc does not model (the model is then not shown to run); else 0."""
        return ExitCode.OK if self.runs else ExitCode.VERIFICATION_FAILED

    @property
    def parameters(self) -> int:
        """Every parameter of the model as the reader counts them (ONNX: its floating-point
        initializers; PyTorch: sum of p.numel()), else the sum over the listed layers."""
        if self.graph.parameters is not None:
            return self.graph.parameters
        return sum(r.parameters or 0 for r in self.layers)

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(self.input_shapes[0][a.tensor_axis] for a in self.axes)


def runs_from(axis: AxisSizes) -> int | None:
    """The smallest size of this axis that runs (every merge agrees, no layer refuses), as its worked-out
    sizes that run say; where they are not worked out, the smallest size no layer refuses."""
    if axis.runs is not None:
        return axis.runs.smallest
    return axis.minimum
