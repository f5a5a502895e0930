"""PyTorch modules -> Graph, through ``torch.fx.symbolic_trace`` (the optional extra ``convcalc[torch]``).

Why torch.fx rather than torch.export: symbolic tracing records the forward pass with proxies, so it
computes nothing on real tensors (no activation is ever allocated, whatever ``--input`` says), takes a
fraction of a second, and keeps every ``nn.Conv*`` / ``nn.ConvTranspose*`` / pooling layer as one
call to the module itself, so its own arguments (padding, output_padding, padding_mode, ceil_mode) are
read from the module object, never re-derived from decomposed aten ops. torch.export would run the
model on fake tensors specialised to one input, decompose layers into aten calls and take seconds. The
price is fx's known limit: Python control flow that depends on tensor values or sizes (``if
x.size(2) % 2:``) cannot be traced symbolically; such a model is refused with a message suggesting
the ONNX route (``torch.onnx.export`` runs the model concretely, then ``convcalc inspect model.onnx``).

Arguments computed from tensor sizes inside forward (``F.pad(y, [dx // 2, ...])`` with dx from
``x.size(3)``, ``up(x, output_size=skip.size())``, ``x[:, :, :h]``) are not a static graph: such a node
is read as ``unknown``, named with the reason, and carries torch's own output shape for the given
input (torch run on the meta device: shapes without data, as the ONNX reader uses onnx's shape
inference).

``load_target`` is the only place that imports user code: it runs the named Python file (or imports
the named module), and nothing is ever eval'd.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcalc.errors import ConvCalcError
from convcalc.inspect.graph import (
    BlockSpec,
    ConcatSpec,
    ConvSpec,
    DenseSpec,
    Dim,
    FlattenSpec,
    Graph,
    Node,
    PadSpec,
    PoolSpec,
    ReshapeSpec,
    ResizeSpec,
    SliceSpec,
    Spec,
    Tensor,
    UnknownSpec,
)
from convcalc.inspect.shapes import propagate

if TYPE_CHECKING:
    from convcalc.inspect.analysis import InspectReport

INSTALL = 'pip install "convcalc[torch]"'
MAX_NODES = 20_000
MAX_RANK = 8
USER_CODE_NOTE = (
    "A PyTorch model named as path/to/file.py:factory runs that Python file (and package.module:attr "
    "imports that module): only the file or module you name is imported, and nothing is eval'd."
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SHAPE_PRESERVING_MODULES = _words(
    "ReLU ReLU6 LeakyReLU PReLU RReLU ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Hardtanh Hardswish "
    "Hardsigmoid Hardshrink Softshrink Tanhshrink Softplus Softsign LogSigmoid Threshold Softmax "
    "LogSoftmax Softmin Softmax2d Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout "
    "Identity BatchNorm1d BatchNorm2d BatchNorm3d SyncBatchNorm InstanceNorm1d InstanceNorm2d "
    "InstanceNorm3d GroupNorm LayerNorm LocalResponseNorm CrossMapLRN2d RMSNorm"
)
_SHAPE_PRESERVING_CALLS = _words(
    "relu relu6 leaky_relu prelu rrelu elu selu celu gelu silu mish sigmoid tanh hardtanh hardswish "
    "hardsigmoid softplus softsign logsigmoid softmax log_softmax softmin dropout dropout1d dropout2d "
    "dropout3d alpha_dropout feature_alpha_dropout batch_norm instance_norm layer_norm group_norm "
    "local_response_norm normalize rms_norm exp log sqrt rsqrt abs neg clamp clip sign floor ceil round "
    "sin cos contiguous clone detach float half double bfloat16 reciprocal square pos"
)
# operator.add for "x + y", torch.add, Tensor.add / add_ (the trailing underscore is dropped first)
_ELEMENTWISE_CALLS = _words(
    "add sub mul truediv div floordiv mod pow maximum minimum where iadd isub imul itruediv "
    "true_divide multiply subtract"
)
_CONCAT_CALLS = frozenset(("cat", "concat", "concatenate"))
_SIZE_METHODS = frozenset(("size", "dim", "numel", "nelement", "ndimension"))
_SIZE_ATTRIBUTES = frozenset(("shape", "ndim", "dtype", "device", "is_cuda", "layout"))
_PAD_MODES = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect"}
_PAD_MODES.update({"Replication": "replicate", "Circular": "circular"})
_POOL_ARGS = {
    "max": ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    "avg": (
        "input",
        "kernel_size",
        "stride",
        "padding",
        "ceil_mode",
        "count_include_pad",
        "divisor_override",
    ),
    "lp": ("input", "norm_type", "kernel_size", "stride", "ceil_mode"),
}
_INTERPOLATE_ARGS = ("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor")
_CONV_ARGS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
_CONV_T_ARGS = ("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation")


def _import_torch() -> Any:
    try:
        import torch
        import torch.fx
    except ImportError:
        raise ConvCalcError(
            f"reading PyTorch models needs torch; install it with: {INSTALL}", parameter="model"
        ) from None
    return torch


# ---------------------------------------------------------------------------------------------------
# Loading user code: "file.py:factory" or "package.module:attr".


def load_target(text: str) -> object:
    """The ``nn.Module`` named by "path/to/file.py:attr" or "package.module:attr".

    ``attr`` is a module instance, an ``nn.Module`` class or a zero-argument factory (called once).
    Naming a file runs it, as ``python file.py`` would (its folder is on ``sys.path`` while it runs).
    """
    target, sep, attr = text.rpartition(":")
    if not sep or not target or not all(part.isidentifier() for part in attr.split(".")):
        raise ConvCalcError(
            f"model must be path/to/file.py:factory or package.module:attr; got {text!r}", parameter="model"
        )
    holder = _import_file(Path(target)) if target.endswith(".py") else _import_module(target)
    torch = _import_torch()
    where = target
    value: object = holder
    for part in attr.split("."):
        if not hasattr(value, part):
            raise ConvCalcError(f"{where}: has no attribute {part!r} (from {text!r})", parameter="model")
        value = getattr(value, part)
        where = f"{where}:{part}"
    if isinstance(value, torch.nn.Module):
        return value
    if not callable(value):
        raise ConvCalcError(
            f"{text}: is a {type(value).__name__}, not an nn.Module, a class or a factory", parameter="model"
        )
    try:
        made = value()
    except Exception as error:
        # a TypeError raised by the call itself (no deeper frame): the factory wants arguments
        signature = isinstance(error, TypeError) and len(traceback.extract_tb(error.__traceback__)) == 1
        hint = "; inspect calls it with no arguments (give a zero-argument factory)" if signature else ""
        raise ConvCalcError(
            f"{text}: calling {attr}() raised {_describe(error, target)}{hint}", parameter="model"
        ) from None
    if not isinstance(made, torch.nn.Module):
        raise ConvCalcError(
            f"{text}: {attr}() returned a {type(made).__name__}, not a torch.nn.Module", parameter="model"
        )
    return made


def _missing_torch(error: BaseException) -> None:
    """The user's code imports torch and torch is not installed: say how to install it."""
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "torch":
        _import_torch()


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _describe(error: BaseException, filename: str) -> str:
    """The error as "ValueError: message (line 12)", with the line of the user's file where it happened."""
    text = _first_line(error)
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(Path(filename).name)
    ]
    return text + (f" (line {frames[-1].lineno})" if frames and frames[-1].lineno else "")


