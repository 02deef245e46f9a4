from collections.abc import Callable
from datetime import datetime

import pytest

from aula_ws.domain.contract_dates import ProgressWindow
from aula_ws.domain.progress import (
    GroupShape,
    LearnerHistory,
    LearnerState,
    SessionRecord,
    avance,
    avance_at,
)

FIVE_UNITS = GroupShape(unit_count=5, tracks_progress=True)


def state(interacted=True, course_completed=False, units_completed=0):
    return LearnerState(interacted, course_completed, units_completed)


def dated(history: LearnerHistory) -> Callable[[datetime | None], LearnerState]:
    """The history's state_at for a dated window, where avance asks only for dated states."""

    def state_at(t: datetime | None) -> LearnerState:
        assert t is not None, "a dated window asks for no state at now"
        return history.state_at(t)

    return state_at


def test_rule_1_no_interaction_before_a_date_gives_0_even_when_completed():
    assert avance_at(FIVE_UNITS, state(interacted=False, course_completed=True), dated=True) == 0


def test_rule_1_does_not_apply_without_a_date():
    assert avance_at(FIVE_UNITS, state(interacted=False, units_completed=2), dated=False) == 40


def test_rule_2_a_completed_course_gives_100():
    assert avance_at(FIVE_UNITS, state(course_completed=True, units_completed=1), dated=True) == 100


def test_rule_3_a_group_that_does_not_track_progress_gives_100():
    untracked = GroupShape(unit_count=5, tracks_progress=False)
    assert avance_at(untracked, state(units_completed=0), dated=False) == 100


def test_rule_4_a_group_without_units_gives_0():
    assert avance_at(GroupShape(0, True), state(), dated=False) == 0


def test_rule_3_wins_over_rule_4():
    assert avance_at(GroupShape(0, False), state(), dated=False) == 100


@pytest.mark.parametrize(
    "completed, units, expected",
    [(1, 5, 20), (2, 3, 66), (1, 3, 33), (29, 30, 96), (99, 100, 99), (3, 3, 100), (0, 7, 0)],
)
def test_rule_5_floors_the_share_of_completed_units(completed, units, expected):
    assert avance_at(GroupShape(units, True), state(units_completed=completed), dated=False) == expected


JAN, JUN, DEC = datetime(2015, 1, 31), datetime(2015, 6, 30), datetime(2015, 12, 31)
HISTORY = LearnerHistory(
    sessions=(
        SessionRecord("U1", "P", datetime(2015, 1, 10)),
        SessionRecord("U1", "F", datetime(2015, 3, 1)),  # a later failure does not undo it
        SessionRecord("U2", "I", datetime(2015, 2, 1)),
        SessionRecord("U2", "C", datetime(2015, 5, 1)),
        SessionRecord("U3", "F", datetime(2015, 6, 1)),
        SessionRecord("U4", "C", datetime(2015, 9, 1)),
    ),
)


def test_units_are_completed_from_their_first_c_or_p_session_on():
    assert HISTORY.state_at(JAN).units_completed == 1
    assert HISTORY.state_at(JUN).units_completed == 2
    assert HISTORY.state_at(DEC).units_completed == 3


def test_interaction_counts_sessions_course_statuses_and_activity():
    assert not HISTORY.state_at(datetime(2015, 1, 9)).interacted
    assert HISTORY.state_at(datetime(2015, 1, 10)).interacted
    only_activity = LearnerHistory(activity=(datetime(2014, 1, 1),))
    assert only_activity.state_at(JAN).interacted
    only_course = LearnerHistory(course_statuses=(("I", datetime(2014, 1, 1)),))
    assert only_course.state_at(JAN).interacted and not only_course.state_at(JAN).course_completed


def test_course_completion_is_monotone():
    history = LearnerHistory(course_statuses=(("C", datetime(2015, 2, 1)), ("I", datetime(2015, 3, 1))))
    assert not history.state_at(JAN).course_completed
    assert history.state_at(DEC).course_completed


def test_without_a_date_avance_is_taken_now():
    now = HISTORY.state_at(DEC)
    assert avance(FIVE_UNITS, ProgressWindow(), lambda t: now) == 60


def test_one_date_gives_avance_up_to_that_date():
    assert avance(FIVE_UNITS, ProgressWindow(upper=JUN), dated(HISTORY)) == 40


def test_two_dates_give_the_difference():
    assert avance(FIVE_UNITS, ProgressWindow(upper=DEC, lower=JAN), dated(HISTORY)) == 60 - 20


def test_between_dates_a_user_without_interaction_before_the_upper_date_gets_0():
    late = LearnerHistory(sessions=(SessionRecord("U1", "C", datetime(2016, 1, 1)),))
    assert avance(FIVE_UNITS, ProgressWindow(upper=DEC, lower=JAN), dated(late)) == 0
