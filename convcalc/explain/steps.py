"""`convcalc explain`: the matrix view, the direct convolution step by step, where each number comes from.

Executed by the engine on small integer tensors (x = 1, 2, 3, ..., the kernel w = 1, 2, 3, ..., the
upstream gradient g = 1 everywhere, the simplest upstream gradient), so every value is an exact
integer in float64 and every check is an equality, not a tolerance. The results are plain Python
ints in frozen dataclasses: the renderers and the JSON never see numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np

from convcalc import engine
from convcalc.core import ConvAxis, ShapeReport, TransposedAxis
from convcalc.core.layer import Layer
from convcalc.errors import ConvCalcError
from convcalc.explain.results import (
    Contribution,
    Contributions,
    DirectSteps,
    Explanation,
    Grid,
    MatrixView,
    Section,
)
from convcalc.explain.svg import direct_cell_kinds
from convcalc.overlap import contributions

# What is printed: beyond these the section is refused with the largest size that is shown.
MAX_MATRIX_SIDE = 25
MAX_GRID_SIDE = 24
MAX_CONTRIBUTION_POSITIONS = 64
# The contributions are checked by running the twin on all its inputs: a handful of outputs may still
# gather from millions of inputs when a huge padding crops them away.
MAX_CONTRIBUTION_INPUTS = 4096
SECTIONS = ("matrix", "direct", "contributions", "overlap")


def _ints(array: Any) -> tuple[int, ...]:
    """Exact integers from a float64 array computed from integer data (all values far below 2**53)."""
    flat = np.asarray(array, dtype=np.float64).ravel()
    rounded = np.rint(flat)
    assert np.array_equal(rounded, flat), "integer inputs must give integer results"
    return tuple(int(v) for v in rounded)


def _grid(array: Any, kinds: tuple[str, ...] | None = None) -> Grid:
    spatial = np.asarray(array)
    spatial = spatial.reshape(spatial.shape[2:]) if spatial.ndim > 2 else spatial
    return Grid(tuple(spatial.shape), _ints(spatial), kinds)


def _largest(limit: int, ndim: int) -> str:
    side = int(limit ** (1 / ndim) + 1e-9)
    while (side + 1) ** ndim <= limit:
        side += 1
    return "x".join([str(side)] * ndim)


def _refuse(what: str, count: int, limit: int, ndim: int, unit: str) -> str:
    return (
        f"{what} is printed up to {limit} {unit} (for example {_largest(limit, ndim)}); this configuration "
        f"has {count}"
    )


def _pads(axes: Sequence[ConvAxis]) -> list[tuple[int, int]]:
    return [(a.pad_before, a.pad_after) for a in axes]


def _counting(shape: Sequence[int]) -> Any:
    """1, 2, 3, ... in the shape (1, 1, *shape): readable values whose products never collide by chance."""
    return np.arange(1, math.prod(shape) + 1, dtype=np.float64).reshape(1, 1, *shape)


def matrix_view(report: ShapeReport) -> MatrixView:
    """C from the engine's conv_matrix, checked against the engine's conv, conv_transpose and gradient."""
    conv_axes = report.conv
    sizes = tuple(a.size for a in conv_axes)
    strides = [a.stride for a in conv_axes]
    dilations = [a.dilation for a in conv_axes]
    x = _counting(sizes)
    w = _counting(report.params.kernel_size)
    c = engine.conv_matrix(sizes, w, stride=strides, padding=_pads(conv_axes), dilation=dilations)
    y = engine.conv(x, w, stride=strides, padding=_pads(conv_axes), dilation=dilations)
    # output_padding = r gives the transposed convolution back the convolution's input size.
    restore = [r.remainder for r in report.reversal]
    crops = [(a.pad_before, a.pad_after - r) for a, r in zip(conv_axes, restore)]
    transposed_y = engine.conv_transpose_cropped(y, w, stride=strides, dilation=dilations, crops=crops)
    g = np.ones_like(y)
    transposed_g = engine.conv_transpose_cropped(g, w, stride=strides, dilation=dilations, crops=crops)
    # The gradient by its definition, without C: d<g, conv(x)>/dx_j = <g, conv(e_j)> (conv is linear).
    n_inputs = math.prod(sizes)
    basis = np.eye(n_inputs).reshape(n_inputs, 1, *sizes)
    responses = engine.conv(basis, w, stride=strides, padding=_pads(conv_axes), dilation=dilations)
    gradient = (responses.reshape(n_inputs, -1) @ g.ravel()).reshape(sizes)
    out_shape = tuple(a.output for a in conv_axes)
    return MatrixView(
        matrix=tuple(_ints(row) for row in c),
        input_positions=tuple(product(*(range(n) for n in sizes))),
        output_positions=tuple(product(*(range(n) for n in out_shape))),
        x=_grid(x),
        weight=_grid(w),
        y=_grid(y),
        output_padding=tuple(restore),
        transposed_of_y=_grid(transposed_y),
        c_transpose_y=Grid(sizes, _ints(c.T @ y.ravel())),
        g=_grid(g),
        c_transpose_g=Grid(sizes, _ints(c.T @ g.ravel())),
        gradient=Grid(sizes, _ints(gradient)),
        conv_is_c_x=_ints(c @ x.ravel()) == _ints(y),
        transposed_is_c_transpose_y=_ints(c.T @ y.ravel()) == _ints(transposed_y),
        gradient_is_c_transpose_g=_ints(c.T @ g.ravel()) == _ints(gradient),
        transposed_of_g_is_gradient=_ints(transposed_g) == _ints(gradient),
    )


def _transposed_input(report: ShapeReport) -> tuple[Any, Any]:
    """The transposed convolution's input (y = conv(x) for the twin, 1, 2, 3, ... with -t) and w."""
    w = _counting(report.params.kernel_size)
    if report.transposed_input:
        return _counting([a.size for a in report.transposed]), w
    conv_axes = report.conv
    x = _counting([a.size for a in conv_axes])
    y = engine.conv(
        x,
        w,
        stride=[a.stride for a in conv_axes],
        padding=_pads(conv_axes),
        dilation=[a.dilation for a in conv_axes],
    )
    return y, w


