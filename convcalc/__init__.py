"""convcalc: exact arithmetic of convolutions and transposed convolutions, proved by execution.

Importing convcalc loads only the pure-integer core; the NumPy engine lives in ``convcalc.engine``.
"""

from convcalc.core import (
    ChannelReport,
    ConvAxis,
    ConvParams,
    DirectAxis,
    ReversalAxis,
    ShapeReport,
    TransposedAxis,
    conv_output_size,
    conv_transpose_output_size,
    direct_form,
    reversal,
    shape_report,
)
from convcalc.errors import ConvCalcError, ExitCode

__version__ = "0.1.0"

__all__ = [
    "ChannelReport",
    "ConvAxis",
    "ConvCalcError",
    "ConvParams",
    "DirectAxis",
    "ExitCode",
    "ReversalAxis",
    "ShapeReport",
    "TransposedAxis",
    "__version__",
    "conv_output_size",
    "conv_transpose_output_size",
    "direct_form",
    "reversal",
    "shape_report",
]
