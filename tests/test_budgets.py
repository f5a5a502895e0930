"""Budgets before work (issue 11): each budget against a witness that does the work the slow way.

Every budget here is a count made from the arguments before anything is built; the witnesses are
brute force (the loop the closed form replaced, the full product, the expanded range), the real run
(the chain's full `run`, the engine's allocations measured by tracemalloc) and the refusals of the
heavy cases of the issue, each of which must come back at once.
"""

from __future__ import annotations

import math
import os
import stat
import tracemalloc
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.chain import sizes
from convcalc.chain.parse import MAX_NESTING, nesting_depth, parse_chain, read_chain_file
from convcalc.chain.report import chain_report
from convcalc.chain.stack import _stack_pairs, run
from convcalc.core import shape_report
from convcalc.errors import BudgetExceeded, ConvCalcError
from convcalc.graph.shapes import propagate
from convcalc.periodic import MAX_LISTED, Accepted
from convcalc.solve import solver
from convcalc.solve.answers import Bounds, Fixed
from convcalc.solve.coverage import even_coverage, unreached_classes
from convcalc.solve.solver import count_axis, solve, solve_axis
from convcalc.verify import sweep as sweep_module
from convcalc.verify.checks import layer_plan, verify_layer
from convcalc.verify.plan import MAX_PLAN_ELEMENTS
from convcalc.verify.sweep import count_values, parse_range, range_intervals, sweep_grid

# ---------------------------------------------------------------------------------------------------
# solve


@given(st.integers(1, 40), st.integers(1, 12), st.integers(1, 12))
def test_even_coverage_closed_form_matches_counting_the_taps(k: int, s: int, d: int) -> None:
    counts = [0] * s
    for m in range(k):
        counts[(m * d) % s] += 1
    assert even_coverage(k, s, d) == (len(set(counts)) == 1)


@given(st.integers(1, 40), st.integers(1, 12), st.integers(1, 12))
def test_unreached_classes_closed_form_matches_listing_the_residues(k: int, s: int, d: int) -> None:
    assert unreached_classes(k, s, d) == s - len({(m * d) % s for m in range(k)})


@given(
    size=st.integers(1, 30),
    target=st.integers(1, 90),
    transposed=st.booleans(),
    strict=st.booleans(),
    fixed_op=st.none() | st.integers(0, 5),
    fixed_d=st.none() | st.integers(1, 9),
)
def test_answers_are_counted_exactly_before_they_are_built(
    size: int, target: int, transposed: bool, strict: bool, fixed_op: int | None, fixed_d: int | None
) -> None:
    fixed = Fixed(dilation=fixed_d, output_padding=fixed_op if transposed else None)
    bounds = Bounds(6, 4, 3, strict)
    built = solve_axis(size, target, transposed=transposed, bounds=bounds, fixed=fixed)
    assert count_axis(size, target, transposed=transposed, bounds=bounds, fixed=fixed) == len(built)
    assert len(set(built)) == len(built)


@settings(max_examples=40)
@given(
    sizes=st.lists(st.integers(4, 12), min_size=2, max_size=3),
    target=st.integers(6, 30),
    limit=st.integers(1, 12),
)
def test_the_best_combinations_are_exactly_the_first_of_the_full_sorted_product(
    sizes: list[int], target: int, limit: int
) -> None:
    bounds = Bounds(5, 3, 2)
    per_axis = [solve_axis(i, target, transposed=True, bounds=bounds, fixed=Fixed()) for i in sizes]
    if not all(per_axis):
        return
    triples = [{(a.kernel_size, a.stride, a.dilation) for a in answers} for answers in per_axis]
    common = set.intersection(*triples)
    full = [
        solver.Answer(combo)
        for combo in product(*per_axis)
        if not common or len({(a.kernel_size, a.stride, a.dilation) for a in combo}) == 1
    ]
    full.sort(key=lambda a: a.rank_key)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(solver, "MAX_COMBINATIONS", limit)
        best, mixed, omitted = solver._combine(per_axis)
    assert mixed == (not common)
    assert [a.rank_key for a in best] == [a.rank_key for a in full[:limit]]
    assert omitted == len(full) - len(best)


def test_a_fixed_value_far_past_the_bounds_is_not_a_loop_length() -> None:
    report = solve(14, 2, transposed=False, kernel_size=10**18)
    assert report.answers == () or all(a.kernel_size == (10**18,) for a in report.answers)


def test_too_many_answers_on_an_axis_are_refused_with_the_limit_and_how_to_narrow() -> None:
    with pytest.raises(ConvCalcError, match=r"MAX_ANSWERS = 100,000 per axis: fix output_padding="):
        solve(20, 81, dilation=10**6)
    narrowed = solve(20, 81, dilation=10**6, output_padding=1)
    assert all(a.output_padding == (1,) for a in narrowed.answers)


def test_cross_axis_answers_are_capped_best_first() -> None:
    report = solve((26, 25, 24), 87, bounds=Bounds(7, 4, 64))
    assert len(report.answers) == solver.MAX_COMBINATIONS
    assert report.omitted > 10**6
    keys = [a.rank_key for a in report.answers]
    assert keys == sorted(keys)


