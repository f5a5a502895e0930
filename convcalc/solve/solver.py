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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from convcalc.core import (
    conv_layer,
    dilated_kernel_size,
    normalize,
    output_padding_allowed,
    output_padding_limit,
    pytorch_crops,
    transposed_layer,
)
from convcalc.core.display import Presentable
from convcalc.core.layer import Layer
from convcalc.errors import BudgetExceeded, ConvCalcError
from convcalc.solve.coverage import (
    MAX_COUNTED_TAPS,
    even_coverage,
    reached,
    unreached_classes,
    unreached_positions,
)

if TYPE_CHECKING:
    from convcalc.port.translate import Translation

# Search budgets: the walk over (k, s, d) is max_kernel*max_stride*max_dilation steps per axis, each
# with at most max(s, d) output_paddings; combining axes multiplies the per-axis answers.
MAX_BOUND = 64
MAX_WALK = 20_000
MAX_COMBINATIONS = 2_000
MAX_ANSWERS = 100_000
NEAREST_REACH = 512
MAX_NEAREST_WORK = 50_000

Pair = tuple[int, int]


@dataclass(frozen=True)
class Bounds:
    """The search box: largest kernel_size, stride and dilation, and PyTorch's or the strict op rule."""

    max_kernel: int = 7
    max_stride: int = 4
    max_dilation: int = 2
    strict: bool = False


@dataclass(frozen=True)
class Fixed:
    """Per-axis values the user fixed (None: solve for it)."""

    kernel_size: int | None = None
    stride: int | None = None
    dilation: int | None = None
    padding: Pair | None = None
    output_padding: int | None = None


