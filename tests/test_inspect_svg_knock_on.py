"""The picture agrees with the table: a merge that fails only as a knock-on of an earlier merge is drawn
as the table has it (it agrees once the earlier fix is applied), not as a second failure.

The model (a trial's, in its own words): a two-level U-Net. At 30x30 the inner skip disagrees (14 vs 15
after two poolings); as it stands the outer concatenation then sees 28 vs 30, but once the inner fix is
applied it agrees. Witness: torch refuses the model at 30x30 and runs it with only the inner fix (an
output_padding of 1 on the inner transposed convolution), so the outer merge has no fault of its own.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
nn = torch.nn

from convcalc.inspect import inspect_model  # noqa: E402
from convcalc.inspect.svg import inspect_svg  # noqa: E402
from convcalc.inspect.svg.draw import MARK_STYLES  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


class TwoLevels(nn.Module):
    def __init__(self, inner_output_padding: int = 0) -> None:
        super().__init__()
        self.enc1 = nn.Conv2d(3, 4, 3, padding=1)
        self.enc2 = nn.Conv2d(4, 8, 3, padding=1)
        self.mid = nn.Conv2d(8, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(8, 8, 2, stride=2, output_padding=inner_output_padding)
        self.dec2 = nn.Conv2d(16, 4, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.dec1 = nn.Conv2d(8, 2, 3, padding=1)

    def forward(self, x: Any) -> Any:
        a = torch.relu(self.enc1(x))
        b = torch.relu(self.enc2(self.pool(a)))
        c = self.mid(self.pool(b))
        d = self.dec2(torch.cat([self.up2(c), b], 1))
        return self.dec1(torch.cat([self.up1(d), a], 1))


def _export(model: Any, path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(),
            (torch.zeros(1, 3, 32, 32),),
            str(path),
            dynamo=False,
            input_names=["x"],
            dynamic_axes={"x": {2: "h", 3: "w"}},
        )


def _marks(svg: str) -> dict[str, tuple[str, str]]:
    """Each node box's stroke and the words of its mark, by the node's name."""
    root = ET.fromstring(svg)
    found: dict[str, tuple[str, str]] = {}
    for group in root.iter(f"{SVG}g"):
        children = list(group)
        for n, child in enumerate(children):
            if child.tag == f"{SVG}rect" and child.get("class") == "node":
                words = []
                for later in children[n + 1 :]:
                    if later.tag == f"{SVG}rect":
                        break
                    if later.get("class") == "mark":
                        words.append(later.text or "")
                found[child.get("data-node", "")] = (child.get("stroke", ""), " ".join(words))
    return found


def test_a_knock_on_merge_is_drawn_as_the_table_has_it(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        TwoLevels().eval()(torch.zeros(1, 3, 30, 30))
    assert tuple(TwoLevels(inner_output_padding=1).eval()(torch.zeros(1, 3, 30, 30)).shape) == (1, 2, 30, 30)

    path = tmp_path / "unet.onnx"
    _export(TwoLevels(), path)
    report = inspect_model(str(path), [(1, 3, 30, 30)])
    assert report.headline().startswith("2 findings: 1 skip mismatch at 30x30")
    inner, outer = report.merges
    assert not inner.knock_on and outer.knock_on
    assert outer.shapes == ((1, 4, 28, 28), (1, 4, 30, 30))

    svg = inspect_svg(report)
    marks = _marks(svg)
    assert marks[inner.name][0] == MARK_STYLES["error"][1]
    assert marks[inner.name][1].startswith("FAILS:")
    stroke, words = marks[outer.name]
    assert stroke == MARK_STYLES["knock_on"][1]
    assert "FAILS" not in words
    assert (
        words
        == "knock-on: agrees once the earlier merge's fix is applied (as it stands 1x4x28x28 vs 1x4x30x30)"
    )
    assert svg.count("FAILS") == 1
    assert f"Fix for {outer.name}" not in svg
    assert f"{outer.name}: a knock-on of the merges before it" in svg
