"""A sync file read as a stream of lines: comments skipped, fields split, numbers and raw text kept.

The raw text is kept so a failed line goes to the tryback file exactly as it
was. Bytes not valid in the file's encoding refuse the whole file (FileRefused),
naming the line.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from aula_ws.domain.sync_rows import detect_separator, is_comment, split_line
from aula_ws.importer.reader import FileRefused, decoded_lines

__all__ = ["FileRefused", "SyncFile", "SyncLine", "open_sync_file"]


@dataclass(frozen=True, slots=True)
class SyncLine:
    number: int
    raw: str
    fields: list[str]


@dataclass
class SyncFile:
    header: SyncLine | None
    separator: str
    lines: Iterator[SyncLine]


def open_sync_file(stream: BinaryIO, encoding: str, has_header: bool = True) -> SyncFile:
    meaningful = (
        (number, raw) for number, raw in enumerate(decoded_lines(stream, encoding), start=1) if not is_comment(raw)
    )
    separator, header = ";", None
    if has_header:
        first = next(meaningful, None)
        if first is None:
            return SyncFile(None, separator, iter(()))
        separator = detect_separator(first[1])
        header = SyncLine(first[0], first[1], split_line(first[1], separator))
    lines = (SyncLine(number, raw, split_line(raw, separator)) for number, raw in meaningful)
    return SyncFile(header, separator, lines)
