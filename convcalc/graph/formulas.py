"""A periodic affine size in words: ``H/8``, ``2*floor((H-1)/2)+1``, ``H+2``, ``ceil(H/4)``.

A ``Formula`` gives a size on each class i = start + q*P as slope*q + offset. Its gain (slope/P)
is the same on every class; the forms tried, in order: a constant; g*i + c (exact wherever the size is
defined); m*floor((i + c)/d) + e with d a divisor of P and m = g*d. Each form is checked against every
class at its first two members before it is shown; None when no form fits (the table and the JSON then
give the size as its number).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache

from convcalc.graph.model import SPATIAL_NAMES


@dataclass(frozen=True)
class Formula:
    """A size as a periodic affine function of an input size i: on each class i = start + q*period,
    size = slope*q + offset (``pieces``: (start, slope, offset) per class, from its first member)."""

    period: int
    pieces: tuple[tuple[int, int, int], ...]

    def at(self, size: int) -> int | None:
        for start, slope, offset in self.pieces:
            if size >= start and (size - start) % self.period == 0:
                return slope * ((size - start) // self.period) + offset
        return None

    @cached_property
    def follows(self) -> bool:
        """Whether the size follows the input's: a slope on some class, or classes that differ (worked
        out once: a model's tensors share a few formulas, ``sizes`` builds one per distinct one)."""
        return len({(a, b) for _, a, b in self.pieces}) > 1 or any(a for _, a, _ in self.pieces)

    def text(self, symbol: str) -> str | None:
        """In words: ``H/8``, ``2*floor((H-1)/2)+1``, ``H+2``, a constant; None when no short form fits."""
        return formula_text(self, symbol)


def _points(formula: Formula) -> list[tuple[int, int]]:
    points = []
    for start, slope, offset in formula.pieces:
        points.append((start, offset))
        points.append((start + formula.period, offset + slope))
    return points


def _plus(value: int | Fraction) -> str:
    if value == 0:
        return ""
    return f"+{value}" if value > 0 else f"-{-value}"


def _times(m: int | Fraction, term: str) -> str:
    if m == 1:
        return term
    if m == -1:
        return f"-{term}"
    return f"{m}*{term}"


@lru_cache(maxsize=4096)  # a model's tensors share few formulas (every layer of a level has one)
def formula_text(formula: Formula, symbol: str) -> str | None:
    points = _points(formula)
    if not points:
        return None
    slopes = {Fraction(slope, formula.period) for _, slope, _ in formula.pieces}
    if len(slopes) != 1:
        return None
    gain = slopes.pop()
    if gain == 0:
        values = {v for _, v in points}
        return str(values.pop()) if len(values) == 1 else None
    offsets: set[Fraction] = {v - gain * i for i, v in points}
    if len(offsets) == 1:
        offset = offsets.pop()
        if gain.denominator == 1:
            return _times(gain.numerator, symbol) + _plus(offset)
        scaled = (
            f"{symbol}/{gain.denominator}"
            if gain.numerator == 1
            else f"{gain.numerator}*{symbol}/{gain.denominator}"
        )
        if offset.denominator == 1:
            return scaled + _plus(offset)
        return f"({gain.numerator}*{symbol}{_plus(offset * gain.denominator)})/{gain.denominator}"
    for d in range(2, formula.period + 1):
        if formula.period % d or (gain * d).denominator != 1:
            continue
        m = int(gain * d)
        for c in sorted(range(-(d - 1), d), key=abs):
            es = {v - m * ((i + c) // d) for i, v in points}
            if len(es) == 1:
                e = es.pop()
                inner = f"{symbol}{_plus(c)}"
                return _times(m, f"floor(({inner})/{d})" if c else f"floor({symbol}/{d})") + _plus(e)
    return None


def symbols(count: int) -> tuple[str, ...]:
    """The letters of the input's spatial sizes: L; H, W; D, H, W; else i0, i1, ..."""
    return SPATIAL_NAMES.get(count, tuple(f"i{n}" for n in range(count)))


def _follows(formula: Formula | None) -> bool:
    return formula is not None and formula.follows


def shape_formulas(
    axes: Sequence[Mapping[str, tuple[Formula | None, ...]]], tensor: str, shape: Sequence[int]
) -> tuple[str, ...] | None:
    """Each axis of a tensor in words, as a function of the input's spatial sizes (``H/2``,
    ``2*floor((W-1)/2)+1``); a size that follows no input size is its number, and one that follows two
    (a flattened H*W) or fits no short form is its number for this input. None when nothing follows."""
    letters = symbols(len(axes))
    out = []
    moved = False
    for n, size in enumerate(shape):
        following: list[tuple[str, Formula]] = []
        for k, formulas in enumerate(axes):
            dims = formulas.get(tensor) or ()
            formula = dims[n] if n < len(dims) else None
            if formula is not None and _follows(formula):
                following.append((letters[k], formula))
        text = following[0][1].text(following[0][0]) if len(following) == 1 else None
        moved = moved or text is not None
        out.append(text if text is not None else str(size))
    return tuple(out) if moved else None
