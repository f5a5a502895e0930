"""Every documented example (a fenced block that starts with `$ convcalc ...`) is run and compared.

The examples live in README.md and in every Markdown page under docs/. They are rendered at
README_WIDTH columns, as the pages state. A line `...` in an example stands for any number of lines of
the real output (long outputs are shown by their head and tail). The README's question table is checked
too: each row's first line is the command's headline. Regenerate every stale example after a change of
output: `python tests/test_readme.py --update`.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_WIDTH = 80
# An example longer than this is shown by its first HEAD and last TAIL lines around a `...` line.
LONGEST, HEAD, TAIL = 60, 24, 12
# Each has a page docs/commands/NAME.md, an example in the README and a row in its question table.
COMMANDS = ("shape", "verify", "explain", "solve", "chain", "port", "inspect", "diff")

_BLOCK = re.compile(r"^```\n(\$ convcalc[^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_TABLE_ROW = re.compile(
    r"^\| (?P<question>[^|]+?) \| `(?P<command>convcalc .+?)` \| (?P<first>.+) \|$", re.MULTILINE
)


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/, in a fixed order."""
    return [README, *sorted(DOCS.rglob("*.md"))]


@dataclass(frozen=True)
class Example:
    page: Path
    command: str
    expected: list[str]
    start: int
    end: int

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}: {self.command[:60]}"


def examples(page: Path, text: str) -> list[Example]:
    found = []
    for match in _BLOCK.finditer(text):
        body = match.group(2).rstrip("\n")
        found.append(
            Example(page, match.group(1)[2:], body.split("\n") if body else [], match.start(), match.end())
        )
    return found


@functools.cache
def run(command: str) -> list[str]:
    """The command's stdout and stderr as a user sees them at README_WIDTH columns, without colour.

    Cached: a command shown in the README and again on its page runs once.
    """
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


EXAMPLES = [example for page in pages() for example in examples(page, page.read_text())]


def test_the_readme_shows_one_example_per_command() -> None:
    text = README.read_text()
    shown_commands = {example.command.split()[1] for example in examples(README, text)}
    assert set(COMMANDS) <= shown_commands
    assert f"{README_WIDTH} columns" in text


def test_every_command_has_a_page_and_every_page_says_how_its_examples_were_printed() -> None:
    for command in COMMANDS:
        assert (DOCS / "commands" / f"{command}.md").is_file(), command
    for page in pages():
        text = page.read_text()
        if examples(page, text):
            assert f"{README_WIDTH} columns" in text, page


def test_the_moved_reference_keeps_its_examples() -> None:
    """The command reference held 13 run examples when it moved out of the README; none may be lost."""
    in_docs = [example for example in EXAMPLES if example.page != README]
    assert len(in_docs) >= 13


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_documented_example_reproduces(example: Example) -> None:
    actual = run(example.command)
    assert matches(example.expected, actual), (
        f"example in {example.page.relative_to(ROOT)} is stale: `{example.command}`; "
        "run python tests/test_readme.py --update\n" + "\n".join(actual)
    )


ROWS = list(_TABLE_ROW.finditer(README.read_text()))


def test_the_question_table_has_a_row_per_command() -> None:
    assert set(COMMANDS) <= {row["command"].split()[1] for row in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=[row["command"][:60] for row in ROWS])
def test_question_table_first_line_is_the_headline(row: re.Match[str]) -> None:
    """The table's third column is the command's one-line answer, as its JSON `headline` gives it."""
    args = shlex.split(row["command"].replace("\\|", "|"))[1:]
    result = CliRunner().invoke(app, [*args, "--json"], env={"COLUMNS": str(README_WIDTH), "NO_COLOR": "1"})
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.stdout)["headline"] == row["first"]


def update(force: bool = False) -> None:
    """Rewrite the stale examples (every example with ``force``), keeping those that still match."""
    for page in pages():
        text = page.read_text()
        for example in reversed(examples(page, text)):
            actual = run(example.command)
            if matches(example.expected, actual) and not force:
                continue
            block = "```\n$ " + example.command + "\n" + "\n".join(shown(actual)) + "\n```"
            text = text[: example.start] + block + text[example.end :]
        page.write_text(text)


if __name__ == "__main__":
    if "--update" in sys.argv:
        update(force="--force" in sys.argv)
