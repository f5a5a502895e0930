"""Start-up cost of `convcalc shape` against `python -c "import typer"` on this machine, in paired runs.

Targets: `shape ... --json` at most 1.15x; `shape ...` with its tables (rich) at most 1.5x. Measure a
regular (non-editable) install in its own virtual environment, as a user runs it:

    python3 -m venv /tmp/bench && /tmp/bench/bin/pip install .
    /tmp/bench/bin/python benchmarks/cli_startup.py

Every command runs as a fresh process. Each round runs the reference and both commands back to back in
a shuffled order, and the ratio of each round is taken; the median of those ratios is the answer, so a
machine busy with other work slows both sides of a round alike. Bytecode caching is allowed (the
PYTHONDONTWRITEBYTECODE variable is dropped), as on a user's machine where pip compiles the installed
package; the warm-up runs write the caches. `python -X importtime -m convcalc shape ...` shows where the
time goes. The CLI pauses garbage collection while its modules (typer's included) load and freezes them
before the command runs (convcalc/cli/__init__.py): about 0.15x of the json ratio, part of it typer's
own import made cheaper than in the reference. It pauses it again while Rich and the feature's renderer
load for tables (``emit`` in convcalc/cli/app.py): Rich's import alone is about 0.45x of the reference
with collection running and about 0.25x without (the objects it builds live until exit).
Run: python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 1.15
TABLE_TARGET = 1.5

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _seconds(command: list[str]) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one run; CPU time is what other work on the machine disturbs least."""
    start, cpu = time.perf_counter(), _cpu()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start, _cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()

    script = Path(sys.executable).with_name("convcalc")
    convcalc = [str(script)] if script.exists() else [sys.executable, "-m", "convcalc"]
    commands = {
        "reference": [sys.executable, "-c", "import typer"],
        "json": [*convcalc, "shape", "63x64", "-k", "4", "-s", "2", "-p", "1", "--json"],
        "tables": [*convcalc, "shape", "63x64", "-k", "4", "-s", "2", "-p", "1"],
    }
    for command in commands.values():  # warm the file cache and write the bytecode caches
        _seconds(command)
        _seconds(command)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    order = list(commands)
    rng = random.Random(0)
    for _ in range(args.runs):
        rng.shuffle(order)
        for name in order:
            times[name].append(_seconds(commands[name]))
    for name, label in (
        ("reference", "python -c 'import typer'   "),
        ("json", "convcalc shape ... --json  "),
        ("tables", "convcalc shape ... (tables)"),
    ):
        wall = statistics.median(w for w, _ in times[name]) * 1000
        cpu = statistics.median(c for _, c in times[name]) * 1000
        print(f"{label} median {wall:7.1f} ms wall, {cpu:7.1f} ms CPU")
    for what, n in (("wall", 0), ("CPU", 1)):
        pairs = list(zip(times["reference"], times["json"], times["tables"]))
        ratio = statistics.median(j[n] / r[n] for r, j, _ in pairs)
        table_ratio = statistics.median(t[n] / r[n] for r, _, t in pairs)
        verdict = "met" if ratio <= TARGET else "NOT met"
        table_verdict = "met" if table_ratio <= TABLE_TARGET else "NOT met"
        print(
            f"{what:>4}: json ratio {ratio:.2f}x (target <= {TARGET}x): {verdict}; "
            f"table ratio {table_ratio:.2f}x (target <= {TABLE_TARGET}x): {table_verdict}"
        )
    print(f"({args.runs} paired rounds; the ratios are medians of the per-round ratios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
