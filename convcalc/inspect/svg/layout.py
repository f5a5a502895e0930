"""Where every box, size label and edge of a model picture goes; pure arithmetic on measured text.

The boxes are cut into *runs*: consecutive boxes at one level, each reading the one before. A run is a
column; the columns stand left to right in dataflow order, each in the horizontal *band* of its level
(the input's scale on top, each halving one band lower). A U-Net so reads as its letter: the encoder's
runs step down, the decoder's step back up, and a skip connection crosses at its level from the
encoder's column to the decoder's. A run that enters from a finer level flows down its column, one from
a coarser level flows up; a run longer than ``rows`` boxes folds into columns that alternate (a snake).
Within a band a column is shifted down so that its merge sits level with the skip that feeds it.

Edges: each box's output size is written in the gap after the box, beside the arrow that leaves it (one
label per tensor, whatever reads it). From one run to the next, the arrow leaves the last box through
that gap and enters the next run's first box, turning once in a clear row. A skip leaves its box on the
right and enters on the left: straight across when no column stands in the way at its height, else up
a lane of the gutter right of its column, along a track above every band, and down a lane of the gutter
left of its target. Gutters hold only lanes, so a routed skip never crosses a box or a label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

from convcalc.explain.svg.canvas import ASCENT, DESCENT, text_width
from convcalc.inspect.svg.items import Item

TITLE_SIZE = 12.0
NAME_SIZE = 11.0
LABEL_SIZE = 11.0
MARK_SIZE = 11.0
LINE = 1.3  # line height, in font sizes
BOX_PAD_X = 8.0
BOX_PAD_Y = 5.0
SLOT = 24.0  # the gap after a box: its output label and arrow
ARROW_X = 6.0  # a size label starts this far right of its arrow
GUTTER = 26.0  # between columns, plus the lanes
LANE = 8.0
BAND_GAP = 28.0
TURN = 12.0  # clearance of a turning edge
MARK_WRAP = 34  # characters per line of a mark's text
MAX_ROWS = 60  # boxes in a column at most, however long the run
MAX_FOLDED = 3  # folded ops named in a box; more are counted


@dataclass
class Placed:
    """A box placed: its item, rectangle, the text lines inside, its size label."""

    item: Item
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    lines: list[tuple[str, float, bool, str]] = field(default_factory=list)  # text, size, bold, role
    label: str = ""
    label_width: float = 0.0
    run: int = 0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class Run:
    """A column of boxes: indices into the placed boxes, its level and direction (down or up)."""

    members: list[int]
    level: int
    down: bool
    band: int = 0
    x: float = 0.0
    y: float = 0.0  # top of the column
    width: float = 0.0  # boxes' width
    extent: float = 0.0  # boxes and labels
    height: float = 0.0


@dataclass(frozen=True)
class Edge:
    """A polyline from one box to another; ``skip`` for a merge operand that does not come from the box
    just before."""

    points: tuple[tuple[float, float], ...]
    skip: bool


@dataclass
class Layout:
    boxes: list[Placed]
    runs: list[Run]
    edges: list[Edge]
    bands: list[tuple[int, float, float]]  # level, top, bottom
    width: float
    height: float
    top: float


def wrap(text: str, width: int) -> list[str]:
    """Words into lines of at most ``width`` characters (a longer word cut into pieces that long).

    >>> wrap("FAILS: operands disagree: 1x4x65x65 vs 1x4x64x64", 20)
    ['FAILS: operands', 'disagree: 1x4x65x65', 'vs 1x4x64x64']
    """
    lines: list[str] = []
    pieces = [word[n : n + width] for word in text.split() for n in range(0, len(word), width)]
    for word in pieces:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def line_height(size: float) -> float:
    return size * LINE


def measure(box: Placed, label: str) -> None:
    """The box's text lines and size from its item: title, name, folded ops, mark."""
    item = box.item
    box.lines = [(item.title, TITLE_SIZE, True, "title"), (item.name, NAME_SIZE, False, "name")]
    if item.folded:
        ops = _dedupe(item.folded)
        shown = " ".join(ops[:MAX_FOLDED]) + (
            f" +{len(ops) - MAX_FOLDED} more" if len(ops) > MAX_FOLDED else ""
        )
        box.lines.append(("+ " + shown, NAME_SIZE, False, "folded"))
    if item.mark is not None:
        for line in wrap(item.mark.text, MARK_WRAP):
            box.lines.append((line, MARK_SIZE, True, "mark"))
    box.w = max(text_width(t, s, b) for t, s, b, _ in box.lines) + 2 * BOX_PAD_X
    box.h = sum(line_height(s) for _, s, _, _ in box.lines) + 2 * BOX_PAD_Y
    box.label = label
    box.label_width = text_width(label, LABEL_SIZE)


