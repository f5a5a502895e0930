"""The words in a model picture: a node's op with its arguments in short form, its short name.

A convolution reads ``Conv k3 s2 p1``: k the kernel, s the stride, p the padding (a framework word such
as ``same`` as it is), d the dilation, op the output_padding, g the groups; an argument at its neutral
value (stride 1, padding 0, dilation 1, groups 1) is left out. Per-axis values that differ are joined by
x (``k3x5``). Padding that differs before and after is spelled ``pad 0:1`` (before:after), and per axis
by the axis names when the axes differ (``pad H 0:2 W 1:1``). ``key`` spells out the abbreviations a
picture uses, for its caption. These are the framework's own arguments (``ConvSpec``), never the
canonical crops: the picture shows what the file says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction

from convcalc.graph.model import (
    SPATIAL_NAMES,
    BlockSpec,
    ConcatSpec,
    ConvSpec,
    DenseSpec,
    FlattenSpec,
    Node,
    PadSpec,
    PoolSpec,
    ReshapeSpec,
    ResizeSpec,
)
from convcalc.graph.shapes import spatial_axes

# A short name longer than this is cut in the middle (the two ends name a layer best).
MAX_NAME = 26


def per_axis(values: tuple[int, ...] | tuple[str, ...]) -> str:
    """(3, 3) -> '3'; (3, 5) -> '3x5'.

    >>> per_axis((3, 3)), per_axis((3, 5))
    ('3', '3x5')
    """
    if values and len(set(values)) == 1:
        return str(values[0])
    return "x".join(str(v) for v in values)


def _padding(padding: str | tuple[tuple[int, int], ...]) -> str | None:
    """'same' -> 'same'; ((1, 1), (1, 1)) -> 'p1'; ((1, 1), (2, 2)) -> 'p1x2'; all zero -> None;
    before and after differing: pads().

    >>> _padding(((1, 1), (1, 1))), _padding(((1, 1), (2, 2))), _padding(((0, 1), (0, 1)))
    ('p1', 'p1x2', 'pad 0:1')
    """
    if isinstance(padding, str):
        word = padding.lower()
        return None if word in ("notset", "valid") else word
    if all(b == 0 and a == 0 for b, a in padding):
        return None
    if all(b == a for b, a in padding):
        return "p" + per_axis(tuple(b for b, _ in padding))
    return pads(padding)


def pads(padding: Iterable[tuple[int, int]]) -> str:
    """Pads (before, after) per spatial axis: 'pad 0:1' when every axis has the same, else each axis by
    its name.

    >>> pads([(0, 2), (1, 1)]), pads([(0, 1), (0, 1)]), pads([(1, 2)])
    ('pad H 0:2 W 1:1', 'pad 0:1', 'pad 1:2')
    """
    pairs = list(padding)
    if len(set(pairs)) == 1:
        return f"pad {pairs[0][0]}:{pairs[0][1]}"
    names = SPATIAL_NAMES.get(len(pairs)) or tuple(f"axis {n}" for n in range(len(pairs)))
    return "pad " + " ".join(f"{name} {b}:{a}" for name, (b, a) in zip(names, pairs))


# The abbreviations of the boxes, in the order the key lists them.
KEY = (
    ("k", "kernel"),
    ("s", "stride"),
    ("p", "padding"),
    ("pad", "b:a padding b before and a after"),
    ("d", "dilation"),
    ("op", "output_padding"),
    ("out", "output size"),
    ("g", "groups"),
)
_ABBREVIATION = re.compile(r"(op|out|k|s|p|d|g)\d")


def key(texts: Iterable[str]) -> str | None:
    """The abbreviations the argument ``texts`` use, spelled out; None when they use none.

    >>> key(["k3 s2 p1", "k3 pad H 0:2 W 1:1", "x2 nearest"])
    'k kernel, s stride, p padding, pad b:a padding b before and a after'
    """
    used = set()
    for text in texts:
        for word in text.split():
            found = _ABBREVIATION.match(word)
            if found:
                used.add(found.group(1))
            elif word == "pad":
                used.add("pad")
    if not used:
        return None
    return ", ".join(f"{short} {meaning}" for short, meaning in KEY if short in used)


def _scale(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def _window(spec: ConvSpec | PoolSpec) -> list[str]:
    """A windowed layer's kernel, stride (when not 1) and padding (when any): 'k4', 's2', 'p1'."""
    words = ["k" + per_axis(spec.kernel_size)]
    if set(spec.stride) != {1}:
        words.append("s" + per_axis(spec.stride))
    padding = _padding(spec.padding)
    return [*words, padding] if padding else words


