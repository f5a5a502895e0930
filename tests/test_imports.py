"""The layering, executed: who loads numpy, rich and typer, and which engine modules may use the fast path.

`import convcalc` and `convcalc shape` never load NumPy; a `shape --json` answer loads neither NumPy nor
Rich (nor dataclasses); the core loads no CLI, rendering or numeric library; the conventions load no
NumPy. ruff's banned-api rules (pyproject.toml) keep the imports where they belong file by file; these
tests check what a running process really loads, through every indirection.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "convcalc" / "engine"


def _loaded(code: str, *roots: str) -> set[str]:
    """The top-level packages among ``roots`` that running ``code`` in a fresh interpreter loads."""
    probe = code + f"\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(roots)!r}))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(ast.literal_eval(proc.stdout.strip().splitlines()[-1]))


def _loads_numpy(code: str) -> bool:
    return bool(_loaded(code, "numpy"))


def test_import_convcalc_does_not_load_numpy() -> None:
    assert not _loads_numpy("import convcalc\nconvcalc.conv_transpose_output_size(5, 3, stride=2)")


def test_shape_command_does_not_load_numpy() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from convcalc.cli import app\n"
        "r = CliRunner().invoke(app, ['shape', '32x32', '-k', '4', '-s', '2', '-p', '1', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['shape', '32x32', '-k', '4', '-s', '2', '-p', '1'])\n"
        "assert r.exit_code == 0, r.output"
    )
    assert not _loads_numpy(code)


@pytest.mark.parametrize(
    "args",
    [
        ["shape", "32x32", "-k", "4", "-s", "2", "-p", "1", "--json"],
        ["shape", "7", "-k", "3", "-s", "2", "-t", "--json"],
    ],
)
def test_shape_json_loads_neither_numpy_nor_rich(args: list[str]) -> None:
    """The real entry point (`python -m convcalc`), every module it imports listed by -X importtime."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "convcalc", *args], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["command"] == "shape"
    imported = {
        line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")
    }
    assert "convcalc.cli" in imported
    assert not {name for name in imported if name.split(".")[0] in ("numpy", "rich", "dataclasses")}
    # the graph engine (inspect's and chain's) is no part of the fast path
    assert not {name for name in imported if name.startswith("convcalc.graph")}


def test_the_chain_path_loads_the_graph_engine_but_no_framework_convention() -> None:
    """`chain` reads its layers by the core's own rules: the engine loads conventions/base.py for its
    records, and no framework's module (they load when a convention is first asked for); nor the
    formulas of inspect's tables (chain asks none) or the snippet writer (conventions/code.py)."""
    code = (
        "import sys\n"
        "from convcalc.chain.parse import parse_chain\n"
        "from convcalc.chain.report import chain_report\n"
        "chain_report(parse_chain('conv k3 s2 p1 | maxpool k2 | tconv k3 s2 p1 op1 | up2'), (63,))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('convcalc.graph', 'convcalc.conventions.'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(ast.literal_eval(proc.stdout.strip().splitlines()[-1]))
    assert {"convcalc.graph.sizes", "convcalc.graph.shapes", "convcalc.graph.fields"} <= loaded
    from convcalc.conventions import FRAMEWORKS

    assert not loaded & {f"convcalc.conventions.{name}" for name in FRAMEWORKS}
    assert not loaded & {"convcalc.graph.formulas", "convcalc.conventions.code"}


@pytest.mark.parametrize("enabled", [True, False])
def test_importing_the_cli_leaves_garbage_collection_as_it_was(enabled: bool) -> None:
    """The CLI pauses the collector while its modules load: a program importing it keeps its setting."""
    code = (
        "import gc\n"
        f"{'gc.enable()' if enabled else 'gc.disable()'}\n"
        "import convcalc.cli\n"
        "print(gc.isenabled())"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == str(enabled)


def test_import_core_loads_no_cli_rendering_or_numpy() -> None:
    assert _loaded("import convcalc.core", "typer", "click", "rich", "numpy") == set()


def test_import_conventions_loads_no_numpy() -> None:
    assert _loaded("import convcalc.conventions", "numpy") == set()


def test_import_engine_loads_no_cli_or_rendering() -> None:
    """ruff lets the engine's files import numpy, so this keeps rich and the CLI out of them."""
    assert _loaded("import convcalc.engine", "typer", "click", "rich", "numpy") == {"numpy"}


def _engine_imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return {name for name in modules if name.startswith("convcalc.engine")}


@pytest.mark.parametrize("route", ["scatter", "direct", "matrix", "crops"])
def test_witness_routes_do_not_use_the_fast_path(route: str) -> None:
    """A witness must not share code with what it checks: only the boundary checks and the budgets."""
    assert _engine_imports(ENGINE / "routes" / f"{route}.py") <= {
        "convcalc.engine.inputs",
        "convcalc.engine.budget",
        "convcalc.engine.routes.crops",
    }


def test_the_fast_path_does_not_use_the_witness_routes() -> None:
    for path in (ENGINE / "fast").glob("*.py"):
        assert not any(name.startswith("convcalc.engine.routes") for name in _engine_imports(path)), path


def test_conventions_and_core_import_no_feature() -> None:
    """The layering of STYLE.md: conventions/ and core/ never import a feature or the CLI."""
    import ast
    from pathlib import Path

    features = ("convcalc.solve", "convcalc.chain", "convcalc.explain", "convcalc.verify", "convcalc.inspect")
    features += ("convcalc.port", "convcalc.shape", "convcalc.cli")
    root = Path(__file__).resolve().parent.parent / "convcalc"
    offenders = []
    for folder in ("conventions", "core"):
        for path in sorted((root / folder).glob("*.py")):
            if path.name == "display.py":
                continue  # a result's repr and notebook view call the presenters when asked (documented)
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                offenders += [f"{path.name}: {n}" for n in names if n.startswith(features)]
    assert offenders == []
