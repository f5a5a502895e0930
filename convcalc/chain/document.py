"""JSON documents of `convcalc chain`, built from the chain report (the tables use the same objects)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.jsonout import JsonDict, envelope
from convcalc.periodic import Accepted

if TYPE_CHECKING:  # inspect's documents use accepted_document without the chain's records
    from convcalc.chain.stack import ChainReport


def accepted_document(accepted: Accepted, size: int | None) -> JsonDict:
    below, above = accepted.nearest(size) if size is not None else (None, None)
    return {
        "period": accepted.period,
        "classes": list(accepted.classes),
        "singles": list(accepted.singles),
        "smallest": accepted.smallest,
        "contains_size": None if size is None else accepted.contains(size),
        "nearest_below": below,
        "nearest_above": above,
    }


def chain_document(report: ChainReport, listed: dict[int, tuple[int, ...]] | None = None) -> JsonDict:
    """The `convcalc chain --json` document; ``listed`` holds the restoring sizes in --range per axis."""
    layers = []
    for result, fields in zip(report.results, report.fields):
        layers.append(
            {
                "index": result.index,
                "kind": result.layer.kind,
                "text": result.layer.text,
                "size": list(result.size),
                "output": list(result.output),
                "in_channels": result.in_channels,
                "out_channels": result.out_channels,
                "dropped": list(result.dropped),
                "skipped": list(result.skipped),
                "receptive_field": None if fields is None else [f.receptive_field for f in fields],
                "jump": None if fields is None else [f.jump for f in fields],
                "first_window": None if fields is None else [[f.left, f.right] for f in fields],
            }
        )
    return envelope(
        "chain",
        input={"size": list(report.size), "size_given": report.size_given},
        exit_code=int(report.exit_code),
        output=list(report.output),
        layers=layers,
        pairs=[
            {
                "encoder": p.encoder,
                "decoder": p.decoder,
                "expected": list(p.expected),
                "got": list(p.got),
                "restored": list(p.restored),
                "output_padding_fix": list(p.output_padding_fix),
                "fix_strict": list(p.fix_strict),
            }
            for p in report.pairs
        ],
        unpaired=list(report.unpaired),
        accepted=[
            {
                "axis": a.axis,
                "minimum": a.minimum,
                "restores": None
                if a.restores is None
                else accepted_document(a.restores, report.size[a.axis]),
                "exact": None if a.exact is None else accepted_document(a.exact, report.size[a.axis]),
                "listed": None if listed is None or a.restores is None else list(listed.get(a.axis, ())),
                "note": a.note,
            }
            for a in report.accepted
        ],
    )
