"""`convcalc inspect` as read by a person: notes without a findings table, no empty receptive-field line,
merge paths that say when they were shortened."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ExitCode

DATA = Path(__file__).resolve().parent / "data" / "keras"


def inspect(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["inspect", *args], env={"COLUMNS": "80", "NO_COLOR": "1"})
    return result.exit_code, result.stdout


def test_no_findings_prints_its_notes_as_lines_not_a_findings_table() -> None:
    code, out = inspect(str(DATA / "residual_add.keras"))
    assert code == ExitCode.OK
    assert out.startswith("no findings")
    assert "Findings" not in out and "note: written by Keras" in out


def _module(tmp_path: Path, source: str) -> str:
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(source))
    return f"{path}:build"


def test_a_model_without_spatial_axes_has_no_receptive_field_line(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    model = _module(
        tmp_path,
        """
        from torch import nn

        def build():
            return nn.Sequential(nn.Linear(16, 4), nn.ReLU())
        """,
    )
    code, out = inspect(model, "--input", "1x16")
    assert code == ExitCode.OK, out
    assert "receptive field" not in out


def test_a_merge_path_longer_than_three_layers_is_shortened_with_an_ellipsis(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = _module(
        tmp_path,
        """
        from torch import nn

        class Deep(nn.Module):
            def __init__(self):
                super().__init__()
                conv = lambda: nn.Conv2d(1, 1, 3, stride=2, padding=1)
                self.c1, self.c2, self.c3, self.c4 = conv(), conv(), conv(), conv()
                self.pool = nn.AvgPool2d(8)

            def forward(self, x):
                return self.c4(self.c3(self.c2(self.c1(x)))) + self.pool(x)

        def build():
            return Deep()
        """,
    )
    code, out = inspect(model, "--input", "1x1x64x64", "--json")
    assert code == ExitCode.VERIFICATION_FAILED
    messages = [f["message"] for f in json.loads(out)["findings"]]
    assert any("paths: ... > c2 > c3 > c4 | pool" in m for m in messages), messages
    # The mismatch is real: torch refuses to add 4x4 to 8x8.
    import importlib.util

    spec = importlib.util.spec_from_file_location("model", model.split(":")[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(RuntimeError):
        module.build()(torch.zeros(1, 1, 64, 64))
