"""--output-size outside the reachable sizes names them; torch executing ConvTranspose1d is the witness."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from convcalc.cli import app


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation"), [(32, 3, 2, 1, 1), (5, 4, 3, 0, 1), (6, 3, 1, 0, 3)]
)
def test_unreachable_output_size_lists_the_sizes_torch_produces(
    size: int, kernel: int, stride: int, padding: int, dilation: int
) -> None:
    torch = pytest.importorskip("torch")
    reached = []
    for op in range(max(stride, dilation)):
        layer = torch.nn.ConvTranspose1d(1, 1, kernel, stride, padding, op, dilation=dilation)
        reached.append(layer(torch.zeros(1, 1, size)).shape[-1])
    assert reached == list(range(reached[0], reached[-1] + 1))
    args = ["shape", str(size), "-k", str(kernel), "-s", str(stride), "-p", str(padding), "-t"]
    args += ["--dilation", str(dilation)]
    for target in (reached[0] - 1, reached[-1] + 1):
        result = CliRunner().invoke(app, [*args, "--output-size", str(target)])
        assert result.exit_code == 2
        assert f"output size {target} is not reachable; {reached[0]}..{reached[-1]} are" in result.output
    for target in reached:
        assert CliRunner().invoke(app, [*args, "--output-size", str(target)]).exit_code == 0
