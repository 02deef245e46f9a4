"""The sync rules read like CONTRACT.md section 5: lines, values, names, the capture decision, the schedule."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from aula_ws.domain import sync_files as names
from aula_ws.domain.csv_rows import HeaderError, RowError
from aula_ws.domain.sync_rows import (
    check_width,
    detect_separator,
    is_comment,
    membership_active,
    moment,
    perfil,
    read_header,
    split_line,
    unknown_column_warning,
)
from aula_ws.sync.capture import Alarm, Capture, Entry, Leave, Stop, Wait, determine_actions
from aula_ws.sync.schedule import due_kinds

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 3, 10, 12, 0)


@pytest.mark.parametrize(
    "line",
    ["", "   \n", "# a comment\n", "/ another\n", "// and another", "(note)\n", "[x]\n", "-dash;x\n", " ann;x\n"],
)
def test_blank_lines_and_tool_syncs_comment_starts_are_comments(line):
    assert is_comment(line)


@pytest.mark.parametrize("line", ["ann;x\n", "\tann;x\n", "1;x\n", "_ann;x\n"])
def test_other_lines_are_data(line):
    assert not is_comment(line)


def test_more_fields_than_the_header_is_a_line_error_and_fewer_read_as_empty():
    check_width(["a", "b"], 3)
    check_width(["a", "b", "c", "", ""], 3)  # a spreadsheet's trailing separators
    with pytest.raises(RowError, match="4 fields but the header 3"):
        check_width(["ann", "Smith", " Jr", "L"], 3)


def test_semicolon_is_the_default_separator_and_a_comma_header_is_accepted():
    assert detect_separator("username;firstname;lastname\n") == ";"
    assert detect_separator("username,firstname,lastname\n") == ","
    assert detect_separator("username\n") == ";"
    assert detect_separator("username,firstname\n", ",") == "," and detect_separator("a;b\n", ",") == ";"


def test_the_encoded_separator_stands_for_the_separator_and_fields_are_trimmed():
    assert split_line(" ann ; Lee&#44 Ann ;x\r\n", ";") == ["ann", "Lee; Ann", "x"]
    assert split_line("ann,Lee&#44 Ann\n", ",") == ["ann", "Lee, Ann"]


def test_moodle_role_names_map_to_perfiles_and_codes_pass_through():
    assert [perfil(r) for r in ("student", "editingteacher", "teacher", "manager", "guest", "Student")] == list(
        "ADTCIA"
    )
    assert perfil("X") == "X"
    with pytest.raises(RowError):
        perfil("")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03-01", datetime(2026, 3, 1)),
        ("2026-03-01 08:30", datetime(2026, 3, 1, 8, 30)),
        ("2026-03-01 08:30:15", datetime(2026, 3, 1, 8, 30, 15)),
        ("1767225600", datetime(2026, 1, 1)),
    ],
)
def test_dates_are_iso_days_with_an_optional_time_or_unix_seconds(text, expected):
    assert moment(text, "starttime", UTC) == expected


def test_a_local_date_is_stored_as_utc():
    assert moment("2026-03-01", "x", ZoneInfo("America/Montevideo")) == datetime(2026, 3, 1, 3, 0)


@pytest.mark.parametrize("text", ["2026/03/01", "01-03-2026", "2026-02-30", "2026-03-01T08:30", "tomorrow"])
def test_other_dates_refuse_the_line(text):
    with pytest.raises(RowError):
        moment(text, "starttime", UTC)


def test_estado_is_true_unless_suspended_or_ended():
    assert membership_active(False, None, NOW)
    assert membership_active(False, datetime(2026, 3, 11), NOW)
    assert not membership_active(False, NOW, NOW)
    assert not membership_active(True, None, NOW)


def test_headers_need_their_columns_and_tolerate_unknown_ones():
    header = read_header("users", ["Username", "firstname", "lastname", "course1", "role1", "shoe_size"])
    assert header.course_slots == (1,) and header.unknown == ("shoe_size",)
    tool_sync = read_header(
        "users", ["username", "firstname", "lastname", "course1", "course2", "course4", "group2", "profile_field_dni"]
    )
    assert tool_sync.course_slots == (1, 2) and tool_sync.unknown == ()  # the first gap ends the slots
    with pytest.raises(HeaderError, match="role3 has no course3"):
        read_header("users", ["username", "firstname", "lastname", "course1", "role3"])
    with pytest.raises(HeaderError, match="rolename"):
        read_header("enrolments", ["cid", "uid", "g1"])
    course_create = read_header("courses", ["shortname", "category", "fullname", "format", "template"])
    assert [unknown_column_warning(name) for name in course_create.unknown] == [
        'Moodle column "category" accepted, not kept by aula-ws',
        'Moodle column "format" accepted, not kept by aula-ws',
        'Moodle column "template" accepted, not kept by aula-ws',
    ]
    assert unknown_column_warning("shoe_size") == 'unknown column "shoe_size" ignored'
    with pytest.raises(HeaderError, match="twice"):
        read_header("enrolments", ["cid", "uid", "rolename", "cid"])


def test_report_archive_tryback_and_failed_names_follow_the_contract():
    assert names.report_name(NOW, "userimport.csv") == "20260310-1200_report_userimport.csv"
    assert names.archive_name(NOW, "userimport.csv") == "20260310-1200_userimport.csv"
    assert names.tryback_name(NOW, "userimport.csv") == "userimport_tryback_20260310-1200.csv"
    assert names.failed_name("userimport.csv") == "userimport-tryback-failed.csv"
    assert names.numbered("a.csv", 0) == "a.csv" and names.numbered("a.csv", 1) == "a.2.csv"


def entry(name, age, is_file=True, type="regular file"):
    return Entry(name, is_file, 10_000 - age, type=type)


def test_the_capture_takes_settled_files_and_waits_for_recent_ones():
    actions = determine_actions(
        [entry("b.csv", 60), entry("a.csv", 2), entry(".h", 60), entry("_o", 60)],
        now=10_000,
        stale_seconds=3 * 3600,
        settle_seconds=10,
    )
    assert actions == [Wait("a.csv"), Capture("b.csv")]


def test_the_capture_leaves_and_reports_links_folders_fifos_and_the_store_folder_names():
    actions = determine_actions(
        [
            entry("l.csv", 60, False, "symbolic link"),
            entry("d", 60, False, "folder"),
            entry("f", 60, False, "FIFO"),
            entry("archives", 60),
            entry("reports", 60),
            entry("x.csv", 60),
            entry("_hidden_link", 60, False, "symbolic link"),
        ],
        now=10_000,
        stale_seconds=3 * 3600,
        settle_seconds=10,
    )
    assert actions == [
        Leave("archives", "named like a folder of the file store (rename it)"),
        Leave("d", "not a regular file but a folder"),
        Leave("f", "not a regular file but a FIFO"),
        Leave("l.csv", "not a regular file but a symbolic link"),
        Leave("reports", "named like a folder of the file store (rename it)"),
        Capture("x.csv"),
    ]


def test_alock_stops_the_capture_and_raises_an_alarm_only_when_stale():
    fresh = determine_actions([entry("alock.txt", 60), entry("x.csv", 60)], 10_000, 3600, 10)
    assert fresh == [Stop("alock.txt is present: a remote feeder is writing")]
    stale = determine_actions([entry("alock.txt", 7200), entry("x.csv", 60)], 10_000, 3600, 10)
    assert isinstance(stale[0], Alarm) and stale[0].body == "Possible remote writer process issue."
    assert isinstance(stale[1], Stop) and len(stale) == 2


def test_a_stale_lock_txt_raises_an_alarm_and_the_capture_goes_on():
    actions = determine_actions([entry("lock.txt", 7200), entry("x.csv", 60)], 10_000, 3600, 10)
    assert isinstance(actions[0], Alarm) and actions[0].body == "Possible local sync process issue."
    assert actions[1:] == [Capture("x.csv")]
    assert determine_actions([entry("lock.txt", 60), entry("x.csv", 60)], 10_000, 3600, 10)[0] == Stop(
        "lock.txt is present: another capture is running"
    )


def test_a_kind_is_due_when_its_latest_slot_came_after_its_last_run():
    schedules = {"users": "0 * * * *", "courses": "30 2 * * *"}
    assert due_kinds(schedules, {}, NOW, UTC) == ["users", "courses"]
    last = {"users": datetime(2026, 3, 10, 12, 0), "courses": datetime(2026, 3, 10, 2, 31)}
    assert due_kinds(schedules, last, datetime(2026, 3, 10, 12, 59), UTC) == []
    assert due_kinds(schedules, last, datetime(2026, 3, 10, 13, 0), UTC) == ["users"]
    assert due_kinds(schedules, last, datetime(2026, 3, 11, 2, 30), UTC) == ["users", "courses"]


def test_schedules_are_read_in_the_service_time_zone():
    # 02:30 in Montevideo (UTC-3) is 05:30 UTC
    zone = ZoneInfo("America/Montevideo")
    last = {"courses": datetime(2026, 3, 10, 5, 29)}
    assert due_kinds({"courses": "30 2 * * *"}, last, datetime(2026, 3, 10, 5, 29, 59), zone) == []
    assert due_kinds({"courses": "30 2 * * *"}, last, datetime(2026, 3, 10, 5, 30), zone) == ["courses"]
