"""Start-up cost of `convcalc shape` against `python -c "import typer"` on this machine.

Targets: `shape ... --json` at most 1.25x; `shape ...` with its tables (rich) at most 1.5x. All
commands run as fresh processes and the medians are compared. Bytecode caching is allowed (the
PYTHONDONTWRITEBYTECODE variable is dropped), as on a user's machine where pip compiles the installed
package; the warm-up runs write the caches.
Run: python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 1.25
TABLE_TARGET = 1.5


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()

    script = Path(sys.executable).with_name("convcalc")
    convcalc = [str(script)] if script.exists() else [sys.executable, "-m", "convcalc"]
    shape = [*convcalc, "shape", "63x64", "-k", "4", "-s", "2", "-p", "1", "--json"]
    reference = [sys.executable, "-c", "import typer"]

    # warm the file cache for both before measuring
    _median_seconds(shape, 2)
    _median_seconds(reference, 2)
    tables = shape[:-1]
    _median_seconds(tables, 2)
    ref = _median_seconds(reference, args.runs)
    ours = _median_seconds(shape, args.runs)
    table = _median_seconds(tables, args.runs)
    ratio, table_ratio = ours / ref, table / ref
    print(f"python -c 'import typer'      median {ref * 1000:7.1f} ms")
    print(f"convcalc shape ... --json     median {ours * 1000:7.1f} ms")
    print(f"convcalc shape ... (tables)   median {table * 1000:7.1f} ms")
    print(f"json ratio {ratio:.2f}x (target <= {TARGET}x): {'met' if ratio <= TARGET else 'NOT met'}")
    verdict = "met" if table_ratio <= TABLE_TARGET else "NOT met"
    print(f"table ratio {table_ratio:.2f}x (target <= {TABLE_TARGET}x): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
