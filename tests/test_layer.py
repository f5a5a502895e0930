"""The core's one layer value (`convcalc.core.Layer`) and the features that hand it out.

Witnesses: PyTorch executing the layer (when installed), a brute-force count of the windows and of the
scattered full output, round trips (twin of a twin), and the PyTorch documentation's worked example.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcalc.conventions import read
from convcalc.core import conv_layer, transposed_layer
from convcalc.core.layer import Layer
from convcalc.errors import ConvCalcError
from convcalc.reader import LayerOptions, read_layer
from convcalc.solve.solver import solve


def _windows(size: int, k: int, s: int, d: int, before: int, after: int) -> int:
    """How many windows start at a multiple of s and fit inside the padded input: counted one by one."""
    padded = size + before + after
    return sum(1 for start in range(0, padded, s) if start + d * (k - 1) < padded)


def _scattered(size: int, k: int, s: int, d: int, before: int, after: int) -> int:
    """The transposed output: positions the inputs' taps reach (i*s + t*d), less the crops."""
    full = max(i * s + t * d for i in range(size) for t in range(k)) + 1
    return full - before - after


axis = st.tuples(
    st.integers(1, 12), st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), st.integers(0, 3)
)


@given(st.lists(axis, min_size=1, max_size=3))
def test_outputs_count_what_brute_force_counts(axes: list[tuple[int, int, int, int, int]]) -> None:
    sizes = tuple(a[0] for a in axes)
    kernels, strides, dilations = (tuple(a[n] for a in axes) for n in (1, 2, 3))
    pads = tuple((a[4], a[4]) for a in axes)
    conv = Layer("conv", kernels, strides, dilations, pads, (0,) * len(axes))
    transposed = conv.twin()
    expected_conv = tuple(_windows(i, k, s, d, p, p) for i, k, s, d, p in axes)
    expected_transposed = tuple(_scattered(i, k, s, d, p, p) for i, k, s, d, p in axes)
    if min(expected_conv) >= 1:
        assert conv.outputs(sizes) == expected_conv
    assert transposed.outputs(sizes) == expected_transposed
    # the direct form (zeros inserted, re-padded, stride 1) gives the transposed output again
    assert tuple(a.output for a in transposed.direct_form(sizes)) == expected_transposed


@given(st.lists(axis, min_size=1, max_size=3), st.integers(0, 2))
def test_twin_of_twin_is_the_layer_without_output_padding(
    axes: list[tuple[int, int, int, int, int]], extra: int
) -> None:
    strides = tuple(a[2] for a in axes)
    ops = tuple(min(extra, s - 1) for s in strides)
    assume(all(a[0] + a[1] - 1 > 2 * a[4] for a in axes))  # a non-empty transposed output
    layer = Layer.of(
        transposed_layer(
            tuple(a[0] for a in axes),
            tuple(a[1] for a in axes),
            stride=strides,
            padding=tuple(a[4] for a in axes),
            output_padding=ops,
        ),
        ops,
        in_channels=4,
        out_channels=6,
    )
    assert layer.twin().twin() == layer._replace(placement=layer.padding, output_padding=(0,) * layer.ndim)
    assert layer.twin().in_channels == 6 and layer.twin().kind == "conv"


def test_words_and_sizes_of_pytorchs_documented_example() -> None:
    # PyTorch's ConvTranspose2d docs: Conv2d(16, 33, 3, stride=2, padding=1) maps 12x12 to 6x6, and the
    # transposed layer with output_size=(12, 12) (output_padding 1) gives 12x12 back.
    conv = Layer.of(conv_layer((12, 12), 3, stride=2, padding=1), in_channels=16, out_channels=33)
    assert conv.outputs((12, 12)) == (6, 6)
    assert conv.words() == "k3 s2 p1"
    back = conv.twin()._replace(placement=((1, 0), (1, 0)), output_padding=(1, 1))
    assert back.outputs((6, 6)) == (12, 12)
    assert back.words() == "k3 s2 p1 op1"
    assert Layer("conv", (3, 4), (1, 2), (2, 1), ((1, 2), (0, 0)), (0, 0)).words() == "k3x4 s1x2 p1:2x0 d2x1"


def test_the_reader_gives_one_layer_in_both_dialects() -> None:
    dialect = read_layer(LayerOptions("31", "4", "2", "1", "1", transposed=True)).layer
    framework = read_layer(LayerOptions("31", "4", "2", "1", "1", transposed=True, framework="pytorch")).layer
    assert dialect == framework == Layer("transposed", (4,), (2,), (1,), ((1, 0),), (1,))
    same = read_layer(LayerOptions("64", "3", "2", "same")).layer
    assert same.placement == ((0, 1),)  # TensorFlow's 'same': the odd pad at the end


def test_a_framework_layer_and_its_layer_agree() -> None:
    keras = read("keras", 16, 3, stride=2, padding="same", transposed=True)
    assert keras.layer.outputs((16,)) == keras.output == (32,)
    assert keras.layer.placement == keras.placement
    assert keras.layer.output_padding == (0,)  # Keras's own output_padding is not PyTorch's


