"""The tables of `shape` and `verify` on an 80-column terminal never cut a number.

Witness: the command's own JSON document. Every integer in it must appear whole in the text printed
for people at COLUMNS=80 (as written, or with thousands separators), not split across lines or cut
at the edge, and no line may be wider than 80 columns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ExitCode

WIDTH = 80
runner = CliRunner(env={"COLUMNS": str(WIDTH)})


def integers(node: Any) -> Iterator[int]:
    if isinstance(node, bool):
        return
    if isinstance(node, int):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from integers(value)
    elif isinstance(node, list):
        for value in node:
            yield from integers(value)


def appears_whole(number: int, text: str) -> bool:
    """``number`` in ``text`` with no digit (or digit group, or decimals) glued to either side."""
    for spelled in {str(number), f"{number:,}"}:
        if re.search(r"(?<![\d.])(?<!\d,)" + re.escape(spelled) + r"(?!\d|[.,]\d)", text):
            return True
    return False


def test_appears_whole() -> None:
    text = "│ 1000002 .. 1000008 (7 │ 8,388,608 │ 2x4x62 │ 62, 63 │ 1.78e-15 │"
    for number in (1000002, 1000008, 7, 8388608, 2, 4, 62, 63):
        assert appears_whole(number, text), number
    for number in (100000, 388, 608, 6, 1000, 78):
        assert not appears_whole(number, text), number


def missing_numbers(*args: str) -> list[int]:
    table = runner.invoke(app, list(args))
    assert table.exit_code == ExitCode.OK, table.output
    lines = table.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= WIDTH
    document = runner.invoke(app, [*args, "--json"])
    assert document.exit_code == ExitCode.OK, document.output
    return sorted({n for n in integers(json.loads(document.stdout)) if not appears_whole(n, table.stdout)})


@pytest.mark.parametrize(
    "args",
    [
        "63 -k 4 -s 2 -p 1",
        "16x16x8 -k 4x4x3 -s 2 -p 1 --in-channels 64 --out-channels 32",
        "6x5 -k 3x2 -s 2x1 -p 1:0x2:1 -d 2x1",
        "4x5x6x7 -k 3 -s 2 -p 1",
        "5 -k 3 -s 2 -p 1 -t --output-padding 1",
        "19x23 -k 4 -s 3 -p same",
        "2 -k 2 -s 5 -p 2",
        "6 -t -k 3 -s 1 -d 2 --output-padding 1 --in-channels 1 --out-channels 1",
        "5 -k 3 -s 2 -p 1 -t --output-size 10",
        "5 -k 3 -s 2 -p same -t --framework keras",
        "7 -k 3 -s 2 -p same --framework tensorflow",
        # Restored on both axes (W = K - pb - pa + s*q); large sizes, channels and groups.
        "1000002x77773 -k 13 -s 7 -p 5 --in-channels 1024 --out-channels 2048 -g 8",
        "1000003x77777 -k 13 -s 7 -p 5",
        # The new user's trial (TRIAL.md item 9): a 55-character count of multiply-accumulates, and
        # 19-digit sizes on three axes, used to end in an ellipsis.
        "999999999999x999999999999x999999999999 -k 3 -s 2 -t --in-channels 64 --out-channels 64",
        "999999999999999999x999999999999999999x999999999999999999 -k 3 -s 2 -t",
    ],
)
def test_shape_tables_show_every_number_whole(args: str) -> None:
    assert missing_numbers("shape", *args.split()) == []


@pytest.mark.parametrize(
    "args",
    [
        "63 -k 4 -s 2 -p 1 --in-channels 4 --out-channels 2 -g 2",
        "6x5x4 -k 3 -s 2 -p 1 --output-padding 1",
        "17x9 -k 3 -s 3 -p 1:2x0:1 -d 2",
        "5 -k 3 -s 2 -p 1 -t --output-padding 1",
        "5 -k 3 -s 2 -p same -t --framework keras",
        "6x7 -k 3 -s 2 -p same --framework tensorflow",
    ],
)
def test_verify_table_shows_every_number_whole(args: str) -> None:
    assert missing_numbers("verify", *args.split()) == []


def test_no_ellipsis_in_the_trial_tables() -> None:
    for args in (
        "shape 999999999999x999999999999x999999999999 -k 3 -s 2 -t --in-channels 64 --out-channels 64",
        "shape 999999999999999999x999999999999999999x999999999999999999 -k 3 -s 2 -t",
    ):
        result = runner.invoke(app, args.split())
        assert result.exit_code == ExitCode.OK and "\u2026" not in result.stdout, args


@pytest.mark.parametrize(
    "args",
    [
        "explain 3x3 -k 4 -s 3 -t --section overlap",
        "explain 4 -k 3 -s 2 -t --section direct",
        "shape 999999999999x999999999999x999999999999 -k 3 -s 2 -t",
    ],
)
def test_wrapped_lines_have_no_trailing_spaces_and_list_items_stay_indented(args: str) -> None:
    result = CliRunner(env={"COLUMNS": "60"}).invoke(app, args.split())
    assert result.exit_code == ExitCode.OK, result.output
    lines = result.stdout.splitlines()
    assert [line for line in lines if line != line.rstrip()] == []
    if "Same output size without the pattern:" in lines:
        # The suggestions wrap at 60 columns; each continuation stays indented under its item's text.
        items = lines[lines.index("Same output size without the pattern:") + 1 :]
        assert any(line.startswith("    ") for line in items)
        assert all(line.startswith(("  - ", "    ")) for line in items), items
    if any(line.startswith("  compared with") for line in lines):
        after = lines[next(n for n, line in enumerate(lines) if line.startswith("  compared with")) + 1 :]
        assert after and all(line.startswith("  ") for line in after), after
