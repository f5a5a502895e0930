"""The `.tflite` reader and the TFLite convention, without TensorFlow.

Witnesses: the shapes the TFLite interpreter gave for every tensor of the committed models
(tests/data/tflite_h5/records.json, written by make.py with the reference kernels); TensorFlow's own
convention where TFLite must agree with it; hand-worked crops; and corrupted files, which must give a
ConvCalcError (exit 2, no traceback) and nothing else. The interpreter itself runs in
tests/test_inspect_tflite_interpreter.py when TensorFlow is installed.
"""

from __future__ import annotations

import json
import random
import struct
import sys
from pathlib import Path

import pytest

from convcalc.conventions import read
from convcalc.conventions.tflite import consistent_output_range, transposed_crop_before
from convcalc.errors import ConvCalcError

DATA = Path(__file__).parent / "data" / "tflite_h5"
RECORDS = {r["file"]: r for r in json.loads((DATA / "records.json").read_text())}


def _tflite() -> None:
    pytest.importorskip("tflite")


# --- The convention ------------------------------------------------------------------------------


def test_transposed_crop_is_half_the_forward_padding_of_the_output_shape() -> None:
    # O=10, k=3, s=2 'SAME': the forward conv from 10 gives 5 windows, padding 4*2+3-10 = 1 -> crop 0 first.
    assert transposed_crop_before(10, 3, 2, "same") == 0
    layer = read("tflite", 5, 3, stride=2, padding="same", output_size=10, transposed=True)
    assert layer.placement == ((0, 1),) and layer.output == (10,)
    # O=9: padding 4*2+3-9 = 2 -> one element cropped at each end of the full 11.
    layer = read("tflite", 5, 3, stride=2, padding="same", output_size=9, transposed=True)
    assert layer.placement == ((1, 1),)
    # 'VALID' O=12 from the full 11: nothing cropped first, one zero appended.
    valid = read("tflite", 5, 3, stride=2, padding="valid", output_size=12, transposed=True)
    assert valid.placement == ((0, -1),)


@pytest.mark.parametrize("word", ["same", "valid"])
def test_tflite_agrees_with_tensorflow_wherever_tensorflow_accepts_the_output_shape(word: str) -> None:
    # tf.nn.conv2d_transpose (checked against TensorFlow in test_framework_records) and the interpreter
    # compute the same crops for every output_shape TensorFlow accepts.
    for size in range(1, 7):
        for kernel in range(1, 6):
            for stride in range(1, 4):
                lo, hi = consistent_output_range(size, kernel, stride, word)
                for out in range(max(lo, 1), hi + 1):
                    kw = {"stride": stride, "padding": word, "output_size": out, "transposed": True}
                    tfl = read("tflite", size, kernel, **kw)
                    tf = read("tensorflow", size, kernel, **kw)
                    assert tfl.placement == tf.placement and not tfl.unsupported_by


def test_an_output_shape_computed_as_keras_does_reads_as_the_keras_layer() -> None:
    # Why the reader hands a computed output_shape (i*s for SAME, (i-1)*s + max(K, s) for VALID) to
    # the Keras convention: at those sizes TFLite's crops are Keras's, for every size, kernel and stride.
    for size in range(1, 8):
        for kernel in range(1, 7):
            for stride in range(1, 5):
                for word, out in (
                    ("same", size * stride),
                    ("valid", (size - 1) * stride + max(kernel, stride)),
                ):
                    kw = {"stride": stride, "padding": word, "transposed": True}
                    keras = read("keras", size, kernel, **kw)
                    tfl = read("tflite", size, kernel, output_size=out, **kw)
                    assert keras.placement == tfl.placement and keras.output == (out,)
                    assert not tfl.unsupported_by


def test_an_output_shape_the_input_does_not_give_is_cropped_at_the_end_and_flagged() -> None:
    # The reference kernel keeps the start (crop from O alone) and cuts or zero-extends the end.
    layer = read("tflite", 2, 3, stride=2, padding="valid", output_size=7, transposed=True)
    assert layer.placement == ((0, -2),)
    assert layer.unsupported_by == ("TFLite's optimized kernel and XNNPACK delegate",)
    assert "uninitialised memory" in layer.notes[0]


def test_tflite_convolutions_pad_as_tensorflow_and_refuse_what_the_ops_cannot_say() -> None:
    for size, kernel, stride, dilation in [(7, 3, 2, 1), (8, 4, 3, 1), (9, 3, 1, 2), (5, 2, 2, 1)]:
        kw = {"stride": stride, "dilation": dilation, "padding": "same"}
        assert (
            read("tflite", size, kernel, **kw).placement == read("tensorflow", size, kernel, **kw).placement
        )
    with pytest.raises(ConvCalcError, match="padding 'SAME' or 'VALID' only"):
        read("tflite", 5, 3, padding=((1, 1),))
    with pytest.raises(ConvCalcError, match="TRANSPOSE_CONV has no dilation"):
        read("tflite", 5, 3, dilation=2, padding="same", output_size=9, transposed=True)
    with pytest.raises(ConvCalcError, match="output_shape input tensor"):
        read("tflite", 5, 3, padding="same", transposed=True)


