"""Property: whatever CSV lines or bytes are thrown at the statistics import and at every sync
kind (the service functions, as every edge calls them), the outcome is a documented one: a
report (counters, line errors, maybe a refused file) or our InvalidRequest; never another
exception. And what the run reports can always be carried by XML (it is sent in SOAP answers)."""

import io
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from aula_ws.domain.file_input import xml_problem
from aula_ws.domain.sync_files import KINDS as SYNC_KINDS
from aula_ws.errors import InvalidRequest
from aula_ws.services.statistics_import import KINDS as IMPORT_KINDS
from aula_ws.services.statistics_import import ImportOptions, import_statistics
from aula_ws.services.sync import sync_upload
from tests.builders import PlatformBuilder

NOW = datetime(2026, 3, 10, 12, 0)
IMPORT_HEADERS = {
    "lessons": "user_loginid;crsvname;lsnvname;lnk_type;lesson_status;lesson_status_date;lesson_score;lesson_time;ilt_status",
    "courses": "user_loginid;crsvname;course_status;course_status_date;course_enrollement_date",
    "activity": "user_loginid;crsvname;lsnvname;time;action",
}
SYNC_HEADERS = {
    "users": "username;firstname;lastname;email;password;suspended;deleted;cohort;course1;role1",
    "courses": "shortname;fullname;id;idnumber;tracks_progress;startdate;visible",
    "deletecourses": "",
    "lessons": "crsvname;lsnvname;name;lnk_type;position;cmd",
    "enrolments": "cid;uid;rolename;cmd;starttime;endtime;administrador;responsable",
    "cohorts": "cmd;cid;cidnumber;cname;cdescription;userid",
    "cohortscourses": "cohort;course;role;cmd",
    "avatars": "",
}
PROPERTY = hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

# values that pass the checks (so lines reach the planners and the database), among hostile ones
plausible = st.sampled_from(
    [
        "ann",
        "C1",
        "L1",
        "L",
        "T",
        "C",
        "P",
        "A",
        "student",
        "add",
        "del",
        "shift",
        "free",
        "1",
        "0",
        "87,5",
        "2026-01-01",
        "2026/01/01",
        "01/02/2026",
        "2026-01-01 10:00",
        "1700000000",
        "x@y.z",
        "&#44",
        "",
    ]
)
hostile_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(";,\t\"'&#/\\\r\n \x00\x01\x0b\x1f\x7f\ufeff\ufffe\uffff")),
        st.characters(blacklist_categories=()),
    ),
    max_size=30,
)
field = st.one_of(plausible, hostile_text)
line = st.lists(field, max_size=10).map(";".join)
encoding = st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"])


def as_bytes(text: str, codec: str) -> bytes:
    return text.encode(codec, "surrogatepass" if codec.startswith("utf") else "replace")


@pytest.fixture
def platform(engine):
    builder = PlatformBuilder(engine)
    group = builder.group("C1", units=["L1"], group_id=64)
    builder.member("ann", group)
    return engine


def check_import(engine, settings, kind: str, content: bytes, options: ImportOptions) -> None:
    try:
        result = import_statistics(
            engine,
            settings.timezone,
            kind,
            io.BytesIO(content),
            f"{kind}.csv",
            options,
            settings.data_dir / "imports",
            now=lambda: NOW,
        )
    except InvalidRequest:
        return
    counters = result.counters
    assert counters.rejected <= counters.processed and counters.errors >= counters.rejected
    if result.refused:
        assert counters.added == counters.updated == 0
    assert xml_problem(result.journal) is None


def check_sync(engine, settings, kind: str, content: bytes, simulate: bool) -> None:
    try:
        result = sync_upload(engine, settings, kind, content, None, simulate=simulate, now=NOW)
    except InvalidRequest:
        return
    assert result.counters.failed <= max(result.counters.processed, 0) or kind == "avatars"
    assert xml_problem(result.report_text) is None
    assert result.refused is None or xml_problem(result.refused) is None


@PROPERTY
@given(
    kind=st.sampled_from(list(IMPORT_KINDS)),
    lines=st.lists(line, max_size=12),
    codec=encoding,
    header=st.booleans(),
    dry_run=st.booleans(),
    on_existing=st.sampled_from(["new-session", "reject", "update"]),
)
def test_any_csv_lines_give_an_import_report(platform, settings, kind, lines, codec, header, dry_run, on_existing):
    text = "\n".join(([IMPORT_HEADERS[kind]] if header else []) + lines) + "\n"
    options = ImportOptions(on_existing, enrol=True, header=header, dry_run=dry_run, encoding=codec)
    check_import(platform, settings, kind, as_bytes(text, codec), options)


@PROPERTY
@given(kind=st.sampled_from(list(IMPORT_KINDS)), content=st.binary(max_size=300), codec=encoding)
def test_any_bytes_give_an_import_report(platform, settings, kind, content, codec):
    check_import(platform, settings, kind, content, ImportOptions(encoding=codec))


@PROPERTY
@given(
    kind=st.sampled_from([k for k in SYNC_KINDS if k != "avatars"]),
    lines=st.lists(line, max_size=12),
    simulate=st.booleans(),
    crlf=st.booleans(),
)
def test_any_csv_lines_give_a_sync_report(platform, settings, kind, lines, simulate, crlf):
    header = [SYNC_HEADERS[kind]] if SYNC_HEADERS[kind] else []
    text = ("\r\n" if crlf else "\n").join(header + lines) + "\n"
    check_sync(platform, settings, kind, as_bytes(text, "utf-8"), simulate)


@PROPERTY
@given(kind=st.sampled_from(list(SYNC_KINDS)), content=st.binary(max_size=300), simulate=st.booleans())
def test_any_bytes_give_a_sync_report(platform, settings, kind, content, simulate):
    check_sync(platform, settings, kind, content, simulate)
