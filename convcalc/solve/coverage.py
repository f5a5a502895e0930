"""Which positions a layer's taps reach: the coverage arithmetic solve ranks answers by.

A tap m (m < k) of a layer with stride s and dilation d reaches m*d + n*s for every input n of a
transposed convolution (every output n of a convolution). Outputs that no tap reaches receive nothing;
inputs no window reaches are never read. Closed forms where they exist, so huge kernels cost nothing.
"""

from __future__ import annotations

import bisect
import functools
import math

from convcalc.core import dilated_kernel_size


def even_coverage(kernel_size: int, stride: int, dilation: int) -> bool:
    """Do the taps m*d (m < k) fall equally often in every residue class mod s?

    The residues m*d mod s run through the multiples of g = gcd(d, s) with period s/g: with g > 1 the
    other classes are never reached; with g = 1 every class is reached floor(k/s) or ceil(k/s) times,
    equally often exactly when s divides k. Closed form, so a kernel of 10**18 costs nothing.

    >>> even_coverage(4, 2, 1), even_coverage(3, 2, 1), even_coverage(2, 2, 2)
    (True, False, False)
    """
    return stride == 1 or (math.gcd(dilation, stride) == 1 and kernel_size % stride == 0)


def unreached_classes(kernel_size: int, stride: int, dilation: int) -> int:
    """How many of every ``stride`` positions no tap m*d (m < k) reaches: outputs of a transposed
    convolution that receive nothing, inputs of a convolution that are never read.

    The residues m*d mod s repeat with period s/g (g = gcd(d, s)) and are distinct within a period, so
    min(k, s/g) classes are reached. Closed form, so a kernel of 10**18 costs nothing.

    >>> unreached_classes(1, 2, 1), unreached_classes(3, 2, 1), unreached_classes(2, 2, 2)
    (1, 0, 1)
    """
    return stride - min(kernel_size, stride // math.gcd(dilation, stride))


# Above this kernel_size the exact count below would walk too many taps; the count then keeps to what
# has a closed form (whole residue classes, and the border beyond the taps' reach).
MAX_COUNTED_TAPS = 4096


@functools.lru_cache(maxsize=256)
def _runs(count: int, kernel_size: int, stride: int, dilation: int) -> tuple[tuple[int, int, int], ...]:
    """The merged runs (r, a, b): positions r + t*s for a <= t <= b are reached (r a residue mod s).

    Tap m reaches m*d + n*s (0 <= n < count): in its class, the run of t from m*d // s, count long.
    """
    merged: dict[int, list[list[int]]] = {}
    for m in range(kernel_size):
        first, r = divmod(m * dilation, stride)
        runs = merged.setdefault(r, [])
        if runs and first <= runs[-1][1] + 1:
            runs[-1][1] = max(runs[-1][1], first + count - 1)
        else:
            runs.append([first, first + count - 1])
    return tuple((r, a, b) for r, runs in merged.items() for a, b in runs)


@functools.lru_cache(maxsize=256)
def reached(count: int, kernel_size: int, stride: int, dilation: int) -> bytes:
    """A byte per position of [0, reach): 1 where a tap reaches it (for a short reach only)."""
    reach = (count - 1) * stride + dilated_kernel_size(kernel_size, dilation)
    reached, ones = bytearray(reach), b"\x01" * count
    for m in range(kernel_size):
        start = m * dilation
        reached[start : start + (count - 1) * stride + 1 : stride] = ones
    return bytes(reached)


@functools.lru_cache(maxsize=1024)
def _not_sums(stride: int, dilation: int) -> tuple[int, ...]:
    """The numbers that are not n*s + m*d (n, m >= 0), for coprime s, d: (s-1)(d-1)/2 of them, all
    below s*d - s - d + 1 (Sylvester). Found per class: r + t*s is a sum from the class's first m*d.
    """
    inverse = pow(dilation, -1, stride) if stride > 1 else 0
    return tuple(
        sorted(
            r + t * stride for r in range(stride) for t in range((r * inverse % stride) * dilation // stride)
        )
    )


def unreached_positions(count: int, kernel_size: int, stride: int, dilation: int, lo: int, hi: int) -> int:
    """How many positions j in [lo, hi) are not n*s + m*d for any 0 <= n < count, 0 <= m < k.

    For a transposed convolution these are the outputs that receive nothing (count = input size, the
    window is the output inside the full output, which output_padding may extend past its end); for a
    convolution, the inputs no window reads (count = output size, the window is the real inputs inside
    the padding). The taps reach [0, reach) but for whole residue classes mod s and holes by the edges.

    >>> unreached_positions(32, 2, 2, 1, 0, 65), unreached_positions(32, 4, 2, 1, 1, 66)
    (1, 0)
    """
    k, s, d = kernel_size, stride, dilation
    if hi <= lo:
        return 0
    reach = (count - 1) * s + dilated_kernel_size(k, d)
    inside = max(min(hi, reach) - max(lo, 0), 0)
    beyond = hi - lo - inside  # past the last tap (or before the first): nothing reaches them
    if d == 1 and k >= s:
        return beyond  # the taps fill [0, reach) without a hole
    if reach <= MAX_COUNTED_TAPS * 16:
        return beyond + reached(count, k, s, d)[max(lo, 0) : hi].count(0)
    if unreached_classes(k, s, d) == 0 and (count - 1) * s >= (k - 1) * d and s * d <= MAX_COUNTED_TAPS**2:
        # Every class reached and the two edges apart: the holes by the start are the numbers that are
        # not n*s + m*d, those by the end their mirror images (n -> count-1-n, m -> k-1-m).
        holes = _not_sums(s, d)
        start = bisect.bisect_left(holes, hi) - bisect.bisect_left(holes, lo)
        end = bisect.bisect_right(holes, reach - 1 - lo) - bisect.bisect_right(holes, reach - 1 - hi)
        return beyond + start + end
    if k > MAX_COUNTED_TAPS:
        return beyond + unreached_classes(k, s, d) * inside // s  # the whole classes only
    covered = 0
    for r, a, b in _runs(count, k, s, d):
        low, high = -((r - lo) // s), (hi - 1 - r) // s  # the class's positions r + t*s inside [lo, hi)
        covered += max(min(b, high) - max(a, low) + 1, 0)
    return hi - lo - covered
