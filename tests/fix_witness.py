"""Every fix `convcalc inspect` suggests, read from its text, applied to the ONNX model with the onnx
package and run by ONNX Runtime (the witness; convcalc checks its fixes on its own graph only).

A fix text is parsed here as a user would follow it: ``output_padding=[0, 1] on NAME (OP)`` sets the
ConvTranspose's attribute; ``crop operand 2, the decoder side (TENSOR): crop 1 at the end of H`` puts a
Slice (a crop) or a Pad on that operand of the merge; ``auto_pad NOTSET with pads=[...]`` rewrites the
Conv; ``crop the last [..] element(s) ... before NAME, or pad its input at the end by [..]`` puts a Slice
or a Pad before the layer; a checkerboard's ``kernel_shape=[..], strides=[..], ..., pads=[..],
output_padding=[..]`` replaces the ConvTranspose's attributes and weight; ``input size AxB or CxD``
runs the model as it is at those sizes.

The merges' fixes are applied together and in order (the report's later fixes assume the earlier
ones): the chain the report assumes (per merge, its first output_padding fix, else its decoder-side
pad or crop) is checked against every layer row the report shows, and each other fix of a merge is
applied on that chain in the place of the merge's first fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

from convcalc.graph.model import SPATIAL_NAMES
from convcalc.inspect.analysis import row_output
from convcalc.inspect.report import InspectReport, Merge

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Fix:
    """One fix as its text says it: what to change, on which node, by how much."""

    kind: str  # output_padding | operand | pads | crop_before | pad_before | layer | input
    text: str
    node: str = ""  # the node changed (the merge, for an operand fix)
    values: tuple[int, ...] = ()  # output_padding, pads, or amounts per spatial axis (+ pad, - crop)
    operand: int = 0  # 0-based operand of the merge
    tensor: str = ""  # the operand as the text names it
    sizes: tuple[tuple[int, ...], ...] = ()  # input sizes (spatial) for an input fix
    attributes: tuple[tuple[str, Any], ...] = ()  # a checkerboard fix's ConvTranspose attributes
    operands_after: tuple[Shape, ...] = ()  # "with the fixes above applied, the operands are ..."
    merge: str = ""  # the merge a merge's fix is for

    @property
    def decoder(self) -> bool:
        return "the decoder side" in self.text


class Unparsed(ValueError):
    """A fix text the harness cannot turn into a change: the report says so (a harness or text gap)."""


_INT_LIST = r"\[(-?\d+(?:, -?\d+)*)\]"
_OUTPUT_PADDING = re.compile(rf"^output_padding={_INT_LIST} on (.+?) \((\w+)\)(?: \(|$)")
_OPERAND = re.compile(
    r"^(?:pad|crop|pad/crop) operand (\d+)(?:, the decoder side)? \((.+?)\): (.+?)(?: \(|$)"
)
_AMOUNT = re.compile(r"(pad|crop) (\d+) at the end of (\w)")
_PADS = re.compile(rf"^auto_pad NOTSET with pads={_INT_LIST}")
_SIZES = re.compile(r"^input size (\d+(?:x\d+)*)(?: or (\d+(?:x\d+)*))?$")
_DROPPED = re.compile(
    rf"crop the last {_INT_LIST} element\(s\) per spatial axis before (.+?)"
    rf"(?:, or pad its input at the end by {_INT_LIST} so that| \(not a pad|$)"
)
_AFTER = re.compile(r"with the fixes above applied, the operands are (\d+(?:x\d+)*(?: vs \d+(?:x\d+)*)+)\)")
_LAYER = re.compile(
    rf"^kernel_shape={_INT_LIST}, strides={_INT_LIST}, dilations={_INT_LIST}, auto_pad='NOTSET', "
    rf"pads={_INT_LIST}, output_padding={_INT_LIST} "
    r"\((?:same output size|the output size the fixes above give), even overlap\)$"
)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(", "))


def parse(text: str, node: str | None = None, spatial: int = 2) -> list[Fix]:
    """The alternatives one fix text offers (a dropped-input fix offers a crop and a pad); ``node`` is the
    finding's node (the merge for a merge fix), ``spatial`` the number of spatial axes."""
    after = _AFTER.search(text)
    operands = tuple(tuple(int(v) for v in s.split("x")) for s in after[1].split(" vs ")) if after else ()
    if m := _OUTPUT_PADDING.match(text):
        return [Fix("output_padding", text, m[2], _ints(m[1]), operands_after=operands, merge=node or "")]
    if m := _OPERAND.match(text):
        letters = SPATIAL_NAMES[spatial]
        amounts = [0] * spatial
        for verb, amount, letter in _AMOUNT.findall(m[3]):
            amounts[letters.index(letter)] = int(amount) * (1 if verb == "pad" else -1)
        if not any(amounts):
            raise Unparsed(text)
        return [
            Fix(
                "operand",
                text,
                node or "",
                tuple(amounts),
                int(m[1]) - 1,
                m[2],
                operands_after=operands,
                merge=node or "",
            )
        ]
    if m := _PADS.match(text):
        return [Fix("pads", text, node or "", _ints(m[1]))]
    if m := _SIZES.match(text):
        sizes = tuple(tuple(int(v) for v in s.split("x")) for s in (m[1], m[2]) if s)
        return [Fix("input", text, sizes=sizes)]
    if m := _DROPPED.search(text):
        crop = Fix("crop_before", text, m[2], tuple(-c for c in _ints(m[1])))
        return [crop, Fix("pad_before", text, m[2], _ints(m[3]))] if m[3] else [crop]
    if m := _LAYER.match(text):
        names = ("kernel_shape", "strides", "dilations", "pads", "output_padding")
        values = (_ints(m[1]), _ints(m[2]), _ints(m[3]), _ints(m[4]), _ints(m[5]))
        return [Fix("layer", text, node or "", attributes=tuple(zip(names, values)))]
    raise Unparsed(text)


