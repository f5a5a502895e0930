"""Fixes of a graph that does not run, each checked by running the changed graph through the core.

A merge whose operands disagree: an output_padding on the transposed convolution that feeds the short
side, or a pad / crop of one operand; a convolution refused over its padding word: the explicit pads
the word means. A fix is shown only when the changed graph makes the merge agree (or the layer run).
"""

from __future__ import annotations

from dataclasses import replace

from convcalc.conventions.base import make_args, same_pads
from convcalc.graph.model import SPATIAL_NAMES, ConvSpec, Graph, Node, PadSpec
from convcalc.graph.shapes import NodeRun, Run, Shape, propagate, spatial_axes


def tensor_producers(graph: Graph) -> dict[str, Node]:
    return {name: node for node in graph.nodes for name in node.outputs}


def operand_path(graph: Graph, tensor: str, limit: int = 3) -> tuple[str, ...]:
    """The nodes that changed this operand's spatial size, nearest last, following first inputs back;
    the last ``limit`` of them, after "..." when earlier ones were left out. When none did (a skip from
    a stride-1 layer), the layer that produced it (its nearest one that is not an activation); empty
    only for the model's input itself."""
    producers = tensor_producers(graph)
    path: list[str] = []
    name = tensor
    seen: set[str] = set()
    producer: str | None = None
    while name in producers and name not in seen:
        seen.add(name)
        node = producers[name]
        if producer is None and node.kind != "shape_preserving":
            producer = node.name
        if node.kind not in ("shape_preserving", "elementwise") and not (
            node.kind == "conv" and isinstance(node.spec, ConvSpec) and set(node.spec.stride) == {1}
        ):
            if len(path) == limit:
                path.append("...")
                break
            path.append(node.name)
        if not node.inputs:
            break
        name = node.inputs[0]
    if not path and producer is not None:
        return (producer,)
    return tuple(reversed(path))


def _transposed_source(graph: Graph, tensor: str) -> Node | None:
    """The transposed convolution that last set this tensor's size (through shape-keeping nodes)."""
    producers = tensor_producers(graph)
    name = tensor
    while name in producers:
        node = producers[name]
        if node.kind == "conv_transpose":
            return node
        if node.kind not in ("shape_preserving", "elementwise") and not (
            node.kind == "conv" and isinstance(node.spec, ConvSpec) and set(node.spec.stride) == {1}
        ):
            return None
        if not node.inputs:
            return None
        name = node.inputs[0]
    return None


def _upsampled(graph: Graph, tensor: str) -> bool:
    """Whether this tensor's first-input path back to the model input passes an upsampling node."""
    producers = tensor_producers(graph)
    name, seen = tensor, 0
    while name in producers and seen < len(graph.nodes):
        node = producers[name]
        if node.kind in ("conv_transpose", "resize", "depth_to_space"):
            return True
        if not node.inputs:
            return False
        name, seen = node.inputs[0], seen + 1
    return False


def decoder_operand(graph: Graph, merge: Node) -> int | None:
    """The merge operand on the decoder side: the only one whose path passes an upsampling layer."""
    sides = [n for n, tensor in enumerate(merge.inputs) if _upsampled(graph, tensor)]
    return sides[0] if len(sides) == 1 else None


def _verb(amounts: dict[int, int]) -> str:
    signs = {d > 0 for d in amounts.values()}
    return "pad" if signs == {True} else "crop" if signs == {False} else "pad/crop"


def replace_node(graph: Graph, old: Node, new: Node) -> Graph:
    return replace(graph, nodes=tuple(new if n is old else n for n in graph.nodes))


