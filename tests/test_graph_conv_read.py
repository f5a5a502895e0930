"""``ConvSpec.read`` checks a layer's arguments once per reading and then reads each size with them
(``convcalc.graph.model._checked_args``); this must give what the framework's full ``read`` gives at
every size, refusals included. Witness: ``convcalc.conventions.read`` on random layers of every
framework, sizes 1-40, both directions."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.conventions import FRAMEWORKS, read
from convcalc.errors import ConvCalcError
from convcalc.graph.model import ConvSpec

WORDS = ["same", "valid", "same_upper", "same_lower", "notset", "SAME", "full", "causal"]


def _full(spec: ConvSpec, size: tuple[int, ...], transposed: bool) -> object:
    try:
        return read(
            spec.framework,
            size,
            spec.kernel_size,
            stride=spec.stride,
            dilation=spec.dilation,
            padding=spec.padding,
            output_padding=spec.output_padding,
            output_size=spec.output_size,
            transposed=transposed,
            transpose_kernel=spec.transpose_kernel,
        )
    except ConvCalcError as error:
        return ("refused", str(error), error.parameter)


def _fast(spec: ConvSpec, size: tuple[int, ...], transposed: bool) -> object:
    try:
        return spec.read(size, transposed)
    except ConvCalcError as error:
        return ("refused", str(error), error.parameter)


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from([*FRAMEWORKS, "tflite"]), st.integers(1, 2))
def test_a_reading_checked_once_reads_every_size_as_the_framework_does(
    rng: random.Random, framework: str, ndim: int
) -> None:
    k = tuple(rng.randint(1, 5) for _ in range(ndim))
    s = tuple(rng.randint(1, 3) for _ in range(ndim))
    d = tuple(rng.choice([1, 1, 2]) for _ in range(ndim))
    padding: object = (
        rng.choice(WORDS)
        if rng.random() < 0.4
        else tuple((rng.randint(-1, 3), rng.randint(-1, 3)) for _ in range(ndim))
    )
    transposed = rng.random() < 0.4
    output_padding = (
        tuple(rng.randint(0, 2) for _ in range(ndim)) if transposed and rng.random() < 0.5 else None
    )
    output_size = (
        tuple(rng.randint(1, 40) for _ in range(ndim)) if transposed and rng.random() < 0.2 else None
    )
    spec = ConvSpec(
        framework,
        k,
        s,
        d,
        padding,
        1,
        1,
        output_padding=output_padding,
        output_size=output_size,  # type: ignore[arg-type]
    )
    for _ in range(6):
        size = tuple(rng.randint(1, 40) for _ in range(ndim))
        assert _fast(spec, size, transposed) == _full(spec, size, transposed), (spec, size, transposed)


@pytest.mark.parametrize("size", [(0, 5), (5,), (3, 3, 3)])
def test_sizes_the_arguments_were_not_checked_for_take_the_full_read(size: tuple[int, ...]) -> None:
    spec = ConvSpec("onnx", (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), 1, 1)
    assert _fast(spec, size, False) == _full(spec, size, False)
