"""Rich renderables of `convcalc inspect`: the headline, findings by severity, sizes, then every layer."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcalc.chain.render import describe
from convcalc.inspect.fixes import spatial_letters
from convcalc.inspect.report import InspectReport, LayerRow, runs_from
from convcalc.render import CAUTION, x_join

STYLES = {"error": "bold red", "warning": CAUTION, "info": "cyan"}


def _pairs(pairs: tuple[tuple[int, int], ...] | None) -> str:
    if pairs is None:
        return ""
    return x_join([f"{b}:{a}" if b != a else str(b) for b, a in pairs])


# Each framework's defaults, as its own signatures give them (ONNX's operator spec; keras.layers.Conv2D,
# Conv2DTranspose, DepthwiseConv2D and MaxPooling2D; torch.nn.Conv2d, ConvTranspose2d and MaxPool2d):
# an argument whose every value is its default is left out of the table, as each framework's repr does.
DEFAULTS: dict[str, dict[str, str]] = {
    "onnx": {"dilations": "1", "group": "1", "strides": "1", "pads": "0", "output_padding": "0"},
    "keras": {
        "strides": "1",
        "dilation_rate": "1",
        "groups": "1",
        "padding": "valid",
        "output_padding": "None",
        "depth_multiplier": "1",
    },
    "pytorch": {
        "stride": "1",
        "padding": "0",
        "dilation": "1",
        "groups": "1",
        "output_padding": "0",
        "ceil_mode": "False",
    },
}
# A pooling's stride defaults to its window in Keras (strides=None) and PyTorch (stride=None); ONNX's is 1.
WINDOW_STRIDE = {"keras": ("pool_size", "strides"), "pytorch": ("kernel_size", "stride")}


def _values(value: str) -> list[str]:
    """`[1, 1]`, `(1, 1)`, `1` -> the values, one per axis."""
    return [v for v in value.strip("[]()").replace(",", " ").split() if v]


def _compact(arguments: tuple[tuple[str, str], ...], framework: str = "onnx", pool: bool = False) -> str:
    """`kernel_shape=[3, 3]` -> `kernel_shape=3x3`; the framework's defaults (dilation 1, group 1, zero
    pads; Keras 'valid' and output_padding None; a pooling's stride equal to its window) left out."""
    defaults = DEFAULTS.get(framework, {})
    given = dict(arguments)
    window, stride = WINDOW_STRIDE.get(framework, ("", ""))
    words = []
    for name, value in arguments:
        values = _values(value)
        if values and set(values) == {defaults.get(name)}:
            continue
        if pool and name == stride and window in given:
            kernel = _values(given[window])
            if values == kernel or (len(kernel) == 1 and set(values) == set(kernel)):
                continue
        separator = "," if name == "pads" else "x"
        words.append(f"{name}={separator.join(values) if values else value}")
    return " ".join(words)


