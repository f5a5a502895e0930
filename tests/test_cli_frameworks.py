"""`convcalc shape --framework` and `convcalc port` on the command line: exit codes, tables, JSON, errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from convcalc.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_port_issue_example_table() -> None:
    code, out, err = invoke(
        "port",
        "16x16",
        "--from",
        "tensorflow",
        "--to",
        "pytorch",
        "-k",
        "3",
        "-s",
        "2",
        "--padding",
        "same",
        "--transposed",
    )
    assert code == 0, err
    assert "remove the last 1 output element(s)" in out
    # The verdict is the headline, the first line (wrapped at the terminal's width).
    assert "not equal as it stands; equal in shape and in values after the fix" in " ".join(out.split())
    assert "(k0, k1, out, in) -> (in, out/groups, k0, k1)" in out
    assert err == ""


def test_port_json_document() -> None:
    code, out, _ = invoke(
        "port",
        "5",
        "--from",
        "tensorflow",
        "--to",
        "onnx",
        "-k",
        "3",
        "-s",
        "2",
        "-p",
        "same",
        "-t",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["schema_version"] >= 1 and doc["command"] == "port"
    assert doc["exact"] is True and doc["values_equal"] is True
    assert doc["from"]["canonical"]["crop_before"] == [0] and doc["from"]["canonical"]["crop_after"] == [1]
    pads = next(a for a in doc["to"]["arguments"] if a["name"] == "pads")
    assert pads["value"] == [0, 1] and pads["spelled"] == "[0, 1]"
    assert doc["fix"]["before"] == [0] and doc["fix"]["after"] == [0]
    assert doc["weight_change"]["permutation"] == [2, 1, 0]


def test_port_json_shape_only_alternative() -> None:
    code, out, _ = invoke(
        "port",
        "5",
        "--from",
        "tensorflow",
        "--to",
        "pytorch",
        "-k",
        "3",
        "-s",
        "2",
        "-p",
        "same",
        "-t",
        "--json",
    )
    doc = json.loads(out)
    assert code == 0
    assert doc["shape_equal"] is False and doc["values_equal"] is False
    assert doc["fix"]["after"] == [1] and doc["fix"]["steps"] == [
        "axis 0: remove the last 1 output element(s)"
    ]
    assert {"name": "output_padding", "value": [1], "spelled": "(1,)", "note": None} in doc[
        "shape_only_arguments"
    ]


def test_port_error_exit_2_with_json_error() -> None:
    code, out, err = invoke(
        "port",
        "5",
        "--from",
        "keras",
        "--to",
        "pytorch",
        "-k",
        "3",
        "-s",
        "2",
        "-p",
        "same",
        "-t",
        "--output-padding",
        "2",
        "--json",
    )
    assert code == 2
    doc = json.loads(out)
    assert doc["error"]["parameter"] == "output_padding"
    assert "strictly less than `strides`" in err
    assert "Traceback" not in err


def test_port_unknown_framework() -> None:
    code, out, err = invoke("port", "5", "--from", "torch", "--to", "chainer", "-k", "3")
    assert code == 2 and out == ""
    assert "to must be one of" in err


def test_shape_framework_tensorflow_json() -> None:
    code, out, _ = invoke(
        "shape", "5", "-k", "3", "-s", "2", "-p", "same", "-t", "-f", "tensorflow", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["command"] == "shape" and doc["framework"] == "tensorflow"
    assert doc["layer"]["output"] == [10]
    assert doc["layer"]["direct"]["pad_before"] == [2] and doc["layer"]["direct"]["pad_after"] == [1]
    assert doc["pytorch"]["fix"]["after"] == [1]


def test_shape_framework_table_and_notes() -> None:
    code, out, _ = invoke(
        "shape", "5", "-k", "3", "-s", "2", "-p", "same_upper", "-t", "-f", "onnx", "--output-padding", "1"
    )
    assert code == 0
    assert "shape inference declares 11" in out


def test_shape_framework_paddle_conv_same_ignores_dilation() -> None:
    code, out, _ = invoke("shape", "6", "-k", "3", "-d", "2", "-p", "same", "-f", "paddle", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["layer"]["canonical"]["dilated_kernel"] == [3]
    assert any("ignores dilation" in note for note in doc["layer"]["notes"])


def test_shape_pytorch_output_size_goes_through_the_convention() -> None:
    pytorch = ("-f", "pytorch")
    code, out, _ = invoke(
        "shape", "5", "-k", "3", "-s", "2", "-p", "1", "-t", "--output-size", "10", "--json", *pytorch
    )
    assert code == 0
    assert json.loads(out)["layer"]["output"] == [10]
    code, _, err = invoke(
        "shape", "5", "-k", "3", "-s", "2", "-p", "1", "-t", "--output-size", "11", *pytorch
    )
    assert code == 2 and "valid sizes range from [9] to [10]" in err


def test_output_size_in_convcalcs_own_arguments_sets_output_padding() -> None:
    """torch: ConvTranspose1d(k3, s2, p1)(x of 5, output_size=10) is 10, i.e. output_padding 1."""
    code, out, _ = invoke(
        "shape", "5", "-k", "3", "-s", "2", "-p", "1", "-t", "--output-size", "10", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["transposed"]["output"] == [10] and doc["input"]["output_padding"] == [1]
    assert doc["framework"] is None
    # before:after pairs stay available with --output-size (PyTorch itself has symmetric padding only).
    code, out, _ = invoke(
        "shape", "7", "-k", "3", "-s", "2", "-p", "1:2", "-t", "--output-size", "12", "--json"
    )
    assert code == 0 and json.loads(out)["transposed"]["output"] == [12]
    code, _, err = invoke("shape", "5", "-k", "3", "-s", "2", "-p", "1", "-t", "--output-size", "11")
    assert code == 2 and "output size 11 is not reachable; 9..10 are" in err


def test_a_flag_never_switches_the_rule_set() -> None:
    """'same' on a strided convolution is convcalc's own argument whatever other flag is given."""
    code, _, err = invoke("shape", "7", "-k", "3", "-s", "2", "-p", "same", "--transpose-kernel")
    assert code == 2 and "--framework jax" in err
    code, _, _ = invoke("shape", "7", "-k", "3", "-s", "2", "-p", "same")
    assert code == 0
    code, _, err = invoke("shape", "7", "-k", "3", "-s", "2", "-p", "same", "-f", "pytorch")
    assert code == 2 and "strided" in err


