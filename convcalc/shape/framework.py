"""`convcalc shape --framework X`: a layer as X reads it, and the same layer in PyTorch's arguments."""

from __future__ import annotations

from dataclasses import dataclass

from convcalc.conventions.base import FrameworkLayer
from convcalc.core.display import Presentable
from convcalc.port.translate import Translation, translate


@dataclass(frozen=True, repr=False)
class FrameworkShape(Presentable):
    """A layer read by its framework's rules; ``pytorch`` is its port to PyTorch (None for PyTorch)."""

    layer: FrameworkLayer
    pytorch: Translation | None

    presenter = "convcalc.shape.framework_present"


def framework_shape(layer: FrameworkLayer) -> FrameworkShape:
    """The layer and, unless it is PyTorch's already, its translation to PyTorch."""
    return FrameworkShape(layer, None if layer.framework == "pytorch" else translate(layer, "pytorch"))
