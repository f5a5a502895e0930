"""`convcalc port`: the target layer as code to paste, in the target framework's own API, with its fix.

Built from the same spelled arguments as the tables (``Convention.spell``); the values are parsed back into
Python literals once (``json_value``) so that the JSON document carries lists and numbers, not their text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convcalc.frameworks.port import Translation

_NOTE = re.compile(r"^(?P<value>.*?) \((?P<note>[^()]*)\)$")

# Frameworks whose tensors are channels-last (N, spatial..., C); the others are (N, C, spatial...).
_CHANNELS_LAST = ("tensorflow", "keras", "flax")


def parse_value(text: str) -> tuple[Any, str | None]:
    """'(3, 3)' -> [3, 3]; "'same'" -> 'same'; '[1, 1] (before, after)' -> ([1, 1], 'before, after').

    Text that is not a Python literal stays text.

    >>> parse_value("(3, 3)"), parse_value("'same'"), parse_value("None")
    (([3, 3], None), ('same', None), (None, None))
    >>> parse_value("[1, 1, 1, 1] (before, after per axis)")
    ([1, 1, 1, 1], 'before, after per axis')
    """
    for candidate, note in ((text, None), *_split_note(text)):
        try:
            return _lists(ast.literal_eval(candidate)), note
        except (ValueError, SyntaxError):
            continue
    return text, None


def _split_note(text: str) -> list[tuple[str, str]]:
    match = _NOTE.match(text)
    return [(match["value"], match["note"])] if match else []


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    return value


def json_value(text: str) -> Any:
    """The JSON value of a spelled argument (lists, numbers, strings, booleans, null)."""
    return parse_value(text)[0]


def _call(name: str, positional: Sequence[str], keywords: Sequence[tuple[str, object]]) -> str:
    items = [*positional, *(f"{k}={v}" for k, v in keywords)]
    one_line = f"{name}({', '.join(items)})"
    if len(one_line) <= 56:
        return one_line
    return f"{name}(\n" + "".join(f"    {item},\n" for item in items) + ")"


def _py(value: Any) -> str:
    """A parsed value back as Python source, tuples for lists of numbers (as the frameworks spell them)."""
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return "(" + ", ".join(map(str, value)) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "(" + ", ".join(_py(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _keywords(t: Translation, skip: Sequence[str] = ()) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for name, text in t.arguments:
        if name.isidentifier() and name not in skip:
            value, _ = parse_value(text)
            out.append((name, _py(value)))
    return out


def _argument(t: Translation, name: str) -> Any:
    for spelled, text in t.arguments:
        if spelled == name:
            return parse_value(text)[0]
    return None


def _removed(t: Translation) -> list[tuple[int, int]]:
    """Elements the fix removes per axis: a transposed layer's positive crops of its output, a
    convolution's negative pads of its input."""
    sign = 1 if t.source.is_transposed else -1
    return [(max(sign * b, 0), max(sign * a, 0)) for b, a in t.fix]


def _slices(t: Translation, channels_last: bool) -> str | None:
    """The slice that removes the fix's elements, or None when nothing is removed."""
    removes = _removed(t)
    if all(r == (0, 0) for r in removes):
        return None
    parts = [f"{b or ''}:{-a if a else ''}" for b, a in removes]
    return f"[:, {', '.join(parts)}, :]" if channels_last else f"[..., {', '.join(parts)}]"


def _adds(t: Translation) -> list[tuple[int, int]] | None:
    """Zeros the fix adds per axis (after a transposed layer, before a convolution)."""
    sign = 1 if t.source.is_transposed else -1
    adds = [(max(-sign * b, 0), max(-sign * a, 0)) for b, a in t.fix]
    return None if all(a == (0, 0) for a in adds) else adds


def _pad_call(framework: str, name: str, pairs: Sequence[tuple[int, int]]) -> str:
    """Zeros added around the spatial axes of ``name`` in the framework's own pad function."""
    if framework == "pytorch":
        flat = [v for b, a in reversed(pairs) for v in (b, a)]
        return f"torch.nn.functional.pad({name}, {tuple(flat)})"
    spatial = [[b, a] for b, a in pairs]
    full = [[0, 0], *spatial, [0, 0]] if framework in _CHANNELS_LAST else [[0, 0], [0, 0], *spatial]
    module = {
        "tensorflow": "tf.pad",
        "keras": "keras.ops.pad",
        "jax": "jnp.pad",
        "flax": "jnp.pad",
        "equinox": "jnp.pad",
        "paddle": "paddle.nn.functional.pad",
        "mxnet": "mx.np.pad",
    }.get(framework, "numpy.pad")
    if framework == "equinox":  # unbatched: (C, spatial...)
        full = [[0, 0], *spatial]
    return f"{module}({name}, {full})"


def _channels(t: Translation) -> tuple[str, str, int]:
    if t.channels is None:
        return "in_channels", "out_channels", 1
    c = t.channels
    return str(c.in_channels), str(c.out_channels), c.groups


