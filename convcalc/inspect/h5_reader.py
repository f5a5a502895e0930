"""Keras `.h5` files (the legacy HDF5 format) -> Graph, through h5py.

``model.save('model.h5')`` in tf.keras 2.x and Keras 3 writes the model's JSON config as the root
attribute ``model_config`` (next to ``keras_version`` and ``backend``) and the weights under
``model_weights``. The config is the one a `.keras` file holds (Keras 3), or its Keras 2 form (inbound
nodes as lists, ``batch_input_shape``, no recorded tensor shapes), and is read by the `.keras` reader's
layer mapping. Keras 2 records no layer's input channels, nor does a Keras 3 Sequential: they are taken
from the weight datasets' shapes (HDF5 metadata; no weight is read). The config is checked for size and
JSON depth as in a `.keras` file, the number of HDF5 objects walked is bounded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.model import Graph
from convcalc.inspect.keras_archive import MAX_CONFIG_BYTES, _parse
from convcalc.inspect.keras_config import _class, _dict
from convcalc.inspect.keras_reader import (
    CONV,
    CONV_TRANSPOSE,
    DEPTHWISE,
    MAX_LAYERS,
    MODEL_CLASSES,
    SEPARABLE,
    _Reader,
)

# Datasets and groups walked in model_weights: a few per layer.
MAX_OBJECTS = 8 * MAX_LAYERS
MAX_CONFIG_DEPTH = 32


def read_h5(path: Path) -> Graph:
    """Read a Keras `.h5` file into a checked Graph (h5py; no TensorFlow or Keras needed)."""
    h5py = _h5py(path)
    try:
        if not path.is_file():
            raise ConvCalcError(f"{path}: not a file", parameter="model")
        with h5py.File(path, "r") as handle:
            attrs = handle.attrs
            if "model_config" not in attrs:
                names = sorted(str(k)[:40] for k in list(attrs.keys())[:8])
                raise ConvCalcError(
                    f"{path}: the HDF5 file has no model_config attribute, so it holds no Keras model (a "
                    f"weights-only file from save_weights?); root attributes: {', '.join(names) or 'none'}",
                    parameter="model",
                )
            raw = _attribute(path, attrs, "model_config", MAX_CONFIG_BYTES)
            version = _attribute(path, attrs, "keras_version", 256)
            backend = _attribute(path, attrs, "backend", 256)
            weights = _weight_shapes(path, handle, h5py) if "model_weights" in handle else {}
    except ConvCalcError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as error:
        raise ConvCalcError(
            f"{path}: not a readable HDF5 file ({str(error)[:200]})", parameter="model"
        ) from None
    config = _parse(path, "model_config", raw)
    entry = _dict(str(path), "model_config", "the top level", config)
    cls = _class(entry)
    if cls not in MODEL_CLASSES:
        raise ConvCalcError(
            f"{path}: the model's class is {cls[:80]!r}; inspect reads Sequential and Functional models "
            "(a subclassed model keeps its layers in Python code, not in model_config)",
            parameter="model",
        )
    _add_channels(entry, weights, 0)
    _renumber_keras2_nodes(entry, 0)
    reader = _Reader(str(path))
    if version:
        written = version.decode("utf-8", "replace")[:40]
        maker = f" ({backend.decode('utf-8', 'replace')[:40]} backend)" if backend else ""
        reader.notes.append(f"written by Keras {written}{maker} as a legacy .h5 file")
    outputs = reader.model(entry, "", None, 0)
    return Graph(
        source=str(path),
        framework="keras",
        inputs=tuple(reader.inputs),
        nodes=tuple(reader.nodes),
        constants=tuple(reader.constants),
        outputs=tuple(outputs),
        notes=tuple(reader.notes),
    ).checked()


def _h5py(path: Path) -> Any:
    try:
        import h5py
    except ImportError:
        raise ConvCalcError(
            f"{path}: an HDF5 file (a Keras `.h5` model?); reading it needs h5py: pip install "
            "'convcalc[h5]' (or load it in Keras and re-save it with model.save('model.keras'))",
            parameter="model",
        ) from None
    return h5py


def _attribute(path: Path, attrs: Any, name: str, limit: int) -> bytes:
    """A string attribute's bytes (empty when absent); its declared size checked before it is read."""
    if name not in attrs:
        return b""
    attribute = attrs.get_id(name)
    if attribute.shape not in ((), None) or attribute.get_storage_size() > limit:
        raise ConvCalcError(
            f"{path}: the {name} attribute holds {attribute.get_storage_size()} bytes in shape "
            f"{attribute.shape}; inspect reads one string of up to {limit} bytes",
            parameter="model",
        )
    value = attrs[name]
    data = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(data, bytes):
        data = getattr(data, "tobytes", lambda: b"")()
    if len(data) > limit:
        raise ConvCalcError(
            f"{path}: the {name} attribute is {len(data)} bytes; inspect reads it up to {limit} bytes",
            parameter="model",
        )
    return bytes(data)


