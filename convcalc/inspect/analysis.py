"""`convcalc inspect`'s analysis of one Graph: the input shapes, per-layer rows, merges and their
re-checked fixes, accepted sizes and receptive fields, then the findings (``findings.py``) into the
report (``report.py``). Pure integers.

MACs follow the convention of torch.utils.flop_counter (FLOPs = 2 x MACs): a convolution does
(in_channels/groups) * prod(kernel) products per output element and out channel; a transposed
convolution scatters every *input* element through (out_channels/groups) * prod(kernel) taps, so its
count is per input element, whatever its crops (counters that count per output overstate stride-2
transposed layers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from convcalc.conventions import FRAMEWORKS
from convcalc.errors import SPELLING, ConvCalcError, keyword, option
from convcalc.graph.fields import receptive_fields
from convcalc.graph.formulas import shape_formulas
from convcalc.graph.model import ConvSpec, DenseSpec, Graph
from convcalc.graph.shapes import NodeRun, Run, Shape, propagate, spatial_axes
from convcalc.graph.sizes import MAX_INPUT, all_axes, smallest_running
from convcalc.inspect.findings import findings
from convcalc.inspect.fixes import changed_layers, merge_fixes, operand_path
from convcalc.inspect.report import InspectReport, LayerRow, Merge, runs_from
from convcalc.overlap import overlap_pattern
from convcalc.text import x_join

TARGETS = FRAMEWORKS  # every convention port knows; aliases (onnxruntime, torch, tf...) too

__all__ = ["TARGETS", "InspectReport", "inspect_graph", "runs_from"]


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
    graph: Graph, given: Sequence[Shape] | None, parameter: str = "input"
) -> tuple[tuple[Shape, ...], bool, bool]:
    """The concrete input shapes, whether the user gave them, and whether spatial sizes were symbolic;
    errors in the given shapes name ``parameter`` as the user spells it (``--input-b``, ``input_b=``)."""
    spelled = option(parameter)
    if not graph.inputs:
        raise ConvCalcError(f"{graph.source}: the model has no data input", parameter="model")
    if given is not None:
        if len(given) != len(graph.inputs):
            raise ConvCalcError(
                f"{spelled} gives {len(given)} shape(s); {graph.source} has {len(graph.inputs)} data "
                "input(s)",
                parameter=parameter,
            )
        for tensor, shape in zip(graph.inputs, given):
            if tensor.shape and len(shape) != len(tensor.shape):
                raise ConvCalcError(
                    f"{option(parameter, x_join(shape))} has rank {len(shape)}; input {tensor.name!r} of "
                    f"{graph.source} has rank {len(tensor.shape)} ({_dims(tensor.shape)})",
                    parameter=parameter,
                )
            for n, (want, have) in enumerate(zip(tensor.shape, shape)):
                if isinstance(want, int) and want != have:
                    raise ConvCalcError(
                        f"{option(parameter, x_join(shape))}: axis {n} of input {tensor.name!r} is fixed "
                        f"at {want} in {graph.source}; got {have}",
                        parameter=parameter,
                    )
        return tuple(tuple(s) for s in given), True, False
    shapes: list[Shape] = []
    symbolic = False
    for index, tensor in enumerate(graph.inputs):
        if not tensor.shape:
            raise ConvCalcError(
                f"{graph.source}: input {tensor.name!r} has no declared shape; give {spelled}",
                parameter=parameter,
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
                    f"{'every input' if len(graph.inputs) > 1 else 'it'} with {spelled}, for example "
                    f"{_input_example(graph, parameter)}",
                    parameter=parameter,
                )
        shapes.append(tuple(dims))
    return tuple(shapes), False, symbolic


def _input_example(graph: Graph, parameter: str) -> str:
    """One shape per data input, in order, as the user spells the option (``--input 1x3x64x64``, or
    ``input='1x3x64x64'``): fixed dimensions kept, a dynamic batch 1, others 64."""
    shapes = [
        "x".join(str(d) if isinstance(d, int) else ("1" if n == 0 else "64") for n, d in enumerate(t.shape))
        for t in graph.inputs
    ]
    if len(shapes) == 1:
        return option(parameter, shapes[0])
    if SPELLING.get() is keyword:  # Python takes them as one list
        return option(parameter, shapes)
    return " ".join(option(parameter, shape) for shape in shapes)


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
                f"{option('target')} must be one of {', '.join(CONVENTIONS)} or an alias: {aliases}; "
                f"got {target!r}",
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
                f"give {option('input')}",
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
                    f"to run; give {option('input')} ({axis.note or 'no size runs'})",
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
    fixed_by: dict[str, str] = {}  # a layer a fix changes -> the merge that fix is for
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
                if applied is not None:
                    fixed_by.update(dict.fromkeys(changed_layers(current, applied), r.node.name))
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
        layers = _with_fixes(layers, run, propagate(current, shapes), fixed_by)
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
    return replace(report, findings=tuple(findings(report)))


def _with_fixes(
    layers: tuple[LayerRow, ...], run: Run, fixed: Run, fixed_by: dict[str, str]
) -> tuple[LayerRow, ...]:
    """The layers after the first disagreeing merge with the sizes they have once the merges' fixes are
    applied (as it stands they carry the first operand on, which no runtime computes), said so; their
    MACs, drops and overlap are those of the printed sizes, and a layer the fixes change says how
    (``fix``: its pads/crops are those of the changed layer; its ``arguments`` stay the model's). The
    first failing merge keeps its operands as they stand (the disagreement) and shows its output with
    the fix applied."""
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
        if not changed:
            out.append(row)
            continue
        # the whole row from the fixed run: its sizes, and the drops, overlap and work at those sizes
        spec = now.node.spec
        fix: tuple[tuple[str, tuple[int, ...]], ...] = ()
        if row.name in fixed_by and isinstance(spec, ConvSpec) and spec.output_padding is not None:
            fix = (("output_padding", spec.output_padding),)
        whole = layer_row(now)
        out.append(
            replace(
                whole,
                index=row.index,
                arguments=row.arguments,
                with_fixes=True,
                fix=fix,
                fix_for=fixed_by.get(row.name) if fix else None,
            )
        )
    return tuple(out)
