"""Execute framework layers and ports through the NumPy engine (imported only by commands that run it).

A layer read by a convention runs in its canonical form: the weight, given in the framework's own
layout, is turned into the engine's PyTorch layout by the convention's declared layout (permute, flip),
then ``engine.conv_transpose_cropped`` applies the crops, or ``engine.conv`` the pads. A port is checked
by running the source layer and, separately, the target layer with the converted weight and the fix;
the two must agree in shape and values (the agreement rule of ``verdict``). Data is
channels-first (N, C, *spatial) throughout; only weights change layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple

import numpy as np

from convcalc import engine
from convcalc.conventions import convention
from convcalc.conventions.base import FrameworkLayer, with_
from convcalc.conventions.layouts import WeightChange, weight_change, weight_shape
from convcalc.engine import Array
from convcalc.errors import ConvCalcError
from convcalc.port.translate import Translation
from convcalc.verdict import PortCheck


def change_weight(weight: Array, change: WeightChange) -> Array:
    """np.transpose by the change's permutation, then reverse its spatial axes (per group if regrouped)."""
    moved = _regroup(weight, change) if change.regroup else np.transpose(weight, change.permutation)
    return np.flip(moved, axis=change.flip_spatial) if change.flip_spatial else moved


def _regroup(weight: Array, change: WeightChange) -> Array:
    """Through the grouped form (groups, in/groups, out/groups, k...): split, reorder, merge."""
    g = change.groups
    canonical = ["g", "I", "O", *(a for a in change.source_axes if a.startswith("k"))]

    def split(array: Array, axes: tuple[str, ...]) -> tuple[Array, list[str]]:
        shape: list[int] = []
        names: list[str] = []
        for size, name in zip(array.shape, axes):
            if name in ("I", "O"):  # the full channel axis: group-major
                shape += [g, size // g]
                names += ["g", name]
            else:
                shape.append(size)
                names.append(name.split("/")[0])
        return array.reshape(shape), names

    grouped, names = split(weight, change.source_axes)
    grouped = np.transpose(grouped, [names.index(a) for a in canonical])
    # Now lay out the target: its full channel axis takes the group index in front of it.
    order: list[str] = []
    for name in change.target_axes:
        order += ["g", name] if name in ("I", "O") else [name.split("/")[0]]
    out = np.transpose(grouped, [canonical.index(a) for a in order])
    shape = []
    sizes = dict(zip(order, out.shape))
    for name in change.target_axes:
        base = name.split("/")[0]
        shape.append(sizes["g"] * sizes[base] if name in ("I", "O") else sizes[base])
    return out.reshape(shape)


def engine_weight(layer: FrameworkLayer, weight: Array, groups: int = 1) -> Array:
    """A weight in the layer's framework layout, in the engine's (PyTorch's) layout for the same layer."""
    own = convention(layer.framework).layout(layer.args)
    pytorch = convention("pytorch").layout(layer.args)
    return change_weight(weight, weight_change(own, pytorch, layer.args.ndim, groups))


def _pad_or_trim(array: Array, pairs: Sequence[tuple[int, int]]) -> Array:
    """Per spatial axis add (before, after) zeros; a negative amount removes that many elements instead."""
    grow = [(0, 0), (0, 0), *((max(b, 0), max(a, 0)) for b, a in pairs)]
    grown = np.pad(array, grow) if any(g != (0, 0) for g in grow) else array
    keep = tuple(slice(max(-b, 0), grown.shape[2 + n] - max(-a, 0)) for n, (b, a) in enumerate(pairs))
    index = (slice(None), slice(None), *keep)
    return grown[index]


def run_layer(layer: FrameworkLayer, x: Array, weight: Array, groups: int = 1) -> Array:
    """The layer's output for channels-first x and a weight in the framework's layout."""
    return engine.run_layer(layer.layer._replace(groups=groups), x, engine_weight(layer, weight, groups))


def check_port(t: Translation, seed: int = 0) -> PortCheck:
    """Run the source layer and the target layer (converted weight, fix applied) on one random input.

    With the translation's channels and groups, or 2 -> 3 channels without groups when none are given.
    """
    src = t.source
    c_in, c_out, g = (2, 3, 1) if t.channels is None else astuple(t.channels)
    layout = convention(src.framework).layout(src.args)
    kernel = tuple(a.kernel_size for a in (src.transposed or src.conv))
    shape_w = weight_shape(layout, kernel, c_in, c_out, g)
    x, w = engine.random_tensors(seed, (1, c_in, *src.args.size), shape_w)
    expected = run_layer(src, x, w, g)
    w_target = change_weight(w, t.weight)
    if src.is_transposed:
        unfixed = run_layer(t.target, x, w_target, g)
        got = _pad_or_trim(unfixed, [(-b, -a) for b, a in t.fix])
    else:
        got = run_layer(t.target, _pad_or_trim(x, t.fix), w_target, g)
        # Without the fix the target runs on the original input (when its rules allow that).
        unfixed = got if t.exact else _unfixed_conv(t, x, w_target, g)
    return PortCheck(
        source_shape=tuple(expected.shape),
        target_shape=tuple(got.shape),
        unfixed_shape=tuple(unfixed.shape),
        max_error=engine.max_abs_error(got, expected),
        unfixed_error=engine.max_abs_error(unfixed, expected),
        reference_max=engine.max_abs(expected),
        seed=seed,
    )


def _unfixed_conv(t: Translation, x: Array, w: Array, groups: int) -> Array:
    try:
        layer = convention(t.target.framework).read(with_(t.target.args, size=tuple(x.shape[2:])))
    except ConvCalcError:
        return np.empty((0,))
    return run_layer(layer, x, w, groups)
