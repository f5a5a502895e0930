"""Accepted sizes of an axis where every size far enough out fails: a finite set, each member found by
a run, under a certificate that every later member of its class fails (``_fails_onward``)."""

from __future__ import annotations

import math
from collections.abc import Callable

from convcalc.graph.gains import gain_denominators
from convcalc.graph.shapes import Run, drops_on
from convcalc.periodic import Accepted

# Two runs at least this far out must fail at the same node for the sizes that run to be worked out as
# a finite set.
FAR_OUT = 4096


def finite_sizes(
    run_at: Callable[[int], Run],
    minimum: int,
    step: int,
    tensor_axis: int,
    nodes: int,
    max_work: int,
    *,
    max_period: int,
    max_scan: int,
) -> tuple[Accepted, Accepted, Accepted] | None:
    """The sizes that run, that run with nothing dropped and that tile, where every size far enough
    out fails (no class has a line): finitely many, each found by a run. None unless every class
    ends in ``_fails_onward``'s certificate within the work budget.

    The period is read as for a class (``gain_denominators``) from two runs at least ``FAR_OUT`` out
    that fail at the same node, over the tensors they computed before it; each class is then run member
    by member until three members in a row carry the certificate that every later member fails."""
    far = minimum + -(-FAR_OUT // step) * step
    a, b = run_at(far), run_at(far + step)
    if not _fails_onward([a, b, run_at(far + 2 * step)]):
        return None  # far out, too, nothing shows that every larger size fails
    p = gain_denominators(a, b, step)
    if p > max_period:
        return None
    runs: list[int] = []
    exact: list[int] = []
    tiles: list[int] = []
    work = 0
    for base in range(minimum, minimum + p):
        size = base
        while not _fails_onward([run_at(size + q * p) for q in range(3)]):
            work += 1
            if work > max_scan or work * nodes > max_work:
                return None
            run = run_at(size)
            clean = run.failure is None and not run.stopped
            if clean and not drops_on(run, tensor_axis):
                tiles.append(size)
                if run.ok:
                    exact.append(size)
            if clean and run.ok:
                runs.append(size)
            size += p
    return tuple(Accepted(1, (), tuple(sorted(found))) for found in (runs, exact, tiles))  # type: ignore[return-value]


def _fails_onward(runs: list[Run]) -> bool:
    """Whether these runs, one period apart along a class, show that every later member fails too: each
    fails at the same Reshape, of a tensor whose element count stays the same, to a target whose given
    sizes all grow affinely (equal steps, none negative, as three runs read a class's sizes) and whose
    product already exceeds that count (a reshape needs the product to divide the count)."""
    first = runs[0].failure
    if first is None or any(r.failure is None or r.failure.index != first.index for r in runs):
        return False
    node = first.node
    if node.op != "Reshape" or len(node.inputs) != 2:
        return False
    counts = {math.prod(r.shapes.get(node.inputs[0], (-1,))) for r in runs}
    targets = [r.values.get(node.inputs[1]) for r in runs]
    if len(counts) != 1 or any(t is None or len(t) != len(targets[0] or ()) for t in targets):
        return False
    count = counts.pop()
    given = [[int(v) for v in t if v > 0] for t in targets if t is not None]
    if count < 0 or any(len(g) != len(given[0]) for g in given):
        return False
    for x, y, z in zip(*given):
        if y - x != z - y or y < x:
            return False
    return math.prod(given[0]) > count
