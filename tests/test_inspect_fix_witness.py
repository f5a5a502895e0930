"""Every fix `convcalc inspect` suggests, applied and run (issue 15's target).

Witness: ONNX Runtime running the model with the fixes applied by the onnx package, as each text says
(tests/fix_witness.py): the fixed model runs, its merges agree, and every layer row the report shows from
the first failing merge on (the rows flagged with_fixes, and the rest) has ONNX Runtime's shape; on the
PyTorch route, eager torch running the model with the output_padding fix set on the module.

CI: models defined in the tests (torch only), TorchScript exporter. Opt-in (CONVCALC_CORPUS=1): every
model of tests/corpus/torch_models.py whose library is installed, both exporters, at odd sizes;
``python tests/test_inspect_fix_witness.py [names]`` prints the table.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).parent))
import fix_witness as fw  # noqa: E402
import onnx_patterns as op  # noqa: E402

from convcalc.inspect.analysis import inspect_graph  # noqa: E402
from convcalc.inspect.onnx_reader import read_onnx  # noqa: E402
from convcalc.inspect.torch_reader import read_module  # noqa: E402
from tests.corpus import torch_models as tm  # noqa: E402
from tests.corpus.witness import eager  # noqa: E402

nn = torch.nn
CORPUS = bool(os.environ.get("CONVCALC_CORPUS"))


class TrialUNet(nn.Module):
    """The new-user trial's model (tests/test_inspect_trial.py): a ConvTranspose2d(k3, s2, p1, op1)
    whose output is concatenated with a full-size skip; at an odd height the operands disagree."""

    def __init__(self, output_padding: tuple[int, int] = (1, 1)) -> None:
        super().__init__()
        self.enc1 = nn.Conv2d(3, 8, 3, padding=1)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(16, 16, 3, padding=1)
        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=output_padding)
        self.dec = nn.Conv2d(16, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x: Any) -> Any:
        e = torch.relu(self.enc1(x))
        u = self.up(torch.relu(self.mid(torch.relu(self.down(e)))))
        return self.head(torch.relu(self.dec(torch.cat([u, e], dim=1))))


class TwoSkips(nn.Module):
    """Two skip concatenations, decoders by ConvTranspose2d(k4, s2, p1): at odd sizes both disagree and
    the second fix assumes the first; a 3x3 max pool that drops inputs at some sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.e1 = nn.Conv2d(3, 4, 3, padding=1)
        self.d1 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.d2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.u2 = nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1)
        self.u1 = nn.ConvTranspose2d(16, 4, 4, stride=2, padding=1)
        self.out = nn.Conv2d(8, 1, 1)
        self.pool = nn.MaxPool2d(3, stride=2)

    def forward(self, x: Any) -> Any:
        a = torch.relu(self.e1(x))
        b = torch.relu(self.d1(a))
        u = torch.cat([self.u2(torch.relu(self.d2(b))), b], 1)
        return self.pool(self.out(torch.cat([self.u1(u), a], 1)))


# (model, export shape, input shapes inspected): each has at least one fix at every size listed
SLICE = {
    "trial_unet": (TrialUNet, (1, 3, 64, 64), [(1, 3, 65, 64), (1, 3, 63, 65)]),
    "two_skips": (TwoSkips, (1, 3, 64, 64), [(1, 3, 65, 64), (1, 3, 67, 62), (1, 3, 66, 63)]),
    "skip_dict": (tm.SkipDict, (1, 3, 32, 32), [(1, 3, 33, 32), (1, 3, 31, 31)]),
    "reused": (tm.Reused, (1, 3, 32, 32), [(1, 3, 33, 32), (1, 3, 30, 31)]),
    "bare_transposed": (tm.bare_transposed, (1, 3, 32, 32), [(1, 3, 33, 32)]),
}


# What the witness finds that is no wrong fix of its own: a layer that only another input size fixes.
# (A checkerboard fix on a layer a merge's output_padding fix changes too is worked out for the layer as
# that fix leaves it: the two together run, so a CONFLICT is a failure.)
KNOWN = (fw.BLOCKED,)


