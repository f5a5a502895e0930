"""PyTorch calls that move, add or drop axes (unsqueeze, squeeze, transpose, permute, flatten(2)).

An audio model takes (B, T) and unsqueezes a channel axis; a token mixer flattens the spatial axes,
transposes them next to the features and back. convcalc read these calls as ops it does not model, so
the accepted sizes were "not worked out" on every axis behind them. Witness: eager torch, every layer's
output through forward hooks at the given size, and the sizes that run over a sweep of each axis.
An op convcalc does not model at all (torch.roll) no longer blocks the accepted sizes where the model is
captured again at every size.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import convcalc  # noqa: E402
from tests.test_inspect_torch_first_size import SWEEP, torch_runs  # noqa: E402


class AudioDownUp(nn.Module):
    """(B, T) -> unsqueeze -> conv s2 -> transposed conv s2 -> squeeze, added to the input: T even."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv1d(1, 4, 5, stride=2, padding=2)
        self.up = nn.ConvTranspose1d(4, 1, 4, stride=2, padding=1)

    def forward(self, x: Any) -> Any:
        return self.up(self.down(x.unsqueeze(1))).squeeze(1) + x


class TokenMixer(nn.Module):
    """A stride-2 stem, its positions flattened and transposed to tokens, mixed, put back, upsampled by
    a transposed convolution and added to the input: H and W must be even."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.mix = nn.Linear(8, 8)
        self.up = nn.ConvTranspose2d(8, 3, 2, stride=2)

    def forward(self, x: Any) -> Any:
        y = self.stem(x)
        b, c, h, w = y.shape
        tokens = self.mix(y.flatten(2).transpose(1, 2))
        y = y + tokens.permute(0, 2, 1).reshape(b, c, h, w)
        return self.up(torch.swapaxes(y, 2, 3).swapaxes(2, 3)) + x


class Rolled(nn.Module):
    """torch.roll, which convcalc does not model, before a down-up pair added to the input: the model is
    captured again at each size, so the op's shape is torch's own at every size the analysis runs."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(1, 2, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(2, 1, 2, stride=2)

    def forward(self, x: Any) -> Any:
        return self.up(self.down(torch.roll(x, 1, 2))) + x


def rolled() -> nn.Module:
    return Rolled()


def audio() -> nn.Module:
    return AudioDownUp()


def mixer() -> nn.Module:
    return TokenMixer()


def torch_layer_shapes(model: Any, shape: list[int]) -> dict[str, tuple[int, ...]]:
    found: dict[str, tuple[int, ...]] = {}
    hooks = [
        module.register_forward_hook(lambda m, i, o, name=name: found.__setitem__(name, tuple(o.shape)))
        for name, module in model.named_modules()
        if name
    ]
    with torch.no_grad():
        out = model(torch.zeros(shape))
    for hook in hooks:
        hook.remove()
    found[""] = tuple(out.shape)
    return found


@pytest.mark.parametrize(
    ("name", "shape"), [("audio", [2, 30]), ("mixer", [1, 3, 12, 16]), ("rolled", [1, 1, 12, 10])]
)
def test_axis_calls_carry_the_sizes_and_the_accepted_sizes_are_torchs(name: str, shape: list[int]) -> None:
    torch.manual_seed(0)
    model = globals()[name]().eval()
    report = convcalc.inspect(f"{__file__}:{name}", input="x".join(map(str, shape)))
    unknown = [node.op for node in report.graph.nodes if node.kind == "unknown"]
    assert unknown == (["roll"] if name == "rolled" else [])
    truth = torch_layer_shapes(model, shape)
    rows = {row.name: row.output_shape for row in report.layers}
    assert {"down", "up"} <= set(rows) or {"stem", "mix", "up"} <= set(rows), set(rows)
    for layer, dims in truth.items():
        if layer in rows:
            assert rows[layer] == dims, layer
    (output,) = report.graph.outputs
    assert report.run.shapes[output] == truth[""]
    for answer in report.axes:
        assert answer.runs is not None, answer.note
        axis = answer.tensor_axis
        expected = torch_runs(model, shape, axis)
        assert {size for size in SWEEP if answer.runs.contains(size)} == expected, (name, axis)
        # at 1 the sum broadcasts (torch adds a size-1 axis to any size)
        assert expected - {1} and all(size % 2 == 0 for size in expected - {1})


class TransposedStride(nn.Module):
    """transpose(2, 3), a convolution striding the new axis 2 (the input's W) by 2, then unsqueeze."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, stride=(2, 1), padding=1)

    def forward(self, x: Any) -> Any:
        return self.conv(x.transpose(2, 3)).unsqueeze(1)


def test_gains_follow_the_axes_a_transpose_and_an_unsqueeze_move() -> None:
    """Each tensor's gain along the input's H is torch's own change of its sizes between H = 16 and 48
    (W held at 12): H moves to axis 3 at the transpose, the stride acts on W, and the unsqueeze shifts."""
    from convcalc.graph.gains import gains
    from convcalc.inspect.torch_reader import read_module

    model = TransposedStride().eval()
    graph = read_module(model, (1, 1, 16, 12))
    with torch.no_grad():
        small, large = (model(torch.zeros(1, 1, h, 12)).shape for h in (16, 48))
    expected = [(b - a) / 32 for a, b in zip(small, large)]
    (output,) = graph.outputs
    assert gains(graph, 2)[output] == expected == [0, 0, 0, 0, 1]
