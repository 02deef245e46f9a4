"""The use_stats elapsed-time engine on hand-computed timelines (threshold 60 min, credit 15 min)."""

from datetime import datetime, timedelta

import pytest

from aula_ws.domain.elapsed import (
    ActivityEvent,
    EngineSettings,
    RecordedTime,
    elapsed_time,
    whole_minutes,
)

DAY = datetime(2026, 3, 2)
NOW = DAY + timedelta(days=1)


def at(hours: int, minutes: int = 0, seconds: int = 0) -> datetime:
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_short_gaps_are_credited_as_they_are_and_the_last_event_gets_the_last_ping_credit():
    events = [ActivityEvent(at(9), 1), ActivityEvent(at(9, 10), 1), ActivityEvent(at(9, 40), 1)]
    # 10 + 30 + 15 (last ping)
    assert elapsed_time(events, NOW).site == minutes(55)


def test_a_gap_longer_than_the_threshold_is_replaced_by_the_last_ping_credit():
    events = [ActivityEvent(at(9), 1), ActivityEvent(at(11), 1), ActivityEvent(at(11, 20), 1)]
    # 120 min gap -> 15, then 20, then 15
    assert elapsed_time(events, NOW).site == minutes(50)


def test_a_gap_of_exactly_the_threshold_is_kept():
    events = [ActivityEvent(at(9), 1), ActivityEvent(at(10), 1)]
    assert elapsed_time(events, NOW).site == minutes(60 + 15)


def test_a_single_event_is_worth_the_last_ping_credit():
    assert elapsed_time([ActivityEvent(at(9), 1)], NOW).site == minutes(15)


def test_the_last_credit_never_runs_past_now():
    events = [ActivityEvent(at(9), 1), ActivityEvent(at(9, 5), 1)]
    assert elapsed_time(events, at(9, 12)).site == minutes(5 + 7)


def test_events_in_the_future_count_nothing_and_do_not_extend_the_gap_before_them():
    events = [ActivityEvent(at(9), 1), ActivityEvent(at(9, 30), 1), ActivityEvent(at(13), 1)]
    result = elapsed_time(events, now=at(10))
    # 9:00 -> 9:30 is 30 min, 9:30 is the last event so far: 15 min; 13:00 has not happened
    assert result.site == minutes(45)
    assert elapsed_time([ActivityEvent(at(13), 1)], now=at(10)).site == timedelta(0)


def test_several_courses_and_units_interleaved_credit_each_event_to_its_own_course_and_unit():
    events = [
        ActivityEvent(at(9), course=1, unit=11),  # 9:00 -> 9:10: 10 to course 1, unit 11
        ActivityEvent(at(9, 10), course=2, unit=21),  # 9:10 -> 9:30: 20 to course 2, unit 21
        ActivityEvent(at(9, 30), course=1),  # 9:30 -> 9:35: 5 to course 1 (no unit)
        ActivityEvent(at(9, 35), course=1, unit=11),  # 9:35 -> 12:00 (long): 15 to course 1, unit 11
        ActivityEvent(at(12), course=2, unit=22),  # last: 15 to course 2, unit 22
    ]
    result = elapsed_time(reversed(events), NOW)  # any input order
    assert result.courses == {1: minutes(30), 2: minutes(35)}
    assert result.units == {11: minutes(25), 21: minutes(20), 22: minutes(15)}
    assert result.site == minutes(65) == sum(result.courses.values(), timedelta(0))


def test_imported_lesson_time_is_added_to_its_unit_course_and_site():
    events = [ActivityEvent(at(9), 1, 11)]
    recorded = [RecordedTime(course=1, unit=11, seconds=600), RecordedTime(course=3, unit=31, seconds=90)]
    result = elapsed_time(events, NOW, recorded=recorded)
    assert result.units == {11: minutes(25), 31: timedelta(seconds=90)}
    assert result.courses == {1: minutes(25), 3: timedelta(seconds=90)}
    assert result.site == minutes(26.5)


def test_no_events_is_no_time():
    result = elapsed_time([], NOW)
    assert (result.site, result.courses, result.units) == (timedelta(0), {}, {})


def test_the_settings_change_the_threshold_and_the_credit():
    settings = EngineSettings(threshold=minutes(10), last_ping_credit=minutes(5))
    events = [ActivityEvent(at(9), 1), ActivityEvent(at(9, 10), 1), ActivityEvent(at(9, 30), 1)]
    # 10 (= threshold, kept) + 20 -> 5 + last 5
    assert elapsed_time(events, NOW, settings).site == minutes(20)


def test_a_last_ping_credit_above_the_threshold_is_refused():
    with pytest.raises(ValueError):
        EngineSettings(threshold=minutes(10), last_ping_credit=minutes(15))


def test_elapsed_is_reported_in_whole_minutes_rounded_down():
    assert whole_minutes(timedelta(minutes=5, seconds=59)) == 5
    assert whole_minutes(timedelta(seconds=59)) == 0
    assert whole_minutes(timedelta(hours=2)) == 120


# --------------------------------------------------------------------------- sessions (loggedin, loggedout, graded)


def event(time: datetime, action: str = "viewed", course: int = 1, unit: int | None = None) -> ActivityEvent:
    return ActivityEvent(time, course, unit, action)


def test_the_issue_example_a_logout_ends_the_session_and_the_idle_hour_is_not_credited():
    # view 10:00 -> loggedout 10:05: 5 min; loggedout: nothing; loggedin 10:55, the last event: 15 min
    events = [event(at(10)), event(at(10, 5), "loggedout"), event(at(10, 55), "loggedin")]
    assert elapsed_time(events, NOW).site == minutes(20)
    # without the logout, the 55 min gap is within the threshold: 55 + 15
    assert elapsed_time([event(at(10)), event(at(10, 55), "loggedin")], NOW).site == minutes(70)


def test_a_logout_as_the_last_event_gets_no_last_ping_credit():
    events = [event(at(9)), event(at(9, 10), unit=7), event(at(9, 12), "loggedout")]
    result = elapsed_time(events, NOW)
    # 10 + 2, and nothing after the logout
    assert (result.site, result.units) == (minutes(12), {7: minutes(2)})


def test_after_a_logout_only_a_new_event_counts_again():
    events = [event(at(9)), event(at(9, 5), "loggedout"), event(at(9, 20), "loggedin"), event(at(9, 50))]
    # 5 + 0 + (9:20 -> 9:50) 30 + 15 (last ping)
    assert elapsed_time(events, NOW).site == minutes(50)


def test_a_graded_event_neither_splits_nor_extends_the_users_time():
    # alone: 9:00 -> 9:40 is 40, then 15: 55
    plain = [event(at(9)), event(at(9, 40))]
    assert elapsed_time(plain, NOW).site == minutes(55)
    # a teacher grading at 9:20 does not cut the 40 min gap in two (it would be the same here,
    # but its course would take a share), and grading at 11:00 does not extend the day
    graded = [*plain, event(at(9, 20), "graded", course=2), event(at(11), "graded", course=2)]
    result = elapsed_time(graded, NOW)
    assert (result.site, result.courses) == (minutes(55), {1: minutes(55)})


def test_a_graded_event_does_not_bridge_a_gap_longer_than_the_threshold():
    # 9:00 and 10:30 are 90 min apart: last-ping credit, even with a grading at 9:45 in between
    events = [event(at(9)), event(at(9, 45), "graded"), event(at(10, 30))]
    assert elapsed_time(events, NOW).site == minutes(15 + 15)