def snippet(t: Translation) -> str:
    """Paste-ready code: the target layer, applied to ``x``, then the slice or pad that makes it exact."""
    fw = t.target.framework
    n = t.target.args.ndim
    transposed = t.source.is_transposed
    c_in, c_out, groups = _channels(t)
    grouped = [("groups", groups)] if groups != 1 else []
    lines: list[str] = []
    x = "x"
    if not transposed and _adds(t):
        lines.append(f"x = {_pad_call(fw, 'x', _adds(t) or [])}  # fix: zero padding")
    if not transposed and _slices(t, fw in _CHANNELS_LAST):
        lines.append(f"x = x{_slices(t, fw in _CHANNELS_LAST)}  # fix: crop the input")
    kind = "ConvTranspose" if transposed else "Conv"
    if fw == "pytorch":
        layer = _call(f"torch.nn.{kind}{n}d", [c_in, c_out], [*_keywords(t), *grouped])
        lines += [f"layer = {layer}", f"y = layer({x})"]
    elif fw == "keras":
        name = f"keras.layers.Conv{n}D{'Transpose' if transposed else ''}"
        lines += [
            f"layer = {_call(name, [], [('filters', c_out), *_keywords(t), *grouped])}",
            f"y = layer({x})",
        ]
    elif fw == "paddle":
        name = f"paddle.nn.Conv{n}D{'Transpose' if transposed else ''}"
        lines += [f"layer = {_call(name, [c_in, c_out], [*_keywords(t), *grouped])}", f"y = layer({x})"]
    elif fw == "equinox":
        eqx_keywords = [*_keywords(t), *grouped, ("key", "key")]
        lines += [
            f"layer = {_call(f'eqx.nn.{kind}', [str(n), c_in, c_out], eqx_keywords)}",
            f"y = layer({x})  # x: (channels, spatial...), unbatched",
        ]
    elif fw == "flax":
        lines += [
            f"layer = {_call(f'nn.{kind}', [], [('features', c_out), *_keywords(t)])}",
            f"y = layer.apply(params, {x})",
        ]
    elif fw == "mxnet":
        op = "Deconvolution" if transposed else "Convolution"
        mx_keywords: list[tuple[str, object]] = [("data", x), ("weight", "w"), ("num_filter", c_out)]
        mx_keywords += [*_keywords(t), *([("num_group", groups)] if groups != 1 else []), ("no_bias", True)]
        lines.append(f"y = {_call(f'mx.nd.{op}', [], mx_keywords)}")
    elif fw == "tensorflow":
        padding = _argument(t, "padding")
        if isinstance(padding, list):
            padding = [[0, 0], *padding, [0, 0]]
        keywords: list[tuple[str, object]] = [
            (name, _py(parse_value(text)[0]))
            for name, text in t.arguments
            if name in ("strides", "dilations")
        ]
        keywords.append(("padding", repr(padding) if isinstance(padding, list) else _py(padding)))
        if transposed:
            spatial = _argument(t, "output_shape (spatial)") or list(t.target.output)
            shape = f"[batch, {', '.join(map(str, spatial))}, {c_out}]"
            call = _call(f"tf.nn.conv{n}d_transpose", [x, "filters", shape], keywords)
        else:
            call = _call("tf.nn.convolution", [x, "filters"], keywords)
        lines += [
            "# filters: (k..., out, in) for the transposed op, (k..., in, out) for the convolution",
            f"y = {call}",
        ]
    elif fw == "jax":
        call = "conv_transpose" if transposed else "conv_general_dilated"
        lines += ["# x: (N, C, spatial...)", f"y = {_call(f'jax.lax.{call}', [x, 'w'], _keywords(t))}"]
    elif fw == "onnx":
        op = "ConvTranspose" if transposed else "Conv"
        node = _call("onnx.helper.make_node", [f"'{op}'", "['x', 'w']", "['y']"], _keywords(t))
        lines.append(f"node = {node}")
    else:  # caffe: a prototxt layer; repeated fields give one value per axis
        fields = []
        for name, text in t.arguments:
            value = parse_value(text)[0]
            fields += [f"{name}: {v}" for v in (value if isinstance(value, list) else [value])]
        op = "Deconvolution" if transposed else "Convolution"
        lines.append(
            f'layer {{ type: "{op}" convolution_param {{ num_output: {c_out} {" ".join(fields)} }} }}'
        )
    if transposed:
        cut = _slices(t, fw in _CHANNELS_LAST)
        if cut:
            lines.append(f"y = y{cut}  # fix: crop the output")
        if _adds(t):
            lines.append(f"y = {_pad_call(fw, 'y', _adds(t) or [])}  # fix: zero padding")
    if fw in ("onnx", "caffe") and not t.exact:
        lines.append(
            f"# the fix, as a Slice/Pad node (ONNX) or Crop layer (Caffe): {'; '.join(t.fix_steps())}"
        )
    imports = _IMPORTS.get(fw, "")
    if "jnp." in "\n".join(lines):
        imports += "\nimport jax.numpy as jnp"
    return "\n".join([imports.strip(), *lines] if imports.strip() else lines)


_IMPORTS = {
    "pytorch": "import torch",
    "keras": "import keras",
    "tensorflow": "import tensorflow as tf",
    "jax": "import jax",
    "flax": "import flax.linen as nn",
    "equinox": "import equinox as eqx",
    "paddle": "import paddle",
    "mxnet": "import mxnet as mx",
    "onnx": "import onnx",
}
