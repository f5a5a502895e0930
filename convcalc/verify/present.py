"""`convcalc verify`'s presentation of a VerifyReport: its JSON document, its tables, its one-line answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.jsonout import JsonDict
from convcalc.shape.framework_present import layer_line
from convcalc.text import x_join
from convcalc.verify.document import verify_document

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.verdict import VerifyReport


def document(result: VerifyReport) -> JsonDict:
    return verify_document(result)


def render(result: VerifyReport) -> RenderableType:
    from convcalc.verify.render import verify_view

    return verify_view(result)


def headline(result: VerifyReport) -> str:
    checks = [c for c in result.checks if c.passed is not None]
    failed = [c for c in checks if not c.passed]
    skipped = len(result.checks) - len(checks)
    more = f", {skipped} skipped" if skipped else ""
    if failed:
        return f"FAILED: {len(failed)} of {len(checks)} checks disagree ({failed[0].name}){more}."
    what = "layer"
    if result.layer is not None:
        what = layer_line(result.layer).split(" (")[0]
    if result.report is not None:
        r = result.report
        axes = r.transposed if r.transposed_input else r.conv
        kind = "transposed" if r.transposed_input else "convolution"
        what = f"{kind} {x_join([a.size for a in axes])} -> {x_join([a.output for a in axes])}"
    return f"verified by execution: {what}, all {len(checks)} checks pass{more}."
