"""`convcalc diff`'s presentation of a DiffReport: its JSON document, tables and one-line answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.diff.document import diff_document
from convcalc.diff.headline import diff_headline
from convcalc.jsonout import JsonDict

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.diff.report import DiffReport


def document(report: DiffReport) -> JsonDict:
    return diff_document(report)


def render(report: DiffReport) -> RenderableType:
    from convcalc.diff.render import diff_view

    return diff_view(report)


def headline(report: DiffReport) -> str:
    return diff_headline(report)