def _dedupe(ops: list[str]) -> list[str]:
    """Repeats in a row written once with a count: Relu Relu -> Relu x2."""
    out: list[tuple[str, int]] = []
    for op in ops:
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + 1)
        else:
            out.append((op, 1))
    return [op if n == 1 else f"{op} x{n}" for op, n in out]


def fold_rows(items: list[Item], producer: dict[str, int], boxes: list[Placed]) -> int:
    """Boxes per column before a long run folds: the count that makes the picture about square (its
    width from the columns it needs, its height from the tallest column of each band), at least 6."""
    width = sum(b.w for b in boxes) / max(len(boxes), 1) + GUTTER + 2 * LANE
    slot = sum(b.h for b in boxes) / max(len(boxes), 1) + SLOT
    longest = max((len(run.members) for run in cut_runs(items, producer, len(items) + 1)), default=1)
    best, best_cost = longest, math.inf
    for rows in range(min(6, longest), min(longest, MAX_ROWS) + 1):
        runs = cut_runs(items, producer, rows)
        tallest: dict[int, int] = {}
        for run in runs:
            tallest[run.level] = max(tallest.get(run.level, 0), len(run.members))
        cost = max(len(runs) * width, sum(tallest.values()) * slot + len(tallest) * BAND_GAP)
        if cost < best_cost:
            best, best_cost = rows, cost
    return best


def cut_runs(items: list[Item], producer: dict[str, int], rows: int) -> list[Run]:
    runs: list[Run] = []
    for index, item in enumerate(items):
        chained = index > 0 and any(producer.get(t) == index - 1 for t in item.inputs)
        current = runs[-1] if runs else None
        if current is not None and chained and item.level == current.level and len(current.members) < rows:
            current.members.append(index)
            continue
        if current is None or not chained:
            down = True
        elif item.level != current.level:
            down = item.level > current.level
        else:  # a fold: the snake turns
            down = not current.down
        runs.append(Run([index], item.level, down))
    return runs