# ---------------------------------------------------------------------------------------------------
# Changing the ONNX model.


def _node(model: onnx.ModelProto, name: str, tensor: str | None = None) -> onnx.NodeProto:
    """The node by its name; for a node the file leaves unnamed, the one that makes ``tensor``."""
    for node in model.graph.node:
        if node.name == name or (tensor is not None and tensor in node.output):
            return node
    raise KeyError(f"no node {name!r} in the model")


def _set(node: onnx.NodeProto, name: str, value: Any) -> None:
    for attribute in list(node.attribute):
        if attribute.name == name:
            node.attribute.remove(attribute)
    node.attribute.append(helper.make_attribute(name, value))


def _constant(model: onnx.ModelProto, name: str, values: Sequence[int]) -> str:
    model.graph.initializer.append(numpy_helper.from_array(np.array(values, np.int64), name))
    return name


def _insert_resize(
    model: onnx.ModelProto, before: onnx.NodeProto, index: int, amounts: Sequence[int], rank: int, tag: str
) -> str:
    """A Slice (negative amounts: crop at the end) then a Pad (positive: zeros at the end) on input
    ``index`` of ``before``, spatial axes 2.. of a channels-first tensor; the new tensor's name."""
    tensor = before.input[index]
    nodes = []
    crops = [(2 + n, -a) for n, a in enumerate(amounts) if a < 0]
    if crops:
        out = f"{tensor}__{tag}_crop"
        inputs = [
            tensor,
            _constant(model, f"{out}_starts", [0] * len(crops)),
            _constant(model, f"{out}_ends", [-c for _, c in crops]),
            _constant(model, f"{out}_axes", [a for a, _ in crops]),
        ]
        nodes.append(helper.make_node("Slice", inputs, [out], name=f"{out}_node"))
        tensor = out
    if any(a > 0 for a in amounts):
        out = f"{tensor}__{tag}_pad"
        pads = [0] * (2 * rank)
        for n, a in enumerate(amounts):
            pads[rank + 2 + n] = max(a, 0)
        inputs = [tensor, _constant(model, f"{out}_pads", pads)]
        nodes.append(helper.make_node("Pad", inputs, [out], name=f"{out}_node", mode="constant"))
        tensor = out
    position = list(model.graph.node).index(before)
    for offset, node in enumerate(nodes):
        model.graph.node.insert(position + offset, node)
    before.input[index] = tensor
    return tensor


