"""`convcalc port`'s presentation of a Translation: its JSON document, its tables, its one-line answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.conventions import convention
from convcalc.jsonout import JsonDict
from convcalc.port.document import port_document

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

    from convcalc.port.translate import Translation


def document(t: Translation) -> JsonDict:
    return port_document(t, t.check)


def render(t: Translation) -> RenderableType:
    from convcalc.port.render import port_view

    return port_view(t, t.check)


def headline(t: Translation) -> str:
    source, target = convention(t.source.framework).title, convention(t.target.framework).title
    line = f"{source} -> {target}: {t.verdict}"
    steps = t.fix_steps()
    if steps:
        line += f"; fix: {'; '.join(steps)}"
    if t.check is not None:
        line += "; verified by execution" if t.check.ok else "; VERIFICATION FAILED"
    return line + "."
