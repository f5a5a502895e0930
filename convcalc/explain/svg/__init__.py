"""SVG figures of a transposed convolution, as plain text (no dependency): `explain --svg FILE --figure NAME`.

- ``direct``: the equivalent direct convolution with the kernel at one placement (``--placement N``);
- ``animated``: the same, the kernel sweeping every placement (one file, CSS animation, no script);
- ``scatter``: each input element adding its scaled kernel into the output;
- ``overlap``: the checkerboard counts as a shaded grid (``--layers`` stacks the layer).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from convcalc.core import TransposedAxis
from convcalc.errors import ConvCalcError, option
from convcalc.explain.svg.animated import animated_diagram
from convcalc.explain.svg.direct import direct_cell_kinds, direct_diagram, placement_count
from convcalc.explain.svg.overlap import overlap_diagram
from convcalc.explain.svg.scatter import scatter_diagram

__all__ = [
    "FIGURES",
    "animated_diagram",
    "check_figure",
    "check_output_path",
    "check_request",
    "direct_cell_kinds",
    "direct_diagram",
    "figure",
    "overlap_diagram",
    "placement_count",
    "scatter_diagram",
    "write_figure",
]

FIGURES = ("direct", "animated", "scatter", "overlap")


def check_figure(name: str, placement: int | None = None) -> None:
    """An unknown figure, or a placement for a figure other than ``direct``, is refused."""
    if name not in FIGURES:
        raise ConvCalcError(f"figure must be one of {', '.join(FIGURES)}; got {name!r}", parameter="figure")
    if placement is not None and name != "direct":
        raise ConvCalcError(
            "placement picks the kernel position of the direct figure; got "
            f"{option('placement', placement)} with {option('figure', name)}",
            parameter="placement",
        )


def check_request(path: Path | None, name: str = "direct", placement: int | None = None) -> None:
    """Refuse what cannot be drawn before any work: check_figure, figure options without a file, a
    directory (or a path with no file name) as the file."""
    check_figure(name, placement)
    if path is None:
        if name != "direct" or placement is not None:
            raise ConvCalcError(
                f"figure and placement choose what {option('svg')} draws; give {option('svg')} with a file "
                "name too",
                parameter="svg",
            )
        return
    check_output_path(path)


def check_output_path(path: Path) -> None:
    """Refuse a file that cannot be written, before any work: a name too long for the file system (which
    even a stat refuses), a directory (or a path with no file name), a name that is not .svg, a parent
    directory that is missing."""
    shown = repr(str(path)) if len(str(path)) <= 80 else repr(str(path)[:77] + "...")
    try:
        limit = os.pathconf(".", "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    for part in path.parts:
        length = len(os.fsencode(part))
        if length > limit:
            raise ConvCalcError(
                f"svg: the name {part[:40]!r}... in the path is {length} bytes long and the file system "
                f"allows {limit}",
                parameter="svg",
            )
    try:
        directory = path.is_dir()
        parent = path.parent.is_dir()
    except OSError as error:  # a path over the system's limit, a loop of links, ...
        raise ConvCalcError(
            f"svg: cannot write {shown}: {error.strerror or error}", parameter="svg"
        ) from None
    if path.name in ("", ".", "..") or directory:
        raise ConvCalcError(
            f"svg must name a file to write, such as fig.svg; got {shown}, which is a directory",
            parameter="svg",
        )
    if path.suffix.lower() != ".svg":
        kind = repr(path.suffix) if path.suffix else "a file without a suffix"
        raise ConvCalcError(
            f"svg must name a .svg file: the figure is SVG text, not {kind}; got {shown}",
            parameter="svg",
        )
    if not parent:
        raise ConvCalcError(
            f"svg: cannot write {shown}: the directory {str(path.parent)[:80]!r} does not exist",
            parameter="svg",
        )


def figure(
    axes: Sequence[TransposedAxis], name: str = "direct", placement: int | None = None, layers: int = 1
) -> str:
    """The SVG text of the figure ``name`` (one of FIGURES); ``placement`` only for ``direct``, ``layers``
    used by ``overlap``."""
    check_figure(name, placement)
    if name == "animated":
        return animated_diagram(axes)
    if name == "scatter":
        return scatter_diagram(axes)
    if name == "overlap":
        return overlap_diagram(axes, layers)
    return direct_diagram(axes, placement or 0)


def write_figure(
    axes: Sequence[TransposedAxis],
    path: Path,
    name: str = "direct",
    placement: int | None = None,
    layers: int = 1,
) -> list[Path]:
    """Draw the figure, then write it to ``path``; returns the paths written (one)."""
    check_request(path, name, placement)
    text = figure(axes, name, placement, layers)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        shown = repr(str(path)) if len(str(path)) <= 80 else repr(str(path)[:77] + "...")
        raise ConvCalcError(
            f"svg: cannot write {shown}: {error.strerror or error}", parameter="svg"
        ) from None
    return [path]
