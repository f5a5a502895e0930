"""Commands that describe one layer: shape, explain, port, verify."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from convcalc.errors import ConvCalcError, ExitCode
from convcalc.headline import (
    explain_headline,
    framework_shape_headline,
    port_headline,
    shape_headline,
    verify_headline,
)
from convcalc.jsonout import shape_document
from convcalc.parse import check_seed
from convcalc.reader import LayerOptions, dialect_arguments, framework_arguments, read_layer

if TYPE_CHECKING:
    from rich.console import RenderableType

    from convcalc.conventions.base import FrameworkLayer
from convcalc.cli.app import (
    SEED,
    JsonOpt,
    SeedOpt,
    app,
    emit,
    example,
    integer,
    layer_command,
    user_errors,
)


def _framework_shape(as_json: bool, layer: FrameworkLayer) -> None:
    from convcalc.port.document import framework_shape_document
    from convcalc.port.translate import translate

    with user_errors("shape", as_json):
        pytorch = None if layer.framework == "pytorch" else translate(layer, "pytorch")

    def view() -> RenderableType:
        from convcalc.port.render import framework_shape_view

        return framework_shape_view(layer, pytorch)

    emit(
        as_json,
        lambda: framework_shape_document(layer, pytorch),
        view,
        lambda: framework_shape_headline(layer, pytorch),
    )


@app.command(
    epilog=example(
        [
            (
                "A transposed layer: its output size and which inputs it restores",
                "convcalc shape 32 -k 3 -s 2 -p 1 -t",
            ),
            ("The same tables as JSON, for a script", "convcalc shape 63 -k 4 -s 2 -p 1 --json"),
        ]
    )
)
@layer_command()
def shape(*, layer: LayerOptions, as_json: JsonOpt = False) -> None:
    """Sizes of a convolution and its transposed twin, the equivalent direct convolution and reversibility."""
    with user_errors("shape", as_json):
        read = read_layer(layer)
    if read.framework_layer is not None:
        _framework_shape(as_json, read.framework_layer)
        return
    report = read.report
    assert report is not None

    def view() -> RenderableType:
        from convcalc.render import shape_view

        return shape_view(report)

    emit(as_json, lambda: shape_document(report), view, lambda: shape_headline(report))


LayersOpt = Annotated[
    int,
    typer.Option(
        "--layers", help="Stack this transposed layer N times for the overlap map.", parser=integer("layers")
    ),
]
SvgOpt = Annotated[
    Optional[Path],
    typer.Option("--svg", help="Write an SVG figure (1-D or 2-D) to this file; --figure picks which."),
]
FigureOpt = Annotated[
    str,
    typer.Option(
        "--figure",
        help="With --svg: direct (the kernel at one placement), animated (the kernel sweeping every "
        "placement), scatter (each input adding its scaled kernel), overlap (the checkerboard counts).",
    ),
]
PlacementOpt = Annotated[
    Optional[int],
    typer.Option(
        "--placement",
        help="With --svg: the kernel placement drawn, from 0, row by row; default 0.",
        parser=integer("placement"),
    ),
]
SectionOpt = Annotated[
    Optional[str],
    typer.Option(
        "--section",
        help="Only these sections (matrix, direct, contributions, overlap, comma-separated); "
        "a named section too large to print is an error.",
    ),
]


@app.command(
    epilog=example(
        [
            (
                "Which outputs get more kernel taps (checkerboard)",
                "convcalc explain 3x3 -k 4 -s 3 -t --section overlap",
            ),
            ("The convolution as a matrix", "convcalc explain 4x4 -k 3 --section matrix"),
        ]
    )
)
@layer_command(without=("framework", "transpose_kernel"))
def explain(
    *,
    layer: LayerOptions,
    layers: LayersOpt = 1,
    svg: SvgOpt = None,
    figure: FigureOpt = "direct",
    placement: PlacementOpt = None,
    section: SectionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The matrix view, the direct convolution step by step, where each number comes from, the overlap map."""
    from convcalc.explain.document import explain_document
    from convcalc.explain.steps import SECTIONS, explain
    from convcalc.explain.svg import check_request, write_figure
    from convcalc.overlap import overlap_map, repeat_layer

    with user_errors("explain", as_json):
        check_request(svg, figure, placement)
        report = dialect_arguments(layer).report()
        chosen = parse_sections(section, SECTIONS)
        explanation = explain(report, chosen, strict=section is not None)
        twin_exists = all(a.output >= 1 for a in report.transposed)
        overlap = (
            overlap_map(repeat_layer(report.transposed, layers))
            if "overlap" in chosen and twin_exists
            else None
        )
        written = [] if svg is None else write_figure(report.transposed, svg, figure, placement, layers)

    def view() -> RenderableType:
        from convcalc.explain.render import explanation_view

        return explanation_view(explanation, overlap, written)

    emit(
        as_json,
        lambda: explain_document(explanation, overlap, [str(p) for p in written]),
        view,
        lambda: explain_headline(explanation, overlap),
    )
    if not explanation.verified:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