def _canonical(axes: Sequence[TransposedAxis]) -> dict[str, Any]:
    return engine.layer_geometry(Layer.of(axes))


def direct_steps(report: ShapeReport) -> DirectSteps:
    """Stretch, pad (the core's direct_form numbers), flip, convolve with stride 1; compare, and unflipped."""
    axes, direct = report.transposed, report.direct
    y, w = _transposed_input(report)
    values = np.asarray(y).reshape(y.shape[2:])
    kinds_per_axis = [direct_cell_kinds(d, a.stride) for d, a in zip(direct, axes)]
    stretched_shape = tuple(d.stretched for d in direct)
    stretched = np.zeros(stretched_shape)
    stretched[tuple(slice(None, None, a.stride) for a in axes)] = values
    stretched_kinds = tuple(
        "input" if all(q % a.stride == 0 for q, a in zip(position, axes)) else "zero"
        for position in product(*(range(n) for n in stretched_shape))
    )
    # Padding p' on each side; a negative p' crops the stretched input instead.
    padded = np.pad(stretched, [(max(d.pad_before, 0), max(d.pad_after, 0)) for d in direct])
    padded = padded[
        tuple(
            slice(max(-d.pad_before, 0), padded.shape[n] - max(-d.pad_after, 0)) for n, d in enumerate(direct)
        )
    ]
    padded_kinds = tuple(
        _cell_kind([kinds_per_axis[n][q] for n, q in enumerate(position)])
        for position in product(*(range(n) for n in padded.shape))
    )
    flipped = np.flip(w, axis=tuple(range(2, w.ndim)))
    dilation = [a.dilation for a in axes]
    batch = padded.reshape(1, 1, *padded.shape)
    output = engine.conv(batch, flipped, stride=1, padding=0, dilation=dilation)
    unflipped = engine.conv(batch, w, stride=1, padding=0, dilation=dilation)
    transposed = engine.conv_transpose_cropped(y, w, **_canonical(axes))
    run = engine.transpose_direct_run(y, w, **_canonical(axes))
    return DirectSteps(
        axes=direct,
        input=_grid(values),
        stretched=Grid(stretched_shape, _ints(stretched), stretched_kinds),
        padded=Grid(tuple(padded.shape), _ints(padded), padded_kinds),
        kernel=_grid(w),
        flipped=_grid(flipped),
        output=_grid(output),
        transposed=_grid(transposed),
        unflipped=_grid(unflipped),
        engine_sizes_match=(
            tuple(run.stretched) == stretched_shape and tuple(run.padded) == tuple(padded.shape)
        ),
    )


