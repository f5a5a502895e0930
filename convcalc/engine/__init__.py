"""The NumPy engine: convolutions and transposed convolutions executed by independent routes.

The only package of convcalc that imports numpy (with the small ``execute`` modules that drive it). It
never decides a size on its own: every output size, padding and crop comes from the arithmetic core
(``normalize``, ``conv_axes_for``, ``transposed_axes_for``, ``direct_form``), so that running the
engine checks the core.

Layouts are PyTorch's: ``x`` is ``(N, C, *spatial)`` with any number of spatial axes; a convolution
weight is ``(C_out, C_in/groups, *k)``; a transposed-convolution weight is ``(C_in, C_out/groups, *k)``
(the same tensor as the convolution it is the adjoint of).

Routes for the transposed convolution, each its own code:

- ``conv_transpose_cropped`` (``fast/``): the engine's fast form: one matrix product per group gives
  every kernel tap's contribution, then a strided add per tap (col2im), then the canonical crops.
- ``transpose_scatter`` (``routes/scatter.py``): the definition: every input element adds a scaled copy
  of the kernel into the output at stride s, one kernel tap at a time.
- ``transpose_direct`` (``routes/direct.py``): zeros inserted between inputs, re-padded with the core's
  ``direct_form`` numbers, then a stride-1 convolution with the flipped, channel-swapped kernel.
- ``transpose_matrix`` (``routes/matrix.py``): the dense matrix C of the forward convolution, applied
  as C^T.
- ``adjoint_identity`` (``routes/adjoint.py``): <conv(x), y> = <x, conv_transpose(y)>.

``run_layer`` (``layer.py``) runs a core ``Layer`` by the fast path or by a route named in its call.

The witness routes share no code with the fast path beyond the boundary checks (``inputs.py``), the
budgets (``budget.py``) and the core. Work and memory are budgeted: ``MAX_WORK`` multiply-accumulates
and ``MAX_ELEMENTS`` elements in any array the engine allocates; the matrix route has the tighter
``MAX_MATRIX_ELEMENTS``. A request beyond one is refused with ``convcalc.errors.BudgetExceeded``.
Setting a limit here (``engine.MAX_WORK = ...``) sets the one every route reads.
"""

from __future__ import annotations

import sys
from types import ModuleType

from convcalc.engine import budget
from convcalc.engine.budget import MAX_ELEMENTS, MAX_MATRIX_ELEMENTS, MAX_WORK, check_budget
from convcalc.engine.compare import max_abs, max_abs_error, random_tensors
from convcalc.engine.fast import run
from convcalc.engine.fast.run import (
    BINCOUNT_LIMIT,
    GATHER_LIMIT,
    conv,
    conv_transpose,
    conv_transpose_cropped,
)
from convcalc.engine.inputs import Array
from convcalc.engine.layer import layer_geometry, run_layer
from convcalc.engine.routes.adjoint import adjoint_identity, adjoint_identity_cropped
from convcalc.engine.routes.direct import DirectRun, direct_weight, transpose_direct, transpose_direct_run
from convcalc.engine.routes.matrix import conv_by_matrix, conv_matrix, conv_output_sizes, transpose_matrix
from convcalc.engine.routes.scatter import transpose_scatter

__all__ = [
    "BINCOUNT_LIMIT",
    "GATHER_LIMIT",
    "MAX_ELEMENTS",
    "MAX_MATRIX_ELEMENTS",
    "MAX_WORK",
    "Array",
    "DirectRun",
    "adjoint_identity",
    "adjoint_identity_cropped",
    "check_budget",
    "conv",
    "conv_by_matrix",
    "conv_matrix",
    "conv_output_sizes",
    "conv_transpose",
    "conv_transpose_cropped",
    "direct_weight",
    "layer_geometry",
    "max_abs",
    "max_abs_error",
    "random_tensors",
    "run_layer",
    "transpose_direct",
    "transpose_direct_run",
    "transpose_matrix",
    "transpose_scatter",
]


# Limits a caller (or a test) may set on the package, and the module whose code reads each of them.
_LIMITS: dict[str, ModuleType] = {
    **dict.fromkeys(budget.LIMITS, budget),
    "GATHER_LIMIT": run,
    "BINCOUNT_LIMIT": run,
}


class _Engine(ModuleType):
    """``convcalc.engine`` itself: a limit set on it (``engine.MAX_WORK = ...``) is the one its code reads."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LIMITS:
            setattr(_LIMITS[name], name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Engine
