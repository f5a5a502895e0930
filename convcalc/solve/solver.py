"""The inverse question: which layer maps an input size to the output size you need.

For fixed kernel_size k, stride s and dilation d the padding and output_padding follow from the size
formulas, so the solver walks (k, s, d) within bounds and derives the rest; nothing is enumerated
blindly. Every answer is re-checked through the core (``conv_axes_for`` / ``transposed_axes_for``).

The search space, per axis (so that "every answer within bounds" has a precise meaning):

- ``1 <= k <= max_kernel``, ``1 <= s <= max_stride``, ``1 <= d <= max_dilation`` (``d > 1`` only when
  ``k > 1``: a 1-wide kernel has nothing to dilate);
- padding at most ``K - 1 = d*(k-1)`` on each side: beyond it a convolution window sees only zeros, and
  a transposed convolution throws away whole inputs;
- padding symmetric, or ``(p, p+1)`` with the extra element at the end (TensorFlow's 'same' split);
- transposed: ``output_padding < max(s, d)`` (PyTorch's rule; ``< s`` with ``strict``), and the
  asymmetric crop only with ``output_padding = 0`` (with it, it is the same as a symmetric answer).

A value the user fixes replaces its bound (and a fixed padding may be any pair).

Budgets, checked before anything is built: the answers of each (k, s, d) are counted from their
formulas (a fixed dilation of 10**6 allows 10**6 output_paddings; they are never walked one by one),
at most ``MAX_ANSWERS`` per axis; the answers combined across axes are counted as a product and only
the best ``MAX_COMBINATIONS`` are built (best-first, so the ones listed are exactly the best); the
search for the nearest reachable sizes takes at most ``MAX_NEAREST_WORK`` steps.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from convcalc.core import (
    conv_layer,
    dilated_kernel_size,
    normalize,
    output_padding_limit,
    transposed_layer,
)
from convcalc.errors import BudgetExceeded, ConvCalcError, option
from convcalc.solve.answers import (
    Answer,
    AxisAnswer,
    Bounds,
    Fixed,
    Nearest,
    Pair,
    SolveReport,
)

# Search budgets: the walk over (k, s, d) is max_kernel*max_stride*max_dilation steps per axis, each
# with at most max(s, d) output_paddings; combining axes multiplies the per-axis answers.
MAX_BOUND = 64
MAX_WALK = 20_000
MAX_COMBINATIONS = 2_000
MAX_ANSWERS = 100_000
NEAREST_REACH = 512
MAX_NEAREST_WORK = 50_000

# ---------------------------------------------------------------------------------------------------
# One axis.


def _values(fixed: int | None, bound: int) -> range:
    return range(fixed, fixed + 1) if fixed is not None else range(1, bound + 1)


def _triples(fixed: Fixed, bounds: Bounds) -> Iterator[tuple[int, int, int]]:
    for k in _values(fixed.kernel_size, bounds.max_kernel):
        for s in _values(fixed.stride, bounds.max_stride):
            for d in _values(fixed.dilation, bounds.max_dilation):
                if d > 1 and k == 1 and fixed.dilation is None:
                    continue
                yield k, s, d


@dataclass(frozen=True)
class _Pads:
    """The (pad_before, pad_after, output_padding) of one (k, s, d), counted without being built.

    ``values`` is a range (of output_paddings, or of total paddings for a convolution) that ``make``
    turns into one triple each; ``extra`` lists the few answers outside that range.
    """

    values: range
    make: Callable[[int], tuple[int, int, int]]
    extra: tuple[tuple[int, int, int], ...] = ()

    @property
    def count(self) -> int:
        """How many triples, by arithmetic: len() of a range is capped at sys.maxsize, a count is not."""
        r = self.values
        return max((r.stop - r.start + r.step - 1) // r.step, 0) + len(self.extra)

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        yield from map(self.make, self.values)
        yield from self.extra


def _none(_: int) -> tuple[int, int, int]:
    raise AssertionError("an empty range has nothing to make")  # pragma: no cover


def _transposed_pads(size: int, target: int, k: int, s: int, d: int, fixed: Fixed, strict: bool) -> _Pads:
    """o = (i-1)*s + K - pb - pa + op: for fixed k, s, d the crops total T = full - o, so 2p - op = T.

    Symmetric: op has the parity of T, 0 <= p = (T + op)/2 <= K - 1 and op below its limit, a range of
    step 2; asymmetric (p, p+1): T odd and op = 0.
    """
    big_k = dilated_kernel_size(k, d)
    total = (size - 1) * s + big_k - target
    op_limit = output_padding_limit(s, d, strict=strict)
    if fixed.padding is not None:
        pb, pa = fixed.padding
        op = target - ((size - 1) * s + big_k - pb - pa)
        fits = 0 <= op < op_limit and fixed.output_padding in (None, op)
        return _Pads(range(0), _none, ((pb, pa, op),) if fits else ())
    low, high = max(0, -total), min(op_limit - 1, 2 * (big_k - 1) - total)
    if fixed.output_padding is not None:
        low, high = max(low, fixed.output_padding), min(high, fixed.output_padding)
    low += (low - total) % 2

    def symmetric(op: int) -> tuple[int, int, int]:
        return (total + op) // 2, (total + op) // 2, op

    asymmetric = total % 2 == 1 and fixed.output_padding in (None, 0) and 0 <= total // 2 <= big_k - 2
    extra = ((total // 2, total // 2 + 1, 0),) if asymmetric else ()
    return _Pads(range(low, max(high + 1, low), 2), symmetric, extra)


def _conv_pads(size: int, target: int, k: int, s: int, d: int, fixed: Fixed) -> _Pads:
    """o = floor((i + P - K)/s) + 1 holds exactly for P in [(o-1)*s + K - i, (o-1)*s + K - i + s - 1]."""
    big_k = dilated_kernel_size(k, d)
    low = (target - 1) * s + big_k - size
    if fixed.padding is not None:
        pb, pa = fixed.padding
        return _Pads(range(0), _none, ((pb, pa, 0),) if low <= pb + pa <= low + s - 1 else ())
    first, last = max(low, 0), min(low + s - 1, 2 * (big_k - 1))
    return _Pads(range(first, max(last + 1, first)), lambda total: (total // 2, total - total // 2, 0))


def _checked(answer: AxisAnswer) -> AxisAnswer:
    """Re-derive the output through the core; a disagreement is a bug in the solver, never the user's."""
    pads = ((answer.pad_before, answer.pad_after),)
    common = {"stride": answer.stride, "padding": pads, "dilation": answer.dilation}
    if answer.transposed:
        got = transposed_layer(
            answer.size, answer.kernel_size, output_padding=answer.output_padding, **common
        )[0].output
    else:
        got = conv_layer(answer.size, answer.kernel_size, **common)[0].output
    assert got == answer.output, (answer, got)
    return answer