@dataclass(frozen=True)
class AxisAnswer:
    """One axis of a layer that maps ``size`` to ``output``, with why a practitioner would rank it."""

    transposed: bool
    size: int
    output: int
    kernel_size: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int
    output_padding: int

    @property
    def dilated_kernel(self) -> int:
        return dilated_kernel_size(self.kernel_size, self.dilation)

    @property
    def checkerboard_free(self) -> bool:
        """The taps m*d (m < k) fall equally often in every residue class mod s: even coverage.

        Then every output of the transposed convolution (every input of the convolution) meets the same
        number of weights; for d = 1 this is "stride divides kernel". A dilation that is a multiple of
        the stride leaves whole classes uncovered.
        """
        return even_coverage(self.kernel_size, self.stride, self.dilation)

    @property
    def symmetric(self) -> bool:
        return self.pad_before == self.pad_after

    @property
    def strict_ok(self) -> bool:
        """output_padding < stride: TensorFlow, Keras, ONNX Runtime and PyTorch's output_size= path."""
        return output_padding_allowed(self.output_padding, self.stride, self.dilation, strict=True)

    @property
    def remainder(self) -> int:
        """Convolution only: (i + pb + pa - K) mod s, the padded elements the last window never reaches."""
        if self.transposed:
            return 0
        return (self.size + self.pad_before + self.pad_after - self.dilated_kernel) % self.stride

    @property
    def dropped(self) -> int:
        """Convolution only: max(r - pad_after, 0), the real inputs (not padding) no window reaches."""
        return max(self.remainder - self.pad_after, 0)

    @property
    def unreached(self) -> int:
        """Of every ``stride`` positions, how many receive nothing (transposed) or are never read (conv)."""
        return unreached_classes(self.kernel_size, self.stride, self.dilation)

    @property
    def empty(self) -> int:
        """Exactly how many outputs receive nothing (transposed) or real inputs are never read (conv).

        Besides the unreached classes: the border that output_padding adds past the full output, the
        positions by the edges that dilated taps skip, and (conv) the inputs after the last window.
        """
        k, s, d = self.kernel_size, self.stride, self.dilation
        if self.transposed:
            full = (self.size - 1) * s + self.dilated_kernel
            hi = full - self.pad_after + self.output_padding
            return unreached_positions(self.size, k, s, d, self.pad_before, hi)
        start = self.pad_before
        return unreached_positions(self.output, k, s, d, start, start + self.size)

    @property
    def border(self) -> int:
        """The empty positions outside the unreached classes' share: gaps at the edges only."""
        if self.unreached:
            return 0
        if self.dilation == 1:  # the taps fill their reach: only output_padding can pass its end
            return max(self.output_padding - self.pad_after, 0) if self.transposed else 0
        return self._edge_empty()

    def _edge_gap(self) -> bool:
        """Does a dilated layer that reaches every class leave a position empty by an edge? (The rank's
        inner loop: read from the cached coverage without slicing it when the reach is short.)"""
        k, s, d, pb = self.kernel_size, self.stride, self.dilation, self.pad_before
        count = self.size if self.transposed else self.output
        reach = (count - 1) * s + d * (k - 1) + 1
        if reach > MAX_COUNTED_TAPS * 16:
            return self._edge_empty() > 0
        hi = reach - self.pad_after + self.output_padding if self.transposed else pb + self.size
        if self.transposed and hi > reach:
            return True
        return reached(count, k, s, d).count(0, pb, min(hi, reach)) > 0

    def _edge_empty(self) -> int:
        return self.empty if self.transposed else self.empty - self.dropped

    @property
    def rank_key(self) -> tuple[int, ...]:
        # Built once per answer (the sorts and the best-first walk read it again) and kept beside the
        # fields (functools.cached_property takes a lock per read on Python 3.11).
        try:
            return self.__dict__["_rank_key"]  # type: ignore[no-any-return]
        except KeyError:
            key = self.__dict__["_rank_key"] = self._rank()
            return key

    def _rank(self) -> tuple[int, ...]:
        # The properties it reads are spelled out for speed.
        k, s, d, op, pb, pa = (
            self.kernel_size,
            self.stride,
            self.dilation,
            self.output_padding,
            self.pad_before,
            self.pad_after,
        )
        dropped = 0 if self.transposed else max((self.size + pb + pa - d * (k - 1) - 1) % s - pa, 0)
        empty = unreached_classes(k, s, d) > 0 or (self._edge_gap() if d > 1 else self.transposed and op > pa)
        return (
            empty,
            not even_coverage(k, s, d),
            dropped != 0,
            k,
            pb != pa,
            op != 0,
            d != 1,
            not 0 <= op < s,
            s,
            pb,
            pa,
            op,
        )

    @property
    def reasons(self) -> tuple[str, ...]:
        """The rank explained, in the ranking's order; each phrase says what is good or what it costs."""
        k, s, d = self.kernel_size, self.stride, self.dilation
        if self.unreached:
            cause = f"kernel {k} < stride {s}" if d == 1 else f"dilation {d} with stride {s}"
            what = "outputs receive nothing" if self.transposed else "inputs are never read"
            out = [f"{self.unreached} of every {s} {what} ({cause})"]
        elif self.border:
            what = "output(s) receive nothing" if self.transposed else "input(s) are never read"
            if self.transposed and self.output_padding > self.pad_after:
                cause = f"output_padding {self.output_padding} adds an empty border after the last tap"
            else:
                cause = f"the taps of dilation {d} skip positions by the edge"
            out = [f"{self.border} {what} ({cause})"]
        elif self.checkerboard_free:
            out = ["even coverage"]
        elif d == 1:
            out = [f"checkerboard (stride {s} does not divide kernel {k})"]
        else:
            out = [f"checkerboard (the taps of dilation {d} fall unevenly between stride {s})"]
        if self.dropped:
            out.append(f"drops {self.dropped} input(s)")
        out.append("symmetric padding" if self.symmetric else "asymmetric padding")
        if self.transposed:
            out.append(f"output_padding {self.output_padding}")
        if self.dilation != 1:
            out.append(f"dilation {self.dilation}")
        if not self.strict_ok:
            out.append("PyTorch-only output_padding")
        return tuple(out)


