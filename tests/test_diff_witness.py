"""`convcalc diff` against real converters and ONNX Runtime: every verdict is what running both files gives.

Witnesses: torch.onnx.export (the TorchScript exporter, dynamo=False, and the default dynamo exporter
when onnxscript is installed) must give a faithful diff, checked by running PyTorch and ONNX Runtime on
the same input. Then the defects converters are known for are planted in the exported graph with the
onnx helper API (moved pads, a dropped output_padding, SAME_UPPER written as explicit pads on the wrong
side or as SAME_LOWER, Transposes around a transposed convolution, a Resize mode changed) and diff must
name the layer and the argument; ONNX Runtime runs A and B on one input and the outputs must relate as
the verdict says: equal, B a copy of A moved by the stated number of elements, or another size.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from convcalc.diff.report import DiffReport, diff_models  # noqa: E402

nn = torch.nn
SHAPE = (1, 3, 16, 12)  # not square: an axis swap shows


class Net(nn.Module):
    """Down, up (with output_padding), resize and a head: every layer kind diff aligns."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, 1, 1)
        self.c2 = nn.Conv2d(4, 4, 3, 2, 1)
        self.up = nn.ConvTranspose2d(4, 4, 3, 2, 1, output_padding=1)
        self.rs = nn.Upsample(scale_factor=2, mode="nearest")
        self.c3 = nn.Conv2d(4, 2, 3, 1, 1)

    def forward(self, x: Any) -> Any:
        x = torch.relu(self.c1(x))
        x = torch.relu(self.c2(x))
        x = self.up(x)
        return self.c3(self.rs(x))


def build() -> nn.Module:
    torch.manual_seed(0)
    return Net().eval()


def export(net: nn.Module, path: Path, dynamo: bool) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        buffer = io.BytesIO()
        if dynamo:
            program = torch.onnx.export(net, (torch.zeros(SHAPE),), dynamo=True, verbose=False)
            program.save(str(path))
            return path
        torch.onnx.export(net, (torch.zeros(SHAPE),), buffer, dynamo=False)
    path.write_bytes(buffer.getvalue())
    return path


def run(path: Path, x: Any) -> Any:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def moved_copy(a: Any, b: Any, shift: dict[int, int], margin: int = 2) -> bool:
    """B[..., j + shift, ...] == A[..., j, ...] away from the borders (padding reaches margin elements)."""
    index_a: list[Any] = [slice(None)] * a.ndim
    index_b: list[Any] = [slice(None)] * a.ndim
    for axis in range(2, a.ndim):
        n = shift.get(axis, 0)
        size = a.shape[axis]
        lo, hi = max(0, -n) + margin, size - max(0, n) - margin
        if hi <= lo:
            return False
        index_a[axis] = slice(lo, hi)
        index_b[axis] = slice(lo + n, hi + n)
    return bool(np.allclose(a[tuple(index_a)], b[tuple(index_b)], atol=1e-5))


def observed(a: Any, b: Any) -> tuple[str, dict[int, int]]:
    """What running gives: same values, a copy moved by small integers, other values, other size."""
    if a.shape != b.shape:
        return "different size", {}
    if np.allclose(a, b, atol=1e-5):
        return "same", {}
    for dh in range(-2, 3):
        for dw in range(-2, 3):
            if (dh or dw) and moved_copy(a, b, {2: dh, 3: dw}):
                return "shifted", {2: dh, 3: dw}
    return "different values", {}


def check_against_runtime(report: DiffReport, a: Path, b: Path, x: Any) -> str:
    """The diff's verdict on the output equals what ONNX Runtime computes from both files."""
    output = report.outputs[0]
    verdict, shift = observed(run(a, x), run(b, x))
    assert output.verdict == verdict, (output, verdict, shift)
    if verdict == "shifted":
        stated = {2 + ["H", "W"].index(axis): int(n) for axis, n in output.shift}
        assert stated == shift
    return verdict


def edit(path: Path, out: Path, change: Any) -> Path:
    model = onnx.load(str(path))
    change(model.graph)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return out


def node(graph: Any, op: str, n: int = 0) -> Any:
    return [x for x in graph.node if x.op_type == op][n]


