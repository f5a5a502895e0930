"""`port`: translations between frameworks, checked by the target's own rules and by executing them.

Witnesses: the target convention re-reads every translation (its rules are pinned by the oracle vectors
in test_frameworks.py); PyTorch executes ported layers and the fix; real JAX executes JAX layers, which
are compared with PyTorch running the ported arguments (both skip when the framework is missing).
"""

from __future__ import annotations

import ast
import itertools
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcalc.conventions import CONVENTIONS, read
from convcalc.conventions.base import FrameworkLayer
from convcalc.errors import ConvCalcError
from convcalc.port.translate import Translation, port, translate

FRAMEWORKS = sorted(CONVENTIONS)


def test_issue_example_tensorflow_same_to_pytorch() -> None:
    t = port("tensorflow", "pytorch", (16, 16), 3, stride=2, padding="same", transposed=True)
    assert t.source.output == (32, 32)
    assert t.source.placement == ((0, 1), (0, 1))
    # PyTorch cannot crop only at the end: padding 0 and a slice of the last row and column.
    assert dict(t.arguments)["padding"] == "(0, 0)"
    assert t.target.output == (33, 33)
    assert t.fix == ((0, 1), (0, 1))
    assert not t.shape_equal and not t.values_equal
    assert t.fix_steps() == [
        "axis 0: remove the last 1 output element(s)",
        "axis 1: remove the last 1 output element(s)",
    ]
    # The shape-only alternative: padding=1, output_padding=1 gives 32 but crops (1, 0).
    assert t.shape_only is not None and dict(t.shape_only)["output_padding"] == "(1, 1)"
    # TensorFlow's (k0, k1, out, in) -> PyTorch's (in, out, k0, k1).
    assert t.weight.permutation == (3, 2, 0, 1) and t.weight.flip_spatial == ()


def test_pytorch_to_tensorflow_is_exact_with_explicit_pads_in_2d() -> None:
    t = port("pytorch", "tensorflow", (5, 5), 3, stride=2, padding=1, output_padding=1, transposed=True)
    assert t.exact and t.verdict == "equal in shape and in values"
    assert t.target.placement == ((1, 0), (1, 0))
    assert dict(t.arguments)["output_shape (spatial)"] == "[10, 10]"


def test_pytorch_to_tensorflow_1d_uses_valid_and_a_crop_and_names_the_2d_op() -> None:
    # tf.nn.conv1d_transpose takes 'SAME'/'VALID' only: 'VALID' (full 11), then remove the first element.
    t = port("pytorch", "tensorflow", 5, 3, stride=2, padding=1, output_padding=1, transposed=True)
    assert dict(t.arguments)["padding"] == "'VALID'" and dict(t.arguments)["output_shape (spatial)"] == "[11]"
    assert t.fix == ((1, 0),) and t.target.output == (11,)
    note = next(n for n in t.notes if "unit first spatial axis" in n)
    assert "tf.nn.conv2d_transpose" in note and "padding=[[0, 0], [1, 0]]" in note
    # The named 2-D op, read by TensorFlow's own rules, places the output as the source does.
    unit = read(
        "tensorflow",
        (1, 5),
        (1, 3),
        stride=(1, 2),
        padding=((0, 0), (1, 0)),
        output_size=(1, 10),
        transposed=True,
    )
    assert unit.placement[1:] == t.source.placement


def test_pytorch_to_keras_is_same_shape_only_without_a_slice() -> None:
    # Keras places the odd crop at the end; PyTorch p=1 op=1 crops at the start.
    t = port("pytorch", "keras", 5, 3, stride=2, padding=1, output_padding=1, transposed=True)
    assert not t.exact
    assert t.shape_only is not None and dict(t.shape_only)["padding"] == "'same'"


def test_jax_default_kernel_is_flipped_relative_to_pytorch() -> None:
    t = port("jax", "pytorch", 5, 3, stride=2, padding="same", transposed=True)
    # JAX (k, in, out) unflipped correlation -> PyTorch (in, out, k): permute and reverse the spatial axis.
    assert t.weight.permutation == (1, 2, 0) and t.weight.flip_spatial == (2,)
    t = port("jax", "pytorch", 5, 3, stride=2, padding="same", transposed=True, transpose_kernel=True)
    assert t.weight.permutation == (2, 1, 0) and t.weight.flip_spatial == ()


def test_keras_cannot_express_stride_with_dilation() -> None:
    with pytest.raises(ConvCalcError, match=r"Keras cannot express this layer: .*dilation_rate > 1") as info:
        port("pytorch", "keras", 5, 3, stride=2, dilation=2, transposed=True)
    assert info.value.parameter == "to"


