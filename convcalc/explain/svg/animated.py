"""The direct form with the kernel sweeping every placement: one SVG animated by CSS, no script.

The still figure's frame (direct.py) is drawn once; the kernel group and the output marker share one
keyframe rule of translations, each output cell appears when its placement is reached, and a caption
names the placement, numbered from 0 as ``--placement`` numbers it.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core import TransposedAxis
from convcalc.errors import ConvCalcError, option
from convcalc.explain.svg.canvas import Canvas, x_join
from convcalc.explain.svg.direct import (
    CURRENT,
    FILL,
    MARGIN,
    STROKE,
    diagram_layout,
    draw_frame,
    draw_legend,
    kernel_markup,
)

# An animation carries one keyframe rule per placement: beyond this it is refused before drawing.
MAX_ANIMATION_PLACEMENTS = 256
SECONDS_PER_PLACEMENT = 0.6


def _keyframes(name: str, stops: Sequence[tuple[float, str]]) -> str:
    return f"@keyframes {name} {{" + " ".join(f"{p:.4f}% {{{rule}}}" for p, rule in stops) + "}"


def animated_diagram(axes: Sequence[TransposedAxis]) -> str:
    """One SVG in which the kernel sweeps every placement, row by row, and the output fills in.

    CSS animation only (no script): the kernel group and the output marker share one keyframe rule of
    translations, each output cell appears when its placement is reached, and a caption names the
    placement. ``prefers-reduced-motion`` shows the finished output with the kernel at placement 0.
    """
    layout = diagram_layout(axes)
    count = layout.placements
    if count > MAX_ANIMATION_PLACEMENTS:
        raise ConvCalcError(
            f"the animation is drawn up to {MAX_ANIMATION_PLACEMENTS} kernel placements (one per output "
            f"position); this configuration has {count} ({x_join([a.output for a in axes])}): choose a "
            f"smaller size, or draw one placement with {option('figure', 'direct')} and "
            f"{option('placement')}",
            parameter="size",
        )
    out_rows, out_cols = layout.outputs
    cell = layout.cell
    total = count * SECONDS_PER_PLACEMENT
    canvas = Canvas()
    origins = draw_frame(
        canvas,
        layout,
        f"the kernel visits the {count} placements 0..{count - 1} row by row, "
        f"{SECONDS_PER_PLACEMENT} s each; each output is filled as its placement is reached",
    )
    step = 100 / count
    moves = [
        (n * step, f"transform: translate({(n % out_cols) * cell}px, {(n // out_cols) * cell}px)")
        for n in range(count)
    ]
    styles = [
        f".sweep {{ animation: sweep {total:g}s step-end infinite; }}",
        _keyframes("sweep", [*moves, (100.0, moves[-1][1])]),
        f".step {{ animation-duration: {total:g}s; animation-timing-function: step-end; "
        "animation-iteration-count: infinite; }",
    ]
    filled, captions = [], []
    for n in range(count):
        r, c = divmod(n, out_cols)
        styles.append(
            _keyframes(f"fill{n}", [(0.0, "opacity: 0"), (n * step, "opacity: 1"), (100.0, "opacity: 1")])
            + _keyframes(
                f"caption{n}",
                [
                    (0.0, "opacity: 0"),
                    (n * step, "opacity: 1"),
                    ((n + 1) * step, "opacity: 0"),
                    (100.0, "opacity: 0"),
                ],
            )
        )
        filled.append(
            f'<rect class="computed step" style="animation-name: fill{n}" x="{origins.output_x + c * cell}" '
            f'y="{origins.grid_y + r * cell}" width="{cell}" height="{cell}" fill="{FILL["output"]}" '
            f'stroke="{STROKE["output"]}" stroke-width="2" data-placement="{n}"/>'
        )
        where = f"{c}" if len(axes) == 1 else f"{r}, {c}"
        captions.append((n, f"placement {n}: output ({where})"))
    styles.append("@media (prefers-reduced-motion: reduce) { .sweep, .step { animation: none; } }")
    # Unfilled outputs are drawn pale; the filled overlay appears as the sweep reaches each one.
    canvas.raw(
        f'<rect class="pending" x="{origins.output_x}" y="{origins.grid_y}" width="{out_cols * cell}" '
        f'height="{out_rows * cell}" fill="#ffffff" fill-opacity="0.65"/>'
    )
    canvas.raw("".join(filled))
    canvas.raw(f'<g transform="translate({origins.input_x},{origins.grid_y})"><g class="sweep kernel">')
    canvas.raw(kernel_markup(layout, 0, 0))
    canvas.raw(f'</g></g><g transform="translate({origins.output_x},{origins.grid_y})"><g class="sweep">')
    canvas.raw(
        f'<rect class="output-current" x="0" y="0" width="{cell}" height="{cell}" fill="none" '
        f'stroke="{CURRENT}" stroke-width="4"/>'
    )
    canvas.raw("</g></g>")
    caption_y = origins.below + 24
    # Without animation (reduced motion, a still renderer) only the first caption shows.
    for n, caption in captions:
        canvas.text(
            origins.output_x,
            caption_y,
            caption,
            13,
            bold=True,
            class_="caption step",
            style=f"animation-name: caption{n}",
            opacity=0 if n else 1,
            data_placement=n,
        )
    draw_legend(canvas, layout, caption_y + 20)
    return canvas.svg(MARGIN, style="\n".join(styles), data_cell=cell, data_placements=count)
