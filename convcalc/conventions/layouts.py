"""Weight layouts: how each framework orders a convolution weight's axes, and how to turn one into another.

A convention declares its layouts (``Convention.conv_layout``, ``Convention.layout(args)``); ``port``
states the change between two of them and ``port.execute`` applies it to an array. Pure: the
layouts are names, the changes permutations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    """A weight layout: axis names in order ('S' stands for the spatial axes) and whether it is flipped.

    Channel names: 'I' the layer's input channels, 'O' its output channels, '/g' divided by groups.
    ``flipped`` is True where the framework's kernel is the spatial reverse of the adjoint (PyTorch)
    convention, as in JAX's conv_transpose without transpose_kernel.
    """

    axes: tuple[str, ...]
    flipped: bool = False

    def expand(self, ndim: int) -> tuple[str, ...]:
        out: list[str] = []
        for name in self.axes:
            out.extend(f"k{n}" for n in range(ndim)) if name == "S" else out.append(name)
        return tuple(out)

    def describe(self, ndim: int) -> str:
        words = {"I": "in", "O": "out", "I/g": "in/groups", "O/g": "out/groups"}
        text = "(" + ", ".join(words.get(a, a) for a in self.expand(ndim)) + ")"
        return text + (", spatially flipped" if self.flipped else "")


@dataclass(frozen=True)
class WeightChange:
    """How to turn a weight of one layout into another: permute the axes, then maybe reverse spatial axes."""

    source: str
    target: str
    permutation: tuple[int, ...]
    flip_spatial: tuple[int, ...]
    # With groups > 1, a layout whose full channel axis is the other one (Equinox's transposed weight)
    # needs a swap within each group, not a plain transpose.
    regroup: bool = False
    groups: int = 1
    source_axes: tuple[str, ...] = ()
    target_axes: tuple[str, ...] = ()

    @property
    def identity(self) -> bool:
        return self.permutation == tuple(range(len(self.permutation))) and not self.flip_spatial

    def describe(self) -> str:
        if self.identity:
            return "none: the same tensor"
        steps = []
        if self.regroup:
            steps.append(
                f"view the first channel axis as ({self.groups} groups, channels/groups), swap the two "
                "per-group channel axes within each group, merge the groups into the new first channel axis"
            )
        elif self.permutation != tuple(range(len(self.permutation))):
            steps.append(f"transpose the axes into the order {self.permutation}")
        if self.flip_spatial:
            steps.append("reverse the spatial axes " + ", ".join(map(str, self.flip_spatial)))
        return "; then ".join(steps)


def weight_change(source: Layout, target: Layout, ndim: int, groups: int = 1) -> WeightChange:
    """The permutation target_axes[n] = source_axes[perm[n]], then a flip where only one is flipped."""
    src = [a.split("/")[0] for a in source.expand(ndim)]
    dst = [a.split("/")[0] for a in target.expand(ndim)]
    permutation = tuple(src.index(a) for a in dst)
    flip = tuple(dst.index(f"k{n}") for n in range(ndim)) if source.flipped != target.flipped else ()
    regroup = groups > 1 and full_channel(source) != full_channel(target)
    return WeightChange(
        source.describe(ndim),
        target.describe(ndim),
        permutation,
        flip,
        regroup,
        groups,
        source.expand(ndim),
        target.expand(ndim),
    )


def full_channel(layout: Layout) -> str:
    """The channel axis that holds every group ('I' or 'O'); the other one is per group."""
    return "O" if "I/g" in layout.axes else "I"


def weight_shape(
    layout: Layout, kernel_size: Sequence[int], in_channels: int, out_channels: int, groups: int
) -> tuple[int, ...]:
    """The weight tensor's shape in a layout, for a layer mapping in_channels to out_channels.

    >>> weight_shape(Layout(("S", "O", "I")), (3, 3), 4, 6, 1)
    (3, 3, 6, 4)
    """
    sizes = {"I": in_channels, "O": out_channels, "I/g": in_channels // groups, "O/g": out_channels // groups}
    sizes.update({f"k{n}": k for n, k in enumerate(kernel_size)})
    return tuple(sizes[name] for name in layout.expand(len(kernel_size)))
