"""What a new user's trial of `convcalc inspect` found wrong, each pinned by a witness.

The trial's model: a conv, a stride-2 conv, a ConvTranspose2d(k3, s2, p1, op1) and a concatenation with
the first conv's output. At 65x64 the concatenation's operands disagree (66 vs 65) and torch refuses it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import convcalc
from convcalc.errors import ConvCalcError

MODEL = """
import torch
import torch.nn as nn


class UNet(nn.Module):
    def __init__(self, output_padding=(1, 1)):
        super().__init__()
        self.enc1 = nn.Conv2d(3, 8, 3, padding=1)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(16, 16, 3, padding=1)
        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=output_padding)
        self.dec = nn.Conv2d(16, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        e = torch.relu(self.enc1(x))
        d = torch.relu(self.down(e))
        m = torch.relu(self.mid(d))
        u = self.up(m)
        c = torch.cat([u, e], dim=1)
        return self.head(torch.relu(self.dec(c)))


def build():
    return UNet().eval()


def fixed():
    return UNet(output_padding=(0, 1)).eval()
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "mymodel.py"
    path.write_text(MODEL)
    return path


def _module(path: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("trial_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_after_a_failing_merge_count_the_work_of_the_sizes_they_print(model: Path) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    report = convcalc.inspect(f"{model}:build", inputs="1x3x65x64")
    rows = {row.name: row for row in report.layers}
    assert rows["dec"].with_fixes and rows["dec"].input_shape == (1, 16, 65, 64)
    # the witness: torch counting the model with the fix inspect suggests (output_padding=(0, 1) on up)
    fixed = _module(model).fixed()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        fixed(torch.zeros(1, 3, 65, 64))
    per_module = counter.get_flop_counts()
    for name in ("dec", "head"):
        flops = sum(per_module[f"UNet.{name}"].values())
        assert 2 * (rows[name].macs or 0) == flops, name
    assert 2 * sum(r.macs or 0 for r in report.layers) == counter.get_total_flops()


def _torch_runs(module: Any, height: int, width: int) -> bool:
    torch = pytest.importorskip("torch")
    try:
        with torch.no_grad():
            module(torch.zeros(1, 3, height, width))
    except RuntimeError:
        return False
    return True


def test_runs_from_is_the_smallest_size_torch_runs(model: Path) -> None:
    pytest.importorskip("torch")
    from convcalc.inspect.analysis import runs_from
    from convcalc.inspect.document import inspect_document

    report = convcalc.inspect(f"{model}:build", inputs="1x3x65x64")
    module = _module(model).build()
    # the witness: torch at every height from 1 (width at its given 64), and every width (height 64)
    heights = [h for h in range(1, 9) if _torch_runs(module, h, 64)]
    widths = [w for w in range(1, 9) if _torch_runs(module, 64, w)]
    assert [runs_from(axis) for axis in report.axes] == [heights[0], widths[0]] == [2, 2]
    document = inspect_document(report)
    assert [a["minimum"] for a in document["accepted_sizes"]] == [2, 2]
    assert [a["runs"]["smallest"] for a in document["accepted_sizes"]] == [2, 2]
    text = convcalc.inspect(f"{model}:build", inputs="1x3x1x64")
    assert text.exit_code == 1


def test_picture_and_table_show_the_same_sizes_after_a_failing_merge(model: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    svg = tmp_path / "model.svg"
    report = convcalc.inspect(f"{model}:build", inputs="1x3x65x64", svg=svg)
    picture = svg.read_text()
    rows = {row.name: row for row in report.layers}
    # the witness: the shapes torch computes in the model with the fix applied
    fixed = _module(model).fixed()
    seen: dict[str, tuple[int, ...]] = {}
    for name in ("dec", "head"):
        getattr(fixed, name).register_forward_hook(
            lambda _m, _i, out, name=name: seen.__setitem__(name, tuple(out.shape))
        )
    with torch.no_grad():
        fixed(torch.zeros(1, 3, 65, 64))
    assert rows["cat"].output_shape == (1, 16, 65, 64) and rows["cat"].with_fixes
    assert rows["cat"].input_shape == (1, 8, 66, 64)  # the disagreement as it stands
    for name, shape in seen.items():
        assert rows[name].output_shape == shape and rows[name].with_fixes
    for name in ("cat", "dec", "head"):
        assert "x".join(map(str, rows[name].output_shape)) + " with the fix applied" in picture
    assert "1x16x66x64" not in picture and "1x1x66x64" not in picture
    console = Console(width=200, record=True)
    console.print(report)
    assert "with the fix applied" in console.export_text()  # the table says so too


TFLITE_UNET = Path(__file__).parent / "data" / "tflite_h5" / "unet.tflite"


def test_a_fixed_size_model_gets_a_layer_fix_not_an_input_size() -> None:
    torch = pytest.importorskip("torch")
    import re

    report = convcalc.inspect(TFLITE_UNET)
    finding = next(f for f in report.findings if f.kind == "dropped")
    assert finding.fix is not None
    assert not finding.fix.startswith("input size") and "fixed at 15x17" in finding.fix
    match = re.search(r"at the end by \[(\d+), (\d+)\]", finding.fix)
    assert match is not None
    pads = [int(match[1]), int(match[2])]
    node = next(r for r in report.run.nodes if r.node.name == finding.node)
    (kernel_h, kernel_w), (stride_h, stride_w) = zip(*((a.kernel_size, a.stride) for a in node.windows))
    height, width = node.inputs[0][1:3]
    # the witness: torch's average pooling with the file's window, on the layer's input, reads every
    # element (a nonzero gradient) once padded as the fix says, and misses some as it stands
    for pad, reads_all in ((pads, True), ([0, 0], False)):
        x = torch.ones(1, 1, height + pad[0], width + pad[1], requires_grad=True)
        torch.nn.functional.avg_pool2d(x, (kernel_h, kernel_w), (stride_h, stride_w)).sum().backward()
        assert x.grad is not None
        assert bool((x.grad[..., :height, :width] != 0).all()) is reads_all


FIX_RECORDS = Path(__file__).parent / "data" / "tflite_h5" / "fix_records.json"


@pytest.mark.parametrize("index", [0, 1])
def test_a_keras_model_gets_its_checkerboard_fix_in_keras_spelling(index: int) -> None:
    import json

    # the witness: Keras 3 running the fix exactly as inspect spells it (make_fix_record.py), ones in
    # the input and the kernel, so each output value is the number of taps that reach it
    record = json.loads(FIX_RECORDS.read_text())[index]
    report = convcalc.inspect(FIX_RECORDS.parent / record["file"])
    finding = next(f for f in report.findings if f.kind == "checkerboard" and f.node == record["layer"])
    assert finding.fix == record["fix"]
    assert "strides=(2, 2)" in finding.fix and "[" not in finding.fix  # Keras's tuples, not lists
    row = next(r for r in report.layers if r.name == record["layer"])
    assert record["output"][1:-1] == list(row.output_shape[1:-1])  # the layer's output size kept
    interior = {v for line in record["taps"][1:-2] for v in line[1:-2]}
    assert len(interior) == 1  # even overlap: every output away from the borders gets as many taps


def test_findings_name_spatial_axes_by_letter_and_tensor_axes_as_such(model: Path) -> None:
    pytest.importorskip("torch")
    report = convcalc.inspect(f"{model}:build", inputs="1x3x65x64")
    merge = next(f for f in report.findings if f.kind == "merge")
    checkerboard = next(f for f in report.findings if f.kind == "checkerboard")
    assert "(concatenating tensor axis 1)" in merge.message
    assert merge.fix is not None and "crop 1 at the end of H" in merge.fix  # 66 vs 65 rows: H
    assert "H: [1, 2]; W: [1, 2]" in checkerboard.message
    for finding in (merge, checkerboard):
        assert "axis 0" not in f"{finding.message} {finding.fix}"


def test_a_merge_path_names_the_layer_the_skip_comes_from(model: Path) -> None:
    pytest.importorskip("torch")
    from convcalc.inspect.document import inspect_document

    report = convcalc.inspect(f"{model}:build", inputs="1x3x65x64")
    (merge,) = report.merges
    assert merge.paths == (("down", "up"), ("enc1",))  # the skip operand is enc1's output, not the input
    finding = next(f for f in report.findings if f.kind == "merge")
    assert "paths: down > up | enc1" in finding.message
    assert inspect_document(report)["merges"][0]["paths"] == [["down", "up"], ["enc1"]]


def test_the_api_takes_input_as_the_cli_names_it(model: Path) -> None:
    pytest.importorskip("torch")
    from convcalc.errors import ConvCalcError

    by_cli_name = convcalc.inspect(f"{model}:build", input="1x3x65x64")
    by_keyword = convcalc.inspect(f"{model}:build", inputs="1x3x65x64")
    assert by_cli_name.input_shapes == by_keyword.input_shapes == ((1, 3, 65, 64),)
    with pytest.raises(ConvCalcError, match="input= or inputs="):
        convcalc.inspect(f"{model}:build", input="1x3x65x64", inputs="1x3x65x64")


def test_inspect_help_lists_every_model_format() -> None:
    from typer.testing import CliRunner

    from convcalc.cli import app

    text = " ".join(CliRunner().invoke(app, ["inspect", "--help"], env={"COLUMNS": "200"}).stdout.split())
    for suffix in (".onnx", ".keras", ".h5", ".tflite"):
        assert suffix in text
    assert "TFLite" in text


def test_caution_text_is_never_plain_yellow() -> None:
    import io
    import re

    from rich.style import Style

    from convcalc.port.translate import port
    from convcalc.render import CAUTION

    style = Style.parse(CAUTION)
    assert style.bold and style.color is None  # the terminal's own foreground: dark and light themes
    sources = Path(convcalc.__file__).parent
    for path in sources.rglob("*.py"):
        if "svg" in path.parts:  # pictures choose their own colours on a white page
            continue
        assert not re.search(r"\byellow\b", re.sub(r"#.*", "", path.read_text())), path
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="standard", width=120)
    console.print(port("tensorflow", "pytorch", 5, 3, stride=2, padding="same", transposed=True))
    assert "\x1b[33m" not in out.getvalue() and "\x1b[1m" in out.getvalue()


def test_explain_overlap_says_which_min_and_max_are_per_axis() -> None:
    torch = pytest.importorskip("torch")
    from typer.testing import CliRunner

    from convcalc.cli import app

    args = ["explain", "3x3", "-k", "4", "-s", "3", "-t", "--section", "overlap"]
    text = CliRunner().invoke(app, args, env={"COLUMNS": "80"}).stdout
    row = next(line for line in text.splitlines() if "min / max" in line)
    # the witness: torch scattering ones through a ones kernel counts the pairs on each output
    both = torch.nn.functional.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 4, 4), stride=3)
    one = torch.nn.functional.conv_transpose1d(torch.ones(1, 1, 3), torch.ones(1, 1, 4), stride=3)
    per_axis = f"{int(one.min())} / {int(one.max())}"
    assert "along this axis alone" in row and row.count(per_axis) == 2
    assert f"min {int(both.min())}, max {int(both.max())} overall (all axes together" in " ".join(
        text.split()
    )


@pytest.mark.parametrize(
    ("keywords", "python", "cli"),
    [
        ({"input": "1x3x0x4"}, "input= must be a full shape", "--input must be a full shape"),
        ({"input": "1x3x32"}, "input='1x3x32' has rank 3", "--input 1x3x32 has rank 3"),
        ({"inputs": ["1x3x32x32"] * 2}, "input= gives 2 shape(s)", "--input gives 2 shape(s)"),
        ({"input": "1x3x32x32", "target": "bogus"}, "target= must be one of", "--target must be one of"),
    ],
)
def test_inspect_names_input_and_target_as_the_caller_spells_them(
    tmp_path: Path, keywords: dict[str, object], python: str, cli: str
) -> None:
    """Through Python the messages name the keywords (input=, target=); on the command line the options."""
    from typer.testing import CliRunner

    from convcalc import api
    from convcalc.cli import app

    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    sys.path.insert(0, str(Path(__file__).parent))
    import inspect_models as im

    path = tmp_path / "m.onnx"
    path.write_bytes(im.export(im.UNet(), (1, 3, 32, 32)))
    with pytest.raises(ConvCalcError) as raised:
        api.inspect(str(path), **keywords)  # type: ignore[arg-type]
    assert python in str(raised.value) and "--" not in str(raised.value)
    args = ["inspect", str(path)]
    shapes = keywords.get("inputs", [keywords.get("input")])
    for shape in shapes if isinstance(shapes, list) else [shapes]:
        args += ["--input", str(shape)]
    if "target" in keywords:
        args += ["--target", str(keywords["target"])]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2 and cli in done.stderr, done.output