def _import_file(path: Path) -> object:
    if not path.is_file():
        raise ConvCalcError(f"{path}: no such Python file", parameter="model")
    name = "convcalc_user_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConvCalcError(f"{path}: cannot be imported as a Python file", parameter="model")
    holder = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    sys.modules[name] = holder
    try:
        spec.loader.exec_module(holder)
    except (Exception, SystemExit) as error:
        sys.modules.pop(name, None)
        _missing_torch(error)
        raise ConvCalcError(
            f"{path}: importing the file raised {_describe(error, str(path))}", parameter="model"
        ) from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return holder


def _import_module(name: str) -> object:
    if not all(part.isidentifier() for part in name.split(".")):
        raise ConvCalcError(
            f"model must be path/to/file.py:factory or package.module:attr; got module {name!r}",
            parameter="model",
        )
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        _missing_torch(error)
        raise ConvCalcError(
            f"{name}: no module named {error.name!r} (is it installed, or on PYTHONPATH?)", parameter="model"
        ) from None
    except (Exception, SystemExit) as error:
        _missing_torch(error)
        raise ConvCalcError(
            f"{name}: importing it raised {_describe(error, name)}", parameter="model"
        ) from None


# ---------------------------------------------------------------------------------------------------
# The Python API.


def read_module(module: object, input_shape: Sequence[int], source: str = "module") -> Graph:
    """Trace an ``nn.Module`` with torch.fx and return its checked Graph (``input_shape`` in full:
    batch, channels, spatial sizes). The module is not run and not changed."""
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise ConvCalcError(
            f"{source}: expected a torch.nn.Module; got {type(module).__name__}", parameter="model"
        )
    shape = tuple(input_shape)
    if not 1 <= len(shape) <= MAX_RANK or not all(isinstance(d, int) and d >= 1 for d in shape):
        raise ConvCalcError(
            f"input must be a full shape of 1 to {MAX_RANK} sizes >= 1 (for example (1, 3, 256, 256)); "
            f"got {shape!r}",
            parameter="input",
        )
    return _Reader(torch, module, shape, source).read()


