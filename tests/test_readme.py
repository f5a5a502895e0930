"""Every README example (a fenced block that starts with `$ convcalc ...`) is run and compared.

The examples are rendered at README_WIDTH columns, as the README states. A line `...` in an example
stands for any number of lines of the real output (long outputs are shown by their head and tail).
Regenerate every example after a change of output: `python tests/test_readme.py --update`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_WIDTH = 80
# An example longer than this is shown by its first HEAD and last TAIL lines around a `...` line.
LONGEST, HEAD, TAIL = 60, 24, 12

_BLOCK = re.compile(r"^```\n(\$ convcalc[^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    command: str
    expected: list[str]
    start: int
    end: int


def examples(text: str) -> list[Example]:
    found = []
    for match in _BLOCK.finditer(text):
        body = match.group(2).rstrip("\n")
        found.append(
            Example(match.group(1)[2:], body.split("\n") if body else [], match.start(), match.end())
        )
    return found


def run(command: str) -> list[str]:
    """The command's stdout and stderr as a user sees them at README_WIDTH columns, without colour."""
    env = {
        **os.environ,
        "COLUMNS": str(README_WIDTH),
        "LINES": "50",
        "NO_COLOR": "1",
        "TERM": "dumb",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("FORCE_COLOR", None)
    script = command.replace("convcalc", f"{sys.executable} -m convcalc", 1)
    proc = subprocess.run(
        ["bash", "-c", script + " 2>&1"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    return [line.rstrip() for line in proc.stdout.rstrip("\n").split("\n")]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line, a `...` line standing for any run of lines (trailing spaces ignored)."""
    if not expected:
        return not actual
    head, rest = expected[0].rstrip(), expected[1:]
    if head == "...":
        return any(matches(rest, actual[n:]) for n in range(len(actual) + 1))
    return bool(actual) and actual[0] == head and matches(rest, actual[1:])


def shown(actual: list[str]) -> list[str]:
    if len(actual) <= LONGEST:
        return actual
    return [*actual[:HEAD], "...", *actual[-TAIL:]]


EXAMPLES = examples(README.read_text())


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 10
    assert f"{README_WIDTH} columns" in README.read_text()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.command[:60] for e in EXAMPLES])
def test_readme_example_reproduces(example: Example) -> None:
    actual = run(example.command)
    assert matches(example.expected, actual), (
        f"README example is stale: `{example.command}`; run python tests/test_readme.py --update\n"
        + "\n".join(actual)
    )


def update(force: bool = False) -> None:
    """Rewrite the stale examples (every example with ``force``), keeping those that still match."""
    text = README.read_text()
    for example in reversed(examples(text)):
        actual = run(example.command)
        if matches(example.expected, actual) and not force:
            continue
        block = "```\n$ " + example.command + "\n" + "\n".join(shown(actual)) + "\n```"
        text = text[: example.start] + block + text[example.end :]
    README.write_text(text)


if __name__ == "__main__":
    if "--update" in sys.argv:
        update(force="--force" in sys.argv)
