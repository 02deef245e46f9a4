"""Text files read as a stream of records, each with its line number and raw text.

Two dialects: quoted CSV with a detected delimiter (the statistics import) and
plain lines split at a separator, comments skipped (the sync files); the rules
of each (delimiter, comments, splitting) are in the domain. The raw text is
kept so that a refused record can be written back exactly as it was (rejects,
tryback). Bytes that are not valid in the file's encoding refuse the whole
file, naming the line; so does a header XML cannot carry.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice, repeat
from typing import BinaryIO, NamedTuple, NoReturn

from aula_ws.domain.csv_rows import header_problem
from aula_ws.domain.file_input import encoding_problem
from aula_ws.domain.statistics_rows import detect_delimiter
from aula_ws.domain.sync_rows import detect_separator, is_comment, split_line

csv.field_size_limit(1024 * 1024)


class FileRefused(ValueError):
    """The file as a whole cannot be read; nothing of it is applied."""


class Record(NamedTuple):  # a tuple: the cheapest record to build a million times
    line: int  # the file's line number where the record starts (1-based)
    raw: str  # the record's text as it was, line ends included
    fields: list[str] | None  # None: the record is not valid CSV
    # (the split-lines dialect always has fields)


def check_encoding(encoding: str) -> str:
    """The codec's own name of a text encoding; FileRefused for anything else."""
    problem = encoding_problem(encoding)
    if problem is not None:
        raise FileRefused(problem)
    return codecs.lookup(encoding).name


def _ascii_compatible(encoding: str) -> bool:
    return "a;\n".encode(encoding) == b"a;\n"


def decoded_lines(stream: BinaryIO, encoding: str) -> Iterator[str]:
    """The file's lines, decoded, line ends kept; FileRefused at the first bad line."""
    encoding = check_encoding(encoding)
    if not _ascii_compatible(encoding):  # UTF-16/32: the decoder finds lines itself
        text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
        number = 0
        try:
            for number, line in enumerate(text, start=1):
                yield line.lstrip("\ufeff") if number == 1 else line
        except UnicodeError:  # UTF-16 without a BOM raises the base class
            raise FileRefused(f"line {number + 1} (or soon after) is not valid {encoding}") from None
        return
    read = 0  # lines read before this chunk
    while chunk := stream.readlines(CHUNK_BYTES):  # whole lines, about CHUNK_BYTES of them
        if read == 0 and encoding == "utf-8" and chunk[0].startswith(codecs.BOM_UTF8):
            chunk[0] = chunk[0][len(codecs.BOM_UTF8) :]
        try:
            yield from list(map(_decode, chunk, repeat(encoding)))
        except UnicodeError:
            _refuse_first_bad_line(chunk, read, encoding)
        read += len(chunk)


CHUNK_BYTES = 1 << 16
_decode = bytes.decode


def _refuse_first_bad_line(lines: list[bytes], read: int, encoding: str) -> NoReturn:
    """FileRefused naming the first of `lines` (after `read` others) that is not valid `encoding`."""
    for number, raw in enumerate(lines, start=read + 1):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise FileRefused(f"line {number} is not valid {encoding} (byte {error.start + 1} of the line)") from None
        except UnicodeError:  # codecs such as idna raise the base class, with no position
            raise FileRefused(f"line {number} is not valid {encoding}") from None
    raise FileRefused(f"lines {read + 1} to {read + len(lines)} are not valid {encoding}")


