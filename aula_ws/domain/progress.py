"""avance: how far a member is through a group, 0 to 100.

For a member and an instant t (no date: now), CONTRACT.md section 2:
1. if a date is in play and the user did not interact with the group at or
   before t: 0;
2. else if the user's course status in the group is C at or before t: 100;
3. else if the group does not track progress: 100;
4. else if the group has no units: 0;
5. else floor(100 x units completed at t / units of the group).

A unit is completed at t when some session of the user on it has status C or P
dated at or before t; completion is monotone (a later failure does not undo
it), and so is course completion (some course status C at or before t).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from aula_ws.domain.contract_dates import ProgressWindow

COMPLETING_STATUSES = frozenset({"C", "P"})
COURSE_COMPLETED = "C"


@dataclass(frozen=True, slots=True)
class GroupShape:
    unit_count: int
    tracks_progress: bool


@dataclass(frozen=True, slots=True)
class LearnerState:
    """A member's standing in a group at one instant."""

    interacted: bool
    course_completed: bool
    units_completed: int


def avance_at(group: GroupShape, state: LearnerState, *, dated: bool) -> int:
    """Rules 1 to 5 at one instant."""
    if dated and not state.interacted:
        return 0
    if state.course_completed:
        return 100
    if not group.tracks_progress:
        return 100
    if group.unit_count == 0:
        return 0
    return 100 * min(state.units_completed, group.unit_count) // group.unit_count


def avance(
    group: GroupShape,
    window: ProgressWindow,
    state_at: Callable[[datetime | None], LearnerState],
) -> int:
    """avance for a window: at now, at one date, or the difference between two dates.

    `state_at(None)` is the state now.
    """
    if window.upper is None:
        return avance_at(group, state_at(None), dated=False)
    upper = avance_at(group, state_at(window.upper), dated=True)
    if window.lower is None:
        return upper
    return upper - avance_at(group, state_at(window.lower), dated=True)


# a member's states at the window's two instants, flat: interacted, course completed, units
# completed at the upper instant (now when undated), then the same at the lower one (the same
# values again when the window has no lower bound); flags as bool or 0/1
StatesKey = tuple[int, int, int, int, int, int]


class AvanceOfStates(dict[StatesKey, int]):
    """avance for one group and window, looked up by the member's states (`rule[states]`) and
    memoised: a large group repeats few states, so each distinct one is worked out once by
    `avance`, and every other lookup is a plain dict hit."""

    def __init__(self, group: GroupShape, window: ProgressWindow):
        super().__init__()
        self.group = group
        self.window = window

    def __missing__(self, key: StatesKey) -> int:
        i_up, c_up, n_up, i_low, c_low, n_low = key
        found = self[key] = self._work_out(
            LearnerState(bool(i_up), bool(c_up), n_up), LearnerState(bool(i_low), bool(c_low), n_low)
        )
        return found

    def _work_out(self, upper: LearnerState, lower: LearnerState) -> int:
        bound = self.window.lower

        def state_at(t: datetime | None) -> LearnerState:
            return lower if bound is not None and t == bound else upper

        return avance(self.group, self.window, state_at)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    unit: str
    status: str
    status_date: datetime


@dataclass(frozen=True, slots=True)
class LearnerHistory:
    """Everything a member did in one group, as raw records (the rule's own inputs)."""

    sessions: tuple[SessionRecord, ...] = ()
    course_statuses: tuple[tuple[str, datetime], ...] = ()
    activity: tuple[datetime, ...] = ()

    def state_at(self, t: datetime) -> LearnerState:
        completed_units = {s.unit for s in self.sessions if s.status in COMPLETING_STATUSES and s.status_date <= t}
        return LearnerState(
            interacted=_any_at_or_before(self._interaction_times(), t),
            course_completed=any(status == COURSE_COMPLETED and at <= t for status, at in self.course_statuses),
            units_completed=len(completed_units),
        )

    def _interaction_times(self) -> Iterable[datetime]:
        yield from (s.status_date for s in self.sessions)
        yield from (at for _, at in self.course_statuses)
        yield from self.activity


def _any_at_or_before(times: Iterable[datetime], t: datetime) -> bool:
    return any(at <= t for at in times)
