"""`convcalc solve --verify`: execute each proposed layer in the NumPy engine, by two routes.

1. The engine's layer (``conv`` / ``conv_transpose``, PyTorch's arguments) has exactly the target shape.
2. Transposed answers: the engine's col2im route equals its scatter route (the definition) run on the
   core's canonical crops.
3. The adjoint identity <conv(x), y> = <x, conv_transpose(y)> holds between the engine's two layers
   (skipped only for PyTorch-only output_padding >= stride, whose convolution twin is one longer).

Values agree by the one rule of ``verdict``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from convcalc import engine
from convcalc.errors import ConvCalcError
from convcalc.solve.answers import Answer
from convcalc.verdict import agrees

# Multiply-accumulates one verification may cost (three engine runs per answer).
MAX_WORK = 20_000_000


def _budget(answer: Answer) -> None:
    sizes = [max(a.size, a.output) for a in answer.axes]
    work = math.prod(sizes) * math.prod(answer.kernel_size)
    if work > MAX_WORK:
        raise ConvCalcError(
            f"--verify would take about {work:,} multiply-accumulates per answer (size "
            f"{'x'.join(map(str, sizes))}, kernel {'x'.join(map(str, answer.kernel_size))}); the limit is "
            f"{MAX_WORK:,}: verify a smaller size with the same remainders mod the stride",
            parameter="verify",
        )


def _identity_holds(sides: tuple[float, float]) -> bool:
    """The two sides of the adjoint identity, by the agreement rule (the first is the reference)."""
    left, right = sides
    return agrees(abs(right - left), abs(left))


def verify_answer(answer: Answer, seed: int = 0) -> bool:
    """Run the answer in the engine: target shape, a second route, and the adjoint identity."""
    _budget(answer)
    rng = np.random.default_rng(seed)
    sizes = tuple(a.size for a in answer.axes)
    target = tuple(a.output for a in answer.axes)
    w = rng.integers(-3, 4, size=(1, 1, *answer.kernel_size)).astype(np.float64)
    given = rng.integers(-3, 4, size=(1, 1, *sizes)).astype(np.float64)
    common: dict[str, Any] = {"stride": answer.stride, "padding": answer.padding, "dilation": answer.dilation}
    if not answer.axes[0].transposed:
        out = engine.conv(given, w, **common)
        if tuple(out.shape[2:]) != target:
            return False
        y = rng.integers(-3, 4, size=out.shape).astype(np.float64)
        remainders = tuple(a.remainder for a in answer.axes)
        return _identity_holds(engine.adjoint_identity(given, y, w, output_padding=remainders, **common))
    out = engine.conv_transpose(given, w, output_padding=answer.output_padding, **common)
    if tuple(out.shape[2:]) != target:
        return False
    # The definition on the answer's canonical layer (crops), against PyTorch's arguments above.
    scatter = engine.transpose_scatter(given, w, **engine.layer_geometry(answer.layer))
    if not agrees(engine.max_abs_error(out, scatter), engine.max_abs(scatter)):
        return False
    if not all(a.strict_ok for a in answer.axes):
        return True
    x = rng.integers(-3, 4, size=out.shape).astype(np.float64)
    return _identity_holds(
        engine.adjoint_identity(x, given, w, output_padding=answer.output_padding, **common)
    )
