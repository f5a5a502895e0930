"""Pooling and resize-upsampling axes, the other layers of a chain (PyTorch's rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from convcalc.core.axes import dilated_kernel_size
from convcalc.errors import ConvCalcError

# ---------------------------------------------------------------------------------------------------
# Pooling and resize-upsampling (the other layers of a chain), PyTorch's rules.


@dataclass(frozen=True)
class PoolAxis:
    """One axis of max/avg pooling: o = floor_or_ceil((i + 2p - K) / s) + 1, PyTorch's ceil_mode rule.

    With ceil_mode the last window may hang over the end, but it must start inside the input or the
    left padding: if (o-1)*s >= i + p, that window is dropped.
    """

    size: int
    kernel_size: int
    stride: int
    dilation: int
    padding: int
    ceil_mode: bool

    @property
    def dilated_kernel(self) -> int:
        return dilated_kernel_size(self.kernel_size, self.dilation)

    @property
    def padded_size(self) -> int:
        return self.size + 2 * self.padding

    @property
    def output(self) -> int:
        span = self.padded_size - self.dilated_kernel
        if not self.ceil_mode:
            return span // self.stride + 1
        out = -(-span // self.stride) + 1
        return out - 1 if (out - 1) * self.stride >= self.size + self.padding else out

    @property
    def remainder(self) -> int:
        """r = (i + 2p - K) mod s: elements past the last full window (dropped, or in a partial window)."""
        return (self.padded_size - self.dilated_kernel) % self.stride

    @property
    def dropped(self) -> int:
        """Real inputs no window reaches: max(r - p, 0), or 0 when ceil_mode keeps a partial window."""
        if self.ceil_mode and self.output > (self.padded_size - self.dilated_kernel) // self.stride + 1:
            return 0
        return max(self.remainder - self.padding, 0)


def pool_axes_for(
    sizes: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    ceil_mode: bool,
) -> tuple[PoolAxis, ...]:
    """Pooling axes for per-axis arguments; PyTorch's rules: p <= k/2 and an output of at least 1."""
    axes = tuple(
        PoolAxis(i, k, s, d, p, ceil_mode)
        for i, k, s, p, d in zip(sizes, kernel_size, stride, padding, dilation)
    )
    for n, axis in enumerate(axes):
        if 2 * axis.padding > axis.kernel_size:
            raise ConvCalcError(
                f"pooling padding must be at most half the kernel size (PyTorch's rule); got padding "
                f"{axis.padding} with kernel_size {axis.kernel_size} on axis {n}",
                parameter="padding",
            )
        # With ceil_mode a window may hang over the end, so only the output size itself is checked.
        if axis.output < 1:
            raise ConvCalcError(
                f"the pooling output size would be {axis.output} on axis {n}; it must be >= 1 (size "
                f"{axis.size}, padding {axis.padding}, window {axis.dilated_kernel}, stride {axis.stride}, "
                f"ceil_mode {axis.ceil_mode})",
                parameter="size",
            )
    return axes


@dataclass(frozen=True)
class UpsampleAxis:
    """One axis of resize-upsampling by an integer scale factor: o = i * scale (nearest or bilinear)."""

    size: int
    scale: int

    @property
    def output(self) -> int:
        return self.size * self.scale
