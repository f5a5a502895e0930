"""`convcalc sweep`'s presentation of a SweepReport: its JSON document, its tables, its one-line answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.jsonout import JsonDict
from convcalc.verify.document import sweep_document

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.verdict import SweepReport


def document(report: SweepReport) -> JsonDict:
    return sweep_document(report)


def render(report: SweepReport) -> RenderableType:
    from convcalc.verify.render import sweep_view

    return sweep_view(report)


def headline(report: SweepReport) -> str:
    skipped = sum(report.skipped.values())
    if report.failures:
        return (
            f"FAILED: {len(report.failures):,} of {report.verified:,} configurations disagree "
            f"({skipped:,} invalid skipped)."
        )
    return (
        f"all {report.verified:,} valid configurations pass ({report.checks:,} checks); {skipped:,} invalid "
        "ones skipped."
    )
