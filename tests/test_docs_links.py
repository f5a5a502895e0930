"""The README and the pages under docs/ render as Markdown and their relative links lead somewhere.

Links and images are read with markdown-it (the parser rich uses, so no new dependency), as a Markdown
renderer sees them: a link inside a code block is not a link. A relative link must name a file or folder
of the repository, and a `#fragment` a heading of its page, spelled as GitHub spells heading anchors.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def tokens(page: Path) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(page.read_text())


def flat(page: Path) -> list[Token]:
    """Every token of the page, the inline ones (links, images, code spans) included."""
    found = []
    for token in tokens(page):
        found.append(token)
        found.extend(token.children or [])
    return found


def targets(page: Path) -> list[str]:
    found = []
    for token in flat(page):
        if token.type == "link_open":
            found.append(str(token.attrs["href"]))
        elif token.type == "image":
            found.append(str(token.attrs["src"]))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings; a repeated heading gets -1, -2, ... as on GitHub."""
    found: set[str] = set()
    seen: Counter[str] = Counter()
    items = tokens(page)
    for opening, inline in pairwise(items):
        if opening.type != "heading_open":
            continue
        text = "".join(
            child.content for child in inline.children or [] if child.type in ("text", "code_inline")
        )
        base = slug(text)
        found.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return found


def test_there_are_pages_and_links() -> None:
    assert len(PAGES) >= 10
    assert sum(len(targets(page)) for page in PAGES) >= 30


def test_slug_spells_anchors_as_github_does() -> None:
    assert slug("`convcalc shape --json`") == "convcalc-shape---json"
    assert slug("Another framework's layer") == "another-frameworks-layer"
    assert slug("The overlap (checkerboard) map") == "the-overlap-checkerboard-map"
    assert slug("Example: a U-Net in ONNX") == "example-a-u-net-in-onnx"


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in targets(page):
        if _EXTERNAL.match(target):
            continue
        path_text, _, fragment = target.partition("#")
        destination = (page.parent / path_text).resolve() if path_text else page
        if not destination.is_relative_to(ROOT) or not destination.exists():
            broken.append(f"{target}: no such file")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            broken.append(f"{target}: no heading #{fragment} in {destination.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_page_renders_sensibly(page: Path) -> None:
    """One title, every code fence closed, and every line that looks like a table row inside a table."""
    items = tokens(page)
    titles = [token for token in items if token.type == "heading_open" and token.tag == "h1"]
    assert len(titles) == 1, "a page has exactly one # title"
    fences = [token for token in items if token.type == "fence"]
    lines = page.read_text().split("\n")
    for fence in fences:
        assert fence.map is not None
        closing = lines[fence.map[1] - 1].strip()
        assert closing.startswith("```"), f"unclosed code fence at line {fence.map[0] + 1}"
    in_table = {n for token in items if token.type == "table_open" and token.map for n in range(*token.map)}
    in_code = {
        n for token in items if token.type in ("fence", "code_block") and token.map for n in range(*token.map)
    }
    stray = [n + 1 for n, line in enumerate(lines) if line.startswith("| ") and n not in in_table | in_code]
    assert not stray, f"lines {stray} look like table rows but are not rendered as a table"
