"""Rich renderables of `convcalc solve`: the ranked answers, or what is nearest when nothing fits."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcalc.render import x_join
from convcalc.solve.answers import Answer, AxisAnswer, SolveReport


def _padding(answer: Answer) -> str:
    return x_join([f"{b}:{a}" if b != a else b for b, a in answer.padding])


def _layer(a: AxisAnswer) -> str:
    kind = "ConvTranspose" if a.transposed else "Conv"
    pads = f"{a.pad_before}" if a.pad_before == a.pad_after else f"{a.pad_before}:{a.pad_after}"
    op = f" output_padding={a.output_padding}" if a.transposed else ""
    return f"{kind} k={a.kernel_size} s={a.stride} p={pads}{op} d={a.dilation} maps {a.size} -> {a.output}"


def solve_view(
    report: SolveReport, shown: Sequence[Answer], verified: Sequence[bool] | None = None
) -> RenderableType:
    """The ranked table, a count line, and notes on the output_padding rule and mixed axes."""
    kind = "transposed convolution" if report.transposed else "convolution"
    head = Text.from_markup(
        f"{kind} from [bold]{x_join(report.size)}[/bold] to [bold]{x_join(report.target)}[/bold] "
        f"(kernel <= {report.bounds.max_kernel}, stride <= {report.bounds.max_stride}, "
        f"dilation <= {report.bounds.max_dilation}"
        + (", output_padding < stride" if report.bounds.strict else "")
        + ")"
    )
    if not report.answers:
        return Group(head, _nearest_view(report))
    table = Table(title="Answers, best first", title_justify="left", title_style="bold")
    for name in ("#", "kernel", "stride", "padding"):
        table.add_column(name, justify="right")
    if report.transposed:
        table.add_column("out_pad", justify="right")
    table.add_column("dil", justify="right")
    if verified is not None:
        table.add_column("engine")
    table.add_column("why this rank")
    for n, answer in enumerate(shown, 1):
        row = [str(n), x_join(answer.kernel_size), x_join(answer.stride), _padding(answer)]
        if report.transposed:
            row.append(x_join(answer.output_padding))
        row.append(x_join(answer.dilation))
        if verified is not None:
            row.append("[green]ok[/green]" if verified[n - 1] else "[red]FAILED[/red]")
        row.append("; ".join(answer.reasons))
        table.add_row(*row)
    parts: list[RenderableType] = [head, table]
    rest = len(report.answers) - len(shown)
    parts.append(
        Text(
            f"{len(report.answers)} answer(s) in all"
            + (f"; {rest} more with --all" if rest > 0 else "")
            + (f"; {report.omitted} more combinations left out" if report.omitted else "")
        )
    )
    if report.mixed:
        parts.append(Text("no single kernel/stride/dilation fits every axis: answers differ per axis"))
    if any(not a.strict_ok for answer in shown for a in answer.axes):
        parts.append(
            Text.from_markup(
                "[bold]note[/bold]: an output_padding >= stride is PyTorch-only (it allows "
                "output_padding < max(stride, dilation)); forward(..., output_size=) and TensorFlow, Keras, "
                "ONNX Runtime demand output_padding < stride (--strict)."
            )
        )
    if any(not a.symmetric for answer in shown for a in answer.axes):
        parts.append(
            Text(
                "asymmetric padding b:a is not one PyTorch layer: pad with F.pad (convolution) or crop "
                "the output (transposed); TensorFlow's 'same' puts the extra element at the end the same way."
            )
        )
    uneven = [a for answer in shown for a in answer.axes if not a.checkerboard_free]
    if uneven:
        dilated = any(a.dilation != 1 for a in uneven)
        parts.append(
            Text(
                "checkerboard: the kernel taps do not fall equally often on every position between two "
                "stride steps, so outputs meet different numbers of weights"
                + (" (with dilation d the taps sit at multiples of d)." if dilated else ".")
            )
        )
    return Group(*parts)


def _nearest_view(report: SolveReport) -> RenderableType:
    lines: list[RenderableType] = [Text.from_markup("[bold red]no layer within bounds fits[/bold red]")]
    for near in report.nearest:
        table = Table(
            title=f"axis {near.axis}: {near.size} -> {near.target} is not reachable; nearest",
            title_justify="left",
            title_style="bold",
        )
        table.add_column("change")
        table.add_column("best layer")
        rows = (
            ("nearest smaller output", near.below),
            ("nearest larger output", near.above),
            ("nearest smaller input", near.smaller_input),
            ("nearest larger input", near.larger_input),
            ("the other kind of layer", near.other_kind),
        )
        for label, answer in rows:
            table.add_row(label, "none within bounds" if answer is None else _layer(answer))
        lines.append(table)
    lines.append(
        Text("raising --max-kernel / --max-stride / --max-dilation, or unfixing a value, widens the search")
    )
    return Group(*lines)


def report_view(report: SolveReport) -> RenderableType:
    """The shown answers; with a framework, the same answers in its arguments below them."""
    shown = report.shown
    view = solve_view(report, shown, report.verified)
    if report.framework is None:
        return view
    from convcalc.port.render import framework_answers_view

    f = report.framework
    return Group(view, framework_answers_view(f.name, f.translations[: len(shown)], f.dropped))
