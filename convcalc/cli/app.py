"""The application, its shared options and the one path from errors to exit codes; the commands live
in ``layer_commands`` (one layer: shape, explain, port, verify) and ``commands`` (solve, sweep, chain,
inspect)."""

from __future__ import annotations

import copy
import functools
import gc
import inspect
import re
import sys
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from convcalc import __version__
from convcalc.errors import NO_VALUE, SPELLING, ConvCalcError, ExitCode
from convcalc.jsonout import dumps, envelope, error_document
from convcalc.parse import parse_int
from convcalc.reader import LayerOptions

if TYPE_CHECKING:
    from rich.console import Console

    from convcalc.core.display import Presentable


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

    commands = ("shape", "explain", "solve", "port", "verify", "sweep", "chain", "inspect", "diff")
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

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich's own handler exits 1, which here means a verification disagreement.
            self.quiet = True
            closed_pipe()

    # emoji=False: a name like "up.py:x:" in a message must not turn into a picture.
    return PipeConsole(stderr=stderr, highlight=False, emoji=False)


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

SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the random tensors (float64).", parser=SEED)]


def example(examples: list[tuple[str, str]]) -> str:
    """The epilog of a command's --help: each example as a one-line description, then the command."""
    return "Examples:\n\n" + "\n\n".join(f"  {what}:\n  $ {command}" for what, command in examples)


NEGATIVE = re.compile(r"-\d[\dx:,.]*")


class NumbersMayBeNegative(typer.core.TyperCommand):
    """A command whose arguments may look like negative numbers: `shape -5 -k 3` reads -5 as the size
    (which its reader then refuses by name, exit 2) instead of Click's "No such option: -5".

    Click takes any token starting with '-' for an option. When a token looks like a negative number
    (no option of convcalc starts with a digit) the arguments are reordered: options and their values
    first, then `--`, then the arguments in their order, so that Click reads them as arguments.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if any(NEGATIVE.fullmatch(token) for token in args):
            args = self._arguments_last(args)
        return super().parse_args(ctx, args)

    def _arguments_last(self, args: list[str]) -> list[str]:
        takes_value = {
            name: not (getattr(param, "is_flag", False) or getattr(param, "count", False))
            for param in self.params
            if param.param_type_name == "option"
            for name in [*param.opts, *param.secondary_opts]
        }
        options: list[str] = []
        arguments: list[str] = []
        tokens = iter(args)
        for token in tokens:
            if token == "--":
                arguments.extend(tokens)
                break
            if not token.startswith("-") or token == "-" or NEGATIVE.fullmatch(token):
                arguments.append(token)
                continue
            options.append(token)
            name = token.split("=", 1)[0] if token.startswith("--") else token[:2]
            attached = "=" in token if token.startswith("--") else len(token) > 2
            if takes_value.get(name, False) and not attached:
                value = next(tokens, None)
                if value is not None:
                    options.append(value)
        return [*options, "--", *arguments]


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
    """Turn a ConvCalcError into exit code 2: a message on stderr, and a JSON error object with --json.

    Inside, messages name parameters as this command's options (``--kernel-size (-k)``), not as the
    Python API's keywords.
    """
    spelling = SPELLING.set(command_spelling(command))
    try:
        yield
    except ConvCalcError as error:
        if as_json:
            # Scripts get the JSON object; the stderr line stays plain so that rich is never loaded.
            try:
                print(dumps(error_document(command, error)), flush=True)
            except BrokenPipeError:
                closed_pipe(ExitCode.INVALID_INPUT)
            print(f"error: {error}", file=sys.stderr)
        else:
            from rich.markup import escape

            console(stderr=True).print(f"[bold red]error:[/bold red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(ExitCode.INVALID_INPUT) from None
    finally:
        SPELLING.reset(spelling)


def command_spelling(command: str) -> Callable[[str, object], str]:
    """How ``command``'s messages name a parameter: ``--kernel-size (-k)``, ``--kernel-size 3``, ``--from``.

    Read from the command's own option declarations; a flag given True is named; a parameter the
    command does not declare reads as its long form.
    """
    declared: dict[str, list[str]] = {}
    for info in app.registered_commands:
        if info.callback is not None and (info.name or info.callback.__name__) == command:
            for parameter in inspect.signature(info.callback, eval_str=True).parameters.values():
                for extra in getattr(parameter.annotation, "__metadata__", ()):
                    if isinstance(extra, typer.models.OptionInfo):
                        # typer keeps the first name given in ``default`` and the others in param_decls
                        given = (extra.default, *(extra.param_decls or ()))
                        names = [n for n in given if isinstance(n, str) and n.startswith("-")]
                        declared[parameter.name] = sorted(names, key=len, reverse=True)

    def spell(name: str, value: object = NO_VALUE) -> str:
        long, *short = declared.get(name, ["--" + name.replace("_", "-")])
        if value is NO_VALUE or value is True:
            return f"{long} ({short[0]})" if short else long
        return f"{long} {value}"

    return spell


def emit(as_json: bool, result: Presentable) -> None:
    """Print a result as JSON (``to_dict``) or as its headline and tables (``__rich__``): every command
    the same way, both built by its feature's presentation module from the same result object.

    Nothing is cropped at the terminal's edge: tables too wide fold into blocks of columns
    (convcalc.render.Fitted).
    """
    try:
        if as_json:
            print(dumps(result.to_dict()))
            sys.stdout.flush()
        else:
            # Rich and the feature's renderer are imported here, and what they build lives until exit:
            # collection stays paused while they load, as it does for the CLI's own modules.
            collecting = gc.isenabled()
            gc.disable()
            try:
                out, tables = console(), result.__rich__()
            finally:
                gc.freeze()
                if collecting:
                    gc.enable()
            out.print(tables, crop=False)
    except BrokenPipeError:
        closed_pipe()


# The reader of stdout went away (`convcalc ... | head`): not a verification disagreement (1) nor bad
# input (2). 128 + SIGPIPE is what a shell reports for a program that SIGPIPE ended.


def closed_pipe(code: int = ExitCode.CLOSED_PIPE) -> None:
    """Python's advice for a closed pipe (docs.python.org/3/library/signal.html, "Note on SIGPIPE"):
    point stdout at devnull so the flush at exit cannot raise again, then exit with ``code`` (bad input
    stays exit 2 whether or not its JSON error object could be read)."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(code)


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


