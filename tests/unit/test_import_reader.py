import io

import pytest

from aula_ws.csvkit.reader import FileRefused, open_delimited


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
