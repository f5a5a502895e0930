"""convcalc: exact arithmetic of convolutions and transposed convolutions, proved by execution.

One function per command (``convcalc.shape``, ``verify``, ``sweep``, ``explain``, ``solve``, ``chain``,
``port``, ``inspect``, ``diff``; see ``convcalc.api``) and the pure-integer core. Importing convcalc
loads only that core; the NumPy engine and Rich load when a command needs them.
"""

import sys
import types

from convcalc.api import chain, diff, explain, inspect, port, shape, solve, sweep, verify
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
    "chain",
    "conv_output_size",
    "conv_transpose_output_size",
    "diff",
    "direct_form",
    "explain",
    "inspect",
    "port",
    "reversal",
    "shape",
    "shape_report",
    "solve",
    "sweep",
    "verify",
]

_COMMANDS = frozenset(("chain", "diff", "explain", "inspect", "port", "shape", "solve", "verify"))


class _Package(types.ModuleType):
    """The convcalc package, whose command functions keep their names.

    Eight commands share their name with the subpackage of their feature (``convcalc/chain/``, ...).
    Importing a submodule binds it as an attribute of its parent package, which would turn
    ``convcalc.chain`` from the function into the subpackage as soon as anything imports
    ``convcalc.chain.parse``. Here that one binding is skipped: ``convcalc.chain`` stays the function,
    and the subpackage's modules stay importable by their full names (``from convcalc.chain.parse import
    parse_chain``, ``from convcalc.chain import parse``). Only ``import convcalc.chain as m``, which
    reads the attribute, gets the function.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _COMMANDS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
