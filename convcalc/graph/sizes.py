"""Input sizes a whole graph accepts, per spatial axis: exact congruence classes, as `chain` finds them.

Every size in a graph is a periodic affine (quasi-affine) function of an input size i: on each class
i = start + q*P, size = a*q + b. That family is closed under +, -, multiplication by a constant, floor
and ceiling division, remainders, min and max (past a crossing), so convolution and pooling arithmetic,
resize, pad, reshape and the shape arithmetic an exporter writes (``values``) all stay in it. The
period: every op divides by what ``Run.divisors`` lists (strides, integer divisions, scale
denominators), so sizes repeat over S, the lcm over tensors of the products along their paths
(``Run.step``); two runs S apart give every size's exact gain
(its change per unit of input), and P is the lcm of the gains' denominators (with a remainder's
divisor). Along a class three runs (q = 0, 1, 2) give every size's slope and offset (``Formula``) and
check that they are affine; a graph of layers alone (``_plain``: no shape arithmetic, fixed specs) needs
two, its first member and one FAR periods on, where every crossing is past: each size's change must
then be a multiple of FAR (``_line``); and a graph of such layers whose arithmetic has no crossing
past its first sizes (explicit-pad convolutions and poolings, transposed convolutions, resizes by
scales, concatenations: ``_slopes``) needs one, its first member, every size's slope per period coming
from the layers' arithmetic (a stride s divides a, so floor((a*q + b + c)/s) = (a/s)*q + floor((b +
c)/s)) once no pooling window was truncated into existence (``_sloped_line``). Every merge's
disagreement is then affine in q, and
``convcalc.periodic.class_members`` (chain's too) says whether the class agrees for every q, for one q
(checked by one more run), or for none. The sizes that run are those classes; the sizes that drop
nothing are the classes where no window leaves an input unread as well. A class whose first members
lie before its affine part (a min/max not yet past its crossing) has those members checked one by one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING, NamedTuple

from convcalc.graph.finite import finite_sizes
from convcalc.graph.gains import gain_denominators
from convcalc.graph.model import (
    CHANNELS_FIRST,
    MERGE_KINDS,
    ConcatSpec,
    ConvSpec,
    DenseSpec,
    Graph,
    PadSpec,
    PoolSpec,
    RecurrentSpec,
    ResizeSpec,
)
from convcalc.graph.shapes import Failure, NodeRun, Run, Shape, drops_on, propagate, spatial_axes
from convcalc.periodic import Accepted, class_members, reduce_period, smallest

if TYPE_CHECKING:
    from convcalc.graph.formulas import Formula

MAX_PERIOD = 4096
# Runs of the graph times its nodes: the accepted sizes of one axis are worked out within this budget.
MAX_WORK = 150_000
MAX_INPUT = 2**24
# The product of the divisors (the step of the runs that read the gains) is kept below this.
MAX_STEP = 2**40
# A class's affine part is looked for from its first member on, and up to this many periods later.
MAX_SHIFT = 4
# the classes tried in turn for the gains when the smallest size's class runs at its first members alone
MAX_BASES = 16
# Sizes tried one by one past the layers' minimum when a re-executed model refuses a merge there.
MAX_SCAN = 256


@dataclass(frozen=True)
class AxisSizes:
    """What one spatial axis of the first input accepts, the other axes held at their given sizes:
    ``accepted`` the sizes that run with nothing dropped, ``runs`` the sizes that run (every merge
    agrees, no layer refuses), ``formulas`` every tensor's sizes as functions of this axis's size,
    ``tiles`` the sizes that run with nothing dropped whether or not the merges agree (chain's "no input
    dropped")."""

    tensor_axis: int
    spatial_axis: int
    minimum: int | None
    accepted: Accepted | None
    note: str | None = None
    runs: Accepted | None = None
    formulas: dict[str, tuple[Formula | None, ...]] = field(default_factory=dict, compare=False)
    tiles: Accepted | None = None


def run_graph(graph: Graph, shapes: tuple[Shape, ...]) -> Run:
    """The graph run at these input shapes; a graph with ``rebuild`` (its specs depend on the input
    size) is rebuilt at them first, and shapes that stop there count as a failure (the reader stops
    shapes where the model refuses the input)."""
    if graph.rebuild is None:
        return propagate(graph, shapes)
    rebuilt = graph.rebuild(shapes)
    run = propagate(rebuilt, shapes)
    if run.failure is None and run.stopped:
        node = run.stopped[0]
        return replace(run, failure=Failure(-1, node, f"shapes stop at {node.name} ({node.op})"))
    if run.failure is None and rebuilt.refused_at is not None:
        # the model stops at that node for this input: a run that ends there is no run of the model
        node = next(n for n in rebuilt.nodes if n.name == rebuilt.refused_at)
        return replace(run, failure=Failure(-1, node, f"the model refuses this input at {node.name}"))
    return run


def _with(shapes: tuple[Shape, ...], tensor_axis: int, size: int) -> tuple[Shape, ...]:
    first = list(shapes[0])
    first[tensor_axis] = size
    return (tuple(first), *shapes[1:])


# A gap: (node index, operand, tensor axis) -> the difference that must be 0 for the model to run.
Gaps = dict[tuple[int, int, int], int]
# The kinds whose operands or weight must agree with their input (besides any node with a mismatch).
_GAP_KINDS = frozenset({"concat", "elementwise", "matmul", "dense"})


def _gaps(run: Run) -> Gaps:
    """Every disagreement as a number that must be 0: merge operands on every axis they must agree on,
    a weight's features, a matmul's inner sizes, a reshape's element count."""
    gaps: Gaps = {}
    for node_run in run.nodes:
        found = node_run.gaps
        if found is None:
            found = node_run.gaps = tuple(_node_gaps(node_run).items())
        if found:
            gaps.update(found)
    return gaps


def _node_gaps(node_run: NodeRun) -> Gaps:
    """One node run's disagreements (``_gaps``), kept on the node run: a run shares it with every run
    at the same input shapes."""
    gaps: Gaps = {}
    node = node_run.node
    if node.kind not in _GAP_KINDS and node_run.mismatch is None and not isinstance(node.spec, RecurrentSpec):
        return gaps  # most nodes: nothing that must agree
    ins = node_run.inputs
    key = node_run.index
    if node.kind == "concat" and isinstance(node.spec, ConcatSpec):
        axis = node.spec.axis % len(ins[0]) if ins[0] else 0
        for k, shape in enumerate(ins[1:], 1):
            for n in range(min(len(shape), len(ins[0]))):
                if n != axis:
                    gaps[(key, k, n)] = shape[n] - ins[0][n]
    elif node.kind == "elementwise":
        rank = max(len(s) for s in ins)
        for n in range(rank):
            dims = [s[n - rank + len(s)] for s in ins if n - rank + len(s) >= 0]
            big = [d for d in dims if d != 1]
            for k, d in enumerate(big[1:], 1):
                gaps[(key, k, n)] = d - big[0]
    elif node.kind == "matmul" and len(ins) == 2 and ins[0] and ins[1]:
        inner = ins[1][-2] if len(ins[1]) > 1 else ins[1][0]
        gaps[(key, 1, -1)] = ins[0][-1] - inner
    elif node.kind == "dense" and isinstance(node.spec, DenseSpec):
        gaps[(key, 0, -1)] = ins[0][-1] - node.spec.in_features
    elif isinstance(node.spec, RecurrentSpec):
        gaps[(key, 0, -1)] = ins[0][-1] - node.spec.input_size
    elif node_run.mismatch is not None:
        gaps[(key, 0, -2)] = 1  # a disagreement that does not follow the size (channels, a reshape)
    return gaps


def _affine(runs: list[Run]) -> bool:
    """Every tensor's shape and every gap moves by the same step from q=0 to 1 as from 1 to 2."""
    a, b, c = runs
    if set(a.shapes) != set(b.shapes) or set(b.shapes) != set(c.shapes):
        return False
    for name, shape in a.shapes.items():
        if len(shape) != len(b.shapes[name]) or len(shape) != len(c.shapes[name]):
            return False
        if any(z - y != y - x for x, y, z in zip(shape, b.shapes[name], c.shapes[name])):
            return False
    ga, gb, gc = _gaps(a), _gaps(b), _gaps(c)
    return set(ga) == set(gb) == set(gc) and all(gc[k] - gb[k] == gb[k] - ga[k] for k in ga)


def _runs_cleanly(run: Run, varying: set[tuple[int, int, int]]) -> bool:
    """No refusal, nothing stopped, and every gap that follows the analysed size is 0."""
    return (
        run.failure is None and not run.stopped and not any(v for k, v in _gaps(run).items() if k in varying)
    )


# How far along a class its second run lies, in periods, when the graph is plain (``_plain``): so far
# that every min / max / clamp of the size arithmetic is past its crossing, so that one run there and
# the class's first member give every size's exact slope, and a size that is not affine along the
# class (a crossing anywhere between) shows as a difference that is not a multiple of this.
FAR = 2**40


class _Line(NamedTuple):
    """A class read as lines: the run at its first member, a later run ``periods`` periods on, every
    size of every tensor at the first member (``sizes``, the tensors in the run's order) with its change
    per period (``slopes``), and every gap with its change per period."""

    first: Run
    later: Run
    periods: int
    sizes: list[int]
    slopes: list[int]
    gaps: Gaps
    gap_slopes: Gaps


# A class whose runs fail (a layer refuses a member, or shapes stop): no line, and not "not affine".
_FAILS = _Line(Run((), {}, (), None, ()), Run((), {}, (), None, ()), 0, [], [], {}, {})


def _plain(graph: Graph) -> bool:
    """Whether the graph's sizes are read by two runs a class (``FAR``): a graph of layers only, its
    specs fixed (no shape arithmetic, no run-time operands, no op known only by its declared shape, not
    rebuilt per size), so that a run far along a class is the same model at a larger size."""
    return graph.rebuild is None and all(
        node.kind not in ("value", "unknown") and not node.operands for node in graph.nodes
    )


def _flat(shapes: Iterable[Shape]) -> list[int]:
    return list(itertools.chain.from_iterable(shapes))


def _line(run_at: Callable[[int], Run], base: int, shift: int, period: int, far: bool) -> _Line | None:
    """The class ``base + period*q`` read as lines from q = ``shift`` on, or None where its sizes are not
    affine there, or ``_FAILS`` where a run fails. A plain graph: runs at q = shift and q = FAR (the
    same far run for every shift), every difference a multiple of FAR - shift. Otherwise: runs at
    q = shift, shift + 1, shift + 2, every size and gap moving by the same step twice."""
    begin = base + shift * period
    if far:
        runs = [run_at(begin), run_at(base + FAR * period)]
    else:
        runs = [run_at(begin + q * period) for q in range(3)]
    if any(run.failure is not None or run.stopped for run in runs):
        return _FAILS
    if not far and not _affine(runs):
        return None
    periods = FAR - shift if far else 1
    a, b = runs[0], runs[1]
    if a.shapes.keys() != b.shapes.keys():
        return None
    # every size of every tensor in one list per run (the same tensors in the same order: both runs ran
    # every node), so the differences are taken in one pass
    shapes = [b.shapes[name] for name in a.shapes]
    if [len(x) for x in a.shapes.values()] != [len(y) for y in shapes]:
        return None
    sizes = _flat(a.shapes.values())
    moves = [y - x for x, y in zip(sizes, _flat(shapes))]
    if periods != 1:
        if any(map(periods.__rmod__, moves)):  # a move that is no multiple of the distance
            return None
        moves = [move // periods for move in moves]
    ga, gb = _gaps(a), _gaps(b)
    if set(ga) != set(gb) or any((gb[k] - ga[k]) % periods for k in ga):
        return None
    return _Line(a, b, periods, sizes, moves, ga, {k: (gb[k] - ga[k]) // periods for k in ga})


# A graph of layers whose size arithmetic is floor-affine with no crossing past its first size (``_slopes``):
# convolutions and poolings with explicit pads, transposed convolutions without a fixed output size,
# resizes by scales, concatenations and shape-preserving ops.
Slopes = dict[str, tuple[int, ...]]


def _slopes(graph: Graph, run: Run, tensor_axis: int, period: int) -> Slopes | None:
    """Every tensor's change per period along any class of the analysed axis, from the layers' arithmetic,
    or None where a node is not one of those above (its class is then read from a run far along it).

    On a class i = start + period*q each size is a*q + b, and the period is a multiple of every stride
    product along a path, so a stride s divides a and floor((a*q + b + c)/s) = (a/s)*q + floor((b + c)/s)
    exactly: a convolution's or a pooling's output moves by a/s per period, a transposed one's by a*s, a
    resize's by a*scale (an integer: the period holds the scale's denominator), a concatenation's by the
    sum of its operands' on its axis. With explicit pads no layer's arithmetic depends on the size beyond
    that floor, except a pooling whose last window ONNX Runtime truncates (``_past_crossings``). ``run``
    gives each tensor's rank."""
    if not _plain(graph) or not graph.inputs:
        return None
    slopes: Slopes = {name: (0,) * len(shape) for name, shape in run.shapes.items()}
    first = graph.inputs[0].name
    moving = [0] * len(run.shapes[first])
    moving[tensor_axis] = period
    slopes[first] = tuple(moving)
    for node in graph.nodes:
        spec = node.spec
        x = slopes.get(node.inputs[0]) if node.inputs else None
        if x is None:
            return None
        out = list(x)
        if node.kind == "shape_preserving":
            pass
        elif isinstance(spec, (ConvSpec, PoolSpec)) and node.kind in ("conv", "conv_transpose", "pool"):
            axes = spatial_axes(node.layout, len(x))
            fixed = isinstance(spec, PoolSpec) or spec.output_size is None
            if isinstance(spec.padding, str) or len(axes) != len(spec.stride) or not fixed:
                return None
            for a, s in zip(axes, spec.stride):
                if node.kind == "conv_transpose":
                    out[a] = x[a] * s
                elif x[a] % s:
                    return None
                else:
                    out[a] = x[a] // s
            if isinstance(spec, ConvSpec):
                out[1 if node.layout == CHANNELS_FIRST else len(x) - 1] = 0
        elif isinstance(spec, ConcatSpec):
            operands = [slopes.get(name) for name in node.inputs]
            if any(o is None or len(o) != len(x) for o in operands) or not x:
                return None
            axis = spec.axis % len(x)
            out[axis] = sum(o[axis] for o in operands if o is not None)
        elif isinstance(spec, ResizeSpec) and spec.sizes is None and spec.scales is not None:
            if len(spec.scales) != len(x):
                return None
            for n, scale in enumerate(spec.scales):
                moved = x[n] * Fraction(scale)
                if moved.denominator != 1:
                    return None
                out[n] = int(moved)
        elif node.kind == "global_pool":
            for a in spatial_axes(node.layout, len(x)):
                out[a] = 0
        else:
            return None
        for name in node.outputs:
            slopes[name] = tuple(out)
    return slopes


class _Layers(NamedTuple):
    """What a graph with ``_slopes`` reads each class with: every tensor's slope per period, the
    poolings whose windows may be truncated (by node index: a run that ran every node holds its node runs
    in the graph's order), and, filled in as asked, the slopes in the runs' tensor order (the constants,
    the inputs, then each node's outputs) and each merge gap's slope."""

    slopes: Slopes
    pools: tuple[int, ...]
    moves: list[list[int]]
    gap_slopes: Gaps


def _layers(graph: Graph, slopes: Slopes) -> _Layers:
    pools = tuple(
        index
        for index, node in enumerate(graph.nodes)
        if isinstance(node.spec, PoolSpec)
        and not node.spec.ceil_mode
        and not isinstance(node.spec.padding, str)
    )
    return _Layers(slopes, pools, [], {})


def _past_crossings(run: Run, layers: _Layers) -> bool:
    """Whether no pooling in the run had a window truncated into existence on an axis that moves along
    the class (ONNX Runtime divides a negative span toward zero: one window where the floor gives none,
    the window padded out at the end); such a pooling's size is not affine from here on. A ceil_mode
    pooling's padded end repeats with the size's residue, so it is; an axis that does not move keeps
    its windows."""
    for index in layers.pools:
        node_run = run.nodes[index]
        node = node_run.node
        spec = node.spec
        assert isinstance(spec, PoolSpec) and not isinstance(spec.padding, str)
        moving = layers.slopes[node.inputs[0]]
        axes = spatial_axes(node.layout, len(moving))
        for a, window, (_, after) in zip(axes, node_run.windows, spec.padding):
            if moving[a] and window.pad_after != after:
                return False
    return True


def _sloped_line(first: Run, graph: Graph, layers: _Layers, sizes_too: bool) -> _Line | None:
    """``_line`` for a graph with ``_slopes``: the class read from its first member alone, every size moving
    by its slope per period (exact once no pooling is truncated, ``_past_crossings``); the sizes and
    their slopes only for a caller that asks for the formulas (``sizes_too``)."""
    if first.failure is not None or first.stopped:
        return _FAILS
    if not _past_crossings(first, layers):
        return None
    slopes = layers.slopes
    sizes: list[int] = []
    moves: list[int] = []
    if sizes_too:
        sizes = _flat(first.shapes.values())
        if not layers.moves:
            layers.moves.append(_flat(slopes[name] for name in first.shapes))
        moves = layers.moves[0]
        if len(moves) != len(sizes):
            return None
    gaps = _gaps(first)
    known = layers.gap_slopes
    gap_slopes: Gaps = {}
    for key in gaps:
        found = known.get(key)
        if found is None:
            index, k, axis = key
            if axis == -2:
                found = 0  # a disagreement that does not follow the size
            else:
                inputs = graph.nodes[index].inputs
                found = slopes[inputs[k]][axis] - slopes[inputs[0]][axis]
            known[key] = found
        gap_slopes[key] = found
    return _Line(first, first, 1, sizes, moves, gaps, gap_slopes)


def axis_sizes(
    graph: Graph,
    shapes: tuple[Shape, ...],
    tensor_axis: int,
    spatial_axis: int,
    tensor_axes: tuple[int, ...] = (),
    *,
    max_input: int = MAX_INPUT,
    max_work: int = MAX_WORK,
    formulas: bool = True,
) -> AxisSizes:
    """The exact sets of sizes of one input axis that run, and that run with nothing dropped (see the
    module), with every tensor's size as a periodic affine function of it.

    The other spatial axes (``tensor_axes``) are held at their given sizes; where no size of this axis
    runs with them (the given input fails on another axis), at the smallest size that runs on all.
    ``max_input`` bounds the search for the smallest size that runs, ``max_work`` the node evaluations
    (a caller that checked its own budget before, as `chain` does, gives its own); ``formulas=False``
    leaves out the tensors' formulas, for a caller that reads only the accepted sizes."""

    done: dict[tuple[Shape, ...], Run] = {}

    def run_at(size: int) -> Run:  # a class's shifted runs share sizes with its first ones
        given = _with(shapes, tensor_axis, size)
        if given not in done:
            done[given] = run_graph(graph, given)
        return done[given]

    def not_worked_out(minimum: int | None, why: str) -> AxisSizes:
        return AxisSizes(tensor_axis, spatial_axis, minimum, None, why)

    def first_running() -> int | None:
        return _first_running(run_at, max_input)

    held = None
    minimum = first_running()
    others = tuple(a for a in tensor_axes if a != tensor_axis)
    if minimum is None and others:
        base = smallest_running(graph, shapes, tensor_axes)
        if base is not None:
            moved = list(shapes[0])
            for a in others:
                moved[a] = base
            shapes = (tuple(moved), *shapes[1:])
            held = f"the other spatial axes are held at {base} here (the given sizes do not run)"
            minimum = first_running()
    if minimum is None:
        empty = Accepted(1, (), ())
        return AxisSizes(tensor_axis, spatial_axis, None, empty, "no size runs", empty)
    first = run_at(minimum)
    if first.stopped:
        node = first.stopped[0]
        return not_worked_out(
            minimum,
            f"not worked out, because {node.op} ({node.name}) is not modelled and its shape is known "
            "only for the given input",
        )
    # an op known only by its declared shape: exact at every size only where the reader declares it
    # again at each size (a PyTorch model captured again per size: ``rebuild``); a run at a larger size
    # tells whether one lies on this axis's path (a graph without one skips that run)
    if graph.rebuild is None and any(node.kind == "unknown" for node in graph.nodes):
        later = run_at(2 * minimum + 64)  # far enough that every size that follows this axis has moved
        before = {r.index: r.inputs for r in first.nodes}
        shifted = {r.index for r in later.nodes if before.get(r.index) != r.inputs}
        for node_run in first.nodes:
            if node_run.node.kind == "unknown" and (node_run.index in shifted or later.failure is not None):
                node = node_run.node
                return not_worked_out(
                    minimum,
                    f"not worked out, because {node.op} ({node.name}) lies on this axis's path and "
                    "convcalc does not model it (its shape is known only for the given input)",
                )
    # Every size is periodic affine over the step of the run (its divisors, composed along each path);
    # two runs that far apart read each size's exact gain, and the lcm of their denominators is the period.
    step = first.step
    if step > MAX_STEP:
        return not_worked_out(minimum, f"not worked out, because the sizes repeat only over {step}")
    far = _plain(graph)
    p = None
    line = None
    # the gains are read on the smallest size's class, or the next one where that class runs at its
    # first members alone (a sum that broadcasts a size-1 axis runs at 1 and then only at even sizes)
    bases = range(minimum, minimum + min(step, MAX_BASES))
    for base, shift in itertools.product(bases, range(MAX_SHIFT)):
        line = _line(run_at, base, shift, step, far)
        if line is not None and line is not _FAILS:
            p = gain_denominators(line.first, line.later, step * line.periods)
            break
    if p is None:
        finite = finite_sizes(
            run_at,
            minimum,
            step,
            tensor_axis,
            max(len(graph.nodes), 1),
            max_work,
            max_period=MAX_PERIOD,
            max_scan=MAX_SCAN,
        )
        if finite is not None:
            return AxisSizes(tensor_axis, spatial_axis, minimum, finite[1], held, finite[0], {}, finite[2])
        return not_worked_out(
            minimum, "not worked out, because the sizes do not repeat over the period of this axis"
        )
    if p > MAX_PERIOD or (3 * p + 64) * max(len(graph.nodes), 1) > max_work:
        return not_worked_out(
            minimum,
            f"not worked out, because the period of this axis is {p}; accepted sizes are worked out for "
            f"periods up to {MAX_PERIOD} and {max_work} node evaluations",
        )
    assert line is not None
    tried: dict[tuple[int, int], _Line | None] = {}

    def line_at(base: int, shift: int) -> _Line | None:
        if (base, shift) not in tried:
            tried[base, shift] = _line(run_at, base, shift, p, far)
        return tried[base, shift]

    samples = [first, run_at(minimum + 1), line.first, line.later]
    if not far:
        # shape arithmetic can make a disagreement of sizes that do not move (a Reshape to a target
        # taken modulo the size) in some classes only: each class's first line is a sample too
        for r in range(p):
            for shift in range(MAX_SHIFT):
                found = line_at(minimum + r, shift)
                if found is not None and found is not _FAILS:
                    samples.append(found.first)
                    break
    varying = _varying(samples)
    exact: list[int] = []
    running: list[int] = []
    singles: list[int] = []
    exact_singles: list[int] = []
    tiling: list[int] = []
    tiling_singles: list[int] = []
    lines: list[tuple[int, _Line]] = []

    def early(v: int) -> None:
        """A member before its class's line (or of a class that fails from its first lines on): runs
        alone, a single."""
        run = run_at(v)
        if run.failure is None and not run.stopped and not drops_on(run, tensor_axis):
            tiling_singles.append(v)
        if _runs_cleanly(run, varying):
            singles.append(v)
            if not drops_on(run, tensor_axis):
                exact_singles.append(v)

    # a graph of layers reads each class from its first member alone (``_slopes``), else from two runs
    layer_slopes = _slopes(graph, first, tensor_axis, p) if far else None
    layers = None if layer_slopes is None else _layers(graph, layer_slopes)
    for r in range(p):
        base = minimum + r
        start = None
        failing = True
        line = None
        for shift in range(MAX_SHIFT):
            begin = base + shift * p
            if layers is None:
                line = line_at(base, shift)
            else:
                line = _sloped_line(run_at(begin), graph, layers, formulas)
            if line is _FAILS:
                continue
            failing = False
            if line is not None:
                start = begin
                break
        if failing:
            # every line tried fails somewhere: the members those lines ran that run are singles (a
            # sum that broadcasts a size-1 axis runs at 1 and at no other size of its class)
            for v in range(base, base + (MAX_SHIFT + 2) * p, p):
                if _with(shapes, tensor_axis, v) in done:
                    early(v)
            continue
        if start is None or line is None or line is _FAILS:
            return not_worked_out(
                minimum,
                f"not worked out, because the sizes are not affine along the class {base} + {p}q",
            )
        for v in range(base, start, p):
            early(v)
        lines.append((start, line))
        g0, slopes = line.gaps, line.gap_slopes
        whole, single = class_members([(g0[k], slopes[k]) for k in g0 if k in varying], start, p)
        dropped = drops_on(line.first, tensor_axis)
        if not dropped:
            tiling.append(start)
        if whole:
            running.append(start)
            if not dropped:
                exact.append(start)
        elif single is not None and _runs_cleanly(run_at(single), varying):
            singles.append(single)
            if not drops_on(run_at(single), tensor_axis):
                exact_singles.append(single)
    return AxisSizes(
        tensor_axis,
        spatial_axis,
        minimum,
        reduce_period(Accepted(p, tuple(exact), tuple(sorted(exact_singles)))),
        held,
        reduce_period(Accepted(p, tuple(running), tuple(sorted(singles)))),
        _formulas(lines, p) if formulas else {},
        reduce_period(Accepted(p, tuple(tiling), tuple(sorted(tiling_singles)))),
    )


def _varying(runs: list[Run]) -> set[tuple[int, int, int]]:
    """The gaps whose operands' sizes change with the analysed size (the rest do not depend on it)."""
    found: set[tuple[int, int, int]] = set()
    gaps = [_gaps(r) for r in runs]
    operands = [{(n.index, k): s for n in r.nodes for k, s in enumerate(n.inputs)} for r in runs]

    def dim(shape: Shape | None, axis: int) -> object:
        if shape is None:
            return None
        if axis == -2:
            return shape  # a mismatch that is no one size: follows the whole operand
        return shape[axis] if -len(shape) <= axis < len(shape) else None

    for key in {k for g in gaps for k in g}:
        index, k, axis = key
        seen = {(repr(dim(o.get((index, k)), axis)), repr(dim(o.get((index, 0)), axis))) for o in operands}
        if len(seen) > 1 or len({g.get(key) for g in gaps}) > 1:
            found.add(key)
    return found


def _formulas(lines: list[tuple[int, _Line]], period: int) -> dict[str, tuple[Formula | None, ...]]:
    """Each tensor's sizes on every class (start, slope, offset per class, by start) per tensor axis;
    a class where a tensor is missing or has another rank adds nothing to it. Equal pieces share one
    Formula (a model's tensors share a few)."""
    from convcalc.graph.formulas import Formula  # a caller that asks for no formulas (chain) skips it

    if not lines:
        return {}
    lines = sorted(lines, key=lambda item: item[0])
    starts = [start for start, _ in lines]
    layout = [(name, len(shape)) for name, shape in lines[0][1].first.shapes.items()]
    for _, line in lines[1:]:
        if [(name, len(shape)) for name, shape in line.first.shapes.items()] != layout:
            return _formulas_by_name(lines, period)
    made: dict[tuple[tuple[int, ...], tuple[int, ...]], Formula] = {}
    every: list[Formula] = []
    # one column per tensor axis: its slope and its size on every class, in the classes' order (the
    # starts are the same for every column: a column is told by its slopes and sizes)
    for column in zip(zip(*(line.slopes for _, line in lines)), zip(*(line.sizes for _, line in lines))):
        formula = made.get(column)
        if formula is None:
            formula = made[column] = Formula(period, tuple(zip(starts, *column)))
        every.append(formula)
    out: dict[str, tuple[Formula | None, ...]] = {}
    at = 0
    for name, rank in layout:
        out[name] = tuple(every[at : at + rank])
        at += rank
    return out


def _formulas_by_name(lines: list[tuple[int, _Line]], period: int) -> dict[str, tuple[Formula | None, ...]]:
    """``_formulas`` where the classes' runs hold different tensors: tensor by tensor."""
    from convcalc.graph.formulas import Formula

    pieces: dict[str, list[list[tuple[int, int, int]]]] = {}
    for start, line in lines:
        at = 0
        for name, shape in line.first.shapes.items():
            slopes = line.slopes[at : at + len(shape)]
            at += len(shape)
            dims = pieces.get(name)
            if dims is None:
                dims = pieces[name] = [[] for _ in shape]
            elif len(dims) != len(shape):
                continue
            for dim, x, a in zip(dims, shape, slopes):
                dim.append((start, a, x))
    return {
        name: tuple(Formula(period, tuple(sorted(dim))) if dim else None for dim in dims)
        for name, dims in pieces.items()
    }


def _same(values: object) -> bool:
    return not isinstance(values, tuple) or len(set(values)) <= 1


def symmetric(graph: Graph, shapes: tuple[Shape, ...], tensor_axes: tuple[int, ...]) -> bool:
    """Whether every spatial axis sees the same sizes and parameters (one analysis then serves all)."""
    # Every input, not only the first: a second input of 7x8 makes the axes differ (trial item 1).
    for shape in shapes:
        if len(shape) != len(shapes[0]) or len({shape[a] for a in tensor_axes}) > 1:
            return False
    for node in graph.nodes:
        spec = node.spec
        if isinstance(spec, (ConvSpec, PoolSpec)):
            fields: list[tuple[int, ...] | None] = [spec.kernel_size, spec.stride, spec.dilation]
            if isinstance(spec, ConvSpec):
                fields += [spec.output_padding, spec.output_size]
            if not all(_same(f) for f in fields) or not _same(spec.padding):
                return False
        elif isinstance(spec, ResizeSpec):
            values = spec.sizes if spec.sizes is not None else spec.scales
            if (
                values is None
                or len(values) != len(shapes[0])
                or not _same(tuple(values[a] for a in tensor_axes))
            ):
                return False
        elif isinstance(spec, PadSpec):
            if len(spec.pads) != len(shapes[0]) or not _same(tuple(spec.pads[a] for a in tensor_axes)):
                return False
        elif isinstance(spec, ConcatSpec):
            if spec.axis % len(shapes[0]) in tensor_axes:
                return False
        elif node.kind in (
            "slice",
            "unknown",
            "reshape",
            "flatten",
            "value",
            "transpose",
            "expand",
            "matmul",
            "recurrent",
        ):
            return False
    return True


def all_axes(graph: Graph, shapes: tuple[Shape, ...], tensor_axes: tuple[int, ...]) -> tuple[AxisSizes, ...]:
    """The accepted sizes of every spatial axis (one analysis when the graph is the same on each)."""
    if tensor_axes and symmetric(graph, shapes, tensor_axes):
        first = axis_sizes(graph, shapes, tensor_axes[0], 0, tensor_axes)
        return tuple(
            replace(
                first, tensor_axis=a, spatial_axis=n, formulas=_swapped(first.formulas, tensor_axes[0], a)
            )
            for n, a in enumerate(tensor_axes)
        )
    return tuple(axis_sizes(graph, shapes, a, n, tensor_axes) for n, a in enumerate(tensor_axes))


def _swapped(
    formulas: dict[str, tuple[Formula | None, ...]], axis: int, other: int
) -> dict[str, tuple[Formula | None, ...]]:
    """One axis's formulas read for another axis of a symmetric graph (every tensor keeps its layout, and
    the given sizes are equal, so the two axes trade places)."""
    out = {}
    for name, dims in formulas.items():
        swapped = list(dims)
        if max(axis, other) < len(dims):
            swapped[axis], swapped[other] = dims[other], dims[axis]
        out[name] = tuple(swapped)
    return out


def smallest_running(graph: Graph, shapes: tuple[Shape, ...], tensor_axes: tuple[int, ...]) -> int | None:
    """The smallest size that runs with every listed spatial axis of the first input set to it."""

    def run_at(size: int) -> Run:
        first = list(shapes[0])
        for a in tensor_axes:
            first[a] = size
        return run_graph(graph, (tuple(first), *shapes[1:]))

    return _first_running(run_at, MAX_INPUT)


def _first_running(run_at: Callable[[int], Run], max_input: int) -> int | None:
    """The smallest size that runs. Layers refuse sizes up to some minimum and never after, which a
    doubling search finds; a model re-executed per size (``run_graph``) also fails where it refuses a
    merge, which depends on the size's class, so past that minimum the sizes are tried in turn."""
    minimum = smallest(lambda size: _layer_refuses(run_at(size)), max_input)
    if minimum is None:
        return None
    for size in range(minimum, min(minimum + MAX_SCAN, max_input + 1)):
        if run_at(size).failure is None:
            return size
    return None


def _layer_refuses(run: Run) -> bool:
    """Whether a layer refuses this input (a window larger than its padded input, a size below 1): true
    up to some size and never after. A merge or a fixed-size layer the re-executed model refused
    (``run_graph``) is not: it depends on the size's class or on one size, not on its magnitude."""
    failure = run.failure
    return failure is not None and not (failure.index == -1 and failure.node.kind in _NOT_MONOTONE)


# Nodes whose refusal in a re-executed model is an equality, not a minimum: a merge, and a layer that
# takes a fixed number of features or elements (a Linear on a flattened map runs at one size per class)
_NOT_MONOTONE = frozenset((*MERGE_KINDS, "dense", "reshape", "matmul"))
