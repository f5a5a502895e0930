"""Where convcalc's own dialect goes beyond PyTorch, which it otherwise spells: what PyTorch says instead.

Shared by shape's one-line answer and its tables (and explain's answer, through ``layer_words``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcalc.core import ShapeReport


def pytorch_refusal(report: ShapeReport) -> str | None:
    """PyTorch's refusal of a layer convcalc read in its own dialect, when the dialect goes beyond it.

    'same' with a stride > 1 is TensorFlow's and Keras's rule (output ceil(i/s), the odd pad at the end);
    PyTorch refuses it, and its convention module says how (its text is checked against torch).
    """
    p = report.params
    if p.padding_mode != "same" or report.transposed_input or all(s == 1 for s in p.stride):
        return None
    from convcalc.conventions import read
    from convcalc.errors import ConvCalcError

    try:
        read("pytorch", [a.size for a in report.conv], p.kernel_size, stride=p.stride, padding="same")
    except ConvCalcError as refusal:
        return str(refusal)
    return None