def _check(outcomes: list[fw.Outcome], where: str) -> None:
    assert outcomes, f"{where}: no fix to apply"
    bad = [
        f"{o.label}: {o.fixes} -> {o.problems}"
        for o in outcomes
        if not o.ok and not (len(o.problems) == 1 and o.problems[0].startswith(KNOWN))
    ]
    assert not bad, f"{where}: " + "\n".join(bad)


@pytest.mark.parametrize("name", sorted(SLICE))
def test_every_suggested_fix_runs_in_onnx_runtime(name: str, tmp_path: Path) -> None:
    make, example, shapes = SLICE[name]
    torch.manual_seed(0)
    data = op.export(make(), example)
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(data)
    graph = read_onnx(path)
    for shape in shapes:
        report = inspect_graph(graph, [shape])
        _check(fw.witness(data, report), f"{name} at {shape}")


def test_the_two_skip_chain_is_applied_in_order_and_checked_row_by_row(tmp_path: Path) -> None:
    """Two failing merges: the second fix's text names the operands the first fix leaves, and the rows
    after the first merge (flagged with_fixes) are ONNX Runtime's shapes of the model with both fixes."""
    data = op.export(TwoSkips(), (1, 3, 64, 64))
    path = tmp_path / "two.onnx"
    path.write_bytes(data)
    report = inspect_graph(read_onnx(path), [(1, 3, 67, 62)])
    causes = [m for m in report.merges if not m.knock_on]
    assert len(causes) == 2 and "with the fixes above applied" in causes[1].fixes[0]
    chain = next(o for o in fw.witness(data, report) if o.label.startswith("merges"))
    assert len(chain.fixes) == 2 and chain.ok and chain.compared >= 3
    assert any(r.with_fixes for r in report.layers)


def test_the_parser_reads_every_kind_of_fix_text() -> None:
    texts = {
        "output_padding=[0, 1] on up (ConvTranspose2d) (not ...)": ("output_padding", "up", (0, 1)),
        "crop operand 2, the decoder side (t:0): crop 1 at the end of H (with the fixes above applied, "
        "the operands are 1x8x7x8 vs 1x4x6x8)": ("operand", "m", (-1, 0)),
        "pad/crop operand 1 (a): pad 2 at the end of W, crop 1 at the end of H": ("operand", "m", (-1, 2)),
        "auto_pad NOTSET with pads=[1, 2, 1, 2] (what SAME_UPPER means for this input)": (
            "pads",
            "m",
            (1, 2, 1, 2),
        ),
    }
    for text, (kind, node, values) in texts.items():
        (fix,) = fw.parse(text, "m")
        assert (fix.kind, fix.node, fix.values) == (kind, node, values), text
    (after,) = fw.parse(next(iter(t for t in texts if "operands are" in t)), "m")
    assert after.operands_after == ((1, 8, 7, 8), (1, 4, 6, 8)) and after.operand == 1
    crop, pad = fw.parse(
        "crop the last [1, 0] element(s) per spatial axis before p, or pad its input at the "
        "end by [1, 0] so that its last window reaches them",
        "p",
    )
    assert (crop.kind, crop.values, pad.kind, pad.values) == ("crop_before", (-1, 0), "pad_before", (1, 0))
    (alone,) = fw.parse("crop the last [1, 0] element(s) per spatial axis before p (not a pad that ...)", "p")
    assert (alone.kind, alone.node, alone.values) == ("crop_before", "p", (-1, 0))
    (sizes,) = fw.parse("input size 32x32 or 40x32")
    assert sizes.sizes == ((32, 32), (40, 32))
    with pytest.raises(fw.Unparsed):
        fw.parse("resize to [9, 9] then a 3x3 stride-1 convolution")


def test_the_output_padding_fix_runs_in_eager_torch() -> None:
    """The PyTorch route: inspect's output_padding fix set on the module (the witness: eager torch with
    hooks) runs, and every row from the failing merge on has torch's shape."""
    flagged = _torch_route(TrialUNet, (1, 3, 65, 64), expect=1)
    assert flagged == ["cat", "dec", "relu#4", "head"]  # the rows the fix changes, said so


