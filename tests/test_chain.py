"""`convcalc.chain.stack`: parsing, sizes, skip pairs, accepted inputs and receptive field, with witnesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.chain.parse import parse_chain, read_chain_file
from convcalc.chain.report import chain_report
from convcalc.chain.stack import Layer, run
from convcalc.errors import ConvCalcError


def unet(depth: int, *, padding: int, up: str) -> str:
    """The U-Net of Ronneberger et al. (2015): two 3x3 convolutions per level, 2x2 max pooling."""
    block = f"conv k3 p{padding} | conv k3 p{padding}"
    down = " | ".join(f"{block} | pool k2" for _ in range(depth))
    ups = " | ".join(f"{up} | {block}" for _ in range(depth))
    return f"{down} | {block} | {ups} | conv k1"


VALID_UNET = unet(4, padding=0, up="tconv k2 s2")
SAME_UNET = unet(4, padding=1, up="up2")


# ---------------------------------------------------------------------------------------------------
# Parsing.


def test_compact_form_with_every_option() -> None:
    layers = parse_chain(
        "conv k3x5 s2 p1:2x0 d2 c16 g2 | maxpool k3 s2 p1 ceil | tconv k4 s2 p1 op1 | up2x1 | up s3"
    )
    conv, pool, tconv, up, up3 = layers
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation) == ((3, 5), 2, ((1, 2), (0, 0)), 2)
    assert (conv.out_channels, conv.groups) == (16, 2)
    assert (pool.kind, pool.kernel_size, pool.stride, pool.padding, pool.ceil_mode) == (
        "maxpool",
        3,
        2,
        1,
        True,
    )
    assert (tconv.output_padding, up.scale, up3.scale) == (1, (2, 1), 3)
    assert parse_chain("pool k2")[0].stride == 2  # PyTorch: the stride defaults to the kernel size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "conv k3 | pool k2 op1",
            r"layer 2 \(pool k2 op1\): token 'op1': output_padding is not an option of maxpool",
        ),
        ("conv k3 | conv kz", r"layer 2 \(conv kz\): token 'kz'"),
        ("conv k3 | conv k0", r"layer 2 \(conv k0\): token 'k0': kernel_size must be >= 1"),
        ("conv k3 | blur k3", r"layer 2 \(blur k3\): token 'blur': unknown layer kind"),
        ("conv k3 || conv k3", "layer 2 is empty"),
        ("conv s2", r"layer 1 \(conv s2\): token 'conv': conv needs a kernel size"),
        ("conv k3 k5", "token 'k5': kernel_size is given twice"),
        ("pool k2 p1:0", "pooling takes symmetric padding"),
        ("up", "up needs a scale factor"),
        ("conv k3 q7", "token 'q7': expected kN, sN"),
        ("conv k1 s2, conv k3", r"token 's2,'.*; layers are separated by '\|'"),
    ],
)
def test_parse_errors_point_at_layer_and_token(text: str, message: str) -> None:
    with pytest.raises(ConvCalcError, match=message):
        parse_chain(text)


def test_json_and_toml_files_give_the_compact_chain(tmp_path: Path) -> None:
    compact = parse_chain("conv k3 s2 p1 | maxpool k2 ceil | tconv k3 s2 p1 op1 | up2")
    doc = {
        "size": [32, 31],
        "in_channels": 3,
        "layers": [
            {"type": "conv", "kernel_size": 3, "stride": 2, "padding": 1},
            {"type": "maxpool", "kernel_size": 2, "ceil_mode": True},
            {"type": "tconv", "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
            "up2",
        ],
    }
    (tmp_path / "net.json").write_text(json.dumps(doc))
    (tmp_path / "net.toml").write_text(
        "size = [32, 31]\nin_channels = 3\n"
        '[[layers]]\ntype = "conv"\nkernel_size = 3\nstride = 2\npadding = 1\n'
        '[[layers]]\ntype = "maxpool"\nkernel_size = 2\nceil_mode = true\n'
        '[[layers]]\ntype = "tconv"\nkernel_size = 3\nstride = 2\npadding = 1\noutput_padding = 1\n'
        '[[layers]]\ntype = "up"\nscale_factor = 2\n'
    )
    for name in ("net.json", "net.toml"):
        spec = read_chain_file(tmp_path / name)
        assert spec.size == (32, 31) and spec.in_channels == 3
        got = [r.output for r in run(spec.layers, (32, 31))]
        assert got == [r.output for r in run(compact, (32, 31))]


def test_file_errors_name_the_layer(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {"layers": [{"type": "conv", "kernel_size": 3}, {"type": "pool", "kernel_size": [2, "x"]}]}
        )
    )
    with pytest.raises(ConvCalcError, match=r"layer 2 .*kernel_size must be an integer or a list"):
        read_chain_file(path)
    path.write_text("{not json")
    with pytest.raises(ConvCalcError, match=r"cannot read bad\.json"):
        read_chain_file(path)


# ---------------------------------------------------------------------------------------------------
# The U-Net, depth 4.


def test_valid_unet_572_gives_388_and_the_papers_crops() -> None:
    # Ronneberger et al. 2015, Fig. 1: 572x572 in, 388x388 out; skips copied from 568, 280, 136, 64
    # and cropped to 392, 200, 104, 56.
    report = chain_report(parse_chain(VALID_UNET), (572, 572))
    assert report.output == (388, 388)
    assert [(p.expected[0], p.got[0]) for p in report.pairs] == [(64, 56), (136, 104), (280, 200), (568, 392)]
    assert not any(any(r.dropped) for r in report.results)
    (axis, _) = report.accepted
    assert axis.exact.contains(572) and not axis.exact.contains(573)
    assert axis.restores.classes == () and axis.restores.singles == ()  # valid convolutions always crop


def test_valid_unet_with_an_odd_input_drops_a_row_at_the_first_pool() -> None:
    report = chain_report(parse_chain(VALID_UNET), (573,))
    first_pool = report.results[2]
    assert first_pool.size == (569,) and first_pool.dropped == (1,)
    below, above = report.accepted[0].exact.nearest(573)
    assert (below, above) == (572, 588)


def test_same_unet_with_odd_input_101_is_flagged_with_the_input_that_fixes_it() -> None:
    report = chain_report(parse_chain(SAME_UNET), (101, 96))
    bad = [p for p in report.pairs if not all(p.restored)]
    assert [(p.encoder, p.decoder, p.expected, p.got) for p in bad] == [
        (9, 18, (25, 24), (24, 24)),
        (6, 21, (50, 48), (48, 48)),
        (3, 24, (101, 96), (96, 96)),
    ]
    restores = report.accepted[0].restores
    assert (restores.period, restores.classes) == (16, (16,))
    assert restores.nearest(101) == (96, 112)


def test_same_unet_mismatch_matches_torch_concatenation() -> None:
    torch = pytest.importorskip("torch")
    layers = parse_chain(SAME_UNET)
    accepted = chain_report(layers, (96,)).accepted[0].restores
    for size in range(16, 70):
        ok = True
        x = torch.zeros(1, 1, size)
        skips = []
        try:
            for layer in layers:
                if layer.kind == "maxpool":
                    skips.append(x)
                    x = torch.nn.functional.max_pool1d(x, 2)
                elif layer.kind == "up":
                    x = torch.nn.functional.interpolate(x, scale_factor=2)
                    x = torch.cat([skips.pop(), x], dim=1)[:, :1]  # the skip connection
                else:
                    x = torch.nn.functional.conv1d(
                        x, torch.zeros(1, 1, layer.kernel_size), padding=layer.padding
                    )
        except RuntimeError:
            ok = False
        assert ok == accepted.contains(size), size


# ---------------------------------------------------------------------------------------------------
# Accepted sizes: the closed form against a scan.


LAYER = st.one_of(
    st.builds(
        lambda k, s, p: f"conv k{k} s{s} p{min(p, k - 1)}",
        st.integers(1, 4),
        st.integers(1, 3),
        st.integers(0, 2),
    ),
    st.builds(
        lambda k, s, c: f"pool k{k} s{s}" + (" ceil" if c else ""),
        st.integers(1, 3),
        st.integers(1, 3),
        st.booleans(),
    ),
    st.builds(
        lambda k, s, p, op: f"tconv k{k} s{s} p{p} op{min(op, s - 1)}",
        st.integers(1, 4),
        st.integers(1, 3),
        st.integers(0, 1),
        st.integers(0, 1),
    ),
    st.builds(lambda s: f"up{s}", st.integers(1, 3)),
)


@given(st.lists(LAYER, min_size=1, max_size=6))
def test_accepted_sets_equal_a_scan(texts: list[str]) -> None:
    layers = parse_chain(" | ".join(texts))
    try:
        report = chain_report(layers, None)
    except ConvCalcError:
        return
    axis = report.accepted[0]
    pairs = [(p.encoder, p.decoder) for p in report.pairs]
    for size in range(1, axis.minimum + 3 * axis.restores.period + 40):
        try:
            results = run(layers, (size,))
        except ConvCalcError:
            assert size < axis.minimum
            continue
        assert size >= axis.minimum
        restored = all(results[d - 1].output == results[e - 1].size for e, d in pairs)
        assert restored == axis.restores.contains(size), (size, texts)
        exact = all(r.dropped == (0,) for r in results)
        assert exact == axis.exact.contains(size), (size, texts)


# ---------------------------------------------------------------------------------------------------
# Shapes against torch, layer by layer.


def _torch_layer(torch, layer: Layer):  # type: ignore[no-untyped-def]
    nn = torch.nn
    if layer.kind == "conv":
        return nn.Conv1d(1, 1, layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    if layer.kind == "tconv":
        return nn.ConvTranspose1d(
            1,
            1,
            layer.kernel_size,
            layer.stride,
            layer.padding,
            layer.output_padding,
            1,
            True,
            layer.dilation,
        )
    if layer.kind == "maxpool":
        return nn.MaxPool1d(
            layer.kernel_size, layer.stride, layer.padding, layer.dilation, ceil_mode=layer.ceil_mode
        )
    if layer.kind == "avgpool":
        return nn.AvgPool1d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
    return nn.Upsample(scale_factor=layer.scale, mode="nearest")


@given(st.lists(LAYER, min_size=1, max_size=5), st.integers(1, 40))
def test_every_layer_size_matches_torch(texts: list[str], size: int) -> None:
    torch = pytest.importorskip("torch")
    layers = parse_chain(" | ".join(texts))
    try:
        ours = [r.output for r in run(layers, (size,))]
    except ConvCalcError:
        ours = None
    x = torch.zeros(1, 1, size)
    theirs: list[tuple[int, ...]] | None = []
    with torch.no_grad():
        for layer in layers:
            try:
                x = _torch_layer(torch, layer)(x)
            except RuntimeError:
                theirs = None
                break
            assert theirs is not None
            theirs.append(tuple(x.shape[2:]))
    assert ours == theirs


# ---------------------------------------------------------------------------------------------------
# Receptive field.


def test_receptive_field_guide_example() -> None:
    # "A guide to receptive field arithmetic": 5x5, two conv k3 s2 p1: jumps 2, 4; fields 3, 7; the
    # first output centred on the first input (start 0.5 in pixel-centre coordinates).
    report = chain_report(parse_chain("conv k3 s2 p1 | conv k3 s2 p1"), (5, 5))
    first, second = report.fields
    assert first is not None and second is not None
    assert [(f.receptive_field, f.jump, f.left, f.right) for f in (first[0], second[0])] == [
        (3, 2, -1, 1),
        (7, 4, -3, 3),
    ]


FIELD_LAYER = st.one_of(
    st.builds(
        lambda k, s, p: f"conv k{k} s{s} p{min(p, k - 1)}",
        st.integers(1, 4),
        st.integers(1, 3),
        st.integers(0, 2),
    ),
    st.builds(lambda k, s: f"avgpool k{k} s{s}", st.integers(1, 3), st.integers(1, 3)),
)


@settings(max_examples=50)
@given(st.lists(FIELD_LAYER, min_size=1, max_size=4))
def test_receptive_field_equals_the_gradient_support_in_torch(texts: list[str]) -> None:
    torch = pytest.importorskip("torch")
    layers = parse_chain(" | ".join(texts))
    size = 400
    report = chain_report(layers, (size,))
    fields = report.fields[-1]
    assert fields is not None
    x = torch.ones(1, 1, size, requires_grad=True)
    y = x
    for layer in layers:
        module = _torch_layer(torch, layer)
        if layer.kind == "conv":
            with torch.no_grad():
                module.weight.fill_(1.0)
        y = module(y)
    y[0, 0, 0].backward()
    support = torch.nonzero(x.grad[0, 0]).flatten().tolist()
    (field,) = fields
    assert support[0] == max(field.left, 0) and support[-1] == field.right


def test_bad_chain_inputs() -> None:
    with pytest.raises(ConvCalcError, match=r"layer 2 \(conv k9\): the dilated kernel \(9\) is larger"):
        chain_report(parse_chain("conv k3 | conv k9"), (8,))
    # a rule no input size can satisfy is reported by its layer, with or without a size
    for size in ((8,), None):
        with pytest.raises(ConvCalcError, match=r"layer 2 \(tconv k3 s2 op2\): output_padding must be"):
            chain_report(parse_chain("conv k3 | tconv k3 s2 op2"), size)
    with pytest.raises(ConvCalcError, match=r"layer 1 \(conv k3 p-1\): padding must be >= 0"):
        chain_report(parse_chain("conv k3 p-1"), None)
    huge = chain_report(parse_chain("conv k1000000000000000 | pool k2"), None)
    assert huge.size == (10**15 + 1,) and huge.output == (1,)
    with pytest.raises(ConvCalcError, match="groups and out_channels"):
        chain_report(parse_chain("conv k3 c8"), (8,))
    with pytest.raises(ConvCalcError, match="the product of the strides on axis 0 is 8192"):
        chain_report(parse_chain(" | ".join(["pool k2"] * 13)), None)
    with pytest.raises(ConvCalcError, match=r"layer 1 .*groups must divide in_channels"):
        chain_report(parse_chain("conv k3 c8 g2"), (8,), channels=3)
