"""`convcalc diff`'s result: every aligned layer pair with its verdict, and what reaches each output.

Where each model's output elements come from is followed through the layers as an exact position map
per axis: element j of a tensor sits at scale * j + offset input pixels (1 * j + 0 at the input). A
convolution or pooling with stride s and pads (b, a) maps (scale, offset) to (scale * s, offset -
scale * b); a transposed convolution with crops (c, e) to (scale / s, offset + scale * c / s); a Pad
(b, a) to (scale, offset - scale * b); a resize by r to (scale / r, offset). At an output, B's element
j + (offset_A - offset_B) / scale holds A's element j when both scales agree: the accumulated shift of
every layer on the way.

A global pooling ends the positions: its one element per channel is drawn from the whole map, so it
keeps the map's (scale, offset) only as a record, and so does everything computed from it (Flatten,
Dense, ...) or from a map whose spatial sizes are all 1. Two such outputs hold the same values when the
maps they were drawn from sit at the same positions, and other values when they were moved (the zeros at
the border are not the same); never "shifted". Pure integers and fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from convcalc.core.display import Presentable
from convcalc.diff.align import align
from convcalc.diff.compare import PairDiff, compare, extra, missing
from convcalc.diff.layers import Layer
from convcalc.diff.models import Side, read_sides
from convcalc.errors import ConvCalcError, ExitCode
from convcalc.graph.model import Node
from convcalc.graph.shapes import Shape

Position = dict[str, tuple[Fraction, Fraction]]


@dataclass(frozen=True)
class OutputDiff:
    """A's output k against B's output k: shapes with B's axes put in A's order, verdict, shift per axis."""

    index: int
    a_name: str
    b_name: str
    axes: tuple[str, ...]
    a_shape: Shape | None
    b_shape: Shape | None
    verdict: str
    shift: tuple[tuple[str, Fraction], ...] = ()
    note: str | None = None


@dataclass(frozen=True, repr=False)
class DiffReport(Presentable):
    """Both models, every aligned layer pair with its verdict, and each output; printable (its repr is
    the headline), ``to_dict()`` is the --json document."""

    presenter = "convcalc.diff.present"

    a: Side
    b: Side
    pairs: tuple[PairDiff, ...]
    outputs: tuple[OutputDiff, ...]

    @property
    def differing(self) -> tuple[PairDiff, ...]:
        return tuple(p for p in self.pairs if p.differs)

    @property
    def same(self) -> bool:
        return not self.differing and all(o.verdict == "same" for o in self.outputs)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.same else ExitCode.VERIFICATION_FAILED


def diff_models(
    a: str, b: str, a_inputs: Sequence[Shape], b_inputs: Sequence[Shape] | None = None
) -> DiffReport:
    """Read both models and compare them layer by layer on A's input."""
    side_a, side_b = read_sides(a, b, a_inputs, b_inputs)
    return diff_sides(side_a, side_b)


def diff_sides(side_a: Side, side_b: Side) -> DiffReport:
    failure = side_a.run.failure
    broken = side_a.run.mismatches
    if failure is not None or broken:
        node, message = (
            (failure.node, failure.message) if failure is not None else (broken[0].node, broken[0].mismatch)
        )
        raise ConvCalcError(
            f"{side_a.model} (A) does not run on input {_fmt(side_a.input_shapes[0])}: node "
            f"{node.name!r} ({node.op}): {message}",
            parameter="input",
        )
    pairs: list[PairDiff] = []
    for x, y in align(side_a.layers, side_b.layers):
        if x is not None and y is not None:
            pairs.append(compare(x, y))
        elif x is not None:
            pairs.append(missing(x))
        elif y is not None:
            pairs.append(extra(y))
    return DiffReport(side_a, side_b, tuple(pairs), _outputs(side_a, side_b, pairs))


