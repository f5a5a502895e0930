"""`convcalc.solve.solver`: hand-worked references, brute force as the witness nothing is missed, torch."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.core import conv_output_size, conv_transpose_output_size
from convcalc.errors import ConvCalcError
from convcalc.solve.answers import Bounds
from convcalc.solve.solver import solve

SMALL = Bounds(max_kernel=5, max_stride=3, max_dilation=2)


def _key(answer):  # type: ignore[no-untyped-def]
    return (answer.kernel_size, answer.stride, answer.dilation, answer.padding, answer.output_padding)


def brute_force(size: int, target: int, transposed: bool, bounds: Bounds) -> set[tuple[object, ...]]:
    """Every layer of the documented search space, run forward through the public size functions."""
    found = set()
    for k, s, d in product(
        range(1, bounds.max_kernel + 1), range(1, bounds.max_stride + 1), range(1, bounds.max_dilation + 1)
    ):
        if d > 1 and k == 1:
            continue
        big_k = d * (k - 1) + 1
        op_limit = (s if bounds.strict else max(s, d)) if transposed else 1
        for pb, pa, op in product(range(big_k), range(big_k), range(op_limit)):
            if pa - pb not in (0, 1) or (transposed and pa != pb and op != 0):
                continue
            try:
                if transposed:
                    out = conv_transpose_output_size(
                        size, k, stride=s, padding=((pb, pa),), output_padding=op, dilation=d
                    )
                else:
                    out = conv_output_size(size, k, stride=s, padding=((pb, pa),), dilation=d)
            except ConvCalcError:
                continue
            if out == target:
                found.add(((k,), (s,), (d,), ((pb, pa),), (op,)))
    return found


@given(
    size=st.integers(1, 14),
    target=st.integers(1, 40),
    transposed=st.booleans(),
    strict=st.booleans(),
)
def test_solver_finds_exactly_what_brute_force_finds(
    size: int, target: int, transposed: bool, strict: bool
) -> None:
    bounds = Bounds(SMALL.max_kernel, SMALL.max_stride, SMALL.max_dilation, strict)
    report = solve(size, target, transposed=transposed, bounds=bounds)
    answers = [_key(a) for a in report.answers]
    assert len(answers) == len(set(answers))
    assert set(answers) == brute_force(size, target, transposed, bounds)


@settings(max_examples=60)
@given(size=st.integers(1, 12), target=st.integers(1, 40), transposed=st.booleans())
def test_restricted_padding_forms_reach_every_size_any_padding_reaches(
    size: int, target: int, transposed: bool
) -> None:
    """Any (before, after) padding up to K-1 reaches nothing the symmetric / (p, p+1) forms miss."""
    reachable = False
    for k, s, d in product(range(1, 5), range(1, 4), range(1, 3)):
        big_k = d * (k - 1) + 1
        for pb, pa, op in product(range(big_k), range(big_k), range(max(s, d) if transposed else 1)):
            try:
                if transposed:
                    out = conv_transpose_output_size(
                        size, k, stride=s, padding=((pb, pa),), output_padding=op, dilation=d
                    )
                else:
                    out = conv_output_size(size, k, stride=s, padding=((pb, pa),), dilation=d)
            except ConvCalcError:
                continue
            reachable = reachable or out == target
    report = solve(size, target, transposed=transposed, bounds=Bounds(4, 3, 2))
    assert bool(report.answers) == reachable


def test_pytorch_doc_example_output_size_12_needs_output_padding_1() -> None:
    # PyTorch's ConvTranspose2d docs: Conv2d(k3, s2, p1) maps 12 to 6, output_size=12 maps 6 back.
    report = solve(6, 12, kernel_size=3, stride=2, padding=1)
    assert [(a.output_padding, a.dilation) for a in report.answers] == [((1,), (1,))]


def test_reference_anchor_5_to_10_and_9() -> None:
    # framework-semantics §1: i=5, k=3, s=2, p=1 gives 10 with op=1 and 9 with op=0.
    assert [a.output_padding for a in solve(5, 10, kernel_size=3, stride=2, padding=1).answers] == [(1,)]
    assert [a.output_padding for a in solve(5, 9, kernel_size=3, stride=2, padding=1).answers] == [(0,)]


def test_decoder_23x40_to_46x80_prefers_even_coverage_and_includes_k4_s2_p1() -> None:
    report = solve((23, 40), (46, 80))
    best = report.answers[0]
    assert best.kernel_size == (2, 2) and best.stride == (2, 2) and best.padding == ((0, 0), (0, 0))
    keys = [_key(a) for a in report.answers]
    assert ((4, 4), (2, 2), (1, 1), ((1, 1), (1, 1)), (0, 0)) in keys  # the DCGAN layer
    assert not report.mixed
    # ranked: every answer with even coverage comes before every checkerboard one
    flags = [all(a.checkerboard_free for a in ans.axes) for ans in report.answers]
    assert flags == sorted(flags, reverse=True)


def test_axes_needing_different_strides_get_mixed_answers() -> None:
    report = solve((23, 40), (46, 40), kernel_size=(2, 1))
    assert report.mixed
    assert report.answers[0].stride == (2, 1)


def test_dilation_multiple_of_stride_is_a_checkerboard() -> None:
    # k2 s2 d2: taps at 0 and 2, both even: odd outputs of the transposed convolution get no weight.
    answers = solve(5, 10, kernel_size=2, stride=2, dilation=2).answers
    assert answers and not any(a.axes[0].checkerboard_free for a in answers)


def test_output_padding_between_stride_and_dilation_is_pytorch_only() -> None:
    # framework-semantics §2.2: s=1, d=2, op=1 accepted by PyTorch: i=5, k=3 gives 10.
    report = solve(5, 10, kernel_size=3, stride=1, dilation=2)
    assert [(a.output_padding, a.axes[0].strict_ok) for a in report.answers] == [((1,), False)]
    assert "PyTorch-only output_padding" in report.answers[0].reasons
    strict = solve(5, 10, kernel_size=3, stride=1, dilation=2, bounds=Bounds(strict=True))
    assert strict.answers == ()


def test_nothing_fits_gives_the_nearest_reachable_sizes() -> None:
    report = solve(10, 100, transposed=False)
    assert report.answers == ()
    (near,) = report.nearest
    # witness: the largest convolution output from 10 within the default bounds, by brute force
    largest = max(
        conv_output_size(10, k, stride=s, padding=d * (k - 1), dilation=d)
        for k, s, d in product(range(1, 8), range(1, 5), range(1, 3))
    )
    assert near.below is not None and near.below.output == largest == 22
    assert near.above is None
    assert near.larger_input is not None and near.larger_input.output == 100
    assert solve(near.larger_input.size, 100, transposed=False).answers
    assert not solve(near.larger_input.size - 1, 100, transposed=False).answers


def test_nothing_fits_suggests_the_other_kind_of_layer() -> None:
    report = solve(10, 30, transposed=False)
    (near,) = report.nearest
    assert near.other_kind is not None and near.other_kind.transposed
    assert near.other_kind.output == 30


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 5, "target": 0}, r"target must be >= 1 on every axis; got \(0,\)"),
        ({"size": (5, 5), "target": (1, 2, 3)}, "target has 3 axes but the size has 2"),
        ({"size": 5, "target": 9, "transposed": False, "output_padding": 1}, "output_padding belongs"),
        ({"size": 5, "target": 9, "padding": "same"}, "padding must be numbers"),
        ({"size": 5, "target": 9, "kernel_size": 0}, "kernel_size must be >= 1"),
        (
            {"size": 5, "target": 9, "bounds": Bounds(max_kernel=65)},
            "max_kernel must be an integer from 1 to 64",
        ),
        ({"size": 5, "target": 9, "bounds": Bounds(64, 64, 64)}, "the search box"),
    ],
)
def test_bad_input_names_parameter_rule_and_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConvCalcError, match=message):
        solve(**kwargs)  # type: ignore[arg-type]


def test_huge_sizes_are_pure_arithmetic() -> None:
    report = solve(10**12, 2 * 10**12, kernel_size=4, stride=2, dilation=1)
    assert [a.padding for a in report.answers] == [((1, 1),)]


@given(size=st.integers(1, 12), target=st.integers(1, 30))
def test_answers_agree_with_torch(size: int, target: int) -> None:
    torch = pytest.importorskip("torch")
    for answer in solve(size, target, bounds=SMALL).answers:
        ((pb, pa),) = answer.padding
        (k,), (s,), (d,), (op,) = answer.kernel_size, answer.stride, answer.dilation, answer.output_padding
        layer = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=pb, dilation=d, output_padding=op)
        with torch.no_grad():
            out = layer(torch.zeros(1, 1, size))
        # the (p, p+1) crop is p by PyTorch and one more element at the end
        assert out.shape[-1] - (pa - pb) == target
        if pa == pb:
            # PyTorch's output_size= path accepts exactly the strict answers
            plain = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=pb, dilation=d)
            try:
                with torch.no_grad():
                    got = plain(torch.zeros(1, 1, size), output_size=[target]).shape[-1]
            except ValueError:
                got = None
            assert (got == target) == answer.axes[0].strict_ok


def test_the_conventions_library_does_not_import_solve() -> None:
    """solve --framework lives in solve/ and uses the conventions; no module of conventions/ imports solve."""
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys\n"
        "import convcalc.conventions as f\n"
        "for m in pkgutil.iter_modules(f.__path__):\n"
        "    importlib.import_module(f'convcalc.conventions.{m.name}')\n"
        "features = ('convcalc.solve', 'convcalc.chain', 'convcalc.explain')\n"
        "print([m for m in sys.modules if m.startswith(features)])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
