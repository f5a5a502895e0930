"""A layer that the fix of a later merge changes says so in its row, in the framework's words.

A two-level U-Net (MaxPool 2 down, ConvTranspose k2 s2 up, concatenated skips) at 31x30: H 31 -> 15 ->
7, so u1 gives 14 against the skip's 15 and u2 gives 30 against 31; W 30 -> 15 -> 7 gives 14 against
15 and then 30 against 30. By hand: output_padding=[1, 1] on u1 and output_padding=[1, 0] on u2. The
rows after the first failing merge carry the sizes with the fixes applied; u2's row shows its own fix
(output_padding=[1, 0], the fix for the second concatenation) beside the crops of the changed layer,
its arguments those of the model as it stands (output_padding 0). Witness: torch running the model
with both output_paddings set by hand, every layer's output recorded by hooks; the same model exported
to ONNX and read by the ONNX reader.
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

torch = pytest.importorskip("torch")
nn = torch.nn

from convcalc.cli import app  # noqa: E402
from convcalc.inspect import inspect_model  # noqa: E402
from convcalc.inspect.document import inspect_document  # noqa: E402
from convcalc.inspect.report import InspectReport  # noqa: E402
from convcalc.inspect.torch_reader import inspect_module  # noqa: E402

SHAPE = (1, 3, 31, 30)
FIXES = {"u1": (1, 1), "u2": (1, 0)}  # by hand, from the sizes in the module docstring


def _double(c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1)
    )


class TwoLevels(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = _double(3, 4)
        self.d1 = nn.Sequential(nn.MaxPool2d(2), _double(4, 8))
        self.d2 = nn.Sequential(nn.MaxPool2d(2), _double(8, 16))
        self.u1 = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.c1 = _double(16, 8)
        self.u2 = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.c2 = _double(8, 4)
        self.out = nn.Conv2d(4, 2, 1)

    def forward(self, x: Any) -> Any:
        a = self.inc(x)
        b = self.d1(a)
        y = self.c1(torch.cat([b, self.u1(self.d2(b))], 1))
        return self.out(self.c2(torch.cat([a, self.u2(y)], 1)))


def factory() -> nn.Module:
    return TwoLevels().eval()


def _torch_shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    """Every leaf module's output shape as torch computes it, by module path."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, module in model.named_modules():
        if name and not list(module.children()):
            module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
    with torch.no_grad():
        model(torch.zeros(SHAPE))
    return shapes


def _fixed_by_hand() -> nn.Module:
    model = TwoLevels().eval()
    for name, op in FIXES.items():
        getattr(model, name).output_padding = op
    return model


def _onnx_report(tmp_path: Path) -> InspectReport:
    pytest.importorskip("onnx")
    path = tmp_path / "two_levels.onnx"
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            TwoLevels().eval(),
            (torch.zeros(1, 3, 32, 32),),
            buffer,
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {2: "h", 3: "w"}},
        )
    path.write_bytes(buffer.getvalue())
    return inspect_model(str(path), [SHAPE])


def test_torch_refuses_the_model_and_runs_it_with_the_fixes_counted_by_hand() -> None:
    with pytest.raises(RuntimeError):
        TwoLevels().eval()(torch.zeros(SHAPE))
    assert _torch_shapes(_fixed_by_hand())["out"] == (1, 2, 31, 30)


def test_the_report_proposes_the_fixes_counted_by_hand() -> None:
    report = inspect_module(TwoLevels().eval(), SHAPE)
    assert [m.name for m in report.merges] == ["cat", "cat#2"]
    assert report.merges[0].fixes[0] == "output_padding=[1, 1] on u1 (ConvTranspose2d)"
    assert report.merges[1].fixes[0].startswith("output_padding=[1, 0] on u2 (ConvTranspose2d)")


def test_every_row_with_the_fixes_applied_is_what_torch_computes_with_them() -> None:
    report = inspect_module(TwoLevels().eval(), SHAPE)
    torch_shapes = _torch_shapes(_fixed_by_hand())
    rows = {row.name: row for row in report.layers}
    after = [row for row in report.layers if row.index > rows["cat"].index and row.name in torch_shapes]
    # only u2's sizes differ from the run as it stands (which carries the first operand on)
    assert [r.name for r in after if r.with_fixes] == ["u2"]
    for row in after:
        assert row.output_shape == torch_shapes[row.name], row.name
    u2 = rows["u2"]
    assert u2.fix == (("output_padding", FIXES["u2"]),) and u2.fix_for == "cat#2"
    # its crops are the changed layer's: torch's out = (i-1)*s + k - output_padding, a crop of -1 at the end
    assert u2.placement == ((0, -1), (0, 0))
    # the arguments stay the model's; only u2 is changed (u1 sits before the first failing merge)
    assert dict(u2.arguments)["output_padding"] in ("(0, 0)", "0")
    assert [r.name for r in report.layers if r.fix] == ["u2"]


def test_table_json_and_picture_say_the_same_fix(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    model = f"{Path(__file__)}:factory"
    given = ["--input", "x".join(map(str, SHAPE))]
    runner = CliRunner()
    table = runner.invoke(app, ["inspect", model, *given], env={"COLUMNS": "80"})
    assert table.exit_code == 1, table.output
    assert "output_padding=[1, 0] here (the fix for cat#2)" in " ".join(
        line.strip("│ ") for line in table.stdout.splitlines()
    ).replace("  ", " ")
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    document = json.loads(runner.invoke(app, ["inspect", model, *given, "--json"]).stdout)
    fixes = {row["name"]: row["fix"] for row in document["layers"] if row["fix"]}
    assert fixes == {"u2": {"merge": "cat#2", "arguments": {"output_padding": [1, 0]}}}
    u2 = next(row for row in document["layers"] if row["name"] == "u2")
    assert u2["arguments"]["output_padding"] == [0, 0] and u2["placement"] == [[0, -1], [0, 0]]
    picture = tmp_path / "u.svg"
    assert runner.invoke(app, ["inspect", model, *given, "--svg", str(picture)]).exit_code == 1
    assert ">1x4x31x30 with output_padding=[1, 0] (its fix)<" in picture.read_text()


def test_the_onnx_route_shows_the_same_rows(tmp_path: Path) -> None:
    via_torch = inspect_module(TwoLevels().eval(), SHAPE)
    via_onnx = _onnx_report(tmp_path)
    keep = ("conv", "conv_transpose", "pool", "concat")
    torch_rows = [r for r in via_torch.layers if r.kind in keep]
    onnx_rows = [r for r in via_onnx.layers if r.kind in keep]
    assert [(r.output_shape, r.with_fixes, r.placement, r.fix) for r in torch_rows] == [
        (r.output_shape, r.with_fixes, r.placement, r.fix) for r in onnx_rows
    ]
    u2 = next(r for r in onnx_rows if r.fix)
    assert u2.name == "/u2/ConvTranspose" and u2.fix_for == "/Concat_1"
    document = inspect_document(via_onnx)
    assert [row["fix"] for row in document["layers"] if row["fix"]] == [
        {"merge": "/Concat_1", "arguments": {"output_padding": [1, 0]}}
    ]