# --- The reader against the interpreter's shapes -------------------------------------------------


@pytest.mark.parametrize("name", ["unet.tflite", "unet_fp16.tflite"])
def test_every_tensor_shape_matches_the_interpreter(name: str) -> None:
    _tflite()
    from convcalc.inspect import inspect_model

    report = inspect_model(str(DATA / name))
    ((size, observed),) = RECORDS[name]["runs"].items()
    assert "x".join(map(str, report.input_shapes[0])) == size
    compared = 0
    kinds = set()
    for node_run in report.run.nodes:
        for tensor, shape in zip(node_run.node.outputs, node_run.outputs):
            if tensor in observed:
                assert list(shape) == observed[tensor], (node_run.node.name, tensor)
                compared += 1
                kinds.add(node_run.node.kind)
    assert report.runs and compared == len(report.run.nodes) - 1  # MEAN's pooling half has no tensor
    assert {"conv", "conv_transpose", "pool", "pad", "resize", "concat", "elementwise", "dense"} <= kinds
    assert {"flatten", "shape_preserving"} <= kinds


DYNAMIC = list(RECORDS["unet_dynamic.tflite"]["runs"])


@pytest.mark.parametrize("size", DYNAMIC)
def test_a_model_converted_with_dynamic_sizes_runs_and_fails_where_the_interpreter_does(size: str) -> None:
    # TRANSPOSE_CONV's output_shape is computed from SHAPE at run time; the interpreter ran the model
    # resized to each size (its own kernels) or refused it in CONCATENATION.
    _tflite()
    from convcalc.inspect import inspect_model

    observed = RECORDS["unet_dynamic.tflite"]["runs"][size]
    report = inspect_model(str(DATA / "unet_dynamic.tflite"), [tuple(int(v) for v in size.split("x"))])
    if "error" in observed:
        assert "CONCATENATION" in observed["error"]
        assert not report.runs and [m.op for m in report.merges] == ["CONCATENATION"]
        return
    assert report.runs
    compared = 0
    for node_run in report.run.nodes:
        for tensor, shape in zip(node_run.node.outputs, node_run.outputs):
            if tensor in observed:
                assert list(shape) == observed[tensor], tensor
                compared += 1
    assert compared == len(report.run.nodes) == 5


def test_a_computed_output_shape_is_read_as_the_keras_layer_it_came_from() -> None:
    _tflite()
    from convcalc.inspect.tflite_reader import read_tflite

    graph = read_tflite(DATA / "unet_dynamic.tflite")
    ups = [n for n in graph.nodes if n.op == "TRANSPOSE_CONV"]
    assert [n.spec.framework for n in ups] == ["keras", "keras"]  # type: ignore[union-attr]
    assert [dict(n.spec.arguments)["output_shape"] for n in ups] == [  # type: ignore[union-attr]
        "[N, 2*H+1, 2*W+1, 3]",
        "[N, 2*H, 2*W, 2]",
    ]
    assert graph.inputs[0].shape == ("?", "?", "?", 3)


def test_the_reader_keeps_tflite_arguments_and_folds_weight_dequantize() -> None:
    _tflite()
    from convcalc.inspect.tflite_reader import read_tflite

    graph = read_tflite(DATA / "unet.tflite")
    up = next(n for n in graph.nodes if n.op == "TRANSPOSE_CONV" and "up_1" in n.name)
    assert up.kind == "conv_transpose" and up.spec is not None
    assert up.spec.framework == "tflite" and up.spec.output_size == (15, 17)  # type: ignore[union-attr]
    assert dict(up.spec.arguments)["output_shape"] == "[N, 15, 17, 3]"  # type: ignore[union-attr]
    # UpSampling2D converts to EXPAND_DIMS/TILE/RESHAPE per axis: folded back into a nearest resize of
    # that axis. The dilated Conv2D (dilation_rate=2, 'same') converts to SPACE_TO_BATCH_ND, a 'VALID'
    # CONV_2D and BATCH_TO_SPACE_ND: folded back into one dilated CONV_2D. Nothing is left unknown.
    assert not [n.op for n in graph.nodes if n.kind == "unknown"]
    ups = [n.spec for n in graph.nodes if "ups_1" in n.name]
    assert [s.scales for s in ups] == [(1, 2, 2, 1)]  # type: ignore[union-attr]
    (dilated,) = [n for n in graph.nodes if "dil_1" in n.name]
    assert dilated.spec.dilation == (2, 2) and dilated.spec.padding == "same"  # type: ignore[union-attr]
    assert dilated.outputs == ("unet_1/dil_1/convolution/BatchToSpaceND",)
    assert [n.kind for n in graph.nodes if n.op == "MEAN"] == ["global_pool", "flatten"]
    fp16 = read_tflite(DATA / "unet_fp16.tflite")
    assert "DEQUANTIZE" not in {n.op for n in fp16.nodes}
    assert [n.op for n in fp16.nodes if n.kind != "unknown"] == [
        n.op for n in graph.nodes if n.kind != "unknown"
    ]


