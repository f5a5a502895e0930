"""Reading a Keras ``config.json``: the values of a layer entry, checked, and the call graph's order.

Every helper names the file (``source``) and the layer (``where``) in its refusal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.model import (
    Dim,
)

# A call's arguments nest lists of tensors (Concatenate takes one list): a few levels.
MAX_ARGS_DEPTH = 8
# Per-axis arguments (kernel_size, strides, dilation_rate, pool_size, UpSampling size, padding and
# cropping amounts) of a real model stay far below this; larger ones are refused before any analysis.
MAX_AXIS_VALUE = 65_536


@dataclass(frozen=True)
class _Call:
    """One call of one layer: where it sits, its config, its data inputs and the shapes Keras recorded."""

    path: str
    cls: str
    config: dict[str, Any]
    build: dict[str, Any]
    inputs: tuple[str, ...]
    input_shape: tuple[Dim, ...] | None
    output: str
    declared: tuple[Dim, ...] | None
    layer_path: str = ""
    node_index: int = 0
    module: str = ""


def _topological(
    source: str, where: str, calls: list[tuple[str, int, list[Any]]], ready: set[tuple[str, int, int]]
) -> Iterator[tuple[str, int, list[Any]]]:
    """The layer calls in an order where every call comes after the calls it reads (Kahn's algorithm)."""
    producer = {(name, index): n for n, (name, index, _) in enumerate(calls)}
    waiting = [0] * len(calls)
    readers: list[list[int]] = [[] for _ in calls]
    for n, (_, _, history) in enumerate(calls):
        for key in {(k[0], k[1]) for (k, _) in history if k not in ready}:
            if key not in producer:
                raise ConvCalcError(
                    f"{source}: {where}: layer {calls[n][0]!r} reads layer {key[0]!r}, which the config "
                    "does not define",
                    parameter="model",
                )
            waiting[n] += 1
            readers[producer[key]].append(n)
    queue = deque(n for n in range(len(calls)) if waiting[n] == 0)
    done = 0
    while queue:
        n = queue.popleft()
        done += 1
        yield calls[n]
        for m in readers[n]:
            waiting[m] -= 1
            if waiting[m] == 0:
                queue.append(m)
    if done != len(calls):
        stuck = next(calls[n][0] for n in range(len(calls)) if waiting[n])
        raise ConvCalcError(
            f"{source}: {where}: the layers form a cycle (layer {stuck!r} waits on its own output)",
            parameter="model",
        )


def _keras_tensors(source: str, where: str, node: Any) -> Iterator[tuple[tuple[str, int, int], Any]]:
    """The (history, declared shape) of every tensor a call reads, in order; Keras 3 and Keras 2 forms."""
    if isinstance(node, dict):
        stack: list[tuple[Any, int]] = [(node.get("args", []), 0)]
    elif isinstance(node, list):  # Keras 2: [[layer, node, tensor, kwargs], ...]
        for item in node:
            if not isinstance(item, list) or len(item) < 3:
                raise ConvCalcError(
                    f"{source}: {where}: an inbound node entry is malformed", parameter="model"
                )
            yield _history(source, where, item[:3]), None
        return
    else:
        raise ConvCalcError(f"{source}: {where}: an inbound node is malformed", parameter="model")
    found = []
    while stack:
        value, depth = stack.pop()
        if depth > MAX_ARGS_DEPTH:
            raise ConvCalcError(
                f"{source}: {where}: call arguments nest more than {MAX_ARGS_DEPTH} levels", parameter="model"
            )
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            cfg = _dict(source, where, "a tensor", value.get("config"))
            shape = _shape(source, where, "a tensor's shape", cfg.get("shape"))
            found.append((_history(source, where, cfg.get("keras_history")), shape))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in reversed(value))
    yield from found


