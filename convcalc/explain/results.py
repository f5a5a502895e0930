"""The results of `convcalc explain` as plain Python ints (no numpy): what the renderers and JSON read."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from convcalc.core import DirectAxis, ShapeReport
from convcalc.core.display import Presentable
from convcalc.errors import ExitCode

if TYPE_CHECKING:
    from convcalc.overlap import OverlapMap

T = TypeVar("T")


@dataclass(frozen=True)
class Grid:
    """An N-d array of integers, row-major; ``kinds`` marks each cell input / zero / pad when it matters."""

    shape: tuple[int, ...]
    values: tuple[int, ...]
    kinds: tuple[str, ...] | None = None

    def nested(self) -> list[Any]:
        """The values as nested lists, one level per axis."""
        return _nest(list(self.values), self.shape)

    @property
    def positions(self) -> list[tuple[int, ...]]:
        return list(product(*(range(n) for n in self.shape)))


def _nest(flat: list[int], shape: tuple[int, ...]) -> list[Any]:
    if len(shape) == 1:
        return flat
    step = math.prod(shape[1:])
    return [_nest(flat[n * step : (n + 1) * step], shape[1:]) for n in range(shape[0])]


@dataclass(frozen=True)
class Section(Generic[T]):
    """A section of the explanation: its content, or why it is not shown (too large to print)."""

    name: str
    content: T | None
    refusal: str | None


@dataclass(frozen=True)
class MatrixView:
    """y = C x; the transposed convolution of y is C^T y; the input gradient for g is C^T g."""

    matrix: tuple[tuple[int, ...], ...]
    input_positions: tuple[tuple[int, ...], ...]
    output_positions: tuple[tuple[int, ...], ...]
    x: Grid
    weight: Grid
    y: Grid
    output_padding: tuple[int, ...]
    transposed_of_y: Grid
    c_transpose_y: Grid
    g: Grid
    c_transpose_g: Grid
    gradient: Grid
    conv_is_c_x: bool
    transposed_is_c_transpose_y: bool
    gradient_is_c_transpose_g: bool
    transposed_of_g_is_gradient: bool

    @property
    def slip_differs(self) -> bool:
        """The classic slip: C^T y is not the gradient C^T g (unless y happens to equal g)."""
        return self.c_transpose_y.values != self.gradient.values

    @property
    def verified(self) -> bool:
        return (
            self.conv_is_c_x
            and self.transposed_is_c_transpose_y
            and self.gradient_is_c_transpose_g
            and self.transposed_of_g_is_gradient
        )


@dataclass(frozen=True)
class DirectSteps:
    """The transposed convolution of y as a direct convolution, step by step, and without the flip."""

    axes: tuple[DirectAxis, ...]
    input: Grid
    stretched: Grid
    padded: Grid
    kernel: Grid
    flipped: Grid
    output: Grid
    transposed: Grid
    unflipped: Grid
    engine_sizes_match: bool

    @property
    def equal(self) -> bool:
        return self.output == self.transposed

    @property
    def unflipped_equal(self) -> bool:
        return self.unflipped == self.transposed

    @property
    def verified(self) -> bool:
        return self.equal and self.engine_sizes_match


@dataclass(frozen=True)
class Contribution:
    """Output position j of the transposed convolution of y: the (input, tap) pairs and their sum."""

    position: tuple[int, ...]
    pairs: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    terms: tuple[tuple[int, int], ...]
    value: int


@dataclass(frozen=True)
class Contributions:
    items: tuple[Contribution, ...]
    engine: Grid

    @property
    def verified(self) -> bool:
        return tuple(c.value for c in self.items) == self.engine.values


@dataclass(frozen=True)
class Explanation:
    report: ShapeReport
    matrix: Section[MatrixView]
    direct: Section[DirectSteps]
    contributions: Section[Contributions]

    @property
    def verified(self) -> bool:
        """Every executed check agreed (sections not shown check nothing)."""
        parts = (self.matrix.content, self.direct.content, self.contributions.content)
        return all(part.verified for part in parts if part is not None)


@dataclass(frozen=True, repr=False)
class ExplainReport(Presentable):
    """What `convcalc explain` shows: the sections, the overlap map (None when not asked for or when the
    twin has no output) and the SVG files written."""

    explanation: Explanation
    overlap: OverlapMap | None = None
    written: tuple[Path, ...] = ()
    # A figure asked for without --section: the text says where it went, not every section.
    figure_only: bool = False

    presenter = "convcalc.explain.present"

    @property
    def verified(self) -> bool:
        return self.explanation.verified

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.verified else ExitCode.VERIFICATION_FAILED
