"""Where torch refuses a merge, the PyTorch reader goes on with the merge's fix applied, as the ONNX
reader does, so that both routes report the same findings; where it cannot go on, it says which layers
were not analysed.

The model (a trial's, in its own words): an add skip after a stride-2 transposed convolution and a
concatenation skip after a second one. At 13x11 the add's operands disagree on H (2 vs 3); once that is
fixed the concatenation still disagrees (8 vs 7). Witnesses: torch refusing and running the model, torch
running it with both fixes written by hand, and the same model exported to ONNX and read by the ONNX
reader.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from convcalc.inspect import inspect_model  # noqa: E402
from convcalc.inspect.torch_reader import inspect_module  # noqa: E402

SHAPE = (1, 3, 13, 11)


class TwoSkips(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.down2 = nn.Conv2d(4, 8, 3, stride=2, padding=1, dilation=2)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.mid = nn.Conv2d(8, 8, 1)
        self.up1 = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(8, 4, 4, stride=2)
        self.head = nn.Conv2d(8, 2, 3, padding=1)

    def parts(self, x: Any, fixed: bool) -> dict[str, Any]:
        a = self.down1(x)
        b = self.down2(a)
        u = self.up1(self.mid(self.pool(b)))
        if fixed:  # the report's fix: pad the decoder side by 1 at the end of H
            u = F.pad(u, (0, 0, 0, b.shape[2] - u.shape[2]))
        s = u + b
        v = self.up2(s)
        w = v[:, :, : a.shape[2]] if fixed else v  # and crop up2's output by 1 at the end of H
        c = torch.cat([w, a], 1)
        return {"add": s, "up2": v, "cat": c, "head": self.head(c)}

    def forward(self, x: Any) -> Any:
        return self.parts(x, fixed=False)["head"]


class TwoBranches(nn.Module):
    """Two convolutions of the input that never agree, added: no decoder side, so no fix to go on with."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.b = nn.Conv2d(3, 4, 5, stride=2)
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x: Any) -> Any:
        return self.head(torch.relu(self.a(x) + self.b(x)))


def test_torch_refuses_the_given_size_and_runs_the_sizes_the_report_accepts() -> None:
    model = TwoSkips().eval()
    with pytest.raises(RuntimeError, match="must match"):
        model(torch.zeros(SHAPE))
    report = inspect_module(model, SHAPE)
    accepted = [axis.accepted for axis in report.axes]
    assert all(a is not None and a.smallest == 11 for a in accepted)
    for h in range(3, 40):
        runs = True
        try:
            model(torch.zeros(1, 3, h, 11))
        except RuntimeError:
            runs = False
        assert runs == accepted[0].contains(h), h


def test_the_reader_goes_on_past_the_refused_add_with_its_fix_applied() -> None:
    report = inspect_module(TwoSkips().eval(), SHAPE)
    assert [m.name for m in report.merges] == ["add", "cat"]
    assert not any(m.knock_on for m in report.merges)
    assert report.headline().startswith("3 findings: 2 skip mismatches at 13x11")
    # torch runs the model with both fixes written by hand: every size after the add is torch's
    with torch.no_grad():
        fixed = TwoSkips().eval().parts(torch.zeros(SHAPE), fixed=True)
    rows = {row.name: row for row in report.layers}
    for name in ("add", "up2", "head"):
        assert rows[name].output_shape == tuple(fixed[name].shape), name
        assert rows[name].with_fixes
    assert rows["cat"].output_shape == tuple(fixed["cat"].shape)
    cat = report.merges[1]
    assert "with the fixes above applied, the operands are 1x4x8x6 vs 1x4x7x6" in cat.fixes[0]


def test_the_pytorch_and_onnx_routes_report_the_same_findings(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    sys.path.insert(0, str(Path(__file__).parent))
    import inspect_models as im

    model = TwoSkips().eval()
    path = tmp_path / "two_skips.onnx"
    path.write_bytes(im.export(model, (1, 3, 11, 11)))
    via_torch = inspect_module(model, SHAPE)
    via_onnx = inspect_model(str(path), [SHAPE])
    assert [(f.severity, f.kind) for f in via_torch.findings] == [
        (f.severity, f.kind) for f in via_onnx.findings
    ]
    assert [m.shapes for m in via_torch.merges] == [m.shapes for m in via_onnx.merges]
    assert [x.accepted for x in via_torch.axes] == [x.accepted for x in via_onnx.axes]
    assert [(r.output_shape, r.with_fixes) for r in via_torch.layers] == [
        (r.output_shape, r.with_fixes) for r in via_onnx.layers
    ]


def test_the_fix_says_what_to_change_first_then_why_not_the_refused_output_padding() -> None:
    report = inspect_module(TwoSkips().eval(), SHAPE)
    fix = report.merges[0].fixes[0]
    assert fix.startswith("pad operand 1, the decoder side (up1): pad 1 at the end of H (not ")
    assert "output_padding=[2, 1] on up1, which would make the operands agree: PyTorch refuses it (" in fix
    # the witness of the refusal: torch itself
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=(2, 1))(torch.zeros(1, 8, 1, 1))


def test_where_the_run_cannot_go_on_the_report_names_the_layers_not_analysed() -> None:
    model = TwoBranches().eval()
    with pytest.raises(RuntimeError, match="must match"):
        model(torch.zeros(1, 3, 16, 16))
    report = inspect_module(model, (1, 3, 16, 16))
    notes = [f for f in report.findings if f.kind == "note" and f.node == "add"]
    assert len(notes) == 1
    assert "torch refused this input here and forward stopped, so nothing after it was analysed" in (
        notes[0].message
    )
    assert notes[0].message.endswith("(layers that never ran: head)")
    assert [r.name for r in report.layers] == ["a", "b", "add"]
