"""The arithmetic core against hand-worked values from public references.

Witnesses: the convolution-arithmetic guide (Dumoulin & Visin, arXiv:1603.07285) relationships and figures,
PyTorch's documented examples, the seeds' worked examples, and the framework catalog's oracle vectors.
"""

from __future__ import annotations

import pytest

from convcalc import ConvCalcError, conv_output_size, conv_transpose_output_size, shape_report
from convcalc.core import same_padding


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (4, 3, 1, 0, 2),  # guide relationship 1, figure 2.1: 4x4 input, 3x3 kernel -> 2x2
        (5, 4, 1, 2, 6),  # guide relationship 2, figure 2.2: 5x5, k4, p2 -> 6x6
        (5, 3, 1, 1, 5),  # guide relationship 3, half padding keeps the size
        (5, 3, 1, 2, 7),  # guide relationship 4, full padding: i + k - 1
        (5, 3, 2, 0, 2),  # guide relationship 5, figure 2.5
        (5, 3, 2, 1, 3),  # guide relationship 6, figure 2.6
        (6, 3, 2, 1, 3),  # guide figure 2.7: a 6x6 input also gives 3x3
        (12, 3, 2, 1, 6),  # PyTorch ConvTranspose2d doc example: Conv2d(k3, s2, p1) maps 12 to 6
        (7, 3, 1, 0, 5),  # lecture notes: conv1d of a length-7 signal with a 3-tap kernel gives 5 values
        (3, 3, 2, 0, 1),  # framework catalog: PyTorch's smallest output, i=3 k=3 s=2
    ],
)
def test_conv_output_size_matches_references(
    size: int, kernel: int, stride: int, padding: int, expected: int
) -> None:
    assert conv_output_size(size, kernel, stride=stride, padding=padding) == expected


def test_conv_dilation_uses_the_dilated_kernel() -> None:
    # guide relationship 15, figure 5.1: i=7, k=3, d=2, s=1, p=0 -> o = 3
    assert conv_output_size(7, 3, dilation=2) == 3


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"size": 5, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}, 10),
        ({"size": 5, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 0}, 9),
        ({"size": 5, "kernel_size": 3, "stride": 2, "padding": 0, "output_padding": 1}, 12),
        ({"size": 5, "kernel_size": 3, "stride": 1, "dilation": 2, "output_padding": 1}, 10),
        ({"size": 5, "kernel_size": 3, "stride": 2, "dilation": 3, "output_padding": 2}, 17),
        ({"size": 6, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}, 12),
        ({"size": 2, "kernel_size": 3}, 4),  # guide relationship 8: o' = i' + (k - 1)
        ({"size": 2, "kernel_size": 2}, 3),  # d2l seed: 2x2 input, 2x2 kernel -> 3x3
        ({"size": 2, "kernel_size": 2, "padding": 1}, 1),  # d2l seed, padding=1 -> 1x1
        ({"size": 2, "kernel_size": 2, "stride": 2}, 4),  # d2l seed, stride=2 -> 4x4
        ({"size": 5, "kernel_size": 3}, 7),  # lecture notes: ConvTranspose1d(k=3) on 5 samples gives 7
        ({"size": 4, "kernel_size": 3, "stride": 2}, 9),  # lecture notes: s(W-1)+w = 2*3+3
    ],
)
def test_conv_transpose_output_size_matches_references(kwargs: dict[str, int], expected: int) -> None:
    size = kwargs.pop("size")
    kernel = kwargs.pop("kernel_size")
    assert conv_transpose_output_size(size, kernel, **kwargs) == expected


def test_per_axis_values_and_tuple_results() -> None:
    assert conv_output_size((32, 31), (4, 3), stride=(2, 1), padding=((1, 1), (0, 2))) == (16, 31)
    assert conv_transpose_output_size([16, 8, 4], 4, stride=2, padding=1) == (32, 16, 8)
    assert conv_output_size(9, 3, padding=[(2, 0)]) == 9  # an int size answers an int
    assert conv_output_size([9], 3, padding=[(2, 0)]) == (9,)


def test_same_padding_follows_tensorflow() -> None:
    # framework catalog: k=4 one-hot on 6 samples shows pads (1, 2), extra at the end; o = ceil(i/s)
    assert same_padding(6, 4, 1) == (1, 2)
    assert conv_output_size(6, 4, padding="same") == 6
    assert conv_output_size(7, 3, stride=2, padding="same") == 4
    assert conv_output_size(10, 3, stride=3, padding="SAME") == 4
    # dilation counts in the kernel extent (catalog: k2 d2 SAME on 6 gives 6)
    assert conv_output_size(6, 2, dilation=2, padding="same") == 6


def test_valid_and_full_modes() -> None:
    assert conv_output_size(5, 3, padding="valid") == 3
    assert conv_output_size(5, 3, padding="full") == 7
    assert conv_output_size(5, 3, dilation=2, padding="full") == 9


def test_direct_form_numbers_follow_the_guide() -> None:
    # guide section 4: the transpose of (i=4, k=3, s=1, p=0) is a conv with p' = k - 1 = 2 on i' = 2
    report = shape_report(2, 3, transposed=True)
    (direct,) = report.direct
    assert (direct.zeros_inserted, direct.stretched, direct.pad_before, direct.pad_after) == (0, 2, 2, 2)
    assert direct.output == 4
    # guide relationship 12 / figure 4.6: i=5, k=3, s=2, p=1 -> transposed of a 3x3 output: i~'=5, p'=1
    (direct,) = shape_report(5, 3, stride=2, padding=1).direct
    assert (direct.zeros_inserted, direct.stretched, direct.pad_before, direct.pad_after) == (1, 5, 1, 1)
    assert direct.output == 5


