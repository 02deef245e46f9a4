"""The import report: the seed's six counters, a journal and a rejects file.

The journal and the rejects are written as the import goes, so memory stays
bounded whatever the number of errors.
"""

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TextIO

from aula_ws.errors import WriteFailed
from aula_ws.private_files import create_text


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


class ImportReport:
    """The journal `<folder>/<stem>.journal.txt` and, at the first rejected line, the rejects
    file `<folder>/<stem without suffix>.rejects<suffix>`. Both names are claimed when the file
    is created (aula_ws/private_files.py): two imports named alike in the same second get
    `<stamp>_<name>` and `<stamp>_<name stem>.2<suffix>`, never one another's file.

    Everything is written before the import commits (finish); a write that fails raises
    WriteFailed naming the file, and discard() removes what was written."""

    def __init__(self, folder: Path, stem: str, suffix: str, encoding: str):
        self.folder = folder
        self.encoding = encoding
        self.counters = Counters()
        self.rejects_header = ""  # the input's header line, as it was: first line of the rejects file
        self._suffix = suffix
        self._rejects: TextIO | None = None
        self.rejects_path: Path | None = None
        try:
            self.journal_path, self._journal = create_text(folder, f"{stem}.journal.txt", "utf-8")
        except OSError as error:
            raise WriteFailed.of("the journal", error) from None
        self._stem = self.journal_path.name.removesuffix(".journal.txt")

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
        try:
            if self._rejects is None:
                # errors="replace": a character the encoding cannot write (a lone surrogate) is "?"
                self.rejects_path, self._rejects = create_text(
                    self.folder, f"{PurePath(self._stem).stem}.rejects{self._suffix}", self.encoding, "replace"
                )
                self._rejects.write(self.rejects_header)
            self._rejects.write(raw if raw.endswith(("\n", "\r")) else raw + "\n")
        except OSError as error:
            raise WriteFailed.of("the rejects file", error, path=self.rejects_path) from None

    def _write_journal(self, text: str) -> None:
        try:
            self._journal.write(text)
        except OSError as error:
            raise WriteFailed.of("the journal", error, path=self.journal_path) from None

    def finish(self) -> None:
        """The counters last; every byte on disk (before the import commits)."""
        self._write_journal("".join(f"{line}\n" for line in self.counters.lines()))
        for what, handle, path in (
            ("the journal", self._journal, self.journal_path), ("the rejects file", self._rejects, self.rejects_path)
        ):
            if handle is not None and not handle.closed:
                try:
                    handle.close()
                except OSError as error:
                    raise WriteFailed.of(what, error, path=path) from None

    def discard(self) -> None:
        """Closes and removes what was written (a failed import leaves no half report)."""
        for handle, path in ((self._journal, self.journal_path), (self._rejects, self.rejects_path)):
            if handle is not None:
                try:
                    handle.close()
                except OSError:
                    pass  # the disk is full: what could not be flushed is dropped with the file
            if path is not None:
                path.unlink(missing_ok=True)

    @property
    def has_rejects(self) -> bool:
        return self.rejects_path is not None
