"""The witness of the Keras route: a model executed by Keras layer by layer, and `convcalc inspect`'s
reading of its `.keras` (or `.h5`) file compared with that run.

``record`` runs a model on zeros of one input shape through Keras' own graph (each layer called on
the values its inputs computed), keeping every layer's output shape and, where Keras refuses, the
layer that refused and Keras' message. A record is plain JSON, so the comparison (``compare``,
``compare_sizes``) runs without TensorFlow on recorded truth as well as on a live run.

A case (model, input shape) agrees when convcalc and Keras agree on whether the model runs, on every
output's shape and on every layer's output shape; where Keras refuses, convcalc must stop or find a
mismatch at that layer. A false alarm is convcalc saying the model fails where Keras runs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from convcalc.graph.model import Graph
from convcalc.graph.shapes import Run, propagate
from convcalc.inspect.analysis import inspect_graph

Shape = tuple[int, ...]


def first_line(error: Exception) -> str:
    """Keras' own message: it wraps the backend's after an 'Exception encountered' line, in ANSI bold."""
    lines = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Exception encountered"):
        return f"{type(error).__name__}: {lines[1].strip()[:300]}"
    return f"{type(error).__name__}: {lines[0][:300] if lines else ''}"


def record(keras: Any, model: Any, shape: Shape) -> dict[str, Any]:
    """Run ``model`` on zeros of ``shape`` layer by layer: {"input", "layers", "outputs", "error",
    "refused"}. Where a layer refuses, the branches that do not need it run on, so that ``refused``
    lists every layer Keras refuses at this size (``error`` is the first, with Keras' message).

    Layers are named as convcalc names them: the layer's name, ``name:n`` for its call number n > 0,
    ``name:n:t`` for a further output t of a nested model, its layers under ``outer/``."""
    import numpy as np

    shapes: dict[str, list[int]] = {}
    refused: list[tuple[str, str]] = []

    def walk(model: Any, inputs: list[Any], prefix: str) -> list[Any]:
        if isinstance(model, keras.Sequential):
            (x,) = inputs
            for layer in model.layers:
                if x is None:
                    break
                (x,) = call(layer, 0, prefix, (x,), {}, 1)
            return [x]
        values = {id(t): v for t, v in zip(model.inputs, inputs) if v is not None}
        for depth in sorted(model._nodes_by_depth, reverse=True):
            for node in model._nodes_by_depth[depth]:
                if not node.operation or node.is_input:
                    continue
                if any(id(t) not in values for t in node.input_tensors):
                    continue
                args, kwargs = node.arguments.fill_in(values)
                index = node.operation._inbound_nodes.index(node)
                out = call(node.operation, index, prefix, args, kwargs, len(node.outputs))
                for t, v in zip(node.outputs, out):
                    if v is not None:
                        values[id(t)] = v
        return [values.get(id(t)) for t in model.outputs]

    def call(op: Any, index: int, prefix: str, args: Any, kwargs: dict[str, Any], count: int) -> list[Any]:
        name = prefix + op.name + (f":{index}" if index else "")
        if isinstance(op, keras.Model):
            out = walk(op, list(keras.tree.flatten(args)), name + "/")
        else:
            try:
                out = list(keras.tree.flatten(op(*args, **kwargs)))
            except Exception as error:  # Keras refusing the size is the witness's answer
                refused.append((name, first_line(error)))
                return [None] * count
        for t, value in enumerate(out):
            if value is not None:
                later = (":0" if not index else "") + f":{t}" if t else ""
                shapes[name + later] = [int(v) for v in value.shape]
        return out

    outputs = walk(model, [np.zeros(shape, "float32")], "")
    return {
        "input": list(shape),
        "layers": shapes,
        "outputs": None if refused else [[int(v) for v in y.shape] for y in outputs],
        "error": list(refused[0]) if refused else None,
        "refused": [name for name, _ in refused],
    }


@dataclass
class Verdict:
    runs: bool
    keras_runs: bool
    problems: list[str]
    # The layer convcalc's answer stops at ("not worked out, because <layer>"), if any.
    stopped: str | None = None

    @property
    def agrees(self) -> bool:
        return not self.problems

    @property
    def false_alarm(self) -> bool:
        return self.keras_runs and not self.runs


def _stops_at(run: Run) -> str | None:
    """The node where convcalc's run ends: the failing node, the first mismatch, or the first stop."""
    if run.failure is not None:
        return run.failure.node.name
    if run.mismatches:
        return run.mismatches[0].node.name
    if run.stopped:
        return run.stopped[0].name
    return None


def compare(graph: Graph, truth: dict[str, Any]) -> Verdict:
    """convcalc's run of ``graph`` at the recorded input shape against Keras' ``truth`` (a ``record``)."""
    shape = tuple(truth["input"])
    run = propagate(graph, (shape,))
    runs = run.ok and not run.stopped
    keras_runs = truth["error"] is None
    problems = []
    stopped = run.stopped[0].name if run.stopped else None
    if stopped is not None:
        pass  # not worked out: the caller decides whether this layer truly cannot be modelled
    elif runs != keras_runs:
        problems.append(
            f"convcalc says {'runs' if runs else 'fails at ' + str(_stops_at(run))}; "
            f"Keras: {'runs' if keras_runs else truth['error']}"
        )
    elif not keras_runs and _stops_at(run) not in truth["refused"]:
        # Parallel branches run in another order: the layer convcalc stops at must be one Keras refuses.
        problems.append(f"convcalc fails at {_stops_at(run)}; Keras refuses {truth['refused']}")
    if runs and keras_runs:
        final = [list(run.shapes[name]) if name in run.shapes else None for name in graph.outputs]
        if final != truth["outputs"]:
            problems.append(f"outputs {final} vs Keras {truth['outputs']}")
    for name, real in truth["layers"].items():
        ours = run.shapes.get(name)
        if ours is None:
            if runs:
                problems.append(f"layer {name}: no shape; Keras {real}")
        elif list(ours) != real:
            problems.append(f"layer {name}: {list(ours)} vs Keras {real}")
    return Verdict(runs, keras_runs, problems, stopped)


def compare_sizes(graph: Graph, base: Shape, runs_at: dict[int, dict[int, bool]]) -> list[str]:
    """The report's sizes that run, per spatial axis at ``base`` (the other axes held), against Keras:
    ``runs_at[tensor_axis][size]`` says whether Keras ran the model at that size."""
    report = inspect_graph(graph, (base,))
    problems = []
    axes = [axis.tensor_axis for axis in report.axes]
    if axes != sorted(runs_at):
        problems.append(
            f"the report's spatial axes are tensor axes {axes}; the model's are {sorted(runs_at)}"
        )
    for axis in report.axes:
        sizes = runs_at.get(axis.tensor_axis, {})
        if not sizes:
            continue
        if axis.runs is None:
            problems.append(f"axis {axis.tensor_axis}: sizes that run not worked out ({axis.note})")
            continue
        for size, keras_runs in sorted(sizes.items()):
            if axis.runs.contains(size) != keras_runs:
                said = "runs" if axis.runs.contains(size) else "fails"
                problems.append(
                    f"axis {axis.tensor_axis} size {size}: convcalc {said}; Keras "
                    f"{'runs' if keras_runs else 'fails'}"
                )
    return problems