def test_direct_form_crops_when_padding_exceeds_the_kernel() -> None:
    # PyTorch accepts padding > K - 1 for a transposed conv; the direct form must crop, not fail.
    (direct,) = shape_report(6, 3, stride=1, padding=3, transposed=True).direct
    assert direct.pad_before == -1 and direct.pad_after == -1
    assert direct.output == conv_transpose_output_size(6, 3, padding=3) == 2


def test_reversibility_matches_the_lecture_notes() -> None:
    # lecture notes: conv(w, s) then its transposed twin keep W only if W = w + s*q
    for size in range(3, 20):
        (rev,) = shape_report(size, 3, stride=2).reversal
        assert rev.reversible == ((size - 3) % 2 == 0)
        assert rev.restored == (size if rev.reversible else size - 1)
    # the 63-instead-of-64 question: 63 -> 31 -> 62 without output_padding, 63 with output_padding=1
    (rev,) = shape_report(63, 4, stride=2, padding=1).reversal
    assert (rev.output, rev.remainder, rev.restored, rev.output_padding_to_restore) == (31, 1, 62, 1)
    assert (rev.colliding_first, rev.colliding_last) == (62, 63)
    assert conv_transpose_output_size(31, 4, stride=2, padding=1, output_padding=1) == 63


def test_channels_and_weights_follow_pytorch_layouts() -> None:
    # catalog [run]: Conv2d(4, 6, 3, groups=2).weight is (6, 2, 3, 3)
    conv = shape_report((5, 5), 3, in_channels=4, out_channels=6, groups=2).channels
    assert conv is not None
    assert conv.conv_weight_shape == (6, 2, 3, 3)
    assert conv.parameters == 108 and conv.parameters_with_bias == 114
    # catalog [run]: ConvTranspose2d(4, 6, 3, groups=2).weight is (4, 3, 3, 3)
    tconv = shape_report((5, 5), 3, in_channels=4, out_channels=6, groups=2, transposed=True).channels
    assert tconv is not None
    assert tconv.transposed_weight_shape == (4, 3, 3, 3)
    assert tconv.direct_weight_shape == (6, 2, 3, 3)
    # one product per output position, output channel, input channel of the group and tap: 3x3 * 6*2*9
    assert conv.multiply_accumulates == 9 * 6 * 2 * 9


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: conv_output_size(5, 0), r"kernel_size must be >= 1 on every axis; got \(0,\)"),
        (
            lambda: conv_output_size((5, 5), 3, stride=(2, 0)),
            r"stride must be >= 1 on every axis; got \(2, 0\)",
        ),
        (lambda: conv_output_size(5, 3, dilation=0), r"dilation must be >= 1"),
        (lambda: conv_output_size(0, 3), r"size must be >= 1"),
        (lambda: conv_output_size(5, 3, padding=-1), r"padding must be >= 0 on every axis; got \(-1,\)"),
        (lambda: conv_output_size(5, True), r"kernel_size must be an integer; got True \(bool\)"),
        (
            lambda: conv_output_size(5, 2.5),
            r"kernel_size must be an integer or a sequence of integers; got 2.5 \(float\)",
        ),
        (lambda: conv_output_size("5", 3), r"size must be an integer or a sequence"),
        (lambda: conv_output_size(5, 3, padding="half"), r"padding must be .* got 'half'"),
        (lambda: conv_output_size(5, 3, padding=[(1, 2, 3)]), r"padding pairs must be \(before, after\)"),
        (lambda: conv_output_size((5, 5), (3, 3, 3)), r"size has 2 axes but kernel_size has 3"),
        (lambda: conv_output_size(5, 7), r"the dilated kernel \(7\) is larger than the padded input \(5\)"),
        (
            lambda: conv_output_size(3, 3, dilation=3, padding=1),
            r"dilated kernel \(7\) is larger than the padded input \(5\)",
        ),
        (
            lambda: conv_transpose_output_size(5, 3, stride=2, output_padding=2),
            r"output_padding must be smaller than max\(stride, dilation\)",
        ),
        (lambda: conv_transpose_output_size(5, 3, output_padding=-1), r"output_padding must be >= 0"),
        (
            lambda: conv_transpose_output_size(1, 1, stride=2, padding=1, output_padding=1),
            r"transposed convolution output size would be 0 on axis 0",
        ),
        (
            lambda: conv_transpose_output_size(5, 3, padding="same"),
            r"padding='same' is not defined for a transposed .* \(framework='keras' or",
        ),
        (
            lambda: shape_report(5, 3, in_channels=4, out_channels=6, groups=4),
            r"groups must divide out_channels",
        ),
        (lambda: shape_report(5, 3, in_channels=4), r"out_channels is needed too"),
        (lambda: conv_output_size(tuple([4] * 17), 3), r"size may have at most 16 spatial axes; got 17"),
    ],
)
def test_errors_name_the_parameter_the_rule_and_the_value(call: object, message: str) -> None:
    with pytest.raises(ConvCalcError, match=message):
        call()  # type: ignore[operator]


def test_errors_come_in_a_fixed_order() -> None:
    # a type error wins over an axis-count mismatch, which wins over output_padding's bound
    with pytest.raises(ConvCalcError, match="stride must be an integer"):
        conv_output_size((5, 5, 5), (3, 3), stride=1.5)
    with pytest.raises(ConvCalcError, match="axes"):
        conv_transpose_output_size((5, 5, 5), (3, 3), output_padding=9)
