"""`convcalc diff` between a Keras U-Net saved as `.h5` and its conversion by TensorFlow's TFLite converter.

Witness: tests/data/tflite_h5/records.json holds the shape of every tensor as Keras ran the `.h5` and as
the TFLite interpreter ran the `.tflite` (tests/data/tflite_h5/make.py); diff's sizes for both files are
those, and its verdicts for the converter's layers are faithful: SAME / VALID convolutions, the depthwise
one, TRANSPOSE_CONV with its output_shape, the poolings, the explicit PAD, a dilated convolution that the
converter wraps in SPACE_TO_BATCH / BATCH_TO_SPACE, bilinear (Keras) = linear (TFLite), and the two
outputs that the converter lists in the other order, and the nearest UpSampling2D that the converter
spells as ExpandDims / Tile / Reshape (the TFLite reader folds it back into one resize).

Witness for the output verdicts: tests/data/tflite_h5/diff_runs.json holds both files of each pair run
on the same random input by Keras and the TFLite interpreter (tests/data/tflite_h5/make_diff_runs.py):
the largest difference per output, and for a map the shift per axis that makes B's interior equal A's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("tflite")
pytest.importorskip("h5py")

from convcalc.diff.report import diff_models

DATA = Path(__file__).parent / "data" / "tflite_h5"
RECORDS = {r["file"]: r["runs"] for r in json.loads((DATA / "records.json").read_text())}
RUNS = {(r["a"], r["b"]): r["outputs"] for r in json.loads((DATA / "diff_runs.json").read_text())["runs"]}
# float32 kernels summing in another order differ by a few ulps; a moved map by far more
SAME_VALUES = 1e-5


@pytest.mark.parametrize("h5", ["unet_keras3.h5", "unet_keras2.h5"])
def test_the_tflite_conversion_of_a_keras_unet(h5: str) -> None:
    report = diff_models(str(DATA / h5), str(DATA / "unet.tflite"), [(1, 15, 17, 3)])
    verdicts = {p.name: p.verdict for p in report.pairs}
    assert set(verdicts.values()) == {"same"}, verdicts
    layers = {"c1", "down", "dw", "up", "ups", "pool", "avg", "pad", "bil", "up2", "dil", "seg"}
    assert layers <= set(verdicts)
    # the sizes both runtimes gave: Keras for every A layer, the TFLite interpreter for B's outputs
    keras = RECORDS[h5]["1x15x17x3"]
    for pair in report.pairs:
        assert pair.a is not None and list(pair.a.output_shape) == keras[pair.name], pair.name
    interpreter = RECORDS["unet.tflite"]["1x15x17x3"]
    pairs = {o.a_name: o.b_name for o in report.outputs}
    assert pairs == {"seg": "StatefulPartitionedCall_1:0", "cls": "StatefulPartitionedCall_1:1"}
    for output in report.outputs:
        assert output.b_shape is not None and list(output.b_shape) == interpreter[output.b_name]
        assert list(output.b_shape) == keras[output.a_name]


def _run_verdict(record: dict[str, Any]) -> tuple[str, dict[str, int]]:
    """What running both files gave for one output: same values, a shifted map (and by how much), or other
    values."""
    if record["max_abs_difference"] <= SAME_VALUES:
        return "same", {}
    shifts = record.get("interior_shifts", [])
    if len(shifts) == 1:
        return "shifted", shifts[0]
    return "different values", {}


@pytest.mark.parametrize(
    ("a", "b"),
    [("unet_keras3.h5", "unet.tflite"), ("perm.h5", "perm.tflite"), ("perm.h5", "perm_moved.h5")],
)
def test_every_output_verdict_is_what_running_both_files_gave(a: str, b: str) -> None:
    """A global average pooling + Dense head (shape 1x3 in both) is the same when every layer upstream is
    (it was called "different values"), other values when a layer upstream moved the map; a map moved
    after a Permute is shifted on the axis it really is (W, not the position's H)."""
    report = diff_models(str(DATA / a), str(DATA / b), [(1, 15, 17, 3)])
    for output, record in zip(report.outputs, RUNS[(a, b)]):
        assert output.index == record["index"]
        assert output.a_shape is not None and list(output.a_shape) == record["shape"]
        verdict, shift = _run_verdict(record)
        assert output.verdict == verdict, (output, record)
        if verdict == "shifted":
            assert {axis: int(n) for axis, n in output.shift if axis in shift} == shift
        if "b_name" in record:
            assert output.b_name == record["b_name"]


def test_a_keras_permute_and_a_tflite_transpose_rename_the_axes() -> None:
    """The convolution between the two Permutes runs along W then H: diff names its axes so, and the
    moved pads of perm_moved.h5 are on W (the run: B's interior equals A's moved by one column)."""
    faithful = diff_models(str(DATA / "perm.h5"), str(DATA / "perm.tflite"), [(1, 15, 17, 3)])
    along = next(p for p in faithful.pairs if p.name == "along")
    assert along.a is not None and along.b is not None
    assert along.a.axes == along.b.axes == ("W", "H")
    assert [p.verdict for p in faithful.pairs] == ["same"] * 3
    moved = diff_models(str(DATA / "perm.h5"), str(DATA / "perm_moved.h5"), [(1, 15, 17, 3)])
    pair = next(p for p in moved.pairs if p.name == "along")
    assert pair.verdict == "shifted"
    assert [(c.argument, c.axis, c.a, c.b) for c in pair.changes] == [("pads", "W", "1:1", "0:2")]
    assert dict(pair.shift) == {"W": -1, "H": 0}
    (run,) = RUNS[("perm.h5", "perm_moved.h5")][0]["interior_shifts"]
    assert run == {"H": 0, "W": -1}


@pytest.mark.parametrize("width", [80, 100])
def test_the_layer_table_keeps_each_verdict_beside_its_layers_at_80_columns(width: int) -> None:
    """TFLite's long tensor names made the side-by-side table split its verdict column off into a second
    block; stacked, A's layer sits above B's with the verdict beside A's and nothing is cut."""
    from rich.console import Console

    from convcalc.render import Fitted

    report = diff_models(str(DATA / "unet_keras3.h5"), str(DATA / "unet.tflite"), [(1, 15, 17, 3)])
    console = Console(width=width, record=True, file=open("/dev/null", "w"), color_system=None)  # noqa: SIM115
    console.print(Fitted(report.__rich__()))
    lines = console.export_text().splitlines()
    assert all(len(line) <= width for line in lines)
    assert not any("too wide" in line for line in lines)
    header = next(line for line in lines if line.startswith("┃"))
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == ["#", "", "layer", "verdict"]
    assert "unet_1/dil_1/convolution/BatchToSpaceND" in "\n".join(lines)
    for n, pair in enumerate(report.pairs):
        row = next(line for line in lines if line.startswith(f"│ {n:>2} │ A │"))
        assert row.rstrip(" │").endswith(pair.verdict)
    wide = Console(width=400, record=True, file=open("/dev/null", "w"), color_system=None)  # noqa: SIM115
    wide.print(Fitted(report.__rich__()))
    header = next(line for line in wide.export_text().splitlines() if line.startswith("┃"))
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == ["#", "A", "B", "verdict"]
