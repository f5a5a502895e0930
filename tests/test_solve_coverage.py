"""solve's ranking, witnessed by torch: the empty positions it counts are the ones a run leaves at zero.

With ones for weights and input, an output of a transposed convolution that receives nothing stays 0; an
input of a convolution that no window reads gets a zero gradient. The solver counts these in closed form;
torch counts them by running the layer.
"""

from __future__ import annotations

import pytest

from convcalc.solve.answers import AxisAnswer, Bounds
from convcalc.solve.solver import solve

torch = pytest.importorskip("torch")


def _zeros_in_torch(a: AxisAnswer) -> int:
    """Outputs left at 0 (transposed) or inputs with a zero gradient (conv), with ones everywhere."""
    weight = torch.ones(1, 1, a.kernel_size, dtype=torch.float64)
    pads = (a.pad_before, a.pad_after)
    if a.transposed:
        x = torch.ones(1, 1, a.size, dtype=torch.float64)
        if a.symmetric:  # PyTorch's own padding and output_padding
            y = torch.nn.functional.conv_transpose1d(
                x,
                weight,
                stride=a.stride,
                padding=a.pad_before,
                output_padding=a.output_padding,
                dilation=a.dilation,
            )
        else:  # the solver gives an asymmetric crop only with output_padding 0
            assert a.output_padding == 0
            full = torch.nn.functional.conv_transpose1d(x, weight, stride=a.stride, dilation=a.dilation)
            y = full[..., a.pad_before : full.shape[-1] - a.pad_after]
        assert y.shape[-1] == a.output
        return int((y == 0).sum())
    x = torch.ones(1, 1, a.size, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv1d(
        torch.nn.functional.pad(x, pads), weight, stride=a.stride, dilation=a.dilation
    )
    assert y.shape[-1] == a.output
    y.sum().backward()
    assert x.grad is not None
    return int((x.grad == 0).sum())


QUERIES = [(i, o) for i in (1, 2, 3, 5, 8, 13) for o in range(1, 2 * i + 6)]


@pytest.mark.parametrize("transposed", [True, False])
def test_the_counted_empty_positions_are_the_zeros_of_a_run(transposed: bool) -> None:
    for size, target in QUERIES:
        for answer in solve(size, target, transposed=transposed, bounds=Bounds(5, 3, 3)).answers:
            (axis,) = answer.axes
            assert axis.empty == _zeros_in_torch(axis), axis


@pytest.mark.parametrize("transposed", [True, False])
def test_the_first_answer_reaches_every_position_when_some_answer_does(transposed: bool) -> None:
    for size, target in QUERIES:
        answers = solve(size, target, transposed=transposed).answers
        if not any(_zeros_in_torch(a.axes[0]) == 0 for a in answers):
            continue
        assert _zeros_in_torch(answers[0].axes[0]) == 0, (size, target, answers[0])


def test_32_to_65_prefers_a_kernel_that_covers_the_output_padding_border() -> None:
    answers = solve(32, 65).answers
    assert (answers[0].kernel_size, answers[0].stride, answers[0].padding) == ((4,), (2,), ((1, 1),))
    border = next(a for a in answers if a.kernel_size == (2,) and a.output_padding == (1,))
    assert (
        border.reasons[0]
        == "1 output(s) receive nothing (output_padding 1 adds an empty border after the last tap)"
    )
    assert _zeros_in_torch(border.axes[0]) == 1
