"""`convcalc diff`'s one-line answer: faithful, or the first layer that differs and what it does."""

from __future__ import annotations

from convcalc.diff.compare import describe_shift
from convcalc.diff.report import DiffReport, OutputDiff


def output_text(output: OutputDiff) -> str:
    """'same', 'shifted down by 1 row', 'different size 1x2x16x16 -> 1x2x17x16'."""
    if output.verdict == "shifted":
        return "shifted " + ", ".join(describe_shift(axis, n) for axis, n in output.shift if n)
    if output.verdict == "different size":
        a = "?" if output.a_shape is None else "x".join(map(str, output.a_shape))
        if output.b_shape is None:
            return f"B does not run ({a} in A)"
        return f"different size {a} -> {'x'.join(map(str, output.b_shape))}"
    return output.verdict


def diff_headline(report: DiffReport) -> str:
    """One line: 'faithful: ...' or '<n> of <m> layers differ; first: layer X: <reason>'."""
    layers = len(report.pairs)
    word = "layer" if layers == 1 else "layers"
    if report.same:
        return f"faithful: B computes what A computes ({layers} conv-like {word}, same values, same outputs)"
    differing = report.differing
    if not differing:
        output = next(o for o in report.outputs if o.verdict != "same")
        return f"every layer is the same, but output {output.index} is {output_text(output)}"
    first = differing[0]
    name = first.name
    if first.a is not None and first.b is not None and first.b.name != first.a.name:
        name = f"{first.a.name} (B: {first.b.name})"
    count = f"{len(differing)} of {layers} {word} differ{'s' if len(differing) == 1 else ''}"
    stops = "; B does not run on this input" if any(o.b_shape is None for o in report.outputs) else ""
    return f"{count}; first: layer {name}: {first.reason()}{stops}"
