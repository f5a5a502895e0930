"""The rules that tie a transposed convolution's arguments to its canonical crops, each written once.

PyTorch's ``padding`` crops both ends of the full output ``(i-1)*s + K`` and ``output_padding`` gives
back elements at the end, so the canonical crops are ``(pad_before, pad_after - output_padding)``.
``output_padding`` chooses among the ``s`` input sizes a convolution maps to the same output, so most
frameworks demand ``output_padding < stride``; PyTorch accepts ``output_padding < max(stride,
dilation)``. Every module that needs one of these asks here.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.errors import ConvCalcError

Pairs = tuple[tuple[int, int], ...]


def _fmt(values: Sequence[object]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def pytorch_crops(padding: Pairs, output_padding: Sequence[int]) -> Pairs:
    """(pad_before, pad_after - output_padding) per axis: the canonical crops of PyTorch's arguments.

    >>> pytorch_crops(((1, 1), (2, 3)), (1, 0))
    ((1, 0), (2, 3))
    """
    return tuple((pb, pa - op) for (pb, pa), op in zip(padding, output_padding))


def output_padding_limit(stride: int, dilation: int, *, strict: bool = False) -> int:
    """The exclusive bound on output_padding: ``stride`` (strict: most frameworks), else PyTorch's
    ``max(stride, dilation)``.

    >>> output_padding_limit(1, 2), output_padding_limit(1, 2, strict=True)
    (2, 1)
    """
    return stride if strict else max(stride, dilation)


def output_padding_allowed(output_padding: int, stride: int, dilation: int, *, strict: bool = False) -> bool:
    """Whether 0 <= output_padding < the limit (see ``output_padding_limit``)."""
    return 0 <= output_padding < output_padding_limit(stride, dilation, strict=strict)


def check_output_padding(
    output_padding: Sequence[int], stride: Sequence[int], dilation: Sequence[int], *, strict: bool = False
) -> None:
    """Refuse an output_padding at or past its limit on any axis, naming the rule and the values."""
    ok = (
        output_padding_allowed(op, s, d, strict=strict) for op, s, d in zip(output_padding, stride, dilation)
    )
    if all(ok):
        return
    rule = (
        "output_padding must be smaller than the stride on every axis"
        if strict
        else "output_padding must be smaller than max(stride, dilation) on every axis (PyTorch's rule)"
    )
    raise ConvCalcError(
        f"{rule}; got output_padding={_fmt(output_padding)}, stride={_fmt(stride)}, "
        f"dilation={_fmt(dilation)}",
        parameter="output_padding",
    )


def symmetric_for_crop(total_crop: int, limit: int) -> tuple[int, int] | None:
    """Symmetric padding p and output_padding op with 2p - op = total_crop and op < limit; or None.

    A non-negative total takes the smallest such p (op is 0 or 1). A negative total can only be zeros
    appended at the end: p = 0 and op = -total, when that stays below the limit. Either way the
    output size equals the one the total crop gives; the values agree when the crops themselves were
    (p, p - op).

    >>> symmetric_for_crop(3, 2), symmetric_for_crop(-1, 2), symmetric_for_crop(-2, 2)
    ((2, 1), (0, 1), None)
    """
    if total_crop >= 0:
        p = -(-total_crop // 2)
        op = 2 * p - total_crop
    else:
        p, op = 0, -total_crop
    return (p, op) if op < limit else None
