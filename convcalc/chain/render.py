"""Rich renderables of `convcalc chain`: sizes per layer, skip connections, accepted inputs."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcalc.chain.stack import ChainReport, SkipPair, axis_fixes
from convcalc.periodic import Accepted
from convcalc.render import x_join


def describe(accepted: Accepted) -> str:
    """`16q + 0 (from 16)`: each class as period*q + residue from its first member, then single sizes."""
    parts = []
    if len(accepted.classes) == accepted.period and accepted.classes:
        parts.append(f"every size from {min(accepted.classes)}")
    else:
        for first in sorted(accepted.classes, key=lambda c: c % accepted.period):
            residue = first % accepted.period
            parts.append(f"{accepted.period}q + {residue} (from {first})")
    if accepted.singles:
        parts.append("only " + ", ".join(map(str, accepted.singles)))
    return "; ".join(parts) if parts else "none"


def _windows(per_axis: list[str]) -> str:
    """One window when every axis has the same, else one per axis."""
    return per_axis[0] if len(set(per_axis)) == 1 else " / ".join(per_axis)


def _pair_fix(report: ChainReport, pair: SkipPair) -> str:
    fixes = []
    for n, words in axis_fixes(report, pair):
        fixes.append(f"axis {n}: {words}")
        restores = report.accepted[n].restores
        below, above = restores.nearest(report.size[n]) if restores is not None else (None, None)
        if below is not None or above is not None:
            options = " or ".join(str(v) for v in (below, above) if v is not None)
            fixes[-1] += f"; or input {options}"
    return "; ".join(fixes)


def skip_notes(report: ChainReport) -> list[str]:
    """One line per layer whose windows skip input elements inside the input, at any size (a 1x1
    stride-2 convolution): "reads to the end" looks at the end of each input only."""
    lines = []
    for result in report.results:
        if not any(result.skipped):
            continue
        strides = [getattr(a, "stride", 1) for a in result.axes]
        per_axis = [(n, k, s) for n, (k, s) in enumerate(zip(result.skipped, strides)) if k]
        if len({(k, s) for _, k, s in per_axis}) == 1 and len(per_axis) == len(result.axes):
            where = f"{per_axis[0][1]} of every {per_axis[0][2]} input elements"
        else:
            where = "; ".join(f"{k} of every {s} input elements on axis {n}" for n, k, s in per_axis)
        lines.append(
            f"layer {result.index} ({result.layer.text}) never reads {where}, at any size: its taps miss "
            'those phases of its stride ("reads to the end" checks the end of each input only)'
        )
    return lines


def chain_view(report: ChainReport, listed: dict[int, tuple[int, ...]] | None = None) -> RenderableType:
    """The layer table, the skip-connection table, and the accepted sizes per axis."""
    head = Text.from_markup(
        f"input [bold]{x_join(report.size)}[/bold]"
        + ("" if report.size_given else " (no size given: the smallest input that restores every skip)")
        + f" -> output [bold]{x_join(report.output)}[/bold]"
    )
    layers = Table(title="Layer by layer", title_justify="left", title_style="bold")
    with_channels = report.results[0].in_channels is not None
    columns = ["#", "layer", "in", "out", *(["channels"] if with_channels else []), "dropped", "RF", "jump"]
    for name in columns:
        layers.add_column(name, justify="left" if name == "layer" else "right")
    layers.add_column("first window", justify="right")
    for result, fields in zip(report.results, report.fields):
        channels = [f"{result.in_channels} -> {result.out_channels}"] if with_channels else []
        dropped = x_join(result.dropped) if any(result.dropped) else ""
        layers.add_row(
            str(result.index),
            result.layer.text,
            x_join(result.size),
            x_join(result.output),
            *channels,
            f"[bold]{dropped}[/bold]" if dropped else "",
            "" if fields is None else x_join([f.receptive_field for f in fields]),
            "" if fields is None else x_join([f.jump for f in fields]),
            "" if fields is None else _windows([f"{f.left}..{f.right}" for f in fields]),
        )
    # with a given size the headline above already says this line
    parts: list[RenderableType] = [layers] if report.size_given else [head, layers]
    if report.pairs:
        skips = Table(title="Skip connections: decoder vs the encoder input it mirrors", title_justify="left")
        for name in ("encoder", "decoder", "expected", "got", "verdict", "fix"):
            skips.add_column(name)
        for pair in report.pairs:
            ok = all(pair.restored)
            skips.add_row(
                str(pair.encoder),
                str(pair.decoder),
                x_join(pair.expected),
                x_join(pair.got),
                "[green]restored[/green]" if ok else "[red]MISMATCH[/red]",
                "" if ok else _pair_fix(report, pair),
            )
        parts.append(skips)
    if report.unpaired:
        parts.append(Text(f"unpaired resampling layers: {', '.join(map(str, report.unpaired))}"))
    sizes = Table(title="Input sizes, per axis", title_justify="left", title_style="bold")
    for name in ("axis", "runs from", "restores every skip", "reads to the end"):
        sizes.add_column(name)
    for axis in report.accepted:
        if axis.restores is None or axis.exact is None:
            sizes.add_row(str(axis.axis), str(axis.minimum), "not worked out", "not worked out")
        else:
            sizes.add_row(str(axis.axis), str(axis.minimum), describe(axis.restores), describe(axis.exact))
    parts.append(sizes)
    for axis in report.accepted:
        if axis.note is not None:
            parts.append(Text(f"axis {axis.axis}: {axis.note}"))
    parts += [Text(line) for line in skip_notes(report)]
    if listed:
        for n, values in listed.items():
            parts.append(
                Text(f"axis {n}, restoring sizes in range: " + (", ".join(map(str, values)) or "none"))
            )
    if any(f is None for f in report.fields):
        parts.append(
            Text("RF, jump, first window: for the convolution/pooling layers before the first upsampling")
        )
    return Group(*parts)
