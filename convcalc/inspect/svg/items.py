"""What a model picture draws: one box per node that changes a size, in dataflow order, at its scale.

Shape-preserving nodes (activations, normalisation, dropout) fold into the box of the node whose output
they read, listed there ("+ BatchNorm2d ReLU"), since they change no size; a marked one keeps its own
box. Nodes that read no data (weights passed through Identity, constant subgraphs) are not drawn. A
graph input becomes a box just before its first reader. Each box's *level* is the spatial scale of its
output against the model's first input, ``round(mean over spatial axes of log2(input / size))``: 0 at
the input's size, 1 at half of it, -1 at twice it; a tensor without the input's spatial axes (after a
Flatten or a Dense) stays at its producer's level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from convcalc.errors import BudgetExceeded, ConvCalcError
from convcalc.graph.model import CHANNELS_FIRST, Graph, Node
from convcalc.graph.shapes import Shape, spatial_axes
from convcalc.inspect.svg.words import arguments, short_names

# Boxes a picture draws at most: beyond it the picture is refused (counted before any layout).
MAX_BOXES = 600
MARK_KINDS = ("error", "changed", "warning", "knock_on")


@dataclass(frozen=True)
class Mark:
    """A node singled out: ``text`` says why (the picture never relies on colour alone); ``kind`` picks
    its colour: "error" (a failing merge or layer), "changed" (a layer another model spells otherwise),
    "warning", "knock_on" (a merge that agrees once the fixes of the merges before it are applied)."""

    text: str
    kind: str = "error"

    def __post_init__(self) -> None:
        if self.kind not in MARK_KINDS:
            raise ConvCalcError(f"mark kind must be one of {', '.join(MARK_KINDS)}; got {self.kind!r}")


@dataclass
class Item:
    """One box: a node (or a graph input), the shape-preserving ops folded into it, what it reads."""

    key: str
    kind: str
    title: str
    name: str
    layout: str
    inputs: list[str]
    output: str | None
    folded: list[str] = field(default_factory=list)
    mark: Mark | None = None
    level: int = 0


def collect(graph: Graph, marks: Mapping[str, Mark]) -> tuple[list[Item], dict[str, int]]:
    """The boxes in dataflow order and, per data tensor, the index of the box that produces it."""
    constants = {t.name for t in graph.constants}
    inputs = {t.name for t in graph.inputs}
    producer: dict[str, int] = {}
    items: list[Item] = []
    for node in graph.nodes:
        data = [t for t in node.inputs if t not in constants and (t in producer or t in inputs)]
        if not data:
            continue
        for name in data:
            if name in inputs and name not in producer:
                producer[name] = len(items)
                items.append(Item(f"input:{name}", "input", "input", name, node.layout, [], name))
        host = producer[data[0]]
        if (
            node.kind == "shape_preserving"
            and len(data) == 1
            and items[host].kind != "input"
            and node.name not in marks
        ):
            items[host].folded.append(node.op)
            items[host].output = node.outputs[0] if node.outputs else items[host].output
            for name in node.outputs:
                producer[name] = host
            continue
        for name in node.outputs:
            producer[name] = len(items)
        items.append(_item(node, data, marks.get(node.name)))
        if len(items) > MAX_BOXES:
            raise BudgetExceeded(
                f"svg: {graph.source} needs more than {MAX_BOXES} boxes (nodes that change a size, "
                f"activations folded in); the limit MAX_BOXES is {MAX_BOXES}: drop --svg, or draw a part "
                "of the model exported on its own",
                budget="MAX_BOXES",
                limit=MAX_BOXES,
                requested=len(items),
                parameter="svg",
            )
    names = short_names([(item.name, item.title.split(" ")[0]) for item in items])
    for item, name in zip(items, names):
        if item.kind != "input":
            item.name = name
    return items, producer


def _item(node: Node, data: list[str], mark: Mark | None) -> Item:
    words = arguments(node)
    title = f"{node.op} {words}" if words else node.op
    if len(title) > 40:
        title = title[:39] + "\u2026"
    return Item(
        node.name,
        node.kind,
        title,
        node.name,
        node.layout,
        data,
        node.outputs[0] if node.outputs else None,
        mark=mark,
    )


def spatial(shape: Shape, layout: str, rank: int) -> tuple[int, ...] | None:
    """The spatial sizes of a tensor that has the reference's rank, else None."""
    if len(shape) != rank or rank < 3:
        return None
    return tuple(shape[a] for a in spatial_axes(layout, rank))


def assign_levels(
    graph: Graph, items: list[Item], producer: dict[str, int], sizes: Mapping[str, Shape]
) -> None:
    """Each box's level: the log2 of how much its output is downsampled against the first input."""
    first = graph.inputs[0].name if graph.inputs else None
    reference = sizes.get(first) if first is not None else None
    layout = items[0].layout if items else CHANNELS_FIRST
    base = spatial(reference, layout, len(reference)) if reference else None
    for item in items:
        inherited = items[producer[item.inputs[0]]].level if item.inputs and item.inputs[0] in producer else 0
        if item.kind == "input" and item.output == first:
            item.level = 0
            continue
        shape = sizes.get(item.output) if item.output is not None else None
        own = spatial(shape, item.layout, len(base) + 2) if shape is not None and base else None
        if own is None or base is None or any(v < 1 for v in own):
            item.level = inherited
            continue
        logs = [math.log2(b / v) for b, v in zip(base, own)]
        item.level = round(sum(logs) / len(logs))


def dataflow_order(items: list[Item], producer: dict[str, int]) -> tuple[list[Item], dict[str, int]]:
    """The boxes reordered so that each merge follows its longest operand: a depth-first walk back from
    the model's ends that visits a node's smaller input branches (fewer boxes not yet placed) first, so
    that the largest comes last, just before the merge, and its column carries on through it (a ResNet
    block's shortcut is placed before the block, whose last convolution then reads into the add).
    Still a topological order; equal branches keep the graph's order."""
    count = len(items)
    inputs = [list(dict.fromkeys(producer[t] for t in item.inputs if t in producer)) for item in items]
    read = [False] * count
    for sources in inputs:
        for source in sources:
            read[source] = True
    placed = [False] * count
    order: list[int] = []

    def branch(start: int) -> int:
        seen, stack = {start}, [start]
        while stack:
            for source in inputs[stack.pop()]:
                if not placed[source] and source not in seen:
                    seen.add(source)
                    stack.append(source)
        return len(seen)

    for end in [n for n in range(count) if not read[n]]:
        walk: list[tuple[int, list[int]]] = []
        if not placed[end]:
            walk.append((end, sorted((s for s in inputs[end] if not placed[s]), key=branch)))
        while walk:
            node, pending = walk[-1]
            while pending and placed[pending[0]]:
                pending.pop(0)
            if pending:
                source = pending.pop(0)
                walk.append((source, sorted((s for s in inputs[source] if not placed[s]), key=branch)))
                continue
            walk.pop()
            if not placed[node]:
                placed[node] = True
                order.append(node)
    position = {old: new for new, old in enumerate(order)}
    return [items[n] for n in order], {tensor: position[n] for tensor, n in producer.items()}
