"""Parse the command line's compact forms: sizes `32x32`, per-axis values `2x1`, padding `1:2x0`.

Every integer convcalc reads from text goes through ``parse_int``: ASCII digits only (``str.isdigit``
and ``int()`` also take Unicode digits such as ``²``, ``①``, ``፩`` or ``٣``; convcalc refuses them rather
than guess), an optional sign, and at most ``MAX_DIGITS`` digits, so that no number convcalc reads or
derives reaches Python's 4,300-digit limit on printing integers.
"""

from __future__ import annotations

import re

from convcalc.core import PADDING_MODES, Pairs
from convcalc.errors import ConvCalcError

MAX_DIGITS = 100
_LIMIT = 10**MAX_DIGITS
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _shown(text: str) -> str:
    """The value as a message quotes it: long texts cut, so that a message stays one paragraph."""
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text):,} characters)"


def check_digits(name: str, value: int) -> int:
    """Refuse an integer of more than MAX_DIGITS digits (from text, a file or a library call).

    >>> check_digits("in_channels", 64)
    64
    """
    if abs(value) >= _LIMIT:
        digits = "more than 4,300" if value.bit_length() > 14_000 else f"{len(str(abs(value))):,}"
        raise ConvCalcError(
            f"{name} may have at most {MAX_DIGITS} digits; got a number of {digits} digits",
            parameter=name,
        )
    return value


def parse_int(name: str, text: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """One integer: an optional sign and the ASCII digits 0-9, at most MAX_DIGITS of them.

    >>> parse_int("groups", " +2 "), parse_int("seed", "0", minimum=0)
    (2, 0)
    """
    token = text.strip()
    body = token.lstrip("+-")
    if _INTEGER.fullmatch(token) is None:
        _refuse_unicode_digits(name, text)
        raise ConvCalcError(f"{name} must be a whole number; got {_shown(text)}", parameter=name)
    if len(body) > MAX_DIGITS:
        raise ConvCalcError(
            f"{name} may have at most {MAX_DIGITS} digits; got a number of {len(body):,} digits",
            parameter=name,
        )
    value = int(token)
    if minimum is not None and value < minimum:
        raise ConvCalcError(f"{name} must be >= {minimum}; got {value}", parameter=name)
    if maximum is not None and value > maximum:
        raise ConvCalcError(f"{name} must be <= {maximum}; got {value}", parameter=name)
    return value


def check_seed(seed: object) -> int:
    """A seed of numpy's generators as convcalc uses them: an integer from 0 to 2**63 - 1 (verify,
    sweep and port --verify share the rule)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConvCalcError(f"seed must be an integer from 0 to 2**63 - 1; got {seed!r}", parameter="seed")
    return seed


def _refuse_unicode_digits(name: str, text: str) -> None:
    if any(c.isnumeric() for c in text) and not text.isascii():
        raise ConvCalcError(
            f"{name} must be written with the ASCII digits 0-9 (not Unicode digits such as '²' or "
            f"'٣'); got {_shown(text)}",
            parameter=name,
        )


def _parse_int(name: str, token: str, text: str) -> int:
    if _INTEGER.fullmatch(token.strip()) is None:
        _refuse_unicode_digits(name, text)
        raise ConvCalcError(
            f"{name} must be whole numbers joined by 'x' (for example 32x32); got {_shown(text)}",
            parameter=name,
        )
    return parse_int(name, token)


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
        if stripped and re.fullmatch(r"[0-9x+-]+", stripped) is None:
            _refuse_unicode_digits(name, text)
            raise ConvCalcError(
                f"{name} must be a number, numbers joined by 'x', before:after pairs (1:2) or one "
                f"of {', '.join(PADDING_MODES)}; got {_shown(text)}",
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
                f"{name} takes before:after pairs per axis, like 1:2x0:1; got {_shown(text)}",
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
