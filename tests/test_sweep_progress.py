"""`convcalc sweep`'s progress bar: on stderr when it is a terminal and the work is long, never with
--json, never when stderr is piped; the numbers it shows are the sweep's own counts."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.verify import render
from convcalc.verify.render import progress_bar


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=80, color_system=None), out


def test_the_bar_counts_the_work_done_on_a_terminal() -> None:
    console, out = terminal()
    with progress_bar(10, console, delay=0) as advance:
        assert advance is not None
        for done in range(1, 4):
            advance(done)
        console.file.flush()
        shown = out.getvalue()
    assert "verifying" in shown and "/10" in shown


def test_short_work_shows_no_bar_and_a_pipe_gets_none() -> None:
    console, out = terminal()
    with progress_bar(10, console, delay=3600) as advance:
        assert advance is not None
        advance(10)
    assert out.getvalue() == ""
    piped = Console(file=io.StringIO(), force_terminal=False)
    with progress_bar(10, piped, delay=0) as advance:
        assert advance is None


@pytest.mark.parametrize(("json_flag", "bar"), [([], True), (["--json"], False)])
def test_json_output_never_builds_a_bar(
    json_flag: list[str], bar: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []

    @contextmanager
    def recording(total: int, console: Any, delay: float = 0.5) -> Iterator[None]:
        asked.append(total)
        yield None

    monkeypatch.setattr(render, "progress_bar", recording)
    result = CliRunner().invoke(
        app, ["sweep", "--sizes", "1-3", "--kernel-sizes", "1-2", "--ndims", "1", *json_flag]
    )
    assert result.exit_code == 0, result.output
    assert asked == ([2 * 3 * 3 * 2 * 3 * 3] if bar else [])  # sizes x kernels x strides x ... x ndims


def run_with_terminal_stderr(*args: str) -> tuple[str, str]:
    """Run convcalc with stderr on a pseudo-terminal (stdout piped): what each received."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "80"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "convcalc", *args], stdout=subprocess.PIPE, stderr=follower, env=env, text=True
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    stdout = proc.stdout.read() if proc.stdout else ""
    proc.wait(timeout=120)
    os.close(leader)
    return stdout, b"".join(chunks).decode(errors="replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_real_terminal_sees_the_bar_and_stdout_only_the_summary() -> None:
    # 1,296 one-axis configurations: a second or more, longer than the bar's delay even on a quiet machine
    stdout, stderr = run_with_terminal_stderr("sweep", "--sizes", "1-6", "--ndims", "1")
    assert "verifying" in stderr and "/1296" in stderr
    assert "verifying" not in stdout and stdout.startswith("all 735 valid configurations pass")
    stdout, stderr = run_with_terminal_stderr("sweep", "--sizes", "1-6", "--ndims", "1", "--json")
    assert stderr == "" and stdout.lstrip().startswith("{")
