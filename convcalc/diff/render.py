"""Rich renderables of `convcalc diff`: both models, one row per layer pair, then the outputs.

A pair is one row (A, B and the verdict side by side) where that fits the terminal without wrapping a
line; in a narrower one (80 columns, with TFLite's long tensor names) each pair takes two rows, A's
above B's, the verdict beside A's, so that no column is split off from the layers it judges.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from convcalc.diff.compare import PairDiff, describe_shift
from convcalc.diff.headline import output_text
from convcalc.diff.layers import AxisForm, Layer
from convcalc.diff.models import Side
from convcalc.diff.report import DiffReport
from convcalc.render import CAUTION, split_table, x_join

STYLES = {
    "same": "green",
    "shifted": CAUTION,
    "different values": "red",
    "different size": "red",
    "missing": "red",
    "extra": "red",
}


def spelling(layer: Layer) -> str:
    """The layer in its file's words, each folded node on its own line."""
    return "\n".join(layer.spelling())


def canonical(layer: Layer, form: tuple[AxisForm, ...] | None) -> str:
    """'pads H=1:1 W=0:2', the window where it is not 1, the layout, and the sizes."""
    if form is None:
        return "does not run on A's input"
    parts = []
    if layer.kind in ("conv", "conv_transpose", "pool"):
        parts.append("k " + "x".join(str(f.kernel_size) for f in form))
        parts.append("s " + "x".join(str(f.stride) for f in form))
        if any(f.dilation != 1 for f in form):
            parts.append("d " + "x".join(str(f.dilation) for f in form))
    word = "crops" if layer.kind == "conv_transpose" else "pads"
    if layer.kind == "resize":
        parts.append("scale " + " ".join(f"{f.name}={f.scale}" for f in form))
    else:
        parts.append(word + " " + " ".join(f"{f.name}={f.placement[0]}:{f.placement[1]}" for f in form))
    if getattr(layer.node.spec, "transpose_kernel", False):
        parts.append("kernel flipped")
    names = ",".join(layer.axes)
    sizes = "x".join(str(f.size) for f in form) + " -> " + "x".join(str(f.output) for f in form)
    return " ".join(parts) + f"\n{names} {sizes}, channels {layer.channel_name}"


def own_run(layer: Layer, form: tuple[AxisForm, ...] | None, label: str) -> str:
    """'in B's own run: 1x4x7x5 -> 1x4x7x5', where the layer's own model gives it other input sizes than
    A's (the sizes its canonical form is read on); '' where they are the same. These are the JSON's
    ``input_shape`` and ``output_shape``."""
    if form is not None and tuple(f.size for f in form) == layer.sizes:
        return ""
    return f"\nin {label}'s own run: {x_join(layer.input_shape)} -> {x_join(layer.output_shape)}"


def _cell(layer: Layer | None, form: tuple[AxisForm, ...] | None, label: str) -> str:
    if layer is None:
        return "(none)"
    return f"{layer.name}\n{spelling(layer)}\n{canonical(layer, form)}{own_run(layer, form, label)}"


def _verdict(pair: PairDiff) -> Text:
    text = Text(pair.verdict, style=STYLES[pair.verdict])
    details = [c.text() for c in pair.changes]
    if pair.verdict == "shifted":
        details.append(", ".join(describe_shift(axis, n) for axis, n in pair.shift if n))
    if pair.note:
        details.append(pair.note)
    for detail in details:
        text.append("\n" + detail)
    return text


def _side(side: Side) -> str:
    graph = side.graph
    shapes = ", ".join(
        "x".join(map(str, shape)) + " (" + ",".join(names) + ")"
        for shape, names in zip(side.input_shapes, side.input_names)
    )
    return f"{side.label}: {graph.source} ({graph.framework}, {len(graph.nodes)} nodes), input {shapes}"


TITLE = "Layer by layer (B read on A's input sizes)"


def side_by_side(report: DiffReport) -> Table:
    table = Table(title=TITLE, title_justify="left", title_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("A", overflow="fold", ratio=1)
    table.add_column("B", overflow="fold", ratio=1)
    table.add_column("verdict", overflow="fold", ratio=1)
    for n, pair in enumerate(report.pairs):
        table.add_row(
            str(n), _cell(pair.a, pair.a_form, "A"), _cell(pair.b, pair.b_form, "B"), _verdict(pair)
        )
    return table


def stacked(report: DiffReport) -> Table:
    """Two rows per pair: A's layer with the verdict beside it, then B's; a rule between pairs."""
    table = Table(title=TITLE, title_justify="left", title_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("layer", overflow="fold", ratio=3)
    table.add_column("verdict", overflow="fold", ratio=2)
    last = len(report.pairs) - 1
    for n, pair in enumerate(report.pairs):
        table.add_row(str(n), "A", _cell(pair.a, pair.a_form, "A"), _verdict(pair))
        table.add_row("", "B", _cell(pair.b, pair.b_form, "B"), "", end_section=n < last)
    return table


class LayerTable:
    """The layer table side by side when it fits the width it is printed at unwrapped, else stacked."""

    def __init__(self, report: DiffReport) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = side_by_side(self.report)
        natural = Measurement.get(console, options.update_width(10**6), table).maximum
        if natural > options.max_width:
            table = stacked(self.report)
        yield from split_table(table, console, options)


def diff_view(report: DiffReport) -> RenderableType:
    """Both models, the layer table (both spellings, both canonical forms on A's input), the outputs."""
    outputs = Text()
    for output in report.outputs:
        style = STYLES.get(output.verdict, "")
        outputs.append(f"output {output.index} ({output.a_name} / {output.b_name}): ")
        outputs.append(output_text(output), style=style)
        if output.note:
            outputs.append(f" ({output.note})")
        outputs.append("\n")
    outputs.rstrip()
    return Group(Text(_side(report.a)), Text(_side(report.b)), LayerTable(report), outputs)
