"""Time and peak memory of the heavy cases of issue 11, each run as a fresh `convcalc` process.

Target: every case answers or is refused (exit 2, a message naming the limit) within 2 s and 500 MB.
Each case runs under a memory cap (RLIMIT_AS) and a timeout so that an unbounded case cannot take the
machine with it; the peak resident memory is the child's own (``os.wait4``), not this script's.
Prints one row per case: wall time and its ratio to 2 s, CPU time (user + system, the figure to trust
on a loaded machine), peak memory and its ratio to 500 MB, the exit code and the last line of stderr.
Run: python benchmarks/hostile_inputs.py [--timeout S] [--memory-cap MB] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SECONDS = 2.0
MEGABYTES = 500


def _long_chain(axes: int) -> str:
    """256 layers whose strides multiply to 4096: twelve strided convolutions among 244 unstrided ones."""
    kernel = "x".join(["3"] * axes)
    strided = [f"conv k{kernel} s2 p1"] * 12
    plain = [f"conv k{kernel} p1"] * 244
    return " | ".join(strided + plain)


def _nested_json(directory: Path) -> str:
    path = directory / "nested.json"
    path.write_text('{"layers": ' + "[" * 1000 + "]" * 1000 + "}")
    return str(path)


def _nested_toml(directory: Path) -> str:
    path = directory / "nested.toml"
    path.write_text("layers = " + "[" * 500 + "]" * 500 + "\n")
    return str(path)


def _fifo(directory: Path) -> str:
    path = directory / "fifo.json"
    os.mkfifo(path)
    return str(path)


def _dev_zero(directory: Path) -> str:
    path = directory / "zero.json"
    path.symlink_to("/dev/zero")
    return str(path)


@dataclass(frozen=True)
class Case:
    name: str
    arguments: Callable[[Path], list[str]]


CASES = [
    Case("solve fixed kernel 10^18", lambda d: ["solve", "14", "2", "--conv", "-k", "1" + "0" * 18]),
    Case("solve fixed dilation 10^6", lambda d: ["solve", "20", "81", "-d", "1000000"]),
    Case("solve 26x25x24 87 max-dilation 64", lambda d: ["solve", "26x25x24", "87", "--max-dilation", "64"]),
    Case("solve 100-digit target", lambda d: ["solve", "5", "9" * 100]),
    Case("chain --range 1:10^11", lambda d: ["chain", "conv k3 s2", "--range", "1:100000000000"]),
    Case("chain 256 layers, 4096, 1 axis", lambda d: ["chain", _long_chain(1)]),
    Case("chain 256 layers, 4096, 2 axes", lambda d: ["chain", _long_chain(2)]),
    Case("chain file FIFO", lambda d: ["chain", _fifo(d)]),
    Case("chain file -> /dev/zero", lambda d: ["chain", _dev_zero(d)]),
    Case("chain JSON nested 1000", lambda d: ["chain", _nested_json(d)]),
    Case("chain TOML nested 500", lambda d: ["chain", _nested_toml(d)]),
    Case(
        "verify 12 axes",
        lambda d: ["verify", "x".join(["1"] * 12), "-k", "3", "-s", "3", "-p", "1", "--output-padding", "2"],
    ),
    Case("explain 10^17 -t", lambda d: ["explain", "1" + "0" * 17, "-k", "3", "-t"]),
    Case("sweep 300 characters of ranges", lambda d: ["sweep", "--sizes", ",".join(["1-999999"] * 33)]),
    Case(
        "sweep 153,600 configurations",
        lambda d: [
            "sweep",
            *["--sizes", "1-50", "--kernel-sizes", "1-8", "--strides", "1-4", "--paddings", "0-3"],
            *["--dilations", "1-2", "--output-paddings", "0-3", "--ndims", "1-3"],
        ],
    ),
    Case(
        "shape --in-channels 2,200 digits",
        lambda d: ["shape", "5", "-k", "3", "--in-channels", "7" * 2200, "--out-channels", "7"],
    ),
]


@dataclass(frozen=True)
class Outcome:
    name: str
    seconds: float
    cpu_seconds: float
    megabytes: float
    exit_code: int | None
    stderr: str


def _limit(cap_bytes: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))

    return apply


def run_case(case: Case, timeout: float, cap_bytes: int) -> Outcome:
    with tempfile.TemporaryDirectory() as directory:
        command = [sys.executable, "-m", "convcalc", *case.arguments(Path(directory))]
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                preexec_fn=_limit(cap_bytes),
            )
            code: int | None = None
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    code = os.waitstatus_to_exitcode(status)
                    break
                if time.perf_counter() - start > timeout:
                    process.kill()
                    _, _, usage = os.wait4(process.pid, 0)
                    break
                time.sleep(0.01)
            seconds = time.perf_counter() - start
            process.returncode = -9 if code is None else code
            err.seek(0)
            text = err.read().decode(errors="replace")
    # ru_maxrss is in kilobytes on Linux
    cpu = usage.ru_utime + usage.ru_stime
    return Outcome(case.name, seconds, cpu, usage.ru_maxrss / 1024, code, text)


def _summary(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1][:100] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--memory-cap", type=int, default=4096, help="RLIMIT_AS of each case, in MB")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    outcomes = []
    for case in CASES:
        if args.only and not any(part in case.name for part in args.only):
            continue
        outcome = run_case(case, args.timeout, args.memory_cap * 2**20)
        outcomes.append(outcome)
        if not args.json:
            exit_text = "killed" if outcome.exit_code is None else str(outcome.exit_code)
            print(
                f"{outcome.name:36} {outcome.seconds:7.2f} s ({outcome.seconds / SECONDS:5.2f}x) "
                f"cpu {outcome.cpu_seconds:6.2f} s "
                f"{outcome.megabytes:7.0f} MB ({outcome.megabytes / MEGABYTES:4.2f}x) exit {exit_text:6} "
                f"{_summary(outcome.stderr)}",
                flush=True,
            )
    if args.json:
        print(json.dumps([vars(o) for o in outcomes], indent=1))
    within = all(
        o.cpu_seconds <= SECONDS and o.megabytes <= MEGABYTES and o.exit_code in (0, 1, 2) for o in outcomes
    )
    print(f"every case within {SECONDS} s and {MEGABYTES} MB: {'yes' if within else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
