"""Properties that must hold for every valid configuration (Hypothesis)."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from convcalc import ConvCalcError, conv_output_size, conv_transpose_output_size, shape_report

small = st.integers(min_value=1, max_value=9)
sizes = st.integers(min_value=1, max_value=64)
pads = st.integers(min_value=0, max_value=6)


@st.composite
def conv_configs(draw: st.DrawFn) -> dict[str, object]:
    return {
        "size": (draw(sizes),),
        "kernel_size": draw(small),
        "stride": draw(st.integers(1, 5)),
        "dilation": draw(st.integers(1, 3)),
        "padding": [(draw(pads), draw(pads))],
    }


def _valid(config: dict[str, object]) -> bool:
    try:
        conv_output_size(**config)  # type: ignore[arg-type]
    except ConvCalcError:
        return False
    return True


@given(conv_configs())
def test_round_trip_with_output_padding_r_restores_the_input(config: dict[str, object]) -> None:
    assume(_valid(config))
    (rev,) = shape_report(**config).reversal  # type: ignore[arg-type]
    (out,) = conv_output_size(**config)  # type: ignore[arg-type,misc]
    back = conv_transpose_output_size(
        out,
        config["kernel_size"],  # type: ignore[arg-type]
        stride=config["stride"],  # type: ignore[arg-type]
        dilation=config["dilation"],  # type: ignore[arg-type]
        padding=config["padding"],  # type: ignore[arg-type]
        output_padding=rev.remainder,
    )
    assert back == config["size"][0]  # type: ignore[index]
    assert rev.remainder < config["stride"]  # type: ignore[operator]


@given(conv_configs())
def test_reversible_exactly_when_w_is_base_plus_a_multiple_of_s(config: dict[str, object]) -> None:
    assume(_valid(config))
    (rev,) = shape_report(**config).reversal  # type: ignore[arg-type]
    (w,), s = config["size"], config["stride"]  # type: ignore[misc]
    d, k = config["dilation"], config["kernel_size"]
    ((pb, pa),) = config["padding"]  # type: ignore[misc]
    base = d * (k - 1) + 1 - pb - pa  # type: ignore[operator]
    assert rev.reversible == any(w == base + s * q for q in range(0, 80))  # type: ignore[operator]


@given(conv_configs())
def test_colliding_sizes_are_exactly_those_with_the_same_output(config: dict[str, object]) -> None:
    assume(_valid(config))
    (rev,) = shape_report(**config).reversal  # type: ignore[arg-type]
    others = {k: v for k, v in config.items() if k != "size"}
    brute = []
    for w in range(1, rev.colliding_last + 3):
        try:
            if conv_output_size((w,), **others) == (rev.output,):  # type: ignore[arg-type]
                brute.append(w)
        except ConvCalcError:
            continue
    assert brute == list(range(rev.colliding_first, rev.colliding_last + 1))


@given(
    size=sizes,
    kernel=small,
    stride=st.integers(1, 5),
    dilation=st.integers(1, 3),
    padding=st.tuples(pads, pads),
    data=st.data(),
)
def test_direct_form_has_the_transposed_size_and_numbers(
    size: int, kernel: int, stride: int, dilation: int, padding: tuple[int, int], data: st.DataObject
) -> None:
    op = data.draw(st.integers(0, max(stride, dilation) - 1))
    try:
        report = shape_report(
            size,
            kernel,
            stride=stride,
            dilation=dilation,
            padding=[padding],
            output_padding=op,
            transposed=True,
        )
    except ConvCalcError:
        return
    (t,), (direct,) = report.transposed, report.direct
    k_ext = dilation * (kernel - 1) + 1
    assert direct.output == t.output
    assert direct.stretched == (size - 1) * stride + 1
    assert direct.pad_before == k_ext - 1 - padding[0]
    assert direct.pad_after == k_ext - 1 - padding[1] + op
    # a stride-1 convolution of the re-padded stretched input has the same size
    assert conv_output_size(
        direct.stretched,
        kernel,
        dilation=dilation,
        padding=[(max(direct.pad_before, 0), max(direct.pad_after, 0))],
    ) == t.output - min(direct.pad_before, 0) - min(direct.pad_after, 0)
    # the convolution twin undoes the transposed size whenever output_padding < stride
    (c,) = report.conv
    if op < stride:
        assert c.output == size


@given(conv_configs())
def test_transposed_twin_returns_w_minus_r(config: dict[str, object]) -> None:
    assume(_valid(config))
    report = shape_report(**config)  # type: ignore[arg-type]
    (t,), (rev,) = report.transposed, report.reversal
    assert t.output == rev.restored == config["size"][0] - rev.remainder  # type: ignore[index]
