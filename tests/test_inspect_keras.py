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
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

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
