"""The command line: parse, call the core, pick a renderer, map errors to exit codes."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from convcalc import __version__
from convcalc.errors import ConvCalcError, ExitCode
from convcalc.headline import (
    chain_headline,
    explain_headline,
    framework_shape_headline,
    port_headline,
    shape_headline,
    solve_headline,
    sweep_headline,
    verify_headline,
)
from convcalc.jsonout import dumps, envelope, error_document, shape_document
from convcalc.parse import check_seed, parse_int, parse_ints, parse_padding
from convcalc.reader import LayerOptions, dialect_arguments, framework_arguments, read_layer

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from convcalc.frameworks.base import FrameworkLayer


def integer(name: str, *, minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """An integer option read by ``parse_int`` (ASCII digits, at most MAX_DIGITS), not by int()."""

    def read(text: str | int) -> int:
        if isinstance(text, int):
            return text  # the option's default
        try:
            value = parse_int(name, text)
        except ConvCalcError as error:
            raise typer.BadParameter(str(error)) from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
            raise typer.BadParameter(f"{name} must be an integer {bounds}; got {value}")
        return value

    read.__name__ = "integer"
    return read


# Its range (check_seed) is checked by the command, so that --json gets the JSON error object.
SEED = integer("seed")


def _completion_wanted() -> bool:
    """Shell completion (typer.completion, about 3.5 ms of start-up) is built for `convcalc` itself, its
    --install-completion / --show-completion and completion requests; a run of one command skips it."""
    import os
    import sys

    commands = ("shape", "explain", "solve", "port", "verify", "sweep", "chain", "inspect")
    return "_CONVCALC_COMPLETE" in os.environ or not (len(sys.argv) > 1 and sys.argv[1] in commands)


app = typer.Typer(
    name="convcalc",
    help="Exact arithmetic of convolutions and transposed convolutions, proved by execution.",
    # Bare `convcalc` is a usage error: the usage on stderr, exit 2 (help stays on --help).
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=_completion_wanted(),
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def console(*, stderr: bool = False) -> Console:
    """Rich is imported only when something is printed for people: JSON output never pays for it."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