def apply(model: onnx.ModelProto, fix: Fix, rank: int, tensors: dict[str, str], tag: str) -> None:
    """Change ``model`` in place as ``fix`` says; ``tensors`` maps a node name to its first output
    (convcalc's graph), for nodes the file leaves unnamed."""
    if fix.kind == "output_padding":
        _set(_node(model, fix.node, tensors.get(fix.node)), "output_padding", list(fix.values))
    elif fix.kind == "operand":
        merge = _node(model, fix.node, tensors.get(fix.node))
        if merge.input[fix.operand] != fix.tensor:
            raise Unparsed(
                f"operand {fix.operand + 1} of {fix.node} is {merge.input[fix.operand]!r}: {fix.text}"
            )
        _insert_resize(model, merge, fix.operand, fix.values, rank, tag)
    elif fix.kind == "pads":
        node = _node(model, fix.node, tensors.get(fix.node))
        _set(node, "auto_pad", "NOTSET")
        _set(node, "pads", list(fix.values))
    elif fix.kind in ("crop_before", "pad_before"):
        _insert_resize(model, _node(model, fix.node, tensors.get(fix.node)), 0, fix.values, rank, tag)
    elif fix.kind == "layer":
        node = _node(model, fix.node, tensors.get(fix.node))
        weights = {t.name: t for t in model.graph.initializer}
        if node.input[1] not in weights:
            raise Unparsed(
                f"{fix.node}'s weight is computed in the graph, not a tensor to replace: {fix.text}"
            )
        old = numpy_helper.to_array(weights[node.input[1]])
        kernel = dict(fix.attributes)["kernel_shape"]
        new = np.random.default_rng(0).standard_normal((*old.shape[:2], *kernel)).astype(old.dtype)
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(new, node.input[1]))
        for name, value in fix.attributes:
            _set(node, name, list(value))
        _set(node, "auto_pad", "NOTSET")
    elif fix.kind != "input":
        raise Unparsed(fix.text)


# ---------------------------------------------------------------------------------------------------
# Running it.


