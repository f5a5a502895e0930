"""The engine's budgets: how much work and memory one call may ask for, checked before the work.

Every route of the engine, the fast path and the witnesses alike, checks its figures here and is
refused with ``BudgetExceeded`` (naming the budget, its limit and the amount asked) beyond them.
Setting ``convcalc.engine.MAX_WORK`` (or another limit) sets the value read here at every call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from convcalc.core import TransposedAxis
from convcalc.errors import BudgetExceeded

# About 10 s of NumPy work on one core: beyond this the user asked for a training run, not a check.
MAX_WORK = 10**10
# 2**27 elements is 1 GiB in float64 for one array; the machine must stay usable.
MAX_ELEMENTS = 2**27
# The dense matrix grows as (output positions) x (input positions): 2**22 entries is 32 MiB.
MAX_MATRIX_ELEMENTS = 2**22

LIMITS = ("MAX_WORK", "MAX_ELEMENTS", "MAX_MATRIX_ELEMENTS")


def check_budget(work: int, elements: int, *, what: str) -> None:
    """Refuse work above ``MAX_WORK`` multiply-accumulates or an array above ``MAX_ELEMENTS``."""
    if work > MAX_WORK:
        raise BudgetExceeded(
            f"{what} needs {work:,} multiply-accumulates; the engine's work budget MAX_WORK is "
            f"{MAX_WORK:,}: use smaller sizes or fewer channels",
            budget="MAX_WORK",
            limit=MAX_WORK,
            requested=work,
        )
    if elements > MAX_ELEMENTS:
        raise BudgetExceeded(
            f"{what} needs an array of {elements:,} elements; the engine's memory budget MAX_ELEMENTS "
            f"is {MAX_ELEMENTS:,}: use smaller sizes or fewer channels",
            budget="MAX_ELEMENTS",
            limit=MAX_ELEMENTS,
            requested=elements,
        )


def check_matrix_budget(rows: int, cols: int) -> None:
    """Refuse a dense convolution matrix of more than ``MAX_MATRIX_ELEMENTS`` entries."""
    if rows * cols > MAX_MATRIX_ELEMENTS:
        raise BudgetExceeded(
            f"the dense convolution matrix would have {rows:,} x {cols:,} = {rows * cols:,} entries; "
            f"the matrix route's budget MAX_MATRIX_ELEMENTS is {MAX_MATRIX_ELEMENTS:,}: use smaller "
            "sizes or fewer channels",
            budget="MAX_MATRIX_ELEMENTS",
            limit=MAX_MATRIX_ELEMENTS,
            requested=rows * cols,
        )


def transposed_figures(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], axes: Sequence[TransposedAxis], groups: int
) -> tuple[int, int]:
    """The multiply-accumulates of a transposed convolution and its largest array, for check_budget.

    Work is N * C_in * C_out/groups * taps * prod(input); the largest array holds every tap's
    contribution (N * C_out * taps * prod(input)) or the full output with the zeros of negative crops.
    """
    n, c_in = x_shape[:2]
    c_out = w_shape[1] * groups
    n_taps = math.prod(w_shape[2:])
    inputs = math.prod(a.size for a in axes)
    extent = math.prod(a.full + max(-a.crop_before, 0) + max(-a.crop_after, 0) for a in axes)
    work = n * c_in * (c_out // groups) * n_taps * inputs
    return work, max(n * c_out * n_taps * inputs, n * c_out * extent)
