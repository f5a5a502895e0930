"""What one aligned pair of layers does differently, on the same input: the verdict and its arithmetic.

Both layers are read at A's input sizes (by axis name), through each file's own framework rules, so the
verdict is about the layer itself, not about what happened upstream. With the same window (kernel,
stride, dilation) the placement alone moves the output:

* convolution and pooling with pads (b, a) against (b', a'): output j of A reads the window starting at
  input j*s - b, output j' of B the one at j'*s - b'; they are the same window when j' = j + (b' - b)/s.
  B's output is A's moved by (b' - b)/s elements; when s does not divide b' - b no window of B is one
  of A (other values).
* transposed convolution with crops (c, e) of the full output (i-1)*s + K against (c', e'): output y of
  A is full position y + c; B holds it at y + c - c'. B's output is A's moved by c - c'.
* Pad and Slice (negative pads): moved by b' - b.

The moved amount is "shifted" only when both outputs have the same size; a size that differs is
"different size" whatever the shift.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from convcalc.diff.layers import AxisForm, Layer, resize_mode
from convcalc.errors import ConvCalcError
from convcalc.graph.model import ConvSpec, PoolSpec, ResizeSpec

VERDICTS = ("same", "shifted", "different values", "different size", "missing", "extra")
DIFFERS = frozenset(VERDICTS) - {"same"}


@dataclass(frozen=True)
class Change:
    """One argument that differs: its name (canonical), the axis by name or None, A's and B's values."""

    argument: str
    axis: str | None
    a: str
    b: str

    def text(self) -> str:
        where = f" on {self.axis}" if self.axis else ""
        return f"{self.argument}{where} {self.a} -> {self.b}"


@dataclass(frozen=True)
class PairDiff:
    """An aligned pair (or a layer on one side only), both canonical forms at A's input, and the verdict."""

    a: Layer | None
    b: Layer | None
    a_form: tuple[AxisForm, ...] | None
    b_form: tuple[AxisForm, ...] | None
    verdict: str
    changes: tuple[Change, ...] = ()
    shift: tuple[tuple[str, Fraction], ...] = ()
    note: str | None = None

    @property
    def name(self) -> str:
        layer = self.a if self.a is not None else self.b
        assert layer is not None
        return layer.name

    @property
    def differs(self) -> bool:
        return self.verdict in DIFFERS

    def reason(self) -> str:
        """One line: what changed and what it does to the output."""
        if self.verdict == "missing":
            return "in A only: B has no such layer"
        if self.verdict == "extra":
            return "in B only: A has no such layer"
        if self.verdict == "same":
            return "same values"
        changed = "; ".join(c.text() for c in self.changes)
        if self.note:
            changed = f"{changed}; {self.note}" if changed else self.note
        if self.verdict == "shifted":
            moves = ", ".join(describe_shift(axis, amount) for axis, amount in self.shift if amount)
            return f"{changed}: the output is shifted {moves}, same size"
        if self.verdict == "different size":
            assert self.a_form is not None and self.b_form is not None
            a = "x".join(str(f.output) for f in self.a_form)
            b = "x".join(str(self._by_name(f.name).output) for f in self.a_form)
            return f"{changed}: output {a} -> {b}, different size"
        return f"{changed}: different values, same size"

    def _by_name(self, name: str) -> AxisForm:
        assert self.b_form is not None
        return next(f for f in self.b_form if f.name == name)


_UNITS = {"H": ("row", "up", "down"), "W": ("column", "left", "right"), "L": ("element", "left", "right")}


def describe_shift(axis: str, amount: Fraction) -> str:
    """'up by 1 row': B's element j + amount holds A's element j."""
    unit, back, forth = _UNITS.get(axis, ("element", "back", "forward"))
    n = abs(amount)
    word = unit if n == 1 else f"{unit}s"
    return f"{back if amount < 0 else forth} by {n} {word}" + ("" if axis in _UNITS else f" on {axis}")


def missing(a: Layer) -> PairDiff:
    return PairDiff(a, None, a.own_form, None, "missing")


def extra(b: Layer) -> PairDiff:
    return PairDiff(None, b, None, b.own_form, "extra")


