"""Properties that must hold for every valid configuration (Hypothesis)."""

from __future__ import annotations

import random

from hypothesis import assume, given, settings
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


def windows(size: int, kernel: int, stride: int, dilation: int, before: int, after: int) -> int:
    """How many placements of the dilated kernel fit in the padded input, counted one by one."""
    count = 0
    while count * stride + dilation * (kernel - 1) < size + before + after:
        count += 1
    return count


@given(conv_configs())
def test_reversible_exactly_when_one_less_input_loses_a_window(config: dict[str, object]) -> None:
    """The transposed twin returns the smallest input with the same output: W itself exactly when W - 1
    fits one window fewer (counted by brute force, not by the core's floor formula)."""
    assume(_valid(config))
    (rev,) = shape_report(**config).reversal  # type: ignore[arg-type]
    (w,) = config["size"]  # type: ignore[misc]
    ((pb, pa),) = config["padding"]  # type: ignore[misc]
    geometry = (config["kernel_size"], config["stride"], config["dilation"], pb, pa)
    assert windows(w, *geometry) == rev.output  # type: ignore[arg-type]
    assert rev.reversible == (windows(w - 1, *geometry) < windows(w, *geometry))  # type: ignore[arg-type]


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


def scatter(x: list[int], w: list[int], stride: int, dilation: int) -> list[int]:
    """The transposed convolution's definition: each input adds a scaled kernel at stride s (full output)."""
    full = [0] * ((len(x) - 1) * stride + dilation * (len(w) - 1) + 1)
    for j, value in enumerate(x):
        for t, tap in enumerate(w):
            full[j * stride + t * dilation] += value * tap
    return full


def direct(x: list[int], w: list[int], stride: int, dilation: int, before: int, after: int) -> list[int]:
    """Zeros between the inputs, pad (or, negative, crop) each end, then a stride-1 correlation with the
    flipped kernel."""
    stretched: list[int] = []
    for j, value in enumerate(x):
        stretched += [0] * (stride - 1 if j else 0) + [value]
    # Padding shifts the indices: padded[m] = stretched[m - before], zero outside the stretched input.
    length = len(stretched) + before + after
    padded = [stretched[m - before] if 0 <= m - before < len(stretched) else 0 for m in range(length)]
    span = dilation * (len(w) - 1)
    flipped = w[::-1]
    return [
        sum(padded[m + t * dilation] * tap for t, tap in enumerate(flipped))
        for m in range(len(padded) - span)
    ]


@given(
    size=sizes,
    kernel=small,
    stride=st.integers(1, 5),
    dilation=st.integers(1, 3),
    padding=st.tuples(pads, pads),
    data=st.data(),
)
def test_direct_form_computes_the_transposed_convolution(
    size: int, kernel: int, stride: int, dilation: int, padding: tuple[int, int], data: st.DataObject
) -> None:
    """The direct form's numbers, used as they are, give the values of the transposed convolution's
    definition (brute force in plain Python, on random integers)."""
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
    (t,), (form,) = report.transposed, report.direct
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    x = [rng.randint(-9, 9) for _ in range(size)]
    w = [rng.randint(-9, 9) for _ in range(kernel)]
    # PyTorch's transposed convolution: crop `padding` before; output_padding extends the end (zeros
    # past the full output).
    full = scatter(x, w, stride, dilation)
    expected = [full[m + padding[0]] if m + padding[0] < len(full) else 0 for m in range(t.output)]
    got = direct(x, w, stride, dilation, form.pad_before, form.pad_after)
    assert got == expected
    assert form.output == t.output == len(got)
    assert form.stretched == len(x) + (len(x) - 1) * form.zeros_inserted
    # the convolution twin undoes the transposed size whenever output_padding < stride
    (c,) = report.conv
    if op < stride:
        assert c.output == size


@given(conv_configs())
def test_transposed_twin_returns_w_minus_r(config: dict[str, object]) -> None:
    assume(_valid(config))
    report = shape_report(**config)  # type: ignore[arg-type]
    (t,), (rev,) = report.transposed, report.reversal
    assert t.output == config["size"][0] - rev.remainder  # type: ignore[index]
    assert rev.restored == (t.output if t.output >= 1 else None)


@given(conv_configs())
def test_reversal_names_a_restored_size_exactly_when_the_twin_exists(config: dict[str, object]) -> None:
    from convcalc.errors import ConvCalcError

    try:
        report = shape_report(**config)  # type: ignore[arg-type]
    except ConvCalcError:
        return  # the convolution itself is invalid
    (rev,) = report.reversal
    assert (rev.restored is None) == (report.twin_problem is not None)


def test_ci_profile_is_derandomized_and_keeps_no_database() -> None:
    profile = settings.get_profile("ci")
    assert profile.derandomize and profile.database is None
