"""Speed of the NumPy engine against PyTorch (when installed), and the sweep's throughput.

Targets: engine time / torch time <= 2 at verification sizes (N=1, C=1..4, 8x8) and <= 3 at the
working size (N=8, C 64 -> 32, 32x32, k=4, s=2, p=1), in float32 and float64, both libraries on the
same number of threads. Each time is the best of several repeats of a loop long enough to measure.
Run: python benchmarks/engine.py [--threads N] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

VERIFICATION_TARGET = 2.0
WORKING_TARGET = 3.0


def _threads() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for both libraries")
    parser.add_argument("--repeats", type=int, default=5, help="repeats; the best is kept")
    args = parser.parse_args()
    # The BLAS under NumPy reads these when it loads, so they are set before numpy is imported.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    global REPEATS
    REPEATS = args.repeats
    return int(args.threads)


REPEATS = 5


def best_time(call: Callable[[], Any]) -> float:
    """Seconds per call: the best of REPEATS loops, each at least ~0.1 s long."""
    call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    loops = max(1, int(0.1 / once))
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(loops):
            call()
        best = min(best, (time.perf_counter() - start) / loops)
    return best


def main() -> int:
    threads = _threads()
    import numpy as np

    from convcalc import engine
    from convcalc.verify.sweep import SweepGrid, sweep

    torch: Any
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(threads)
    version = torch.__version__ if torch is not None else "not installed"
    print(f"threads: {threads} (numpy BLAS and torch), torch: {version}")

    # (label, target, N, C_in, C_out, size, k, s, p) of the transposed convolution; its twin convolution
    # runs on the transposed output with the same weight.
    cases = [
        (f"verification C={c} 8x8 k3 s2 p1", VERIFICATION_TARGET, 1, c, c, 8, 3, 2, 1) for c in (1, 2, 4)
    ]
    cases.append(("working N=8 C 64->32 32x32 k4 s2 p1", WORKING_TARGET, 8, 64, 32, 32, 4, 2, 1))

    header = (
        f"{'case':38} {'dtype':8} {'op':15} {'engine ms':>10} {'torch ms':>10} {'ratio':>7} {'target':>7}"
    )
    print(header)
    print("-" * len(header))
    worst: dict[float, float] = {}
    rng = np.random.default_rng(0)
    for label, target, n, c_in, c_out, size, k, s, p in cases:
        for dtype in (np.float32, np.float64):
            x = rng.standard_normal((n, c_in, size, size)).astype(dtype)
            w = rng.standard_normal((c_in, c_out, k, k)).astype(dtype)
            geometry = {"stride": s, "padding": p}
            y = engine.conv_transpose(x, w, **geometry)
            runs: list[tuple[str, Callable[[], Any], Callable[[], Any] | None]] = [
                ("conv_transpose", partial(engine.conv_transpose, x, w, **geometry), None),
                ("conv", partial(engine.conv, y, w, **geometry), None),
            ]
            if torch is not None:
                functional = torch.nn.functional
                tx, tw, ty = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(y)
                runs = [
                    (runs[0][0], runs[0][1], partial(functional.conv_transpose2d, tx, tw, **geometry)),
                    (runs[1][0], runs[1][1], partial(functional.conv2d, ty, tw, **geometry)),
                ]
            for name, ours, theirs in runs:
                mine = best_time(ours)
                if theirs is None:
                    print(f"{label:38} {dtype.__name__:8} {name:15} {mine * 1e3:10.3f} {'-':>10}")
                    continue
                reference = best_time(theirs)
                ratio = mine / reference
                worst[target] = max(worst.get(target, 0.0), ratio)
                print(
                    f"{label:38} {dtype.__name__:8} {name:15} {mine * 1e3:10.3f} "
                    f"{reference * 1e3:10.3f} {ratio:7.2f} {target:7.1f}"
                )

    grid = SweepGrid()
    start = time.perf_counter()
    report = sweep(grid)
    elapsed = time.perf_counter() - start
    print()
    print(
        f"sweep (default grid): {grid.count} configurations ({report.verified} verified, "
        f"{report.skipped_total} skipped) in {elapsed:.2f} s = {grid.count / elapsed:.0f} configurations/s, "
        f"{report.verified / elapsed:.0f} verified/s"
    )
    if torch is not None:
        print()
        for target, ratio in sorted(worst.items()):
            verdict = "met" if ratio <= target else "MISSED"
            print(f"worst ratio against target {target:.0f}x: {ratio:.2f} ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
