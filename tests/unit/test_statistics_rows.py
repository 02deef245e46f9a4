from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aula_ws.domain import statistics_rows as rows
from aula_ws.domain.csv_rows import HeaderError, RowError, read_line

UTC = ZoneInfo("UTC")
LESSON_HEADER = [
    "user_loginid",
    "crsvname",
    "lsnvname",
    "lnk_type",
    "lesson_status",
    "lesson_status_date",
    "lesson_score",
    "lesson_time",
    "ilt_status",
]


def lesson(**values):
    columns = rows.map_columns(rows.LESSON_COLUMNS, LESSON_HEADER)
    fields = [values.get(name, "") for name in LESSON_HEADER]
    return rows.read_lesson_line(fields, columns, UTC)


def test_the_seed_example_row_is_read():
    line = lesson(
        user_loginid="demo",
        crsvname="Comics",
        lsnvname="{1B38F003-16A9-4432-AB}",
        lnk_type="L",
        lesson_status="P",
        lesson_status_date="22/03/2013",
        lesson_score="90",
        lesson_time="1800",
    )
    assert line == rows.LessonLine(
        "demo", "Comics", "{1B38F003-16A9-4432-AB}", "L", "P", date(2013, 3, 22), 90.0, 1800, None
    )


@pytest.mark.parametrize(
    "text, day",
    [
        ("2013/03/22", date(2013, 3, 22)),
        ("2013-03-22", date(2013, 3, 22)),
        ("22/03/2013", date(2013, 3, 22)),
        ("2013/3/2", date(2013, 3, 2)),
        ("", None),
    ],
)
def test_the_three_date_forms_are_accepted(text, day):
    assert rows.import_date(text, "lesson_status_date") == day


@pytest.mark.parametrize(
    "text", ["2013.03.22", "22-03-2013", "2013/02/30", "03/22/2013", "yesterday", "2013/03/22 10:00"]
)
def test_other_dates_reject_the_line(text):
    with pytest.raises(RowError, match="lesson_status_date"):
        rows.import_date(text, "lesson_status_date")


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(crsvname="c", lsnvname="u", lnk_type="L", lesson_status="P"), "user_loginid is required"),
        (dict(user_loginid="a b", crsvname="c", lsnvname="u", lnk_type="L", lesson_status="P"), "characters outside"),
        (dict(user_loginid="a", lsnvname="u", lnk_type="L", lesson_status="P"), "crsvname is required"),
        (dict(user_loginid="a", crsvname="c", lnk_type="L", lesson_status="P"), "lsnvname is required"),
        (dict(user_loginid="a", crsvname="c", lsnvname="u", lnk_type="X", lesson_status="P"), "lnk_type"),
        (dict(user_loginid="a", crsvname="c", lsnvname="u", lnk_type="L", lesson_status="Z"), "lesson_status"),
        (
            dict(user_loginid="a", crsvname="c", lsnvname="u", lnk_type="L", lesson_status="P", lesson_score="101"),
            "between 0 and 100",
        ),
        (
            dict(user_loginid="a", crsvname="c", lsnvname="u", lnk_type="L", lesson_status="P", lesson_score="abc"),
            "not a number",
        ),
        (
            dict(user_loginid="a", crsvname="c", lsnvname="u", lnk_type="L", lesson_status="P", lesson_time="-5"),
            "whole number of seconds",
        ),
        (
            dict(user_loginid="a", crsvname="c", lsnvname="u", lnk_type="L", lesson_status="P", lesson_time="1.5"),
            "whole number of seconds",
        ),
        (
            dict(user_loginid="a", crsvname="c", lsnvname="u", lnk_type="T", lesson_status="P", ilt_status="X"),
            "ilt_status",
        ),
    ],
)
def test_each_lesson_column_rule_rejects_with_its_reason(values, message):
    with pytest.raises(RowError, match=message):
        lesson(**values)


def test_codes_are_read_case_insensitively_and_scores_may_have_decimals():
    line = lesson(
        user_loginid="a",
        crsvname="c",
        lsnvname="u",
        lnk_type="t",
        lesson_status="c",
        lesson_score="87,5",
        ilt_status="p",
    )
    assert (line.unit_type, line.status, line.score, line.ilt_present) == ("T", "C", 87.5, True)


def test_a_unit_of_another_type_or_ilt_presence_outside_t_units_are_warnings():
    line = lesson(user_loginid="a", crsvname="c", lsnvname="u", lnk_type="T", lesson_status="P", ilt_status="P")
    warnings = rows.Warnings()
    assert rows.check_lesson_against_unit(line, "L", warnings) is None
    assert len(warnings.messages) == 2