def place(items: list[Item], producer: dict[str, int], labels: list[str]) -> Layout:
    """Lay the boxes out: runs and their columns, bands, the skips' routes and lanes, then the edges."""
    boxes = [Placed(item) for item in items]
    for box, label in zip(boxes, labels):
        measure(box, label)
    runs = cut_runs(items, producer, fold_rows(items, producer, boxes))
    for number, run in enumerate(runs):
        run.width = max(boxes[m].w for m in run.members)
        for m in run.members:
            boxes[m].run, boxes[m].w = number, run.width
        run.extent = max(max(run.width, run.width / 2 + ARROW_X + boxes[m].label_width) for m in run.members)
        run.height = sum(boxes[m].h + SLOT for m in run.members)
    levels = sorted({run.level for run in runs})
    for run in runs:
        run.band = levels.index(run.level)
    skips = _skips(items, producer, runs, boxes)

    offsets = _offsets(runs, boxes, skips)
    heights = [0.0] * len(levels)
    for number, run in enumerate(runs):
        heights[run.band] = max(heights[run.band], offsets[number] + run.height)
    tops = [sum(heights[:n]) + n * BAND_GAP for n in range(len(levels))]
    for number, run in enumerate(runs):
        run.y = tops[run.band] + offsets[number]
    _stack(runs, boxes)
    ends = _dead_ends(runs, boxes, producer, skips)
    routes = _routes(runs, boxes, skips, ends)
    tracks = sum(1 for route in routes if route[2] == "track")
    top = 2 * TURN + tracks * LANE if tracks else TURN  # room for the tracks above every band
    for run in runs:
        run.y += top
    _stack(runs, boxes)

    lane_of, lanes = _lanes(runs, boxes, routes, ends)
    x = 0.0
    for number, run in enumerate(runs):
        run.x = x
        x += run.extent + GUTTER + lanes[number] * LANE
        for m in run.members:
            boxes[m].x = run.x
    edges = _sequence_edges(runs, boxes, producer) + _skip_edges(runs, boxes, routes, lane_of, ends)
    for number, run in enumerate(runs):  # an output read by nothing drawn still leaves past its label
        last = run.members[-1]
        if last not in ends and not _continues(runs, boxes, producer, number):
            edges.append(Edge(_exit(boxes[last], run.down, True), False))
    bands = [(levels[n], tops[n] + top, tops[n] + top + heights[n]) for n in range(len(levels))]
    height = max((bottom for _, _, bottom in bands), default=0.0)
    return Layout(boxes, runs, edges, bands, x, height, top)


def _offsets(runs: list[Run], boxes: list[Placed], skips: list[tuple[int, int]]) -> list[float]:
    """Each column's shift down within its band, so that its first merge fed by a skip from an earlier
    column of the band (not its fold neighbour) is level with the skip's source; when the merge sits
    too high for that, the band's earlier columns move down together instead."""
    offsets = [0.0] * len(runs)
    centre: dict[int, float] = {}  # box -> its centre's height below its band's top
    for number, run in enumerate(runs):
        local: dict[int, float] = {}
        y = 0.0
        for m in run.members if run.down else reversed(run.members):
            y += 0.0 if run.down else SLOT
            local[m] = y + boxes[m].h / 2
            y += boxes[m].h + (SLOT if run.down else 0.0)
        shift = next(
            (
                centre[source] - local[target]
                for target in run.members
                for source, merge in skips
                if merge == target
                and source in centre
                and runs[boxes[source].run].band == run.band
                and boxes[source].run < number - 1
            ),
            0.0,
        )
        if shift < 0:
            for other in range(number):
                if runs[other].band == run.band:
                    offsets[other] -= shift
                    for m in runs[other].members:
                        centre[m] -= shift
        offsets[number] = max(0.0, shift)
        for m in run.members:
            centre[m] = local[m] + offsets[number]
    return offsets


Route = tuple[int, int, str, int]  # source box, target box, "same" / "straight" / "track", track number


def _dead_ends(
    runs: list[Run], boxes: list[Placed], producer: dict[str, int], skips: list[tuple[int, int]]
) -> set[int]:
    """The boxes whose output leaves only by skips and that end their column: their skips leave
    through the gap after the box, past its size label, as a sequence edge would."""
    ends = set()
    for number, run in enumerate(runs):
        last = run.members[-1]
        if not _continues(runs, boxes, producer, number) and any(source == last for source, _ in skips):
            ends.add(last)
    return ends


def _exit(box: Placed, down: bool, end: bool) -> tuple[tuple[float, float], ...]:
    """Where a skip leaves its source: the right side's middle, or for a dead end down (up) through
    the gap after the box to the gap's far edge."""
    if not end:
        return ((box.x + box.w, box.cy),)
    edge = box.y + box.h if down else box.y
    return ((box.cx, edge), (box.cx, edge + SLOT if down else edge - SLOT))


