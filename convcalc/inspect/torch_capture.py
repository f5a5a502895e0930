"""Capture a PyTorch model by executing it: what really runs, on the meta device, becomes a Graph.

The model runs once, in eval mode, on a meta input of the requested shape (shapes without data: no
activation and, for a model built under ``torch.device("meta")``, no weight is ever allocated), so
Python control flow, ``isinstance`` checks and dict, tuple or dataclass outputs behave as in eager
mode. Two recorders watch it:

* forward hooks on every module of the model: a torch layer whose forward is torch's own (nn.Conv2d,
  nn.MaxPool2d, nn.Upsample, nn.ReLU, nn.LSTM, ...) is one node named by its path, read from the
  module's own arguments; every other module (containers, the model's own classes, torch layers
  whose forward a library overrides) is looked through;
* a ``TorchFunctionMode``: every function and tensor method called on data that comes from the
  input (F.interpolate, torch.cat, x + y, x[:, :, 1:], x.view(...)) outside a recorded layer is a node
  named by the module it runs in ("up1.cat"). Calls on weights or constants alone (building a mask, a
  positional table) are not nodes; a tensor of theirs read as data (x + self.bias) is a graph constant.

Each call site has its own name: a module or an op called again in one forward gets ``#2``, ``#3``.
Every node carries torch's own output shape for the captured input (``shapes``), and when torch
refuses the input the op that raised it (or the model's own ``raise``) is recorded as where it failed.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.model import Graph, Node, Tensor, UnknownSpec
from convcalc.inspect.torch_layers import Layers, first_line, op_name, overrides_forward

MAX_NODES = 20_000
MAX_NAMED = 8  # layers named in the note that says which ones never ran
# Calls that read a tensor's size, type or place: never nodes.
QUERIES = frozenset(
    [
        "get",
        "size",
        "dim",
        "numel",
        "nelement",
        "ndimension",
        "shape",
        "dtype",
        "device",
        "is_cuda",
        "layout",
        "is_floating_point",
        "is_complex",
        "element_size",
        "stride",
        "storage_offset",
        "is_contiguous",
        "data_ptr",
        "requires_grad_",
        "has_names",
        "is_sparse",
        "is_quantized",
        "is_meta",
        "item",
        "tolist",
    ]
)
# torch layers that apply one function to every element (no check that could refuse an input).
ELEMENTWISE_LAYERS = frozenset(
    [
        "ReLU",
        "ReLU6",
        "LeakyReLU",
        "PReLU",
        "RReLU",
        "ELU",
        "SELU",
        "CELU",
        "GELU",
        "SiLU",
        "Mish",
        "Sigmoid",
        "Tanh",
        "Hardtanh",
        "Hardswish",
        "Hardsigmoid",
        "Hardshrink",
        "Softshrink",
        "Tanhshrink",
        "Softplus",
        "Softsign",
        "LogSigmoid",
        "Threshold",
        "Dropout",
        "AlphaDropout",
        "FeatureAlphaDropout",
    ]
)
# Normalisation layers: their functional call keeps the input's shape (``_Run.normalised``).
NORM_LAYERS = frozenset(
    [
        "BatchNorm1d",
        "BatchNorm2d",
        "BatchNorm3d",
        "InstanceNorm1d",
        "InstanceNorm2d",
        "InstanceNorm3d",
        "GroupNorm",
    ]
)
# Methods that make a new tensor unrelated to their operand's values and shape.
_NEW_TENSORS = frozenset(["new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"])
_LIKE = frozenset(["zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like"])


class _TooLarge(BaseException):
    """The capture passed its node budget (a BaseException: the model's own ``except`` keeps out)."""


@dataclass
class Failure:
    """Where torch refused the input: the node (or None: the model's own code raised) and torch's words."""

    node: str | None
    message: str
    meta_only: bool = False


@dataclass
class Recording:
    """One execution: the graph of what ran, torch's shape of every tensor, and the failure if any."""

    graph: Graph
    shapes: dict[str, tuple[int, ...]]
    failure: Failure | None = None
    failed_index: int | None = None
    notes: list[str] = field(default_factory=list)
    # forward ran to its end (past a refused merge, with the merge's fix applied, where there is one)
    ran_through: bool = False


def _tensors_in(value: object, torch: Any, depth: int = 0) -> Iterator[Any]:
    """Tensors inside an argument or a result (lists, tuples, dicts, dataclasses), in order."""
    if isinstance(value, torch.Tensor):
        yield value
    elif depth > 4:
        return
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors_in(item, torch, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item, torch, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _tensors_in(getattr(value, f.name, None), torch, depth + 1)


def _meta_limit(error: BaseException) -> bool:
    """torch could not run the op without data (not the model refusing the input)."""
    text = str(error)
    return isinstance(error, NotImplementedError) or any(
        word in text for word in ("meta tensor", "'meta'", "data-dependent", "Cannot copy out of meta")
    )


class Capture:
    """Runs one model on meta inputs and records what executes; one instance serves many input sizes."""

    def __init__(self, torch: Any, module: Any, source: str) -> None:
        self.torch = torch
        self.module = module
        self.source = source
        self.paths: dict[int, str] = {}
        for path, sub in module.named_modules(remove_duplicate=False):
            self.paths.setdefault(id(sub), path)
        self.input_name = _input_name(module)
        self.state = self._meta_state()

    def _meta_state(self) -> dict[str, Any] | None:
        """Meta copies of weights that are not on the meta device yet (the module is left as it is)."""
        state = dict(self.module.named_parameters(remove_duplicate=False))
        state.update(self.module.named_buffers(remove_duplicate=False))
        if all(value.device.type == "meta" for value in state.values()):
            return None
        copies: dict[int, Any] = {}  # tied weights stay tied: one meta copy per tensor
        for value in state.values():
            # a number kept as a 0-d buffer is configuration that forward may compute sizes with
            # (EnCodec's stride and kernel size): it keeps its value; torch mixes 0-d tensors freely
            copies.setdefault(id(value), value if value.dim() == 0 else value.to("meta"))
        return {name: copies[id(value)] for name, value in state.items()}

    def run(self, shape: tuple[int, ...]) -> Recording:
        return _Run(self, shape).execute()


class _Run:
    """The state of one execution."""

    def __init__(self, capture: Capture, shape: tuple[int, ...]) -> None:
        self.capture = capture
        self.torch = capture.torch
        self.shape = shape
        self.tracked: dict[int, tuple[Any, str]] = {}
        self.constants: dict[int, tuple[Any, Tensor]] = {}
        self.weights: dict[int, str] = {}
        self.nodes: list[Node] = []
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.counts: dict[str, int] = {}
        self.stack: list[tuple[str, Any]] = []
        self.inside: Any = None  # the recorded layer now running: its inner calls are not nodes
        self.busy = False
        self.notes: list[str] = []
        self.failed: dict[int, tuple[BaseException, int]] = {}
        # the first merge torch refused and the run went on past with its fix applied: (index, words)
        self.refused: tuple[int, str] | None = None
        self.ran: set[str] = set()  # the torch layers (by module path) that ran
        self.last = capture.input_name
        self.layers = Layers(self.torch, self.notes, self.is_data)

    # -- bookkeeping --------------------------------------------------------------------------------

    def is_data(self, value: Any) -> bool:
        return id(value) in self.tracked and self.tracked[id(value)][0] is value

    def name_of(self, value: Any) -> str:
        return self.tracked[id(value)][1]

    def call_site(self, base: str) -> str:
        n = self.counts.get(base, 0) + 1
        self.counts[base] = n
        return base if n == 1 else f"{base}#{n}"

    def where(self) -> str:
        """The innermost module path running now ("" at the top)."""
        return self.stack[-1][0] if self.stack else ""

    def track(self, value: Any, name: str) -> None:
        self.tracked[id(value)] = (value, name)
        self.shapes[name] = tuple(int(d) for d in value.shape)
        self.last = name

    def constant(self, value: Any) -> str:
        """A tensor read as data that does not come from the input: a graph constant."""
        known = self.constants.get(id(value))
        if known is not None and known[0] is value:
            return known[1].name
        name = self.weights.get(id(value)) or self.call_site("constant")
        while name in self.shapes or any(c.name == name for _, c in self.constants.values()):
            name += "'"
        tensor = Tensor(name, tuple(int(d) for d in value.shape))
        self.constants[id(value)] = (value, tensor)
        return name

    def add(
        self, name: str, op: str, kind: str, spec: Any, operands: list[Any], outputs: list[Any] | None
    ) -> Node:
        if len(self.nodes) >= MAX_NODES:
            raise _TooLarge
        inputs = tuple(self.name_of(t) if self.is_data(t) else self.constant(t) for t in operands)
        names = (
            [name] if outputs is None or len(outputs) == 1 else [f"{name}[{n}]" for n in range(len(outputs))]
        )
        node = Node(name, op, kind, inputs, tuple(names), spec)
        self.nodes.append(node)
        for value, tensor_name in zip(outputs or (), names):
            self.track(value, tensor_name)
        return node

    # -- module hooks -------------------------------------------------------------------------------

    def pre_hook(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.inside is not None:
            self.stack.append(("", None))
            return
        self.busy = True
        try:
            path = self.capture.paths.get(id(module), type(module).__name__)
            if overrides_forward(module) or any(True for _ in module.children()):
                self.stack.append((path, None))  # looked through
                return
            # a torch layer: one node when it reads graph data; every call counts, on data or not
            name = self.call_site(path or type(module).__name__)  # a bare layer is the model
            data = [t for t in _tensors_in((args, kwargs), self.torch) if self.is_data(t)]
            described = self.layers.module(name, module, args, kwargs) if data else None
            self.inside = (name, type(module).__name__, described, data)
            self.ran.add(path)
            self.stack.append((path, "leaf"))
        finally:
            self.busy = False

    def post_hook(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        if not self.stack:
            return
        _, role = self.stack.pop()
        if role != "leaf":
            return
        name, op, described, data = self.inside
        self.inside = None
        if not data:
            return  # a layer off the input's path (a timestep embedding): its output is a constant
        self.busy = True
        try:
            results = list(_tensors_in(output, self.torch))
            if described is not None and len(results) == 1:
                kind, spec, operands = described
                self.add(name, op, kind, spec, operands, results)
            elif results:
                declared = tuple(tuple(int(d) for d in r.shape) for r in results)
                self.add(name, op, "unknown", UnknownSpec(declared), data, results)
        finally:
            self.busy = False

    def failed_layer(self, error: BaseException) -> None:
        """The recorded layer raised: it is the node where torch refused the input."""
        name, op, described, data = self.inside
        self.inside = None
        if described is not None:
            kind, spec, operands = described
            self.add(name, op, kind, spec, operands, None)
        else:
            self.add(name, op, "unknown", UnknownSpec((None,)), data, None)
        self.failed[id(error)] = (error, len(self.nodes) - 1)

    # -- functions and tensor methods ---------------------------------------------------------------

    def function(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.inside is not None and self.inside[1] in ELEMENTWISE_LAYERS and args and self.inside[3]:
            # an activation layer is elementwise by definition: its output is its input's shape, and
            # torch's meta kernels for elementwise ops are Python decompositions (about 1 ms a call)
            x = args[0]
            if isinstance(x, self.torch.Tensor):
                return x.new_empty(x.shape)
        if self.inside is not None and self.inside[3] and self.inside[1] in NORM_LAYERS:
            shaped = self.normalised(func, args, kwargs)
            if shaped is not None:
                return shaped
        if self.busy or self.inside is not None:
            return func(*args, **kwargs)
        op = op_name(func)
        if op in QUERIES:
            return func(*args, **kwargs)
        try:
            result = func(*args, **kwargs)
        except Exception as error:
            self.busy = True
            try:
                self.record(op, args, kwargs, None, error)
                fixed = self.fixed_merge(error)
            finally:
                self.busy = False
            if fixed is None:
                raise
            return fixed
        self.busy = True
        try:
            self.record(op, args, kwargs, result, None)
        finally:
            self.busy = False
        return result

    def fixed_merge(self, error: BaseException) -> Any:
        """A merge torch refused (operands that disagree): its output with convcalc's fix applied, so
        that the rest of the model runs and is analysed as the ONNX reader does; None where no fix is
        known (the run stops there). The first refusal stays the recording's failure."""
        known = self.failed.get(id(error))
        if known is None or known[0] is not error or _meta_limit(error):
            return None
        node = self.nodes[known[1]]
        if node.kind not in ("concat", "elementwise") or len(node.outputs) != 1:
            return None
        from convcalc.inspect.fixes import fixed_output

        graph = Graph(
            source=self.capture.source,
            framework="pytorch",
            inputs=(Tensor(self.capture.input_name, self.shape),),
            nodes=tuple(self.nodes),
            outputs=node.outputs,
            constants=tuple(t for _, t in self.constants.values()),
        )
        shape = fixed_output(graph, (self.shape,), node.outputs[0])
        if shape is None:
            return None
        del self.failed[id(error)]
        if self.refused is None:
            self.refused = (known[1], first_line(error))
        value = self.torch.empty(shape, device="meta")
        self.track(value, node.outputs[0])
        return value

    def normalised(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The output of a normalisation inside its layer (batch_norm in evaluation, instance_norm,
        group_norm) without torch's meta kernels (Python decompositions, 5 to 40 ms a call): the input's
        shape, where the kernel is known to accept it (statistics and affine parameters one per channel,
        one dtype, a contiguous meta input, more than one value per statistic). Anything else, and so
        every case that could refuse, runs the kernel, which words the refusal."""
        functional = self.torch.nn.functional
        if func is functional.batch_norm:
            names: tuple[str, ...] = ("input", "running_mean", "running_var", "weight", "bias", "training")
        elif func is functional.instance_norm:
            names = ("input", "running_mean", "running_var", "weight", "bias", "use_input_stats")
        elif func is functional.group_norm:
            names = ("input", "num_groups", "weight", "bias")
        else:
            return None
        given = dict(zip(names, args))
        for key in names:
            if key in kwargs:
                given[key] = kwargs[key]
        x, tensor = given.get("input"), self.torch.Tensor
        if (
            not isinstance(x, tensor)
            or x.dim() < 2
            or x.device.type != "meta"
            or not x.dtype.is_floating_point
        ):
            return None
        if not x.is_contiguous() or any(d < 1 for d in x.shape):
            return None
        n, c, rest = x.shape[0], x.shape[1], math.prod(x.shape[2:])
        statistics: tuple[str, ...] = ("running_mean", "running_var")
        required: tuple[str, ...]
        if func is functional.batch_norm:
            if given.get("training", False) is not False:
                return None  # batch statistics: torch refuses one value per channel
            required = statistics
        elif func is functional.instance_norm:
            if x.dim() < 3 or (given.get("use_input_stats", True) is not False and rest < 2):
                return None
            required = () if given.get("use_input_stats", True) is True else statistics
            if given.get("use_input_stats", True) not in (True, False):
                return None
        else:
            groups = given.get("num_groups")
            if type(groups) is not int or groups < 1 or c % groups or n * c // groups * rest < 2:
                return None
            required, statistics = (), ()
        for key in (*statistics, "weight", "bias"):
            value = given.get(key)
            if value is None and key not in required:
                continue
            if not isinstance(value, tensor) or tuple(value.shape) != (c,):
                return None
            if value.dtype != x.dtype or value.device.type != "meta":
                return None
        return x.new_empty(x.shape)

    def record(
        self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any, error: BaseException | None
    ) -> None:
        results = [] if error is not None else list(_tensors_in(result, self.torch))
        if error is None and not results:
            return  # x[...] = y, a size or a number: nothing new flows on
        base = f"{self.where()}.{op}" if self.where() else op
        name = self.call_site(base)  # every call making a tensor counts, on data or not
        data = [t for t in _tensors_in((args, kwargs), self.torch) if self.is_data(t)]
        if not data or op in _NEW_TENSORS:
            return
        if error is not None:
            described = self.layers.call(name, op, args, kwargs) if op not in _LIKE else None
            if described is not None:
                kind, spec, operands = described
                self.add(name, op, kind, spec, operands, None)
            else:
                self.add(name, op, "unknown", UnknownSpec((None,)), data, None)
            self.failed[id(error)] = (error, len(self.nodes) - 1)
            return
        if len(results) > 1 or isinstance(result, (tuple, list)):
            pieces = self.layers.pieces(op, args, kwargs, results)
            if pieces is not None:
                for n, ((kind, spec, operands), piece) in enumerate(zip(pieces, results)):
                    self.add(f"{name}[{n}]", f"{op}[{n}]", kind, spec, operands, [piece])
                return
            declared = tuple(tuple(int(d) for d in r.shape) for r in results)
            self.add(name, op, "unknown", UnknownSpec(declared), data, results)
            return
        if op in _LIKE:
            self.add(name, op, "shape_preserving", None, data[:1], results)
            return
        described = self.layers.call(name, op, args, kwargs)
        if described is None:
            self.add(
                name, op, "unknown", UnknownSpec((tuple(int(d) for d in results[0].shape),)), data, results
            )
            return
        kind, spec, operands = described
        self.add(name, op, kind, spec, operands, results)

    # -- the run ------------------------------------------------------------------------------------

    @contextmanager
    def recording(self) -> Iterator[None]:
        torch = self.torch
        run = self

        class Mode(torch.overrides.TorchFunctionMode):  # type: ignore[misc,name-defined]
            def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
                return run.function(func, tuple(args), dict(kwargs or {}))

        handles = []
        with ExitStack() as stack:
            for sub in self.capture.module.modules():
                if isinstance(sub, torch.jit.ScriptModule):
                    continue  # takes no hooks: what it runs is read through its function calls
                handles.append(sub.register_forward_pre_hook(self.pre_hook, with_kwargs=True))
                handles.append(sub.register_forward_hook(self.post_hook, with_kwargs=True))
            stack.callback(lambda: [h.remove() for h in handles])
            training = [(m, m.training) for m in self.capture.module.modules()]
            stack.callback(lambda: [m.train(flag) for m, flag in training])
            self.capture.module.eval()
            stack.enter_context(torch.no_grad())
            stack.enter_context(torch.device("meta"))
            stack.enter_context(redirect_stdout(sys.stderr))  # the model's prints never reach --json
            stack.enter_context(Mode())
            yield

    def execute(self) -> Recording:
        torch = self.torch
        capture = self.capture
        x = torch.empty(self.shape, device="meta")
        self.track(x, capture.input_name)
        inputs = (Tensor(capture.input_name, self.shape),)
        state = capture.state
        if state is not None:
            self.weights = {id(v): k for k, v in state.items()}
        else:
            own = dict(capture.module.named_parameters(remove_duplicate=False))
            own.update(capture.module.named_buffers(remove_duplicate=False))
            self.weights = {id(v): k for k, v in own.items()}
        failure = None
        failed_index = None
        output: Any = None
        try:
            with self.recording():
                if state is None:
                    output = capture.module(x)
                else:
                    output = torch.func.functional_call(capture.module, state, (x,))
        except ConvCalcError:
            raise  # convcalc's own refusal of a layer (a pooling padding PyTorch refuses on every input)
        except _TooLarge:
            raise ConvCalcError(
                f"{capture.source}: forward runs more than {MAX_NODES} ops; inspect reads up to {MAX_NODES}",
                parameter="model",
            ) from None
        except Exception as error:
            if self.inside is not None and self.inside[3]:
                self.failed_layer(error)
            known = self.failed.get(id(error))
            if known is not None and known[0] is error:
                failed_index = known[1]
                failure = Failure(self.nodes[failed_index].name, first_line(error), _meta_limit(error))
                self.nodes = self.nodes[: failed_index + 1]
            else:
                # the model's own code refused the input (an assert, a check of its sizes), or asked a
                # meta tensor for data (x.item(), x.tolist(), x.cpu())
                meta = _meta_limit(error)
                base = f"{self.where()}.forward" if self.where() else "forward"
                name = self.call_site(base)
                op = "data read in forward" if meta else "raise"
                self.nodes.append(Node(name, op, "unknown", (self.last,), (name,), UnknownSpec((None,))))
                failed_index = len(self.nodes) - 1
                failure = Failure(None, first_line(error), meta)
        completed = failure is None
        if self.refused is not None and (failure is None or failure.node is not None):
            # torch refused a merge first: that is where the model fails; the nodes after it ran with
            # the merge's fix applied (an op refusing later still ends the recording there)
            failed_index = self.refused[0]
            failure = Failure(self.nodes[failed_index].name, self.refused[1])
        # ops that raised where the model caught the error and went on: dead ends, not the model
        dead = {index for _, index in self.failed.values() if index != failed_index}
        if dead:
            kept = [i for i in range(len(self.nodes)) if i not in dead]
            failed_index = None if failed_index is None else kept.index(failed_index)
            self.nodes = [self.nodes[i] for i in kept]
        if not completed and failure is not None:
            self.notes.append(self.not_analysed(self.nodes[failed_index or -1].name, failure))
        outputs: list[str] = []
        if completed:
            for value in _tensors_in(output, torch):
                if self.is_data(value) and self.name_of(value) not in outputs:
                    outputs.append(self.name_of(value))
            if not outputs:
                raise ConvCalcError(
                    f"{capture.source}: no output of forward was seen to come from its input (a TorchScript "
                    "module or a C++ extension runs where convcalc cannot watch); export the model with "
                    "torch.onnx.export and inspect the ONNX file",
                    parameter="model",
                )
        else:
            outputs = list(self.nodes[-1].outputs)
        graph = Graph(
            source=capture.source,
            framework="pytorch",
            inputs=inputs,
            nodes=tuple(self.nodes),
            outputs=tuple(outputs),
            constants=tuple(t for _, t in self.constants.values()),
            notes=tuple(dict.fromkeys(self.notes)),
        )
        return Recording(graph, self.shapes, failure, failed_index, ran_through=completed)

    def not_analysed(self, name: str, failure: Failure) -> str:
        """Said where forward stopped before its end: the model's layers that never ran are not analysed."""
        waiting = [
            path
            for path, sub in self.capture.module.named_modules()
            if path
            and path not in self.ran
            and not overrides_forward(sub)
            and not any(True for _ in sub.children())
            and type(sub).__name__ not in ELEMENTWISE_LAYERS
        ]
        shown = ", ".join(waiting[:MAX_NAMED])
        if len(waiting) > MAX_NAMED:
            shown += f" and {len(waiting) - MAX_NAMED} more"
        why = "torch refused this input here"
        if failure.meta_only:
            why = "torch cannot run it on the meta device"
        layers = f" (layers that never ran: {shown})" if waiting else ""
        return f"{name}: {why} and forward stopped, so nothing after it was analysed{layers}"


def _input_name(module: Any) -> str:
    """The name forward gives its first argument ("x"); refuses a forward that needs more tensors."""
    try:
        parameters = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return "input"
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in positional if p.default is p.empty]
    if len(required) > 1:
        raise ConvCalcError(
            f"{type(module).__name__}: forward takes {len(required)} tensor inputs "
            f"({', '.join(required)}); inspect reads modules with one input (wrap the model in a "
            "module whose forward takes one tensor)",
            parameter="model",
        )
    return positional[0].name if positional else "input"


__all__ = ["Capture", "Failure", "Recording", "first_line"]
