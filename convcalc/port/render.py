"""Rich tables for framework conventions and ports. Builds renderables; the CLI prints them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcalc.conventions import convention
from convcalc.conventions.base import FrameworkLayer
from convcalc.core import DirectAxis, TransposedAxis, direct_form
from convcalc.port.translate import Translation
from convcalc.render import CAUTION

if TYPE_CHECKING:
    from convcalc.verdict import PortCheck
from convcalc.render import axis_table, hanging, x_join


def _arguments_table(title: str, arguments: tuple[tuple[str, str], ...]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    table.add_column("argument", style="cyan")
    table.add_column("value")
    for name, value in arguments:
        table.add_row(name, value)
    return table


def _notes(title: str, notes: tuple[str, ...] | list[str]) -> list[RenderableType]:
    return [Text.from_markup(f"[bold]{title}[/bold]: ") + Text(note) for note in notes]


def _canonical_table(layer: FrameworkLayer, title: str) -> Table:
    if layer.is_transposed:
        return axis_table(
            title,
            layer.transposed,
            [
                ("input size i", lambda a: a.size),
                ("dilated kernel K", lambda a: a.dilated_kernel),
                ("full output (i-1)s + K", lambda a: a.full),
                ("crop before (negative: zeros)", lambda a: a.crop_before),
                ("crop after (negative: zeros)", lambda a: a.crop_after),
                ("output", lambda a: a.output),
            ],
        )
    return axis_table(
        title,
        layer.conv,
        [
            ("input size i", lambda a: a.size),
            ("dilated kernel K", lambda a: a.dilated_kernel),
            ("padding before + after", lambda a: f"{a.pad_before} + {a.pad_after}"),
            ("padded input i + pb + pa", lambda a: a.padded_size),
            ("output floor((i+pb+pa-K)/s) + 1", lambda a: a.output),
        ],
    )


def _direct_table(axes: tuple[TransposedAxis, ...]) -> Table:
    direct: list[DirectAxis] = [direct_form(a) for a in axes]
    return axis_table(
        "Equivalent direct convolution (zeros inserted, pads K-1-crop, flipped kernel, stride 1)",
        direct,
        [
            ("stretched size (i-1)s + 1", lambda a: a.stretched),
            ("pad before (negative: crop)", lambda a: a.pad_before),
            ("pad after (negative: crop)", lambda a: a.pad_after),
            ("output", lambda a: a.output),
        ],
    )


def layer_parts(layer: FrameworkLayer) -> list[RenderableType]:
    """The framework's arguments, the canonical form they mean, and the weight layout."""
    conv = convention(layer.framework)
    kind = "transposed convolution" if layer.is_transposed else "convolution"
    parts: list[RenderableType] = [
        _arguments_table(f"{conv.title} {kind}: arguments", tuple(conv.spell(layer.args))),
        _canonical_table(layer, f"What {conv.title} computes (canonical form)"),
    ]
    if layer.is_transposed:
        parts.append(_direct_table(layer.transposed))
    layout = conv.layout(layer.args)
    parts.append(Text(f"weight layout in {conv.title}: {layout.describe(layer.args.ndim)}"))
    parts.extend(_notes("note", layer.notes))
    return parts


def translation_parts(t: Translation) -> list[RenderableType]:
    """The target's arguments, the fix, the weight change and the verdict."""
    target = convention(t.target.framework)
    parts: list[RenderableType] = [_arguments_table(f"In {target.title}", t.arguments)]
    on_fixed = "" if t.source.is_transposed or t.exact else " (on the fixed input)"
    parts.append(_canonical_table(t.target, f"What these {target.title} arguments compute{on_fixed}"))
    colour = "green" if t.exact else CAUTION
    parts.append(Text.from_markup(f"verdict: [{colour}]{t.verdict}[/{colour}]"))
    steps = t.fix_steps()
    if steps:
        where = "after the layer" if t.source.is_transposed else "before the layer"
        parts.append(Text(f"fix {where}:"))
        parts.extend(hanging("  - ", Text(step)) for step in steps)
    parts.append(Text(f"weight: {t.weight.source} -> {t.weight.target}: {t.weight.describe()}"))
    shapes = t.weight_shapes()
    if shapes is not None:
        parts.append(Text(f"weight shape: {shapes[0]} -> {shapes[1]}"))
    if t.shape_only is not None:
        spelled = ", ".join(f"{name}={value}" for name, value in t.shape_only)
        parts.append(Text(f"same shape but values shifted (not equal in values): {spelled}", style=CAUTION))
    parts.extend(_notes("note", t.notes))
    return parts