def ort_run(model: onnx.ModelProto, shapes: Sequence[Shape]) -> tuple[dict[str, Shape] | None, str]:
    """Every tensor's shape as ONNX Runtime computes it (each node output made a graph output), or
    None and ONNX Runtime's refusal."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    named = {o.name for o in model.graph.output}
    for node in model.graph.node:
        for name in node.output:
            if name and name not in named:
                model.graph.output.append(onnx.ValueInfoProto(name=name))
                named.add(name)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        feeds = {i.name: np.zeros(s, np.float32) for i, s in zip(session.get_inputs(), shapes)}
        outputs = session.run(None, feeds)
    except Exception as error:  # ONNX Runtime's refusal is the witness's answer
        return None, f"{type(error).__name__}: {str(error)[:300]}"
    found = {o.name: tuple(np.shape(v)) for o, v in zip(session.get_outputs(), outputs)}
    for tensor, shape in zip(model.graph.input, shapes):
        found[tensor.name] = tuple(shape)
    return found, ""


@dataclass
class Outcome:
    """One set of fixes applied and run: whether ONNX Runtime ran it, whether its merges agree, how many
    tensors were compared with the report and what went wrong."""

    label: str
    fixes: list[str]
    runs: bool = False
    merges_agree: bool = False
    compared: int = 0
    before: int = 0  # rows before the first failing merge (shown as they stand) that a fix changes
    problems: list[str] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)  # ONNX Runtime's, where it ran

    @property
    def ok(self) -> bool:
        return self.runs and self.merges_agree and not self.problems


def cut_at(model: onnx.ModelProto, *tensors: str) -> onnx.ModelProto:
    """The model up to the last node that makes one of ``tensors`` (in the file's order, which is
    topological), those tensors its outputs."""
    cut = onnx.ModelProto.FromString(model.SerializeToString())
    nodes = list(cut.graph.node)
    last = max((n for n, node in enumerate(nodes) if set(tensors) & set(node.output)), default=-1)
    del cut.graph.node[last + 1 :]
    del cut.graph.output[:]
    for tensor in tensors:
        cut.graph.output.append(onnx.ValueInfoProto(name=tensor))
    return cut


def _merges_agree(model: onnx.ModelProto, merges: Sequence[Merge], shapes: dict[str, Shape]) -> list[str]:
    """The merges' operands in the fixed model, as ONNX Runtime computes them: equal on every spatial
    axis (a merge's operands agree once fixed; a concatenation joins channels)."""
    problems = []
    for merge in merges:
        node = next((n for n in model.graph.node if n.name == merge.name), None)
        if node is None:
            continue
        operands = [shapes[t] for t in node.input if t in shapes]
        spatial = [s[2:] for s in operands if len(s) > 2]
        # ONNX broadcasting: each axis equal, or 1 on the operands that differ (a pooled map added)
        if any(len({d for d in dims if d != 1}) > 1 for dims in zip(*spatial)):
            problems.append(f"merge {merge.name}: operands {operands} in ONNX Runtime")
    return problems


def _spatial(shape: Shape) -> Shape:
    return shape[2:]


def run_fixes(
    data: bytes, report: InspectReport, fixes: Sequence[Fix], label: str, check_rows: bool
) -> Outcome:
    """Apply ``fixes`` in order to the model ``data`` the report read, run it at the report's input (or
    the fix's sizes) and check it: it runs, its merges agree, and (``check_rows``) every layer row's
    tensor has the shape the report shows (the rows flagged with_fixes, and the rest)."""
    model = onnx.ModelProto.FromString(data)
    rank = len(report.input_shapes[0])
    tensors = {n.name: n.outputs[0] for n in report.graph.nodes if n.outputs}
    outcome = Outcome(label, [f.text for f in fixes])
    shapes = [tuple(report.input_shapes[0]), *report.input_shapes[1:]]
    before: dict[int, list[str]] = {}  # an operand fix's merge inputs as the text names them
    for n, fix in enumerate(fixes):
        try:
            if fix.operands_after:
                before[n] = list(_node(model, fix.merge, tensors.get(fix.merge)).input)
            apply(model, fix, rank, tensors, f"fix{n}")
        except (Unparsed, KeyError) as error:
            outcome.problems.append(f"not applied: {error}")
            return outcome
    found, why = ort_run(model, shapes)
    if found is None:
        where = re.search(r"Name:'([^']+)'", why)
        if where and where[1] in blocked(report):
            outcome.problems.append(f"{BLOCKED} {where[1]}, which only another input size fixes: {why}")
        else:
            outcome.problems.append(f"ONNX Runtime refuses it: {why}")
        return outcome
    outcome.runs, outcome.shapes = True, found
    disagree = _merges_agree(model, report.merges, found)
    outcome.merges_agree = not disagree
    outcome.problems.extend(disagree)
    for n, fix in enumerate(fixes):  # the operands the text says the earlier fixes leave
        if not fix.operands_after:
            continue
        earlier = onnx.ModelProto.FromString(data)
        for m, previous in enumerate(fixes[:n]):
            apply(earlier, previous, rank, tensors, f"fix{m}")
        operands, _ = ort_run(cut_at(earlier, *before[n]), shapes)
        now = tuple((operands or {}).get(t) for t in before[n])
        if now != fix.operands_after:
            outcome.problems.append(
                f"{fix.node}: the text says the operands are {fix.operands_after}, ONNX Runtime {now}"
            )
    if not check_rows:
        return outcome
    first = min((m.index for m in report.merges), default=len(report.graph.nodes))
    # the report's rows assume its chain only where every fix is one it applies (output_padding or the
    # decoder side); else they show the model as it stands, and only rows flagged with_fixes are claims
    all_rows = any(r.with_fixes for r in report.layers) or all(
        f.kind == "output_padding" or f.decoder for f in fixes
    )
    for row in report.layers:
        tensor = row_output(report.graph, row)
        if tensor not in found or not (row.with_fixes or all_rows):
            continue
        if row.index < first:  # before the first failing merge the rows are the model as it stands
            outcome.before += found[tensor] != row.output_shape
            continue
        outcome.compared += 1
        if found[tensor] != row.output_shape:
            flag = " (with_fixes)" if row.with_fixes else ""
            outcome.problems.append(
                f"{row.name}: report {row.output_shape}{flag}, ONNX Runtime {found[tensor]}"
            )
    return outcome


def even_overlap(fix: Fix) -> bool:
    """ONNX Runtime's ConvTranspose with the fix's attributes, one channel, ones in the input and the
    kernel: every output away from the borders gets as many taps (the taps per output repeat with the
    stride whatever the input size: an input of 4 kernels and one shows them)."""
    attributes = dict(fix.attributes)
    kernel = attributes["kernel_shape"]
    size = [4 * k + 1 for k in kernel]
    graph = helper.make_graph(
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], **{k: list(v) for k, v in attributes.items()})],
        "even",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 1, *size])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.ones((1, 1, *kernel), np.float32), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (taps,) = session.run(None, {"x": np.ones((1, 1, *size), np.float32)})
    inner = taps[(0, 0, *(slice(k, -k) for k in kernel))]
    return inner.size > 0 and len(np.unique(inner)) == 1