def _torch_route(make: Any, shape: tuple[int, ...], expect: int) -> list[str]:
    """Apply every output_padding fix of the report (the merges' chain) to the real model's modules, run
    it in eager torch, and compare the rows the report shows from the first failing merge on."""
    torch.manual_seed(0)
    real = make()
    with torch.device("meta"):
        meta = make()
    report = inspect_graph(read_module(meta, shape, "model"), (shape,))
    spatial = len(shape) - 2
    chain = [fw.assumed(m, spatial) for m in report.merges if not m.knock_on]
    fixes = [f for f in chain if f is not None and f.kind == "output_padding"]
    assert len(fixes) == expect, [m.fixes for m in report.merges]
    modules = dict(real.named_modules())
    for fix in fixes:
        modules[fix.node].output_padding = fix.values  # the node is the module's path
    truth = eager(real, shape)
    assert truth.error is None, truth.error
    first = min(m.index for m in report.merges)
    compared = [row for row in report.layers if row.index >= first and row.name in truth.layers]
    assert compared
    for row in compared:
        assert truth.layers[row.name] == row.output_shape, row.name
    return [row.name for row in compared if row.with_fixes]


# ---------------------------------------------------------------------------------------------------
# The corpus (opt-in).

CORPUS_CASES = {case.name: case for case in tm.CASES}
SIDES = {"monai.SwinUNETR": 64}


def _export_shape(case: tm.Case) -> tuple[int, ...]:
    spatial = len(case.sizes[0])
    side = SIDES.get(case.name, {1: 64, 2: 32, 3: 16}[spatial])
    return (*case.lead, *(side,) * spatial)