def test_columns_are_matched_by_name_in_any_order_and_unknown_ones_reported():
    columns = rows.map_columns(rows.COURSE_COLUMNS, ["\ufeffcrsvname", "Extra", "user_loginid", "course_status"])
    assert columns.positions == {"crsvname": 0, "user_loginid": 2, "course_status": 3}
    assert columns.unknown == ("extra",)
    line = rows.read_course_line(["g", "x", "u", "C"], columns, UTC)
    assert (line.login, line.group, line.status, line.status_date) == ("u", "g", "C", None)


def test_a_header_without_a_required_column_refuses_the_file():
    with pytest.raises(HeaderError, match="course_status"):
        rows.map_columns(rows.COURSE_COLUMNS, ["user_loginid", "crsvname"])


def test_without_a_header_columns_are_taken_in_the_documented_order():
    columns = rows.map_columns(rows.COURSE_COLUMNS, None)
    line = rows.read_course_line(["u", "g", "I", "2015-01-02", "2014-12-01"], columns, UTC)
    assert (line.status_date, line.enrolment_date) == (date(2015, 1, 2), date(2014, 12, 1))


@pytest.mark.parametrize(
    "first, delimiter", [("a\tb;c\td", "\t"), ("a;b;c", ";"), ("a,b,c", ","), ("a;b,c;d", ";"), ("a", "\t")]
)
def test_the_delimiter_is_detected_from_the_first_line(first, delimiter):
    assert rows.detect_delimiter(first) == delimiter


def test_activity_times_are_iso_8601_or_unix_seconds_in_utc():
    zone = ZoneInfo("America/Argentina/Buenos_Aires")
    assert rows.moment("1434499200", zone) == datetime(2015, 6, 17)
    assert rows.moment("2015-06-17T10:00:00", zone) == datetime(2015, 6, 17, 13)
    assert rows.moment("2015-06-17T10:00:00+00:00", zone) == datetime(2015, 6, 17, 10)
    with pytest.raises(RowError, match="time"):
        rows.moment("17/06/2015", zone)


def test_a_status_day_starts_in_the_service_time_zone():
    assert rows.start_of_day_utc(date(2015, 6, 17), ZoneInfo("America/Argentina/Buenos_Aires")) == datetime(
        2015, 6, 17, 3
    )


LESSON_VALUES = {
    "user_loginid": ["demo", "ana.b", "bad login", ""],
    "crsvname": ["C1", ""],
    "lsnvname": ["L1", " L2 "],
    "lnk_type": ["L", "l", "X"],
    "lesson_status": ["C", "P", "n", "Z"],
    "lesson_status_date": ["2013/03/22", "22/03/2013", "2013/02/30", ""],
    "lesson_score": ["90", "7,5", "101", "x", ""],
    "lesson_time": ["1800", "7", "-1", "", "\u0663"],
    "ilt_status": ["", "P"],
}
lesson_fields = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in LESSON_VALUES.items()})


@given(
    st.lists(
        st.one_of(lesson_fields, st.just(None), st.just("\x01")),
        min_size=1,
        max_size=6,
    ),
    st.permutations(LESSON_HEADER[:6]),
    st.booleans(),
    st.booleans(),
)
def test_a_batch_read_at_once_is_read_as_line_by_line(lines, first_columns, short_lines_too, with_ilt):
    """read_lesson_columns gives what read_lesson_line gives for each line, or None (then the
    service reads line by line: a batch with something to refuse, an ILT presence, a code in
    lower case, a short line)."""
    header = [*first_columns, *LESSON_HEADER[6 : 9 if with_ilt else 8]]  # any order; optional columns absent
    columns = rows.map_columns(rows.LESSON_COLUMNS, header)
    raws: list[str] = []
    fields: list[list[str] | None] = []
    for values in lines:
        if values is None:  # not valid CSV
            raws.append('"a\n')
            fields.append(None)
            continue
        if values == "\x01":  # a character XML cannot carry
            cells = ["\x01"] * len(header)
        else:
            cells = [values[name] for name in header]
            if short_lines_too and values[header[-1]] == "":
                cells = cells[:-1]
        raws.append("\t".join(cells) + "\n")
        fields.append(cells)
    one_by_one = [
        read_line(raw, cells, rows.read_lesson_line, columns, UTC) for raw, cells in zip(raws, fields, strict=True)
    ]
    at_once = rows.read_lesson_columns(raws, fields, columns, UTC)
    if at_once is not None:  # None: the service reads line by line
        assert at_once.lines() == one_by_one


def test_a_usual_batch_is_read_at_once():
    columns = rows.map_columns(rows.LESSON_COLUMNS, LESSON_HEADER)
    cells = ["demo", "C1", "L1", "L", "C", "2013/03/22", "90", "1800", ""]
    at_once = rows.read_lesson_columns(["\t".join(cells) + "\n"] * 3, [cells] * 3, columns, UTC)
    assert at_once is not None and at_once.lines() == [rows.read_lesson_line(cells, columns, UTC)] * 3
