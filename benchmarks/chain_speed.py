"""`convcalc chain` speed: the analysis in-process per spec, and the whole command against `convcalc shape`.

The chain's accepted sizes come from the size engine `inspect` uses (``convcalc.graph.sizes``), run on
the chain as a 1-D graph per axis; this script shows what that costs. Two numbers per spec:

- ``analysis``: ``chain_report`` in-process, the best of a few runs with a fresh size cache each time
  (the CLI computes once); compare two checkouts by running the script with each one's PYTHONPATH:
  ``PYTHONPATH=/path/to/other/checkout python benchmarks/chain_speed.py``.
- ``command / shape``: `convcalc chain SPEC --json` against `convcalc shape 64 -k 3 --json`, as fresh
  processes in paired rounds (each round runs both, in a shuffled order; the median of the rounds'
  ratios is the answer, so a busy machine slows both sides alike). Bytecode caching is allowed.

Run: python benchmarks/chain_speed.py [--runs N]

Figures (2 cores shared with other work, load about 3; analysis: best of runs, in ms; command: the
median CPU time, user + sys, of 11 paired rounds of fresh processes, which a busy machine disturbs
less than wall time; `shape 64 -k 3 --json` took 62-78 ms). Columns: chain's own engine (6c33c0d^),
the shared engine as this branch found it (33ab416: per-graph node-run cache, two-run class reading),
and after (one graph per distinct axis for the accepted sizes and the receptive field, no formulas
asked of the engine, op specs and chain records as NamedTuples):

    spec                          analysis: own / found / after     command CPU: own / found / after
    docs example (5 layers)               0.3 /  1.1 /  0.9              75 /  97 /  88 ms
    padded U-Net, depth 4                 1.6 /  5.4 /  4.9              74 /  99 /  91 ms
    2-D U-Net, depth 5                    2.9 /  7.9 /  6.9              77 / 103 /  94 ms
    72 layers, P = 64                      24 /   46 /   44             105 / 155 / 147 ms
    20 layers, P = 1024                    19 /  277 /  232             120 / 382 / 348 ms

The start-up of the chain path (importing chain.report, .document, .parse) went from 41 to 34 ms
(graph.model's own part 9.2 -> 3.8 ms); against chain's own engine it still imports graph.model,
.shapes, .sizes, .fields, .values, conventions.base / .layouts and fractions (about 12 ms). What is
left of the analysis is the engine's way of working: two runs of the whole graph per class of the
period (2,048 runs at P = 1024, most node runs answered by the node-run cache) where chain's own
engine composed each layer's arithmetic once per class.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

SPECS = {
    "docs example (5 layers)": "conv k3 s2 p1 | pool k2 | tconv k3 s2 p1 op1 | up2 | conv k3 p1",
    "padded U-Net, depth 4 (21 layers)": " | ".join(
        ["conv k3 p1 | conv k3 p1 | pool k2"] * 4
        + ["conv k3 p1"]
        + ["tconv k2 s2 | conv k3 p1 | conv k3 p1"] * 4
    ),
    "2-D U-Net, depth 5 (15 layers)": " | ".join(["conv k3x3 p1 | pool k2x2"] * 5 + ["tconv k2x2 s2"] * 5),
    "72 layers, P = 64": " | ".join(["conv k3 p1"] * 60 + ["conv k3 s2 p1"] * 6 + ["tconv k3 s2 p1 op1"] * 6),
    "20 layers, P = 1024": " | ".join(["conv k3 s2 p1"] * 10 + ["tconv k3 s2 p1 op1"] * 10),
}


def _analysis(spec: str) -> float:
    from convcalc.chain.parse import parse_chain
    from convcalc.chain.report import chain_report

    try:
        from convcalc.graph.shapes import _READ as cache
    except ImportError:  # a checkout from before chain used the graph engine
        cache = {}
    layers = parse_chain(spec)
    best = float("inf")
    for _ in range(3):
        cache.clear()
        start = time.perf_counter()
        chain_report(layers)
        best = min(best, time.perf_counter() - start)
    return best


def _wall(args: list[str]) -> float:
    start = time.perf_counter()
    # run outside any checkout, so that PYTHONPATH (not the working directory) says which convcalc runs
    where = tempfile.gettempdir()
    subprocess.run(
        [sys.executable, "-m", "convcalc", *args], check=False, capture_output=True, env=ENV, cwd=where
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="paired rounds per spec")
    runs = parser.parse_args().runs
    reference = ["shape", "64", "-k", "3", "--json"]
    _wall(reference)
    print(f"{'spec':36s} {'analysis':>10s} {'command / shape':>16s}")
    for name, spec in SPECS.items():
        command = ["chain", spec, "--json"]
        _wall(command)
        ratios = []
        for _ in range(runs):
            pair = [("ref", reference), ("cmd", command)]
            random.shuffle(pair)
            times = {key: _wall(args) for key, args in pair}
            ratios.append(times["cmd"] / times["ref"])
        print(f"{name:36s} {_analysis(spec) * 1000:8.1f} ms {statistics.median(ratios):15.2f}x")


if __name__ == "__main__":
    main()
