"""The Python API: one function per command, taking the command's arguments as Python values or text.

Each function's result must be the command's answer: ``to_dict()`` equal to the command's ``--json``
document, the repr the command's first line. The values themselves are witnessed by the engine, torch
and the frameworks in the other test modules; here a few are also checked by hand. The names must work
both ways (``convcalc.chain(...)`` and ``from convcalc import chain``) however the subpackages of the
same names were imported, and ``import convcalc`` must stay light.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import convcalc
from convcalc.cli import app
from convcalc.errors import ConvCalcError

KERAS = Path(__file__).parent / "data" / "keras" / "unet2d.keras"
CHAIN = "conv k3 s2 p1 | tconv k3 s2 p1 op1"
DIFF = Path(__file__).parent / "data" / "diff"
NEEDS_ONNX = pytest.mark.skipif(importlib.util.find_spec("onnx") is None, reason="diff reads .onnx files")

runner = CliRunner()


def cli(*args: str) -> tuple[dict[str, Any], str]:
    """The command's --json document and what it prints for people, words joined by single spaces."""
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code in (0, 1), as_json.output
    text = runner.invoke(app, list(args))
    return json.loads(as_json.stdout), " ".join(text.stdout.split())


CASES: list[Any] = [
    (
        "shape",
        lambda: convcalc.shape(32, 3, stride=2, padding=1, transposed=True),
        ["shape", "32", "-k", "3", "-s", "2", "-p", "1", "-t"],
    ),
    (
        "shape per axis",
        lambda: convcalc.shape((16, 12), (3, 5), stride=(2, 1), padding=((1, 2), (0, 1)), dilation=(1, 2)),
        ["shape", "16x12", "-k", "3x5", "-s", "2x1", "-p", "1:2x0:1", "-d", "1x2"],
    ),
    (
        "shape framework",
        lambda: convcalc.shape((16, 16), 3, stride=2, padding="same", transposed=True, framework="keras"),
        ["shape", "16x16", "-k", "3", "-s", "2", "-p", "same", "-t", "--framework", "keras"],
    ),
    ("verify", lambda: convcalc.verify(8, 3, stride=2), ["verify", "8", "-k", "3", "-s", "2"]),
    (
        "sweep",
        lambda: convcalc.sweep(sizes=(1, 2, 3), kernel_sizes="1-2", strides=2, paddings=0, ndims=1),
        [
            "sweep",
            "--sizes",
            "1,2,3",
            "--kernel-sizes",
            "1-2",
            "--strides",
            "2",
            "--paddings",
            "0",
            "--ndims",
            "1",
        ],
    ),
    (
        "explain",
        lambda: convcalc.explain(3, 4, stride=3, transposed=True, section=["overlap"], layers=2),
        ["explain", "3", "-k", "4", "-s", "3", "-t", "--section", "overlap", "--layers", "2"],
    ),
    ("solve", lambda: convcalc.solve(32, 64, top=3), ["solve", "32", "64", "--top", "3"]),
    (
        "solve framework",
        lambda: convcalc.solve((64, 48), (32, 24), conv=True, framework="keras", show_all=True),
        ["solve", "64x48", "32x24", "--conv", "--framework", "keras", "--all"],
    ),
    (
        "chain",
        lambda: convcalc.chain(CHAIN, 63, size_range=(1, 40)),
        ["chain", CHAIN, "63", "--range", "1:40"],
    ),
    (
        "port",
        lambda: convcalc.port(
            16,
            3,
            stride=2,
            padding="same",
            transposed=True,
            source="keras",
            target="pytorch",
            in_channels=4,
            out_channels=8,
            verify=True,
            seed=3,
        ),
        [
            "port",
            "16",
            "-k",
            "3",
            "-s",
            "2",
            "-p",
            "same",
            "-t",
            "--from",
            "keras",
            "--to",
            "pytorch",
            "--in-channels",
            "4",
            "--out-channels",
            "8",
            "--verify",
            "--seed",
            "3",
        ],
    ),
    (
        "inspect",
        lambda: convcalc.inspect(KERAS, [(1, 15, 16, 1)], target="pytorch"),
        ["inspect", str(KERAS), "--input", "1x15x16x1", "--target", "pytorch"],
    ),
    pytest.param(
        "diff",
        lambda: convcalc.diff(DIFF / "net.onnx", DIFF / "net_moved.onnx", (1, 3, 16, 12)),
        ["diff", str(DIFF / "net.onnx"), str(DIFF / "net_moved.onnx"), "--input", "1x3x16x12"],
        marks=NEEDS_ONNX,
    ),
    pytest.param(
        "diff input_b",
        lambda: convcalc.diff(DIFF / "net.onnx", DIFF / "net_nhwc.onnx", "1x3x16x12", input_b=["1x16x12x3"]),
        [
            "diff",
            str(DIFF / "net.onnx"),
            str(DIFF / "net_nhwc.onnx"),
            "-i",
            "1x3x16x12",
            "--input-b",
            "1x16x12x3",
        ],
        marks=NEEDS_ONNX,
    ),
]


