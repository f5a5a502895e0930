"""PyTorch modules -> Graph, by executing them on the meta device (the optional extra ``convcalc[torch]``).

Why execution rather than torch.fx: a model is what it does when it runs. torch.fx traces with proxies,
so ``isinstance`` checks, Python control flow on sizes and dict or dataclass outputs go wrong or fail
(MONAI's BasicUNet loses every skip concatenation; diffusers and segmentation_models_pytorch models
cannot be traced at all). ``torch_capture`` runs the model on a meta input instead (shapes without
data: nothing is allocated, a model built by its factory under ``torch.device("meta")`` has no weight
in memory either) and records what executes.

A captured graph holds numbers, not formulas: ``F.interpolate(size=skip.shape[2:])``, ``x.shape[2] //
2`` or a ``view`` with computed sizes arrive as the values they had for the captured input. So the
reader captures the model again at other sizes (meta execution is cheap) and checks that the graph
read at one size gives torch's own shape for every tensor at the others. When it does, the graph is
size-independent and the accepted-size analysis runs it at any size; when it does not, the Graph
carries ``rebuild``, and every size that analysis looks at is executed again.

Every node is checked against torch: convcalc's shape of every tensor at the captured size must be
the one torch gave it; a node whose rule disagrees is read as ``unknown`` with torch's shape, and
named in the notes. Where torch refuses the input, convcalc must fail or flag a merge at the node
torch raised at; if its rule does not show why, that node stops the shapes (exit 1), with torch's
words in the notes: the report never says a model runs when torch refuses it.

Convolutions keep PyTorch's own arguments in their ``ConvSpec`` and are read by
``convcalc.conventions.pytorch``, PyTorch's rules and refusals included (padding words, output_padding,
an ``output_size`` given in forward). A padding_mode other than 'zeros' pads with F.pad before a
padding-0 convolution, so the sizes are those of zero padding; the notes say that PyTorch's limit on
reflect / circular padding is not checked.

``load_target`` is the only place that imports user code: it runs the named Python file (or imports
the named module) and calls the factory under ``torch.device("meta")``; nothing is ever eval'd.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcalc.errors import ConvCalcError
from convcalc.graph.model import Graph
from convcalc.inspect.torch_layers import first_line

if TYPE_CHECKING:
    from convcalc.inspect.report import InspectReport

INSTALL = 'pip install "convcalc[torch]"'
MAX_RANK = 8


def _import_torch() -> Any:
    try:
        import torch
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
    return _load(text)[0]


def read_target(text: str, input_shape: Sequence[int]) -> Graph:
    """``load_target`` then ``read_built`` with the factory (a module instance is read as it is)."""
    module, factory = _load(text)
    return read_built(module, input_shape, text, factory)


def read_built(
    module: object, input_shape: Sequence[int], source: str, build_on_cpu: Callable[[], object] | None
) -> Graph:
    """``read_module``, for a module built on the meta device: where its forward reads tensor data (a
    size kept in a buffer, as EnCodec's stride and kernel size), ``build_on_cpu`` builds it again on
    the CPU and that module is read: its weights are allocated, the data is real, and the run is still
    on meta copies of the weights."""
    graph, reads_data = _read(module, input_shape, source)
    if reads_data and build_on_cpu is not None and _on_meta(module):
        try:
            with redirect_stdout(sys.stderr):
                module = build_on_cpu()
        except Exception:
            return graph  # it cannot be built on the CPU either: the meta reading stands
        graph, _ = _read(module, input_shape, source)
    return graph


def _on_meta(module: Any) -> bool:
    tensors = [*module.parameters(), *module.buffers()]
    return any(t.device.type == "meta" for t in tensors)


def _load(text: str) -> tuple[object, Any]:
    """The module, and the zero-argument callable that builds it again on the CPU (None for a module
    instance)."""
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
        return value, None
    if not callable(value):
        raise ConvCalcError(
            f"{text}: is a {type(value).__name__}, not an nn.Module, a class or a factory", parameter="model"
        )
    try:
        made = _build(torch, value)
    except Exception as error:
        # a TypeError raised by the call itself (no frame below _build's): the factory wants arguments
        signature = isinstance(error, TypeError) and len(traceback.extract_tb(error.__traceback__)) == 2
        hint = "; inspect calls it with no arguments (give a zero-argument factory)" if signature else ""
        raise ConvCalcError(
            f"{text}: calling {attr}() raised {_describe(error, target)}{hint}", parameter="model"
        ) from None
    if not isinstance(made, torch.nn.Module):
        raise ConvCalcError(
            f"{text}: {attr}() returned a {type(made).__name__}, not a torch.nn.Module", parameter="model"
        )
    return made, value


def _build(torch: Any, factory: Any) -> object:
    """Call the factory under ``torch.device("meta")`` (no weight is allocated); a factory that needs
    real data while it builds (``.item()``, loading a file) is called again on the CPU, and its error
    there, if any, is the one the user reads."""
    with redirect_stdout(sys.stderr):  # what the user's code prints never reaches --json's stdout
        try:
            with torch.device("meta"):
                return factory()
        except Exception:
            return factory()


def _missing_torch(error: BaseException) -> None:
    """The user's code imports torch and torch is not installed: say how to install it."""
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "torch":
        _import_torch()


def _describe(error: BaseException, filename: str) -> str:
    """The error as "ValueError: message (line 12)", with the line of the user's file where it happened."""
    text = first_line(error)
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
        with redirect_stdout(sys.stderr):
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
        with redirect_stdout(sys.stderr):
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
    """Execute an ``nn.Module`` on the meta device and return its checked Graph (``input_shape`` in
    full: batch, channels, spatial sizes). The module's weights, training flags and hooks are left as
    they are; a module with real weights runs on meta copies of them."""
    return _read(module, input_shape, source)[0]


def _read(module: object, input_shape: Sequence[int], source: str) -> tuple[Graph, bool]:
    """The checked Graph, and whether forward read tensor data the meta device does not have."""
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
    from convcalc.inspect.torch_graph import Executed

    executed = Executed(torch, module, source)
    graph = executed.read(shape)
    return graph, executed.reads_data


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


__all__ = ["INSTALL", "inspect_module", "load_target", "read_built", "read_module", "read_target"]