def _nested_keys(value: Any) -> list[Any]:
    """input_layers / output_layers: one [name, node, tensor], a list of them, or a dict of them (a
    model with named outputs, as keras-hub's feature extractors: Keras flattens a dict in the order of
    its sorted keys, and the tensor index of a call's output counts in that order)."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value]
    if isinstance(value, dict):
        return [value[key] for key in sorted(value)]
    return value if isinstance(value, list) else []


def _history(source: str, where: str, value: Any) -> tuple[str, int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], str)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value[1:])
    ):
        raise ConvCalcError(
            f"{source}: {where}: a tensor reference must be [layer, node, tensor]; got {str(value)[:80]}",
            parameter="model",
        )
    return value[0], value[1], value[2]


def _tensor_name(path: str, node: int, tensor: int) -> str:
    """Output ``tensor`` of a layer's call number ``node``: the layer's name, then ``:node``, ``:tensor``."""
    return path + (f":{node}" if node or tensor else "") + (f":{tensor}" if tensor else "")


def _class(entry: dict[str, Any]) -> str:
    """The layer's class name ('?' when the config gives none that is a string)."""
    cls = entry.get("class_name")
    return cls[:120] if isinstance(cls, str) else "?"


def _module(entry: dict[str, Any]) -> str:
    """The Python module Keras 3 records for a layer's class ('' when absent, as in Keras 2)."""
    module = entry.get("module")
    return module[:200] if isinstance(module, str) else ""


def _build_config(entry: dict[str, Any]) -> dict[str, Any]:
    build = entry.get("build_config")
    return build if isinstance(build, dict) else {}


def _name(source: str, where: str, entry: dict[str, Any], config: dict[str, Any]) -> str:
    name = entry.get("name", config.get("name"))
    if not isinstance(name, str) or not name or len(name) > 256 or "/" in name:
        raise ConvCalcError(
            f"{source}: {where}: a layer name must be a non-empty string without '/' of at most 256 "
            f"characters; got {str(name)[:80]!r}",
            parameter="model",
        )
    return name


def _dict(source: str, where: str, what: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConvCalcError(
            f"{source}: {where}: {what} must be a JSON object; got {str(value)[:80]}", parameter="model"
        )
    return value


def _list(source: str, where: str, what: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ConvCalcError(
            f"{source}: {where}: {what} must be a JSON list; got {str(value)[:80]}", parameter="model"
        )
    return value


def _int(
    source: str, where: str, field: str, value: Any, minimum: int | None, maximum: int | None = None
) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        bound = "" if minimum is None else f" >= {minimum}"
        bound += "" if maximum is None else f" and <= {maximum}"
        raise ConvCalcError(
            f"{source}: layer {where!r}: {field} must be an integer{bound}; got {str(value)[:80]}",
            parameter="model",
        )
    return value


def _ints(source: str, where: str, field: str, value: Any, rank: int, minimum: int) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    if len(values) == 1:
        values = values * rank
    if len(values) != rank:
        raise ConvCalcError(
            f"{source}: layer {where!r}: {field} must give 1 or {rank} values; got {str(value)[:80]}",
            parameter="model",
        )
    return tuple(_int(source, where, field, v, minimum, MAX_AXIS_VALUE) for v in values)


def _pairs(source: str, where: str, field: str, value: Any, rank: int) -> tuple[tuple[int, int], ...]:
    """Keras padding/cropping: an int, (before, after) for 1-D, or per axis an int or a pair."""
    if rank == 1 and isinstance(value, list) and len(value) == 2:
        items: list[Any] = [value]
    else:
        items = value if isinstance(value, list) and len(value) == rank else [value] * rank
    pairs = []
    for item in items:
        pair = item if isinstance(item, list) and len(item) == 2 else [item, item]
        before, after = (_int(source, where, field, v, 0, MAX_AXIS_VALUE) for v in pair)
        pairs.append((before, after))
    return tuple(pairs)


def _shape(source: str, where: str, field: str, value: Any) -> tuple[Dim, ...] | None:
    """A Keras shape: ints, None for dynamic dimensions (-> "?"); None when absent."""
    if value is None or (isinstance(value, list) and value and isinstance(value[0], list)):
        return None
    if not isinstance(value, list) or not all(
        v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0) for v in value
    ):
        raise ConvCalcError(
            f"{source}: {where}: {field} must be a list of sizes; got {str(value)[:80]}", parameter="model"
        )
    return tuple("?" if v is None else v for v in value)


def _fmt(values: tuple[int, ...]) -> str:
    """Per-axis values as config.json writes them: [3, 3]."""
    return str(list(values))
