"""The NumPy engine against hand-worked examples from public references, PyTorch, and its own budgets."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from convcalc import engine
from convcalc.errors import BudgetExceeded, ConvCalcError

TRANSPOSE_ROUTES = {
    "engine": engine.conv_transpose_cropped,
    "scatter": engine.transpose_scatter,
    "direct": engine.transpose_direct,
    "matrix": engine.transpose_matrix,
}


def _every_route(x: Any, w: Any, *, stride: Any, crops: Any, dilation: Any = 1) -> dict[str, Any]:
    return {
        name: route(np.asarray(x, float), np.asarray(w, float), stride=stride, dilation=dilation, crops=crops)
        for name, route in TRANSPOSE_ROUTES.items()
    }


# ---------------------------------------------------------------------------------------------------
# Dive into Deep Learning, "Transposed Convolution": the 2x2 input and 2x2 kernel, by hand.

D2L_X = [[[[0.0, 1.0], [2.0, 3.0]]]]
D2L_K = [[[[0.0, 1.0], [2.0, 3.0]]]]


@pytest.mark.parametrize("route", sorted(TRANSPOSE_ROUTES))
def test_d2l_basic_example_every_route(route: str) -> None:
    got = TRANSPOSE_ROUTES[route](np.array(D2L_X), np.array(D2L_K), stride=1, dilation=1, crops=[(0, 0)])
    np.testing.assert_array_equal(got[0, 0], [[0, 0, 1], [0, 4, 6], [4, 12, 9]])


def test_d2l_examples_through_pytorch_arguments() -> None:
    x, k = np.array(D2L_X), np.array(D2L_K)
    np.testing.assert_array_equal(engine.conv_transpose(x, k)[0, 0], [[0, 0, 1], [0, 4, 6], [4, 12, 9]])
    np.testing.assert_array_equal(engine.conv_transpose(x, k, padding=1)[0, 0], [[4]])
    np.testing.assert_array_equal(
        engine.conv_transpose(x, k, stride=2)[0, 0],
        [[0, 0, 0, 1], [0, 0, 2, 3], [0, 2, 0, 3], [4, 6, 6, 9]],
    )


@pytest.mark.parametrize(("stride", "crops"), [(2, [(0, 0)]), (1, [(1, 1)])])
def test_d2l_stride_and_padding_variants_agree_on_every_route(stride: int, crops: Any) -> None:
    results = _every_route(D2L_X, D2L_K, stride=stride, crops=crops)
    for got in results.values():
        np.testing.assert_array_equal(got, results["scatter"])


def test_d2l_kernel_to_matrix() -> None:
    """d2l's kernel2matrix for a 3x3 input and 2x2 kernel, and corr2d's [[27, 37], [57, 67]]."""
    k = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = [
        [1, 2, 0, 3, 4, 0, 0, 0, 0],
        [0, 1, 2, 0, 3, 4, 0, 0, 0],
        [0, 0, 0, 1, 2, 0, 3, 4, 0],
        [0, 0, 0, 0, 1, 2, 0, 3, 4],
    ]
    np.testing.assert_array_equal(engine.conv_matrix((3, 3), k), expected)
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(engine.conv(x, k)[0, 0], [[27, 37], [57, 67]])
    y = engine.conv(x, k)
    # d2l: trans_conv(Y, K) == W^T Y.
    np.testing.assert_array_equal(
        engine.conv_transpose(y, k).ravel(), np.array(expected, float).T @ y.ravel()
    )


def test_d2l_multichannel_round_trip_shape() -> None:
    x = np.zeros((1, 10, 16, 16))
    w = np.zeros((20, 10, 5, 5))
    y = engine.conv(x, w, padding=2, stride=3)
    assert engine.conv_transpose(y, w, padding=2, stride=3).shape == x.shape


# ---------------------------------------------------------------------------------------------------
# François Fleuret's lecture notes, "Transposed convolutions": the 1-D examples.


def test_fleuret_conv_versus_transposed_on_a_one_hot_signal() -> None:
    x = np.array([[[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]]])
    k = np.array([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(engine.conv(x, k)[0, 0], [3, 2, 1, 0, 0])
    for got in _every_route(x, k, stride=1, crops=[(0, 0)]).values():
        np.testing.assert_array_equal(got[0, 0], [0, 0, 1, 2, 3, 0, 0, 0, 0])


def test_fleuret_conv_transpose1d_module_example() -> None:
    x = np.array([[[1.0, 0.0, 0.0, 0.0, -1.0]]])
    k = np.array([[[1.0, 2.0, 1.0]]])
    np.testing.assert_array_equal(engine.conv_transpose(x, k, bias=[0.0])[0, 0], [1, 2, 1, 0, -1, -2, -1])


def test_fleuret_weighted_sum_of_kernels() -> None:
    x = np.array([[[2.0, 3.0, 0.0, -1.0]]])
    k = np.array([[[1.0, 2.0, -1.0]]])
    for got in _every_route(x, k, stride=1, crops=[(0, 0)]).values():
        np.testing.assert_array_equal(got[0, 0], [2, 7, 4, -4, -2, 1])
    for got in _every_route(x, k, stride=2, crops=[(0, 0)]).values():
        # The stride-2 slide: output s(W-1) + w = 9.
        np.testing.assert_array_equal(got[0, 0], [2, 4, 1, 6, -3, 0, -1, -2, 1])


def test_fleuret_matrix_rows_are_shifted_kernels() -> None:
    matrix = engine.conv_matrix(10, np.array([[[1.0, 2.0, 0.0, -1.0]]]))
    assert matrix.shape == (7, 10)
    for row in range(7):
        expected = np.zeros(10)
        expected[row : row + 4] = [1, 2, 0, -1]
        np.testing.assert_array_equal(matrix[row], expected)


# ---------------------------------------------------------------------------------------------------
# The first seed's question: the gradient is C^T applied to the upstream gradient, and the direct
# form needs the flipped kernel.


def _seed_matrix(w: Any) -> Any:
    """The 4x16 matrix C exactly as the question builds it for a 4x4 input and a 3x3 kernel."""
    c = np.zeros((4, 16))
    for row, (r0, c0) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        for kr in range(3):
            start = (r0 + kr) * 4 + c0
            c[row, start : start + 3] = w[kr]
    return c


def test_seed_matrix_and_gradient() -> None:
    w = np.random.default_rng(3).random((3, 3))
    np.testing.assert_array_equal(engine.conv_matrix((4, 4), w.reshape(1, 1, 3, 3)), _seed_matrix(w))
    upstream = np.ones((1, 1, 2, 2))
    grad = engine.conv_transpose(upstream, w.reshape(1, 1, 3, 3))
    np.testing.assert_allclose(grad.ravel(), _seed_matrix(w).T @ upstream.ravel(), rtol=1e-14)


def test_seed_direct_form_needs_the_flipped_kernel() -> None:
    rng = np.random.default_rng(4)
    y, w = rng.standard_normal((1, 1, 2, 2)), rng.standard_normal((1, 1, 3, 3))
    transposed = engine.conv_transpose(y, w)
    unflipped = engine.conv(y, w, padding=2)
    flipped = engine.conv(y, w[:, :, ::-1, ::-1], padding=2)
    assert transposed.shape == unflipped.shape == (1, 1, 4, 4)
    assert not np.allclose(transposed, unflipped)
    np.testing.assert_allclose(transposed, flipped, rtol=1e-13)


# ---------------------------------------------------------------------------------------------------
# Sizes and conventions from the framework reference (oracle vectors checked against PyTorch).


@pytest.mark.parametrize(
    ("kwargs", "size"),
    [
        ({"stride": 2, "padding": 1, "output_padding": 1}, 10),
        ({"stride": 2, "padding": 1}, 9),
        ({"stride": 2}, 11),
        ({"dilation": 2, "output_padding": 1}, 10),
        ({"stride": 2, "dilation": 3, "output_padding": 2}, 17),
    ],
)
def test_reference_transposed_sizes(kwargs: dict[str, int], size: int) -> None:
    x, w = np.ones((1, 1, 5)), np.ones((1, 1, 3))
    assert engine.conv_transpose(x, w, **kwargs).shape == (1, 1, size)


def test_same_padding_puts_the_extra_element_at_the_end() -> None:
    """Reference vector 6: a one-hot kernel k=4 on 1..6 with 'same' gives pads (1, 2)."""
    x = np.arange(1.0, 7.0).reshape(1, 1, 6)
    np.testing.assert_array_equal(
        engine.conv(x, np.array([[[1.0, 0, 0, 0]]]), padding="same")[0, 0], range(6)
    )


def test_negative_crops_append_zeros() -> None:
    x = np.array([[[1.0, 2.0]]])
    w = np.array([[[1.0, 1.0]]])
    for got in _every_route(x, w, stride=2, crops=[(-1, -2)]).values():
        np.testing.assert_array_equal(got[0, 0], [0, 1, 1, 2, 2, 0, 0])


def test_grouped_transposed_convolution_keeps_groups_apart() -> None:
    """Group 0's output channels see only group 0's input channels."""
    x = np.zeros((1, 4, 3))
    x[0, :2] = 1.0
    w = np.ones((4, 1, 2))
    got = engine.conv_transpose(x, w, groups=2)
    # Output channel 0 (group 0) sums input channels 0 and 1; output channel 1 (group 1) sees zeros.
    np.testing.assert_array_equal(got[0, 0], [2, 4, 4, 2])
    np.testing.assert_array_equal(got[0, 1], [0, 0, 0, 0])


def test_bias_is_added_per_output_channel() -> None:
    x = np.zeros((1, 2, 3, 3))
    got = engine.conv(x, np.zeros((3, 2, 2, 2)), bias=[1.0, 2.0, 3.0])
    np.testing.assert_array_equal(got[0, :, 0, 0], [1, 2, 3])


def test_float32_stays_float32() -> None:
    x = np.ones((1, 1, 4), np.float32)
    assert engine.conv(x, np.ones((1, 1, 2), np.float32)).dtype == np.float32
    assert engine.conv_transpose(x, np.ones((1, 1, 2), np.float32)).dtype == np.float32


def test_direct_run_reports_the_sizes_it_built() -> None:
    x, w = np.ones((1, 1, 5)), np.ones((1, 1, 3))
    run = engine.transpose_direct_run(x, w, stride=2, dilation=1, crops=[(1, 0)])
    # Stretched (5-1)*2 + 1 = 9; padded by K-1-crop = 1 and 2: 12; output 12 - 3 + 1 = 10.
    assert (run.stretched, run.padded, run.output.shape[2:]) == ((9,), (12,), (10,))


# ---------------------------------------------------------------------------------------------------
# Bad input and budgets.


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: engine.conv(np.ones((1, 4)), np.ones((1, 4, 1))), "x must have shape"),
        (lambda: engine.conv(np.ones((1, 3, 4)), np.ones((2, 2, 1))), "x must have weight.shape"),
        (
            lambda: engine.conv(np.ones((1, 4, 4)), np.ones((3, 2, 1)), groups=2),
            "groups must divide the output",
        ),
        (lambda: engine.conv(np.ones((1, 1, 4)), np.ones((1, 1, 1, 1))), "weight must have shape"),
        (lambda: engine.conv(np.ones((1, 1, 2)), np.ones((1, 1, 3))), "dilated kernel .3. is larger"),
        (lambda: engine.conv(np.ones((1, 1, 4)), np.ones((1, 1, 2)), stride=(1, 2)), "stride.* 1 spatial"),
        (lambda: engine.conv(np.ones((1, 1, 4), bool), np.ones((1, 1, 2))), "x must be an array of real"),
        (lambda: engine.conv(np.ones((1, 1, 4)), np.ones((1, 1, 2)), groups=0), "groups must be >= 1"),
        (
            lambda: engine.conv(np.ones((1, 1, 4)), np.ones((1, 1, 2)), bias=[1, 2]),
            r"bias must have shape \(1,\)",
        ),
        (lambda: engine.conv_transpose(np.ones((1, 2, 4)), np.ones((3, 1, 2))), "first axis must equal"),
        (
            lambda: engine.conv_transpose(np.ones((1, 1, 4)), np.ones((1, 1, 2)), output_padding=1),
            "output_padding must be smaller",
        ),
        (
            lambda: engine.conv_transpose(np.ones((1, 1, 4)), np.ones((1, 1, 2)), padding="same"),
            "padding='same'",
        ),
        (
            lambda: engine.conv_transpose_cropped(
                np.ones((1, 1, 2)), np.ones((1, 1, 2)), stride=1, dilation=1, crops=[(2, 1)]
            ),
            "output size would be 0",
        ),
        (
            lambda: engine.conv_transpose_cropped(
                np.ones((1, 1, 2)), np.ones((1, 1, 2)), stride=1, dilation=1, crops=[(1.5, 0)]
            ),
            "crops must be .before, after. pairs of integers",
        ),
        (
            lambda: engine.conv_transpose_cropped(
                np.ones((1, 1, 2)), np.ones((1, 1, 2)), stride=1, dilation=1, crops=[(0, 0)] * 2
            ),
            "crops has 2 axes",
        ),
    ],
)
def test_bad_input_names_parameter_rule_and_value(call: Any, match: str) -> None:
    with pytest.raises(ConvCalcError, match=match):
        call()


def test_work_budget_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "MAX_WORK", 100)
    with pytest.raises(ConvCalcError, match=r"needs 384 multiply-accumulates; .* MAX_WORK is 100"):
        engine.conv(np.ones((2, 2, 8)), np.ones((4, 2, 3)), padding=1, stride=1, dilation=1)
    with pytest.raises(ConvCalcError, match="MAX_WORK"):
        engine.transpose_scatter(np.ones((2, 2, 8)), np.ones((2, 4, 3)), stride=1, dilation=1, crops=[(0, 0)])


def test_memory_budget_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "MAX_ELEMENTS", 50)
    with pytest.raises(ConvCalcError, match="memory budget MAX_ELEMENTS is 50"):
        engine.conv_transpose(np.ones((1, 1, 8)), np.ones((1, 1, 8)), stride=4)


def test_matrix_route_has_its_own_tighter_budget() -> None:
    assert engine.MAX_MATRIX_ELEMENTS < engine.MAX_ELEMENTS
    with pytest.raises(ConvCalcError, match="MAX_MATRIX_ELEMENTS"):
        engine.conv_matrix((64, 64), np.ones((4, 4, 3, 3)))
    # The same layer is well inside the general budget.
    assert engine.conv(np.ones((1, 4, 64, 64)), np.ones((4, 4, 3, 3))).shape == (1, 4, 62, 62)


@pytest.mark.parametrize(
    ("limits", "call", "budget", "requested"),
    [
        # 2 samples x 4 outputs x 8 positions x 2 inputs x 3 taps.
        (
            {"MAX_WORK": 100},
            lambda: engine.conv(np.ones((2, 2, 8)), np.ones((4, 2, 3)), padding=1),
            "MAX_WORK",
            384,
        ),
        # 8 inputs x 8 taps of contributions (the full output is (8-1)*4 + 8 = 36).
        (
            {"MAX_ELEMENTS": 50},
            lambda: engine.conv_transpose(np.ones((1, 1, 8)), np.ones((1, 1, 8)), stride=4),
            "MAX_ELEMENTS",
            64,
        ),
        # C: 4 channels x 62*62 outputs rows, 4 channels x 64*64 inputs columns.
        (
            {},
            lambda: engine.conv_matrix((64, 64), np.ones((4, 4, 3, 3))),
            "MAX_MATRIX_ELEMENTS",
            15376 * 16384,
        ),
        # The direct route's own convolution: stretched 7, padded 7 + 2 + 2 = 11, 9 outputs x 3 taps.
        (
            {"MAX_WORK": 20},
            lambda: engine.transpose_direct(
                np.ones((1, 1, 4)), np.ones((1, 1, 3)), stride=2, dilation=1, crops=[(0, 0)]
            ),
            "MAX_WORK",
            27,
        ),
        ({"MAX_ELEMENTS": 11}, lambda: engine.random_tensors(0, (3, 4)), "MAX_ELEMENTS", 12),
    ],
)
def test_budget_refusals_carry_the_budget_its_limit_and_the_amount(
    monkeypatch: pytest.MonkeyPatch, limits: dict[str, int], call: Any, budget: str, requested: int
) -> None:
    for name, value in limits.items():
        monkeypatch.setattr(engine, name, value)
    with pytest.raises(BudgetExceeded) as caught:
        call()
    error = caught.value
    assert isinstance(error, ConvCalcError)
    assert (error.budget, error.limit, error.requested) == (budget, getattr(engine, budget), requested)
    assert budget in str(error) and f"{requested:,}" in str(error)


def test_a_limit_set_on_the_package_is_the_one_the_engine_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc.engine import budget
    from convcalc.engine.fast import run

    monkeypatch.setattr(engine, "MAX_WORK", 7)
    monkeypatch.setattr(engine, "GATHER_LIMIT", 0)
    assert (budget.MAX_WORK, run.GATHER_LIMIT) == (7, 0)
    monkeypatch.undo()
    assert budget.MAX_WORK == engine.MAX_WORK == 10**10
    assert run.GATHER_LIMIT == engine.GATHER_LIMIT == 2**15


def test_huge_sizes_are_refused_before_allocating() -> None:
    # A 3*10**8-element output from a 4-element input: refused by size, not by running out of memory.
    with pytest.raises(ConvCalcError, match="memory budget MAX_ELEMENTS"):
        engine.conv_transpose(np.ones((1, 1, 4)), np.ones((1, 1, 1)), stride=10**8)
    with pytest.raises(ConvCalcError, match="work budget MAX_WORK"):
        engine.conv(np.broadcast_to(1.0, (1, 64, 20000)), np.broadcast_to(1.0, (64, 64, 1000)))


# ---------------------------------------------------------------------------------------------------
# The plan memo: a call that finds a plan answers and refuses exactly as one that builds it.

PLANNED = [engine.conv, engine.conv_transpose]


@pytest.mark.parametrize("operation", PLANNED)
@pytest.mark.parametrize(
    ("changes", "match"),
    [
        # Each of these is equal (==) or hashes alike to an argument of the planned call.
        ({"stride": True}, r"stride must be an integer; got True \(bool\)"),
        ({"stride": 2.0}, r"stride must be an integer or a sequence of integers; got 2.0 \(float\)"),
        ({"padding": (True, 1)}, r"padding must be an integer; got True \(bool\)"),
        ({"padding": [1, 1.0]}, r"padding must be an integer; got 1.0 \(float\)"),
        ({"groups": True}, "groups must be an integer; got True"),
        ({"groups": 1.0}, "groups must be an integer; got 1.0"),
        ({"x": np.ones((1, 1, 8, 8), bool)}, "x must be an array of real numbers; got dtype bool"),
        ({"bias": [1.0, 2.0]}, r"bias must have shape \(1,\)"),
    ],
)
def test_a_planned_layer_still_refuses_bad_arguments(
    operation: Any, changes: dict[str, Any], match: str
) -> None:
    call = {"x": np.ones((1, 1, 8, 8)), "weight": np.ones((1, 1, 3, 3)), "stride": 2, "padding": 1}
    expected = operation(**call)
    with pytest.raises(ConvCalcError, match=match):
        operation(**{**call, **changes})
    np.testing.assert_array_equal(operation(**call), expected)


@pytest.mark.parametrize("operation", PLANNED)
def test_a_planned_layer_follows_its_arguments_dtypes_and_budgets(
    operation: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, w = np.arange(64.0).reshape(1, 1, 8, 8), np.arange(9.0).reshape(1, 1, 3, 3)
    planned = operation(x, w, stride=2, padding=1)
    # The same shapes with other arguments or dtypes get their own plan, not the stored one.
    assert operation(x, w, stride=(2, 2), padding=((1, 1), (1, 1))).shape == planned.shape
    assert operation(x, w, stride=1, padding=1).shape != planned.shape
    single = operation(x.astype(np.float32), w.astype(np.float32), stride=2, padding=1)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, planned, rtol=1e-6)
    # Budgets are read at every call, so a budget lowered after planning still refuses the layer.
    monkeypatch.setattr(engine, "MAX_WORK", 10)
    with pytest.raises(ConvCalcError, match="MAX_WORK is 10"):
        operation(x, w, stride=2, padding=1)


# ---------------------------------------------------------------------------------------------------
# PyTorch, where installed.


def _torch_case(nd: int, groups: int, seed: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 4, *(7, 6, 5)[:nd]))
    w = rng.standard_normal((4, 6 // groups, *(3, 2, 3)[:nd]))
    return x, w


@pytest.fixture(params=["per tap", "all taps at once"])
def scatter_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test through each of the engine's two ways of moving the kernel taps' data: a strided
    slice per tap, or one bincount (transposed) / one gather (convolution) for all taps."""
    limit = 0 if request.param == "per tap" else 10**9
    monkeypatch.setattr(engine, "BINCOUNT_LIMIT", limit)
    monkeypatch.setattr(engine, "GATHER_LIMIT", limit)