def parse_sections(text: str | None, known: tuple[str, ...]) -> tuple[str, ...]:
    """`matrix,overlap` -> ('matrix', 'overlap'); None -> every section."""
    if text is None:
        return known
    chosen = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in known]
    if unknown or not chosen:
        raise ConvCalcError(
            f"section must name one or more of {', '.join(known)} joined by commas; got {text!r}",
            parameter="section",
        )
    return chosen


@app.command(
    epilog=example(
        [
            (
                "A Keras padding='same' transposed layer in PyTorch arguments",
                "convcalc port 16x16 -k 3 -s 2 -p same -t --from keras --to pytorch",
            )
        ]
    )
)
@layer_command(without=("framework",))
def port(
    *,
    layer: LayerOptions,
    source: Annotated[str, typer.Option("--from", help="The framework whose arguments you give.")],
    target: Annotated[str, typer.Option("--to", help="The framework to express the layer in.")],
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Run the source layer and the fixed target layer through the NumPy engine on random data; "
            "exit 1 if they differ.",
        ),
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the random data for --verify.", parser=SEED)
    ] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Translate a layer from one framework's arguments to another's: arguments, weight change, exact fix."""
    from convcalc.port.document import port_document
    from convcalc.port.translate import port as port_layer

    check = None

    with user_errors("port", as_json):
        arguments = framework_arguments(layer)
        translation = port_layer(
            source,
            target,
            in_channels=layer.in_channels,
            out_channels=layer.out_channels,
            groups=layer.groups,
            **vars(arguments),
        )
        if verify:
            from convcalc.port.execute import check_port

            check = check_port(translation, check_seed(seed))

    def view() -> RenderableType:
        from convcalc.port.render import port_view

        return port_view(translation, check)

    emit(as_json, lambda: port_document(translation, check), view, lambda: port_headline(translation, check))
    if check is not None and not check.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


@app.command(
    epilog=example(
        [
            (
                "Prove the sizes of a layer by execution",
                "convcalc verify 63 -k 4 -s 2 -p 1",
            )
        ]
    )
)
@layer_command()
def verify(
    *,
    layer: LayerOptions,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Prove what `shape` says by execution: independent routes, the adjoint identity, the round trip.

    Exit 0 when every check passes, 1 when any fails, 2 on invalid input.
    """
    from convcalc.verify.checks import verify_framework_layer, verify_layer
    from convcalc.verify.document import verify_document

    with user_errors("verify", as_json):
        read = read_layer(layer)
        if read.framework_layer is not None:
            # The layer read once above: its framework's rules are not applied a second time.
            result = verify_framework_layer(read.framework_layer, seed=seed)
        else:
            assert read.arguments is not None
            result = verify_layer(**vars(read.arguments), seed=seed)

    def view() -> RenderableType:
        from convcalc.verify.render import verify_view

        return verify_view(result)

    emit(as_json, lambda: verify_document(result), view, lambda: verify_headline(result))
    if not result.passed:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)
