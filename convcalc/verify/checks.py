"""`convcalc verify`: every claim of the core, executed on seeded random tensors.

Each check compares what the core predicts (sizes, the direct form's numbers) or what one route
computes with what an independent route or identity gives. The engine does the arithmetic; this
module only decides what to compare (``verdict`` decides whether it agrees), so it never
imports numpy itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from convcalc import engine
from convcalc.conventions.base import FrameworkLayer
from convcalc.core import ConvAxis, DirectAxis, ShapeReport, TransposedAxis, direct_form, shape_report
from convcalc.core.layer import Layer
from convcalc.errors import BudgetExceeded, ConvCalcError
from convcalc.verdict import (
    Check,
    VerifyReport,
    route_check,
    scalar_check,
    shape_check,
    skipped_check,
)
from convcalc.verify.plan import Plan, transposed_routes

if TYPE_CHECKING:
    from convcalc.engine import Array

BATCH = 2
# Channels when the user gives none: different counts, so that a swapped channel axis shows.
DEFAULT_IN_CHANNELS = 2
DEFAULT_OUT_CHANNELS = 3


def _route_check(name: str, expected: Sequence[int], got: Array, reference: Array | None) -> Check:
    """The core's shape, and (against a reference) the agreement rule of ``verdict``."""
    if reference is None:
        return shape_check(name, expected, got.shape)
    return route_check(
        name, expected, got.shape, engine.max_abs_error(got, reference), engine.max_abs(reference)
    )


def _matrix_route(call: Callable[[], Array]) -> Array | ConvCalcError:
    """The dense route within its own budget; past it the check is skipped, not failed."""
    try:
        return call()
    except ConvCalcError as error:
        if not (isinstance(error, BudgetExceeded) and error.budget == "MAX_MATRIX_ELEMENTS"):
            raise
        return error