# ---------------------------------------------------------------------------------------------------
# Every fix of a report.

# An outcome ONNX Runtime refuses at a node the report gives no fix for but another input size (a layer
# that refuses the input, a merge with a fixed-size operand such as a learned position embedding): the
# fix under test cannot be run at this size; the input sizes are run instead.
BLOCKED = "BLOCKED: ONNX Runtime refuses the model at"


def blocked(report: InspectReport) -> set[str]:
    """The nodes the report fixes only by another input size."""
    spatial = len(report.input_shapes[0]) - 2
    names = {m.name for m in report.merges if not m.knock_on and assumed(m, spatial) is None}
    names |= {f.node for f in report.findings if f.kind == "failure" and f.node}
    names |= {
        r.node.name
        for r in report.run.nodes
        if r.mismatch is not None and r.node.kind not in ("concat", "elementwise")
    }
    return names


def assumed(merge: Merge, spatial: int) -> Fix | None:
    """The fix of a merge that later fixes assume: its first output_padding fix, else its first
    decoder-side pad or crop (as convcalc.inspect.fixes.merge_fixes applies them), else its first pad or
    crop (which the report's later sizes do not assume, but a user applies)."""
    texts = [t for t in merge.fixes if not t.startswith("no output_padding fix")]
    parsed = [f for text in texts for f in parse(text, merge.name, spatial)]
    return (
        next((f for f in parsed if f.kind == "output_padding"), None)
        or next((f for f in parsed if f.kind == "operand" and f.decoder), None)
        or next((f for f in parsed if f.kind == "operand"), None)
    )