def _pad_operand(graph: Graph, merge: Node, operand: int, pads: tuple[tuple[int, int], ...]) -> Graph:
    """The graph with a Pad (negative: crop) on one operand of a merge."""
    tensor = merge.inputs[operand]
    name = f"{tensor}__convcalc_fix"
    pad = Node(f"{merge.name}/fix_pad", "Pad", "pad", (tensor,), (name,), PadSpec(pads))
    inputs = tuple(name if n == operand else t for n, t in enumerate(merge.inputs))
    new_merge = replace(merge, inputs=inputs)
    nodes: list[Node] = []
    for node in graph.nodes:
        if node is merge:
            nodes += [pad, new_merge]
        else:
            nodes.append(node)
    return replace(graph, nodes=tuple(nodes))


def _agrees(run: Run, name: str) -> bool:
    return run.failure is None and all(r.node.name != name for r in run.mismatches)


def merge_fixes(
    graph: Graph, shapes: tuple[Shape, ...], merge_run: NodeRun
) -> tuple[tuple[str, ...], Graph | None]:
    """Fixes of one disagreeing merge that make it agree, each checked by running the changed graph;
    and the graph with the first output_padding fix applied (the later merges assume it)."""
    merge = merge_run.node
    fixes: list[str] = []
    applied: Graph | None = None
    ins = merge_run.inputs
    if merge.kind not in ("concat", "elementwise") or len({len(s) for s in ins}) != 1:
        return (), None
    axes = spatial_axes(merge.layout, len(ins[0]))
    reference = ins[0]
    decoder = decoder_operand(graph, merge)
    refused: list[str] = []  # the output_padding that would make the merge agree, refused by the framework
    for operand in range(1, len(ins)):
        shape = ins[operand]
        diff = {a: reference[a] - shape[a] for a in axes if shape[a] != reference[a] and shape[a] != 1}
        if not diff:
            continue
        for side, want_from in ((operand, reference), (0, shape)):
            source = _transposed_source(graph, merge.inputs[side])
            spec = source.spec if source is not None else None
            if source is None or not isinstance(spec, ConvSpec) or spec.output_size is not None:
                continue
            current = spec.output_padding or (0,) * len(spec.kernel_size)
            op = list(current)
            ok = True
            for a, n in zip(axes, range(len(axes))):
                got = ins[side][a]
                need = current[n] + want_from[a] - got if a in diff else current[n]
                if need < 0:
                    ok = False
                op[n] = need
            if not ok:
                continue
            fixed_spec = spec._replace(output_padding=tuple(op))
            candidate = replace(source, spec=fixed_spec)
            changed = replace_node(graph, source, candidate)
            fixed = propagate(changed, shapes)
            if _agrees(fixed, merge.name):
                fixes.append(f"{argument_words(fixed_spec)} on {source.name} ({source.op})")
                applied = applied or changed
            elif fixed.failure is not None and fixed.failure.node.name == source.name:
                refused.append(_refused(f"{argument_words(fixed_spec)} on {source.name}", spec, fixed))
        # Pad or crop at the end of each axis: the decoder side (the upsampled operand) when one is
        # known, so the model's output keeps the size it has for this input; else the operand that is off.
        if decoder == 0:
            side, amounts, names = 0, {a: -d for a, d in diff.items()}, "decoder side"
        elif decoder == operand:
            side, amounts, names = operand, diff, "decoder side"
        else:
            side, amounts, names = operand, diff, ""
        pads = tuple((0, amounts.get(a, 0)) if a in axes else (0, 0) for a in range(len(shape)))
        padded_graph = _pad_operand(graph, merge, side, pads)
        padded = propagate(padded_graph, shapes)
        if _agrees(padded, merge.name):
            # Spatial axes by letter, as in the accepted-sizes table (H, W; L; D, H, W).
            letters = spatial_letters(len(axes))
            words = [
                f"{'pad' if d > 0 else 'crop'} {abs(d)} at the end of {letters[axes.index(a)]}"
                for a, d in amounts.items()
            ]
            label = f"operand {side + 1}, the {names}" if names else f"operand {side + 1}"
            fixes.append(f"{_verb(amounts)} {label} ({merge.inputs[side]}): " + ", ".join(words))
            if names:
                applied = applied or padded_graph
    if refused and fixes:  # what to change first, then why not the other option
        fixes[-1] += " (" + "; ".join(f"not {why}" for why in refused) + ")"
    elif refused:
        fixes.append("no output_padding fix: " + "; ".join(refused))
    return tuple(fixes), applied