@dataclass(frozen=True)
class Answer:
    """A whole layer (every axis) that maps the input size to the target."""

    axes: tuple[AxisAnswer, ...]

    @property
    def uniform(self) -> bool:
        """The same kernel_size, stride and dilation on every axis."""
        return len({(a.kernel_size, a.stride, a.dilation) for a in self.axes}) == 1

    @property
    def rank_key(self) -> tuple[int, ...]:
        keys = [a.rank_key for a in self.axes]
        # A layer that leaves positions empty is ranked after every layer that reaches them all.
        empty = int(any(a.unreached or a.border for a in self.axes))
        return (empty, int(not self.uniform), *(sum(column) for column in zip(*keys)))

    @property
    def reasons(self) -> tuple[str, ...]:
        per_axis = [a.reasons for a in self.axes]
        if all(r == per_axis[0] for r in per_axis):
            return per_axis[0]
        # Only what differs is said per axis; the shared qualities once.
        shared = [r for r in per_axis[0] if all(r in other for other in per_axis)]
        own = [f"axis {n}: {r}" for n, rs in enumerate(per_axis) for r in rs if r not in shared]
        mixed = [] if self.uniform else ["kernel, stride or dilation differ between axes"]
        return (*shared, *own, *mixed)

    def _per_axis(self, name: str) -> tuple[int, ...]:
        return tuple(getattr(a, name) for a in self.axes)

    @property
    def layer(self) -> Layer:
        """The answer as the core's canonical layer: pads, or crops (pb, pa - op) with op kept."""
        axes = self.axes
        if axes[0].transposed:
            crops = pytorch_crops(self.padding, self.output_padding)
            return Layer(
                "transposed", self.kernel_size, self.stride, self.dilation, crops, self.output_padding
            )
        return Layer("conv", self.kernel_size, self.stride, self.dilation, self.padding, (0,) * len(axes))

    @property
    def kernel_size(self) -> tuple[int, ...]:
        return self._per_axis("kernel_size")

    @property
    def stride(self) -> tuple[int, ...]:
        return self._per_axis("stride")

    @property
    def dilation(self) -> tuple[int, ...]:
        return self._per_axis("dilation")

    @property
    def padding(self) -> tuple[Pair, ...]:
        return tuple((a.pad_before, a.pad_after) for a in self.axes)

    @property
    def output_padding(self) -> tuple[int, ...]:
        return self._per_axis("output_padding")


@dataclass(frozen=True)
class Nearest:
    """When an axis has no answer: the closest reachable outputs and the closest inputs that work."""

    axis: int
    size: int
    target: int
    below: AxisAnswer | None
    above: AxisAnswer | None
    smaller_input: AxisAnswer | None
    larger_input: AxisAnswer | None
    other_kind: AxisAnswer | None


@dataclass(frozen=True)
class FrameworkAnswers:
    """`solve --framework X`: the shown answers X expresses exactly, in X's arguments; how many it cannot."""

    name: str
    translations: tuple[Translation, ...]
    dropped: int


@dataclass(frozen=True, repr=False)
class SolveReport(Presentable):
    """Every answer within bounds, best first; when there is none, what is nearest.

    What the command shows is part of the result: the first ``top`` answers (every one when None),
    their execution checks when asked for, and those answers in a framework's arguments.
    """

    transposed: bool
    size: tuple[int, ...]
    target: tuple[int, ...]
    bounds: Bounds
    fixed: tuple[Fixed, ...]
    answers: tuple[Answer, ...]
    mixed: bool
    omitted: int
    nearest: tuple[Nearest, ...] = field(default=())
    top: int | None = 10
    verified: tuple[bool, ...] | None = None
    framework: FrameworkAnswers | None = None

    presenter = "convcalc.solve.present"

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def shown(self) -> tuple[Answer, ...]:
        """The answers the command shows: the first ``top``, or all."""
        return self.answers if self.top is None else self.answers[: self.top]


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
            "output_padding belongs to a transposed convolution; drop it or drop --conv",
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
                f"{MAX_ANSWERS:,} per axis: fix --output-padding or --padding, or lower the bounds or the "
                "fixed stride/dilation (each allows output_padding up to max(stride, dilation) - 1)",
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
