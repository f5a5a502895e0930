"""The torch.fx walk: trace a module symbolically, turn each fx node into a Graph node (or skip it when
it is size arithmetic), and ask torch itself for the shape of the nodes convcalc does not model.

Why fx rather than torch.export is said in ``convcalc.inspect.torch_reader``.
"""

from __future__ import annotations

import inspect
import logging
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.inspect.graph import (
    ConvSpec,
    Dim,
    Graph,
    Node,
    PoolSpec,
    ReshapeSpec,
    Spec,
    Tensor,
    UnknownSpec,
)
from convcalc.inspect.torch_layers import (
    SIZE_ATTRIBUTES,
    SIZE_METHODS,
    LayerReader,
    first_line,
    nodes_in,
)

MAX_NODES = 20_000


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before


class FxReader(LayerReader):
    """One module traced by torch.fx and walked into a checked Graph."""

    values: dict[Any, Any]
    tuples: dict[Any, tuple[str, tuple[str, ...]]]

    def trace(self) -> Any:
        fx = self.torch.fx
        try:
            parameters = list(inspect.signature(self.module.forward).parameters.values())
        except (TypeError, ValueError):
            parameters = []
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = [p.name for p in positional if p.default is p.empty]
        if len(required) > 1:
            raise self.error(
                "forward",
                f"takes {len(required)} tensor inputs ({', '.join(required)}); inspect reads modules with "
                "one input (wrap the model in a module whose forward takes one tensor)",
            )
        concrete = {p.name: p.default for p in positional[1:] if p.default is not p.empty}
        try:
            with _quiet("torch.fx"):
                graph = fx.Tracer().trace(self.module, concrete_args=concrete or None)
        except Exception as error:
            raise ConvCalcError(
                f"{self.source}: torch.fx cannot trace this model symbolically "
                f"({first_line(error)}). "
                "Control flow that depends on tensor sizes or values cannot be traced; export the model "
                "with torch.onnx.export (which runs it on a real input) and run convcalc inspect model.onnx",
                parameter="model",
            ) from None
        if len(graph.nodes) > MAX_NODES:
            raise self.error(
                "forward", f"traces to {len(graph.nodes)} nodes; inspect reads up to {MAX_NODES}"
            )
        self.graph_module = fx.GraphModule(self.module, graph)
        return graph

    def declared(self, node: Any) -> tuple[Dim, ...] | None:
        """torch's own output shape for a node convcalc does not model, at the given input."""
        value = self.evaluate(node)
        if isinstance(value, self.torch.Tensor):
            return tuple(int(d) for d in value.shape)
        return None

    def evaluate(self, node: Any) -> Any:
        """The node's value on the meta device (shapes without data: nothing is allocated, whatever the
        input size). Tensors already read come in with convcalc's own shapes, so only the node itself and
        the size arithmetic it reads run in torch; None where torch refuses."""
        torch = self.torch
        if node.op == "get_attr" and node.name in self.attr_shapes:
            return torch.empty(self.attr_shapes[node.name], device="meta")
        if node in self.values:  # size arithmetic, and unknown ops with their own value (a tuple from chunk)
            return self.values[node]
        if node in self.tensors:
            shape = self.shape_now(node.name)
            return None if shape is None else torch.empty(shape, device="meta")
        if node.op in ("placeholder", "get_attr"):
            return None
        self.values[node] = value = self.run_meta(node)
        return value

    def run_meta(self, node: Any) -> Any:
        torch = self.torch
        args = torch.fx.node.map_arg(node.args, self.evaluate)
        kwargs = torch.fx.node.map_arg(node.kwargs, self.evaluate)
        try:
            if node.op == "call_module":
                sub = self.module.get_submodule(str(node.target))
                state = dict(sub.named_parameters(remove_duplicate=False))
                state.update(sub.named_buffers(remove_duplicate=False))
                meta = {name: value.to("meta") for name, value in state.items()}
                return torch.func.functional_call(sub, meta, tuple(args), kwargs)
            if node.op == "call_method":
                return getattr(args[0], str(node.target))(*args[1:], **kwargs)
            return node.target(*args, **kwargs)
        except Exception:  # torch's shapes are advisory: convcalc's own propagation comes first
            return None

    def read(self) -> Graph:
        self.values = {}
        self.tuples = {}
        graph = self.trace()
        outputs: list[str] = []
        for node in graph.nodes:
            if node.op == "placeholder":
                if self.inputs:
                    continue
                self.inputs.append(Tensor(node.name, self.shape))
                self.tensors.add(node)
                self.rank[node.name] = len(self.shape)
            elif node.op == "get_attr":
                self.get_attr(node)
            elif node.op == "output":
                outputs = [n.name for n in nodes_in(node.args) if self.is_tensor(n)]
            elif self.is_value(node):
                continue
            else:
                self.add(node)
        if not self.inputs:
            raise self.error("forward", "takes no tensor input")
        self.check_input()
        return Graph(
            source=self.source,
            framework="pytorch",
            inputs=tuple(self.inputs),
            nodes=tuple(self.nodes),
            outputs=tuple(outputs),
            constants=tuple(self.constants.values()),
            notes=tuple(self.notes),
        ).checked()

    def check_input(self) -> None:
        """--input must fit the layers that read it: rank (batch, channels, spatial) and channels."""
        given = "x".join(map(str, self.shape))
        for node in self.nodes:
            if self.inputs[0].name not in node.inputs or not isinstance(node.spec, (ConvSpec, PoolSpec)):
                continue
            rank = len(node.spec.kernel_size) + 2
            if len(self.shape) != rank:
                raise ConvCalcError(
                    f"the input shape {given} has rank {len(self.shape)}; {self.source}'s layer "
                    f"{node.name!r} ({node.op}) reads rank {rank}: batch, channels and {rank - 2} "
                    "spatial size(s)",
                    parameter="input",
                )
            if isinstance(node.spec, ConvSpec) and self.shape[1] != node.spec.in_channels:
                raise ConvCalcError(
                    f"the input shape {given} has {self.shape[1]} channels; {self.source}'s layer "
                    f"{node.name!r} ({node.op}) reads {node.spec.in_channels}",
                    parameter="input",
                )

    def get_attr(self, node: Any) -> None:
        value = self.graph_module
        for part in str(node.target).split("."):
            value = getattr(value, part, None)
        if isinstance(value, self.torch.Tensor):
            self.tensors.add(node)
            self.rank[node.name] = value.dim()
            self.attr_shapes[node.name] = tuple(int(d) for d in value.shape)

    def is_value(self, node: Any) -> bool:
        """Size arithmetic (x.size(2) - y.size(2), x.shape[2:]): values, not tensors, and not graph nodes."""
        target = node.target
        if target is self.torch._assert:  # fx's guard that a defaulted forward argument kept its value
            return True
        if node.op == "call_method" and target in SIZE_METHODS:
            return True
        if node.op == "call_function" and target is getattr and len(node.args) > 1:
            return node.args[1] in SIZE_ATTRIBUTES
        if node.op == "call_function" and getattr(target, "__module__", None) in (
            "_operator",
            "builtins",
            "math",
        ):
            return not any(self.is_tensor(n) or n in self.tuples for n in nodes_in((node.args, node.kwargs)))
        return False

    def add(self, node: Any) -> None:
        data = [n for n in nodes_in((node.args, node.kwargs)) if self.is_tensor(n)]
        self.keeps_rank = False
        source = node.args[0] if node.target is operator.getitem and node.args else None
        spec: Spec
        if isinstance(source, self.torch.fx.Node) and source in self.tuples:
            # one item of an op that returns several tensors (torch.chunk, split, max with dim)
            op, inputs = self.tuples[source]
            op, kind, spec = f"{op}[{node.args[1]!r}]", "unknown", UnknownSpec((self.declared(node),))
        else:
            op, kind, spec, inputs = self.describe(node, data)
        if kind == "unknown" and not isinstance(spec, UnknownSpec):
            inputs = tuple(n.name for n in data)
            value = self.evaluate(node)
            if (
                isinstance(value, (tuple, list))
                and value
                and all(isinstance(v, self.torch.Tensor) for v in value)
            ):
                self.tuples[node] = (op, inputs)  # not a tensor: its items become the graph's nodes
                return
            spec = UnknownSpec((self.declared(node),))
        # parameters read as data (x + self.bias, torch.cat([x, self.embedding])) are the graph's constants;
        # a weight read by a functional convolution or linear is in its spec instead
        for name in inputs:
            if name in self.attr_shapes and name not in self.constants:
                self.constants[name] = Tensor(name, self.attr_shapes[name])
        self.nodes.append(Node(self.name_of(node), op, kind, inputs, (node.name,), spec))
        self.tensors.add(node)
        self.rank[node.name] = self.rank_after(node, kind, spec, inputs)

    def rank_after(self, node: Any, kind: str, spec: Spec, inputs: tuple[str, ...]) -> int | None:
        if kind == "flatten":
            return 2
        if isinstance(spec, ReshapeSpec):
            return len(spec.shape)
        if kind == "unknown":
            declared = spec.declared[0] if isinstance(spec, UnknownSpec) and spec.declared else None
            if declared is not None:
                return len(declared)
            return self.rank.get(inputs[0]) if self.keeps_rank and inputs else None
        ranks = [self.rank.get(n) for n in inputs]
        return None if not ranks or None in ranks else max(r for r in ranks if r is not None)

    def describe(self, node: Any, data: list[Any]) -> tuple[str, str, Spec, tuple[str, ...]]:
        """(op, kind, spec, data inputs); kind "unknown" for anything not modelled, with a note why."""
        if node.op == "call_module":
            module = self.module.get_submodule(str(node.target))
            op = type(module).__name__
            described = self.module_node(node, module, op)
        else:
            target = node.target
            op = str(target) if node.op == "call_method" else getattr(target, "__name__", str(target))
            described = self.call_node(node, op.rstrip("_") if op.endswith("_") and op != "__" else op)
        if described is None:
            return op, "unknown", None, ()
        kind, spec, inputs = described
        return op, kind, spec, tuple(n.name for n in inputs)