def framework_answers_view(
    framework: str, translations: Sequence[Translation], dropped: int
) -> RenderableType:
    """`solve --framework X`: the shown answers in X's own arguments, by rank."""
    conv = convention(framework)
    table = Table(
        title=f"The answers above in {conv.title}'s arguments (each exact: same shape and values)",
        title_justify="left",
        title_style="bold",
    )
    table.add_column("#", justify="right")
    table.add_column("arguments")
    for n, t in enumerate(translations):
        table.add_row(str(n + 1), ", ".join(f"{name}={value}" for name, value in t.arguments))
    parts: list[RenderableType] = [table] if translations else []
    if dropped:
        parts.append(
            Text(
                f"{dropped} answer(s) of the search are left out: {conv.title} cannot express them exactly "
                "(compare with --framework pytorch, or see convcalc port for the slice that would fix them)"
            )
        )
    return Group(*parts)


def framework_shape_view(layer: FrameworkLayer, pytorch: Translation | None) -> RenderableType:
    """`convcalc shape --framework X`: how X reads the layer, and the same layer in PyTorch."""
    parts = layer_parts(layer)
    if pytorch is not None:
        parts.extend(translation_parts(pytorch))
    return Group(*parts)


def _side_by_side(t: Translation, source: str, target: str) -> Table:
    """The source layer and the target's arguments (before the fix) in one table, per-axis values as AxB."""
    table = Table(title="What each computes", title_justify="left", title_style="bold")
    table.add_column("quantity", style="cyan")
    table.add_column(source, justify="right")
    if t.source.is_transposed:
        where = "" if t.exact else ", before the fix"
    else:
        where = "" if t.exact else ", on the fixed input"
    table.add_column(f"{target}{where}", justify="right")

    def row(label: str, get: Callable[[Any], object], a: Sequence[Any], b: Sequence[Any]) -> None:
        table.add_row(label, x_join([get(x) for x in a]), x_join([get(x) for x in b]))

    if t.source.is_transposed:
        a, b = t.source.transposed, t.target.transposed
        row("input size i", lambda x: x.size, a, b)
        row("dilated kernel K", lambda x: x.dilated_kernel, a, b)
        row("full output (i-1)s + K", lambda x: x.full, a, b)
        row("crop before (negative: zeros)", lambda x: x.crop_before, a, b)
        row("crop after (negative: zeros)", lambda x: x.crop_after, a, b)
        row("output", lambda x: x.output, a, b)
        da, db = [direct_form(x) for x in a], [direct_form(x) for x in b]
        row("direct form: stretched (i-1)s + 1", lambda x: x.stretched, da, db)
        row("direct form: pad before K-1-crop", lambda x: x.pad_before, da, db)
        row("direct form: pad after K-1-crop", lambda x: x.pad_after, da, db)
    else:
        c, d = t.source.conv, t.target.conv
        row("input size i", lambda x: x.size, c, d)
        row("dilated kernel K", lambda x: x.dilated_kernel, c, d)
        table.add_row(
            "padding before:after, per axis",
            *(", ".join(f"{x.pad_before}:{x.pad_after}" for x in axes) for axes in (c, d)),
        )
        row("output floor((i+pb+pa-K)/s) + 1", lambda x: x.output, c, d)
    return table


def port_view(t: Translation, check: PortCheck | None = None) -> RenderableType:
    """`convcalc port`: the source layer, then its expression in the target framework."""
    from convcalc.port.snippet import snippet

    source, target = convention(t.source.framework), convention(t.target.framework)
    given = ", ".join(f"{name}={value}" for name, value in source.spell(t.source.args))
    parts: list[RenderableType] = [
        Text(f"In {target.title} (paste):", style="bold"),
        Text("\n".join(f"  {line}" for line in snippet(t).splitlines())),
        Text(f"{source.title} arguments given: {given}"),
        _side_by_side(t, source.title, target.title),
        *translation_parts(t)[3:],
    ]
    if check is not None:
        if check.ok:
            parts.append(
                Text.from_markup(
                    f"[green]verified[/green] by execution (NumPy engine, seed {check.seed}): the source and "
                    f"the fixed target agree, shape {check.source_shape}, max error {check.max_error:.1e}"
                )
            )
        else:
            parts.append(
                Text.from_markup(
                    f"[red]verification failed[/red] (seed {check.seed}): source {check.source_shape}, "
                    f"target {check.target_shape}, max error {check.max_error:.3g}"
                )
            )
    return Group(*parts)
