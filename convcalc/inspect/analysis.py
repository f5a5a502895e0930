"""`convcalc inspect`'s findings: per-layer rows, merges and their re-checked fixes, accepted sizes,
receptive fields and portability, all from one Graph and the core. Pure integers.

MACs follow the convention of torch.utils.flop_counter (FLOPs = 2 x MACs): a convolution does
(in_channels/groups) * prod(kernel) products per output element and out channel; a transposed
convolution scatters every *input* element through (out_channels/groups) * prod(kernel) taps, so its
count is per input element, whatever its crops (counters that count per output overstate stride-2
transposed layers).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from convcalc.conventions import FRAMEWORKS
from convcalc.core.display import Presentable
from convcalc.errors import ConvCalcError, ExitCode
from convcalc.graph.fields import receptive_fields
from convcalc.graph.formulas import shape_formulas
from convcalc.graph.model import ConvSpec, DenseSpec, Graph, Node
from convcalc.graph.shapes import NodeRun, Run, Shape, propagate, spatial_axes
from convcalc.graph.sizes import MAX_INPUT, AxisSizes, all_axes, run_graph, smallest_running
from convcalc.inspect.fixes import explicit_pads_fix, merge_fixes, operand_path, spatial_letters
from convcalc.overlap import Suggestion, overlap_pattern, suggest

TARGETS = FRAMEWORKS  # every convention port knows; aliases (onnxruntime, torch, tf...) too
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class LayerRow:
    """One node as it ran: its arguments, canonical pads/crops, sizes, drops, checkerboard and work."""

    index: int
    name: str
    op: str
    kind: str
    arguments: tuple[tuple[str, str], ...]
    placement: tuple[tuple[int, int], ...] | None
    input_shape: Shape
    output_shape: Shape
    dropped: tuple[int, ...]
    overlap: tuple[tuple[int, ...], ...] | None
    parameters: int | None
    macs: int | None
    notes: tuple[str, ...]
    # the output shape in words, as functions of the input's spatial sizes (``H/2``), where they follow
    formula: tuple[str, ...] | None = None
    # the sizes are those the layer has once the fixes of the disagreeing merges before it are applied
    with_fixes: bool = False

    @property
    def checkerboard(self) -> bool:
        return self.overlap is not None and any(len(set(p)) > 1 for p in self.overlap)


@dataclass(frozen=True)
class Merge:
    """A merge whose operands disagree for the given input: each operand's path, and re-checked fixes."""

    index: int
    name: str
    op: str
    shapes: tuple[Shape, ...]
    paths: tuple[tuple[str, ...], ...]
    message: str
    fixes: tuple[str, ...]
    # agrees once the fixes of the merges before it are applied: a knock-on, not a cause of its own
    knock_on: bool = False


@dataclass(frozen=True)
class Finding:
    severity: str
    kind: str
    node: str | None
    message: str
    fix: str | None = None


@dataclass(frozen=True, repr=False)
class InspectReport(Presentable):
    """A model read and analysed: its layers, merges, accepted sizes, receptive fields and findings."""

    graph: Graph
    input_shapes: tuple[Shape, ...]
    size_given: bool
    run: Run
    layers: tuple[LayerRow, ...]
    merges: tuple[Merge, ...]
    axes: tuple[AxisSizes, ...]
    fields: tuple[tuple[str, tuple[int | None, ...]], ...]
    findings: tuple[Finding, ...]
    target: str | None

    presenter = "convcalc.inspect.present"

    @property
    def runs(self) -> bool:
        """Whether every node was reached and runs: no refusal, no disagreeing merge, no stop."""
        return self.run.ok and not self.run.stopped

    @property
    def exit_code(self) -> ExitCode:
        """1 when a merge disagrees, a layer cannot run (empty output, refusal) or shapes stop at an op
        convcalc does not model (the model is then not shown to run); else 0."""
        return ExitCode.OK if self.runs else ExitCode.VERIFICATION_FAILED

    @property
    def parameters(self) -> int:
        """Every parameter of the model as the reader counts them (ONNX: its floating-point
        initializers; PyTorch: sum of p.numel()), else the sum over the listed layers."""
        if self.graph.parameters is not None:
            return self.graph.parameters
        return sum(r.parameters or 0 for r in self.layers)

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(self.input_shapes[0][a.tensor_axis] for a in self.axes)