# The shared options' help in convcalc's own dialect, for commands that take no --framework.
DIALECT_HELPS = {
    "padding": "Padding: 1, per axis 1x2, before:after 1:2, or same / valid / full; default 0.",
    "output_padding": "output_padding of the transposed convolution; default 0.",
    "output_size": "Requested transposed output size (sets output_padding).",
}


def _with_help(kind: Any, text: str) -> Any:
    """The same option, with a command's own help text."""
    base, info, *rest = typing.get_args(kind)
    info = copy.copy(info)
    info.help = text
    arguments = (base, info, *rest)
    return Annotated[arguments]


def layer_command(
    *, without: tuple[str, ...] = (), helps: dict[str, str] | None = None
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the shared layer options (less ``without``) and call it with ``layer=LayerOptions``.

    ``helps`` replaces the help text of some of them, for a command that reads them its own way; a
    command without ``--framework`` gets texts that do not mention it.
    """
    names = [name for name in SHARED_OPTIONS if name not in without]
    texts = {**(DIALECT_HELPS if "framework" in without else {}), **(helps or {})}
    options = {
        name: (_with_help(kind, texts[name]) if name in texts else kind, default)
        for name, (kind, default) in SHARED_OPTIONS.items()
    }

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "layer"]
        shared = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
            for name, (kind, default) in ((n, options[n]) for n in names)
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


def run() -> None:
    """Console-script entry point.

    Typer builds the Click parameters of every registered command before it dispatches, which costs
    more than answering a `shape` question; when the first argument names a command, only that one is
    built (help and errors for it read the same).
    """
    gc.freeze()  # what start-up built lives until exit: later collections need not walk it again
    # A command builds its answer from many small objects that live until it prints (inspect: tens of
    # thousands of node runs); collecting every 700 allocations walked them again and again (15-20 ms of
    # a 500-node inspect). Cycles are still collected, less often.
    gc.set_threshold(50_000, 20, 20)

    def name(info: typer.models.CommandInfo) -> str | None:
        return info.name or (info.callback.__name__ if info.callback else None)

    wanted = [info for info in app.registered_commands if len(sys.argv) > 1 and name(info) == sys.argv[1]]
    if wanted:
        app.registered_commands = wanted
    try:
        _dispatch()
    except BrokenPipeError:
        closed_pipe()


def _dispatch() -> None:
    """Run the app; stdout is flushed here so that a closed pipe raises where ``run`` catches it."""
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        # Help wins over --json: `convcalc --json -h` shows the help, as `convcalc -h --json` does.
        sys.argv = [arg for arg in sys.argv if arg != "--json"]
    if "--json" not in sys.argv[1:]:
        try:
            app(prog_name="convcalc")
        finally:
            sys.stdout.flush()
        return
    # With --json a usage error (unknown option, missing argument) is a JSON error object too. Click's
    # UsageError is matched by name: typer vendors Click from 0.26 on, and its module path is private.
    try:
        code = app(prog_name="convcalc", standalone_mode=False)
        sys.stdout.flush()
    except typer.Abort:
        sys.exit(1)
    except Exception as error:
        if not any(kind.__name__ == "UsageError" for kind in type(error).__mro__):
            raise
        try:
            command = sys.argv[1] if not sys.argv[1].startswith("-") else "convcalc"
            print(dumps(usage_error_document(command, error)), flush=True)
        except BrokenPipeError:
            closed_pipe(ExitCode.INVALID_INPUT)
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
