"""Translate a layer from one framework's arguments to another's.

The source convention reads the user's arguments into the canonical form; the target convention
proposes candidate arguments, and each candidate is read back through the target's own rules. The
candidate whose canonical form needs the smallest explicit fix wins. A fix is a slice or zero pad: of
the output for a transposed convolution (crops relative to the full output), of the input for a
convolution (pads). A fix may only add zeros where the framework's output holds zeros anyway, so the
fixed layer equals the source layer in values, not just in shape.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from convcalc.conventions import convention, read
from convcalc.conventions.base import (
    Convention,
    FrameworkLayer,
    LayerArgs,
    with_,
)
from convcalc.conventions.layouts import WeightChange, weight_change, weight_shape
from convcalc.core import ConvAxis, Pairs, channel_report
from convcalc.core.display import Presentable
from convcalc.errors import ConvCalcError, ExitCode

if TYPE_CHECKING:
    from convcalc.verdict import PortCheck

SIZE_DEPENDENT_WORDS = ("same", "same_lower", "same_upper")


@dataclass(frozen=True)
class Channels:
    """The layer's own input and output channels and groups (of the layer as given, transposed or not)."""

    in_channels: int
    out_channels: int
    groups: int


def make_channels(in_channels: object, out_channels: object, groups: object) -> Channels | None:
    """Checked channels, or None when neither channel count is given (groups must then be 1)."""
    if in_channels is None and out_channels is None:
        if groups != 1:
            raise ConvCalcError(
                f"groups={groups!r} needs in_channels and out_channels to divide", parameter="groups"
            )
        return None
    if in_channels is None or out_channels is None:
        missing = "in_channels" if in_channels is None else "out_channels"
        raise ConvCalcError(
            f"{missing} is needed too: give both in_channels and out_channels", parameter=missing
        )
    # The core's checks: integers >= 1, groups dividing both.
    report = channel_report(in_channels, out_channels, groups, (), ())
    return Channels(report.in_channels, report.out_channels, report.groups)


@dataclass(frozen=True, repr=False)
class Translation(Presentable):
    """A layer in the target framework and the fix that turns its result into the source layer's."""

    source: FrameworkLayer
    target: FrameworkLayer
    arguments: tuple[tuple[str, str], ...]
    fix: Pairs
    weight: WeightChange
    shape_only: tuple[tuple[str, str], ...] | None
    notes: tuple[str, ...]
    channels: Channels | None = None
    check: PortCheck | None = None
    """The execution check (``port --verify``), when asked for."""

    presenter = "convcalc.port.present"

    @property
    def exit_code(self) -> ExitCode:
        """1 when the execution check (``port --verify``) disagrees."""
        failed = self.check is not None and not self.check.ok
        return ExitCode.VERIFICATION_FAILED if failed else ExitCode.OK

    def weight_shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The weight's shape in the source's and in the target's layout (when channels are known)."""
        if self.channels is None:
            return None
        c = self.channels
        kernel = tuple(a.kernel_size for a in (self.source.transposed or self.source.conv))
        src = convention(self.source.framework).layout(self.source.args)
        dst = convention(self.target.framework).layout(self.target.args)
        return (
            weight_shape(src, kernel, c.in_channels, c.out_channels, c.groups),
            weight_shape(dst, kernel, c.in_channels, c.out_channels, c.groups),
        )

    @property
    def exact(self) -> bool:
        return all(f == (0, 0) for f in self.fix)

    @property
    def unfixed_output(self) -> tuple[int, ...]:
        """The target's output on the source's input, without the fix (a convolution's fix pads the input)."""
        return _unfixed_output(self.source, self.target)

    @property
    def shape_equal(self) -> bool:
        """Whether the target's arguments alone give the source's output size."""
        return self.unfixed_output == self.source.output

    @property
    def values_equal(self) -> bool:
        """Whether the target's arguments alone give the source's values (weight converted as stated)."""
        return self.exact

    @property
    def verdict(self) -> str:
        if self.exact:
            return "equal in shape and in values"
        if self.shape_equal:
            return "equal in shape only; equal in values after the fix"
        return "not equal as it stands; equal in shape and in values after the fix"

    def fix_steps(self) -> list[str]:
        """The fix in words, one instruction per axis that needs one (both sides in it).

        A positive amount crops the output of a transposed layer and pads the input of a convolution.
        """
        steps = []
        # (both sides, one side) for a positive amount, then for a negative one.
        if self.source.is_transposed:
            positive = (
                "remove the first {} and the last {} output element(s)",
                "remove the {} {} output element(s)",
            )
            negative = (
                "add {} zero(s) at the start and {} at the end of the output",
                "add {1} zero(s) at the {0} of the output",
            )
        else:
            positive = (
                "pad the input with {} zero(s) at the start and {} at the end",
                "pad the input with {1} zero(s) at the {0}",
            )
            negative = (
                "remove the first {} and the last {} input element(s)",
                "remove the {} {} input element(s)",
            )
        for n, (before, after) in enumerate(self.fix):
            words = _fix_words(before, after, positive, negative, transposed=self.source.is_transposed)
            if words:
                steps.append(f"axis {n}: {words}")
        return steps


