"""The run's report (one line per action or error) and its tryback file, written as the run goes.

In a simulation every report line is prefixed `SIMULATION : `. Failed lines go
to the tryback file as they were, after the original header, so it can be run
again once fixed. Memory stays bounded whatever the file's size.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from aula_ws.domain.sync_files import SIMULATION_PREFIX


@dataclass
class SyncCounters:
    processed: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: int = 0
    warnings: int = 0

    def lines(self) -> list[str]:
        return [
            f"lines processed: {self.processed}",
            f"added: {self.added}",
            f"updated: {self.updated}",
            f"removed: {self.removed}",
            f"unchanged: {self.unchanged}",
            f"lines failed: {self.failed}",
            f"warnings: {self.warnings}",
        ]


class SyncReport:
    def __init__(self, report_path: Path, tryback_path: Path, encoding: str, simulate: bool):
        self.report_path = report_path
        self.tryback_path = tryback_path
        self.encoding = encoding
        self.prefix = SIMULATION_PREFIX if simulate else ""
        self.counters = SyncCounters()
        self.header_raw = ""
        report_path.parent.mkdir(parents=True, exist_ok=True)
        self._report: TextIO = report_path.open("w", encoding="utf-8", newline="")
        self._tryback: TextIO | None = None

    def write(self, message: str) -> None:
        self._report.write(f"{self.prefix}{message}\n")

    def action(self, where: int | str, counter: str, message: str) -> None:
        """An action on a line (its number) or an archive entry (its name)."""
        setattr(self.counters, counter, getattr(self.counters, counter) + 1)
        self.write(f"{_label(where)}: {message}")

    def warning(self, line: int, message: str) -> None:
        self.counters.warnings += 1
        self.write(f"line {line}: warning: {message}")

    def failure(self, where: int | str, message: str, raw: str | None = None) -> None:
        """A failed line goes to the tryback file as it was (`raw`); an archive entry has none."""
        self.counters.failed += 1
        self.write(f"{_label(where)}: error: {message}")
        if raw is None:
            return
        if self._tryback is None:
            # newline="" keeps the raw lines' own line ends
            self._tryback = self.tryback_path.open("w", encoding=self.encoding, newline="", errors="replace")
            self._tryback.write(self.header_raw)
        self._tryback.write(raw if raw.endswith(("\n", "\r")) else raw + "\n")

    def close(self) -> None:
        for line in self.counters.lines():
            self.write(line)
        self._report.close()
        if self._tryback is not None:
            self._tryback.close()

    @property
    def has_tryback(self) -> bool:
        return self._tryback is not None



def _label(where: int | str) -> str:
    return f"line {where}" if isinstance(where, int) else where
