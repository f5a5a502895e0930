"""Parse the command line's compact forms: sizes `32x32`, per-axis values `2x1`, padding `1:2x0`."""

from __future__ import annotations

from convcalc.core import PADDING_MODES, Pairs
from convcalc.errors import ConvCalcError

# Python refuses int() of strings longer than this many digits; say so in our own words.
_MAX_DIGITS = 100


def _parse_int(name: str, token: str, text: str) -> int:
    token = token.strip()
    body = token[1:] if token[:1] in "+-" else token
    if not body.isdigit() or len(body) > _MAX_DIGITS:
        raise ConvCalcError(
            f"{name} must be whole numbers joined by 'x' (for example 32x32); got {text!r}",
            parameter=name,
        )
    return int(token)


def parse_ints(name: str, text: str) -> int | tuple[int, ...]:
    """`7` -> 7, `32x32` -> (32, 32); a single value stays a scalar so that it broadcasts.

    >>> parse_ints("size", "16x16x8")
    (16, 16, 8)
    """
    tokens = text.lower().split("x")
    values = tuple(_parse_int(name, t, text) for t in tokens)
    return values[0] if len(values) == 1 else values


def parse_padding(text: str, name: str = "padding") -> str | int | Pairs | tuple[int, ...]:
    """A mode (`same`, `valid`, `full`), `1`, `1x2` per axis, or `1:2` (before:after) per axis.

    >>> parse_padding("1:2x0")
    ((1, 2), (0, 0))
    """
    stripped = text.strip().lower()
    if stripped in PADDING_MODES:
        return stripped
    if ":" not in stripped:
        if stripped and not stripped.replace("x", "").replace("-", "").replace("+", "").isdigit():
            raise ConvCalcError(
                f"{name} must be a number, numbers joined by 'x', before:after pairs (1:2) or one "
                f"of {', '.join(PADDING_MODES)}; got {text!r}",
                parameter=name,
            )
        return parse_ints(name, text)
    pairs = []
    for token in stripped.split("x"):
        parts = token.split(":")
        if len(parts) == 1:
            value = _parse_int(name, parts[0], text)
            pairs.append((value, value))
        elif len(parts) == 2:
            pairs.append((_parse_int(name, parts[0], text), _parse_int(name, parts[1], text)))
        else:
            raise ConvCalcError(
                f"{name} takes before:after pairs per axis, like 1:2x0:1; got {text!r}",
                parameter=name,
            )
    return tuple(pairs)


def parse_framework_padding(text: str) -> str | int | Pairs | tuple[int, ...]:
    """A framework's padding word (same_upper, causal, ...) kept as a word, else as parse_padding reads it.

    >>> parse_framework_padding("SAME_LOWER"), parse_framework_padding("1:0")
    ('same_lower', ((1, 0),))
    """
    word = text.strip().lower()
    if word.replace("_", "").isalpha():
        return word
    return parse_padding(text)