def positions(side: Side) -> tuple[dict[str, Position], frozenset[str]]:
    """Every tensor's position map per axis name (absent where it mixes axes or pixels), and the tensors
    whose positions a global pooling ended (their map is the record of where they were drawn from)."""
    found: dict[str, Position] = {}
    pooled: set[str] = set()
    for tensor, names in zip(side.graph.inputs, side.input_names):
        found[tensor.name] = {n: (Fraction(1), Fraction(0)) for n in names if n not in ("N", "C", "?")}
    layers = {layer.node.name: layer for layer in side.layers}
    ran = {r.index for r in side.run.nodes}
    for index, node in enumerate(side.graph.nodes):
        if index not in ran or not node.inputs or not node.outputs:
            continue
        # a merge (an SE block's Mul) keeps the positions of its first operand that still has them
        first = node.inputs[0]
        if first in pooled:
            first = next((t for t in node.inputs if t in found and t not in pooled), first)
        here = found.get(first)
        if here is None:
            continue
        if first in pooled or node.kind == "global_pool" or _ends_positions(side, node, first):
            pooled.update(node.outputs)
        elif side.names.get(node.outputs[0]) is None:
            continue
        else:
            layer = layers.get(node.name)
            if layer is not None and layer.node is node:
                here = _through(layer, here)
            elif node.kind in ("depth_to_space", "space_to_depth"):
                continue
        for name in node.outputs:
            found[name] = here
    return found, frozenset(pooled)


def _ends_positions(side: Side, node: Node, tensor: str) -> bool:
    """A Flatten, Reshape or Dense of a map whose spatial sizes are all 1 (after a pooling to 1x1)."""
    if node.kind not in ("flatten", "reshape", "dense"):
        return False
    shape, names = side.run.shapes.get(tensor), side.names.get(tensor)
    if shape is None or names is None or len(names) != len(shape):
        return False
    spatial = [d for d, n in zip(shape, names) if n not in ("N", "C")]
    return bool(spatial) and all(d == 1 for d in spatial)


def _through(layer: Layer, here: Position) -> Position:
    out = dict(here)
    for form in layer.own_form:
        if form.name not in here:
            continue
        scale, offset = here[form.name]
        if layer.kind == "conv_transpose":
            out[form.name] = (scale / form.stride, offset + scale * form.placement[0] / form.stride)
        elif layer.kind == "resize":
            assert form.scale is not None
            out[form.name] = (scale / form.scale, offset)
        else:
            out[form.name] = (scale * form.stride, offset - scale * form.placement[0])
    return out


def _outputs(side_a: Side, side_b: Side, pairs: Sequence[PairDiff]) -> tuple[OutputDiff, ...]:
    (pos_a, pooled_a), (pos_b, pooled_b) = positions(side_a), positions(side_b)
    values_differ = any(p.verdict in ("different values", "missing", "extra") for p in pairs)
    # B's elements between A's elements anywhere on the way (a shift by a fraction of an element, then a
    # stride that samples other pixels) make other values, even where a later upsampling lands on whole
    # elements again.
    partners: dict[str, str] = {}
    for pair in pairs:
        if pair.a is not None and pair.b is not None:
            partners[pair.b.output_tensor] = pair.a.output_tensor
            moved = _shift(pos_a.get(pair.a.output_tensor), pos_b.get(pair.b.output_tensor))
            if moved is not None and any(n.denominator != 1 for _, n in moved):
                values_differ = True
    partners.update({tb.name: ta.name for ta, tb in zip(side_a.graph.inputs, side_b.graph.inputs)})
    back = {b: a for a, b in partners.items()}
    if _mixes(side_b, pos_b, pos_a, partners) or _mixes(side_a, pos_a, pos_b, back):
        values_differ = True
    results = []
    for k, (name_a, name_b) in enumerate(_output_pairs(side_a, side_b)):
        shape_a = side_a.run.shapes.get(name_a)
        shape_b = side_b.run.shapes.get(name_b)
        names_a = side_a.names.get(name_a)
        names_b = side_b.names.get(name_b)
        axes: tuple[str, ...] = ()
        if (
            names_a is not None
            and names_b is not None
            and None not in names_a
            and sorted(map(str, names_a)) == sorted(map(str, names_b))
        ):
            axes = tuple(str(n) for n in names_a)
            if shape_b is not None:
                shape_b = tuple(shape_b[list(names_b).index(n)] for n in axes)
        failure = side_b.run.failure
        broken = side_b.run.mismatches
        if shape_b is None or failure is not None or broken:
            # B does not run on this input (ONNX Runtime refuses it): no output to compare
            node, why = (failure.node, failure.message) if failure is not None else (None, None)
            if node is None and broken:
                node, why = broken[0].node, broken[0].mismatch
            note = f"B does not run: node {node.name!r} ({node.op}): {why}" if node is not None else None
            results.append(OutputDiff(k, name_a, name_b, axes, shape_a, None, "different size", note=note))
            continue
        shift = _shift(pos_a.get(name_a), pos_b.get(name_b))
        if shape_a != shape_b:
            verdict = "different size"
        elif name_a in pooled_a or name_b in pooled_b:
            # drawn from a whole map: the same map gives the same values, a moved one others
            aligned = name_a in pooled_a and name_b in pooled_b and shift is not None
            same = aligned and not values_differ and not any(amount for _, amount in shift or ())
            verdict, shift = ("same" if same else "different values"), ()
        elif values_differ or shift is None or any(amount.denominator != 1 for _, amount in shift):
            verdict = "different values"
        elif any(amount for _, amount in shift):
            verdict = "shifted"
        else:
            verdict = "same"
        results.append(OutputDiff(k, name_a, name_b, axes, shape_a, shape_b, verdict, shift or ()))
    if len(side_a.graph.outputs) != len(side_b.graph.outputs):
        k = min(len(side_a.graph.outputs), len(side_b.graph.outputs))
        for name in side_a.graph.outputs[k:]:
            results.append(OutputDiff(k, name, "", (), side_a.run.shapes.get(name), None, "missing"))
        for name in side_b.graph.outputs[k:]:
            results.append(OutputDiff(k, "", name, (), None, side_b.run.shapes.get(name), "extra"))
    return tuple(results)