def _pads(
    size: int, target: int, k: int, s: int, d: int, transposed: bool, fixed: Fixed, strict: bool
) -> _Pads:
    if transposed:
        return _transposed_pads(size, target, k, s, d, fixed, strict)
    return _conv_pads(size, target, k, s, d, fixed)


def count_axis(size: int, target: int, *, transposed: bool, bounds: Bounds, fixed: Fixed) -> int:
    """How many answers ``solve_axis`` would return, counted from the formulas without building them."""
    return sum(
        _pads(size, target, k, s, d, transposed, fixed, bounds.strict).count
        for k, s, d in _triples(fixed, bounds)
    )


def solve_axis(size: int, target: int, *, transposed: bool, bounds: Bounds, fixed: Fixed) -> list[AxisAnswer]:
    """Every (k, s, d, padding, output_padding) in the search space giving exactly ``target``, best first.

    Derived, not yet checked: ``solve`` re-checks every answer it returns through the core.
    """
    answers = [
        AxisAnswer(transposed, size, target, k, s, d, pb, pa, op)
        for k, s, d in _triples(fixed, bounds)
        for pb, pa, op in _pads(size, target, k, s, d, transposed, fixed, bounds.strict)
    ]
    answers.sort(key=lambda a: a.rank_key)
    return answers


# ---------------------------------------------------------------------------------------------------
# Validation at the boundary.


def _per_axis(name: str, value: object, ndim: int, minimum: int) -> tuple[int | None, ...]:
    if value is None:
        return (None,) * ndim
    if isinstance(value, (str, bytes)) or not isinstance(value, (int, tuple, list)):
        raise ConvCalcError(f"{name} must be an integer or one per axis; got {value!r}", parameter=name)
    values = (value,) if isinstance(value, int) else tuple(value)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConvCalcError(f"{name} must be an integer; got {v!r}", parameter=name)
    if len(values) not in (1, ndim):
        raise ConvCalcError(
            f"{name} has {len(values)} axes but the size has {ndim}; give one value or one per axis",
            parameter=name,
        )
    if any(v < minimum for v in values):
        raise ConvCalcError(f"{name} must be >= {minimum} on every axis; got {values}", parameter=name)
    return values * ndim if len(values) == 1 else values


