"""How a result object shows itself in Python and in a notebook, without the core importing rich.

Every result object (ShapeReport, VerifyReport, SweepReport, Explained, SolveReport, ChainReport,
Translation, FrameworkShape, InspectReport) names its feature's presentation module in ``presenter``.
That module holds three functions of the result, the same three for every feature: ``document`` (the
JSON document, without its headline), ``render`` (the Rich tables) and ``headline`` (the one-line
answer). `Presentable` turns them into a repr (the headline), ``to_dict()`` (equal to ``--json``),
``__rich__`` and ``_repr_html_``; the CLI prints a result through the same methods. The module is
imported by name when a method is called, so the core imports no feature and ``import convcalc`` stays
light.
"""

from __future__ import annotations

import importlib
from typing import Any

from convcalc.errors import ExitCode


def with_headline(document: dict[str, Any], headline: str) -> dict[str, Any]:
    """The document with ``headline`` right after ``schema_version`` and ``command``."""
    head: dict[str, Any] = {key: document[key] for key in ("schema_version", "command") if key in document}
    return {**head, "headline": headline, **{k: v for k, v in document.items() if k not in head}}


class Presentable:
    """A mixin for frozen result dataclasses (declared with ``repr=False`` so that this repr is used)."""

    __slots__ = ()
    presenter = ""  # e.g. "convcalc.chain.present": its document, render and headline take this result

    def _presentation(self) -> Any:
        return importlib.import_module(self.presenter)

    @property
    def exit_code(self) -> ExitCode:
        """The command's exit code for this result: 1 where a result says a check disagrees (each
        feature's own rule), else 0. Every document carries it as ``exit_code``."""
        return ExitCode.OK

    def headline(self) -> str:
        """The one-line answer the command prints first."""
        return str(self._presentation().headline(self))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of the command that makes this result, exactly as ``--json`` prints it."""
        presentation = self._presentation()
        document = with_headline(presentation.document(self), presentation.headline(self))
        if "exit_code" in document:  # a feature that places it itself (inspect, diff, chain)
            return document
        head: dict[str, Any] = {
            k: document[k] for k in ("schema_version", "command", "headline") if k in document
        }
        return {
            **head,
            "exit_code": int(self.exit_code),
            **{k: v for k, v in document.items() if k not in head},
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.headline()}>"

    def __rich__(self) -> Any:
        """The headline, then the command's tables, fitted to the width they are printed at."""
        from convcalc.render import headed

        presentation = self._presentation()
        return headed(presentation.headline(self), presentation.render(self))

    def _repr_html_(self) -> str:
        from convcalc.render import html

        return html(self.__rich__())
