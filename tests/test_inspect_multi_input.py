"""Multi-input models: each spatial axis's accepted sizes come from every input's size on that axis.

Witness: PyTorch running the same guided upsampler as tests/data/keras/two_inputs.keras (a 3x3 "same"
convolution of the image, the guide brought up 2x by nearest upsampling, both concatenated) over a range
of image sizes with the guide held fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from convcalc.graph.sizes import all_axes
from convcalc.inspect.keras_reader import read_keras

torch = pytest.importorskip("torch")

DATA = Path(__file__).parent / "data" / "keras"


def _torch_runs(image: tuple[int, int], guide: tuple[int, int]) -> bool:
    conv = torch.nn.Conv2d(1, 2, 3, padding=1)
    up = torch.nn.Upsample(scale_factor=2, mode="nearest")
    try:
        with torch.no_grad():
            torch.cat([conv(torch.zeros(1, 1, *image)), up(torch.zeros(1, 2, *guide))], 1)
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("guide", [(7, 8), (15, 16), (8, 7), (15, 15)])
def test_two_input_accepted_sizes_follow_each_axis_of_every_input(guide: tuple[int, int]) -> None:
    graph = read_keras(DATA / "two_inputs.keras")
    # The image is square (16x16), the guide need not be: the trial's 16x16 + 7x8 case.
    shapes = ((1, 16, 16, 1), (1, *guide, 2))
    axes = all_axes(graph, shapes, (1, 2))
    for spatial, axis in enumerate(axes):
        assert axis.accepted is not None
        for size in range(1, 41):
            # The other axis at the size its guide needs, so only this axis can fail.
            image = [2 * guide[0], 2 * guide[1]]
            image[spatial] = size
            expected = _torch_runs((image[0], image[1]), guide)
            assert axis.accepted.contains(size) == expected, (guide, spatial, size)


@pytest.mark.parametrize("name", ["two_inputs", "shared"])
def test_the_input_hint_of_a_multi_input_model_is_a_command_that_works(name: str) -> None:
    import json

    from typer.testing import CliRunner

    from convcalc.cli import app

    runner = CliRunner()
    path = str(DATA / f"{name}.keras")
    refused = runner.invoke(app, ["inspect", path])
    assert refused.exit_code == 2
    hint = refused.output.split("for example", 1)[1].split()
    given = [hint[i + 1] for i, word in enumerate(hint) if word == "--input"]
    # Witness: the shapes Keras itself ran the model with (batch, spatial..., channels per input).
    recorded = json.loads((DATA / "keras_shapes.json").read_text())["models"][name]["runs"][0]["inputs"]
    assert len(given) == len(recorded)
    for text, keras_shape in zip(given, recorded):
        dims = [int(v) for v in text.split("x")]
        assert len(dims) == len(keras_shape) and dims[0] == 1 and dims[-1] == keras_shape[-1]
    followed = runner.invoke(app, ["inspect", path, *[w for t in given for w in ("--input", t)]])
    assert followed.exit_code in (0, 1), followed.output


def test_every_target_the_help_lists_is_accepted_and_a_bad_one_lists_them_all() -> None:
    import json
    import re

    from typer.testing import CliRunner

    from convcalc.cli import app
    from convcalc.conventions import ALIASES, CONVENTIONS

    runner = CliRunner()
    helped = " ".join(runner.invoke(app, ["inspect", "--help"], env={"COLUMNS": "200"}).output.split())
    listed = re.search(r"Check portability to (.*?)\.", helped)
    assert listed is not None
    names = set(re.findall(r"[a-z]+", listed.group(1))) - {"or"}
    assert names == set(CONVENTIONS) | {"onnxruntime"}
    path = str(DATA / "residual_add.keras")
    for name in sorted(names | set(ALIASES)):
        result = runner.invoke(app, ["inspect", path, "--input", "1x16x12x2", "--target", name, "--json"])
        assert result.exit_code in (0, 1), (name, result.output)
        assert json.loads(result.stdout)["target"]
    bad = runner.invoke(app, ["inspect", path, "--target", "bogus"])
    assert bad.exit_code == 2
    message = " ".join(bad.output.split())
    assert all(name in message for name in names | set(ALIASES))
