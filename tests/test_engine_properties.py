"""Drawn configurations: the independent routes agree, the adjoint identity holds, torch agrees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcalc import engine
from convcalc.core import TransposedAxis
from convcalc.errors import ConvCalcError


@dataclass(frozen=True)
class Layer:
    """A transposed convolution in PyTorch's arguments, with asymmetric padding allowed."""

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    output_padding: tuple[int, ...]
    # Zeros appended before the output: a negative crop_before, which PyTorch cannot express.
    shift: tuple[int, ...] = ()

    @property
    def crops(self) -> list[tuple[int, int]]:
        """PyTorch's (padding, output_padding) as canonical crops (p_before - shift, p_after - op)."""
        shift = self.shift or (0,) * len(self.size)
        return [(b - z, a - op) for (b, a), op, z in zip(self.padding, self.output_padding, shift)]

    def tensors(self, seed: int) -> tuple[Any, Any]:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((self.batch, self.in_channels, *self.size))
        w = rng.standard_normal((self.in_channels, self.out_channels // self.groups, *self.kernel_size))
        return x, w


@st.composite
def layers(draw: st.DrawFn, symmetric: bool = False, shifted: bool = False) -> Layer:
    nd = draw(st.integers(1, 3))
    small = 5 if nd < 3 else 3
    size = tuple(draw(st.integers(1, small)) for _ in range(nd))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    padding = []
    for _ in range(nd):
        before = draw(st.integers(0, 3))
        padding.append((before, before if symmetric else draw(st.integers(0, 3))))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    groups = draw(st.sampled_from([1, 2]))
    layer = Layer(
        batch=draw(st.integers(1, 2)),
        in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 3)),
        groups=groups,
        size=size,
        kernel_size=kernel,
        stride=stride,
        dilation=dilation,
        padding=tuple(padding),
        output_padding=output_padding,
        shift=tuple(draw(st.integers(0, 4)) for _ in range(nd)) if shifted else (),
    )
    outputs = [
        TransposedAxis(i, k, s, d, b, a).output
        for i, k, s, d, (b, a) in zip(size, kernel, stride, dilation, layer.crops)
    ]
    assume(all(o >= 1 for o in outputs))
    return layer


def _close(got: Any, expected: Any) -> None:
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-11)


@given(layers(), st.integers(0, 2**32 - 1))
def test_every_route_agrees(layer: Layer, seed: int) -> None:
    x, w = layer.tensors(seed)
    args = {"stride": layer.stride, "dilation": layer.dilation, "crops": layer.crops, "groups": layer.groups}
    reference = engine.transpose_scatter(x, w, **args)
    expected_shape = (
        layer.batch,
        layer.out_channels,
        *(
            TransposedAxis(i, k, s, d, b, a).output
            for i, k, s, d, (b, a) in zip(
                layer.size, layer.kernel_size, layer.stride, layer.dilation, layer.crops
            )
        ),
    )
    assert reference.shape == expected_shape
    _close(engine.conv_transpose_cropped(x, w, **args), reference)
    _close(engine.transpose_direct(x, w, **args), reference)
    _close(engine.transpose_matrix(x, w, **args), reference)
    pytorch_style = engine.conv_transpose(
        x,
        w,
        stride=layer.stride,
        padding=layer.padding,
        output_padding=layer.output_padding,
        dilation=layer.dilation,
        groups=layer.groups,
    )
    _close(pytorch_style, reference)


@given(layers(), st.integers(0, 2**32 - 1))
def test_adjoint_identity(layer: Layer, seed: int) -> None:
    """<conv(z), x> = <z, conv_transpose(x)> with z the size of the transposed output."""
    x, w = layer.tensors(seed)
    out = engine.conv_transpose(
        x,
        w,
        stride=layer.stride,
        padding=layer.padding,
        output_padding=layer.output_padding,
        dilation=layer.dilation,
        groups=layer.groups,
    )
    # The convolution of z maps back to x's size only when output_padding < stride (PyTorch also
    # allows output_padding < dilation, whose extra elements no window of the convolution reaches).
    assume(all(op < s for op, s in zip(layer.output_padding, layer.stride)))
    z = np.random.default_rng(seed + 1).standard_normal(out.shape)
    forward, backward = engine.adjoint_identity(
        z,
        x,
        w,
        stride=layer.stride,
        padding=layer.padding,
        output_padding=layer.output_padding,
        dilation=layer.dilation,
        groups=layer.groups,
    )
    assert forward == pytest.approx(backward, rel=1e-10, abs=1e-10)