def inspect_module(
    module: object, input_shape: Sequence[int], target: str | None = None, source: str | None = None
) -> InspectReport:
    """``read_module`` then the whole `convcalc inspect` analysis, for notebooks:

    ``report = inspect_module(model, (1, 3, 64, 64))``, then ``report.headline()``, ``.findings``,
    ``.layers``, ``.merges``, ``.axes`` (accepted sizes), ``.exit_code``.
    """
    from convcalc.inspect.analysis import inspect_graph

    shape = tuple(input_shape)
    graph = read_module(module, shape, source or type(module).__name__)
    return inspect_graph(graph, (shape,), target)


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before


def _ints(value: object, count: int | None = None) -> tuple[int, ...] | None:
    """An int or a sequence of ints as a tuple (an int spread over ``count`` axes); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value,) * (count or 1)
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(value)
    return None


def _bind(names: Sequence[str], args: Sequence[object], kwargs: dict[str, object]) -> dict[str, object]:
    bound = dict(zip(names, args))
    bound.update(kwargs)
    return bound


def _spell(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(tuple(value) if isinstance(value, list) else value)


class _Reader:
    """One traced module walked into Graph nodes; ``rank`` and ``values`` follow the fx nodes."""

    def __init__(self, torch: Any, module: Any, shape: tuple[int, ...], source: str) -> None:
        self.torch = torch
        self.module = module
        self.shape = shape
        self.source = source
        self.nodes: list[Node] = []
        self.inputs: list[Tensor] = []
        self.constants: dict[str, Tensor] = {}
        self.notes: list[str] = []
        self.rank: dict[str, int | None] = {}
        self.tensors: set[Any] = set()
        self.graph_module: Any = None
        self.attr_shapes: dict[str, tuple[int, ...]] = {}
        self.known: tuple[int, dict[str, tuple[int, ...]]] = (-1, {})
        self.keeps_rank = False

    def error(self, where: str, message: str) -> ConvCalcError:
        return ConvCalcError(f"{self.source}: {where}: {message}", parameter="model")

    # -- tracing -----------------------------------------------------------------------------------
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
                f"({_first_line(error)}). "
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
        if node in self.tensors:
            shape = self.shape_now(node.name)
            return None if shape is None else torch.empty(shape, device="meta")
        if node.op in ("placeholder", "get_attr"):
            return None
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

    def shape_now(self, name: str) -> tuple[int, ...] | None:
        """A tensor's shape at the given input, by convcalc's own propagation of the nodes read so far."""
        if self.known[0] != len(self.nodes):
            graph = Graph(
                self.source,
                "pytorch",
                tuple(self.inputs),
                tuple(self.nodes),
                (),
                tuple(self.constants.values()),
            )
            self.known = (len(self.nodes), propagate(graph, (self.shape,)).shapes)
        return self.known[1].get(name)

    # -- the walk ----------------------------------------------------------------------------------
    def read(self) -> Graph:
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
                outputs = [n.name for n in _nodes_in(node.args) if self.is_tensor(n)]
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
                    f"--input {given} has rank {len(self.shape)}; {self.source}'s layer {node.name!r} "
                    f"({node.op}) reads rank {rank}: batch, channels and {rank - 2} spatial size(s)",
                    parameter="input",
                )
            if isinstance(node.spec, ConvSpec) and self.shape[1] != node.spec.in_channels:
                raise ConvCalcError(
                    f"--input {given} has {self.shape[1]} channels; {self.source}'s layer {node.name!r} "
                    f"({node.op}) reads {node.spec.in_channels}",
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
        if node.op == "call_method" and target in _SIZE_METHODS:
            return True
        if node.op == "call_function" and target is getattr and len(node.args) > 1:
            return node.args[1] in _SIZE_ATTRIBUTES
        if node.op == "call_function" and getattr(target, "__module__", None) in (
            "_operator",
            "builtins",
            "math",
        ):
            return not any(self.is_tensor(n) for n in _nodes_in((node.args, node.kwargs)))
        return False

    def name_of(self, node: Any) -> str:
        if node.op == "call_module":
            return str(node.target)
        stack = node.meta.get("nn_module_stack") or {}
        paths = [v[0] for v in stack.values() if isinstance(v, tuple) and v and v[0]]
        return f"{paths[-1]}.{node.name}" if paths else str(node.name)

    def add(self, node: Any) -> None:
        data = [n for n in _nodes_in((node.args, node.kwargs)) if self.is_tensor(n)]
        for n in data:
            if n.op == "get_attr" and n.name not in self.constants:
                self.constants[n.name] = Tensor(n.name, self.attr_shapes[n.name])
        self.keeps_rank = False
        op, kind, spec, inputs = self.describe(node, data)
        if kind == "unknown":
            inputs = tuple(n.name for n in data)
            spec = UnknownSpec((self.declared(node),))
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

    # -- one node ----------------------------------------------------------------------------------
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

    def is_tensor(self, value: object) -> bool:
        return type(value).__name__ == "Node" and value in self.tensors

    def first(self, node: Any) -> Any:
        value = node.args[0] if node.args else next(iter(node.kwargs.values()), None)
        return value if self.is_tensor(value) else None

    def dynamic(self, node: Any, what: str, value: object) -> bool:
        """True (with a note) when an argument is computed from tensor sizes in forward."""
        if not _nodes_in(value):
            return False
        self.keeps_rank = True  # every op read with computed arguments keeps its input's rank
        self.notes.append(
            f"{self.name_of(node)}: {what} is computed from tensor sizes in forward; convcalc reads the "
            "layer as unknown, with torch's own output shape for the given input"
        )
        return True

    def module_node(self, node: Any, module: Any, op: str) -> tuple[str, Spec, list[Any]] | None:
        nn = self.torch.nn
        x = self.first(node)
        if x is None:
            return None
        lazy = getattr(module, "has_uninitialized_params", None)
        if callable(lazy) and lazy():
            raise self.error(
                str(node.target), f"{op} is a lazy module whose weights are not made yet; run the model once"
            )
        if isinstance(module, nn.modules.conv._ConvNd):
            return self.conv_module(node, module, x)
        if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
            if module.return_indices:
                return None
            return self.pool(
                node,
                "max",
                x,
                module.kernel_size,
                module.stride,
                module.padding,
                module.dilation,
                module.ceil_mode,
            )
        if isinstance(module, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
            return self.pool(
                node, "avg", x, module.kernel_size, module.stride, module.padding, 1, module.ceil_mode
            )
        if type(module).__name__.startswith("LPPool"):
            return self.pool(node, "lp", x, module.kernel_size, module.stride, 0, 1, module.ceil_mode)
        if type(module).__name__.startswith("Adaptive") and hasattr(module, "output_size"):
            if getattr(module, "return_indices", False):
                return None
            return self.adaptive(
                node, "adaptive_avg" if "Avg" in op else "adaptive_max", x, module.output_size
            )
        if isinstance(module, nn.Upsample):
            return self.resize(node, x, module.size, module.scale_factor, module.mode)
        if isinstance(module, nn.PixelShuffle):
            return self.block(x, "depth_to_space", module.upscale_factor)
        if isinstance(module, nn.PixelUnshuffle):
            return self.block(x, "space_to_depth", module.downscale_factor)
        for prefix, mode in _PAD_MODES.items():
            if op.startswith(prefix + "Pad") and hasattr(module, "padding"):
                return self.pad(node, x, module.padding, mode)
        if isinstance(module, nn.Flatten):
            return self.flatten(x, module.start_dim, module.end_dim)
        if isinstance(module, nn.Linear):
            return "dense", DenseSpec(module.in_features, module.out_features, module.bias is not None), [x]
        if op in _SHAPE_PRESERVING_MODULES:
            return "shape_preserving", None, [x]
        return None

    def conv_module(self, node: Any, module: Any, x: Any) -> tuple[str, Spec, list[Any]] | None:
        transposed = bool(module.transposed)
        ndim = len(module.kernel_size)
        padding: Any = module.padding
        if not isinstance(padding, str):
            padding = tuple((int(p), int(p)) for p in padding)
        arguments = [
            ("kernel_size", _spell(module.kernel_size)),
            ("stride", _spell(module.stride)),
            ("padding", _spell(module.padding)),
            ("dilation", _spell(module.dilation)),
            ("groups", str(module.groups)),
        ]
        output_padding = output_size = None
        if transposed:
            output_padding = tuple(int(p) for p in module.output_padding)
            arguments.append(("output_padding", _spell(module.output_padding)))
            requested = node.kwargs.get("output_size", node.args[1] if len(node.args) > 1 else None)
            if requested is not None:
                if self.dynamic(node, "output_size (a forward argument)", requested):
                    return None
                sizes = _ints(requested)
                if sizes is None or len(sizes) not in (ndim, ndim + 2):
                    raise self.error(
                        str(node.target),
                        f"output_size must have {ndim} or {ndim + 2} elements; got {requested!r}",
                    )
                output_size = sizes[-ndim:]
                arguments.append(("output_size (forward argument)", _spell(list(output_size))))
        if module.padding_mode != "zeros":
            arguments.append(("padding_mode", repr(module.padding_mode)))
            self.notes.append(
                f"{node.target}: padding_mode={module.padding_mode!r} pads with F.pad before a padding-0 "
                "convolution: the sizes are those of zero padding (PyTorch also refuses reflect padding "
                "not smaller than the input, which this report does not check)"
            )
        spec = ConvSpec(
            framework="pytorch",
            kernel_size=tuple(module.kernel_size),
            stride=tuple(module.stride),
            dilation=tuple(module.dilation),
            padding=padding,
            in_channels=module.in_channels,
            out_channels=module.out_channels,
            groups=module.groups,
            bias=module.bias is not None,
            output_padding=output_padding,
            output_size=output_size,
            arguments=tuple(arguments),
        )
        return ("conv_transpose" if transposed else "conv"), spec, [x]

    def call_node(self, node: Any, op: str) -> tuple[str, Spec, list[Any]] | None:
        args, kwargs = list(node.args), dict(node.kwargs)
        if op in _CONCAT_CALLS:
            bound = _bind(("tensors", "dim"), args, kwargs)
            tensors, dim = bound.get("tensors"), bound.get("dim", 0)
            if not isinstance(tensors, (list, tuple)) or not isinstance(dim, int):
                return None
            if not tensors or not all(self.is_tensor(t) for t in tensors):
                return None
            return "concat", ConcatSpec(dim), list(tensors)
        x = self.first(node)
        if x is None:
            return None
        operands = [n for n in _nodes_in((args, kwargs)) if self.is_tensor(n)]
        if op in _ELEMENTWISE_CALLS and len(operands) == len(_nodes_in((args, kwargs))):
            return ("elementwise" if len(operands) > 1 else "shape_preserving"), None, operands
        if op in _SHAPE_PRESERVING_CALLS and len(operands) == 1:
            return "shape_preserving", None, [x]
        if op == "getitem":
            return self.getitem(node, x, args[1] if len(args) > 1 else None)
        if op == "pad":
            bound = _bind(("input", "pad", "mode", "value"), args, kwargs)
            if self.dynamic(node, "pad", bound.get("pad")):
                return None
            return self.pad(node, x, bound.get("pad"), str(bound.get("mode") or "constant"))
        if op in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
            bound = _bind(_INTERPOLATE_ARGS, args, kwargs)
            if self.dynamic(node, "size / scale_factor", (bound.get("size"), bound.get("scale_factor"))):
                return None
            default = "bilinear" if op == "upsample_bilinear" else "nearest"
            return self.resize(
                node, x, bound.get("size"), bound.get("scale_factor"), str(bound.get("mode") or default)
            )
        for kind in ("max", "avg", "lp"):
            if op in (f"{kind}_pool1d", f"{kind}_pool2d", f"{kind}_pool3d"):
                bound = _bind(_POOL_ARGS[kind], args, kwargs)
                if bound.get("return_indices") or self.dynamic(
                    node, "the pooling arguments", [v for k, v in bound.items() if k != "input"]
                ):
                    return None
                return self.pool(
                    node,
                    kind,
                    x,
                    bound.get("kernel_size"),
                    bound.get("stride"),
                    bound.get("padding", 0),
                    bound.get("dilation", 1),
                    bool(bound.get("ceil_mode")),
                )
        if op.startswith("adaptive_") and op[-2:] in ("1d", "2d", "3d"):
            bound = _bind(("input", "output_size", "return_indices"), args, kwargs)
            if bound.get("return_indices"):
                return None
            mode = "adaptive_avg" if "avg" in op else "adaptive_max"
            return self.adaptive(node, mode, x, bound.get("output_size"))
        if op in ("pixel_shuffle", "pixel_unshuffle"):
            factor = _bind(("input", "factor"), args, kwargs).get("factor", kwargs.get("upscale_factor"))
            factor = kwargs.get("downscale_factor", factor)
            if not isinstance(factor, int):
                return None
            return self.block(x, "depth_to_space" if op == "pixel_shuffle" else "space_to_depth", factor)
        if op == "flatten":
            bound = _bind(("input", "start_dim", "end_dim"), args, kwargs)
            start, end = bound.get("start_dim", 0), bound.get("end_dim", -1)
            return self.flatten(x, start, end) if isinstance(start, int) and isinstance(end, int) else None
        if op in ("view", "reshape"):
            return self.reshape(x, args[1:])
        if op in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
            return self.conv_call(
                node, op, x, _bind(_CONV_T_ARGS if "transpose" in op else _CONV_ARGS, args, kwargs)
            )
        if op == "linear":
            weight = _bind(("input", "weight", "bias"), args, kwargs)
            shape = self.attr_shape(weight.get("weight"))
            if shape is None or len(shape) != 2:
                return None
            return "dense", DenseSpec(shape[1], shape[0], weight.get("bias") is not None), [x]
        return None

    # -- the kinds ---------------------------------------------------------------------------------
    def attr_shape(self, value: object) -> tuple[int, ...] | None:
        if not self.is_tensor(value) or value.op != "get_attr":  # type: ignore[attr-defined]
            return None
        return self.attr_shapes.get(value.name)  # type: ignore[attr-defined]

    def conv_call(
        self, node: Any, op: str, x: Any, bound: dict[str, object]
    ) -> tuple[str, Spec, list[Any]] | None:
        weight = self.attr_shape(bound.get("weight"))
        if weight is None or self.dynamic(
            node,
            "the convolution arguments",
            {k: v for k, v in bound.items() if k not in ("input", "weight", "bias")},
        ):
            return None
        ndim = len(weight) - 2
        groups = bound.get("groups", 1)
        stride, dilation = _ints(bound.get("stride", 1), ndim), _ints(bound.get("dilation", 1), ndim)
        padding_value = bound.get("padding", 0)
        padding: Any = padding_value if isinstance(padding_value, str) else _ints(padding_value, ndim)
        if not isinstance(groups, int) or stride is None or dilation is None or padding is None:
            return None
        transposed = "transpose" in op
        output_padding = _ints(bound.get("output_padding", 0), ndim) if transposed else None
        if not isinstance(padding, str):
            padding = tuple((p, p) for p in padding)
        in_channels, out_channels = (
            (weight[0], weight[1] * groups) if transposed else (weight[1] * groups, weight[0])
        )
        arguments = [
            ("weight", _spell(weight)),
            ("stride", _spell(stride)),
            ("padding", _spell(padding_value)),
            ("dilation", _spell(dilation)),
            ("groups", str(groups)),
        ]
        if output_padding is not None:
            arguments.append(("output_padding", _spell(output_padding)))
        spec = ConvSpec(
            "pytorch",
            weight[2:],
            stride,
            dilation,
            padding,
            in_channels,
            out_channels,
            groups,
            bound.get("bias") is not None,
            output_padding,
            None,
            False,
            tuple(arguments),
        )
        return ("conv_transpose" if transposed else "conv"), spec, [x]

    def pool(
        self,
        node: Any,
        kind: str,
        x: Any,
        kernel: object,
        stride: object,
        padding: object,
        dilation: object,
        ceil_mode: bool,
    ) -> tuple[str, Spec, list[Any]] | None:
        rank = self.rank.get(x.name)
        kernels = _ints(kernel, (rank - 2) if rank else None)
        if kernels is None:
            return None
        n = len(kernels)
        strides = kernels if stride is None or stride == [] or stride == () else _ints(stride, n)
        pads, dilations = _ints(padding, n), _ints(dilation, n)
        if strides is None or pads is None or dilations is None:
            return None
        for k, p in zip(kernels, pads):
            if p > k // 2:
                raise self.error(
                    self.name_of(node),
                    f"pad should be at most half of kernel size, but got pad={p}, kernel_size={k} "
                    "(PyTorch refuses this pooling on every input)",
                )
        arguments = [
            ("kernel_size", _spell(kernel)),
            ("stride", _spell(strides)),
            ("padding", _spell(padding)),
        ]
        if any(d != 1 for d in dilations):
            arguments.append(("dilation", _spell(dilation)))
        if ceil_mode:
            arguments.append(("ceil_mode", "True"))
        return (
            "pool",
            PoolSpec(
                kind, kernels, strides, tuple((p, p) for p in pads), dilations, ceil_mode, tuple(arguments)
            ),
            [x],
        )

    def adaptive(
        self, node: Any, mode: str, x: Any, output_size: object
    ) -> tuple[str, Spec, list[Any]] | None:
        rank = self.rank.get(x.name)
        if rank is None or rank < 3:
            return None
        sizes = _ints(output_size, rank - 2)
        if sizes is not None and all(s == 1 for s in sizes):
            return "global_pool", None, [x]
        current = self.shape_now(x.name)
        if sizes is None or current is None or len(sizes) != rank - 2:
            return None  # None entries keep an input size: not a fixed resize
        return "resize", ResizeSpec(mode, sizes=(*current[:2], *sizes)), [x]

    def resize(
        self, node: Any, x: Any, size: object, scale: object, mode: str
    ) -> tuple[str, Spec, list[Any]] | None:
        rank = self.rank.get(x.name)
        if rank is None or rank < 3:
            return None
        if size is not None:
            sizes = _ints(size, rank - 2)
            current = self.shape_now(x.name)
            if sizes is None or current is None or len(sizes) != rank - 2:
                return None
            return "resize", ResizeSpec(mode, sizes=(*current[:2], *sizes)), [x]
        factors = scale if isinstance(scale, (list, tuple)) else [scale] * (rank - 2)
        if len(factors) != rank - 2 or not all(isinstance(f, (int, float)) and f > 0 for f in factors):
            return None
        exact = [Fraction(float(f)) for f in factors]  # type: ignore[arg-type]
        if any(f.denominator != 1 for f in exact):
            self.notes.append(
                f"{self.name_of(node)}: scale_factor {_spell(scale)} is not an integer: torch computes "
                "floor(size * scale) in floating point, which can differ by one from the exact product"
            )
        return "resize", ResizeSpec(mode, scales=(Fraction(1), Fraction(1), *exact)), [x]

    def block(self, x: Any, kind: str, factor: int) -> tuple[str, Spec, list[Any]] | None:
        # pixel_shuffle works on the last two axes: the graph's rule is per spatial axis, so rank 4 only.
        if self.rank.get(x.name) != 4 or factor < 1:
            return None
        return kind, BlockSpec(factor), [x]

    def pad(self, node: Any, x: Any, pad: object, mode: str) -> tuple[str, Spec, list[Any]] | None:
        rank = self.rank.get(x.name)
        amounts = _ints(pad)
        if rank is None or amounts is None or len(amounts) % 2 or len(amounts) // 2 > rank:
            return None
        pairs = [(0, 0)] * rank
        for n in range(len(amounts) // 2):
            pairs[rank - 1 - n] = (amounts[2 * n], amounts[2 * n + 1])
        if mode == "reflect":
            self.notes.append(
                f"{self.name_of(node)}: reflect padding must be smaller than the input on each axis "
                "(PyTorch refuses it otherwise); this report does not check that limit"
            )
        return "pad", PadSpec(tuple(pairs), mode), [x]

    def getitem(self, node: Any, x: Any, index: object) -> tuple[str, Spec, list[Any]] | None:
        rank = self.rank.get(x.name)
        items = index if isinstance(index, tuple) else (index,)
        if not all(isinstance(i, slice) or i is Ellipsis for i in items) or list(items).count(Ellipsis) > 1:
            return None
        if rank is None or self.dynamic(node, "the slice bounds", items):
            return None
        slices = [i for i in items if isinstance(i, slice)]
        if len(slices) > rank:
            return None
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items = (*items[:at], *[slice(None)] * (rank - len(slices)), *items[at + 1 :])
        axes, starts, ends, steps = [], [], [], []
        for axis, item in enumerate(items):
            assert isinstance(item, slice)
            if item == slice(None):
                continue
            start, end, step = item.start, item.stop, item.step
            if not all(
                v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (start, end, step)
            ):
                return None
            if step is not None and step < 1:
                return None  # torch refuses non-positive steps
            axes.append(axis)
            starts.append(0 if start is None else start)
            ends.append(end)
            steps.append(1 if step is None else step)
        return "slice", SliceSpec(tuple(axes), tuple(starts), tuple(ends), tuple(steps)), [x]

    def flatten(self, x: Any, start: int, end: int) -> tuple[str, Spec, list[Any]] | None:
        rank = self.rank.get(x.name)
        if rank is None or end not in (-1, rank - 1):
            return None
        if start in (1, 1 - rank):
            return "flatten", FlattenSpec(1), [x]
        if start in (0, -rank):
            return "reshape", ReshapeSpec((-1,)), [x]
        return None

    def reshape(self, x: Any, shape: Sequence[object]) -> tuple[str, Spec, list[Any]] | None:
        values = list(shape[0]) if len(shape) == 1 and isinstance(shape[0], (list, tuple)) else list(shape)
        out: list[int] = []
        for position, value in enumerate(values):
            if isinstance(value, int) and not isinstance(value, bool) and value != 0 and value >= -1:
                out.append(value)
            elif (
                getattr(value, "op", None) == "call_method"
                and value.target == "size"  # type: ignore[attr-defined]
                and value.args == (x, position)  # type: ignore[attr-defined]
            ):
                out.append(0)  # x.view(x.size(0), -1): ONNX's 0 copies the input's own dimension
            else:
                return None
        return ("reshape", ReshapeSpec(tuple(out)), [x]) if out else None


def _nodes_in(value: object) -> list[Any]:
    """Every fx Node inside an argument (lists, tuples, dicts, slices), in order."""
    found: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item).__name__ == "Node" and hasattr(item, "op"):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, slice):
            stack.extend((item.step, item.stop, item.start))
    return found


__all__ = ["INSTALL", "USER_CODE_NOTE", "inspect_module", "load_target", "read_module"]
