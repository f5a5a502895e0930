"""`convcalc solve`'s presentation of a SolveReport: its JSON document, its tables, its one-line answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.jsonout import JsonDict
from convcalc.solve.document import solve_document
from convcalc.text import x_join

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.solve.answers import Answer, SolveReport


def document(report: SolveReport) -> JsonDict:
    shown = report.shown
    doc = solve_document(report, shown, report.verified)
    if report.framework is not None:
        from convcalc.port.document import framework_answers_document

        f = report.framework
        doc["framework"] = framework_answers_document(f.name, f.translations[: len(shown)], f.dropped)
    return doc


def render(report: SolveReport) -> RenderableType:
    from convcalc.solve.render import report_view

    return report_view(report)


def answer_words(answer: Answer) -> str:
    """k4 s2 p1 op0 (with d only when it is not 1)."""
    return answer.layer.words()


def headline(report: SolveReport) -> str:
    kind = "transposed convolution" if report.transposed else "convolution"
    size, target = x_join(report.size), x_join(report.target)
    smaller = all(t <= s for s, t in zip(report.size, report.target)) and report.size != report.target
    hint = ""
    if report.transposed and smaller:
        hint = " The target is smaller than the input: a convolution shrinks (try --conv)."
    elif not report.transposed and all(t >= s for s, t in zip(report.size, report.target)):
        hint = " The target is not smaller than the input: a transposed convolution grows (drop --conv)."
    if not report.answers:
        return f"no {kind} within the bounds maps {size} to {target}.{hint}"
    best = report.answers[0]
    count = len(report.answers)
    return (
        f"{kind} {size} -> {target}: best {answer_words(best)} ({', '.join(best.reasons[:2])}); "
        f"{count} answer{'s' if count != 1 else ''} in all.{hint}"
    )
