import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aula_ws.csvkit import reader
from aula_ws.csvkit.reader import FileRefused, Record, open_delimited, records


def read(data: bytes, encoding="utf-8", header=True):
    delimited = open_delimited(io.BytesIO(data), encoding, header)
    return delimited, list(delimited.body)


def test_records_keep_their_line_numbers_and_raw_text_even_across_quoted_newlines():
    data = b'h1;h2\n\na;"multi\nline"\r\nb;c\n'
    delimited, records = read(data)
    assert delimited.header.fields == ["h1", "h2"] and delimited.delimiter == ";"
    assert [(r.line, r.raw) for r in records] == [(2, "\n"), (3, 'a;"multi\nline"\r\n'), (5, "b;c\n")]
    assert records[1].fields == ["a", "multi\nline"]


def test_a_utf8_bom_is_accepted():
    delimited, records = read("\ufeffh1\th2\né\tb\n".encode("utf-8"))
    assert delimited.header.fields == ["h1", "h2"]
    assert records[0].fields == ["é", "b"]


def test_invalid_bytes_refuse_the_file_naming_the_line():
    with pytest.raises(FileRefused, match="line 3 is not valid utf-8"):
        read(b"h1;h2\na;b\nc;\xe9\n")


@pytest.mark.parametrize("chunk_bytes", [1, 8, 1 << 16])
def test_a_bad_line_is_named_whatever_chunk_it_is_read_in(monkeypatch, chunk_bytes):
    monkeypatch.setattr(reader, "CHUNK_BYTES", chunk_bytes)
    data = "h1;h2\n" + "".join(f"a{n};b\n" for n in range(5)) + "bad;\xff\n"
    with pytest.raises(FileRefused, match="line 7 is not valid utf-8"):
        read(data.encode("latin-1"))
    delimited, body = read(b"h1;h2\n" + "é;b\n".encode() * 3)
    assert [(r.line, r.fields) for r in body] == [(2, ["é", "b"]), (3, ["é", "b"]), (4, ["é", "b"])]


def test_a_named_encoding_is_used():
    _, records = read("h1;h2\nJosé;Núñez\n".encode("latin-1"), encoding="latin-1")
    assert records[0].fields == ["José", "Núñez"]


def test_utf16_files_as_excel_writes_them_are_read():
    _, records = read("h1\th2\r\nJosé\tb\r\n".encode("utf-16"), encoding="utf-16")
    assert records[0].fields == ["José", "b"]


def test_an_unknown_encoding_is_refused():
    with pytest.raises(FileRefused, match="unknown encoding"):
        read(b"a", encoding="klingon")


def test_a_malformed_quoted_record_is_yielded_without_fields():
    _, records = read(b'h1;h2\na;"unclosed\n')
    assert records[0].fields is None and records[0].line == 2


def csv_records(lines: list[str], delimiter: str) -> list[Record]:
    """The reference: every record read by csv itself, as before the split fast path."""
    consumed: list[str] = []
    number = 0

    def feed():
        nonlocal number
        for line in lines:
            number += 1
            consumed.append(line)
            yield line

    reader = csv.reader(feed(), delimiter=delimiter, strict=True)
    found: list[Record] = []
    while True:
        start = number + 1
        try:
            fields = next(reader)
        except StopIteration:
            return found
        except csv.Error:
            fields = None
        found.append(Record(start, "".join(consumed), fields))
        consumed.clear()


@given(
    st.text(alphabet='ab;\t"\r\n\x00 ', max_size=60),
    st.sampled_from([";", "\t"]),
    st.booleans(),
    st.sampled_from([1, 2, 3, reader.CHUNK]),
)
def test_the_split_fast_path_reads_every_line_as_csv_does(text, delimiter, universal_newlines, chunk):
    """Whatever the chunks (a quoted record may run past its chunk's end)."""
    # line ends kept, as decoded_lines gives them: split at \n (bytes), or at any line end (UTF-16)
    lines = io.StringIO(text, newline="").readlines() if universal_newlines else re.findall(r"[^\n]*\n|[^\n]+$", text)
    usual_chunk = reader.CHUNK
    reader.CHUNK = chunk
    try:
        assert list(records(iter(lines), delimiter)) == csv_records(lines, delimiter)
    finally:
        reader.CHUNK = usual_chunk