# ---------------------------------------------------------------------------------------------------
# chain


@given(
    period=st.integers(1, 64),
    classes=st.lists(st.integers(1, 200), max_size=6, unique=True),
    singles=st.lists(st.integers(1, 400), max_size=6, unique=True),
    low=st.integers(1, 300),
    width=st.integers(0, 600),
)
def test_accepted_sizes_in_a_range_are_counted_before_they_are_listed(
    period: int, classes: list[int], singles: list[int], low: int, width: int
) -> None:
    accepted = Accepted(period, tuple(classes), tuple(sorted(singles)))
    expected = tuple(s for s in range(low, low + width + 1) if accepted.contains(s))
    try:
        listed = accepted.within(low, low + width)
    except ConvCalcError:
        assert len(expected) > MAX_LISTED
    else:
        assert listed == expected


def test_a_huge_range_is_refused_without_being_built() -> None:
    accepted = chain_report(parse_chain("conv k3 s2")).accepted[0].restores
    with pytest.raises(ConvCalcError, match=r"99,999,999,998 accepted sizes; the limit MAX_LISTED"):
        accepted.within(1, 10**11)


LAYER = st.sampled_from(
    ["conv k3 p1", "conv k3 s2 p1", "conv k2 s2", "pool k2", "tconv k2 s2", "tconv k3 s2 p1 op1", "up2"]
)


@settings(max_examples=30)
@given(st.lists(LAYER, min_size=1, max_size=6), st.integers(1, 64))
def test_the_chain_as_a_graph_gives_the_sizes_of_the_chain_run(texts: list[str], size: int) -> None:
    """The graph engine runs the chain's 1-D graph (its layers read by ConvSpec, PoolSpec, ResizeSpec)
    to the sizes the chain's own run gives, and fails where it fails."""
    layers = parse_chain(" | ".join(texts))
    pairs, _ = _stack_pairs(layers)
    graph = sizes.chain_graph([sizes._on_axis(layer, 0) for layer in layers], pairs)
    engine_run = propagate(graph, ((1, 1, size),))
    try:
        results = run(layers, (size,))
    except ConvCalcError:
        assert engine_run.failure is not None
        return
    assert engine_run.failure is None
    outputs = [engine_run.shapes[f"t{n}"][2] for n in range(1, len(layers) + 1)]
    assert outputs == [r.output[0] for r in results]
    dropped = [sum(node_run.dropped) for node_run in engine_run.nodes if node_run.node.kind != "concat"]
    assert dropped == [r.dropped[0] for r in results]


def test_a_long_chain_is_answered_or_refused_before_it_runs() -> None:
    answered = " | ".join(["conv k3 s2 p1"] * 10 + ["conv k3 p1"] * 6)
    assert chain_report(parse_chain(answered)).accepted[0].restores.period == 1024
    strided, unstrided = ["conv k3 s2 p1"] * 12, ["conv k3 p1"] * 244
    for order in (strided + unstrided, unstrided + strided):
        with pytest.raises(
            ConvCalcError, match=r"layer evaluations .* MAX_CHAIN_STEPS is 1,000,000: analyse fewer"
        ):
            chain_report(parse_chain(" | ".join(order)))


def test_a_layer_whose_output_passes_100_digits_is_refused_naming_it() -> None:
    text = " | ".join(["tconv k1 s" + "9" * 60] * 3)
    with pytest.raises(ConvCalcError, match=r"layer 2 \(.*\): its output size has more than 100 digits"):
        run(parse_chain(text), (2,))


def test_chain_files_must_be_regular_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    directory = tmp_path / "dir.json"
    directory.mkdir()
    for path in (fifo, zero, directory):
        with pytest.raises(ConvCalcError, match="is not a regular file"):
            read_chain_file(path)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.parametrize(("suffix", "open_", "close"), [(".json", "[", "]"), (".toml", "[", "]")])
def test_deep_nesting_is_refused_before_the_parser_recurses(
    tmp_path: Path, suffix: str, open_: str, close: str
) -> None:
    path = tmp_path / f"deep{suffix}"
    head = '{"layers": ' if suffix == ".json" else "layers = "
    path.write_text(head + open_ * 5000 + close * 5000 + ("}" if suffix == ".json" else "\n"))
    with pytest.raises(ConvCalcError, match=r"nested 500[01] brackets deep; a chain file may nest at most"):
        read_chain_file(path)
    shallow = tmp_path / f"ok{suffix}"
    layers = '["conv k3 s2 p1", "tconv k3 s2 p1 op1"]'
    shallow.write_text(f'{{"layers": {layers}}}' if suffix == ".json" else f"layers = {layers}\n")
    assert len(read_chain_file(shallow).layers) == 2


def test_nesting_ignores_brackets_in_strings_and_comments() -> None:
    assert nesting_depth('{"a": "[[[[", "b": ["\\"[["]}', toml=False) == 2
    assert nesting_depth('a = \'[[[\' # [[[[\nb = [[1]]\nc = """[[[\n"""\n', toml=True) == 2
    assert MAX_NESTING >= 4  # a chain file needs {layers: [{padding: [[1, 1]]}]}


