"""`chain` and `inspect` answer with one size engine: a chain spec and the PyTorch model it describes
(its skip pairs as concatenations) get the same accepted sizes and receptive field, and torch running
the model at every small size, and its gradient, are the witnesses for both."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from convcalc.chain.parse import parse_chain  # noqa: E402
from convcalc.chain.report import chain_report  # noqa: E402
from convcalc.inspect.torch_reader import inspect_module  # noqa: E402


class EncoderDecoder(nn.Module):  # type: ignore[misc]
    """conv k3 s2 p1 | conv k3 s2 p1 | tconv K s2 p1 | tconv K s2 p1, each decoder output concatenated
    with the input of the encoder layer it mirrors (chain's pairs: 2 with 3, 1 with 4)."""

    def __init__(self, tconv_kernel: int) -> None:
        super().__init__()
        self.down1 = nn.Conv1d(1, 2, 3, 2, 1)
        self.down2 = nn.Conv1d(2, 2, 3, 2, 1)
        self.up2 = nn.ConvTranspose1d(2, 2, tconv_kernel, 2, 1)
        self.up1 = nn.ConvTranspose1d(4, 2, tconv_kernel, 2, 1)

    def forward(self, x: Any) -> Any:
        a = self.down1(x)
        b = self.up2(self.down2(a))
        return torch.cat([self.up1(torch.cat([b, a], 1)), x], 1)


def _torch_runs(model: Any, length: int) -> bool:
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, length))
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("tconv_kernel", [4, 3])
def test_accepted_sizes_agree_with_each_other_and_with_torch(tconv_kernel: int) -> None:
    spec = f"conv k3 s2 p1 | conv k3 s2 p1 | tconv k{tconv_kernel} s2 p1 | tconv k{tconv_kernel} s2 p1"
    chain = chain_report(parse_chain(spec), (16,)).accepted[0]
    model = EncoderDecoder(tconv_kernel).eval()
    axis = inspect_module(model, (1, 1, 16)).axes[0]
    assert axis.runs is not None and axis.accepted is not None
    top = 4 * chain.restores.period + 10
    for length in range(1, top):
        restores = length >= chain.minimum and chain.restores.contains(length)
        # torch concatenates exactly where chain says every skip is restored ...
        assert _torch_runs(model, length) == restores, length
        # ... and inspect, reading the model, says the same: sizes that run, and of those the ones
        # where no window leaves an input unread.
        assert axis.runs.contains(length) == restores, length
        exact = restores and chain.exact.contains(length)
        assert axis.accepted.contains(length) == exact, length


def _gradient_span(model: Any, length: int) -> int:
    """How many input positions reach the middle output (torch's autograd, not a formula)."""
    x = torch.zeros(1, 1, length, requires_grad=True)
    y = model(x)
    y[0, 0, y.shape[-1] // 2].backward()
    reached = (x.grad[0, 0] != 0).nonzero().flatten().tolist()
    return int(reached[-1] - reached[0] + 1)


def test_receptive_field_agrees_with_each_other_and_with_torch() -> None:
    spec = "conv k3 s2 p1 | maxpool k2 | conv k3 d2 p2 | avgpool k3 s1"
    model = nn.Sequential(
        nn.Conv1d(1, 1, 3, 2, 1),
        nn.MaxPool1d(2),
        nn.Conv1d(1, 1, 3, 1, 2, dilation=2),
        nn.AvgPool1d(3, 1),
    )
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.weight.fill_(1.0)
            layer.bias.zero_()
    length = 128
    chain = chain_report(parse_chain(spec), (length,))
    last = chain.fields[-1]
    assert last is not None
    (_, widest), *_ = inspect_module(model, (1, 1, length)).fields
    assert widest == (last[0].receptive_field,)
    # torch's gradient: a max pooling passes it to one element of each window, so the witness runs the
    # same windows averaged (same kernel, stride and padding: the same field, every element reached).
    summed = nn.Sequential(model[0], nn.AvgPool1d(2), model[2], model[3])
    assert _gradient_span(summed, length) == last[0].receptive_field