@pytest.mark.parametrize(
    ("name", "call", "args"),
    CASES,
    ids=[case.values[0] if hasattr(case, "values") else case[0] for case in CASES],
)
def test_each_function_answers_as_its_command(name: str, call: Callable[[], Any], args: list[str]) -> None:
    result = call()
    document, printed = cli(*args)
    assert result.to_dict() == document
    assert repr(result) == f"<{type(result).__name__}: {document['headline']}>"
    assert result.headline() == document["headline"]
    assert printed.startswith(" ".join(result.headline().split()))
    assert "\n" not in repr(result) and len(repr(result)) < 600
    html = result._repr_html_()
    assert html.startswith("<pre") and result.headline().split()[0] in html


def test_hand_worked_values() -> None:
    """Transposed: (i-1)*s - 2p + K = 31*2 - 2 + 3 = 63; the chain's conv: floor((63 + 2 - 3)/2) + 1 = 32."""
    assert convcalc.shape(32, 3, stride=2, padding=1, transposed=True).transposed[0].output == 63
    assert convcalc.chain(CHAIN, 63).results[0].output == (32,)
    assert convcalc.shape("32x32", "3", stride="2", padding="1").conv[1].output == 16


def test_rich_renders_the_tables() -> None:
    from rich.console import Console

    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(convcalc.solve(32, 64, top=2))
    text = console.export_text()
    assert text.startswith("transposed convolution 32 -> 64: best")
    assert all(len(line) <= 80 for line in text.splitlines())


def test_inspect_takes_one_shape_or_a_list_of_shapes() -> None:
    documents = [
        convcalc.inspect(KERAS, shapes).to_dict()
        for shapes in ((1, 16, 16, 1), [1, 16, 16, 1], "1x16x16x1", ["1x16x16x1"], [(1, 16, 16, 1)])
    ]
    assert all(d == documents[0] for d in documents)
    assert documents[0]["input"]["shapes"] == [[1, 16, 16, 1]]


def test_diff_answers_with_the_verdict_running_both_files_gives() -> None:
    """net_moved.onnx moves the head's pads 1:1 -> 0:2 on H: ONNX Runtime's output of B is A's moved up
    by one row (tests/test_diff_cli.py runs both); the NHWC conversion computes what A computes."""
    pytest.importorskip("onnx")
    moved = convcalc.diff(DIFF / "net.onnx", DIFF / "net_moved.onnx", "1x3x16x12")
    assert int(moved.exit_code) == 1 and not moved.same
    (pair,) = moved.differing
    assert pair.verdict == "shifted" and dict(pair.shift) == {"H": -1, "W": 0}
    assert convcalc.diff(DIFF / "net.onnx", DIFF / "net.onnx", [(1, 3, 16, 12)]).same