def set_attr(target: Any, name: str, value: Any) -> None:
    kept = [a for a in target.attribute if a.name != name]
    del target.attribute[:]
    target.attribute.extend(kept)
    if value is not None:
        target.attribute.append(helper.make_attribute(name, value))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(build(), tmp_path_factory.mktemp("diff") / "net.onnx", dynamo=False)


@pytest.fixture(scope="module")
def x() -> Any:
    return np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_both_torch_exporters_are_faithful(dynamo: bool, tmp_path: Path, x: Any) -> None:
    if dynamo:
        pytest.importorskip("onnxscript")
    path = export(build(), tmp_path / "net.onnx", dynamo)
    source = Path(__file__)
    report = diff_models(f"{source}:build", str(path), [SHAPE])
    assert report.same and report.exit_code == 0
    assert [p.verdict for p in report.pairs] == ["same"] * 5
    with torch.no_grad():
        expected = build()(torch.from_numpy(x)).numpy()
    assert np.allclose(run(path, x), expected, atol=1e-5)


def test_moved_pads_shift_the_output_by_one_row(base: Path, tmp_path: Path, x: Any) -> None:
    b = edit(base, tmp_path / "b.onnx", lambda g: set_attr(node(g, "Conv", 2), "pads", [0, 1, 2, 1]))
    report = diff_models(str(base), str(b), [SHAPE])
    (first,) = report.differing
    assert first.name == "/c3/Conv" and first.verdict == "shifted"
    assert first.changes[0].text() == "pads on H 1:1 -> 0:2"
    assert first.reason() == "pads on H 1:1 -> 0:2: the output is shifted up by 1 row, same size"
    assert check_against_runtime(report, base, b, x) == "shifted"
    assert report.exit_code == 1


def test_a_shift_before_a_stride_2_layer_gives_other_values(base: Path, tmp_path: Path, x: Any) -> None:
    """c1 moved by one row; c2 (stride 2) then samples the odd rows: the output is no copy of A's."""
    b = edit(base, tmp_path / "b.onnx", lambda g: set_attr(node(g, "Conv", 0), "pads", [0, 1, 2, 1]))
    report = diff_models(str(base), str(b), [SHAPE])
    (first,) = report.differing
    assert first.name == "/c1/Conv" and first.verdict == "shifted"
    assert check_against_runtime(report, base, b, x) == "different values"


def test_dropped_output_padding_changes_the_size(base: Path, tmp_path: Path, x: Any) -> None:
    b = edit(base, tmp_path / "b.onnx", lambda g: set_attr(node(g, "ConvTranspose"), "output_padding", None))
    report = diff_models(str(base), str(b), [SHAPE])
    (first,) = report.differing
    assert first.name == "/up/ConvTranspose" and first.verdict == "different size"
    assert [c.text() for c in first.changes] == ["crops on H 1:0 -> 1:1", "crops on W 1:0 -> 1:1"]
    assert "output_padding=1x1" in first.a.spelling()[0] and "output_padding" not in first.b.spelling()[0]
    assert check_against_runtime(report, base, b, x) == "different size"


def test_resize_mode_changed_gives_other_values(base: Path, tmp_path: Path, x: Any) -> None:
    b = edit(base, tmp_path / "b.onnx", lambda g: set_attr(node(g, "Resize"), "mode", "linear"))
    report = diff_models(str(base), str(b), [SHAPE])
    (first,) = report.differing
    assert first.verdict == "different values" and first.changes[0].text() == "mode nearest -> linear"
    assert check_against_runtime(report, base, b, x) == "different values"


