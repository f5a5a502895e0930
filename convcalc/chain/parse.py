"""Read a chain of layers: the compact form `conv k3 s2 p1 | maxpool k2 | tconv k3 s2 p1 op1 | up2`, or a
JSON / TOML file. Errors point at the layer and the token.

Compact form, one layer between bars: a kind, then options glued to their values.

- kinds: ``conv``, ``tconv`` (transposed convolution), ``pool`` / ``maxpool``, ``avgpool``,
  ``upN`` / ``up sN`` (resize-upsampling by N, nearest or bilinear);
- ``kN`` kernel_size, ``sN`` stride, ``pN`` padding (``p1x0``, ``p1:2``, ``psame``), ``opN``
  output_padding, ``dN`` dilation, ``cN`` out channels, ``gN`` groups, ``ceil`` ceil_mode; per-axis
  values join with ``x`` (``k3x5``).

File form: ``{"layers": [{"type": "conv", "kernel_size": 3, "stride": 2, "padding": 1}, ...]}`` with
PyTorch's argument names (``scale_factor`` for ``up``); ``layers`` may also be the compact string.
Optional top-level ``size`` and ``in_channels``.

A file must be a regular file (not a FIFO, a device such as /dev/zero, or a directory) of at most
``MAX_FILE_BYTES``, nested at most ``MAX_NESTING`` brackets deep (checked before the parser recurses),
with at most ``MAX_LAYERS`` layers and integers of at most ``MAX_DIGITS`` digits.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any, NamedTuple

from convcalc.chain.stack import MAX_LAYERS, Layer, clip
from convcalc.errors import ConvCalcError
from convcalc.parse import check_digits, parse_ints, parse_padding

MAX_FILE_BYTES = 1_000_000
MAX_TEXT = 100_000
MAX_NESTING = 32

_KIND_NAMES = {
    "conv": "conv",
    "tconv": "tconv",
    "convtranspose": "tconv",
    "deconv": "tconv",
    "pool": "maxpool",
    "maxpool": "maxpool",
    "avgpool": "avgpool",
    "up": "up",
    "upsample": "up",
}

# Which options each kind takes (PyTorch's names).
_OPTIONS = {
    "conv": {"kernel_size", "stride", "padding", "dilation", "out_channels", "groups"},
    "tconv": {"kernel_size", "stride", "padding", "output_padding", "dilation", "out_channels", "groups"},
    "maxpool": {"kernel_size", "stride", "padding", "dilation", "ceil_mode"},
    "avgpool": {"kernel_size", "stride", "padding", "ceil_mode"},
    "up": {"scale_factor"},
}

_PREFIXES = (
    ("op", "output_padding"),
    ("k", "kernel_size"),
    ("s", "stride"),
    ("p", "padding"),
    ("d", "dilation"),
    ("c", "out_channels"),
    ("g", "groups"),
    ("x", "scale_factor"),
)


class ChainSpec(NamedTuple):
    """A parsed chain with the optional input size and channels a file may carry."""

    layers: tuple[Layer, ...]
    size: int | tuple[int, ...] | None = None
    in_channels: int | None = None


def _fail(index: int, text: str, token: str, why: str) -> ConvCalcError:
    if any(mark in text for mark in ",;"):  # 'conv k3 s2, conv k3': layers joined by another mark
        why += "; layers are separated by '|': 'conv k3 s2 | conv k3'"
    return ConvCalcError(f"layer {index} ({clip(text)}): token {clip(token)!r}: {why}", parameter="layers")


def _positive(index: int, text: str, token: str, name: str, value: Any, minimum: int = 1) -> Any:
    values = value if isinstance(value, tuple) else (value,)
    if any(isinstance(v, tuple) or v < minimum for v in values):
        raise _fail(index, text, token, f"{name} must be >= {minimum} on every axis; got {value}")
    return value


def _build(index: int, text: str, kind_token: str, options: dict[str, tuple[str, Any]]) -> Layer:
    """Check the options a kind takes and their ranges; fill PyTorch's defaults."""
    kind = _KIND_NAMES.get(kind_token.lower())
    if kind is None:
        raise _fail(
            index, text, kind_token, f"unknown layer kind; expected one of {', '.join(sorted(_KIND_NAMES))}"
        )
    for name, (token, _) in options.items():
        if name not in _OPTIONS[kind]:
            raise _fail(index, text, token, f"{name} is not an option of {kind}")
    values = {name: value for name, (_, value) in options.items()}
    tokens = {name: token for name, (token, _) in options.items()}
    if kind == "up":
        if "scale_factor" not in values:
            raise _fail(index, text, kind_token, "up needs a scale factor: up2, or up s2")
        scale = _positive(index, text, tokens["scale_factor"], "scale_factor", values["scale_factor"])
        return Layer(kind, text.strip(), scale=scale)
    if "kernel_size" not in values:
        raise _fail(index, text, kind_token, f"{kind} needs a kernel size: k3")
    for name in ("kernel_size", "stride", "dilation", "groups", "out_channels"):
        if name in values:
            _positive(index, text, tokens[name], name, values[name])
    if "output_padding" in values:
        _positive(index, text, tokens["output_padding"], "output_padding", values["output_padding"], 0)
    padding = values.get("padding", 0)
    if kind in ("maxpool", "avgpool"):
        if isinstance(padding, str) or (
            isinstance(padding, tuple) and any(isinstance(p, tuple) for p in padding)
        ):
            raise _fail(index, text, tokens["padding"], "pooling takes symmetric padding: p1 or p1x0")
        _positive(index, text, tokens.get("padding", ""), "padding", padding, 0)
    for name in ("out_channels", "groups"):
        if isinstance(values.get(name), tuple):
            raise _fail(index, text, tokens[name], f"{name} is one number")
    return Layer(
        kind=kind,
        text=text.strip(),
        kernel_size=values["kernel_size"],
        # PyTorch's pooling stride defaults to the kernel size.
        stride=values.get("stride", values["kernel_size"] if kind in ("maxpool", "avgpool") else 1),
        padding=padding,
        output_padding=values.get("output_padding", 0),
        dilation=values.get("dilation", 1),
        ceil_mode=bool(values.get("ceil_mode", False)),
        out_channels=values.get("out_channels"),
        groups=values.get("groups", 1),
    )