def test_conv_asymmetric_pads_to_pytorch_pad_the_input() -> None:
    t = port("tensorflow", "pytorch", 6, 4, padding="same")
    assert t.exact  # PyTorch's own 'same' puts the odd pad at the end too
    t = port("onnx", "pytorch", 6, 4, padding="same_lower")
    assert t.source.placement == ((2, 1),)
    assert dict(t.arguments)["padding"] == "(1,)"
    assert t.fix_steps() == ["axis 0: pad the input with 1 zero(s) at the start"]
    # PyTorch's own 'same' gives the same size with the odd pad at the other end: shape only.
    assert not t.shape_equal
    assert t.shape_only is not None and dict(t.shape_only)["padding"] == "'same'"


def test_port_rejects_unknown_frameworks_naming_the_option() -> None:
    with pytest.raises(ConvCalcError, match="to must be one of") as info:
        port("pytorch", "theano", 5, 3)
    assert info.value.parameter == "to"
    with pytest.raises(ConvCalcError, match="from must be one of"):
        port("chainer", "pytorch", 5, 3)


# --- Properties over random layers ---------------------------------------------------------------


@st.composite
def transposed_layers(draw: st.DrawFn) -> FrameworkLayer:
    """A transposed layer in a random framework's own arguments (only those the framework accepts)."""
    framework = draw(st.sampled_from(FRAMEWORKS))
    ndim = draw(st.integers(1, 2))
    ints = st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim).map(tuple)
    kw: dict[str, Any] = {
        "stride": draw(ints),
        "dilation": draw(st.lists(st.integers(1, 2), min_size=ndim, max_size=ndim).map(tuple)),
        "transposed": True,
        "transpose_kernel": draw(st.booleans()),
    }
    words = CONVENTIONS[framework].transposed_padding_words
    choice = draw(st.sampled_from(["word", "ints", "pairs"] if words else ["ints", "pairs"]))
    if choice == "word":
        kw["padding"] = draw(st.sampled_from(words))
    elif choice == "ints":
        kw["padding"] = draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim).map(tuple))
    else:
        kw["padding"] = tuple(draw(st.tuples(st.integers(-1, 3), st.integers(-1, 3))) for _ in range(ndim))
    if draw(st.booleans()):
        kw["output_padding"] = draw(st.lists(st.integers(0, 2), min_size=ndim, max_size=ndim).map(tuple))
    elif draw(st.booleans()):
        kw["output_size"] = draw(st.lists(st.integers(1, 30), min_size=ndim, max_size=ndim).map(tuple))
    size = draw(ints)
    kernel = draw(ints)
    try:
        return read(framework, size, kernel, **kw)
    except ConvCalcError:
        assume(False)
        raise


@given(transposed_layers(), st.sampled_from(FRAMEWORKS))
def test_every_translation_is_re_read_by_the_target_and_the_fix_closes_the_gap(
    layer: FrameworkLayer, target: str
) -> None:
    try:
        t = translate(layer, target)
    except ConvCalcError as error:
        assert "cannot express" in str(error)
        return
    again = read(target, t.target.args.size, t.target.args.kernel_size, **_kwargs(t.target))
    assert again.placement == t.target.placement
    # Every backend of the target runs what port prescribes ('valid' plus a fix always exists there).
    assert again.unsupported_by == ()
    for (wb, wa), (pb, pa), (fb, fa) in zip(layer.placement, t.target.placement, t.fix):
        assert (pb + fb, pa + fa) == (wb, wa)
        # A fix only appends zeros where the target's own output already holds zeros.
        assert pb <= max(wb, 0) and pa <= max(wa, 0)
    assert t.exact == (t.target.placement == layer.placement)


@given(transposed_layers())
def test_translation_to_pytorch_and_back_is_exact_when_pytorch_can_express_it(layer: FrameworkLayer) -> None:
    t = translate(layer, "pytorch")
    assume(t.exact)
    back = translate(t.target, layer.framework) if layer.framework != "keras" else None
    if back is None:
        return
    if layer.unsupported_by:
        # A layer some backend refuses comes back as one every backend runs, exact after its fix.
        assert not back.target.unsupported_by
        fixed = tuple((p + fb, q + fa) for (p, q), (fb, fa) in zip(back.target.placement, back.fix))
        assert fixed == layer.placement
    else:
        assert back.target.placement == layer.placement


def _kwargs(layer: FrameworkLayer) -> dict[str, Any]:
    args = layer.args
    return {
        "stride": args.stride,
        "dilation": args.dilation,
        "padding": args.padding,
        "output_padding": args.output_padding,
        "output_size": args.output_size,
        "transposed": args.transposed,
        "transpose_kernel": args.transpose_kernel,
    }


