"""The import report: the seed's six counters, a journal and a rejects file.

The journal and the rejects are written as the import goes, so memory stays
bounded whatever the number of errors.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


@dataclass
class Counters:
    processed: int = 0
    rejected: int = 0
    added: int = 0
    updated: int = 0
    errors: int = 0
    warnings: int = 0

    def lines(self) -> list[str]:
        return [
            f"records processed: {self.processed}",
            f"records rejected: {self.rejected}",
            f"statistics added: {self.added}",
            f"statistics updated: {self.updated}",
            f"errors: {self.errors}",
            f"warnings: {self.warnings}",
        ]


@dataclass
class ImportReport:
    journal_path: Path
    rejects_path: Path
    encoding: str
    counters: Counters = field(default_factory=Counters)
    _journal: TextIO | None = None
    _rejects: TextIO | None = None
    rejects_header: str = ""  # the input's header line, as it was: first line of the rejects file

    def open(self) -> None:
        self.journal_path.parent.mkdir(parents=True, exist_ok=True)
        self._journal = self.journal_path.open("w", encoding="utf-8", newline="")

    def file_error(self, message: str) -> None:
        self.counters.errors += 1
        self._write_journal(f"file: error: {message}\n")

    def warning(self, line: int, message: str) -> None:
        self.counters.warnings += 1
        self._write_journal(f"line {line}: warning: {message}\n")

    def reject(self, line: int, raw: str, message: str) -> None:
        self.counters.rejected += 1
        self.counters.errors += 1
        self._write_journal(f"line {line}: error: {message}\n")
        if self._rejects is None:
            # newline="" keeps the raw lines' own line ends
            self._rejects = self.rejects_path.open("w", encoding=self.encoding, newline="")
            self._rejects.write(self.rejects_header)
        self._rejects.write(raw if raw.endswith(("\n", "\r")) else raw + "\n")

    def _write_journal(self, text: str) -> None:
        assert self._journal is not None
        self._journal.write(text)

    def close(self) -> None:
        assert self._journal is not None
        self._journal.write("".join(f"{line}\n" for line in self.counters.lines()))
        for handle in (self._journal, self._rejects):
            if handle is not None:
                handle.close()

    @property
    def has_rejects(self) -> bool:
        return self._rejects is not None
