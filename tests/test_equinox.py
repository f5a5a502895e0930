"""The Equinox convention against Equinox itself (opt-in with the jax extra; skipped without equinox).

Equinox layers get a random weight in their own layout ((out, in/groups, k...) for both Conv and
ConvTranspose); convcalc's reading of the same arguments, run by the NumPy engine after converting that
weight to PyTorch's layout (flip, and a swap within each group for ConvTranspose), must agree. Then
PyTorch runs the port of the same layer and must agree with Equinox too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcalc.conventions import read
from convcalc.conventions.base import FrameworkLayer
from convcalc.errors import ConvCalcError
from convcalc.port.execute import change_weight, run_layer
from convcalc.port.translate import Channels, translate

jax = pytest.importorskip("jax")
eqx = pytest.importorskip("equinox")
jax.config.update("jax_enable_x64", True)


@st.composite
def equinox_layers(draw: st.DrawFn) -> tuple[FrameworkLayer, int]:
    ndim = draw(st.integers(1, 2))
    small = st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim).map(tuple)
    transposed = draw(st.booleans())
    padding: Any = draw(st.sampled_from(["same", "same_lower", "valid", "pairs"]))
    if padding == "pairs":
        padding = tuple(draw(st.tuples(st.integers(0, 3), st.integers(0, 3))) for _ in range(ndim))
    kw: dict[str, Any] = {"stride": draw(small), "dilation": draw(small), "padding": padding}
    if transposed:
        kw["output_padding"] = draw(st.lists(st.integers(0, 2), min_size=ndim, max_size=ndim).map(tuple))
    groups = draw(st.sampled_from([1, 2]))
    try:
        layer = read(
            "equinox",
            tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim))),
            draw(small),
            transposed=transposed,
            **kw,
        )
    except ConvCalcError:
        assume(False)
        raise
    return layer, groups


def _equinox_module(layer: FrameworkLayer, c_in: int, c_out: int, groups: int) -> Any:
    args = layer.args
    padding: Any = args.padding_word.upper() if args.padding_word else [tuple(p) for p in args.pairs()]
    common = {
        "num_spatial_dims": args.ndim,
        "in_channels": c_in,
        "out_channels": c_out,
        "kernel_size": args.kernel_size,
        "stride": args.stride,
        "padding": padding,
        "dilation": args.dilation,
        "groups": groups,
        "use_bias": False,
        "key": jax.random.PRNGKey(0),
    }
    if layer.is_transposed:
        return eqx.nn.ConvTranspose(output_padding=args.output_padding or 0, **common)
    return eqx.nn.Conv(**common)


@settings(max_examples=40)
@given(equinox_layers(), st.integers(0, 1000))
def test_equinox_layers_agree_with_the_convention_and_with_pytorch_running_the_port(
    case: tuple[FrameworkLayer, int], seed: int
) -> None:
    layer, groups = case
    c_in, c_out = 2 * groups, 3 * groups
    module = _equinox_module(layer, c_in, c_out, groups)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(module.weight.shape)
    module = eqx.tree_at(lambda m: m.weight, module, jax.numpy.asarray(w))
    x = rng.standard_normal((c_in, *layer.args.size))
    got = np.asarray(module(jax.numpy.asarray(x)))
    assert got.shape[1:] == layer.output
    np.testing.assert_allclose(got[None], run_layer(layer, x[None], w, groups), atol=1e-9)

    torch = pytest.importorskip("torch")
    t = translate(layer, "pytorch", Channels(c_in, c_out, groups))
    args = t.target.args
    F = torch.nn.functional
    w_pt = torch.from_numpy(change_weight(w, t.weight).copy())
    x_pt = torch.from_numpy(x[None])
    if layer.is_transposed:
        y = (F.conv_transpose1d, F.conv_transpose2d)[args.ndim - 1](
            x_pt,
            w_pt,
            stride=args.stride,
            padding=tuple(b for b, _ in args.pairs()),
            output_padding=args.output_padding or 0,
            groups=groups,
            dilation=args.dilation,
        ).numpy()
        for n, (before, after) in enumerate(t.fix):
            axis = 2 + n
            y = np.pad(
                y, [(0, 0)] * axis + [(max(-before, 0), max(-after, 0))] + [(0, 0)] * (y.ndim - axis - 1)
            )
            y = np.take(y, range(max(before, 0), y.shape[axis] - max(after, 0)), axis=axis)
    else:
        pads = [v for b, a in reversed(t.fix) for v in (b, a)]
        padding = args.padding_word or tuple(b for b, _ in args.pairs())
        y = (F.conv1d, F.conv2d)[args.ndim - 1](
            F.pad(x_pt, pads), w_pt, None, args.stride, padding, args.dilation, groups
        ).numpy()
    np.testing.assert_allclose(y, got[None], atol=1e-9)
