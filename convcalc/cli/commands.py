"""Commands over many layers or answers: solve, sweep, chain, inspect."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from convcalc import api
from convcalc.cli.app import (
    JsonOpt,
    SeedOpt,
    SizeArg,
    app,
    console,
    emit,
    example,
    integer,
    user_errors,
)
from convcalc.jsonout import dumps
from convcalc.parse import parse_ints


def _optional(name: str, text: str | None) -> object:
    return None if text is None else parse_ints(name, text)


@app.command(
    epilog=example(
        [
            ("Transposed layers that take 32 to 64", "convcalc solve 32 64"),
            ("The three best convolutions that take 64 to 32", "convcalc solve 64 32 --conv --top 3"),
        ]
    )
)
def solve(
    size: SizeArg,
    target: Annotated[str, typer.Argument(help="The output size you need: 46 or 46x80.", show_default=False)],
    conv: Annotated[
        bool, typer.Option("--conv", help="Solve for a convolution (default: transposed).")
    ] = False,
    kernel_size: Annotated[
        Optional[str], typer.Option("--kernel-size", "-k", help="Fix the kernel size.")
    ] = None,
    stride: Annotated[Optional[str], typer.Option("--stride", "-s", help="Fix the stride.")] = None,
    padding: Annotated[
        Optional[str], typer.Option("--padding", "-p", help="Fix the padding (1, 1x2, 1:2).")
    ] = None,
    output_padding: Annotated[
        Optional[str], typer.Option("--output-padding", help="Fix output_padding.")
    ] = None,
    dilation: Annotated[Optional[str], typer.Option("--dilation", "-d", help="Fix the dilation.")] = None,
    max_kernel: Annotated[
        int,
        typer.Option("--max-kernel", help="Largest kernel size searched.", parser=integer("max_kernel")),
    ] = 7,
    max_stride: Annotated[
        int, typer.Option("--max-stride", help="Largest stride searched.", parser=integer("max_stride"))
    ] = 4,
    max_dilation: Annotated[
        int,
        typer.Option("--max-dilation", help="Largest dilation searched.", parser=integer("max_dilation")),
    ] = 2,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="output_padding < stride (output_size=, TensorFlow, Keras, ONNX)."),
    ] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Show every answer, not only the best.")] = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="Execute the shown answers in the NumPy engine (two routes).")
    ] = False,
    top: Annotated[
        int,
        typer.Option(
            "--top", help="How many answers to show without --all.", parser=integer("top", minimum=1)
        ),
    ] = 10,
    framework: Annotated[
        Optional[str],
        typer.Option(
            "--framework",
            "-f",
            help="Keep the answers this framework expresses exactly and show them in its arguments: "
            "pytorch, tensorflow, keras, onnx, jax, flax, equinox, paddle, mxnet or caffe.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Which kernel, stride, padding, output_padding and dilation map SIZE to TARGET exactly, best first.

    Best first: every output receives a contribution (a convolution: reads
    every input), then even coverage (no checkerboard), no input dropped, the
    smaller kernel, symmetric padding, no output_padding, no dilation.

    Exit 0 with or without an answer; 1 when --verify disagrees; 2 bad input.
    """
    with user_errors("solve", as_json):
        report = api.solve(
            size,
            target,
            conv=conv,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
            max_kernel=max_kernel,
            max_stride=max_stride,
            max_dilation=max_dilation,
            strict=strict,
            show_all=show_all,
            verify=verify,
            top=top,
            framework=framework,
        )
    emit(as_json, report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _range_option(what: str) -> Any:
    return typer.Option(help=f"{what}: a range 1-7, values 1,3,5, or both.", show_default=True)


@app.command(
    epilog=example(
        [
            (
                "Check the formulas on every 1-D layer with input sizes 1 to 5",
                "convcalc sweep --sizes 1-5 --ndims 1",
            )
        ]
    )
)
def sweep(
    sizes: Annotated[str, _range_option("Input sizes")] = "1-8",
    kernel_sizes: Annotated[str, _range_option("Kernel sizes")] = "1-4",
    strides: Annotated[str, _range_option("Strides")] = "1-3",
    paddings: Annotated[str, _range_option("Paddings (the same before and after)")] = "0-2",
    dilations: Annotated[str, _range_option("Dilations")] = "1-2",
    output_paddings: Annotated[str, _range_option("output_padding values")] = "0-2",
    ndims: Annotated[str, _range_option("Numbers of spatial axes")] = "1-3",
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Verify every configuration of a grid; skip invalid ones by reason; list failures with commands.

    Each configuration uses its values on every spatial axis. Exit 1 when any configuration fails.
    """
    from convcalc.verify.sweep import sweep as run_sweep

    with user_errors("sweep", as_json):
        grid = api.sweep_grid(sizes, kernel_sizes, strides, paddings, dilations, output_paddings, ndims)
        if as_json:  # a script reads the document; nothing else is printed
            report = run_sweep(grid, seed=seed)
        else:
            from convcalc.verify.render import progress_bar

            with progress_bar(grid.count, console(stderr=True)) as progress:
                report = run_sweep(grid, seed=seed, progress=progress)
    emit(as_json, report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command(
    epilog=example(
        [
            (
                "Does a down- then up-sampling pair give 63 back (skip connection)?",
                "convcalc chain 'conv k3 s2 p1 | tconv k3 s2 p1 op1' 63",
            )
        ]
    )
)
def chain(
    layers: Annotated[
        str,
        typer.Argument(
            help="Layers 'conv k3 s2 p1 | pool k2 | tconv k3 s2 p1 op1 | up2', or a .json / .toml file.",
            show_default=False,
        ),
    ],
    size: Annotated[
        Optional[str], typer.Argument(help="Input size (default: the smallest that restores every skip).")
    ] = None,
    channels: Annotated[
        Optional[int],
        typer.Option("--channels", "-c", help="Input channels.", parser=integer("channels")),
    ] = None,
    size_range: Annotated[
        Optional[str], typer.Option("--range", help="List the restoring input sizes in LOW:HIGH.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sizes after every layer, skip-connection mismatches, accepted input sizes, receptive field.

    LAYERS, one between bars: a kind, then options glued to their values.
      kinds: conv, tconv (transposed convolution), pool or maxpool, avgpool,
             upN (upsampling by N)
      kN  kernel_size     sN  stride        dN  dilation      opN  output_padding
      pN  padding: p1, p1x0 (per axis), p1:2 (before:after), psame
      cN  out channels    gN  groups        ceil  ceil_mode (pooling)
      per-axis values join with x: k3x5, s2x1
      'conv k3 s2 p1 c64 | maxpool k2 ceil | tconv k4 s2 p1 | up2'

    Exit 0 when every decoder gives back the size of the encoder input it
    mirrors; 1 when a skip connection is not restored; 2 bad input.
    """

    with user_errors("chain", as_json):
        report = api.chain(layers, size, channels=channels, size_range=size_range)
    emit(as_json, report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command(
    "inspect",
    epilog=example(
        [
            (
                "Sizes through an ONNX model for one input shape",
                "convcalc inspect model.onnx --input 1x3x256x256",
            ),
            (
                "A PyTorch model built by net.py's build(), checked for ONNX Runtime",
                "convcalc inspect net.py:build --input 1x3x256x256 --target onnxruntime",
            ),
        ]
    ),
)
def inspect_model(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            help="An .onnx, .keras, .h5 or .tflite file, or a PyTorch module: path/to/file.py:factory or "
            "package.module:attr (this RUNS that Python file, or imports that module: the only user code "
            "inspect runs; nothing is eval'd).",
            show_default=False,
        ),
    ],
    inputs: Annotated[
        Optional[list[str]],
        typer.Option("--input", "-i", help="Full input shape, 1x3x256x256 (once per model input)."),
    ] = None,
    target: Annotated[
        Optional[str],
        typer.Option(
            "--target",
            help="Check portability to pytorch, tensorflow, keras, onnx (onnxruntime), jax, flax, equinox, "
            "paddle, mxnet or caffe.",
        ),
    ] = None,
    svg: Annotated[
        Optional[Path],
        typer.Option(
            "--svg",
            help="Draw the model to this .svg file (sizes on the edges, the failing merge marked) and say "
            "where, instead of the tables.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Read a model (ONNX, Keras .keras/.h5, TFLite, PyTorch); explain, check and fix every convolution in it.

    Exit 1 when a merge disagrees, a layer cannot run or shapes stop at an op it does not model; 2 bad input.
    """
    with user_errors("inspect", as_json):
        report = api.inspect(model, inputs, target, svg)
    if svg is None:
        emit(as_json, report)
    elif as_json:
        print(dumps({**report.to_dict(), "svg_files": [str(svg)]}))
    else:
        print(f"wrote the picture of {report.graph.source} to {svg}: {report.headline()}")
    if report.exit_code:
        raise typer.Exit(report.exit_code)