def _compact_layer(index: int, text: str) -> Layer:
    tokens = text.split()
    if not tokens:
        raise ConvCalcError(
            f"layer {index} is empty (two bars in a row, or a bar at an end)", parameter="layers"
        )
    kind_token, rest = tokens[0], tokens[1:]
    options: dict[str, tuple[str, Any]] = {}
    low = kind_token.lower()
    if low.startswith("up") and low[2:] and low not in _KIND_NAMES:
        # up2 / up2x1: the factor glued to the kind
        options["scale_factor"] = (
            kind_token,
            _value(index, text, kind_token, "scale_factor", kind_token[2:]),
        )
        kind_token = "up"
    for token in rest:
        if token.lower() == "ceil":
            options["ceil_mode"] = (token, True)
            continue
        low = token.lower()
        for prefix, name in _PREFIXES:
            if low.startswith(prefix) and low[len(prefix) :]:
                if kind_token.lower() in ("up", "upsample") and name == "stride":
                    name = "scale_factor"
                if name in options:
                    raise _fail(index, text, token, f"{name} is given twice")
                options[name] = (token, _value(index, text, token, name, token[len(prefix) :]))
                break
        else:
            raise _fail(
                index,
                text,
                token,
                "expected kN, sN, pN, opN, dN, cN, gN or ceil (values joined by x per axis)",
            )
    return _build(index, text, kind_token, options)


def _value(index: int, text: str, token: str, name: str, raw: str) -> Any:
    try:
        if name == "padding":
            return parse_padding(raw)
        return parse_ints(name, raw)
    except ConvCalcError as error:
        raise _fail(index, text, token, str(error)) from None


def parse_chain(text: str) -> tuple[Layer, ...]:
    """`conv k3 s2 p1 | maxpool k2 | up2` -> layers, numbered from 1 in every message.

    >>> [layer.kind for layer in parse_chain("conv k3 s2 p1 | pool k2 | tconv k3 s2 p1 op1 | up2")]
    ['conv', 'maxpool', 'tconv', 'up']
    """
    if len(text) > MAX_TEXT:
        raise ConvCalcError(
            f"the chain text may be at most {MAX_TEXT} characters; got {len(text)}", parameter="layers"
        )
    _check_layer_count(text.count("|") + 1)
    return tuple(_compact_layer(n, part) for n, part in enumerate(text.split("|"), 1))


def _digits(index: int, text: str, name: str, value: int) -> int:
    try:
        return check_digits(name, value)
    except ConvCalcError as error:
        raise _fail(index, text, name, str(error)) from None


def _json_value(index: int, text: str, name: str, value: Any) -> Any:
    if name == "ceil_mode":
        if not isinstance(value, bool):
            raise _fail(index, text, name, f"ceil_mode must be true or false; got {value!r}")
        return value
    if isinstance(value, bool):
        raise _fail(index, text, name, f"{name} must be a number or a list; got {value!r}")
    if name == "padding" and isinstance(value, str):
        return _value(index, text, name, name, value)
    if isinstance(value, int):
        return _digits(index, text, name, value)
    if isinstance(value, list) and value and len(value) <= 16:
        if name == "padding" and all(isinstance(v, list) for v in value):
            pairs = []
            for v in value:
                if len(v) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                    raise _fail(index, text, name, f"padding pairs must be [before, after]; got {v!r}")
                pairs.append((_digits(index, text, name, v[0]), _digits(index, text, name, v[1])))
            return tuple(pairs)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return tuple(_digits(index, text, name, v) for v in value)
    raise _fail(index, text, name, f"{name} must be an integer or a list of integers; got {value!r}")