def verify_layer(
    size: Any,
    kernel_size: Any,
    *,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    transposed: bool = False,
    in_channels: int | None = None,
    out_channels: int | None = None,
    groups: int = 1,
    seed: int = 0,
) -> VerifyReport:
    """Execute the layer of ``shape_report`` by every route on seeded float64 tensors; return the checks.

    The convolution runs on its input W and the transposed twin on its input i (the convolution's
    output, or the user's size with ``transposed``). The convolution's weight (C_out, C_in/g, *k) is
    also the twin's weight, as in PyTorch.
    """
    _check_seed(seed)
    report = shape_report(
        size,
        kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        transposed=transposed,
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
    )
    c_in, c_out, g = channels_of(report)
    params = report.params
    conv_in = [a.size for a in report.conv]
    conv_out = [a.output for a in report.conv]
    pads = [(a.pad_before, a.pad_after) for a in report.conv]
    t_in = [a.size for a in report.transposed]
    remainders = [r.remainder for r in report.reversal]
    kernel = list(params.kernel_size)
    # The whole plan, every route's arrays and work, counted from the core's sizes before any runs.
    layer_plan(report).check()
    x, y_twin, y_conv, w = engine.random_tensors(
        seed,
        (BATCH, c_in, *conv_in),
        (BATCH, c_out, *t_in),
        (BATCH, c_out, *conv_out),
        (c_out, c_in // g, *kernel),
    )
    geometry: dict[str, Any] = {"stride": params.stride, "dilation": params.dilation, "groups": g}
    checks: list[Check] = []

    # The convolution: the core's size, and im2col against the dense matrix; then the twin.
    forward = engine.conv(x, w, padding=params.padding, **geometry)
    conv_shape = [BATCH, c_out, *conv_out]
    checks.append(_route_check("convolution: im2col", conv_shape, forward, None))
    by_matrix = _matrix_route(lambda: engine.conv_by_matrix(x, w, padding=pads, **geometry))
    if isinstance(by_matrix, ConvCalcError):
        checks.append(skipped_check("convolution: matrix C x", str(by_matrix)))
    else:
        checks.append(_route_check("convolution: matrix C x", conv_shape, by_matrix, forward))

    checks += _transposed_checks(
        y_twin,
        w,
        report.transposed,
        report.direct,
        geometry,
        pytorch={"padding": pads, "output_padding": params.output_padding},
    )

    # The adjoint identity, and the round trip conv -> transposed conv with output_padding = r.
    left, right = engine.adjoint_identity(x, y_conv, w, padding=pads, output_padding=remainders, **geometry)
    checks.append(_adjoint_check(left, right))
    back = engine.conv_transpose(forward, w, padding=pads, output_padding=remainders, **geometry)
    checks.append(shape_check("round trip with output_padding = r restores W", conv_in, back.shape[2:]))

    return VerifyReport(report, None, seed, BATCH, c_in, c_out, g, tuple(checks))


def _transposed_checks(
    y: Array,
    w: Array,
    axes: Sequence[TransposedAxis],
    forms: Sequence[DirectAxis],
    geometry: dict[str, Any],
    pytorch: dict[str, Any] | None,
) -> list[Check]:
    """Every route of the transposed convolution against the scatter route (the definition), and the
    direct form's numbers (as `shape` prints them) against the arrays the direct route really built."""
    c_in = w.shape[1] * geometry["groups"]
    expected = [y.shape[0], c_in, *(a.output for a in axes)]
    # Every route takes the same canonical layer; each is looked up on the engine when it runs.
    canonical = engine.layer_geometry(Layer.of(axes, groups=geometry["groups"]))
    scatter = engine.transpose_scatter(y, w, **canonical)
    direct = engine.transpose_direct_run(y, w, **canonical)
    routes: dict[str, Array | ConvCalcError] = {
        "engine (col2im)": engine.conv_transpose_cropped(y, w, **canonical),
    }
    if pytorch is not None:
        routes["PyTorch arguments"] = engine.conv_transpose(y, w, **pytorch, **geometry)
    routes["direct convolution"] = direct.output
    routes["matrix C^T y"] = _matrix_route(lambda: engine.transpose_matrix(y, w, **canonical))
    checks = [_route_check("transposed: scatter (definition)", expected, scatter, None)]
    for route, result in routes.items():
        name = f"transposed: {route}"
        if isinstance(result, ConvCalcError):
            checks.append(skipped_check(name, str(result)))
        else:
            checks.append(_route_check(name, expected, result, scatter))
    checks.append(
        shape_check("direct form: stretched (i-1)s+1", [d.stretched for d in forms], direct.stretched)
    )
    checks.append(
        shape_check(
            "direct form: re-padded size",
            [d.stretched + d.pad_before + d.pad_after for d in forms],
            direct.padded,
        )
    )
    checks.append(shape_check("direct form: output", [d.output for d in forms], direct.output.shape[2:]))
    return checks


def channels_of(report: ShapeReport) -> tuple[int, int, int]:
    """The convolution's in and out channels and groups that ``verify_layer`` runs with."""
    if report.channels is None:
        return DEFAULT_IN_CHANNELS, DEFAULT_OUT_CHANNELS, 1
    return report.channels.in_channels, report.channels.out_channels, report.channels.groups


def layer_plan(report: ShapeReport) -> Plan:
    """Every array and multiply-accumulate of ``verify_layer``, from the report's sizes."""
    c_in, c_out, groups = channels_of(report)
    plan = Plan()
    conv, twin = report.conv, report.transposed
    plan.add("input x", BATCH, c_in, *(a.size for a in conv))
    plan.add("twin input y", BATCH, c_out, *(a.size for a in twin))
    plan.add("gradient y", BATCH, c_out, *(a.output for a in conv))
    plan.add("weight", c_out, c_in // groups, *(a.kernel_size for a in conv))
    plan.conv("convolution", BATCH, c_in, c_out, groups, conv)
    rows, cols = c_out * math.prod(a.output for a in conv), c_in * math.prod(a.size for a in conv)
    plan.matrix("convolution matrix route", BATCH, rows, cols, engine.MAX_MATRIX_ELEMENTS)
    transposed_routes(
        plan, BATCH, c_out, c_in, groups, twin, report.direct, engine.MAX_MATRIX_ELEMENTS, pytorch=True
    )
    # The adjoint identity and the round trip: the convolution again, and twice the transposed
    # convolution of its output with output_padding = r, which gives back W.
    back = [
        TransposedAxis(a.output, a.kernel_size, a.stride, a.dilation, a.pad_before, a.pad_after - r.remainder)
        for a, r in zip(conv, report.reversal)
    ]
    plan.conv("adjoint: convolution", BATCH, c_in, c_out, groups, conv)
    plan.transposed("adjoint: transposed convolution", BATCH, c_out, c_in, groups, back)
    plan.transposed("round trip", BATCH, c_out, c_in, groups, back)
    return plan


def framework_plan(axes: Sequence[TransposedAxis], forms: Sequence[DirectAxis]) -> Plan:
    """Every array and multiply-accumulate of a transposed layer in ``verify_framework``."""
    plan = Plan()
    c_in, c_out = DEFAULT_OUT_CHANNELS, DEFAULT_IN_CHANNELS
    plan.add("input y", BATCH, c_in, *(a.size for a in axes))
    plan.add("gradient z", BATCH, c_out, *(a.output for a in axes))
    transposed_routes(plan, BATCH, c_in, c_out, 1, axes, forms, engine.MAX_MATRIX_ELEMENTS, pytorch=False)
    plan.transposed("adjoint: transposed convolution", BATCH, c_in, c_out, 1, axes)
    kept = [a.full - max(a.crop_before, 0) - max(a.crop_after, 0) for a in axes]
    if min(kept) >= 1:
        adjoint = [
            ConvAxis(n, a.kernel_size, a.stride, a.dilation, max(a.crop_before, 0), max(a.crop_after, 0))
            for n, a in zip(kept, axes)
        ]
        plan.conv("adjoint: convolution", BATCH, c_out, c_in, 1, adjoint)
    return plan


def _adjoint_check(left: float, right: float) -> Check:
    return scalar_check("adjoint: <conv x, y> = <x, conv_transpose y>", left, right)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConvCalcError(f"seed must be an integer from 0 to 2**63 - 1; got {seed!r}", parameter="seed")
    return seed


def _without_negative_pads(axis: ConvAxis) -> tuple[int, tuple[int, int]]:
    """The same convolution with pads >= 0: a negative pad (JAX, Flax) crops the padded input.

    JAX pads ``zeros(pb) + x + zeros(pa)`` and a negative side removes elements from that end, reaching
    into the other side's zeros once the input is used up. Returns the input size left and the pads.
    """
    before, after = max(-axis.pad_before, 0), max(-axis.pad_after, 0)
    left = axis.size - before - after
    if left < 1:
        raise ConvCalcError(
            f"cannot verify by execution: the negative padding ({axis.pad_before}, {axis.pad_after}) "
            f"removes every one of the {axis.size} input elements on an axis, so the output is padding "
            "zeros only",
            parameter="padding",
        )
    return left, (max(axis.pad_before, 0), max(axis.pad_after, 0))


def verify_framework(framework: str, *, seed: int = 0, **arguments: Any) -> VerifyReport:
    """Verify a layer given in one framework's arguments (``convcalc.conventions.read``).

    A convolution is verified like ``verify_layer`` with its resolved padding; a transposed convolution
    through its canonical crops (which PyTorch's arguments may not express), by every route, the
    direct form and the adjoint identity. Values are computed in PyTorch's weight layout.
    """
    from convcalc.conventions import read

    _check_seed(seed)
    return verify_framework_layer(read(framework, **arguments), seed=seed)


def verify_framework_layer(layer: FrameworkLayer, *, seed: int = 0) -> VerifyReport:
    """``verify_framework`` for a layer already read by its framework's convention."""
    _check_seed(seed)
    if not layer.is_transposed:
        sizes, pads = zip(*(_without_negative_pads(a) for a in layer.conv))
        result = verify_layer(
            list(sizes),
            list(layer.args.kernel_size),
            stride=list(layer.args.stride),
            padding=list(pads),
            # The canonical axes, not the arguments: Paddle's 'SAME' runs with dilation 1.
            dilation=[a.dilation for a in layer.conv],
            seed=seed,
        )
        assert result.report is not None
        claimed = shape_check(
            f"{layer.framework} output size", list(layer.output), [a.output for a in result.report.conv]
        )
        return replace(result, layer=layer, checks=(claimed, *result.checks))
    axes = layer.transposed
    forms = [direct_form(a) for a in axes]
    framework_plan(axes, forms).check()
    # The transposed layer maps DEFAULT_OUT_CHANNELS -> DEFAULT_IN_CHANNELS, as the twin in verify_layer.
    y, z, w = engine.random_tensors(
        seed,
        (BATCH, DEFAULT_OUT_CHANNELS, *(a.size for a in axes)),
        (BATCH, DEFAULT_IN_CHANNELS, *(a.output for a in axes)),
        (DEFAULT_OUT_CHANNELS, DEFAULT_IN_CHANNELS, *layer.args.kernel_size),
    )
    geometry: dict[str, Any] = {
        "stride": [a.stride for a in axes],
        "dilation": [a.dilation for a in axes],
        "groups": 1,
    }
    checks = _transposed_checks(y, w, axes, forms, geometry, pytorch=None)
    executed = checks[0].got  # the scatter route's shape (N, C, *spatial)
    assert isinstance(executed, list)
    checks.insert(0, shape_check(f"{layer.framework} output size", list(layer.output), executed[2:]))
    # Here the transposed convolution is the operator and the convolution its adjoint.
    forward, backward = engine.adjoint_identity_cropped(y, z, w, **engine.layer_geometry(layer.layer))
    checks.append(_adjoint_check(backward, forward))
    return VerifyReport(None, layer, seed, BATCH, DEFAULT_OUT_CHANNELS, DEFAULT_IN_CHANNELS, 1, tuple(checks))
