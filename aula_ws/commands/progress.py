"""A progress line on the terminal for long work (nothing when stderr is not a terminal)."""

import sys
import time
from typing import BinaryIO


class ProgressLine:
    def __init__(self, total_bytes: int, unit: str):
        self.total_bytes = total_bytes
        self.unit = unit
        self.source: BinaryIO | None = None
        self.enabled = sys.stderr.isatty()
        self._last = 0.0

    def update(self, count: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.2:
            return
        self._last = now
        share = ""
        if self.source is not None and self.total_bytes:
            share = f" {100 * self.source.tell() // self.total_bytes:3d}%"
        sys.stderr.write(f"\r{share} {count:,} {self.unit}")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self._last:
            sys.stderr.write("\n")