def _sizes(example: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Odd and off-by-one sizes of the first spatial axis, and for 2-D and 3-D both first axes odd."""
    side = example[2]
    shapes = [(*example[:2], s, *example[3:]) for s in (side + 1, side - 1, side - 2)]
    if len(example) > 3:
        shapes.append((*example[:2], side + 1, side - 1, *example[4:]))
    return shapes


class ExportFailed(Exception):
    """The exporter's refusal: the model is left out, with the exporter's reason."""


def corpus_rows(case: tm.Case, dynamo: bool, folder: Path) -> list[tuple[str, fw.Outcome]]:
    """(size, outcome) of every fix inspect suggests for one corpus model through one exporter."""
    torch.manual_seed(0)
    example = _export_shape(case)
    path = folder / f"{case.name}-{'dynamo' if dynamo else 'script'}.onnx"
    if path.exists():  # main() keeps the exports in a folder given by CONVCALC_FIX_MODELS
        data = path.read_bytes()
    else:
        try:
            data = op.export(case.make(), example, dynamo=dynamo)
        except Exception as error:  # torch 2.13 cannot export it (listed by the ONNX corpus test)
            raise ExportFailed(f"{type(error).__name__}: {str(error)[:200]}") from error
        path.write_bytes(data)
    graph = read_onnx(path)
    rows = []
    for shape in _sizes(example):
        report = inspect_graph(graph, [shape])
        for outcome in fw.witness(data, report):
            rows.append(("x".join(map(str, shape[2:])), outcome))
    return rows


# Exports whose sizes do not repeat (test_inspect_third_party.NOT_PERIODIC): the table shows their fixes,
# the test leaves them out.
NOT_PERIODIC = {
    "monai.SwinUNETR": "the export fixes the window count (ONNX Runtime runs 32 and 64 alone on the first "
    "axis): sizes not worked out, and a fix at another size meets the fixed windows"
}


@pytest.mark.skipif(not CORPUS, reason="the third-party corpus is opt-in: CONVCALC_CORPUS=1")
@pytest.mark.parametrize("dynamo", [False, True])
@pytest.mark.parametrize("name", sorted(CORPUS_CASES))
def test_corpus_fixes_run_in_onnx_runtime(name: str, dynamo: bool, tmp_path: Path) -> None:
    case = CORPUS_CASES[name]
    if not case.available():
        pytest.skip(f"{case.library} is not installed")
    if name in NOT_PERIODIC:
        pytest.skip(NOT_PERIODIC[name])
    if dynamo:
        pytest.importorskip("onnxscript")
    try:
        rows = corpus_rows(case, dynamo, Path(os.environ.get("CONVCALC_FIX_MODELS", tmp_path)))
    except ExportFailed as error:
        pytest.skip(f"the export fails: {error}")
    for size in sorted({size for size, _ in rows}):
        _check([o for s, o in rows if s == size], f"{name} at {size}")


# (model, input shape, output_padding fixes in the report's chain): MONAI's ConvTranspose2d decoders
TORCH_ROUTE = [
    ("monai.UNet", (1, 1, 33, 32), 1),
    ("monai.UNet", (1, 1, 33, 31), 1),
    ("monai.AttentionUnet", (1, 1, 33, 32), 2),
    ("monai.AttentionUnet", (1, 1, 31, 32), 1),
    ("monai.AttentionUnet", (1, 1, 33, 31), 2),
]


@pytest.mark.skipif(not CORPUS, reason="the third-party corpus is opt-in: CONVCALC_CORPUS=1")
@pytest.mark.parametrize(("name", "shape", "expect"), TORCH_ROUTE)
def test_corpus_output_padding_fixes_run_in_eager_torch(
    name: str, shape: tuple[int, ...], expect: int
) -> None:
    case = CORPUS_CASES[name]
    if not case.available():
        pytest.skip(f"{case.library} is not installed")
    _torch_route(case.make, shape, expect)


def main() -> None:
    import tempfile

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    wanted = sys.argv[1:]
    print(
        "| model | exporter | size | fixes applied | runs in ORT | merges agree | rows compared | problems |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as temporary:
        folder = os.environ.get("CONVCALC_FIX_MODELS", temporary)
        for name, case in CORPUS_CASES.items():
            if (wanted and not any(w in name for w in wanted)) or not case.available():
                continue
            for dynamo in (False, True):
                exporter = "dynamo" if dynamo else "script"
                try:
                    rows = corpus_rows(case, dynamo, Path(folder))
                except Exception as error:
                    print(f"| {name} | {exporter} | | export or read fails: {type(error).__name__} | | | | |")
                    continue
                for size, o in rows:
                    fixes = " + ".join(f[:70] for f in o.fixes)
                    problems = "; ".join(p[:200] for p in o.problems)
                    print(
                        f"| {name} | {exporter} | {size} | {o.label}: {fixes} | {o.runs} | {o.merges_agree} "
                        f"| {o.compared} | {problems} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()


class TwoBranches(nn.Module):
    """A shortcut block: a k3 s2 convolution that reads every row at odd sizes, added to a k2 s2 one
    that drops the last row; padding the k2 branch instead of cropping it adds a row the sum refuses."""

    def __init__(self) -> None:
        super().__init__()
        self.full = nn.Conv2d(3, 4, 3, stride=2)
        self.short = nn.Conv2d(3, 4, 2, stride=2)

    def forward(self, x: Any) -> Any:
        return self.full(x) + self.short(x)


def test_a_dropped_input_fix_offers_no_pad_the_model_refuses(tmp_path: Path) -> None:
    import io

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(TwoBranches().eval(), (torch.zeros(1, 3, 33, 33),), buffer, dynamo=False)
    data = buffer.getvalue()
    path = tmp_path / "two.onnx"
    path.write_bytes(data)
    report = inspect_graph(read_onnx(path))  # the file fixes its input at 33x33: a layer fix
    (finding,) = [f for f in report.findings if f.kind == "dropped"]
    assert finding.fix is not None and "or pad its input" not in finding.fix
    (crop,) = fw.parse(finding.fix, finding.node)
    _check(fw.witness(data, report), "two branches")  # the crop runs in ONNX Runtime
    # the witness that the pad is rightly left out: ONNX Runtime refuses the sum with it
    pad = fw.Fix("pad_before", "pad", crop.node, (1, 1))
    refused = fw.run_fixes(data, report, [pad], "pad", False)
    assert not refused.runs and "Add" in refused.problems[0]


class ReshapeToInput(nn.Module):
    """A decoder concatenated with its input, then reshaped to a size the model computes from the
    input's height (as torch's dynamo exporter writes a view): cropping the decoder makes the merge
    agree but leaves the reshape too few values."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)

    def forward(self, x: Any) -> Any:
        height, width = x.shape[2], x.shape[3]
        merged = torch.cat([self.up(self.down(x)), x], 1)
        return merged.reshape(x.shape[0], 7, (height + 1) // 2 * 2, width)


def test_a_merge_fix_that_a_later_reshape_refuses_is_not_offered(tmp_path: Path) -> None:
    data = op.export(ReshapeToInput(), (1, 3, 32, 32))
    path = tmp_path / "reshape.onnx"
    path.write_bytes(data)
    report = inspect_graph(read_onnx(path), [(1, 3, 33, 32)])
    (merge,) = report.merges
    assert merge.fixes == ()  # no change of the operands runs: only another input size
    _check(fw.witness(data, report), "reshape to the input")  # the input sizes run
    # the witness that the crop is rightly left out: ONNX Runtime refuses the reshape after it
    producer = next(n for n in report.graph.nodes if n.outputs[0] == merge_input(report, merge.name, 0))
    crop = fw.Fix("operand", "crop", merge.name, (-1, 0), 0, producer.outputs[0])
    refused = fw.run_fixes(data, report, [crop], "crop", False)
    assert not refused.runs and "Reshape" in refused.problems[0]


def merge_input(report: Any, name: str, operand: int) -> str:
    return next(n for n in report.graph.nodes if n.name == name).inputs[operand]


class Hidden(nn.Module):
    """A decoder added to a full-size skip, then concatenated with a second upsampled branch: as the
    model stands the sum carries the decoder's size on, which the concatenation accepts; once the sum's
    fix grows the decoder to the skip, the concatenation disagrees."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 4, 2, stride=2)
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.skip = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(3, 4, 2, stride=2)

    def forward(self, x: Any) -> Any:
        y = self.up(self.down(x)) + self.skip(x)
        return torch.cat([y, self.up2(self.pool(x))], 1)


def test_a_merge_the_first_fix_makes_disagree_gets_its_own_fix(tmp_path: Path) -> None:
    data = op.export(Hidden(), (1, 3, 32, 32))
    path = tmp_path / "hidden.onnx"
    path.write_bytes(data)
    report = inspect_graph(read_onnx(path), [(1, 3, 33, 32)])
    assert [m.op for m in report.merges] == ["Add", "Concat"]
    assert "once the fixes above are applied" in report.merges[1].message
    # the witness: ONNX Runtime runs the model with both fixes, and refuses it with the first alone
    outcomes = fw.witness(data, report)
    chain = next(o for o in outcomes if o.label.startswith("merges"))
    assert len(chain.fixes) == 2 and chain.ok and chain.compared
    first = fw.run_fixes(data, report, [fw.assumed(report.merges[0], 2)], "first", False)  # type: ignore[list-item]
    assert not first.runs and "Concat" in first.problems[0]
    _check(outcomes, "hidden")


class DenseHead(nn.Module):
    """A variational encoder's head: a linear layer on the flattened map fixes the input at 16x16."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, stride=2, padding=1)
        self.mu = nn.Linear(2 * 8 * 8, 4)

    def forward(self, x: Any) -> Any:
        return self.mu(torch.flatten(self.conv(x), 1))


def test_a_linear_layer_that_refuses_the_size_is_one_finding(tmp_path: Path) -> None:
    data = op.export(DenseHead(), (1, 1, 16, 16))
    path = tmp_path / "dense.onnx"
    path.write_bytes(data)
    report = inspect_graph(read_onnx(path), [(1, 1, 17, 16)])
    refusals = [f for f in report.findings if f.kind == "failure"]
    assert len(refusals) == 1 and "Gemm" in refusals[0].message
    assert not [f for f in report.findings if f.kind == "merge"]  # a layer that cannot run, no skip
    assert "1 layer that cannot run" in report.headline()
    # the witness: ONNX Runtime refuses the model at that layer, and the suggested sizes run
    outcomes = fw.witness(data, report)
    assert all(o.ok or o.problems[0].startswith(fw.BLOCKED) for o in outcomes)
