"""`convcalc chain`'s analysis: the chain run on its input, its skip pairs, the input sizes every axis
accepts (``convcalc.chain.sizes``) and the receptive field, in one ChainReport.

It sits above ``stack`` (running layers, pairing them) and ``sizes`` (the accepted sizes, which run the
chain through ``stack``), so that neither of them imports the other's caller.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.chain.sizes import Graphs, all_axes, check_chain_budget, receptive_fields
from convcalc.chain.stack import (
    MAX_LAYERS,
    ChainReport,
    Layer,
    _broadcast,
    _stack_pairs,
    run,
    skip_pairs,
)
from convcalc.core import MAX_AXES, normalize
from convcalc.errors import ConvCalcError


def chain_report(
    layers: Sequence[Layer], size: Sequence[int] | None = None, channels: int | None = None
) -> ChainReport:
    """Run the chain on ``size`` (default: the smallest input every axis restores) and analyse it."""
    if not layers:
        raise ConvCalcError("the chain has no layers", parameter="layers")
    if len(layers) > MAX_LAYERS:
        raise ConvCalcError(
            f"a chain may have at most {MAX_LAYERS} layers; got {len(layers)}", parameter="layers"
        )
    if channels is not None and (isinstance(channels, bool) or not isinstance(channels, int) or channels < 1):
        raise ConvCalcError(f"channels must be an integer >= 1; got {channels!r}", parameter="channels")
    if size is not None:
        sizes, _ = normalize(tuple(size), 1)
        ndim = len(sizes)
    else:
        ndim = max(
            (
                len(v)
                for layer in layers
                for v in (layer.kernel_size, layer.stride, layer.scale)
                if isinstance(v, tuple)
            ),
            default=1,
        )
    assert ndim <= MAX_AXES
    for index, layer in enumerate(layers, 1):  # axis counts before any per-axis work reads them
        for name in ("kernel_size", "stride", "output_padding", "dilation", "scale"):
            _broadcast(name, getattr(layer, name), ndim, layer.label(index))
    given = size is not None
    check_chain_budget(layers, ndim, given)
    if given:
        # The user's input first: its failure names the layer that breaks on it.
        try:
            results = run(layers, sizes, channels)
        except ConvCalcError as error:
            raise _with_smallest(error, layers, sizes) from None
    graphs: Graphs = {}
    accepted = all_axes(layers, ndim, graphs)
    if not given:
        smallest = [a.restores.smallest if a.restores is not None else None for a in accepted]
        sizes = tuple(s if s is not None else a.minimum for s, a in zip(smallest, accepted))
        results = run(layers, sizes, channels)
    pair_indices, unpaired = _stack_pairs(layers)
    return ChainReport(
        layers=tuple(layers),
        size=sizes,
        size_given=given,
        results=results,
        pairs=skip_pairs(layers, results, pair_indices, channels),
        unpaired=tuple(unpaired),
        accepted=accepted,
        fields=receptive_fields(layers, sizes, graphs),
    )


def _with_smallest(error: ConvCalcError, layers: Sequence[Layer], sizes: tuple[int, ...]) -> ConvCalcError:
    """A given size too small for a layer: the refusal, and the smallest size the whole chain runs from
    (its accepted sizes' minimum, per axis; every larger size runs too, since no layer refuses a larger
    input). Any other refusal as it is."""
    if type(error) is not ConvCalcError or error.parameter != "size":
        return error
    try:
        smallest = tuple(axis.minimum for axis in all_axes(layers, len(sizes)))
    except ConvCalcError:
        return error
    if not all(isinstance(m, int) and m >= 1 for m in smallest) or all(
        g >= m for g, m in zip(sizes, smallest)
    ):
        return error
    text = "x".join(map(str, smallest))
    return ConvCalcError(f"{error}; the chain runs from size {text}", parameter=error.parameter)
