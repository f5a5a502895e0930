"""`convcalc explain --svg FILE --figure NAME --placement N`: files written, exit codes, JSON errors."""

from __future__ import annotations

import importlib.util
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ExitCode

runner = CliRunner()
SVG = "{http://www.w3.org/2000/svg}"
DOCS = Path(__file__).resolve().parent.parent / "docs"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("name", ["direct", "animated", "scatter", "overlap"])
def test_each_figure_is_written_as_one_file(tmp_path: Path, name: str) -> None:
    target = tmp_path / "fig.svg"
    result = invoke(
        "explain", "3x3", "-k", "4", "-s", "3", "-t", "--svg", str(target), "--figure", name, "--json"
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["svg_files"] == [str(target)]
    assert ET.fromstring(target.read_text()).tag == f"{SVG}svg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.svg"]


def test_placement_is_numbered_from_0_as_typed(tmp_path: Path) -> None:
    target = tmp_path / "fig.svg"
    result = invoke("explain", "5x5", "-k", "3", "-s", "2", "--svg", str(target), "--placement", "6")
    assert result.exit_code == ExitCode.OK, result.output
    text = target.read_text()
    assert 'data-placement="6"' in text and "placement 6 (of 0..24" in text and "placement 7" not in text
    assert f"wrote the picture to {target}" in " ".join(result.stdout.split())
    shown = invoke("explain", "5x5", "-k", "3", "-s", "2", "--svg", str(target), "--section", "overlap")
    assert f"wrote the picture to {target}" in " ".join(shown.stdout.split())


@pytest.mark.parametrize("where", [".", "..", "{tmp}", "{tmp}/"])
def test_a_directory_is_refused_with_exit_2(tmp_path: Path, where: str) -> None:
    path = where.format(tmp=tmp_path)
    before = sorted(os.listdir(tmp_path))
    result = invoke("explain", "3", "-k", "2", "-s", "2", "-t", "--svg", path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "svg must name a file to write, such as fig.svg" in result.stderr and "directory" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sorted(os.listdir(tmp_path)) == before
    result = invoke("explain", "3", "-k", "2", "-s", "2", "-t", "--svg", path, "--json")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert json.loads(result.stdout)["error"]["parameter"] == "svg"


@pytest.mark.parametrize(
    ("extra", "parameter", "message"),
    [
        (
            ["--figure", "movie"],
            "figure",
            "figure must be one of direct, animated, scatter, overlap; got 'movie'",
        ),
        (["--figure", "scatter", "--placement", "2"], "placement", "got --placement 2 with --figure scatter"),
        (["--figure", "direct", "--placement", "9"], "placement", "placement must be from 0 to 5; got 9"),
        (["--figure", "scatter", "--layers", "1"], None, None),
    ],
)
def test_figure_options_are_checked(
    tmp_path: Path, extra: list[str], parameter: str | None, message: str | None
) -> None:
    target = tmp_path / "fig.svg"
    result = invoke("explain", "3", "-k", "2", "-s", "2", "-t", "--svg", str(target), *extra, "--json")
    if parameter is None:
        assert result.exit_code == ExitCode.OK, result.output
        return
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert message is not None and message in result.stderr
    assert json.loads(result.stdout)["error"]["parameter"] == parameter
    assert not target.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("out.png", "svg must name a .svg file: the figure is SVG text, not '.png'"),
        ("out", "svg must name a .svg file: the figure is SVG text, not a file without a suffix"),
        ("a" * 300 + ".svg", "bytes long and the file system allows"),
        ("missing/fig.svg", "does not exist"),
    ],
)
def test_a_path_that_cannot_take_the_svg_is_refused_before_the_work(
    tmp_path: Path, name: str, message: str
) -> None:
    for extra in ([], ["--json"]):
        result = invoke("explain", "4", "-k", "3", "-s", "2", "-t", "--svg", str(tmp_path / name), *extra)
        assert result.exit_code == ExitCode.INVALID_INPUT, result.output
        assert message in result.stderr and "Traceback" not in result.stderr
        if extra:
            assert message in json.loads(result.stdout)["error"]["message"]
    assert list(tmp_path.iterdir()) == []


def test_svg_alone_prints_the_headline_and_where_the_file_went(tmp_path: Path) -> None:
    target = tmp_path / "fig.svg"
    result = runner.invoke(
        app, ["explain", "4", "-k", "3", "-s", "2", "-t", "--svg", str(target)], env={"COLUMNS": "80"}
    )
    assert result.exit_code == ExitCode.OK
    lines = result.stdout.splitlines()
    assert " ".join(result.stdout.split()).endswith(f"wrote the picture to {target}")
    assert len(lines) < 12 and "Matrix" not in result.stdout
    with_section = invoke(
        "explain", "4", "-k", "3", "-s", "2", "-t", "--svg", str(target), "--section", "matrix"
    )
    assert "wrote the picture to" in with_section.stdout and len(with_section.stdout.splitlines()) > 12


def test_figure_without_svg_is_refused() -> None:
    result = invoke("explain", "3", "-k", "2", "-s", "2", "-t", "--figure", "animated")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "give --svg with a file name too" in result.stderr


def test_refusals_write_nothing(tmp_path: Path) -> None:
    target = tmp_path / "big.svg"
    result = invoke("explain", "3x3x3", "-k", "2", "-t", "--svg", str(target))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "1-D and 2-D configurations; got 3 spatial axes" in result.stderr
    result = invoke(
        "explain", "11x11", "-k", "1", "-s", "2", "-t", "--svg", str(target), "--figure", "animated"
    )
    assert result.exit_code == ExitCode.INVALID_INPUT and "up to 256 kernel placements" in result.stderr
    assert not target.exists()
    result = invoke("explain", "3", "-k", "2", "-t", "--svg", str(tmp_path / "missing" / "x.svg"))
    assert result.exit_code == ExitCode.INVALID_INPUT and "svg: cannot write" in result.stderr


def test_the_readme_pictures_are_current(tmp_path: Path) -> None:
    # The SVGs under docs/pictures are what the CLI draws today (their PNGs are photographs of them).
    spec = importlib.util.spec_from_file_location("render_pictures", DOCS / "render_pictures.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for name, arguments in script.FIGURES.items():
        target = tmp_path / f"{name}.svg"
        result = invoke("explain", *arguments, "--svg", str(target), "--json")
        assert result.exit_code == ExitCode.OK, result.output
        current = (DOCS / "pictures" / f"{name}.svg").read_text()
        assert target.read_text() == current, f"{name}: run python docs/render_pictures.py"
