"""The run's report (one line per action or error) and its tryback file, written as the run goes.

In a simulation every report line is prefixed `SIMULATION : `. Failed lines go
to the tryback file as they were, after the original header, so it can be run
again once fixed. Memory stays bounded whatever the file's size.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from aula_ws.domain.file_input import xml_safe
from aula_ws.domain.sync_files import SIMULATION_PREFIX
from aula_ws.errors import WriteFailed
from aula_ws.private_files import create_text


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
    """The report and the tryback file of one run, written in the store's work folder under
    names claimed for this run alone (aula_ws/private_files.py), placed by the run once done.

    Everything is written before the run commits (finish); a write that fails raises
    WriteFailed naming the file, and discard() removes what was written."""

    def __init__(self, folder: Path, report_name: str, tryback_name: str, encoding: str, simulate: bool):
        self.folder = folder
        self.tryback_name = tryback_name
        self.encoding = encoding
        self.prefix = SIMULATION_PREFIX if simulate else ""
        self.counters = SyncCounters()
        self.header_raw = ""
        self.tryback_path: Path | None = None
        self._tryback: TextIO | None = None
        try:
            self.report_path, self._report = create_text(folder, report_name, "utf-8")
        except OSError as error:
            raise WriteFailed.of("the report", error) from None

    def write(self, message: str) -> None:
        try:
            # lines are checked before they are read, but messages may quote a ZIP entry's name
            self._report.write(f"{self.prefix}{xml_safe(message)}\n")
        except OSError as error:
            raise WriteFailed.of("the report", error, path=self.report_path) from None

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
        try:
            if self._tryback is None:
                self.tryback_path, self._tryback = create_text(
                    self.folder, self.tryback_name, self.encoding, errors="replace"
                )
                self._tryback.write(self.header_raw)
            self._tryback.write(raw if raw.endswith(("\n", "\r")) else raw + "\n")
        except OSError as error:
            raise WriteFailed.of("the tryback file", error, path=self.tryback_path) from None

    def finish(self) -> None:
        """The counters last; every byte on disk (before the run commits). Idempotent."""
        if self._report.closed:
            return
        for line in self.counters.lines():
            self.write(line)
        for what, handle, path in (
            ("the report", self._report, self.report_path), ("the tryback file", self._tryback, self.tryback_path)
        ):
            if handle is not None:
                try:
                    handle.close()
                except OSError as error:
                    raise WriteFailed.of(what, error, path=path) from None

    def discard(self) -> None:
        """Closes and removes what was written (a failed run leaves no half report)."""
        for handle, path in ((self._report, self.report_path), (self._tryback, self.tryback_path)):
            if handle is not None:
                try:
                    handle.close()
                except OSError:
                    pass  # the disk is full: what could not be flushed goes with the file
            if path is not None:
                path.unlink(missing_ok=True)

    @property
    def has_tryback(self) -> bool:
        return self.tryback_path is not None


def _label(where: int | str) -> str:
    return f"line {where}" if isinstance(where, int) else where
