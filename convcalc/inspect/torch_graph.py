"""From executions to the Graph the report analyses: checked against torch, and tested for whether
it holds at other input sizes (why: ``convcalc.inspect.torch_reader``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.gains import period
from convcalc.graph.model import ConvSpec, Graph, Node, PoolSpec, UnknownSpec
from convcalc.graph.shapes import Run, propagate
from convcalc.graph.sizes import smallest_running
from convcalc.inspect.torch_capture import Capture, Recording

Shape = tuple[int, ...]
# Recordings kept per model: the accepted-size analysis of a size-dependent graph asks for a few
# hundred sizes at most (its own budget), each a meta execution.
MAX_KEPT = 4096
# Round a failing input's spatial sizes up to these multiples to find one that runs (the largest
# first: a model that needs multiples of 2^levels usually runs at the first try).
ROUNDINGS = (64, 32, 16, 8, 4, 2)
MAX_VARIANT_STEP = 64


def _fmt(shape: Shape | None) -> str:
    return "x".join(map(str, shape)) if shape is not None else "no shape"


class Executed:
    """One model, executed at as many input shapes as the analysis needs (each capture kept)."""

    def __init__(self, torch: Any, module: Any, source: str) -> None:
        self.capture = Capture(torch, module, source)
        self.source = source
        self.recordings: dict[Shape, Recording] = {}
        self.graphs: dict[Shape, Graph] = {}
        # forward read tensor data at the given input, which a model built on the meta device lacks
        self.reads_data = False

    def recording(self, shape: Shape) -> Recording:
        if shape not in self.recordings:
            if len(self.recordings) >= MAX_KEPT:
                self.recordings.clear()
                self.graphs.clear()
            self.recordings[shape] = self.capture.run(shape)
        return self.recordings[shape]

    def graph_at(self, shape: Shape) -> Graph:
        """The model at this input shape: what torch ran, every node's shape checked against torch's."""
        if shape not in self.graphs:
            self.graphs[shape] = _checked(self.recording(shape), shape)
        return self.graphs[shape]

    def rebuild(self, shapes: tuple[Shape, ...]) -> Graph:
        return self.graph_at(tuple(shapes[0]))

    def read(self, shape: Shape) -> Graph:
        """The graph of the given input, with ``rebuild`` set unless it holds at every size tried."""
        given = self.recording(shape)
        _check_input(given.graph, shape, self.source)
        graph = self.graph_at(shape)
        if given.failure is not None and given.failure.meta_only:
            self.reads_data = True
            return graph  # torch cannot run it without data: shapes stop there, nothing to rebuild
        spatial = tuple(range(2, len(shape)))
        if not spatial:
            return graph
        base = shape if given.ran_through else self.running_near(shape)
        if base is None:
            return replace(graph, rebuild=self.rebuild)
        whole = self.graph_at(base)
        tried = [v for v in self.variants(whole, base) if v != base]
        # where the graph says the model starts to run: torch's checks the graph does not hold
        # (instance statistics over one element) show at the smallest sizes
        smallest = smallest_running(whole, (base,), spatial)
        if smallest is not None:
            tried.append((*base[:2], *(smallest for _ in spatial)))
        if base != shape:
            tried.append(shape)
        if all(_holds(whole, self.recording(v), v) for v in tried):
            return replace(whole, inputs=graph.inputs)
        return replace(graph, rebuild=self.rebuild)

    def running_near(self, shape: Shape) -> Shape | None:
        """A shape near the given one (spatial sizes rounded up to a multiple) that torch runs."""
        for m in ROUNDINGS:
            near = (*shape[:2], *(max(m, -(-s // m) * m) for s in shape[2:]))
            if self.recording(near).failure is None:
                return near
        return None

    def variants(self, graph: Graph, shape: Shape) -> list[Shape]:
        """Shapes to test the graph at: each spatial axis moved by one or two of its periods (different
        per axis, so that swapped axes show), and every spatial size plus one."""
        steps = []
        for axis in range(2, len(shape)):
            p = period(graph, axis)
            steps.append(p if p <= MAX_VARIANT_STEP else MAX_VARIANT_STEP)
        moved = tuple(s + p * (1 + n % 2) for n, (s, p) in enumerate(zip(shape[2:], steps)))
        plus_one = tuple(s + 1 for s in shape[2:])
        return [(*shape[:2], *v) for v in (moved, plus_one)]


def _holds(graph: Graph, recording: Recording, shape: Shape) -> bool:
    """Whether ``graph`` (read at another size) is the model at ``shape``: the same nodes up to where
    torch stopped, torch's shape for every tensor, the same constants, and a failure where torch failed."""
    other = recording.graph
    same = [(n.name, n.op, n.kind) for n in other.nodes[: len(graph.nodes)]] == [
        (n.name, n.op, n.kind) for n in graph.nodes[: len(other.nodes)]
    ]
    if not same and (recording.failure is None or recording.failure.node is not None):
        return False
    if recording.ran_through and len(other.nodes) != len(graph.nodes):
        return False
    if {t.name: t.shape for t in other.constants} != {
        t.name: t.shape for t in graph.constants if t.name in {c.name for c in other.constants}
    }:
        return False
    run = propagate(graph, (shape,))
    failed = recording.failed_index
    for index, node in enumerate(other.nodes):
        if index == failed:
            break
        for name in node.outputs:
            if name in recording.shapes and run.shapes.get(name) != recording.shapes[name]:
                return False
    if recording.failure is None:
        return run.ok and not run.stopped
    if recording.failure.node is None:
        return not run.ok or bool(run.stopped)
    return _fails_at(run, recording.failure.node)