# ---------------------------------------------------------------------------------------------------
# sweep


@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 40)), min_size=1, max_size=8))
def test_range_text_is_counted_from_its_bounds(pairs: list[tuple[int, int]]) -> None:
    text = ",".join(f"{first}-{first + width}" if width else str(first) for first, width in pairs)
    intervals = range_intervals("sizes", text, 0)
    expanded = {v for first, width in pairs for v in range(first, first + width + 1)}
    assert count_values(intervals) == len(expanded)
    assert parse_range("sizes", text, 0) == tuple(sorted(expanded))


def test_a_sweep_of_300_characters_is_refused_before_its_ranges_are_expanded() -> None:
    with pytest.raises(ConvCalcError, match="MAX_SWEEP_CONFIGURATIONS"):
        sweep_grid(sizes=",".join(["1-999999"] * 33))


def test_the_whole_sweep_has_a_work_bound() -> None:
    texts = {"sizes": "1-50", "kernel_sizes": "1-8", "strides": "1-4", "paddings": "0-3", "ndims": "1-3"}
    with pytest.raises(ConvCalcError, match=r"estimated work .* the limit MAX_SWEEP_WORK"):
        sweep_grid(**texts)
    default = sweep_module.SweepGrid()
    assert sweep_module.sweep_work(default) < sweep_module.MAX_SWEEP_WORK


def test_a_bad_seed_is_refused_once_not_counted_as_skips() -> None:
    with pytest.raises(ConvCalcError, match="seed must be an integer from 0"):
        sweep_module.sweep(sweep_module.SweepGrid(sizes=(3,)), seed=-5)


# ---------------------------------------------------------------------------------------------------
# verify: the whole plan, counted before any route runs


# tracemalloc sees numpy's allocations; the generator and small bookkeeping cost about a megabyte.
FIXED_BYTES = 2 * 2**20


@settings(max_examples=25)
@given(
    size=st.lists(st.integers(1, 24), min_size=1, max_size=3),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
    padding=st.integers(0, 3),
    transposed=st.booleans(),
    channels=st.sampled_from([None, (1, 4), (4, 2), (2, 2)]),
)
def test_the_plan_bounds_the_memory_verify_really_uses(
    size: list[int],
    kernel: int,
    stride: int,
    dilation: int,
    padding: int,
    transposed: bool,
    channels: tuple[int, int] | None,
) -> None:
    arguments = {
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "transposed": transposed,
        "output_padding": min(stride, dilation) - 1,
    }
    if channels is not None:
        arguments |= {"in_channels": channels[0], "out_channels": channels[1]}
    try:
        plan = layer_plan(shape_report(tuple(size), kernel, **arguments))  # type: ignore[arg-type]
    except ConvCalcError:
        return
    tracemalloc.start()
    try:
        verify_layer(tuple(size), kernel, **arguments)  # type: ignore[arg-type]
    except ConvCalcError:
        return
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak <= 8 * plan.elements + FIXED_BYTES


def test_many_axes_are_refused_before_any_route_runs() -> None:
    report = shape_report((1,) * 12, 3, stride=3, padding=1, output_padding=2)
    plan = layer_plan(report)
    assert plan.elements > MAX_PLAN_ELEMENTS
    assert max(plan.arrays, key=lambda item: item[1])[0].startswith("direct route")
    with pytest.raises(ConvCalcError, match=r"whole plan's budget MAX_PLAN_ELEMENTS .* fewer spatial axes"):
        verify_layer((1,) * 12, 3, stride=3, padding=1, output_padding=2)
    assert math.prod([3] * 12) < MAX_PLAN_ELEMENTS  # each single array of the twin is small


@pytest.mark.parametrize(
    ("refused", "budget"),
    [
        (lambda: solve(20, 81, dilation=10**6), "MAX_ANSWERS"),
        (
            lambda: chain_report(parse_chain("conv k3 s2")).accepted[0].restores.within(1, 10**11),
            "MAX_LISTED",
        ),
        (
            lambda: chain_report(parse_chain(" | ".join(["conv k3 p1"] * 244 + ["conv k3 s2"] * 12))),
            "MAX_CHAIN_STEPS",
        ),
        (lambda: sweep_grid(sizes=",".join(["1-999999"] * 33)), "MAX_SWEEP_CONFIGURATIONS"),
        (lambda: sweep_grid(sizes="1-50", kernel_sizes="1-8", strides="1-4", ndims="1-3"), "MAX_SWEEP_WORK"),
        (lambda: verify_layer((1,) * 12, 3, stride=3, padding=1, output_padding=2), "MAX_PLAN_ELEMENTS"),
        (lambda: verify_layer((32, 32), 3, padding=1, in_channels=256, out_channels=1024), "MAX_PLAN_WORK"),
    ],
)
def test_every_budget_refusal_names_its_budget_limit_and_request(refused: Any, budget: str) -> None:
    with pytest.raises(BudgetExceeded) as caught:
        refused()
    assert caught.value.budget == budget
    assert caught.value.requested > caught.value.limit
    assert budget in str(caught.value)
