"""A file run's report (the import's journal, the sync's report) and its rejects (the import's
rejects file, the sync's tryback file), written as the run goes.

One line per action, warning or error; the counters last. A refused line goes to
the rejects file exactly as it was, after the input's header, so it can be
fixed and run again. Memory stays bounded whatever the number of lines. What
differs between the import and the sync is data: the counters (names, labels,
which ones a refused line adds to, domain/csv_rows.py), the files' names and
how messages call them, the simulation prefix.

Hardening, here once for both: every line is XML-safe (reports travel in SOAP
answers; a message may quote a ZIP entry's name); both files are created
private under names claimed for this run alone (aula_ws/private_files.py), so
two runs named alike never write one another's file; a write that fails (a
full disk) raises WriteFailed naming the file; finish() puts every byte on disk
and must come before the run commits; discard() removes what was written.
"""

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TextIO, TypeVar

from aula_ws.domain.csv_rows import Counters
from aula_ws.domain.file_input import xml_safe
from aula_ws.errors import WriteFailed
from aula_ws.private_files import create_text

C = TypeVar("C", bound=Counters)


class Report(Generic[C]):
    """`name` (UTF-8) is created in `folder` at once; the rejects file, in `encoding`, at the first
    refused line, named `rejects_name(<the report's claimed name>)`. `what` and `rejects_what`
    name the files in errors ("the journal", "the rejects file")."""

    def __init__(
        self,
        folder: Path,
        name: str,
        rejects_name: Callable[[str], str],
        encoding: str,
        counters: C,
        *,
        what: str = "the report",
        rejects_what: str = "the rejects file",
        prefix: str = "",
    ):
        self.folder = folder
        self.encoding = encoding
        self.counters = counters
        self.prefix = prefix  # before every line (a simulation's)
        self.header_raw = ""  # the input's header line, as it was: first line of the rejects file
        self._rejects_name = rejects_name
        self._what = what
        self._rejects_what = rejects_what
        self._rejects: TextIO | None = None
        self.rejects_path: Path | None = None
        try:
            self.path, self._report = create_text(folder, name, "utf-8")
        except OSError as error:
            raise WriteFailed.of(what, error) from None

    def write(self, message: str) -> None:
        try:
            self._report.write(f"{self.prefix}{xml_safe(message)}\n")
        except OSError as error:
            raise WriteFailed.of(self._what, error, path=self.path) from None

    def action(self, where: int | str, counter: str, message: str) -> None:
        """An action on a line (its number) or an archive entry (its name)."""
        self.counters.count(counter)
        self.write(f"{_label(where)}: {message}")

    def warning(self, line: int, message: str) -> None:
        self.counters.count("warnings")
        self.write(f"line {line}: warning: {message}")

    def failure(self, where: int | str, message: str, raw: str | None = None) -> None:
        """A refused line goes to the rejects file as it was (`raw`); an archive entry has none."""
        for counter in self.counters.FAILED:
            self.counters.count(counter)
        self.write(f"{_label(where)}: error: {message}")
        if raw is None:
            return
        try:
            if self._rejects is None:
                # errors="replace": a character the encoding cannot write (a lone surrogate) is "?"
                self.rejects_path, self._rejects = create_text(
                    self.folder, self._rejects_name(self.path.name), self.encoding, "replace"
                )
                self._rejects.write(self.header_raw)
            self._rejects.write(raw if raw.endswith(("\n", "\r")) else raw + "\n")
        except OSError as error:
            raise WriteFailed.of(self._rejects_what, error, path=self.rejects_path) from None

    def finish(self) -> None:
        """The counters last; every byte on disk (before the run commits). Idempotent."""
        if self._report.closed:
            return
        for line in self.counters.lines():
            self.write(line)
        for what, handle, path in (
            (self._what, self._report, self.path),
            (self._rejects_what, self._rejects, self.rejects_path),
        ):
            if handle is not None:
                try:
                    handle.close()
                except OSError as error:
                    raise WriteFailed.of(what, error, path=path) from None

    def discard(self) -> None:
        """Closes and removes what was written (a failed run leaves no half report)."""
        for handle, path in ((self._report, self.path), (self._rejects, self.rejects_path)):
            if handle is not None:
                with contextlib.suppress(OSError):  # the disk is full: what could not be flushed goes with the file
                    handle.close()
            if path is not None:
                path.unlink(missing_ok=True)

    @property
    def has_rejects(self) -> bool:
        return self.rejects_path is not None


def _label(where: int | str) -> str:
    return f"line {where}" if isinstance(where, int) else where