def _fails_at(run: Run, name: str) -> bool:
    if run.failure is not None:
        return run.failure.node.name == name
    first = next((r for r in run.nodes if r.mismatch is not None), None)
    return first is not None and first.node.name == name


def _checked(recording: Recording, shape: Shape) -> Graph:
    """The recording's graph with every node's shape checked against torch's at this input.

    A node whose rule gives another shape than torch (or refuses where torch ran) is read as unknown
    with torch's shape; where torch refused the input and convcalc's rule does not fail at that node,
    the node stops the shapes, with torch's message."""
    graph = recording.graph
    nodes = list(graph.nodes)
    notes = list(graph.notes)
    failed = recording.failed_index
    for _ in range(len(nodes) + 1):
        run = propagate(replace(graph, nodes=tuple(nodes)), (shape,))
        ran = {r.index: r for r in run.nodes}
        wrong: list[tuple[int, str]] = []
        for index, node in enumerate(nodes):
            if index == failed:
                break
            torch_shapes = tuple(recording.shapes.get(name) for name in node.outputs)
            if any(s is None for s in torch_shapes):
                continue
            mine = ran.get(index)
            if run.failure is not None and run.failure.index == index:
                wrong.append((index, f"convcalc's rule refuses it ({run.failure.message})"))
                break
            if mine is None:
                if run.failure is not None and run.failure.index < index:
                    break
                continue
            if mine.mismatch is not None:
                wrong.append((index, f"convcalc's rule flags it ({mine.mismatch})"))
            elif mine.outputs != torch_shapes[: len(mine.outputs)]:
                wrong.append((index, f"convcalc's rule gives {_fmt(mine.outputs[0])}"))
        if not wrong:
            break
        for index, why in wrong:
            node = nodes[index]
            torch_shapes = tuple(recording.shapes[name] for name in node.outputs)
            nodes[index] = replace(node, kind="unknown", spec=UnknownSpec(torch_shapes))
            notes.append(
                f"{node.name}: torch runs {node.op} to {_fmt(torch_shapes[0])} where {why}; read as an op "
                "convcalc does not model, with torch's shape"
            )
    failure = recording.failure
    if failure is not None and failed is not None:
        node = nodes[failed]
        run = propagate(replace(graph, nodes=tuple(nodes)), (shape,))
        if failure.node is None and failure.meta_only:
            notes.append(
                f"{node.name}: forward reads tensor data, which the meta device does not have "
                f"({failure.message}); shapes stop there"
            )
        elif failure.node is None:
            notes.append(f"{node.name}: the model's own code refuses this input: {failure.message}")
        elif failure.meta_only:
            nodes[failed] = replace(node, kind="unknown", spec=UnknownSpec((None,) * len(node.outputs)))
            notes.append(
                f"{node.name}: torch cannot run {node.op} without data on the meta device ({failure.message})"
            )
        elif not _fails_at(run, node.name):
            nodes[failed] = replace(node, kind="unknown", spec=UnknownSpec((None,) * len(node.outputs)))
            notes.append(f"{node.name}: torch refuses this input here: {failure.message}")
    refused = None
    if failure is not None and failed is not None and not failure.meta_only:
        refused = nodes[failed].name
    checked = replace(
        graph, nodes=tuple(nodes), notes=tuple(dict.fromkeys(notes)), refused_at=refused
    ).checked()
    if failure is None:
        run = propagate(checked, (shape,))
        for name in checked.outputs:
            if run.shapes.get(name) != recording.shapes.get(name):
                ours, theirs = _fmt(run.shapes.get(name)), _fmt(recording.shapes.get(name))
                raise ConvCalcError(
                    f"{graph.source}: the graph read from the model gives output {name!r} the shape "
                    f"{ours} where torch's run gives {theirs}; "
                    "convcalc does not analyse a graph that is not the model",
                    parameter="model",
                )
    return checked


def _check_input(graph: Graph, shape: Shape, source: str) -> None:
    """--input must fit the layers that read it: rank (batch, channels, spatial) and channels."""
    given = "x".join(map(str, shape))
    first = graph.inputs[0].name
    for node in graph.nodes:
        if first not in node.inputs or not isinstance(node.spec, (ConvSpec, PoolSpec)):
            continue
        rank = len(node.spec.kernel_size) + 2
        if len(shape) != rank:
            raise ConvCalcError(
                f"the input shape {given} has rank {len(shape)}; {source}'s layer {node.name!r} ({node.op}) "
                f"reads rank {rank}: batch, channels and {rank - 2} spatial size(s)",
                parameter="input",
            )
        if isinstance(node.spec, ConvSpec) and shape[1] != node.spec.in_channels:
            raise ConvCalcError(
                f"the input shape {given} has {shape[1]} channels; {source}'s layer {node.name!r} "
                f"({node.op}) reads {node.spec.in_channels}",
                parameter="input",
            )


__all__ = ["Executed", "Node"]
