"""Every example of docs/commands/diff.md (a fenced block starting with `$ convcalc ...`) is run and compared,
with the README's own machinery (tests/test_readme.py): 80 columns, `...` standing for skipped lines.
Regenerate after a change of output: `python tests/test_diff_docs.py --update`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "commands" / "diff.md"
_spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "tests" / "test_readme.py")
assert _spec is not None and _spec.loader is not None
readme = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("readme_examples", readme)  # dataclasses look their module up while defining
_spec.loader.exec_module(readme)

EXAMPLES = readme.examples(PAGE.read_text())


def test_the_page_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.command[:60] for e in EXAMPLES])
def test_diff_page_example_reproduces(example: object) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    actual = readme.run(example.command)  # type: ignore[attr-defined]
    assert readme.matches(example.expected, actual), (  # type: ignore[attr-defined]
        f"docs/commands/diff.md example is stale: `{example.command}`; run python tests/test_diff_docs.py "  # type: ignore[attr-defined]
        "--update\n" + "\n".join(actual)
    )


def update() -> None:
    text = PAGE.read_text()
    for example in reversed(readme.examples(text)):
        actual = readme.run(example.command)
        if readme.matches(example.expected, actual):
            continue
        block = "```\n$ " + example.command + "\n" + "\n".join(readme.shown(actual)) + "\n```"
        text = text[: example.start] + block + text[example.end :]
    PAGE.write_text(text)


if __name__ == "__main__":
    if "--update" in sys.argv:
        update()