# --- Execution: PyTorch runs ported layers -------------------------------------------------------


def _torch_reference(torch: Any, x: Any, w: Any, layer: FrameworkLayer) -> Any:
    """The canonical form executed directly: PyTorch's full transposed output, then the crops."""
    F = torch.nn.functional
    tconv = (F.conv_transpose1d, F.conv_transpose2d)[layer.args.ndim - 1]
    stride = tuple(a.stride for a in layer.transposed)
    dilation = tuple(a.dilation for a in layer.transposed)
    full = tconv(x, w, stride=stride, dilation=dilation)
    return _crop(torch, full, layer.placement)


def _crop(torch: Any, y: Any, pairs: tuple[tuple[int, int], ...]) -> Any:
    """Remove (before, after) elements per spatial axis; a negative amount appends zeros instead."""
    for n, (before, after) in enumerate(pairs):
        dim = 2 + n
        if before < 0:
            shape = list(y.shape)
            shape[dim] = -before
            y = torch.cat([torch.zeros(shape, dtype=y.dtype), y], dim=dim)
            before = 0
        if after < 0:
            shape = list(y.shape)
            shape[dim] = -after
            y = torch.cat([y, torch.zeros(shape, dtype=y.dtype)], dim=dim)
            after = 0
        y = y.narrow(dim, before, y.shape[dim] - before - after)
    return y


def _run_pytorch_translation(torch: Any, x: Any, w: Any, t: Translation) -> Any:
    F = torch.nn.functional
    tconv = (F.conv_transpose1d, F.conv_transpose2d)[t.target.args.ndim - 1]
    args = t.target.args
    y = tconv(
        x,
        w,
        stride=args.stride,
        padding=tuple(b for b, _ in args.pairs()),
        output_padding=args.output_padding or 0,
        dilation=args.dilation,
    )
    return _crop(torch, y, t.fix)


@given(transposed_layers(), st.integers(0, 2**31 - 1))
def test_pytorch_executes_every_translation_to_pytorch_exactly(layer: FrameworkLayer, seed: int) -> None:
    torch = pytest.importorskip("torch")
    t = translate(layer, "pytorch")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 2, *layer.args.size, generator=gen, dtype=torch.float64)
    w = torch.randn(2, 3, *(a.kernel_size for a in layer.transposed), generator=gen, dtype=torch.float64)
    expected = _torch_reference(torch, x, w, layer)
    got = _run_pytorch_translation(torch, x, w, t)
    assert tuple(expected.shape[2:]) == layer.output
    assert tuple(got.shape) == tuple(expected.shape)
    torch.testing.assert_close(got, expected)
    # Without the fix the values agree exactly when the verdict says so.
    if t.exact:
        assert t.values_equal and t.shape_equal


def test_equinox_weight_needs_a_flip_and_a_swap_from_pytorch() -> None:
    # Section 6.4: porting torch weights to Equinox needs flip(spatial).swapaxes(0, 1).
    t = port("pytorch", "equinox", (5, 5), 3, stride=2, padding=1, output_padding=1, transposed=True)
    assert t.exact
    assert t.weight.permutation == (1, 0, 2, 3) and t.weight.flip_spatial == (2, 3)


def test_caffe_reaches_pytorch_p1_op1_only_with_a_crop() -> None:
    t = port("pytorch", "caffe", 5, 3, stride=2, padding=1, output_padding=1, transposed=True)
    assert not t.exact and t.target.output == (11,)
    assert t.fix == ((1, 0),)


@given(
    st.sampled_from(FRAMEWORKS),
    st.sampled_from(FRAMEWORKS),
    st.integers(1, 10**30),
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.integers(1, 50),
    st.one_of(
        st.sampled_from(["same", "valid", "same_upper", "same_lower", "causal", "notset", "full", "bogus"]),
        st.integers(-(10**6), 10**12),
    ),
    st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), st.integers(1, 10**30)),
    st.booleans(),
)
def test_any_arguments_give_an_answer_or_a_convcalc_error(
    source: str,
    target: str,
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    padding: object,
    output_padding: int | None,
    output_size: int | None,
    transposed: bool,
) -> None:
    """Huge or odd values never crash and never loop: every answer is arithmetic on a few candidates."""
    try:
        t = port(
            source,
            target,
            size,
            kernel,
            stride=stride,
            dilation=dilation,
            padding=padding,
            output_padding=output_padding,
            output_size=output_size,
            transposed=transposed,
        )
    except ConvCalcError as error:
        assert error.parameter is not None
        return
    if transposed:
        assert t.source.output == tuple(o - b - a for o, (b, a) in zip(t.target.output, t.fix))


