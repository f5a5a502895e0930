"""Commands over many layers or answers: solve, sweep, chain, inspect."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from convcalc.errors import ConvCalcError, ExitCode
from convcalc.headline import (
    chain_headline,
    solve_headline,
    sweep_headline,
)
from convcalc.parse import parse_int, parse_ints, parse_padding

if TYPE_CHECKING:
    from rich.console import RenderableType

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
            help="Keep the answers this framework expresses exactly and show them in its arguments.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Which kernel, stride, padding, output_padding and dilation map SIZE to TARGET exactly, best first."""
    from convcalc.solve.document import solve_document
    from convcalc.solve.solver import Bounds
    from convcalc.solve.solver import solve as solve_layer

    with user_errors("solve", as_json):
        report = solve_layer(
            parse_ints("size", size),
            parse_ints("target", target),
            transposed=not conv,
            bounds=Bounds(max_kernel, max_stride, max_dilation, strict),
            kernel_size=_optional("kernel_size", kernel_size),
            stride=_optional("stride", stride),
            dilation=_optional("dilation", dilation),
            padding=None if padding is None else parse_padding(padding),
            output_padding=_optional("output_padding", output_padding),
        )
        in_framework = None
        if framework is not None:
            from dataclasses import replace

            from convcalc.conventions import convention
            from convcalc.solve.frameworks import exact_in

            framework = convention(framework).name
            kept = exact_in(framework, report.answers)
            dropped = len(report.answers) - len(kept)
            report = replace(report, answers=tuple(answer for answer, _ in kept))
            in_framework = [t for _, t in kept]
        shown = report.answers if show_all else report.answers[:top]
        verified: list[bool] | None = None
        if verify:
            from convcalc.solve.execute import verify_answer

            verified = [verify_answer(answer) for answer in shown]

    def view() -> RenderableType:
        from convcalc.solve.render import solve_view

        if framework is None or in_framework is None:
            return solve_view(report, shown, verified)
        from rich.console import Group

        from convcalc.port.render import framework_answers_view

        return Group(
            solve_view(report, shown, verified),
            framework_answers_view(framework, in_framework[: len(shown)], dropped),
        )

    def document() -> dict[str, Any]:
        doc = solve_document(report, shown, verified)
        if framework is not None and in_framework is not None:
            from convcalc.port.document import framework_answers_document

            doc["framework"] = framework_answers_document(framework, in_framework[: len(shown)], dropped)
        return doc

    emit(as_json, document, view, lambda: solve_headline(report, shown))
    if verified is not None and not all(verified):
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


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
    from convcalc.verify.document import sweep_document
    from convcalc.verify.sweep import sweep as run_sweep
    from convcalc.verify.sweep import sweep_grid

    with user_errors("sweep", as_json):
        grid = sweep_grid(
            sizes=sizes,
            kernel_sizes=kernel_sizes,
            strides=strides,
            paddings=paddings,
            dilations=dilations,
            output_paddings=output_paddings,
            ndims=ndims,
        )
        from convcalc.verify.render import progress_bar

        with progress_bar(grid.count, console(stderr=True)) as progress:
            report = run_sweep(grid, seed=seed, progress=progress)

    def view() -> RenderableType:
        from convcalc.verify.render import sweep_view

        return sweep_view(report)

    emit(as_json, lambda: sweep_document(report), view, lambda: sweep_headline(report))
    if not report.passed:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


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
    """Sizes after every layer, skip-connection mismatches, accepted input sizes, receptive field."""

    from convcalc.chain.document import chain_document
    from convcalc.chain.parse import ChainSpec, parse_chain, read_chain_file
    from convcalc.chain.stack import chain_report

    with user_errors("chain", as_json):
        # A file is named by its suffix; anything else is the compact form (never stat'ed).
        if "|" not in layers and Path(layers).suffix.lower() in (".json", ".toml"):
            spec = read_chain_file(Path(layers))
        else:
            spec = ChainSpec(parse_chain(layers))
        given = parse_ints("size", size) if size is not None else spec.size
        report = chain_report(
            spec.layers,
            None if given is None else ((given,) if isinstance(given, int) else given),
            channels if channels is not None else spec.in_channels,
        )
        listed = None
        if size_range is not None:
            low_text, sep, high_text = size_range.partition(":")
            if not sep:
                raise ConvCalcError(f"range must be LOW:HIGH; got {size_range[:40]!r}", parameter="range")
            low, high = (parse_int("range", text, minimum=0) for text in (low_text, high_text))
            if low > high:
                raise ConvCalcError(
                    f"range must be LOW:HIGH with LOW <= HIGH; got {low}:{high}", parameter="range"
                )
            listed = {a.axis: a.restores.within(low, high) for a in report.accepted}

    def view() -> RenderableType:
        from convcalc.chain.render import chain_view

        return chain_view(report, listed)

    emit(as_json, lambda: chain_document(report, listed), view, lambda: chain_headline(report))


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
            help="An .onnx or .keras file, or a PyTorch module: path/to/file.py:factory or "
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
    as_json: JsonOpt = False,
) -> None:
    """Read a model (ONNX, Keras, PyTorch); explain, check and fix every convolution in it.

    Exit 1 when a merge disagrees, a layer cannot run or shapes stop at an op it does not model; 2 bad input.
    """
    from convcalc.inspect.analysis import inspect_graph
    from convcalc.inspect.document import inspect_document
    from convcalc.inspect.load import load_graph, parse_input

    with user_errors("inspect", as_json):
        shapes = None if not inputs else [parse_input(text) for text in inputs]
        report = inspect_graph(load_graph(model, shapes), shapes, target)

    def view() -> RenderableType:
        from convcalc.inspect.render import inspect_view

        return inspect_view(report)

    emit(as_json, lambda: inspect_document(report), view)
    if report.exit_code:
        raise typer.Exit(report.exit_code)
