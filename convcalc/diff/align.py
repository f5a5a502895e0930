"""Which layer of model B is which layer of model A: names where they match, then order and shapes.

Names are matched by their path tokens ("/up1/ConvTranspose" and "up1"; "model/conv2d_1/BiasAdd" and
"conv2d_1"): a match must be the only one on both sides, of the same kind, and in the same dataflow
order as the other matches. Between two matched layers the rest is aligned by order: one to one when
both runs have the same kinds, else by the alignment that pairs the most layers of the same kind
(preferring equal channels and sizes), the others left missing in B or extra in B.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

from convcalc.diff.layers import Layer

Pairing = list[tuple[Layer | None, Layer | None]]

_SPLIT = re.compile(r"[/.:]+")


def name_key(layer: Layer) -> tuple[str, ...]:
    """The path tokens of a layer's name, its op's own name dropped from the end."""
    tokens = [t for t in _SPLIT.split(layer.name.lower()) if t]
    if len(tokens) > 1 and tokens[-1] == layer.node.op.lower():
        tokens.pop()
    return tuple(tokens)


def _contains(long: tuple[str, ...], short: tuple[str, ...]) -> bool:
    n = len(short)
    return n > 0 and any(long[i : i + n] == short for i in range(len(long) - n + 1))


def _kind(layer: Layer) -> str:
    return layer.kind


def name_anchors(a: Sequence[Layer], b: Sequence[Layer]) -> list[tuple[int, int]]:
    """Pairs (index in a, index in b) matched by name, unique both ways, in increasing order in both."""
    keys_b = [name_key(layer) for layer in b]
    exact: dict[tuple[str, ...], list[int]] = {}
    by_token: dict[str, set[int]] = {}
    for j, key in enumerate(keys_b):
        exact.setdefault(key, []).append(j)
        for token in key:
            by_token.setdefault(token, set()).add(j)
    found: dict[int, list[int]] = {}
    for i, layer in enumerate(a):
        key = name_key(layer)
        matches = exact.get(key, [])
        if not matches:
            sharing = set().union(*(by_token.get(token, set()) for token in key))
            matches = sorted(
                j
                for j in sharing
                if len(keys_b[j]) != len(key) and (_contains(keys_b[j], key) or _contains(key, keys_b[j]))
            )
        matches = [j for j in matches if _kind(b[j]) == _kind(layer)]
        if len(matches) == 1:
            found[i] = matches
    taken: dict[int, int] = {}
    for i, (j,) in found.items():
        taken[j] = -1 if j in taken else i
    pairs = sorted((i, j) for j, i in taken.items() if i >= 0)
    return _increasing(pairs)


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of pairs increasing in both indices (patience sorting on the second)."""
    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = []
    for n, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[k] = j
            tail_at[k] = n
        back.append(tail_at[k - 1] if k else -1)
    chain: list[tuple[int, int]] = []
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        chain.append(pairs[n])
        n = back[n]
    return chain[::-1]


Key = tuple[str, tuple[int, ...], str, tuple[int, ...]]


def _key(layer: Layer) -> Key:
    return (layer.kind, layer.output_shape, layer.detail, layer.sizes)


def _score(x: Key, y: Key) -> int:
    """-1 for another kind (never paired); else 4, plus one for each of output shape, variety and input
    sizes that agree."""
    if x[0] != y[0]:
        return -1
    return 4 + (x[1] == y[1]) + (x[2] == y[2]) + (x[3] == y[3])


def _segment(a: Sequence[Layer], b: Sequence[Layer]) -> Pairing:
    if len(a) == len(b) and all(_kind(x) == _kind(y) for x, y in zip(a, b)):
        return list(zip(a, b))
    n, m = len(a), len(b)
    ka, kb = [_key(x) for x in a], [_key(y) for y in b]
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below, x = best[i], best[i + 1], ka[i]
        for j in range(m - 1, -1, -1):
            s = _score(x, kb[j])
            row[j] = max(below[j], row[j + 1], below[j + 1] + s if s >= 0 else -1)
    pairs: Pairing = []
    i = j = 0
    while i < n and j < m:
        s = _score(ka[i], kb[j])
        if s >= 0 and best[i][j] == best[i + 1][j + 1] + s:
            pairs.append((a[i], b[j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            pairs.append((a[i], None))
            i += 1
        else:
            pairs.append((None, b[j]))
            j += 1
    pairs += [(x, None) for x in a[i:]]
    pairs += [(None, y) for y in b[j:]]
    return pairs


def align(a: Sequence[Layer], b: Sequence[Layer]) -> Pairing:
    """Every layer of A and of B once: paired, missing in B (b None) or extra in B (a None)."""
    pairs: Pairing = []
    i = j = 0
    for ai, bj in [*name_anchors(a, b), (len(a), len(b))]:
        pairs += _segment(a[i:ai], b[j:bj])
        if ai < len(a) and bj < len(b):
            pairs.append((a[ai], b[bj]))
        i, j = ai + 1, bj + 1
    return pairs
