"""A core ``Layer`` executed by the fast path or by any witness route, chosen by name.

Every transposed route takes the same canonical geometry (stride, dilation, crops, groups), so one
layer value runs through each of them unchanged; ``layer_geometry`` is that geometry, for a caller that
needs a route's own extra results (``transpose_direct_run``, ``adjoint_identity_cropped``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from convcalc.engine.fast.run import conv, conv_transpose_cropped
from convcalc.engine.inputs import Array, real_array
from convcalc.engine.routes.crops import crop
from convcalc.engine.routes.direct import transpose_direct
from convcalc.engine.routes.matrix import transpose_matrix
from convcalc.engine.routes.scatter import transpose_scatter
from convcalc.errors import ConvCalcError

if TYPE_CHECKING:
    from convcalc.core.layer import Layer

TRANSPOSED_ROUTES: dict[str, Callable[..., Array]] = {
    "fast": conv_transpose_cropped,
    "scatter": transpose_scatter,
    "direct": transpose_direct,
    "matrix": transpose_matrix,
}


def layer_geometry(layer: Layer) -> dict[str, Any]:
    """A transposed layer's keyword arguments for every transposed route: stride, dilation, crops, groups."""
    assert layer.transposed, "only a transposed layer has crops"
    return {
        "stride": list(layer.stride),
        "dilation": list(layer.dilation),
        "crops": list(layer.placement),
        "groups": layer.groups,
    }


def run_layer(layer: Layer, x: object, weight: object, *, bias: object = None, route: str = "fast") -> Array:
    """The layer's output for channels-first x and a PyTorch-layout weight, by ``route``.

    A transposed layer runs by "fast" (col2im), "scatter", "direct" or "matrix"; a convolution by the
    fast path; negative pads (JAX's) pad and crop the input first, as the engine's own padding is zeros.
    """
    if layer.transposed:
        if route not in TRANSPOSED_ROUTES:
            raise ConvCalcError(
                f"route must be one of {', '.join(TRANSPOSED_ROUTES)}; got {route!r}", parameter="route"
            )
        out = TRANSPOSED_ROUTES[route](x, weight, **layer_geometry(layer))
        if bias is not None:
            out = out + real_array("bias", bias).reshape(-1, *([1] * layer.ndim))
        return out
    if route != "fast":
        raise ConvCalcError(
            f"a convolution runs on the fast path only; got route={route!r}", parameter="route"
        )
    pads = list(layer.placement)
    if any(min(pair) < 0 for pair in pads):
        # Zeros first, then the crops: a crop may reach into the zeros of the other side (``crop``).
        x, pads = crop(real_array("x", x), [(-b, -a) for b, a in pads]), [(0, 0)] * layer.ndim
    return conv(
        x,
        weight,
        stride=list(layer.stride),
        padding=pads,
        dilation=list(layer.dilation),
        groups=layer.groups,
        bias=bias,
    )
