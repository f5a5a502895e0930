"""Small text helpers shared by the headlines and the tables: plain strings, importing nothing."""

from __future__ import annotations

from collections.abc import Sequence


def x_join(values: Sequence[object]) -> str:
    """(32, 64) -> '32x64'."""
    return "x".join(str(v) for v in values)


def same(values: Sequence[object]) -> str:
    """One value when every axis has it, else the per-axis values joined by x: (3, 3) -> '3'."""
    return str(values[0]) if len(set(values)) == 1 else x_join(values)