# ---------------------------------------------------------------------------------------------------
# Input shapes.


def input_layout(graph: Graph) -> str:
    for node in graph.nodes:
        if (
            graph.inputs
            and graph.inputs[0].name in node.inputs
            and node.kind in ("conv", "conv_transpose", "pool")
        ):
            return node.layout
    return graph.nodes[0].layout if graph.nodes else "channels_first"


def input_axes(graph: Graph, rank: int) -> tuple[int, ...]:
    """The spatial axes of the first input: after batch and channels, or for a (batch, length) input with
    no channel axis (an audio encoder that adds it itself), the length."""
    if rank == 2 and any(n.kind in ("conv", "conv_transpose", "pool") for n in graph.nodes):
        return (1,)
    return spatial_axes(input_layout(graph), rank)


def resolve_inputs(
    graph: Graph, given: Sequence[Shape] | None, option: str = "--input"
) -> tuple[tuple[Shape, ...], bool, bool]:
    """The concrete input shapes, whether the user gave them, and whether spatial sizes were symbolic;
    errors in the given shapes name ``option``, the option they came from."""
    if not graph.inputs:
        raise ConvCalcError(f"{graph.source}: the model has no data input", parameter="model")
    if given is not None:
        if len(given) != len(graph.inputs):
            raise ConvCalcError(
                f"{option} gives {len(given)} shape(s); {graph.source} has {len(graph.inputs)} data input(s)",
                parameter=option.lstrip("-").replace("-", "_"),
            )
        for tensor, shape in zip(graph.inputs, given):
            if tensor.shape and len(shape) != len(tensor.shape):
                raise ConvCalcError(
                    f"{option} {'x'.join(map(str, shape))} has rank {len(shape)}; input {tensor.name!r} of "
                    f"{graph.source} has rank {len(tensor.shape)} ({_dims(tensor.shape)})",
                    parameter=option.lstrip("-").replace("-", "_"),
                )
            for n, (want, have) in enumerate(zip(tensor.shape, shape)):
                if isinstance(want, int) and want != have:
                    raise ConvCalcError(
                        f"{option} {'x'.join(map(str, shape))}: axis {n} of input {tensor.name!r} is fixed "
                        f"at {want} in {graph.source}; got {have}",
                        parameter=option.lstrip("-").replace("-", "_"),
                    )
        return tuple(tuple(s) for s in given), True, False
    shapes: list[Shape] = []
    symbolic = False
    for index, tensor in enumerate(graph.inputs):
        if not tensor.shape:
            raise ConvCalcError(
                f"{graph.source}: input {tensor.name!r} has no declared shape; give --input",
                parameter="input",
            )
        spatial = input_axes(graph, len(tensor.shape))
        dims: list[int] = []
        for n, d in enumerate(tensor.shape):
            if isinstance(d, int):
                dims.append(d)
            elif n == 0:
                dims.append(1)
            elif n in spatial and index == 0:
                symbolic = True
                dims.append(0)
            else:
                raise ConvCalcError(
                    f"{graph.source}: axis {n} of input {tensor.name!r} is dynamic ({d}); give "
                    f"{'every input' if len(graph.inputs) > 1 else 'it'} with --input, for example "
                    f"{_input_example(graph)}",
                    parameter="input",
                )
        shapes.append(tuple(dims))
    return tuple(shapes), False, symbolic


def _input_example(graph: Graph) -> str:
    """One --input per data input, in order: fixed dimensions kept, a dynamic batch 1, others 64."""
    parts = []
    for tensor in graph.inputs:
        dims = [
            str(d) if isinstance(d, int) else ("1" if n == 0 else "64") for n, d in enumerate(tensor.shape)
        ]
        parts.append(f"--input {'x'.join(dims)}")
    return " ".join(parts)


def _dims(shape: Sequence[object]) -> str:
    return "x".join(str(d) for d in shape)


# ---------------------------------------------------------------------------------------------------
# Layers.