def witness(data: bytes, report: InspectReport) -> list[Outcome]:
    """Every fix the report suggests, applied and run by ONNX Runtime: the chain of the merges' assumed
    fixes (checked against every row), each other merge fix in its merge's place on that chain, each
    layer fix alone, and each suggested input size."""
    spatial = len(report.axes) or len(report.input_shapes[0]) - 2
    outcomes: list[Outcome] = []
    causes = [m for m in report.merges if not m.knock_on]
    chain: list[Fix | None] = [assumed(m, spatial) for m in causes]
    unfixed = [m.name for m, f in zip(causes, chain) if f is None]
    if unfixed:  # no merge fix but the input size (a weight or an embedding of fixed size)
        outcomes.append(Outcome("merges (the report's chain)", [], problems=[f"{BLOCKED} {unfixed}"]))
    elif causes:
        if any(f is None for f in chain):
            missing = [m.name for m, f in zip(causes, chain) if f is None]
            outcome = Outcome("merges (the report's chain)", [])
            outcome.problems.append(f"no fix the report applies for {missing}")
            outcomes.append(outcome)
        else:
            applied = [f for f in chain if f is not None]
            outcomes.append(run_fixes(data, report, applied, "merges (the report's chain)", True))
    for n, merge in enumerate(causes):
        for text in merge.fixes:
            if text.startswith("no output_padding fix"):
                continue  # why a fix is refused, not a fix
            try:
                options = parse(text, merge.name, spatial)
            except Unparsed as error:
                outcomes.append(Outcome(f"merge {merge.name}", [text], problems=[f"not parsed: {error}"]))
                continue
            for fix in options:
                if fix == chain[n]:
                    continue
                fixes = [f for f in chain[:n] if f is not None] + [fix]
                outcome = run_fixes(data, report, fixes, f"merge {merge.name} alternative", False)
                # the alternative must make its own merge agree; later merges keep their own findings
                outcome.problems = [p for p in outcome.problems if "ONNX Runtime refuses" not in p]
                if not outcome.runs:
                    _merge_agrees_alone(data, report, fixes, merge, outcome)
                outcomes.append(outcome)
    seen: set[str] = set()
    for finding in report.findings:
        if finding.fix is None or finding.kind == "merge" or finding.fix in seen:
            continue
        seen.add(finding.fix)
        for text in finding.fix.split("; or "):
            try:
                options = parse(text, finding.node, spatial)
            except Unparsed as error:
                if finding.kind in ("failure", "dropped", "checkerboard"):
                    outcomes.append(
                        Outcome(f"{finding.kind} {finding.node}", [text], problems=[f"not parsed: {error}"])
                    )
                continue
            for fix in options:
                if fix.kind == "input":
                    outcomes.extend(_input_sizes(data, report, fix))
                    continue
                outcomes.append(
                    _layer_fix(data, report, fix, [f for f in chain if f is not None], finding.kind)
                )
    merge_finding = next((f for f in report.findings if f.kind == "merge" and f.fix), None)
    if merge_finding is not None and merge_finding.fix is not None:
        for text in merge_finding.fix.split("; or "):
            if text.startswith("input size") and text not in seen:
                seen.add(text)
                outcomes.extend(_input_sizes(data, report, parse(text)[0]))
    return outcomes


def _merge_agrees_alone(
    data: bytes, report: InspectReport, fixes: Sequence[Fix], merge: Merge, outcome: Outcome
) -> None:
    """An alternative fix whose model later merges refuse: its own merge must agree, read on the model
    cut at that merge (the merge's output made the graph's only output)."""
    model = onnx.ModelProto.FromString(data)
    rank = len(report.input_shapes[0])
    tensors = {n.name: n.outputs[0] for n in report.graph.nodes if n.outputs}
    for n, fix in enumerate(fixes):
        apply(model, fix, rank, tensors, f"fix{n}")
    node = _node(model, merge.name, tensors.get(merge.name))
    cut = cut_at(model, node.output[0])
    found, why = ort_run(cut, report.input_shapes)
    if found is None:
        where = re.search(r"Name:'([^']+)'", why)
        if where and where[1] in blocked(report):
            outcome.problems = [f"{BLOCKED} {where[1]}, which only another input size fixes: {why}"]
        else:
            outcome.problems.append(f"its merge {merge.name} still refused by ONNX Runtime: {why}")
        return
    outcome.runs = True
    outcome.label += " (its merge runs; later merges need their own fixes on top of it)"
    disagree = _merges_agree(cut, [merge], found)
    outcome.merges_agree = not disagree
    outcome.problems.extend(disagree)


