"""The size path must not pay for NumPy: `import convcalc` and `convcalc shape` never load it."""

from __future__ import annotations

import subprocess
import sys


def _loads_numpy(code: str) -> bool:
    probe = code + "\nimport sys\nprint('numpy' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return proc.stdout.strip().splitlines()[-1] == "True"


def test_import_convcalc_does_not_load_numpy() -> None:
    assert not _loads_numpy("import convcalc\nconvcalc.conv_transpose_output_size(5, 3, stride=2)")


def test_shape_command_does_not_load_numpy() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from convcalc.cli import app\n"
        "r = CliRunner().invoke(app, ['shape', '32x32', '-k', '4', '-s', '2', '-p', '1', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['shape', '32x32', '-k', '4', '-s', '2', '-p', '1'])\n"
        "assert r.exit_code == 0, r.output"
    )
    assert not _loads_numpy(code)