def _explicit_pad(graph: Any) -> None:
    """c1's pads moved into a Pad node before a VALID Conv: how some converters spell padding."""
    conv = node(graph, "Conv", 0)
    set_attr(conv, "pads", [0, 0, 0, 0])
    graph.initializer.append(numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pp"))
    pad = helper.make_node("Pad", [conv.input[0], "pp"], ["padded"], name="pad_c1", mode="constant")
    conv.input[0] = "padded"
    graph.node.insert(list(graph.node).index(conv), pad)


def test_an_explicit_pad_before_a_valid_conv_is_the_same_layer(base: Path, tmp_path: Path, x: Any) -> None:
    b = edit(base, tmp_path / "b.onnx", _explicit_pad)
    report = diff_models(str(base), str(b), [SHAPE])
    assert report.same, [p.reason() for p in report.pairs]
    assert [n.name for n in report.pairs[0].b.before] == ["pad_c1"]
    assert check_against_runtime(report, base, b, x) == "same"


def _slice_instead_of_crops(graph: Any) -> None:
    """The ConvTranspose computes its full output; a Slice crops it (begin 1, end 0 with output_padding)."""
    up = node(graph, "ConvTranspose")
    set_attr(up, "pads", [0, 0, 0, 0])
    set_attr(up, "output_padding", None)
    for name, values in (("st", [1, 1]), ("en", [18, 14]), ("ax", [2, 3])):
        graph.initializer.append(numpy_helper.from_array(np.array(values, np.int64), name))
    out = up.output[0]
    up.output[0] = "full"
    cut = helper.make_node("Slice", ["full", "st", "en", "ax"], [out], name="crop_up")
    graph.node.insert(list(graph.node).index(up) + 1, cut)


def test_a_slice_after_a_transposed_conv_is_its_crops(base: Path, tmp_path: Path, x: Any) -> None:
    b = edit(base, tmp_path / "b.onnx", _slice_instead_of_crops)
    report = diff_models(str(base), str(b), [SHAPE])
    assert report.same, [p.reason() for p in report.pairs]
    assert check_against_runtime(report, base, b, x) == "same"


def _transposes_around_up(perm_in: list[int], perm_out: list[int]) -> Any:
    def change(graph: Any) -> None:
        up = node(graph, "ConvTranspose")
        before = helper.make_node("Transpose", [up.input[0]], ["t_in"], name="t_in", perm=perm_in)
        out = up.output[0]
        up.input[0], up.output[0] = "t_in", "t_up"
        after = helper.make_node("Transpose", ["t_up"], [out], name="t_out", perm=perm_out)
        at = list(graph.node).index(up)
        graph.node.insert(at + 1, after)
        graph.node.insert(at, before)

    return change


def test_transposes_that_swap_h_and_w_around_a_transposed_conv(base: Path, tmp_path: Path, x: Any) -> None:
    b = edit(base, tmp_path / "b.onnx", _transposes_around_up([0, 1, 3, 2], [0, 1, 3, 2]))
    report = diff_models(str(base), str(b), [SHAPE])
    (first,) = report.differing
    assert first.name == "/up/ConvTranspose" and first.verdict == "different values"
    assert "axis order H,W -> W,H" in first.reason()
    assert check_against_runtime(report, base, b, x) == "different values"


def _nhwc_model(graph: Any) -> None:
    """The whole model in NHWC at its input and output, Transposes inserted as tf2onnx does."""
    first, last = graph.node[0], graph.node[-1]
    x, y = graph.input[0].name, graph.output[0].name
    into = helper.make_node("Transpose", ["x_nhwc"], [x + "_t"], name="to_nchw", perm=[0, 3, 1, 2])
    for n in graph.node:
        for k, name in enumerate(n.input):
            if name == x:
                n.input[k] = x + "_t"
    last.output[0] = "y_nchw"
    back = helper.make_node("Transpose", ["y_nchw"], [y], name="to_nhwc", perm=[0, 2, 3, 1])
    graph.node.insert(0, into)
    graph.node.append(back)
    del graph.input[0]
    graph.input.insert(0, helper.make_tensor_value_info("x_nhwc", TensorProto.FLOAT, [1, 16, 12, 3]))
    del graph.output[0]
    graph.output.append(helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 32, 24, 2]))
    assert first is not None