def arguments(node: Node) -> str:
    """The node's arguments in short form ('k3 s2 p1'), '' when it has none worth showing.

    >>> from convcalc.graph.model import ConvSpec, Node
    >>> spec = ConvSpec("pytorch", (4, 4), (2, 2), (1, 1), ((1, 1), (1, 1)), 8, 4, output_padding=(1, 1))
    >>> arguments(Node("up", "ConvTranspose2d", "conv_transpose", ("x",), ("y",), spec))
    'k4 s2 p1 op1'
    """
    spec = node.spec
    words: list[str] = []
    if isinstance(spec, ConvSpec):
        words += _window(spec)
        if spec.dilation and set(spec.dilation) != {1}:
            words.append("d" + per_axis(spec.dilation))
        if spec.output_padding and set(spec.output_padding) != {0}:
            words.append("op" + per_axis(spec.output_padding))
        if spec.output_size:
            words.append("out" + per_axis(spec.output_size))
        if spec.groups != 1:
            words.append(f"g{spec.groups}")
    elif isinstance(spec, PoolSpec):
        words += _window(spec)
        if spec.ceil_mode:
            words.append("ceil")
    elif isinstance(spec, ResizeSpec):
        axes = spatial_axes(node.layout, len(spec.scales or spec.sizes or ()))
        if spec.scales is not None:
            words.append("x" + per_axis(tuple(_scale(spec.scales[a]) for a in axes)))
        elif spec.sizes is not None:
            words.append("to " + "x".join(str(spec.sizes[a]) for a in axes))
        words.append(spec.mode)
    elif isinstance(spec, PadSpec):
        axes = spatial_axes(node.layout, len(spec.pads))
        words.append(pads(spec.pads[a] for a in axes if a < len(spec.pads)))
        if spec.mode != "constant":
            words.append(spec.mode)
    elif isinstance(spec, ConcatSpec):
        words.append(f"axis {spec.axis}")
    elif isinstance(spec, BlockSpec):
        words.append(f"b{spec.block_size}")
    elif isinstance(spec, FlattenSpec):
        words.append(f"axis {spec.axis}")
    elif isinstance(spec, ReshapeSpec):
        words.append("to " + "x".join(str(v) for v in spec.shape))
    elif isinstance(spec, DenseSpec):
        words.append(f"{spec.in_features}->{spec.out_features}")
    return " ".join(words)


def _parts(name: str, op: str) -> list[str]:
    parts = [p for p in name.split("/") if p]
    if len(parts) > 1 and parts[-1].split("_")[0] == op:
        parts = parts[:-1]
    return parts or [name]


def short_names(nodes: list[tuple[str, str]]) -> list[str]:
    """Per (name, op), the part of the path a reader recognises: ONNX's '/downs.0/downs.0.1/Conv' ->
    'downs.0.1' (the exporter's last module, the op name dropped), with as many more components as it
    takes to tell two nodes apart; cut in the middle past MAX_NAME characters.

    >>> short_names([("/downs.0/downs.0.1/downs.0.1.0/Conv", "Conv"), ("/Concat_3", "Concat")])
    ['downs.0.1.0', 'Concat_3']
    >>> short_names([("/model/model.1/Conv", "Conv"), ("/model/model.3/model.1/Conv", "Conv")])
    ['model/model.1', 'model.3/model.1']
    """
    parts = [_parts(name, op) for name, op in nodes]
    depth = [1] * len(parts)
    for _ in range(max((len(p) for p in parts), default=0)):
        texts = ["/".join(p[-d:]) for p, d in zip(parts, depth)]
        counts: dict[str, int] = {}
        for text in texts:
            counts[text] = counts.get(text, 0) + 1
        clashes = [n for n, text in enumerate(texts) if counts[text] > 1 and depth[n] < len(parts[n])]
        if not clashes:
            break
        for n in clashes:
            depth[n] += 1
    return [_cut("/".join(p[-d:])) for p, d in zip(parts, depth)]


def _cut(text: str) -> str:
    """A path past MAX_NAME characters loses its first components (its end names the layer), a single
    name its middle.

    >>> _cut("model.2/model/model.3/model/model.1"), _cut("a_very_long_layer_name_without_any_slash")
    ('\u2026/model.3/model/model.1', 'a_very_long_l\u2026ut_any_slash')
    """
    if len(text) <= MAX_NAME:
        return text
    parts = text.split("/")
    while len(parts) > 1 and len("/".join(parts)) + 2 > MAX_NAME:
        parts = parts[1:]
    if len("/".join(parts)) + 2 <= MAX_NAME:
        return "\u2026/" + "/".join(parts)
    keep = MAX_NAME - 1
    return text[: keep - keep // 2] + "\u2026" + text[len(text) - keep // 2 :]


def shape_text(shape: tuple[int, ...]) -> str:
    """(1, 64, 32, 32) -> '1x64x32x32'; a scalar () -> 'scalar'."""
    return "x".join(str(d) for d in shape) if shape else "scalar"
