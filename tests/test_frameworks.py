"""Framework conventions against the reference catalog's oracle vectors (observed by running each framework).

Numbers in comments refer to the oracle table (section 12) and the disagreement tables (section 10) of
shared/reference/framework-semantics.md; every expected value here was observed in the real framework.
"""

from __future__ import annotations

import pytest

from convcalc.conventions import CONVENTIONS, convention, read
from convcalc.errors import ConvCalcError


def out(framework: str, size: object, kernel: object, **kw: object) -> tuple[int, ...]:
    return read(framework, size, kernel, **kw).output


def crops(framework: str, size: object, kernel: object, **kw: object) -> tuple[tuple[int, int], ...]:
    return read(framework, size, kernel, transposed=True, **kw).placement


# --- PyTorch -------------------------------------------------------------------------------------


def test_oracle_1_pytorch_transposed_padding_and_output_padding() -> None:
    assert out("pytorch", 5, 3, stride=2, padding=1, output_padding=1, transposed=True) == (10,)
    assert out("pytorch", 5, 3, stride=2, padding=1, output_padding=0, transposed=True) == (9,)
    assert out("pytorch", 5, 3, stride=2, padding=0, transposed=True) == (11,)
    # p=1, op=1: crop 1 at the start only (the odd crop lands at the start in PyTorch).
    assert crops("pytorch", 5, 3, stride=2, padding=1, output_padding=1) == ((1, 0),)


def test_oracle_2_pytorch_output_padding_below_dilation_is_accepted() -> None:
    assert out("pytorch", 5, 3, stride=1, dilation=2, output_padding=1, transposed=True) == (10,)


def test_oracle_3_pytorch_output_size_range_uses_stride_only() -> None:
    assert out("pytorch", 5, 3, stride=2, dilation=3, output_padding=2, transposed=True) == (17,)
    with pytest.raises(ConvCalcError, match=r"valid sizes range from \[15\] to \[16\]"):
        read("pytorch", 5, 3, stride=2, dilation=3, output_size=17, transposed=True)


@pytest.mark.parametrize(("size", "expected"), [(8, None), (9, 9), (10, 10), (11, None)])
def test_oracle_4_pytorch_output_size(size: int, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(
            ConvCalcError, match=r"requested an output size of .*valid sizes range from \[9\]"
        ):
            read("pytorch", 5, 3, stride=2, padding=1, output_size=size, transposed=True)
    else:
        assert out("pytorch", 5, 3, stride=2, padding=1, output_size=size, transposed=True) == (expected,)


@pytest.mark.parametrize("stride", [1, 2])
def test_oracle_5_pytorch_conv_kernel_larger_than_input(stride: int) -> None:
    with pytest.raises(ConvCalcError, match="Kernel size can't be greater than actual input size") as info:
        read("pytorch", 2, 3, stride=stride)
    assert info.value.parameter == "size"


def test_oracle_6_pytorch_same_puts_the_odd_pad_at_the_end() -> None:
    assert read("pytorch", 6, 4, padding="same").placement == ((1, 2),)


def test_oracle_7_pytorch_transposed_output_zero_is_too_small() -> None:
    with pytest.raises(ConvCalcError, match=r"Output size is too small.*\(0\)"):
        read("pytorch", 1, 1, stride=2, padding=1, output_padding=1, transposed=True)


def test_pytorch_refuses_same_with_stride_and_string_padding_for_transposed() -> None:
    # Section 10-H and 2.2.
    with pytest.raises(ConvCalcError, match="not supported for strided convolutions"):
        read("pytorch", 8, 3, stride=2, padding="same")
    with pytest.raises(ConvCalcError, match=r"takes no padding words or explicit integers; got 'same'"):
        read("pytorch", 8, 3, padding="same", transposed=True)
    with pytest.raises(ConvCalcError, match="output padding must be smaller than either stride or dilation"):
        read("pytorch", 5, 3, stride=2, output_padding=2, transposed=True)


# --- Keras ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "padding", "op", "expected"),
    [
        (3, "same", None, 10),  # oracle 8
        (3, "same", 0, 9),
        (3, "same", 1, 10),
        (4, "same", None, 10),  # oracle 9
        (4, "same", 0, 8),
        (4, "same", 1, 9),
        (1, "valid", None, 10),  # oracle 10
        (1, "valid", 0, 9),
        (1, "valid", 1, 10),
    ],
)
def test_oracles_8_to_10_keras_transposed(kernel: int, padding: str, op: int | None, expected: int) -> None:
    assert out("keras", 5, kernel, stride=2, padding=padding, output_padding=op, transposed=True) == (
        expected,
    )


