"""`convcalc shape`'s tables: a convolution and its transposed twin, the direct form, the reversal."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcalc.core import ReversalAxis, ShapeReport
from convcalc.core.rules import output_padding_limit
from convcalc.render import axis_table, yes_no
from convcalc.shape.dialect import pytorch_refusal
from convcalc.text import x_join


def _colliding(axis: ReversalAxis) -> str:
    first, last = axis.colliding_first, axis.colliding_last
    if last - first < 6:
        return ", ".join(str(w) for w in range(first, last + 1))
    return f"{first} .. {last} ({last - first + 1} sizes)"


def _padding(report: ShapeReport) -> str:
    """The padding as the user gave it: a mode, or before:after per axis (one number when symmetric)."""
    if report.params.padding_mode:
        return report.params.padding_mode
    return x_join(
        [
            f"{a.pad_before}:{a.pad_after}" if a.pad_before != a.pad_after else a.pad_before
            for a in report.conv
        ]
    )


def _returns(axis: ReversalAxis, op: int) -> int:
    """What the twin with output_padding ``op`` returns: W - r + op."""
    return axis.size - axis.remainder + op


def _restored_sizes(axis: ReversalAxis, padding_mode: str | None) -> str:
    """W = K - pb - pa + s*q (q >= 0): every size the twin gives back exactly, from the smallest one."""
    if padding_mode == "same":
        return "see the verdict: 'same' pads each size anew"
    first = axis.base
    while first < 1:
        first += axis.stride
    return f"W = {axis.base} + {axis.stride}q: {first}, {first + axis.stride}, ..."


def _verdict(axis: ReversalAxis, op: int) -> str:
    back = _returns(axis, op)
    if back < 1:
        return f"[bold]twin has no output[/bold]: output_padding {axis.remainder} restores W"
    if back == axis.size:
        if op == 0:
            q = (axis.size - axis.base) // axis.stride
            return f"[green]restored[/green]: W = {axis.base} + {axis.stride}*{q}"
        return f"[green]restored[/green] by output_padding {op}"
    if back < axis.size:
        return f"[bold]not restored[/bold]: {axis.size - back} element(s) short"
    return f"[bold]not restored[/bold]: {back - axis.size} element(s) too many"


def shape_view(report: ShapeReport) -> RenderableType:
    """The tables of `convcalc shape`."""
    params = report.params
    summary = Text.from_markup(
        f"kernel_size [bold]{x_join(params.kernel_size)}[/bold], stride [bold]{x_join(params.stride)}"
        f"[/bold], dilation [bold]{x_join(params.dilation)}[/bold], padding [bold]{_padding(report)}"
        f"[/bold], output_padding [bold]{x_join(params.output_padding)}[/bold]",
        emoji=False,  # as the CLI's console: no ':name:' turns into a picture (nor loads rich's table)
    )
    refusal = pytorch_refusal(report)
    if refusal is not None:
        pads = x_join([f"{a.pad_before}:{a.pad_after}" for a in report.conv])
        summary.append_text(
            Text.from_markup(
                f"\n[bold]'same' here is TensorFlow's and Keras's[/bold]: output ceil(i/s), pads {pads} "
                f"(before:after, the odd one at the end). {refusal}. To read the layer exactly as one "
                "framework does, add --framework keras or --framework tensorflow.",
                emoji=False,
            )
        )
    conv = axis_table(
        "Convolution" + (" (twin, on the transposed output)" if report.transposed_input else ""),
        report.conv,
        [
            ("input size i", lambda a: a.size),
            ("padding before + after", lambda a: f"{a.pad_before} + {a.pad_after}"),
            ("dilated kernel K = d(k-1)+1", lambda a: a.dilated_kernel),
            ("padded input i + pb + pa", lambda a: a.padded_size),
            ("output floor((i+pb+pa-K)/s) + 1", lambda a: a.output),
        ],
    )
    op = params.output_padding
    transposed = axis_table(
        "Transposed convolution" + ("" if report.transposed_input else " (twin, on the conv output)"),
        list(zip(report.transposed, report.conv, op)),
        [
            ("input size", lambda a: a[0].size),
            ("full output (i-1)s + K", lambda a: a[0].full),
            ("padding: crops before + after", lambda a: f"{a[1].pad_before} + {a[1].pad_after}"),
            ("output_padding: added at the end", lambda a: a[2]),
            ("output", lambda a: a[0].output),
        ],
    )
    direct = axis_table(
        "Equivalent direct convolution of the transposed one",
        report.direct,
        [
            ("zeros inserted between inputs (s-1)", lambda a: a.zeros_inserted),
            ("stretched size (i-1)s + 1", lambda a: a.stretched),
            ("padding before K-1-p", lambda a: _pad_or_crop(a.pad_before)),
            ("padding after K-1-p+op", lambda a: _pad_or_crop(a.pad_after)),
            (
                "kernel (flipped, channels swapped), stride 1",
                lambda a: f"{a.kernel_size} (K={a.dilated_kernel})",
            ),
            ("output", lambda a: a.output),
        ],
    )
    reversal = axis_table(
        "Reversibility: convolution, then the transposed convolution"
        + (f" with output_padding {x_join(op)}" if any(op) else " (output_padding 0)"),
        list(zip(report.reversal, op)),
        [
            ("convolution input W", lambda a: a[0].size),
            ("r = (W + pb + pa - K) mod s", lambda a: a[0].remainder),
            ("verdict", lambda a: _verdict(*a)),
            (
                "transposed returns W - r + output_padding",
                lambda a: _returns(*a) if _returns(*a) >= 1 else f"none ({_returns(*a)})",
            ),
            ("output_padding that restores W", lambda a: a[0].output_padding_to_restore),
            ("sizes restored with output_padding 0", lambda a: _restored_sizes(a[0], params.padding_mode)),
            ("allowed (PyTorch: < max(s, d))", lambda a: yes_no(a[0].allowed_pytorch)),
            ("allowed (strict: < s)", lambda a: yes_no(a[0].allowed_strict)),
            ("input sizes with the same output", lambda a: _colliding(a[0])),
        ],
    )
    parts: list[RenderableType] = [summary, conv, transposed, direct, reversal]
    if report.transposed_input:
        parts.insert(3, _reachable_table(report))
    if report.twin_problem is not None:
        impossible = Text.from_markup(
            "[bold]Transposed twin[/bold] (same kernel, stride, padding, dilation, on the conv output): "
            f"[bold]impossible[/bold]: {report.twin_problem}",
            emoji=False,
        )
        parts = [summary, conv, impossible, reversal]
    strict = report.output_padding_strict_ok
    if not all(strict):
        parts.append(
            Text.from_markup(
                "[bold]note[/bold]: output_padding is not smaller than the stride on axis "
                + ", ".join(str(n) for n, ok in enumerate(strict) if not ok)
                + ": PyTorch accepts it (output_padding < max(stride, dilation)), but TensorFlow, "
                "Keras, ONNX Runtime, MXNet and Equinox demand output_padding < stride.",
                emoji=False,
            )
        )
    if report.channels is not None:
        ch = report.channels
        weights = Table(title="Channels and weights", title_justify="left", title_style="bold")
        weights.add_column("quantity", style="cyan")
        weights.add_column("value", justify="right")
        if report.transposed_input:
            # The layer typed is the transposed one: its channels as given, its weight first.
            weights.add_row(
                "transposed convolution in -> out channels (groups)",
                f"{ch.out_channels} -> {ch.in_channels} ({ch.groups})",
            )
            weights.add_row("transposed weight (in, out/g, k...)", str(ch.transposed_weight_shape))
            weights.add_row(
                "its twin's convolution weight (out, in/g, k...), same tensor", str(ch.conv_weight_shape)
            )
        else:
            weights.add_row(
                "convolution in -> out channels (groups)",
                f"{ch.in_channels} -> {ch.out_channels} ({ch.groups})",
            )
            weights.add_row("convolution weight (out, in/g, k...)", str(ch.conv_weight_shape))
            weights.add_row(
                "transposed weight (in, out/g, k...), same tensor", str(ch.transposed_weight_shape)
            )
        weights.add_row("direct form weight (swapped per group, flipped)", str(ch.direct_weight_shape))
        weights.add_row("parameters (with bias)", f"{ch.parameters:,} ({ch.parameters_with_bias:,})")
        weights.add_row("multiply-accumulates per sample", f"{ch.multiply_accumulates:,}")
        parts.append(weights)
    return Group(*parts)


def _reachable_table(report: ShapeReport) -> Table:
    """Every output the transposed layer can give with a legal output_padding, and which value gives it."""
    options = report.reachable()
    strict = [
        output_padding_limit(s, d, strict=True) for s, d in zip(report.params.stride, report.params.dilation)
    ]
    table = Table(title="Outputs reachable with output_padding", title_justify="left", title_style="bold")
    table.add_column("output_padding", justify="right", style="cyan")
    for n in range(len(options)):
        table.add_column(f"axis {n}", justify="right")
    for v in range(max(len(o) for o in options)):
        cells = []
        for n, axis in enumerate(options):
            if v >= len(axis):
                cells.append("-")
            else:
                given = " (given)" if v == report.params.output_padding[n] else ""
                only = " PyTorch only" if v >= strict[n] else ""
                cells.append(f"{axis[v][1]}{given}{only}")
        table.add_row(str(v), *cells)
    return table


def _pad_or_crop(value: int) -> str:
    return str(value) if value >= 0 else f"{value} (crop {-value})"
