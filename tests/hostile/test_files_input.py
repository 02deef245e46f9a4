"""Issue 9 items 7 (input side) and 8 (file side): text XML 1.0 cannot carry is a line error, and
file names and encodings are checked before anything is written, by the CLI and the admin SOAP
operations alike (the real CLI, the real server)."""

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import zeep

from aula_ws.domain.file_input import MAX_NAME_BYTES, encoding_problem, file_name_problem, xml_problem
from aula_ws.services.sync import sync_upload
from aula_ws.store.tables import lesson_sessions, users
from tests.e2e.server_process import running_server
from tests.e2e.test_import_and_admin import header
from tests.hostile.files_platform import LESSONS_HEADER, USERS_HEADER, platform  # noqa: F401 (fixture)

NOT_TEXT_ENCODINGS = ["rot13", "base64_codec", "zlib_codec", "hex", "bz2_codec", "no-such-encoding", ""]
BAD_NAMES = [
    "x" * 300,
    "é" * 101 + ".csv",
    "/",
    ".",
    "..",
    "a/b.csv",
    "../users.csv",
    "a\\b.csv",
    "a\tb.csv",
    "a\x7fb.csv",
    "archives",
    "reports",
    ".hidden.csv",
    "_omitted.csv",
    "lock.txt",
]


def test_a_users_line_with_a_control_character_is_a_line_error_and_the_others_go_through(platform, tmp_path):  # noqa: F811
    source = tmp_path / "userimport.csv"
    source.write_bytes(f"{USERS_HEADER}good1;A;B\nBad\x01Name;C;D\ngood2;E;F\nok3;G\ufffeH;I\n".encode())

    ran = platform.cli("sync", "users", str(source))

    assert ran.returncode == 1, ran.stderr
    report = next(line.split(": ", 1)[1] for line in ran.stdout.splitlines() if line.startswith("report: "))
    text = Path(report).read_text(encoding="utf-8")
    assert "line 3: error: character U+0001 at position 4 cannot be carried by XML 1.0" in text
    assert "line 5: error: character U+FFFE at position 6" in text
    assert xml_problem(text) is None
    tryback = next(line.split(": ", 1)[1] for line in ran.stdout.splitlines() if line.startswith("tryback: "))
    assert Path(tryback).read_bytes() == f"{USERS_HEADER}Bad\x01Name;C;D\nok3;G\ufffeH;I\n".encode()
    assert platform.count(users, users.c.username.in_(["good1", "good2"])) == 2
    assert platform.count(users, users.c.username.like("Bad%")) == 0
    assert platform.count(users, users.c.username == "ok3") == 0


def test_an_import_line_with_a_control_character_is_rejected_and_the_others_are_stored(platform, tmp_path):  # noqa: F811
    source = tmp_path / "lessons.csv"
    source.write_bytes(f"{LESSONS_HEADER}ann;C1;L1;L;C\nann;C1\x0b;L1;L;P\n".encode())

    imported = platform.cli("import", "lessons", str(source))

    assert imported.returncode == 1, imported.stderr
    journal = next(line.split(": ", 1)[1] for line in imported.stdout.splitlines() if line.startswith("journal: "))
    assert "line 3: error: character U+000B at position 7" in Path(journal).read_text(encoding="utf-8")
    rejects = imported.stdout.split("rejects: ", 1)[1].split(" (fix", 1)[0]
    assert Path(rejects).read_bytes() == f"{LESSONS_HEADER}ann;C1\x0b;L1;L;P\n".encode()
    assert platform.count(lesson_sessions) == 1


@pytest.mark.parametrize("encoding", ["rot13", "base64_codec", "zlib_codec", "no-such-encoding"])
def test_the_cli_refuses_an_encoding_that_is_not_a_text_encoding_in_one_line(platform, tmp_path, encoding):  # noqa: F811
    source = tmp_path / "lessons.csv"
    source.write_text(f"{LESSONS_HEADER}ann;C1;L1;L;C\n")

    refused = platform.cli("import", "lessons", str(source), "--encoding", encoding)

    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and repr(encoding) in refused.stderr
    assert "text encoding" in refused.stderr or "unknown encoding" in refused.stderr
    assert platform.count(lesson_sessions) == 0 and platform.files() == set()