def test_grouped_transposed_layers_port_only_where_groups_exist() -> None:
    t = port(
        "pytorch", "onnx", 6, 3, stride=2, padding=1, transposed=True, in_channels=4, out_channels=6, groups=2
    )
    assert t.weight.identity and t.weight_shapes() == ((4, 3, 3), (4, 3, 3))
    t = port(
        "pytorch",
        "equinox",
        6,
        3,
        stride=2,
        padding=1,
        transposed=True,
        in_channels=4,
        out_channels=6,
        groups=2,
    )
    # Equinox keeps the convolution's (out, in/groups, k): a swap within each group and a flip.
    assert t.weight.regroup and t.weight.flip_spatial == (2,)
    assert t.weight_shapes() == ((4, 3, 3), (6, 2, 3))
    with pytest.raises(ConvCalcError, match="TensorFlow has no groups for transposed convolutions") as info:
        port("pytorch", "tf", 6, 3, transposed=True, in_channels=4, out_channels=6, groups=2)
    assert info.value.parameter == "groups"
    with pytest.raises(ConvCalcError, match="groups must divide out_channels; got out_channels=5, groups=2"):
        port("pytorch", "onnx", 6, 3, in_channels=4, out_channels=5, groups=2)
    with pytest.raises(ConvCalcError, match="out_channels is needed too"):
        port("pytorch", "onnx", 6, 3, in_channels=4)


# --- Backends and kernels that refuse a layer the framework defines --------------------------------


def _checked(t: Translation) -> Translation:
    """Re-read by the target's rules, and executed: the fixed target equals the source (engine)."""
    from convcalc.port.execute import check_port

    again = read(t.target.framework, t.target.args.size, t.target.args.kernel_size, **_kwargs(t.target))
    assert again.placement == t.target.placement and again.unsupported_by == ()
    check = check_port(t, seed=3)
    assert check.ok, check
    return t


def test_keras_port_avoids_the_layer_the_tensorflow_backend_refuses() -> None:
    # PyTorch k4 s2 p2: crops (2, 2), exactly Keras 'same' with output_padding=0, which the TF backend
    # refuses (even kernel). 'same' with output_padding=None crops (1, 1): one more element each side.
    t = _checked(port("pytorch", "keras", 5, 4, stride=2, padding=2, transposed=True))
    assert dict(t.arguments)["padding"] == "'same'" and dict(t.arguments)["output_padding"] == "None"
    assert t.fix == ((1, 1),)
    assert any("Keras's TensorFlow backend: " in n and "output_padding=(0,)" in n for n in t.notes)
    # Where the exact spelling runs everywhere it is still chosen.
    assert _checked(port("pytorch", "keras", 5, 4, stride=2, padding=1, transposed=True)).exact


def test_tensorflow_ports_1d_and_3d_without_explicit_pairs() -> None:
    t = _checked(port("pytorch", "tensorflow", (7, 7, 7), 3, stride=2, padding=2))
    assert dict(t.arguments)["padding"] == "'VALID'" and t.fix == ((2, 2),) * 3
    t = _checked(port("pytorch", "tensorflow", 7, 3, stride=2, padding=2))
    assert dict(t.arguments)["padding"] == "'VALID'"
    assert t.fix_steps() == ["axis 0: pad the input with 2 zero(s) at the start and 2 at the end"]
    assert any("tf.nn.conv2d with a unit first spatial axis" in n and "[0, 0], [2, 2]" in n for n in t.notes)
    # 3-D transposed: 'SAME' where it is exact, else 'VALID' output_shape and then the crop.
    t = _checked(port("pytorch", "tensorflow", (4, 4, 4), 3, stride=2, padding=1, transposed=True))
    assert dict(t.arguments)["padding"] == "'SAME'" and t.exact
    t = _checked(port("pytorch", "tensorflow", (4, 4, 4), 3, stride=2, padding=2, transposed=True))
    assert dict(t.arguments)["padding"] == "'VALID'" and t.fix == ((2, 2),) * 3


def test_tensorflow_dilated_transposed_port_prefers_valid_and_a_crop() -> None:
    # Explicit pairs with dilation run on no CPU kernel: 'VALID' (oneDNN runs it) plus the crop.
    t = _checked(port("pytorch", "tensorflow", (5, 5), 3, dilation=2, padding=1, transposed=True))
    assert dict(t.arguments)["padding"] == "'VALID'" and t.fix == ((1, 1), (1, 1))
    assert any("TensorFlow's CPU kernels: " in n and "[[1, 1], [1, 1]]" in n for n in t.notes)
    assert any("only the oneDNN kernels" in n for n in t.notes)


