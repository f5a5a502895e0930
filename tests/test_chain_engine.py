"""Chains executed layer by layer in the NumPy engine: every size the report gives is the size the
engine produces, and the values agree with PyTorch running the same layers (when it is installed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import engine
from convcalc.chain.parse import parse_chain
from convcalc.chain.report import chain_report
from convcalc.chain.stack import Layer
from convcalc.errors import ConvCalcError

CHANNELS = 2

LAYER = st.one_of(
    st.builds(
        lambda k, s, p, d: f"conv k{k} s{s} p{min(p, k - 1)} d{d} c{CHANNELS}",
        st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
    ),
    st.builds(
        lambda k, s, p, op, d: f"tconv k{k} s{s} p{p} op{min(op, max(s, d) - 1)} d{d} c{CHANNELS}",
        st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(0, 1), st.integers(1, 2),
    ),
    st.builds(lambda k, s: f"maxpool k{k} s{s}", st.integers(1, 3), st.integers(1, 3)),
    st.builds(lambda k, s: f"avgpool k{k} s{s}", st.integers(1, 3), st.integers(1, 3)),
    st.builds(lambda s: f"up{s}", st.integers(1, 3)),
)  # fmt: skip


def _pool(x: np.ndarray, layer: Layer) -> np.ndarray:
    """Floor-mode pooling without padding, by NumPy's sliding windows (dilation 1)."""
    k, s = int(layer.kernel_size), int(layer.stride)  # type: ignore[call-overload]
    windows = np.lib.stride_tricks.sliding_window_view(x, k, axis=-1)[..., ::s, :]
    return windows.max(axis=-1) if layer.kind == "maxpool" else windows.mean(axis=-1)


def execute(layers: tuple[Layer, ...], x: np.ndarray, weights: list[np.ndarray | None]) -> list[np.ndarray]:
    outputs = []
    for layer, w in zip(layers, weights):
        if layer.kind == "conv":
            x = engine.conv(x, w, stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
        elif layer.kind == "tconv":
            x = engine.conv_transpose(
                x, w, stride=layer.stride, padding=layer.padding, output_padding=layer.output_padding,
                dilation=layer.dilation,
            )  # fmt: skip
        elif layer.kind in ("maxpool", "avgpool"):
            x = _pool(x, layer)
        else:
            x = np.repeat(x, int(layer.scale), axis=-1)  # type: ignore[call-overload]
        outputs.append(x)
    return outputs


def _weights(layers: tuple[Layer, ...], rng: np.random.Generator) -> list[np.ndarray | None]:
    return [
        rng.standard_normal((CHANNELS, CHANNELS, int(layer.kernel_size)))  # type: ignore[call-overload]
        if layer.kind in ("conv", "tconv")
        else None
        for layer in layers
    ]


@settings(max_examples=60)
@given(st.lists(LAYER, min_size=1, max_size=5), st.integers(1, 30))
def test_engine_sizes_are_the_reports_sizes_and_torch_agrees(texts: list[str], size: int) -> None:
    layers = parse_chain(" | ".join(texts))
    try:
        report = chain_report(layers, (size,), channels=CHANNELS)
    except ConvCalcError:
        return
    rng = np.random.default_rng(0)
    weights = _weights(layers, rng)
    x = rng.standard_normal((1, CHANNELS, size))
    outputs = execute(layers, x, weights)
    assert [o.shape[2:] for o in outputs] == [r.output for r in report.results]
    assert [o.shape[1] for o in outputs] == [r.out_channels for r in report.results]

    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    t = torch.from_numpy(x)
    for layer, w, ours in zip(layers, weights, outputs):
        if layer.kind == "conv":
            t = functional.conv1d(t, torch.from_numpy(w), None, layer.stride, layer.padding, layer.dilation)
        elif layer.kind == "tconv":
            t = functional.conv_transpose1d(
                t,
                torch.from_numpy(w),
                None,
                layer.stride,
                layer.padding,
                layer.output_padding,
                1,
                layer.dilation,
            )
        elif layer.kind == "maxpool":
            t = functional.max_pool1d(t, layer.kernel_size, layer.stride)
        elif layer.kind == "avgpool":
            t = functional.avg_pool1d(t, layer.kernel_size, layer.stride)
        else:
            t = functional.interpolate(t, scale_factor=layer.scale, mode="nearest")
        np.testing.assert_allclose(t.numpy(), ours, rtol=1e-9, atol=1e-9)


def test_same_unet_depth_4_runs_in_the_engine_at_an_accepted_size_in_2d() -> None:
    block = "conv k3 p1 c2 | conv k3 p1 c2"
    text = " | ".join(
        [f"{block} | pool k2"] * 4 + [block] + [f"tconv k2 s2 c2 | {block}"] * 4 + ["conv k1 c1"]
    )
    layers = parse_chain(text)
    report = chain_report(layers, (37, 48), channels=1)
    # by hand: 37 -> 18 -> 9 -> 4 -> 2, back 4 (restored), 8 != 9, 16 != 18, 32 != 37
    assert [p.got[0] for p in report.pairs] == [4, 8, 16, 32]
    assert [all(p.restored) for p in report.pairs] == [True, False, False, False]
    # fixed from the inside out: output_padding 1 gives 9, then 18 is 9*2 (0), then 37 needs 1 again
    assert [p.output_padding_fix[0] for p in report.pairs] == [0, 1, 0, 1]
    assert report.accepted[0].restores.nearest(37) == (32, 48)
    fixed = chain_report(layers, (32, 48), channels=1)
    assert all(all(p.restored) for p in fixed.pairs)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 1, 32, 48))
    skips: list[np.ndarray] = []
    for layer, result in zip(layers, fixed.results):
        if layer.kind == "conv":
            k = int(layer.kernel_size)  # type: ignore[call-overload]
            w = rng.standard_normal((layer.out_channels, x.shape[1], k, k))
            x = engine.conv(x, w, padding=layer.padding)
        elif layer.kind == "maxpool":
            skips.append(x)
            x = x.reshape(1, 2, x.shape[2] // 2, 2, x.shape[3] // 2, 2).max(axis=(3, 5))
        else:
            w = rng.standard_normal((x.shape[1], layer.out_channels, 2, 2))
            x = engine.conv_transpose(x, w, stride=2)
            skip = skips.pop()
            assert skip.shape == x.shape  # the skip connection can be concatenated
        assert x.shape[2:] == result.output