def _input_sizes(data: bytes, report: InspectReport, fix: Fix) -> list[Outcome]:
    """The model as it is, run at each suggested input size: it must run and its merges agree."""
    outcomes = []
    for sizes in fix.sizes:
        shape = list(report.input_shapes[0])
        for axis, size in zip(report.axes, sizes):
            shape[axis.tensor_axis] = size
        model = onnx.ModelProto.FromString(data)
        outcome = Outcome(f"input size {'x'.join(map(str, sizes))}", [fix.text])
        found, why = ort_run(model, [tuple(shape), *report.input_shapes[1:]])
        if found is None:
            outcome.problems.append(f"ONNX Runtime refuses {tuple(shape)}: {why}")
        else:
            outcome.runs = True
            disagree = _merges_agree(model, report.merges, found)
            outcome.merges_agree = not disagree
            outcome.problems.extend(disagree)
        outcomes.append(outcome)
    return outcomes


def _layer_fix(data: bytes, report: InspectReport, fix: Fix, chain: list[Fix], kind: str) -> Outcome:
    """A layer's fix with the merges' fixes (where merges fail): the model runs and its merges agree; a
    checkerboard fix keeps the layer's output size and makes ONNX Runtime's taps even. Where the two
    together do not run, the layer's fix alone on the model cut after the layer says whether it is the
    combination that fails (the layer's fix is worked out for the layer as it stands)."""
    label = f"{kind} {fix.node} ({fix.kind})"
    # the merges' fixes first: the layer's fix is worked out for the layer as they leave it, and
    # replaces what they set on it (an output_padding)
    outcome = run_fixes(data, report, [*chain, fix], label, False)
    row = next(r for r in report.layers if r.name == fix.node)
    if fix.kind == "layer" and not even_overlap(fix):
        outcome.problems.append(f"{fix.node}: ONNX Runtime's taps are uneven with {fix.text}")
    if outcome.runs and not chain and fix.kind == "layer":
        got = outcome.shapes.get(row_output(report.graph, row))
        if got != row.output_shape:
            outcome.problems.append(f"{fix.node}: output {got}, as it stands {row.output_shape}")
    if outcome.runs or (not chain and not outcome.problems[0].startswith(BLOCKED)):
        return outcome
    model = onnx.ModelProto.FromString(data)
    tensors = {n.name: n.outputs[0] for n in report.graph.nodes if n.outputs}
    apply(model, fix, len(report.input_shapes[0]), tensors, "fix")
    tensor = row_output(report.graph, row)
    cut = cut_at(model, tensor)
    found, why = ort_run(cut, report.input_shapes)
    alone = "runs" if found is not None else f"is refused too ({why})"
    if found is not None and fix.kind == "layer" and found.get(tensor) != row.output_shape:
        alone = f"gives {found.get(tensor)} where the layer gives {row.output_shape}"
    outcome.label += " + the merges' fixes"
    same = [f.text for f in chain if f.node == fix.node]
    where = re.search(r"Name:'([^']+)'", alone)
    if outcome.problems[0].startswith(BLOCKED) and alone == "runs":
        outcome.problems = [f"{outcome.problems[0]} (the layer's fix alone runs up to its layer)"]
    elif outcome.problems[0].startswith(BLOCKED) and where and where[1] in blocked(report):
        outcome.problems = [f"{outcome.problems[0]} (the layer comes after it)"]
    elif same and alone == "runs":  # both change this layer: the layer's fix is worked out without the other
        outcome.problems = [f"CONFLICT: {same[0]} changes the same layer; the layer's fix alone runs"]
    else:
        outcome.problems.insert(
            0, f"with the merges' fixes ONNX Runtime refuses the model; the layer's fix alone {alone}"
        )
    return outcome
