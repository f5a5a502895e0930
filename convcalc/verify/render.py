"""Rich renderables of `convcalc verify` and `convcalc sweep`, and the sweep's progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from convcalc.render import CAUTION, x_join
from convcalc.verdict import TOLERANCE, Check, SweepReport, Value, VerifyReport

# The verdict words carry the meaning; colour only underlines them.
VERDICT_STYLE = {"pass": "green", "FAIL": "bold red", "skipped": CAUTION}
SHOWN_FAILURES = 20


def _value(value: Value) -> str:
    return value if isinstance(value, str) else x_join(value)


def checks_table(checks: Sequence[Check], title: str) -> RenderableType:
    """One row per check; a skipped check's reason follows the table as a numbered note."""
    table = Table(title=title, title_justify="left", title_style="bold")
    table.add_column("check", style="cyan")
    table.add_column("expected")
    table.add_column("got")
    table.add_column("error", justify="right")
    table.add_column("verdict")
    notes: list[Text] = []
    for check in checks:
        verdict = Text(check.verdict, style=VERDICT_STYLE[check.verdict])
        if check.note:
            notes.append(Text(f"({len(notes) + 1}) {check.name}: {check.note}", style="dim"))
            verdict.append(f" ({len(notes)})")
        error = "" if check.error is None else f"{check.error:.3g}"
        table.add_row(check.name, _value(check.expected), _value(check.got), error, verdict)
    return Group(table, *notes)


def verify_view(result: VerifyReport) -> RenderableType:
    """The table of `convcalc verify` and a one-line verdict."""
    if result.report is not None:
        report = result.report
        params = report.params
        size = [a.size for a in (report.transposed if report.transposed_input else report.conv)]
        kernel, stride, dilation = params.kernel_size, params.stride, params.dilation
        pads = x_join([f"{a.pad_before}:{a.pad_after}" for a in report.conv])
        layer = f", padding {pads}, output_padding {x_join(params.output_padding)}"
    else:
        assert result.layer is not None
        args = result.layer.args
        size, kernel, stride, dilation = list(args.size), args.kernel_size, args.stride, args.dilation
        crops = x_join([f"{a.crop_before}:{a.crop_after}" for a in result.layer.transposed])
        layer = f", canonical crops {crops}"
    framework = "" if result.layer is None else f"{result.layer.framework} layer; "
    setup = Text.from_markup(
        f"{framework}float64, seed [bold]{result.seed}[/bold], batch {result.batch}, channels "
        f"{result.in_channels} -> {result.out_channels} (groups {result.groups}); size {x_join(size)}, "
        f"kernel_size {x_join(kernel)}, stride {x_join(stride)}, dilation {x_join(dilation)}{layer}. "
        f"Shapes are the core's; errors are max |route - reference|, allowed {TOLERANCE:g} x max(1, "
        "max |reference|)"
    )
    table = checks_table(result.checks, "Verification by execution")
    failed = len(result.failures)
    verdict = (
        Text("all checks passed", style="bold green")
        if result.passed
        else Text(f"{failed} check(s) failed", style="bold red")
    )
    return Group(setup, table, verdict)


def sweep_view(report: SweepReport) -> RenderableType:
    """The sweep's summary: counts, skipped configurations by reason, failures with commands."""
    grid = report.grid
    summary = Table(title="Sweep", title_justify="left", title_style="bold")
    summary.add_column("quantity", style="cyan")
    summary.add_column("value", justify="right")
    for label, values in (
        ("sizes", grid.sizes),
        ("kernel sizes", grid.kernel_sizes),
        ("strides", grid.strides),
        ("paddings", grid.paddings),
        ("dilations", grid.dilations),
        ("output paddings", grid.output_paddings),
        ("spatial axes", grid.ndims),
    ):
        summary.add_row(label, ", ".join(str(v) for v in values))
    summary.add_row("seed", str(report.seed))
    summary.add_row("configurations", f"{grid.count:,}")
    summary.add_row("verified", f"{report.verified:,} ({report.checks:,} checks)")
    summary.add_row("skipped as invalid", f"{report.skipped_total:,}")
    summary.add_row("failed", f"{len(report.failures):,}")
    parts: list[RenderableType] = [summary]
    if report.skipped:
        reasons = Table(title="Skipped: the rule each broke", title_justify="left", title_style="bold")
        reasons.add_column("reason", style="cyan")
        reasons.add_column("configurations", justify="right")
        for reason, count in report.skipped.items():
            example = report.skipped_examples.get(reason)
            reasons.add_row(
                reason + (f"\n[dim]e.g. {escape(example)}[/dim]" if example else ""), f"{count:,}"
            )
        parts.append(reasons)
    if report.failures:
        failures = Table(title="Failures", title_justify="left", title_style="bold red")
        failures.add_column("reproduce with")
        failures.add_column("failed checks")
        for failure in report.failures[:SHOWN_FAILURES]:
            failures.add_row(failure.command, "; ".join(c.name for c in failure.checks))
        parts.append(failures)
        if len(report.failures) > SHOWN_FAILURES:
            parts.append(Text(f"... and {len(report.failures) - SHOWN_FAILURES} more (--json lists all)"))
        parts.append(Text(f"{len(report.failures)} configuration(s) failed", style="bold red"))
    else:
        parts.append(Text("every verified configuration passed", style="bold green"))
    return Group(*parts)


# Work shorter than this shows no bar at all (a bar that flashes for a moment only distracts).
PROGRESS_DELAY = 0.5


@contextmanager
def progress_bar(
    total: int, console: Console, delay: float = PROGRESS_DELAY
) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal once the work has taken ``delay`` seconds, removed when it ends;
    None (no bar, no output) when the console is not a terminal."""
    if not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("verifying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    progress = Progress(*columns, console=console, transient=True)
    task = progress.add_task("sweep", total=total)
    start = time.monotonic()

    def advance(done: int) -> None:
        progress.update(task, completed=done)
        if not progress.live.is_started and time.monotonic() - start >= delay:
            progress.start()

    try:
        yield advance
    finally:
        progress.stop()