def inspect_view(report: InspectReport) -> RenderableType:
    """The model, findings, accepted sizes, receptive fields, and the per-layer table (the headline is
    printed above them)."""
    graph = report.graph
    ok = report.runs
    head = Text.from_markup(
        f"{graph.source} ({graph.framework}, {len(graph.nodes)} nodes), input "
        + ", ".join(x_join(s) for s in report.input_shapes)
        + ("" if report.size_given else " (dynamic sizes: the smallest accepted size)")
        + (
            " [green]runs[/green]"
            if ok
            else " [red]does not run as it stands[/red]"
            if not report.run.ok
            else f" [red]is not shown to run: shapes stop at {report.run.stopped[0].name}[/red]"
        )
    )
    parts: list[RenderableType] = [head]
    if report.findings and all(f.severity == "info" for f in report.findings):
        # Nothing to fix ("no findings" above): the notes as lines, not a table of findings.
        parts.extend(
            Text(f"{f.kind}: " + (f"{f.node}: " if f.node else "") + f.message) for f in report.findings
        )
    elif report.findings:
        findings = Table(title="Findings, most severe first", title_justify="left", title_style="bold")
        findings.add_column("severity", no_wrap=True)
        for name in ("layer: finding", "fix"):
            findings.add_column(name, overflow="fold", ratio=1)
        for f in report.findings:
            style = STYLES[f.severity]
            finding = Text(f"{f.node}\n", style="bold") if f.node else Text()
            findings.add_row(
                Text.assemble((f.severity, style), "\n", f.kind), finding.append(f.message), f.fix or ""
            )
        parts.append(findings)
    if report.axes:
        sizes = Table(
            title="Input sizes the whole model accepts, per spatial axis: sizes that run (every merge "
            "agrees, no layer refuses) and sizes that also drop nothing (every layer's windows reach the end "
            "of its input)",
            title_justify="left",
        )
        for name in ("axis", "given", "runs from", "runs", "drops nothing", "nearest"):
            sizes.add_column(name, overflow="fold")
        letters = spatial_letters(len(report.axes))
        for axis in report.axes:
            size = report.input_shapes[0][axis.tensor_axis]
            if axis.accepted is None or axis.runs is None:
                sizes.add_row(
                    letters[axis.spatial_axis], str(size), str(runs_from(axis) or ""), axis.note or "", "", ""
                )
                continue
            chosen = axis.accepted if axis.accepted.smallest is not None else axis.runs
            below, above = chosen.nearest(size)
            near = (
                "given size"
                if chosen.contains(size)
                else " / ".join(str(v) for v in (below, above) if v is not None)
            )
            sizes.add_row(
                letters[axis.spatial_axis],
                str(size),
                str(runs_from(axis) or "none"),
                describe(axis.runs),
                describe(axis.accepted),
                near,
            )
        parts.append(sizes)
    fields = [(name, values) for name, values in report.fields if values]  # outputs with a spatial axis
    if fields:
        unknown = any(v is None for _, values in fields for v in values)
        parts.append(
            Text(
                "receptive field (input elements that reach one output element, widest, per spatial axis): "
                + "; ".join(
                    f"output {name!r} " + x_join(["?" if v is None else v for v in values])
                    for name, values in fields
                )
                + (" (? = not worked out: the path passes an op convcalc does not model)" if unknown else "")
            )
        )
    parts.append(LayerTable(report))
    total_params = report.parameters
    total_macs = sum(r.macs or 0 for r in report.layers)
    parts.append(
        Text(
            f"{total_params:,} parameters, {total_macs:,} multiply-accumulates for this input (a transposed "
            "convolution counts (out_channels/groups) x kernel taps per input element; FLOPs = 2 x MACs). "
            "Activation and normalisation layers are not listed."
        )
    )
    if report.run.failure is not None:
        failure = report.run.failure
        parts.append(
            Text(f"stopped at {failure.node.name} ({failure.node.op}): {failure.message}", style="red")
        )
    return Group(*parts)


# Columns of numbers, in the order they are left out when the terminal is too narrow for all of them.
NUMBER_COLUMNS = ("#", "pads/crops", "in", "out", "dropped", "overlap", "params", "MACs")
LEFT_OUT_FIRST = ("overlap", "dropped", "params", "pads/crops", "MACs", "in")
# The layer column (name, op and arguments, folded) keeps at least this width before a column is dropped.
LAYER_WIDTH = 16


def _formula(dims: tuple[str, ...]) -> str:
    """`1x8x(H/2)x(W/2)`: a shape in words, each size that is not one word in brackets."""
    return "x".join(f"({d})" if _compound(d) else d for d in dims)


def _compound(text: str) -> bool:
    """Whether an operator stands outside every bracket (``2*floor(H/2)``, not ``floor(H/2)``)."""
    depth = 0
    for n, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and (c in "+*/" or (c == "-" and n > 0)):
            return True
    return False