@pytest.mark.usefixtures("scatter_path")
@pytest.mark.parametrize(
    ("shape", "kernel", "kwargs"),
    [
        ((2, 4, 5), (3,), {"stride": 2, "dilation": 2, "crops": [(-2, 3)], "groups": 2}),
        ((1, 2, 4, 3), (2, 3), {"stride": (3, 1), "dilation": (1, 2), "crops": [(1, -2), (0, 0)]}),
        ((2, 2, 3, 2, 3), (2, 2, 1), {"stride": 2, "dilation": 1, "crops": [(0, 1), (-1, -1), (2, 0)]}),
    ],
)
def test_both_tap_paths_agree_with_the_scatter_route(
    shape: tuple[int, ...], kernel: tuple[int, ...], kwargs: dict[str, Any]
) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((shape[1], 3, *kernel))
    np.testing.assert_allclose(
        engine.conv_transpose_cropped(x, w, **kwargs), engine.transpose_scatter(x, w, **kwargs), atol=1e-12
    )
    z = rng.standard_normal((shape[0], 3, *(s + 2 for s in shape[2:])))
    convolution = {"stride": kwargs["stride"], "dilation": kwargs["dilation"], "padding": 1}
    conv_weight = rng.standard_normal((4, 3, *kernel))
    np.testing.assert_allclose(
        engine.conv(z, conv_weight, **convolution),
        engine.conv_by_matrix(z, conv_weight, **convolution),
        atol=1e-12,
    )


