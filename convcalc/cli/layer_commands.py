"""Commands that describe one layer: shape, explain, port, verify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from convcalc import api
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
from convcalc.reader import LayerOptions


def _given(layer: LayerOptions, *without: str) -> dict[str, Any]:
    """The layer options a command takes (those it does not declare stay at their defaults)."""
    return {name: value for name, value in layer._asdict().items() if name not in without}


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
        result = api.shape(**layer._asdict())
    emit(as_json, result)


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
    with user_errors("explain", as_json):
        result = api.explain(
            **_given(layer, "framework", "transpose_kernel"),
            layers=layers,
            svg=svg,
            figure=figure,
            placement=placement,
            section=section,
        )
    emit(as_json, result)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


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
@layer_command(
    without=("framework",),
    helps={
        "padding": "Padding as the --from framework spells it: 1, per axis 1x2, before:after 1:2, or its "
        "word (same, valid, full, same_upper, same_lower, causal, notset); default the framework's.",
        "output_padding": "output_padding of the transposed convolution, as the --from framework takes "
        "it (MXNet adj); default the framework's.",
        "output_size": "Requested transposed output size, as the --from framework takes it: PyTorch "
        "output_size, TensorFlow / ONNX output_shape, Paddle output_size, MXNet target_shape.",
    },
)
def port(
    *,
    layer: LayerOptions,
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="The framework whose arguments you give: pytorch, tensorflow, keras, onnx, jax, flax, "
            "equinox, paddle, mxnet or caffe.",
        ),
    ],
    target: Annotated[
        str, typer.Option("--to", help="The framework to express the layer in (one of the same names).")
    ],
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
    with user_errors("port", as_json):
        translation = api.port(
            **_given(layer, "framework"), source=source, target=target, verify=verify, seed=seed
        )
    emit(as_json, translation)
    if translation.exit_code:
        raise typer.Exit(translation.exit_code)


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
    with user_errors("verify", as_json):
        result = api.verify(**layer._asdict(), seed=seed)
    emit(as_json, result)
    if result.exit_code:
        raise typer.Exit(result.exit_code)
