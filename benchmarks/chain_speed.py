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

Session speed4 (load 7-11 on 2 cores: the start of the session, d0489ed, and this branch alternately;
analysis as CPU time, best of 5 in-process, three to five rounds each; command / shape from one run of this
script each, 9 paired rounds):

    spec                          analysis CPU: own engine / before / after   command / shape: before / after
    docs example (5 layers)               0.3 / 0.9-1.0 / 0.8 ms              1.32x / 1.37x
    padded U-Net, depth 4                 1.6 / 4.8-5.9 / 3.0-3.8 ms          1.43x / 1.40x
    2-D U-Net, depth 5                    2.9 / 7.0-8.3 / 3.7-4.5 ms          1.41x / 1.41x
    72 layers, P = 64                      24 / 42-46 / 19-23 ms              2.13x / 1.74x
    20 layers, P = 1024                    19 / 237-249 / 64-70 ms            4.85x / 2.50x

(the own-engine column is from the table above). A chain's graph is a graph of layers: each class is
read from its first member alone, every size's slope per period from the layers' arithmetic
(``convcalc.graph.sizes._slopes``), one run a class instead of two; the node runs at one input shape are
shared by every run and keep what they drop and their merge gaps. The 72-layer chain is now as fast as
chain's own engine was; at P = 1024 one run of the 30-node graph per class (about 65 microseconds, most
of its node runs found ready) is what is left against chain's own arithmetic (about 19 microseconds a
class): 3.5x the old engine, where it was 12x.
MAX_CHAIN_STEPS stays 1,000,000: at that estimate the worst chain found (44 stride-1 layers
before 12 halvings and 12 doublings, P = 4096) takes 2.2 s and 148 MB (4.6 s and 249 MB before); a
chain that keeps a padding word reads its classes by two runs still (4.3 s, 282 MB), and the estimate
does not tell the two apart.
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