def _padding_per_axis(value: object, ndim: int) -> tuple[Pair | None, ...]:
    if value is None:
        return (None,) * ndim
    if isinstance(value, str):
        raise ConvCalcError(
            f"padding must be numbers or before:after pairs when solving; got {value!r} (a mode "
            "such as 'same' leaves nothing to solve for)",
            parameter="padding",
        )
    _, params = normalize(1, 1, padding=value)
    pairs = params.pads_for([1] * params.ndim)
    if len(pairs) not in (1, ndim):
        raise ConvCalcError(
            f"padding has {len(pairs)} axes but the size has {ndim}; give one value or one per axis",
            parameter="padding",
        )
    return tuple(pairs) * ndim if len(pairs) == 1 else tuple(pairs)


def _check_bounds(bounds: Bounds) -> None:
    for name in ("max_kernel", "max_stride", "max_dilation"):
        value = getattr(bounds, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BOUND:
            raise ConvCalcError(
                f"{name} must be an integer from 1 to {MAX_BOUND}; got {value!r}", parameter=name
            )
    walk = bounds.max_kernel * bounds.max_stride * bounds.max_dilation
    if walk > MAX_WALK:
        raise ConvCalcError(
            f"the search box max_kernel*max_stride*max_dilation must be at most {MAX_WALK}; got {walk} "
            f"({bounds.max_kernel}*{bounds.max_stride}*{bounds.max_dilation}): fix some values or lower "
            "a bound",
            parameter="max_kernel",
        )


# ---------------------------------------------------------------------------------------------------
# The whole layer.


def _best_products(groups: Sequence[Sequence[Sequence[AxisAnswer]]], limit: int) -> list[Answer]:
    """The ``limit`` best answers, best first, among the products of each group's per-axis lists.

    Each per-axis list is sorted by rank; an answer's rank adds its axes' rank keys column by column,
    and adding a vector keeps lexicographic order, so moving one axis down its list never improves an
    answer. A best-first walk over the index tuples therefore yields the answers in rank order and
    builds only ``limit`` of them (plus their frontier), however large the product.
    """
    heap: list[tuple[tuple[int, ...], int, tuple[int, ...], Answer]] = []
    seen: set[tuple[int, tuple[int, ...]]] = set()

    def push(group: int, index: tuple[int, ...]) -> None:
        lists = groups[group]
        if (group, index) in seen or any(i >= len(lst) for i, lst in zip(index, lists)):
            return
        seen.add((group, index))
        answer = Answer(tuple(lst[i] for i, lst in zip(index, lists)))
        heapq.heappush(heap, (answer.rank_key, group, index, answer))

    for n, lists in enumerate(groups):
        if all(lists):
            push(n, (0,) * len(lists))
    best: list[Answer] = []
    while heap and len(best) < limit:
        _, group, index, answer = heapq.heappop(heap)
        best.append(answer)
        for axis in range(len(index)):
            push(group, (*index[:axis], index[axis] + 1, *index[axis + 1 :]))
    return best


def _combine(per_axis: list[list[AxisAnswer]]) -> tuple[list[Answer], bool, int]:
    """Answers with the same (k, s, d) on every axis; only when there is none, the mixed products.

    Counted first (a product of list lengths); at most MAX_COMBINATIONS are built, the best ones, and
    the rest are reported as omitted.
    """
    if len(per_axis) == 1:
        return (
            [Answer((a,)) for a in per_axis[0][:MAX_COMBINATIONS]],
            False,
            max(len(per_axis[0]) - MAX_COMBINATIONS, 0),
        )
    by_triple: list[dict[tuple[int, int, int], list[AxisAnswer]]] = []
    for answers in per_axis:
        groups: dict[tuple[int, int, int], list[AxisAnswer]] = {}
        for a in answers:
            groups.setdefault((a.kernel_size, a.stride, a.dilation), []).append(a)
        by_triple.append(groups)
    common = sorted(set(by_triple[0]).intersection(*by_triple[1:]))
    if common:
        chosen = [[g[t] for g in by_triple] for t in common]
        mixed = False
    else:
        chosen = [per_axis]
        mixed = True
    total = sum(math.prod(len(lst) for lst in lists) for lists in chosen)
    best = _best_products(chosen, MAX_COMBINATIONS)
    return best, mixed, total - len(best)


def _recheck(answer: Answer) -> None:
    """The N-d answer through the core in one call, as a user would pass it to PyTorch."""
    sizes = tuple(a.size for a in answer.axes)
    common = {"stride": answer.stride, "padding": answer.padding, "dilation": answer.dilation}
    if answer.axes[0].transposed:
        outputs = tuple(
            a.output
            for a in transposed_layer(
                sizes, answer.kernel_size, output_padding=answer.output_padding, **common
            )
        )
    else:
        outputs = tuple(a.output for a in conv_layer(sizes, answer.kernel_size, **common))
    assert outputs == tuple(a.output for a in answer.axes), answer


def _nearest(axis: int, size: int, target: int, transposed: bool, bounds: Bounds, fixed: Fixed) -> Nearest:
    """The closest reachable output on each side, the closest inputs reaching the target, the other kind."""

    def best(i: int, o: int, kind: bool = transposed) -> AxisAnswer | None:
        if i < 1 or o < 1:
            return None  # walked off the bottom: nothing smaller exists
        answers = solve_axis(i, o, transposed=kind, bounds=bounds, fixed=fixed)
        return _checked(answers[0]) if answers else None

    # Each step solves one axis over the whole search box: bound the walk by its total work.
    steps = sum(1 for _ in _triples(fixed, bounds))
    reach = min(NEAREST_REACH, MAX_NEAREST_WORK // (4 * steps))

    def walk(step: int, vary_input: bool) -> AxisAnswer | None:
        for delta in range(1, reach + 1):
            found = best(size + step * delta, target) if vary_input else best(size, target + step * delta)
            if found is not None:
                return found
        return None

    return Nearest(
        axis=axis,
        size=size,
        target=target,
        below=walk(-1, vary_input=False),
        above=walk(+1, vary_input=False),
        smaller_input=walk(-1, vary_input=True),
        larger_input=walk(+1, vary_input=True),
        other_kind=None if fixed.output_padding is not None else best(size, target, not transposed),
    )


def solve(
    size: object,
    target: object,
    *,
    transposed: bool = True,
    bounds: Bounds | None = None,
    kernel_size: object = None,
    stride: object = None,
    dilation: object = None,
    padding: object = None,
    output_padding: object = None,
) -> SolveReport:
    """Every layer within bounds mapping ``size`` to ``target`` exactly, best first, each checked by the core.

    >>> report = solve(23, 46, kernel_size=4, stride=2, dilation=1)
    >>> [(a.padding, a.output_padding) for a in report.answers]
    [(((1, 1),), (0,))]
    """
    bounds = bounds or Bounds()
    sizes, _ = normalize(size, 1)
    ndim = len(sizes)
    targets = tuple(t for t in _per_axis("target", target, ndim, 1) if t is not None)
    _check_bounds(bounds)
    if not transposed and output_padding is not None:
        raise ConvCalcError(
            f"output_padding belongs to a transposed convolution; drop it or drop {option('conv', True)}",
            parameter="output_padding",
        )
    ks = _per_axis("kernel_size", kernel_size, ndim, 1)
    ss = _per_axis("stride", stride, ndim, 1)
    ds = _per_axis("dilation", dilation, ndim, 1)
    ops = _per_axis("output_padding", output_padding, ndim, 0)
    pads = _padding_per_axis(padding, ndim)
    fixed = tuple(Fixed(*values) for values in zip(ks, ss, ds, pads, ops))

    for n, (i, o, f) in enumerate(zip(sizes, targets, fixed)):
        count = count_axis(i, o, transposed=transposed, bounds=bounds, fixed=f)
        if count > MAX_ANSWERS:
            raise BudgetExceeded(
                f"solve finds {count:,} answers on axis {n} ({i} -> {o}); it lists at most MAX_ANSWERS = "
                f"{MAX_ANSWERS:,} per axis: fix {option('output_padding')} or {option('padding')}, or "
                "lower the bounds or the fixed stride/dilation (each allows output_padding up to "
                "max(stride, dilation) - 1)",
                budget="MAX_ANSWERS",
                limit=MAX_ANSWERS,
                requested=count,
                parameter="output_padding",
            )
    per_axis = [
        solve_axis(i, o, transposed=transposed, bounds=bounds, fixed=f)
        for i, o, f in zip(sizes, targets, fixed)
    ]
    if not all(per_axis):
        nearest = tuple(
            _nearest(n, i, o, transposed, bounds, f)
            for n, (i, o, f, answers) in enumerate(zip(sizes, targets, fixed, per_axis))
            if not answers
        )
        return SolveReport(transposed, sizes, targets, bounds, fixed, (), False, 0, nearest)
    answers, mixed, omitted = _combine(per_axis)
    answers.sort(key=lambda a: a.rank_key)
    for answer in answers:
        _recheck(answer)
    return SolveReport(transposed, sizes, targets, bounds, fixed, tuple(answers), mixed, omitted)
