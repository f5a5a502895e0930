"""Framework layers and ports executed: the catalog's observed values, the engine, PyTorch and JAX.

- Values observed in the frameworks (one-hot kernels on 1..n, reference catalog sections 2, 3, 7, 8)
  reproduced by running the canonical form through the NumPy engine.
- Every port re-run by the engine: source layer versus target layer with the converted weight and fix.
- PyTorch runs ported convolutions; real JAX runs JAX layers and is compared with the engine's reading
  of the same arguments and weights, and with PyTorch running the port (skipped without jax / torch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcalc.conventions import CONVENTIONS, convention, read
from convcalc.conventions.base import FrameworkLayer
from convcalc.conventions.layouts import weight_shape
from convcalc.errors import ConvCalcError
from convcalc.port.execute import change_weight, check_port, run_layer
from convcalc.port.translate import translate

FRAMEWORKS = sorted(CONVENTIONS)


def one_hot_run(layer: FrameworkLayer, values: list[float], tap: int = 0) -> list[float]:
    """Run a 1-D single-channel layer with kernel e_tap (in the adjoint's orientation) on the values."""
    x = np.array(values, dtype=float).reshape(1, 1, -1)
    layout = convention(layer.framework).layout(layer.args)
    k = layer.args.kernel_size[0]
    taps = np.zeros(k)
    taps[tap] = 1.0
    # With one channel in and out, a length-k vector reshapes into any layout of the kernel.
    if layout.flipped:
        taps = taps[::-1].copy()
    w = taps.reshape(weight_shape(layout, (k,), 1, 1, 1))
    return [float(v) for v in run_layer(layer, x, w).ravel()]


def test_catalog_pytorch_same_even_kernel_values() -> None:
    # Oracle 6: torch conv1d i6 k4 padding='same', one-hot k[0], input 1..6 gives [0, 1, 2, 3, 4, 5].
    layer = read("pytorch", 6, 4, padding="same")
    assert one_hot_run(layer, [1, 2, 3, 4, 5, 6]) == [0, 1, 2, 3, 4, 5]


def test_catalog_paddle_same_ignores_dilation_values() -> None:
    # Oracle 23: Paddle conv i6 k3 d2 'SAME', one-hot k[0]: [0, 1, 2, 3, 4, 5] (the dilation-1 result).
    layer = read("paddle", 6, 3, dilation=2, padding="same")
    assert one_hot_run(layer, [1, 2, 3, 4, 5, 6]) == [0, 1, 2, 3, 4, 5]
    # TensorFlow honours the dilation: [0, 0, 1, 2, 3, 4] (section 7.1).
    layer = read("tensorflow", 6, 3, dilation=2, padding="same")
    assert one_hot_run(layer, [1, 2, 3, 4, 5, 6]) == [0, 0, 1, 2, 3, 4]


def test_catalog_tensorflow_and_mxnet_transposed_placement_values() -> None:
    # Section 3.2: TF SAME i5 k3 s2 O=10, one-hot k[0] on 1..5: [1, 0, 2, 0, ..., 5, 0].
    tf = read("tensorflow", 5, 3, stride=2, padding="same", output_size=10, transposed=True)
    assert one_hot_run(tf, [1, 2, 3, 4, 5]) == [1, 0, 2, 0, 3, 0, 4, 0, 5, 0]
    # Oracle 25: MXNet target_shape 10 starts [0, 2, 0, ...]; target_shape 3 gives [3, 0, 4].
    mx = read("mxnet", 5, 3, stride=2, output_size=10, transposed=True)
    assert one_hot_run(mx, [1, 2, 3, 4, 5])[:3] == [0, 2, 0]
    mx3 = read("mxnet", 5, 3, stride=2, output_size=3, transposed=True)
    assert one_hot_run(mx3, [1, 2, 3, 4, 5]) == [3, 0, 4]


def test_catalog_onnx_same_upper_and_lower_values() -> None:
    # Oracle 17: SAME_UPPER gives [1, 0, 2, ...] (crop (0, 1)); SAME_LOWER crops at the start.
    upper = read("onnx", 5, 3, stride=2, padding="same_upper", transposed=True)
    lower = read("onnx", 5, 3, stride=2, padding="same_lower", transposed=True)
    assert one_hot_run(upper, [1, 2, 3, 4, 5])[:3] == [1, 0, 2]
    assert one_hot_run(lower, [1, 2, 3, 4, 5])[:3] == [0, 2, 0]


# --- Every port, executed by the engine ----------------------------------------------------------


@st.composite
def layers(draw: st.DrawFn, transposed_only: bool | None = None) -> FrameworkLayer:
    """A convolution or transposed convolution in a random framework's own accepted arguments."""
    framework = draw(st.sampled_from(FRAMEWORKS))
    transposed = draw(st.booleans()) if transposed_only is None else transposed_only
    ndim = draw(st.integers(1, 2))
    small = st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim).map(tuple)
    kw: dict[str, Any] = {
        "stride": draw(small),
        "dilation": draw(st.lists(st.integers(1, 2), min_size=ndim, max_size=ndim).map(tuple)),
        "transposed": transposed,
        "transpose_kernel": draw(st.booleans()),
    }
    conv = CONVENTIONS[framework]
    words = conv.transposed_padding_words if transposed else conv.padding_words
    if words and draw(st.booleans()):
        kw["padding"] = draw(st.sampled_from(words))
    else:
        kw["padding"] = tuple(draw(st.tuples(st.integers(-1, 3), st.integers(-1, 3))) for _ in range(ndim))
    if transposed and draw(st.booleans()):
        kw["output_padding"] = draw(st.lists(st.integers(0, 2), min_size=ndim, max_size=ndim).map(tuple))
    elif transposed and draw(st.booleans()):
        kw["output_size"] = draw(st.lists(st.integers(1, 24), min_size=ndim, max_size=ndim).map(tuple))
    size = tuple(draw(st.lists(st.integers(1, 8), min_size=ndim, max_size=ndim)))
    kernel = draw(small)
    try:
        return read(framework, size, kernel, **kw)
    except ConvCalcError:
        assume(False)
        raise


