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


DEFAULTS = {"dilations": "1", "group": "1", "strides": "1", "pads": "0"}


def _compact(arguments: tuple[tuple[str, str], ...]) -> str:
    """`kernel_shape=[3, 3]` -> `kernel_shape=3x3`; defaults (dilation 1, group 1, zero pads) left out."""
    words = []
    for name, value in arguments:
        text = value.strip("[]").replace(", ", "x" if name != "pads" else ",")
        if set(text.replace(",", "x").split("x")) == {DEFAULTS.get(name)}:
            continue
        words.append(f"{name}={text}")
    return " ".join(words)


def inspect_view(report: InspectReport) -> RenderableType:
    """Headline, findings, accepted sizes, receptive fields, and the per-layer table."""
    graph = report.graph
    ok = report.run.ok
    head = Text.from_markup(
        f"[bold]{report.headline()}[/bold]\n"
        f"{graph.source} ({graph.framework}, {len(graph.nodes)} nodes), input "
        + ", ".join(x_join(s) for s in report.input_shapes)
        + ("" if report.size_given else " (dynamic sizes: the smallest accepted size)")
        + (" [green]runs[/green]" if ok else " [red]does not run as it stands[/red]")
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
                _compact(row.arguments),
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
