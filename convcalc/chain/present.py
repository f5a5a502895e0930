"""`convcalc chain`'s presentation of a ChainReport: its JSON document, its tables, its one-line answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.chain.document import chain_document
from convcalc.chain.stack import axis_fixes
from convcalc.jsonout import JsonDict
from convcalc.text import x_join

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.chain.stack import ChainReport


def document(report: ChainReport) -> JsonDict:
    return chain_document(report, report.listed)


def render(report: ChainReport) -> RenderableType:
    from convcalc.chain.render import chain_view

    return chain_view(report, report.listed)


def headline(report: ChainReport) -> str:
    size, out = x_join(report.size), x_join(report.output)
    line = f"input {size} -> output {out}"
    if not report.pairs:
        return line + "."
    bad = [p for p in report.pairs if not all(p.restored)]
    if not bad:
        return line + f"; every skip connection matches ({len(report.pairs)})."
    first = bad[0]
    fixes = axis_fixes(report, first)
    if len(fixes) == report.ndim and len({words for _, words in fixes}) == 1:
        fix = f" ({fixes[0][1]} fixes it)"
    else:
        fix = " (" + "; ".join(f"axis {n}: {words}" for n, words in fixes) + ")"
    near = []
    for axis in report.accepted:
        given = report.size[axis.axis]
        if axis.restores is None:
            near.append("not worked out")
            continue
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
