"""Rich renderables of `convcalc inspect`: the headline, findings by severity, sizes, then every layer."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcalc.chain.render import describe
from convcalc.inspect.analysis import InspectReport
from convcalc.render import x_join

STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


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
    """Headline, findings, accepted sizes, receptive fields, and the per-layer table."""
    graph = report.graph
    ok = report.runs
    head = Text.from_markup(
        f"[bold]{report.headline()}[/bold]\n"
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
    if report.findings:
        findings = Table(title="Findings, most severe first", title_justify="left", title_style="bold")
        for name in ("severity", "kind", "layer", "finding", "fix"):
            findings.add_column(name, overflow="fold")
        for f in report.findings:
            style = STYLES[f.severity]
            findings.add_row(f"[{style}]{f.severity}[/{style}]", f.kind, f.node or "", f.message, f.fix or "")
        parts.append(findings)
    if report.axes:
        sizes = Table(title="Input sizes the whole model accepts, per spatial axis", title_justify="left")
        columns = ("axis", "given", "layers run from", "accepted (merges agree, nothing dropped)", "nearest")
        for name in columns:
            sizes.add_column(name, overflow="fold")
        for axis in report.axes:
            size = report.input_shapes[0][axis.tensor_axis]
            if axis.accepted is None:
                sizes.add_row(str(axis.spatial_axis), str(size), str(axis.minimum or ""), axis.note or "", "")
                continue
            below, above = axis.accepted.nearest(size)
            near = (
                "given size"
                if axis.accepted.contains(size)
                else " / ".join(str(v) for v in (below, above) if v is not None)
            )
            sizes.add_row(
                str(axis.spatial_axis),
                str(size),
                str(axis.minimum),
                describe(axis.accepted),
                near,
            )
        parts.append(sizes)
    if report.fields:
        parts.append(
            Text(
                "receptive field (input elements per output element, widest): "
                + "; ".join(
                    f"{name}: " + x_join(["?" if v is None else v for v in values])
                    for name, values in report.fields
                )
            )
        )
    layers = Table(title="Layer by layer", title_justify="left", title_style="bold")
    rows = []
    for row in report.layers:
        if row.kind == "shape_preserving":
            continue
        overlap = "" if row.overlap is None else " / ".join(":".join(map(str, p)) for p in row.overlap)
        rows.append(
            (
                str(row.index),
                f"{row.name} ({row.op})",
                _compact(row.arguments, graph.framework, row.kind == "pool"),
                _pairs(row.placement),
                x_join(row.input_shape),
                x_join(row.output_shape),
                x_join(row.dropped) if any(row.dropped) else "",
                overlap,
                "" if row.parameters is None else f"{row.parameters:,}",
                "" if row.macs is None else f"{row.macs:,}",
            )
        )
    names = (
        "#",
        "layer",
        "arguments",
        "pads/crops",
        "in",
        "out",
        "dropped",
        "overlap",
        "params",
        "MACs",
    )
    for n, name in enumerate(names):
        if name in ("layer", "arguments"):
            layers.add_column(name, overflow="fold")
            continue
        # numbers are never cut: the column is as wide as its widest value
        widest = max([len(name), *(len(r[n]) for r in rows)])
        layers.add_column(name, justify="right", no_wrap=True, min_width=widest)
    for cells in rows:
        layers.add_row(*cells)
    parts.append(layers)
    total_params = sum(r.parameters or 0 for r in report.layers)
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