# Options shared by every command that describes one layer.
SizeArg = Annotated[str, typer.Argument(help="Input size: 7, 32x32 or 16x16x8.", show_default=False)]
KernelOpt = Annotated[
    Optional[str], typer.Option("--kernel-size", "-k", help="Kernel size, one value or per axis (3 or 3x5).")
]
StrideOpt = Annotated[str, typer.Option("--stride", "-s", help="Stride, one value or per axis.")]
PaddingOpt = Annotated[
    str,
    typer.Option(
        "--padding", "-p", help="Padding: 1, per axis 1x2, before:after 1:2, or same / valid / full."
    ),
]
OutputPaddingOpt = Annotated[
    str, typer.Option("--output-padding", help="output_padding of the transposed convolution.")
]
DilationOpt = Annotated[str, typer.Option("--dilation", "-d", help="Dilation, one value or per axis.")]
TransposedOpt = Annotated[
    bool, typer.Option("--transposed", "-t", help="The size is the transposed convolution's input.")
]
InChannelsOpt = Annotated[
    Optional[int], typer.Option("--in-channels", help="Input channels.", parser=integer("in_channels"))
]
OutChannelsOpt = Annotated[
    Optional[int], typer.Option("--out-channels", help="Output channels.", parser=integer("out_channels"))
]
GroupsOpt = Annotated[
    int,
    typer.Option(
        "--groups", "-g", help="Groups (must divide both channel counts).", parser=integer("groups")
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
FrameworkPaddingOpt = Annotated[
    Optional[str],
    typer.Option(
        "--padding",
        "-p",
        help="Padding: 1, per axis 1x2, before:after 1:2, or a word (same, valid, full; with --framework "
        "also that framework's words: same_upper, same_lower, causal, notset); default 0 or the framework's.",
    ),
]
UnsetOutputPaddingOpt = Annotated[
    Optional[str],
    typer.Option(
        "--output-padding", help="output_padding of the transposed convolution (MXNet adj); default 0 / None."
    ),
]
FrameworkOpt = Annotated[
    Optional[str],
    typer.Option(
        "--framework",
        "-f",
        help="Read the arguments exactly as this framework does: pytorch, tensorflow, keras, onnx, jax, "
        "flax, equinox, paddle, mxnet, caffe. Without it, convcalc's own arguments: PyTorch's names, "
        "plus 'same' on strided convolutions and before:after padding pairs.",
        show_default=False,
    ),
]
OutputSizeOpt = Annotated[
    Optional[str],
    typer.Option(
        "--output-size",
        help="Requested transposed output size (sets output_padding); with --framework: PyTorch "
        "output_size, TensorFlow / ONNX output_shape, Paddle output_size, MXNet target_shape.",
    ),
]
TransposeKernelOpt = Annotated[
    bool, typer.Option("--transpose-kernel", help="JAX / Flax: transpose_kernel=True (the adjoint's kernel).")
]


def example(commands: list[str]) -> str:
    """The epilog of a command's --help: its examples, one per line."""
    return "Examples:\n\n" + "\n\n".join(f"  $ {command}" for command in commands)


def _version(value: bool) -> None:
    if value:
        print(f"convcalc {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Exact arithmetic of convolutions and transposed convolutions, proved by execution."""


@contextmanager
def user_errors(command: str, as_json: bool) -> Iterator[None]:
    """Turn a ConvCalcError into exit code 2: a message on stderr, and a JSON error object with --json."""
    try:
        yield
    except ConvCalcError as error:
        if as_json:
            # Scripts get the JSON object; the stderr line stays plain so that rich is never loaded.
            print(dumps(error_document(command, error)))
            print(f"error: {error}", file=sys.stderr)
        else:
            from rich.markup import escape

            console(stderr=True).print(f"[bold red]error:[/bold red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(ExitCode.INVALID_INPUT) from None


def emit(
    as_json: bool,
    document: Callable[[], dict[str, Any]],
    view: Callable[[], RenderableType],
    headline: Callable[[], str] | None = None,
) -> None:
    """Print JSON or tables, both built from the same result objects, the one-line answer first.

    Nothing is cropped at the terminal's edge: tables too wide fold into blocks of columns
    (convcalc.present.render).
    """
    line = None if headline is None else headline()
    if as_json:
        from convcalc.headline import with_headline

        print(dumps(document() if line is None else with_headline(document(), line)))
    else:
        from rich.console import Group
        from rich.text import Text

        from convcalc.present.render import Fitted

        shown = view() if line is None else Group(Text(line, style="bold"), view())
        console().print(Fitted(shown), crop=False)


# The options that describe one layer, declared once: `layer_command` adds them to a command's
# signature and hands the command one LayerOptions.
SHARED_OPTIONS: dict[str, tuple[Any, Any]] = {
    "size": (SizeArg, inspect.Parameter.empty),
    "kernel_size": (KernelOpt, None),
    "stride": (StrideOpt, "1"),
    "padding": (FrameworkPaddingOpt, None),
    "output_padding": (UnsetOutputPaddingOpt, None),
    "dilation": (DilationOpt, "1"),
    "transposed": (TransposedOpt, False),
    "in_channels": (InChannelsOpt, None),
    "out_channels": (OutChannelsOpt, None),
    "groups": (GroupsOpt, 1),
    "framework": (FrameworkOpt, None),
    "output_size": (OutputSizeOpt, None),
    "transpose_kernel": (TransposeKernelOpt, False),
}


def layer_command(*, without: tuple[str, ...] = ()) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the shared layer options (less ``without``) and call it with ``layer=LayerOptions``."""
    names = [name for name in SHARED_OPTIONS if name not in without]

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "layer"]
        shared = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
            for name, (kind, default) in ((n, SHARED_OPTIONS[n]) for n in names)
        ]
        parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]

        @functools.wraps(func)
        def command(**values: Any) -> None:
            layer = LayerOptions(**{name: values.pop(name) for name in names})
            func(layer=layer, **values)

        all_parameters = [*shared, *parameters]
        command.__signature__ = inspect.Signature(all_parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in all_parameters}
        return command

    return decorate


def _framework_shape(as_json: bool, layer: FrameworkLayer) -> None:
    from convcalc.frameworks.documents import framework_shape_document
    from convcalc.frameworks.port import translate

    with user_errors("shape", as_json):
        pytorch = None if layer.framework == "pytorch" else translate(layer, "pytorch")

    def view() -> RenderableType:
        from convcalc.frameworks.views import framework_shape_view

        return framework_shape_view(layer, pytorch)

    emit(
        as_json,
        lambda: framework_shape_document(layer, pytorch),
        view,
        lambda: framework_shape_headline(layer, pytorch),
    )


@app.command(
    epilog=example(["convcalc shape 32 -k 3 -s 2 -p 1 -t", "convcalc shape 63 -k 4 -s 2 -p 1 --json"])
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
        ["convcalc explain 3x3 -k 4 -s 3 -t --section overlap", "convcalc explain 4x4 -k 3 --section matrix"]
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


def _optional(name: str, text: str | None) -> object:
    return None if text is None else parse_ints(name, text)


@app.command(epilog=example(["convcalc solve 32 64", "convcalc solve 64 32 --conv --top 3"]))
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

            from convcalc.frameworks import convention
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

        from convcalc.frameworks.views import framework_answers_view

        return Group(
            solve_view(report, shown, verified),
            framework_answers_view(framework, in_framework[: len(shown)], dropped),
        )

    def document() -> dict[str, Any]:
        doc = solve_document(report, shown, verified)
        if framework is not None and in_framework is not None:
            from convcalc.frameworks.documents import framework_answers_document

            doc["framework"] = framework_answers_document(framework, in_framework[: len(shown)], dropped)
        return doc

    emit(as_json, document, view, lambda: solve_headline(report, shown))
    if verified is not None and not all(verified):
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


@app.command(epilog=example(["convcalc port 16x16 -k 3 -s 2 -p same -t --from keras --to pytorch"]))
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
    from convcalc.frameworks.documents import port_document
    from convcalc.frameworks.port import port as port_layer

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
            from convcalc.frameworks.execute import check_port

            check = check_port(translation, check_seed(seed))

    def view() -> RenderableType:
        from convcalc.frameworks.views import port_view

        return port_view(translation, check)

    emit(as_json, lambda: port_document(translation, check), view, lambda: port_headline(translation, check))
    if check is not None and not check.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the random tensors (float64).", parser=SEED)]


@app.command(epilog=example(["convcalc verify 63 -k 4 -s 2 -p 1"]))
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
    from convcalc.verify.checks import verify_framework, verify_layer
    from convcalc.verify.document import verify_document

    with user_errors("verify", as_json):
        read = read_layer(layer)
        if read.framework_layer is not None:
            assert layer.framework is not None
            result = verify_framework(layer.framework, seed=seed, **vars(framework_arguments(layer)))
        else:
            assert read.arguments is not None
            result = verify_layer(**vars(read.arguments), seed=seed)

    def view() -> RenderableType:
        from convcalc.verify.render import verify_view

        return verify_view(result)

    emit(as_json, lambda: verify_document(result), view, lambda: verify_headline(result))
    if not result.passed:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


def _range_option(what: str) -> Any:
    return typer.Option(help=f"{what}: a range 1-7, values 1,3,5, or both.", show_default=True)


@app.command(epilog=example(["convcalc sweep --sizes 1-5 --ndims 1"]))
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


@app.command(epilog=example(["convcalc chain 'conv k3 s2 p1 | tconv k3 s2 p1 op1' 63"]))
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
    from pathlib import Path

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
            "convcalc inspect model.onnx --input 1x3x256x256",
            "convcalc inspect net.py:build --target onnxruntime",
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
        typer.Option("--target", help="Check portability to pytorch, tensorflow, keras, jax or onnxruntime."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Read a model; explain, check and fix every convolution. Exit 1 when a merge disagrees, a layer
    cannot run on the input or shapes stop at an op convcalc does not model; 2 for bad input.

    Example: convcalc inspect unet.onnx --input 1x3x255x255
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


def run() -> None:
    """Console-script entry point.

    Typer builds the Click parameters of every registered command before it dispatches, which costs
    more than answering a `shape` question; when the first argument names a command, only that one is
    built (help and errors for it read the same).
    """
    import sys

    def name(info: typer.models.CommandInfo) -> str | None:
        return info.name or (info.callback.__name__ if info.callback else None)

    wanted = [info for info in app.registered_commands if len(sys.argv) > 1 and name(info) == sys.argv[1]]
    if wanted:
        app.registered_commands = wanted
    if "--json" not in sys.argv[2:]:
        app(prog_name="convcalc")
        return
    # With --json a usage error (unknown option, missing argument) is a JSON error object too. Click's
    # UsageError is matched by name: typer vendors Click from 0.26 on, and its module path is private.
    try:
        code = app(prog_name="convcalc", standalone_mode=False)
    except typer.Abort:
        sys.exit(1)
    except Exception as error:
        if not any(kind.__name__ == "UsageError" for kind in type(error).__mro__):
            raise
        print(dumps(usage_error_document(sys.argv[1], error)))
        message = error.format_message()  # type: ignore[attr-defined]
        print(f"error: {message}", file=sys.stderr)
        sys.exit(ExitCode.INVALID_INPUT)
    sys.exit(code if isinstance(code, int) else 0)


def usage_error_document(command: str, error: Any) -> dict[str, Any]:
    """The JSON error object of a usage error, naming the option or argument when Click knows it."""
    parameter = getattr(error, "option_name", None)
    param = getattr(error, "param", None)
    if parameter is None and param is not None:
        parameter = param.name
    return envelope(command, error={"message": error.format_message(), "parameter": parameter})


if __name__ == "__main__":  # pragma: no cover
    run()