def _fix_words(
    before: int, after: int, positive: tuple[str, str], negative: tuple[str, str], *, transposed: bool
) -> str:
    """Both sides of one axis in one phrase: "remove the first 1 and the last 1 output element(s)"."""
    if before > 0 and after > 0:
        return positive[0].format(before, after)
    if before < 0 and after < 0:
        return negative[0].format(-before, -after)
    sides = []
    for amount, first, side in ((before, "first", "start"), (after, "last", "end")):
        if amount == 0:
            continue
        template = positive[1] if amount > 0 else negative[1]
        # Crops and removals name the elements (first/last); zeros name the side (start/end).
        removes = (amount > 0) == transposed
        sides.append(template.format(first if removes else side, abs(amount)))
    return " and ".join(sides)


def _unfixed_output(source: FrameworkLayer, target: FrameworkLayer) -> tuple[int, ...]:
    """The target's output on the source's own input (a convolution's fix would have grown it)."""
    if source.is_transposed:
        return target.output
    return tuple(
        ConvAxis(w.size, a.kernel_size, a.stride, a.dilation, a.pad_before, a.pad_after).output
        for w, a in zip(source.conv, target.conv)
    )


def _unread_end(wanted: ConvAxis, produced: ConvAxis) -> bool:
    """Same input, same start, as many windows: the end pads differ only where no window reads."""
    return produced.size == wanted.size and produced.output == wanted.output


def _fix(wanted: FrameworkLayer, produced: FrameworkLayer) -> Pairs | None:
    """wanted - produced per side, or None where the difference cannot be made up exactly.

    A negative fix removes elements: exact only where the target's own pad or crop on that side is
    <= 0 already (it then only adds zeros or trims what the wanted layer trims too), i.e.
    produced <= max(wanted, 0). For a convolution an end fix is dropped where no window reaches it.
    """
    fix = []
    for n, ((wb, wa), (pb, pa)) in enumerate(zip(wanted.placement, produced.placement)):
        fb, fa = wb - pb, wa - pa
        if not wanted.is_transposed and fb == 0 and _unread_end(wanted.conv[n], produced.conv[n]):
            fa = 0
        if (fb and pb > max(wb, 0)) or (fa and pa > max(wa, 0)):
            return None
        fix.append((fb, fa))
    if (
        not wanted.is_transposed
        and any(f != (0, 0) for f in fix)
        and produced.args.padding_word in SIZE_DEPENDENT_WORDS
    ):
        # A 'same' padding recomputes its pads for a padded input; only exact matches are safe. (A
        # transposed layer's fix works on its output, so its input and its crops stay as read.)
        return None
    if produced.conv and any(
        (a.kernel_size, a.stride, a.dilation) != (b.kernel_size, b.stride, b.dilation)
        for a, b in zip(wanted.conv, produced.conv)
    ):
        return None
    if produced.transposed and any(
        (a.kernel_size, a.stride, a.dilation) != (b.kernel_size, b.stride, b.dilation)
        for a, b in zip(wanted.transposed, produced.transposed)
    ):
        return None
    return tuple(fix)


def _cost(fix: Pairs) -> int:
    return sum(abs(b) + abs(a) for b, a in fix)


def _candidates(target: Convention, wanted: FrameworkLayer) -> list[LayerArgs]:
    if wanted.is_transposed:
        return target.transposed_candidates(wanted)
    return target.conv_candidates(wanted)


def _read_candidate(target: Convention, wanted: FrameworkLayer, args: LayerArgs) -> FrameworkLayer:
    """The target's reading of a candidate; a convolution is read on its input after the fix.

    The fix pads (or trims) a convolution's input, so the target layer sees that size, and its rules
    (the kernel fitting, for one) apply to it. Pads that do not depend on the size are first found on a
    probe input long enough for any kernel.
    """
    if wanted.is_transposed or args.padding_word in SIZE_DEPENDENT_WORDS:
        return target.read(args)
    probe = target.read(with_(args, size=tuple(a.size + a.dilated_kernel for a in wanted.conv)))
    sizes = []
    for a, (wb, wa), (pb, pa) in zip(wanted.conv, wanted.placement, probe.placement):
        # Same start and as many windows: the end padding differs only where no window reads.
        unread = wb == pb and ConvAxis(a.size, a.kernel_size, a.stride, a.dilation, pb, pa).output == a.output
        sizes.append(a.size if unread else a.size + (wb - pb) + (wa - pa))
    if min(sizes) < 1:
        raise ConvCalcError("the fix would remove the whole input", parameter="to")
    return target.read(with_(args, size=tuple(sizes)))


