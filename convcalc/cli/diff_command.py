"""`convcalc diff`: which layer did a conversion change?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from convcalc.cli.app import JsonOpt, app, emit, example, user_errors
from convcalc.jsonout import dumps

MODEL_HELP = (
    "An .onnx, .keras, .h5 or .tflite file, or a PyTorch module: path/to/file.py:factory or "
    "package.module:attr (this "
    "RUNS that Python file, or imports that module)."
)


@app.command(
    "diff",
    epilog=example(
        [
            (
                "Did the ONNX export change a layer?",
                "convcalc diff net.py:build net.onnx --input 1x3x64x64",
            ),
            (
                "A channels-last conversion: --input in A's layout, B's derived",
                "convcalc diff model.keras model.onnx --input 1x64x64x3",
            ),
        ]
    ),
)
def diff(
    a: Annotated[
        str, typer.Argument(metavar="A", help="The reference model. " + MODEL_HELP, show_default=False)
    ],
    b: Annotated[
        str, typer.Argument(metavar="B", help="The converted model, read the same ways.", show_default=False)
    ],
    inputs: Annotated[
        Optional[list[str]],
        typer.Option(
            "--input",
            "-i",
            help="A's full input shape in A's layout, 1x3x256x256 (once per input); default: the "
            "shape A's file fixes.",
        ),
    ] = None,
    inputs_b: Annotated[
        Optional[list[str]],
        typer.Option(
            "--input-b",
            help="B's input shape in B's layout (default: A's input with its axes in B's order).",
        ),
    ] = None,
    svg: Annotated[
        Optional[Path],
        typer.Option(
            "--svg",
            help="Draw both models to this .svg file (A above B, the changed layers marked) and say where, "
            "instead of the tables.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare two models layer by layer: same values, shifted output, different size, missing or extra.

    Exit 0 when every layer is the same, 1 when one differs, 2 bad input.
    """
    from convcalc.diff.report import diff_models
    from convcalc.inspect.load import parse_input

    with user_errors("diff", as_json):
        if svg is not None:
            from convcalc.inspect.svg import check_svg_path

            check_svg_path(svg)
        shapes = [parse_input(text) for text in inputs or ()]
        shapes_b = [parse_input(text) for text in inputs_b] if inputs_b else None
        report = diff_models(a, b, shapes, shapes_b)
        if svg is not None:
            from convcalc.diff.svg import diff_svg
            from convcalc.inspect.svg import write_svg

            write_svg(diff_svg(report), svg)
    if svg is None:
        emit(as_json, report)
    elif as_json:
        print(dumps({**report.to_dict(), "svg_files": [str(svg)]}))
    else:
        print(f"wrote the picture of {a} and {b} to {svg}: {report.headline()}")
    if report.exit_code:
        raise typer.Exit(report.exit_code)