def _routes(
    runs: list[Run], boxes: list[Placed], skips: list[tuple[int, int]], ends: set[int]
) -> list[Route]:
    """How each skip goes: within its column ("same"), straight across where no column between the two
    reaches the height it leaves at ("straight"), else along its own track above every band ("track")."""
    routes: list[Route] = []
    tracks = 0
    for source, target in skips:
        a, b = boxes[source].run, boxes[target].run
        y = _exit(boxes[source], runs[a].down, source in ends)[-1][1]
        if a == b:
            routes.append((source, target, "same", 0))
        elif all(not (runs[c].y - TURN <= y <= runs[c].y + runs[c].height + TURN) for c in range(a + 1, b)):
            routes.append((source, target, "straight", 0))
        else:
            routes.append((source, target, "track", tracks))
            tracks += 1
    return routes


def _track_y(track: int) -> float:
    return TURN + track * LANE


def _lanes(
    runs: list[Run], boxes: list[Placed], routes: list[Route], ends: set[int]
) -> tuple[dict[tuple[int, int, int], int], list[int]]:
    """Per (source, target, gutter) the lane a skip runs down in that gutter (the first lane free over
    its vertical stretch), and the number of lanes of each gutter (the gutter right of each column)."""
    taken: list[list[list[tuple[float, float]]]] = [[] for _ in runs]
    lane_of: dict[tuple[int, int, int], int] = {}
    for source, target, route, track in routes:
        a, b = boxes[source].run, boxes[target].run
        s_y, t_y = _exit(boxes[source], runs[a].down, source in ends)[-1][1], boxes[target].cy
        spans = {
            "same": [(a, s_y, t_y)],
            "straight": [(b - 1, s_y, t_y)],
            "track": [(a, _track_y(track), s_y), (b - 1, _track_y(track), t_y)],
        }[route]
        reach = boxes[target].h / 2 + TURN  # a skip enters anywhere along its target's side
        for gutter, y0, y1 in spans:
            low, high = min(y0, y1) - reach, max(y0, y1) + reach
            free = (
                n for n, used in enumerate(taken[gutter]) if all(high < u0 or low > u1 for u0, u1 in used)
            )
            lane = next(free, len(taken[gutter]))
            if lane == len(taken[gutter]):
                taken[gutter].append([])
            taken[gutter][lane].append((low, high))
            lane_of[(source, target, gutter)] = lane
    return lane_of, [len(t) for t in taken]


def _sequence_edges(runs: list[Run], boxes: list[Placed], producer: dict[str, int]) -> list[Edge]:
    """The arrows down (or up) each column, and the turn from each column to the next that reads it."""
    edges: list[Edge] = []
    for number, run in enumerate(runs):
        for previous, current in pairwise(run.members):
            p, c = boxes[previous], boxes[current]
            points = ((p.cx, p.y + p.h), (c.cx, c.y)) if run.down else ((p.cx, p.y), (c.cx, c.y + c.h))
            edges.append(Edge(points, False))
        if _continues(runs, boxes, producer, number):
            following = runs[number + 1]
            last, first = boxes[run.members[-1]], boxes[following.members[0]]
            edges.append(_turn(last, run.down, first, following.down))
    return edges


def _continues(runs: list[Run], boxes: list[Placed], producer: dict[str, int], number: int) -> bool:
    """Whether the next column's first box reads this column's last: an arrow turns from one to the other."""
    if number + 1 >= len(runs):
        return False
    last = runs[number].members[-1]
    return any(producer.get(t) == last for t in boxes[runs[number + 1].members[0]].item.inputs)


