"""No import cycle between convcalc's modules, counting every import the source holds.

import-linter (``lint-imports`` in .ci/run, contracts in pyproject.toml) checks the layers; this test
reads every module's syntax tree itself, so that an import inside a function (a lazy import) or under
``if TYPE_CHECKING:`` counts as much as one at the top, and an import of a package counts as an import
of its ``__init__`` (whose re-exports then count too). A cycle is a strongly connected component of
more than one module, or a module importing itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "convcalc"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imported(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """Every convcalc module that ``name`` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def known(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from convcalc import engine` imports the module convcalc.engine; `from m import f`, m.
            targets = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
            if len(targets) < len(node.names):
                targets.append(base)
        for target in targets:
            found = known(target) if target.split(".")[0] == "convcalc" else None
            if found is not None:
                yield found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: set(_imported(name, path, modules)) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, and self-imports (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_lazy_and_type_checking_cycles(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}}
    assert sorted(cycles(graph)) == [["a", "b", "c"], ["d"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_inside_functions_and_type_checking_blocks_are_edges() -> None:
    graph = import_graph()
    # core/display.py finds the presenters by name (importlib), so it imports no feature at all (errors,
    # for the exit codes, is the layer below the core) ...
    assert not {m for m in graph["convcalc.core.display"] if not m.startswith("convcalc.core")} - {
        "convcalc.render",
        "convcalc.errors",
    }
    # ... and a lazy import inside a function is read: solve/present.py imports its render lazily.
    assert "convcalc.solve.render" in graph["convcalc.solve.present"]
    # TYPE_CHECKING imports are read too.
    assert "convcalc.port.translate" in graph["convcalc.solve.answers"]


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert found == [], "\n".join(" -> ".join(c) for c in found)