@pytest.mark.usefixtures("scatter_path")
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stride": 2, "padding": 1, "output_padding": 1},
        {"stride": 3, "padding": 2, "dilation": 2, "groups": 2},
        {"stride": 1, "dilation": 2, "output_padding": 1},
    ],
)
def test_conv_transpose_matches_torch(nd: int, kwargs: dict[str, int]) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    x, w = _torch_case(nd, kwargs.get("groups", 1), seed=nd)
    bias = np.arange(6.0)
    op = getattr(functional, f"conv_transpose{nd}d")
    expected = op(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(bias), **kwargs).numpy()
    np.testing.assert_allclose(
        engine.conv_transpose(x, w, bias=bias, **kwargs), expected, rtol=1e-12, atol=1e-12
    )


@pytest.mark.usefixtures("scatter_path")
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stride": 2, "padding": 1},
        {"stride": 2, "dilation": 2, "groups": 2},
        {"padding": "same", "dilation": 2},
    ],
)
def test_conv_matches_torch(nd: int, kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10 + nd)
    groups = kwargs.get("groups", 1)
    x = rng.standard_normal((2, 4, *(9, 8, 7)[:nd]))
    w = rng.standard_normal((6, 4 // groups, *(3, 2, 3)[:nd]))
    op = getattr(torch.nn.functional, f"conv{nd}d")
    expected = op(torch.from_numpy(x), torch.from_numpy(w), **kwargs).numpy()
    np.testing.assert_allclose(engine.conv(x, w, **kwargs), expected, rtol=1e-12, atol=1e-12)
    if kwargs.get("padding") != "same":
        np.testing.assert_allclose(engine.conv_by_matrix(x, w, **kwargs), expected, rtol=1e-12, atol=1e-12)


def test_seed_gradient_matches_torch_autograd() -> None:
    """The first seed's experiment: x.grad is the transposed convolution of the upstream gradient."""
    torch = pytest.importorskip("torch")
    x = torch.arange(1, 17, dtype=torch.float64).reshape(1, 1, 4, 4).requires_grad_()
    w = torch.rand(1, 1, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.nn.functional.conv2d(x, w).backward(torch.ones(1, 1, 2, 2, dtype=torch.float64))
    grad = engine.conv_transpose(np.ones((1, 1, 2, 2)), w.numpy())
    np.testing.assert_allclose(grad, x.grad.numpy(), rtol=1e-13)


def test_remembered_layers_still_refuse_lookalike_arguments() -> None:
    """The engine remembers validated layers; True and 1.0 must not pass for the 1 remembered."""
    x, w = np.ones((1, 1, 5)), np.ones((1, 1, 2))
    assert engine.conv(x, w, stride=1).shape == (1, 1, 4)
    assert engine.conv(x, w, stride=(1,)).shape == (1, 1, 4)
    with pytest.raises(ConvCalcError, match="stride must be an integer"):
        engine.conv(x, w, stride=True)
    with pytest.raises(ConvCalcError, match="stride must be an integer"):
        engine.conv(x, w, stride=(1.0,))
    assert engine.conv_transpose(x, w, stride=2, padding=[(1, 0)]).shape == (1, 1, 9)
    with pytest.raises(ConvCalcError, match="padding must be an integer"):
        engine.conv_transpose(x, w, stride=2, padding=[(True, 0)])