@given(layers(shifted=True), st.integers(0, 2**32 - 1))
def test_routes_agree_on_any_crops(layer: Layer, seed: int) -> None:
    """Crops of any sign on both sides, beyond what PyTorch's arguments express."""
    y, w = layer.tensors(seed)
    args = {"stride": layer.stride, "dilation": layer.dilation, "crops": layer.crops, "groups": layer.groups}
    reference = engine.transpose_scatter(y, w, **args)
    _close(engine.conv_transpose_cropped(y, w, **args), reference)
    _close(engine.transpose_direct(y, w, **args), reference)
    _close(engine.transpose_matrix(y, w, **args), reference)


@given(layers(shifted=True), st.integers(0, 2**32 - 1))
def test_adjoint_identity_with_canonical_crops(layer: Layer, seed: int) -> None:
    """<T y, z> = <y, T* z> for crops of any sign (negative: zeros appended)."""
    y, w = layer.tensors(seed)
    args = {"stride": layer.stride, "dilation": layer.dilation, "crops": layer.crops, "groups": layer.groups}
    z = np.random.default_rng(seed + 2).standard_normal(engine.transpose_scatter(y, w, **args).shape)
    forward, backward = engine.adjoint_identity_cropped(y, z, w, **args)
    assert forward == pytest.approx(backward, rel=1e-10, abs=1e-10)


@given(layers(), st.integers(0, 2**32 - 1))
def test_conv_equals_its_matrix(layer: Layer, seed: int) -> None:
    """A convolution with the layer's weight and padding, by im2col and by the dense matrix."""
    _, w = layer.tensors(seed)
    z = np.random.default_rng(seed).standard_normal(
        (layer.batch, layer.out_channels, *(s + b + a for s, (b, a) in zip(layer.size, layer.padding)))
    )
    # The transposed weight (C_in, C_out/g, k) is the convolution weight C_out -> C_in.
    args = {
        "stride": layer.stride,
        "padding": layer.padding,
        "dilation": layer.dilation,
        "groups": layer.groups,
    }
    try:
        expected = engine.conv_by_matrix(z, w, **args)
    except ConvCalcError:
        assume(False)
    _close(engine.conv(z, w, **args), expected)


@given(layers(symmetric=True), st.integers(0, 2**32 - 1))
def test_torch_agrees(layer: Layer, seed: int) -> None:
    torch = pytest.importorskip("torch")
    x, w = layer.tensors(seed)
    nd = len(layer.size)
    padding = tuple(b for b, _ in layer.padding)
    expected = getattr(torch.nn.functional, f"conv_transpose{nd}d")(
        torch.from_numpy(x),
        torch.from_numpy(w),
        stride=layer.stride,
        padding=padding,
        output_padding=layer.output_padding,
        dilation=layer.dilation,
        groups=layer.groups,
    ).numpy()
    got = engine.conv_transpose(
        x,
        w,
        stride=layer.stride,
        padding=padding,
        output_padding=layer.output_padding,
        dilation=layer.dilation,
        groups=layer.groups,
    )
    _close(got, expected)
    conv = getattr(torch.nn.functional, f"conv{nd}d")
    back = conv(
        torch.from_numpy(expected),
        torch.from_numpy(w),
        stride=layer.stride,
        padding=padding,
        dilation=layer.dilation,
        groups=layer.groups,
    ).numpy()
    _close(
        engine.conv(
            got, w, stride=layer.stride, padding=padding, dilation=layer.dilation, groups=layer.groups
        ),
        back,
    )
