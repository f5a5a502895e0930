"""Keras `.keras` files: the committed models written by real Keras, and the reader against Keras' shapes.

The witness is Keras itself: tests/data/keras/make_keras_models.py built every model, saved it, loaded
it back and ran it on real arrays, recording each layer's output shape (or the layer where Keras failed)
in keras_shapes.json. The opt-in test at the end rebuilds everything where Keras is installed (or where
CONVCALC_KERAS_PYTHON names a Python that has it) and checks that the committed files still match.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ConvCalcError, ExitCode
from convcalc.graph.model import ConvSpec, PoolSpec
from convcalc.graph.shapes import Run, propagate
from convcalc.graph.sizes import all_axes
from convcalc.inspect import keras_archive, keras_config
from convcalc.inspect.analysis import inspect_graph
from convcalc.inspect.keras_reader import read_keras

DATA = Path(__file__).parent / "data" / "keras"
SHAPES = json.loads((DATA / "keras_shapes.json").read_text())


def without_object_ids(value: Any) -> Any:
    """A Keras config minus ``shared_object_id`` (a memory address that differs between runs)."""
    if isinstance(value, dict):
        return {k: without_object_ids(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [without_object_ids(v) for v in value]
    return value


def keras_python() -> str:
    configured = os.environ.get("CONVCALC_KERAS_PYTHON")
    if configured:
        return configured
    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras is not installed (set CONVCALC_KERAS_PYTHON to a Python that has Keras 3)")
    return sys.executable


def test_committed_models_are_what_keras_writes_and_runs(tmp_path: Path) -> None:
    python = keras_python()
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "torch")}
    subprocess.run(
        [python, str(DATA / "make_keras_models.py"), str(tmp_path)], check=True, env=env, timeout=600
    )
    fresh = json.loads((tmp_path / "keras_shapes.json").read_text())
    assert fresh == SHAPES
    for name, model in SHAPES["models"].items():
        with zipfile.ZipFile(DATA / model["file"]) as old, zipfile.ZipFile(tmp_path / model["file"]) as new:
            configs = [without_object_ids(json.loads(z.read("config.json"))) for z in (old, new)]
        assert configs[0] == configs[1], name


def run_inputs(run: dict[str, Any]) -> list[list[int]]:
    """The input shapes of a recorded run: ``inputs`` for a model with several, else ``input``."""
    return list(run.get("inputs", [run.get("input")]))


def keras_runs() -> list[Any]:
    return [
        pytest.param(name, run, id=f"{name}-{'-'.join('x'.join(map(str, s)) for s in run_inputs(run))}")
        for name, model in SHAPES["models"].items()
        for run in model["runs"]
    ]


@pytest.mark.parametrize(("name", "run"), keras_runs())
def test_every_layer_shape_is_the_one_keras_computed(name: str, run: dict[str, Any]) -> None:
    graph = read_keras(DATA / SHAPES["models"][name]["file"])
    result = propagate(graph, tuple(tuple(shape) for shape in run_inputs(run)))
    ours = {layer: list(result.shapes[layer]) for layer in run["layers"] if layer in result.shapes}
    assert ours == run["layers"]
    # Where Keras failed, the first merge that disagrees (or the layer that cannot run) is that layer.
    assert first_problem(result) == (run["error"] and run["error"]["layer"])
    assert not result.stopped


def first_problem(result: Run) -> str | None:
    """The first node (in graph order) whose merge disagrees or that cannot run, as Keras stops there."""
    problems = [(r.index, r.node.name) for r in result.mismatches]
    if result.failure is not None:
        problems.append((result.failure.index, result.failure.node.name))
    return min(problems)[1] if problems else None


def keras_sweeps() -> list[Any]:
    return [
        pytest.param(name, int(size), layer, id=f"{name}-{size}")
        for name, model in SHAPES["models"].items()
        for size, layer in model.get("sweep", {}).items()
    ]


@pytest.mark.parametrize(("name", "size", "keras_failed_at"), keras_sweeps())
def test_inspect_fails_exactly_where_keras_fails(name: str, size: int, keras_failed_at: str | None) -> None:
    model = SHAPES["models"][name]
    channels = model["runs"][0]["input"][-1]
    rank = len(model["runs"][0]["input"])
    shape = (1, *[size] * (rank - 2), channels)
    graph = read_keras(DATA / model["file"])
    assert first_problem(propagate(graph, (shape,))) == keras_failed_at
    expected = ExitCode.OK if keras_failed_at is None else ExitCode.VERIFICATION_FAILED
    assert inspect_graph(graph, [shape]).exit_code == expected


def test_the_convolutions_keep_keras_own_words() -> None:
    graph = read_keras(DATA / "seq_conv1d.keras")
    specs = {node.name: node.spec for node in graph.nodes}
    op1 = specs["convt_same_k4s2_op1"]
    assert isinstance(op1, ConvSpec)
    assert (op1.framework, op1.padding, op1.output_padding, op1.kernel_size) == ("keras", "same", (1,), (4,))
    none = specs["convt_valid_k1s2"]
    assert isinstance(none, ConvSpec) and none.output_padding is None and none.padding == "valid"
    causal = specs["conv_causal_d2"]
    assert isinstance(causal, ConvSpec) and (causal.padding, causal.dilation) == ("causal", (2,))
    assert ("output_padding", "[1]") in op1.arguments
    pool = specs["maxpool_same"]
    assert isinstance(pool, PoolSpec) and (pool.padding, pool.kernel_size, pool.stride) == (
        "same",
        (2,),
        (2,),
    )
    assert graph.inputs[0].shape == ("?", "?", 2)
    assert "written by Keras 3.15.1" in graph.notes


def test_nested_models_are_inlined_under_their_name() -> None:
    graph = read_keras(DATA / "nested.keras")
    names = [node.name for node in graph.nodes]
    assert names == [
        "encoder/down1",
        "encoder/down2",
        "encoder",
        "decoder/up1",
        "decoder/up2",
        "decoder",
        "residual",
    ]
    assert graph.nodes[-1].inputs == ("decoder", "image")


def test_channels_first_layers_say_so() -> None:
    graph = read_keras(DATA / "channels_first.keras")
    assert {node.layout for node in graph.nodes} == {"channels_first"}


# Bad files: each refused with one message naming the file and the rule (ConvCalcError, exit 2 in the CLI).


def zip_with(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def real_config() -> bytes:
    with zipfile.ZipFile(DATA / "unet2d.keras") as archive:
        return archive.read("config.json")


def refused(path: Path, match: str) -> None:
    with pytest.raises(ConvCalcError, match=match) as caught:
        read_keras(path)
    assert str(path) in str(caught.value)


def test_files_that_are_not_keras_zips_are_refused(tmp_path: Path) -> None:
    refused(tmp_path / "absent.keras", "cannot read the file")
    refused(tmp_path, "not a file")
    (tmp_path / "model.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    refused(tmp_path / "model.h5", "HDF5 file .* re-save it")
    (tmp_path / "text.keras").write_text('{"class_name": "Functional"}')
    refused(tmp_path / "text.keras", "not a zip archive")
    (tmp_path / "empty.keras").write_bytes(b"")
    refused(tmp_path / "empty.keras", "not a zip archive")
    refused(zip_with(tmp_path / "other.zip", {"data.csv": b"1,2"}), "has no config.json")
    refused(zip_with(tmp_path / "list.keras", {"config.json": b"[1, 2]"}), "must be a JSON object")
    subclassed = b'{"class_name": "MyModel", "config": {}}'
    refused(zip_with(tmp_path / "sub.keras", {"config.json": subclassed}), "subclassed model")
    refused(zip_with(tmp_path / "bad.keras", {"config.json": b'{"class_name": '}), "not valid JSON")
    refused(zip_with(tmp_path / "latin.keras", {"config.json": b'{"a": "\\xe9\xe9"}'}), "not UTF-8")


def test_an_encrypted_config_is_refused(tmp_path: Path) -> None:
    data = bytearray((DATA / "unet2d.keras").read_bytes())
    for header, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(header)
        while at >= 0:
            data[at + flags] |= 1  # general-purpose flag bit 0: encrypted
            at = data.find(header, at + 4)
    (tmp_path / "encrypted.keras").write_bytes(bytes(data))
    refused(tmp_path / "encrypted.keras", "config.json is encrypted")


def test_truncated_files_are_refused(tmp_path: Path) -> None:
    data = (DATA / "unet2d.keras").read_bytes()
    for n, cut in enumerate(range(0, len(data), 97)):
        path = tmp_path / f"cut{n}.keras"
        path.write_bytes(data[:cut])
        with pytest.raises(ConvCalcError, match=str(path)):
            read_keras(path)


def test_random_and_mutated_bytes_never_escape_as_another_error(tmp_path: Path) -> None:
    rng = random.Random(10)
    data = (DATA / "nested.keras").read_bytes()
    path = tmp_path / "fuzz.keras"
    for n in range(300):
        if n % 3 == 0:
            blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
            blob = (b"PK\x03\x04" if n % 2 else b"") + blob
        else:
            mutated = bytearray(data)
            for _ in range(rng.randrange(1, 8)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            blob = bytes(mutated)
        path.write_bytes(blob)
        try:
            graph = read_keras(path)
        except ConvCalcError:
            continue
        propagate(graph, ((2, 16, 16, 1),))  # a flipped weight byte leaves a readable model


def test_zip_bombs_are_refused_before_they_inflate(tmp_path: Path) -> None:
    bombs = make_zip_bombs(tmp_path)
    tracemalloc.start()
    try:
        for path, match in bombs:
            refused(path, match)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Each would inflate to 4 MiB .. 4 GiB; refusing all of them costs a small fraction of the smallest.
    assert peak < 2**20


def make_zip_bombs(tmp_path: Path) -> list[tuple[Path, str]]:
    big = keras_archive.MAX_CONFIG_BYTES + 1
    archive = zipfile.ZipFile(tmp_path / "big.keras", "w", zipfile.ZIP_DEFLATED)
    with archive, archive.open("config.json", "w") as member:
        for _ in range(big // 2**20 + 1):
            member.write(b" " * 2**20)
    spaces = b"{" + b" " * (4 * 2**20) + b"}"
    zip_with(tmp_path / "ratio.keras", {"config.json": spaces})
    # Declared sizes far beyond the archive (a weights member claiming 4 GB in the central directory).
    members = {"config.json": real_config(), "w.h5": b"0" * 64}
    data = bytearray(zip_with(tmp_path / "w.keras", members).read_bytes())
    entry = data.rindex(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    (tmp_path / "declared.keras").write_bytes(bytes(data))
    return [
        (tmp_path / "big.keras", "config.json is .* bytes uncompressed; inspect reads it up to"),
        (tmp_path / "ratio.keras", "inflates .* a zip bomb"),
        (tmp_path / "declared.keras", "members declare .* a zip bomb"),
    ]


def test_a_lying_size_header_is_caught_by_the_read_cap_and_crc(tmp_path: Path) -> None:
    config = real_config()
    data = bytearray(zip_with(tmp_path / "a.keras", {"config.json": config}).read_bytes())
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(header)
        data[at + offset : at + offset + 4] = (100).to_bytes(4, "little")
    (tmp_path / "lying.keras").write_bytes(bytes(data))
    refused(tmp_path / "lying.keras", "not a readable zip archive")


def test_a_huge_central_directory_is_refused_before_zipfile_parses_it(tmp_path: Path) -> None:
    members = {f"assets/{n}": b"" for n in range(keras_archive.MAX_MEMBERS + 1)}
    refused(
        zip_with(tmp_path / "many.keras", {"config.json": real_config(), **members}), "declares .* members"
    )


def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path) -> None:
    for depth in (keras_archive.MAX_JSON_DEPTH + 1, 100_000):
        deep = b'{"class_name": "Functional", "config": ' + b"[" * depth + b"]" * depth + b"}"
        refused(zip_with(tmp_path / f"deep{depth}.keras", {"config.json": deep}), "nests deeper than")


def test_too_many_layers_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc.inspect import keras_reader

    monkeypatch.setattr(keras_reader, "MAX_LAYERS", 5)
    refused(DATA / "unet2d.keras", "more than 5 layers")


def test_broken_graphs_are_refused(tmp_path: Path) -> None:
    config = json.loads(real_config())
    layers = config["config"]["layers"]
    cyclic = json.loads(json.dumps(config))
    cyclic["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["head", 0, 0]
    refused(zip_with(tmp_path / "cycle.keras", {"config.json": json.dumps(cyclic).encode()}), "cycle")
    dangling = json.loads(json.dumps(config))
    dangling["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["nope", 0, 0]
    refused(zip_with(tmp_path / "dangling.keras", {"config.json": json.dumps(dangling).encode()}), "'nope'")
    conv = next(n for n, layer in enumerate(layers) if layer["class_name"] == "Conv2DTranspose")
    for field, value, message in (
        ("kernel_size", [2, "x"], "kernel_size must be an integer >= 1"),
        ("strides", [2, 2, 2], "strides must give 1 or 2 values"),
        ("output_padding", [-1, 0], "output_padding must be an integer >= 0"),
        ("padding", [1, 1], "padding must be a word"),
        ("data_format", "nhwc", "data_format must be"),
    ):
        broken = json.loads(json.dumps(config))
        broken["config"]["layers"][conv]["config"][field] = value
        refused(zip_with(tmp_path / f"{field}.keras", {"config.json": json.dumps(broken).encode()}), message)


def json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    children: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    return [path] + [p for key, child in children for p in json_paths(child, (*path, key))]


def test_mutated_configs_are_read_or_refused_never_crash(tmp_path: Path) -> None:
    rng = random.Random(7)
    replacements: list[Any] = [None, True, 0, -1, 2, 2**70, 1.5, "x", "same", [], [0], [1, 2], [None], {}]
    replacements += ["channels_first", [[1, 2], [3]], ["a", 0, 0], {"class_name": "__keras_tensor__"}]
    models = sorted(DATA.glob("*.keras"))
    path = tmp_path / "mutated.keras"
    for _ in range(250):
        source = rng.choice(models)
        with zipfile.ZipFile(source) as archive:
            config = json.loads(archive.read("config.json"))
        for _ in range(rng.randrange(1, 4)):
            *parents, key = rng.choice(json_paths(config)[1:])
            target = config
            for step in parents:
                target = target[step]
            if isinstance(target, dict) and rng.random() < 0.2:
                del target[key]
            else:
                target[key] = json.loads(json.dumps(rng.choice(replacements)))
        zip_with(path, {"config.json": json.dumps(config).encode()})
        try:
            graph = read_keras(path)
        except ConvCalcError:
            continue
        rank = len(graph.inputs[0].shape) if graph.inputs else 4
        for shape in ((2, *[rng.randrange(1, 40) for _ in range(rank - 2)], 3), (1,) * rank):
            propagate(graph, (shape,))


def as_zip64(data: bytes, entries: int | None = None, directory: int | None = None) -> bytes:
    """The same archive with a zip64 end-of-central-directory record (optionally declaring other sizes)."""
    eocd = data.rindex(b"PK\x05\x06")
    _, _, _, count, total, size, offset, _ = struct.unpack_from("<4s4H2LH", data, eocd)
    record = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, entries or total, directory or size, offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return data[:eocd] + record + locator + end


def test_zip64_archives_are_read_and_their_directory_checked(tmp_path: Path) -> None:
    data = (DATA / "unet2d.keras").read_bytes()
    (tmp_path / "zip64.keras").write_bytes(as_zip64(data))
    assert [n.name for n in read_keras(tmp_path / "zip64.keras").nodes] == [
        n.name for n in read_keras(DATA / "unet2d.keras").nodes
    ]
    (tmp_path / "huge.keras").write_bytes(as_zip64(data, entries=10**12))
    refused(tmp_path / "huge.keras", "declares 1000000000000 members")
    (tmp_path / "nolocator.keras").write_bytes(as_zip64(data)[:-42] + as_zip64(data)[-22:])
    refused(tmp_path / "nolocator.keras", "zip64")


# Through the CLI: `convcalc inspect file.keras`.
runner = CliRunner()


def bad_files(tmp_path: Path) -> list[Path]:
    data = (DATA / "unet2d.keras").read_bytes()
    files = {
        "truncated.keras": data[: len(data) // 2],
        "random.keras": random.Random(3).randbytes(2000),
        "h5model.keras": b"\x89HDF\r\n\x1a\n" + bytes(64),
        "zip64huge.keras": as_zip64(data, entries=10**9),
    }
    for name, blob in files.items():
        (tmp_path / name).write_bytes(blob)
    deep = b"[" * 50_000 + b"]" * 50_000
    paths = [tmp_path / name for name in files]
    paths.append(zip_with(tmp_path / "deep.keras", {"config.json": deep}))
    paths.append(zip_with(tmp_path / "noconfig.keras", {"metadata.json": b"{}"}))
    paths.append(zip_with(tmp_path / "bomb.keras", {"config.json": b" " * (4 * 2**20)}))
    paths.append(tmp_path / "missing.keras")
    return paths


def test_bad_files_exit_2_with_one_message_and_no_traceback(tmp_path: Path) -> None:
    for path in bad_files(tmp_path):
        result = runner.invoke(app, ["inspect", str(path)])
        assert result.exit_code == ExitCode.INVALID_INPUT, (path.name, result.output)
        assert str(path) in result.stderr and "Traceback" not in result.stderr, path.name
        assert result.stdout == ""
        as_json = runner.invoke(app, ["inspect", str(path), "--json"])
        assert as_json.exit_code == ExitCode.INVALID_INPUT
        assert str(path) in json.loads(as_json.stdout)["error"]["message"]


def test_a_bad_file_in_a_real_process_leaves_no_traceback(tmp_path: Path) -> None:
    bomb = zip_with(tmp_path / "bomb.keras", {"config.json": b" " * (4 * 2**20)})
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "inspect", str(bomb)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == ExitCode.INVALID_INPUT
    assert "zip bomb" in done.stderr and "Traceback" not in done.stderr


def test_the_unet_at_an_odd_size_exits_1_with_the_skip_named() -> None:
    result = runner.invoke(app, ["inspect", str(DATA / "unet2d.keras"), "--input", "1x17x17x1", "--json"])
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    document = json.loads(result.stdout)
    assert [f["node"] for f in document["findings"] if f["kind"] == "merge"] == ["dec1_skip"]
    ok = runner.invoke(app, ["inspect", str(DATA / "unet2d.keras"), "--input", "1x16x16x1"])
    assert ok.exit_code == ExitCode.OK


def test_an_unknown_layer_is_named_and_shapes_stop_there(tmp_path: Path) -> None:
    config = json.loads(real_config())
    pool = next(layer for layer in config["config"]["layers"] if layer["name"] == "enc2_pool")
    pool["class_name"] = "MyCustomPooling"
    path = zip_with(tmp_path / "custom.keras", {"config.json": json.dumps(config).encode()})
    graph = read_keras(path)
    result = propagate(graph, ((1, 16, 16, 1),))
    assert [node.name for node in result.stopped][:2] == ["enc2_pool", "bottleneck"]
    # witness: up to the stop, the shapes are the ones Keras computed for this model at 16x16
    keras_run = next(r for r in SHAPES["models"]["unet2d"]["runs"] if r["input"][1:3] == [16, 16])
    for name in ("enc1_conv", "enc1_pool", "enc2_conv"):
        assert result.shapes[name] == (1, *keras_run["layers"][name][1:])
    # the model is not shown to run: exit 1, a finding in the headline naming Keras, not ONNX
    done = runner.invoke(app, ["inspect", str(path), "--input", "1x16x16x1", "--json"])
    assert done.exit_code == ExitCode.VERIFICATION_FAILED
    document = json.loads(done.stdout)
    assert document["runs"] is False
    assert document["headline"] == "1 finding: shapes stop at layer enc2_pool (unknown op MyCustomPooling)"
    stopped = [f for f in document["findings"] if f["kind"] == "stopped"]
    assert len(stopped) == 1 and stopped[0]["severity"] == "error"
    assert (
        "Keras's MyCustomPooling" in stopped[0]["message"]
        and "records no static output shape" in stopped[0]["message"]
    )
    assert "shape inference" not in json.dumps(document["findings"])
    text = runner.invoke(app, ["inspect", str(path), "--input", "1x16x16x1"])
    assert "no findings" not in text.stdout and "is not shown to run" in text.stdout


def test_per_axis_arguments_beyond_any_real_model_are_refused_before_analysis(tmp_path: Path) -> None:
    config = json.loads(real_config())
    conv = next(layer for layer in config["config"]["layers"] if layer["name"] == "enc1_conv")
    conv["config"]["kernel_size"] = [10**9, 3]
    path = zip_with(tmp_path / "huge.keras", {"config.json": json.dumps(config).encode()})
    refused(path, "kernel_size must be an integer >= 1 and <= 65536; got 1000000000")


def test_a_sequential_saved_before_it_was_built_is_refused_with_the_remedy() -> None:
    refused(DATA / "unbuilt_sequential.keras", "records no input shape .* model.build")


def test_the_keras_path_loads_neither_numpy_nor_a_framework() -> None:
    code = (
        "import sys\nfrom convcalc.cli import run\n"
        "sys.argv = ['convcalc', 'inspect', sys.argv[1], '--json']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'onnx', 'torch', 'keras', 'tensorflow') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(DATA / "unet2d.keras")], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


def as_keras2(config: dict[str, Any]) -> dict[str, Any]:
    """A Keras 3 Functional config in the form tf.keras 2.13 writes (as in a real Keras 2.13.1 file):
    inbound nodes as [[layer, node, tensor, {}], ...], batch_input_shape, input/output_layers nested."""
    legacy = json.loads(json.dumps(config))
    for layer in legacy["config"]["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_input_shape"] = layer["config"].pop("batch_shape")
        nodes = []
        for node in layer["inbound_nodes"]:
            args = node["args"][0]
            tensors = args if isinstance(args, list) else [args]
            nodes.append([[*t["config"]["keras_history"], {}] for t in tensors])
        layer["inbound_nodes"] = nodes
    for key in ("input_layers", "output_layers"):
        value = legacy["config"][key]
        legacy["config"][key] = [value] if isinstance(value[0], str) else value
    return legacy


@pytest.mark.parametrize("name", ["unet2d", "residual_add", "two_inputs"])
def test_the_keras2_config_form_gives_the_same_shapes(name: str, tmp_path: Path) -> None:
    model = SHAPES["models"][name]
    with zipfile.ZipFile(DATA / model["file"]) as archive:
        legacy = as_keras2(json.loads(archive.read("config.json")))
    path = zip_with(tmp_path / "legacy.keras", {"config.json": json.dumps(legacy).encode()})
    for run in model["runs"]:
        result = propagate(read_keras(path), tuple(tuple(s) for s in run_inputs(run)))
        assert {k: list(result.shapes[k]) for k in run["layers"]} == run["layers"]


def test_a_model_mixing_data_formats_is_analysed_without_a_traceback(tmp_path: Path) -> None:
    # Keras lets every layer choose its data_format; the receptive field stops at a layer of the other one.
    with zipfile.ZipFile(DATA / "channels_first.keras") as archive:
        config = json.loads(archive.read("config.json"))
    for layer in config["config"]["layers"]:
        if layer["config"]["name"] == "avgpool_valid":
            layer["config"]["data_format"] = "channels_last"
    path = zip_with(tmp_path / "mixed.keras", {"config.json": json.dumps(config).encode()})
    result = runner.invoke(app, ["inspect", str(path), "--input", "1x2x13x16", "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert json.loads(result.stdout)["layers"]


def test_a_huge_kernel_within_the_argument_limit_does_not_hang_the_analysis(tmp_path: Path) -> None:
    with zipfile.ZipFile(DATA / "seq_conv2d.keras") as archive:
        config = json.loads(archive.read("config.json"))
    for layer in config["config"]["layers"]:
        if layer["config"]["name"] == "convt_valid_k3s2":
            layer["config"]["kernel_size"] = [keras_config.MAX_AXIS_VALUE, 3]
    path = zip_with(tmp_path / "bigkernel.keras", {"config.json": json.dumps(config).encode()})
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "inspect", str(path), "--input", "1x23x30x3", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (ExitCode.OK, ExitCode.VERIFICATION_FAILED), done.stderr
    assert json.loads(done.stdout)["layers"]


def test_the_python_entry_point_reads_keras_files() -> None:
    from convcalc.inspect import inspect_model

    report = inspect_model(str(DATA / "residual_add.keras"), [(1, 15, 12, 2)])
    assert (
        report.exit_code == ExitCode.VERIFICATION_FAILED
    )  # Keras fails at "add" for 15x12 (keras_shapes.json)
    assert "skip mismatch" in report.headline()


@pytest.mark.parametrize("name", ["residual_add", "nested", "unet2d", "pooled_classifier"])
def test_accepted_sizes_agree_with_keras_runs_whatever_size_is_given(name: str) -> None:
    """Keras' recorded sweep (which square sizes 1..24 run) is the witness: every accepted size runs in
    Keras, and every size Keras runs is accepted or drops an input. The answer must not depend on the
    size given, even one that does not run (the other axis was held there, and no size ran)."""
    model = SHAPES["models"][name]
    channels = model["runs"][0]["input"][-1]
    keras_runs = {int(size) for size, layer in model["sweep"].items() if layer is None}
    graph = read_keras(DATA / model["file"])
    answers = set()
    for given in range(1, 25):
        shapes = ((1, given, given, channels),)
        for axis in all_axes(graph, shapes, (1, 2)):
            assert axis.accepted is not None, (given, axis.note)
            answers.add(tuple(axis.accepted.within(1, 24)))
    assert len(answers) == 1, answers
    accepted = set(answers.pop())
    assert accepted and accepted <= keras_runs
    for size in keras_runs - accepted:
        run = propagate(graph, ((1, size, size, channels),))
        assert run.ok and any(any(r.dropped) for r in run.nodes), size


# Keras' own signatures (keras.io: Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, MaxPooling2D):
# strides=1 (pooling: None, the pool size), padding="valid", dilation_rate=1, groups=1, output_padding=None,
# depth_multiplier=1.
KERAS_DEFAULTS = {
    "strides": "1",
    "padding": "valid",
    "dilation_rate": "1",
    "groups": "1",
    "output_padding": "None",
    "depth_multiplier": "1",
}


@pytest.mark.parametrize("name", ["seq_conv1d", "seq_conv2d", "seq_conv3d", "unet2d", "dcgan_generator"])
def test_the_table_hides_keras_defaults(name: str) -> None:
    from convcalc.inspect.render import _compact

    report = inspect_graph(read_keras(DATA / f"{name}.keras"))
    for row in report.layers:
        given = dict(row.arguments)
        text = _compact(row.arguments, "keras", row.kind == "pool")
        for word in text.split():
            key, _, value = word.partition("=")
            assert set(value.split("x")) != {KERAS_DEFAULTS.get(key)}, (row.name, word)
            if row.kind == "pool" and key == "strides":
                assert value.split("x") != given["pool_size"].strip("[]").split(", "), (row.name, word)
        for key, value in given.items():  # every other argument is shown
            values = set(value.strip("[]").split(", "))
            if values != {KERAS_DEFAULTS.get(key)} and not (row.kind == "pool" and key == "strides"):
                assert f"{key}=" in text, (row.name, key, value, text)
