"""Result objects in Python and notebooks: a readable repr with the answer, to_dict() equal to --json,
tables through __rich__ and _repr_html_; the core still imports neither rich nor numpy."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from typer.testing import CliRunner

from convcalc.cli import app

runner = CliRunner()


def cli_json(*args: str, exit_code: int = 0) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_shape_report() -> None:
    from convcalc.core import shape_report

    report = shape_report(32, 3, stride=2, padding=1, transposed=True)
    assert repr(report) == (
        "<ShapeReport: transposed 32 -> 63 (k3 s2 p1). output_padding=1 gives 64; "
        "sizes 63..64 are reachable.>"
    )
    assert report.to_dict() == cli_json("shape", "32", "-k", "3", "-s", "2", "-p", "1", "-t")
    html = report._repr_html_()
    assert "<pre" in html and "63" in html and "Outputs reachable with output_padding" in html


def test_solve_chain_verify_port_reports() -> None:
    from convcalc.chain.parse import parse_chain
    from convcalc.chain.report import chain_report
    from convcalc.port.translate import port
    from convcalc.solve.solver import solve
    from convcalc.verify.checks import verify_layer

    solved = solve(32, 64)
    assert "32 -> 64: best k2 s2 p0 op0" in repr(solved)
    assert solved.to_dict() == cli_json("solve", "32", "64")

    layers = "conv k3 s2 p1 | tconv k3 s2 p1 op1"
    chained = chain_report(parse_chain(layers), (63,), None)
    assert "input 63 -> output 64" in repr(chained)
    # 63 comes back as 64: not restored, so chain exits 1 (as inspect does for a finding).
    assert chained.to_dict() == cli_json("chain", layers, "63", exit_code=1)

    verified = verify_layer(8, 3, stride=2)
    assert "verified by execution: convolution 8 -> 3" in repr(verified)
    assert verified.to_dict() == cli_json("verify", "8", "-k", "3", "-s", "2")

    ported = port("keras", "pytorch", 16, 3, stride=2, padding="same", transposed=True)
    assert repr(ported).startswith("<Translation: Keras -> PyTorch: not equal as it stands")
    assert ported.to_dict() == cli_json(
        "port", "16", "-k", "3", "-s", "2", "-p", "same", "-t", "--from", "keras", "--to", "pytorch"
    )


def test_rich_renders_the_tables() -> None:
    from rich.console import Console

    from convcalc.core import shape_report

    console = Console(width=60, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(shape_report(63, 4, stride=2, padding=1))
    text = console.export_text()
    assert text.startswith("convolution 63 -> 31 (k4 s2 p1).")
    assert "Reversibility" in text and all(len(line) <= 60 for line in text.splitlines())


def test_the_core_imports_neither_rich_nor_numpy() -> None:
    code = (
        "import sys\nfrom convcalc.core import shape_report\nr = shape_report(8, 3)\nrepr(r); r.to_dict()\n"
        "print('rich' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
