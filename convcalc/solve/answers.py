"""What solve answers: the search box, the fixed values, one axis's answer ranked, a whole layer, the
nearest reachable sizes when there is none, and the report the command presents.

Each answer explains its own rank (``rank_key``, ``reasons``) from the coverage arithmetic in
``solve/coverage.py``; the search that finds them is ``solve/solver.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from convcalc.core import dilated_kernel_size, output_padding_allowed, pytorch_crops
from convcalc.core.display import Presentable
from convcalc.core.layer import Layer
from convcalc.errors import ExitCode
from convcalc.solve.coverage import (
    MAX_COUNTED_TAPS,
    even_coverage,
    reached,
    unreached_classes,
    unreached_positions,
)

if TYPE_CHECKING:
    from convcalc.port.translate import Translation

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
    def exit_code(self) -> ExitCode:
        """1 when an answer's execution check (``solve --verify``) disagrees."""
        failed = self.verified is not None and not all(self.verified)
        return ExitCode.VERIFICATION_FAILED if failed else ExitCode.OK

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def shown(self) -> tuple[Answer, ...]:
        """The answers the command shows: the first ``top``, or all."""
        return self.answers if self.top is None else self.answers[: self.top]
