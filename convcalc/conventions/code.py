"""What every convention's code snippet shares: spelled values read back, and calls written out.

A convention spells its arguments as text (``Convention.spell``); ``parse_value`` reads that text back
into Python values once (lists, numbers, strings), and ``call`` / ``py`` write a call in the framework's
own API. Each convention writes its own layer (``Convention.layer_code``) from a ``LayerCode``;
``convcalc.port.snippet`` adds the fix around it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_NOTE = re.compile(r"^(?P<value>.*?) \((?P<note>[^()]*)\)$")


@dataclass(frozen=True)
class LayerCode:
    """A layer to write as code: its spelled arguments, channels (numbers or names) and input variable."""

    ndim: int
    transposed: bool
    arguments: tuple[tuple[str, str], ...]
    output: tuple[int, ...]
    in_channels: str
    out_channels: str
    groups: int
    x: str = "x"

    def keywords(self, skip: Sequence[str] = ()) -> list[tuple[str, object]]:
        """The spelled arguments as (keyword, Python source), those that are identifiers."""
        out: list[tuple[str, object]] = []
        for name, text in self.arguments:
            if name.isidentifier() and name not in skip:
                out.append((name, py(parse_value(text)[0])))
        return out

    def argument(self, name: str) -> Any:
        """The parsed value of one spelled argument, or None."""
        for spelled, text in self.arguments:
            if spelled == name:
                return parse_value(text)[0]
        return None

    @property
    def grouped(self) -> list[tuple[str, object]]:
        return [("groups", self.groups)] if self.groups != 1 else []


def parse_value(text: str) -> tuple[Any, str | None]:
    """'(3, 3)' -> [3, 3]; "'same'" -> 'same'; '[1, 1] (before, after)' -> ([1, 1], 'before, after').

    Text that is not a Python literal stays text.

    >>> parse_value("(3, 3)"), parse_value("'same'"), parse_value("None")
    (([3, 3], None), ('same', None), (None, None))
    >>> parse_value("[1, 1, 1, 1] (before, after per axis)")
    ([1, 1, 1, 1], 'before, after per axis')
    """
    for candidate, note in ((text, None), *_split_note(text)):
        parsed, value = _literal(candidate)
        if parsed:
            if isinstance(value, (dict, set)):  # mutable beyond what _lists rebuilds: a fresh one
                value = ast.literal_eval(candidate)
            return _lists(value), note
    return text, None


@lru_cache(maxsize=4096)
def _literal(text: str) -> tuple[bool, Any]:
    """(True, the Python literal) or (False, None); remembered, as a model spells the same arguments on
    hundreds of layers (the value is rebuilt by ``_lists`` at every use, so no caller shares a list)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False, None
    return True, value


def _split_note(text: str) -> list[tuple[str, str]]:
    match = _NOTE.match(text)
    return [(match["value"], match["note"])] if match else []


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    return value


def json_value(text: str) -> Any:
    """The JSON value of a spelled argument (lists, numbers, strings, booleans, null)."""
    return parse_value(text)[0]


def call(name: str, positional: Sequence[str], keywords: Sequence[tuple[str, object]]) -> str:
    """``name(a, b, k=v)`` on one line, or one argument per line when that is longer than 56 characters."""
    items = [*positional, *(f"{k}={v}" for k, v in keywords)]
    one_line = f"{name}({', '.join(items)})"
    if len(one_line) <= 56:
        return one_line
    return f"{name}(\n" + "".join(f"    {item},\n" for item in items) + ")"


def py(value: Any) -> str:
    """A parsed value back as Python source, tuples for lists of numbers (as the frameworks spell them)."""
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return "(" + ", ".join(map(str, value)) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "(" + ", ".join(py(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)
