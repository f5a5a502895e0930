"""Regenerate the README's pictures: SVG figures from the CLI, PNG screenshots from headless Chromium.

    python docs/render_pictures.py            # writes docs/pictures/*.svg and *.png
    python docs/render_pictures.py --check    # only draws the SVGs (no Chromium needed)

Chromium (Debian: apt-get install chromium) takes each screenshot at the SVG's own size. The animation
is shot at several moments from copies of its SVG whose CSS animation is paused at that time; the
terminal heat map is exported by Rich as SVG on a dark and on a light terminal theme.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "pictures"
ROOT = HERE.parent

# name: the explain arguments (the CLI adds --svg OUT/name.svg).
FIGURES = {
    "direct-5x5-k3-s2-placement6": ["5x5", "-k", "3", "-s", "2", "--placement", "6"],
    "direct-crop-3x3-k2-s2-p2": ["3x3", "-k", "2", "-s", "2", "-p", "2", "-t"],
    "animated-5x5-k3-s2": ["5x5", "-k", "3", "-s", "2", "--figure", "animated"],
    "scatter-2x2-k2": ["2x2", "-k", "2", "-t", "--figure", "scatter"],
    "scatter-3-k3-s2-p1": ["3", "-k", "3", "-s", "2", "-p", "1", "-t", "--figure", "scatter"],
    "overlap-3x3-k4-s3": ["3x3", "-k", "4", "-s", "3", "-t", "--figure", "overlap"],
}
# Moments of the animation to shoot: placements (each is shown for SECONDS_PER_PLACEMENT).
STILLS = {"animated-5x5-k3-s2": [0, 6, 24]}
HEAT_MAP = ["3x3", "-k", "4", "-s", "3", "-t"]


def explain(arguments: list[str], svg: Path) -> None:
    command = [sys.executable, "-m", "convcalc", "explain", *arguments, "--svg", str(svg), "--json"]
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def paused(svg_text: str, seconds: float) -> str:
    """The same SVG with every animation paused ``seconds`` into its run."""
    style = (
        "<style>.sweep, .step { animation-play-state: paused !important; "
        f"animation-delay: -{seconds}s !important; }}</style>"
    )
    return svg_text.replace("</svg>", style + "\n</svg>")


def size(svg_text: str) -> tuple[int, int]:
    """The SVG's width and height, or those of its viewBox (Rich's export has only a viewBox)."""
    match = re.search(r'<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"', svg_text) or re.search(
        r'<svg[^>]*?viewBox="[\d.-]+ [\d.-]+ ([\d.]+) ([\d.]+)"', svg_text
    )
    assert match, "an SVG with a size"
    return round(float(match[1])), round(float(match[2]))


def screenshot(chromium: str, svg: Path, png: Path) -> None:
    width, height = size(svg.read_text(encoding="utf-8"))
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            svg.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    print(f"{png.name}  {width}x{height}")


def heat_map_svgs(directory: Path) -> list[Path]:
    """The terminal's heat map of the checkerboard example, as Rich draws it on dark and light themes."""
    from rich.console import Console
    from rich.terminal_theme import MONOKAI, TerminalTheme

    from convcalc.core import shape_report
    from convcalc.explain.render import heat_map
    from convcalc.overlap import overlap_map, repeat_layer

    report = shape_report((3, 3), 4, stride=3, transposed=True)
    rows, columns = (a.counts for a in overlap_map(repeat_layer(report.transposed, 1)).axes)
    view = heat_map([[a * b for b in columns] for a in rows], "Heat map (axes 0 and 1)", (10, 10))
    light = TerminalTheme(
        (255, 255, 255),
        (30, 30, 30),
        [(0, 0, 0), (205, 49, 49), (0, 128, 0), (150, 120, 0), (4, 81, 165), (188, 5, 188), (5, 152, 188)]
        + [(229, 229, 229)],
        [(102, 102, 102), (205, 49, 49), (20, 160, 20), (180, 150, 0), (4, 81, 165), (188, 5, 188)]
        + [(5, 152, 188), (165, 165, 165)],
    )
    paths = []
    for name, theme in (("heat-map-dark", MONOKAI), ("heat-map-light", light)):
        console = Console(record=True, width=40, color_system="truecolor", file=open("/dev/null", "w"))
        console.print(view, crop=False)
        path = directory / f"{name}.svg"
        path.write_text(console.export_svg(title="convcalc explain 3x3 -k 4 -s 3 -t", theme=theme))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only draw the SVGs")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    options = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    sys.path.insert(0, str(ROOT))
    for name, arguments in FIGURES.items():
        explain(arguments, OUT / f"{name}.svg")
    if options.check:
        return
    with tempfile.TemporaryDirectory() as scratch:
        for name in (n for n in FIGURES if n not in STILLS):
            screenshot(options.chromium, OUT / f"{name}.svg", OUT / f"{name}.png")
        from convcalc.explain.svg.animated import SECONDS_PER_PLACEMENT

        for name, placements in STILLS.items():
            text = (OUT / f"{name}.svg").read_text(encoding="utf-8")
            for placement in placements:
                still = Path(scratch) / f"{name}-at-{placement}.svg"
                still.write_text(paused(text, (placement + 0.5) * SECONDS_PER_PLACEMENT), encoding="utf-8")
                screenshot(options.chromium, still, OUT / f"{name}-at-{placement}.png")
        for svg in heat_map_svgs(Path(scratch)):
            screenshot(options.chromium, svg, OUT / f"{svg.stem}.png")


if __name__ == "__main__":
    main()
