"""Sets of input sizes as periodic classes, shared by `chain` and `inspect` (one size engine's answers).

Both commands find the sizes of one axis the same way: sizes grow with the input, so the inputs that
run are exactly those from a smallest one on (``smallest``, by doubling then bisecting); past it every
size is affine in q along a class i = first + q*period, so a condition "these two sizes are equal" holds
for every q, for exactly one, or for none (``class_members``). The answer is an ``Accepted`` set: whole
classes plus single sizes, written with the smallest period that describes it (``reduce_period``).
Pure integers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from convcalc.errors import BudgetExceeded

MAX_LISTED = 10_000


@dataclass(frozen=True)
class Accepted:
    """The inputs of one axis for which a property holds: whole classes i = first + q*period, and singles."""

    period: int
    classes: tuple[int, ...]
    singles: tuple[int, ...]

    @property
    def smallest(self) -> int | None:
        firsts = [*self.classes, *self.singles]
        return min(firsts) if firsts else None

    def contains(self, size: int) -> bool:
        return size in self.singles or any(size >= c and (size - c) % self.period == 0 for c in self.classes)

    def nearest(self, size: int) -> tuple[int | None, int | None]:
        """The largest member below ``size`` and the smallest above it."""
        below = [s for s in self.singles if s < size]
        above = [s for s in self.singles if s > size]
        for c in self.classes:
            if c < size:
                below.append(c + (size - 1 - c) // self.period * self.period)
            above.append(c if c > size else c + ((size - c) // self.period + 1) * self.period)
        return (max(below) if below else None, min(above) if above else None)

    def within(self, low: int, high: int) -> tuple[int, ...]:
        """Every member in [low, high], at most MAX_LISTED of them (counted before they are built)."""
        found = {s for s in self.singles if low <= s <= high}
        starts = [c if c >= low else c + -(-(low - c) // self.period) * self.period for c in self.classes]
        count = len(found) + sum(max((high - start) // self.period + 1, 0) for start in starts)
        if count > MAX_LISTED:
            raise BudgetExceeded(
                f"the range {low}..{high} holds {count:,} accepted sizes; the limit MAX_LISTED is "
                f"{MAX_LISTED:,}: narrow the range",
                budget="MAX_LISTED",
                limit=MAX_LISTED,
                requested=count,
                parameter="range",
            )
        for start in starts:
            found.update(range(start, high + 1, self.period))
        return tuple(sorted(found))


def smallest(fails: Callable[[int], bool], limit: int) -> int | None:
    """The smallest size that does not fail, for a ``fails`` that holds up to some size and never after
    (every size rule is monotone): doubling from 1, then bisecting. None if every size up to ``limit``
    fails."""
    high = 1
    while fails(high):
        high *= 2
        if high > limit:
            return None
    low = high // 2  # fails (or is 0)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fails(mid) else (low, mid)
    return high


def class_members(gaps: Sequence[tuple[int, int]], first: int, period: int) -> tuple[bool, int | None]:
    """gap(q) = g0 + q*dg must be 0 for every condition: all q (True), one q, or none."""
    if all(dg == 0 for _, dg in gaps):
        return all(g0 == 0 for g0, _ in gaps), None
    q_values = {-g0 // dg for g0, dg in gaps if dg != 0 and g0 % dg == 0 and -g0 // dg >= 0}
    for q in sorted(q_values):
        if all(g0 + q * dg == 0 for g0, dg in gaps):
            return False, first + q * period
    return False, None


def reduce_period(accepted: Accepted) -> Accepted:
    """The same set of sizes with the smallest period that describes it (a union of classes modulo a
    divisor of the period becomes those classes)."""
    p = accepted.period
    classes, loose = list(accepted.classes), set(accepted.singles)
    for n, c in enumerate(classes):  # a single just before its class starts the class earlier
        while c - p in loose:
            loose.discard(c - p)
            c -= p
        classes[n] = c
    accepted = Accepted(p, tuple(sorted(classes)), tuple(sorted(loose)))
    if not accepted.classes:
        return Accepted(1, (), accepted.singles) if not accepted.singles else accepted
    top = max(accepted.classes) + p
    first_of: dict[int, int] = {}  # the first class of each residue: each member test is O(1)
    for c in reversed(accepted.classes):
        first_of[c % p] = c

    def contains(v: int) -> bool:
        c = first_of.get(v % p)
        return (c is not None and v >= c) or v in loose

    for d in sorted(k for k in range(1, p) if p % k == 0):
        starts: dict[int, int] = {}  # residue modulo d -> the class that starts it
        ok = True
        for c in sorted(accepted.classes):
            if c % d in starts:
                continue
            if not all(contains(v) for v in range(c, top + p, d)):
                ok = False
                break
            starts[c % d] = c
        if ok:
            singles = tuple(s for s in accepted.singles if not s >= starts.get(s % d, s + 1))
            return Accepted(d, tuple(starts.values()), singles)
    return accepted
