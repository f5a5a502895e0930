"""How a result object shows itself in Python and in a notebook, without the core importing rich.

`Presentable` gives a result object (ShapeReport, SolveReport, ChainReport, VerifyReport, SweepReport,
Translation) a readable repr (its one-line answer), `to_dict()` (the command's JSON document, equal to
`--json`), `__rich__` (the command's tables) and `_repr_html_` (those tables in a notebook). Every method
imports `convcalc.present` when called, so the core stays pure and `import convcalc` stays light.
"""

from __future__ import annotations

from typing import Any


class Presentable:
    """A mixin for frozen result dataclasses (declared with ``repr=False`` so this repr is used)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of the command that makes this result, exactly as ``--json`` prints it."""
        from convcalc.present import document

        return document(self)

    @property
    def headline(self) -> str:
        """The one-line answer the command prints first."""
        from convcalc.present import headline

        return headline(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.headline}>"

    def __rich__(self) -> Any:
        from convcalc.present.render import view

        return view(self)

    def _repr_html_(self) -> str:
        from convcalc.present.render import html

        return html(self)