def test_keras_placement_matches_tensorflow_same() -> None:
    # Section 4.2: k3 s2 same gives crop (0, 1); same op0 gives (1, 1); k4 s2 same gives (1, 1).
    assert crops("keras", 5, 3, stride=2, padding="same") == ((0, 1),)
    assert crops("keras", 5, 3, stride=2, padding="same", output_padding=0) == ((1, 1),)
    assert crops("keras", 5, 4, stride=2, padding="same") == ((1, 1),)


def test_oracle_11_keras_conv_output_zero_or_negative() -> None:
    with pytest.raises(ConvCalcError, match="Computed output size would be zero or negative"):
        read("keras", 3, 5, padding="valid")


def test_keras_rules() -> None:
    with pytest.raises(ConvCalcError, match=r"must be strictly less than `strides`"):
        read("keras", 5, 3, stride=2, padding="same", output_padding=2, transposed=True)
    with pytest.raises(
        ConvCalcError, match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`"
    ):
        read("keras", 5, 3, stride=2, dilation=2, padding="valid")
    with pytest.raises(ConvCalcError, match=r"causal.*Conv1D only"):
        read("keras", (5, 5), 3, padding="causal")
    with pytest.raises(ConvCalcError, match="ZeroPadding"):
        read("keras", 5, 3, padding=1)
    # Causal left-pads d*(k-1): k3 d2 on 5 gives 5 (section 4.1).
    assert read("keras", 5, 3, dilation=2, padding="causal").placement == ((4, 0),)
    assert out("keras", 5, 3, dilation=2, padding="causal") == (5,)


# --- TensorFlow ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("padding", "accepted"), [("same", {9, 10}), ("valid", {11, 12})])
def test_oracle_12_tensorflow_output_shape_range(padding: str, accepted: set[int]) -> None:
    for size in range(8, 15):
        if size in accepted:
            assert out("tensorflow", 5, 3, stride=2, padding=padding, output_size=size, transposed=True) == (
                size,
            )
        else:
            with pytest.raises(ConvCalcError, match="maps back to the input size 5"):
                read("tensorflow", 5, 3, stride=2, padding=padding, output_size=size, transposed=True)


def test_tensorflow_same_placement() -> None:
    # Section 3.2: O=10 gives crop (0, 1); O=9 gives (1, 1); explicit (1, 0) accepts 10 with crop (1, 0).
    assert crops("tensorflow", 5, 3, stride=2, padding="same", output_size=10) == ((0, 1),)
    assert crops("tensorflow", 5, 3, stride=2, padding="same", output_size=9) == ((1, 1),)
    # Explicit pairs exist in the 2-D op (conv2d_transpose) only.
    assert crops("tensorflow", (5, 5), 3, stride=2, padding=((1, 0), (1, 0)), output_size=(10, 10)) == (
        (1, 0),
        (1, 0),
    )
    assert out("tensorflow", (5, 5), 3, stride=2, padding=1, output_size=(9, 9), transposed=True) == (9, 9)


def test_oracle_13_tensorflow_conv_too_small() -> None:
    with pytest.raises(ConvCalcError, match=r"Eigen kernels \(float64\) return an empty output"):
        read("tensorflow", (2, 2), 3, stride=2, padding="valid")
    with pytest.raises(ConvCalcError, match=r"Computed output size would be negative: -1 \[input_size: 1"):
        read("tensorflow", (1, 1), 3, padding="valid")


def test_tensorflow_conv_same_and_explicit() -> None:
    assert read("tensorflow", 6, 4, padding="same").placement == ((1, 2),)
    assert out("tensorflow", 6, 2, dilation=2, padding="same") == (6,)
    # Section 3.1: pads (0, 2) / (1, 1) with k3 s2 on 6 give 3.
    assert out("tensorflow", (6, 6), 3, stride=2, padding=((0, 2), (1, 1))) == (3, 3)


# --- JAX and Flax --------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("framework", ["jax", "flax"])
def test_oracle_14_jax_same_is_always_i_times_s(framework: str, kernel: int, stride: int) -> None:
    assert out(framework, 5, kernel, stride=stride, padding="same", transposed=True) == (5 * stride,)


@pytest.mark.parametrize(("kernel", "stride", "expected"), [(3, 2, 11), (1, 2, 10), (4, 3, 16)])
def test_oracle_15_jax_valid(kernel: int, stride: int, expected: int) -> None:
    assert out("jax", 5, kernel, stride=stride, padding="valid", transposed=True) == (expected,)


def test_jax_explicit_pairs_pad_the_stretched_input() -> None:
    # Section 6.2: i=5, k=3, s=2, pads (1, 2) give 10 and (-1, 0) give 6; flax padding=1 gives 9.
    assert out("jax", 5, 3, stride=2, padding=((1, 2),), transposed=True) == (10,)
    assert out("jax", 5, 3, stride=2, padding=((-1, 0),), transposed=True) == (6,)
    assert out("flax", 5, 3, stride=2, padding=1, transposed=True) == (9,)
    assert out("flax", 8, 3, padding="valid", transposed=True) == (10,)


def test_oracle_16_jax_conv_empty_output_is_described() -> None:
    with pytest.raises(ConvCalcError, match="JAX returns an empty output without an error"):
        read("jax", 2, 3, padding="valid")
    with pytest.raises(ConvCalcError, match="Negative padding is larger than the size"):
        read("jax", 2, 1, padding=((-3, 0),))


def test_jax_conv_same_lower_and_flax_causal() -> None:
    assert read("jax", 6, 4, padding="same").placement == ((1, 2),)
    assert read("jax", 6, 4, padding="same_lower").placement == ((2, 1),)
    assert read("flax", 5, 3, dilation=2, padding="causal").placement == ((4, 0),)
    with pytest.raises(ConvCalcError, match="zero padding only"):
        read("flax", 5, 3, padding="circular")


# --- ONNX ----------------------------------------------------------------------------------------


def test_oracle_17_onnx_same_upper_and_lower() -> None:
    assert crops("onnx", 5, 3, stride=2, padding="same_upper") == ((0, 1),)
    assert crops("onnx", 5, 3, stride=2, padding="same_lower") == ((1, 0),)


def test_oracle_18_onnx_same_upper_with_output_padding_runtime_vs_inference() -> None:
    layer = read("onnx", 5, 3, stride=2, padding="same_upper", output_padding=1, transposed=True)
    assert layer.output == (10,)
    assert any("shape inference declares 11" in note for note in layer.notes)


def test_oracle_19_onnx_same_upper_with_kernel_below_stride() -> None:
    layer = read("onnx", 5, 1, stride=2, padding="same_upper", transposed=True)
    assert layer.output == (9,)
    assert any("reference evaluator aims at i*s = 10" in note for note in layer.notes)


def test_oracle_20_onnx_output_padding_must_be_below_stride() -> None:
    with pytest.raises(ConvCalcError, match="output_padding must be less than the stride"):
        read("onnx", 5, 3, stride=2, output_padding=2, transposed=True)


def test_oracle_21_onnx_conv_too_small() -> None:
    with pytest.raises(ConvCalcError, match="Invalid input shape"):
        read("onnx", 2, 3, stride=2)


@pytest.mark.parametrize(("size", "expected"), [(10, (1, 0)), (7, (2, 2)), (3, (4, 4)), (12, (0, -1))])
def test_onnx_output_shape_with_notset(size: int, expected: tuple[int, int]) -> None:
    # Section 5.2, ORT 1.31.1 runs: O=10 (1, 0), 7 (2, 2), 3 (4, 4), 12 zero-extended at the end.
    assert crops("onnx", 5, 3, stride=2, output_size=size) == (expected,)


def test_onnx_output_shape_too_big() -> None:
    with pytest.raises(ConvCalcError, match="output_shape is inconsistent"):
        read("onnx", 5, 3, stride=2, output_size=13, transposed=True)


def test_onnx_conv_same_lower() -> None:
    assert read("onnx", 6, 4, padding="same_upper").placement == ((1, 2),)
    assert read("onnx", 6, 4, padding="same_lower").placement == ((2, 1),)


# --- Paddle --------------------------------------------------------------------------------------


def test_oracle_22_paddle_transposed_same_is_not_i_times_s() -> None:
    assert out("paddle", 5, 3, stride=2, padding="same", transposed=True) == (9,)
    assert out("paddle", 4, 3, stride=2, padding="same", transposed=True) == (8,)
    assert out("paddle", 5, 3, stride=1, dilation=2, padding="same", transposed=True) == (5,)


def test_oracle_23_paddle_same_ignores_dilation() -> None:
    layer = read("paddle", 6, 3, dilation=2, padding="same")
    assert layer.conv[0].dilation == 1
    assert layer.placement == ((1, 1),)
    assert any("ignores dilation" in note for note in layer.notes)


@pytest.mark.parametrize(("size", "expected"), [(8, None), (9, 9), (10, 10), (11, None)])
def test_oracle_24_paddle_output_size(size: int, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(ConvCalcError, match="output_size should"):
            read("paddle", 5, 3, stride=2, padding=1, output_size=size, transposed=True)
    else:
        assert out("paddle", 5, 3, stride=2, padding=1, output_size=size, transposed=True) == (expected,)
    if expected == 10:
        assert crops("paddle", 5, 3, stride=2, padding=1, output_size=10) == ((1, 0),)


def test_paddle_rules() -> None:
    with pytest.raises(ConvCalcError, match="mutually exclusive"):
        read("paddle", 5, 3, stride=2, output_padding=1, output_size=10, transposed=True)
    # Section 10-C: i=5, k=3, s=1, d=2, op=1 fails in Paddle's kernel.
    with pytest.raises(ConvCalcError, match="smaller than the stride"):
        read("paddle", 5, 3, dilation=2, output_padding=1, transposed=True)


# --- MXNet ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "expected"), [(10, (1, 0)), (9, (1, 1)), (7, (2, 2)), (3, (4, 4))])
def test_oracle_25_mxnet_target_shape(target: int, expected: tuple[int, int]) -> None:
    assert crops("mxnet", 5, 3, stride=2, output_size=target) == (expected,)


def test_oracle_25_26_mxnet_target_shape_refusals() -> None:
    with pytest.raises(ConvCalcError, match="too big target shape"):
        read("mxnet", 5, 3, stride=2, output_size=12, transposed=True)
    with pytest.raises(ConvCalcError, match="adj must be smaller than stride"):
        read("mxnet", 5, 3, stride=1, output_size=6, transposed=True)


# --- Section 10: the same configuration across frameworks ----------------------------------------


def test_section_10a_transposed_same_size() -> None:
    for framework, padding in [
        ("tensorflow", "same"),
        ("keras", "same"),
        ("jax", "same"),
        ("flax", "same"),
        ("onnx", "same_upper"),
    ]:
        assert out(framework, 5, 3, stride=2, padding=padding, transposed=True) == (10,), framework
    assert out("paddle", 5, 3, stride=2, padding="same", transposed=True) == (9,)


def test_section_10b_placement_for_output_10() -> None:
    end = [("tensorflow", {"padding": "same"}), ("keras", {"padding": "same"}), ("jax", {"padding": "same"})]
    end.append(("onnx", {"padding": "same_upper"}))
    start = [
        ("pytorch", {"padding": 1, "output_padding": 1}),
        ("pytorch", {"padding": 1, "output_size": 10}),
        ("onnx", {"padding": "same_lower"}),
        ("onnx", {"output_size": 10}),
        ("mxnet", {"output_size": 10}),
        ("paddle", {"padding": 1, "output_size": 10}),
    ]
    for framework, kw in end:
        assert crops(framework, 5, 3, stride=2, **kw) == ((0, 1),), framework
    for framework, kw in start:
        assert crops(framework, 5, 3, stride=2, **kw) == ((1, 0),), framework


def test_section_10c_output_padding_below_dilation_only_in_pytorch() -> None:
    kw = {"stride": 1, "dilation": 2, "output_padding": 1, "transposed": True}
    assert out("pytorch", 5, 3, **kw) == (10,)
    for framework in ("onnx", "paddle", "mxnet"):
        with pytest.raises(ConvCalcError, match=r"output_padding|adj"):
            read(framework, 5, 3, **kw)
    with pytest.raises(ConvCalcError, match="strictly less than `strides`"):
        read("keras", 5, 3, padding="valid", **kw)


def test_section_10d_valid_with_kernel_below_stride() -> None:
    assert out("jax", 5, 1, stride=2, padding="valid", transposed=True) == (10,)
    assert out("keras", 5, 1, stride=2, padding="valid", transposed=True) == (10,)
    for framework, padding in [("pytorch", 0), ("onnx", "valid"), ("paddle", "valid")]:
        assert out(framework, 5, 1, stride=2, padding=padding, transposed=True) == (9,), framework


# --- Names and argument checks -------------------------------------------------------------------


def test_conventions_and_aliases() -> None:
    assert set(CONVENTIONS) >= {"pytorch", "tensorflow", "keras", "onnx", "jax", "flax", "paddle", "mxnet"}
    assert convention("TF").name == "tensorflow"
    assert convention("torch").name == "pytorch"
    with pytest.raises(ConvCalcError, match=r"framework must be one of pytorch, .*; got 'caffe2'"):
        convention("caffe2")


def test_framework_words_are_checked_per_framework() -> None:
    with pytest.raises(ConvCalcError, match=r"ONNX: padding for a convolution takes 'notset', .*got 'same'"):
        read("onnx", 5, 3, padding="same")
    with pytest.raises(ConvCalcError, match=r"MXNet: padding .* takes no padding words"):
        read("mxnet", 5, 3, padding="valid")
    with pytest.raises(ConvCalcError, match="output_padding only applies to a transposed convolution"):
        read("pytorch", 5, 3, output_padding=1)
    with pytest.raises(ConvCalcError, match="padding must be >= 0 on every axis"):
        read("tensorflow", 5, 3, padding=((-1, 0),))
    with pytest.raises(ConvCalcError, match="stride must be >= 1 on every axis; got \\(0,\\)"):
        read("jax", 5, 3, stride=0)


# --- Equinox and Caffe ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "padding", "op", "expected"),
    [
        (3, "same", 0, 10),  # oracle 27
        (3, "same", 1, 9),  # output_padding shrinks a 'SAME' output in Equinox
        (1, "same", 0, 10),
        (1, "same", 1, 9),
        (3, 1, 1, 10),  # integer padding as in PyTorch (section 6.4)
        (3, 0, 1, 12),
    ],
)
def test_oracle_27_equinox_transposed(kernel: int, padding: object, op: int, expected: int) -> None:
    assert out("equinox", 5, kernel, stride=2, padding=padding, output_padding=op, transposed=True) == (
        expected,
    )


def test_equinox_rules_and_layout() -> None:
    # Section 10-C: s=1, d=2, op=1 is refused (stride only).
    with pytest.raises(ConvCalcError, match=r"Must have `output_padding < stride` \(elementwise\)"):
        read("equinox", 5, 3, dilation=2, output_padding=1, transposed=True)
    layout = convention("equinox").layout(read("equinox", 5, 3, transposed=True).args)
    assert layout.axes == ("O", "I/g", "S") and layout.flipped


def test_oracle_28_caffe_deconvolution_has_no_way_to_reach_10() -> None:
    assert out("caffe", 5, 3, stride=2, padding=1, transposed=True) == (9,)
    with pytest.raises(ConvCalcError, match="Crop layer"):
        read("caffe", 5, 3, stride=2, padding=1, output_padding=1, transposed=True)
