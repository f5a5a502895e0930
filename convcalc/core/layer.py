"""One layer in the core's canonical form, without its input size: the value every feature passes.

The reader, solve's answers, chain's steps, a framework's reading (``FrameworkLayer.layer``) and the
engine's ``run_layer`` all speak it. A NamedTuple (immutable, ``_replace``, equality); it lives in its
own module, loaded when first used, so that ``convcalc shape`` in convcalc's own dialect does not pay for
defining it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from convcalc.core.axes import ConvAxis, DirectAxis, Pairs, TransposedAxis, direct_form


class Layer(NamedTuple):
    """A convolution or transposed convolution in the core's canonical form, for any input size.

    ``placement`` holds per axis the pads (before, after) of a convolution, or the crops (before,
    after) of a transposed convolution's full output (i-1)*s + K (negative: zeros appended).
    ``output_padding`` is the part of a transposed layer's after-crop PyTorch spells as output_padding
    (its ``padding`` is then ``(crop_before, crop_after + output_padding)``); zeros for a convolution.
    Channels are None when not known.

    >>> from convcalc.core import transposed_layer
    >>> layer = Layer.of(transposed_layer(31, 4, stride=2, padding=1, output_padding=1), (1,))
    >>> layer.words(), layer.outputs((31,)), layer.twin().words()
    ('k4 s2 p1 op1', (63,), 'k4 s2 p1')
    """

    kind: str
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    placement: Pairs
    output_padding: tuple[int, ...]
    groups: int = 1
    in_channels: int | None = None
    out_channels: int | None = None

    @classmethod
    def of(
        cls,
        axes: Sequence[ConvAxis | TransposedAxis],
        output_padding: Sequence[int] | None = None,
        *,
        groups: int = 1,
        in_channels: int | None = None,
        out_channels: int | None = None,
    ) -> Layer:
        """The layer the core's axes describe; ``output_padding`` only for transposed axes."""
        kind = "transposed" if isinstance(axes[0], TransposedAxis) else "conv"
        placement = tuple(
            (a.crop_before, a.crop_after) if isinstance(a, TransposedAxis) else (a.pad_before, a.pad_after)
            for a in axes
        )
        ops = tuple(output_padding) if output_padding is not None else (0,) * len(axes)
        assert kind == "transposed" or not any(ops), "output_padding belongs to a transposed layer"
        return cls(
            kind,
            tuple(a.kernel_size for a in axes),
            tuple(a.stride for a in axes),
            tuple(a.dilation for a in axes),
            placement,
            ops,
            groups,
            in_channels,
            out_channels,
        )

    @property
    def ndim(self) -> int:
        return len(self.kernel_size)

    @property
    def transposed(self) -> bool:
        return self.kind == "transposed"

    @property
    def padding(self) -> Pairs:
        """PyTorch's padding pairs: the pads, or the crops with the output_padding given back."""
        if not self.transposed:
            return self.placement
        return tuple((b, a + op) for (b, a), op in zip(self.placement, self.output_padding))

    def conv_axes(self, size: Sequence[int]) -> tuple[ConvAxis, ...]:
        """The convolution's axes for an input of this size (not checked: see ``conv_axes_for``)."""
        assert not self.transposed
        return tuple(
            ConvAxis(i, k, s, d, b, a)
            for i, k, s, d, (b, a) in zip(size, self.kernel_size, self.stride, self.dilation, self.placement)
        )

    def transposed_axes(self, size: Sequence[int]) -> tuple[TransposedAxis, ...]:
        """The transposed convolution's axes for an input of this size (not checked)."""
        assert self.transposed
        return tuple(
            TransposedAxis(i, k, s, d, b, a)
            for i, k, s, d, (b, a) in zip(size, self.kernel_size, self.stride, self.dilation, self.placement)
        )

    def outputs(self, size: Sequence[int]) -> tuple[int, ...]:
        """The output size of every axis for an input of this size."""
        axes = self.transposed_axes(size) if self.transposed else self.conv_axes(size)
        return tuple(a.output for a in axes)

    def twin(self) -> Layer:
        """The other kind with the same kernel, stride, dilation and PyTorch padding (output_padding 0)."""
        kind = "conv" if self.transposed else "transposed"
        channels = (self.out_channels, self.in_channels)
        return self._replace(
            kind=kind,
            placement=self.padding,
            output_padding=(0,) * self.ndim,
            in_channels=channels[0],
            out_channels=channels[1],
        )

    def direct_form(self, size: Sequence[int]) -> tuple[DirectAxis, ...]:
        """A transposed layer as a stride-1 convolution of its zero-stretched input (``direct_form``)."""
        return tuple(direct_form(a) for a in self.transposed_axes(size))

    def words(self) -> str:
        """k4 s2 p1, then op for a transposed layer and d when it is not 1: PyTorch's arguments."""
        pads = [str(b) if b == a else f"{b}:{a}" for b, a in self.padding]
        words = [f"k{_same(self.kernel_size)}", f"s{_same(self.stride)}", f"p{_same(pads)}"]
        if self.transposed:
            words.append(f"op{_same(self.output_padding)}")
        if any(d != 1 for d in self.dilation):
            words.append(f"d{_same(self.dilation)}")
        return " ".join(words)


def _same(values: Sequence[object]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "x".join(str(v) for v in values)