def compare(a: Layer, b: Layer) -> PairDiff:
    """Both layers on A's input sizes; the changes, the verdict and the shift per axis."""
    sizes = dict(zip(a.axes, a.sizes))
    a_form = a.own_form
    changes: list[Change] = []
    if sorted(a.axes) != sorted(b.axes):
        changes.append(Change("spatial axes", None, ",".join(a.axes), ",".join(b.axes)))
        return PairDiff(a, b, a_form, None, "different values", tuple(changes))
    try:
        b_form = b.own_form if dict(zip(b.axes, b.sizes)) == sizes else b.form(sizes)
    except ConvCalcError as error:
        return PairDiff(
            a, b, a_form, None, "different size", note=f"B's layer does not run on A's input: {error}"
        )
    changes += _structure(a, b)
    by_name = {f.name: f for f in b_form}
    placement = "crops" if a.kind == "conv_transpose" else "pads"
    sizes_differ = False
    shifts: list[tuple[str, Fraction]] = []
    grid_moved = False
    for fa in a_form:
        fb = by_name[fa.name]
        for argument in ("kernel_size", "stride", "dilation"):
            if getattr(fa, argument) != getattr(fb, argument):
                changes.append(
                    Change(argument, fa.name, str(getattr(fa, argument)), str(getattr(fb, argument)))
                )
        if fa.scale != fb.scale:
            changes.append(Change("scale", fa.name, str(fa.scale), str(fb.scale)))
        if fa.placement != fb.placement:
            changes.append(Change(placement, fa.name, _pair(fa.placement), _pair(fb.placement)))
        sizes_differ |= fa.output != fb.output
        amount = _moved(a.kind, fa, fb)
        if amount.denominator != 1:
            grid_moved = True
        shifts.append((fa.name, amount))
    structural = [c for c in changes if c.argument not in ("pads", "crops")]
    if sizes_differ:
        verdict = "different size"
    elif structural or grid_moved:
        verdict = "different values"
    elif any(amount for _, amount in shifts):
        verdict = "shifted"
    else:
        verdict = "same"
    note = None
    if grid_moved and not sizes_differ and not structural:
        moved = ", ".join(f"{amount} on {axis}" for axis, amount in shifts if amount.denominator != 1)
        note = f"the windows move by a fraction of an output element ({moved}): no window of B is one of A"
    return PairDiff(a, b, a_form, b_form, verdict, tuple(changes), tuple(shifts), note)


def _moved(kind: str, fa: AxisForm, fb: AxisForm) -> Fraction:
    """B's element j + moved holds A's element j (exact; a fraction when no element of B is one of A)."""
    if kind == "conv_transpose":
        return Fraction(fa.placement[0] - fb.placement[0])
    if fa.stride != fb.stride:
        return Fraction(0)
    return Fraction(fb.placement[0] - fa.placement[0], fa.stride)


def _pair(pair: tuple[int, int]) -> str:
    return f"{pair[0]}:{pair[1]}"


def _structure(a: Layer, b: Layer) -> list[Change]:
    """Arguments that change values without a per-axis number: op, channels, groups, flip, modes, axes."""
    changes = []
    sa, sb = a.node.spec, b.node.spec
    if a.kind != b.kind:
        changes.append(Change("op", None, a.detail, b.detail))
    elif isinstance(sa, PoolSpec) and isinstance(sb, PoolSpec) and sa.op != sb.op:
        changes.append(Change("pooling", None, sa.op, sb.op))
    elif (
        isinstance(sa, ResizeSpec)
        and isinstance(sb, ResizeSpec)
        and resize_mode(sa.mode) != resize_mode(sb.mode)
    ):
        changes.append(Change("mode", None, sa.mode, sb.mode))
    if a.channel_name != b.channel_name:
        changes.append(Change("channel axis", None, a.channel_name, b.channel_name))
    if a.axes != b.axes:
        changes.append(Change("axis order", None, ",".join(a.axes), ",".join(b.axes)))
    if isinstance(sa, ConvSpec) and isinstance(sb, ConvSpec):
        for argument in ("in_channels", "out_channels", "groups"):
            if getattr(sa, argument) != getattr(sb, argument):
                changes.append(Change(argument, None, str(getattr(sa, argument)), str(getattr(sb, argument))))
        if sa.transpose_kernel != sb.transpose_kernel:
            flip = {True: "flipped", False: "as stored"}
            changes.append(Change("kernel", None, flip[sa.transpose_kernel], flip[sb.transpose_kernel]))
    if isinstance(sa, PoolSpec) and isinstance(sb, PoolSpec) and sa.ceil_mode != sb.ceil_mode:
        changes.append(Change("ceil_mode", None, str(sa.ceil_mode), str(sb.ceil_mode)))
    return changes
