"""The Keras route against Keras itself on real model code (opt-in: CONVCALC_CORPUS=1 and Keras 3).

Every model of ``keras_models.CASES`` is built with random weights, saved as `.keras` and `.h5`, and
run by Keras layer by layer over its sweep of input sizes (``keras_witness.record``); convcalc reads
each file and is compared with every run (exit code, outputs, every layer's shape) and, at the base
size, its sizes that run along each axis with the sweep. ``python -m tests.corpus.test_keras_corpus``
prints the agreement table.

Keras runs on its torch backend: TensorFlow's oneDNN convolution kernels return their input
unchanged where it is smaller than the kernel (tensorflow-cpu 2.21), so the TensorFlow backend "runs"
sizes that Keras' own shape rule, the torch and the jax backends refuse.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.corpus.keras_models import CASES, Case
from tests.corpus.keras_witness import compare, compare_sizes, record

pytestmark = pytest.mark.skipif(
    not os.environ.get("CONVCALC_CORPUS"), reason="the Keras corpus is opt-in: CONVCALC_CORPUS=1"
)


def _keras() -> Any:
    """Keras 3 on the torch backend (skips when Keras is missing or already loaded on another one)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras is loaded on the {keras.backend.backend()} backend; the witness runs on torch")
    return keras


@dataclass
class Tally:
    cases: int = 0
    agree: int = 0
    false_alarms: int = 0
    not_worked_out: int = 0
    problems: list[str] = field(default_factory=list)


def sweep(keras: Any, case: Case, folder: Path) -> dict[str, Tally]:
    """One model saved in each format and compared with Keras over its sweep: a tally per format."""
    from convcalc.inspect.load import load_graph

    keras.utils.set_random_seed(0)
    model = case.build(keras)
    graphs = {}
    for suffix in case.formats:
        path = folder / f"{case.name}{suffix}"
        model.save(path)
        graphs[suffix] = load_graph(str(path), None)
    truths = [record(keras, model, shape) for shape in case.shapes()]
    tallies = {}
    for suffix, graph in graphs.items():
        tally = tallies[suffix] = Tally()
        runs_at: dict[int, dict[int, bool]] = {axis: {} for axis in case.spatial_axes}
        for truth in truths:
            shape = tuple(truth["input"])
            verdict = compare(graph, truth)
            problems = list(verdict.problems)
            if verdict.stopped is not None:
                tally.not_worked_out += 1
                # a layer of a nested model is named under it ("encoder/patch_and_embed_0")
                if verdict.stopped.rsplit("/", 1)[-1] not in case.opaque:
                    problems.append(f"not worked out: stops at {verdict.stopped}")
            tally.cases += 1
            tally.agree += not problems
            tally.false_alarms += verdict.false_alarm and verdict.stopped is None
            tally.problems.extend(f"{shape}: {p}" for p in problems)
            for axis in case.spatial_axes:
                if all(shape[a] == case.base_shape()[a] for a in case.spatial_axes if a != axis):
                    runs_at[axis][shape[axis]] = truth["error"] is None
        if not case.opaque:
            tally.problems.extend(compare_sizes(graph, case.base_shape(), runs_at))
    return tallies


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_model_agrees_with_keras(case: Case, tmp_path: Path) -> None:
    keras = _keras()
    if not case.available():
        pytest.skip(f"{case.library} is not installed")
    for suffix, tally in sweep(keras, case, tmp_path).items():
        assert tally.false_alarms == 0 and not tally.problems, (suffix, tally.problems[:20])


def test_a_lambda_is_not_worked_out_never_a_wrong_answer(tmp_path: Path) -> None:
    keras = _keras()
    import convcalc

    (case,) = [c for c in CASES if c.name == "espcn"]
    path = tmp_path / f"{case.name}.keras"
    case.build(keras).save(path)
    report = convcalc.inspect(path, input=case.base_shape())
    assert "not worked out" in repr(report) or any(a.runs is None for a in report.axes), repr(report)
    assert all(a.runs is None for a in report.axes)


def test_a_keras_hub_backbone_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    keras = _keras()
    keras_hub = pytest.importorskip("keras_hub")
    from convcalc.errors import ConvCalcError
    from convcalc.inspect.keras_reader import read_keras

    backbone = keras_hub.models.VGGBackbone(
        stackwise_num_repeats=[1, 1], stackwise_num_filters=[4, 8], image_shape=(None, None, 3)
    )
    path = tmp_path / "vgg.keras"
    backbone.save(path)
    with pytest.raises(ConvCalcError, match="the model's class is 'VGGBackbone'; inspect reads Sequential"):
        read_keras(path)
    keras.Model(backbone.inputs, backbone.outputs).save(path)
    assert read_keras(path).nodes


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    names = sys.argv[1:]
    print(f"Keras {keras.__version__} ({keras.backend.backend()} backend)")
    print("| model | source | file | cases | agree | false alarms | not worked out |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for case in CASES:
            if (names and case.name not in names) or not case.available():
                continue
            start = time.perf_counter()
            for suffix, t in sweep(keras, case, Path(folder)).items():
                print(
                    f"| {case.name} | {case.source} | {suffix} | {t.cases} | {t.agree} | {t.false_alarms} "
                    f"| {t.not_worked_out} |",
                    flush=True,
                )
                for problem in t.problems[:8]:
                    print(f"  {problem}", file=sys.stderr)
            print(f"  {case.name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
