"""The statistics import's planning reads like CONTRACT.md section 4: a line is added, updated or
rejected (why) against what the platform holds, with the enrol option and the on-existing policy.

The planners are pure: the look-ups are plain dicts, no database."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from aula_ws.domain.csv_rows import RowError
from aula_ws.domain.statistics_rows import ActivityLine, CourseLine, LessonColumns, LessonLine
from aula_ws.importer.statistics_plan import (
    ON_EXISTING,
    BatchPlan,
    Lookups,
    Options,
    plan_activity,
    plan_courses,
    plan_lessons,
    plan_usual_lessons,
)

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 3, 10, 23, 30)  # naive UTC: already 11 March in Madrid
ANA, LUIS = 1, 2
C1 = 10
U1, U2 = 100, 101


def lookups(members=((ANA, C1),), latest=None, activity=()):
    """Ana and Luis exist; course C1 has lesson U1 (type L) and U2 (face-to-face, T); Ana is enrolled."""
    return Lookups(
        users={"ana": ANA, "luis": LUIS},
        groups={"C1": C1},
        units={(C1, "U1"): (U1, "L"), (C1, "U2"): (U2, "T")},
        members=set(members),
        latest=dict(latest or {}),
        activity=set(activity),
    )


def options(on_existing="new-session", enrol=False):
    return Options(on_existing, enrol, MADRID, NOW)


def lesson(login="ana", group="C1", unit="U1", unit_type="L", status="C", day=None, score=None, ilt=None):
    return LessonLine(login, group, unit, unit_type, status, day, score, None, ilt)


def test_a_lesson_line_of_an_enrolled_user_is_added_as_a_session():
    plan = plan_lessons([lesson(score=80.0)], lookups(), options())
    assert (plan.added, plan.updated, plan.rejected) == (1, 0, [])
    assert plan.inserts == [(ANA, U1, "C", NOW, 80.0, None, None)]


def test_a_status_date_is_the_start_of_that_day_in_the_services_zone():
    plan = plan_lessons([lesson(day=date(2026, 1, 15))], lookups(), options())
    assert plan.inserts[0][3] == datetime(2026, 1, 14, 23, 0)  # midnight in Madrid (UTC+1) is 23:00 UTC


def test_an_unknown_user_course_or_lesson_rejects_the_line_naming_it():
    lines = [lesson(login="zoe"), lesson(group="C9"), lesson(unit="U9")]
    plan = plan_lessons(lines, lookups(), options())
    assert plan.rejected == [
        (0, 'unknown user "zoe"'),
        (1, 'unknown course (crsvname) "C9"'),
        (2, 'unknown lesson (lsnvname) "U9" in course "C1"'),
    ]
    assert plan.inserts == [] and plan.added == 0


def test_a_line_that_could_not_be_read_is_rejected_with_its_reason():
    plan = plan_lessons([RowError('lesson_score "200" is not between 0 and 100'), lesson()], lookups(), options())
    assert plan.rejected == [(0, 'lesson_score "200" is not between 0 and 100')]
    assert plan.added == 1


def test_without_the_enrol_option_a_user_who_is_not_a_member_is_rejected():
    plan = plan_lessons([lesson(login="luis")], lookups(), options())
    assert plan.rejected == [(0, '"luis" is not enrolled in "C1" (the enrol option enrols such users)')]
    assert plan.enrolments == []


def test_with_the_enrol_option_the_user_is_enrolled_from_the_status_date_else_today_in_the_zone():
    dated = plan_lessons([lesson(login="luis", day=date(2026, 2, 1))], lookups(), options(enrol=True))
    assert dated.enrolments == [(LUIS, C1, date(2026, 2, 1))] and dated.added == 1
    undated = plan_lessons([lesson(login="luis")], lookups(), options(enrol=True))
    assert undated.enrolments == [(LUIS, C1, date(2026, 3, 11))]


def test_a_user_enrolled_by_an_earlier_line_is_not_enrolled_twice():
    plan = plan_lessons(
        [lesson(login="luis"), lesson(login="luis", unit="U2", unit_type="T")],
        lookups(),
        options(enrol=True),
    )
    assert len(plan.enrolments) == 1 and plan.added == 2


def test_on_existing_new_session_adds_a_session_beside_the_existing_one():
    plan = plan_lessons([lesson()], lookups(latest={(ANA, U1): 7}), options("new-session"))
    assert (plan.added, plan.updated, plan.updates) == (1, 0, {})


def test_on_existing_reject_rejects_the_line():
    plan = plan_lessons([lesson()], lookups(latest={(ANA, U1): 7}), options("reject"))
    assert plan.rejected == [(0, "a status already exists for this user and lesson (on-existing: reject)")]
    assert plan.inserts == []


def test_on_existing_update_overwrites_the_latest_session():
    plan = plan_lessons([lesson(status="P")], lookups(latest={(ANA, U1): 7}), options("update"))
    assert (plan.added, plan.updated) == (0, 1)
    assert plan.updates == {7: (ANA, U1, "P", NOW, None, None, None)}


def test_the_policy_applies_between_lines_of_one_file_too():
    two = [lesson(status="I"), lesson(status="C")]
    updated = plan_lessons(two, lookups(), options("update"))
    assert (updated.added, updated.updated) == (1, 1)
    assert [row[2] for row in updated.inserts] == ["C"]  # the later line overwrote the pending insert
    rejected = plan_lessons(two, lookups(), options("reject"))
    assert rejected.added == 1 and [index for index, _ in rejected.rejected] == [1]


def test_a_lnk_type_that_differs_from_the_units_is_a_warning_not_a_rejection():
    plan = plan_lessons([lesson(unit_type="W")], lookups(), options())
    assert plan.warnings == [(0, 'lnk_type "W" differs from the unit\'s type "L"')]
    assert plan.added == 1


def test_ilt_presence_is_kept_for_face_to_face_units_and_ignored_with_a_warning_elsewhere():
    face_to_face = plan_lessons([lesson(unit="U2", unit_type="T", ilt=True)], lookups(), options())
    assert face_to_face.inserts[0][6] is True and face_to_face.warnings == []
    online = plan_lessons([lesson(ilt=True)], lookups(), options())
    assert online.inserts[0][6] is None
    assert online.warnings == [(0, "ilt_status is only for face-to-face (T) units: ignored")]


def course(login="ana", status="C", day=None, enrolled=None):
    return CourseLine(login, "C1", status, day, enrolled)


def test_a_course_status_is_added_and_updated_like_a_lesson_status():
    added = plan_courses([course()], lookups(), options())
    assert added.inserts == [(ANA, C1, "C", NOW)] and added.added == 1
    updated = plan_courses([course(status="I")], lookups(latest={(ANA, C1): 3}), options("update"))
    assert updated.updates == {3: (ANA, C1, "I", NOW)} and updated.updated == 1
    rejected = plan_courses([course()], lookups(latest={(ANA, C1): 3}), options("reject"))
    assert rejected.rejected == [(0, "a status already exists for this user and course (on-existing: reject)")]


def test_enrolling_from_a_course_line_takes_the_enrolment_date_then_the_status_date_then_today():
    lines = [
        course(login="luis", day=date(2026, 2, 1), enrolled=date(2025, 9, 1)),
    ]
    assert plan_courses(lines, lookups(), options(enrol=True)).enrolments == [(LUIS, C1, date(2025, 9, 1))]
    by_status = plan_courses([course(login="luis", day=date(2026, 2, 1))], lookups(), options(enrol=True))
    assert by_status.enrolments == [(LUIS, C1, date(2026, 2, 1))]
    by_today = plan_courses([course(login="luis")], lookups(), options(enrol=True))
    assert by_today.enrolments == [(LUIS, C1, date(2026, 3, 11))]


def activity(unit="U1", action="viewed", at=datetime(2026, 3, 1, 9, 0)):
    return ActivityLine("ana", "C1", unit, at, action)


def test_activity_is_appended_with_its_unit_or_the_course_itself():
    plan = plan_activity([activity(), activity(unit=None)], lookups(), options())
    assert plan.inserts == [
        (ANA, C1, U1, datetime(2026, 3, 1, 9, 0), "viewed"),
        (ANA, C1, None, datetime(2026, 3, 1, 9, 0), "viewed"),
    ]
    assert plan.added == 2


def test_an_exact_duplicate_of_activity_is_skipped_with_a_warning_in_the_file_or_the_database():
    recorded = (ANA, C1, U1, datetime(2026, 3, 1, 9, 0), "viewed")
    plan = plan_activity(
        [activity(), activity(action="loggedin"), activity(action="loggedin")],
        lookups(activity=[recorded]),
        options(),
    )
    assert plan.warnings == [
        (0, "exact duplicate of an activity already recorded: skipped"),
        (2, "exact duplicate of an activity already recorded: skipped"),
    ]
    assert plan.added == 1 and plan.rejected == []


def test_activity_needs_no_membership_but_a_named_lesson_must_exist():
    plan = plan_activity([ActivityLine("luis", "C1", None, NOW, ""), activity(unit="U9")], lookups(), options())
    assert plan.added == 1
    assert plan.rejected == [(1, 'unknown lesson (lsnvname) "U9" in course "C1"')]


lesson_lines = st.lists(
    st.one_of(
        st.builds(
            LessonLine,
            st.sampled_from(["ana", "luis", "eve"]),
            st.sampled_from(["C1", "C9"]),
            st.sampled_from(["U1", "U2", "U9"]),
            st.sampled_from(["L", "T"]),
            st.sampled_from(["C", "P", "I"]),
            st.sampled_from([None, date(2015, 1, 2), date(2015, 3, 29)]),
            st.sampled_from([None, 50.0]),
            st.sampled_from([None, 60]),
            st.sampled_from([None, True]),
        ),
        st.just(RowError("bad line")),
    ),
    max_size=8,
)


def columns_of(lines):
    """The lines column by column, as the usual batch is read; None when they cannot be (a line
    refused, an ILT presence: such a batch is read line by line)."""
    if not lines or any(isinstance(line, RowError) or line.ilt_present for line in lines):
        return None
    return LessonColumns(*(list(values) for values in list(zip(*lines, strict=True))[:8]))


@given(lesson_lines, st.sampled_from(ON_EXISTING), st.booleans())
def test_a_batch_planned_at_once_is_planned_as_line_by_line(lines, on_existing, enrol):
    """plan_usual_lessons (the usual batch column by column), when it plans a batch, plans what
    plan_lessons plans line by line."""
    existing = {(ANA, U1): 7}
    batch = columns_of(lines)
    at_once = (
        None if batch is None else plan_usual_lessons(batch, lookups(latest=existing), options(on_existing, enrol))
    )
    if at_once is not None:
        by_line = plan_lessons(lines, lookups(latest=existing), options(on_existing, enrol))
        assert at_once.insert_columns is not None
        rows = list(zip(*at_once.insert_columns, strict=True))
        assert BatchPlan(inserts=rows, added=at_once.added) == by_line


usual_lines = st.lists(
    st.tuples(
        st.sampled_from(["ana", "ana", "luis"]),  # luis is not a member
        st.sampled_from([("U1", "L"), ("U2", "T"), ("U1", "T")]),  # U1 is L, U2 is T
        st.sampled_from(["C", "P", "F", "I", "N"]),
        st.sampled_from([None, date(2015, 1, 2), date(2026, 3, 29), date(2026, 3, 11)]),
        st.sampled_from([None, 0.0, 50.5]),
        st.sampled_from([None, 0, 60]),
    ).map(lambda v: LessonLine(v[0], "C1", v[1][0], v[1][1], v[2], v[3], v[4], v[5], None)),
    min_size=1,
    max_size=8,
)


@given(usual_lines, st.booleans())
def test_a_usual_batch_is_planned_at_once_exactly_when_every_line_is_plain(lines, enrol):
    """Members only and the units' own types: planned at once, as line by line; else line by line."""
    at_once = plan_usual_lessons(columns_of(lines), lookups(), options("new-session", enrol))
    plain = all(line.login == "ana" and (line.unit, line.unit_type) != ("U1", "T") for line in lines)
    assert (at_once is not None) == plain
    if at_once is not None and at_once.insert_columns is not None:
        rows = list(zip(*at_once.insert_columns, strict=True))
        assert BatchPlan(inserts=rows, added=at_once.added) == plan_lessons(
            lines, lookups(), options("new-session", enrol)
        )


def test_the_usual_batch_is_planned_at_once():
    line = LessonLine("ana", "C1", "U1", "L", "C", date(2015, 1, 2), None, None, None)
    plan = plan_usual_lessons(columns_of([line, line]), lookups(), options())
    assert plan is not None and plan.added == 2 and plan.insert_columns is not None
    assert list(zip(*plan.insert_columns, strict=True)) == plan_lessons([line, line], lookups(), options()).inserts
