"""`convcalc diff` on the command line: headline first, tables at 80 columns, JSON against its schema,
exit codes 0 / 1 / 2, hostile files refused by the readers' own checks, and the shift arithmetic
checked by ONNX Runtime on random 1-D convolutions, transposed convolutions and poolings (a property)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

np = pytest.importorskip("numpy")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from convcalc.cli import app  # noqa: E402
from convcalc.diff.report import diff_models  # noqa: E402
from convcalc.schemas import schema  # noqa: E402

runner = CliRunner()
KERAS = Path(__file__).parent / "data" / "keras"


def conv_chain(path: Path, layers: list[tuple[str, dict[str, Any]]], shape: tuple[int, ...]) -> Path:
    """A chain of ONNX nodes (Conv / ConvTranspose with 2 -> 2 channels, MaxPool, Resize), fixed weights."""
    rng = np.random.default_rng(3)
    ndim = len(shape) - 2
    nodes, inits = [], []
    x = "x"
    for n, (op, attrs) in enumerate(layers):
        y = f"t{n}"
        inputs = [x]
        if op in ("Conv", "ConvTranspose"):
            k = attrs["kernel_shape"]
            weight = rng.standard_normal((2, 2, *k)).astype(np.float32)
            inits.append(numpy_helper.from_array(weight, f"w{n}"))
            inputs.append(f"w{n}")
        if op == "Resize":
            inits.append(numpy_helper.from_array(np.array([1, 1] + [2] * ndim, np.float32), f"s{n}"))
            inputs += ["", f"s{n}"]
        nodes.append(helper.make_node(op, inputs, [y], name=f"layer{n}", **attrs))
        x = y
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 2, *([None] * ndim)])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


CHAIN = [
    ("Conv", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2]}),
    (
        "ConvTranspose",
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
    ),
    ("Conv", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
]


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    a = conv_chain(tmp_path / "a.onnx", CHAIN, (1, 2, 16, 16))
    same = conv_chain(tmp_path / "same.onnx", CHAIN, (1, 2, 16, 16))
    moved = [*CHAIN[:3], ("Conv", {"kernel_shape": [3, 3], "pads": [0, 1, 2, 1]})]
    b = conv_chain(tmp_path / "moved.onnx", moved, (1, 2, 16, 16))
    return a, same, b


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "80", "NO_COLOR": "1"})


def test_faithful_exits_0_with_the_headline_first(pair: tuple[Path, Path, Path]) -> None:
    a, same, _ = pair
    result = invoke("diff", str(a), str(same), "--input", "1x2x16x16")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(
        "faithful: B computes what A computes (4 conv-like layers"
    )
    assert "output 0 (t3 / t3): same" in result.stdout


def test_a_moved_pad_exits_1_and_names_layer_and_argument(pair: tuple[Path, Path, Path]) -> None:
    a, _, b = pair
    result = invoke("diff", str(a), str(b), "--input", "1x2x16x16")
    assert result.exit_code == 1
    head = result.stdout.splitlines()[0]
    assert head.startswith("1 of 4 layers differs; first: layer layer3: pads on H 1:1 -> 0:2")
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert "shifted up by 1 row" in result.stdout


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_table_fits_without_cutting_a_number(pair: tuple[Path, Path, Path], width: int) -> None:
    a, _, b = pair
    result = runner.invoke(
        app, ["diff", str(a), str(b), "-i", "1x2x16x16"], env={"COLUMNS": str(width), "NO_COLOR": "1"}
    )
    lines = result.stdout.splitlines()
    assert all(len(line) <= width for line in lines)
    assert "…" not in result.stdout
    for word in ("pads=1,1,1,1", "pads=0,1,2,1", "H=0:2", "output_padding=1x1"):
        assert any(word in line for line in lines), word


def test_json_validates_and_says_what_the_table_says(pair: tuple[Path, Path, Path]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    a, same, b = pair
    for other, code in ((same, 0), (b, 1)):
        result = invoke("diff", str(a), str(other), "--input", "1x2x16x16", "--json")
        assert result.exit_code == code
        document = json.loads(result.stdout)
        jsonschema.validate(document, schema("diff"), cls=jsonschema.Draft202012Validator)
        assert document["exit_code"] == code and document["same"] == (code == 0)
    assert document["layers"][3]["shift"] == {"H": -1, "W": 0}
    assert document["layers"][3]["changes"] == [{"argument": "pads", "axis": "H", "a": "1:1", "b": "0:2"}]
    assert document["outputs"][0]["verdict"] == "shifted"
    assert document["counts"]["shifted"] == 1 and document["counts"]["same"] == 3
    broken = dict(document, exit_code=2)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema("diff"))


def test_missing_and_extra_layers(tmp_path: Path) -> None:
    a = conv_chain(tmp_path / "a.onnx", CHAIN, (1, 2, 16, 16))
    fewer = conv_chain(tmp_path / "b.onnx", [CHAIN[0], CHAIN[3]], (1, 2, 16, 16))
    report = diff_models(str(a), str(fewer), [(1, 2, 16, 16)])
    assert [p.verdict for p in report.pairs] == ["same", "missing", "missing", "same"]
    back = diff_models(str(fewer), str(a), [(1, 2, 16, 16)])
    assert [p.verdict for p in back.pairs] == ["same", "extra", "extra", "same"]
    assert report.outputs[0].verdict == "same" or report.outputs[0].verdict == "different values"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff", "{open}", "{open}"], "diff needs A's input shape: {open} leaves its spatial size open"),
        (["diff", "{a}", "{a}", "-i", "1x0x3"], "--input must be a full shape"),
        (["diff", "{a}", "{a}", "-i", "1x2x16"], "has rank 3"),
        (["diff", "{a}", "nowhere.onnx", "-i", "1x2x16x16"], "nowhere.onnx: cannot read the file"),
        (["diff", "{a}", "{junk}", "-i", "1x2x16x16"], "not a readable ONNX model"),
        (["diff", "{a}", "model.txt", "-i", "1x2x16x16"], "model must be an .onnx, .keras"),
        (["diff", "{a}", "{a}", "-i", "1x2x16x16", "--svg", "x.png"], "the file name must end in .svg"),
        (["diff", "{a}", "{a}", "-i", "1x2x3x3"], "does not run on input 1x2x3x3"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_a_json_error(
    args: list[str], message: str, tmp_path: Path
) -> None:
    if "1x2x3x3" in args:  # a 5x5 window on a 3x3 input
        a = conv_chain(tmp_path / "a.onnx", [("Conv", {"kernel_shape": [5, 5]})], (1, 2, 3, 3))
    else:
        a = conv_chain(tmp_path / "a.onnx", CHAIN, (1, 2, 16, 16))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(a.read_bytes()[:57])
    names = {"a": a, "junk": junk, "open": KERAS / "unet2d.keras"}
    filled = [arg.format(**names) for arg in args]
    message = message.format(**names)
    result = invoke(*filled)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    as_json = invoke(*filled, "--json")
    assert as_json.exit_code == 2
    error = json.loads(as_json.stdout)
    assert error["command"] == "diff" and message in error["error"]["message"]


def test_a_keras_file_against_itself_is_faithful_in_its_own_layout() -> None:
    path = KERAS / "dcgan_generator.keras"
    report = diff_models(str(path), str(path), [(1, 1, 1, 4)])
    assert report.same and report.pairs
    assert report.a.input_names[0][-1] == "C"
    assert all(p.a is not None and p.a.channel_name == "C" for p in report.pairs)


def _observed(a: Any, b: Any) -> set[tuple[str, int]]:
    """Every verdict that one run of A and B is consistent with (max pooling has plateaus, so B can
    match A moved by more than one amount)."""
    if a.shape != b.shape:
        return {("different size", 0)}
    if np.allclose(a, b, atol=1e-4):
        return {("same", 0)}
    size = a.shape[2]
    found = set()
    for n in (-3, -2, -1, 1, 2, 3):
        lo, hi = max(0, -n), size - max(0, n)
        # away from the borders, where A and B read different padding
        lo, hi = lo + 3, hi - 3
        if hi > lo and np.allclose(a[..., lo:hi], b[..., lo + n : hi + n], atol=1e-4):
            found.add(("shifted", n))
    return found or {("different values", 0)}


def _run(path: Path, x: Any) -> Any:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


@settings(max_examples=60)
@example(op="Conv", extra=0, stride=2, pads=(1, 1), move=-1, other=None, size=16)  # half a stride
@example(op="MaxPool", extra=0, stride=2, pads=(0, 2), move=2, other=None, size=15)
@example(op="ConvTranspose", extra=1, stride=3, pads=(2, 0), move=-1, other=None, size=13)
@example(op="MaxPool", extra=1, stride=3, pads=(1, 0), move=-2, other=(0, 3), size=13)  # shared maxima
@given(
    op=st.sampled_from(["Conv", "ConvTranspose", "MaxPool", "AveragePool"]),
    extra=st.integers(0, 1),
    stride=st.integers(1, 3),
    pads=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    move=st.sampled_from([-2, -1, 1, 2]),
    other=st.one_of(st.none(), st.tuples(st.integers(0, 3), st.integers(0, 3))),
    size=st.integers(12, 18),
)
def test_the_verdict_is_what_onnx_runtime_computes(
    op: str,
    extra: int,
    stride: int,
    pads: tuple[int, int],
    move: int,
    other: tuple[int, int] | None,
    size: int,
    tmp_path_factory: Any,
) -> None:
    """Two 1-D layers that differ only in their pads (B's moved by `move`, or other pads): diff's
    verdict and shift against ONNX Runtime running both (AveragePool counts real inputs only, ONNX's
    default, so its padded borders differ and the interior is compared)."""
    moved = other if other is not None else (pads[0] + move, pads[1] - move)
    if min(*pads, *moved) < 0:
        return  # ONNX pads are >= 0
    kernel = max(*pads, *moved) + 1 + extra  # a pad as wide as the window would read only zeros
    folder = tmp_path_factory.mktemp("prop")
    a, b = (
        conv_chain(
            folder / f"{name}.onnx",
            [(op, {"kernel_shape": [kernel], "strides": [stride], "pads": list(p)})],
            (1, 2, size),
        )
        for name, p in (("a", pads), ("b", moved))
    )
    report = diff_models(str(a), str(b), [(1, 2, size)])
    # Max pooling of one random input can pick the same maximum from windows that differ (overlapping
    # windows share their largest element): what holds on every one of several inputs is the verdict.
    rng = np.random.default_rng(size)
    runs = [rng.standard_normal((1, 2, size)).astype(np.float32) for _ in range(4)]
    held = set.intersection(*(_observed(_run(a, x), _run(b, x)) for x in runs))
    verdict, shift = min(held, key=lambda v: abs(v[1])) if held else ("different values", 0)
    stated = report.outputs[0]
    event(f"{stated.verdict} / {verdict}")
    assert report.pairs[0].verdict == stated.verdict
    if stated.verdict == "shifted" and verdict != "shifted":
        # moved so far that too few elements overlap away from the borders to see the copy
        assert stated.a_shape is not None
        assert verdict == "different values" and stated.a_shape[2] - 6 - abs(int(dict(stated.shift)["L"])) < 2
        return
    assert stated.verdict == verdict, (report.pairs[0].reason(), verdict)
    if verdict == "shifted":
        assert shift == int(dict(stated.shift)["L"])


def test_hostile_files_exit_0_1_or_2_never_a_traceback(tmp_path: Path) -> None:
    """Bytes of a real export flipped or cut: the readers' checks refuse it (2) or it reads (0 / 1)."""
    data = (Path(__file__).parent / "data" / "diff" / "net.onnx").read_bytes()
    good = tmp_path / "good.onnx"
    good.write_bytes(data)
    rng = np.random.default_rng(7)
    codes = set()
    for n in range(24):
        mutated = bytearray(data)
        if n % 4 == 0:
            mutated = mutated[: int(rng.integers(1, len(data)))]
        else:
            for at in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
                mutated[at] = int(rng.integers(0, 256))
        bad = tmp_path / f"bad{n}.onnx"
        bad.write_bytes(bytes(mutated))
        for args in ([str(good), str(bad)], [str(bad), str(good)]):
            result = runner.invoke(app, ["diff", *args, "-i", "1x3x16x12"])
            assert isinstance(result.exception, SystemExit) or result.exception is None, result.exception
            assert result.exit_code in (0, 1, 2)
            codes.add(result.exit_code)
    assert 2 in codes


def test_the_picture_hook_marks_the_nodes_of_the_changed_layer(pair: tuple[Path, Path, Path]) -> None:
    from convcalc.diff.marks import changed_nodes

    a, same, b = pair
    assert changed_nodes(diff_models(str(a), str(same), [(1, 2, 16, 16)])) == ({}, {})
    marks_a, marks_b = changed_nodes(diff_models(str(a), str(b), [(1, 2, 16, 16)]))
    assert list(marks_a) == ["layer3"] and list(marks_b) == ["layer3"]
    assert marks_b["layer3"] == "pads on H 1:1 -> 0:2: the output is shifted up by 1 row, same size"


DIFF_DATA = Path(__file__).parent / "data" / "diff"


def test_input_b_gives_bs_shape_in_its_own_layout() -> None:
    a, b = str(DIFF_DATA / "net.onnx"), str(DIFF_DATA / "net_nhwc.onnx")
    derived = invoke("diff", a, b, "-i", "1x3x16x12", "--json")
    given_b = invoke("diff", a, b, "-i", "1x3x16x12", "--input-b", "1x16x12x3", "--json")
    assert derived.exit_code == given_b.exit_code == 1
    assert json.loads(derived.stdout)["b"]["inputs"] == json.loads(given_b.stdout)["b"]["inputs"]
    assert json.loads(given_b.stdout)["b"]["inputs"][0]["axes"] == ["N", "H", "W", "C"]
    wrong = invoke("diff", a, b, "-i", "1x3x16x12", "--input-b", "1x3x16x12")
    assert wrong.exit_code == 2 and "axis 1 of input 'x' is fixed at 16" in wrong.stderr


def test_svg_draws_both_models_with_the_changed_layer_marked(
    pair: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    a, _, b = pair
    picture = tmp_path / "diff.svg"
    result = invoke("diff", str(a), str(b), "-i", "1x2x16x16", "--svg", str(picture))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"wrote the picture of {a} and {b} to {picture}: 1 of 4 layers differs")
    text = picture.read_text()
    assert text.startswith("<svg") and f"A: {a} (onnx" in text and f"B: {b} (onnx" in text
    assert text.count("shifted up by 1 row") >= 2  # the mark in A's panel and in B's
    as_json = invoke("diff", str(a), str(b), "-i", "1x2x16x16", "--svg", str(picture), "--json")
    document = json.loads(as_json.stdout)
    assert document["svg_files"] == [str(picture)] and document["exit_code"] == 1
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(document, schema("diff"), cls=jsonschema.Draft202012Validator)


def test_a_wrong_input_b_is_named_as_input_b(pair: tuple[Path, Path, Path]) -> None:
    a, same, _ = pair
    result = invoke("diff", str(a), str(same), "--input", "1x2x16x16", "--input-b", "1x2x16")
    assert result.exit_code == 2
    assert "--input-b 1x2x16 has rank 3" in result.stderr
    result = invoke("diff", str(a), str(same), "--input", "1x2x16x16", "--input-b", "1x2x16", "--json")
    error = json.loads(result.stdout)["error"]
    assert error["parameter"] == "input_b" and error["message"].startswith("--input-b 1x2x16")