def _skip_edges(
    runs: list[Run],
    boxes: list[Placed],
    routes: list[Route],
    lane_of: dict[tuple[int, int, int], int],
    ends: set[int],
) -> list[Edge]:
    """Each skip from its source's right side to its target's side, the operands of one target entering
    at even steps along it."""

    def lane_x(gutter: int, source: int, target: int) -> float:
        run = runs[gutter]
        return run.x + run.extent + GUTTER / 2 + lane_of[(source, target, gutter)] * LANE

    edges: list[Edge] = []
    entered: dict[int, int] = {}
    for source, target, route, track in routes:
        s, t = boxes[source], boxes[target]
        operands = sum(1 for _, other, _, _ in routes if other == target)
        entered[target] = entered.get(target, 0) + 1
        y = t.y + t.h * entered[target] / (operands + 1)
        start = _exit(s, runs[s.run].down, source in ends)
        out = start[-1][1]
        points: tuple[tuple[float, float], ...]
        if route == "same":
            x = lane_x(s.run, source, target)
            points = (*start, (x, out), (x, y), (t.x + t.w, y))
        elif route == "straight":
            x = lane_x(t.run - 1, source, target)
            points = (*start, (x, out), (x, y), (t.x, y))
        else:
            x0, x1 = lane_x(s.run, source, target), lane_x(t.run - 1, source, target)
            row = _track_y(track)
            points = (*start, (x0, out), (x0, row), (x1, row), (x1, y), (t.x, y))
        edges.append(Edge(_clean(points), True))
    return edges


def _stack(runs: list[Run], boxes: list[Placed]) -> None:
    """Boxes' y from their column's top: down runs first box on top, up runs first box at the bottom."""
    for run in runs:
        order = run.members if run.down else list(reversed(run.members))
        y = run.y
        for m in order:
            if not run.down:
                y += SLOT
            boxes[m].y = y
            y += boxes[m].h + (SLOT if run.down else 0.0)


def label_anchor(box: Placed, down: bool) -> tuple[float, float]:
    """Where a box's size label starts (its baseline), in the gap after the box, right of the arrow."""
    middle = box.y + box.h + SLOT / 2 if down else box.y - SLOT / 2
    baseline = middle + (ASCENT - DESCENT) * LABEL_SIZE / 2
    return box.cx + ARROW_X, baseline


def _turn(last: Placed, down: bool, first: Placed, enters_down: bool) -> Edge:
    """From a run's last box, through its label gap, to the next run's first box, turning in clear rows."""
    exit_y = last.y + last.h if down else last.y
    far = exit_y + SLOT if down else exit_y - SLOT
    entry = first.y if enters_down else first.y + first.h
    if down and enters_down:
        row = far
    elif down:
        row = max(far, entry + TURN)
    elif enters_down:
        row = min(far, entry - TURN)
    else:
        row = far
    return Edge(_clean(((last.cx, exit_y), (last.cx, row), (first.cx, row), (first.cx, entry))), False)


def _clean(points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """Repeated points and points in the middle of a straight segment removed."""
    kept: list[tuple[float, float]] = []
    for p in points:
        if kept and abs(kept[-1][0] - p[0]) < 1e-9 and abs(kept[-1][1] - p[1]) < 1e-9:
            continue
        if len(kept) >= 2:
            (ax, ay), (bx, by) = kept[-2], kept[-1]
            if (abs(ax - bx) < 1e-9 and abs(bx - p[0]) < 1e-9) or (
                abs(ay - by) < 1e-9 and abs(by - p[1]) < 1e-9
            ):
                kept[-1] = p
                continue
        kept.append(p)
    return tuple(kept)


def _skips(
    items: list[Item], producer: dict[str, int], runs: list[Run], boxes: list[Placed]
) -> list[tuple[int, int]]:
    """(source, target) of every data edge that is not the arrow from the box just before in its run
    or the turn from the previous run's last box."""
    first_of = {run.members[0]: number for number, run in enumerate(runs)}
    found: list[tuple[int, int]] = []
    for index, item in enumerate(items):
        for tensor in item.inputs:
            source = producer.get(tensor)
            if source is None or source == index:
                continue
            if source == index - 1 and (boxes[source].run == boxes[index].run or index in first_of):
                continue
            if (source, index) not in found:
                found.append((source, index))
    return found