def argument_words(spec: ConvSpec) -> str:
    """How a fix spells the argument it changes, as the framework names it: "output_padding=[1, 1]"."""
    return f"output_padding={list(spec.output_padding or ())}"


def changed_layers(before: Graph, after: Graph) -> dict[str, ConvSpec]:
    """The layers a merge's fix changed (an output_padding), by name: their spec with the fix."""
    old = {node.name: node.spec for node in before.nodes}
    return {
        node.name: node.spec
        for node in after.nodes
        if isinstance(node.spec, ConvSpec) and node.name in old and old[node.name] != node.spec
    }


def _refused(change: str, spec: ConvSpec, fixed: Run) -> str:
    """ "output_padding=[2, 1] on u1, which would make the operands agree: PyTorch refuses it (why)"."""
    assert fixed.failure is not None
    message = fixed.failure.message
    who, sep, why = message.partition(": ")
    if not sep or " " in who:  # the message does not open with the framework's name
        who, why = spec.framework, message
    return f"{change}, which would make the operands agree: {who} refuses it ({why})"


def explicit_pads_fix(graph: Graph, shapes: tuple[Shape, ...], run: Run, node: Node) -> str | None:
    """For a convolution refused over its padding word (ONNX Runtime's SAME_* with dilation): the
    explicit pads the word means for this input, checked by running the graph with them."""
    spec = node.spec
    if node.kind != "conv" or not isinstance(spec, ConvSpec) or not isinstance(spec.padding, str):
        return None
    word = spec.padding
    if word not in ("same_upper", "same_lower", "same"):
        return None
    x = run.shapes.get(node.inputs[0])
    if x is None:
        return None
    axes = spatial_axes(node.layout, len(x))
    args = make_args(tuple(x[a] for a in axes), spec.kernel_size, stride=spec.stride, dilation=spec.dilation)
    pads = same_pads(args, lower=word == "same_lower")
    candidate = replace(node, spec=spec._replace(padding=pads))
    fixed = propagate(replace_node(graph, node, candidate), shapes)
    if fixed.failure is not None and fixed.failure.node.name == node.name:
        return None
    spelled = [b for b, _ in pads] + [a for _, a in pads]
    return f"auto_pad NOTSET with pads={spelled} (what {word.upper()} means for this input)"


def spatial_letters(count: int) -> tuple[str, ...]:
    """How findings name the spatial axes: L for one, H and W for two, D, H and W for three (else
    'spatial axis 0', ...), so that they never read as a tensor axis."""
    return SPATIAL_NAMES.get(count, tuple(f"spatial axis {n}" for n in range(count)))


def fixed_output(graph: Graph, shapes: tuple[Shape, ...], tensor: str) -> Shape | None:
    """The shape of a disagreeing merge's output once it and every disagreeing merge before it are
    fixed, in order (each fix assuming the ones before it, as the report applies them); None where the
    merge that makes the tensor does not disagree, or a merge has no fix that makes it agree."""
    current = graph
    mismatches = propagate(graph, shapes).mismatches
    if all(tensor not in merge.node.outputs for merge in mismatches):
        return None
    for merge in mismatches:
        now = next((r for r in propagate(current, shapes).nodes if r.node.name == merge.node.name), None)
        if now is None or now.mismatch is None:
            continue
        _, applied = merge_fixes(current, shapes, now)
        if applied is None:
            return None
        current = applied
    fixed = propagate(current, shapes)
    return fixed.shapes.get(tensor) if fixed.ok else None
