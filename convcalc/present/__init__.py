"""One place that knows, for each result object, its command's document, headline and tables.

Used by `convcalc.core.display.Presentable` (repr, `to_dict`, notebooks); the CLI builds the same three
from the same functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.headline import with_headline

if TYPE_CHECKING:
    from rich.console import RenderableType  # noqa: TID251 (a type only)

# solve's default number of answers shown (the CLI's --top default).
SOLVE_TOP = 10


def parts(obj: Any) -> tuple[Any, Any, Any]:
    """(document builder, headline builder, view builder) of a result object, each without arguments."""
    from convcalc.chain.stack import ChainReport
    from convcalc.core import ShapeReport
    from convcalc.port.translate import Translation
    from convcalc.solve.solver import SolveReport
    from convcalc.verdict import SweepReport, VerifyReport

    if isinstance(obj, ShapeReport):
        from convcalc.headline import shape_headline
        from convcalc.jsonout import shape_document

        def shape_view() -> RenderableType:
            from convcalc.render import shape_view

            return shape_view(obj)

        return (lambda: shape_document(obj), lambda: shape_headline(obj), shape_view)
    if isinstance(obj, SolveReport):
        from convcalc.headline import solve_headline
        from convcalc.solve.document import solve_document

        shown = obj.answers[:SOLVE_TOP]

        def solve_view() -> RenderableType:
            from convcalc.solve.render import solve_view

            return solve_view(obj, shown, None)

        return (lambda: solve_document(obj, shown, None), lambda: solve_headline(obj, shown), solve_view)
    if isinstance(obj, ChainReport):
        from convcalc.chain.document import chain_document
        from convcalc.headline import chain_headline

        def chain_view() -> RenderableType:
            from convcalc.chain.render import chain_view

            return chain_view(obj, None)

        return (lambda: chain_document(obj, None), lambda: chain_headline(obj), chain_view)
    if isinstance(obj, VerifyReport):
        from convcalc.headline import verify_headline
        from convcalc.verify.document import verify_document

        def verify_view() -> RenderableType:
            from convcalc.verify.render import verify_view

            return verify_view(obj)

        return (lambda: verify_document(obj), lambda: verify_headline(obj), verify_view)
    if isinstance(obj, SweepReport):
        from convcalc.headline import sweep_headline
        from convcalc.verify.document import sweep_document

        def sweep_view() -> RenderableType:
            from convcalc.verify.render import sweep_view

            return sweep_view(obj)

        return (lambda: sweep_document(obj), lambda: sweep_headline(obj), sweep_view)
    if isinstance(obj, Translation):
        from convcalc.headline import port_headline
        from convcalc.port.document import port_document

        def port_view() -> RenderableType:
            from convcalc.port.render import port_view

            return port_view(obj, None)

        return (lambda: port_document(obj, None), lambda: port_headline(obj, None), port_view)
    raise TypeError(f"convcalc cannot present a {type(obj).__name__}")


def headline(obj: Any) -> str:
    return str(parts(obj)[1]())


def document(obj: Any) -> dict[str, Any]:
    build, line, _ = parts(obj)
    return with_headline(build(), line())
