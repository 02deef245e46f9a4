"""When a file kind is due on its schedule (cron syntax, in the service's time zone)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter


def latest_slot(expression: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The last time at or before `now` (naive UTC) that the expression names, as naive UTC."""
    local_now = now.replace(tzinfo=UTC).astimezone(zone) + timedelta(seconds=1)
    slot = croniter(expression, local_now).get_prev(datetime)
    return slot.astimezone(UTC).replace(tzinfo=None)


def due_kinds(schedules: dict[str, str], last_runs: dict[str, datetime], now: datetime, zone: ZoneInfo) -> list[str]:
    """Kinds whose latest slot came after their last run (never run: due). Missed slots
    are not repeated: one run catches up."""
    return [
        kind
        for kind, expression in schedules.items()
        if kind not in last_runs or last_runs[kind] < latest_slot(expression, now, zone)
    ]


def next_slot(expression: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The first time after `now` (naive UTC) that the expression names, as naive UTC."""
    local_now = now.replace(tzinfo=UTC).astimezone(zone)
    slot = croniter(expression, local_now).get_next(datetime)
    return slot.astimezone(UTC).replace(tzinfo=None)
