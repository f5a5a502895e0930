"""The PyTorch route on behaviours the third-party corpus found (tests/corpus, opt-in), each reproduced
by a small module of our own and checked against eager torch: what the model's code prints, ..."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

PRINTS = """
import torch.nn as nn

print("importing the file")


class Loud(nn.Module):
    def __init__(self):
        super().__init__()
        print("building")
        self.conv = nn.Conv2d(1, 2, 3, stride=2)

    def forward(self, x):
        print("running at", tuple(x.shape))
        return self.conv(x)


def loud():
    return Loud()
"""


def test_what_the_model_prints_never_reaches_the_json_on_stdout(tmp_path: Path) -> None:
    """MONAI's DiNTS prints while it runs: stdout stays one JSON document, the prints go to stderr."""
    path = tmp_path / "loud.py"
    path.write_text(PRINTS)
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "inspect", f"{path}:loud", "--input", "1x1x9x8", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    expected = tuple(torch.nn.Conv2d(1, 2, 3, stride=2)(torch.zeros(1, 1, 9, 8)).shape)
    assert tuple(report["layers"][-1]["output_shape"]) == expected
    assert "building" in done.stderr and "running at" in done.stderr and "importing" in done.stderr