def test_diff_draws_the_picture_and_checks_its_arguments(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    svg = tmp_path / "diff.svg"
    report = convcalc.diff(DIFF / "net.onnx", DIFF / "net_moved.onnx", "1x3x16x12", svg=svg)
    assert svg.read_text().startswith("<svg") and "changed" in svg.read_text()
    assert (
        report.headline() == convcalc.diff(DIFF / "net.onnx", DIFF / "net_moved.onnx", "1x3x16x12").headline()
    )
    with pytest.raises(ConvCalcError, match=r"input must be a shape such as '1x3x64x64' .* got \[\]"):
        convcalc.diff(DIFF / "net.onnx", DIFF / "net.onnx", [])
    with pytest.raises(ConvCalcError, match=r"input_b must be a shape such as .* got 3\.5"):
        convcalc.diff(DIFF / "net.onnx", DIFF / "net.onnx", "1x3x16x12", input_b=3.5)
    with pytest.raises(ConvCalcError, match=r"svg"):
        convcalc.diff(DIFF / "net.onnx", DIFF / "net.onnx", "1x3x16x12", svg=tmp_path / "picture.png")
    message = runner.invoke(
        app, ["diff", str(DIFF / "net.onnx"), str(DIFF / "net.onnx"), "-i", "1x3x9x12", "--json"]
    )
    with pytest.raises(ConvCalcError) as error:
        convcalc.diff(DIFF / "net.onnx", DIFF / "net.onnx", "1x3x9x12")
    # the same message, each naming the input as its caller spells it
    cli_message = json.loads(message.stdout)["error"]["message"]
    assert cli_message.startswith("--input 1x3x9x12: axis 2") and str(error.value).startswith(
        "input='1x3x9x12'"
    )
    assert cli_message.replace("--input 1x3x9x12", "input='1x3x9x12'") == str(error.value)


def test_bad_input_raises_the_commands_error() -> None:
    with pytest.raises(ConvCalcError, match=r"kernel_size is required"):
        convcalc.shape(8)
    with pytest.raises(ConvCalcError, match=r"size must be an integer, a tuple of integers .* got 3\.5"):
        convcalc.shape(3.5, 3)
    with pytest.raises(ConvCalcError, match=r"range must be LOW:HIGH with LOW <= HIGH; got 9:1"):
        convcalc.chain(CHAIN, 63, size_range=(9, 1))
    with pytest.raises(ConvCalcError, match=r"top must be an integer >= 1; got 0"):
        convcalc.solve(32, 64, top=0)
    message = runner.invoke(app, ["shape", "0", "-k", "3", "--json"]).stdout
    with pytest.raises(ConvCalcError) as error:
        convcalc.shape(0, 3)
    assert json.loads(message)["error"]["message"] == str(error.value)


def test_the_names_work_both_ways_in_a_fresh_interpreter() -> None:
    """The functions keep their names after their subpackages (convcalc/chain/, ...) are imported."""
    code = (
        "import convcalc\n"
        "import convcalc.chain.parse, convcalc.inspect.analysis, convcalc.port.translate, convcalc.cli\n"
        "from convcalc.chain.report import chain_report\n"
        "from convcalc.verify import checks\n"
        "from convcalc.chain import parse\n"
        "assert parse.parse_chain('conv k3')[0].kind == 'conv'\n"
        "import convcalc.diff.report\n"
        "from convcalc import chain, diff, inspect, port, shape, solve, sweep, verify, explain\n"
        "names = ('chain', 'diff', 'inspect', 'port', 'shape', 'solve', 'sweep', 'verify', 'explain')\n"
        "assert all(callable(getattr(convcalc, n)) for n in names)\n"
        "assert chain is convcalc.chain and verify is convcalc.verify\n"
        f"print(repr(convcalc.chain({CHAIN!r}, 64)), repr(chain({CHAIN!r}, 64)))\n"
        "print(sys.modules['convcalc.chain'].__name__, checks.__name__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", "import sys\n" + code], capture_output=True, text=True, check=True
    )
    first, second = proc.stdout.splitlines()
    assert first.count("<ChainReport: input 64 -> output 64; every skip connection matches (1).>") == 2
    assert second == "convcalc.chain convcalc.verify.checks"


def test_import_convcalc_and_a_shape_answer_stay_light() -> None:
    code = (
        "import sys, convcalc\n"
        "light = not {m.split('.')[0] for m in sys.modules} & {'numpy', 'rich', 'typer', 'click'}\n"
        "r = convcalc.shape(32, 3, stride=2, padding=1, transposed=True)\n"
        "repr(r); r.to_dict()\n"
        "print(light, sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'rich', 'typer'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "[]"]


def test_every_result_class_names_a_presentation_module_with_the_three_functions() -> None:
    """One protocol (issue 18): each result finds document, render and headline through its class."""
    import importlib
    import inspect
    import pkgutil

    from convcalc.core.display import Presentable

    for module in pkgutil.walk_packages(convcalc.__path__, "convcalc."):
        if module.name.split(".")[-1] == "__main__":
            continue
        try:
            importlib.import_module(module.name)
        except ImportError:  # a reader of an optional framework that is not installed
            continue
    classes: set[type] = set()
    pending = list(Presentable.__subclasses__())
    while pending:
        cls = pending.pop()
        classes.add(cls)
        pending.extend(cls.__subclasses__())
    names = {cls.__name__ for cls in classes}
    assert names >= {
        "ShapeReport",
        "FrameworkShape",
        "VerifyReport",
        "SweepReport",
        "ExplainReport",
        "SolveReport",
        "ChainReport",
        "Translation",
        "InspectReport",
        "DiffReport",
    }
    for cls in classes:
        presentation = importlib.import_module(cls.presenter)
        for function in ("document", "render", "headline"):
            parameters = inspect.signature(getattr(presentation, function)).parameters
            assert len(parameters) == 1, (cls.__name__, function, parameters)