# --- Hostile and broken files --------------------------------------------------------------------


def _refused(path: Path, match: str) -> None:
    from convcalc.inspect.tflite_reader import read_tflite

    with pytest.raises(ConvCalcError, match=match) as caught:
        read_tflite(path)
    assert str(path) in str(caught.value)


def test_files_that_are_not_tflite_models_are_refused(tmp_path: Path) -> None:
    _tflite()
    _refused(tmp_path / "absent.tflite", "cannot read the file")
    (tmp_path / "empty.tflite").write_bytes(b"")
    _refused(tmp_path / "empty.tflite", "too short")
    (tmp_path / "onnx.tflite").write_bytes(b"\x08\x07\x12\x07pytorch" + bytes(64))
    _refused(tmp_path / "onnx.tflite", r"identifier b'TFL3'")


def test_truncated_and_corrupted_files_give_a_convcalc_error_only(tmp_path: Path) -> None:
    _tflite()
    from convcalc.inspect.tflite_reader import read_tflite

    data = (DATA / "unet.tflite").read_bytes()
    rng = random.Random(7)
    path = tmp_path / "bad.tflite"
    outcomes = {"refused": 0, "read": 0}
    cases = [data[:n] for n in (16, 40, 200, 1000, len(data) // 2, len(data) - 1)]
    for _ in range(150):
        broken = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(8, len(broken) - 4)
            broken[at : at + 4] = struct.pack(
                "<I", rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, rng.getrandbits(32)])
            )
        cases.append(bytes(broken))
    for case in cases:
        path.write_bytes(case)
        try:
            read_tflite(path)
            outcomes["read"] += 1
        except ConvCalcError as error:
            assert str(path) in str(error)
            outcomes["refused"] += 1
    assert outcomes["refused"] >= 6


def test_huge_declared_counts_are_refused_before_the_loop(tmp_path: Path) -> None:
    _tflite()
    import tflite

    data = bytearray((DATA / "unet.tflite").read_bytes())
    model = tflite.Model.GetRootAs(bytes(data), 0)
    sub = model.Subgraphs(0)
    # The operators vector: its uint32 length sits where the vtable's field 4 (operators) points.
    field = sub._tab.Offset(10)
    vector = sub._tab.Vector(field) - 4
    assert struct.unpack_from("<I", data, vector)[0] == sub.OperatorsLength()
    struct.pack_into("<I", data, vector, 50_000_000)
    path = tmp_path / "many.tflite"
    path.write_bytes(bytes(data))
    _refused(path, "declares 50000000 operators; inspect reads up to 200000")


def test_cli_exit_code_two_without_traceback_and_json_error(tmp_path: Path) -> None:
    _tflite()
    from typer.testing import CliRunner

    from convcalc.cli import app

    path = tmp_path / "cut.tflite"
    path.write_bytes((DATA / "unet.tflite").read_bytes()[:300])
    result = CliRunner().invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 2 and "error" in json.loads(result.stdout)


def test_without_the_tflite_package_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc.inspect.tflite_reader import read_tflite

    monkeypatch.setitem(sys.modules, "tflite", None)
    with pytest.raises(ConvCalcError, match=r"pip install 'convcalc\[tflite\]'"):
        read_tflite(DATA / "unet.tflite")


def test_the_operators_tensor_lists_are_bounded_in_total(tmp_path: Path) -> None:
    # Operators may all point at one long vector: each list alone is within its budget and the file's
    # size, their sum is what the reader would walk. Shown with the budget lowered to 20.
    _tflite()
    from convcalc.inspect import tflite_reader

    data = (DATA / "unet.tflite").read_bytes()
    path = tmp_path / "unet.tflite"
    path.write_bytes(data)
    limit = tflite_reader.MAX_OP_ENTRIES
    try:
        tflite_reader.MAX_OP_ENTRIES = 20
        _refused(path, "tensor lists hold more than 20 entries in all")
    finally:
        tflite_reader.MAX_OP_ENTRIES = limit


@pytest.mark.parametrize(
    "args",
    [["unet.tflite"], ["unet_dynamic.tflite"], ["unet_dynamic.tflite", "--input", "1x16x17x3"]],
)
def test_the_json_documents_of_tflite_models_meet_the_schema(args: list[str]) -> None:
    # Unmodelled ops on the input's paths leave accepted sizes and receptive fields null.
    _tflite()
    import jsonschema
    from typer.testing import CliRunner

    from convcalc.cli import app

    schema = json.loads(
        (Path(__file__).parents[1] / "convcalc" / "schemas" / "inspect.schema.json").read_text()
    )
    result = CliRunner().invoke(app, ["inspect", str(DATA / args[0]), *args[1:], "--json"])
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema)
    assert document["model"]["framework"] == "tflite" and result.exit_code == (0 if document["runs"] else 1)
