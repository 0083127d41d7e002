"""Milliseconds per named stage, for the one log line each processing run writes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block; a stage entered again adds to its total."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[name] = self._seconds.get(name, 0.0) + time.perf_counter() - start

    @property
    def ms(self) -> dict[str, int]:
        return {name: round(seconds * 1000) for name, seconds in self._seconds.items()}