def _weight_shapes(path: Path, handle: Any, h5py: Any) -> dict[str, dict[str, tuple[int, ...]]]:
    """Layer name -> {weight name: shape}, from the datasets' metadata under model_weights."""
    shapes: dict[str, dict[str, tuple[int, ...]]] = {}
    seen = 0

    def visit(name: str, item: Any) -> None:
        nonlocal seen
        seen += 1
        if seen > MAX_OBJECTS:
            raise ConvCalcError(
                f"{path}: model_weights holds more than {MAX_OBJECTS} HDF5 objects; inspect walks up to that",
                parameter="model",
            )
        if isinstance(item, h5py.Dataset):
            parts = name.split("/")
            if len(parts) >= 2:
                weight = parts[-1].split(":")[0]
                shapes.setdefault(parts[-2], {}).setdefault(weight, tuple(int(d) for d in item.shape))

    handle["model_weights"].visititems(visit)
    return shapes


def _add_channels(entry: dict[str, Any], weights: dict[str, dict[str, tuple[int, ...]]], depth: int) -> None:
    """Record each layer's input channels from its kernel's shape where the config gives no input shape.

    Kernels: Conv (k..., in/groups, filters), ConvTranspose (k..., filters, in), Depthwise and
    Separable (k..., in, multiplier), Dense (in, units).
    """
    config = entry.get("config")
    if depth > MAX_CONFIG_DEPTH or not isinstance(config, dict):
        return
    layers = config.get("layers")
    if not isinstance(layers, list):
        return
    if entry.get("class_name") == "Sequential" and layers and isinstance(layers[0], dict):
        first = layers[0].get("config")
        if layers[0].get("class_name") != "InputLayer" and isinstance(first, dict):
            config.setdefault("build_input_shape", first.get("batch_input_shape"))
    for layer in layers:
        if not isinstance(layer, dict) or not isinstance(layer.get("config"), dict):
            continue
        cls, cfg = _class(layer), layer["config"]
        if cls in MODEL_CLASSES:
            _add_channels(layer, weights, depth + 1)
            continue
        build = layer.get("build_config")
        if isinstance(build, dict) and build.get("input_shape") is not None:
            continue
        name = layer.get("name", cfg.get("name"))
        found = weights.get(name) if isinstance(name, str) else None
        channels = None if not found else _input_channels(cls, cfg, found)
        if channels is None:
            continue
        rank = (CONV.get(cls) or CONV_TRANSPOSE.get(cls) or DEPTHWISE.get(cls) or SEPARABLE.get(cls)) or 0
        if cfg.get("data_format") == "channels_first":
            shape: list[Any] = [None, channels, *[None] * rank]
        else:
            shape = [None, *[None] * rank, channels]
        layer["build_config"] = {"input_shape": shape}


def _input_channels(cls: str, cfg: dict[str, Any], found: dict[str, tuple[int, ...]]) -> int | None:
    if cls in DEPTHWISE or cls in SEPARABLE:
        kernel = found.get("depthwise_kernel") or found.get("kernel")
        return kernel[-2] if kernel and len(kernel) >= 2 else None
    kernel = found.get("kernel")
    if not kernel or len(kernel) < 2:
        return None
    if cls in CONV_TRANSPOSE:
        return kernel[-1]
    if cls in CONV:
        groups = cfg.get("groups", 1)
        return kernel[-2] * groups if isinstance(groups, int) and groups >= 1 else None
    if cls == "Dense":
        return kernel[0]
    return None


def _renumber_keras2_nodes(entry: dict[str, Any], depth: int) -> None:
    """Keras 2 numbers the calls of a nested model that has its own input from 1, not 0.

    Such a model (a Functional one, or a Sequential one built with an input shape) keeps a first node
    linking its input to its output, which the config leaves out of its inbound nodes; references to
    its calls ([name, node, tensor]) still count that node. Keras 3 configs carry no such offset.
    """
    config = entry.get("config")
    layers = config.get("layers") if isinstance(config, dict) else None
    if depth > MAX_CONFIG_DEPTH or not isinstance(layers, list):
        return
    offset = set()
    for layer in layers:
        if not isinstance(layer, dict) or _class(layer) not in MODEL_CLASSES:
            continue
        _renumber_keras2_nodes(layer, depth + 1)
        inner = layer.get("config")
        inner_layers = inner.get("layers") if isinstance(inner, dict) else None
        first = inner_layers[0] if isinstance(inner_layers, list) and inner_layers else None
        starts_with_input = isinstance(first, dict) and _class(first) == "InputLayer"
        if _class(layer) != "Sequential" or starts_with_input:
            offset.add(layer.get("name"))

    nodes_of = [layer.get("inbound_nodes") for layer in layers if isinstance(layer, dict)]
    if not any(isinstance(node, list) for nodes in nodes_of if isinstance(nodes, list) for node in nodes):
        return  # Keras 3: calls as dicts, numbered from 0

    def shift(reference: Any) -> None:
        named = isinstance(reference, list) and len(reference) >= 3 and reference[0] in offset
        if named and isinstance(reference[1], int) and reference[1] >= 1:
            reference[1] -= 1

    for layer in layers:
        nodes = layer.get("inbound_nodes") if isinstance(layer, dict) else None
        for node in nodes if isinstance(nodes, list) else []:
            for reference in node if isinstance(node, list) else []:
                shift(reference)
    assert isinstance(config, dict)
    for key in ("input_layers", "output_layers"):
        references = config.get(key)
        if isinstance(references, list) and references and isinstance(references[0], str):
            shift(references)
        for reference in references if isinstance(references, list) else []:
            shift(reference)