def _work(node_run: NodeRun) -> tuple[int | None, int | None]:
    """(parameters, multiply-accumulates) of a conv, transposed conv or dense node; Nones otherwise."""
    spec = node_run.node.spec
    if isinstance(spec, ConvSpec):
        taps = math.prod(spec.kernel_size)
        weight = spec.in_channels * (spec.out_channels // spec.groups) * taps
        params = weight + (spec.out_channels if spec.bias else 0)
        x, y = node_run.inputs[0], node_run.outputs[0]
        layout = node_run.node.layout
        batch = x[0]
        if node_run.node.kind == "conv_transpose":
            positions = math.prod(x[a] for a in spatial_axes(layout, len(x)))
            macs = batch * positions * spec.in_channels * (spec.out_channels // spec.groups) * taps
        else:
            positions = math.prod(y[a] for a in spatial_axes(layout, len(y)))
            macs = batch * positions * spec.out_channels * (spec.in_channels // spec.groups) * taps
        return params, macs
    if isinstance(spec, DenseSpec):
        rows = math.prod(node_run.inputs[0][:-1])
        return spec.in_features * spec.out_features + (spec.out_features if spec.bias else 0), (
            rows * spec.in_features * spec.out_features
        )
    return None, None


def row_output(graph: Graph, row: LayerRow) -> str:
    """The name of the tensor a layer row's output shape is."""
    node = graph.nodes[row.index]
    return node.outputs[0] if node.outputs else ""


def layer_row(node_run: NodeRun) -> LayerRow:
    node = node_run.node
    spec = node.spec
    arguments: tuple[tuple[str, str], ...] = getattr(spec, "arguments", ())
    placement = None
    overlap = None
    notes: tuple[str, ...] = ()
    if node_run.layer is not None:
        placement = node_run.layer.placement
        notes = node_run.layer.notes
        if node_run.layer.is_transposed:
            overlap = tuple(overlap_pattern(a)[0] for a in node_run.layer.transposed)
    elif node_run.windows:
        placement = tuple((a.pad_before, a.pad_after) for a in node_run.windows)
    params, macs = _work(node_run)
    return LayerRow(
        node_run.index,
        node.name,
        node.op,
        node.kind,
        arguments,
        placement,
        node_run.inputs[0] if node_run.inputs else (),
        node_run.outputs[0] if node_run.outputs else (),
        node_run.dropped,
        overlap,
        params,
        macs,
        notes,
    )


# ---------------------------------------------------------------------------------------------------
# The report.


def inspect_graph(
    graph: Graph, given: Sequence[Shape] | None = None, target: str | None = None
) -> InspectReport:
    """Run the graph on the given input (or its declared one), analyse it, and rank the findings."""
    if target is not None:
        from convcalc.conventions import ALIASES, CONVENTIONS

        key = target.strip().lower()
        if ALIASES.get(key, key) not in CONVENTIONS:
            aliases = ", ".join(f"{alias} ({name})" for alias, name in ALIASES.items())
            raise ConvCalcError(
                f"--target must be one of {', '.join(CONVENTIONS)} or an alias: {aliases}; got {target!r}",
                parameter="target",
            )
    shapes, size_given, symbolic = resolve_inputs(graph, given)
    tensor_axes = input_axes(graph, len(shapes[0]))
    if symbolic:
        dynamic = tuple(a for a in tensor_axes if shapes[0][a] == 0)
        start = smallest_running(graph, shapes, dynamic)
        if start is None:
            raise ConvCalcError(
                f"{graph.source}: the spatial axes are dynamic and no size up to {MAX_INPUT} runs; "
                "give --input",
                parameter="input",
            )
        shapes = (tuple(start if d == 0 else d for d in shapes[0]), *shapes[1:])
    axes = all_axes(graph, shapes, tensor_axes)
    if symbolic:
        first = list(shapes[0])
        for axis in axes:
            accepted = axis.accepted
            smallest = accepted.smallest if accepted is not None else None
            chosen = smallest if smallest is not None else axis.minimum
            if chosen is None:
                raise ConvCalcError(
                    f"{graph.source}: spatial axis {axis.spatial_axis} is dynamic and no size was found "
                    f"to run; give --input ({axis.note or 'no size runs'})",
                    parameter="input",
                )
            first[axis.tensor_axis] = chosen
        shapes = (tuple(first), *shapes[1:])
    run = propagate(graph, shapes)
    # the shape arithmetic (Shape, Gather, Div ... on small integer tensors) is not a layer
    layers = tuple(
        layer_row(r)
        for r in run.nodes
        if r.node.kind != "value" or any(run.values.get(o) is None for o in r.node.outputs)
    )
    merges = []
    current = graph  # merges are fixed in order, each assuming the fixes before it (inner skips first)
    for r in run.mismatches:
        fixes: tuple[str, ...] = ()
        knock_on = False
        if r.node.kind in ("concat", "elementwise"):
            now = next((n for n in propagate(current, shapes).nodes if n.node.name == r.node.name), None)
            if now is not None and now.mismatch is None:
                fixes = ("agrees once the fixes of the merges before it are applied",)
                knock_on = True
            elif now is not None:
                fixes, applied = merge_fixes(current, shapes, now)
                if current is not graph:
                    operands = " vs ".join("x".join(map(str, s)) for s in now.inputs)
                    fixes = tuple(
                        f"{fix} (with the fixes above applied, the operands are {operands})" for fix in fixes
                    )
                current = applied or current
        merges.append(
            Merge(
                r.index,
                r.node.name,
                r.node.op,
                r.inputs,
                tuple(operand_path(graph, t) for t in r.node.inputs),
                r.mismatch or "",
                fixes,
                knock_on,
            )
        )
    if current is not graph:
        layers = _with_fixes(layers, run, propagate(current, shapes))
    if run.ok:
        layers = tuple(
            replace(
                row,
                formula=shape_formulas([a.formulas for a in axes], row_output(graph, row), row.output_shape),
            )
            for row in layers
        )
    fields = receptive_fields(graph, run, tensor_axes)
    report = InspectReport(
        graph, shapes, size_given or not symbolic, run, layers, tuple(merges), axes, fields, (), target
    )
    return replace(report, findings=tuple(_findings(report)))


def _with_fixes(layers: tuple[LayerRow, ...], run: Run, fixed: Run) -> tuple[LayerRow, ...]:
    """The layers after the first disagreeing merge with the sizes they have once the merges' fixes are
    applied (as it stands they carry the first operand on, which no runtime computes), said so; their
    MACs, drops and overlap are those of the printed sizes. The first failing merge keeps its operands
    as they stand (the disagreement) and shows its output with the fix applied."""
    if not fixed.ok or not run.mismatches:
        return layers
    first = min(r.index for r in run.mismatches)
    by_name = {r.node.name: r for r in fixed.nodes}
    out = []
    for row in layers:
        now = by_name.get(row.name)
        if row.index < first or now is None:
            out.append(row)
            continue
        if row.index == first:  # the failing merge: its operands as they stand, its output once fixed
            output = now.outputs[0] if now.outputs else row.output_shape
            out.append(replace(row, output_shape=output, with_fixes=output != row.output_shape))
            continue
        changed = (now.inputs[:1], now.outputs[:1]) != ((row.input_shape,), (row.output_shape,))
        # the whole row from the fixed run: its sizes, and the drops, overlap and work at those sizes
        out.append(replace(layer_row(now), index=row.index, with_fixes=changed) if changed else row)
    return tuple(out)


def runs_from(axis: AxisSizes) -> int | None:
    """The smallest size of this axis that runs (every merge agrees, no layer refuses), as its worked-out
    sizes that run say; where they are not worked out, the smallest size no layer refuses."""
    if axis.runs is not None:
        return axis.runs.smallest
    return axis.minimum


def _nearest(report: InspectReport) -> str | None:
    """Nearest input sizes that every axis accepts, checked by running the graph on them."""
    options = []
    for axis in report.axes:
        accepted = axis.accepted
        if accepted is not None and accepted.smallest is None and axis.runs is not None:
            accepted = axis.runs  # no size drops nothing (a 1x1 stride-2 shortcut): sizes that run
        if accepted is None:
            return None
        size = report.input_shapes[0][axis.tensor_axis]
        below, above = (size, size) if accepted.contains(size) else accepted.nearest(size)
        options.append((below, above))
    if not options:
        return None
    picks = []
    for pick in (0, 1):
        sizes = [o[pick] for o in options]
        if any(s is None for s in sizes):
            continue
        shape = list(report.input_shapes[0])
        for axis, s in zip(report.axes, sizes):
            shape[axis.tensor_axis] = s  # type: ignore[assignment]
        run = run_graph(report.graph, (tuple(shape), *report.input_shapes[1:]))
        text = "x".join(str(s) for s in sizes)
        if run.ok and text not in picks:
            picks.append(text)
    return " or ".join(picks) if picks else None


def fixed_input(report: InspectReport) -> bool:
    """Whether the model fixes its input's spatial sizes (a declared size on every spatial axis), so
    that another input size is no fix: the layer has to change."""
    tensor = report.graph.inputs[0] if report.graph.inputs else None
    if tensor is None or not tensor.shape or report.graph.framework == "pytorch":  # the shape is --input's
        return False
    dims = tensor.shape
    return all(a.tensor_axis < len(dims) and isinstance(dims[a.tensor_axis], int) for a in report.axes)


def _drop_fix(report: InspectReport, row: LayerRow) -> str:
    """A layer change that reads every input element: crop the unread ones before it, or pad its input
    at the end so that its last window reaches them (stride - dropped more)."""
    run = next(r for r in report.run.nodes if r.index == row.index)
    axes = run.layer.conv if run.layer is not None else run.windows
    pads = [a.stride - d if d else 0 for a, d in zip(axes, row.dropped)]
    return (
        f"crop the last {list(row.dropped)} element(s) per spatial axis before {row.name}, or pad its "
        f"input at the end by {pads} so that its last window reaches them"
    )


# The convention a model's layer fix is spelled in: TFLite models come from Keras/TensorFlow.
SPELLING = {"keras": "keras", "tflite": "keras", "onnx": "onnx"}


def _kernel_fix(framework: str, run: NodeRun, option: Suggestion) -> str:
    """The even-overlap transposed layer ``option`` (PyTorch's arguments) in the model's framework: its
    arguments as that framework writes them (port's translation), then any crop it needs, spelled as a
    layer of that framework where it has one (Keras's CroppingND)."""
    torch_words = (
        f"kernel_size={list(option.kernel_size)} with padding={list(option.padding)}, "
        f"output_padding={list(option.output_padding)}"
    )
    target = SPELLING.get(framework)
    if target is None or run.layer is None:
        return torch_words
    from convcalc.conventions import read
    from convcalc.port.translate import translate

    axes = run.layer.transposed
    try:
        source = read(
            "pytorch",
            tuple(a.size for a in axes),
            tuple(option.kernel_size),
            stride=tuple(a.stride for a in axes),
            dilation=tuple(a.dilation for a in axes),
            padding=tuple(option.padding),
            output_padding=tuple(option.output_padding),
            transposed=True,
        )
        t = translate(source, target)
    except ConvCalcError:
        return torch_words
    words = ", ".join(f"{k}={v}" for k, v in t.arguments)
    if t.exact:
        return words
    if target == "keras" and all(before >= 0 and after >= 0 for before, after in t.fix):
        crops = t.fix[0] if len(t.fix) == 1 else tuple(t.fix)
        return f"{words}, then keras.layers.Cropping{len(t.fix)}D(cropping={crops})"
    return f"{words}; then " + "; ".join(_spatial_steps(t.fix_steps(), len(t.fix)))


def _tensor_axis(message: str) -> str:
    """A merge's message says which *tensor* axis it concatenates (findings name spatial axes by letter)."""
    return message.replace("(concatenating axis ", "(concatenating tensor axis ")


def _spatial_steps(steps: list[str], count: int) -> list[str]:
    """port's fix steps ('axis 0: ...') with the spatial axes by letter ('H: ...')."""
    letters = spatial_letters(count)
    return [re.sub(r"^axis (\d+):", lambda m: f"{letters[int(m[1])]}:", step) for step in steps]


def _findings(report: InspectReport) -> list[Finding]:
    found: list[Finding] = []
    nearest = _nearest(report)
    given = "x".join(str(s) for s in report.spatial)
    fixed = fixed_input(report)
    # another input size is a fix only where the model lets the size change and it is not the given one
    size_fix = f"input size {nearest}" if nearest and nearest != given and not fixed else None
    if report.run.failure is not None:
        f = report.run.failure
        fixes = [
            text
            for text in (explicit_pads_fix(report.graph, report.input_shapes, report.run, f.node), size_fix)
            if text
        ]
        found.append(
            Finding(
                "error",
                "failure",
                f.node.name,
                f"{f.node.op} cannot run: {f.message}",
                "; or ".join(fixes) or None,
            )
        )
    for merge in report.merges:
        fixes = [*merge.fixes, *([size_fix] if size_fix else [])]
        if merge.knock_on:  # one root cause, one finding: this one is the earlier merges' knock-on
            found.append(
                Finding(
                    "info",
                    "merge",
                    merge.name,
                    f"{merge.op} {_tensor_axis(merge.message)}: a knock-on of the merges before it, which it "
                    "agrees with once their fixes are applied",
                )
            )
            continue
        found.append(
            Finding(
                "error",
                "merge",
                merge.name,
                f"{merge.op} {_tensor_axis(merge.message)}; paths: "
                + " | ".join(" > ".join(p) or "(input)" for p in merge.paths),
                "; or ".join(fixes) or None,
            )
        )
    for r in report.run.nodes:
        if r.mismatch is not None and r.node.kind not in ("concat", "elementwise"):
            found.append(Finding("error", "merge", r.node.name, f"{r.node.op}: {r.mismatch}", size_fix))
    for row in report.layers:
        if row.checkerboard and row.overlap is not None:
            run = next(r for r in report.run.nodes if r.index == row.index)
            assert run.layer is not None
            options = suggest(run.layer.transposed)
            kernel = [s for s in options if s.kind == "kernel"]
            fix = None
            if kernel:
                spelled = _kernel_fix(report.graph.framework, run, kernel[0])
                fix = f"{spelled} (same output size, even overlap)"
            elif options:
                fix = f"resize to {list(options[-1].output)} then a 3x3 stride-1 convolution"
            letters = spatial_letters(len(row.overlap))
            patterns = "; ".join(f"{letters[n]}: {list(p)}" for n, p in enumerate(row.overlap))
            found.append(
                Finding(
                    "warning",
                    "checkerboard",
                    row.name,
                    f"uneven overlap (taps per output by phase) {patterns}",
                    fix,
                )
            )
        if any(row.dropped):
            found.append(
                Finding(
                    "warning",
                    "dropped",
                    row.name,
                    f"{row.op} never reads the last {list(row.dropped)} input element(s) per spatial axis",
                    size_fix
                    or (f"the model's input size is fixed at {given}, so change the layer: " if fixed else "")
                    + _drop_fix(report, row),
                )
            )
        for note in row.notes:
            kind = "runtime" if "computes" in note else "note"
            found.append(Finding("warning" if kind == "runtime" else "info", kind, row.name, note))
    for r in report.run.nodes:
        spec = r.node.spec
        if isinstance(spec, ConvSpec) and spec.output_size is not None and spec.output_padding is not None:
            assert r.layer is not None
            crops = [list(c) for c in r.layer.placement]
            found.append(
                Finding(
                    "warning",
                    "conflict",
                    r.node.name,
                    f"output_shape {list(spec.output_size)} and output_padding "
                    f"{list(spec.output_padding)} are both given; {spec.framework} derives the crops {crops} "
                    "from the two together",
                    "give one of them: output_shape alone, or pads with output_padding",
                )
            )
    if report.target is not None:
        found.extend(_portability(report))
    for node in report.run.stopped[:1]:
        found.append(_stopped(report, node))
    unknown = sorted({n.op for n in report.graph.nodes if n.kind == "unknown"})
    if unknown:
        found.append(
            Finding(
                "info",
                "unknown",
                None,
                "ops convcalc does not model: " + ", ".join(unknown) + " (their shapes come from the "
                f"{FRAMEWORK_NAMES.get(report.graph.framework, report.graph.framework)} model where it gives "
                "one)",
            )
        )
    names = {node.name for node in report.graph.nodes}
    for note in report.graph.notes:  # what a reader says about a layer ("name: note") or the model
        name, sep, text = note.partition(": ")
        on_layer = bool(sep) and name in names
        found.append(Finding("info", "note", name if on_layer else None, text if on_layer else note))
    notes: dict[str, list[str]] = {}  # one finding per note, naming every axis it holds for
    for axis in report.axes:
        if axis.note:
            notes.setdefault(axis.note, []).append(spatial_letters(len(report.axes))[axis.spatial_axis])
    for note, axes in notes.items():
        which = f"spatial axis {axes[0]}" if len(axes) == 1 else f"spatial axes {', '.join(axes)}"
        which = which.replace("spatial axes", "axes").replace("spatial axis", "axis")
        found.append(Finding("info", "sizes", None, f"{which}: {note}"))
    order = {s: n for n, s in enumerate(SEVERITIES)}
    return sorted(found, key=lambda f: order[f.severity])


FRAMEWORK_NAMES = {"onnx": "ONNX", "keras": "Keras", "pytorch": "PyTorch", "tflite": "TFLite"}
# Why the framework gives no shape for an op convcalc does not model, and what the user can do.
NO_SHAPE = {
    "tflite": (
        "the file records no static shape for it (a size computed at run time)",
        "convert the model with a fixed input size, or check the layers after it in the TFLite interpreter",
    ),
    "onnx": (
        "ONNX's shape inference gives no shape for it",
        "a static --input may let ONNX's shape inference give one; otherwise check the layers after it in "
        "ONNX Runtime",
    ),
    "keras": (
        "a .keras file records no output shapes",
        "check the layers after it in Keras, or export the model to ONNX and inspect that",
    ),
    "pytorch": (
        "torch could not compute its shape on the meta device",
        "export the module with torch.onnx.export and inspect the ONNX file",
    ),
}


def _stopped(report: InspectReport, node: Node) -> Finding:
    """Shapes stop at an op convcalc does not model and the framework gives no shape for: said plainly."""
    framework = report.graph.framework
    if node.op == "raise":  # the PyTorch reader: the model's own code refused the input (its note says how)
        said = next((n.partition(": ")[2] for n in report.graph.notes if n.startswith(f"{node.name}: ")), "")
        return Finding("error", "stopped", node.name, said or "the model's own code refuses this input", None)
    why, fix = NO_SHAPE.get(
        framework, (f"{framework} gives no shape for it", "check the layers after it in the framework")
    )
    after = len(report.run.stopped) - 1
    name = FRAMEWORK_NAMES.get(framework, framework)
    return Finding(
        "error",
        "stopped",
        node.name,
        f"shapes stop at layer {node.name}: convcalc does not model {name}'s {node.op} "
        f"and {why}, so the {after} layer(s) after it are not checked and the model is not shown "
        "to run",
        fix,
    )


def _portability(report: InspectReport) -> list[Finding]:
    from convcalc.port.translate import Channels, Translation, translate  # only with --target

    found = []
    assert report.target is not None
    for r in report.run.nodes:
        spec = r.node.spec
        if r.layer is None or not isinstance(spec, ConvSpec):
            continue
        try:
            t: Translation = translate(
                r.layer, report.target, Channels(spec.in_channels, spec.out_channels, spec.groups)
            )
        except ConvCalcError as error:
            found.append(Finding("warning", "portability", r.node.name, str(error)))
            continue
        args = ", ".join(f"{k}={v}" for k, v in t.arguments)
        if not t.exact:
            found.append(
                Finding(
                    "warning",
                    "portability",
                    r.node.name,
                    f"{report.target} cannot express it with the same values as it stands ({t.verdict})",
                    f"{args}; then " + "; ".join(_spatial_steps(t.fix_steps(), len(t.fix))),
                )
            )
    return found


__all__ = ["TARGETS", "InspectReport", "inspect_graph", "runs_from"]
