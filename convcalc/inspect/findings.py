"""`convcalc inspect`'s findings, most severe first: merges that disagree and their fixes, layers that
drop inputs or overlap unevenly, layers a reader could not model, ports to other frameworks, and the
nearest input sizes that run. Each names its layer and its fix in the model's own framework."""

from __future__ import annotations

import re
from dataclasses import replace

from convcalc.errors import ConvCalcError
from convcalc.graph.model import ConvSpec, Node
from convcalc.graph.shapes import NodeRun, Run, propagate, spatial_axes
from convcalc.graph.sizes import run_graph
from convcalc.inspect.fixes import explicit_pads_fix, pad_before, spatial_letters
from convcalc.inspect.report import SEVERITIES, Finding, InspectReport, LayerRow
from convcalc.overlap import Suggestion, suggest


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
    crop = f"crop the last {list(row.dropped)} element(s) per spatial axis before {row.name}"
    # a pad adds a window, so the layer's output grows: offered only where the model still runs as far
    # (a merge with another branch refuses it: ONNX Runtime on MONAI's SwinUNETR)
    padded = propagate(pad_before(report.graph, run.node, len(run.inputs[0]), pads), report.input_shapes)
    if not _refusals(padded) <= _refusals(report.run):
        return f"{crop} (not a pad that reaches them: the layer's output would grow, and {_refusal(padded)})"
    return f"{crop}, or pad its input at the end by {pads} so that its last window reaches them"


def _refusals(run: Run) -> set[str]:
    """The nodes a run refuses: its disagreeing merges and the layer that cannot run."""
    return {r.node.name for r in run.mismatches} | ({run.failure.node.name} if run.failure else set())


def _refusal(run: Run) -> str:
    merge = next(iter(run.mismatches), None)
    if merge is not None:
        return f"{merge.node.name} would refuse it ({merge.mismatch})"
    assert run.failure is not None
    return f"{run.failure.node.name} would refuse it ({run.failure.message})"


# The convention a model's layer fix is spelled in: TFLite models come from Keras/TensorFlow.
SPELLING = {"keras": "keras", "tflite": "keras", "onnx": "onnx"}


def _as_fixed(report: InspectReport, run: NodeRun, row: LayerRow) -> NodeRun:
    """The layer as the merges' fixes leave it: at its row's sizes (after a failing merge, those the
    fixes give) and with a fix's own change (an output_padding), so that an even-overlap replacement
    keeps the output size the fixed model needs (one worked out from the layer as it stands would undo
    the merge's fix)."""
    spec = run.node.spec
    fixed = next((n.spec for n in (report.fixed or report.graph).nodes if n.name == run.node.name), spec)
    if (fixed == spec and not row.with_fixes) or not isinstance(fixed, ConvSpec):
        return run
    if len(row.input_shape) != len(run.inputs[0]):
        return run
    spec = fixed
    axes = spatial_axes(run.node.layout, len(row.input_shape))
    try:
        layer = spec.read(tuple(row.input_shape[a] for a in axes), run.node.kind == "conv_transpose")
    except ConvCalcError:
        return run
    node = replace(run.node, spec=spec)
    return NodeRun(run.index, node, (row.input_shape,), (row.output_shape,), layer=layer)


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


def findings(report: InspectReport) -> list[Finding]:
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
    kinds = {node.name: node.kind for node in report.graph.nodes}
    for merge in report.merges:
        fixes = [*merge.fixes, *([size_fix] if size_fix else [])]
        # a layer that refuses its operand (a Linear's features) is listed with the merges, as one
        # finding, but it is a layer that cannot run, not a skip mismatch
        kind = "merge" if kinds.get(merge.name) in ("concat", "elementwise") else "failure"
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
                kind,
                merge.name,
                f"{merge.op} {_tensor_axis(merge.message)}; paths: "
                + " | ".join(" > ".join(p) or "(input)" for p in merge.paths),
                "; or ".join(fixes) or None,
            )
        )
    listed = {merge.name for merge in report.merges}  # a layer's refusal is one finding, listed above
    for r in report.run.nodes:
        if (
            r.mismatch is not None
            and r.node.kind not in ("concat", "elementwise")
            and r.node.name not in listed
        ):
            # a layer whose operand it cannot take (a Linear's features, a convolution's channels): a
            # layer that cannot run, not a skip mismatch
            found.append(Finding("error", "failure", r.node.name, f"{r.node.op}: {r.mismatch}", size_fix))
    for row in report.layers:
        if row.checkerboard and row.overlap is not None:
            as_is = next(r for r in report.run.nodes if r.index == row.index)
            run = _as_fixed(report, as_is, row)
            assert run.layer is not None
            options = suggest(run.layer.transposed)
            kernel = [s for s in options if s.kind == "kernel"]
            fix = None
            if kernel:
                spelled = _kernel_fix(report.graph.framework, run, kernel[0])
                size = "same output size" if run is as_is else "the output size the fixes above give"
                fix = f"{spelled} ({size}, even overlap)"
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
        "a static input shape (--input, or input= in Python) may let ONNX's shape inference give one; "
        "otherwise check the layers after it in "
        "ONNX Runtime",
    ),
    "keras": (
        "the Keras file (.keras or .h5) records no static output shape for it",
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
