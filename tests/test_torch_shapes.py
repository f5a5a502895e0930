"""The core's sizes and refusals against PyTorch itself (skipped where torch is not installed)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc import ConvCalcError, conv_output_size, conv_transpose_output_size, shape_report

torch = pytest.importorskip("torch")
F = torch.nn.functional


@st.composite
def layers(draw: st.DrawFn) -> dict[str, tuple[int, ...]]:
    ndim = draw(st.integers(1, 3))
    axis = st.lists  # one value per axis
    return {
        "size": tuple(draw(axis(st.integers(1, 9), min_size=ndim, max_size=ndim))),
        "kernel_size": tuple(draw(axis(st.integers(1, 5), min_size=ndim, max_size=ndim))),
        "stride": tuple(draw(axis(st.integers(1, 4), min_size=ndim, max_size=ndim))),
        "padding": tuple(draw(axis(st.integers(0, 4), min_size=ndim, max_size=ndim))),
        "dilation": tuple(draw(axis(st.integers(1, 3), min_size=ndim, max_size=ndim))),
        "output_padding": tuple(draw(axis(st.integers(0, 3), min_size=ndim, max_size=ndim))),
    }


def _torch_conv_shape(cfg: dict[str, tuple[int, ...]]) -> tuple[int, ...] | None:
    conv = (F.conv1d, F.conv2d, F.conv3d)[len(cfg["size"]) - 1]
    x = torch.zeros(1, 1, *cfg["size"])
    w = torch.zeros(1, 1, *cfg["kernel_size"])
    try:
        y = conv(x, w, stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"])
    except RuntimeError:
        return None
    return tuple(y.shape[2:])


def _torch_transpose_shape(cfg: dict[str, tuple[int, ...]]) -> tuple[int, ...] | None:
    tconv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[len(cfg["size"]) - 1]
    x = torch.zeros(1, 1, *cfg["size"])
    w = torch.zeros(1, 1, *cfg["kernel_size"])
    try:
        y = tconv(
            x,
            w,
            stride=cfg["stride"],
            padding=cfg["padding"],
            output_padding=cfg["output_padding"],
            dilation=cfg["dilation"],
        )
    except RuntimeError:
        return None
    # torch 2.13 raises "Output size is too small" for an empty output on most paths, but its 2-D kernel
    # with a nonzero output_padding returns a 0-size tensor instead; convcalc refuses both alike.
    return None if 0 in y.shape else tuple(y.shape[2:])


@given(layers())
def test_conv_output_size_agrees_with_torch_including_refusals(cfg: dict[str, tuple[int, ...]]) -> None:
    expected = _torch_conv_shape(cfg)
    kwargs = {k: cfg[k] for k in ("stride", "padding", "dilation")}
    if expected is None:
        with pytest.raises(ConvCalcError, match="larger than the padded input"):
            conv_output_size(cfg["size"], cfg["kernel_size"], **kwargs)
    else:
        assert conv_output_size(cfg["size"], cfg["kernel_size"], **kwargs) == expected


@given(layers())
def test_conv_transpose_output_size_agrees_with_torch_including_refusals(
    cfg: dict[str, tuple[int, ...]],
) -> None:
    expected = _torch_transpose_shape(cfg)
    kwargs = {k: cfg[k] for k in ("stride", "padding", "dilation", "output_padding")}
    if expected is None:
        with pytest.raises(ConvCalcError, match=r"output_padding must be smaller|output size would be"):
            conv_transpose_output_size(cfg["size"], cfg["kernel_size"], **kwargs)
    else:
        assert conv_transpose_output_size(cfg["size"], cfg["kernel_size"], **kwargs) == expected


def test_asymmetric_padding_agrees_with_explicit_pad_in_torch() -> None:
    x = torch.zeros(1, 1, 11, 8)
    w = torch.zeros(1, 1, 3, 4)
    # F.pad takes the last axis first: (left, right, top, bottom)
    y = F.conv2d(F.pad(x, (0, 3, 2, 1)), w, stride=(2, 3))
    assert conv_output_size((11, 8), (3, 4), stride=(2, 3), padding=((2, 1), (0, 3))) == tuple(y.shape[2:])


def test_output_size_argument_range_matches_the_colliding_sizes() -> None:
    # ConvTranspose's output_size= accepts exactly the s sizes that a convolution maps to its input size
    tconv = torch.nn.ConvTranspose1d(1, 1, 3, stride=3, padding=1)
    x = torch.zeros(1, 1, 5)
    (rev,) = shape_report(13, 3, stride=3, padding=1).reversal
    assert rev.output == 5
    accepted = []
    for target in range(10, 20):
        try:
            tconv(x, output_size=[target])
        except ValueError:
            continue
        accepted.append(target)
    assert accepted == list(range(rev.colliding_first, rev.colliding_last + 1))


def test_weight_shapes_agree_with_torch_modules() -> None:
    conv = torch.nn.Conv3d(6, 9, (3, 2, 1), groups=3)
    report = shape_report((5, 5, 5), (3, 2, 1), in_channels=6, out_channels=9, groups=3)
    assert report.channels is not None
    assert tuple(conv.weight.shape) == report.channels.conv_weight_shape
    assert sum(p.numel() for p in conv.parameters()) == report.channels.parameters_with_bias
    tconv = torch.nn.ConvTranspose2d(6, 9, 3, groups=3)
    treport = shape_report((5, 5), 3, in_channels=6, out_channels=9, groups=3, transposed=True)
    assert treport.channels is not None
    assert tuple(tconv.weight.shape) == treport.channels.transposed_weight_shape
    assert sum(p.numel() for p in tconv.parameters()) == treport.channels.parameters_with_bias


def test_impossible_twin_is_reported_as_such_where_torch_refuses_it() -> None:
    """`shape 2 -k 2 -s 5 -p 2`: the convolution gives 1; its twin on 1 would be -2, which torch refuses."""
    from typer.testing import CliRunner

    from convcalc.cli import app

    conv = torch.nn.Conv1d(1, 1, 2, stride=5, padding=2)
    out = conv(torch.zeros(1, 1, 2))
    assert out.shape[-1] == 1
    twin = torch.nn.ConvTranspose1d(1, 1, 2, stride=5, padding=2)
    with pytest.raises(RuntimeError):
        twin(out)
    result = CliRunner().invoke(app, ["shape", "2", "-k", "2", "-s", "5", "-p", "2", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["convolution"]["output"] == [1]
    assert document["transposed"] is None and document["direct"] is None
    assert "-2" in document["twin_problem"]
    # No twin, so no size it gives back: every section agrees (null, not the impossible -2).
    assert document["reversal"]["restored"] == [None] and document["reversal"]["reversible"] == [False]
    # The output_padding the reversal names really restores W in torch.
    op = document["reversal"]["output_padding_to_restore"][0]
    restored = torch.nn.ConvTranspose1d(1, 1, 2, stride=5, padding=2, output_padding=op)(out)
    assert restored.shape[-1] == 2


def test_transposed_multiply_accumulates_match_torch_flop_counter() -> None:
    """output_padding >= stride (allowed when dilation > stride): torch counts 18 MACs, not 21."""
    from torch.utils.flop_counter import FlopCounterMode

    from convcalc.core import shape_report

    cases = [
        dict(size=6, kernel_size=3, stride=1, dilation=2, output_padding=1, ch=(1, 1)),
        dict(size=7, kernel_size=4, stride=2, dilation=1, output_padding=1, ch=(4, 6)),
        dict(size=5, kernel_size=3, stride=1, dilation=3, output_padding=2, ch=(2, 2)),
    ]
    for case in cases:
        c_in, c_out = case.pop("ch")  # type: ignore[misc]
        layer = torch.nn.ConvTranspose1d(
            c_in,
            c_out,
            case["kernel_size"],
            stride=case["stride"],
            dilation=case["dilation"],
            output_padding=case["output_padding"],
            bias=False,
        )
        with FlopCounterMode(display=False) as counter:
            layer(torch.zeros(1, c_in, case["size"]))
        report = shape_report(**case, transposed=True, in_channels=c_in, out_channels=c_out)  # type: ignore[arg-type]
        assert report.channels is not None
        assert 2 * report.channels.multiply_accumulates == counter.get_total_flops(), case
