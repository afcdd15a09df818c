"""Shared bits of the benchmark scripts: timing medians and the verdict lines (not part of the package)."""

from __future__ import annotations

import statistics
from collections.abc import Callable


def median_of(repeat: int, measure: Callable[[], float]) -> float:
    """The median of ``repeat`` measurements."""
    return statistics.median(measure() for _ in range(repeat))


def verdict(name: str, met: bool, detail: str) -> bool:
    """Print one target line and return whether it was met."""
    print(f"  target {'MET ' if met else 'MISSED'}  {name}: {detail}")
    return met
