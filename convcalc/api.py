"""One Python function per command: the command's arguments in, its result object out.

``convcalc.shape(32, 3, stride=2, padding=1, transposed=True)`` answers as ``convcalc shape 32 -k 3 -s 2
-p 1 -t`` does: each function takes the command's arguments by their option names (``kernel_size``,
``stride``, ``output_padding``, ... and port's ``source`` / ``target`` for ``--from`` / ``--to``), as
Python values (ints, tuples, pairs ``(before, after)``) or as the text the command line accepts
(``"32x32"``, ``"1:2"``, ``"same"``). The CLI calls the same functions, so a result's ``to_dict()`` is
the command's ``--json`` document; its repr is the command's one-line answer, and ``__rich__`` /
``_repr_html_`` show its tables. Invalid input raises ``ConvCalcError`` with the message the command
prints, naming keywords (``kernel_size=``) where the command names its options (``errors.option``).
Features are imported inside each function: ``import convcalc`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from convcalc.errors import ConvCalcError

if TYPE_CHECKING:
    from pathlib import Path

    from convcalc.chain.stack import ChainReport
    from convcalc.core import ShapeReport
    from convcalc.diff.report import DiffReport
    from convcalc.explain.results import ExplainReport
    from convcalc.inspect.report import InspectReport
    from convcalc.port.translate import Translation
    from convcalc.reader import LayerOptions
    from convcalc.shape.framework import FrameworkShape
    from convcalc.solve.answers import SolveReport
    from convcalc.verdict import SweepGrid, SweepReport, VerifyReport

__all__ = ["chain", "diff", "explain", "inspect", "port", "shape", "solve", "sweep", "verify"]


def _text(name: str, value: object, join: str = "x") -> str | None:
    """A value as the command line spells it: 3 -> '3', (32, 32) -> '32x32', ((1, 2),) -> '1:2'."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (tuple, list, range)) and len(value) > 0:
        parts = []
        for item in value:
            if isinstance(item, int) and not isinstance(item, bool):
                parts.append(str(item))
            elif isinstance(item, (tuple, list)) and len(item) == 2 and all(type(v) is int for v in item):
                parts.append(f"{item[0]}:{item[1]}")
            else:
                break
        else:
            return join.join(parts)
    raise ConvCalcError(
        f"{name} must be an integer, a tuple of integers (one per axis) or text such as '3x3'; got {value!r}"[
            :300
        ],
        parameter=name,
    )


