"""The witness of the PyTorch route: the model executed in eager torch (CPU, random weights), with
forward hooks on every layer, compared with what `convcalc inspect` reads (meta device) and works out.

A layer is named as the report names it: its module path, ``#2``, ``#3`` for its later calls in one
forward. A case (model, input size) agrees when convcalc and torch agree on whether the model runs,
on the final shape, on every hooked layer's output shape, and when the accepted sizes contain the
size only where torch runs it. A false alarm is convcalc saying the model does not run where torch
runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from convcalc.graph.shapes import propagate
from convcalc.inspect.analysis import inspect_graph
from convcalc.inspect.torch_capture import QUERIES
from convcalc.inspect.torch_layers import op_name, overrides_forward
from convcalc.inspect.torch_reader import read_built


@dataclass
class Eager:
    """One eager run: the error when torch refuses the input, the outputs and every layer's output."""

    error: str | None
    outputs: list[tuple[int, ...]]
    layers: dict[str, tuple[int, ...]] = field(default_factory=dict)


def _tensors(value: Any) -> list[Any]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def eager(model: Any, shape: tuple[int, ...]) -> Eager:
    """Run the model on zeros of this shape, recording every torch layer's output and every function's
    outside a layer, by call site (the module path, then the op: "up1.cat", "up1.cat#2")."""
    model.eval()
    paths: dict[int, str] = {}
    for path, sub in model.named_modules(remove_duplicate=False):
        paths.setdefault(id(sub), path)
    counts: dict[str, int] = {}
    seen: dict[str, tuple[int, ...]] = {}
    stack: list[tuple[str, bool]] = []

    def site(base: str) -> str:
        counts[base] = counts.get(base, 0) + 1
        return base if counts[base] == 1 else f"{base}#{counts[base]}"

    def leaf(module: Any) -> bool:
        return not overrides_forward(module) and not any(True for _ in module.children())

    def before(module: Any, inputs: Any) -> None:
        inside = any(is_leaf for _, is_leaf in stack)
        stack.append((paths.get(id(module), ""), leaf(module) and not inside))

    def after(module: Any, inputs: Any, output: Any) -> None:
        path, is_leaf = stack.pop()
        if is_leaf:
            outs = _tensors(output)
            name = site(path or type(module).__name__)
            if len(outs) == 1:
                seen[name] = tuple(outs[0].shape)

    class Functions(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            result = func(*args, **(kwargs or {}))
            op = op_name(func)
            outs = _tensors(result)
            if op in QUERIES or not outs or any(is_leaf for _, is_leaf in stack):
                return result
            where = stack[-1][0] if stack else ""
            name = site(f"{where}.{op}" if where else op)
            if len(outs) == 1 and not isinstance(result, (tuple, list)):
                seen[name] = tuple(outs[0].shape)
            else:
                for n, t in enumerate(outs):
                    seen[f"{name}[{n}]"] = tuple(t.shape)
            return result

    handles = []
    for sub in model.modules():
        handles.append(sub.register_forward_pre_hook(before))
        handles.append(sub.register_forward_hook(after))
    try:
        with torch.no_grad(), Functions():
            out = model(torch.zeros(shape))
        return Eager(None, [tuple(t.shape) for t in _tensors(out)], seen)
    except Exception as error:  # torch refusing the input is the witness's answer
        return Eager(f"{type(error).__name__}: {error}", [], seen)
    finally:
        for handle in handles:
            handle.remove()


@dataclass
class Verdict:
    runs: bool
    torch_runs: bool
    problems: list[str]
    claims_failure: bool = False

    @property
    def agrees(self) -> bool:
        return not self.problems

    @property
    def false_alarm(self) -> bool:
        return self.torch_runs and self.claims_failure


def compare(real: Any, meta: Any, shape: tuple[int, ...]) -> Verdict:
    """convcalc's reading of ``meta`` (the model built on the meta device) at ``shape`` against the
    eager run of ``real`` (the same model with weights)."""
    truth = eager(real, shape)
    graph = read_built(meta, shape, "model", lambda: real)
    run = propagate(graph, (shape,))
    runs = run.ok and not run.stopped
    problems = []
    if run.ok and run.stopped and truth.error is None:
        problems.append(f"not shown to run: shapes stop at {run.stopped[0].name} ({run.stopped[0].op})")
    elif runs != (truth.error is None):
        problems.append(f"convcalc says {'runs' if runs else 'fails'}; torch: {truth.error or 'runs'}")
    if runs and truth.error is None:
        final = [run.shapes.get(name) for name in graph.outputs]
        if final != truth.outputs:
            problems.append(f"outputs {final} vs torch {truth.outputs}")
    by_name = {n.name: n for n in graph.nodes}
    for name, real_shape in truth.layers.items():
        node = by_name.get(name)
        if node is None:
            continue  # a layer off the input's path (a timestep embedding): not part of the graph
        ours = run.shapes.get(node.outputs[0])
        if ours is not None and ours != real_shape:
            problems.append(f"layer {name}: {ours} vs torch {real_shape}")
        elif ours is None and truth.error is None:
            problems.append(f"layer {name}: no shape; torch {real_shape}")
    return Verdict(runs, truth.error is None, problems, claims_failure=not run.ok)


def accepted_agrees(meta: Any, base: tuple[int, ...], real: Any, sizes: list[tuple[int, ...]]) -> list[str]:
    """The accepted sizes of the report at ``base``, one axis at a time with the others held at their
    base sizes (as the report gives them), against torch: every accepted size runs in torch."""
    report = inspect_graph(read_built(meta, base, "model", lambda: real), (base,))
    problems = []
    for axis in report.axes:
        if axis.accepted is None:
            continue
        for size in sorted({shape[axis.tensor_axis] for shape in sizes}):
            shape = list(base)
            shape[axis.tensor_axis] = size
            if axis.accepted.contains(size) and eager(real, tuple(shape)).error is not None:
                problems.append(f"{tuple(shape)} accepted; torch refuses it")
    return problems


def document_problems(target: str, shape: tuple[int, ...]) -> list[str]:
    """``convcalc inspect TARGET --input SHAPE --json`` through the CLI: it answers (exit 0 or 1, never
    2 on a model that runs) with a document that holds the published schema."""
    import json

    import jsonschema
    from typer.testing import CliRunner

    from convcalc.cli import app
    from convcalc.schemas import schema

    result = CliRunner().invoke(app, ["inspect", target, "--input", "x".join(map(str, shape)), "--json"])
    if result.exit_code not in (0, 1):
        return [f"inspect --json exits {result.exit_code}: {result.stdout[:300]} {result.stderr[:300]}"]
    try:
        jsonschema.validate(json.loads(result.stdout), schema("inspect"))
    except jsonschema.ValidationError as error:
        return [f"inspect --json breaks its schema: {error.message[:300]}"]
    return []