def _cell_kind(kinds: Sequence[str]) -> str:
    """A cell is padding if any axis pads there, an input only where every axis holds an input."""
    if "pad" in kinds:
        return "pad"
    return "input" if all(k == "input" for k in kinds) else "zero"


def contribution_list(report: ShapeReport) -> Contributions:
    """Per output position, the (input, tap) pairs from the core (gathered), summed in Python ints."""
    axes = report.transposed
    y, w = _transposed_input(report)
    y_grid, w_grid = _grid(y), _grid(w)
    y_values = dict(zip(y_grid.positions, y_grid.values))
    w_values = dict(zip(w_grid.positions, w_grid.values))
    per_axis = [contributions(a) for a in axes]
    items = []
    for position in product(*(range(a.output) for a in axes)):
        pairs = tuple(
            (tuple(p[0] for p in combo), tuple(p[1] for p in combo))
            for combo in product(*(per_axis[n][j] for n, j in enumerate(position)))
        )
        terms = tuple((y_values[u], w_values[t]) for u, t in pairs)
        items.append(Contribution(position, pairs, terms, sum(a * b for a, b in terms)))
    return Contributions(tuple(items), _grid(engine.conv_transpose_cropped(y, w, **_canonical(axes))))


def empty_twin(report: ShapeReport) -> str:
    """Why the sections about the transposed twin cannot be shown: its output is empty."""
    sizes = "x".join(str(a.output) for a in report.transposed)
    return (
        f"the transposed twin of this convolution has output size {sizes}: the convolution's padding "
        "reaches past its last window, so the twin with the same padding crops everything (the matrix "
        "view uses output_padding = r, which gives the input size back)"
    )


def explain(report: ShapeReport, sections: Sequence[str] = SECTIONS, strict: bool = False) -> Explanation:
    """Build the requested sections that fit; the others carry their refusal (an error when ``strict``)."""
    ndim = report.ndim
    inputs = math.prod(a.size for a in report.conv)
    outputs = math.prod(a.output for a in report.conv)
    padded_sides = [d.stretched + max(d.pad_before, 0) + max(d.pad_after, 0) for d in report.direct]
    t_outputs = math.prod(a.output for a in report.transposed)

    def build(name: str, refusal: str | None, make: Any) -> Section[Any]:
        if name not in sections:
            return Section(name, None, None)
        if refusal is not None:
            if strict:
                raise ConvCalcError(refusal, parameter="size")
            return Section(name, None, refusal)
        return Section(name, make(report), None)

    matrix_refusal = None
    if max(inputs, outputs) > MAX_MATRIX_SIDE:
        matrix_refusal = _refuse(
            "the matrix view (rows = output positions, columns = input positions)",
            max(inputs, outputs),
            MAX_MATRIX_SIDE,
            ndim,
            "positions on a side",
        )
    direct_refusal = None
    empty = [n for n, a in enumerate(report.transposed) if a.output < 1]
    if empty:
        direct_refusal = empty_twin(report)
    elif ndim > 2:
        direct_refusal = f"the direct convolution is drawn step by step for 1-D and 2-D; got {ndim} axes"
    elif max(padded_sides) > MAX_GRID_SIDE:
        direct_refusal = (
            f"the direct convolution is drawn step by step up to {MAX_GRID_SIDE} cells per axis of the "
            f"zero-inserted, padded input; this configuration has {'x'.join(map(str, padded_sides))}"
        )
    contribution_refusal = empty_twin(report) if empty else None
    if not empty and t_outputs > MAX_CONTRIBUTION_POSITIONS:
        contribution_refusal = _refuse(
            "the list of contributions", t_outputs, MAX_CONTRIBUTION_POSITIONS, ndim, "output positions"
        )
    t_inputs = math.prod(a.size for a in report.transposed)
    if contribution_refusal is None and t_inputs > MAX_CONTRIBUTION_INPUTS:
        contribution_refusal = (
            f"the list of contributions is checked by running the transposed twin on its {t_inputs:,} "
            f"input positions; it runs on at most {MAX_CONTRIBUTION_INPUTS:,}"
        )
    return Explanation(
        report,
        build("matrix", matrix_refusal, matrix_view),
        build("direct", direct_refusal, direct_steps),
        build("contributions", contribution_refusal, contribution_list),
    )
