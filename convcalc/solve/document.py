"""JSON documents of `convcalc solve`, built from the solver's result objects (the tables use the same)."""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.jsonout import JsonDict, envelope
from convcalc.solve.answers import Answer, AxisAnswer, Fixed, SolveReport


def answer_document(answer: Answer, rank: int) -> JsonDict:
    return {
        "rank": rank,
        "kernel_size": list(answer.kernel_size),
        "stride": list(answer.stride),
        "padding": [list(pair) for pair in answer.padding],
        "output_padding": list(answer.output_padding),
        "dilation": list(answer.dilation),
        "output": [a.output for a in answer.axes],
        "checkerboard_free": [a.checkerboard_free for a in answer.axes],
        "symmetric": [a.symmetric for a in answer.axes],
        "strict_ok": [a.strict_ok for a in answer.axes],
        "remainder": [a.remainder for a in answer.axes],
        "dropped": [a.dropped for a in answer.axes],
        "uniform": answer.uniform,
        "reasons": list(answer.reasons),
    }


def _axis_answer(answer: AxisAnswer | None) -> JsonDict | None:
    if answer is None:
        return None
    return {
        "size": answer.size,
        "output": answer.output,
        "kernel_size": answer.kernel_size,
        "stride": answer.stride,
        "padding": [answer.pad_before, answer.pad_after],
        "output_padding": answer.output_padding,
        "dilation": answer.dilation,
        "transposed": answer.transposed,
    }


def _fixed(fixed: Sequence[Fixed]) -> JsonDict:
    return {
        "kernel_size": [f.kernel_size for f in fixed],
        "stride": [f.stride for f in fixed],
        "dilation": [f.dilation for f in fixed],
        "padding": [None if f.padding is None else list(f.padding) for f in fixed],
        "output_padding": [f.output_padding for f in fixed],
    }


def solve_document(
    report: SolveReport, shown: Sequence[Answer], verified: Sequence[bool] | None = None
) -> JsonDict:
    """The `convcalc solve --json` document: every shown answer, ranked, and the nearest when none fits."""
    answers = [answer_document(a, n) for n, a in enumerate(shown, 1)]
    if verified is not None:
        for doc, ok in zip(answers, verified):
            doc["verified"] = ok
    return envelope(
        "solve",
        input={
            "size": list(report.size),
            "target": list(report.target),
            "transposed": report.transposed,
            "fixed": _fixed(report.fixed),
            "bounds": {
                "max_kernel": report.bounds.max_kernel,
                "max_stride": report.bounds.max_stride,
                "max_dilation": report.bounds.max_dilation,
                "strict": report.bounds.strict,
            },
        },
        count=len(report.answers),
        shown=len(shown),
        mixed=report.mixed,
        omitted=report.omitted,
        answers=answers,
        nearest=[
            {
                "axis": n.axis,
                "size": n.size,
                "target": n.target,
                "below": _axis_answer(n.below),
                "above": _axis_answer(n.above),
                "smaller_input": _axis_answer(n.smaller_input),
                "larger_input": _axis_answer(n.larger_input),
                "other_kind": _axis_answer(n.other_kind),
            }
            for n in report.nearest
        ],
    )