@given(layers(), st.sampled_from(FRAMEWORKS), st.integers(0, 1000))
def test_engine_runs_every_port_and_the_fixed_target_equals_the_source(
    layer: FrameworkLayer, target: str, seed: int
) -> None:
    try:
        t = translate(layer, target)
    except ConvCalcError:
        assume(False)
        return
    check = check_port(t, seed)
    assert check.ok, (check, t)
    # The verdict's claim about the unfixed target holds when executed, too. (Only this direction: an
    # output made of padding alone is zero both ways, although the layers differ.)
    if t.values_equal:
        assert check.unfixed_equal
    if check.unfixed_shape != (0,):
        assert check.unfixed_shape[2:] == t.unfixed_output
        assert (check.unfixed_shape == check.source_shape) == t.shape_equal


# --- PyTorch runs ported convolutions ------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@given(layers(transposed_only=False))
def test_pytorch_runs_convolutions_ported_to_pytorch(layer: FrameworkLayer) -> None:
    torch = pytest.importorskip("torch")
    t = translate(layer, "pytorch")
    x = np.random.default_rng(1).standard_normal((1, 2, *layer.args.size))
    kernel = tuple(a.kernel_size for a in layer.conv)
    w = np.random.default_rng(2).standard_normal(
        weight_shape(convention(layer.framework).layout(layer.args), kernel, 2, 3, 1)
    )
    expected = run_layer(layer, x, w)
    pads = [(b, a) for b, a in t.fix]
    x_fixed = torch.nn.functional.pad(torch.from_numpy(x), [v for pair in reversed(pads) for v in pair])
    args = t.target.args
    conv = (torch.nn.functional.conv1d, torch.nn.functional.conv2d)[args.ndim - 1]
    padding = args.padding_word or tuple(b for b, _ in args.pairs())
    got = conv(
        x_fixed,
        torch.from_numpy(change_weight(w, t.weight).copy()),
        None,
        args.stride,
        padding,
        args.dilation,
    )
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-9)


# --- Real JAX ------------------------------------------------------------------------------------


@st.composite
def jax_transposed(draw: st.DrawFn) -> FrameworkLayer:
    ndim = draw(st.integers(1, 2))
    small = st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim).map(tuple)
    padding: object = draw(st.sampled_from(["same", "valid", "pairs"]))
    if padding == "pairs":
        padding = tuple(draw(st.tuples(st.integers(-2, 4), st.integers(-2, 4))) for _ in range(ndim))
    try:
        return read(
            "jax",
            tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim))),
            draw(small),
            stride=draw(small),
            dilation=draw(st.lists(st.integers(1, 2), min_size=ndim, max_size=ndim).map(tuple)),
            padding=padding,
            transposed=True,
            transpose_kernel=draw(st.booleans()),
        )
    except ConvCalcError:
        assume(False)
        raise


def _jax_padding(layer: FrameworkLayer) -> Any:
    word = layer.args.padding_word
    return word.upper() if word else [tuple(p) for p in layer.args.pairs()]