def records(lines: Iterator[str], delimiter: str) -> Iterator[Record]:
    """CSV records with the raw text they came from; a malformed record is yielded with no fields.

    A line with no quote, NUL or inner carriage return is one record whose fields are its text
    split at the delimiter (exactly what csv makes of it, several times faster); any other line
    starts a record that csv reads, over as many lines as it takes. Lines come CHUNK at a time:
    a chunk without any such character (the usual one) is split all at once, at C speed."""
    lines = iter(lines)
    read = [0]  # how many lines have been read so far
    while chunk := list(islice(lines, CHUNK)):
        joined = "".join(chunk)
        if '"' in joined or "\x00" in joined or joined.count("\r") != joined.count("\r\n"):
            yield from _records_line_by_line(iter(chunk), lines, delimiter, read)
            continue
        texts = list(map(str.rstrip, chunk, repeat("\r\n")))  # every \r ends a line: plain lines
        fields = list(map(str.split, texts, repeat(delimiter)))
        if "" in texts:  # csv makes [] of an empty line, not [""]
            fields = [found if text else [] for text, found in zip(texts, fields, strict=True)]
        numbers = range(read[0] + 1, read[0] + 1 + len(chunk))
        read[0] += len(chunk)
        yield from map(_new_record, repeat(Record), zip(numbers, chunk, fields, strict=True))


CHUNK = 1000


def _records_line_by_line(
    chunk: Iterator[str], after: Iterator[str], delimiter: str, read: list[int]
) -> Iterator[Record]:
    """The records starting in `chunk`; a quoted one may go on into the lines `after` it."""
    consumed: list[str] = []

    def feed() -> Iterator[str]:
        for line in chain(chunk, after):
            read[0] += 1
            consumed.append(line)
            yield line

    for line in chunk:
        read[0] += 1
        start = read[0]
        text = line[:-1] if line.endswith("\n") else line
        if text.endswith("\r"):
            text = text[:-1]
        if '"' not in text and "\r" not in text and "\x00" not in text:
            yield _new_record(Record, (start, line, text.split(delimiter) if text else []))
            continue
        consumed.append(line)
        try:
            fields: list[str] | None = next(csv.reader(chain((line,), feed()), delimiter=delimiter, strict=True))
        except csv.Error:
            fields = None
        raw = consumed[0] if len(consumed) == 1 else "".join(consumed)
        consumed.clear()
        yield Record(start, raw, fields)


_new_record = tuple.__new__  # a Record without its Python-level __new__: a million of them


@dataclass
class DelimitedFile:
    header: Record | None
    delimiter: str
    body: Iterator[Record]


def _checked_header(header: Record) -> Record:
    if (problem := header_problem(header.line, header.raw)) is not None:
        raise problem
    return header


def without_blank(records: Iterator[Record]) -> Iterator[Record]:
    """Blank records (csv gives []) are skipped, not counted."""
    return (r for r in records if r.fields is None or len(r.fields) > 1 or (r.fields and r.fields[0].strip()))


def open_delimited(stream: BinaryIO, encoding: str, has_header: bool) -> DelimitedFile:
    """Detects the delimiter from the first non-blank line; takes it as the header if asked."""
    lines = decoded_lines(stream, encoding)
    skipped: list[str] = []
    first = None
    for line in lines:
        if line.strip():
            first = line
            break
        skipped.append(line)
    if first is None:
        return DelimitedFile(None, "\t", iter(()))
    delimiter = detect_delimiter(first)

    body = records(chain((first,), lines), delimiter)
    if skipped:  # blank lines before the first one: shift the numbers
        body = (record._replace(line=record.line + len(skipped)) for record in body)
    header = next(body) if has_header else None
    if header is not None and header.fields is None:
        raise FileRefused(f"line {header.line}: the header is not valid CSV")
    return DelimitedFile(None if header is None else _checked_header(header), delimiter, body)


def open_split_lines(stream: BinaryIO, encoding: str, has_header: bool = True, separator: str = ";") -> DelimitedFile:
    """The sync dialect: comments skipped, `separator` (or the other one when the header holds only
    that), no quoting."""
    meaningful = (
        (number, raw) for number, raw in enumerate(decoded_lines(stream, encoding), start=1) if not is_comment(raw)
    )
    header = None
    if has_header:
        first = next(meaningful, None)
        if first is None:
            return DelimitedFile(None, separator, iter(()))
        separator = detect_separator(first[1], separator)
        header = _checked_header(Record(first[0], first[1], split_line(first[1], separator)))
    body = (Record(number, raw, split_line(raw, separator)) for number, raw in meaningful)
    return DelimitedFile(header, separator, body)
