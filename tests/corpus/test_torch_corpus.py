"""The PyTorch route against eager torch on real third-party models (opt-in: CONVCALC_CORPUS=1).

Every model of ``torch_models.CASES`` whose library is installed is swept over its input sizes; each
(model, size) is compared with eager torch by ``witness.compare``, and the accepted sizes the report
gives at the first size that runs are checked against the sweep; ``convcalc inspect --json`` at that size
holds the published schema. ``python -m tests.corpus.test_torch_corpus``
prints the agreement table.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.corpus.torch_models import CASES, Case  # noqa: E402
from tests.corpus.witness import accepted_agrees, compare, document_problems  # noqa: E402

pytestmark = pytest.mark.skipif(
    not os.environ.get("CONVCALC_CORPUS"), reason="the third-party corpus is opt-in: CONVCALC_CORPUS=1"
)


def _build(case: Case) -> tuple[object, object]:
    """The model with random weights, and the model as inspect builds it: under the meta device, or
    on the CPU where the factory reads data while it builds (SwinUNETR's ``.item()`` of its drop rates)."""
    torch.manual_seed(0)
    real = case.make()
    try:
        with torch.device("meta"):
            meta = case.make()
    except RuntimeError:
        meta = case.make()
    return real, meta


def sweep(case: Case) -> tuple[int, int, int, list[str]]:
    """(cases, agreeing cases, false alarms, problems) of one model."""
    real, meta = _build(case)
    problems: list[str] = []
    agree = alarms = 0
    runs = []
    for shape in case.shapes():
        verdict = compare(real, meta, shape)
        agree += verdict.agrees
        alarms += verdict.false_alarm
        if verdict.torch_runs:
            runs.append(shape)
        problems.extend(f"{shape}: {p}" for p in verdict.problems)
    if runs:
        found = accepted_agrees(meta, runs[0], real, case.shapes())
        problems.extend(found)
        problems.extend(
            document_problems(f"{Path(__file__).parent / 'torch_models.py'}:{case.make.__name__}", runs[0])
        )
    return len(case.shapes()), agree, alarms, problems


# Models whose forward reads tensor data even when built on the CPU, which no meta run has: convcalc
# answers "not shown to run" (shapes stop there, exit 1), never that the model fails.
STOPS = {"diffusers.ConsistencyVAE": "its scheduler's sampling loop calls .item() on a tensor of the run"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_model_agrees_with_eager_torch(case: Case) -> None:
    if not case.available():
        pytest.skip(f"{case.library} is not installed")
    _, _, alarms, problems = sweep(case)
    if case.name in STOPS:
        problems = [p for p in problems if "not shown to run" not in p]
    assert alarms == 0 and not problems, problems


def main() -> None:
    torch.set_num_threads(1)
    print(f"{'model':26} {'cases':>5} {'agree':>5} {'false alarms':>12} {'seconds':>8}")
    total = [0, 0, 0]
    for case in CASES:
        if not case.available():
            print(f"{case.name:26} skipped: {case.library} is not installed")
            continue
        start = time.perf_counter()
        try:
            cases, agree, alarms, problems = sweep(case)
        except Exception as error:  # a model convcalc refuses: the table says so
            print(f"{case.name:26} refused: {type(error).__name__}: {str(error)[:150]}")
            continue
        total = [total[0] + cases, total[1] + agree, total[2] + alarms]
        print(f"{case.name:26} {cases:5} {agree:5} {alarms:12} {time.perf_counter() - start:8.1f}")
        for p in problems[:4]:
            print(f"    {p[:200]}")
    print(f"{'total':26} {total[0]:5} {total[1]:5} {total[2]:12}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