@pytest.fixture
def admin(platform):  # noqa: F811
    created = platform.cli("token", "create", "--user", "admin", "--service", "admin")
    assert created.returncode == 0, created.stderr
    with running_server(platform.env) as server:
        yield zeep.Client(f"{server.base_url}/soap/admin?wsdl"), header(created.stdout.split()[-1]), server


def fault_of(call: Callable[..., object]) -> tuple[str, str]:
    """(faultcode, faultstring and detail text): the readable text may be in either."""
    with pytest.raises(zeep.exceptions.Fault) as caught:
        call()
    fault = caught.value
    detail = "" if fault.detail is None else " ".join(fault.detail.itertext())
    return fault.code, f"{fault.message} {detail}"


def test_the_admin_sync_operations_refuse_bad_file_names_and_store_nothing(platform, admin):  # noqa: F811
    client, token, server = admin
    content = f"{USERS_HEADER}zed;Z;Z\n".encode()
    for name in BAD_NAMES:
        for simulate in (False, True):
            code, text = fault_of(
                lambda name=name, simulate=simulate: client.service.sync_users(
                    content=content, file_name=name, simulate=simulate, _soapheaders=token
                )
            )
            assert "Client" in code and "file name" in text, (name, code, text)
    assert platform.count(users, users.c.username == "zed") == 0
    assert platform.files() == set()
    assert "Traceback" not in server.log
    # the service still answers, and a plain name goes through
    report = client.service.sync_users(content=content, file_name="zed.csv", _soapheaders=token)
    assert report.added == 1


def test_the_admin_import_operations_refuse_bad_names_and_encodings_and_write_nothing(platform, admin):  # noqa: F811
    client, token, server = admin
    content = f"{LESSONS_HEADER}ann;C1;L1;L;C\n".encode()
    for encoding in NOT_TEXT_ENCODINGS[:-1]:
        code, text = fault_of(
            lambda encoding=encoding: client.service.import_lesson_stats(
                content=content, encoding=encoding, _soapheaders=token
            )
        )
        assert "Client" in code and repr(encoding) in text, (encoding, code, text)
    for name in BAD_NAMES[:10]:
        code, text = fault_of(
            lambda name=name: client.service.import_lesson_stats(content=content, file_name=name, _soapheaders=token)
        )
        assert "Client" in code and "file name" in text, (name, code, text)
    assert platform.count(lesson_sessions) == 0 and platform.files() == set()
    assert "Traceback" not in server.log


def test_file_name_rules():
    assert file_name_problem("userimport.csv") is None
    assert file_name_problem("x" * MAX_NAME_BYTES) is None
    assert "more than 200" in (file_name_problem("x" * (MAX_NAME_BYTES + 1)) or "")
    assert "empty" in (file_name_problem("") or "")
    assert "not a file name" in (file_name_problem("..") or "")
    assert "path separator" in (file_name_problem("a/b") or "")
    assert "control character" in (file_name_problem("a\x00b") or "")
    assert "control character" in (file_name_problem("a\udcffb") or "")  # an undecodable byte of a listing


def test_encoding_rules():
    assert encoding_problem("latin-1") is None and encoding_problem("utf-16") is None
    for encoding in NOT_TEXT_ENCODINGS:
        assert encoding_problem(encoding) is not None, encoding
    assert "unknown encoding" in (encoding_problem("utf\x00-8") or "")


def test_an_avatar_entry_named_with_control_characters_is_reported_in_text_xml_can_carry(engine, settings):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("bad\x01name.png", b"not an image")
        zipped.writestr("nobody\x1b.png", b"not an image either")

    result = sync_upload(engine, settings, "avatars", archive.getvalue(), "pictures.zip")

    assert result.counters.failed == 2 and xml_problem(result.report_text) is None
    assert "bad\\x01name.png: error" in result.report_text and "nobody\\x1b.png: error" in result.report_text
