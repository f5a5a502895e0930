"""`convcalc inspect` on the command line: exit codes, JSON, help, and bad files (exit 2, no traceback)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ExitCode

onnx = pytest.importorskip("onnx")
helper = onnx.helper
TP = onnx.TensorProto
runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _unet_like(path: Path, symbolic: bool = True) -> Path:
    """Conv s2 p1 -> ConvTranspose k2 s2 -> Concat with the input: agrees only on even sizes."""
    dims: list[Any] = [1, 2, "h", "w"] if symbolic else [1, 2, 9, 9]
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], name="down", pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("ConvTranspose", ["a", "w2"], ["b"], name="up", strides=[2, 2]),
        helper.make_node("Concat", ["x", "b"], ["y"], name="skip", axis=1),
    ]
    weights = [
        helper.make_tensor("w1", TP.FLOAT, [4, 2, 3, 3], [0.1] * 72),
        helper.make_tensor("w2", TP.FLOAT, [4, 2, 2, 2], [0.1] * 32),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TP.FLOAT, dims)],
        [helper.make_empty_tensor_value_info("y")],
        weights,
    )
    path.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    )
    return path


def test_exit_0_when_the_model_runs_and_1_when_a_merge_disagrees(tmp_path: Path) -> None:
    model = str(_unet_like(tmp_path / "m.onnx"))
    ok = invoke("inspect", model, "--input", "1x2x8x10")
    assert ok.exit_code == ExitCode.OK, ok.output
    assert ok.stdout.splitlines()[0] == "no findings: the model runs on 8x10 with every merge agreeing"
    bad = invoke("inspect", model, "--input", "1x2x9x10")
    assert bad.exit_code == ExitCode.VERIFICATION_FAILED
    out = " ".join(bad.stdout.split())
    assert bad.stdout.startswith("1 finding: 1 skip mismatch at 9x10")
    # 9 -> 5 -> 10: the decoder side is the longer one, so the fix crops it (no output_padding can)
    assert "crop operand 2, the decoder side (b): crop 1 at the end of H; or input size 8x10 or" in out
    assert "2q + 0 (from 2)" in out and "8 / 10" in out
    assert bad.stderr == ""


def test_json_document(tmp_path: Path) -> None:
    model = str(_unet_like(tmp_path / "m.onnx"))
    result = invoke("inspect", model, "--input", "1x2x9x10", "--json", "--target", "tensorflow")
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "inspect"
    assert set(doc) >= {
        "model", "input", "headline", "runs", "exit_code", "target", "findings", "failure", "merges",
        "stopped", "accepted_sizes", "receptive_fields", "totals", "layers",
    }  # fmt: skip
    assert doc["runs"] is False and doc["exit_code"] == 1
    assert doc["merges"][0]["node"] == "skip" and doc["merges"][0]["shapes"] == [
        [1, 2, 9, 10],
        [1, 2, 10, 10],
    ]
    axis = doc["accepted_sizes"][0]
    assert (axis["period"], axis["classes"], axis["nearest_below"], axis["nearest_above"]) == (2, [2], 8, 10)
    up = doc["layers"][1]
    assert up["kind"] == "conv_transpose" and up["placement"] == [[0, 0], [0, 0]]
    assert up["macs"] == 5 * 5 * 4 * 2 * 4 and up["overlap"] == [[1, 1], [1, 1]]


def test_dynamic_sizes_without_input_are_answered_as_a_set(tmp_path: Path) -> None:
    model = str(_unet_like(tmp_path / "m.onnx"))
    doc = json.loads(invoke("inspect", model, "--json").stdout)
    assert doc["input"] == {"shapes": [[1, 2, 2, 2]], "given": False}
    assert [a["classes"] for a in doc["accepted_sizes"]] == [[2], [2]]


def test_help_says_a_python_file_is_run() -> None:
    result = invoke("inspect", "--help")
    assert result.exit_code == 0
    assert "RUNS that Python file" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nothere.onnx"], "cannot read the file"),
        (["model.txt"], "model must be an .onnx, .keras, .h5 or .tflite file"),
        (["m.onnx", "--input", "1x2x9"], "has rank 3"),
        (["m.onnx", "--input", "1x3x9x9"], "axis 1 of input 'x' is fixed at 2"),
        (["m.onnx", "--input", "1x2x0x9"], "--input must be a full shape"),
        (["m.onnx", "--input", "1x2x9x9", "--target", "caffe2"], "target must be one of"),
        (["pkg.mod:factory"], "needs the input shape"),
    ],
)
def test_bad_arguments_exit_2_with_a_json_error(tmp_path: Path, args: list[str], words: str) -> None:
    _unet_like(tmp_path / "m.onnx")
    full = [str(tmp_path / a) if a.endswith(".onnx") else a for a in args]
    result = invoke("inspect", *full, "--json")
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert words in json.loads(result.stdout)["error"]["message"]
    assert "Traceback" not in result.output


def _nested(depth: int) -> bytes:
    """A ModelProto whose graph holds a node whose attribute holds a graph ... ``depth`` levels deep."""

    def field(number: int, payload: bytes) -> bytes:
        length, out = len(payload), b""
        while True:
            byte = length & 0x7F
            length >>= 7
            out += bytes([byte | (0x80 if length else 0)])
            if not length:
                break
        return bytes([number << 3 | 2]) + out + payload

    graph = b""
    for _ in range(depth):
        graph = field(1, field(5, field(6, graph)))  # GraphProto.node -> NodeProto.attribute -> .g
    return field(7, graph)


def _bad_files(tmp_path: Path) -> list[Path]:
    good = _unet_like(tmp_path / "good.onnx").read_bytes()
    rng = random.Random(0)
    files = {
        "empty.onnx": b"",
        "truncated.onnx": good[: len(good) // 2],
        "random.onnx": bytes(rng.randrange(256) for _ in range(4096)),
        "text.onnx": b"this is not a model\n" * 50,
        "nested.onnx": _nested(3000),
        "flipped.onnx": bytes(b ^ 0xFF if n % 97 == 13 else b for n, b in enumerate(good)),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    # a cycle: a -> b -> a
    nodes = [helper.make_node("Relu", ["b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TP.FLOAT, [1])],
        [helper.make_empty_tensor_value_info("b")],
    )
    (tmp_path / "cycle.onnx").write_bytes(helper.make_model(graph).SerializeToString())
    # a Conv whose weight initializer is missing
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TP.FLOAT, [1, 1, 4])],
        [helper.make_empty_tensor_value_info("y")],
    )
    (tmp_path / "missing.onnx").write_bytes(helper.make_model(graph).SerializeToString())
    return [tmp_path / n for n in [*files, "cycle.onnx", "missing.onnx"]]


def test_bad_files_exit_2_without_a_traceback(tmp_path: Path) -> None:
    for path in _bad_files(tmp_path):
        result = invoke("inspect", str(path))
        assert result.exit_code == ExitCode.INVALID_INPUT, (path.name, result.output)
        assert str(path) in result.stderr, (path.name, result.stderr)
        assert "Traceback" not in result.output
    cycle = invoke("inspect", str(tmp_path / "cycle.onnx")).stderr
    assert "cycle" in cycle
    assert "missing initializer" in " ".join(invoke("inspect", str(tmp_path / "missing.onnx")).stderr.split())


def test_fuzzed_protobufs_never_crash(tmp_path: Path) -> None:
    from convcalc.errors import ConvCalcError
    from convcalc.inspect.analysis import inspect_graph
    from convcalc.inspect.onnx_reader import read_onnx

    good = _unet_like(tmp_path / "good.onnx").read_bytes()
    rng = random.Random(1)
    for n in range(200):
        data = bytearray(good)
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"fuzz{n}.onnx"
        path.write_bytes(bytes(data))
        with contextlib.suppress(ConvCalcError):
            inspect_graph(read_onnx(path), [(1, 2, 8, 8)])


def test_oversized_file_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc.inspect import onnx_reader

    monkeypatch.setattr(onnx_reader, "MAX_FILE_BYTES", 100)
    result = invoke("inspect", str(_unet_like(tmp_path / "m.onnx")))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "inspect reads ONNX files up to 100 bytes" in result.stderr


def test_without_onnx_the_message_says_how_to_install(tmp_path: Path) -> None:
    model = _unet_like(tmp_path / "m.onnx")
    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "from convcalc.cli import run\n"
        f"sys.argv = ['convcalc', 'inspect', {str(model)!r}]\n"
        "run()"
    )
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == ExitCode.INVALID_INPUT
    assert 'pip install "convcalc[onnx]"' in proc.stderr and "Traceback" not in proc.stderr


def test_the_analysis_of_a_graph_does_not_load_numpy() -> None:
    """The readers may need numpy (onnx imports it); the graph, propagation and analysis never do."""
    code = (
        "import sys\n"
        "from convcalc.graph.model import ConcatSpec, ConvSpec, Graph, Node, Tensor\n"
        "from convcalc.inspect.analysis import inspect_graph\n"
        "from convcalc.inspect.document import inspect_document\n"
        "conv = ConvSpec('pytorch', (3,), (2,), (1,), ((1, 1),), 2, 2)\n"
        "up = ConvSpec('pytorch', (2,), (2,), (1,), ((0, 0),), 2, 2)\n"
        "g = Graph('g', 'pytorch', (Tensor('x', (1, 2, 'n')),), (\n"
        "    Node('down', 'Conv1d', 'conv', ('x',), ('a',), conv),\n"
        "    Node('up', 'ConvTranspose1d', 'conv_transpose', ('a',), ('b',), up),\n"
        "    Node('cat', 'cat', 'concat', ('x', 'b'), ('y',), ConcatSpec(1)),\n"
        "), ('y',)).checked()\n"
        "report = inspect_graph(g, [(1, 2, 9)])\n"
        "inspect_document(report)\n"
        "assert report.axes[0].accepted.classes == (2,), report.axes\n"
        "print('numpy' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


def test_python_api(tmp_path: Path) -> None:
    from convcalc.inspect import inspect_model

    report = inspect_model(str(_unet_like(tmp_path / "m.onnx")), [(1, 2, 9, 10)], target="pytorch")
    assert report.headline() == "1 finding: 1 skip mismatch at 9x10" and int(report.exit_code) == 1


@pytest.mark.parametrize("name", ["model.h5", "model.bin"])
def test_an_hdf5_file_goes_to_the_h5_reader_whatever_its_name(tmp_path: Path, name: str) -> None:
    # The 8-byte format signature of the HDF5 specification (section "Format Signature").
    path = tmp_path / name
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(504))
    result = invoke("inspect", str(path))
    assert result.exit_code == ExitCode.INVALID_INPUT
    message = " ".join(result.output.split())
    # Unreadable with h5py installed, an install hint (and the re-save one) without it.
    assert "HDF5" in message


def test_the_receptive_field_line_names_the_output_and_the_readme_python_call_runs() -> None:
    import subprocess
    import sys

    keras = Path(__file__).parent / "data" / "keras" / "unet2d.keras"
    result = invoke("inspect", str(keras), "--input", "1x16x16x1")
    text = " ".join(result.stdout.split())
    assert (
        "receptive field (input elements that reach one output element, widest, per spatial axis): output '"
        in text
    )
    # docs/commands/inspect.md: `import convcalc`, then convcalc.inspect(...), in a fresh interpreter.
    code = (
        "import convcalc\n"
        f"report = convcalc.inspect({str(keras)!r}, [(1, 16, 16, 1)])\n"
        "print(report.exit_code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "0", done.stderr