def _integer(name: str, value: object, minimum: int | None = None) -> int:
    """An integer option given as an int or as the text the command line accepts."""
    from convcalc.parse import parse_int

    if isinstance(value, str):
        number = parse_int(name, value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ConvCalcError(f"{name} must be an integer; got {value!r}"[:300], parameter=name)
    if minimum is not None and number < minimum:
        raise ConvCalcError(f"{name} must be an integer >= {minimum}; got {number}", parameter=name)
    return number


def _optional_integer(name: str, value: object) -> int | None:
    return None if value is None else _integer(name, value)


# How each layer option of shape / verify / explain / port turns into the CLI's text (LayerOptions).
_LAYER_FIELDS: dict[str, Callable[[str, object], object]] = {
    "size": lambda name, value: _text(name, value) or "",
    "kernel_size": _text,
    "stride": lambda name, value: _text(name, value) or "1",
    "padding": _text,
    "output_padding": _text,
    "dilation": lambda name, value: _text(name, value) or "1",
    "transposed": lambda name, value: bool(value),
    "in_channels": _optional_integer,
    "out_channels": _optional_integer,
    "groups": _integer,
    "framework": lambda name, value: value,
    "output_size": _text,
    "transpose_kernel": lambda name, value: bool(value),
}


def _layer_options(arguments: Mapping[str, object]) -> LayerOptions:
    """The layer options among a command function's ``arguments`` (its ``locals()``), as the CLI builds
    them from its text; those the command does not take keep LayerOptions' defaults."""
    from convcalc.reader import LayerOptions

    given = {name: read(name, arguments[name]) for name, read in _LAYER_FIELDS.items() if name in arguments}
    return LayerOptions(**given)  # type: ignore[arg-type]


def shape(
    size: object,
    kernel_size: object = None,
    *,
    stride: object = 1,
    padding: object = None,
    output_padding: object = None,
    dilation: object = 1,
    transposed: bool = False,
    in_channels: object = None,
    out_channels: object = None,
    groups: object = 1,
    framework: str | None = None,
    output_size: object = None,
    transpose_kernel: bool = False,
) -> ShapeReport | FrameworkShape:
    """`convcalc shape`: a convolution and its transposed twin, or (``framework=``) a layer as that
    framework reads it.

    >>> import convcalc
    >>> convcalc.shape(32, 3, stride=2, padding=1, transposed=True)
    <ShapeReport: transposed 32 -> 63 (k3 s2 p1). output_padding=1 gives 64; sizes 63..64 are reachable.>
    """
    from convcalc.reader import read_layer

    read = read_layer(_layer_options(locals()))
    if read.framework_layer is not None:
        from convcalc.shape.framework import framework_shape

        return framework_shape(read.framework_layer)
    assert read.report is not None
    return read.report


def verify(
    size: object,
    kernel_size: object = None,
    *,
    stride: object = 1,
    padding: object = None,
    output_padding: object = None,
    dilation: object = 1,
    transposed: bool = False,
    in_channels: object = None,
    out_channels: object = None,
    groups: object = 1,
    framework: str | None = None,
    output_size: object = None,
    transpose_kernel: bool = False,
    seed: object = 0,
) -> VerifyReport:
    """`convcalc verify`: the layer's sizes proved by execution (``.passed`` is False when a check fails)."""
    from convcalc.reader import read_layer
    from convcalc.verify.checks import verify_framework_layer, verify_layer

    read = read_layer(_layer_options(locals()))
    if read.framework_layer is not None:
        # The layer read once above: its framework's rules are not applied a second time.
        return verify_framework_layer(read.framework_layer, seed=_integer("seed", seed))
    assert read.arguments is not None
    return verify_layer(**read.arguments._asdict(), seed=_integer("seed", seed))


def _range_text(name: str, value: object) -> str:
    text = _text(name, value, join=",")
    assert text is not None
    return text


def sweep(
    sizes: object = "1-8",
    kernel_sizes: object = "1-4",
    strides: object = "1-3",
    paddings: object = "0-2",
    dilations: object = "1-2",
    output_paddings: object = "0-2",
    ndims: object = "1-3",
    *,
    seed: object = 0,
) -> SweepReport:
    """`convcalc sweep`: every configuration of a grid verified (ranges '1-7', values '1,3,5' or tuples)."""
    from convcalc.verify.sweep import sweep as run_sweep

    return run_sweep(
        sweep_grid(sizes, kernel_sizes, strides, paddings, dilations, output_paddings, ndims),
        seed=_integer("seed", seed),
    )


def sweep_grid(
    sizes: object = "1-8",
    kernel_sizes: object = "1-4",
    strides: object = "1-3",
    paddings: object = "0-2",
    dilations: object = "1-2",
    output_paddings: object = "0-2",
    ndims: object = "1-3",
) -> SweepGrid:
    """The grid of `sweep` (the CLI builds it first, to size its progress bar)."""
    from convcalc.verify.sweep import sweep_grid as grid

    return grid(
        sizes=_range_text("sizes", sizes),
        kernel_sizes=_range_text("kernel_sizes", kernel_sizes),
        strides=_range_text("strides", strides),
        paddings=_range_text("paddings", paddings),
        dilations=_range_text("dilations", dilations),
        output_paddings=_range_text("output_paddings", output_paddings),
        ndims=_range_text("ndims", ndims),
    )


def explain(
    size: object,
    kernel_size: object = None,
    *,
    stride: object = 1,
    padding: object = None,
    output_padding: object = None,
    dilation: object = 1,
    transposed: bool = False,
    in_channels: object = None,
    out_channels: object = None,
    groups: object = 1,
    output_size: object = None,
    layers: object = 1,
    svg: str | Path | None = None,
    figure: str = "direct",
    placement: object = None,
    section: str | Sequence[str] | None = None,
) -> ExplainReport:
    """`convcalc explain`: the matrix view, the direct form step by step, the contributions, the overlap
    map (``section`` picks some of them: 'matrix,overlap' or a list); ``svg`` writes a figure."""
    from pathlib import Path

    from convcalc.explain.results import ExplainReport
    from convcalc.explain.steps import SECTIONS
    from convcalc.explain.steps import explain as explain_layer
    from convcalc.explain.svg import check_request, write_figure
    from convcalc.overlap import overlap_map, repeat_layer
    from convcalc.reader import dialect_arguments

    path = None if svg is None else Path(svg)
    place = _optional_integer("placement", placement)
    check_request(path, figure, place)
    options = _layer_options(locals())
    report = dialect_arguments(options).report()
    text = section if section is None or isinstance(section, str) else ",".join(section)
    chosen = parse_sections(text, SECTIONS)
    explanation = explain_layer(report, chosen, strict=section is not None)
    twin_exists = all(a.output >= 1 for a in report.transposed)
    stacked = _integer("layers", layers)
    overlap = (
        overlap_map(repeat_layer(report.transposed, stacked)) if "overlap" in chosen and twin_exists else None
    )
    written = [] if path is None else write_figure(report.transposed, path, figure, place, stacked)
    return ExplainReport(explanation, overlap, tuple(written), figure_only=bool(written) and section is None)


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


def port(
    size: object,
    kernel_size: object = None,
    *,
    source: str,
    target: str,
    stride: object = 1,
    padding: object = None,
    output_padding: object = None,
    dilation: object = 1,
    transposed: bool = False,
    in_channels: object = None,
    out_channels: object = None,
    groups: object = 1,
    output_size: object = None,
    transpose_kernel: bool = False,
    verify: bool = False,
    seed: object = 0,
) -> Translation:
    """`convcalc port --from SOURCE --to TARGET`: the layer in the target's arguments, with the weight
    change and the exact fix; ``verify=True`` runs both in the NumPy engine (``.check``)."""
    from dataclasses import replace

    from convcalc.parse import check_seed
    from convcalc.port.translate import port as port_layer
    from convcalc.reader import framework_arguments

    options = _layer_options(locals())
    translation = port_layer(
        source,
        target,
        in_channels=options.in_channels,
        out_channels=options.out_channels,
        groups=options.groups,
        **framework_arguments(options)._asdict(),
    )
    if not verify:
        return translation
    from convcalc.port.execute import check_port

    return replace(translation, check=check_port(translation, check_seed(_integer("seed", seed))))


def solve(
    size: object,
    target: object,
    *,
    conv: bool = False,
    kernel_size: object = None,
    stride: object = None,
    padding: object = None,
    output_padding: object = None,
    dilation: object = None,
    max_kernel: object = 7,
    max_stride: object = 4,
    max_dilation: object = 2,
    strict: bool = False,
    show_all: bool = False,
    verify: bool = False,
    top: object = 10,
    framework: str | None = None,
) -> SolveReport:
    """`convcalc solve`: which layers map ``size`` to ``target`` exactly, best first (the first ``top``
    shown, or all); ``framework=`` keeps those it expresses exactly, ``verify=True`` runs the shown ones."""
    from dataclasses import replace

    from convcalc.parse import parse_ints, parse_padding
    from convcalc.solve.answers import Bounds, FrameworkAnswers
    from convcalc.solve.solver import solve as solve_layer

    def fixed(name: str, value: object) -> object:
        text = _text(name, value)
        return None if text is None else parse_ints(name, text)

    padding_text = _text("padding", padding)
    report = solve_layer(
        parse_ints("size", _text("size", size) or ""),
        parse_ints("target", _text("target", target) or ""),
        transposed=not conv,
        bounds=Bounds(
            _integer("max_kernel", max_kernel),
            _integer("max_stride", max_stride),
            _integer("max_dilation", max_dilation),
            strict,
        ),
        kernel_size=fixed("kernel_size", kernel_size),
        stride=fixed("stride", stride),
        dilation=fixed("dilation", dilation),
        padding=None if padding_text is None else parse_padding(padding_text),
        output_padding=fixed("output_padding", output_padding),
    )
    report = replace(report, top=None if show_all else _integer("top", top, minimum=1))
    if framework is not None:
        from convcalc.conventions import convention
        from convcalc.solve.frameworks import exact_in

        name = convention(framework).name
        kept = exact_in(name, report.answers)
        in_framework = FrameworkAnswers(name, tuple(t for _, t in kept), len(report.answers) - len(kept))
        report = replace(report, answers=tuple(answer for answer, _ in kept), framework=in_framework)
    if verify:
        from convcalc.solve.execute import verify_answer

        report = replace(report, verified=tuple(verify_answer(answer) for answer in report.shown))
    return report


def chain(
    layers: str | Path,
    size: object = None,
    *,
    channels: object = None,
    size_range: object = None,
) -> ChainReport:
    """`convcalc chain`: sizes after every layer ('conv k3 s2 p1 | tconv k3 s2 p1 op1', or a .json /
    .toml file), skip-connection mismatches, accepted input sizes; ``size_range='LOW:HIGH'`` (or a pair)
    lists the restoring sizes in it.

    >>> import convcalc
    >>> report = convcalc.chain("conv k3 s2 p1 | tconv k3 s2 p1 op1", 64)
    >>> report
    <ChainReport: input 64 -> output 64; every skip connection matches (1).>
    >>> report.to_dict()["layers"][0]["output"]
    [32]
    """
    from dataclasses import replace
    from pathlib import Path

    from convcalc.chain.parse import ChainSpec, parse_chain, read_chain_file
    from convcalc.chain.report import chain_report
    from convcalc.parse import parse_int, parse_ints

    text = str(layers)
    # A file is named by its suffix; anything else is the compact form (never stat'ed).
    if isinstance(layers, Path) or ("|" not in text and Path(text).suffix.lower() in (".json", ".toml")):
        spec = read_chain_file(Path(text))
    else:
        spec = ChainSpec(parse_chain(text))
    size_text = _text("size", size)
    given = parse_ints("size", size_text) if size_text is not None else spec.size
    count = _optional_integer("channels", channels)
    report = chain_report(
        spec.layers,
        None if given is None else ((given,) if isinstance(given, int) else given),
        count if count is not None else spec.in_channels,
    )
    if size_range is None:
        return report
    range_text = str(size_range) if isinstance(size_range, str) else _text("range", size_range, join=":")
    assert range_text is not None
    low_text, sep, high_text = range_text.partition(":")
    if not sep:
        raise ConvCalcError(f"range must be LOW:HIGH; got {range_text[:40]!r}", parameter="range")
    low, high = (parse_int("range", part, minimum=0) for part in (low_text, high_text))
    if low > high:
        raise ConvCalcError(f"range must be LOW:HIGH with LOW <= HIGH; got {low}:{high}", parameter="range")
    listed = {a.axis: a.restores.within(low, high) for a in report.accepted if a.restores is not None}
    return replace(report, listed=listed)


def inspect(
    model: str | Path,
    inputs: object = None,
    target: str | None = None,
    svg: str | Path | None = None,
    *,
    input: object = None,  # the CLI's option name, --input
) -> InspectReport:
    """`convcalc inspect`: read a model (an .onnx, .keras, .h5 or .tflite file, or 'file.py:factory');
    ``inputs`` (or ``input``, as the CLI's --input) are full input shapes, one per model input
    ('1x3x256x256' or (1, 3, 256, 256)); ``target`` checks
    portability to a framework; ``svg`` draws the model to that .svg file (its path checked first, its
    size before the analysis). ``.exit_code`` is the command's exit code."""
    from convcalc.inspect.analysis import inspect_graph
    from convcalc.inspect.load import load_graph, parse_input

    if svg is not None:
        from pathlib import Path

        from convcalc.inspect.svg import check_budget, check_svg_path, inspect_svg, write_svg

        check_svg_path(Path(svg))
    if input is not None:
        if inputs is not None:
            raise ConvCalcError("give the input shapes once: input= or inputs=, not both", parameter="input")
        inputs = input
    shapes = None
    if inputs:
        if not isinstance(inputs, (str, tuple, list)):
            raise ConvCalcError(f"inputs must be a list of shapes; got {inputs!r}"[:300], parameter="input")
        one = isinstance(inputs, str) or all(isinstance(v, int) for v in inputs)
        shapes = [parse_input(_text("input", shape) or "") for shape in ([inputs] if one else inputs)]
    graph = load_graph(str(model), shapes)
    if svg is None:
        return inspect_graph(graph, shapes, target)
    check_budget(graph)
    report = inspect_graph(graph, shapes, target)
    write_svg(inspect_svg(report), Path(svg))
    return report


def _shapes(name: str, value: object) -> list[tuple[int, ...]]:
    """One shape ('1x3x64x64' or (1, 3, 64, 64)) or a list of them, one per model input."""
    from convcalc.inspect.load import parse_input

    if not isinstance(value, (str, tuple, list)) or not value:
        raise ConvCalcError(
            f"{name} must be a shape such as '1x3x64x64' or a list of them; got {value!r}"[:300],
            parameter=name,
        )
    one = isinstance(value, str) or all(isinstance(v, int) for v in value)
    return [parse_input(_text(name, shape) or "", name) for shape in ([value] if one else value)]


def diff(
    a: str | Path,
    b: str | Path,
    input: object = None,
    input_b: object = None,
    svg: str | Path | None = None,
) -> DiffReport:
    """`convcalc diff A B --input SHAPE`: both models layer by layer on A's input (its full shape in A's
    layout, '1x3x64x64' or (1, 3, 64, 64), a list of them for several inputs; None: the shape A's file
    fixes, refused when A leaves a size open); ``input_b`` gives B's
    shapes instead of A's with the axes in B's order; ``svg`` draws both models to that .svg file (its
    path checked first). ``.same`` says whether every layer and output is the same, ``.exit_code`` is the
    command's exit code."""
    from convcalc.diff.report import diff_models

    if svg is not None:
        from pathlib import Path

        from convcalc.inspect.svg import check_svg_path

        check_svg_path(Path(svg))
    shapes = [] if input is None else _shapes("input", input)
    shapes_b = None if input_b is None else _shapes("input_b", input_b)
    report = diff_models(str(a), str(b), shapes, shapes_b)
    if svg is not None:
        from convcalc.diff.svg import diff_svg
        from convcalc.inspect.svg import write_svg

        write_svg(diff_svg(report), Path(svg))
    return report