def layer_cells(report: InspectReport) -> list[dict[str, str]]:
    """Every listed layer's cells as text: the layer (name, op, arguments) and each number column."""
    rows = []
    failing = min((r.index for r in report.run.mismatches), default=None)
    for row in report.layers:
        if row.kind == "shape_preserving":
            continue
        arguments = _compact(row.arguments, report.graph.framework, row.kind == "pool")
        overlap = row.overlap or ()
        rows.append(
            {
                "#": str(row.index),
                "layer": f"{row.name} ({row.op})"
                + (f"\n{arguments}" if arguments else "")
                + (f"\nout: {_formula(row.formula)}" if row.formula else "")
                + (_fixed_note(row, row.index == failing) if row.with_fixes else ""),
                "pads/crops": _pairs(row.placement),
                "in": x_join(row.input_shape),
                "out": x_join(row.output_shape),
                "dropped": x_join(row.dropped) if any(row.dropped) else "",
                "overlap": "" if row.overlap is None else " / ".join(":".join(map(str, p)) for p in overlap),
                "params": "" if row.parameters is None else f"{row.parameters:,}",
                "MACs": "" if row.macs is None else f"{row.macs:,}",
            }
        )
    return rows


def layer_columns(rows: list[dict[str, str]], width: int) -> tuple[list[str], int, list[str]]:
    """The number columns that fit in ``width`` beside a layer column of at least LAYER_WIDTH (each as
    wide as its widest value, so no number is ever cut), the layer column's width, and those left out.
    Empty columns are left out silently; the others in LEFT_OUT_FIRST order, and said so."""
    shown = [name for name in NUMBER_COLUMNS if any(r[name] for r in rows)]
    widths = {name: max(len(name), *(len(r[name]) for r in rows)) for name in shown}
    natural = max([len("layer"), *(len(line) for r in rows for line in r["layer"].split("\n"))])
    # an argument with a number in it ("output_padding=1x1") is never folded either
    words = [w for r in rows for w in r["layer"].partition("\n")[2].split() if any(c.isdigit() for c in w)]
    least = min(max([LAYER_WIDTH, *map(len, words)]), natural)
    left_out: list[str] = []

    def room() -> int:  # a rich table: a border left of every column and at the end, one space each side
        return width - sum(widths[n] for n in shown) - 3 * (len(shown) + 1) - 1

    for name in LEFT_OUT_FIRST:
        if room() >= least:
            break
        if name in shown:
            shown.remove(name)
            left_out.append(name)
    return shown, max(min(room(), natural), 1), left_out


class LayerTable:
    """The layer-by-layer table, laid out for the width it is printed at: numbers whole, never cut."""

    def __init__(self, report: InspectReport) -> None:
        self.rows = layer_cells(report)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        shown, layer_width, left_out = layer_columns(self.rows, options.max_width)
        if layer_width < LAYER_WIDTH // 2:  # too narrow for a table: one wrapped line per layer
            yield Text("Layer by layer", style="bold")
            for row in self.rows:
                numbers = " ".join(f"{n}={row[n]}" for n in NUMBER_COLUMNS[1:] if row[n])
                yield Text(f"{row['#']} {row['layer']} {numbers}".replace("\n", " "))
            return
        table = Table(title="Layer by layer", title_justify="left", title_style="bold")
        names = ["#", "layer", *shown[1:]] if shown[:1] == ["#"] else ["layer", *shown]
        for name in names:
            if name == "layer":
                table.add_column(name, overflow="fold", width=layer_width)
            else:
                widest = max(len(name), *(len(r[name]) for r in self.rows))
                table.add_column(name, justify="right", no_wrap=True, width=widest)
        for row in self.rows:
            table.add_row(*(row[name] for name in names))
        yield table
        if left_out:
            yield Text(
                f"Left out at {options.max_width} columns: {', '.join(left_out)} (--json has every column; "
                "a wider terminal shows them, e.g. COLUMNS=160)."
            )


def _fixed_note(row: LayerRow, merge: bool) -> str:
    """What a row's sizes are when they are those with the fix of a failing merge applied; for a layer
    that fix changes, the change (its pads/crops are those of the changed layer)."""
    if merge:
        return "\nout: with the fix applied (as it stands the operands disagree)"
    if row.fix:
        return f"\nsizes with the fix applied: {row.fix_words} here (the fix for {row.fix_for})"
    return "\nsizes with the fix applied"