def test_shape_documents_have_one_set_of_keys() -> None:
    plain = json.loads(invoke("shape", "7", "-k", "3", "--json")[1])
    framework = json.loads(
        invoke("shape", "5", "-k", "3", "-s", "2", "-p", "same", "-t", "-f", "tf", "--json")[1]
    )
    assert plain.keys() == framework.keys()


def test_shape_default_framework_keeps_the_plain_report() -> None:
    code, out, _ = invoke("shape", "5", "-k", "3", "-s", "2", "-p", "1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert "convolution" in doc and doc["framework"] is None


def test_shape_framework_refuses_channels() -> None:
    code, _, err = invoke("shape", "5", "-k", "3", "-f", "jax", "--in-channels", "2", "--out-channels", "2")
    assert code == 2 and "--in-channels" in err


def test_framework_paths_do_not_load_numpy() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from convcalc.cli import app\n"
        "r = CliRunner().invoke(app, ['port', '5', '--from', 'tf', '--to', 'torch', '-k', '3', '-s', '2', "
        "'-p', 'same', '-t'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['shape', '5', '-k', '3', '-f', 'onnx', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('numpy' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "False"


def test_port_verify_runs_both_layers_through_the_engine() -> None:
    code, out, _ = invoke(
        "port",
        "7x6",
        "--from",
        "jax",
        "--to",
        "pytorch",
        "-k",
        "3",
        "-s",
        "2",
        "-p",
        "same",
        "-t",
        "--verify",
    )
    assert code == 0
    assert "verified by execution" in out
    code, out, _ = invoke(
        "port",
        "9",
        "--from",
        "onnx",
        "--to",
        "keras",
        "-k",
        "4",
        "-p",
        "same_lower",
        "--verify",
        "--seed",
        "3",
        "--json",
    )
    assert code == 0
    check = json.loads(out)["verification"]
    assert check["ok"] is True and check["seed"] == 3 and check["source_shape"] == check["target_shape"]
    assert check["values_equal_without_fix"] is False


def test_solve_framework_keeps_exact_answers_in_the_framework_arguments() -> None:
    code, out, _ = invoke("solve", "5", "10", "-f", "keras", "--all", "--json")
    assert code == 0
    doc = json.loads(out)
    section = doc["framework"]
    assert section["name"] == "keras" and section["dropped"] > 0
    assert len(section["answers"]) == len(doc["answers"]) > 0
    # Section 4.2: Keras 'same' with output_padding=None gives i*s for every kernel.
    spelled = [{a["name"]: a["spelled"] for a in answer["arguments"]} for answer in section["answers"]]
    values = {a["name"]: a["value"] for a in section["answers"][0]["arguments"]}
    assert {
        "kernel_size": [2],
        "strides": [2],
        "dilation_rate": [1],
        "padding": "same",
    }.items() <= values.items()
    # Every kept answer, re-read by Keras's own rules, gives the target size.
    from convcalc.conventions import read

    for args in spelled:
        k = int(args["kernel_size"].strip("(),"))
        s = int(args["strides"].strip("(),"))
        d = int(args["dilation_rate"].strip("(),"))
        op = None if args["output_padding"] == "None" else int(args["output_padding"].strip("(),"))
        layer = read(
            "keras",
            5,
            k,
            stride=s,
            dilation=d,
            padding=args["padding"].strip("'"),
            output_padding=op,
            transposed=True,
        )
        assert layer.output == (10,)


def test_solve_framework_with_nothing_expressible() -> None:
    code, out, _ = invoke("solve", "5", "9", "-f", "keras", "-s", "3")
    assert code == 0
    assert "Keras cannot express them exactly" in out


def test_solve_without_framework_is_unchanged() -> None:
    code, out, _ = invoke("solve", "5", "10", "--json")
    assert code == 0 and "framework" not in json.loads(out)


def test_verify_paddle_same_runs_with_the_canonical_dilation() -> None:
    # Oracles 22-23: Paddle's 'SAME' runs with dilation 1 whatever dilation is given.
    code, out, err = invoke("verify", "6", "-k", "3", "-d", "2", "-p", "same", "-f", "paddle", "--json")
    assert code == 0, err
    assert json.loads(out)["passed"] is True
    code, _, err = invoke("verify", "5", "-k", "3", "-d", "2", "-s", "2", "-p", "same", "-t", "-f", "paddle")
    assert code == 0, err


def test_port_channels_and_groups_json() -> None:
    code, out, _ = invoke(
        "port",
        "6",
        "--from",
        "torch",
        "--to",
        "equinox",
        "-k",
        "3",
        "-s",
        "2",
        "-p",
        "1",
        "-t",
        "--in-channels",
        "4",
        "--out-channels",
        "6",
        "-g",
        "2",
        "--verify",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["channels"] == {
        "in_channels": 4,
        "out_channels": 6,
        "groups": 2,
        "from_weight_shape": [4, 3, 3],
        "to_weight_shape": [6, 2, 3],
    }
    assert doc["verification"]["ok"] is True
    code, _, err = invoke(
        "port",
        "6",
        "--from",
        "torch",
        "--to",
        "keras",
        "-k",
        "3",
        "-t",
        "--in-channels",
        "4",
        "--out-channels",
        "6",
        "-g",
        "2",
    )
    assert code == 2 and "Keras has no groups for transposed convolutions" in err


def test_issue_11_framework_examples_on_the_command_line() -> None:
    # JAX and Flax run negative padding beyond the size on one side.
    code, out, err = invoke(
        "shape", "5x2", "-k", "4x1", "-s", "3x1", "-p", "5:-1x-3:5", "-f", "jax", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["layer"]["output"] == [2, 4]
    code, out, err = invoke("shape", "1", "-k", "1", "-s", "2", "-p", "4:-2", "-f", "flax", "--json")
    assert code == 0, err
    assert json.loads(out)["layer"]["output"] == [2]
    # Paddle's truncated size: one element, with a warning.
    code, out, err = invoke("shape", "2", "-k", "3", "-s", "2", "-f", "paddle", "--json")
    assert code == 0, err
    layer = json.loads(out)["layer"]
    assert layer["output"] == [1] and any("truncation" in n for n in layer["notes"])
    # TensorFlow's 3-D ops take no explicit pairs.
    code, out, err = invoke("shape", "7x7x7", "-k", "3", "-s", "2", "-p", "2:2x2:2x2:2", "-f", "tensorflow")
    assert code == 2 and out == ""
    assert "tf.nn.conv3d takes 'SAME' or 'VALID' only" in err
    code, out, _ = invoke(
        "shape", "7x7x7", "-k", "3", "-s", "2", "-p", "2:2x2:2x2:2", "-f", "tensorflow", "--json"
    )
    assert code == 2 and json.loads(out)["error"]["parameter"] == "padding"
    # Keras: which backends run the layer.
    code, out, err = invoke(
        "shape",
        "5",
        "-k",
        "4",
        "-s",
        "2",
        "-p",
        "same",
        "--output-padding",
        "0",
        "-t",
        "-f",
        "keras",
        "--json",
    )
    assert code == 0, err
    layer = json.loads(out)["layer"]
    assert layer["output"] == [8] and layer["unsupported_by"] == ["Keras's TensorFlow backend"]
    assert any("runs on the JAX and torch backends only" in n for n in layer["notes"])