def _file_layer(index: int, entry: Any) -> Layer:
    if isinstance(entry, str):
        return _compact_layer(index, entry)
    if not isinstance(entry, dict):
        raise ConvCalcError(
            f"layer {index} must be a table/object or a compact string; got {entry!r}", parameter="layers"
        )
    text = ", ".join(f"{k}={v}" for k, v in entry.items())
    kind = entry.get("type")
    if not isinstance(kind, str):
        raise _fail(index, text, "type", "every layer needs a type (conv, tconv, maxpool, avgpool, up)")
    options = {
        name: (name, _json_value(index, text, name, value)) for name, value in entry.items() if name != "type"
    }
    return _build(
        index, f"{kind} " + ", ".join(f"{k}={v}" for k, v in entry.items() if k != "type"), kind, options
    )


def _check_layer_count(count: int) -> None:
    if count > MAX_LAYERS:
        raise ConvCalcError(f"a chain may have at most {MAX_LAYERS} layers; got {count}", parameter="layers")


def _read_regular(path: Path) -> bytes:
    """At most MAX_FILE_BYTES of a regular file; a FIFO, a device or a directory is refused unopened
    (or, if it was swapped in after the check, opened without blocking and refused before reading)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ConvCalcError(
                f"the chain file {str(path)!r} is not a regular file (a FIFO, a device or a directory); "
                "give a .json or .toml file",
                parameter="layers",
            )
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ConvCalcError(f"the chain file {str(path)!r} is not a regular file", parameter="layers")
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConvCalcError(
            f"cannot read the chain file {str(path)!r}: {error.strerror}", parameter="layers"
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConvCalcError(
            f"the chain file may be at most {MAX_FILE_BYTES:,} bytes; {path.name} is larger",
            parameter="layers",
        )
    return raw


# What is not structure: strings (TOML's four kinds, JSON's one) and TOML comments.
_JSON_SKIP = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_TOML_SKIP = re.compile(
    r'"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*', re.S
)


def nesting_depth(text: str, toml: bool) -> int:
    """The deepest nesting of [ and { outside strings (and TOML comments).

    >>> nesting_depth('{"layers": [{"type": "conv", "text": "[[["}]}', toml=False)
    3
    """
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", (_TOML_SKIP if toml else _JSON_SKIP).sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _load(path: Path) -> Any:
    raw = _read_regular(path)
    toml = path.suffix.lower() == ".toml"
    try:
        text = raw.decode("utf-8")
        depth = nesting_depth(text, toml)
        if depth > MAX_NESTING:
            raise ConvCalcError(
                f"{path.name} is nested {depth} brackets deep; a chain file may nest at most {MAX_NESTING}",
                parameter="layers",
            )
        if toml:
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover - Python 3.10
                import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
            return tomllib.loads(text)
        return json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        if isinstance(error, ConvCalcError):
            raise
        raise ConvCalcError(f"cannot read {path.name}: {error}", parameter="layers") from None


def read_chain_file(path: Path) -> ChainSpec:
    """A JSON or TOML file: ``layers`` (a list, or the compact string), optional ``size``, ``in_channels``."""
    document = _load(path)
    if not isinstance(document, dict) or "layers" not in document:
        raise ConvCalcError(
            f"{path.name} must hold an object/table with a 'layers' entry", parameter="layers"
        )
    entries = document["layers"]
    if isinstance(entries, str):
        layers = parse_chain(entries)
    elif isinstance(entries, list) and entries:
        _check_layer_count(len(entries))
        layers = tuple(_file_layer(n, entry) for n, entry in enumerate(entries, 1))
    else:
        raise ConvCalcError(
            f"'layers' in {path.name} must be a non-empty list or a compact string", parameter="layers"
        )
    size = document.get("size")
    if size is not None and not (
        isinstance(size, int) or (isinstance(size, list) and all(isinstance(v, int) for v in size))
    ):
        raise ConvCalcError(
            f"'size' in {path.name} must be an integer or a list; got {str(size)[:80]}", parameter="size"
        )
    for value in [size] if isinstance(size, int) else size or []:
        check_digits("size", value)
    channels = document.get("in_channels")
    if channels is not None and (isinstance(channels, bool) or not isinstance(channels, int)):
        raise ConvCalcError(
            f"'in_channels' in {path.name} must be an integer; got {str(channels)[:80]}", parameter="channels"
        )
    if channels is not None:
        check_digits("channels", channels)
    return ChainSpec(layers, tuple(size) if isinstance(size, list) else size, channels)
