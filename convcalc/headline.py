"""The one-line answer every command prints first (and puts in its JSON as ``headline``).

Plain strings built from the same result objects as the tables and the documents; no rich, no numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convcalc.core.rules import output_padding_limit

if TYPE_CHECKING:
    from convcalc.chain.stack import ChainReport
    from convcalc.conventions.base import FrameworkLayer
    from convcalc.core import ShapeReport
    from convcalc.explain.results import Explanation
    from convcalc.overlap import OverlapMap
    from convcalc.port.translate import Translation
    from convcalc.solve.solver import Answer, SolveReport
    from convcalc.verdict import PortCheck, SweepReport, VerifyReport


def x_join(values: Sequence[object]) -> str:
    return "x".join(str(v) for v in values)


def _same(values: Sequence[object]) -> str:
    """One value when every axis has it, else the per-axis values joined by x."""
    return str(values[0]) if len(set(values)) == 1 else x_join(values)


def with_headline(document: dict[str, Any], headline: str) -> dict[str, Any]:
    """The document with ``headline`` right after ``schema_version`` and ``command``."""
    head: dict[str, Any] = {key: document[key] for key in ("schema_version", "command") if key in document}
    return {**head, "headline": headline, **{k: v for k, v in document.items() if k not in head}}


def layer_words(report: ShapeReport) -> str:
    """k3 s2 p1 (with d and op only when they are not the default)."""
    p = report.params
    pads = [(a.pad_before, a.pad_after) for a in report.conv]
    if p.padding_mode:
        padding = f"padding '{p.padding_mode}'"
    else:
        padding = "p" + _same([str(b) if b == a else f"{b}:{a}" for b, a in pads])
    words = [f"k{_same(p.kernel_size)}", f"s{_same(p.stride)}", padding]
    if any(d != 1 for d in p.dilation):
        words.append(f"d{_same(p.dilation)}")
    return " ".join(words)


def reachable(report: ShapeReport) -> list[list[tuple[int, int]]]:
    """Per axis of the transposed layer: (output_padding, output) for every output_padding PyTorch allows."""
    p = report.params
    out = []
    for axis, op, s, d in zip(report.transposed, p.output_padding, p.stride, p.dilation):
        base = axis.output - op
        out.append([(v, base + v) for v in range(output_padding_limit(s, d))])
    return out


def shape_headline(report: ShapeReport) -> str:
    p = report.params
    words = layer_words(report)
    op = p.output_padding
    if report.transposed_input:
        given = x_join([a.size for a in report.transposed])
        out = x_join([a.output for a in report.transposed])
        options = reachable(report)
        words += f" op{_same(op)}" if any(op) else ""
        line = f"transposed {given} -> {out} ({words})."
        if all(len(o) == 1 for o in options):
            return line + f" With stride {_same(p.stride)} that is the only size it can give."
        if all(o == options[0] for o in options) and len(set(op)) == 1:
            options, op, per_axis = options[:1], op[:1], " per axis" if len(options) > 1 else ""
        else:
            per_axis = ""
        low = x_join([o[0][1] for o in options])
        high = x_join([o[-1][1] for o in options])
        others = []
        for n, axis in enumerate(options):
            for v, size in axis:
                if v != op[n]:
                    where = f" on axis {n}" if len(options) > 1 else ""
                    only = " (PyTorch only: not below the stride)" if v >= p.stride[n] else ""
                    others.append(f"output_padding={v} gives {size}{where}{only}")
        return line + f" {'; '.join(others)}; sizes {low}..{high}{per_axis} are reachable."
    given = x_join([a.size for a in report.conv])
    out = x_join([a.output for a in report.conv])
    line = f"convolution {given} -> {out} ({words})."
    if report.twin_problem is not None:
        return line + " Its transposed twin cannot exist: its output would be empty."
    rev = report.reversal
    back = x_join([a.size - a.remainder + o for a, o in zip(rev, op)])
    if all(a.remainder == o for a, o in zip(rev, op)):
        with_op = f" with output_padding={_same(op)}" if any(op) else ""
        return line + f" The transposed twin{with_op} gives back {given}."
    need = _same([a.remainder for a in rev])
    first = x_join([a.colliding_first for a in rev])
    last = x_join([a.colliding_last for a in rev])
    op_words = f" with output_padding={_same(op)}" if any(op) else ""
    stride = _same(p.stride)
    return (
        line
        + f" The transposed twin{op_words} gives {back}, not {given}: the {stride} inputs {first}..{last} "
        f"all give {out}, and output_padding (below the stride {stride}) picks one of them: "
        f"output_padding={need} restores {given}."
    )


def framework_shape_headline(layer: FrameworkLayer, pytorch: Translation | None = None) -> str:
    from convcalc.conventions import convention

    kind = "transposed convolution" if layer.is_transposed else "convolution"
    axes = layer.transposed if layer.is_transposed else layer.conv
    pads = "crops" if layer.is_transposed else "padding"
    placement = _same([f"{b}:{a}" for b, a in layer.placement])
    line = (
        f"{convention(layer.framework).title} {kind} {x_join([a.size for a in axes])} -> "
        f"{x_join(layer.output)} ({pads} {placement})."
    )
    if pytorch is not None:
        line += f" In PyTorch: {pytorch.verdict}."
    return line


def answer_words(answer: Answer) -> str:
    a = answer
    pads = [str(b) if b == e else f"{b}:{e}" for b, e in a.padding]
    words = [f"k{_same(a.kernel_size)}", f"s{_same(a.stride)}", f"p{_same(pads)}"]
    if a.axes[0].transposed:
        words.append(f"op{_same(a.output_padding)}")
    if any(d != 1 for d in a.dilation):
        words.append(f"d{_same(a.dilation)}")
    return " ".join(words)


def solve_headline(report: SolveReport, shown: Sequence[Answer]) -> str:
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


def chain_headline(report: ChainReport) -> str:
    size, out = x_join(report.size), x_join(report.output)
    line = f"input {size} -> output {out}"
    if not report.pairs:
        return line + "."
    bad = [p for p in report.pairs if not all(p.restored)]
    if not bad:
        return line + f"; every skip connection matches ({len(report.pairs)})."
    first = bad[0]
    from convcalc.chain.stack import axis_fixes

    fixes = axis_fixes(report, first)
    if len(fixes) == report.ndim and len({words for _, words in fixes}) == 1:
        fix = f" ({fixes[0][1]} fixes it)"
    else:
        fix = " (" + "; ".join(f"axis {n}: {words}" for n, words in fixes) + ")"
    near = []
    for axis in report.accepted:
        given = report.size[axis.axis]
        if axis.restores.contains(given):
            near.append(f"{given} (as given)")
            continue
        below, above = axis.restores.nearest(given)
        near.append(" or ".join(str(v) for v in (below, above) if v is not None) or "none")
    where = "" if len(near) == 1 else " per axis"
    return (
        line + f"; not restored: layer {first.decoder} gives {x_join(first.got)} where layer "
        f"{first.encoder}'s input was {x_join(first.expected)}{fix}; nearest inputs that restore every "
        f"skip{where}: {'; '.join(near)}."
    )


def verify_headline(result: VerifyReport) -> str:
    checks = [c for c in result.checks if c.passed is not None]
    failed = [c for c in checks if not c.passed]
    skipped = len(result.checks) - len(checks)
    more = f", {skipped} skipped" if skipped else ""
    if failed:
        return f"FAILED: {len(failed)} of {len(checks)} checks disagree ({failed[0].name}){more}."
    what = "layer"
    if result.layer is not None:
        what = framework_shape_headline(result.layer).split(" (")[0]
    if result.report is not None:
        r = result.report
        axes = r.transposed if r.transposed_input else r.conv
        kind = "transposed" if r.transposed_input else "convolution"
        what = f"{kind} {x_join([a.size for a in axes])} -> {x_join([a.output for a in axes])}"
    return f"verified by execution: {what}, all {len(checks)} checks pass{more}."


def sweep_headline(report: SweepReport) -> str:
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


def explain_headline(explanation: Explanation, overlap: OverlapMap | None) -> str:
    r = explanation.report
    axes = r.transposed
    sizes = f"{x_join([a.size for a in axes])} -> {x_join([a.output for a in axes])}"
    op = r.params.output_padding
    words = layer_words(r) + (f" op{_same(op)}" if any(op) else "")
    stacked = len(overlap.axes[0].layers) if overlap is not None and overlap.axes else 1
    if stacked > 1 and overlap is not None:
        steps = [x_join([a.layers[n].size for a in overlap.axes]) for n in range(stacked)]
        chain = " -> ".join([*steps, x_join([a.output for a in overlap.axes])])
        parts = [f"{stacked} stacked transposed layers ({words} each): {chain}."]
    else:
        parts = [f"transposed {sizes} ({words})."]
    view = explanation.matrix.content
    if view is not None:
        differs = " (here they differ)" if view.slip_differs else ""
        parts.append(
            "It computes C^T y; the gradient of the convolution is C^T g with g = dL/dy, so C^T y is a "
            f"gradient only when y is dL/dy{differs}."
        )
    direct = explanation.direct.content
    if direct is not None:
        zeros = _same([a.zeros_inserted for a in direct.axes])
        before = _same([a.pad_before for a in direct.axes])
        after = _same([a.pad_after for a in direct.axes])
        unflipped = (
            "the same here: the kernel is symmetric" if direct.unflipped_equal else "different numbers"
        )
        parts.append(
            f"As a direct convolution: {zeros} zero(s) between inputs, padding {before}:{after}, stride 1, "
            "and the kernel flipped, because the output meets the kernel's taps in reverse order as the "
            f"window slides (unflipped gives {unflipped})."
        )
    if overlap is not None:
        if overlap.uniform:
            parts.append("Every interior output receives the same number of contributions: no checkerboard.")
        else:
            layer = "" if stacked == 1 else f" for layer {(overlap.suggested_layer or 0) + 1}"
            instead = f"; instead{layer}: {_suggestion(overlap)}" if overlap.suggestions else ""
            parts.append(
                f"Checkerboard: interior outputs receive {overlap.interior_minimum} to "
                f"{overlap.interior_maximum} contributions ({_why_uneven(r)}){instead}."
            )
    if not explanation.verified:
        parts.append("A check FAILED.")
    return " ".join(parts)


def _why_uneven(report: ShapeReport) -> str:
    p = report.params
    if all(d == 1 for d in p.dilation):
        return f"stride {_same(p.stride)} does not divide kernel {_same(p.kernel_size)}"
    return "the dilated taps fall unevenly between the stride's positions"


def _suggestion(overlap: OverlapMap) -> str:
    s = overlap.suggestions[0]
    even = "even overlap" if s.covers else "even inside, border outputs empty"
    if s.kind == "resize":
        return f"resize to {x_join(s.output)}, then a convolution"
    return (
        f"k{_same(s.kernel_size)} s{_same(s.stride)} p{_same(s.padding)} op{_same(s.output_padding)} "
        f"(same size {x_join(s.output)}, {even})"
    )


def port_headline(t: Translation, check: PortCheck | None = None) -> str:
    from convcalc.conventions import convention

    source, target = convention(t.source.framework).title, convention(t.target.framework).title
    line = f"{source} -> {target}: {t.verdict}"
    steps = t.fix_steps()
    if steps:
        line += f"; fix: {'; '.join(steps)}"
    if check is not None:
        line += "; verified by execution" if check.ok else "; VERIFICATION FAILED"
    return line + "."
