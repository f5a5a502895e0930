"""`port`'s paste-ready PyTorch code, executed by torch itself: it builds, runs, and (with the fix it
prints) gives the source layer's output, compared with the source layer's canonical form run by the
NumPy engine on the same weight."""

from __future__ import annotations

from typing import Any

import pytest

from convcalc import engine
from convcalc.conventions.code import json_value, parse_value
from convcalc.port.snippet import snippet
from convcalc.port.translate import port

CASES: list[tuple[str, dict[str, Any]]] = [
    ("keras", {"size": (16, 16), "kernel_size": 3, "stride": 2, "padding": "same", "transposed": True}),
    ("tensorflow", {"size": (5,), "kernel_size": 3, "stride": 2, "padding": "same", "transposed": True}),
    ("keras", {"size": (9, 8), "kernel_size": 4, "stride": 2, "padding": "same"}),
    ("tensorflow", {"size": (7,), "kernel_size": 2, "stride": 3, "padding": "same"}),
    ("onnx", {"size": (6,), "kernel_size": 3, "stride": 2, "padding": "same_lower", "transposed": True}),
    ("pytorch", {"size": (8,), "kernel_size": 4, "stride": 2, "padding": 1, "transposed": True}),
]


def test_values_are_json() -> None:
    assert json_value("(3, 3)") == [3, 3] and json_value("'same'") == "same" and json_value("None") is None
    assert parse_value("[[1, 1]] (spatial pairs)") == ([[1, 1]], "spatial pairs")
    assert json_value("not a literal") == "not a literal"


@pytest.mark.parametrize(("source", "arguments"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
def test_the_pytorch_snippet_runs_and_is_exact(source: str, arguments: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    np = pytest.importorskip("numpy")
    t = port(source, "pytorch", in_channels=2, out_channels=3, **arguments)
    code = snippet(t)
    x = torch.randn(1, 2, *arguments["size"], dtype=torch.float64)
    namespace: dict[str, Any] = {"x": x, "torch": torch}
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        exec(code, namespace)  # the printed code, as a user pastes it
    finally:
        torch.set_default_dtype(default)
    layer, y = namespace["layer"], namespace["y"]
    weight = layer.weight.detach().double().numpy()
    bias = layer.bias.detach().double().numpy()
    xs = x.numpy()
    s = t.source
    if s.is_transposed:
        expected = engine.conv_transpose_cropped(
            xs,
            weight,
            stride=[a.stride for a in s.transposed],
            dilation=[a.dilation for a in s.transposed],
            crops=list(s.placement),
        )
    else:
        expected = engine.conv(
            xs,
            weight,
            stride=[a.stride for a in s.conv],
            dilation=[a.dilation for a in s.conv],
            padding=list(s.placement),
        )
    expected = expected + bias.reshape(-1, *([1] * len(arguments["size"])))
    assert tuple(y.shape[2:]) == s.output
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