def translate(source: FrameworkLayer, target_name: str, channels: Channels | None = None) -> Translation:
    """The target framework's closest arguments for a layer already read by its source framework."""
    target = convention(target_name, "to")
    src = convention(source.framework, "from")
    if channels is not None and channels.groups > 1 and source.is_transposed:
        for conv in (src, target):
            if not conv.transposed_groups:
                raise ConvCalcError(
                    f"{conv.title} has no groups for transposed convolutions: give groups=1, or split the "
                    f"layer into {channels.groups} layers of {channels.in_channels // channels.groups} -> "
                    f"{channels.out_channels // channels.groups} channels; got groups={channels.groups}",
                    parameter="groups",
                )
    # The candidates start from the canonical axes (Paddle's 'SAME' may have changed the dilation).
    wanted_axes = source.transposed if source.is_transposed else source.conv
    layer = source.layer
    canonical = FrameworkLayer(
        source.framework,
        LayerArgs(
            size=tuple(a.size for a in wanted_axes),
            kernel_size=layer.kernel_size,
            stride=layer.stride,
            dilation=layer.dilation,
            padding=((0, 0),) * layer.ndim,
            transposed=layer.transposed,
        ),
        conv=source.conv,
        transposed=source.transposed,
    )
    # Best: a layer every backend of the target runs, then the smallest fix.
    best: tuple[tuple[bool, int], FrameworkLayer, Pairs] | None = None
    exact_elsewhere: FrameworkLayer | None = None
    shape_only: FrameworkLayer | None = None
    refusals: list[str] = []
    for args in _candidates(target, canonical):
        try:
            produced = _read_candidate(target, canonical, args)
        except ConvCalcError as error:
            refusals.append(str(error))
            continue
        fix = _fix(canonical, produced)
        rank = (bool(produced.unsupported_by), -1 if fix is None else _cost(fix))
        if fix is not None and (best is None or rank < best[0]):
            best = (rank, produced, fix)
        if fix is not None and rank == (True, 0) and exact_elsewhere is None:
            exact_elsewhere = produced
        # The shape-only alternative too: one every backend runs before one some backend refuses.
        if (
            (shape_only is None or (shape_only.unsupported_by and not produced.unsupported_by))
            and _unfixed_output(source, produced) == source.output
            and produced.placement != canonical.placement
        ):
            shape_only = produced
    if best is None:
        reasons = "; ".join(dict.fromkeys(refusals)) or "no arguments of its own reproduce it"
        raise ConvCalcError(f"{target.title} cannot express this layer: {reasons}", parameter="to")
    _, produced, fix = best
    notes = list(produced.notes)
    exact = all(f == (0, 0) for f in fix)
    if exact_elsewhere is not None and not exact:
        spelled = ", ".join(f"{name}={value}" for name, value in target.spell(exact_elsewhere.args))
        notes.append(
            f"exact without a fix, but refused or computed otherwise by "
            f"{' and '.join(exact_elsewhere.unsupported_by)}: {spelled}"
        )
    notes.extend(target.port_notes(canonical, produced, exact))
    groups = 1 if channels is None else channels.groups
    if source.is_transposed and not target.transposed_groups and channels is None:
        notes.append(
            f"{target.title} has no groups for transposed convolutions: split a grouped layer per group"
        )
    translation = Translation(
        source=source,
        target=produced,
        arguments=tuple(target.spell(produced.args)),
        fix=fix,
        weight=weight_change(src.layout(source.args), target.layout(produced.args), len(wanted_axes), groups),
        shape_only=None,
        notes=tuple(notes),
        channels=channels,
    )
    if shape_only is None or translation.shape_equal or shape_only.placement == produced.placement:
        return translation
    if shape_only.unsupported_by:
        notes.append(
            "the same-shape spelling is refused or computed otherwise by "
            f"{' and '.join(shape_only.unsupported_by)}; no spelling every backend runs has that shape"
        )
    return replace(translation, shape_only=tuple(target.spell(shape_only.args)), notes=tuple(notes))


def port(
    source_name: str,
    target_name: str,
    size: object,
    kernel_size: object,
    *,
    in_channels: object = None,
    out_channels: object = None,
    groups: object = 1,
    **arguments: object,
) -> Translation:
    """Read a layer with the source framework's rules and express it with the target's.

    >>> t = port("tensorflow", "pytorch", 5, 3, stride=2, padding="same", transposed=True)
    >>> t.source.output, t.target.output, t.fix_steps()
    ((10,), (11,), ['axis 0: remove the last 1 output element(s)'])
    """
    convention(target_name, "to")
    layer = read(convention(source_name, "from").name, size, kernel_size, **arguments)
    return translate(layer, target_name, make_channels(in_channels, out_channels, groups))