# Each new shape compiles in JAX: fewer examples keep the module fast.
@settings(max_examples=25)
@given(jax_transposed(), st.integers(0, 1000))
def test_real_jax_conv_transpose_matches_the_engine_reading(layer: FrameworkLayer, seed: int) -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax import lax

    ndim = layer.args.ndim
    spatial = "HW"[:ndim] if ndim < 3 else "DHW"
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, *layer.args.size))
    # JAX's rhs letters (k..., I, O) name the forward convolution's channels when transpose_kernel is
    # set, so the array is then (k..., layer out, layer in); without it, (k..., layer in, layer out).
    w = rng.standard_normal(
        (*layer.args.kernel_size, 2, 3)
        if not layer.args.transpose_kernel
        else (*layer.args.kernel_size, 3, 2)
    )
    got = lax.conv_transpose(
        x,
        w,
        strides=layer.args.stride,
        padding=_jax_padding(layer),
        rhs_dilation=layer.args.dilation,
        dimension_numbers=(
            "NC" + spatial,
            spatial + "IO",
            "NC" + spatial,
        ),
        transpose_kernel=layer.args.transpose_kernel,
    )
    expected = run_layer(layer, x, w)
    assert tuple(got.shape[2:]) == layer.output
    np.testing.assert_allclose(np.asarray(got), expected, atol=1e-9)


# Each new shape compiles in JAX: fewer examples keep the module fast.
@settings(max_examples=25)
@given(jax_transposed(), st.integers(0, 1000))
def test_real_jax_against_pytorch_running_the_port(layer: FrameworkLayer, seed: int) -> None:
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    jax.config.update("jax_enable_x64", True)
    from jax import lax

    t = translate(layer, "pytorch")
    ndim = layer.args.ndim
    spatial = "HW"[:ndim]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, *layer.args.size))
    tk = layer.args.transpose_kernel
    w = rng.standard_normal((*layer.args.kernel_size, *((3, 2) if tk else (2, 3))))
    reference = np.asarray(
        lax.conv_transpose(
            x,
            w,
            strides=layer.args.stride,
            padding=_jax_padding(layer),
            rhs_dilation=layer.args.dilation,
            dimension_numbers=("NC" + spatial, spatial + "IO", "NC" + spatial),
            transpose_kernel=tk,
        )
    )
    args = t.target.args
    tconv = (torch.nn.functional.conv_transpose1d, torch.nn.functional.conv_transpose2d)[ndim - 1]
    y = tconv(
        torch.from_numpy(x),
        torch.from_numpy(change_weight(w, t.weight).copy()),
        stride=args.stride,
        padding=tuple(b for b, _ in args.pairs()),
        output_padding=args.output_padding or 0,
        dilation=args.dilation,
    ).numpy()
    for n, (before, after) in enumerate(t.fix):
        axis = 2 + n
        y = np.pad(y, [(0, 0)] * axis + [(max(-before, 0), max(-after, 0))] + [(0, 0)] * (y.ndim - axis - 1))
        y = np.take(y, range(max(before, 0), y.shape[axis] - max(after, 0)), axis=axis)
    np.testing.assert_allclose(y, reference, atol=1e-9)


@pytest.mark.parametrize("padding", ["same", "same_lower", "valid", ((-1, 2),), ((2, 0),)])
@pytest.mark.parametrize(("kernel", "stride", "dilation"), [(3, 1, 1), (4, 2, 1), (2, 3, 2), (5, 2, 2)])
def test_real_jax_convolution_matches_the_engine_reading(
    padding: Any, kernel: int, stride: int, dilation: int
) -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax import lax

    try:
        layer = read("jax", 9, kernel, stride=stride, dilation=dilation, padding=padding)
    except ConvCalcError:
        pytest.skip("refused configuration")
    rng = np.random.default_rng(kernel * 10 + stride)
    x = rng.standard_normal((1, 2, 9))
    w = rng.standard_normal((3, 2, kernel))  # lax's default OIH layout
    got = lax.conv_general_dilated(
        x,
        w,
        (stride,),
        padding.upper() if isinstance(padding, str) else list(padding),
        rhs_dilation=(dilation,),
    )
    np.testing.assert_allclose(np.asarray(got), run_layer(layer, x, w), atol=1e-9)


@given(layers(), st.sampled_from(FRAMEWORKS), st.integers(0, 1000))
def test_engine_runs_grouped_ports(layer: FrameworkLayer, target: str, seed: int) -> None:
    from convcalc.port.translate import Channels

    try:
        t = translate(layer, target, Channels(4, 6, 2))
    except ConvCalcError:
        assume(False)
        return
    check = check_port(t, seed)
    assert check.ok, (check, t)
