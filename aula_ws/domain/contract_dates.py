"""The contract's date syntax and what a date means.

A date is a year, a month and a day separated by one or more of `-` and space
(`2014-11-05`, `2014 11 05`, `2014 - 1 - 5`). A date means the end of that day,
inclusive, in the service's time zone.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from aula_ws.domain.contract_params import echo, given
from aula_ws.errors import FechaFormatoInvalido, FechaInvalida, RangoFechaInvalido

# ASCII digits only: Python's \d would also accept other scripts' digits.
_SHAPE = re.compile(r"([0-9]+)[- ]+([0-9]+)[- ]+([0-9]+)")
_YEAR = re.compile(r"[0-9]{4}")
_MONTH = re.compile(r"0?[1-9]|1[0-2]")
_DAY = re.compile(r"0?[1-9]|[12][0-9]|3[01]")


def check_date_format(raw: str) -> tuple[str, str, str]:
    """FechaFormatoInvalido unless the text is three numbers with valid separators."""
    match = _SHAPE.fullmatch(raw)
    if match is None:
        raise FechaFormatoInvalido(
            f'La fecha "{echo(raw)}" no tiene un formato válido: año, mes y día deben separarse con "-" o espacios',
            raw,
        )
    year, month, day = match.groups()
    return year, month, day


def check_date_value(raw: str, parts: tuple[str, str, str]) -> date:
    """FechaInvalida unless year is 4 digits in 1000-9999, month 1-12, day 1-31 and exists."""
    year, month, day = parts
    if not (_YEAR.fullmatch(year) and int(year) >= 1000):
        raise FechaInvalida(f'La fecha "{echo(raw)}" tiene un año inválido', raw)
    if not _MONTH.fullmatch(month):
        raise FechaInvalida(f'La fecha "{echo(raw)}" tiene un mes inválido', raw)
    if not _DAY.fullmatch(day):
        raise FechaInvalida(f'La fecha "{echo(raw)}" tiene un día inválido', raw)
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise FechaInvalida(f'La fecha "{echo(raw)}" no existe', raw) from None


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of `day` in `zone`, as a naive UTC datetime (how the store keeps time)."""
    local = datetime.combine(day, time.max, tzinfo=zone)
    try:
        return local.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # 9999-12-31 west of UTC ends after datetime.max
        return datetime.max


@dataclass(frozen=True)
class ProgressWindow:
    """Which instants avance is computed at.

    - no date: `upper` is None (now, rule 1 not applied);
    - one instant: `upper` only, rule 1 applied;
    - between: avance at `upper` minus avance at `lower`, both with rule 1.
    """

    upper: datetime | None = None
    lower: datetime | None = None

    @property
    def dated(self) -> bool:
        return self.upper is not None


def progress_window(fecha_desde: str | None, fecha_hasta: str | None, zone: ZoneInfo) -> ProgressWindow:
    """The contract's date rules.

    Both dates are checked, format first, then values, then the range (the
    contract's fault order), even `fecha_hasta` alone, which is then ignored:
    - only `fecha_desde`: it acts as an upper bound (avance at fecha_desde);
    - only `fecha_hasta`: ignored, as if no date were given;
    - both: avance at fecha_hasta minus avance at fecha_desde;
      RangoFechaInvalido when fecha_hasta is before fecha_desde.
    """
    texts = [given(fecha_desde), given(fecha_hasta)]
    shapes = [None if t is None else check_date_format(t) for t in texts]
    days = [None if t is None or s is None else check_date_value(t, s) for t, s in zip(texts, shapes, strict=True)]
    desde, hasta = days
    if desde is None:
        return ProgressWindow()
    if hasta is None:
        return ProgressWindow(upper=end_of_day(desde, zone))
    if hasta < desde:
        raise RangoFechaInvalido(
            f'La fecha_hasta "{hasta.isoformat()}" es anterior a la fecha_desde "{desde.isoformat()}"',
            (desde, hasta),
        )
    return ProgressWindow(upper=end_of_day(hasta, zone), lower=end_of_day(desde, zone))