def test_tensorflow_3d_same_that_eigen_shifts_ports_as_valid() -> None:
    # 'SAME' needing padding -2 in 3-D: Eigen's conv3d reads shifted windows; 'VALID' reads the same ones.
    t = _checked(port("tensorflow", "tensorflow", (1, 1, 7), 1, stride=(1, 1, 4), padding="same"))
    assert t.source.unsupported_by == ("TensorFlow's Eigen conv3d kernel",)
    assert dict(t.arguments)["padding"] == "'VALID'" and t.exact


@pytest.mark.parametrize(
    ("source", "size", "kernel", "kw"),
    [
        ("jax", (5, 2), (4, 1), {"stride": (3, 1), "padding": ((5, -1), (-3, 5))}),
        ("flax", 1, 1, {"stride": 2, "padding": ((4, -2),)}),
        ("jax", 2, 3, {"stride": 2, "padding": ((-4, 5),), "transposed": True, "transpose_kernel": True}),
        ("paddle", 2, 3, {"stride": 2}),
        ("paddle", (2, 3), 3, {"stride": 2}),
    ],
)
@pytest.mark.parametrize("target", ["pytorch", "tensorflow", "keras", "onnx", "jax", "paddle"])
def test_layers_convcalc_used_to_refuse_port_and_execute(
    source: str, size: object, kernel: object, kw: dict[str, Any], target: str
) -> None:
    layer = read(source, size, kernel, **kw)
    try:
        t = translate(layer, target)
    except ConvCalcError as error:
        assert "cannot express" in str(error)
        return
    _checked(t)


@pytest.mark.parametrize("command", ["port", "explain"])
def test_help_of_a_command_without_framework_never_mentions_it(command: str) -> None:
    from typer.testing import CliRunner

    from convcalc.cli import app

    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert result.exit_code == 0 and "--framework" not in result.stdout


def test_port_help_names_every_framework_and_not_an_option_port_refuses() -> None:
    from typer.testing import CliRunner

    from convcalc.cli import app

    result = CliRunner().invoke(app, ["port", "--help"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "--framework" not in text
    for name in CONVENTIONS:
        assert name in text.split("--from", 1)[1], name
    assert (
        CliRunner()
        .invoke(app, ["port", "5", "-k", "3", "--from", "keras", "--to", "x", "--framework", "onnx"])
        .exit_code
        == 2
    )


def test_keras_shape_only_alternative_is_one_every_backend_runs_or_says_who_refuses_it() -> None:
    # The TensorFlow backend refuses 'same' with output_padding 0 and an even dilated kernel (a run
    # record in test_framework_records); the shape-only line must not offer it silently.
    seen_refused = 0
    for size, k, s, p, d in itertools.product((5, 8), range(1, 6), range(1, 4), range(4), (1, 2)):
        for op in range(max(s, d)):
            try:
                t = port(
                    "pytorch",
                    "keras",
                    size,
                    k,
                    stride=s,
                    padding=p,
                    output_padding=op,
                    dilation=d,
                    transposed=True,
                )
            except ConvCalcError:
                continue
            if t.shape_only is None:
                continue
            spelled = {name: ast.literal_eval(value) for name, value in t.shape_only}
            again = read(
                "keras",
                size,
                k,
                stride=s,
                dilation=d,
                padding=spelled["padding"],
                output_padding=spelled["output_padding"],
                transposed=True,
            )
            assert again.output == t.source.output
            said = any("same-shape spelling is refused" in n and "TensorFlow backend" in n for n in t.notes)
            assert said == bool(again.unsupported_by), (size, k, s, p, op, d)
            seen_refused += said
    assert seen_refused  # e.g. PyTorch k2 s3 p1 op2 d2: only 'same' with output_padding 0 has the shape


def test_fix_steps_name_each_axis_once() -> None:
    t = port("pytorch", "keras", 5, 4, stride=2, padding=2, transposed=True)
    assert t.fix_steps() == ["axis 0: remove the first 1 and the last 1 output element(s)"]
    for source, padding in (("pytorch", 2), ("tensorflow", "same"), ("onnx", "same_lower")):
        for target in ("pytorch", "tensorflow", "keras", "onnx", "jax"):
            for transposed in (False, True):
                try:
                    steps = port(
                        source, target, (6, 7), 4, stride=2, padding=padding, transposed=transposed
                    ).fix_steps()
                except ConvCalcError:
                    continue
                axes = [step.split(":")[0] for step in steps]
                assert len(axes) == len(set(axes)), steps