def _named_shape(side: Side, name: str) -> tuple[tuple[str, int], ...] | None:
    """An output's shape as sorted (axis name, size) pairs: comparable across layouts."""
    shape, names = side.run.shapes.get(name), side.names.get(name)
    if shape is None:
        return None
    if names is None or None in names or len(names) != len(shape):
        return tuple((str(n), d) for n, d in enumerate(shape))
    return tuple(sorted((str(n), d) for n, d in zip(names, shape)))


def _output_pairs(side_a: Side, side_b: Side) -> list[tuple[str, str]]:
    """A's outputs with B's: a converter may list them in another order (TFLite does), so an output of B
    whose shape (by axis name) is the only one equal to an A output's is its partner; the rest by order."""
    outs_a, outs_b = list(side_a.graph.outputs), list(side_b.graph.outputs)
    if len(outs_a) != len(outs_b) or len(outs_a) < 2:
        return list(zip(outs_a, outs_b))
    shapes_b = [_named_shape(side_b, name) for name in outs_b]
    partner: dict[int, int] = {}
    for i, name in enumerate(outs_a):
        shape = _named_shape(side_a, name)
        same = [j for j, other in enumerate(shapes_b) if shape is not None and other == shape]
        if len(same) == 1 and same[0] not in partner.values():
            partner[i] = same[0]
    rest = iter(j for j in range(len(outs_b)) if j not in partner.values())
    return [
        (name, outs_b[partner[i]] if i in partner else outs_b[next(rest)]) for i, name in enumerate(outs_a)
    ]


def _mixes(
    side: Side, own: dict[str, Position], other: dict[str, Position], partners: dict[str, str]
) -> bool:
    """Whether a merge of this model (Add, Concat ...) joins operands that the other model's copies are
    moved against by different amounts: then it adds or stacks misaligned copies, other values.

    Each operand is traced back (through its first inputs) to the nearest layer output or model input
    that has a partner in the other model; its shift is measured against that partner.
    """
    producer = {name: node for node in side.graph.nodes for name in node.outputs}
    ran = {id(r.node) for r in side.run.nodes}
    for node in side.graph.nodes:
        if node.kind not in ("elementwise", "concat") or id(node) not in ran:
            continue
        shifts = set()
        for operand in node.inputs:
            anchor: str | None = operand
            while anchor is not None and anchor not in partners:
                source = producer.get(anchor)
                anchor = source.inputs[0] if source is not None and source.inputs else None
            if anchor is None:
                continue
            moved = _shift(other.get(partners[anchor]), own.get(operand))
            if moved is not None:
                shifts.add(moved)
        if len(shifts) > 1:
            return True
    return False


def _shift(a: Position | None, b: Position | None) -> tuple[tuple[str, Fraction], ...] | None:
    if a is None or b is None or set(a) != set(b):
        return None
    moved = []
    for name, (scale, offset) in a.items():
        scale_b, offset_b = b[name]
        if scale != scale_b:
            return None
        moved.append((name, (offset - offset_b) / scale))
    return tuple(moved)


def _fmt(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)