def test_an_nhwc_conversion_with_its_transposes_is_faithful(base: Path, tmp_path: Path, x: Any) -> None:
    b = edit(base, tmp_path / "b.onnx", _nhwc_model)
    report = diff_models(str(base), str(b), [SHAPE])
    assert report.b.input_shapes == ((1, 16, 12, 3),)
    assert report.b.input_names == (("N", "H", "W", "C"),)
    assert report.same, [p.reason() for p in report.pairs]
    nhwc = run(b, np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    assert np.allclose(run(base, x), nhwc.transpose(0, 3, 1, 2), atol=1e-5)


def conv_model(path: Path, size: tuple[int, int], kernel: int, stride: int, **attrs: Any) -> Path:
    """One Conv (3 -> 2 channels, fixed random weights) with the given padding attributes."""
    weight = np.random.default_rng(1).standard_normal((2, 3, kernel, kernel)).astype(np.float32)
    conv = helper.make_node(
        "Conv",
        ["x", "w"],
        ["y"],
        name="conv",
        kernel_shape=[kernel, kernel],
        strides=[stride, stride],
        **attrs,
    )
    graph = helper.make_graph(
        [conv],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, *size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, None, None])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    ("kernel", "stride", "attrs", "verdict", "change"),
    [
        # k4 s1: SAME_UPPER pads 1:2; written 2:1 (the odd pad at the start) the output moves down/right
        (4, 1, {"pads": [2, 2, 1, 1]}, "shifted", "pads on H 1:2 -> 2:1"),
        (4, 1, {"auto_pad": "SAME_LOWER"}, "shifted", "pads on H 1:2 -> 2:1"),
        # k3 s2 on 16: SAME_UPPER pads 0:1; SAME_LOWER 1:0 moves the windows by half a stride
        (3, 2, {"auto_pad": "SAME_LOWER"}, "different values", "pads on H 0:1 -> 1:0"),
        (3, 1, {"pads": [1, 1, 1, 1]}, "same", None),
    ],
)
def test_same_upper_written_otherwise(
    kernel: int, stride: int, attrs: dict[str, Any], verdict: str, change: str | None, tmp_path: Path
) -> None:
    a = conv_model(tmp_path / "a.onnx", (16, 12), kernel, stride, auto_pad="SAME_UPPER")
    b = conv_model(tmp_path / "b.onnx", (16, 12), kernel, stride, **attrs)
    report = diff_models(str(a), str(b), [(1, 3, 16, 12)])
    (pair,) = report.pairs
    assert pair.verdict == verdict
    if change is not None:
        assert pair.changes[0].text() == change
    x = np.random.default_rng(2).standard_normal((1, 3, 16, 12)).astype(np.float32)
    assert check_against_runtime(report, a, b, x) == verdict
    if verdict == "shifted":
        assert "shifted down by 1 row, right by 1 column" in pair.reason()


def residual_model(path: Path, pads: list[int]) -> Path:
    """y = x + Conv(x): a residual block, the shape every ResNet and U-Net repeats."""
    weight = np.random.default_rng(4).standard_normal((3, 3, 3, 3)).astype(np.float32)
    conv = helper.make_node("Conv", ["x", "w"], ["c"], name="branch", kernel_shape=[3, 3], pads=pads)
    add = helper.make_node("Add", ["x", "c"], ["y"], name="add")
    graph = helper.make_graph(
        [conv, add],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 16, 12])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_a_shifted_branch_added_to_its_skip_gives_other_values(tmp_path: Path) -> None:
    """The branch alone is a moved copy; added to the unmoved input it is not (both files run)."""
    a = residual_model(tmp_path / "a.onnx", [1, 1, 1, 1])
    b = residual_model(tmp_path / "b.onnx", [0, 1, 2, 1])
    report = diff_models(str(a), str(b), [(1, 3, 16, 12)])
    (first,) = report.differing
    assert first.name == "branch" and first.verdict == "shifted"
    x = np.random.default_rng(5).standard_normal((1, 3, 16, 12)).astype(np.float32)
    assert check_against_runtime(report, a, b, x) == "different values"


PUBLISHED = {  # tests/inspect_models.py: factory name -> input shape
    "dcgan_generator": (1, 100, 1, 1),
    "dcgan_discriminator": (1, 3, 64, 64),
    "UNet": (1, 3, 64, 64),
    "pix2pix_generator": (1, 3, 64, 64),
    "decoder_1d": (1, 8, 10),
}


def _published(name: str, tmp_path: Path) -> tuple[Any, Path, Any]:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import inspect_models as im

    torch.manual_seed(0)
    module = getattr(im, name)().eval()
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(im.export(module, PUBLISHED[name]))
    return module, path, im


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_models_and_their_exports_are_faithful(name: str, tmp_path: Path) -> None:
    module, path, im = _published(name, tmp_path)
    shape = PUBLISHED[name]
    report = diff_models(f"{Path(im.__file__)}:{name}", str(path), [shape])
    assert report.same, [p.reason() for p in report.pairs if p.differs]
    assert all(p.a is not None and p.b is not None for p in report.pairs)
    x = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    assert np.allclose(run(path, x), expected, atol=1e-4)