def test_solve_answers_carry_their_layer() -> None:
    report = solve((32,), (64,))
    assert report.answers
    for answer in report.answers:
        assert answer.layer.outputs((32,)) == (64,)
        assert answer.layer.padding == answer.padding


@pytest.mark.parametrize("transposed", [False, True])
def test_layer_outputs_match_pytorch(transposed: bool) -> None:
    torch = pytest.importorskip("torch")
    for size, k, s, d, p in [(9, 3, 2, 1, 1), (10, 4, 3, 2, 0), (7, 2, 2, 1, 1), (5, 5, 1, 2, 4)]:
        if transposed:
            op = s - 1
            layer = Layer.of(
                transposed_layer(size, k, stride=s, padding=p, output_padding=op, dilation=d), (op,)
            )
            module = torch.nn.ConvTranspose1d(1, 1, k, s, p, output_padding=op, dilation=d)
        else:
            layer = Layer.of(conv_layer(size, k, stride=s, padding=p, dilation=d))
            module = torch.nn.Conv1d(1, 1, k, s, p, dilation=d)
        got = module(torch.zeros(1, 1, size)).shape[2:]
        assert layer.outputs((size,)) == tuple(got), layer.words()


@pytest.mark.parametrize("route", ["fast", "scatter", "direct", "matrix"])
def test_engine_runs_a_layer_as_pytorch_does(route: str) -> None:
    torch = pytest.importorskip("torch")
    from convcalc import engine

    pairs = transposed_layer(
        (5, 4), (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2)
    )
    layer = Layer.of(pairs, (1, 2), groups=2)
    x, w, b = engine.random_tensors(3, (2, 4, 5, 4), (4, 3, 3, 2), (6,))
    got = engine.run_layer(layer, x, w, bias=b, route=route)
    module = torch.nn.functional.conv_transpose2d
    expected = module(
        torch.from_numpy(x),
        torch.from_numpy(w),
        torch.from_numpy(b),
        stride=(2, 3),
        padding=(1, 0),
        output_padding=(1, 2),
        groups=2,
        dilation=(1, 2),
    ).numpy()
    assert got.shape == expected.shape and abs(got - expected).max() < 1e-9


def test_engine_runs_a_convolution_with_negative_pads_as_a_crop() -> None:
    from convcalc import engine

    x, w = engine.random_tensors(0, (1, 1, 7), (1, 1, 3))
    # pads (-2, 1): drop two inputs at the start, one zero at the end; then a plain convolution
    got = engine.run_layer(Layer("conv", (3,), (1,), (1,), ((-2, 1),), (0,)), x, w)
    expected = engine.conv(x[..., 2:], w, padding=((0, 1),))
    assert got.shape == (1, 1, 4) and (got == expected).all()
    with pytest.raises(
        ConvCalcError, match="route must be one of fast, scatter, direct, matrix; got 'im2col'"
    ):
        engine.run_layer(
            layer_t := Layer("transposed", (3,), (1,), (1,), ((0, 0),), (0,)), x, w, route="im2col"
        )
    assert layer_t.outputs((7,)) == (9,)


def test_chain_steps_and_inspect_specs_carry_the_layer() -> None:
    from convcalc.chain.parse import parse_chain
    from convcalc.chain.stack import run
    from convcalc.graph.model import ConvSpec

    steps = run(parse_chain("conv k3 s2 p1 | maxpool k2 | tconv k4 s2 p1 op1 d2"), (17,))
    conv, pool, tconv = (step.canonical for step in steps)
    assert pool is None
    assert conv == Layer("conv", (3,), (2,), (1,), ((1, 1),), (0,))
    assert tconv is not None and tconv.words() == "k4 s2 p1 op1 d2"
    # each step's layer gives the size the chain reports for it
    assert conv.outputs((17,)) == steps[0].output and tconv.outputs(steps[2].size) == steps[2].output
    onnx = ConvSpec("onnx", (3, 3), (2, 2), (1, 1), "same_upper", in_channels=8, out_channels=4, groups=2)
    layer = onnx.layer((9, 10), transposed=False)
    assert layer.placement == ((1, 1), (0, 1)) and layer.outputs((9, 10)) == (5, 5)
    assert (layer.groups, layer.in_channels, layer.out_channels) == (2, 8, 4)


def test_overlap_suggestions_are_layers_of_the_same_size() -> None:
    from convcalc.overlap import suggest

    axes = transposed_layer((3, 3), 4, stride=3)  # the checkerboard of README's explain example
    suggestions = suggest(axes)
    assert suggestions
    for suggestion in suggestions:
        size = suggestion.resize_to if suggestion.kind == "resize" else (3, 3)
        assert suggestion.layer.outputs(size) == suggestion.output == (10, 10)
    assert suggestions[0].layer.words() == "k6 s3 p1 op0"  # README: "instead: k6 s3 p1 op0"
