"""How much faster `solve` is than enumerating its search space, and its time per question.

The solver derives padding and output_padding from (kernel, stride, dilation); the reference enumerates
every (k, s, d, padding, output_padding) of the same space through the core's forward formula, which is
what a solver without the algebra would do. Target: at least 10x, and under 50 ms per question.
Run: python benchmarks/solve_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from itertools import product

from convcalc.core import conv_transpose_output_size
from convcalc.errors import ConvCalcError
from convcalc.solve.answers import Bounds
from convcalc.solve.solver import solve

QUESTIONS = [((23, 40), (46, 80)), ((63,), (128,)), ((7, 7, 7), (14, 14, 14)), ((100,), (301,))]
TARGET_RATIO = 10.0
TARGET_MS = 50.0


def enumerate_space(size: tuple[int, ...], target: tuple[int, ...], bounds: Bounds) -> int:
    found = 0
    for i, o in zip(size, target):
        kernels, strides = range(1, bounds.max_kernel + 1), range(1, bounds.max_stride + 1)
        for k, s, d in product(kernels, strides, range(1, bounds.max_dilation + 1)):
            big_k = d * (k - 1) + 1
            for pb, pa, op in product(range(big_k), range(big_k), range(max(s, d))):
                if pa - pb not in (0, 1):
                    continue
                try:
                    out = conv_transpose_output_size(
                        i, k, stride=s, padding=((pb, pa),), output_padding=op, dilation=d
                    )
                except ConvCalcError:
                    continue
                found += out == o
    return found


def _median(run: Callable[..., object], repeat: int, *args: object) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bounds = Bounds()
    for size, target in QUESTIONS:
        ours = _median(lambda i, o: solve(i, o, bounds=bounds), args.repeat, size, target)
        brute = _median(enumerate_space, max(1, args.repeat // 2), size, target, bounds)
        ratio = brute / ours
        verdict = "ok" if ratio >= TARGET_RATIO and ours * 1000 <= TARGET_MS else "MISSED"
        print(
            f"{'x'.join(map(str, size))} -> {'x'.join(map(str, target))}: solve {ours * 1000:.1f} ms, "
            f"enumeration {brute * 1000:.1f} ms, ratio {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x, "
            f"<= {TARGET_MS:.0f} ms): {verdict}"
        )


if __name__ == "__main__":
    main()