def test_moved_crops_inside_pix2pix_give_other_values_after_the_skip(tmp_path: Path) -> None:
    """A transposed convolution's pads 1,1 -> 0,2 on H: its output moves down by one row, and its
    concatenation with the unmoved skip makes other values (ONNX Runtime runs both)."""
    _, path, _ = _published("pix2pix_generator", tmp_path)
    b = edit(path, tmp_path / "b.onnx", lambda g: set_attr(node(g, "ConvTranspose", 1), "pads", [0, 1, 2, 1]))
    report = diff_models(str(path), str(b), [(1, 3, 64, 64)])
    (first,) = report.differing
    assert first.verdict == "shifted" and first.changes[0].text() == "crops on H 1:1 -> 0:2"
    assert "shifted down by 1 row" in first.reason()
    x = np.random.default_rng(7).standard_normal((1, 3, 64, 64)).astype(np.float32)
    assert check_against_runtime(report, path, b, x) == "different values"


def test_an_added_output_padding_that_breaks_a_skip_means_b_does_not_run(tmp_path: Path) -> None:
    """B's transposed convolution gives 9x9 where its skip is 8x8: ONNX Runtime refuses B's Concat."""
    _, path, _ = _published("pix2pix_generator", tmp_path)
    b = edit(
        path, tmp_path / "b.onnx", lambda g: set_attr(node(g, "ConvTranspose", 1), "output_padding", [1, 1])
    )
    report = diff_models(str(path), str(b), [(1, 3, 64, 64)])
    (first,) = report.differing
    assert first.verdict == "different size" and "output 8x8 -> 9x9" in first.reason()
    (output,) = report.outputs
    assert output.verdict == "different size" and output.b_shape is None
    assert (
        output.note is not None and output.note.startswith("B does not run: node") and "Concat" in output.note
    )
    x = np.random.default_rng(8).standard_normal((1, 3, 64, 64)).astype(np.float32)
    run(path, x)
    with pytest.raises(Exception, match="Concat"):
        run(b, x)


class ResizedToInput(nn.Module):
    """Down by a strided convolution, then back to the input's own size: `interpolate(size=x.shape[2:])`
    exports a Resize whose sizes the graph computes from a Shape (no constant to read)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, 2, 1)
        self.head = nn.Conv2d(4, 2, 3, 1, 1)

    def forward(self, x: Any) -> Any:
        y = nn.functional.interpolate(self.down(x), size=x.shape[2:], mode="nearest")
        return self.head(y)


def resized_to_input() -> nn.Module:
    torch.manual_seed(0)
    return ResizedToInput().eval()


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_a_resize_to_a_computed_size_is_compared_not_a_crash(dynamo: bool, tmp_path: Path, x: Any) -> None:
    if dynamo:
        pytest.importorskip("onnxscript")
    path = export(resized_to_input(), tmp_path / "rs.onnx", dynamo)
    source = Path(__file__)
    for a in (str(path), f"{source}:resized_to_input"):
        report = diff_models(a, str(path), [SHAPE])
        assert report.same and report.exit_code == 0, report.headline()
        resize = next(p for p in report.pairs if p.a is not None and p.a.kind == "resize")
        assert [(f.size, f.output) for f in resize.a_form or ()] == [(8, 16), (6, 12)]
        if resize.a is not None and resize.a.node.spec.sizes == ():  # computed (TorchScript export)
            assert "sizes=computed from other sizes" in " ".join(resize.a.spelling())
    with torch.no_grad():
        expected = resized_to_input()(torch.from_numpy(x)).numpy()
    assert np.allclose(run(path, x), expected, atol=1e-5)
    # A pad moved before the resize: the same size comes back, the values are B's own (ONNX Runtime).
    b = edit(path, tmp_path / "b.onnx", lambda g: set_attr(node(g, "Conv", 0), "pads", [0, 0, 2, 2]))
    report = diff_models(str(path), str(b), [SHAPE])
    assert not report.same and report.exit_code == 1
    check_against_runtime(report, path, b, x)
